//! Probes: one request per (row, level) that tells whether a key holds that permission, without
//! side effects even when it does.
//!
//! Stripe checks a restricted key's permissions before it validates parameters or looks the object
//! up, so a request for an object that cannot exist answers 404 when the key holds the permission
//! and 403 when it does not, and touches nothing either way. The rules every probe obeys are
//! enforced by [`Probe::check_rules`] and tested over the whole catalogue.

use serde::{Deserialize, Serialize};

use crate::endpoint::Method;
use crate::permission::Permission;

/// The text every made-up object id in a probe contains, so such ids can never exist in an
/// account and are easy to recognise in request logs.
pub const SENTINEL: &str = "rakguardprobe";

/// What a probe does to the account when the key holds the permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Nothing: it targets an object that cannot exist or sends a body that must fail validation.
    None,
    /// It creates an object, which the prober must delete with the probe's cleanup operation.
    Creates,
}

/// How the probe itself is known to work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeBasis {
    /// A key analyzer used this exact request against Stripe and recorded both outcomes.
    Observed,
    /// Built by the catalogue's rules from the operation's shape.
    Derived,
}

/// One probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    /// The permission it tests.
    pub permission: Permission,
    /// The request method.
    pub method: Method,
    /// The concrete request path, with query string where needed.
    pub path: String,
    /// The form-encoded body (empty for none).
    pub body: String,
    /// Statuses that mean the key holds the permission.
    pub granted: Vec<u16>,
    /// Whether the probe creates anything.
    pub effect: Effect,
    /// For probes expecting 400: why the request must fail validation.
    pub invalid: String,
    /// For probes that create: the operation that removes what they created (`DELETE /v1/x/{id}`).
    pub cleanup: String,
    /// How the probe is known to work.
    pub basis: ProbeBasis,
    /// Context for people.
    pub note: String,
}

/// What one probe answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reading {
    /// The status is one the probe declares as granted.
    Granted,
    /// A 403 whose body is a permission error.
    Missing,
    /// Anything else: the answer proves nothing either way.
    Unknown,
}

impl Probe {
    /// Reads an answer: `granted` statuses mean granted; a 403 counts as missing only when the
    /// caller has established that its body is a permission error (see
    /// [`crate::stripe_error`]); everything else is unknown.
    pub fn read(&self, status: u16, is_permission_error: bool) -> Reading {
        if status == 403 && is_permission_error {
            Reading::Missing
        } else if self.granted.contains(&status) {
            Reading::Granted
        } else {
            Reading::Unknown
        }
    }

    /// Whether the request targets or references an object that cannot exist.
    pub fn uses_sentinel(&self) -> bool {
        self.path.contains(SENTINEL) || self.body.contains(SENTINEL)
    }

    /// Every way this probe breaks the rules that keep probing free of side effects. Empty when
    /// the probe is sound.
    pub fn check_rules(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.granted.is_empty() {
            problems.push("declares no granted status".to_owned());
        }
        if self.granted.contains(&403) {
            problems.push("treats 403 as granted".to_owned());
        }
        if self
            .granted
            .iter()
            .any(|status| !matches!(status, 200 | 400 | 404))
        {
            problems.push(format!(
                "granted statuses {:?} must be 200, 400 or 404",
                self.granted
            ));
        }
        if !self.path.starts_with("/v1/") && !self.path.starts_with("/v2/") {
            problems.push(format!("path {:?} is not a Stripe API path", self.path));
        }
        match (self.method, self.effect) {
            (Method::Get, Effect::Creates) => problems.push("a GET cannot create".to_owned()),
            (Method::Get, Effect::None) => {
                if !self.body.is_empty() {
                    problems.push("a GET probe carries no body".to_owned());
                }
            }
            (_, Effect::None) => {
                if !self.uses_sentinel() && self.invalid.trim().is_empty() {
                    problems.push(format!(
                        "a {} probe must target a sentinel id ({SENTINEL}) or explain why its \
                         body fails validation",
                        self.method
                    ));
                }
                if self.granted.contains(&200) {
                    problems.push(format!(
                        "a {} probe without side effects cannot succeed with 200",
                        self.method
                    ));
                }
                if !self.uses_sentinel() && self.granted.iter().any(|status| *status != 400) {
                    problems
                        .push("a probe that relies on invalid input must expect 400".to_owned());
                }
            }
            (_, Effect::Creates) => {
                if self.cleanup.trim().is_empty() {
                    problems.push("a probe that creates must name its cleanup".to_owned());
                }
            }
        }
        if self.effect == Effect::None && !self.cleanup.is_empty() {
            problems.push("a probe without side effects needs no cleanup".to_owned());
        }
        problems
    }
}
