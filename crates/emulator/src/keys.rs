//! The emulator's API keys: their definitions (from the keys file or the admin API), their
//! secrets (several per key while a roll's grace period runs) and their lifecycle.
//!
//! A key definition is read from JSON (the admin API) or TOML (the keys file, converted to the
//! same tree), and every problem names its field, such as `permissions[1]`.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;
use rakguard_catalog::Catalog;
use rakguard_catalog::key::{self, ApiKey, KeyKind, MaskStyle, Mode};
use rakguard_catalog::permission::Permission;
use serde_json::{Value, json};

use crate::error::AdminError;
use crate::ids::{Ids, parse_timestamp};

/// Letters and digits after the prefix of a generated secret, as in Stripe's current keys.
pub const SECRET_BODY_LEN: usize = 99;

/// A key as defined by a person: the keys file's `[[key]]` table or the admin API's body.
/// `Debug` shows a fixed secret masked.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySpec {
    /// A label for people.
    pub name: String,
    /// Secret, restricted or publishable.
    pub kind: KeyKind,
    /// Test or live.
    pub mode: Mode,
    /// A fixed secret; generated when absent.
    pub secret: Option<String>,
    /// The permissions of a restricted key, resolved.
    pub permissions: BTreeSet<Permission>,
    /// Permissions on connected accounts (`Stripe-Account`); `None` means none at all.
    pub connect_permissions: Option<BTreeSet<Permission>>,
    /// When the key stops working, in Unix seconds.
    pub expires_at: Option<i64>,
    /// The networks the key may be used from; empty allows any.
    pub allowed_ips: Vec<IpNet>,
}

impl KeySpec {
    /// A key with no permissions, no expiry and no IP rule.
    pub fn new(name: impl Into<String>, kind: KeyKind, mode: Mode) -> Self {
        KeySpec {
            name: name.into(),
            kind,
            mode,
            secret: None,
            permissions: BTreeSet::new(),
            connect_permissions: None,
            expires_at: None,
            allowed_ips: Vec::new(),
        }
    }

    /// Reads a definition from JSON. Field names: `name`, `type`, `mode`, `secret`,
    /// `permissions`, `connect_permissions`, `expires_at`, `allowed_ips`. Permission names are
    /// resolved with [`Catalog::resolve`]; a name that is not a permission may be a Dashboard
    /// template ([`Catalog::template`]), which adds all of the template's permissions.
    pub fn from_json(catalog: &Catalog, value: &Value) -> Result<KeySpec, AdminError> {
        let object = value
            .as_object()
            .ok_or_else(|| AdminError::field("body", "expected a JSON object"))?;
        const KNOWN: [&str; 8] = [
            "name",
            "type",
            "mode",
            "secret",
            "permissions",
            "connect_permissions",
            "expires_at",
            "allowed_ips",
        ];
        if let Some(unknown) = object.keys().find(|key| !KNOWN.contains(&key.as_str())) {
            return Err(AdminError::field(unknown.clone(), "unknown field"));
        }
        let name = match object.get("name") {
            None => String::new(),
            Some(Value::String(name)) => name.clone(),
            Some(_) => return Err(AdminError::field("name", "expected a string")),
        };
        let kind = match required_str(object.get("type"), "type")? {
            "secret" => KeyKind::Secret,
            "restricted" => KeyKind::Restricted,
            "publishable" => KeyKind::Publishable,
            _ => {
                return Err(AdminError::field(
                    "type",
                    "expected secret, restricted or publishable",
                ));
            }
        };
        let mode = match object.get("mode") {
            None => Mode::Test,
            Some(value) => match required_str(Some(value), "mode")? {
                "test" => Mode::Test,
                "live" => Mode::Live,
                _ => return Err(AdminError::field("mode", "expected test or live")),
            },
        };
        let secret = match object.get("secret") {
            None | Some(Value::Null) => None,
            Some(Value::String(secret)) => {
                let parsed = ApiKey::parse(secret)
                    .map_err(|error| AdminError::field("secret", error.to_string()))?;
                if parsed.kind() != kind || parsed.mode() != mode {
                    return Err(AdminError::field(
                        "secret",
                        format!("the prefix must be {}", key::prefix_for(kind, mode)),
                    ));
                }
                Some(secret.clone())
            }
            Some(_) => return Err(AdminError::field("secret", "expected a string")),
        };
        let permissions = resolve_all(catalog, object.get("permissions"), "permissions")?;
        if kind != KeyKind::Restricted && !permissions.is_empty() {
            return Err(AdminError::field(
                "permissions",
                "only restricted keys have permissions",
            ));
        }
        let connect_permissions = match object.get("connect_permissions") {
            None | Some(Value::Null) => None,
            Some(value) => Some(resolve_all(catalog, Some(value), "connect_permissions")?),
        };
        let expires_at = match object.get("expires_at") {
            None | Some(Value::Null) => None,
            Some(value) => Some(timestamp(value).ok_or_else(|| {
                AdminError::field("expires_at", "expected Unix seconds or an RFC 3339 time")
            })?),
        };
        let allowed_ips = match object.get("allowed_ips") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    let field = format!("allowed_ips[{index}]");
                    let text = item
                        .as_str()
                        .ok_or_else(|| AdminError::field(&field, "expected a string"))?;
                    parse_network(text).ok_or_else(|| {
                        AdminError::field(&field, "expected an IP address or CIDR range")
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(AdminError::field("allowed_ips", "expected an array")),
        };
        Ok(KeySpec {
            name,
            kind,
            mode,
            secret,
            permissions,
            connect_permissions,
            expires_at,
            allowed_ips,
        })
    }
}

fn required_str<'v>(value: Option<&'v Value>, field: &str) -> Result<&'v str, AdminError> {
    match value {
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(AdminError::field(field, "expected a string")),
        None => Err(AdminError::field(field, "is required")),
    }
}

/// Resolves a JSON array of permission or template names.
pub fn resolve_all(
    catalog: &Catalog,
    value: Option<&Value>,
    field: &str,
) -> Result<BTreeSet<Permission>, AdminError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(BTreeSet::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(AdminError::field(
                field,
                "expected an array of permission names",
            ));
        }
    };
    let mut permissions = BTreeSet::new();
    for (index, item) in items.iter().enumerate() {
        let item_field = format!("{field}[{index}]");
        let name = item
            .as_str()
            .ok_or_else(|| AdminError::field(&item_field, "expected a string"))?;
        match catalog.resolve(name) {
            Ok(permission) => {
                permissions.insert(permission);
            }
            Err(error) => match catalog.template(name) {
                Some(template) => permissions.extend(template.permissions.iter().cloned()),
                None => return Err(AdminError::field(&item_field, error.to_string())),
            },
        }
    }
    Ok(permissions)
}

/// A timestamp as a JSON number, a string, or TOML's datetime as converted to JSON.
fn timestamp(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => parse_timestamp(text),
        Value::Object(object) => object
            .values()
            .next()
            .and_then(Value::as_str)
            .and_then(parse_timestamp),
        _ => None,
    }
}

fn parse_network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

/// A key known to the emulator. `Debug` shows the secret masked.
#[derive(Clone)]
pub struct KeyRecord {
    /// The key object's id (`mk_…`), used in the 403 edit link and the admin API.
    pub id: String,
    /// The definition.
    pub spec: KeySpec,
    /// The current secret.
    pub secret: String,
    /// When it was created (Unix seconds).
    pub created: i64,
    /// Whether it was revoked through the admin API.
    pub revoked: bool,
}

impl KeyRecord {
    /// Whether the key is a restricted key.
    pub fn is_restricted(&self) -> bool {
        self.spec.kind == KeyKind::Restricted
    }

    /// The key as the admin API shows it: the secret in full only when `reveal` is set.
    pub fn to_json(&self, catalog: &Catalog, reveal: bool, now: i64) -> Value {
        let names = |permissions: &BTreeSet<Permission>| -> Vec<String> {
            let mut sorted: Vec<Permission> = permissions.iter().cloned().collect();
            catalog.sort_as_form(&mut sorted);
            sorted
                .iter()
                .map(|permission| catalog.permission_name(permission))
                .collect()
        };
        let status = if self.revoked {
            "revoked"
        } else if self.spec.expires_at.is_some_and(|expiry| expiry <= now) {
            "expired"
        } else {
            "active"
        };
        json!({
            "id": self.id,
            "object": "emulator.api_key",
            "name": self.spec.name,
            "type": self.spec.kind.as_str(),
            "mode": self.spec.mode.as_str(),
            "livemode": self.spec.mode == Mode::Live,
            "secret": if reveal { self.secret.clone() } else { key::mask(&self.secret, MaskStyle::InvalidKey) },
            "permissions": names(&self.spec.permissions),
            "connect_permissions": self.spec.connect_permissions.as_ref().map(names),
            "expires_at": self.spec.expires_at,
            "allowed_ips": self.spec.allowed_ips.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "status": status,
            "created": self.created,
        })
    }
}

/// What a secret maps to.
#[derive(Debug, Clone)]
struct SecretEntry {
    key_id: String,
    /// Set when the secret was rolled with a grace period.
    expires_at: Option<i64>,
}

/// What looking a presented secret up found.
#[derive(Debug, Clone)]
pub enum KeyLookup<'a> {
    /// A usable key.
    Active(&'a KeyRecord),
    /// The key or this secret of it expired.
    Expired,
    /// No such secret, or the key was revoked.
    Unknown,
}

/// Every key of the emulator and every secret that still maps to one. `Debug` shows the keys
/// (masked) and how many secrets are live, never the secrets.
#[derive(Default)]
pub struct KeyStore {
    keys: Vec<KeyRecord>,
    secrets: HashMap<String, SecretEntry>,
}

/// The form a secret takes in `Debug` output: masked as Stripe masks keys in its errors.
pub fn redacted(secret: &str) -> String {
    rakguard_catalog::key::mask(secret, rakguard_catalog::key::MaskStyle::InvalidKey)
}

impl std::fmt::Debug for KeySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySpec")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("mode", &self.mode)
            .field("secret", &self.secret.as_deref().map(redacted))
            .field("permissions", &self.permissions)
            .field("connect_permissions", &self.connect_permissions)
            .field("expires_at", &self.expires_at)
            .field("allowed_ips", &self.allowed_ips)
            .finish()
    }
}

impl std::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("id", &self.id)
            .field("spec", &self.spec)
            .field("secret", &redacted(&self.secret))
            .field("created", &self.created)
            .field("revoked", &self.revoked)
            .finish()
    }
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("keys", &self.keys)
            .field("live_secrets", &self.secrets.len())
            .finish()
    }
}

impl KeyStore {
    /// Adds a key, generating its id and (unless fixed) its secret.
    pub fn add(
        &mut self,
        spec: KeySpec,
        ids: &mut Ids,
        now: i64,
    ) -> Result<&KeyRecord, AdminError> {
        let secret = match &spec.secret {
            Some(secret) if self.secrets.contains_key(secret) => {
                return Err(AdminError::field(
                    "secret",
                    "another key already uses this secret",
                ));
            }
            Some(secret) => secret.clone(),
            None => self.fresh_secret(spec.kind, spec.mode, ids),
        };
        let id = ids.id("mk_1", 23);
        self.secrets.insert(
            secret.clone(),
            SecretEntry {
                key_id: id.clone(),
                expires_at: None,
            },
        );
        self.keys.push(KeyRecord {
            id,
            spec,
            secret,
            created: now,
            revoked: false,
        });
        self.keys
            .last()
            .ok_or_else(|| AdminError::field("body", "the key could not be stored"))
    }

    fn fresh_secret(&self, kind: KeyKind, mode: Mode, ids: &mut Ids) -> String {
        loop {
            let secret = ids.id(key::prefix_for(kind, mode), SECRET_BODY_LEN);
            if !self.secrets.contains_key(&secret) {
                return secret;
            }
        }
    }

    /// Every key, oldest first.
    pub fn all(&self) -> &[KeyRecord] {
        &self.keys
    }

    /// The key with this id.
    pub fn get(&self, id: &str) -> Option<&KeyRecord> {
        self.keys.iter().find(|record| record.id == id)
    }

    fn get_mut(&mut self, id: &str) -> Result<&mut KeyRecord, AdminError> {
        self.keys
            .iter_mut()
            .find(|record| record.id == id)
            .ok_or_else(|| AdminError::unknown_key(id))
    }

    /// Finds the key a presented secret belongs to, as of `now`.
    pub fn lookup(&self, secret: &str, now: i64) -> KeyLookup<'_> {
        let Some(entry) = self.secrets.get(secret) else {
            return KeyLookup::Unknown;
        };
        let Some(record) = self.get(&entry.key_id) else {
            return KeyLookup::Unknown;
        };
        if record.revoked {
            return KeyLookup::Unknown;
        }
        let expired = |expiry: Option<i64>| expiry.is_some_and(|expiry| expiry <= now);
        if expired(entry.expires_at) || expired(record.spec.expires_at) {
            KeyLookup::Expired
        } else {
            KeyLookup::Active(record)
        }
    }

    /// Revokes a key: every secret of it becomes unknown.
    pub fn revoke(&mut self, id: &str) -> Result<&KeyRecord, AdminError> {
        let record = self.get_mut(id)?;
        record.revoked = true;
        Ok(record)
    }

    /// Gives a key a new secret. The old one keeps working for `grace_seconds`, then answers
    /// `api_key_expired`; with no grace it is deleted at once (and reads as unknown).
    pub fn roll(
        &mut self,
        id: &str,
        grace_seconds: i64,
        ids: &mut Ids,
        now: i64,
    ) -> Result<&KeyRecord, AdminError> {
        let (kind, mode, old_secret) = {
            let record = self.get_mut(id)?;
            if record.revoked {
                return Err(AdminError::field("id", "the key is revoked"));
            }
            (record.spec.kind, record.spec.mode, record.secret.clone())
        };
        let new_secret = self.fresh_secret(kind, mode, ids);
        if grace_seconds <= 0 {
            self.secrets.remove(&old_secret);
        } else if let Some(entry) = self.secrets.get_mut(&old_secret) {
            entry.expires_at = Some(now.saturating_add(grace_seconds));
        }
        self.secrets.insert(
            new_secret.clone(),
            SecretEntry {
                key_id: id.to_owned(),
                expires_at: None,
            },
        );
        let record = self.get_mut(id)?;
        record.secret = new_secret;
        Ok(record)
    }

    /// Replaces a restricted key's permissions.
    pub fn set_permissions(
        &mut self,
        id: &str,
        permissions: BTreeSet<Permission>,
    ) -> Result<&KeyRecord, AdminError> {
        let record = self.get_mut(id)?;
        if !record.is_restricted() {
            return Err(AdminError::field(
                "permissions",
                "only restricted keys have permissions",
            ));
        }
        record.spec.permissions = permissions;
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(value: Value) -> Result<KeySpec, AdminError> {
        KeySpec::from_json(Catalog::embedded(), &value)
    }

    #[test]
    fn permissions_resolve_by_scope_and_template() {
        let parsed =
            spec(json!({"name": "k", "type": "restricted", "permissions": ["customer_write"]}))
                .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(parsed.permissions.len(), 1);
        let template = &Catalog::embedded().templates()[0];
        let parsed = spec(json!({"type": "restricted", "permissions": [template.id]}))
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            parsed.permissions.len(),
            template.permissions.iter().collect::<BTreeSet<_>>().len()
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let field = |value| spec(value).err().map(|error| error.field);
        assert_eq!(
            field(json!({"type": "restricted", "permissions": ["customer_write", "nope"]}))
                .as_deref(),
            Some("permissions[1]")
        );
        assert_eq!(field(json!({"type": "root"})).as_deref(), Some("type"));
        assert_eq!(field(json!({"name": "x"})).as_deref(), Some("type"));
        assert_eq!(
            field(json!({"type": "secret", "allowed_ips": ["10.0.0.0/8", "x"]})).as_deref(),
            Some("allowed_ips[1]")
        );
        assert_eq!(
            field(json!({"type": "secret", "expires_at": "soon"})).as_deref(),
            Some("expires_at")
        );
        assert_eq!(
            field(json!({"type": "secret", "colour": "red"})).as_deref(),
            Some("colour")
        );
        assert_eq!(field(json!({"type": "secret", "mode": "live", "secret": "sk_test_4eC39HqLyjWDarjtT1zdp7dc"})).as_deref(), Some("secret"));
    }

    #[test]
    fn rolled_secret_expires_after_its_grace_period() {
        let mut store = KeyStore::default();
        let mut ids = Ids::new(Some(1));
        let record = store
            .add(
                KeySpec::new("k", KeyKind::Secret, Mode::Test),
                &mut ids,
                100,
            )
            .unwrap_or_else(|error| panic!("{error}"));
        let (id, old) = (record.id.clone(), record.secret.clone());
        assert_eq!(old.len(), 8 + SECRET_BODY_LEN);
        let new = store
            .roll(&id, 60, &mut ids, 100)
            .unwrap_or_else(|error| panic!("{error}"))
            .secret
            .clone();
        assert!(matches!(store.lookup(&old, 159), KeyLookup::Active(_)));
        assert!(matches!(store.lookup(&old, 160), KeyLookup::Expired));
        assert!(matches!(store.lookup(&new, 1000), KeyLookup::Active(_)));
    }
}
