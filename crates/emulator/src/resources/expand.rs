//! `expand[]`: replaces object ids in a response with the objects, as Stripe does.
//!
//! Paths are dotted (`latest_invoice.payment_intent`), lists take a `data.` prefix
//! (`data.customer`), and Stripe allows at most four levels. Expanding needs read permission on
//! the expanded object, checked like any request: a restricted key without it gets Stripe's 403
//! naming that permission. One field has a permission of its own: a balance transaction's
//! `source` needs "Balance transaction sources: Read" (see `crates/catalog/data/RESEARCH.md`).

use rakguard_catalog::endpoint::Method;
use rakguard_catalog::permission::{Level, Permission};
use rakguard_catalog::stripe_error;
use serde_json::Value;

use super::{Ctx, EVENT, Kind};
use crate::error::ApiError;
use crate::store::Found;

/// Stripe expands at most this many levels.
pub const MAX_DEPTH: usize = 4;

/// The object types whose ids can be expanded, found by id prefix.
fn kinds() -> [&'static Kind; 17] {
    [
        &super::customers::KIND,
        &super::products::KIND,
        &super::prices::KIND,
        &super::promotion_codes::KIND,
        &super::payment_methods::KIND,
        &super::payment_intents::KIND,
        &super::charges::KIND,
        &super::refunds::KIND,
        &super::balance::TRANSACTION,
        &super::invoices::KIND,
        &super::invoice_items::KIND,
        &super::subscriptions::KIND,
        &super::subscriptions::ITEM,
        &super::checkout_sessions::KIND,
        &super::webhook_endpoints::KIND,
        &super::coupons::KIND,
        &EVENT,
    ]
}

/// The stored kind an id belongs to, by its prefix (the longest that matches).
fn kind_of(id: &str) -> Option<&'static Kind> {
    kinds()
        .into_iter()
        .filter(|kind| !kind.prefix.is_empty() && id.starts_with(kind.prefix))
        .max_by_key(|kind| kind.prefix.len())
}

/// The `expand` parameter as a list of paths.
pub fn paths(params: &Value) -> Result<Vec<String>, ApiError> {
    match params.get("expand") {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(path) => Ok(path.clone()),
                _ => Err(stripe_error::invalid_array("expand").into()),
            })
            .collect(),
        Some(Value::Object(map)) if map.keys().all(|key| key.parse::<usize>().is_ok()) => map
            .values()
            .map(|item| match item {
                Value::String(path) => Ok(path.clone()),
                _ => Err(stripe_error::invalid_array("expand").into()),
            })
            .collect(),
        Some(_) => Err(stripe_error::invalid_array("expand").into()),
    }
}

/// Applies every path of `expand` to `body`.
pub fn apply(ctx: &Ctx<'_>, body: &mut Value, expand: &[String]) -> Result<(), ApiError> {
    for path in expand {
        let segments: Vec<&str> = path.split('.').collect();
        let depth = segments
            .iter()
            .filter(|segment| **segment != "data")
            .count();
        if depth > MAX_DEPTH || segments.iter().any(|segment| segment.is_empty()) {
            return Err(stripe_error::malformed_parameter(
                "expand",
                "expansions are dotted paths of at most four levels",
            )
            .into());
        }
        expand_at(ctx, body, &segments)?;
    }
    Ok(())
}

fn expand_at(ctx: &Ctx<'_>, value: &mut Value, segments: &[&str]) -> Result<(), ApiError> {
    let Some((field, rest)) = segments.split_first() else {
        return Ok(());
    };
    if let Value::Array(items) = value {
        for item in items {
            expand_at(ctx, item, segments)?;
        }
        return Ok(());
    }
    let parent_object = value
        .get("object")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some(child) = value.get_mut(*field) else {
        // Stripe refuses paths that name no expandable field; fields the emulator does not
        // model are left alone rather than refused, so clients written for Stripe keep working.
        return Ok(());
    };
    if let Value::String(id) = child {
        let id = id.clone();
        if let Some(expanded) = fetch(ctx, &parent_object, field, &id)? {
            *child = expanded;
        }
    }
    expand_at(ctx, child, rest)
}

/// The object behind an id, after checking that the key may read it.
fn fetch(ctx: &Ctx<'_>, parent: &str, field: &str, id: &str) -> Result<Option<Value>, ApiError> {
    let catalog = ctx.state.catalog();
    let Some(kind) = kind_of(id) else {
        return Ok(None);
    };
    if parent == "balance_transaction" && field == "source" {
        // The row exists to grant exactly this expansion, whatever the source's own type.
        let sources = Permission::new("balance_transaction_source", Level::Read);
        ctx.authority.require(ctx.state, &sources)?;
    } else if let Some(permission) = catalog
        .lookup(Method::Get, &format!("{}/{id}", kind.url))
        .and_then(|operation| operation.permission())
    {
        ctx.authority.require(ctx.state, permission)?;
    }
    Ok(match ctx.find(kind, id) {
        Found::Here(object) => Some(object),
        _ => None,
    })
}
