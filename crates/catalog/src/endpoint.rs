//! API operations and the permission each one needs, with a router that maps a concrete request
//! (`GET /v1/customers/cus_123?expand[]=x`) to its operation.
//!
//! The router is on the emulator's hot path: a lookup allocates nothing unless the path needs
//! percent-decoding, and is benchmarked in `benches/lookup.rs`.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::permission::Permission;

/// An HTTP method Stripe's API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET`: reads.
    Get,
    /// `POST`: creates, updates and actions.
    Post,
    /// `DELETE`: deletions.
    Delete,
}

impl Method {
    /// All methods.
    pub const ALL: [Method; 3] = [Method::Get, Method::Post, Method::Delete];

    /// The method's name in upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }

    fn index(self) -> usize {
        match self {
            Method::Get => 0,
            Method::Post => 1,
            Method::Delete => 2,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = UnknownMethod;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("GET") {
            Ok(Method::Get)
        } else if s.eq_ignore_ascii_case("POST") {
            Ok(Method::Post)
        } else if s.eq_ignore_ascii_case("DELETE") {
            Ok(Method::Delete)
        } else {
            Err(UnknownMethod(s.to_owned()))
        }
    }
}

/// A method Stripe's API does not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown HTTP method {0:?}: Stripe's API uses GET, POST and DELETE")]
pub struct UnknownMethod(pub String);

/// How sure the catalogue is of a mapping, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grade {
    /// Listed in Stripe's own API permissions reference.
    Documented,
    /// Seen in a real 403, or recorded by a key analyzer that probed this exact operation.
    Observed,
    /// Same resource as an observed or documented operation; level by Stripe's documented rule.
    DerivedHigh,
    /// A sub-resource or sibling assumed to ride on the row.
    DerivedMedium,
    /// A weak name match: treat as a hypothesis.
    GuessLow,
}

impl Grade {
    /// All grades, strongest first.
    pub const ALL: [Grade; 5] = [
        Grade::Documented,
        Grade::Observed,
        Grade::DerivedHigh,
        Grade::DerivedMedium,
        Grade::GuessLow,
    ];

    /// The grade's name in data files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Documented => "documented",
            Grade::Observed => "observed",
            Grade::DerivedHigh => "derived-high",
            Grade::DerivedMedium => "derived-medium",
            Grade::GuessLow => "guess-low",
        }
    }

    /// A phrase for people: how much to trust a mapping of this grade.
    pub fn describe(self) -> &'static str {
        match self {
            Grade::Documented => "documented by Stripe",
            Grade::Observed => "observed in a real Stripe 403",
            Grade::DerivedHigh => "derived from an observed operation of the same resource",
            Grade::DerivedMedium => "derived from the resource family (not observed)",
            Grade::GuessLow => "a guess from the resource's name (unconfirmed)",
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Grade {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Grade::ALL
            .into_iter()
            .find(|grade| grade.as_str() == s.trim())
            .ok_or_else(|| format!("unknown grade {s:?}"))
    }
}

/// Why an operation is not mapped to a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// Meant for publishable keys (client-side calls).
    Publishable,
    /// No restricted key can call it ("not available for use by restricted keys").
    Unavailable,
    /// Any valid key may call it.
    NotGated,
    /// No permission is known for it.
    Unknown,
}

impl ExceptionKind {
    /// The kind's name in data files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::Publishable => "publishable",
            ExceptionKind::Unavailable => "unavailable",
            ExceptionKind::NotGated => "not_gated",
            ExceptionKind::Unknown => "unknown",
        }
    }
}

impl FromStr for ExceptionKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "publishable" => ExceptionKind::Publishable,
            "unavailable" => ExceptionKind::Unavailable,
            "not_gated" => ExceptionKind::NotGated,
            "unknown" => ExceptionKind::Unknown,
            other => return Err(format!("unknown exception kind {other:?}")),
        })
    }
}

/// What an operation requires of a restricted key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Rule {
    /// The operation needs this permission.
    Mapped {
        /// The permission (row and level).
        permission: Permission,
        /// How sure the catalogue is.
        grade: Grade,
        /// Permission ids Stripe has been seen to name in its 403 instead of the row's own.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        names: Vec<String>,
    },
    /// The operation is not mapped, for a stated reason.
    Excepted {
        /// The kind of exception.
        kind: ExceptionKind,
    },
}

/// An API operation: a method and a path template such as `/v1/customers/{customer}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operation {
    /// The HTTP method.
    pub method: Method,
    /// The path template with `{param}` segments.
    pub path: String,
    /// What it requires.
    pub rule: Rule,
    /// The source or rule behind the mapping, or the reason for the exception.
    pub basis: String,
}

impl Operation {
    /// The permission the operation needs, when mapped.
    pub fn permission(&self) -> Option<&Permission> {
        match &self.rule {
            Rule::Mapped { permission, .. } => Some(permission),
            Rule::Excepted { .. } => None,
        }
    }

    /// The mapping's grade, when mapped.
    pub fn grade(&self) -> Option<Grade> {
        match &self.rule {
            Rule::Mapped { grade, .. } => Some(*grade),
            Rule::Excepted { .. } => None,
        }
    }

    /// `v1` or `v2`, from the path.
    pub fn api_version(&self) -> &str {
        self.path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
    }

    /// The names of the path parameters, in order.
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// The router from concrete requests to operations: one [`matchit::Router`] per method.
///
/// Path parameters are renamed by position (`{p0}`, `{p1}`) on insertion, because Stripe's path
/// templates name the same position differently across sibling routes and matchit rejects that.
#[derive(Debug, Clone, Default)]
pub struct Router {
    by_method: [matchit::Router<usize>; 3],
}

/// A request matched to an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<'c> {
    /// The operation.
    pub operation: &'c Operation,
    /// The path parameters as (template name, concrete value), percent-decoded.
    pub params: Vec<(&'c str, String)>,
}

/// Why an operation could not be added to the router.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot route {method} {path}: {message}")]
pub struct RouteConflict {
    /// The method.
    pub method: Method,
    /// The path template.
    pub path: String,
    /// matchit's explanation.
    pub message: String,
}

impl Router {
    /// Adds operation number `index` with the given method and path template.
    pub fn insert(
        &mut self,
        method: Method,
        path: &str,
        index: usize,
    ) -> Result<(), RouteConflict> {
        let mut position = 0;
        let normalised: Vec<String> = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') && segment.ends_with('}') {
                    position += 1;
                    format!("{{p{}}}", position - 1)
                } else {
                    segment.to_owned()
                }
            })
            .collect();
        self.by_method[method.index()]
            .insert(normalised.join("/"), index)
            .map_err(|error| RouteConflict {
                method,
                path: path.to_owned(),
                message: error.to_string(),
            })
    }

    /// The index of the operation a concrete request path is for, and the raw parameter values.
    ///
    /// Accepts a query string (ignored), a trailing slash, and percent-encoded segments.
    pub fn at(&self, method: Method, raw_path: &str) -> Option<(usize, Vec<String>)> {
        let path = normalise_path(raw_path)?;
        let matched = self.by_method[method.index()].at(&path).ok()?;
        let params = matched
            .params
            .iter()
            .map(|(_, value)| value.to_owned())
            .collect();
        Some((*matched.value, params))
    }

    /// The index of the operation, without collecting parameters (the fast path).
    pub fn index_of(&self, method: Method, raw_path: &str) -> Option<usize> {
        let path = normalise_path(raw_path)?;
        self.by_method[method.index()]
            .at(&path)
            .ok()
            .map(|matched| *matched.value)
    }
}

/// Strips the query string, fragment and a trailing slash, and percent-decodes segments that need
/// it. Borrows when nothing needs changing. Returns `None` for paths that cannot be Stripe's
/// (not starting with `/`).
fn normalise_path(raw: &str) -> Option<Cow<'_, str>> {
    let end = raw.find(['?', '#']).unwrap_or(raw.len());
    let mut path = &raw[..end];
    if !path.starts_with('/') {
        return None;
    }
    while path.len() > 1 && path.ends_with('/') {
        path = &path[..path.len() - 1];
    }
    if !path.contains('%') {
        return Some(Cow::Borrowed(path));
    }
    let decoded: Vec<Cow<'_, str>> = path
        .split('/')
        .map(|segment| {
            match percent_encoding::percent_decode_str(segment).decode_utf8() {
                // A decoded `/` would change the shape of the path: keep such segments encoded.
                Ok(text) if !text.contains('/') => text,
                _ => Cow::Borrowed(segment),
            }
        })
        .collect();
    Some(Cow::Owned(decoded.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_keeps_simple_paths_borrowed() {
        assert!(matches!(
            normalise_path("/v1/customers"),
            Some(Cow::Borrowed("/v1/customers"))
        ));
        assert_eq!(
            normalise_path("/v1/customers/?limit=1").as_deref(),
            Some("/v1/customers")
        );
        assert_eq!(
            normalise_path("/v1/customers/%63us_1").as_deref(),
            Some("/v1/customers/cus_1")
        );
        assert_eq!(
            normalise_path("/v1/customers/a%2Fb").as_deref(),
            Some("/v1/customers/a%2Fb")
        );
        assert_eq!(normalise_path("v1/customers"), None);
        assert_eq!(normalise_path("/").as_deref(), Some("/"));
    }

    #[test]
    fn method_parses_case_insensitively_and_rejects_others() {
        assert_eq!("get".parse::<Method>(), Ok(Method::Get));
        assert_eq!("DELETE".parse::<Method>(), Ok(Method::Delete));
        assert!("PATCH".parse::<Method>().is_err());
    }
}
