//! Integration manifests: what an integration needs of a merchant's restricted key.
//!
//! A manifest (TOML, documented in `docs/manifest.md`) names the integration, says whether full
//! secret keys are accepted, and lists the permissions it needs with a purpose each, the
//! Connect-column permissions it needs on connected accounts, tiers that extend each other, and
//! alternates such as a read-only variant. Parsing resolves every permission through the
//! catalogue and reports every problem with file, line and field.
//!
//! Parsing is two passes over one shared representation: a reader (TOML here, a Stripe App's
//! `stripe-app.json` in [`import_stripe_app`]) turns the text into raw fields with their byte
//! offsets and reports structural problems (syntax, unknown fields, wrong types), then one
//! validator resolves permissions and checks the rules. Both passes collect problems instead of
//! stopping, so [`ManifestErrors`] lists everything that is wrong at once.
//!
//! Queries ([`Manifest::requirements`] and friends) take a tier: `None` means the base
//! permissions only, `Some(id)` the base plus the tier and every tier it extends.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::Serialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::catalog::{Catalog, ResolveError};
use crate::permission::{Level, Permission};

/// The form section of permissions only Stripe Apps can request (UI-extension data such as user
/// emails): a restricted key cannot hold them, so a manifest cannot require them.
pub const APPS_ONLY_GROUP: &str = "Stripe Apps only";

/// The access type a Stripe App declares when it hands merchants a restricted key.
pub const RESTRICTED_KEY_ACCESS_TYPE: &str = "restricted_api_key";
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

/// How serious a [`ManifestProblem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Harmless but probably a mistake (a permission listed twice); the manifest still loads.
    Warning,
    /// The manifest cannot be used until it is fixed.
    Error,
}

/// What kind of problem a [`ManifestProblem`] is, for programs that react to some of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// The text is not valid TOML (or JSON, for Stripe App manifests).
    Syntax,
    /// A field the format does not have (often a typo: `purpos`).
    UnknownField,
    /// A required field is absent.
    MissingField,
    /// A field holds the wrong type of value (a string where a list of tables belongs).
    WrongType,
    /// An id is not a lowercase slug (`contacts-inbox`).
    InvalidId,
    /// A text field that must say something is empty.
    EmptyValue,
    /// A permission name the catalogue does not know.
    UnknownPermission,
    /// A label that matches several rows ("Disputes" is in Core and in Issuing).
    AmbiguousPermission,
    /// The row exists but does not offer that level (Balance has no Write).
    LevelNotOffered,
    /// A permission only Stripe Apps can request; a restricted key cannot hold it.
    NotOnForm,
    /// A "(Direct)" row listed as a Connect permission; the Connect column does not offer it.
    DirectRow,
    /// A permission without a purpose: every permission must say why it is needed.
    MissingPurpose,
    /// The same permission listed twice in one list (warning).
    DuplicatePermission,
    /// Read and Write of one row in one list; Write already includes Read (warning).
    RedundantRead,
    /// A tier repeats what the base or a tier it extends already requires (warning).
    AlreadyRequired,
    /// A tier that adds nothing (warning).
    EmptyTier,
    /// Nothing is required: no permissions at all, or an alternate without any.
    NoPermissions,
    /// Two tiers (or two alternates) share an id.
    DuplicateId,
    /// `extends` (or an alternate's `tier`) names a tier that does not exist.
    UnknownTier,
    /// Tiers extend each other in a circle.
    ExtendsCycle,
    /// An alternate says `read_only = true` and lists permissions too, or sets `tier` without
    /// `read_only`.
    AlternateConflict,
    /// A Stripe App permission that is dropped on import because only Apps can hold it (warning).
    DroppedAppsOnly,
    /// A Stripe App that does not use restricted-key access (warning).
    AccessType,
}

impl ProblemKind {
    /// Whether this kind of problem stops the manifest from loading.
    pub fn severity(self) -> Severity {
        match self {
            ProblemKind::DuplicatePermission
            | ProblemKind::RedundantRead
            | ProblemKind::AlreadyRequired
            | ProblemKind::EmptyTier
            | ProblemKind::DroppedAppsOnly
            | ProblemKind::AccessType => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// One problem in a manifest, with where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestProblem {
    /// The name the text was read from, e.g. `examples/manifests/selgeo.toml`.
    pub source: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The field, as a path: `tier[1].permission[0].name`. Empty for syntax errors.
    pub field: String,
    /// What kind of problem it is.
    pub kind: ProblemKind,
    /// What is wrong.
    pub message: String,
    /// How to fix it, e.g. "did you mean checkout_session_read?".
    pub fix: Option<String>,
}

impl ManifestProblem {
    /// Whether it is an error or a warning.
    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }

    /// Whether it stops the manifest from loading.
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

impl fmt::Display for ManifestProblem {
    /// `file:line:col: field: message (fix)`, with `warning: ` before warnings' messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.source, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        if self.severity() == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, " ({fix})")?;
        }
        Ok(())
    }
}

/// A manifest could not be loaded. Holds every problem found (errors and warnings), ordered by
/// position; `Display` prints one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", display_problems(&self.problems))]
#[non_exhaustive]
pub struct ManifestErrors {
    /// Every problem, in the order they occur in the text. At least one is an error.
    pub problems: Vec<ManifestProblem>,
}

impl ManifestErrors {
    /// The problems that stop the manifest from loading.
    pub fn errors(&self) -> impl Iterator<Item = &ManifestProblem> {
        self.problems.iter().filter(|problem| problem.is_error())
    }

    /// The problems that would not have stopped it on their own.
    pub fn warnings(&self) -> impl Iterator<Item = &ManifestProblem> {
        self.problems.iter().filter(|problem| !problem.is_error())
    }
}

fn display_problems(problems: &[ManifestProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A query on a valid manifest failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The tier asked for is not in the manifest.
    #[error("unknown tier {tier:?} ({})", known_tiers(.known))]
    UnknownTier {
        /// The tier asked for.
        tier: String,
        /// The manifest's tier ids, in order.
        known: Vec<String>,
    },
}

fn known_tiers(known: &[String]) -> String {
    if known.is_empty() {
        "this manifest has no tiers".to_owned()
    } else {
        format!("this manifest's tiers: {}", known.join(", "))
    }
}

impl Manifest {
    /// Parses and validates a manifest, resolving every permission through `catalog`.
    /// `source_name` names the text in problems (a path, or `<stdin>`). Warnings are dropped
    /// when the manifest is valid; see [`Manifest::parse_with_warnings`] to keep them.
    pub fn parse(
        catalog: &Catalog,
        source_name: &str,
        text: &str,
    ) -> Result<Manifest, ManifestErrors> {
        Manifest::parse_with_warnings(catalog, source_name, text).map(|(manifest, _)| manifest)
    }

    /// Like [`Manifest::parse`], also returning the warnings of a valid manifest (duplicates,
    /// redundant reads, empty tiers).
    pub fn parse_with_warnings(
        catalog: &Catalog,
        source_name: &str,
        text: &str,
    ) -> Result<(Manifest, Vec<ManifestProblem>), ManifestErrors> {
        let mut validator = Validator::new(catalog, source_name, text, Origin::Toml);
        let raw = read_toml(&mut validator.collector, text);
        match raw {
            Some(raw) => {
                let manifest = validator.validate(raw);
                validator.collector.finish(manifest)
            }
            None => Err(validator.collector.into_errors()),
        }
    }

    /// The tier with this id.
    pub fn tier(&self, id: &str) -> Option<&Tier> {
        self.tiers.iter().find(|tier| tier.id == id)
    }

    /// The tier ids, in the order written.
    pub fn tier_ids(&self) -> Vec<&str> {
        self.tiers.iter().map(|tier| tier.id.as_str()).collect()
    }

    /// The alternate with this id.
    pub fn alternate(&self, id: &str) -> Option<&Alternate> {
        self.alternates.iter().find(|alternate| alternate.id == id)
    }

    /// What a key needs on the integration's own account: the base permissions plus, for
    /// `Some(tier)`, the tier and every tier it extends (the furthest ancestor first). `None`
    /// means the base permissions only, even when the manifest has tiers; callers that verify a
    /// key should insist on a tier when [`Manifest::tier_ids`] is not empty.
    ///
    /// Each row appears once: Write subsumes Read of the same row, and the purposes of merged
    /// entries are joined. Sorted as the form lists them (embedded catalogue).
    pub fn requirements(&self, tier: Option<&str>) -> Result<Vec<Requirement>, ManifestError> {
        self.requirements_with(Catalog::embedded(), tier)
    }

    /// [`Manifest::requirements`], sorted by the order of `catalog`'s form.
    pub fn requirements_with(
        &self,
        catalog: &Catalog,
        tier: Option<&str>,
    ) -> Result<Vec<Requirement>, ManifestError> {
        let chain = self.chain(tier)?;
        let lists =
            std::iter::once(&self.permissions).chain(chain.iter().map(|tier| &tier.permissions));
        Ok(merge(catalog, lists.flatten()))
    }

    /// What a key needs on connected accounts (the Connect column), as
    /// [`Manifest::requirements`] does for the account itself.
    pub fn connect_requirements(
        &self,
        tier: Option<&str>,
    ) -> Result<Vec<Requirement>, ManifestError> {
        self.connect_requirements_with(Catalog::embedded(), tier)
    }

    /// [`Manifest::connect_requirements`], sorted by the order of `catalog`'s form.
    pub fn connect_requirements_with(
        &self,
        catalog: &Catalog,
        tier: Option<&str>,
    ) -> Result<Vec<Requirement>, ManifestError> {
        let chain = self.chain(tier)?;
        let lists = std::iter::once(&self.connect_permissions)
            .chain(chain.iter().map(|tier| &tier.connect_permissions));
        Ok(merge(catalog, lists.flatten()))
    }

    /// The permissions of [`Manifest::requirements`] as a set (the account's own column; Connect
    /// permissions are not included).
    pub fn required_permissions(
        &self,
        tier: Option<&str>,
    ) -> Result<BTreeSet<Permission>, ManifestError> {
        Ok(self
            .requirements(tier)?
            .into_iter()
            .map(|requirement| requirement.permission)
            .collect())
    }

    /// The scope ids (without `rak_`) of [`Manifest::requirements`], in the form's order, for
    /// the prefilled create-key link ([`crate::dashboard::create_key_url`]). Permissions whose
    /// scope id is unknown cannot be prefilled; [`Manifest::unscoped`] lists them.
    pub fn scopes(
        &self,
        catalog: &Catalog,
        tier: Option<&str>,
    ) -> Result<Vec<String>, ManifestError> {
        Ok(self
            .requirements_with(catalog, tier)?
            .iter()
            .filter_map(|requirement| catalog.scope(&requirement.permission).map(str::to_owned))
            .collect())
    }

    /// The permissions of [`Manifest::requirements`] that have no known scope id, so the
    /// merchant has to set them by hand after following the prefilled link.
    pub fn unscoped(
        &self,
        catalog: &Catalog,
        tier: Option<&str>,
    ) -> Result<Vec<Permission>, ManifestError> {
        Ok(self
            .requirements_with(catalog, tier)?
            .into_iter()
            .map(|requirement| requirement.permission)
            .filter(|permission| catalog.scope(permission).is_none())
            .collect())
    }

    /// The manifest as TOML in the documented format, permissions spelled as form labels
    /// ("Charges: Write") of the embedded catalogue. Parsing the result gives this manifest back.
    /// A read-only alternate is written out as its derived permission list.
    pub fn to_toml(&self) -> String {
        self.to_toml_with(Catalog::embedded())
    }

    /// [`Manifest::to_toml`], spelling permissions with `catalog`.
    pub fn to_toml_with(&self, catalog: &Catalog) -> String {
        let mut out = String::new();
        out.push_str(&format!("id = {}\n", quote(&self.id)));
        out.push_str(&format!("name = {}\n", quote(&self.name)));
        out.push_str(&format!("description = {}\n", quote(&self.description)));
        out.push_str(&format!("key_name = {}\n", quote(&self.key_name)));
        out.push_str(&format!(
            "accept_secret_keys = {}\n",
            self.accept_secret_keys
        ));
        write_entries(&mut out, catalog, "permission", &self.permissions);
        write_entries(
            &mut out,
            catalog,
            "connect_permission",
            &self.connect_permissions,
        );
        for tier in &self.tiers {
            out.push_str("\n[[tier]]\n");
            out.push_str(&format!("id = {}\n", quote(&tier.id)));
            out.push_str(&format!("name = {}\n", quote(&tier.name)));
            if let Some(extends) = &tier.extends {
                out.push_str(&format!("extends = {}\n", quote(extends)));
            }
            write_entries(&mut out, catalog, "tier.permission", &tier.permissions);
            write_entries(
                &mut out,
                catalog,
                "tier.connect_permission",
                &tier.connect_permissions,
            );
        }
        for alternate in &self.alternates {
            out.push_str("\n[[alternate]]\n");
            out.push_str(&format!("id = {}\n", quote(&alternate.id)));
            out.push_str(&format!("name = {}\n", quote(&alternate.name)));
            out.push_str(&format!(
                "description = {}\n",
                quote(&alternate.description)
            ));
            write_entries(
                &mut out,
                catalog,
                "alternate.permission",
                &alternate.permissions,
            );
        }
        out
    }

    /// The tiers from the furthest ancestor down to `tier`. Stops at a cycle or a dangling
    /// `extends` (impossible after parsing, possible in a hand-built manifest).
    fn chain(&self, tier: Option<&str>) -> Result<Vec<&Tier>, ManifestError> {
        let Some(id) = tier else {
            return Ok(Vec::new());
        };
        if self.tier(id).is_none() {
            return Err(ManifestError::UnknownTier {
                tier: id.to_owned(),
                known: self.tier_ids().into_iter().map(str::to_owned).collect(),
            });
        }
        let mut chain = Vec::new();
        let mut seen = BTreeSet::new();
        let mut next = Some(id);
        while let Some(id) = next {
            if !seen.insert(id) {
                break;
            }
            let Some(tier) = self.tier(id) else { break };
            chain.push(tier);
            next = tier.extends.as_deref();
        }
        chain.reverse();
        Ok(chain)
    }
}

/// Converts a Stripe App manifest (`stripe-app.json`) into a manifest. Permissions are resolved
/// through the catalogue (Apps names such as `top_up_read` included); permissions of the
/// "Stripe Apps only" section (`user_email_read`, `elements_write`) are dropped, because a
/// restricted key cannot hold them, and named in the description. Unknown permissions and
/// missing purposes are errors. Fields other than `id`, `name`, `version`, `permissions` and
/// `stripe_api_access_type` are ignored.
pub fn import_stripe_app(
    catalog: &Catalog,
    source_name: &str,
    json_text: &str,
) -> Result<Manifest, ManifestErrors> {
    import_stripe_app_with_warnings(catalog, source_name, json_text).map(|(manifest, _)| manifest)
}

/// Like [`import_stripe_app`], also returning the warnings (dropped Apps-only permissions, an
/// access type other than `restricted_api_key`, duplicates).
pub fn import_stripe_app_with_warnings(
    catalog: &Catalog,
    source_name: &str,
    json_text: &str,
) -> Result<(Manifest, Vec<ManifestProblem>), ManifestErrors> {
    let mut validator = Validator::new(catalog, source_name, json_text, Origin::StripeApp);
    match read_stripe_app(&mut validator.collector, json_text) {
        Some((raw, app)) => {
            let had_entries = !raw.permissions.is_empty();
            let mut manifest = validator.validate(raw);
            if had_entries && manifest.permissions.is_empty() && !validator.dropped.is_empty() {
                validator.report(
                    0,
                    "permissions",
                    ProblemKind::NoPermissions,
                    "the manifest requires no permissions: every permission of this app is one only Stripe Apps can hold",
                    Some("a restricted key cannot stand in for this app".to_owned()),
                );
            }
            manifest.description = app.description(&validator.dropped, catalog);
            validator.collector.finish(manifest)
        }
        None => Err(validator.collector.into_errors()),
    }
}

/// The `permissions` array of a Stripe App manifest (`stripe-app.json`) that asks for what a tier
/// of this manifest needs, for an integration that ships as a Stripe App with restricted-key
/// authentication: Stripe then issues the key holding exactly these permissions on install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StripeAppPermissions {
    /// `{"permission": "customer_read", "purpose": "…"}` entries, in the form's order.
    pub permissions: Vec<StripeAppPermission>,
    /// Permissions a Stripe App cannot request (no Apps name is known, or Apps may not hold
    /// them); the app's users would have to grant them another way.
    pub not_requestable: Vec<String>,
}

/// One entry of a Stripe App manifest's `permissions` array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StripeAppPermission {
    /// The Apps permission name, e.g. `top_up_read`.
    pub permission: String,
    /// Why the app needs it.
    pub purpose: String,
}

impl Manifest {
    /// What a Stripe App's manifest must request to hold this manifest's permissions for `tier`
    /// (Connect-column permissions are not part of an app's `permissions` array and are left out).
    pub fn stripe_app_permissions(
        &self,
        catalog: &Catalog,
        tier: Option<&str>,
    ) -> Result<StripeAppPermissions, ManifestError> {
        let mut out = StripeAppPermissions {
            permissions: Vec::new(),
            not_requestable: Vec::new(),
        };
        for requirement in self.requirements_with(catalog, tier)? {
            let name = catalog
                .row(&requirement.permission.row)
                .and_then(|row| row.apps_name(requirement.permission.level));
            match name {
                Some(name) => out.permissions.push(StripeAppPermission {
                    permission: name.to_owned(),
                    purpose: requirement.purpose,
                }),
                None => out
                    .not_requestable
                    .push(catalog.form_label(&requirement.permission)),
            }
        }
        Ok(out)
    }
}

/// Whether `id` is a lowercase slug: `a-z`, `0-9` and single inner hyphens (`contacts-inbox`).
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
}

/// Turns any name into a valid id: lowercase, runs of other characters become one hyphen
/// (`com.example.My_App` becomes `com-example-my-app`).
pub fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for character in text.chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// Merges requirement lists: one entry per row at the highest level asked for, purposes joined
/// in the order written, sorted as the form.
fn merge<'r>(
    catalog: &Catalog,
    requirements: impl IntoIterator<Item = &'r Requirement>,
) -> Vec<Requirement> {
    let mut rows: BTreeMap<&str, (Level, Vec<&str>)> = BTreeMap::new();
    for requirement in requirements {
        let entry = rows
            .entry(requirement.permission.row.as_str())
            .or_insert((requirement.permission.level, Vec::new()));
        entry.0 = entry.0.max(requirement.permission.level);
        let purpose = requirement.purpose.trim();
        if !purpose.is_empty() && !entry.1.contains(&purpose) {
            entry.1.push(purpose);
        }
    }
    let mut merged: Vec<Requirement> = rows
        .into_iter()
        .map(|(row, (level, purposes))| Requirement {
            permission: Permission::new(row, level),
            purpose: join_purposes(&purposes),
        })
        .collect();
    merged.sort_by_key(|requirement| {
        (
            catalog.row_position(&requirement.permission.row),
            requirement.permission.level,
        )
    });
    merged
}

/// Joins purposes: as sentences when they all are, else with semicolons.
fn join_purposes(purposes: &[&str]) -> String {
    if purposes
        .iter()
        .all(|purpose| purpose.ends_with(['.', '!', '?']))
    {
        purposes.join(" ")
    } else {
        purposes.join("; ")
    }
}

/// A TOML string literal for `text`.
fn quote(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn write_entries(out: &mut String, catalog: &Catalog, header: &str, requirements: &[Requirement]) {
    for requirement in requirements {
        out.push_str(&format!("\n[[{header}]]\n"));
        out.push_str(&format!(
            "name = {}\n",
            quote(&spelling(catalog, &requirement.permission))
        ));
        out.push_str(&format!("purpose = {}\n", quote(&requirement.purpose)));
    }
}

/// The most readable name of a permission that resolves back to it: the form label without the
/// section ("Charges: Write"), with it ("Billing → Coupons: Write"), the scope id, or `row:level`.
fn spelling(catalog: &Catalog, permission: &Permission) -> String {
    let short = catalog
        .row(&permission.row)
        .map(|row| format!("{}: {}", row.display_name, permission.level.label()));
    let candidates = [
        short,
        Some(catalog.form_label(permission)),
        catalog.scope(permission).map(str::to_owned),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|name| catalog.resolve(name).as_ref() == Ok(permission))
        .unwrap_or_else(|| permission.to_string())
}

/// Where a manifest comes from; decides how Apps-only permissions are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Our TOML format: Apps-only permissions are errors.
    Toml,
    /// A Stripe App manifest: Apps-only permissions are dropped with a warning.
    StripeApp,
}

/// The column of the form a permission list is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    /// The account's own column.
    Account,
    /// The Connect column (connected accounts).
    Connect,
}

/// A field as read: absent, present with a value of the wrong type (already reported), or given
/// with the byte offset of its value.
#[derive(Debug, Clone, Default)]
enum Slot<T> {
    #[default]
    Absent,
    Invalid,
    Given(T, usize),
}

/// A permission entry as written.
#[derive(Debug, Clone)]
struct RawEntry {
    /// `tier[1].permission[0]`.
    path: String,
    /// Offset of the entry (its `[[…]]` header, or its first value).
    at: usize,
    /// The key holding the permission's name: `name` (TOML) or `permission` (Stripe Apps).
    name_key: &'static str,
    name: Slot<String>,
    purpose: Slot<String>,
}

#[derive(Debug, Clone)]
struct RawTier {
    path: String,
    at: usize,
    id: Slot<String>,
    name: Slot<String>,
    extends: Slot<String>,
    permissions: Vec<RawEntry>,
    connect: Vec<RawEntry>,
}

#[derive(Debug, Clone)]
struct RawAlternate {
    path: String,
    at: usize,
    id: Slot<String>,
    name: Slot<String>,
    description: Slot<String>,
    read_only: Slot<bool>,
    tier: Slot<String>,
    permissions: Vec<RawEntry>,
}

#[derive(Debug, Clone, Default)]
struct RawManifest {
    id: Slot<String>,
    name: Slot<String>,
    description: Slot<String>,
    key_name: Slot<String>,
    accept_secret_keys: Slot<bool>,
    permissions: Vec<RawEntry>,
    connect: Vec<RawEntry>,
    tiers: Vec<RawTier>,
    alternates: Vec<RawAlternate>,
}

/// Collects problems with their positions.
struct Collector<'a> {
    source: &'a str,
    text: &'a str,
    problems: Vec<ManifestProblem>,
}

impl<'a> Collector<'a> {
    fn report(
        &mut self,
        at: usize,
        field: &str,
        kind: ProblemKind,
        message: impl Into<String>,
        fix: Option<String>,
    ) {
        let (line, column) = line_column(self.text, at);
        self.report_at(line, column, field, kind, message, fix);
    }

    fn report_at(
        &mut self,
        line: usize,
        column: usize,
        field: &str,
        kind: ProblemKind,
        message: impl Into<String>,
        fix: Option<String>,
    ) {
        self.problems.push(ManifestProblem {
            source: self.source.to_owned(),
            line,
            column,
            field: field.to_owned(),
            kind,
            message: message.into(),
            fix,
        });
    }

    fn sorted(mut self) -> Vec<ManifestProblem> {
        // Stable, so problems at one position keep the order they were found in.
        self.problems
            .sort_by_key(|problem| (problem.line, problem.column));
        self.problems
    }

    fn into_errors(self) -> ManifestErrors {
        ManifestErrors {
            problems: self.sorted(),
        }
    }

    fn finish(
        self,
        manifest: Manifest,
    ) -> Result<(Manifest, Vec<ManifestProblem>), ManifestErrors> {
        if self.problems.iter().any(ManifestProblem::is_error) {
            Err(self.into_errors())
        } else {
            Ok((manifest, self.sorted()))
        }
    }
}

/// The 1-based line and character column of a byte offset (clamped to the text).
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
    (line, column)
}

fn join_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// "did you mean `x`?" for the closest of `known`, when one is close.
fn closest<'k>(wanted: &str, known: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    known
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(wanted, candidate), candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|left, right| left.0.total_cmp(&right.0))
        .map(|(_, candidate)| candidate)
}

// ---------------------------------------------------------------------------------------------
// Reading TOML.

const MANIFEST_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "key_name",
    "accept_secret_keys",
    "permission",
    "connect_permission",
    "tier",
    "alternate",
];
const ENTRY_FIELDS: &[&str] = &["name", "purpose"];
const TIER_FIELDS: &[&str] = &["id", "name", "extends", "permission", "connect_permission"];
const ALTERNATE_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "read_only",
    "tier",
    "permission",
];

/// The known fields of one TOML table; unknown ones are reported when it is read.
struct Fields<'t, 'i> {
    path: String,
    entries: Vec<(&'t str, &'t Spanned<DeValue<'i>>)>,
}

impl<'t, 'i> Fields<'t, 'i> {
    fn read(
        collector: &mut Collector<'_>,
        table: &'t DeTable<'i>,
        path: &str,
        allowed: &[&str],
    ) -> Self {
        let mut entries = Vec::new();
        for (key, value) in table.iter() {
            let name: &'t str = key.get_ref().as_ref();
            if allowed.contains(&name) {
                entries.push((name, value));
            } else {
                let fix = match closest(name, allowed.iter().copied()) {
                    Some(known) => format!("did you mean `{known}`?"),
                    None => format!("the fields here are: {}", allowed.join(", ")),
                };
                collector.report(
                    key.span().start,
                    &join_path(path, name),
                    ProblemKind::UnknownField,
                    format!("unknown field `{name}`"),
                    Some(fix),
                );
            }
        }
        Fields {
            path: path.to_owned(),
            entries,
        }
    }

    fn get(&self, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
        self.entries
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| *value)
    }

    fn wrong_type(
        &self,
        collector: &mut Collector<'_>,
        key: &str,
        value: &Spanned<DeValue<'_>>,
        expected: &str,
        fix: Option<String>,
    ) {
        collector.report(
            value.span().start,
            &join_path(&self.path, key),
            ProblemKind::WrongType,
            format!("expected {expected}, found {}", value.get_ref().type_str()),
            fix,
        );
    }

    fn string(&self, collector: &mut Collector<'_>, key: &str) -> Slot<String> {
        match self.get(key) {
            None => Slot::Absent,
            Some(value) => match value.get_ref() {
                DeValue::String(text) => Slot::Given(text.to_string(), value.span().start),
                _ => {
                    self.wrong_type(
                        collector,
                        key,
                        value,
                        "a string",
                        Some(format!("write {key} = \"…\"")),
                    );
                    Slot::Invalid
                }
            },
        }
    }

    fn boolean(&self, collector: &mut Collector<'_>, key: &str) -> Slot<bool> {
        match self.get(key) {
            None => Slot::Absent,
            Some(value) => match value.get_ref() {
                DeValue::Boolean(flag) => Slot::Given(*flag, value.span().start),
                _ => {
                    self.wrong_type(
                        collector,
                        key,
                        value,
                        "true or false",
                        Some(format!(
                            "write {key} = true or {key} = false, without quotes"
                        )),
                    );
                    Slot::Invalid
                }
            },
        }
    }

    /// An array of tables (`[[key]]`): each element's path, offset and table.
    fn tables(
        &self,
        collector: &mut Collector<'_>,
        key: &str,
    ) -> Vec<(String, usize, &'t DeTable<'i>)> {
        let header = join_path(&self.path, key);
        let header = strip_indices(&header);
        let Some(value) = self.get(key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(
                collector,
                key,
                value,
                "a list of tables",
                Some(format!(
                    "write [[{header}]] (double brackets) once per entry"
                )),
            );
            return Vec::new();
        };
        let mut tables = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let path = format!("{}[{index}]", join_path(&self.path, key));
            match item.get_ref() {
                DeValue::Table(table) => tables.push((path, item.span().start, table)),
                other => collector.report(
                    item.span().start,
                    &path,
                    ProblemKind::WrongType,
                    format!("expected a table, found {}", other.type_str()),
                    Some(format!("write each entry as its own [[{header}]] table")),
                ),
            }
        }
        tables
    }
}

/// `tier[1].permission` → `tier.permission`, the TOML header of a nested array of tables.
fn strip_indices(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for character in path.chars() {
        match character {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(character),
            _ => {}
        }
    }
    out
}

/// Reads the TOML into raw fields. `None` when the text is not TOML (the syntax errors are
/// reported; validating a half-parsed document would only add noise).
fn read_toml(collector: &mut Collector<'_>, text: &str) -> Option<RawManifest> {
    let (document, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        for error in errors {
            let at = error.span().map_or(0, |span| span.start);
            collector.report(
                at,
                "",
                ProblemKind::Syntax,
                error.message().trim().to_owned(),
                None,
            );
        }
        return None;
    }
    let fields = Fields::read(collector, document.get_ref(), "", MANIFEST_FIELDS);
    let mut raw = RawManifest {
        id: fields.string(collector, "id"),
        name: fields.string(collector, "name"),
        description: fields.string(collector, "description"),
        key_name: fields.string(collector, "key_name"),
        accept_secret_keys: fields.boolean(collector, "accept_secret_keys"),
        ..RawManifest::default()
    };
    raw.permissions = read_entries(collector, &fields, "permission");
    raw.connect = read_entries(collector, &fields, "connect_permission");
    for (path, at, table) in fields.tables(collector, "tier") {
        let tier = Fields::read(collector, table, &path, TIER_FIELDS);
        raw.tiers.push(RawTier {
            id: tier.string(collector, "id"),
            name: tier.string(collector, "name"),
            extends: tier.string(collector, "extends"),
            permissions: read_entries(collector, &tier, "permission"),
            connect: read_entries(collector, &tier, "connect_permission"),
            path,
            at,
        });
    }
    for (path, at, table) in fields.tables(collector, "alternate") {
        let alternate = Fields::read(collector, table, &path, ALTERNATE_FIELDS);
        raw.alternates.push(RawAlternate {
            id: alternate.string(collector, "id"),
            name: alternate.string(collector, "name"),
            description: alternate.string(collector, "description"),
            read_only: alternate.boolean(collector, "read_only"),
            tier: alternate.string(collector, "tier"),
            permissions: read_entries(collector, &alternate, "permission"),
            path,
            at,
        });
    }
    Some(raw)
}

fn read_entries(
    collector: &mut Collector<'_>,
    fields: &Fields<'_, '_>,
    key: &str,
) -> Vec<RawEntry> {
    fields
        .tables(collector, key)
        .into_iter()
        .map(|(path, at, table)| {
            let entry = Fields::read(collector, table, &path, ENTRY_FIELDS);
            RawEntry {
                name: entry.string(collector, "name"),
                purpose: entry.string(collector, "purpose"),
                name_key: "name",
                path,
                at,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Reading Stripe App manifests.

/// What an imported Stripe App says about itself, for the manifest's description.
struct StripeApp {
    id: String,
    version: Option<String>,
}

impl StripeApp {
    fn description(&self, dropped: &[Requirement], catalog: &Catalog) -> String {
        let mut text = format!("Imported from the Stripe App manifest {}", self.id);
        if let Some(version) = &self.version {
            text.push_str(&format!(" (version {version})"));
        }
        text.push('.');
        if !dropped.is_empty() {
            let names: Vec<String> = dropped
                .iter()
                .map(|requirement| {
                    catalog
                        .row(&requirement.permission.row)
                        .and_then(|row| row.apps_name(requirement.permission.level))
                        .map_or_else(
                            || catalog.permission_name(&requirement.permission),
                            str::to_owned,
                        )
                })
                .collect();
            text.push_str(&format!(
                " Not imported, because only Stripe Apps can hold them and a restricted key cannot: {}.",
                names.join(", ")
            ));
        }
        text
    }
}

/// The offset of `"key":` at or after `from`.
fn locate_key(text: &str, key: &str, from: usize) -> Option<usize> {
    let needle = format!("\"{key}\"");
    let mut start = from;
    loop {
        let found = start + text.get(start..)?.find(&needle)?;
        let after = text.get(found + needle.len()..)?;
        if after.trim_start().starts_with(':') {
            return Some(found);
        }
        start = found + needle.len();
    }
}

/// The offset of the JSON string `value` at or after `from` (as written without escapes).
fn locate_value(text: &str, value: &str, from: usize) -> Option<usize> {
    let encoded = serde_json::to_string(value).ok()?;
    Some(from + text.get(from..)?.find(&encoded)?)
}

/// The offsets of the elements of the JSON array that follows `from` (the first `[` after it).
/// Only called on text serde_json has accepted, so a plain scan of strings and brackets is exact.
fn array_element_offsets(text: &str, from: usize) -> Vec<usize> {
    let mut offsets = Vec::new();
    let Some(rest) = text.get(from..) else {
        return offsets;
    };
    let Some(open) = rest.find('[') else {
        return offsets;
    };
    let base = from + open + 1;
    let Some(body) = text.get(base..) else {
        return offsets;
    };
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut expecting = true;
    for (index, character) in body.char_indices() {
        if in_string {
            match character {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        if character.is_whitespace() {
            continue;
        }
        if expecting && depth == 0 && character != ']' {
            offsets.push(base + index);
            expecting = false;
        }
        match character {
            '"' => in_string = true,
            '[' | '{' => depth += 1,
            ']' if depth == 0 => break,
            ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => expecting = true,
            _ => {}
        }
    }
    offsets
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// A string field of a JSON object, located in the text.
fn json_string(
    collector: &mut Collector<'_>,
    text: &str,
    object: &serde_json::Map<String, serde_json::Value>,
    path: &str,
    key: &str,
    from: usize,
) -> Slot<String> {
    let at = locate_key(text, key, from).unwrap_or(from);
    match object.get(key) {
        None => Slot::Absent,
        Some(serde_json::Value::String(value)) => {
            Slot::Given(value.clone(), locate_value(text, value, at).unwrap_or(at))
        }
        Some(other) => {
            collector.report(
                at,
                &join_path(path, key),
                ProblemKind::WrongType,
                format!("expected a string, found {}", json_type(other)),
                None,
            );
            Slot::Invalid
        }
    }
}

fn read_stripe_app(collector: &mut Collector<'_>, text: &str) -> Option<(RawManifest, StripeApp)> {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => {
            let message = error.to_string();
            let position = format!(" at line {} column {}", error.line(), error.column());
            let message = message
                .strip_suffix(&position)
                .unwrap_or(&message)
                .to_owned();
            collector.report_at(
                error.line().max(1),
                error.column().max(1),
                "",
                ProblemKind::Syntax,
                message,
                None,
            );
            return None;
        }
    };
    let Some(object) = value.as_object() else {
        collector.report(
            0,
            "",
            ProblemKind::WrongType,
            format!(
                "expected a JSON object (a stripe-app.json manifest), found {}",
                json_type(&value)
            ),
            None,
        );
        return None;
    };
    let id = json_string(collector, text, object, "", "id", 0);
    let name = json_string(collector, text, object, "", "name", 0);
    let version = json_string(collector, text, object, "", "version", 0);
    let access = json_string(collector, text, object, "", "stripe_api_access_type", 0);
    if let Slot::Given(access, at) = &access
        && access != RESTRICTED_KEY_ACCESS_TYPE
    {
        collector.report(
            *at,
            "stripe_api_access_type",
            ProblemKind::AccessType,
            format!("the app authenticates with {access:?}, not {RESTRICTED_KEY_ACCESS_TYPE:?}"),
            Some(
                "the imported permissions describe the restricted key the merchant creates by hand"
                    .to_owned(),
            ),
        );
    }
    let mut permissions = Vec::new();
    let permissions_at = locate_key(text, "permissions", 0).unwrap_or(0);
    match object.get("permissions") {
        None => collector.report(
            0,
            "permissions",
            ProblemKind::MissingField,
            "missing `permissions`",
            Some("a Stripe App manifest lists \"permissions\": [{\"permission\": \"customer_read\", \"purpose\": \"…\"}]".to_owned()),
        ),
        Some(serde_json::Value::Array(items)) => {
            let starts = array_element_offsets(text, permissions_at);
            for (index, item) in items.iter().enumerate() {
                let path = format!("permissions[{index}]");
                // The element's own offset when the scan agrees with the parser, else the key's.
                let cursor = starts.get(index).copied().unwrap_or(permissions_at);
                let Some(entry) = item.as_object() else {
                    collector.report(
                        cursor,
                        &path,
                        ProblemKind::WrongType,
                        format!("expected an object, found {}", json_type(item)),
                        Some("write {\"permission\": \"customer_read\", \"purpose\": \"…\"}".to_owned()),
                    );
                    continue;
                };
                let name = json_string(collector, text, entry, &path, "permission", cursor);
                let entry_at = match &name {
                    Slot::Given(_, at) => *at,
                    _ => cursor,
                };
                let purpose = json_string(collector, text, entry, &path, "purpose", cursor);
                permissions.push(RawEntry {
                    path,
                    at: entry_at,
                    name_key: "permission",
                    name,
                    purpose,
                });
            }
        }
        Some(other) => collector.report(
            permissions_at,
            "permissions",
            ProblemKind::WrongType,
            format!("expected an array, found {}", json_type(other)),
            None,
        ),
    }
    let app = StripeApp {
        id: match &id {
            Slot::Given(id, _) => id.clone(),
            _ => String::new(),
        },
        version: match version {
            Slot::Given(version, _) => Some(version),
            _ => None,
        },
    };
    let id = match id {
        Slot::Given(id, at) => {
            let slug = slugify(&id);
            Slot::Given(if slug.is_empty() { id } else { slug }, at)
        }
        other => other,
    };
    let raw = RawManifest {
        id,
        key_name: name.clone(),
        name,
        description: Slot::Given(String::new(), 0),
        permissions,
        ..RawManifest::default()
    };
    Some((raw, app))
}

// ---------------------------------------------------------------------------------------------
// Validation, shared by both readers.

/// A resolved entry and where it was written.
struct Located {
    requirement: Requirement,
    /// `tier[0].permission[1]`.
    path: String,
    /// `tier[0].permission[1].name`.
    field: String,
    at: usize,
}

/// Ancestry facts of one tier, for the checks that need every tier first.
struct TierSite {
    path: String,
    extends_at: usize,
    permissions: Vec<Located>,
    connect: Vec<Located>,
}

const NAME_HINT: &str =
    "write a scope id such as customer_read or a form label such as \"Customers: Read\"";

struct Validator<'a> {
    catalog: &'a Catalog,
    collector: Collector<'a>,
    origin: Origin,
    /// Apps-only permissions dropped on import.
    dropped: Vec<Requirement>,
}

impl<'a> Validator<'a> {
    fn new(catalog: &'a Catalog, source: &'a str, text: &'a str, origin: Origin) -> Self {
        Validator {
            catalog,
            collector: Collector {
                source,
                text,
                problems: Vec::new(),
            },
            origin,
            dropped: Vec::new(),
        }
    }

    fn report(
        &mut self,
        at: usize,
        field: &str,
        kind: ProblemKind,
        message: impl Into<String>,
        fix: Option<String>,
    ) {
        self.collector.report(at, field, kind, message, fix);
    }

    /// A required, non-empty text field.
    fn required_text(
        &mut self,
        slot: Slot<String>,
        container_at: usize,
        field: &str,
    ) -> Option<(String, usize)> {
        let key = field.rsplit('.').next().unwrap_or(field);
        match slot {
            Slot::Absent => {
                self.report(
                    container_at,
                    field,
                    ProblemKind::MissingField,
                    format!("missing `{key}`"),
                    Some(format!("add {key} = \"…\"")),
                );
                None
            }
            Slot::Invalid => None,
            Slot::Given(text, at) if text.trim().is_empty() => {
                self.report(
                    at,
                    field,
                    ProblemKind::EmptyValue,
                    format!("`{key}` is empty"),
                    None,
                );
                None
            }
            Slot::Given(text, at) => Some((text.trim().to_owned(), at)),
        }
    }

    /// A required id that must be a slug.
    fn id(
        &mut self,
        slot: Slot<String>,
        container_at: usize,
        field: &str,
    ) -> Option<(String, usize)> {
        let (id, at) = self.required_text(slot, container_at, field)?;
        if !is_valid_id(&id) {
            let slug = slugify(&id);
            self.report(
                at,
                field,
                ProblemKind::InvalidId,
                format!(
                    "{id:?} is not a valid id: use lowercase letters, digits and single hyphens"
                ),
                (!slug.is_empty()).then(|| format!("use {slug:?}")),
            );
        }
        Some((id, at))
    }

    fn validate(&mut self, raw: RawManifest) -> Manifest {
        let nothing_listed = raw.permissions.is_empty()
            && raw.connect.is_empty()
            && raw
                .tiers
                .iter()
                .all(|tier| tier.permissions.is_empty() && tier.connect.is_empty());
        let id = self
            .id(raw.id, 0, "id")
            .map(|(id, _)| id)
            .unwrap_or_default();
        let name = self
            .required_text(raw.name, 0, "name")
            .map(|(name, _)| name)
            .unwrap_or_default();
        let description = match raw.description {
            Slot::Given(text, _) => text.trim().to_owned(),
            Slot::Absent | Slot::Invalid => String::new(),
        };
        let key_name = match raw.key_name {
            Slot::Absent => name.clone(),
            slot => self
                .required_text(slot, 0, "key_name")
                .map(|(text, _)| text)
                .unwrap_or_default(),
        };
        let accept_secret_keys = matches!(raw.accept_secret_keys, Slot::Given(true, _));
        if nothing_listed {
            self.report(
                0,
                "permission",
                ProblemKind::NoPermissions,
                "the manifest requires no permissions",
                Some(
                    "add a [[permission]] entry with a name and a purpose for each permission"
                        .to_owned(),
                ),
            );
        }
        let base = self.entries(&raw.permissions, Column::Account);
        let base_connect = self.entries(&raw.connect, Column::Connect);
        let (tiers, sites) = self.tiers(raw.tiers);
        let broken = self.check_extends(&tiers, &sites);
        let mut manifest = Manifest {
            id,
            name,
            description,
            key_name,
            accept_secret_keys,
            permissions: requirements_of(&base),
            connect_permissions: requirements_of(&base_connect),
            tiers,
            alternates: Vec::new(),
        };
        self.check_inherited(&manifest, &sites, &broken, &base, &base_connect);
        manifest.alternates = self.alternates(raw.alternates, &manifest, &broken);
        manifest
    }

    /// Resolves a permission list, checking each entry and the list as a whole.
    fn entries(&mut self, raw: &[RawEntry], column: Column) -> Vec<Located> {
        let mut located = Vec::new();
        for entry in raw {
            let field = format!("{}.{}", entry.path, entry.name_key);
            let purpose_field = format!("{}.purpose", entry.path);
            let purpose = match &entry.purpose {
                Slot::Absent => {
                    self.report(
                        entry.at,
                        &purpose_field,
                        ProblemKind::MissingPurpose,
                        "missing purpose: every permission needs one",
                        Some(
                            "add purpose = \"…\" telling the merchant why the integration needs it"
                                .to_owned(),
                        ),
                    );
                    String::new()
                }
                Slot::Invalid => String::new(),
                Slot::Given(text, at) if text.trim().is_empty() => {
                    self.report(
                        *at,
                        &purpose_field,
                        ProblemKind::MissingPurpose,
                        "empty purpose: every permission needs one",
                        Some("say why the integration needs this permission, in words for the merchant".to_owned()),
                    );
                    String::new()
                }
                Slot::Given(text, _) => text.trim().to_owned(),
            };
            let (text, at) = match &entry.name {
                Slot::Absent => {
                    self.report(
                        entry.at,
                        &field,
                        ProblemKind::MissingField,
                        format!("missing `{}`", entry.name_key),
                        Some(NAME_HINT.to_owned()),
                    );
                    continue;
                }
                Slot::Invalid => continue,
                Slot::Given(text, at) => (text, *at),
            };
            let permission = match resolve_name(self.catalog, text) {
                Ok(permission) => permission,
                Err((kind, message, fix)) => {
                    self.report(at, &field, kind, message, fix);
                    continue;
                }
            };
            let label = self.catalog.form_label(&permission);
            let Some(row) = self.catalog.row(&permission.row) else {
                continue;
            };
            if row.group == APPS_ONLY_GROUP {
                match self.origin {
                    Origin::Toml => self.report(
                        at,
                        &field,
                        ProblemKind::NotOnForm,
                        format!("{label} can only be requested by Stripe Apps: a restricted key cannot hold it"),
                        Some("remove this entry".to_owned()),
                    ),
                    Origin::StripeApp => {
                        self.report(
                            at,
                            &field,
                            ProblemKind::DroppedAppsOnly,
                            format!("{text} is not imported: only Stripe Apps can hold it, a restricted key cannot"),
                            None,
                        );
                        self.dropped.push(Requirement { permission, purpose });
                    }
                }
                continue;
            }
            if column == Column::Connect && !row.connect {
                let list = strip_indices(&entry.path).replace("connect_permission", "permission");
                self.report(
                    at,
                    &field,
                    ProblemKind::DirectRow,
                    format!(
                        "{label} is a \"(Direct)\" permission: the Connect column does not offer it, so it cannot be granted on connected accounts"
                    ),
                    Some(format!("move it to [[{list}]] if the integration needs it on its own account, or remove it")),
                );
                continue;
            }
            located.push(Located {
                requirement: Requirement {
                    permission,
                    purpose,
                },
                path: entry.path.clone(),
                field,
                at,
            });
        }
        self.check_duplicates(&located);
        located
    }

    /// Warns about a permission listed twice, and a Read listed next to the Write of its row.
    fn check_duplicates(&mut self, located: &[Located]) {
        let mut first: HashMap<&Permission, &str> = HashMap::new();
        for entry in located {
            let permission = &entry.requirement.permission;
            if let Some(previous) = first.get(permission) {
                let message = format!(
                    "{} is listed twice (also at {previous})",
                    self.catalog.form_label(permission)
                );
                self.report(
                    entry.at,
                    &entry.field,
                    ProblemKind::DuplicatePermission,
                    message,
                    Some("remove one entry and merge the purposes".to_owned()),
                );
            } else {
                first.insert(permission, &entry.path);
            }
        }
        for entry in located {
            let permission = &entry.requirement.permission;
            if permission.level != Level::Read {
                continue;
            }
            let write = located.iter().find(|other| {
                other.requirement.permission.row == permission.row
                    && other.requirement.permission.level == Level::Write
            });
            if let Some(write) = write {
                let message = format!(
                    "{} is redundant: {} requires {}, and Write includes Read",
                    self.catalog.form_label(permission),
                    write.path,
                    self.catalog.form_label(&write.requirement.permission)
                );
                self.report(
                    entry.at,
                    &entry.field,
                    ProblemKind::RedundantRead,
                    message,
                    Some("remove this entry and move its purpose to the Write entry".to_owned()),
                );
            }
        }
    }

    fn tiers(&mut self, raw: Vec<RawTier>) -> (Vec<Tier>, Vec<TierSite>) {
        let mut tiers = Vec::new();
        let mut sites = Vec::new();
        let mut seen: HashMap<String, String> = HashMap::new();
        for raw_tier in raw {
            let id_field = format!("{}.id", raw_tier.path);
            let id = match self.id(raw_tier.id, raw_tier.at, &id_field) {
                Some((id, at)) => {
                    if let Some(previous) = seen.get(&id) {
                        let message = format!("tier id {id:?} is already used by {previous}");
                        self.report(
                            at,
                            &id_field,
                            ProblemKind::DuplicateId,
                            message,
                            Some("give every tier its own id".to_owned()),
                        );
                    } else {
                        seen.insert(id.clone(), raw_tier.path.clone());
                    }
                    id
                }
                None => String::new(),
            };
            let name = self
                .required_text(
                    raw_tier.name,
                    raw_tier.at,
                    &format!("{}.name", raw_tier.path),
                )
                .map(|(name, _)| name)
                .unwrap_or_default();
            let (extends, extends_at) = match raw_tier.extends {
                Slot::Given(extends, at) => (Some(extends.trim().to_owned()), at),
                Slot::Absent | Slot::Invalid => (None, raw_tier.at),
            };
            if raw_tier.permissions.is_empty() && raw_tier.connect.is_empty() {
                self.report(
                    raw_tier.at,
                    &raw_tier.path,
                    ProblemKind::EmptyTier,
                    format!("tier {id:?} adds no permissions"),
                    Some(
                        "list what it adds as [[tier.permission]] entries, or remove the tier"
                            .to_owned(),
                    ),
                );
            }
            let permissions = self.entries(&raw_tier.permissions, Column::Account);
            let connect = self.entries(&raw_tier.connect, Column::Connect);
            tiers.push(Tier {
                id,
                name,
                extends,
                permissions: requirements_of(&permissions),
                connect_permissions: requirements_of(&connect),
            });
            sites.push(TierSite {
                path: raw_tier.path,
                extends_at,
                permissions,
                connect,
            });
        }
        (tiers, sites)
    }

    /// Reports unknown `extends` and cycles; returns the indices of tiers whose chain is broken.
    fn check_extends(&mut self, tiers: &[Tier], sites: &[TierSite]) -> BTreeSet<usize> {
        let mut broken = BTreeSet::new();
        let position = |id: &str| tiers.iter().position(|tier| tier.id == id);
        for (index, (tier, site)) in tiers.iter().zip(sites).enumerate() {
            let Some(extends) = &tier.extends else {
                continue;
            };
            if position(extends).is_some() {
                continue;
            }
            broken.insert(index);
            let others: Vec<&str> = tiers
                .iter()
                .filter(|other| other.id != tier.id && !other.id.is_empty())
                .map(|other| other.id.as_str())
                .collect();
            let fix = match closest(extends, others.iter().copied()) {
                Some(known) => format!("did you mean {known:?}?"),
                None if others.is_empty() => {
                    "this manifest has no other tier to extend: remove `extends`".to_owned()
                }
                None => format!("the tiers are: {}", others.join(", ")),
            };
            self.report(
                site.extends_at,
                &format!("{}.extends", site.path),
                ProblemKind::UnknownTier,
                format!(
                    "tier {:?} extends {extends:?}, which is not a tier of this manifest",
                    tier.id
                ),
                Some(fix),
            );
        }
        let mut cycles: BTreeSet<Vec<usize>> = BTreeSet::new();
        for start in 0..tiers.len() {
            let mut walked: Vec<usize> = Vec::new();
            let mut current = start;
            loop {
                if let Some(found) = walked.iter().position(|index| *index == current) {
                    let mut cycle = walked.split_off(found);
                    // Rotate so the cycle starts at its first tier: one report per cycle.
                    if let Some(lowest) = cycle
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, index)| **index)
                        .map(|(at, _)| at)
                    {
                        cycle.rotate_left(lowest);
                    }
                    cycles.insert(cycle);
                    broken.insert(start);
                    break;
                }
                walked.push(current);
                let Some(next) = tiers
                    .get(current)
                    .and_then(|tier| tier.extends.as_deref())
                    .and_then(position)
                else {
                    break;
                };
                current = next;
            }
        }
        for cycle in cycles {
            let Some(first) = cycle.first().copied() else {
                continue;
            };
            let (Some(tier), Some(site)) = (tiers.get(first), sites.get(first)) else {
                continue;
            };
            let message = if cycle.len() == 1 {
                format!("tier {:?} extends itself", tier.id)
            } else {
                let names: Vec<&str> = cycle
                    .iter()
                    .chain(std::iter::once(&first))
                    .filter_map(|index| tiers.get(*index).map(|tier| tier.id.as_str()))
                    .collect();
                format!("tiers extend each other in a cycle: {}", names.join(" → "))
            };
            self.report(
                site.extends_at,
                &format!("{}.extends", site.path),
                ProblemKind::ExtendsCycle,
                message,
                Some("remove `extends` from one of them".to_owned()),
            );
        }
        broken
    }

    /// Warns when a tier lists what the base or a tier it extends already requires.
    fn check_inherited(
        &mut self,
        manifest: &Manifest,
        sites: &[TierSite],
        broken: &BTreeSet<usize>,
        base: &[Located],
        base_connect: &[Located],
    ) {
        for (index, (tier, site)) in manifest.tiers.iter().zip(sites).enumerate() {
            if broken.contains(&index) {
                continue;
            }
            let Ok(chain) = manifest.chain(tier.extends.as_deref()) else {
                continue;
            };
            let mut inherited: Vec<(&Permission, String)> = Vec::new();
            let mut inherited_connect: Vec<(&Permission, String)> = Vec::new();
            for entry in base {
                inherited.push((
                    &entry.requirement.permission,
                    "the base permissions".to_owned(),
                ));
            }
            for entry in base_connect {
                inherited_connect.push((
                    &entry.requirement.permission,
                    "the base Connect permissions".to_owned(),
                ));
            }
            for ancestor in &chain {
                for requirement in &ancestor.permissions {
                    inherited.push((&requirement.permission, format!("tier {:?}", ancestor.id)));
                }
                for requirement in &ancestor.connect_permissions {
                    inherited_connect
                        .push((&requirement.permission, format!("tier {:?}", ancestor.id)));
                }
            }
            for (own, inherited) in [
                (&site.permissions, &inherited),
                (&site.connect, &inherited_connect),
            ] {
                for entry in own {
                    let wanted = &entry.requirement.permission;
                    let covering = inherited.iter().find(|(held, _)| {
                        held.row == wanted.row && held.level.satisfies(wanted.level)
                    });
                    if let Some((held, source)) = covering {
                        let message = format!(
                            "{} is already required by {source} ({})",
                            self.catalog.form_label(wanted),
                            self.catalog.form_label(held)
                        );
                        self.report(
                            entry.at,
                            &entry.field,
                            ProblemKind::AlreadyRequired,
                            message,
                            Some("remove it: a tier inherits the base permissions and the tiers it extends".to_owned()),
                        );
                    }
                }
            }
        }
    }

    fn alternates(
        &mut self,
        raw: Vec<RawAlternate>,
        manifest: &Manifest,
        broken: &BTreeSet<usize>,
    ) -> Vec<Alternate> {
        let mut alternates = Vec::new();
        let mut seen: HashMap<String, String> = HashMap::new();
        for raw_alternate in raw {
            let path = raw_alternate.path;
            let id_field = format!("{path}.id");
            let id = match self.id(raw_alternate.id, raw_alternate.at, &id_field) {
                Some((id, at)) => {
                    if let Some(previous) = seen.get(&id) {
                        let message = format!("alternate id {id:?} is already used by {previous}");
                        self.report(
                            at,
                            &id_field,
                            ProblemKind::DuplicateId,
                            message,
                            Some("give every alternate its own id".to_owned()),
                        );
                    } else {
                        seen.insert(id.clone(), path.clone());
                    }
                    id
                }
                None => String::new(),
            };
            let name = self
                .required_text(
                    raw_alternate.name,
                    raw_alternate.at,
                    &format!("{path}.name"),
                )
                .map(|(name, _)| name)
                .unwrap_or_default();
            let read_only = match raw_alternate.read_only {
                Slot::Given(flag, at) => Some((flag, at)),
                Slot::Absent | Slot::Invalid => None,
            };
            let (description, permissions) = if let Some((true, read_only_at)) = read_only {
                if !raw_alternate.permissions.is_empty() {
                    self.report(
                        read_only_at,
                        &format!("{path}.read_only"),
                        ProblemKind::AlternateConflict,
                        "read_only = true derives the permissions, so [[alternate.permission]] entries cannot be given too",
                        Some("remove read_only, or remove the entries".to_owned()),
                    );
                }
                let written = match raw_alternate.description {
                    Slot::Given(text, _) => Some(text.trim().to_owned()),
                    Slot::Absent | Slot::Invalid => None,
                };
                let source = match raw_alternate.tier {
                    Slot::Given(tier, at) => {
                        let tier = tier.trim().to_owned();
                        match manifest.tiers.iter().position(|known| known.id == tier) {
                            Some(index) if broken.contains(&index) => None,
                            Some(_) => Some(Some(tier)),
                            None => {
                                let fix = match closest(&tier, manifest.tier_ids()) {
                                    Some(known) => format!("did you mean {known:?}?"),
                                    None => known_tiers(
                                        &manifest
                                            .tier_ids()
                                            .into_iter()
                                            .map(str::to_owned)
                                            .collect::<Vec<_>>(),
                                    ),
                                };
                                self.report(
                                    at,
                                    &format!("{path}.tier"),
                                    ProblemKind::UnknownTier,
                                    format!("unknown tier {tier:?}"),
                                    Some(fix),
                                );
                                None
                            }
                        }
                    }
                    Slot::Absent | Slot::Invalid => Some(None),
                };
                let Some(source) = source else { continue };
                let from = manifest
                    .requirements_with(self.catalog, source.as_deref())
                    .unwrap_or_default();
                let (permissions, dropped) = derive_read_only(self.catalog, &from);
                if permissions.is_empty() && raw_alternate.permissions.is_empty() {
                    let fix = match manifest.tier_ids().first() {
                        Some(first) if source.is_none() => {
                            format!("set tier = {first:?} to derive it from a tier")
                        }
                        _ => "list its permissions as [[alternate.permission]] entries".to_owned(),
                    };
                    self.report(
                        raw_alternate.at,
                        &path,
                        ProblemKind::NoPermissions,
                        "the read-only alternate has no permissions: nothing it derives from offers Read",
                        Some(fix),
                    );
                }
                (
                    read_only_description(self.catalog, written, &dropped),
                    permissions,
                )
            } else {
                if let Slot::Given(_, at) = raw_alternate.tier {
                    self.report(
                        at,
                        &format!("{path}.tier"),
                        ProblemKind::AlternateConflict,
                        "`tier` only applies to read_only = true alternates",
                        Some("remove tier, or set read_only = true".to_owned()),
                    );
                }
                if raw_alternate.permissions.is_empty() {
                    self.report(
                        raw_alternate.at,
                        &format!("{path}.permission"),
                        ProblemKind::NoPermissions,
                        format!("alternate {id:?} lists no permissions"),
                        Some(
                            "add [[alternate.permission]] entries, or set read_only = true"
                                .to_owned(),
                        ),
                    );
                }
                let description = self
                    .required_text(
                        raw_alternate.description,
                        raw_alternate.at,
                        &format!("{path}.description"),
                    )
                    .map(|(text, _)| text)
                    .unwrap_or_default();
                let located = self.entries(&raw_alternate.permissions, Column::Account);
                (description, requirements_of(&located))
            };
            alternates.push(Alternate {
                id,
                name,
                description,
                permissions,
            });
        }
        alternates
    }
}

fn requirements_of(located: &[Located]) -> Vec<Requirement> {
    located
        .iter()
        .map(|entry| entry.requirement.clone())
        .collect()
}

/// A read-only variant of a merged requirement list: every Write becomes Read where the row
/// offers Read; Writes on write-only rows are dropped (and returned).
fn derive_read_only(
    catalog: &Catalog,
    requirements: &[Requirement],
) -> (Vec<Requirement>, Vec<Requirement>) {
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for requirement in requirements {
        let offers_read = catalog
            .row(&requirement.permission.row)
            .is_some_and(|row| row.levels.offers(Level::Read));
        match requirement.permission.level {
            Level::Read => kept.push(requirement.clone()),
            Level::Write if offers_read => kept.push(Requirement {
                permission: Permission::new(requirement.permission.row.clone(), Level::Read),
                purpose: requirement.purpose.clone(),
            }),
            Level::Write => dropped.push(requirement.clone()),
        }
    }
    (merge(catalog, &kept), dropped)
}

fn read_only_description(
    catalog: &Catalog,
    written: Option<String>,
    dropped: &[Requirement],
) -> String {
    let mut text = written
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "Every permission at Read instead of Write: the integration can show data but not change it.".to_owned());
    if !dropped.is_empty() {
        let labels: Vec<String> = dropped
            .iter()
            .map(|requirement| catalog.form_label(&requirement.permission))
            .collect();
        text.push_str(&format!(
            " Left out, because the row offers Write only: {}.",
            labels.join(", ")
        ));
    }
    text
}

/// Resolves a permission name, turning a failure into a problem: kind, message and fix.
fn resolve_name(
    catalog: &Catalog,
    text: &str,
) -> Result<Permission, (ProblemKind, String, Option<String>)> {
    match catalog.resolve(text) {
        Ok(permission) => Ok(permission),
        Err(ResolveError::Empty) => Err((
            ProblemKind::EmptyValue,
            "the permission name is empty".to_owned(),
            Some(NAME_HINT.to_owned()),
        )),
        Err(ResolveError::Unknown { text, suggestion }) => match other_level(catalog, &text) {
            Some((spelling, offered)) => {
                let (row, levels) = catalog
                    .row(&offered.row)
                    .map(|row| (row.form_label(), row.levels.label()))
                    .unwrap_or_default();
                Err((
                    ProblemKind::LevelNotOffered,
                    format!("{text:?}: the row {row} offers {levels} only"),
                    Some(format!("did you mean {spelling}?")),
                ))
            }
            None => Err((
                ProblemKind::UnknownPermission,
                format!("unknown permission {text:?}"),
                Some(suggestion.map_or_else(
                    || NAME_HINT.to_owned(),
                    |name| format!("did you mean {name}?"),
                )),
            )),
        },
        Err(ResolveError::Ambiguous { text, candidates }) => Err((
            ProblemKind::AmbiguousPermission,
            format!("{text:?} matches several rows: {}", candidates.join(", ")),
            candidates
                .first()
                .map(|first| format!("name the section too, e.g. {first:?}")),
        )),
        Err(ResolveError::LevelNotOffered { text, row, levels }) => {
            let fix = other_level(catalog, &text).map_or_else(
                || "pick a level the row offers, or remove the entry".to_owned(),
                |(spelling, _)| format!("did you mean {spelling}?"),
            );
            Err((
                ProblemKind::LevelNotOffered,
                format!("{text:?}: the row {row} offers {levels} only"),
                Some(fix),
            ))
        }
        // New variants of the catalogue's error still become a readable problem.
        #[allow(unreachable_patterns)]
        Err(other) => Err((ProblemKind::UnknownPermission, other.to_string(), None)),
    }
}

/// When `text` names a level the row does not offer (`balance_write`, "Balance: Write"), the
/// spelling of the other level and its permission.
fn other_level(catalog: &Catalog, text: &str) -> Option<(String, Permission)> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    for (from, to) in [("read", "write"), ("write", "read")] {
        if !lower.ends_with(from) {
            continue;
        }
        let stem = trimmed.get(..trimmed.len() - from.len())?;
        let tail = trimmed.get(trimmed.len() - from.len()..)?;
        let to = match to.parse::<Level>() {
            Ok(level) if tail.starts_with(|character: char| character.is_ascii_uppercase()) => {
                level.label()
            }
            _ => to,
        };
        let candidate = format!("{stem}{to}");
        if let Ok(permission) = catalog.resolve(&candidate) {
            return Some((candidate, permission));
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters_from_one() {
        let text = "ab\ncé\nx";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        assert_eq!(line_column(text, 6), (2, 3));
        assert_eq!(
            line_column(text, 5),
            (2, 2),
            "inside a character: back to its start"
        );
        assert_eq!(line_column(text, 999), (3, 2), "past the end: clamped");
    }

    #[test]
    fn ids_are_lowercase_slugs() {
        for good in ["selgeo", "contacts-inbox", "a1", "read-only"] {
            assert!(is_valid_id(good), "{good}");
        }
        for bad in [
            "",
            "Selgeo",
            "contacts_inbox",
            "-a",
            "a-",
            "a--b",
            "a b",
            "é",
        ] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn slugify_makes_valid_ids() {
        assert_eq!(slugify("com.example.My_App"), "com-example-my-app");
        assert_eq!(slugify("  Contacts Inbox!! "), "contacts-inbox");
        assert_eq!(slugify("..."), "");
        assert!(is_valid_id(&slugify("com.selgeo..affiliates-")));
    }

    #[test]
    fn purposes_join_as_sentences_or_with_semicolons() {
        assert_eq!(
            join_purposes(&["Show charges.", "Refund charges."]),
            "Show charges. Refund charges."
        );
        assert_eq!(
            join_purposes(&["show charges", "refund charges."]),
            "show charges; refund charges."
        );
    }

    #[test]
    fn merge_keeps_the_write_and_both_purposes() {
        let catalog = Catalog::embedded();
        let requirements = [
            Requirement {
                permission: Permission::new("charge", Level::Read),
                purpose: "show charges".to_owned(),
            },
            Requirement {
                permission: Permission::new("customer", Level::Read),
                purpose: "find the customer".to_owned(),
            },
            Requirement {
                permission: Permission::new("charge", Level::Write),
                purpose: "refund charges".to_owned(),
            },
        ];
        let merged = merge(catalog, &requirements);
        assert_eq!(merged.len(), 2);
        assert_eq!(
            merged[0].permission,
            Permission::new("charge", Level::Write)
        );
        assert_eq!(merged[0].purpose, "show charges; refund charges");
        assert_eq!(
            merged[1].permission,
            Permission::new("customer", Level::Read)
        );
    }

    #[test]
    fn other_level_finds_the_level_a_row_offers() {
        let catalog = Catalog::embedded();
        let (spelling, permission) =
            other_level(catalog, "balance_write").expect("balance offers read");
        assert_eq!(spelling, "balance_read");
        assert_eq!(permission, Permission::new("balance", Level::Read));
        let (spelling, _) = other_level(catalog, "Balance: Write").expect("balance offers read");
        assert_eq!(spelling, "Balance: Read");
        assert!(other_level(catalog, "nothing_write").is_none());
    }

    #[test]
    fn strip_indices_gives_the_toml_header() {
        assert_eq!(strip_indices("tier[1].permission"), "tier.permission");
        assert_eq!(strip_indices("permission"), "permission");
    }

    #[test]
    fn spelling_round_trips_through_resolve() {
        let catalog = Catalog::embedded();
        for row in catalog.rows() {
            for level in row.levels.iter() {
                let permission = Permission::new(row.id.clone(), level);
                let name = spelling(catalog, &permission);
                if name != permission.to_string() {
                    assert_eq!(catalog.resolve(&name).as_ref(), Ok(&permission), "{name}");
                }
            }
        }
    }

    #[test]
    fn array_elements_are_found_past_strings_and_nesting() {
        let text = r#"{"permissions": [ {"a": "],{\"x"}, "s,t" , [1, [2]], 3 ]}"#;
        let offsets = array_element_offsets(text, 0);
        let starts: Vec<char> = offsets
            .iter()
            .filter_map(|at| text[*at..].chars().next())
            .collect();
        assert_eq!(starts, ['{', '"', '[', '3']);
        assert!(array_element_offsets(r#"{"permissions": []}"#, 0).is_empty());
    }

    #[test]
    fn locate_finds_keys_and_values_in_order() {
        let text = r#"{"permissions": [{"permission": "a"}, {"permission": "a"}]}"#;
        let key = locate_key(text, "permissions", 0).expect("key");
        assert_eq!(key, 1);
        let first = locate_value(text, "a", key).expect("first");
        let second = locate_value(text, "a", first + 1).expect("second");
        assert!(second > first);
        assert_eq!(
            locate_key(text, "permission", 0),
            Some(18),
            "skips \"permissions\""
        );
    }
}
