//! Payment intents: create, confirm, capture, cancel, retrieve, update, list; confirming one
//! charges its payment method through [`charges::attempt`].
//!
//! Statuses: `requires_payment_method` → (payment method set) `requires_confirmation` →
//! (confirm) `succeeded` with automatic capture, `requires_capture` with manual capture (then
//! capture → `succeeded`); a declined card answers 402 `card_error` and leaves the intent in
//! `requires_payment_method` with `last_payment_error`. No 3-D Secure: `requires_action` never
//! happens. Events: `payment_intent.created`, `.succeeded`, `.amount_capturable_updated`,
//! `.payment_failed`, `.canceled` (Stripe has no `payment_intent.updated`).
//!
//! [`pay`] is the whole flow in one call, for invoices and subscriptions.
use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error::{self, Lookup};
use serde_json::{Map, Value, json};

use super::charges::{self, Attempt};
use super::params::Params;
use super::{Ctx, Kind, Outcome, Reply, customers, payment_methods};
use crate::error::ApiError;

/// The `payment_intent` object type.
pub const KIND: Kind = Kind {
    object: "payment_intent",
    prefix: "pi_",
    id_len: 24,
    url: "/v1/payment_intents",
    events: Some("payment_intent"),
};

/// The same objects, changed without the generic `….updated` event (Stripe sends none).
const QUIET: Kind = Kind {
    events: None,
    ..KIND
};

/// Statuses a payment intent may be confirmed from.
const CONFIRMABLE: [&str; 3] = [
    "requires_confirmation",
    "requires_payment_method",
    "requires_action",
];
/// Statuses a payment intent may be canceled from.
const CANCELABLE: [&str; 5] = [
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
];
/// Statuses in which amount, currency, customer and payment method may change.
const UPDATABLE: [&str; 3] = [
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
];

/// The message Stripe gives when an invoice or subscription is charged with nothing to charge.
pub const NO_PAYMENT_METHOD: &str = "This customer has no attached payment source or default payment method. Please consider adding a default payment method. For more information, visit https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority.";

/// The payment_intent a parameter names, or Stripe's 404 naming the parameter.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// Creates and confirms a payment intent with automatic capture for `amount` of `currency`,
/// returning the succeeded intent and its charge (whose balance transaction is recorded).
///
/// `payment_method` defaults to the customer's `invoice_settings.default_payment_method`; with
/// neither, 400 `resource_missing` with Stripe's "This customer has no attached payment source
/// or default payment method. …" ([`NO_PAYMENT_METHOD`]). A declining card answers Stripe's 402
/// `card_error` (the failed intent and charge stay stored). An unknown customer or payment method
/// is a 400 naming `customer` / `payment_method`.
pub fn pay(
    ctx: &Ctx<'_>,
    amount: i64,
    currency: &str,
    customer: Option<&str>,
    payment_method: Option<&str>,
    description: Option<&str>,
    metadata: Value,
) -> Result<(Value, Value), ApiError> {
    let customer = customer
        .map(|id| customers::require(ctx, id, "customer"))
        .transpose()?;
    let payment_method = match payment_method {
        Some(id) => payment_methods::resolve(ctx, id, "payment_method")?,
        None => {
            let default = customer
                .as_ref()
                .and_then(|customer| {
                    customer["invoice_settings"]["default_payment_method"].as_str()
                })
                .ok_or_else(|| {
                    ApiError::from(stripe_error::invalid_state(
                        "resource_missing",
                        NO_PAYMENT_METHOD,
                        None,
                    ))
                })?;
            payment_methods::resolve(ctx, default, "payment_method")?
        }
    };
    let metadata = if metadata.is_object() {
        metadata
    } else {
        json!({})
    };
    let mut intent = new_intent(ctx, amount, &currency.to_ascii_lowercase());
    intent["customer"] = customer.map_or(Value::Null, |customer| customer["id"].clone());
    intent["description"] = json!(description);
    intent["metadata"] = metadata;
    intent["payment_method"] = payment_method["id"].clone();
    intent["status"] = json!("requires_confirmation");
    let intent = ctx.insert(&KIND, intent);
    let intent = confirm_with(ctx, &intent, &payment_method)?;
    let charge = intent["latest_charge"]
        .as_str()
        .and_then(|id| match ctx.find(&charges::KIND, id) {
            crate::store::Found::Here(charge) => Some(charge),
            _ => None,
        })
        .ok_or_else(ApiError::internal)?;
    Ok((intent, charge))
}

/// A new payment intent in `requires_payment_method`, not stored.
fn new_intent(ctx: &Ctx<'_>, amount: i64, currency: &str) -> Value {
    let id = ctx.new_id(&KIND);
    let secret = ctx.state.write().ids.id("", 25);
    json!({
        "id": id,
        "object": KIND.object,
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": { "tip": {} },
        "amount_received": 0,
        "application": null,
        "application_fee_amount": null,
        "automatic_payment_methods": null,
        "canceled_at": null,
        "cancellation_reason": null,
        "capture_method": "automatic",
        "client_secret": format!("{id}_secret_{secret}"),
        "confirmation_method": "automatic",
        "created": ctx.now(),
        "currency": currency,
        "customer": null,
        "description": null,
        "invoice": null,
        "last_payment_error": null,
        "latest_charge": null,
        "livemode": ctx.livemode(),
        "metadata": {},
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": null,
        "payment_method_configuration_details": null,
        "payment_method_options": {
            "card": { "installments": null, "mandate_options": null, "network": null, "request_three_d_secure": "automatic" }
        },
        "payment_method_types": ["card"],
        "processing": null,
        "receipt_email": null,
        "review": null,
        "setup_future_usage": null,
        "shipping": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": "requires_payment_method",
        "transfer_data": null,
        "transfer_group": null,
    })
}

/// `amount`: required, a positive integer; at least 50 for `usd` (Stripe's minimum charge).
pub(crate) fn valid_amount(params: &Params<'_>) -> Result<i64, ApiError> {
    let amount = params.required_integer("amount")?;
    check_amount(params, amount)?;
    Ok(amount)
}

fn check_amount(params: &Params<'_>, amount: i64) -> Result<(), ApiError> {
    if amount < 1 {
        return Err(ApiError::parameter_invalid(
            "amount",
            "must be a positive integer",
        ));
    }
    let currency = params.string("currency")?.unwrap_or_default();
    if currency.eq_ignore_ascii_case("usd") && amount < 50 {
        return Err(stripe_error::invalid_state(
            "amount_too_small",
            "Amount must be at least $0.50 usd",
            Some("amount"),
        )
        .into());
    }
    Ok(())
}

/// `currency`: required, a three-letter ISO code, answered in lowercase.
pub(crate) fn valid_currency(params: &Params<'_>) -> Result<String, ApiError> {
    let currency = params.required_string("currency")?;
    check_currency(currency)
}

fn check_currency(currency: &str) -> Result<String, ApiError> {
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(ApiError::parameter_invalid(
            "currency",
            &format!("Invalid currency: {}", currency.to_ascii_lowercase()),
        ));
    }
    Ok(currency.to_ascii_lowercase())
}

/// The `metadata` parameter as an object (empty when absent).
pub(crate) fn metadata(params: &Params<'_>) -> Result<Value, ApiError> {
    let mut holder = Map::new();
    params.apply_metadata(&mut holder)?;
    Ok(holder.remove("metadata").unwrap_or_else(|| json!({})))
}

/// Stripe's 400 `payment_intent_unexpected_state`.
fn unexpected_state(message: String) -> ApiError {
    stripe_error::invalid_state("payment_intent_unexpected_state", &message, None).into()
}

fn status_of(intent: &Value) -> &str {
    intent["status"].as_str().unwrap_or_default()
}

/// Confirms a stored intent with `payment_method`: charges it, and answers the updated intent or
/// the 402 card error (with the intent, failed, stored).
fn confirm_with(ctx: &Ctx<'_>, before: &Value, payment_method: &Value) -> Result<Value, ApiError> {
    let manual = before["capture_method"] == json!("manual");
    let amount = before["amount"].as_i64().unwrap_or(0);
    let intent_id = before["id"].as_str().unwrap_or_default();
    let attempt = Attempt {
        amount,
        currency: before["currency"].as_str().unwrap_or("usd"),
        customer: before["customer"].as_str(),
        payment_method,
        payment_intent: Some(intent_id),
        description: before["description"].as_str(),
        metadata: before["metadata"].clone(),
        capture: !manual,
        source: Value::Null,
    };
    let mut after = before.clone();
    match charges::attempt(ctx, attempt) {
        Ok(charge) => {
            after["latest_charge"] = charge["id"].clone();
            after["payment_method"] = payment_method["id"].clone();
            after["last_payment_error"] = Value::Null;
            if manual {
                after["status"] = json!("requires_capture");
                after["amount_capturable"] = json!(amount);
                let after = ctx.update(&QUIET, before, after);
                ctx.event("payment_intent.amount_capturable_updated", &after);
                Ok(after)
            } else {
                after["status"] = json!("succeeded");
                after["amount_received"] = json!(amount);
                let after = ctx.update(&QUIET, before, after);
                ctx.event("payment_intent.succeeded", &after);
                Ok(after)
            }
        }
        Err(declined) => {
            let charge_id = declined.charge["id"].as_str();
            let mut error = stripe_error::card_declined(declined.decline_code, charge_id, None);
            let mut last_error = error.body["error"].clone();
            last_error["payment_method"] = payment_method.clone();
            after["last_payment_error"] = last_error;
            after["latest_charge"] = declined.charge["id"].clone();
            after["payment_method"] = Value::Null;
            after["status"] = json!("requires_payment_method");
            let after = ctx.update(&QUIET, before, after);
            ctx.event("payment_intent.payment_failed", &after);
            if let Some(body) = error.body["error"].as_object_mut() {
                body.insert("payment_intent".to_owned(), after);
                body.insert("payment_method".to_owned(), payment_method.clone());
            }
            Err(error.into())
        }
    }
}

/// Called when a charge of `intent` was captured through `/v1/charges/{charge}/capture`.
pub(crate) fn captured(ctx: &Ctx<'_>, intent: &str, charge: &Value) {
    if let crate::store::Found::Here(before) = ctx.find(&KIND, intent)
        && status_of(&before) == "requires_capture"
    {
        let mut after = before.clone();
        after["status"] = json!("succeeded");
        after["amount_capturable"] = json!(0);
        after["amount_received"] = charge["amount_captured"].clone();
        let after = ctx.update(&QUIET, &before, after);
        ctx.event("payment_intent.succeeded", &after);
    }
}

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    Some(match (method, template) {
        (Method::Post, "/v1/payment_intents") => create(ctx),
        (Method::Get, "/v1/payment_intents") => list(ctx),
        (Method::Get, "/v1/payment_intents/{intent}") => retrieve(ctx, id),
        (Method::Post, "/v1/payment_intents/{intent}") => update(ctx, id),
        (Method::Post, "/v1/payment_intents/{intent}/confirm") => confirm(ctx, id),
        (Method::Post, "/v1/payment_intents/{intent}/capture") => capture(ctx, id),
        (Method::Post, "/v1/payment_intents/{intent}/cancel") => cancel(ctx, id),
        _ => return None,
    })
}

/// Parameters accepted by create and confirm that the emulator takes but does not model.
const IGNORED: [&str; 10] = [
    "return_url",
    "off_session",
    "payment_method_options",
    "mandate",
    "mandate_data",
    "error_on_requires_action",
    "use_stripe_sdk",
    "radar_options",
    "payment_method_configuration",
    "confirmation_token",
];

fn capture_method(params: &Params<'_>) -> Result<Option<&'static str>, ApiError> {
    match params.string("capture_method")? {
        None => Ok(None),
        Some("automatic") => Ok(Some("automatic")),
        Some("automatic_async") => Ok(Some("automatic_async")),
        Some("manual") => Ok(Some("manual")),
        Some(_) => Err(ApiError::parameter_invalid(
            "capture_method",
            "must be one of automatic, automatic_async or manual",
        )),
    }
}

/// Copies the optional string fields create, update and confirm share.
fn apply_common(params: &Params<'_>, intent: &mut Value) -> Result<(), ApiError> {
    if let Some(object) = intent.as_object_mut() {
        params.apply_strings(
            object,
            &[
                "description",
                "receipt_email",
                "setup_future_usage",
                "statement_descriptor",
                "statement_descriptor_suffix",
                "transfer_group",
            ],
        )?;
        params.apply_metadata(object)?;
    }
    if let Some(method) = capture_method(params)? {
        intent["capture_method"] = json!(method);
    }
    if let Some(types) = params.array("payment_method_types")? {
        let types: Vec<Value> = types.into_iter().cloned().collect();
        if types.iter().any(|kind| kind != "card") {
            return Err(ApiError::parameter_invalid(
                "payment_method_types",
                "the emulator supports card payments only",
            ));
        }
        intent["payment_method_types"] = Value::Array(types);
    }
    if let Some(automatic) = params.hash("automatic_payment_methods")? {
        intent["automatic_payment_methods"] = json!({
            "allow_redirects": automatic.get("allow_redirects").cloned().unwrap_or(json!("always")),
            "enabled": automatic.get("enabled").is_some_and(|enabled| enabled == "true"),
        });
    }
    if let Some(shipping) = params.hash("shipping")? {
        intent["shipping"] = Value::Object(shipping.clone());
    }
    Ok(())
}

/// Sets `payment_method` from the parameter (test ids materialise); moves
/// `requires_payment_method` to `requires_confirmation`. Returns the payment method.
fn apply_payment_method(
    ctx: &Ctx<'_>,
    params: &Params<'_>,
    intent: &mut Value,
) -> Result<Option<Value>, ApiError> {
    match params.string("payment_method")? {
        None => Ok(None),
        Some("") => {
            intent["payment_method"] = Value::Null;
            intent["status"] = json!("requires_payment_method");
            Ok(None)
        }
        Some(id) => {
            let payment_method = payment_methods::resolve(ctx, id, "payment_method")?;
            intent["payment_method"] = payment_method["id"].clone();
            if status_of(intent) == "requires_payment_method" {
                intent["status"] = json!("requires_confirmation");
            }
            Ok(Some(payment_method))
        }
    }
}

/// `POST /v1/payment_intents`.
fn create(ctx: &Ctx<'_>) -> Outcome {
    let mut allowed = vec![
        "amount",
        "currency",
        "customer",
        "payment_method",
        "confirm",
        "capture_method",
        "confirmation_method",
        "description",
        "metadata",
        "payment_method_types",
        "automatic_payment_methods",
        "receipt_email",
        "setup_future_usage",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "transfer_group",
        "shipping",
    ];
    allowed.extend(IGNORED);
    let params = ctx.params(&allowed)?;
    let amount = valid_amount(&params)?;
    let currency = valid_currency(&params)?;
    let mut intent = new_intent(ctx, amount, &currency);
    if let Some(id) = params.string("customer")?.filter(|id| !id.is_empty()) {
        intent["customer"] = customers::require(ctx, id, "customer")?["id"].clone();
    }
    match params.string("confirmation_method")? {
        None => {}
        Some(method @ ("automatic" | "manual")) => intent["confirmation_method"] = json!(method),
        Some(_) => {
            return Err(ApiError::parameter_invalid(
                "confirmation_method",
                "must be automatic or manual",
            ));
        }
    }
    apply_common(&params, &mut intent)?;
    let confirm = params.boolean("confirm")?.unwrap_or(false);
    let payment_method = apply_payment_method(ctx, &params, &mut intent)?;
    if confirm && payment_method.is_none() {
        return Err(missing_payment_method(&intent));
    }
    let intent = ctx.insert(&KIND, intent);
    match payment_method {
        Some(payment_method) if confirm => {
            Ok(Reply::ok(confirm_with(ctx, &intent, &payment_method)?))
        }
        _ => Ok(Reply::ok(intent)),
    }
}

fn missing_payment_method(intent: &Value) -> ApiError {
    let message = match intent["customer"].as_str() {
        Some(customer) => format!(
            "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with {customer}, specify a payment method attached to this customer along with the customer ID."
        ),
        None => "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.".to_owned(),
    };
    unexpected_state(message)
}

/// `GET /v1/payment_intents/{intent}`.
fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&["client_secret"])?;
    Ok(Reply::ok(ctx.require(&KIND, id, "intent", Lookup::Path)?))
}

/// `POST /v1/payment_intents/{intent}`: amount, currency, customer and payment method only
/// before the intent is confirmed; description and metadata always.
fn update(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let before = ctx.require(&KIND, id, "intent", Lookup::Path)?;
    let params = ctx.params(&[
        "amount",
        "currency",
        "customer",
        "payment_method",
        "capture_method",
        "description",
        "metadata",
        "payment_method_types",
        "receipt_email",
        "setup_future_usage",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "transfer_group",
        "shipping",
        "payment_method_options",
    ])?;
    let status = status_of(&before).to_owned();
    for field in [
        "amount",
        "currency",
        "customer",
        "payment_method",
        "capture_method",
    ] {
        if params.has(field) && !UPDATABLE.contains(&status.as_str()) {
            return Err(unexpected_state(format!(
                "This PaymentIntent's {field} could not be updated because it has a status of {status}. You may only update the {field} of a PaymentIntent with one of the following statuses: {}.",
                UPDATABLE.join(", ")
            )));
        }
    }
    let mut after = before.clone();
    if let Some(amount) = params.integer("amount")? {
        check_amount(&params, amount)?;
        after["amount"] = json!(amount);
    }
    if let Some(currency) = params.string("currency")? {
        after["currency"] = json!(check_currency(currency)?);
    }
    match params.string("customer")? {
        None => {}
        Some("") => after["customer"] = Value::Null,
        Some(customer) => {
            after["customer"] = customers::require(ctx, customer, "customer")?["id"].clone();
        }
    }
    apply_common(&params, &mut after)?;
    apply_payment_method(ctx, &params, &mut after)?;
    Ok(Reply::ok(ctx.update(&QUIET, &before, after)))
}

/// `POST /v1/payment_intents/{intent}/confirm`.
fn confirm(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let before = ctx.require(&KIND, id, "intent", Lookup::Path)?;
    let mut allowed = vec![
        "payment_method",
        "capture_method",
        "receipt_email",
        "setup_future_usage",
        "payment_method_types",
        "shipping",
        "client_secret",
    ];
    allowed.extend(IGNORED);
    let params = ctx.params(&allowed)?;
    let status = status_of(&before).to_owned();
    if status == "succeeded" {
        return Err(unexpected_state(
            "You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.".to_owned(),
        ));
    }
    if !CONFIRMABLE.contains(&status.as_str()) {
        return Err(unexpected_state(format!(
            "You cannot confirm this PaymentIntent because it has a status of {status}. Only a PaymentIntent with one of the following statuses may be confirmed: {}.",
            CONFIRMABLE.join(", ")
        )));
    }
    let mut intent = before.clone();
    apply_common(&params, &mut intent)?;
    let payment_method = match apply_payment_method(ctx, &params, &mut intent)? {
        Some(payment_method) => payment_method,
        None => match intent["payment_method"].as_str() {
            Some(stored) => payment_methods::require(ctx, stored, "payment_method")?,
            None => return Err(missing_payment_method(&intent)),
        },
    };
    let intent = if intent == before {
        before
    } else {
        ctx.update(&QUIET, &before, intent)
    };
    Ok(Reply::ok(confirm_with(ctx, &intent, &payment_method)?))
}

/// `POST /v1/payment_intents/{intent}/capture`: `amount_to_capture` up to `amount_capturable`.
fn capture(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let before = ctx.require(&KIND, id, "intent", Lookup::Path)?;
    let params = ctx.params(&[
        "amount_to_capture",
        "metadata",
        "final_capture",
        "application_fee_amount",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "transfer_data",
    ])?;
    let status = status_of(&before).to_owned();
    if status != "requires_capture" {
        return Err(unexpected_state(format!(
            "This PaymentIntent could not be captured because it has a status of {status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture."
        )));
    }
    let capturable = before["amount_capturable"].as_i64().unwrap_or(0);
    let amount = params.integer("amount_to_capture")?.unwrap_or(capturable);
    if amount < 1 || amount > capturable {
        return Err(stripe_error::invalid_state(
            "amount_too_large",
            &format!(
                "The amount to capture ({amount}) must be a positive integer no greater than the amount capturable ({capturable})."
            ),
            Some("amount_to_capture"),
        )
        .into());
    }
    let charge_id = before["latest_charge"].as_str().unwrap_or_default();
    let charge = charges::require(ctx, charge_id, "latest_charge")?;
    let charge = charges::capture_charge(ctx, &charge, Some(amount))?;
    let mut after = before.clone();
    if let Some(object) = after.as_object_mut() {
        params.apply_metadata(object)?;
    }
    after["status"] = json!("succeeded");
    after["amount_capturable"] = json!(0);
    after["amount_received"] = charge["amount_captured"].clone();
    let after = ctx.update(&QUIET, &before, after);
    ctx.event("payment_intent.succeeded", &after);
    Ok(Reply::ok(after))
}

/// `POST /v1/payment_intents/{intent}/cancel`: an authorised charge is released (refunded).
fn cancel(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let before = ctx.require(&KIND, id, "intent", Lookup::Path)?;
    let params = ctx.params(&["cancellation_reason"])?;
    let reason = match params.string("cancellation_reason")? {
        None => None,
        Some(reason @ ("duplicate" | "fraudulent" | "requested_by_customer" | "abandoned")) => {
            Some(reason)
        }
        Some(_) => {
            return Err(ApiError::parameter_invalid(
                "cancellation_reason",
                "must be one of duplicate, fraudulent, requested_by_customer or abandoned",
            ));
        }
    };
    let status = status_of(&before).to_owned();
    if !CANCELABLE.contains(&status.as_str()) {
        return Err(unexpected_state(format!(
            "You cannot cancel this PaymentIntent because it has a status of {status}. Only a PaymentIntent with one of the following statuses may be canceled: {}.",
            CANCELABLE.join(", ")
        )));
    }
    if status == "requires_capture"
        && let Some(charge_id) = before["latest_charge"].as_str()
        && let crate::store::Found::Here(charge) = ctx.find(&charges::KIND, charge_id)
    {
        let mut released = charge.clone();
        released["amount_refunded"] = charge["amount"].clone();
        released["refunded"] = json!(true);
        let released = ctx.update(&charges::QUIET, &charge, released);
        ctx.event("charge.refunded", &released);
    }
    let mut after = before.clone();
    after["status"] = json!("canceled");
    after["canceled_at"] = json!(ctx.now());
    after["cancellation_reason"] = json!(reason);
    after["amount_capturable"] = json!(0);
    let after = ctx.update(&QUIET, &before, after);
    ctx.event("payment_intent.canceled", &after);
    Ok(Reply::ok(after))
}

/// `GET /v1/payment_intents`: `customer` filter.
fn list(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "limit",
        "starting_after",
        "ending_before",
        "customer",
        "created",
    ])?;
    ctx.list_by(&KIND, &params, &["customer"])
}
