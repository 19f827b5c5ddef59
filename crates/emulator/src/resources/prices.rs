//! Prices: create, retrieve, update and list (Stripe has no price deletion; prices are archived
//! with `active=false`).
//!
//! Ids are `price_` and 24 letters and digits. A price names an existing product (`product`) or
//! creates one (`product_data`); `recurring[interval]` makes it a `recurring` price, else it is
//! `one_time`. A lookup key belongs to one price at a time: `transfer_lookup_key=true` moves it.

use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error::{self, Lookup};
use serde_json::{Map, Value, json};

use super::params::Params;
use super::products::{self, Created, nested, positive_integer};
use super::{Ctx, Kind, Outcome, Reply};
use crate::error::ApiError;

/// The `price` object type.
pub const KIND: Kind = Kind {
    object: "price",
    prefix: "price_",
    id_len: 24,
    url: "/v1/prices",
    events: Some("price"),
};

const INTERVALS: [&str; 4] = ["day", "week", "month", "year"];
const TAX_BEHAVIORS: [&str; 3] = ["exclusive", "inclusive", "unspecified"];

/// The price a parameter names, or Stripe's 404 naming the parameter.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    match (method, template) {
        (Method::Post, "/v1/prices") => Some(create(ctx)),
        (Method::Get, "/v1/prices") => Some(list(ctx)),
        (Method::Get, "/v1/prices/{price}") => Some(retrieve(ctx, id)),
        (Method::Post, "/v1/prices/{price}") => Some(update(ctx, id)),
        _ => None,
    }
}

/// A parameter's name as Stripe reports it: `currency`, or `default_price_data[currency]` inside
/// a hash.
fn shown(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}[{field}]")
    }
}

/// A string parameter that must be present and non-empty, named with its prefix.
fn required(params: &Params<'_>, prefix: &str, field: &str) -> Result<String, ApiError> {
    let name = shown(prefix, field);
    match params.get(field) {
        None => Err(stripe_error::parameter_missing(&name).into()),
        Some(Value::String(text)) if text.is_empty() => {
            Err(stripe_error::parameter_invalid_empty(&name).into())
        }
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(stripe_error::malformed_parameter(&name, "expected a string").into()),
    }
}

/// One of `choices`, or a malformed-parameter error naming them.
fn one_of(
    params: &Params<'_>,
    prefix: &str,
    field: &str,
    choices: &[&str],
) -> Result<Option<String>, ApiError> {
    let name = shown(prefix, field);
    match params.get(field) {
        None => Ok(None),
        Some(Value::String(text)) if choices.contains(&text.as_str()) => Ok(Some(text.clone())),
        Some(_) => Err(stripe_error::malformed_parameter(
            &name,
            &format!("must be one of {}", choices.join(", ")),
        )
        .into()),
    }
}

/// A non-negative integer amount, named with its prefix.
fn amount(params: &Params<'_>, prefix: &str, field: &str) -> Result<Option<i64>, ApiError> {
    let name = shown(prefix, field);
    match params.get(field) {
        None => Ok(None),
        Some(Value::String(text)) => match text.parse::<i64>() {
            Ok(number) if number >= 0 => Ok(Some(number)),
            Ok(_) => Err(stripe_error::malformed_parameter(
                &name,
                "must be a non-negative integer",
            )
            .into()),
            Err(_) => Err(stripe_error::invalid_integer(&name, text).into()),
        },
        Some(other) => Err(stripe_error::invalid_integer(&name, &other.to_string()).into()),
    }
}

/// A non-negative decimal amount with at most 12 decimal places, as a string.
fn decimal(params: &Params<'_>, prefix: &str, field: &str) -> Result<Option<String>, ApiError> {
    let name = shown(prefix, field);
    let Some(value) = params.get(field) else {
        return Ok(None);
    };
    let text = value.as_str().unwrap_or_default();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 12 {
        return Err(stripe_error::malformed_parameter(
            &name,
            "must be a non-negative decimal with at most 12 decimal places",
        )
        .into());
    }
    Ok(Some(text.to_owned()))
}

/// The `unit_amount` and `unit_amount_decimal` fields: exactly one of the two may be given.
fn unit_amounts(
    params: &Params<'_>,
    prefix: &str,
    required_field: bool,
) -> Result<(Value, Value), ApiError> {
    let integer = amount(params, prefix, "unit_amount")?;
    let decimal = decimal(params, prefix, "unit_amount_decimal")?;
    match (integer, decimal) {
        (Some(_), Some(_)) => Err(stripe_error::malformed_parameter(
            &shown(prefix, "unit_amount_decimal"),
            "only one of unit_amount and unit_amount_decimal may be given",
        )
        .into()),
        (Some(integer), None) => Ok((json!(integer), json!(integer.to_string()))),
        (None, Some(decimal)) => {
            let (whole, fraction) = decimal.split_once('.').unwrap_or((&decimal, ""));
            let integer = if fraction.chars().all(|c| c == '0') {
                whole.parse::<i64>().ok()
            } else {
                None
            };
            Ok((json!(integer), json!(decimal)))
        }
        (None, None) if required_field => {
            Err(stripe_error::parameter_missing(&shown(prefix, "unit_amount")).into())
        }
        (None, None) => Ok((Value::Null, Value::Null)),
    }
}

/// The `recurring` hash: `interval` (required), `interval_count`, `usage_type`,
/// `aggregate_usage`, `trial_period_days`.
fn recurring(params: &Params<'_>, prefix: &str) -> Result<Value, ApiError> {
    let name = shown(prefix, "recurring");
    let Some(hash) = params.get("recurring") else {
        return Ok(Value::Null);
    };
    if !hash.is_object() {
        return Err(stripe_error::invalid_hash(&name).into());
    }
    let recurring = nested(
        hash,
        &name,
        &[
            "aggregate_usage",
            "interval",
            "interval_count",
            "trial_period_days",
            "usage_type",
        ],
    )?;
    let interval = required(&recurring, &name, "interval")?;
    if !INTERVALS.contains(&interval.as_str()) {
        return Err(stripe_error::malformed_parameter(
            &shown(&name, "interval"),
            "must be one of day, week, month or year",
        )
        .into());
    }
    let interval_count = positive_integer(
        &recurring,
        "interval_count",
        &shown(&name, "interval_count"),
    )?
    .unwrap_or(1);
    let usage_type = one_of(&recurring, &name, "usage_type", &["licensed", "metered"])?
        .unwrap_or_else(|| "licensed".to_owned());
    let aggregate_usage = one_of(
        &recurring,
        &name,
        "aggregate_usage",
        &["last_during_period", "last_ever", "max", "sum"],
    )?;
    let aggregate_usage = match (usage_type.as_str(), aggregate_usage) {
        ("metered", aggregate) => json!(aggregate.unwrap_or_else(|| "sum".to_owned())),
        (_, None) => Value::Null,
        (_, Some(_)) => {
            return Err(stripe_error::malformed_parameter(
                &shown(&name, "aggregate_usage"),
                "only metered prices aggregate usage",
            )
            .into());
        }
    };
    let trial_period_days = amount(&recurring, &name, "trial_period_days")?;
    Ok(json!({
        "aggregate_usage": aggregate_usage,
        "interval": interval,
        "interval_count": interval_count,
        "meter": null,
        "trial_period_days": trial_period_days,
        "usage_type": usage_type,
    }))
}

/// A new price of `product` from `params` (the request, or a `default_price_data` hash whose
/// parameters are reported as `prefix[…]`).
pub fn build(
    ctx: &Ctx<'_>,
    product: &Value,
    params: &Params<'_>,
    prefix: &str,
) -> Result<Value, ApiError> {
    let currency = required(params, prefix, "currency")?.to_ascii_lowercase();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_lowercase()) {
        return Err(stripe_error::malformed_parameter(
            &shown(prefix, "currency"),
            "must be a three-letter ISO currency code",
        )
        .into());
    }
    let billing_scheme = one_of(params, prefix, "billing_scheme", &["per_unit", "tiered"])?
        .unwrap_or_else(|| "per_unit".to_owned());
    let tiered = billing_scheme == "tiered";
    let (unit_amount, unit_amount_decimal) = unit_amounts(params, prefix, !tiered)?;
    let recurring = recurring(params, prefix)?;
    let (tiers_mode, tiers) = if tiered {
        let mode = one_of(params, prefix, "tiers_mode", &["graduated", "volume"])?
            .ok_or_else(|| ApiError::from(stripe_error::parameter_missing("tiers_mode")))?;
        (json!(mode), tiers(params)?)
    } else {
        if params.has("tiers") {
            return Err(stripe_error::malformed_parameter(
                "tiers",
                "tiers are only allowed when billing_scheme is tiered",
            )
            .into());
        }
        (Value::Null, Value::Null)
    };
    let tax_behavior = one_of(params, prefix, "tax_behavior", &TAX_BEHAVIORS)?
        .unwrap_or_else(|| "unspecified".to_owned());
    let transform_quantity = match params.get("transform_quantity") {
        None => Value::Null,
        Some(hash) => {
            if !hash.is_object() {
                return Err(stripe_error::invalid_hash("transform_quantity").into());
            }
            let transform = nested(hash, "transform_quantity", &["divide_by", "round"])?;
            let divide_by =
                positive_integer(&transform, "divide_by", "transform_quantity[divide_by]")?
                    .ok_or_else(|| {
                        ApiError::from(stripe_error::parameter_missing(
                            "transform_quantity[divide_by]",
                        ))
                    })?;
            let round = one_of(&transform, "transform_quantity", "round", &["down", "up"])?
                .ok_or_else(|| {
                    ApiError::from(stripe_error::parameter_missing("transform_quantity[round]"))
                })?;
            json!({ "divide_by": divide_by, "round": round })
        }
    };
    let price_type = if recurring.is_null() {
        "one_time"
    } else {
        "recurring"
    };
    let mut price = json!({
        "id": ctx.new_id(&KIND),
        "object": KIND.object,
        "active": params.boolean("active")?.unwrap_or(true),
        "billing_scheme": billing_scheme,
        "created": ctx.now(),
        "currency": currency,
        "custom_unit_amount": null,
        "livemode": ctx.livemode(),
        "lookup_key": null,
        "metadata": {},
        "nickname": null,
        "product": product["id"].clone(),
        "recurring": recurring,
        "tax_behavior": tax_behavior,
        "tiers_mode": tiers_mode,
        "transform_quantity": transform_quantity,
        "type": price_type,
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount_decimal,
    });
    if !tiers.is_null() {
        price["tiers"] = tiers;
    }
    if let Some(object) = price.as_object_mut() {
        params.apply_strings(object, &["lookup_key", "nickname"])?;
        params.apply_metadata(object)?;
    }
    Ok(price)
}

/// The `tiers` of a tiered price: each with `up_to` (a count or `inf`, last tier only) and its
/// amounts.
fn tiers(params: &Params<'_>) -> Result<Value, ApiError> {
    let Some(tiers) = params.array("tiers")? else {
        return Err(stripe_error::parameter_missing("tiers").into());
    };
    let count = tiers.len();
    let mut out = Vec::new();
    for (index, tier) in tiers.into_iter().enumerate() {
        let name = format!("tiers[{index}]");
        if !tier.is_object() {
            return Err(stripe_error::invalid_hash(&name).into());
        }
        let tier = nested(
            tier,
            &name,
            &[
                "flat_amount",
                "flat_amount_decimal",
                "unit_amount",
                "unit_amount_decimal",
                "up_to",
            ],
        )?;
        let up_to = match required(&tier, &name, "up_to")?.as_str() {
            "inf" if index + 1 == count => Value::Null,
            text => match text.parse::<i64>() {
                Ok(number) if number > 0 && index + 1 < count => json!(number),
                _ => {
                    return Err(stripe_error::malformed_parameter(
                        &shown(&name, "up_to"),
                        "must be a positive integer, or inf on the last tier",
                    )
                    .into());
                }
            },
        };
        let (unit_amount, unit_amount_decimal) = unit_amounts(&tier, &name, false)?;
        let flat_amount = amount(&tier, &name, "flat_amount")?;
        let flat_amount_decimal = decimal(&tier, &name, "flat_amount_decimal")?
            .or_else(|| flat_amount.map(|amount| amount.to_string()));
        out.push(json!({
            "flat_amount": flat_amount,
            "flat_amount_decimal": flat_amount_decimal,
            "unit_amount": unit_amount,
            "unit_amount_decimal": unit_amount_decimal,
            "up_to": up_to,
        }));
    }
    Ok(Value::Array(out))
}

/// Takes `lookup_key` from whichever other price holds it when `transfer_lookup_key=true`;
/// refuses it otherwise.
fn claim_lookup_key(ctx: &Ctx<'_>, price: &Value, transfer: bool) -> Result<(), ApiError> {
    let Some(key) = price.get("lookup_key").and_then(Value::as_str) else {
        return Ok(());
    };
    let holder = {
        let data = ctx.state.read();
        data.objects
            .newest_first(ctx.account, ctx.mode, KIND.object)
            .into_iter()
            .find(|other| other["lookup_key"] == key && other["id"] != price["id"])
    };
    let Some(holder) = holder else {
        return Ok(());
    };
    if !transfer {
        return Err(stripe_error::malformed_parameter(
            "lookup_key",
            &format!(
                "the price {} already uses this lookup key; pass transfer_lookup_key=true to move it",
                holder["id"].as_str().unwrap_or_default()
            ),
        )
        .into());
    }
    let mut released = holder.clone();
    released["lookup_key"] = Value::Null;
    ctx.update(&KIND, &holder, released);
    Ok(())
}

/// `POST /v1/prices`.
fn create(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "active",
        "billing_scheme",
        "currency",
        "lookup_key",
        "metadata",
        "nickname",
        "product",
        "product_data",
        "recurring",
        "tax_behavior",
        "tiers",
        "tiers_mode",
        "transfer_lookup_key",
        "transform_quantity",
        "unit_amount",
        "unit_amount_decimal",
    ])?;
    let transfer = params.boolean("transfer_lookup_key")?.unwrap_or(false);
    let (product, new_product) = match (params.string("product")?, params.get("product_data")) {
        (Some(_), Some(_)) => {
            return Err(stripe_error::malformed_parameter(
                "product_data",
                "only one of product and product_data may be given",
            )
            .into());
        }
        (Some(""), None) => return Err(stripe_error::parameter_invalid_empty("product").into()),
        (Some(id), None) => (products::require(ctx, id, "product")?, false),
        (None, Some(data)) => {
            if !data.is_object() {
                return Err(stripe_error::invalid_hash("product_data").into());
            }
            let data = nested(
                data,
                "product_data",
                &[
                    "active",
                    "id",
                    "metadata",
                    "name",
                    "statement_descriptor",
                    "tax_code",
                    "unit_label",
                ],
            )?;
            required(&data, "product_data", "name")?;
            let id = products::chosen_id(ctx, &products::KIND, &data, "product_data[id]")?;
            (products::build(ctx, id, &data)?, true)
        }
        (None, None) => return Err(stripe_error::parameter_missing("product").into()),
    };
    let price = build(ctx, &product, &params, "")?;
    claim_lookup_key(ctx, &price, transfer)?;
    if new_product {
        ctx.insert(&products::KIND, product);
    }
    Ok(Reply::ok(ctx.insert(&KIND, price)))
}

/// `GET /v1/prices/{price}`.
fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&[])?;
    ctx.require(&KIND, id, "id", Lookup::Path).map(Reply::ok)
}

/// `POST /v1/prices/{price}`: `active`, `nickname`, `lookup_key`, `tax_behavior`, `metadata`.
fn update(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let before = ctx.require(&KIND, id, "id", Lookup::Path)?;
    let params = ctx.params(&[
        "active",
        "lookup_key",
        "metadata",
        "nickname",
        "tax_behavior",
        "transfer_lookup_key",
    ])?;
    let transfer = params.boolean("transfer_lookup_key")?.unwrap_or(false);
    let mut after = before.clone();
    if let Some(object) = after.as_object_mut() {
        if let Some(active) = params.boolean("active")? {
            object.insert("active".to_owned(), json!(active));
        }
        if let Some(tax_behavior) = one_of(&params, "", "tax_behavior", &TAX_BEHAVIORS)? {
            object.insert("tax_behavior".to_owned(), json!(tax_behavior));
        }
        params.apply_strings(object, &["lookup_key", "nickname"])?;
        params.apply_metadata(object)?;
    }
    if after["lookup_key"] != before["lookup_key"] {
        claim_lookup_key(ctx, &after, transfer)?;
    }
    Ok(Reply::ok(ctx.update(&KIND, &before, after)))
}

/// `GET /v1/prices`.
fn list(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "active",
        "created",
        "currency",
        "ending_before",
        "limit",
        "lookup_keys",
        "product",
        "recurring",
        "starting_after",
        "type",
    ])?;
    let active = params.boolean("active")?;
    let currency = params.string("currency")?.map(str::to_ascii_lowercase);
    let product = params.string("product")?;
    let price_type = one_of(&params, "", "type", &["one_time", "recurring"])?;
    let created = Created::from(&params)?;
    let lookup_keys: Option<Vec<&str>> = params
        .array("lookup_keys")?
        .map(|keys| keys.into_iter().filter_map(Value::as_str).collect());
    let wanted_recurring: Map<String, Value> = match params.get("recurring") {
        None => Map::new(),
        Some(hash) => {
            if !hash.is_object() {
                return Err(stripe_error::invalid_hash("recurring").into());
            }
            let filter = nested(hash, "recurring", &["interval", "usage_type"])?;
            let mut wanted = Map::new();
            if let Some(interval) = one_of(&filter, "recurring", "interval", &INTERVALS)? {
                wanted.insert("interval".to_owned(), json!(interval));
            }
            if let Some(usage) =
                one_of(&filter, "recurring", "usage_type", &["licensed", "metered"])?
            {
                wanted.insert("usage_type".to_owned(), json!(usage));
            }
            wanted
        }
    };
    ctx.list(&KIND, &params, |price| {
        active.is_none_or(|wanted| price["active"] == wanted)
            && currency
                .as_deref()
                .is_none_or(|wanted| price["currency"] == wanted)
            && product.is_none_or(|wanted| price["product"] == wanted)
            && price_type
                .as_deref()
                .is_none_or(|wanted| price["type"] == wanted)
            && lookup_keys.as_ref().is_none_or(|keys| {
                price["lookup_key"]
                    .as_str()
                    .is_some_and(|key| keys.contains(&key))
            })
            && wanted_recurring
                .iter()
                .all(|(field, value)| price["recurring"][field] == *value)
            && created.contains(price)
    })
}
