//! Customers: create, retrieve, update, delete and list.
//!
//! Ids are `cus_` and 14 letters and digits. A deleted customer still retrieves, as
//! `{"deleted": true}`; other resources refer to customers through [`require`].

use std::sync::LazyLock;

use rakguard_catalog::stripe_error::Lookup;
use serde_json::{Value, json};

use rakguard_catalog::stripe_error;

use super::params::Params;
use super::{Ctx, Kind, Outcome, Reply, deleted, payment_methods};
use crate::error::ApiError;
use crate::store::Found;

/// Customers.
pub const KIND: Kind = Kind {
    object: "customer",
    prefix: "cus_",
    id_len: 14,
    url: "/v1/customers",
    events: Some("customer"),
};

const WRITABLE: [&str; 4] = ["description", "email", "name", "phone"];
const ACCEPTED: [&str; 7] = [
    "description",
    "email",
    "name",
    "phone",
    "metadata",
    "payment_method",
    "invoice_settings",
];

/// The customer a parameter names (e.g. `customer` on a payment intent), or Stripe's 400/404.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// A new customer before its parameters apply, in Stripe's field order. Built once and cloned:
/// a clone copies the map's index, where building it anew hashes and inserts every field.
static NEW: LazyLock<Value> = LazyLock::new(|| {
    json!({
        "id": null,
        "object": KIND.object,
        "address": null,
        "balance": 0,
        "created": 0,
        "currency": null,
        "default_source": null,
        "delinquent": false,
        "description": null,
        "discount": null,
        "email": null,
        "invoice_prefix": null,
        "invoice_settings": { "custom_fields": null, "default_payment_method": null, "footer": null, "rendering_options": null },
        "livemode": false,
        "metadata": {},
        "name": null,
        "phone": null,
        "preferred_locales": [],
        "shipping": null,
        "tax_exempt": "none",
        "test_clock": null,
    })
});

/// `POST /v1/customers`.
pub fn create(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&ACCEPTED)?;
    let mut customer = NEW.clone();
    customer["id"] = json!(ctx.new_id(&KIND));
    customer["created"] = json!(ctx.now());
    customer["livemode"] = json!(ctx.livemode());
    if let Some(object) = customer.as_object_mut() {
        params.apply_strings(object, &WRITABLE)?;
        params.apply_metadata(object)?;
    }
    let default = default_payment_method(&params)?;
    // Resolve before storing anything, so an unknown payment method leaves no customer behind.
    let attached = params
        .string("payment_method")?
        .map(|id| payment_methods::resolve(ctx, id, "payment_method").map(|pm| (id, pm)))
        .transpose()?;
    if attached.is_none() && default.is_none() {
        return Ok(ctx.insert_reply(&KIND, &customer));
    }
    let customer = ctx.insert(&KIND, customer);
    let customer_id = customer["id"].as_str().unwrap_or_default().to_owned();
    let mut attached_id = None;
    if let Some((requested, pm)) = &attached {
        let pm = payment_methods::attach_to(ctx, pm, &customer_id);
        attached_id = pm["id"]
            .as_str()
            .map(|id| ((*requested).to_owned(), id.to_owned()));
    }
    match default {
        None => Ok(Reply::ok(customer)),
        Some(wanted) => {
            // `payment_method=pm_card_visa&invoice_settings[default_payment_method]=pm_card_visa`
            // names the method attached by the same request, as in Stripe's testing guides.
            let id = match &attached_id {
                Some((requested, stored)) if requested == wanted => stored.clone(),
                _ => attached_payment_method(ctx, &customer_id, wanted)?,
            };
            let mut after = customer.clone();
            after["invoice_settings"]["default_payment_method"] = json!(id);
            Ok(Reply::ok(ctx.update(&KIND, &customer, after)))
        }
    }
}

/// `invoice_settings[default_payment_method]`, if sent.
fn default_payment_method<'a>(params: &Params<'a>) -> Result<Option<&'a str>, ApiError> {
    let Some(settings) = params.hash("invoice_settings")? else {
        return Ok(None);
    };
    if let Some(unknown) = settings.keys().find(|key| {
        ![
            "default_payment_method",
            "custom_fields",
            "footer",
            "rendering_options",
        ]
        .contains(&key.as_str())
    }) {
        return Err(
            stripe_error::parameter_unknown(&format!("invoice_settings[{unknown}]")).into(),
        );
    }
    match settings.get("default_payment_method") {
        None => Ok(None),
        Some(Value::String(id)) if !id.is_empty() => Ok(Some(id.as_str())),
        Some(Value::String(_)) => Ok(None),
        Some(_) => Err(stripe_error::malformed_parameter(
            "invoice_settings[default_payment_method]",
            "expected a payment method id",
        )
        .into()),
    }
}

/// A payment method that must already be attached to the customer.
fn attached_payment_method(ctx: &Ctx<'_>, customer: &str, id: &str) -> Result<String, ApiError> {
    let param = "invoice_settings[default_payment_method]";
    let pm = payment_methods::require(ctx, id, param)?;
    if pm["customer"].as_str() == Some(customer) {
        Ok(id.to_owned())
    } else {
        Err(stripe_error::invalid_state(
            "resource_missing",
            &format!("No such PaymentMethod: '{id}'; it is not attached to customer {customer}."),
            Some(param),
        )
        .into())
    }
}

/// `GET /v1/customers/{customer}`.
pub fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&[])?;
    if let Some(text) = ctx.find_stored(&KIND, id) {
        return Ok(Reply::stored(text));
    }
    match ctx.find(&KIND, id) {
        Found::Here(customer) => Ok(Reply::ok(customer)),
        Found::Deleted => Ok(Reply::ok(deleted(&KIND, id))),
        other => Err(super::missing(&KIND, &other, id, "id", Lookup::Path)),
    }
}

/// `POST /v1/customers/{customer}`.
pub fn update(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let before = ctx.require(&KIND, id, "id", Lookup::Path)?;
    let params = ctx.params(&ACCEPTED)?;
    if params.has("payment_method") {
        return Err(stripe_error::parameter_unknown("payment_method").into());
    }
    let mut after = before.clone();
    if let Some(object) = after.as_object_mut() {
        params.apply_strings(object, &WRITABLE)?;
        params.apply_metadata(object)?;
    }
    if let Some(wanted) = default_payment_method(&params)? {
        after["invoice_settings"]["default_payment_method"] =
            json!(attached_payment_method(ctx, id, wanted)?);
    }
    Ok(Reply::ok(ctx.update(&KIND, &before, after)))
}

/// `DELETE /v1/customers/{customer}`.
pub fn delete(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.require(&KIND, id, "id", Lookup::Path)?;
    Ok(Reply::ok(ctx.delete(&KIND, id)))
}

/// `GET /v1/customers`.
pub fn list(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "limit",
        "starting_after",
        "ending_before",
        "email",
        "created",
        "test_clock",
    ])?;
    ctx.list_by(&KIND, &params, &["email"])
}
