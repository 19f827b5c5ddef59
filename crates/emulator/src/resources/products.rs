//! Products: create, retrieve, update, delete and list.
//!
//! Ids are `prod_` and 14 letters and digits, or the caller's own `id`. `default_price_data`
//! creates the product's first price along with it; prices refer to products through [`require`].
//! Deleting a product is allowed even when it has prices (the refusal's wording is not recorded).
//!
//! This module also holds the small parameter helpers the catalogue objects share (`created`
//! ranges on lists, ids chosen by the caller, positive integers).

use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error::{self, Lookup};
use serde_json::{Map, Value, json};

use super::params::Params;
use super::{Ctx, Kind, Outcome, Reply, prices};
use crate::error::ApiError;
use crate::store::Found;

/// The `product` object type.
pub const KIND: Kind = Kind {
    object: "product",
    prefix: "prod_",
    id_len: 14,
    url: "/v1/products",
    events: Some("product"),
};

/// String fields set by create and update (an empty string unsets them).
const WRITABLE: [&str; 5] = [
    "description",
    "statement_descriptor",
    "tax_code",
    "unit_label",
    "url",
];

const UPDATABLE: [&str; 11] = [
    "active",
    "default_price",
    "description",
    "images",
    "metadata",
    "name",
    "package_dimensions",
    "shippable",
    "statement_descriptor",
    "tax_code",
    "unit_label",
];

/// The product a parameter names, or Stripe's 404 naming the parameter.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    match (method, template) {
        (Method::Post, "/v1/products") => Some(create(ctx)),
        (Method::Get, "/v1/products") => Some(list(ctx)),
        (Method::Get, "/v1/products/{id}") => Some(retrieve(ctx, id)),
        (Method::Post, "/v1/products/{id}") => Some(update(ctx, id)),
        (Method::Delete, "/v1/products/{id}") => Some(delete(ctx, id)),
        _ => None,
    }
}

/// A new product object with Stripe's defaults; `fields` (a `product_data` hash or the request)
/// gives `name`, `active`, `metadata` and the string fields. Used by `POST /v1/prices` too.
pub fn build(ctx: &Ctx<'_>, id: String, params: &Params<'_>) -> Result<Value, ApiError> {
    let name = params.required_string("name")?;
    let now = ctx.now();
    let mut product = json!({
        "id": id,
        "object": KIND.object,
        "active": params.boolean("active")?.unwrap_or(true),
        "created": now,
        "default_price": null,
        "description": null,
        "images": [],
        "livemode": ctx.livemode(),
        "marketing_features": [],
        "metadata": {},
        "name": name,
        "package_dimensions": null,
        "shippable": null,
        "statement_descriptor": null,
        "tax_code": null,
        "type": "service",
        "unit_label": null,
        "updated": now,
        "url": null,
    });
    if let Some(object) = product.as_object_mut() {
        apply(object, params)?;
    }
    Ok(product)
}

/// The id the caller chose (`id=…`), refused when empty or already used; else a fresh one.
pub fn chosen_id(
    ctx: &Ctx<'_>,
    kind: &Kind,
    params: &Params<'_>,
    param: &str,
) -> Result<String, ApiError> {
    let Some(id) = params.string("id")? else {
        return Ok(ctx.new_id(kind));
    };
    if id.is_empty() {
        return Err(stripe_error::parameter_invalid_empty(param).into());
    }
    if matches!(ctx.find(kind, id), Found::Here(_) | Found::Deleted) {
        return Err(stripe_error::malformed_parameter(
            param,
            &format!("a {} with this id already exists", kind.object),
        )
        .into());
    }
    Ok(id.to_owned())
}

/// `POST /v1/products`.
fn create(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "active",
        "default_price_data",
        "description",
        "id",
        "images",
        "metadata",
        "name",
        "package_dimensions",
        "shippable",
        "statement_descriptor",
        "tax_code",
        "unit_label",
        "url",
    ])?;
    let id = chosen_id(ctx, &KIND, &params, "id")?;
    let mut product = build(ctx, id, &params)?;
    let price = match params.hash("default_price_data")? {
        Some(data) => {
            let data = Value::Object(data.clone());
            let data = nested(
                &data,
                "default_price_data",
                &[
                    "currency",
                    "recurring",
                    "tax_behavior",
                    "unit_amount",
                    "unit_amount_decimal",
                ],
            )?;
            let price = prices::build(ctx, &product, &data, "default_price_data")?;
            product["default_price"] = price["id"].clone();
            Some(price)
        }
        None => None,
    };
    let product = ctx.insert(&KIND, product);
    if let Some(price) = price {
        ctx.insert(&prices::KIND, price);
    }
    Ok(Reply::ok(product))
}

/// Checks a nested hash against the keys it accepts, naming an unknown key `name[key]`.
pub fn nested<'a>(hash: &'a Value, name: &str, allowed: &[&str]) -> Result<Params<'a>, ApiError> {
    if let Some(map) = hash.as_object()
        && let Some(key) = map.keys().find(|key| !allowed.contains(&key.as_str()))
    {
        return Err(stripe_error::parameter_unknown(&format!("{name}[{key}]")).into());
    }
    Params::new(hash, allowed)
}

/// `GET /v1/products/{id}`: a deleted product is gone (404), unlike a deleted customer.
fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&[])?;
    ctx.require(&KIND, id, "id", Lookup::Path).map(Reply::ok)
}

/// `POST /v1/products/{id}`.
fn update(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let before = ctx.require(&KIND, id, "id", Lookup::Path)?;
    let params = ctx.params(&UPDATABLE)?;
    let mut after = before.clone();
    if let Some(object) = after.as_object_mut() {
        if params.has("name") {
            let name = params.required_string("name")?;
            object.insert("name".to_owned(), json!(name));
        }
        if let Some(active) = params.boolean("active")? {
            object.insert("active".to_owned(), json!(active));
        }
        match params.string("default_price")? {
            None => {}
            Some("") => {
                object.insert("default_price".to_owned(), Value::Null);
            }
            Some(price_id) => {
                let price = prices::require(ctx, price_id, "default_price")?;
                if price.get("product").and_then(Value::as_str) != Some(id) {
                    return Err(stripe_error::malformed_parameter(
                        "default_price",
                        "the price must belong to this product",
                    )
                    .into());
                }
                object.insert("default_price".to_owned(), json!(price_id));
            }
        }
        apply(object, &params)?;
    }
    if after != before {
        after["updated"] = json!(ctx.now());
    }
    Ok(Reply::ok(ctx.update(&KIND, &before, after)))
}

/// The fields create and update share: strings, `images`, `shippable`, `package_dimensions`
/// and `metadata`.
fn apply(object: &mut Map<String, Value>, params: &Params<'_>) -> Result<(), ApiError> {
    params.apply_strings(object, &WRITABLE)?;
    if let Some(shippable) = params.boolean("shippable")? {
        object.insert("shippable".to_owned(), json!(shippable));
    }
    match params.get("images") {
        None => {}
        Some(Value::String(text)) if text.is_empty() => {
            object.insert("images".to_owned(), json!([]));
        }
        Some(_) => {
            let images = params.array("images")?.unwrap_or_default();
            if images.len() > 8 {
                return Err(stripe_error::malformed_parameter(
                    "images",
                    "at most 8 images are allowed",
                )
                .into());
            }
            let mut urls = Vec::new();
            for (index, image) in images.into_iter().enumerate() {
                match image.as_str() {
                    Some(url) => urls.push(json!(url)),
                    None => {
                        return Err(stripe_error::malformed_parameter(
                            &format!("images[{index}]"),
                            "expected a string",
                        )
                        .into());
                    }
                }
            }
            object.insert("images".to_owned(), Value::Array(urls));
        }
    }
    match params.get("package_dimensions") {
        None => {}
        Some(Value::String(text)) if text.is_empty() => {
            object.insert("package_dimensions".to_owned(), Value::Null);
        }
        Some(hash) => {
            params.hash("package_dimensions")?;
            let dimensions = nested(
                hash,
                "package_dimensions",
                &["height", "length", "weight", "width"],
            )?;
            let mut out = Map::new();
            for field in ["height", "length", "weight", "width"] {
                let param = format!("package_dimensions[{field}]");
                let text = match dimensions.string(field)? {
                    Some(text) if !text.is_empty() => text,
                    Some(_) => return Err(stripe_error::parameter_invalid_empty(&param).into()),
                    None => return Err(stripe_error::parameter_missing(&param).into()),
                };
                let number = text
                    .parse::<f64>()
                    .ok()
                    .filter(|number| number.is_finite() && *number >= 0.0)
                    .ok_or_else(|| {
                        ApiError::from(stripe_error::malformed_parameter(
                            &param,
                            "expected a non-negative number",
                        ))
                    })?;
                out.insert(field.to_owned(), json!(number));
            }
            object.insert("package_dimensions".to_owned(), Value::Object(out));
        }
    }
    params.apply_metadata(object)
}

/// `DELETE /v1/products/{id}`.
fn delete(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&[])?;
    ctx.require(&KIND, id, "id", Lookup::Path)?;
    Ok(Reply::ok(ctx.delete(&KIND, id)))
}

/// `GET /v1/products`.
fn list(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "active",
        "created",
        "ending_before",
        "ids",
        "limit",
        "shippable",
        "starting_after",
        "url",
    ])?;
    let active = params.boolean("active")?;
    let shippable = params.boolean("shippable")?;
    let url = params.string("url")?;
    let created = Created::from(&params)?;
    let ids: Option<Vec<&str>> = params
        .array("ids")?
        .map(|ids| ids.into_iter().filter_map(Value::as_str).collect());
    ctx.list(&KIND, &params, |product| {
        active.is_none_or(|wanted| product["active"] == wanted)
            && shippable.is_none_or(|wanted| product["shippable"] == wanted)
            && url.is_none_or(|wanted| product["url"] == wanted)
            && ids
                .as_ref()
                .is_none_or(|ids| product["id"].as_str().is_some_and(|id| ids.contains(&id)))
            && created.contains(product)
    })
}

/// A list's `created` filter: an exact time or a range (`created[gte]=…&created[lt]=…`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Created {
    gt: Option<i64>,
    gte: Option<i64>,
    lt: Option<i64>,
    lte: Option<i64>,
}

impl Created {
    /// The `created` parameter of a list request (no filter when absent).
    pub fn from(params: &Params<'_>) -> Result<Created, ApiError> {
        match params.get("created") {
            None => Ok(Created::default()),
            Some(range @ Value::Object(_)) => {
                let range = nested(range, "created", &["gt", "gte", "lt", "lte"])?;
                let bound = |name: &str| -> Result<Option<i64>, ApiError> {
                    match range.string(name)? {
                        None => Ok(None),
                        Some(text) => text.parse::<i64>().map(Some).map_err(|_| {
                            stripe_error::invalid_integer(&format!("created[{name}]"), text).into()
                        }),
                    }
                };
                Ok(Created {
                    gt: bound("gt")?,
                    gte: bound("gte")?,
                    lt: bound("lt")?,
                    lte: bound("lte")?,
                })
            }
            Some(_) => {
                let exact = params.integer("created")?;
                Ok(Created {
                    gte: exact,
                    lte: exact,
                    ..Created::default()
                })
            }
        }
    }

    /// Whether an object's `created` is in the range.
    pub fn contains(&self, object: &Value) -> bool {
        let Some(created) = object.get("created").and_then(Value::as_i64) else {
            return true;
        };
        self.gt.is_none_or(|bound| created > bound)
            && self.gte.is_none_or(|bound| created >= bound)
            && self.lt.is_none_or(|bound| created < bound)
            && self.lte.is_none_or(|bound| created <= bound)
    }
}

/// A positive integer parameter (`max_redemptions`, `interval_count`); `Ok(None)` when absent.
pub fn positive_integer(
    params: &Params<'_>,
    name: &str,
    param: &str,
) -> Result<Option<i64>, ApiError> {
    match params.get(name) {
        None => Ok(None),
        Some(Value::String(text)) => match text.parse::<i64>() {
            Ok(number) if number > 0 => Ok(Some(number)),
            Ok(_) => {
                Err(stripe_error::malformed_parameter(param, "must be a positive integer").into())
            }
            Err(_) => Err(stripe_error::invalid_integer(param, text).into()),
        },
        Some(other) => Err(stripe_error::invalid_integer(param, &other.to_string()).into()),
    }
}
