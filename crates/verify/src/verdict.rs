//! The verdict: what a verification found, with the evidence behind every answer.
//!
//! A [`Verdict`] serialises to stable JSON (`schema = 1`; fields are only ever added). Nothing in
//! it can reveal the key: the key appears masked, and probe paths carry only sentinel ids.

use rakguard_catalog::key::{KeyKind, Mode};
use rakguard_catalog::permission::{Level, Permission};
use serde::{Deserialize, Serialize};

/// The version of the verdict's JSON shape.
pub const SCHEMA: u32 = 1;

/// The overall answer, as a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Code {
    /// The key holds everything asked for (for `scan`: every probed row was determined).
    #[serde(rename = "ok")]
    Ok,
    /// At least one required permission is proven missing.
    #[serde(rename = "STRIPE_PERMISSIONS_MISSING")]
    PermissionsMissing,
    /// Stripe does not know the key (mistyped, deleted, from another account, or revoked).
    #[serde(rename = "STRIPE_KEY_INVALID")]
    KeyInvalid,
    /// A key that verified before is now unknown to Stripe: it was deleted or rolled.
    #[serde(rename = "STRIPE_KEY_REVOKED")]
    KeyRevoked,
    /// Stripe says the key has expired (`api_key_expired`).
    #[serde(rename = "STRIPE_KEY_EXPIRED")]
    KeyExpired,
    /// The key's IP allowlist excludes the address the check ran from.
    #[serde(rename = "STRIPE_KEY_IP_RESTRICTED")]
    KeyIpRestricted,
    /// A publishable key (`pk_…`) was given where a restricted key is needed.
    #[serde(rename = "STRIPE_KEY_PUBLISHABLE")]
    KeyPublishable,
    /// The key's mode does not match the slot it was given for (a live key in the test field).
    #[serde(rename = "STRIPE_KEY_WRONG_MODE")]
    KeyWrongMode,
    /// A full secret key (`sk_…`) was given and the integration accepts only restricted keys.
    #[serde(rename = "STRIPE_SECRET_KEY_REFUSED")]
    SecretKeyRefused,
    /// The text is not a Stripe API key at all.
    #[serde(rename = "STRIPE_KEY_MALFORMED")]
    KeyMalformed,
    /// `Stripe-Account` names an account the key cannot reach.
    #[serde(rename = "STRIPE_ACCOUNT_INVALID")]
    AccountInvalid,
    /// Stripe kept answering 429 until the retries or the deadline ran out.
    #[serde(rename = "STRIPE_RATE_LIMITED")]
    RateLimited,
    /// Stripe could not be reached (connection errors, timeouts) until the retries ran out.
    #[serde(rename = "STRIPE_UNREACHABLE")]
    Unreachable,
    /// Nothing is proven missing but some answers are unknown.
    #[serde(rename = "STRIPE_VERIFICATION_INCOMPLETE")]
    Incomplete,
}

impl Code {
    /// The code as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Ok => "ok",
            Code::PermissionsMissing => "STRIPE_PERMISSIONS_MISSING",
            Code::KeyInvalid => "STRIPE_KEY_INVALID",
            Code::KeyRevoked => "STRIPE_KEY_REVOKED",
            Code::KeyExpired => "STRIPE_KEY_EXPIRED",
            Code::KeyIpRestricted => "STRIPE_KEY_IP_RESTRICTED",
            Code::KeyPublishable => "STRIPE_KEY_PUBLISHABLE",
            Code::KeyWrongMode => "STRIPE_KEY_WRONG_MODE",
            Code::SecretKeyRefused => "STRIPE_SECRET_KEY_REFUSED",
            Code::KeyMalformed => "STRIPE_KEY_MALFORMED",
            Code::AccountInvalid => "STRIPE_ACCOUNT_INVALID",
            Code::RateLimited => "STRIPE_RATE_LIMITED",
            Code::Unreachable => "STRIPE_UNREACHABLE",
            Code::Incomplete => "STRIPE_VERIFICATION_INCOMPLETE",
        }
    }

    /// What the code means for a caller: the key was refused or rejected (so the merchant must
    /// supply another key), as opposed to a permission gap or an inconclusive run.
    pub fn is_key_rejected(self) -> bool {
        matches!(
            self,
            Code::KeyInvalid
                | Code::KeyRevoked
                | Code::KeyExpired
                | Code::KeyIpRestricted
                | Code::KeyPublishable
                | Code::KeyWrongMode
                | Code::SecretKeyRefused
                | Code::KeyMalformed
                | Code::AccountInvalid
        )
    }

    /// Whether the run could not decide (rate limited, unreachable, incomplete).
    pub fn is_inconclusive(self) -> bool {
        matches!(
            self,
            Code::RateLimited | Code::Unreachable | Code::Incomplete
        )
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is known about one permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A probe answered with a status it declares as granted (or the write level of the row was
    /// granted, which implies read).
    Granted,
    /// Stripe refused a probe with a permission error naming this permission.
    Missing,
    /// No answer proves either; `reason` says why.
    Unknown,
}

/// One request and what it showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The HTTP method.
    pub method: String,
    /// The path with query string (sentinel ids only).
    pub path: String,
    /// The final HTTP status, when an answer arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Stripe's `Request-Id` of the final answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The error `code` of the final answer, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The permission ids Stripe named in a 403, in its order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope_named: Vec<String>,
    /// How many times the request was sent (retries included).
    pub attempts: u32,
    /// A remark, e.g. Stripe naming another permission than the catalogue expects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One permission's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionResult {
    /// The permission id, `row_level` (e.g. `coupon_write`).
    pub permission: String,
    /// The form row's id.
    pub row: String,
    /// The level.
    pub level: Level,
    /// As the merchant sees it on the form: "Billing → Coupons: Write".
    pub label: String,
    /// Whether the manifest needs it (false for `scan` and for excess checks).
    pub required: bool,
    /// The result.
    pub outcome: Outcome,
    /// The permission whose grant implies this one (write implies read), when the result is
    /// derived rather than probed directly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implied_by: Option<String>,
    /// Why the result is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The requests behind the result (empty only for results that are unknown because no
    /// request could be made).
    pub evidence: Vec<Evidence>,
}

/// What a scan found on one row of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Held {
    /// Write (and therefore read).
    Write,
    /// Read, and write proven missing (or the row offers only read).
    Read,
    /// Neither level.
    None,
    /// Read granted, write not determined.
    ReadOrWrite,
    /// Not determined.
    Unknown,
}

impl Held {
    /// The word shown in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Held::Write => "Write",
            Held::Read => "Read",
            Held::None => "None",
            Held::ReadOrWrite => "Read (Write unknown)",
            Held::Unknown => "unknown",
        }
    }
}

/// One row of the form and the level the key holds on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowResult {
    /// The row id.
    pub row: String,
    /// The form section ("Core resources", "Billing", …).
    pub group: String,
    /// The row's label on the form.
    pub label: String,
    /// What the key holds.
    pub held: Held,
}

/// An object a `creates` probe made and could not delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Orphan {
    /// The object's id.
    pub id: String,
    /// The request that would remove it (`DELETE /v1/coupons/…`).
    pub cleanup: String,
    /// The permission whose probe created it.
    pub permission: String,
    /// What the delete attempts answered.
    pub reason: String,
}

/// The key as the verdict shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// `secret`, `restricted` or `publishable`; absent when the text was not a key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<KeyKind>,
    /// `test` or `live`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// The key masked the way Stripe masks it.
    pub masked: String,
}

/// What was asked of the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// `verify` or `scan`.
    pub command: String,
    /// The manifest's id (verify only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// The tier verified, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// The API the probes went to.
    pub api_base: String,
    /// The `Stripe-Account` sent with every probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stripe_account: Option<String>,
    /// Whether the excess (granted but unneeded) permissions were looked for across the whole
    /// form.
    pub excess_checked: bool,
}

/// The plain-language fix for the merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// One sentence saying what to do.
    pub summary: String,
    /// The steps, in order.
    pub steps: Vec<String>,
    /// Where in the Dashboard to do it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
}

/// The result of `verify` or `scan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// [`SCHEMA`].
    pub schema: u32,
    /// The overall answer.
    pub code: Code,
    /// The answer in one sentence.
    pub message: String,
    /// The key, masked.
    pub key: KeyInfo,
    /// What was checked.
    pub subject: Subject,
    /// Every permission looked at, in the form's order.
    pub permissions: Vec<PermissionResult>,
    /// `scan` only: the level held on every row, in the form's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<RowResult>,
    /// The required permissions proven missing, as the merchant sees them on the form.
    pub missing: Vec<String>,
    /// The required permissions that could not be determined, as on the form.
    pub unknown: Vec<String>,
    /// Permissions proven granted that the manifest does not need (least privilege), as on the
    /// form. Complete only when `subject.excess_checked`.
    pub excess: Vec<String>,
    /// Objects created by probes that could not be removed.
    pub orphans: Vec<Orphan>,
    /// What the merchant should do, when there is something to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// Evidence for verdicts decided by one answer (invalid key, expired key, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decisive: Option<Evidence>,
    /// Requests sent, retries and cleanups included.
    pub requests: u32,
    /// Wall-clock time of the run, in milliseconds.
    pub elapsed_ms: u64,
}

impl Verdict {
    /// The verdict as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Reads a verdict back from JSON.
    pub fn from_json(text: &str) -> Result<Verdict, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The result for a permission id (`coupon_write`), if it was looked at.
    pub fn result(&self, permission: &str) -> Option<&PermissionResult> {
        self.permissions
            .iter()
            .find(|result| result.permission == permission)
    }

    /// The permissions proven granted.
    pub fn granted(&self) -> impl Iterator<Item = &PermissionResult> {
        self.permissions
            .iter()
            .filter(|result| result.outcome == Outcome::Granted)
    }
}

/// A permission's id as Stripe prints it in current 403s and Apps manifests: `coupon_write`.
pub fn permission_id(permission: &Permission) -> String {
    format!("{}_{}", permission.row, permission.level)
}
