//! Payment methods (cards only), including Stripe's test payment methods such as `pm_card_visa`.
//!
//! - Test payment methods (`pm_card_visa`, `pm_card_chargeDeclined`, …) are accepted in test mode
//!   wherever a payment method id is, without being created first: [`resolve`] turns each use
//!   into a fresh stored `pm_…` object, as Stripe does (every use of `pm_card_visa` is a new
//!   PaymentMethod).
//! - Test tokens (`tok_visa`, `tok_mastercard`, `tok_chargeDeclined`, …) create card payment
//!   methods through `card[token]` and pay legacy charges through `source` ([`test_card_for_token`]).
//! - Events: Stripe has no `payment_method.created`; attach, detach and update send
//!   `payment_method.attached`, `payment_method.detached` and `payment_method.updated`.
use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error::{self, Lookup};
use serde_json::{Value, json};

use super::{Ctx, Kind, Outcome, Reply, customers};
use crate::error::ApiError;

/// The `payment_method` object type.
pub const KIND: Kind = Kind {
    object: "payment_method",
    prefix: "pm_",
    id_len: 24,
    url: "/v1/payment_methods",
    events: Some("payment_method"),
};

/// The same objects, stored or changed without the generic `….created`/`….updated` events.
const QUIET: Kind = Kind {
    events: None,
    ..KIND
};

/// A Stripe test card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestCard {
    /// The test payment method id (`pm_card_visa`).
    pub payment_method: &'static str,
    /// The test token (`tok_visa`).
    pub token: &'static str,
    /// `visa`, `mastercard`, `amex`.
    pub brand: &'static str,
    /// The last four digits of Stripe's test number.
    pub last4: &'static str,
    /// `credit` or `debit`.
    pub funding: &'static str,
    /// The decline code when charging it fails (`generic_decline`, `insufficient_funds`).
    pub decline_code: Option<&'static str>,
}

const fn card(
    payment_method: &'static str,
    token: &'static str,
    brand: &'static str,
    last4: &'static str,
    funding: &'static str,
    decline_code: Option<&'static str>,
) -> TestCard {
    TestCard {
        payment_method,
        token,
        brand,
        last4,
        funding,
        decline_code,
    }
}

/// Stripe's test cards the emulator knows (numbers from Stripe's testing docs).
pub const TEST_CARDS: [TestCard; 8] = [
    card("pm_card_visa", "tok_visa", "visa", "4242", "credit", None),
    card(
        "pm_card_visa_debit",
        "tok_visa_debit",
        "visa",
        "5556",
        "debit",
        None,
    ),
    card(
        "pm_card_mastercard",
        "tok_mastercard",
        "mastercard",
        "4444",
        "credit",
        None,
    ),
    card("pm_card_amex", "tok_amex", "amex", "8431", "credit", None),
    card(
        "pm_card_chargeDeclined",
        "tok_chargeDeclined",
        "visa",
        "0002",
        "credit",
        Some("generic_decline"),
    ),
    card(
        "pm_card_chargeDeclinedInsufficientFunds",
        "tok_chargeDeclinedInsufficientFunds",
        "visa",
        "9995",
        "credit",
        Some("insufficient_funds"),
    ),
    card(
        "pm_card_chargeDeclinedLostCard",
        "tok_chargeDeclinedLostCard",
        "visa",
        "9987",
        "credit",
        Some("lost_card"),
    ),
    card(
        "pm_card_chargeDeclinedStolenCard",
        "tok_chargeDeclinedStolenCard",
        "visa",
        "9979",
        "credit",
        Some("stolen_card"),
    ),
];

/// The test card a test payment method id names.
pub fn test_card(id: &str) -> Option<&'static TestCard> {
    TEST_CARDS.iter().find(|card| card.payment_method == id)
}

/// The test card a test token names.
pub fn test_card_for_token(token: &str) -> Option<&'static TestCard> {
    TEST_CARDS.iter().find(|card| card.token == token)
}

/// The decline code of a stored card payment method (from its last four digits), if charging it
/// fails.
pub fn decline_code(payment_method: &Value) -> Option<&'static str> {
    let last4 = payment_method["card"]["last4"].as_str()?;
    TEST_CARDS
        .iter()
        .find(|card| card.last4 == last4)
        .and_then(|card| card.decline_code)
}

/// The `card` hash of a payment method, or `payment_method_details.card` of a charge.
pub fn card_details(card: &TestCard, created: i64) -> Value {
    json!({
        "brand": card.brand,
        "checks": { "address_line1_check": null, "address_postal_code_check": null, "cvc_check": "pass" },
        "country": "US",
        "display_brand": card.brand,
        "exp_month": 12,
        "exp_year": exp_year(created),
        "fingerprint": format!("fp{}{}", card.brand, card.last4),
        "funding": card.funding,
        "generated_from": null,
        "last4": card.last4,
        "networks": { "available": [card.brand], "preferred": null },
        "three_d_secure_usage": { "supported": true },
        "wallet": null,
    })
}

/// The year after the one `created` falls in (test cards expire in December of it).
fn exp_year(created: i64) -> i64 {
    1970 + created.div_euclid(31_556_952) + 1
}

fn empty_billing_details() -> Value {
    json!({
        "address": { "city": null, "country": null, "line1": null, "line2": null, "postal_code": null, "state": null },
        "email": null,
        "name": null,
        "phone": null,
    })
}

/// Stores a new card payment method for a test card.
fn materialise(ctx: &Ctx<'_>, card: &TestCard) -> Value {
    let created = ctx.now();
    let payment_method = json!({
        "id": ctx.new_id(&KIND),
        "object": KIND.object,
        "allow_redisplay": "unspecified",
        "billing_details": empty_billing_details(),
        "card": card_details(card, created),
        "created": created,
        "customer": null,
        "livemode": ctx.livemode(),
        "metadata": {},
        "type": "card",
    });
    ctx.insert(&QUIET, payment_method)
}

/// The payment_method a parameter names, or Stripe's 404 naming the parameter. Test payment
/// methods are not accepted here; use [`resolve`] where Stripe accepts them.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// The payment method `id` names: a test payment method (`pm_card_visa`, test mode only) becomes
/// a new stored `pm_…` object; any other id must be stored (400 naming `param` otherwise).
pub fn resolve(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    if !ctx.livemode()
        && let Some(card) = test_card(id)
    {
        return Ok(materialise(ctx, card));
    }
    require(ctx, id, param)
}

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    Some(match (method, template) {
        (Method::Post, "/v1/payment_methods") => create(ctx),
        (Method::Get, "/v1/payment_methods") => list(ctx),
        (Method::Get, "/v1/payment_methods/{payment_method}") => retrieve(ctx, id),
        (Method::Post, "/v1/payment_methods/{payment_method}") => update(ctx, id),
        (Method::Post, "/v1/payment_methods/{payment_method}/attach") => attach(ctx, id),
        (Method::Post, "/v1/payment_methods/{payment_method}/detach") => detach(ctx, id),
        (Method::Get, "/v1/customers/{customer}/payment_methods") => customer_list(ctx, id),
        (Method::Get, "/v1/customers/{customer}/payment_methods/{payment_method}") => {
            customer_retrieve(ctx, id)
        }
        _ => return None,
    })
}

/// The payment method in the path: stored ids, and test ids which materialise as in Stripe.
fn path_payment_method(ctx: &Ctx<'_>, id: &str) -> Result<Value, ApiError> {
    if !ctx.livemode()
        && let Some(card) = test_card(id)
    {
        return Ok(materialise(ctx, card));
    }
    ctx.require(&KIND, id, "id", Lookup::Path)
}

/// `POST /v1/payment_methods`: `type=card` with `card[token]=tok_…`.
fn create(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "type",
        "card",
        "billing_details",
        "metadata",
        "allow_redisplay",
    ])?;
    let kind = params.required_string("type")?;
    if kind != "card" {
        return Err(ApiError::parameter_invalid(
            "type",
            "the emulator creates payment methods of type card only",
        ));
    }
    let card = params
        .hash("card")?
        .ok_or_else(|| ApiError::from(stripe_error::parameter_missing("card")))?;
    let token = match card.get("token") {
        Some(Value::String(token)) => token.as_str(),
        Some(_) => {
            return Err(ApiError::parameter_invalid(
                "card[token]",
                "expected a string",
            ));
        }
        None if card.contains_key("number") => {
            return Err(ApiError::parameter_invalid(
                "card[number]",
                "raw card numbers are not accepted; use card[token]=tok_visa (or another test token)",
            ));
        }
        None => return Err(stripe_error::parameter_missing("card[token]").into()),
    };
    let test = test_card_for_token(token)
        .filter(|_| !ctx.livemode())
        .ok_or_else(|| {
            ApiError::from(stripe_error::resource_missing(
                "token",
                token,
                "card[token]",
                Lookup::Parameter,
            ))
        })?;
    let mut payment_method = json!({
        "id": ctx.new_id(&KIND),
        "object": KIND.object,
        "allow_redisplay": params.string("allow_redisplay")?.unwrap_or("unspecified"),
        "billing_details": empty_billing_details(),
        "card": card_details(test, ctx.now()),
        "created": ctx.now(),
        "customer": null,
        "livemode": ctx.livemode(),
        "metadata": {},
        "type": "card",
    });
    apply_billing_details(&params, &mut payment_method)?;
    if let Some(object) = payment_method.as_object_mut() {
        params.apply_metadata(object)?;
    }
    Ok(Reply::ok(ctx.insert(&QUIET, payment_method)))
}

/// Copies `billing_details[name|email|phone|address[…]]` into the payment method.
fn apply_billing_details(
    params: &super::params::Params<'_>,
    payment_method: &mut Value,
) -> Result<(), ApiError> {
    let Some(details) = params.hash("billing_details")? else {
        return Ok(());
    };
    for (field, value) in details {
        let param = format!("billing_details[{field}]");
        match (field.as_str(), value) {
            ("name" | "email" | "phone", Value::String(text)) => {
                payment_method["billing_details"][field] = if text.is_empty() {
                    Value::Null
                } else {
                    Value::String(text.clone())
                };
            }
            ("address", Value::Object(address)) => {
                for (part, value) in address {
                    let known = ["city", "country", "line1", "line2", "postal_code", "state"];
                    let Value::String(text) = value else {
                        return Err(ApiError::parameter_invalid(
                            &format!("{param}[{part}]"),
                            "expected a string",
                        ));
                    };
                    if !known.contains(&part.as_str()) {
                        return Err(
                            stripe_error::parameter_unknown(&format!("{param}[{part}]")).into()
                        );
                    }
                    payment_method["billing_details"]["address"][part] = if text.is_empty() {
                        Value::Null
                    } else {
                        Value::String(text.clone())
                    };
                }
            }
            ("address", _) => return Err(stripe_error::invalid_hash(&param).into()),
            ("name" | "email" | "phone", _) => {
                return Err(ApiError::parameter_invalid(&param, "expected a string"));
            }
            _ => return Err(stripe_error::parameter_unknown(&param).into()),
        }
    }
    Ok(())
}

/// `GET /v1/payment_methods/{payment_method}`.
fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&[])?;
    Ok(Reply::ok(path_payment_method(ctx, id)?))
}

/// `POST /v1/payment_methods/{payment_method}`: metadata, billing details, allow_redisplay.
fn update(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let params = ctx.params(&["billing_details", "metadata", "allow_redisplay", "card"])?;
    let before = path_payment_method(ctx, id)?;
    let mut after = before.clone();
    apply_billing_details(&params, &mut after)?;
    if let Some(object) = after.as_object_mut() {
        params.apply_metadata(object)?;
        params.apply_strings(object, &["allow_redisplay"])?;
    }
    if let Some(card) = params.hash("card")? {
        for (field, value) in card {
            let param = format!("card[{field}]");
            if !matches!(field.as_str(), "exp_month" | "exp_year") {
                return Err(stripe_error::parameter_unknown(&param).into());
            }
            let number = value
                .as_str()
                .and_then(|text| text.parse::<i64>().ok())
                .ok_or_else(|| {
                    ApiError::from(stripe_error::invalid_integer(
                        &param,
                        value.as_str().unwrap_or_default(),
                    ))
                })?;
            after["card"][field] = json!(number);
        }
    }
    Ok(Reply::ok(ctx.update(&KIND, &before, after)))
}

/// `POST /v1/payment_methods/{payment_method}/attach`: `customer` is required and must exist.
fn attach(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let params = ctx.params(&["customer"])?;
    let customer = params.required_string("customer")?;
    let before = path_payment_method(ctx, id)?;
    customers::require(ctx, customer, "customer")?;
    if let Some(current) = before["customer"].as_str()
        && current != customer
    {
        return Err(stripe_error::invalid_state(
            "payment_method_unexpected_state",
            "The payment method you provided has already been attached to a customer.",
            None,
        )
        .into());
    }
    let mut after = before.clone();
    after["customer"] = json!(customer);
    let after = ctx.update(&QUIET, &before, after);
    ctx.event("payment_method.attached", &after);
    Ok(Reply::ok(after))
}

/// Attaches a stored payment method to a customer (as `attach` does, for other resources such as
/// customer creation with `payment_method`).
pub fn attach_to(ctx: &Ctx<'_>, before: &Value, customer: &str) -> Value {
    let mut after = before.clone();
    after["customer"] = json!(customer);
    let after = ctx.update(&QUIET, before, after);
    ctx.event("payment_method.attached", &after);
    after
}

/// `POST /v1/payment_methods/{payment_method}/detach`.
fn detach(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&[])?;
    let before = path_payment_method(ctx, id)?;
    if before["customer"].is_null() {
        return Err(stripe_error::invalid_state(
            "payment_method_unexpected_state",
            "The payment method you provided is not attached to a customer so detachment is impossible.",
            None,
        )
        .into());
    }
    let mut after = before.clone();
    after["customer"] = Value::Null;
    let after = ctx.update(&QUIET, &before, after);
    ctx.event("payment_method.detached", &after);
    Ok(Reply::ok(after))
}

/// `GET /v1/payment_methods`: `customer` and `type` filters.
fn list(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "customer",
        "type",
        "limit",
        "starting_after",
        "ending_before",
        "allow_redisplay",
    ])?;
    let customer = params.string("customer")?;
    if let Some(customer) = customer {
        customers::require(ctx, customer, "customer")?;
    }
    let kind = params.string("type")?;
    ctx.list(&KIND, &params, |payment_method| {
        customer.is_none_or(|wanted| payment_method["customer"].as_str() == Some(wanted))
            && kind.is_none_or(|wanted| payment_method["type"].as_str() == Some(wanted))
    })
}

/// `GET /v1/customers/{customer}/payment_methods`.
fn customer_list(ctx: &Ctx<'_>, customer: &str) -> Outcome {
    let params = ctx.params(&[
        "type",
        "limit",
        "starting_after",
        "ending_before",
        "allow_redisplay",
    ])?;
    ctx.require(&customers::KIND, customer, "customer", Lookup::Path)?;
    let kind = params.string("type")?;
    let mut page = ctx.list(&KIND, &params, |payment_method| {
        payment_method["customer"].as_str() == Some(customer)
            && kind.is_none_or(|wanted| payment_method["type"].as_str() == Some(wanted))
    })?;
    page.body["url"] = json!(format!("/v1/customers/{customer}/payment_methods"));
    Ok(page)
}

/// `GET /v1/customers/{customer}/payment_methods/{payment_method}`.
fn customer_retrieve(ctx: &Ctx<'_>, customer: &str) -> Outcome {
    ctx.params(&[])?;
    ctx.require(&customers::KIND, customer, "customer", Lookup::Path)?;
    let id = ctx.path_param("payment_method").unwrap_or_default();
    let payment_method = ctx.require(&KIND, id, "payment_method", Lookup::Path)?;
    if payment_method["customer"].as_str() != Some(customer) {
        return Err(stripe_error::resource_missing(
            KIND.object,
            id,
            "payment_method",
            Lookup::Path,
        )
        .into());
    }
    Ok(Reply::ok(payment_method))
}
