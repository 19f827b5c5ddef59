//! Integration manifests: what an integration needs of a merchant's restricted key.
//!
//! A manifest (TOML, documented in `docs/manifest.md`) names the integration, says whether full
//! secret keys are accepted, and lists the permissions it needs with a purpose each, the
//! Connect-column permissions it needs on connected accounts, tiers that extend each other, and
//! alternates such as a read-only variant. Parsing resolves every permission through the
//! catalogue and reports every problem with file, line and field.

use serde::Serialize;

use crate::permission::Permission;

/// One permission an integration needs, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// The permission (row and level).
    pub permission: Permission,
    /// Why the integration needs it, in words for the merchant.
    pub purpose: String,
}

/// A tier of an integration (e.g. Free, Premium); tiers can extend one another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tier {
    /// Stable id, e.g. `premium`.
    pub id: String,
    /// The name shown to merchants, e.g. "Premium".
    pub name: String,
    /// The tier this one extends, if any.
    pub extends: Option<String>,
    /// The permissions this tier adds (to the manifest's base and what it extends).
    pub permissions: Vec<Requirement>,
    /// The Connect-column permissions this tier adds.
    pub connect_permissions: Vec<Requirement>,
}

/// An alternative permission set, e.g. a read-only variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alternate {
    /// Stable id, e.g. `read-only`.
    pub id: String,
    /// The name shown to merchants.
    pub name: String,
    /// What the variant gives up.
    pub description: String,
    /// The full permission set of the variant (it replaces the base set, not adds to it).
    pub permissions: Vec<Requirement>,
}

/// A parsed, validated manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// Stable id, e.g. `selgeo`.
    pub id: String,
    /// The integration's name, e.g. "Selgeo".
    pub name: String,
    /// What the integration does with the key.
    pub description: String,
    /// The name to suggest for the key in the Dashboard, e.g. "Selgeo Affiliates".
    pub key_name: String,
    /// Whether full secret keys (`sk_…`) are accepted. Default: refused.
    pub accept_secret_keys: bool,
    /// Permissions every tier needs.
    pub permissions: Vec<Requirement>,
    /// Connect-column permissions every tier needs (on connected accounts).
    pub connect_permissions: Vec<Requirement>,
    /// Tiers, in the order written.
    pub tiers: Vec<Tier>,
    /// Alternative permission sets.
    pub alternates: Vec<Alternate>,
}
