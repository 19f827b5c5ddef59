//! Invoices: draft, finalize, pay, void. (Being written: answers come from the generic fallback until then.)
use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error::Lookup;
use serde_json::Value;

use super::{Ctx, Kind, Outcome};
use crate::error::ApiError;

/// The `invoice` object type.
pub const KIND: Kind = Kind {
    object: "invoice",
    prefix: "in_",
    id_len: 24,
    url: "/v1/invoices",
    events: Some("invoice"),
};

/// The invoice a parameter names, or Stripe's 404 naming the parameter.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    let _ = (ctx, method, template, id);
    None
}
