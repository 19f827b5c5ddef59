//! Promotion codes: create, retrieve, update and list (Stripe has no deletion; codes are
//! deactivated with `active=false`).
//!
//! Ids are `promo_` and 24 letters and digits. A code carries a copy of its coupon, may be
//! limited to one customer, and its `code` (the caller's, else 8 random capitals and digits) is
//! unique among active codes, compared without case.

use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error::{self, Lookup};
use serde_json::{Value, json};

use super::products::{Created, nested, positive_integer};
use super::{Ctx, Kind, Outcome, Reply, coupons, customers};
use crate::error::ApiError;

/// The `promotion_code` object type.
pub const KIND: Kind = Kind {
    object: "promotion_code",
    prefix: "promo_",
    id_len: 24,
    url: "/v1/promotion_codes",
    events: Some("promotion_code"),
};

/// The promotion_code a parameter names, or Stripe's 404 naming the parameter.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    match (method, template) {
        (Method::Post, "/v1/promotion_codes") => Some(create(ctx)),
        (Method::Get, "/v1/promotion_codes") => Some(list(ctx)),
        (Method::Get, "/v1/promotion_codes/{promotion_code}") => Some(retrieve(ctx, id)),
        (Method::Post, "/v1/promotion_codes/{promotion_code}") => Some(update(ctx, id)),
        _ => None,
    }
}

/// Refuses `code` when another active promotion code (not `except`) already uses it.
fn check_unique(ctx: &Ctx<'_>, code: &str, except: Option<&str>) -> Result<(), ApiError> {
    let taken = ctx
        .state
        .read()
        .objects
        .newest_first(ctx.account, ctx.mode, KIND.object)
        .into_iter()
        .any(|other| {
            other["active"] == true
                && other["id"].as_str() != except
                && other["code"]
                    .as_str()
                    .is_some_and(|other| other.eq_ignore_ascii_case(code))
        });
    if taken {
        return Err(stripe_error::malformed_parameter(
            "code",
            "an active promotion code with this code already exists",
        )
        .into());
    }
    Ok(())
}

/// `POST /v1/promotion_codes`.
fn create(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "active",
        "code",
        "coupon",
        "customer",
        "expires_at",
        "max_redemptions",
        "metadata",
        "restrictions",
    ])?;
    let coupon_id = params.required_string("coupon")?;
    let coupon = coupons::require(ctx, coupon_id, "coupon")?;
    let customer = match params.string("customer")? {
        None => Value::Null,
        Some("") => return Err(stripe_error::parameter_invalid_empty("customer").into()),
        Some(id) => {
            customers::require(ctx, id, "customer")?;
            json!(id)
        }
    };
    let code = match params.string("code")? {
        None => ctx.state.write().ids.alphanumeric(8).to_ascii_uppercase(),
        Some("") => return Err(stripe_error::parameter_invalid_empty("code").into()),
        Some(code) => {
            if !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(stripe_error::malformed_parameter(
                    "code",
                    "may contain only letters, digits, dashes and underscores",
                )
                .into());
            }
            code.to_owned()
        }
    };
    let active = params.boolean("active")?.unwrap_or(true);
    if active {
        check_unique(ctx, &code, None)?;
    }
    let expires_at = params.integer("expires_at")?;
    if expires_at.is_some_and(|at| at <= ctx.now()) {
        return Err(
            stripe_error::malformed_parameter("expires_at", "must be in the future").into(),
        );
    }
    let max_redemptions = positive_integer(&params, "max_redemptions", "max_redemptions")?;
    let restrictions = restrictions(&params)?;
    let mut promotion_code = json!({
        "id": ctx.new_id(&KIND),
        "object": KIND.object,
        "active": active,
        "code": code,
        "coupon": coupon,
        "created": ctx.now(),
        "customer": customer,
        "expires_at": expires_at,
        "livemode": ctx.livemode(),
        "max_redemptions": max_redemptions,
        "metadata": {},
        "restrictions": restrictions,
        "times_redeemed": 0,
    });
    if let Some(object) = promotion_code.as_object_mut() {
        params.apply_metadata(object)?;
    }
    Ok(Reply::ok(ctx.insert(&KIND, promotion_code)))
}

/// The `restrictions` hash: `first_time_transaction`, `minimum_amount` with
/// `minimum_amount_currency`.
fn restrictions(params: &super::params::Params<'_>) -> Result<Value, ApiError> {
    let mut out = json!({
        "currency_options": {},
        "first_time_transaction": false,
        "minimum_amount": null,
        "minimum_amount_currency": null,
    });
    let Some(hash) = params.get("restrictions") else {
        return Ok(out);
    };
    if !hash.is_object() {
        return Err(stripe_error::invalid_hash("restrictions").into());
    }
    let given = nested(
        hash,
        "restrictions",
        &[
            "first_time_transaction",
            "minimum_amount",
            "minimum_amount_currency",
        ],
    )?;
    match given.string("first_time_transaction")? {
        None => {}
        Some("true") => out["first_time_transaction"] = json!(true),
        Some("false") => {}
        Some(_) => {
            return Err(stripe_error::malformed_parameter(
                "restrictions[first_time_transaction]",
                "expected true or false",
            )
            .into());
        }
    }
    let minimum = positive_integer(&given, "minimum_amount", "restrictions[minimum_amount]")?;
    if let Some(minimum) = minimum {
        let currency = match given.string("minimum_amount_currency")? {
            Some(currency) if !currency.is_empty() => currency.to_ascii_lowercase(),
            _ => {
                return Err(stripe_error::parameter_missing(
                    "restrictions[minimum_amount_currency]",
                )
                .into());
            }
        };
        out["minimum_amount"] = json!(minimum);
        out["minimum_amount_currency"] = json!(currency);
    }
    Ok(out)
}

/// `GET /v1/promotion_codes/{promotion_code}`.
fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&[])?;
    ctx.require(&KIND, id, "id", Lookup::Path).map(Reply::ok)
}

/// `POST /v1/promotion_codes/{promotion_code}`: `active` and `metadata`.
fn update(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let before = ctx.require(&KIND, id, "id", Lookup::Path)?;
    let params = ctx.params(&["active", "metadata"])?;
    let mut after = before.clone();
    if let Some(active) = params.boolean("active")? {
        if active && before["active"] != true {
            check_unique(ctx, before["code"].as_str().unwrap_or_default(), Some(id))?;
        }
        after["active"] = json!(active);
    }
    if let Some(object) = after.as_object_mut() {
        params.apply_metadata(object)?;
    }
    Ok(Reply::ok(ctx.update(&KIND, &before, after)))
}

/// `GET /v1/promotion_codes`.
fn list(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "active",
        "code",
        "coupon",
        "created",
        "customer",
        "ending_before",
        "limit",
        "starting_after",
    ])?;
    let active = params.boolean("active")?;
    let code = params.string("code")?;
    let coupon = params.string("coupon")?;
    let customer = params.string("customer")?;
    let created = Created::from(&params)?;
    ctx.list(&KIND, &params, |promotion_code| {
        active.is_none_or(|wanted| promotion_code["active"] == wanted)
            && code.is_none_or(|wanted| {
                promotion_code["code"]
                    .as_str()
                    .is_some_and(|code| code.eq_ignore_ascii_case(wanted))
            })
            && coupon.is_none_or(|wanted| promotion_code["coupon"]["id"] == wanted)
            && customer.is_none_or(|wanted| promotion_code["customer"] == wanted)
            && created.contains(promotion_code)
    })
}
