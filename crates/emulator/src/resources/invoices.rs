//! Invoices: draft, finalize, pay, void, mark uncollectible, send; their lines.
//!
//! Status machine (Stripe's): `draft` → `open` (finalize, which numbers the invoice) → `paid`
//! (pay) / `void` / `uncollectible`; an uncollectible invoice can still be paid or voided. An
//! invoice whose amount due is zero is paid the moment it is finalized, as on Stripe. Paying a
//! draft finalizes it first.
//!
//! `POST /v1/invoices` sweeps the customer's pending invoice items (`invoice: null`) into the new
//! draft: Stripe's `pending_invoice_items_behavior=include`, the default of the API versions this
//! emulator follows (`exclude` is honoured when sent).
//!
//! Paying charges through [`super::payment_intents::pay`] with, in order: the `payment_method`
//! parameter, the invoice's `default_payment_method`, its subscription's, the customer's
//! `invoice_settings.default_payment_method`, the customer's `default_source`.
//!
//! Wrong-state transitions are 400s rendered by `stripe_error::malformed_parameter` (the catalogue
//! has no invoice-state renderer), naming the `invoice` and carrying Stripe's sentence.
//!
//! The helpers marked `pub(crate)` are shared with invoice items, subscriptions and Checkout.

use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error::{self, Lookup};
use serde_json::{Value, json};

use super::params::Params;
use super::{Ctx, Kind, Outcome, Reply, customers, invoice_items, subscriptions};
use crate::error::ApiError;

/// The `invoice` object type.
pub const KIND: Kind = Kind {
    object: "invoice",
    prefix: "in_",
    id_len: 24,
    url: "/v1/invoices",
    events: Some("invoice"),
};

/// Stripe's code for changes an invoice's status no longer allows (it replaced
/// `invoice_already_finalized` in 2018).
pub(crate) const NOT_EDITABLE: &str = "invoice_not_editable";

/// The invoice a parameter names, or Stripe's 404 naming the parameter.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    Some(match (method, template) {
        (Method::Post, "/v1/invoices") => create(ctx),
        (Method::Get, "/v1/invoices") => list(ctx),
        (Method::Get, "/v1/invoices/{invoice}") => retrieve(ctx, id),
        (Method::Post, "/v1/invoices/{invoice}") => update(ctx, id),
        (Method::Delete, "/v1/invoices/{invoice}") => delete(ctx, id),
        (Method::Get, "/v1/invoices/{invoice}/lines") => lines(ctx, id),
        (Method::Post, "/v1/invoices/{invoice}/finalize") => finalize_endpoint(ctx, id),
        (Method::Post, "/v1/invoices/{invoice}/pay") => pay_endpoint(ctx, id),
        (Method::Post, "/v1/invoices/{invoice}/void") => transition(ctx, id, Transition::Void),
        (Method::Post, "/v1/invoices/{invoice}/mark_uncollectible") => {
            transition(ctx, id, Transition::Uncollectible)
        }
        (Method::Post, "/v1/invoices/{invoice}/send") => transition(ctx, id, Transition::Send),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Shared helpers.

/// A string field of an object.
pub(crate) fn text<'v>(object: &'v Value, field: &str) -> Option<&'v str> {
    object.get(field).and_then(Value::as_str)
}

/// An integer field of an object (0 when absent).
pub(crate) fn int(object: &Value, field: &str) -> i64 {
    object.get(field).and_then(Value::as_i64).unwrap_or(0)
}

/// Sets a field of an object (no-op on non-objects).
pub(crate) fn set(object: &mut Value, field: &str, value: Value) {
    if let Some(map) = object.as_object_mut() {
        map.insert(field.to_owned(), value);
    }
}

/// Every stored object of `kind` in the request's account and mode, oldest first.
pub(crate) fn all_of(ctx: &Ctx<'_>, kind: &Kind) -> Vec<Value> {
    let data = ctx.state.read();
    let mut objects: Vec<Value> = data
        .objects
        .newest_first(ctx.account, ctx.mode, kind.object);
    objects.reverse();
    objects
}

/// Replaces a stored object without recording an event (the caller records the right one).
pub(crate) fn replace_quietly(ctx: &Ctx<'_>, kind: &Kind, object: &Value) {
    ctx.state
        .write()
        .objects
        .replace(ctx.account, ctx.mode, kind.object, object.clone());
}

/// A fresh object id with any prefix (line items, discounts, inline prices).
pub(crate) fn fresh_id(ctx: &Ctx<'_>, prefix: &str, len: usize) -> String {
    ctx.state.new_object_id(prefix, len)
}

/// A 400 for an operation the object's state does not allow: Stripe's `code` and sentence.
pub(crate) fn invalid_state(code: &str, message: &str) -> ApiError {
    stripe_error::invalid_state(code, message, None).into()
}

/// A positive integer parameter (`quantity`), or Stripe's "Invalid integer".
pub(crate) fn quantity_of(value: Option<&Value>, param: &str) -> Result<Option<i64>, ApiError> {
    match value {
        None => Ok(None),
        Some(Value::String(raw)) => match raw.parse::<i64>() {
            Ok(quantity) if quantity >= 0 => Ok(Some(quantity)),
            Ok(_) => Err(stripe_error::malformed_parameter(
                param,
                "This value must be greater than or equal to 0",
            )
            .into()),
            Err(_) => Err(stripe_error::invalid_integer(param, raw).into()),
        },
        Some(other) => Err(stripe_error::invalid_integer(param, &other.to_string()).into()),
    }
}

/// A page of an in-memory list (invoice lines, Checkout line items) with Stripe's `limit`,
/// `starting_after`, `ending_before` and `has_more`.
pub(crate) fn page_of(params: &Params<'_>, items: &[Value], url: &str, object: &str) -> Outcome {
    let limit = params.limit()?;
    let starting_after = params.cursor("starting_after")?;
    let ending_before = params.cursor("ending_before")?;
    let position = |id: &str, param: &str| -> Result<usize, ApiError> {
        items
            .iter()
            .position(|item| text(item, "id") == Some(id))
            .ok_or_else(|| {
                stripe_error::resource_missing(object, id, param, Lookup::Parameter).into()
            })
    };
    let (start, end) = if let Some(id) = starting_after {
        let start = position(id, "starting_after")? + 1;
        (start, (start + limit).min(items.len()))
    } else if let Some(id) = ending_before {
        let end = position(id, "ending_before")?;
        (end.saturating_sub(limit), end)
    } else {
        (0, limit.min(items.len()))
    };
    let has_more = if ending_before.is_some() {
        start > 0
    } else {
        end < items.len()
    };
    Ok(Reply::ok(json!({
        "object": "list",
        "data": items.get(start..end).unwrap_or_default(),
        "has_more": has_more,
        "total_count": items.len(),
        "url": url,
    })))
}

/// What one invoice line is for.
pub(crate) struct LineSource<'a> {
    /// `invoiceitem` or `subscription`.
    pub kind: &'a str,
    /// The amount of the line.
    pub amount: i64,
    /// Its currency.
    pub currency: &'a str,
    /// Its description.
    pub description: Value,
    /// The price object, or null.
    pub price: Value,
    /// The quantity.
    pub quantity: i64,
    /// `{start, end}`.
    pub period: Value,
    /// The subscription id, or null.
    pub subscription: Value,
    /// The subscription item id, or null.
    pub subscription_item: Value,
    /// The invoice item id, or null.
    pub invoice_item: Value,
    /// Metadata copied to the line.
    pub metadata: Value,
}

/// An invoice line item (`il_…`).
pub(crate) fn line(
    ctx: &Ctx<'_>,
    invoice: &str,
    id: Option<String>,
    source: LineSource<'_>,
) -> Value {
    let id = id.unwrap_or_else(|| fresh_id(ctx, "il_", 24));
    let unit = if source.quantity > 0 {
        source.amount / source.quantity
    } else {
        0
    };
    json!({
        "id": id,
        "object": "line_item",
        "amount": source.amount,
        "amount_excluding_tax": source.amount,
        "currency": source.currency,
        "description": source.description,
        "discount_amounts": [],
        "discountable": true,
        "discounts": [],
        "invoice": invoice,
        "invoice_item": source.invoice_item,
        "livemode": ctx.livemode(),
        "metadata": source.metadata,
        "period": source.period,
        "plan": null,
        "price": source.price,
        "proration": false,
        "proration_details": { "credited_items": null },
        "quantity": source.quantity,
        "subscription": source.subscription,
        "subscription_item": source.subscription_item,
        "tax_amounts": [],
        "tax_rates": [],
        "type": source.kind,
        "unit_amount_excluding_tax": unit.to_string(),
    })
}

/// What a new draft invoice is for.
pub(crate) struct DraftSpec<'a> {
    /// The invoice id (`in_…`), chosen by the caller so lines can name it.
    pub id: String,
    /// `charge_automatically` or `send_invoice`.
    pub collection_method: &'a str,
    /// For `send_invoice`.
    pub days_until_due: Option<i64>,
    /// `auto_advance`.
    pub auto_advance: bool,
    /// `manual`, `subscription_create`, `subscription_cycle`, `subscription_update`.
    pub billing_reason: &'a str,
    /// The subscription id, or null.
    pub subscription: Value,
    /// The discount object (from a subscription coupon), or null.
    pub discount: Value,
    /// The billing period.
    pub period_start: i64,
    /// The billing period's end.
    pub period_end: i64,
}

/// A draft invoice for `customer`, without lines (see [`set_lines`]).
pub(crate) fn draft(ctx: &Ctx<'_>, customer: &Value, spec: DraftSpec<'_>) -> Value {
    let now = ctx.now();
    let customer_id = text(customer, "id").unwrap_or_default();
    let mut invoice = json!({
        "id": spec.id,
        "object": KIND.object,
        "account_country": "US",
        "account_name": null,
        "account_tax_ids": null,
        "amount_due": 0,
        "amount_paid": 0,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "application": null,
        "application_fee_amount": null,
        "attempt_count": 0,
        "attempted": false,
        "auto_advance": spec.auto_advance,
        "automatic_tax": { "enabled": false, "status": null },
        "billing_reason": spec.billing_reason,
        "charge": null,
        "collection_method": spec.collection_method,
        "created": now,
    });
    let middle = json!({
        "currency": customer.get("currency").filter(|c| c.is_string()).cloned().unwrap_or_else(|| json!("usd")),
        "custom_fields": null,
        "customer": customer_id,
        "customer_address": customer.get("address").cloned().unwrap_or(Value::Null),
        "customer_email": customer.get("email").cloned().unwrap_or(Value::Null),
        "customer_name": customer.get("name").cloned().unwrap_or(Value::Null),
        "customer_phone": customer.get("phone").cloned().unwrap_or(Value::Null),
        "customer_shipping": customer.get("shipping").cloned().unwrap_or(Value::Null),
        "customer_tax_exempt": customer.get("tax_exempt").cloned().unwrap_or(json!("none")),
        "customer_tax_ids": [],
        "days_until_due": spec.days_until_due,
        "default_payment_method": null,
        "default_source": null,
        "default_tax_rates": [],
        "description": null,
        "discount": spec.discount,
        "discounts": [],
        "due_date": null,
        "ending_balance": null,
        "footer": null,
        "hosted_invoice_url": null,
        "invoice_pdf": null,
        "last_finalization_error": null,
    });
    let rest = json!({
        "lines": {},
        "livemode": ctx.livemode(),
        "metadata": {},
        "next_payment_attempt": null,
        "number": null,
        "on_behalf_of": null,
        "paid": false,
        "paid_out_of_band": false,
        "payment_intent": null,
        "payment_settings": { "default_mandate": null, "payment_method_options": null, "payment_method_types": null },
        "period_end": spec.period_end,
        "period_start": spec.period_start,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "quote": null,
        "receipt_number": null,
        "rendering_options": null,
        "starting_balance": int(customer, "balance"),
        "statement_descriptor": null,
        "status": "draft",
        "status_transitions": { "finalized_at": null, "marked_uncollectible_at": null, "paid_at": null, "voided_at": null },
        "subscription": spec.subscription,
        "subscription_details": { "metadata": null },
        "subtotal": 0,
        "subtotal_excluding_tax": 0,
        "tax": null,
        "test_clock": null,
        "total": 0,
        "total_discount_amounts": [],
        "total_excluding_tax": 0,
        "total_tax_amounts": [],
        "transfer_data": null,
        "webhooks_delivered_at": null,
    });
    if let (Some(map), Value::Object(middle)) = (invoice.as_object_mut(), middle) {
        map.extend(middle);
    }
    if let (Some(map), Value::Object(rest)) = (invoice.as_object_mut(), rest) {
        map.extend(rest);
    }
    if let Some(discount) = invoice.get("discount").and_then(|d| d.get("id")).cloned() {
        set(&mut invoice, "discounts", json!([discount]));
    }
    set_lines(&mut invoice, Vec::new());
    invoice
}

/// Replaces an invoice's lines and recomputes its amounts (subtotal, discount, total, due).
pub(crate) fn set_lines(invoice: &mut Value, lines: Vec<Value>) {
    let id = text(invoice, "id").unwrap_or_default().to_owned();
    if let Some(currency) = lines.first().and_then(|line| line.get("currency")).cloned() {
        set(invoice, "currency", currency);
    }
    let subtotal: i64 = lines.iter().map(|line| int(line, "amount")).sum();
    let coupon = invoice
        .get("discount")
        .and_then(|discount| discount.get("coupon"))
        .cloned()
        .unwrap_or(Value::Null);
    let discount_amount = discount_on(&coupon, subtotal, text(invoice, "currency"));
    let total = subtotal - discount_amount;
    let discounts = if discount_amount > 0 {
        let discount_id = invoice
            .get("discount")
            .and_then(|discount| discount.get("id"))
            .cloned()
            .unwrap_or(Value::Null);
        json!([{ "amount": discount_amount, "discount": discount_id }])
    } else {
        json!([])
    };
    let amount_paid = int(invoice, "amount_paid");
    let amount_due = total.max(0);
    let total_count = lines.len();
    set(
        invoice,
        "lines",
        json!({
            "object": "list",
            "data": lines,
            "has_more": false,
            "total_count": total_count,
            "url": format!("/v1/invoices/{id}/lines"),
        }),
    );
    set(invoice, "subtotal", json!(subtotal));
    set(invoice, "subtotal_excluding_tax", json!(subtotal));
    set(invoice, "total", json!(total));
    set(invoice, "total_excluding_tax", json!(total));
    set(invoice, "total_discount_amounts", discounts);
    set(invoice, "amount_due", json!(amount_due));
    set(
        invoice,
        "amount_remaining",
        json!((amount_due - amount_paid).max(0)),
    );
}

/// The amount a coupon takes off `subtotal`: `percent_off` rounded to the nearest unit, or
/// `amount_off` (same currency only) capped at the subtotal.
pub(crate) fn discount_on(coupon: &Value, subtotal: i64, currency: Option<&str>) -> i64 {
    if let Some(percent) = coupon.get("percent_off").and_then(Value::as_f64) {
        return ((subtotal as f64) * percent / 100.0).round() as i64;
    }
    if let Some(amount) = coupon.get("amount_off").and_then(Value::as_i64) {
        let same_currency = text(coupon, "currency").is_none_or(|c| Some(c) == currency);
        if same_currency {
            return amount.min(subtotal).max(0);
        }
    }
    0
}

/// The lines of an invoice.
fn lines_of(invoice: &Value) -> Vec<Value> {
    invoice
        .get("lines")
        .and_then(|lines| lines.get("data"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Rebuilds a draft invoice's `invoiceitem` lines from the invoice items attached to it (keeping
/// the subscription lines and existing line ids), stores it and records `invoice.updated`.
pub(crate) fn refresh_items(ctx: &Ctx<'_>, invoice_id: &str) {
    let Ok(before) = require(ctx, invoice_id, "invoice") else {
        return;
    };
    let mut after = before.clone();
    let old = lines_of(&before);
    let mut lines: Vec<Value> = old
        .iter()
        .filter(|line| text(line, "type") != Some("invoiceitem"))
        .cloned()
        .collect();
    for item in all_of(ctx, &invoice_items::KIND)
        .iter()
        .filter(|item| text(item, "invoice") == Some(invoice_id))
    {
        let item_id = text(item, "id").unwrap_or_default();
        let existing = old
            .iter()
            .find(|line| text(line, "invoice_item") == Some(item_id))
            .and_then(|line| text(line, "id"))
            .map(str::to_owned);
        lines.push(line(ctx, invoice_id, existing, item_line_source(item)));
    }
    set_lines(&mut after, lines);
    ctx.update(&KIND, &before, after);
}

/// The line an invoice item becomes.
fn item_line_source(item: &Value) -> LineSource<'_> {
    LineSource {
        kind: "invoiceitem",
        amount: int(item, "amount"),
        currency: text(item, "currency").unwrap_or("usd"),
        description: item.get("description").cloned().unwrap_or(Value::Null),
        price: item.get("price").cloned().unwrap_or(Value::Null),
        quantity: item.get("quantity").and_then(Value::as_i64).unwrap_or(1),
        period: item.get("period").cloned().unwrap_or(Value::Null),
        subscription: item.get("subscription").cloned().unwrap_or(Value::Null),
        subscription_item: Value::Null,
        invoice_item: item.get("id").cloned().unwrap_or(Value::Null),
        metadata: item.get("metadata").cloned().unwrap_or_else(|| json!({})),
    }
}

/// Finalizes a draft (already stored): numbers it, opens it, records `invoice.finalized`; a
/// zero amount due is paid at once. Returns the stored invoice.
pub(crate) fn finalize(ctx: &Ctx<'_>, before: &Value) -> Value {
    let now = ctx.now();
    let mut after = before.clone();
    let id = text(before, "id").unwrap_or_default().to_owned();
    set(&mut after, "status", json!("open"));
    set(&mut after, "number", json!(next_number(ctx, before)));
    set(
        &mut after,
        "hosted_invoice_url",
        json!(format!("https://invoice.stripe.com/i/{}/{id}", ctx.account)),
    );
    set(
        &mut after,
        "invoice_pdf",
        json!(format!(
            "https://pay.stripe.com/invoice/{}/{id}/pdf",
            ctx.account
        )),
    );
    set(
        &mut after,
        "ending_balance",
        json!(int(before, "starting_balance")),
    );
    if text(before, "collection_method") == Some("send_invoice") {
        let days = int(before, "days_until_due");
        if before.get("due_date").is_none_or(Value::is_null) {
            set(&mut after, "due_date", json!(now + days * 86_400));
        }
    } else if int(before, "amount_due") > 0 && before["auto_advance"] == json!(true) {
        set(&mut after, "next_payment_attempt", json!(now + 3_600));
    }
    if let Some(transitions) = after.get_mut("status_transitions") {
        set(transitions, "finalized_at", json!(now));
    }
    let after = ctx.update(&KIND, before, after);
    ctx.event("invoice.finalized", &after);
    if int(&after, "amount_due") == 0 {
        return mark_paid(ctx, &after, false, None);
    }
    after
}

/// `{customer prefix}-{sequence}`: Stripe numbers a customer's invoices from 0001.
fn next_number(ctx: &Ctx<'_>, invoice: &Value) -> String {
    let customer = text(invoice, "customer").unwrap_or_default();
    let prefix: String = customer
        .trim_start_matches("cus_")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect::<String>()
        .to_ascii_uppercase();
    let numbered = all_of(ctx, &KIND)
        .iter()
        .filter(|other| {
            text(other, "customer") == Some(customer)
                && other.get("number").is_some_and(Value::is_string)
        })
        .count();
    format!("{prefix}-{:04}", numbered + 1)
}

/// Marks an open invoice paid (stored), records `invoice.paid` and, unless paid out of band,
/// `invoice.payment_succeeded`. `payment` is the payment intent and charge that paid it.
fn mark_paid(
    ctx: &Ctx<'_>,
    before: &Value,
    out_of_band: bool,
    payment: Option<(&Value, &Value)>,
) -> Value {
    let now = ctx.now();
    let mut after = before.clone();
    let remaining = int(before, "amount_remaining");
    set(&mut after, "status", json!("paid"));
    set(&mut after, "paid", json!(true));
    set(&mut after, "paid_out_of_band", json!(out_of_band));
    set(
        &mut after,
        "amount_paid",
        json!(int(before, "amount_paid") + remaining),
    );
    set(&mut after, "amount_remaining", json!(0));
    set(&mut after, "next_payment_attempt", Value::Null);
    if let Some((intent, charge)) = payment {
        set(
            &mut after,
            "payment_intent",
            intent.get("id").cloned().unwrap_or(Value::Null),
        );
        set(
            &mut after,
            "charge",
            charge.get("id").cloned().unwrap_or(Value::Null),
        );
        set(&mut after, "attempted", json!(true));
        set(
            &mut after,
            "attempt_count",
            json!(int(before, "attempt_count") + 1),
        );
    } else if !out_of_band {
        set(&mut after, "attempted", json!(true));
    }
    if let Some(transitions) = after.get_mut("status_transitions") {
        set(transitions, "paid_at", json!(now));
    }
    let after = ctx.update(&KIND, before, after);
    ctx.event("invoice.paid", &after);
    if !out_of_band {
        ctx.event("invoice.payment_succeeded", &after);
    }
    after
}

/// The payment method an invoice is charged with (see the module docs for the order).
pub(crate) fn payment_method_for(
    ctx: &Ctx<'_>,
    invoice: &Value,
    explicit: Option<&str>,
) -> Option<String> {
    if let Some(explicit) = explicit.filter(|pm| !pm.is_empty()) {
        return Some(explicit.to_owned());
    }
    if let Some(pm) = text(invoice, "default_payment_method") {
        return Some(pm.to_owned());
    }
    if let Some(subscription) = text(invoice, "subscription")
        .and_then(|id| subscriptions::require(ctx, id, "subscription").ok())
        && let Some(pm) = text(&subscription, "default_payment_method")
    {
        return Some(pm.to_owned());
    }
    let customer =
        text(invoice, "customer").and_then(|id| customers::require(ctx, id, "customer").ok())?;
    customer
        .get("invoice_settings")
        .and_then(|settings| text(settings, "default_payment_method"))
        .or_else(|| text(&customer, "default_source"))
        .map(str::to_owned)
}

/// The 400 Stripe gives when an invoice has nothing to charge (worded as payment intents do).
fn no_payment_method() -> ApiError {
    invalid_state(
        "resource_missing",
        super::payment_intents::NO_PAYMENT_METHOD,
    )
}

/// Charges an invoice's remaining amount: `Ok((payment_intent, charge))` or the payment's error
/// (402 on a decline; 400 when there is no payment method). Stores nothing on the invoice.
pub(crate) fn charge(
    ctx: &Ctx<'_>,
    invoice: &Value,
    payment_method: Option<&str>,
) -> Result<(Value, Value), ApiError> {
    let Some(payment_method) = payment_method_for(ctx, invoice, payment_method) else {
        return Err(no_payment_method());
    };
    let description = if text(invoice, "billing_reason") == Some("subscription_create") {
        "Subscription creation"
    } else {
        "Payment for Invoice"
    };
    super::payment_intents::pay(
        ctx,
        int(invoice, "amount_remaining"),
        text(invoice, "currency").unwrap_or("usd"),
        text(invoice, "customer"),
        Some(&payment_method),
        Some(description),
        json!({}),
    )
}

/// Applies a charge attempt to an open invoice: paid on success; on failure the attempt is
/// counted, `invoice.payment_failed` is recorded, and the error is handed back.
pub(crate) fn settle(
    ctx: &Ctx<'_>,
    before: &Value,
    attempt: Result<(Value, Value), ApiError>,
) -> (Value, Result<(), ApiError>) {
    match attempt {
        Ok((intent, charge)) => (
            mark_paid(ctx, before, false, Some((&intent, &charge))),
            Ok(()),
        ),
        Err(error) => {
            let mut after = before.clone();
            set(&mut after, "attempted", json!(true));
            set(
                &mut after,
                "attempt_count",
                json!(int(before, "attempt_count") + 1),
            );
            let failed = error.rendered.body.get("error");
            let intent = failed
                .and_then(|e| e.get("payment_intent"))
                .map(|pi| match pi {
                    Value::Object(intent) => intent.get("id").cloned().unwrap_or(Value::Null),
                    other => other.clone(),
                });
            if let Some(intent) = intent.filter(Value::is_string) {
                set(&mut after, "payment_intent", intent);
            }
            if let Some(charge) = failed
                .and_then(|e| e.get("charge"))
                .filter(|c| c.is_string())
            {
                set(&mut after, "charge", charge.clone());
            }
            let after = ctx.update(&KIND, before, after);
            ctx.event("invoice.payment_failed", &after);
            (after, Err(error))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Endpoints.

const CREATE_PARAMS: [&str; 11] = [
    "customer",
    "auto_advance",
    "collection_method",
    "days_until_due",
    "due_date",
    "description",
    "footer",
    "metadata",
    "default_payment_method",
    "pending_invoice_items_behavior",
    "subscription",
];

/// `collection_method` and `days_until_due`, checked together as Stripe does.
fn collection(
    params: &Params<'_>,
    current_method: &str,
    current_days: Option<i64>,
) -> Result<(String, Option<i64>), ApiError> {
    let method = match params.string("collection_method")? {
        None => current_method.to_owned(),
        Some(method @ ("charge_automatically" | "send_invoice")) => method.to_owned(),
        Some(_) => {
            return Err(stripe_error::malformed_parameter(
                "collection_method",
                "must be one of charge_automatically, send_invoice",
            )
            .into());
        }
    };
    let days = params.integer("days_until_due")?.or(current_days);
    if method == "send_invoice" {
        if days.is_none() && !params.has("due_date") {
            return Err(stripe_error::parameter_missing("days_until_due").into());
        }
        Ok((method, days))
    } else {
        if params.has("days_until_due") {
            return Err(stripe_error::malformed_parameter(
                "days_until_due",
                "days_until_due can only be set when collection_method is send_invoice",
            )
            .into());
        }
        Ok((method, None))
    }
}

/// `POST /v1/invoices`.
fn create(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&CREATE_PARAMS)?;
    let customer_id = params.required_string("customer")?;
    let customer = customers::require(ctx, customer_id, "customer")?;
    let (collection_method, days_until_due) = collection(&params, "charge_automatically", None)?;
    let subscription = match params.string("subscription")? {
        Some(id) if !id.is_empty() => {
            let subscription = subscriptions::require(ctx, id, "subscription")?;
            json!(text(&subscription, "id"))
        }
        _ => Value::Null,
    };
    let behavior = params
        .string("pending_invoice_items_behavior")?
        .unwrap_or("include");
    if !matches!(behavior, "include" | "exclude" | "include_and_require") {
        return Err(stripe_error::malformed_parameter(
            "pending_invoice_items_behavior",
            "must be one of exclude, include, include_and_require",
        )
        .into());
    }
    let pending: Vec<Value> = if behavior == "exclude" {
        Vec::new()
    } else {
        all_of(ctx, &invoice_items::KIND)
            .into_iter()
            .filter(|item| {
                text(item, "customer") == Some(customer_id)
                    && item.get("invoice").is_none_or(Value::is_null)
            })
            .collect()
    };
    if behavior == "include_and_require" && pending.is_empty() {
        return Err(invalid_state(
            "invoice_no_customer_line_items",
            "Nothing to invoice for customer",
        ));
    }
    let now = ctx.now();
    let id = ctx.new_id(&KIND);
    let mut invoice = draft(
        ctx,
        &customer,
        DraftSpec {
            id: id.clone(),
            collection_method: &collection_method,
            days_until_due,
            auto_advance: params.boolean("auto_advance")?.unwrap_or(true),
            billing_reason: "manual",
            subscription,
            discount: Value::Null,
            period_start: now,
            period_end: now,
        },
    );
    if let Some(object) = invoice.as_object_mut() {
        params.apply_strings(object, &["description", "footer", "default_payment_method"])?;
        params.apply_metadata(object)?;
        if let Some(due) = params.integer("due_date")? {
            object.insert("due_date".to_owned(), json!(due));
        }
    }
    let mut lines = Vec::new();
    for item in &pending {
        lines.push(line(ctx, &id, None, item_line_source(item)));
    }
    set_lines(&mut invoice, lines);
    let invoice = ctx.insert(&KIND, invoice);
    for before in pending {
        let mut after = before.clone();
        set(&mut after, "invoice", json!(id));
        ctx.update(&invoice_items::KIND, &before, after);
    }
    Ok(Reply::ok(invoice))
}

/// `GET /v1/invoices/{invoice}`.
fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.retrieve(&KIND, id)
}

/// `POST /v1/invoices/{invoice}`: metadata and `auto_advance` always; the rest on drafts only.
fn update(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let before = ctx.require(&KIND, id, "id", Lookup::Path)?;
    let params = ctx.params(&[
        "auto_advance",
        "collection_method",
        "days_until_due",
        "due_date",
        "description",
        "footer",
        "metadata",
        "default_payment_method",
    ])?;
    let is_draft = text(&before, "status") == Some("draft");
    let draft_only = [
        "collection_method",
        "days_until_due",
        "due_date",
        "description",
        "footer",
        "default_payment_method",
    ];
    if !is_draft && let Some(field) = draft_only.iter().find(|field| params.has(field)) {
        return Err(invalid_state(
            NOT_EDITABLE,
            &format!(
                "Finalized invoices can't be updated in this way; `{field}` can only be changed on a draft invoice"
            ),
        ));
    }
    let mut after = before.clone();
    if is_draft {
        let (method, days) = collection(
            &params,
            text(&before, "collection_method").unwrap_or("charge_automatically"),
            before.get("days_until_due").and_then(Value::as_i64),
        )?;
        set(&mut after, "collection_method", json!(method));
        set(&mut after, "days_until_due", json!(days));
        if let Some(due) = params.integer("due_date")? {
            set(&mut after, "due_date", json!(due));
        }
    }
    if let Some(auto_advance) = params.boolean("auto_advance")? {
        set(&mut after, "auto_advance", json!(auto_advance));
    }
    if let Some(object) = after.as_object_mut() {
        params.apply_strings(object, &["description", "footer", "default_payment_method"])?;
        params.apply_metadata(object)?;
    }
    Ok(Reply::ok(ctx.update(&KIND, &before, after)))
}

/// `DELETE /v1/invoices/{invoice}`: drafts only; their invoice items become pending again.
fn delete(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&[])?;
    let invoice = ctx.require(&KIND, id, "id", Lookup::Path)?;
    if text(&invoice, "status") != Some("draft") {
        return Err(invalid_state(
            NOT_EDITABLE,
            "You can only delete draft invoices. Finalized invoices can be voided instead",
        ));
    }
    let deleted = ctx.delete(&KIND, id);
    for before in all_of(ctx, &invoice_items::KIND)
        .into_iter()
        .filter(|item| text(item, "invoice") == Some(id))
    {
        let mut after = before.clone();
        set(&mut after, "invoice", Value::Null);
        ctx.update(&invoice_items::KIND, &before, after);
    }
    Ok(Reply::ok(deleted))
}

/// `GET /v1/invoices`.
fn list(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "limit",
        "starting_after",
        "ending_before",
        "customer",
        "subscription",
        "status",
        "collection_method",
        "created",
        "due_date",
    ])?;
    ctx.list_by(
        &KIND,
        &params,
        &["customer", "subscription", "status", "collection_method"],
    )
}

/// `GET /v1/invoices/{invoice}/lines`.
fn lines(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let params = ctx.params(&["limit", "starting_after", "ending_before"])?;
    let invoice = ctx.require(&KIND, id, "invoice", Lookup::Path)?;
    page_of(
        &params,
        &lines_of(&invoice),
        &format!("/v1/invoices/{id}/lines"),
        "line_item",
    )
}

/// `POST /v1/invoices/{invoice}/finalize`.
fn finalize_endpoint(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let params = ctx.params(&["auto_advance"])?;
    let mut before = ctx.require(&KIND, id, "invoice", Lookup::Path)?;
    if text(&before, "status") != Some("draft") {
        return Err(invalid_state(
            NOT_EDITABLE,
            "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
        ));
    }
    if let Some(auto_advance) = params.boolean("auto_advance")? {
        let mut after = before.clone();
        set(&mut after, "auto_advance", json!(auto_advance));
        replace_quietly(ctx, &KIND, &after);
        before = after;
    }
    Ok(Reply::ok(finalize(ctx, &before)))
}

/// `POST /v1/invoices/{invoice}/pay`.
fn pay_endpoint(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let params = ctx.params(&[
        "payment_method",
        "paid_out_of_band",
        "forgive",
        "off_session",
        "source",
        "mandate",
    ])?;
    let mut invoice = ctx.require(&KIND, id, "invoice", Lookup::Path)?;
    match text(&invoice, "status") {
        Some("draft") => {
            invoice = finalize(ctx, &invoice);
            if text(&invoice, "status") == Some("paid") {
                return Ok(Reply::ok(invoice));
            }
        }
        Some("open" | "uncollectible") => {}
        Some("paid") => return Err(invalid_state(NOT_EDITABLE, "Invoice is already paid")),
        _ => {
            return Err(invalid_state(
                NOT_EDITABLE,
                "This invoice can no longer be paid because it has been voided.",
            ));
        }
    }
    if params.boolean("paid_out_of_band")? == Some(true) {
        return Ok(Reply::ok(mark_paid(ctx, &invoice, true, None)));
    }
    if int(&invoice, "amount_remaining") == 0 {
        return Ok(Reply::ok(mark_paid(ctx, &invoice, false, None)));
    }
    let explicit = params
        .string("payment_method")?
        .or(params.string("source")?);
    if payment_method_for(ctx, &invoice, explicit).is_none() {
        return Err(no_payment_method());
    }
    let attempt = charge(ctx, &invoice, explicit);
    let (invoice, result) = settle(ctx, &invoice, attempt);
    result?;
    Ok(Reply::ok(invoice))
}

/// A state change other than finalize and pay.
#[derive(Debug, Clone, Copy)]
enum Transition {
    Void,
    Uncollectible,
    Send,
}

/// `POST /v1/invoices/{invoice}/void`, `/mark_uncollectible`, `/send`.
fn transition(ctx: &Ctx<'_>, id: &str, transition: Transition) -> Outcome {
    ctx.params(&[])?;
    let before = ctx.require(&KIND, id, "invoice", Lookup::Path)?;
    let status = text(&before, "status").unwrap_or_default().to_owned();
    let now = ctx.now();
    let mut after = before.clone();
    let event = match transition {
        Transition::Void => {
            if !matches!(status.as_str(), "open" | "uncollectible") {
                return Err(invalid_state(
                    NOT_EDITABLE,
                    &format!(
                        "You can only void open or uncollectible invoices. This invoice is {status}."
                    ),
                ));
            }
            set(&mut after, "status", json!("void"));
            set(&mut after, "amount_remaining", json!(0));
            set(&mut after, "next_payment_attempt", Value::Null);
            if let Some(transitions) = after.get_mut("status_transitions") {
                set(transitions, "voided_at", json!(now));
            }
            "invoice.voided"
        }
        Transition::Uncollectible => {
            if status != "open" {
                return Err(invalid_state(
                    NOT_EDITABLE,
                    &format!(
                        "You can only mark open invoices as uncollectible. This invoice is {status}."
                    ),
                ));
            }
            set(&mut after, "status", json!("uncollectible"));
            set(&mut after, "next_payment_attempt", Value::Null);
            if let Some(transitions) = after.get_mut("status_transitions") {
                set(transitions, "marked_uncollectible_at", json!(now));
            }
            "invoice.marked_uncollectible"
        }
        Transition::Send => {
            if status != "open" {
                return Err(invalid_state(
                    NOT_EDITABLE,
                    &format!("You can only send open invoices. This invoice is {status}."),
                ));
            }
            if text(&before, "collection_method") != Some("send_invoice") {
                return Err(invalid_state(
                    NOT_EDITABLE,
                    "You can only manually send an invoice if its collection method is 'send_invoice'.",
                ));
            }
            "invoice.sent"
        }
    };
    let after = if matches!(transition, Transition::Send) {
        after
    } else {
        ctx.update(&KIND, &before, after)
    };
    ctx.event(event, &after);
    Ok(Reply::ok(after))
}

/// Attaches to `invoice_id` (which must be a draft of the same customer) or says why not.
pub(crate) fn require_draft_of(
    ctx: &Ctx<'_>,
    invoice_id: &str,
    customer: &str,
) -> Result<Value, ApiError> {
    let invoice = require(ctx, invoice_id, "invoice")?;
    if text(&invoice, "status") != Some("draft") {
        return Err(invalid_state(
            NOT_EDITABLE,
            "You can only add invoice items to draft invoices.",
        ));
    }
    if text(&invoice, "customer") != Some(customer) {
        return Err(invalid_state(
            NOT_EDITABLE,
            "The invoice belongs to another customer than the invoice item.",
        ));
    }
    Ok(invoice)
}
