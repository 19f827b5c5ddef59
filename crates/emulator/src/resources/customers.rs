//! Customers: create, retrieve, update, delete and list.
//!
//! Ids are `cus_` and 14 letters and digits. A deleted customer still retrieves, as
//! `{"deleted": true}`; other resources refer to customers through [`require`].

use rakguard_catalog::stripe_error::Lookup;
use serde_json::{Value, json};

use super::{Ctx, Kind, Outcome, Reply, deleted};
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
const ACCEPTED: [&str; 5] = ["description", "email", "name", "phone", "metadata"];

/// The customer a parameter names (e.g. `customer` on a payment intent), or Stripe's 400/404.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// `POST /v1/customers`.
pub fn create(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&ACCEPTED)?;
    let mut customer = json!({
        "id": ctx.new_id(&KIND),
        "object": KIND.object,
        "address": null,
        "balance": 0,
        "created": ctx.now(),
        "currency": null,
        "default_source": null,
        "delinquent": false,
        "description": null,
        "discount": null,
        "email": null,
        "invoice_prefix": null,
        "invoice_settings": { "custom_fields": null, "default_payment_method": null, "footer": null, "rendering_options": null },
        "livemode": ctx.livemode(),
        "metadata": {},
        "name": null,
        "phone": null,
        "preferred_locales": [],
        "shipping": null,
        "tax_exempt": "none",
        "test_clock": null,
    });
    if let Some(object) = customer.as_object_mut() {
        params.apply_strings(object, &WRITABLE)?;
        params.apply_metadata(object)?;
    }
    Ok(Reply::ok(ctx.insert(&KIND, customer)))
}

/// `GET /v1/customers/{customer}`.
pub fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&[])?;
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
    let mut after = before.clone();
    if let Some(object) = after.as_object_mut() {
        params.apply_strings(object, &WRITABLE)?;
        params.apply_metadata(object)?;
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
    let email = params.string("email")?;
    ctx.list(&KIND, &params, |customer| {
        email.is_none_or(|wanted| customer.get("email").and_then(Value::as_str) == Some(wanted))
    })
}
