//! The rows of Stripe's "Create restricted key" form and the permissions they grant.
//!
//! A [`Row`] is one line of the form (e.g. "Billing → Coupons") offering None/Read/Write. A
//! [`Permission`] is a (row, [`Level`]) pair such as `coupon_write`, identified on the wire by a
//! scope id (`rak_coupon_write` in older 403 messages and in prefilled create-key links,
//! `coupon_write` in Stripe Apps manifests and current 403 messages).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The access level a restricted key holds on a row. `None` is the absence of a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Read access: `GET` requests.
    Read,
    /// Write access: `POST` and `DELETE` requests. Write implies read.
    Write,
}

impl Level {
    /// Both levels, weakest first.
    pub const ALL: [Level; 2] = [Level::Read, Level::Write];

    /// The lowercase name used in scope ids and data files.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Read => "read",
            Level::Write => "write",
        }
    }

    /// The label the Dashboard shows ("Read", "Write").
    pub fn label(self) -> &'static str {
        match self {
            Level::Read => "Read",
            Level::Write => "Write",
        }
    }

    /// Whether holding `self` satisfies a requirement of `required` (write implies read).
    pub fn satisfies(self, required: Level) -> bool {
        self >= required
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = UnknownLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "read" => Ok(Level::Read),
            "write" => Ok(Level::Write),
            _ => Err(UnknownLevel(s.to_owned())),
        }
    }
}

/// A level name that is neither `read` nor `write`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission level {0:?}: expected \"read\" or \"write\"")]
pub struct UnknownLevel(pub String);

/// The levels a row offers besides None.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Levels {
    /// Read only (e.g. Balance, Events).
    Read,
    /// Write only (e.g. Account Links, Terminal Connection Tokens).
    Write,
    /// Read and Write.
    ReadWrite,
}

impl Levels {
    /// Whether the row offers `level`.
    pub fn offers(self, level: Level) -> bool {
        matches!(
            (self, level),
            (Levels::ReadWrite, _) | (Levels::Read, Level::Read) | (Levels::Write, Level::Write)
        )
    }

    /// The levels offered, weakest first.
    pub fn iter(self) -> impl Iterator<Item = Level> {
        Level::ALL
            .into_iter()
            .filter(move |level| self.offers(*level))
    }

    /// The form's choices for this row, e.g. "None/Read/Write".
    pub fn label(self) -> &'static str {
        match self {
            Levels::Read => "None/Read",
            Levels::Write => "None/Write",
            Levels::ReadWrite => "None/Read/Write",
        }
    }
}

impl FromStr for Levels {
    type Err = UnknownLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "read" => Ok(Levels::Read),
            "write" => Ok(Levels::Write),
            "read/write" => Ok(Levels::ReadWrite),
            other => Err(UnknownLevel(other.to_owned())),
        }
    }
}

/// How a row's scope ids are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScopeBasis {
    /// Seen in real 403 messages or recorded by a key analyzer that read them.
    Observed,
    /// Seen in 403s, which name an unexpected scope for some endpoints.
    ObservedQuirky,
    /// Used in prefilled create-key links.
    FormId,
    /// Stated in Stripe's documentation.
    Documented,
    /// Reported by an integration after a customer's 403.
    Reported,
    /// A Stripe Apps name with `rak_` prefixed; not seen in a 403.
    AppsDerived,
    /// No scope id is known.
    Unknown,
}

impl FromStr for ScopeBasis {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "observed" => ScopeBasis::Observed,
            "observed-quirky" => ScopeBasis::ObservedQuirky,
            "form-id" => ScopeBasis::FormId,
            "documented" => ScopeBasis::Documented,
            "reported" => ScopeBasis::Reported,
            "apps-derived" => ScopeBasis::AppsDerived,
            "unknown" | "" => ScopeBasis::Unknown,
            other => return Err(format!("unknown scope basis {other:?}")),
        })
    }
}

/// A section of the permission form, e.g. "Core" or "Billing". Groups keep the form's order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Group {
    /// The section's heading on the form.
    pub name: String,
    /// The ids of its rows, in the form's order.
    pub rows: Vec<String>,
}

/// One row of the permission form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// Stable row id (normally the scope stem: `charge`; `price` for the `plan_*` row).
    pub id: String,
    /// The form section this row sits in.
    pub group: String,
    /// The Dashboard's current label.
    pub display_name: String,
    /// Former or alternative labels ("Charges and Refunds", "Plans").
    pub aliases: Vec<String>,
    /// The levels the row offers.
    pub levels: Levels,
    /// Scope id of the read level without `rak_` (`plan_read`), when known and offered.
    pub read_scope: Option<String>,
    /// Scope id of the write level without `rak_` (`plan_write`), when known and offered.
    pub write_scope: Option<String>,
    /// Stripe Apps manifest name of the read level, when Apps can request it.
    pub apps_read: Option<String>,
    /// Stripe Apps manifest name of the write level, when Apps can request it.
    pub apps_write: Option<String>,
    /// Whether the Connect column offers this row (false for "(Direct)" permissions).
    pub connect: bool,
    /// How the scope ids are known.
    pub scope_basis: ScopeBasis,
    /// Permission ids that granting this row also grants, besides write implying read.
    pub implies: Vec<String>,
    /// Context for people reading the catalogue.
    pub note: String,
}

impl Row {
    /// The scope id of `level` (without `rak_`), when the row offers it and the id is known.
    pub fn scope(&self, level: Level) -> Option<&str> {
        match level {
            Level::Read => self.read_scope.as_deref(),
            Level::Write => self.write_scope.as_deref(),
        }
    }

    /// The Stripe Apps manifest name of `level`, when Apps can request it.
    pub fn apps_name(&self, level: Level) -> Option<&str> {
        match level {
            Level::Read => self.apps_read.as_deref(),
            Level::Write => self.apps_write.as_deref(),
        }
    }

    /// The row as the merchant sees it on the form: "Billing → Coupons".
    pub fn form_label(&self) -> String {
        format!("{} → {}", self.group, self.display_name)
    }
}

/// A permission: a row at a level. The unit a manifest requires and a verdict reports.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Permission {
    /// The row id.
    pub row: String,
    /// The level.
    pub level: Level,
}

impl Permission {
    /// A permission on `row` at `level`.
    pub fn new(row: impl Into<String>, level: Level) -> Self {
        Permission {
            row: row.into(),
            level,
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.row, self.level)
    }
}

/// Strips the `rak_` prefix Stripe used on scope ids until 2025.
pub fn bare_scope(scope: &str) -> &str {
    scope.strip_prefix("rak_").unwrap_or(scope)
}

/// The `rak_`-prefixed form of a scope id, as used in prefilled create-key links.
pub fn rak_scope(scope: &str) -> String {
    format!("rak_{}", bare_scope(scope))
}
