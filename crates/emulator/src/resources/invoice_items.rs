//! Invoice items: create, retrieve, update, delete, list.
//!
//! An item is pending (`invoice: null`) until an invoice takes it: `POST /v1/invoices` sweeps the
//! customer's pending items into the new draft, or `invoice=in_…` attaches it to a draft at once.
//! Items on a finalized invoice can no longer change. The amount is `price.unit_amount ×
//! quantity`, `unit_amount × quantity`, or `amount` (quantity 1) with `currency`.

use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error::{self, Lookup};
use serde_json::{Value, json};

use super::invoices::{self, int, set, text};
use super::params::Params;
use super::{Ctx, Kind, Outcome, Reply, customers, prices};
use crate::error::ApiError;

/// The `invoiceitem` object type.
pub const KIND: Kind = Kind {
    object: "invoiceitem",
    prefix: "ii_",
    id_len: 24,
    url: "/v1/invoiceitems",
    events: Some("invoiceitem"),
};

/// The invoiceitem a parameter names, or Stripe's 404 naming the parameter.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    Some(match (method, template) {
        (Method::Post, "/v1/invoiceitems") => create(ctx),
        (Method::Get, "/v1/invoiceitems") => list(ctx),
        (Method::Get, "/v1/invoiceitems/{invoiceitem}") => retrieve(ctx, id),
        (Method::Post, "/v1/invoiceitems/{invoiceitem}") => update(ctx, id),
        (Method::Delete, "/v1/invoiceitems/{invoiceitem}") => delete(ctx, id),
        _ => return None,
    })
}

const CREATE_PARAMS: [&str; 12] = [
    "customer",
    "amount",
    "currency",
    "price",
    "quantity",
    "unit_amount",
    "description",
    "invoice",
    "metadata",
    "discountable",
    "period",
    "subscription",
];

/// The pricing parameters of a create or update, applied to `item`.
fn apply_pricing(ctx: &Ctx<'_>, params: &Params<'_>, item: &mut Value) -> Result<(), ApiError> {
    let new_quantity = invoices::quantity_of(params.get("quantity"), "quantity")?;
    if let Some(quantity) = new_quantity {
        set(item, "quantity", json!(quantity));
    }
    let quantity = int(item, "quantity");
    if let Some(price_id) = params.string("price")?.filter(|id| !id.is_empty()) {
        let price = prices::require(ctx, price_id, "price")?;
        if price.get("recurring").is_some_and(|r| !r.is_null()) {
            return Err(stripe_error::malformed_parameter(
                "price",
                "The price specified is set to `type=recurring` but this field only accepts prices with `type=one_time`",
            )
            .into());
        }
        let unit = int(&price, "unit_amount");
        set(item, "price", price.clone());
        set(
            item,
            "currency",
            price.get("currency").cloned().unwrap_or(Value::Null),
        );
        set(item, "unit_amount", json!(unit));
        set(item, "unit_amount_decimal", json!(unit.to_string()));
        set(item, "amount", json!(unit * quantity));
    } else if let Some(unit) = params.integer("unit_amount")? {
        set(item, "unit_amount", json!(unit));
        set(item, "unit_amount_decimal", json!(unit.to_string()));
        set(item, "amount", json!(unit * quantity));
        set(item, "price", Value::Null);
    } else if let Some(amount) = params.integer("amount")? {
        set(item, "amount", json!(amount));
        set(item, "quantity", json!(1));
        set(item, "unit_amount", json!(amount));
        set(item, "unit_amount_decimal", json!(amount.to_string()));
        set(item, "price", Value::Null);
    } else if new_quantity.is_some() {
        // A new quantity alone re-prices at the current unit amount.
        let unit = int(item, "unit_amount");
        set(item, "amount", json!(unit * int(item, "quantity")));
    }
    if let Some(currency) = params.string("currency")?.filter(|c| !c.is_empty()) {
        if params.has("price") {
            return Err(stripe_error::malformed_parameter(
                "currency",
                "currency cannot be set together with price; the price's currency is used",
            )
            .into());
        }
        set(item, "currency", json!(currency.to_ascii_lowercase()));
    }
    Ok(())
}

/// `POST /v1/invoiceitems`.
fn create(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&CREATE_PARAMS)?;
    let customer_id = params.required_string("customer")?;
    customers::require(ctx, customer_id, "customer")?;
    if !params.has("price") && !params.has("amount") && !params.has("unit_amount") {
        return Err(stripe_error::parameter_missing("amount").into());
    }
    if !params.has("price") && !params.has("currency") {
        return Err(stripe_error::parameter_missing("currency").into());
    }
    let invoice = match params.string("invoice")?.filter(|id| !id.is_empty()) {
        Some(id) => Some(invoices::require_draft_of(ctx, id, customer_id)?),
        None => None,
    };
    let subscription = match params.string("subscription")?.filter(|id| !id.is_empty()) {
        Some(id) => json!(text(
            &super::subscriptions::require(ctx, id, "subscription")?,
            "id"
        )),
        None => Value::Null,
    };
    let now = ctx.now();
    let mut item = json!({
        "id": ctx.new_id(&KIND),
        "object": KIND.object,
        "amount": 0,
        "currency": null,
        "customer": customer_id,
        "date": now,
        "description": null,
        "discountable": true,
        "discounts": [],
        "invoice": invoice.as_ref().and_then(|i| i.get("id")).cloned().unwrap_or(Value::Null),
        "livemode": ctx.livemode(),
        "metadata": {},
        "period": { "start": now, "end": now },
        "plan": null,
        "price": null,
        "proration": false,
        "quantity": 1,
        "subscription": subscription,
        "subscription_item": null,
        "tax_rates": [],
        "test_clock": null,
        "unit_amount": null,
        "unit_amount_decimal": null,
    });
    apply_pricing(ctx, &params, &mut item)?;
    apply_descriptive(&params, &mut item)?;
    if let Some(invoice) = &invoice
        && let (Some(theirs), Some(ours)) = (text(invoice, "currency"), text(&item, "currency"))
        && invoices::int(&invoice["lines"], "total_count") > 0
        && theirs != ours
    {
        return Err(stripe_error::malformed_parameter(
            "currency",
            "The currency of an invoice item must match the currency of the invoice it is added to",
        )
        .into());
    }
    let item = ctx.insert(&KIND, item);
    if let Some(invoice_id) = text(&item, "invoice") {
        invoices::refresh_items(ctx, invoice_id);
    }
    Ok(Reply::ok(item))
}

/// `description`, `discountable`, `period`, `metadata`.
fn apply_descriptive(params: &Params<'_>, item: &mut Value) -> Result<(), ApiError> {
    if let Some(discountable) = params.boolean("discountable")? {
        set(item, "discountable", json!(discountable));
    }
    if let Some(period) = params.hash("period")? {
        let mut merged = item.get("period").cloned().unwrap_or_else(|| json!({}));
        for field in ["start", "end"] {
            if let Some(raw) = period.get(field) {
                let param = format!("period[{field}]");
                let value = raw
                    .as_str()
                    .and_then(|raw| raw.parse::<i64>().ok())
                    .ok_or_else(|| stripe_error::invalid_integer(&param, &raw.to_string()))?;
                set(&mut merged, field, json!(value));
            }
        }
        set(item, "period", merged);
    }
    if let Some(object) = item.as_object_mut() {
        params.apply_strings(object, &["description"])?;
        params.apply_metadata(object)?;
    }
    Ok(())
}

/// The item, refusing changes once its invoice is finalized.
fn require_editable(ctx: &Ctx<'_>, id: &str) -> Result<Value, ApiError> {
    let item = ctx.require(&KIND, id, "id", Lookup::Path)?;
    if let Some(invoice_id) = text(&item, "invoice")
        && let Ok(invoice) = invoices::require(ctx, invoice_id, "invoice")
        && text(&invoice, "status") != Some("draft")
    {
        return Err(invoices::invalid_state(
            invoices::NOT_EDITABLE,
            "Invoice items on a finalized invoice can't be modified or deleted.",
        ));
    }
    Ok(item)
}

/// `GET /v1/invoiceitems/{invoiceitem}`.
fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.retrieve(&KIND, id)
}

/// `POST /v1/invoiceitems/{invoiceitem}`.
fn update(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let before = require_editable(ctx, id)?;
    let params = ctx.params(&[
        "amount",
        "price",
        "quantity",
        "unit_amount",
        "description",
        "metadata",
        "discountable",
        "period",
    ])?;
    let mut after = before.clone();
    apply_pricing(ctx, &params, &mut after)?;
    apply_descriptive(&params, &mut after)?;
    let after = ctx.update(&KIND, &before, after);
    if let Some(invoice_id) = text(&after, "invoice") {
        invoices::refresh_items(ctx, invoice_id);
    }
    Ok(Reply::ok(after))
}

/// `DELETE /v1/invoiceitems/{invoiceitem}`.
fn delete(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.params(&[])?;
    let item = require_editable(ctx, id)?;
    let deleted = ctx.delete(&KIND, id);
    if let Some(invoice_id) = text(&item, "invoice") {
        invoices::refresh_items(ctx, invoice_id);
    }
    Ok(Reply::ok(deleted))
}

/// `GET /v1/invoiceitems`.
fn list(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "limit",
        "starting_after",
        "ending_before",
        "customer",
        "invoice",
        "pending",
        "created",
    ])?;
    let customer = params.string("customer")?;
    let invoice = params.string("invoice")?;
    let pending = params.boolean("pending")?;
    ctx.list(&KIND, &params, |item| {
        let is_pending = item.get("invoice").is_none_or(Value::is_null);
        customer.is_none_or(|wanted| text(item, "customer") == Some(wanted))
            && invoice.is_none_or(|wanted| text(item, "invoice") == Some(wanted))
            && pending.is_none_or(|wanted| wanted == is_pending)
    })
}
