//! Checkout Sessions: create, retrieve, list, expire. (Being written: answers come from the generic fallback until then.)
use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error::Lookup;
use serde_json::Value;

use super::{Ctx, Kind, Outcome};
use crate::error::ApiError;

/// The `checkout.session` object type.
pub const KIND: Kind = Kind {
    object: "checkout.session",
    prefix: "cs_",
    id_len: 58,
    url: "/v1/checkout/sessions",
    events: Some("checkout.session"),
};

/// The checkout.session a parameter names, or Stripe's 404 naming the parameter.
pub fn require(ctx: &Ctx<'_>, id: &str, param: &str) -> Result<Value, ApiError> {
    ctx.require(&KIND, id, param, Lookup::Parameter)
}

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    let _ = (ctx, method, template, id);
    None
}
