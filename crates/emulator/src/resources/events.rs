//! Events: list and retrieve (every change records one; see `Ctx::insert`). (Being written: answers come from the generic fallback until then.)
use rakguard_catalog::endpoint::Method;

use super::{Ctx, Outcome};

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    let _ = (ctx, method, template, id);
    None
}
