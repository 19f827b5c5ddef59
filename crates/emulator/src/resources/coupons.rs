//! Coupons: create, retrieve, update, delete and list.
//!
//! Ids are the caller's `id`, else 8 random letters and digits (no prefix). A coupon takes
//! `percent_off`, or `amount_off` with `currency`; `duration` is `once` (the default),
//! `repeating` (with `duration_in_months`) or `forever`. Only `name` and `metadata` change after
//! creation. Promotion codes and discounts refer to coupons through [`require`].

use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error::{self, Lookup};
use serde_json::{Value, json};

use super::products::{self, Created, nested, positive_integer};
use super::{Ctx, Kind, Outcome, Reply};
use crate::error::ApiError;

/// The `coupon` object type.
pub const KIND: Kind = Kind {
    object: "coupon",
    prefix: "",
    id_len: 8,
    url: "/v1/coupons",
    events: Some("coupon"),
};

/// The coupon a parameter names, or Stripe's 404 naming the parameter.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    match (method, template) {
        (Method::Post, "/v1/coupons") => Some(create(ctx)),
        (Method::Get, "/v1/coupons") => Some(list(ctx)),
        (Method::Get, "/v1/coupons/{coupon}") => Some(retrieve(ctx, id)),
        (Method::Post, "/v1/coupons/{coupon}") => Some(update(ctx, id)),
        (Method::Delete, "/v1/coupons/{coupon}") => Some(delete(ctx, id)),
        _ => None,
    }
}

/// `POST /v1/coupons`.
fn create(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "amount_off",
        "applies_to",
        "currency",
        "duration",
        "duration_in_months",
        "id",
        "max_redemptions",
        "metadata",
        "name",
        "percent_off",
        "redeem_by",
    ])?;
    let id = products::chosen_id(ctx, &KIND, &params, "id")?;
    let percent_off = match params.string("percent_off")? {
        None => None,
        Some(text) => Some(
            text.parse::<f64>()
                .ok()
                .filter(|percent| *percent > 0.0 && *percent <= 100.0)
                .ok_or_else(|| {
                    ApiError::from(stripe_error::malformed_parameter(
                        "percent_off",
                        "must be a number greater than 0 and at most 100",
                    ))
                })?,
        ),
    };
    let amount_off = positive_integer(&params, "amount_off", "amount_off")?;
    let currency = match (percent_off, amount_off) {
        (Some(_), Some(_)) => {
            return Err(stripe_error::malformed_parameter(
                "amount_off",
                "only one of percent_off and amount_off may be given",
            )
            .into());
        }
        (None, None) => return Err(stripe_error::parameter_missing("percent_off").into()),
        (None, Some(_)) => {
            let currency = params.required_string("currency")?.to_ascii_lowercase();
            if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_lowercase()) {
                return Err(stripe_error::malformed_parameter(
                    "currency",
                    "must be a three-letter ISO currency code",
                )
                .into());
            }
            Some(currency)
        }
        (Some(_), None) => params.string("currency")?.map(str::to_ascii_lowercase),
    };
    let duration = match params.string("duration")? {
        None => "once",
        Some(duration @ ("once" | "repeating" | "forever")) => duration,
        Some(_) => {
            return Err(stripe_error::malformed_parameter(
                "duration",
                "must be one of once, repeating or forever",
            )
            .into());
        }
    };
    let months = positive_integer(&params, "duration_in_months", "duration_in_months")?;
    let duration_in_months = match (duration, months) {
        ("repeating", None) => {
            return Err(stripe_error::parameter_missing("duration_in_months").into());
        }
        ("repeating", Some(months)) => json!(months),
        (_, None) => Value::Null,
        (_, Some(_)) => {
            return Err(stripe_error::malformed_parameter(
                "duration_in_months",
                "only repeating coupons have a duration in months",
            )
            .into());
        }
    };
    let max_redemptions = positive_integer(&params, "max_redemptions", "max_redemptions")?;
    let redeem_by = params.integer("redeem_by")?;
    if redeem_by.is_some_and(|at| at <= ctx.now()) {
        return Err(stripe_error::malformed_parameter("redeem_by", "must be in the future").into());
    }
    let applies_to = match params.get("applies_to") {
        None => Value::Null,
        Some(hash) => {
            if !hash.is_object() {
                return Err(stripe_error::invalid_hash("applies_to").into());
            }
            let applies = nested(hash, "applies_to", &["products"])?;
            let mut ids = Vec::new();
            for (index, product) in applies
                .array("products")?
                .unwrap_or_default()
                .into_iter()
                .enumerate()
            {
                let id = product.as_str().unwrap_or_default();
                products::require(ctx, id, &format!("applies_to[products][{index}]"))?;
                ids.push(json!(id));
            }
            json!({ "products": ids })
        }
    };
    if params
        .string("name")?
        .is_some_and(|name| name.chars().count() > 40)
    {
        return Err(
            stripe_error::malformed_parameter("name", "must be at most 40 characters").into(),
        );
    }
    let mut coupon = json!({
        "id": id,
        "object": KIND.object,
        "amount_off": amount_off,
        "created": ctx.now(),
        "currency": currency,
        "duration": duration,
        "duration_in_months": duration_in_months,
        "livemode": ctx.livemode(),
        "max_redemptions": max_redemptions,
        "metadata": {},
        "name": null,
        "percent_off": percent_off,
        "redeem_by": redeem_by,
        "times_redeemed": 0,
        "valid": true,
    });
    if !applies_to.is_null() {
        coupon["applies_to"] = applies_to;
    }
    if let Some(object) = coupon.as_object_mut() {
        params.apply_strings(object, &["name"])?;
        params.apply_metadata(object)?;
    }
    Ok(Reply::ok(ctx.insert(&KIND, coupon)))
}

/// `GET /v1/coupons/{coupon}`: a deleted coupon is gone (404).
fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&[])?;
    ctx.require(&KIND, id, "id", Lookup::Path).map(Reply::ok)
}

/// `POST /v1/coupons/{coupon}`: `name` and `metadata` only.
fn update(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let before = ctx.require(&KIND, id, "id", Lookup::Path)?;
    let params = ctx.params(&["metadata", "name"])?;
    if params
        .string("name")?
        .is_some_and(|name| name.chars().count() > 40)
    {
        return Err(
            stripe_error::malformed_parameter("name", "must be at most 40 characters").into(),
        );
    }
    let mut after = before.clone();
    if let Some(object) = after.as_object_mut() {
        params.apply_strings(object, &["name"])?;
        params.apply_metadata(object)?;
    }
    Ok(Reply::ok(ctx.update(&KIND, &before, after)))
}

/// `DELETE /v1/coupons/{coupon}`.
fn delete(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&[])?;
    ctx.require(&KIND, id, "id", Lookup::Path)?;
    Ok(Reply::ok(ctx.delete(&KIND, id)))
}

/// `GET /v1/coupons`.
fn list(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&["created", "ending_before", "limit", "starting_after"])?;
    let created = Created::from(&params)?;
    ctx.list(&KIND, &params, |coupon| created.contains(coupon))
}
