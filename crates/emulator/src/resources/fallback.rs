//! The answer for every catalogue operation the emulator does not implement, shaped as Stripe
//! answers a permitted request about objects that do not exist. It never creates anything.
//!
//! - A path naming an object (`/v1/coupons/{coupon}`, `/v1/checkout/sessions/{session}/expire`):
//!   404 `resource_missing` for the first id that does not exist ("No such coupon: 'x'"). Customer
//!   ids are looked up for real, so `/v1/customers/{customer}/…` passes an existing customer.
//! - `GET` of a collection: an empty list object; of a singleton (`/v1/balance`): a bare object.
//! - `POST` creating an object: 400 `parameter_missing`, naming a required parameter when the
//!   emulator knows one and the object's name otherwise.
//! - `DELETE` of something that exists only under a real customer: 404 `resource_missing`.
//!
//! Stripe quirks recorded by the catalogue's probes are kept: retrieving a token or a source that
//! does not exist is a 400, and meter event summaries validate their required parameters first.

use rakguard_catalog::endpoint::{Matched, Method};
use rakguard_catalog::stripe_error::{self, Lookup};
use serde_json::{Value, json};

use super::customers;
use super::{Ctx, Outcome, Reply};
use crate::store::Found;

/// Singleton `GET` resources: answered with one object, not a list.
const SINGLETONS: [&str; 4] = [
    "/v1/balance",
    "/v1/account",
    "/v1/tax/settings",
    "/v1/balance_settings",
];

/// A parameter Stripe requires when creating these objects.
const REQUIRED_ON_CREATE: [(&str, &str); 18] = [
    ("/v1/prices", "currency"),
    ("/v1/products", "name"),
    ("/v1/coupons", "duration"),
    ("/v1/payment_intents", "amount"),
    ("/v1/subscriptions", "customer"),
    ("/v1/subscription_schedules", "customer"),
    ("/v1/invoiceitems", "customer"),
    ("/v1/refunds", "charge"),
    ("/v1/transfers", "amount"),
    ("/v1/payouts", "amount"),
    ("/v1/topups", "amount"),
    ("/v1/webhook_endpoints", "url"),
    ("/v1/tax_rates", "display_name"),
    ("/v1/account_links", "account"),
    ("/v1/account_sessions", "account"),
    ("/v1/billing_portal/sessions", "customer"),
    ("/v1/customer_sessions", "customer"),
    ("/v1/billing/meter_events", "event_name"),
];

/// Answers a permitted request for an operation without a real handler.
pub fn answer(ctx: &Ctx<'_>, matched: &Matched<'_>) -> Outcome {
    let operation = matched.operation;
    let template = operation.path.as_str();
    let segments: Vec<&str> = template.split('/').collect();
    match (operation.method, template) {
        (Method::Get, "/v1/tokens/{token}" | "/v1/sources/{source}") => {
            let (name, id) = matched
                .params
                .first()
                .map_or(("id", ""), |(name, value)| (*name, value.as_str()));
            return Err(stripe_error::resource_missing(name, id, "id", Lookup::Parameter).into());
        }
        (Method::Get, "/v1/billing/meters/{id}/event_summaries")
            if ctx.params.get("customer").is_none() =>
        {
            return Err(stripe_error::parameter_missing("customer").into());
        }
        (Method::Get, _) if template.ends_with("/search") => {
            if ctx.params.get("query").is_none() {
                return Err(stripe_error::parameter_missing("query").into());
            }
            return Ok(Reply::ok(json!({
                "object": "search_result",
                "data": [],
                "has_more": false,
                "next_page": null,
                "url": ctx.path,
            })));
        }
        _ => {}
    }
    for (name, value) in &matched.params {
        let Some(position) = segments.iter().position(|segment| {
            segment
                .strip_prefix('{')
                .and_then(|rest| rest.strip_suffix('}'))
                == Some(*name)
        }) else {
            continue;
        };
        let collection = position
            .checked_sub(1)
            .and_then(|index| segments.get(index));
        if collection == Some(&"customers") {
            match ctx.find(&customers::KIND, value) {
                Found::Here(_) => continue,
                found => {
                    let param = param_name(&segments, position, name);
                    return Err(super::missing(
                        &customers::KIND,
                        &found,
                        value,
                        &param,
                        Lookup::Path,
                    ));
                }
            }
        }
        let object = object_name(&segments, position);
        let param = param_name(&segments, position, name);
        return Err(stripe_error::resource_missing(&object, value, &param, Lookup::Path).into());
    }
    match operation.method {
        Method::Get if SINGLETONS.contains(&template) => {
            let object = segments
                .get(2..)
                .map(|rest| rest.join("."))
                .unwrap_or_default();
            let mut body = json!({"object": object, "livemode": ctx.livemode()});
            if template == "/v1/account" {
                body["id"] = Value::String(ctx.account.to_owned());
            }
            Ok(Reply::ok(body))
        }
        Method::Get => Ok(Reply::ok(json!({
            "object": "list",
            "data": [],
            "has_more": false,
            "url": ctx.path,
        }))),
        Method::Post => {
            let param = REQUIRED_ON_CREATE
                .iter()
                .find(|(path, _)| *path == template)
                .map(|(_, param)| (*param).to_owned())
                .unwrap_or_else(|| object_name(&segments, segments.len()).replace('.', "_"));
            Err(stripe_error::parameter_missing(&param).into())
        }
        Method::Delete => {
            let object = object_name(&segments, segments.len());
            let id = matched
                .params
                .last()
                .map_or("", |(_, value)| value.as_str());
            Err(stripe_error::resource_missing(&object, id, "id", Lookup::Path).into())
        }
    }
}

/// `id` for the object the path ends with, the template's name for a parent object.
fn param_name(segments: &[&str], position: usize, name: &str) -> String {
    if position + 1 == segments.len() {
        "id".to_owned()
    } else {
        name.to_owned()
    }
}

/// The object name Stripe puts in "No such …" for the id at `position`: the collection segment
/// before it, made singular, with its namespace when nothing before it is an id
/// (`/v1/checkout/sessions/{session}` → `checkout.session`, `/v1/coupons/{coupon}` → `coupon`).
/// For `position == segments.len()` it names the path's last literal segment.
pub fn object_name(segments: &[&str], position: usize) -> String {
    let before: Vec<&str> = segments
        .get(..position)
        .unwrap_or(segments)
        .iter()
        .copied()
        .filter(|segment| !segment.is_empty() && *segment != "v1" && *segment != "v2")
        .collect();
    let Some((collection, namespace)) = before.split_last() else {
        return "object".to_owned();
    };
    let collection = if collection.starts_with('{') {
        "object".to_owned()
    } else {
        singular(collection)
    };
    if namespace.is_empty() || namespace.iter().any(|segment| segment.starts_with('{')) {
        collection
    } else {
        format!("{}.{collection}", namespace.join("."))
    }
}

/// A plural path segment made singular (`entries` → `entry`, `coupons` → `coupon`).
fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = word
        .strip_suffix("sses")
        .or_else(|| word.strip_suffix("xes"))
        .or_else(|| word.strip_suffix("ches"))
    {
        format!("{stem}{}", &word[stem.len()..word.len() - 2])
    } else if let Some(stem) = word.strip_suffix('s').filter(|stem| !stem.ends_with('s')) {
        stem.to_owned()
    } else {
        word.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(template: &str, expect: &str) {
        let segments: Vec<&str> = template.split('/').collect();
        let position = segments
            .iter()
            .position(|segment| segment.starts_with('{'))
            .unwrap_or(segments.len());
        assert_eq!(object_name(&segments, position), expect, "{template}");
    }

    #[test]
    fn object_names_read_like_stripe() {
        check("/v1/coupons/{coupon}", "coupon");
        check("/v1/checkout/sessions/{session}/expire", "checkout.session");
        check("/v1/issuing/cards/{card}", "issuing.card");
        check(
            "/v1/test_helpers/test_clocks/{test_clock}",
            "test_helpers.test_clock",
        );
        check("/v1/country_specs/{country}", "country_spec");
        check("/v1/tax/registrations/{id}", "tax.registration");
        check("/v1/invoiceitems/{invoiceitem}", "invoiceitem");
        check(
            "/v1/treasury/inbound_transfers/{id}",
            "treasury.inbound_transfer",
        );
        check("/v1/billing/meter_events", "billing.meter_event");
    }

    #[test]
    fn singular_handles_common_endings() {
        assert_eq!(singular("entries"), "entry");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("taxes"), "tax");
        assert_eq!(singular("batches"), "batch");
        assert_eq!(singular("balance"), "balance");
    }
}
