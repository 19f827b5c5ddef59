//! Reading one probe answer. Pure: status and body in, a reading with its reasons out.
//!
//! The rules (docs/verify.md, "Reading answers"):
//! - granted only on a status the probe declares, and then only when the body agrees: a 404 must
//!   be `resource_missing` (an unknown route also answers 404), a 400 must be about the request
//!   (not an idempotency or rate-limit error), and a 200 for a probe that expands objects must
//!   have had something to expand (Stripe checks an expansion's permission on the objects it
//!   expands);
//! - missing only on a 403 whose body is a permission error naming a permission the catalogue
//!   expects for the probe: its own id, one its permission implies (lacking that proves lacking
//!   this one), or one the catalogue has seen Stripe print for the operation;
//! - everything else is unknown, with the reason.

use rakguard_catalog::Catalog;
use rakguard_catalog::endpoint::Rule;
use rakguard_catalog::permission::Permission;
use rakguard_catalog::probe::Probe;
use rakguard_catalog::stripe_error::{self, StripeErrorKind};

/// What one answer says about the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The probe's permission is held.
    Granted,
    /// The probe's permission is not held; Stripe named these ids.
    Missing {
        /// The ids Stripe named.
        named: Vec<String>,
        /// Set when Stripe named ids the catalogue did not expect besides an expected one.
        note: Option<String>,
    },
    /// Nothing proven.
    Unknown {
        /// Why.
        reason: String,
        /// The ids Stripe named, for a 403 that named unexpected ones.
        named: Vec<String>,
    },
    /// The key itself was rejected: the whole run stops.
    KeyRejected(Rejection),
    /// A transient failure worth retrying (429, 409, 5xx unless told not to).
    Retry {
        /// Why.
        reason: RetryReason,
    },
}

/// Why a request is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryReason {
    /// 429 rate limit or lock timeout.
    RateLimited,
    /// 5xx, 409, or a connection failure.
    Failure,
}

/// A rejection of the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// 401 for an unknown key.
    Invalid,
    /// 401 `api_key_expired`.
    Expired,
    /// The key's IP allowlist excludes the caller.
    IpRestricted,
    /// 401 `secret_key_required`: a publishable key.
    Publishable,
    /// 403 `account_invalid`: `Stripe-Account` is out of reach.
    AccountInvalid,
    /// 403: the key has no Connect permissions and `Stripe-Account` was sent.
    NoConnectPermissions,
}

/// The permission ids a refusal of this probe may name and still prove it missing.
pub fn expected_names(catalog: &Catalog, probe: &Probe) -> Vec<String> {
    let mut names = Vec::new();
    let mut push = |permission: &Permission| {
        names.push(crate::verdict::permission_id(permission));
        if let Some(scope) = catalog.scope(permission) {
            names.push(scope.to_owned());
        }
    };
    // The probe's permission and everything it implies: lacking a permission the probe's one
    // implies proves lacking the probe's one too.
    let own = std::collections::BTreeSet::from([probe.permission.clone()]);
    for permission in catalog.effective(&own) {
        push(&permission);
    }
    if let Some(operation) = catalog.lookup(probe.method, &probe.path)
        && let Rule::Mapped {
            permission,
            names: printed,
            ..
        } = &operation.rule
        && permission.row == probe.permission.row
    {
        names.extend(printed.iter().cloned());
    }
    names.sort();
    names.dedup();
    names
}

/// Reads the final answer to a probe.
pub fn read(
    catalog: &Catalog,
    probe: &Probe,
    status: u16,
    body: &str,
    should_retry: Option<bool>,
) -> Answer {
    let error = (status >= 400).then(|| stripe_error::classify(status, body));
    let kind = error.as_ref().map(|error| &error.kind);
    // The key itself, whatever the probe.
    match kind {
        Some(StripeErrorKind::InvalidApiKey { .. } | StripeErrorKind::NoApiKey) => {
            return Answer::KeyRejected(Rejection::Invalid);
        }
        Some(StripeErrorKind::ExpiredApiKey { .. }) => {
            return Answer::KeyRejected(Rejection::Expired);
        }
        Some(StripeErrorKind::IpNotAllowed) => return Answer::KeyRejected(Rejection::IpRestricted),
        Some(StripeErrorKind::PublishableKeyNotAllowed) => {
            return Answer::KeyRejected(Rejection::Publishable);
        }
        Some(StripeErrorKind::AccountInvalid) => {
            return Answer::KeyRejected(Rejection::AccountInvalid);
        }
        Some(StripeErrorKind::MissingPermission(parsed)) if parsed.is_no_connect_permissions() => {
            return Answer::KeyRejected(Rejection::NoConnectPermissions);
        }
        Some(StripeErrorKind::NoConnectPermissions) => {
            return Answer::KeyRejected(Rejection::NoConnectPermissions);
        }
        _ => {}
    }
    // Transient failures.
    if should_retry == Some(true) && status != 403 && !probe.granted.contains(&status) {
        return Answer::Retry {
            reason: RetryReason::Failure,
        };
    }
    match kind {
        Some(StripeErrorKind::RateLimited { .. }) => {
            return Answer::Retry {
                reason: RetryReason::RateLimited,
            };
        }
        Some(StripeErrorKind::IdempotencyError { in_use: true }) => {
            return Answer::Retry {
                reason: RetryReason::Failure,
            };
        }
        _ => {}
    }
    if status >= 500 && should_retry != Some(false) {
        return Answer::Retry {
            reason: RetryReason::Failure,
        };
    }
    if status == 409 {
        return Answer::Retry {
            reason: RetryReason::Failure,
        };
    }
    if status == 403 {
        return read_forbidden(catalog, probe, kind);
    }
    if !probe.granted.contains(&status) {
        return Answer::Unknown {
            reason: format!(
                "HTTP {status}{} is not an answer this probe declares (granted on {:?}, missing on a 403 permission error)",
                describe_code(error.as_ref().and_then(|error| error.code.as_deref())),
                probe.granted
            ),
            named: Vec::new(),
        };
    }
    match (status, kind) {
        (200..=299, _) if probe.path.contains("expand") && lists_nothing(body) => Answer::Unknown {
            reason: "the list was empty, so there was nothing to expand: the expansion's permission may not have been checked".to_owned(),
            named: Vec::new(),
        },
        (200..=299, _) => Answer::Granted,
        (404, Some(StripeErrorKind::ResourceMissing { .. })) => Answer::Granted,
        (404, _) => Answer::Unknown {
            reason: "HTTP 404 without `resource_missing`: the route itself is unknown to this API, which says nothing about the permission".to_owned(),
            named: Vec::new(),
        },
        (
            400,
            Some(StripeErrorKind::InvalidRequest { .. } | StripeErrorKind::ResourceMissing { .. }),
        ) => Answer::Granted,
        (400, _) => Answer::Unknown {
            reason: format!(
                "HTTP 400{} is not a validation error, so it does not show the permission check passed",
                describe_code(error.as_ref().and_then(|error| error.code.as_deref()))
            ),
            named: Vec::new(),
        },
        _ => Answer::Unknown {
            reason: format!("HTTP {status} was not expected"),
            named: Vec::new(),
        },
    }
}

/// Whether a list answer holds no objects (`"data": []`).
fn lists_nothing(body: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|value| value.get("data")?.as_array().map(Vec::is_empty))
        .unwrap_or(false)
}

fn describe_code(code: Option<&str>) -> String {
    code.map(|code| format!(" ({code})")).unwrap_or_default()
}

fn read_forbidden(catalog: &Catalog, probe: &Probe, kind: Option<&StripeErrorKind>) -> Answer {
    match kind {
        Some(StripeErrorKind::MissingPermission(parsed)) => {
            let named: Vec<String> = parsed.permission_ids().map(str::to_owned).collect();
            let expected = expected_names(catalog, probe);
            let is_expected = |id: &String| expected.binary_search(id).is_ok();
            // Stripe names every permission that would allow the request, so a read request's
            // refusal also names the row's write: not a surprise, but no proof on its own.
            let write = Permission::new(
                probe.permission.row.clone(),
                rakguard_catalog::permission::Level::Write,
            );
            let alternative = |id: &String| {
                *id == crate::verdict::permission_id(&write)
                    || catalog.scope(&write).is_some_and(|scope| scope == id)
            };
            if named.iter().any(is_expected) {
                let unexpected: Vec<&String> = named
                    .iter()
                    .filter(|id| !is_expected(id) && !alternative(id))
                    .collect();
                let note = (!unexpected.is_empty()).then(|| {
                    format!(
                        "Stripe also named {}, which the catalogue does not list for this request",
                        join(&unexpected)
                    )
                });
                Answer::Missing { named, note }
            } else if named.is_empty() {
                // Stripe's 2017–2021 wording ("Having more permissions would allow this
                // request") names nothing: the key lacks what this request needs, which the
                // catalogue maps to the probe's permission.
                Answer::Missing {
                    named,
                    note: Some(format!(
                        "Stripe's refusal named no permission; the catalogue maps this request to {}",
                        catalog.permission_name(&probe.permission)
                    )),
                }
            } else {
                Answer::Unknown {
                    reason: format!(
                        "Stripe refused naming {}, not {} as the catalogue expects: the key lacks that permission, which says nothing certain about this one",
                        join(&named.iter().collect::<Vec<_>>()),
                        catalog.permission_name(&probe.permission)
                    ),
                    named,
                }
            }
        }
        Some(StripeErrorKind::RestrictedUnavailable) => Answer::Unknown {
            reason: "Stripe says no restricted key may call the probe's endpoint".to_owned(),
            named: Vec::new(),
        },
        _ => Answer::Unknown {
            reason: "HTTP 403 whose body is not a permission error".to_owned(),
            named: Vec::new(),
        },
    }
}

fn join(items: &[&String]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rakguard_catalog::endpoint::Method;
    use rakguard_catalog::permission::Level;
    use rakguard_catalog::stripe_error::{PermissionErrorEra, PermissionName, PermissionRefusal};

    fn probe(row: &str, level: Level) -> Probe {
        Catalog::embedded()
            .probe(&Permission::new(row.to_owned(), level))
            .cloned()
            .unwrap_or_else(|| Probe {
                permission: Permission::new(row.to_owned(), level),
                method: Method::Get,
                path: "/v1/customers?limit=1".to_owned(),
                body: String::new(),
                granted: vec![200],
                effect: rakguard_catalog::probe::Effect::None,
                invalid: String::new(),
                cleanup: String::new(),
                basis: rakguard_catalog::probe::ProbeBasis::Derived,
                note: String::new(),
            })
    }

    fn refusal(ids: &[&str], era: PermissionErrorEra) -> String {
        let names: Vec<PermissionName> = ids
            .iter()
            .map(|id| PermissionName::new(*id, "Something"))
            .collect();
        stripe_error::permission_error(
            era,
            &PermissionRefusal {
                masked_key: "rk_test_***abcdef",
                account_id: "acct_1",
                key_object_id: "rk_1",
                permissions: &names,
            },
        )
        .body_string()
    }

    #[test]
    fn a_refusal_naming_the_probe_permission_is_missing_in_every_era() {
        let catalog = Catalog::embedded();
        let probe = probe("customer", Level::Write);
        for era in [
            PermissionErrorEra::Current,
            PermissionErrorEra::Rak,
            PermissionErrorEra::Apps,
        ] {
            let body = refusal(&["customer_write"], era);
            let answer = read(catalog, &probe, 403, &body, None);
            assert!(
                matches!(&answer, Answer::Missing { named, note: None } if named == &["customer_write"]),
                "{era:?}: {answer:?} for {body}"
            );
        }
    }

    #[test]
    fn a_refusal_naming_nothing_is_missing_with_a_note_and_unavailable_is_unknown() {
        let catalog = Catalog::embedded();
        let probe = probe("customer", Level::Write);
        let body = refusal(&["customer_write"], PermissionErrorEra::MorePermissions);
        assert!(matches!(
            read(catalog, &probe, 403, &body, None),
            Answer::Missing { note: Some(_), .. }
        ));
        let body = refusal(&["customer_write"], PermissionErrorEra::Unavailable);
        assert!(matches!(
            read(catalog, &probe, 403, &body, None),
            Answer::Unknown { .. }
        ));
    }

    #[test]
    fn a_refusal_naming_another_row_is_unknown() {
        let catalog = Catalog::embedded();
        let probe = probe("customer", Level::Read);
        let body = refusal(&["charge_read"], PermissionErrorEra::Current);
        let answer = read(catalog, &probe, 403, &body, None);
        assert!(
            matches!(&answer, Answer::Unknown { named, .. } if named == &["charge_read"]),
            "{answer:?}"
        );
    }

    #[test]
    fn a_read_probe_refused_naming_write_is_missing() {
        let catalog = Catalog::embedded();
        let probe = probe("customer", Level::Read);
        let body = refusal(
            &["customer_read", "customer_write"],
            PermissionErrorEra::Rak,
        );
        assert!(matches!(
            read(catalog, &probe, 403, &body, None),
            Answer::Missing { note: None, .. }
        ));
    }

    #[test]
    fn a_404_is_granted_only_with_resource_missing() {
        let catalog = Catalog::embedded();
        let probe = probe("customer", Level::Write);
        assert_eq!(probe.granted, vec![404]);
        let missing = stripe_error::resource_missing(
            "customer",
            "cus_rakguardprobe",
            "id",
            stripe_error::Lookup::Path,
        )
        .body_string();
        assert_eq!(read(catalog, &probe, 404, &missing, None), Answer::Granted);
        let route = stripe_error::unrecognized_url("POST", "/v1/customers/x").body_string();
        assert!(matches!(
            read(catalog, &probe, 404, &route, None),
            Answer::Unknown { .. }
        ));
    }

    #[test]
    fn key_rejections_stop_the_run() {
        let catalog = Catalog::embedded();
        let probe = probe("customer", Level::Read);
        let invalid = stripe_error::invalid_api_key("rk_test_****1234").body_string();
        assert_eq!(
            read(catalog, &probe, 401, &invalid, None),
            Answer::KeyRejected(Rejection::Invalid)
        );
        let expired = stripe_error::expired_api_key("rk_test_****123456").body_string();
        assert_eq!(
            read(catalog, &probe, 401, &expired, None),
            Answer::KeyRejected(Rejection::Expired)
        );
        let ip = stripe_error::ip_not_allowed(Some("10.0.0.1")).body_string();
        assert_eq!(
            read(catalog, &probe, 401, &ip, None),
            Answer::KeyRejected(Rejection::IpRestricted)
        );
    }

    #[test]
    fn transient_answers_are_retried_and_never_read_as_results() {
        let catalog = Catalog::embedded();
        let probe = probe("customer", Level::Read);
        let limited = stripe_error::rate_limited().body_string();
        assert!(matches!(
            read(catalog, &probe, 429, &limited, None),
            Answer::Retry {
                reason: RetryReason::RateLimited
            }
        ));
        let failed = stripe_error::api_error("boom").body_string();
        assert!(matches!(
            read(catalog, &probe, 500, &failed, Some(true)),
            Answer::Retry { .. }
        ));
        assert!(matches!(
            read(catalog, &probe, 500, &failed, Some(false)),
            Answer::Unknown { .. }
        ));
        assert!(matches!(
            read(catalog, &probe, 502, "<html>bad gateway</html>", None),
            Answer::Retry { .. }
        ));
    }

    #[test]
    fn an_expansion_over_an_empty_list_proves_nothing() {
        let catalog = Catalog::embedded();
        let probe = probe("balance_transaction_source", Level::Read);
        assert!(probe.path.contains("expand"));
        assert!(matches!(
            read(
                catalog,
                &probe,
                200,
                r#"{"object":"list","data":[],"has_more":false}"#,
                None
            ),
            Answer::Unknown { .. }
        ));
        assert_eq!(
            read(
                catalog,
                &probe,
                200,
                r#"{"object":"list","data":[{"id":"txn_1"}]}"#,
                None
            ),
            Answer::Granted
        );
    }

    #[test]
    fn a_refusal_naming_an_implied_permission_is_missing() {
        // Balance transaction sources implies Balance: lacking Balance proves lacking it.
        let catalog = Catalog::embedded();
        let sources = probe("balance_transaction_source", Level::Read);
        let body = refusal(&["balance_read"], PermissionErrorEra::Current);
        assert!(matches!(
            read(catalog, &sources, 403, &body, None),
            Answer::Missing { note: None, .. }
        ));
        // The converse proves nothing: lacking Balance transaction sources says nothing of Balance.
        let balance = probe("balance", Level::Read);
        let body = refusal(
            &["balance_transaction_source_read"],
            PermissionErrorEra::Current,
        );
        assert!(matches!(
            read(catalog, &balance, 403, &body, None),
            Answer::Unknown { .. }
        ));
    }

    #[test]
    fn a_bare_403_is_unknown() {
        let catalog = Catalog::embedded();
        let probe = probe("customer", Level::Read);
        assert!(matches!(
            read(catalog, &probe, 403, "Forbidden", None),
            Answer::Unknown { .. }
        ));
    }
}
