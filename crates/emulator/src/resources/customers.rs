//! Customers: create, retrieve, update, delete and list, stored per account and mode.
//!
//! Behaviour follows Stripe's API reference: ids are `cus_` and 14 letters and digits, lists are
//! newest first with `limit` (1 to 100, default 10), `starting_after` and `ending_before`, an
//! empty string unsets a field (`metadata[k]=` removes one key, `metadata=` all of them), a
//! deleted customer still retrieves as `{"deleted": true}`, and an id that exists only in the
//! other mode gets the "a similar object exists in … mode" hint.

use std::collections::{HashMap, HashSet};

use rakguard_catalog::key::Mode;
use rakguard_catalog::stripe_error::{self, ApiMode, Lookup};
use serde_json::{Map, Value, json};

use super::{Ctx, Outcome, Reply};
use crate::error::ApiError;

/// The object name in messages and `object` fields.
const OBJECT: &str = "customer";
/// Letters and digits after `cus_`.
const ID_LEN: usize = 14;
/// The list's default page size.
pub const DEFAULT_LIMIT: usize = 10;
/// The largest page.
pub const MAX_LIMIT: usize = 100;

const WRITABLE: [&str; 4] = ["description", "email", "name", "phone"];

/// The customers of one account and mode.
#[derive(Debug, Default, Clone)]
pub struct CustomerStore {
    /// Ids in creation order.
    order: Vec<String>,
    objects: HashMap<String, Value>,
    deleted: HashSet<String>,
}

/// Where a customer id was found.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// In the request's account and mode.
    Here(Value),
    /// Deleted from the request's account and mode.
    Deleted,
    /// Only in the other mode.
    OtherMode(Mode),
    /// Nowhere.
    Missing,
}

/// Looks a customer up for the request's account and mode.
pub fn find(ctx: &Ctx<'_>, id: &str) -> Found {
    let data = ctx.state.read();
    let here = data.customers.get(&(ctx.account.to_owned(), ctx.mode));
    if let Some(object) = here.and_then(|store| store.objects.get(id)) {
        return Found::Here(object.clone());
    }
    if here.is_some_and(|store| store.deleted.contains(id)) {
        return Found::Deleted;
    }
    let other = match ctx.mode {
        Mode::Test => Mode::Live,
        Mode::Live => Mode::Test,
    };
    let elsewhere = data
        .customers
        .get(&(ctx.account.to_owned(), other))
        .is_some_and(|store| store.objects.contains_key(id) || store.deleted.contains(id));
    if elsewhere {
        Found::OtherMode(other)
    } else {
        Found::Missing
    }
}

/// The 404 for a customer id that is not usable in this request.
pub fn missing(found: &Found, id: &str, param: &str, lookup: Lookup) -> ApiError {
    match found {
        Found::OtherMode(mode) => {
            stripe_error::resource_missing_in_other_mode(OBJECT, id, param, api_mode(*mode), lookup)
                .into()
        }
        _ => stripe_error::resource_missing(OBJECT, id, param, lookup).into(),
    }
}

fn api_mode(mode: Mode) -> ApiMode {
    match mode {
        Mode::Test => ApiMode::Test,
        Mode::Live => ApiMode::Live,
    }
}

fn params_object(ctx: &Ctx<'_>) -> Map<String, Value> {
    ctx.params.as_object().cloned().unwrap_or_default()
}

/// Refuses any parameter outside `allowed`.
fn only(params: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match params.keys().find(|name| !allowed.contains(&name.as_str())) {
        Some(unknown) => Err(stripe_error::parameter_unknown(unknown).into()),
        None => Ok(()),
    }
}

/// Applies `description`, `email`, `name`, `phone` and `metadata` to `customer`.
fn apply(customer: &mut Map<String, Value>, params: &Map<String, Value>) -> Result<(), ApiError> {
    for field in WRITABLE {
        match params.get(field) {
            None => {}
            Some(Value::String(text)) if text.is_empty() => {
                customer.insert(field.to_owned(), Value::Null);
            }
            Some(Value::String(text)) => {
                customer.insert(field.to_owned(), Value::String(text.clone()));
            }
            Some(_) => return Err(ApiError::parameter_invalid(field, "expected a string")),
        }
    }
    match params.get("metadata") {
        None => {}
        Some(Value::String(text)) if text.is_empty() => {
            customer.insert("metadata".to_owned(), json!({}));
        }
        Some(Value::Object(changes)) => {
            let mut metadata = customer
                .get("metadata")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for (key, value) in changes {
                match value {
                    Value::String(text) if text.is_empty() => {
                        metadata.remove(key);
                    }
                    Value::String(_) => {
                        metadata.insert(key.clone(), value.clone());
                    }
                    _ => {
                        return Err(ApiError::parameter_invalid(
                            &format!("metadata[{key}]"),
                            "expected a string",
                        ));
                    }
                }
            }
            customer.insert("metadata".to_owned(), Value::Object(metadata));
        }
        Some(_) => return Err(ApiError::parameter_invalid("metadata", "expected a hash")),
    }
    Ok(())
}

/// `POST /v1/customers`.
pub fn create(ctx: &Ctx<'_>) -> Outcome {
    let params = params_object(ctx);
    only(
        &params,
        &[
            "description",
            "email",
            "name",
            "phone",
            "metadata",
            "expand",
        ],
    )?;
    let now = ctx.state.clock().now();
    let mut data = ctx.state.write();
    let id = data.ids.id("cus_", ID_LEN);
    let mut customer = json!({
        "id": id,
        "object": OBJECT,
        "address": null,
        "balance": 0,
        "created": now,
        "currency": null,
        "default_source": null,
        "delinquent": false,
        "description": null,
        "discount": null,
        "email": null,
        "invoice_prefix": null,
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
        apply(object, &params)?;
    }
    let store = data
        .customers
        .entry((ctx.account.to_owned(), ctx.mode))
        .or_default();
    store.order.push(id.clone());
    store.objects.insert(id, customer.clone());
    Ok(Reply::ok(customer))
}

/// `GET /v1/customers/{customer}`.
pub fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    only(&params_object(ctx), &["expand"])?;
    match find(ctx, id) {
        Found::Here(customer) => Ok(Reply::ok(customer)),
        Found::Deleted => Ok(Reply::ok(deleted(id))),
        other => Err(missing(&other, id, "id", Lookup::Path)),
    }
}

/// `POST /v1/customers/{customer}`.
pub fn update(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let found = find(ctx, id);
    let Found::Here(_) = found else {
        return Err(missing(&found, id, "id", Lookup::Path));
    };
    let params = params_object(ctx);
    only(
        &params,
        &[
            "description",
            "email",
            "name",
            "phone",
            "metadata",
            "expand",
        ],
    )?;
    let mut data = ctx.state.write();
    let customer = data
        .customers
        .get_mut(&(ctx.account.to_owned(), ctx.mode))
        .and_then(|store| store.objects.get_mut(id))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| {
            ApiError::from(stripe_error::resource_missing(
                OBJECT,
                id,
                "id",
                Lookup::Path,
            ))
        })?;
    let mut updated = customer.clone();
    apply(&mut updated, &params)?;
    *customer = updated.clone();
    Ok(Reply::ok(Value::Object(updated)))
}

/// `DELETE /v1/customers/{customer}`.
pub fn delete(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let found = find(ctx, id);
    let Found::Here(_) = found else {
        return Err(missing(&found, id, "id", Lookup::Path));
    };
    let mut data = ctx.state.write();
    if let Some(store) = data.customers.get_mut(&(ctx.account.to_owned(), ctx.mode)) {
        store.objects.remove(id);
        store.order.retain(|known| known != id);
        store.deleted.insert(id.to_owned());
    }
    Ok(Reply::ok(deleted(id)))
}

fn deleted(id: &str) -> Value {
    json!({"id": id, "object": OBJECT, "deleted": true})
}

/// `GET /v1/customers`.
pub fn list(ctx: &Ctx<'_>) -> Outcome {
    let params = params_object(ctx);
    only(
        &params,
        &[
            "limit",
            "starting_after",
            "ending_before",
            "email",
            "expand",
            "created",
            "test_clock",
        ],
    )?;
    let limit = match params.get("limit") {
        None => DEFAULT_LIMIT,
        Some(Value::String(text)) => text
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=MAX_LIMIT).contains(limit))
            .ok_or_else(|| {
                ApiError::parameter_invalid("limit", "must be an integer between 1 and 100")
            })?,
        Some(_) => {
            return Err(ApiError::parameter_invalid(
                "limit",
                "must be an integer between 1 and 100",
            ));
        }
    };
    let cursor = |name: &str| -> Result<Option<String>, ApiError> {
        match params.get(name) {
            None => Ok(None),
            Some(Value::String(id)) if !id.is_empty() => Ok(Some(id.clone())),
            Some(Value::String(_)) => Err(stripe_error::parameter_invalid_empty(name).into()),
            Some(_) => Err(ApiError::parameter_invalid(name, "expected an object id")),
        }
    };
    let starting_after = cursor("starting_after")?;
    let ending_before = cursor("ending_before")?;
    if starting_after.is_some() && ending_before.is_some() {
        return Err(ApiError::parameter_invalid(
            "ending_before",
            "starting_after and ending_before cannot be combined",
        ));
    }
    let email = match params.get("email") {
        None => None,
        Some(Value::String(email)) => Some(email.clone()),
        Some(_) => return Err(ApiError::parameter_invalid("email", "expected a string")),
    };
    let data = ctx.state.read();
    let newest_first: Vec<&Value> = data
        .customers
        .get(&(ctx.account.to_owned(), ctx.mode))
        .map(|store| {
            store
                .order
                .iter()
                .rev()
                .filter_map(|id| store.objects.get(id))
                .filter(|customer| {
                    email.as_deref().is_none_or(|wanted| {
                        customer.get("email").and_then(Value::as_str) == Some(wanted)
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let position = |id: &str, param: &str| -> Result<usize, ApiError> {
        newest_first
            .iter()
            .position(|customer| customer.get("id").and_then(Value::as_str) == Some(id))
            .ok_or_else(|| {
                stripe_error::resource_missing(OBJECT, id, param, Lookup::Parameter).into()
            })
    };
    let (start, end) = if let Some(id) = &starting_after {
        let start = position(id, "starting_after")? + 1;
        (start, (start + limit).min(newest_first.len()))
    } else if let Some(id) = &ending_before {
        let end = position(id, "ending_before")?;
        (end.saturating_sub(limit), end)
    } else {
        (0, limit.min(newest_first.len()))
    };
    let has_more = if ending_before.is_some() {
        start > 0
    } else {
        end < newest_first.len()
    };
    let page: Vec<Value> = newest_first
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|customer| (*customer).clone())
        .collect();
    Ok(Reply::ok(json!({
        "object": "list",
        "data": page,
        "has_more": has_more,
        "url": "/v1/customers",
    })))
}
