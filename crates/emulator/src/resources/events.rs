//! Events: list and retrieve. Every change records one (see `Ctx::insert`); webhook delivery
//! ([`crate::webhooks`]) keeps their `pending_webhooks` counts.

use rakguard_catalog::endpoint::Method;
use rakguard_catalog::stripe_error;
use serde_json::Value;

use super::params::Params;
use super::{Ctx, EVENT, Outcome};
use crate::error::ApiError;

/// The most event types `types[]` may name, as on Stripe.
pub const MAX_TYPES: usize = 20;

/// Answers the operations this module implements; `None` hands the request on.
pub fn route(ctx: &Ctx<'_>, method: Method, template: &str, id: &str) -> Option<Outcome> {
    Some(match (method, template) {
        (Method::Get, "/v1/events") => list(ctx),
        (Method::Get, "/v1/events/{id}") => retrieve(ctx, id),
        _ => return None,
    })
}

/// `GET /v1/events/{id}`.
pub fn retrieve(ctx: &Ctx<'_>, id: &str) -> Outcome {
    ctx.retrieve(&EVENT, id)
}

/// `GET /v1/events`: newest first, filtered by `type` (`*` matches any run of characters, as in
/// `customer.*`), `types[]` (exact types, at most 20; not with `type`) and `created` (a Unix time,
/// or a hash of `gt`, `gte`, `lt`, `lte`). `delivery_success` is accepted and not applied.
pub fn list(ctx: &Ctx<'_>) -> Outcome {
    let params = ctx.params(&[
        "limit",
        "starting_after",
        "ending_before",
        "type",
        "types",
        "created",
        "delivery_success",
    ])?;
    let pattern = match params.string("type")? {
        Some("") => return Err(stripe_error::parameter_invalid_empty("type").into()),
        other => other,
    };
    let types = types(&params)?;
    if pattern.is_some() && types.is_some() {
        return Err(stripe_error::malformed_parameter(
            "types",
            "type and types cannot be combined",
        )
        .into());
    }
    params.boolean("delivery_success")?;
    let created = Created::parse(&params)?;
    ctx.list(&EVENT, &params, |event| {
        let event_type = event
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let created_at = event
            .get("created")
            .and_then(Value::as_i64)
            .unwrap_or_default();
        pattern.is_none_or(|pattern| type_matches(pattern, event_type))
            && types
                .as_ref()
                .is_none_or(|types| types.iter().any(|wanted| wanted == event_type))
            && created.contains(created_at)
    })
}

/// Whether an event type matches a `type` filter where `*` stands for any run of characters.
pub fn type_matches(pattern: &str, event_type: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = event_type.strip_prefix(first) else {
        return false;
    };
    let remaining: Vec<&str> = parts.collect();
    let Some((last, middle)) = remaining.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// `types[]`, as strings.
fn types(params: &Params<'_>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(items) = params.array("types")? else {
        return Ok(None);
    };
    if items.len() > MAX_TYPES {
        return Err(stripe_error::malformed_parameter(
            "types",
            "at most 20 event types may be given",
        )
        .into());
    }
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::String(text) if !text.is_empty() => Ok(text.clone()),
            _ => Err(stripe_error::malformed_parameter(
                &format!("types[{index}]"),
                "expected an event type",
            )
            .into()),
        })
        .collect::<Result<Vec<String>, ApiError>>()
        .map(Some)
}

/// A `created` filter: bounds on a Unix time, all inclusive after normalising `gt`/`lt`.
#[derive(Debug, Clone, Copy)]
struct Created {
    from: i64,
    to: i64,
}

impl Created {
    fn parse(params: &Params<'_>) -> Result<Created, ApiError> {
        let mut created = Created {
            from: i64::MIN,
            to: i64::MAX,
        };
        match params.get("created") {
            None => {}
            Some(Value::Object(bounds)) => {
                for (bound, value) in bounds {
                    let param = format!("created[{bound}]");
                    let number = match value {
                        Value::String(text) => text
                            .parse::<i64>()
                            .map_err(|_| stripe_error::invalid_integer(&param, text))?,
                        other => {
                            return Err(
                                stripe_error::invalid_integer(&param, &other.to_string()).into()
                            );
                        }
                    };
                    match bound.as_str() {
                        "gt" => created.from = created.from.max(number.saturating_add(1)),
                        "gte" => created.from = created.from.max(number),
                        "lt" => created.to = created.to.min(number.saturating_sub(1)),
                        "lte" => created.to = created.to.min(number),
                        _ => return Err(stripe_error::parameter_unknown(&param).into()),
                    }
                }
            }
            Some(_) => {
                let exact = params.required_integer("created")?;
                created = Created {
                    from: exact,
                    to: exact,
                };
            }
        }
        Ok(created)
    }

    fn contains(self, time: i64) -> bool {
        (self.from..=self.to).contains(&time)
    }
}

#[cfg(test)]
mod tests {
    use super::type_matches;

    #[test]
    fn wildcards_match_runs_of_characters() {
        assert!(type_matches("customer.*", "customer.created"));
        assert!(type_matches("customer.*", "customer.subscription.updated"));
        assert!(!type_matches("customer.*", "invoice.created"));
        assert!(type_matches("*.created", "invoice.created"));
        assert!(type_matches("*", "anything"));
        assert!(type_matches("customer.created", "customer.created"));
        assert!(!type_matches("customer.created", "customer.created.x"));
        assert!(type_matches(
            "customer.*.updated",
            "customer.subscription.updated"
        ));
        assert!(!type_matches("customer.*.updated", "customer.updated"));
    }
}
