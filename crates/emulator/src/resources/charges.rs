//! Charges: made by payment intents ([`attempt`]) or directly (legacy `POST /v1/charges` with a
//! test token as `source`); retrieve, update, capture, list.
//!
//! Stripe has no `charge.created` event: new charges send `charge.succeeded` or `charge.failed`,
//! captures `charge.captured`, refunds `charge.refunded`, and edits by the caller
//! `charge.updated`.
use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error::{self, Lookup};
use serde_json::{Value, json};

use super::balance::{self, Entry};
use super::{Ctx, Kind, Outcome, Reply, customers, payment_intents, payment_methods};
use crate::error::ApiError;

/// The `charge` object type.
pub const KIND: Kind = Kind {
    object: "charge",
    prefix: "ch_",
    id_len: 24,
    url: "/v1/charges",
    events: Some("charge"),
};

/// The same objects, stored or changed without the generic `….created`/`….updated` events.
pub(crate) const QUIET: Kind = Kind {
    events: None,
    ..KIND
};

/// The charge a parameter names, or Stripe's 404 naming the parameter.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// A payment to attempt.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    /// The amount, in the currency's minor unit.
    pub amount: i64,
    /// The currency (lowercase).
    pub currency: &'a str,
    /// The customer charged.
    pub customer: Option<&'a str>,
    /// The card payment method (a `payment_method` object; for legacy charges a card-like one).
    pub payment_method: &'a Value,
    /// The payment intent the charge belongs to.
    pub payment_intent: Option<&'a str>,
    /// The description.
    pub description: Option<&'a str>,
    /// The metadata.
    pub metadata: Value,
    /// Capture at once (else the charge is only authorised).
    pub capture: bool,
    /// The legacy `source` (a card object) of a direct charge.
    pub source: Value,
}

/// A declined attempt: the stored failed charge and the decline code.
#[derive(Debug, Clone)]
pub struct Declined {
    /// The failed charge.
    pub charge: Value,
    /// Stripe's decline code (`generic_decline`, `insufficient_funds`, …).
    pub decline_code: &'static str,
}

fn outcome_approved() -> Value {
    json!({
        "network_status": "approved_by_network",
        "reason": null,
        "risk_level": "normal",
        "risk_score": 20,
        "seller_message": "Payment complete.",
        "type": "authorized",
    })
}

fn outcome_declined(decline_code: &str) -> Value {
    let seller_message = if decline_code == "generic_decline" {
        "The bank did not return any further details with this decline.".to_owned()
    } else {
        format!("The bank returned the decline code `{decline_code}`.")
    };
    json!({
        "network_status": "declined_by_network",
        "reason": decline_code,
        "risk_level": "normal",
        "risk_score": 20,
        "seller_message": seller_message,
        "type": "issuer_declined",
    })
}

/// Charges the payment method: a stored charge that succeeded (captured or only authorised, with
/// its balance transaction when captured and `charge.succeeded`), or a declined one
/// (`charge.failed`).
pub fn attempt(ctx: &Ctx<'_>, attempt: Attempt<'_>) -> Result<Value, Declined> {
    let id = ctx.new_id(&KIND);
    let created = ctx.now();
    let decline = payment_methods::decline_code(attempt.payment_method);
    let mut card = attempt.payment_method["card"].clone();
    if let Some(card) = card.as_object_mut() {
        for field in ["generated_from", "display_brand"] {
            card.remove(field);
        }
        card.insert("amount_authorized".to_owned(), json!(attempt.amount));
        card.insert("installments".to_owned(), Value::Null);
        card.insert("mandate".to_owned(), Value::Null);
        card.insert(
            "network".to_owned(),
            attempt.payment_method["card"]["brand"].clone(),
        );
        card.insert("three_d_secure".to_owned(), Value::Null);
    }
    let mut charge = json!({
        "id": id,
        "object": KIND.object,
        "amount": attempt.amount,
        "amount_captured": 0,
        "amount_refunded": 0,
        "application": null,
        "application_fee": null,
        "application_fee_amount": null,
        "balance_transaction": null,
        "billing_details": attempt.payment_method["billing_details"].clone(),
        "calculated_statement_descriptor": "RAKGUARD EMULATOR",
        "captured": false,
        "created": created,
        "currency": attempt.currency,
        "customer": attempt.customer,
        "description": attempt.description,
        "disputed": false,
        "failure_balance_transaction": null,
        "failure_code": null,
        "failure_message": null,
        "fraud_details": {},
        "invoice": null,
        "livemode": ctx.livemode(),
        "metadata": attempt.metadata,
    });
    let rest = json!({
        "on_behalf_of": null,
        "outcome": outcome_approved(),
        "paid": true,
        "payment_intent": attempt.payment_intent,
        "payment_method": attempt.payment_method["id"].clone(),
        "payment_method_details": { "card": card, "type": "card" },
        "receipt_email": null,
        "receipt_number": null,
        "receipt_url": null,
        "refunded": false,
        "review": null,
        "shipping": null,
        "source": attempt.source,
        "source_transfer": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": "succeeded",
        "transfer_data": null,
        "transfer_group": null,
    });
    if let (Some(charge), Value::Object(rest)) = (charge.as_object_mut(), rest) {
        charge.extend(rest);
    }
    if let Some(decline_code) = decline {
        let message = stripe_error::card_declined(decline_code, None, None)
            .message()
            .map(str::to_owned);
        charge["status"] = json!("failed");
        charge["paid"] = json!(false);
        charge["failure_code"] = json!("card_declined");
        charge["failure_message"] = json!(message);
        charge["outcome"] = outcome_declined(decline_code);
        let charge = ctx.insert(&QUIET, charge);
        ctx.event("charge.failed", &charge);
        return Err(Declined {
            charge,
            decline_code,
        });
    }
    if attempt.capture {
        let txn = record_charge(ctx, &charge, attempt.amount);
        charge["balance_transaction"] = txn["id"].clone();
        charge["captured"] = json!(true);
        charge["amount_captured"] = json!(attempt.amount);
    }
    let charge = ctx.insert(&QUIET, charge);
    ctx.event("charge.succeeded", &charge);
    Ok(charge)
}

/// Records the balance transaction of a captured `amount` of `charge`.
fn record_charge(ctx: &Ctx<'_>, charge: &Value, amount: i64) -> Value {
    balance::record(
        ctx,
        Entry {
            kind: "charge",
            amount,
            fee: balance::fee(amount),
            currency: charge["currency"].as_str().unwrap_or("usd"),
            source: charge["id"].as_str().unwrap_or_default(),
            description: charge["description"].as_str(),
            available_after: balance::PENDING_SECONDS,
        },
    )
}

/// Captures `amount` (default: all) of an authorised charge; the rest is released (counted in
/// `amount_refunded`, as Stripe does). Sends `charge.captured`.
pub fn capture_charge(
    ctx: &Ctx<'_>,
    before: &Value,
    amount: Option<i64>,
) -> Result<Value, ApiError> {
    let id = before["id"].as_str().unwrap_or_default();
    if before["captured"] == json!(true) {
        return Err(stripe_error::invalid_state(
            "charge_already_captured",
            &format!("Charge {id} has already been captured."),
            None,
        )
        .into());
    }
    if before["status"] != json!("succeeded") || before["refunded"] == json!(true) {
        return Err(stripe_error::invalid_state(
            "charge_expired_for_capture",
            &format!(
                "Charge {id} cannot be captured because it has a status of {}.",
                before["status"].as_str().unwrap_or("failed")
            ),
            None,
        )
        .into());
    }
    let authorised = before["amount"].as_i64().unwrap_or(0);
    let amount = amount.unwrap_or(authorised);
    if amount < 1 || amount > authorised {
        return Err(stripe_error::invalid_state(
            "amount_too_large",
            &format!(
                "The amount to capture must be a positive integer no greater than the amount authorized ({authorised})."
            ),
            Some("amount"),
        )
        .into());
    }
    let mut after = before.clone();
    let txn = record_charge(ctx, before, amount);
    after["balance_transaction"] = txn["id"].clone();
    after["captured"] = json!(true);
    after["amount_captured"] = json!(amount);
    after["amount_refunded"] = json!(authorised - amount);
    let after = ctx.update(&QUIET, before, after);
    ctx.event("charge.captured", &after);
    Ok(after)
}

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    Some(match (method, template) {
        (Method::Post, "/v1/charges") => create(ctx),
        (Method::Get, "/v1/charges") => list(ctx),
        (Method::Get, "/v1/charges/{charge}") => retrieve(ctx, id),
        (Method::Post, "/v1/charges/{charge}") => update(ctx, id),
        (Method::Post, "/v1/charges/{charge}/capture") => capture(ctx, id),
        _ => return None,
    })
}

/// `POST /v1/charges`: a direct charge of a test token (`source=tok_visa`) or of a customer's
/// default payment method (`invoice_settings.default_payment_method`; the emulator keeps no
/// legacy sources on customers).
fn create(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "amount",
        "currency",
        "source",
        "customer",
        "description",
        "metadata",
        "capture",
        "receipt_email",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "transfer_group",
        "shipping",
    ])?;
    let amount = payment_intents::valid_amount(&params)?;
    let currency = payment_intents::valid_currency(&params)?;
    let customer = match params.string("customer")? {
        Some(id) if !id.is_empty() => Some(customers::require(ctx, id, "customer")?),
        _ => None,
    };
    let customer_id = customer.as_ref().and_then(|c| c["id"].as_str());
    let (payment_method, source) = match params.string("source")? {
        Some(token) if !token.is_empty() => {
            let card = payment_methods::test_card_for_token(token)
                .filter(|_| !ctx.livemode())
                .ok_or_else(|| {
                    ApiError::from(stripe_error::resource_missing(
                        "source",
                        token,
                        "source",
                        Lookup::Parameter,
                    ))
                })?;
            let card_id = ctx.state.write().ids.id("card_", 24);
            let details = payment_methods::card_details(card, ctx.now());
            let source = json!({
                "id": card_id,
                "object": "card",
                "brand": brand_name(card.brand),
                "country": "US",
                "customer": null,
                "cvc_check": "pass",
                "exp_month": details["exp_month"].clone(),
                "exp_year": details["exp_year"].clone(),
                "fingerprint": details["fingerprint"].clone(),
                "funding": card.funding,
                "last4": card.last4,
                "metadata": {},
                "name": null,
            });
            let payment_method = json!({
                "id": card_id,
                "billing_details": {
                    "address": { "city": null, "country": null, "line1": null, "line2": null, "postal_code": null, "state": null },
                    "email": null, "name": null, "phone": null,
                },
                "card": details,
            });
            (payment_method, source)
        }
        _ => {
            let Some(customer) = &customer else {
                return Err(stripe_error::parameter_missing("source").into());
            };
            let default = customer["invoice_settings"]["default_payment_method"]
                .as_str()
                .ok_or_else(|| {
                    ApiError::from(stripe_error::invalid_state(
                        "missing",
                        "Cannot charge a customer that has no active card",
                        Some("card"),
                    ))
                })?;
            (
                payment_methods::resolve(ctx, default, "customer")?,
                Value::Null,
            )
        }
    };
    let metadata = payment_intents::metadata(&params)?;
    let outcome = attempt(
        ctx,
        Attempt {
            amount,
            currency: &currency,
            customer: customer_id,
            payment_method: &payment_method,
            payment_intent: None,
            description: params.string("description")?.filter(|d| !d.is_empty()),
            metadata,
            capture: params.boolean("capture")?.unwrap_or(true),
            source,
        },
    );
    match outcome {
        Ok(charge) => Ok(Reply::ok(charge)),
        Err(declined) => Err(stripe_error::card_declined(
            declined.decline_code,
            declined.charge["id"].as_str(),
            None,
        )
        .into()),
    }
}

/// The brand as legacy card objects spell it.
fn brand_name(brand: &str) -> &'static str {
    match brand {
        "mastercard" => "MasterCard",
        "amex" => "American Express",
        _ => "Visa",
    }
}

/// `GET /v1/charges/{charge}`.
fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.retrieve(&KIND, id)
}

/// `POST /v1/charges/{charge}`: description, metadata, receipt_email.
fn update(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let before = ctx.require(&KIND, id, "id", Lookup::Path)?;
    let params = ctx.params(&[
        "description",
        "metadata",
        "receipt_email",
        "fraud_details",
        "shipping",
        "transfer_group",
    ])?;
    let mut after = before.clone();
    if let Some(object) = after.as_object_mut() {
        params.apply_strings(object, &["description", "receipt_email", "transfer_group"])?;
        params.apply_metadata(object)?;
    }
    Ok(Reply::ok(ctx.update(&KIND, &before, after)))
}

/// `POST /v1/charges/{charge}/capture`: `amount` (default all). A payment intent's charge also
/// moves its intent to `succeeded`.
fn capture(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let before = ctx.require(&KIND, id, "id", Lookup::Path)?;
    let params = ctx.params(&[
        "amount",
        "receipt_email",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "application_fee_amount",
    ])?;
    let amount = params.integer("amount")?;
    let charge = capture_charge(ctx, &before, amount)?;
    if let Some(intent) = charge["payment_intent"].as_str() {
        payment_intents::captured(ctx, intent, &charge);
    }
    Ok(Reply::ok(charge))
}

/// `GET /v1/charges`: `customer`, `payment_intent` and `transfer_group` filters.
fn list(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "limit",
        "starting_after",
        "ending_before",
        "customer",
        "payment_intent",
        "transfer_group",
        "created",
    ])?;
    ctx.list_by(
        &KIND,
        &params,
        &["customer", "payment_intent", "transfer_group"],
    )
}
