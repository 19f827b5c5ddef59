//! Checkout Sessions: create, retrieve, update (metadata), list, expire, line items.
//!
//! Ids are `cs_test_` or `cs_live_` (by the key's mode) and 58 letters and digits, as Stripe's.
//! A session starts `open` / `unpaid` with a `url` and expires after 24 hours unless
//! `expires_at` says otherwise (30 minutes to 24 hours). Nothing completes a session here: the
//! payment page is not emulated, so `payment_intent` and `subscription` stay null (Stripe too
//! creates them only when the customer pays, since API version 2022-08-01).
//!
//! Line items are kept beside the session (object type `item`, ids `li_…`) and served by
//! `GET /v1/checkout/sessions/{session}/line_items`; the session itself does not embed them.

use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error::{self, Lookup};
use serde_json::{Value, json};

use super::invoices::{self, int, set, text};
use super::{Ctx, Kind, Outcome, Reply, customers, prices, products};
use crate::error::ApiError;

/// The `checkout.session` object type.
pub const KIND: Kind = Kind {
    object: "checkout.session",
    prefix: "cs_",
    id_len: 58,
    url: "/v1/checkout/sessions",
    events: Some("checkout.session"),
};

/// Where a session's line items are kept: one object per session, named by the session's id.
const LINE_ITEMS: Kind = Kind {
    object: "checkout.session.line_items",
    prefix: "cs_",
    id_len: 58,
    url: "/v1/checkout/sessions",
    events: None,
};

/// The checkout.session a parameter names, or Stripe's 404 naming the parameter.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    Some(match (method, template) {
        (Method::Post, "/v1/checkout/sessions") => create(ctx),
        (Method::Get, "/v1/checkout/sessions") => list(ctx),
        (Method::Get, "/v1/checkout/sessions/{session}") => retrieve(ctx, id),
        (Method::Post, "/v1/checkout/sessions/{session}") => update(ctx, id),
        (Method::Post, "/v1/checkout/sessions/{session}/expire") => expire(ctx, id),
        (Method::Get, "/v1/checkout/sessions/{session}/line_items") => line_items(ctx, id),
        _ => return None,
    })
}

const CREATE_PARAMS: [&str; 27] = [
    "mode",
    "success_url",
    "cancel_url",
    "return_url",
    "ui_mode",
    "line_items",
    "customer",
    "customer_email",
    "customer_creation",
    "client_reference_id",
    "metadata",
    "expires_at",
    "payment_method_types",
    "allow_promotion_codes",
    "billing_address_collection",
    "locale",
    "submit_type",
    "currency",
    "payment_intent_data",
    "subscription_data",
    "setup_intent_data",
    "discounts",
    "automatic_tax",
    "phone_number_collection",
    "shipping_address_collection",
    "tax_id_collection",
    "consent_collection",
];

/// One line: the price (stored or inline from `price_data`) and the quantity.
fn resolve_line(
    ctx: &Ctx<'_>,
    index: usize,
    raw: &Value,
    mode: &str,
) -> Result<(Value, i64), ApiError> {
    let base = format!("line_items[{index}]");
    let price = if let Some(price_id) = raw.get("price").and_then(Value::as_str) {
        prices::require(ctx, price_id, &format!("{base}[price]"))?
    } else if let Some(data) = raw.get("price_data") {
        inline_price(ctx, &base, data)?
    } else {
        return Err(stripe_error::parameter_missing(&format!("{base}[price]")).into());
    };
    let quantity = invoices::quantity_of(raw.get("quantity"), &format!("{base}[quantity]"))?
        .ok_or_else(|| stripe_error::parameter_missing(&format!("{base}[quantity]")))?;
    let recurring = price.get("recurring").is_some_and(|r| !r.is_null());
    if mode == "payment" && recurring {
        return Err(stripe_error::malformed_parameter(
            &format!("{base}[price]"),
            "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices",
        )
        .into());
    }
    Ok((price, quantity))
}

/// An inline price from `line_items[n][price_data]` (not stored, as on Stripe).
fn inline_price(ctx: &Ctx<'_>, base: &str, data: &Value) -> Result<Value, ApiError> {
    let param = |field: &str| format!("{base}[price_data][{field}]");
    let currency = data
        .get("currency")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| stripe_error::parameter_missing(&param("currency")))?;
    let unit_amount = match data.get("unit_amount") {
        Some(Value::String(raw)) => raw
            .parse::<i64>()
            .map_err(|_| stripe_error::invalid_integer(&param("unit_amount"), raw))?,
        _ => return Err(stripe_error::parameter_missing(&param("unit_amount")).into()),
    };
    let product = if let Some(product) = data.get("product").and_then(Value::as_str) {
        let product = products::require(ctx, product, &param("product"))?;
        product.get("id").cloned().unwrap_or(Value::Null)
    } else if let Some(name) = data
        .get("product_data")
        .and_then(|product| product.get("name"))
        .and_then(Value::as_str)
    {
        json!({ "id": invoices::fresh_id(ctx, "prod_", 14), "object": "product", "name": name })
    } else {
        return Err(stripe_error::parameter_missing(&param("product")).into());
    };
    let recurring = match data.get("recurring") {
        Some(Value::Object(recurring)) => {
            let count = recurring
                .get("interval_count")
                .and_then(Value::as_str)
                .and_then(|raw| raw.parse::<i64>().ok())
                .unwrap_or(1);
            json!({
                "aggregate_usage": null,
                "interval": recurring.get("interval"),
                "interval_count": count,
                "usage_type": "licensed",
            })
        }
        _ => Value::Null,
    };
    Ok(json!({
        "id": invoices::fresh_id(ctx, "price_", 24),
        "object": "price",
        "active": false,
        "billing_scheme": "per_unit",
        "created": ctx.now(),
        "currency": currency.to_ascii_lowercase(),
        "livemode": ctx.livemode(),
        "lookup_key": null,
        "metadata": {},
        "nickname": null,
        "product": product,
        "recurring": recurring,
        "tax_behavior": "unspecified",
        "type": if recurring.is_null() { "one_time" } else { "recurring" },
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount.to_string(),
    }))
}

/// The name a line item shows: the product's name.
fn description(ctx: &Ctx<'_>, price: &Value) -> Value {
    match price.get("product") {
        Some(Value::Object(product)) => product.get("name").cloned().unwrap_or(Value::Null),
        Some(Value::String(id)) => products::require(ctx, id, "product")
            .ok()
            .and_then(|product| product.get("name").cloned())
            .unwrap_or_else(|| json!(id)),
        _ => Value::Null,
    }
}

/// `POST /v1/checkout/sessions`.
fn create(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&CREATE_PARAMS)?;
    let mode = params.required_string("mode")?;
    if !matches!(mode, "payment" | "subscription" | "setup") {
        return Err(stripe_error::malformed_parameter(
            "mode",
            "must be one of payment, setup, subscription",
        )
        .into());
    }
    let ui_mode = params.string("ui_mode")?.unwrap_or("hosted");
    let (success_url, return_url) = if ui_mode == "embedded" {
        (None, Some(params.required_string("return_url")?))
    } else {
        (Some(params.required_string("success_url")?), None)
    };
    let customer = match params.string("customer")?.filter(|id| !id.is_empty()) {
        Some(id) => Some(customers::require(ctx, id, "customer")?),
        None => None,
    };
    let customer_email = params.string("customer_email")?.filter(|e| !e.is_empty());
    if customer.is_some() && customer_email.is_some() {
        return Err(stripe_error::malformed_parameter(
            "customer_email",
            "You may only specify one of these parameters: customer, customer_email",
        )
        .into());
    }
    let raw_lines = params.array("line_items")?.unwrap_or_default();
    if mode != "setup" && raw_lines.is_empty() {
        return Err(stripe_error::parameter_missing("line_items").into());
    }
    let mut lines = Vec::new();
    for (index, raw) in raw_lines.iter().enumerate() {
        lines.push(resolve_line(ctx, index, raw, mode)?);
    }
    if mode == "subscription"
        && !lines
            .iter()
            .any(|(price, _)| price.get("recurring").is_some_and(|r| !r.is_null()))
    {
        return Err(stripe_error::malformed_parameter(
            "line_items",
            "You must provide at least one recurring price in `subscription` mode when using prices",
        )
        .into());
    }
    let now = ctx.now();
    let expires_at = match params.integer("expires_at")? {
        None => now + 86_400,
        Some(at) if at >= now + 1_800 && at <= now + 86_400 => at,
        Some(_) => {
            return Err(stripe_error::malformed_parameter(
                "expires_at",
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation",
            )
            .into());
        }
    };
    let currency = lines
        .first()
        .and_then(|(price, _)| price.get("currency"))
        .cloned()
        .or_else(|| params.get("currency").cloned())
        .unwrap_or(Value::Null);
    let prefix = if ctx.livemode() {
        "cs_live_"
    } else {
        "cs_test_"
    };
    let id = invoices::fresh_id(ctx, prefix, KIND.id_len);
    let items: Vec<Value> = lines
        .iter()
        .map(|(price, quantity)| {
            let amount = int(price, "unit_amount") * quantity;
            json!({
                "id": invoices::fresh_id(ctx, "li_", 24),
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": amount,
                "amount_tax": 0,
                "amount_total": amount,
                "currency": price.get("currency"),
                "description": description(ctx, price),
                "price": price,
                "quantity": quantity,
            })
        })
        .collect();
    let total: i64 = items.iter().map(|item| int(item, "amount_total")).sum();
    let amounts = if mode == "setup" {
        (Value::Null, Value::Null)
    } else {
        (json!(total), json!(total))
    };
    let payment_method_types = match params.array("payment_method_types")? {
        Some(types) => Value::Array(types.into_iter().cloned().collect()),
        None => json!(["card"]),
    };
    let mut session = json!({
        "id": id,
        "object": KIND.object,
        "after_expiration": null,
        "allow_promotion_codes": params.boolean("allow_promotion_codes")?,
        "amount_subtotal": amounts.0,
        "amount_total": amounts.1,
        "automatic_tax": { "enabled": false, "liability": null, "status": null },
        "billing_address_collection": params.string("billing_address_collection")?,
        "cancel_url": params.string("cancel_url")?,
        "client_reference_id": params.string("client_reference_id")?,
        "client_secret": null,
        "consent": null,
        "consent_collection": null,
        "created": now,
        "currency": currency,
        "custom_fields": [],
        "custom_text": { "after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null },
        "customer": customer.as_ref().and_then(|c| c.get("id")).cloned(),
        "customer_creation": if customer.is_none() && mode == "payment" { json!("if_required") } else { Value::Null },
        "customer_details": null,
        "customer_email": customer_email,
        "expires_at": expires_at,
        "invoice": null,
        "invoice_creation": null,
        "livemode": ctx.livemode(),
        "locale": params.string("locale")?,
        "metadata": {},
    });
    let rest = json!({
        "mode": mode,
        "payment_intent": null,
        "payment_link": null,
        "payment_method_collection": if mode == "subscription" { json!("always") } else { Value::Null },
        "payment_method_options": {},
        "payment_method_types": payment_method_types,
        "payment_status": if mode == "setup" { "no_payment_required" } else { "unpaid" },
        "phone_number_collection": { "enabled": false },
        "recovered_from": null,
        "return_url": return_url,
        "setup_intent": null,
        "shipping_address_collection": null,
        "shipping_cost": null,
        "shipping_details": null,
        "shipping_options": [],
        "status": "open",
        "submit_type": params.string("submit_type")?,
        "subscription": null,
        "success_url": success_url,
        "total_details": { "amount_discount": 0, "amount_shipping": 0, "amount_tax": 0 },
        "ui_mode": ui_mode,
        "url": if ui_mode == "embedded" { Value::Null } else { json!(format!("https://checkout.stripe.com/c/pay/{id}")) },
    });
    if let (Some(map), Value::Object(rest)) = (session.as_object_mut(), rest) {
        map.extend(rest);
    }
    if ui_mode == "embedded" {
        set(
            &mut session,
            "client_secret",
            json!(format!("{id}_secret_{}", ctx.state.write().ids.id("", 24))),
        );
    }
    if let Some(object) = session.as_object_mut() {
        params.apply_metadata(object)?;
    }
    ctx.state.write().objects.insert(
        ctx.account,
        ctx.mode,
        LINE_ITEMS.object,
        json!({ "id": id, "data": items }),
    );
    Ok(Reply::ok(ctx.insert(&KIND, session)))
}

/// `GET /v1/checkout/sessions/{session}`.
fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.retrieve(&KIND, id)
}

/// `POST /v1/checkout/sessions/{session}`: metadata only.
fn update(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let before = ctx.require(&KIND, id, "id", Lookup::Path)?;
    let params = ctx.params(&["metadata"])?;
    let mut after = before.clone();
    if let Some(object) = after.as_object_mut() {
        params.apply_metadata(object)?;
    }
    // Stripe has no `checkout.session.updated` event.
    invoices::replace_quietly(ctx, &KIND, &after);
    Ok(Reply::ok(after))
}

/// `POST /v1/checkout/sessions/{session}/expire`: open sessions only.
fn expire(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&[])?;
    let before = ctx.require(&KIND, id, "session", Lookup::Path)?;
    let status = text(&before, "status").unwrap_or_default();
    if status != "open" {
        return Err(invoices::invalid_state(
            "checkout_session_not_open",
            &format!(
                "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{status}\"."
            ),
        ));
    }
    let mut after = before.clone();
    set(&mut after, "status", json!("expired"));
    set(&mut after, "url", Value::Null);
    invoices::replace_quietly(ctx, &KIND, &after);
    ctx.event("checkout.session.expired", &after);
    Ok(Reply::ok(after))
}

/// `GET /v1/checkout/sessions`.
fn list(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "limit",
        "starting_after",
        "ending_before",
        "customer",
        "customer_details",
        "payment_intent",
        "payment_link",
        "subscription",
        "status",
        "created",
    ])?;
    ctx.list_by(
        &KIND,
        &params,
        &["customer", "payment_intent", "subscription", "status"],
    )
}

/// `GET /v1/checkout/sessions/{session}/line_items`.
fn line_items(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let params = ctx.params(&["limit", "starting_after", "ending_before"])?;
    ctx.require(&KIND, id, "session", Lookup::Path)?;
    let items = match ctx.find(&LINE_ITEMS, id) {
        crate::store::Found::Here(stored) => stored
            .get("data")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    invoices::page_of(
        &params,
        &items,
        &format!("/v1/checkout/sessions/{id}/line_items"),
        "item",
    )
}
