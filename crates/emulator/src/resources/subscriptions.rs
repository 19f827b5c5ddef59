//! Subscriptions and their items; creating one issues its first invoice.
//!
//! Creating a subscription stores it (`customer.subscription.created`, status `incomplete` or
//! `trialing`), issues its first invoice (`billing_reason: subscription_create`), finalizes it and,
//! for `charge_automatically`, pays it through the invoices' pay path, then settles the status:
//!
//! - trial (`trial_period_days` / `trial_end`): `trialing`; the first invoice is for 0 and is paid
//!   at finalization, nothing is charged;
//! - `send_invoice`: `active`, the invoice stays open;
//! - `payment_behavior=allow_incomplete` (the default, as on the API): `active` when the payment
//!   succeeds, `incomplete` when it fails (the invoice stays open, `invoice.payment_failed`);
//! - `error_if_incomplete`: the payment is attempted first; a failure is returned (402) and
//!   nothing is created;
//! - `default_incomplete`: `incomplete`, the finalized invoice is left open for the client to pay
//!   (this emulator creates no payment intent for it: `latest_invoice.payment_intent` is null).
//!
//! The period runs from now by the first price's `recurring.interval` × `interval_count`
//! (calendar months and years, clamped to the month's last day, as Stripe bills). Updates change
//! items, `cancel_at_period_end`, metadata and `default_payment_method` without prorations.
//! `DELETE` cancels at once (`customer.subscription.deleted`); lists hide canceled
//! subscriptions unless `status=canceled` or `status=all`.

use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error::{self, Lookup};
use serde_json::{Value, json};

use super::invoices::{self, DraftSpec, LineSource, int, set, text};
use super::params::Params;
use super::{Ctx, Kind, Outcome, Reply, coupons, customers, prices, products};
use crate::error::ApiError;

/// The `subscription` object type.
pub const KIND: Kind = Kind {
    object: "subscription",
    prefix: "sub_",
    id_len: 24,
    url: "/v1/subscriptions",
    events: Some("customer.subscription"),
};

/// The `subscription_item` object type.
pub const ITEM: Kind = Kind {
    object: "subscription_item",
    prefix: "si_",
    id_len: 14,
    url: "/v1/subscription_items",
    events: None,
};

/// The subscription a parameter names, or Stripe's 404 naming the parameter.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    Some(match (method, template) {
        (Method::Post, "/v1/subscriptions") => create(ctx),
        (Method::Get, "/v1/subscriptions") => list(ctx),
        (Method::Get, "/v1/subscriptions/{subscription_exposed_id}") => retrieve(ctx, id),
        (Method::Post, "/v1/subscriptions/{subscription_exposed_id}") => update(ctx, id),
        (Method::Delete, "/v1/subscriptions/{subscription_exposed_id}") => cancel(ctx, id),
        (Method::Get, "/v1/subscription_items") => list_items(ctx),
        (Method::Get, "/v1/subscription_items/{item}") => retrieve_item(ctx, id),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (no date crate in the emulator).

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `timestamp` plus `months` calendar months, the day clamped to the target month's length.
fn add_months(timestamp: i64, months: i64) -> i64 {
    let days = timestamp.div_euclid(86_400);
    let seconds = timestamp.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let index = year * 12 + (month - 1) + months;
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    let next_first = if month == 12 {
        days_from_civil(year + 1, 1, 1)
    } else {
        days_from_civil(year, month + 1, 1)
    };
    let length = next_first - days_from_civil(year, month, 1);
    days_from_civil(year, month, day.min(length)) * 86_400 + seconds
}

/// The end of a period starting at `start` for a price's `recurring`.
fn period_end(start: i64, recurring: &Value) -> i64 {
    let count = recurring
        .get("interval_count")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(1);
    match text(recurring, "interval") {
        Some("day") => start + count * 86_400,
        Some("week") => start + count * 7 * 86_400,
        Some("year") => add_months(start, 12 * count),
        _ => add_months(start, count),
    }
}

// ---------------------------------------------------------------------------------------------
// Building blocks.

/// The legacy `plan` view of a recurring price (integrations still read `subscription.plan`).
fn plan_of(price: &Value) -> Value {
    let recurring = price.get("recurring").cloned().unwrap_or(Value::Null);
    json!({
        "id": price.get("id"),
        "object": "plan",
        "active": price.get("active").cloned().unwrap_or(json!(true)),
        "aggregate_usage": null,
        "amount": price.get("unit_amount"),
        "amount_decimal": price.get("unit_amount_decimal"),
        "billing_scheme": price.get("billing_scheme").cloned().unwrap_or(json!("per_unit")),
        "created": price.get("created"),
        "currency": price.get("currency"),
        "interval": recurring.get("interval"),
        "interval_count": recurring.get("interval_count"),
        "livemode": price.get("livemode"),
        "metadata": price.get("metadata").cloned().unwrap_or(json!({})),
        "nickname": price.get("nickname"),
        "product": product_id(price),
        "tiers_mode": null,
        "transform_usage": null,
        "trial_period_days": null,
        "usage_type": "licensed",
    })
}

/// The product id of a price (`product` may be expanded).
fn product_id(price: &Value) -> Value {
    match price.get("product") {
        Some(Value::Object(product)) => product.get("id").cloned().unwrap_or(Value::Null),
        Some(other) => other.clone(),
        None => Value::Null,
    }
}

/// The product's name for line descriptions (its id when the product is not found).
fn product_name(ctx: &Ctx<'_>, price: &Value) -> String {
    let id = product_id(price);
    let id = id.as_str().unwrap_or_default();
    products::require(ctx, id, "product")
        .ok()
        .and_then(|product| text(&product, "name").map(str::to_owned))
        .unwrap_or_else(|| id.to_owned())
}

/// `$10.00` / `EUR 10.00` style amount, as Stripe writes it in line descriptions.
fn money(amount: i64, currency: &str) -> String {
    let units = format!("{}.{:02}", amount / 100, (amount % 100).abs());
    match currency {
        "usd" => format!("${units}"),
        other => format!("{} {units}", other.to_ascii_uppercase()),
    }
}

/// One requested item: the price, the quantity and the item's metadata.
struct Wanted {
    price: Value,
    quantity: i64,
    metadata: Value,
}

/// Reads `items[n][price]` / `items[n][quantity]` / `items[n][metadata]` (the price must exist
/// and be recurring).
fn wanted_item(ctx: &Ctx<'_>, index: usize, raw: &Value) -> Result<Wanted, ApiError> {
    let price_param = format!("items[{index}][price]");
    let price_id = match raw.get("price") {
        Some(Value::String(id)) if !id.is_empty() => id,
        Some(Value::String(_)) => {
            return Err(stripe_error::parameter_invalid_empty(&price_param).into());
        }
        _ => return Err(stripe_error::parameter_missing(&price_param).into()),
    };
    let price = prices::require(ctx, price_id, &price_param)?;
    if price.get("recurring").is_none_or(Value::is_null) {
        return Err(stripe_error::malformed_parameter(
            &price_param,
            "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`",
        )
        .into());
    }
    let quantity =
        invoices::quantity_of(raw.get("quantity"), &format!("items[{index}][quantity]"))?
            .unwrap_or(1);
    let metadata = match raw.get("metadata") {
        Some(Value::Object(map)) => Value::Object(map.clone()),
        _ => json!({}),
    };
    Ok(Wanted {
        price,
        quantity,
        metadata,
    })
}

/// A subscription item (`si_…`).
fn item_object(ctx: &Ctx<'_>, subscription: &str, wanted: &Wanted, period: (i64, i64)) -> Value {
    json!({
        "id": ctx.new_id(&ITEM),
        "object": ITEM.object,
        "billing_thresholds": null,
        "created": ctx.now(),
        "current_period_end": period.1,
        "current_period_start": period.0,
        "discounts": [],
        "metadata": wanted.metadata,
        "plan": plan_of(&wanted.price),
        "price": wanted.price,
        "quantity": wanted.quantity,
        "subscription": subscription,
        "tax_rates": [],
    })
}

/// The `items` list object of a subscription.
fn items_list(subscription: &str, items: &[Value]) -> Value {
    json!({
        "object": "list",
        "data": items,
        "has_more": false,
        "total_count": items.len(),
        "url": format!("/v1/subscription_items?subscription={subscription}"),
    })
}

/// The items of a subscription object.
fn items_of(subscription: &Value) -> Vec<Value> {
    subscription
        .get("items")
        .and_then(|items| items.get("data"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Sets `items` and the single-item conveniences `plan` and `quantity`.
fn set_items(subscription: &mut Value, items: Vec<Value>) {
    let id = text(subscription, "id").unwrap_or_default().to_owned();
    let (plan, quantity) = match items.as_slice() {
        [only] => (
            only.get("plan").cloned().unwrap_or(Value::Null),
            only.get("quantity").cloned().unwrap_or(Value::Null),
        ),
        _ => (Value::Null, Value::Null),
    };
    set(subscription, "items", items_list(&id, &items));
    set(subscription, "plan", plan);
    set(subscription, "quantity", quantity);
}

/// A discount object for a coupon applied to a subscription.
fn discount(ctx: &Ctx<'_>, coupon: Value, customer: &str, subscription: &str) -> Value {
    json!({
        "id": invoices::fresh_id(ctx, "di_", 24),
        "object": "discount",
        "checkout_session": null,
        "coupon": coupon,
        "customer": customer,
        "end": null,
        "invoice": null,
        "invoice_item": null,
        "promotion_code": null,
        "start": ctx.now(),
        "subscription": subscription,
    })
}

/// The lines of a subscription invoice: one per item, 0 during a trial.
fn invoice_lines(ctx: &Ctx<'_>, invoice_id: &str, subscription: &Value, trial: bool) -> Vec<Value> {
    let sub_id = subscription.get("id").cloned().unwrap_or(Value::Null);
    let period = json!({
        "start": subscription.get("current_period_start"),
        "end": subscription.get("current_period_end"),
    });
    items_of(subscription)
        .iter()
        .map(|item| {
            let price = item.get("price").cloned().unwrap_or(Value::Null);
            let quantity = int(item, "quantity");
            let unit = int(&price, "unit_amount");
            let currency = text(&price, "currency").unwrap_or("usd").to_owned();
            let name = product_name(ctx, &price);
            let interval = price
                .get("recurring")
                .and_then(|recurring| text(recurring, "interval"))
                .unwrap_or("month")
                .to_owned();
            let description = if trial {
                format!("Trial period for {name}")
            } else {
                format!(
                    "{quantity} × {name} (at {} / {interval})",
                    money(unit, &currency)
                )
            };
            invoices::line(
                ctx,
                invoice_id,
                None,
                LineSource {
                    kind: "subscription",
                    amount: if trial { 0 } else { unit * quantity },
                    currency: &currency,
                    description: json!(description),
                    price,
                    quantity,
                    period: period.clone(),
                    subscription: sub_id.clone(),
                    subscription_item: item.get("id").cloned().unwrap_or(Value::Null),
                    invoice_item: Value::Null,
                    metadata: item.get("metadata").cloned().unwrap_or_else(|| json!({})),
                },
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Endpoints.

const CREATE_PARAMS: [&str; 17] = [
    "customer",
    "items",
    "default_payment_method",
    "trial_period_days",
    "trial_end",
    "collection_method",
    "days_until_due",
    "coupon",
    "metadata",
    "payment_behavior",
    "description",
    "cancel_at_period_end",
    "proration_behavior",
    "off_session",
    "payment_settings",
    "currency",
    "automatic_tax",
];

/// `trial_end` (a timestamp or `now`) or `trial_period_days`; `None` for no trial.
fn trial_end(params: &Params<'_>, now: i64) -> Result<Option<i64>, ApiError> {
    if let Some(days) = params.integer("trial_period_days")? {
        if days < 0 {
            return Err(stripe_error::malformed_parameter(
                "trial_period_days",
                "must be greater than or equal to 0",
            )
            .into());
        }
        return Ok((days > 0).then_some(now + days * 86_400));
    }
    match params.string("trial_end")? {
        None | Some("now") => Ok(None),
        Some(raw) => match raw.parse::<i64>() {
            Ok(end) if end > now => Ok(Some(end)),
            Ok(_) => Err(stripe_error::malformed_parameter(
                "trial_end",
                "Invalid timestamp: must be an integer Unix timestamp in the future",
            )
            .into()),
            Err(_) => Err(stripe_error::invalid_integer("trial_end", raw).into()),
        },
    }
}

/// `POST /v1/subscriptions`.
fn create(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&CREATE_PARAMS)?;
    let customer_id = params.required_string("customer")?;
    let customer = customers::require(ctx, customer_id, "customer")?;
    let raw_items = params
        .array("items")?
        .filter(|items| !items.is_empty())
        .ok_or_else(|| ApiError::from(stripe_error::parameter_missing("items")))?;
    let mut wanted = Vec::new();
    for (index, raw) in raw_items.iter().enumerate() {
        let item = wanted_item(ctx, index, raw)?;
        if let Some(first) = wanted.first().map(|first: &Wanted| &first.price)
            && first.get("currency") != item.price.get("currency")
        {
            return Err(stripe_error::malformed_parameter(
                &format!("items[{index}][price]"),
                "All prices on a subscription must have the same currency",
            )
            .into());
        }
        wanted.push(item);
    }
    let collection_method = match params.string("collection_method")? {
        None => "charge_automatically",
        Some(method @ ("charge_automatically" | "send_invoice")) => method,
        Some(_) => {
            return Err(stripe_error::malformed_parameter(
                "collection_method",
                "must be one of charge_automatically, send_invoice",
            )
            .into());
        }
    };
    let days_until_due = params.integer("days_until_due")?;
    if collection_method == "send_invoice" && days_until_due.is_none() {
        return Err(stripe_error::parameter_missing("days_until_due").into());
    }
    let behavior = params
        .string("payment_behavior")?
        .unwrap_or("allow_incomplete");
    if !matches!(
        behavior,
        "allow_incomplete" | "default_incomplete" | "error_if_incomplete" | "pending_if_incomplete"
    ) {
        return Err(stripe_error::malformed_parameter(
            "payment_behavior",
            "must be one of allow_incomplete, default_incomplete, error_if_incomplete, pending_if_incomplete",
        )
        .into());
    }
    let coupon = match params.string("coupon")?.filter(|id| !id.is_empty()) {
        Some(id) => Some(coupons::require(ctx, id, "coupon")?),
        None => None,
    };
    let default_payment_method = params
        .string("default_payment_method")?
        .filter(|pm| !pm.is_empty());
    let now = ctx.now();
    let trial_end = trial_end(&params, now)?;
    let first_recurring = wanted
        .first()
        .and_then(|item| item.price.get("recurring"))
        .cloned()
        .unwrap_or(Value::Null);
    let period = (
        now,
        trial_end.unwrap_or_else(|| period_end(now, &first_recurring)),
    );
    let currency = wanted
        .first()
        .and_then(|item| item.price.get("currency"))
        .cloned()
        .unwrap_or(json!("usd"));

    let id = ctx.new_id(&KIND);
    let items: Vec<Value> = wanted
        .iter()
        .map(|item| item_object(ctx, &id, item, period))
        .collect();
    let discount = coupon.map_or(Value::Null, |coupon| {
        discount(ctx, coupon, customer_id, &id)
    });
    let invoice_id = ctx.new_id(&invoices::KIND);
    let mut subscription = json!({
        "id": id,
        "object": KIND.object,
        "application": null,
        "application_fee_percent": null,
        "automatic_tax": { "enabled": false, "liability": null },
        "billing_cycle_anchor": period.1.min(trial_end.unwrap_or(now)),
        "billing_thresholds": null,
        "cancel_at": null,
        "cancel_at_period_end": false,
        "canceled_at": null,
        "cancellation_details": { "comment": null, "feedback": null, "reason": null },
        "collection_method": collection_method,
        "created": now,
        "currency": currency,
        "current_period_end": period.1,
        "current_period_start": period.0,
        "customer": customer_id,
        "days_until_due": days_until_due,
        "default_payment_method": default_payment_method,
        "default_source": null,
        "default_tax_rates": [],
        "description": null,
    });
    let rest = json!({
        "discount": discount,
        "discounts": [],
        "ended_at": null,
        "latest_invoice": invoice_id,
        "livemode": ctx.livemode(),
        "metadata": {},
        "next_pending_invoice_item_invoice": null,
        "on_behalf_of": null,
        "pause_collection": null,
        "payment_settings": { "payment_method_options": null, "payment_method_types": null, "save_default_payment_method": "off" },
        "pending_invoice_item_interval": null,
        "pending_setup_intent": null,
        "pending_update": null,
        "schedule": null,
        "start_date": now,
        "status": if trial_end.is_some() { "trialing" } else { "incomplete" },
        "test_clock": null,
        "transfer_data": null,
        "trial_end": trial_end,
        "trial_settings": { "end_behavior": { "missing_payment_method": "create_invoice" } },
        "trial_start": trial_end.map(|_| now),
    });
    if let (Some(map), Value::Object(rest)) = (subscription.as_object_mut(), rest) {
        map.extend(rest);
    }
    if let Some(object) = subscription.as_object_mut() {
        params.apply_strings(object, &["description"])?;
        params.apply_metadata(object)?;
    }
    if let Some(discount_id) = subscription["discount"].get("id").cloned() {
        set(&mut subscription, "discounts", json!([discount_id]));
    }
    if params.boolean("cancel_at_period_end")? == Some(true) {
        set(&mut subscription, "cancel_at_period_end", json!(true));
        set(&mut subscription, "cancel_at", json!(period.1));
    }
    set_items(&mut subscription, items.clone());

    let mut invoice = invoices::draft(
        ctx,
        &customer,
        DraftSpec {
            id: invoice_id.clone(),
            collection_method,
            days_until_due,
            auto_advance: true,
            billing_reason: "subscription_create",
            subscription: json!(id),
            discount: subscription.get("discount").cloned().unwrap_or(Value::Null),
            period_start: now,
            period_end: now,
        },
    );
    invoices::set_lines(
        &mut invoice,
        invoice_lines(ctx, &invoice_id, &subscription, trial_end.is_some()),
    );
    let charges = collection_method == "charge_automatically"
        && trial_end.is_none()
        && int(&invoice, "amount_due") > 0;
    // error_if_incomplete: pay first, so that a decline leaves nothing behind.
    let prepaid = if charges && behavior == "error_if_incomplete" {
        Some(invoices::charge(ctx, &invoice, default_payment_method)?)
    } else {
        None
    };

    let stored = ctx.insert(&KIND, subscription);
    for item in items {
        ctx.insert(&ITEM, item);
    }
    let invoice = ctx.insert(&invoices::KIND, invoice);
    let invoice = invoices::finalize(ctx, &invoice);
    let status = if text(&invoice, "status") == Some("paid") {
        if trial_end.is_some() {
            "trialing"
        } else {
            "active"
        }
    } else if !charges {
        "active"
    } else if let Some(payment) = prepaid {
        let (_, result) = invoices::settle(ctx, &invoice, Ok(payment));
        if result.is_ok() {
            "active"
        } else {
            "incomplete"
        }
    } else if behavior == "default_incomplete" {
        "incomplete"
    } else {
        let attempt = invoices::charge(ctx, &invoice, None);
        let (_, result) = invoices::settle(ctx, &invoice, attempt);
        if result.is_ok() {
            "active"
        } else {
            "incomplete"
        }
    };
    if text(&stored, "status") == Some(status) {
        return Ok(Reply::ok(stored));
    }
    let mut after = stored.clone();
    set(&mut after, "status", json!(status));
    Ok(Reply::ok(ctx.update(&KIND, &stored, after)))
}

/// `GET /v1/subscriptions/{subscription_exposed_id}`.
fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.retrieve(&KIND, id)
}

/// `POST /v1/subscriptions/{subscription_exposed_id}`: items (price, quantity, new, deleted),
/// `cancel_at_period_end`, metadata, `default_payment_method`, description, coupon. No
/// prorations are invoiced.
fn update(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let before = ctx.require(&KIND, id, "id", Lookup::Path)?;
    let params = ctx.params(&[
        "items",
        "cancel_at_period_end",
        "metadata",
        "default_payment_method",
        "description",
        "coupon",
        "proration_behavior",
        "payment_behavior",
        "days_until_due",
        "off_session",
        "payment_settings",
        "trial_end",
        "cancellation_details",
    ])?;
    let canceled = matches!(
        text(&before, "status"),
        Some("canceled" | "incomplete_expired")
    );
    if canceled
        && params.map().keys().any(|name| {
            !matches!(
                name.as_str(),
                "metadata" | "cancellation_details" | "expand"
            )
        })
    {
        return Err(invoices::invalid_state(
            "resource_invalid_state",
            "A canceled subscription can only update its cancellation_details and metadata.",
        ));
    }
    let mut after = before.clone();
    if let Some(raw_items) = params.array("items")? {
        let period = (
            int(&before, "current_period_start"),
            int(&before, "current_period_end"),
        );
        let mut items = items_of(&before);
        for (index, raw) in raw_items.iter().enumerate() {
            match raw.get("id").and_then(Value::as_str) {
                Some(item_id) => {
                    let param = format!("items[{index}][id]");
                    let Some(position) = items
                        .iter()
                        .position(|item| text(item, "id") == Some(item_id))
                    else {
                        return Err(stripe_error::resource_missing(
                            ITEM.object,
                            item_id,
                            &param,
                            Lookup::Parameter,
                        )
                        .into());
                    };
                    if raw.get("deleted").and_then(Value::as_str) == Some("true") {
                        items.remove(position);
                        continue;
                    }
                    let Some(item) = items.get_mut(position) else {
                        continue;
                    };
                    if let Some(price_id) = raw.get("price").and_then(Value::as_str) {
                        let price =
                            prices::require(ctx, price_id, &format!("items[{index}][price]"))?;
                        set(item, "plan", plan_of(&price));
                        set(item, "price", price);
                    }
                    if let Some(quantity) = invoices::quantity_of(
                        raw.get("quantity"),
                        &format!("items[{index}][quantity]"),
                    )? {
                        set(item, "quantity", json!(quantity));
                    }
                    if let Some(Value::Object(metadata)) = raw.get("metadata") {
                        set(item, "metadata", Value::Object(metadata.clone()));
                    }
                }
                None => {
                    let wanted = wanted_item(ctx, index, raw)?;
                    items.push(item_object(ctx, id, &wanted, period));
                }
            }
        }
        if items.is_empty() {
            return Err(stripe_error::malformed_parameter(
                "items",
                "A subscription must have at least one active plan",
            )
            .into());
        }
        for item in &items {
            replace_or_insert_item(ctx, item);
        }
        for old in items_of(&before) {
            if !items.iter().any(|item| item.get("id") == old.get("id"))
                && let Some(old_id) = text(&old, "id")
            {
                ctx.delete(&ITEM, old_id);
            }
        }
        set_items(&mut after, items);
    }
    if let Some(cancel) = params.boolean("cancel_at_period_end")? {
        set(&mut after, "cancel_at_period_end", json!(cancel));
        let cancel_at = if cancel {
            json!(int(&before, "current_period_end"))
        } else {
            Value::Null
        };
        set(&mut after, "cancel_at", cancel_at);
    }
    if let Some(days) = params.integer("days_until_due")? {
        set(&mut after, "days_until_due", json!(days));
    }
    if let Some(coupon) = params.string("coupon")? {
        let customer = text(&before, "customer").unwrap_or_default().to_owned();
        let discount = if coupon.is_empty() {
            Value::Null
        } else {
            discount(ctx, coupons::require(ctx, coupon, "coupon")?, &customer, id)
        };
        set(&mut after, "discount", discount);
    }
    if let Some(object) = after.as_object_mut() {
        params.apply_strings(object, &["description", "default_payment_method"])?;
        params.apply_metadata(object)?;
    }
    Ok(Reply::ok(ctx.update(&KIND, &before, after)))
}

/// Stores a subscription item, new or changed.
fn replace_or_insert_item(ctx: &Ctx<'_>, item: &Value) {
    let id = text(item, "id").unwrap_or_default();
    if ctx.require(&ITEM, id, "id", Lookup::Path).is_ok() {
        invoices::replace_quietly(ctx, &ITEM, item);
    } else {
        ctx.insert(&ITEM, item.clone());
    }
}

/// `DELETE /v1/subscriptions/{subscription_exposed_id}`: cancels at once.
fn cancel(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let params = ctx.params(&["invoice_now", "prorate", "cancellation_details"])?;
    let before = ctx.require(&KIND, id, "id", Lookup::Path)?;
    if text(&before, "status") == Some("canceled") {
        return Err(stripe_error::resource_missing(KIND.object, id, "id", Lookup::Path).into());
    }
    let now = ctx.now();
    let mut after = before.clone();
    set(&mut after, "status", json!("canceled"));
    set(&mut after, "canceled_at", json!(now));
    set(&mut after, "ended_at", json!(now));
    let mut details =
        json!({ "comment": null, "feedback": null, "reason": "cancellation_requested" });
    if let Some(given) = params.hash("cancellation_details")? {
        for field in ["comment", "feedback"] {
            if let Some(value) = given.get(field) {
                set(&mut details, field, value.clone());
            }
        }
    }
    set(&mut after, "cancellation_details", details);
    invoices::replace_quietly(ctx, &KIND, &after);
    ctx.event("customer.subscription.deleted", &after);
    Ok(Reply::ok(after))
}

/// `GET /v1/subscriptions`: canceled ones only with `status=canceled` or `status=all`.
fn list(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "limit",
        "starting_after",
        "ending_before",
        "customer",
        "price",
        "plan",
        "status",
        "collection_method",
        "created",
        "current_period_start",
        "current_period_end",
        "test_clock",
    ])?;
    let customer = params.string("customer")?;
    let price = params.string("price")?.or(params.string("plan")?);
    let status = params.string("status")?;
    let method = params.string("collection_method")?;
    ctx.list(&KIND, &params, |subscription| {
        let current = text(subscription, "status").unwrap_or_default();
        let status_ok = match status {
            None => !matches!(current, "canceled" | "incomplete_expired"),
            Some("all") => true,
            Some(wanted) => current == wanted,
        };
        status_ok
            && customer.is_none_or(|wanted| text(subscription, "customer") == Some(wanted))
            && method.is_none_or(|wanted| text(subscription, "collection_method") == Some(wanted))
            && price.is_none_or(|wanted| {
                items_of(subscription).iter().any(|item| {
                    item.get("price").and_then(|price| text(price, "id")) == Some(wanted)
                })
            })
    })
}

/// `GET /v1/subscription_items?subscription=…`.
fn list_items(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&["limit", "starting_after", "ending_before", "subscription"])?;
    let subscription = params.required_string("subscription")?;
    require(ctx, subscription, "subscription")?;
    ctx.list(&ITEM, &params, |item| {
        text(item, "subscription") == Some(subscription)
    })
}

/// `GET /v1/subscription_items/{item}`.
fn retrieve_item(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.retrieve(&ITEM, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_clamp_to_the_last_day() {
        // 2024-01-31 00:00:00 UTC → 2024-02-29.
        let jan31 = days_from_civil(2024, 1, 31) * 86_400;
        assert_eq!(add_months(jan31, 1), days_from_civil(2024, 2, 29) * 86_400);
        assert_eq!(add_months(jan31, 12), days_from_civil(2025, 1, 31) * 86_400);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(
            period_end(100, &json!({"interval": "week", "interval_count": 2})),
            100 + 14 * 86_400
        );
    }
}
