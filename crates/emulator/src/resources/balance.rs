//! The balance and balance transactions.
//!
//! Charges and refunds record balance transactions through [`record`]. Fees are an
//! approximation of Stripe's standard US card pricing, 2.9% + 30 (in the charge's currency's
//! minor unit, whatever the currency); refunds carry no fee. A charge's funds become available two
//! days after it (`available_on`); refunds are debited at once. A transaction's `status`
//! (`pending`/`available`) follows the emulator clock, so it is recomputed on every read, and the
//! balance sums the `net` of each currency's transactions by status.
use std::collections::BTreeMap;

use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error::Lookup;
use serde_json::{Value, json};

use super::{Ctx, Kind, Outcome, Reply};
use crate::error::ApiError;

/// The `balance_transaction` object type.
pub const TRANSACTION: Kind = Kind {
    object: "balance_transaction",
    prefix: "txn_",
    id_len: 24,
    url: "/v1/balance_transactions",
    events: None,
};

/// How long a charge's funds stay pending.
pub const PENDING_SECONDS: i64 = 2 * 86_400;

/// The balance_transaction a parameter names, or Stripe's 404 naming the parameter.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&TRANSACTION, id, param, Lookup::Parameter)
        .map(|txn| current(ctx, txn))
}

/// Stripe's fee on a card charge of `amount`: 2.9% (rounded half up) + 30. An approximation:
/// real fees depend on the card, country and pricing plan.
pub fn fee(amount: i64) -> i64 {
    (amount.saturating_mul(29) + 500) / 1000 + 30
}

/// A balance transaction to record.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// `charge`, `refund`, `payment`, …
    pub kind: &'a str,
    /// Signed: negative for refunds.
    pub amount: i64,
    /// Stripe's fee (see [`fee`]); 0 for none.
    pub fee: i64,
    /// The currency.
    pub currency: &'a str,
    /// The charge or refund id.
    pub source: &'a str,
    /// The description.
    pub description: Option<&'a str>,
    /// Seconds from now until the funds are available ([`PENDING_SECONDS`] for charges).
    pub available_after: i64,
}

/// Records a balance transaction and returns it.
pub fn record(ctx: &Ctx<'_>, entry: Entry<'_>) -> Value {
    let Entry {
        kind,
        amount,
        fee,
        currency,
        source,
        description,
        available_after,
    } = entry;
    let created = ctx.now();
    let available_on = created + available_after;
    let fee_details = if fee == 0 {
        json!([])
    } else {
        json!([{
            "amount": fee,
            "application": null,
            "currency": currency,
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }])
    };
    let txn = json!({
        "id": ctx.new_id(&TRANSACTION),
        "object": TRANSACTION.object,
        "amount": amount,
        "available_on": available_on,
        "created": created,
        "currency": currency,
        "description": description,
        "exchange_rate": null,
        "fee": fee,
        "fee_details": fee_details,
        "net": amount - fee,
        "reporting_category": kind,
        "source": source,
        "status": if available_on <= created { "available" } else { "pending" },
        "type": kind,
    });
    ctx.insert(&TRANSACTION, txn)
}

/// The transaction with its `status` brought up to date with the clock.
fn current(ctx: &Ctx<'_>, mut txn: Value) -> Value {
    let available = txn["available_on"]
        .as_i64()
        .is_some_and(|on| on <= ctx.now());
    txn["status"] = json!(if available { "available" } else { "pending" });
    txn
}

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    Some(match (method, template) {
        (Method::Get, "/v1/balance") => balance(ctx),
        (Method::Get, "/v1/balance_transactions" | "/v1/balance/history") => list(ctx),
        (Method::Get, "/v1/balance_transactions/{id}" | "/v1/balance/history/{id}") => {
            retrieve(ctx, id)
        }
        _ => return None,
    })
}

/// `GET /v1/balance`.
fn balance(ctx: &Ctx<'_>) -> Outcome {
    ctx.params(&[])?;
    let now = ctx.now();
    // currency → (available, pending)
    let mut totals: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    {
        let data = ctx.state.read();
        for txn in data
            .objects
            .newest_first(ctx.account, ctx.mode, TRANSACTION.object)
        {
            let currency = txn["currency"].as_str().unwrap_or("usd").to_owned();
            let net = txn["net"].as_i64().unwrap_or(0);
            let entry = totals.entry(currency).or_default();
            if txn["available_on"].as_i64().is_some_and(|on| on <= now) {
                entry.0 += net;
            } else {
                entry.1 += net;
            }
        }
    }
    if totals.is_empty() {
        totals.insert("usd".to_owned(), (0, 0));
    }
    let amounts = |pick: fn(&(i64, i64)) -> i64| -> Vec<Value> {
        totals
            .iter()
            .map(|(currency, sums)| {
                json!({
                    "amount": pick(sums),
                    "currency": currency,
                    "source_types": { "card": pick(sums) },
                })
            })
            .collect()
    };
    Ok(Reply::ok(json!({
        "object": "balance",
        "available": amounts(|sums| sums.0),
        "livemode": ctx.livemode(),
        "pending": amounts(|sums| sums.1),
    })))
}

/// `GET /v1/balance_transactions`: `type`, `source`, `payout`, `currency` filters.
fn list(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "limit",
        "starting_after",
        "ending_before",
        "type",
        "source",
        "payout",
        "currency",
        "created",
    ])?;
    let kind = params.string("type")?;
    let source = params.string("source")?;
    let payout = params.string("payout")?;
    let currency = params.string("currency")?;
    let mut page = ctx.list(&TRANSACTION, &params, |txn| {
        kind.is_none_or(|wanted| txn["type"].as_str() == Some(wanted))
            && source.is_none_or(|wanted| txn["source"].as_str() == Some(wanted))
            // No payouts are emulated: nothing belongs to one.
            && payout.is_none()
            && currency.is_none_or(|wanted| txn["currency"].as_str() == Some(wanted))
    })?;
    if let Some(items) = page.body["data"].as_array_mut() {
        for item in items.iter_mut() {
            *item = current(ctx, item.take());
        }
    }
    page.body["url"] = json!(ctx.path);
    Ok(page)
}

/// `GET /v1/balance_transactions/{id}`.
fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&[])?;
    let txn = ctx.require(&TRANSACTION, id, "id", Lookup::Path)?;
    Ok(Reply::ok(current(ctx, txn)))
}

#[cfg(test)]
mod tests {
    use super::fee;

    #[test]
    fn fee_is_two_point_nine_percent_plus_thirty() {
        assert_eq!(fee(1000), 59);
        assert_eq!(fee(2000), 88);
        assert_eq!(fee(50), 31);
    }
}
