//! Refunds of charges: create (by `charge` or `payment_intent`), retrieve, update, list, cancel,
//! and the legacy routes under `/v1/charges/{charge}/refund(s)`.
//!
//! Card refunds succeed at once: the charge's `amount_refunded`/`refunded` change (event
//! `charge.refunded`) and a `refund` balance transaction debits the refunded amount (Stripe keeps
//! its fee). Refunding an authorised, uncaptured charge releases it without a balance
//! transaction. Events: `refund.created`, `refund.updated`, `charge.refunded`.
use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error::{self, Lookup};
use serde_json::{Value, json};

use super::balance::{self, Entry};
use super::params::Params;
use super::{Ctx, Kind, Outcome, Reply, charges, payment_intents};
use crate::error::ApiError;

/// The `refund` object type.
pub const KIND: Kind = Kind {
    object: "refund",
    prefix: "re_",
    id_len: 24,
    url: "/v1/refunds",
    events: Some("refund"),
};

/// The refund a parameter names, or Stripe's 404 naming the parameter.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    let nested = || ctx.path_param("refund").unwrap_or_default();
    Some(match (method, template) {
        (Method::Post, "/v1/refunds") => create(ctx, None),
        (Method::Get, "/v1/refunds") => list(ctx, None),
        (Method::Get, "/v1/refunds/{refund}") => retrieve(ctx, id, None),
        (Method::Post, "/v1/refunds/{refund}") => update(ctx, id, None),
        (Method::Post, "/v1/refunds/{refund}/cancel") => cancel(ctx, id),
        (Method::Post, "/v1/charges/{charge}/refunds") => create(ctx, Some(id)),
        (Method::Get, "/v1/charges/{charge}/refunds") => list(ctx, Some(id)),
        (Method::Get, "/v1/charges/{charge}/refunds/{refund}") => retrieve(ctx, nested(), Some(id)),
        (Method::Post, "/v1/charges/{charge}/refunds/{refund}") => update(ctx, nested(), Some(id)),
        (Method::Post, "/v1/charges/{charge}/refund") => legacy_refund(ctx, id),
        _ => return None,
    })
}

/// An amount in major units for messages: `$10.00` for dollars, `10.00 eur` otherwise.
fn money(amount: i64, currency: &str) -> String {
    let major = format!("{}.{:02}", amount / 100, (amount % 100).abs());
    if currency == "usd" {
        format!("${major}")
    } else {
        format!("{major} {currency}")
    }
}

/// Refunds `amount` (default: what remains) of a stored charge; returns the refund and the
/// updated charge.
pub fn refund_charge(
    ctx: &Ctx<'_>,
    charge: &Value,
    amount: Option<i64>,
    reason: Option<&str>,
    metadata: Value,
) -> Result<(Value, Value), ApiError> {
    let charge_id = charge["id"].as_str().unwrap_or_default();
    let currency = charge["currency"].as_str().unwrap_or("usd");
    let captured = charge["captured"] == json!(true);
    if charge["status"] != json!("succeeded") {
        return Err(stripe_error::invalid_state(
            "charge_not_refundable",
            &format!(
                "Charge {charge_id} cannot be refunded because it has a status of {}.",
                charge["status"].as_str().unwrap_or("failed")
            ),
            Some("charge"),
        )
        .into());
    }
    let base = if captured {
        charge["amount_captured"].as_i64().unwrap_or(0)
    } else {
        charge["amount"].as_i64().unwrap_or(0)
    };
    let remaining = base - charge["amount_refunded"].as_i64().unwrap_or(0);
    if remaining <= 0 || charge["refunded"] == json!(true) {
        return Err(stripe_error::invalid_state(
            "charge_already_refunded",
            &format!("Charge {charge_id} has already been refunded."),
            None,
        )
        .into());
    }
    let amount = amount.unwrap_or(remaining);
    if amount < 1 {
        return Err(ApiError::parameter_invalid(
            "amount",
            "must be a positive integer",
        ));
    }
    if amount > remaining {
        return Err(stripe_error::invalid_state(
            "amount_too_large",
            &format!(
                "Refund amount ({}) is greater than unrefunded amount on charge ({})",
                money(amount, currency),
                money(remaining, currency)
            ),
            Some("amount"),
        )
        .into());
    }
    let id = ctx.new_id(&KIND);
    let txn = captured.then(|| {
        balance::record(
            ctx,
            Entry {
                kind: "refund",
                amount: -amount,
                fee: 0,
                currency,
                source: &id,
                description: None,
                available_after: 0,
            },
        )
    });
    let refund = json!({
        "id": id,
        "object": KIND.object,
        "amount": amount,
        "balance_transaction": txn.map(|txn| txn["id"].clone()),
        "charge": charge_id,
        "created": ctx.now(),
        "currency": currency,
        "destination_details": { "card": { "reference_status": "pending", "reference_type": "acquirer_reference_number", "type": "refund" }, "type": "card" },
        "metadata": metadata,
        "payment_intent": charge["payment_intent"].clone(),
        "reason": reason,
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": "succeeded",
        "transfer_reversal": null,
    });
    let refund = ctx.insert(&KIND, refund);
    let mut after = charge.clone();
    let refunded = base - remaining + amount;
    after["amount_refunded"] = json!(refunded);
    after["refunded"] = json!(refunded >= base);
    let after = ctx.update(&charges::QUIET, charge, after);
    ctx.event("charge.refunded", &after);
    Ok((refund, after))
}

fn reason(params: &Params<'_>) -> Result<Option<&'static str>, ApiError> {
    match params.string("reason")? {
        None | Some("") => Ok(None),
        Some("duplicate") => Ok(Some("duplicate")),
        Some("fraudulent") => Ok(Some("fraudulent")),
        Some("requested_by_customer") => Ok(Some("requested_by_customer")),
        Some(_) => Err(ApiError::parameter_invalid(
            "reason",
            "must be one of duplicate, fraudulent or requested_by_customer",
        )),
    }
}

const CREATE_PARAMS: [&str; 10] = [
    "charge",
    "payment_intent",
    "amount",
    "reason",
    "metadata",
    "refund_application_fee",
    "reverse_transfer",
    "instructions_email",
    "origin",
    "currency",
];

/// `POST /v1/refunds` (`charge` or `payment_intent`), or `POST /v1/charges/{charge}/refunds`.
fn create(ctx: &Ctx<'_>, path_charge: Option<&str>) -> Outcome {
    let allowed: &[&str] = if path_charge.is_some() {
        &CREATE_PARAMS[2..]
    } else {
        &CREATE_PARAMS
    };
    let params = ctx.params(allowed)?;
    let charge = match path_charge {
        Some(id) => ctx.require(&charges::KIND, id, "charge", Lookup::Path)?,
        None => charge_to_refund(ctx, &params)?,
    };
    let (refund, _) = refund_charge(
        ctx,
        &charge,
        params.integer("amount")?,
        reason(&params)?,
        payment_intents::metadata(&params)?,
    )?;
    Ok(Reply::ok(refund))
}

/// The charge `charge` or `payment_intent` names (the intent's latest, successful charge).
fn charge_to_refund(ctx: &Ctx<'_>, params: &Params<'_>) -> Result<Value, ApiError> {
    let charge_param = params.string("charge")?.filter(|id| !id.is_empty());
    let intent_param = params.string("payment_intent")?.filter(|id| !id.is_empty());
    match (charge_param, intent_param) {
        (Some(charge), intent) => {
            let charge = charges::require(ctx, charge, "charge")?;
            if let Some(intent) = intent
                && charge["payment_intent"].as_str() != Some(intent)
            {
                return Err(ApiError::parameter_invalid(
                    "payment_intent",
                    "the charge does not belong to this PaymentIntent",
                ));
            }
            Ok(charge)
        }
        (None, Some(intent)) => {
            let intent = payment_intents::require(ctx, intent, "payment_intent")?;
            let status = intent["status"].as_str().unwrap_or_default();
            let charge = intent["latest_charge"]
                .as_str()
                .filter(|_| matches!(status, "succeeded" | "requires_capture"));
            let Some(charge) = charge else {
                return Err(stripe_error::invalid_state(
                    "payment_intent_unexpected_state",
                    &format!(
                        "This PaymentIntent does not have a successful charge to refund (status: {status})."
                    ),
                    Some("payment_intent"),
                )
                .into());
            };
            charges::require(ctx, charge, "payment_intent")
        }
        (None, None) => Err(stripe_error::parameter_missing("charge").into()),
    }
}

/// `POST /v1/charges/{charge}/refund`: the legacy route; answers the charge.
fn legacy_refund(ctx: &Ctx<'_>, charge: &str) -> Outcome {
    let params = ctx.params(&[
        "amount",
        "reason",
        "metadata",
        "refund_application_fee",
        "reverse_transfer",
        "instructions_email",
        "payment_intent",
        "expand",
    ])?;
    let charge = ctx.require(&charges::KIND, charge, "charge", Lookup::Path)?;
    let (_, charge) = refund_charge(
        ctx,
        &charge,
        params.integer("amount")?,
        reason(&params)?,
        payment_intents::metadata(&params)?,
    )?;
    Ok(Reply::ok(charge))
}

/// The refund in the path, which must belong to `charge` when nested under one.
fn path_refund(ctx: &Ctx<'_>, id: &str, charge: Option<&str>) -> Result<Value, ApiError> {
    if let Some(charge) = charge {
        ctx.require(&charges::KIND, charge, "charge", Lookup::Path)?;
    }
    let refund = ctx.require(&KIND, id, "id", Lookup::Path)?;
    if let Some(charge) = charge
        && refund["charge"].as_str() != Some(charge)
    {
        return Err(stripe_error::resource_missing(KIND.object, id, "id", Lookup::Path).into());
    }
    Ok(refund)
}

/// `GET /v1/refunds/{refund}`.
fn retrieve(ctx: &Ctx<'_>, id: &str, charge: Option<&str>) -> Outcome {
    ctx.params(&[])?;
    Ok(Reply::ok(path_refund(ctx, id, charge)?))
}

/// `POST /v1/refunds/{refund}`: metadata only.
fn update(ctx: &Ctx<'_>, id: &str, charge: Option<&str>) -> Outcome {
    let before = path_refund(ctx, id, charge)?;
    let params = ctx.params(&["metadata"])?;
    let mut after = before.clone();
    if let Some(object) = after.as_object_mut() {
        params.apply_metadata(object)?;
    }
    Ok(Reply::ok(ctx.update(&KIND, &before, after)))
}

/// `POST /v1/refunds/{refund}/cancel`: only pending refunds can be canceled, and card refunds
/// here succeed at once, so this is always refused (400; the wording is rakguard's).
fn cancel(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&[])?;
    let refund = path_refund(ctx, id, None)?;
    let status = refund["status"].as_str().unwrap_or("succeeded");
    Err(ApiError::parameter_invalid(
        "refund",
        &format!(
            "only a refund with a status of requires_action can be canceled; this refund has a status of {status}"
        ),
    ))
}

/// `GET /v1/refunds` (`charge`, `payment_intent` filters) or `GET /v1/charges/{charge}/refunds`.
fn list(ctx: &Ctx<'_>, path_charge: Option<&str>) -> Outcome {
    let mut allowed = vec!["limit", "starting_after", "ending_before", "created"];
    if path_charge.is_none() {
        allowed.extend(["charge", "payment_intent"]);
    }
    let params = ctx.params(&allowed)?;
    if let Some(charge) = path_charge {
        ctx.require(&charges::KIND, charge, "charge", Lookup::Path)?;
    }
    let charge = path_charge.or(params.string("charge")?);
    let intent = params.string("payment_intent")?;
    let mut page = ctx.list(&KIND, &params, |refund| {
        charge.is_none_or(|wanted| refund["charge"].as_str() == Some(wanted))
            && intent.is_none_or(|wanted| refund["payment_intent"].as_str() == Some(wanted))
    })?;
    if let Some(charge) = path_charge {
        page.body["url"] = json!(format!("/v1/charges/{charge}/refunds"));
    }
    Ok(page)
}
