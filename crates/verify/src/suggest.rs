//! Least privilege from traffic: the fewest permissions that allow the requests an integration
//! made, as a manifest.
//!
//! [`suggest`] reads either the emulator's request log (the JSON of
//! `GET /_emulator/v1/requests`: `{"data": [{"method", "path", "status", …}, …]}`) or plain
//! lines `METHOD PATH` (a query string or a full `https://api.stripe.com/…` URL is fine; blank
//! lines and `#` comments are skipped). Each request is mapped with the catalogue's router, the
//! permissions are reduced with [`Catalog::minimal`], and the result is a manifest in TOML that
//! [`Manifest::parse`] reads back, with the requests behind every permission and the ones that
//! map to none (with the reason). Pure.

use std::collections::{BTreeMap, BTreeSet};

use rakguard_catalog::Catalog;
use rakguard_catalog::endpoint::{ExceptionKind, Grade, Method, Rule};
use rakguard_catalog::manifest::{Manifest, Requirement, is_valid_id, slugify};
use rakguard_catalog::permission::{Level, Permission};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::verdict::permission_id;

/// How the suggested manifest is named, and which requests count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestOptions {
    /// The manifest's id (made a slug if it is not one).
    pub id: String,
    /// The manifest's name.
    pub name: String,
    /// Only the log entries of this key object (`mk_…`); plain lines have no key and all count.
    pub key_id: Option<String>,
}

impl Default for SuggestOptions {
    fn default() -> Self {
        SuggestOptions {
            id: "suggested".to_owned(),
            name: "Suggested permissions".to_owned(),
            key_id: None,
        }
    }
}

/// What the requests need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The manifest (TOML), parseable with [`Manifest::parse`]; `None` when no request maps to
    /// a permission (a manifest must require something).
    pub manifest: Option<String>,
    /// The permissions, fewest that allow every request, in the form's order.
    pub permissions: Vec<SuggestedPermission>,
    /// Requests that map to no permission, with the reason.
    pub unmatched: Vec<Unmatched>,
    /// Requests read (after the key filter).
    pub requests: usize,
    /// Requests that map to a permission.
    pub matched: usize,
}

/// One suggested permission and the requests that need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestedPermission {
    /// The permission id, `row_level` (`coupon_write`).
    pub permission: String,
    /// As the form shows it: "Billing → Coupons: Write".
    pub label: String,
    /// The weakest evidence grade among the mappings behind it: how sure the suggestion is.
    pub grade: Grade,
    /// The operations that need it (a read of the same row included when Write covers it).
    pub requests: Vec<OperationUse>,
}

/// An operation seen in the requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationUse {
    /// `GET /v1/customers/{customer}`.
    pub operation: String,
    /// How many requests were for it.
    pub count: usize,
    /// The permission the operation itself needs (`customer_read`), which may be weaker than the
    /// one it is listed under.
    pub needs: String,
    /// The mapping's evidence grade.
    pub grade: Grade,
}

/// Why a request maps to no permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmatchedKind {
    /// The line or entry could not be read as a request.
    Invalid,
    /// No API operation has this method and path.
    NoOperation,
    /// The operation is known, but no permission is known for it.
    Unknown,
    /// No restricted key can call it: it needs the secret key.
    Unavailable,
    /// It is made with a publishable key (client-side).
    Publishable,
    /// Any valid key may call it; no permission is needed.
    NotGated,
}

/// A request that maps to no permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmatched {
    /// Where it first occurs: the line (plain text) or the entry number (JSON log), from 1.
    pub at: usize,
    /// The request as read (`GET /v1/foo`), or the line.
    pub request: String,
    /// How many times it occurs.
    pub count: usize,
    /// The kind of reason.
    pub kind: UnmatchedKind,
    /// The reason, in words.
    pub reason: String,
}

/// Suggests the fewest permissions that allow the requests in `log`, with default naming.
pub fn suggest(log: &str) -> Suggestion {
    suggest_with(Catalog::embedded(), log, &SuggestOptions::default())
}

/// One request as read.
struct Request {
    at: usize,
    method: String,
    path: String,
}

/// [`suggest`] with a catalogue and options.
pub fn suggest_with(catalog: &Catalog, log: &str, options: &SuggestOptions) -> Suggestion {
    let mut unmatched: Vec<Unmatched> = Vec::new();
    let mut note = |at: usize, request: String, kind: UnmatchedKind, reason: String| {
        if let Some(seen) = unmatched
            .iter_mut()
            .find(|seen| seen.request == request && seen.kind == kind)
        {
            seen.count += 1;
        } else {
            unmatched.push(Unmatched {
                at,
                request,
                count: 1,
                kind,
                reason,
            });
        }
    };
    let requests = read_requests(log, options.key_id.as_deref(), &mut note);

    // Operation (method, template) → (permission, grade, count).
    let mut used: BTreeMap<(Method, String), (Permission, Grade, usize)> = BTreeMap::new();
    let mut matched = 0;
    for request in &requests {
        let shown = format!("{} {}", request.method, request.path);
        let method: Method = match request.method.parse() {
            Ok(method) => method,
            Err(error) => {
                note(request.at, shown, UnmatchedKind::Invalid, error.to_string());
                continue;
            }
        };
        let Some(operation) = catalog.lookup(method, &request.path) else {
            note(
                request.at,
                shown,
                UnmatchedKind::NoOperation,
                "no Stripe API operation has this method and path".to_owned(),
            );
            continue;
        };
        match &operation.rule {
            Rule::Mapped {
                permission, grade, ..
            } => {
                matched += 1;
                used.entry((operation.method, operation.path.clone()))
                    .or_insert((permission.clone(), *grade, 0))
                    .2 += 1;
            }
            Rule::Excepted { kind } => {
                let (kind, reason) = exception(*kind, &operation.basis);
                note(
                    request.at,
                    format!("{method} {}", operation.path),
                    kind,
                    reason,
                );
            }
        }
    }

    let needed: BTreeSet<Permission> = used.values().map(|(p, _, _)| p.clone()).collect();
    let mut minimal: Vec<Permission> = catalog.minimal(&needed).into_iter().collect();
    catalog.sort_as_form(&mut minimal);
    let permissions: Vec<SuggestedPermission> = minimal
        .iter()
        .map(|permission| {
            let covers = |needs: &Permission| {
                needs == permission
                    || (needs.row == permission.row
                        && needs.level == Level::Read
                        && permission.level == Level::Write)
            };
            let requests: Vec<OperationUse> = used
                .iter()
                .filter(|(_, (needs, _, _))| covers(needs))
                .map(|((method, path), (needs, grade, count))| OperationUse {
                    operation: format!("{method} {path}"),
                    count: *count,
                    needs: permission_id(needs),
                    grade: *grade,
                })
                .collect();
            let grade = requests
                .iter()
                .map(|operation| operation.grade)
                .max()
                .unwrap_or(Grade::GuessLow);
            SuggestedPermission {
                permission: permission_id(permission),
                label: catalog.form_label(permission),
                grade,
                requests,
            }
        })
        .collect();
    let manifest = (!permissions.is_empty()).then(|| {
        manifest_toml(
            catalog,
            options,
            &minimal,
            &permissions,
            requests.len(),
            matched,
        )
    });
    unmatched.sort_by_key(|unmatched| unmatched.at);
    Suggestion {
        manifest,
        permissions,
        unmatched,
        requests: requests.len(),
        matched,
    }
}

fn exception(kind: ExceptionKind, basis: &str) -> (UnmatchedKind, String) {
    let (kind, words) = match kind {
        ExceptionKind::Publishable => (
            UnmatchedKind::Publishable,
            "made with a publishable key (client-side); no restricted-key permission covers it",
        ),
        ExceptionKind::Unavailable => (
            UnmatchedKind::Unavailable,
            "no restricted key can call it: it needs the secret key",
        ),
        ExceptionKind::NotGated => (
            UnmatchedKind::NotGated,
            "any valid key may call it; it needs no permission",
        ),
        ExceptionKind::Unknown => (
            UnmatchedKind::Unknown,
            "the catalogue knows no permission for it; find it by hand and add it",
        ),
    };
    let basis = basis.trim();
    let reason = if basis.is_empty() {
        words.to_owned()
    } else {
        format!("{words} ({basis})")
    };
    (kind, reason)
}

/// Reads the requests: the emulator's JSON log, or plain lines.
fn read_requests(
    log: &str,
    key_id: Option<&str>,
    note: &mut impl FnMut(usize, String, UnmatchedKind, String),
) -> Vec<Request> {
    let trimmed = log.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return read_json(trimmed, key_id, note);
    }
    let mut requests = Vec::new();
    for (index, raw) in log.lines().enumerate() {
        let at = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(method), Some(target)) = (words.next(), words.next()) else {
            note(
                at,
                line.to_owned(),
                UnmatchedKind::Invalid,
                "expected `METHOD PATH`, e.g. `GET /v1/customers`".to_owned(),
            );
            continue;
        };
        match path_of(target) {
            Some(path) => requests.push(Request {
                at,
                method: method.to_ascii_uppercase(),
                path,
            }),
            None => note(
                at,
                line.to_owned(),
                UnmatchedKind::Invalid,
                "the second word is neither a path (/v1/…) nor an https:// URL".to_owned(),
            ),
        }
    }
    requests
}

/// The path (with query string) of a path or a full URL.
fn path_of(target: &str) -> Option<String> {
    let target = target.split('#').next().unwrap_or_default();
    if target.starts_with('/') {
        return Some(target.to_owned());
    }
    let rest = target
        .strip_prefix("https://")
        .or_else(|| target.strip_prefix("http://"))?;
    match rest.find(['/', '?']) {
        Some(start) => {
            let path = rest.get(start..).unwrap_or("/");
            Some(if path.starts_with('?') {
                format!("/{path}")
            } else {
                path.to_owned()
            })
        }
        None => Some("/".to_owned()),
    }
}

fn read_json(
    text: &str,
    key_id: Option<&str>,
    note: &mut impl FnMut(usize, String, UnmatchedKind, String),
) -> Vec<Request> {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => {
            note(
                error.line(),
                "(the input)".to_owned(),
                UnmatchedKind::Invalid,
                format!("the input starts like JSON but is not valid JSON: {error}"),
            );
            return Vec::new();
        }
    };
    let entries = match &value {
        Value::Array(entries) => entries,
        Value::Object(object) => match object.get("data") {
            Some(Value::Array(entries)) => entries,
            _ => {
                note(
                    1,
                    "(the input)".to_owned(),
                    UnmatchedKind::Invalid,
                    "expected the emulator's request log: {\"data\": [{\"method\": …, \"path\": …}, …]}"
                        .to_owned(),
                );
                return Vec::new();
            }
        },
        _ => {
            note(
                1,
                "(the input)".to_owned(),
                UnmatchedKind::Invalid,
                "expected a JSON object with \"data\" or an array of log entries".to_owned(),
            );
            return Vec::new();
        }
    };
    let mut requests = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let at = index + 1;
        if let Some(wanted) = key_id
            && entry.get("key_id").and_then(Value::as_str) != Some(wanted)
        {
            continue;
        }
        let method = entry.get("method").and_then(Value::as_str);
        let path = entry.get("path").and_then(Value::as_str);
        match (method, path.and_then(path_of)) {
            (Some(method), Some(path)) => requests.push(Request {
                at,
                method: method.to_ascii_uppercase(),
                path,
            }),
            _ => note(
                at,
                format!("entry {at}"),
                UnmatchedKind::Invalid,
                "a log entry needs string fields \"method\" and \"path\"".to_owned(),
            ),
        }
    }
    requests
}

fn manifest_toml(
    catalog: &Catalog,
    options: &SuggestOptions,
    minimal: &[Permission],
    permissions: &[SuggestedPermission],
    requests: usize,
    matched: usize,
) -> String {
    let id = if is_valid_id(&options.id) {
        options.id.clone()
    } else {
        let slug = slugify(&options.id);
        if slug.is_empty() {
            "suggested".to_owned()
        } else {
            slug
        }
    };
    let name = if options.name.trim().is_empty() {
        "Suggested permissions".to_owned()
    } else {
        options.name.trim().to_owned()
    };
    let requirements = minimal
        .iter()
        .zip(permissions)
        .map(|(permission, suggested)| Requirement {
            permission: permission.clone(),
            purpose: purpose(suggested),
        })
        .collect();
    let manifest = Manifest {
        id,
        name: name.clone(),
        description: format!(
            "The fewest permissions that allow the {matched} mapped request(s) seen."
        ),
        key_name: name,
        accept_secret_keys: false,
        permissions: requirements,
        connect_permissions: Vec::new(),
        tiers: Vec::new(),
        alternates: Vec::new(),
    };
    let mut out = format!(
        "# Suggested by `rakguard suggest` from {requests} request(s), {matched} of them mapped to a permission.\n# Review the purposes before publishing; verify a key against it with `rakguard verify`.\n"
    );
    for suggested in permissions {
        if suggested.grade > Grade::DerivedHigh {
            out.push_str(&format!(
                "# Check: {} rests on a {} mapping ({}).\n",
                suggested.label,
                suggested.grade,
                suggested.grade.describe()
            ));
        }
    }
    out.push('\n');
    out.push_str(&manifest.to_toml_with(catalog));
    out
}

/// A purpose naming the operations behind a permission.
fn purpose(suggested: &SuggestedPermission) -> String {
    let operations: Vec<String> = suggested
        .requests
        .iter()
        .map(|operation| {
            if operation.count == 1 {
                operation.operation.clone()
            } else {
                format!("{} ({} requests)", operation.operation, operation.count)
            }
        })
        .collect();
    format!("Needed for {}.", operations.join(", "))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use proptest::prelude::*;

    fn parse_back(suggestion: &Suggestion) -> Manifest {
        let text = suggestion.manifest.as_deref().expect("a manifest");
        Manifest::parse(Catalog::embedded(), "suggested.toml", text)
            .unwrap_or_else(|errors| panic!("{errors}\n---\n{text}"))
    }

    fn ids(suggestion: &Suggestion) -> Vec<&str> {
        suggestion
            .permissions
            .iter()
            .map(|permission| permission.permission.as_str())
            .collect()
    }

    #[test]
    fn plain_lines_give_a_minimal_manifest_that_parses_back() {
        let log = "\
# what the integration did
GET /v1/customers?limit=3

get /v1/customers/cus_123
POST /v1/customers
GET https://api.stripe.com/v1/coupons/SUMMER?expand[]=applies_to
POST https://api.stripe.com/v1/coupons
GET /v1/charges/ch_1
";
        let suggestion = suggest(log);
        assert_eq!(suggestion.requests, 6);
        assert_eq!(suggestion.matched, 6);
        assert!(
            suggestion.unmatched.is_empty(),
            "{:?}",
            suggestion.unmatched
        );
        let mut expected = vec!["customer_write", "charge_read", "coupon_write"];
        let catalog = Catalog::embedded();
        expected.sort_by_key(|id| catalog.row_position(id.rsplit_once('_').unwrap().0));
        assert_eq!(ids(&suggestion), expected);

        let customer = &suggestion.permissions[ids(&suggestion)
            .iter()
            .position(|id| *id == "customer_write")
            .unwrap()];
        assert_eq!(customer.label, "Core → Customers: Write");
        let operations: Vec<(&str, usize)> = customer
            .requests
            .iter()
            .map(|operation| (operation.operation.as_str(), operation.count))
            .collect();
        assert!(
            operations.contains(&("GET /v1/customers", 1)),
            "{operations:?}"
        );
        assert!(
            operations.contains(&("GET /v1/customers/{customer}", 1)),
            "{operations:?}"
        );
        assert!(
            operations.contains(&("POST /v1/customers", 1)),
            "{operations:?}"
        );

        let manifest = parse_back(&suggestion);
        assert_eq!(manifest.id, "suggested");
        let required: Vec<String> = manifest
            .requirements(None)
            .unwrap()
            .iter()
            .map(|requirement| permission_id(&requirement.permission))
            .collect();
        assert_eq!(required, expected);
        assert!(manifest.permissions[0].purpose.starts_with("Needed for "));
    }

    #[test]
    fn the_emulator_log_is_read_and_filtered_by_key() {
        let log = serde_json::json!({
            "object": "list",
            "data": [
                {"time": 1, "key_id": "mk_a", "method": "GET", "path": "/v1/invoices", "status": 200, "permission": "invoice_read", "request_id": "req_1"},
                {"time": 2, "key_id": "mk_a", "method": "POST", "path": "/v1/invoices", "status": 403, "permission": "invoice_write", "request_id": "req_2"},
                {"time": 3, "key_id": "mk_b", "method": "GET", "path": "/v1/balance", "status": 200, "permission": "balance_read", "request_id": "req_3"},
                {"time": 4, "key_id": null, "method": "GET", "path": "/v1/nothing_here", "status": 404, "permission": null, "request_id": "req_4"}
            ]
        })
        .to_string();
        let all = suggest(&log);
        assert_eq!(all.requests, 4);
        let mut found = ids(&all);
        found.sort_unstable();
        assert_eq!(found, ["balance_read", "invoice_write"]);
        assert!(ids(&all).contains(&"invoice_write"));
        assert!(!ids(&all).contains(&"invoice_read"), "Write covers Read");
        assert_eq!(all.unmatched.len(), 1);
        assert_eq!(all.unmatched[0].kind, UnmatchedKind::NoOperation);
        assert_eq!(all.unmatched[0].at, 4);
        parse_back(&all);

        let one = suggest_with(
            Catalog::embedded(),
            &log,
            &SuggestOptions {
                id: "Billing Sync!".to_owned(),
                name: "Billing sync".to_owned(),
                key_id: Some("mk_b".to_owned()),
            },
        );
        assert_eq!(one.requests, 1);
        assert_eq!(ids(&one), ["balance_read"]);
        let manifest = parse_back(&one);
        assert_eq!(manifest.id, "billing-sync");
        assert_eq!(manifest.name, "Billing sync");
    }

    #[test]
    fn unusable_lines_are_reported_with_reasons() {
        let log = "GET\nPUT /v1/customers\nGET customers\nGET /v1/customers\nGET /v1/nope\nGET /v1/nope\n";
        let suggestion = suggest(log);
        let kinds: Vec<(usize, UnmatchedKind, usize)> = suggestion
            .unmatched
            .iter()
            .map(|unmatched| (unmatched.at, unmatched.kind, unmatched.count))
            .collect();
        assert_eq!(
            kinds,
            [
                (1, UnmatchedKind::Invalid, 1),
                (2, UnmatchedKind::Invalid, 1),
                (3, UnmatchedKind::Invalid, 1),
                (5, UnmatchedKind::NoOperation, 2),
            ]
        );
        assert_eq!(ids(&suggestion), ["customer_read"]);
    }

    #[test]
    fn excepted_operations_say_why() {
        let catalog = Catalog::embedded();
        let mut checked = 0;
        for (kind, expected) in [
            (ExceptionKind::Unavailable, UnmatchedKind::Unavailable),
            (ExceptionKind::Publishable, UnmatchedKind::Publishable),
            (ExceptionKind::NotGated, UnmatchedKind::NotGated),
            (ExceptionKind::Unknown, UnmatchedKind::Unknown),
        ] {
            let Some(operation) = catalog
                .operations()
                .iter()
                .find(|operation| operation.rule == Rule::Excepted { kind })
            else {
                continue;
            };
            let path = operation
                .path
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        "x_1"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let suggestion = suggest(&format!("{} {path}\nGET /v1/customers\n", operation.method));
            // The filled-in path may match a more specific literal route; only check exact hits.
            if catalog.lookup(operation.method, &path) != Some(operation) {
                continue;
            }
            assert_eq!(suggestion.unmatched.len(), 1, "{operation}");
            assert_eq!(suggestion.unmatched[0].kind, expected, "{operation}");
            assert!(!suggestion.unmatched[0].reason.is_empty());
            checked += 1;
        }
        assert!(checked >= 2, "only {checked} exception kinds checked");
    }

    #[test]
    fn nothing_mapped_gives_no_manifest() {
        let suggestion = suggest("# nothing\n\nGET /v1/nope\n");
        assert_eq!(suggestion.manifest, None);
        assert!(suggestion.permissions.is_empty());
        let broken = suggest("{\"data\": [");
        assert_eq!(broken.unmatched[0].kind, UnmatchedKind::Invalid);
        let wrong = suggest("{\"items\": []}");
        assert_eq!(wrong.unmatched[0].kind, UnmatchedKind::Invalid);
    }

    #[test]
    fn urls_and_paths_are_read() {
        assert_eq!(path_of("/v1/x?y=1").as_deref(), Some("/v1/x?y=1"));
        assert_eq!(
            path_of("https://api.stripe.com/v1/x?y=1#frag").as_deref(),
            Some("/v1/x?y=1")
        );
        assert_eq!(
            path_of("http://127.0.0.1:12111/v1/x").as_deref(),
            Some("/v1/x")
        );
        assert_eq!(path_of("https://api.stripe.com").as_deref(), Some("/"));
        assert_eq!(path_of("v1/x"), None);
    }

    proptest! {
        #[test]
        fn any_input_gives_a_parseable_manifest_or_none(log in "(((GET|POST|DELETE|get|PUT) (/v1/(customers|coupons|charges|invoices|balance|prices)(/[a-z_0-9]{1,8})?|https://api.stripe.com/v1/products)?)?\n){0,12}") {
            let suggestion = suggest(&log);
            if let Some(text) = &suggestion.manifest {
                prop_assert!(Manifest::parse(Catalog::embedded(), "p.toml", text).is_ok(), "{}", text);
            }
        }

        #[test]
        fn arbitrary_text_never_panics(log in ".{0,300}") {
            let _ = suggest(&log);
        }
    }
}
