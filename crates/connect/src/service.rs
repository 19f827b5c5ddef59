//! The service's operations, shared by the JSON API, the web page and the monitor: connect,
//! status, re-verify, disconnect, reveal, and the manifests they verify against.
//!
//! A key is held in plaintext only inside these functions (as `SecretString`, zeroized on drop):
//! between the request and the verifier, and between the seal and the verifier on
//! re-verification. Only its masked form is stored in the clear, logged or returned, except by
//! [`Service::reveal`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use rakguard_catalog::Catalog;
use rakguard_catalog::key::{ApiKey, Mode};
use rakguard_catalog::manifest::Manifest;
use rakguard_verify::budget::Budget;
use rakguard_verify::{Code, Options, Verdict};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::seal::{Binding, Keyring, Sealed};
use crate::store::{
    AuditRow, ConnectionRow, EventRow, ManifestRow, OrphanRow, Store, StoreError, now_millis,
};

/// Connection statuses.
pub mod status {
    /// Verified and holding everything required.
    pub const ACTIVE: &str = "active";
    /// Valid, but a required permission has been lost since.
    pub const DEGRADED: &str = "degraded";
    /// Stripe no longer knows the key (deleted or rolled).
    pub const REVOKED: &str = "revoked";
    /// The key expired.
    pub const EXPIRED: &str = "expired";
    /// Re-verification failed repeatedly for reasons on the network or Stripe's side.
    pub const UNREACHABLE: &str = "unreachable";
    /// Disconnected by the tenant or the integration (the key is shredded).
    pub const DISCONNECTED: &str = "disconnected";
}

/// How many inconclusive re-verifications in a row turn a connection `unreachable`: one network
/// error never flips a status.
pub const UNREACHABLE_AFTER: i64 = 3;

/// What the service needs besides its store and keys.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The Stripe-compatible API keys are verified against.
    pub api_base: String,
    /// How often the monitor re-verifies each connection.
    pub monitor_interval: Duration,
    /// Template for verifier options (rate budget, retries, deadline); mode, tier and
    /// `previously_valid` are set per call.
    pub verify: Options,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            api_base: rakguard_verify::STRIPE_API_BASE.to_owned(),
            monitor_interval: Duration::from_secs(24 * 3600),
            verify: Options::default(),
        }
    }
}

/// A failure the caller must handle (bad input, missing objects, storage).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Input that cannot be used; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        /// A stable machine code (`tenant_invalid`, `mode_invalid`, …).
        code: &'static str,
        /// The field at fault.
        field: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// No such manifest.
    #[error("manifest {0:?} is not loaded")]
    ManifestNotFound(String),
    /// No active connection for the tenant and mode.
    #[error("no active connection for tenant {tenant:?} in {mode} mode")]
    NotConnected {
        /// The tenant.
        tenant: String,
        /// The mode.
        mode: String,
    },
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A stored key could not be opened (wrong master key, tampering).
    #[error("the stored key could not be unsealed: {0}")]
    Seal(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The verifier could not run (bad settings).
    #[error("verification could not run: {0}")]
    Verify(String),
}

impl ServiceError {
    /// The machine code for API answers.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Invalid { code, .. } => code,
            ServiceError::ManifestNotFound(_) => "manifest_not_found",
            ServiceError::NotConnected { .. } => "connection_not_found",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::Seal(_) => "key_unavailable",
            ServiceError::Store(_) => "storage_error",
            ServiceError::Verify(_) => "verification_error",
        }
    }
}

/// Who is acting, for authorisation and the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `token:tok_…`, `page:<tenant>`, `monitor`, `admin`.
    pub name: String,
    /// The one tenant the actor may act for; `None` for all.
    pub tenant: Option<String>,
    /// Whether it may reveal keys.
    pub can_reveal: bool,
    /// The client address, when known.
    pub source: Option<String>,
}

impl Actor {
    /// The monitor.
    pub fn monitor() -> Actor {
        Actor {
            name: "monitor".to_owned(),
            tenant: None,
            can_reveal: false,
            source: None,
        }
    }

    /// Whether the actor may act for `tenant`.
    pub fn may_act_for(&self, tenant: &str) -> bool {
        self.tenant.as_deref().is_none_or(|own| own == tenant)
    }
}

/// A loaded manifest.
#[derive(Debug)]
pub struct LoadedManifest {
    /// The parsed manifest.
    pub manifest: Manifest,
    /// Its TOML source.
    pub source: String,
}

/// One past verification, for the API.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// When (Unix milliseconds).
    pub at: i64,
    /// `connect`, `manual` or `monitor`.
    pub trigger: String,
    /// The verdict code.
    pub code: String,
    /// The status that followed.
    pub status: String,
}

/// A connection as the API shows it: never the key, only its mask.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionView {
    /// `conn_…`.
    pub id: String,
    /// The tenant.
    pub tenant: String,
    /// `test` or `live`.
    pub mode: String,
    /// The status.
    pub status: String,
    /// The key, masked.
    pub masked_key: String,
    /// The manifest id.
    pub manifest: String,
    /// The tier.
    pub tier: Option<String>,
    /// When it was connected (Unix milliseconds).
    pub connected_at: i64,
    /// When it was last verified.
    pub last_verified_at: i64,
    /// When the monitor verifies it next.
    pub next_check_at: i64,
    /// The last verdict.
    pub verdict: Verdict,
    /// The latest verifications, newest first.
    pub history: Vec<HistoryEntry>,
}

/// What a connect attempt produced.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectOutcome {
    /// The verdict (`ok` when stored).
    pub verdict: Verdict,
    /// The stored connection, when the key passed.
    pub connection: Option<ConnectionView>,
}

/// The service.
#[derive(Debug, Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    keyring: RwLock<Keyring>,
    settings: Settings,
    manifests: RwLock<BTreeMap<String, Arc<LoadedManifest>>>,
    /// One rate budget per tenant and mode, shared by every verification running for it in this
    /// process (a connect, a manual re-verification and the monitor at once keep together to
    /// the Stripe account's limit). Entries die with their last run.
    budgets: std::sync::Mutex<HashMap<(String, Mode), Weak<Budget>>>,
}

impl Service {
    /// A service over `store`, sealing with `keyring`. Loads the stored manifests.
    pub async fn new(
        store: Store,
        keyring: Keyring,
        settings: Settings,
    ) -> Result<Service, ServiceError> {
        let service = Service {
            inner: Arc::new(Inner {
                store,
                keyring: RwLock::new(keyring),
                settings,
                manifests: RwLock::new(BTreeMap::new()),
                budgets: std::sync::Mutex::new(HashMap::new()),
            }),
        };
        for row in service.inner.store.manifests().await? {
            if let Ok(manifest) = Manifest::parse(Catalog::embedded(), &row.id, &row.source) {
                service.cache_manifest(&row.id, manifest, row.source);
            }
        }
        Ok(service)
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Runs `f` with the keyring (sealing, opening, deriving the link-signing key).
    pub fn with_keyring<T>(&self, f: impl FnOnce(&Keyring) -> T) -> T {
        let keyring = self
            .inner
            .keyring
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&keyring)
    }

    /// Replaces the keyring (after a master key rotation).
    pub fn set_keyring(&self, keyring: Keyring) {
        *self
            .inner
            .keyring
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = keyring;
    }

    fn cache_manifest(&self, id: &str, manifest: Manifest, source: String) {
        self.inner
            .manifests
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.to_owned(), Arc::new(LoadedManifest { manifest, source }));
    }

    /// Parses, stores and loads a manifest under `id`.
    pub async fn load_manifest(
        &self,
        id: &str,
        source: &str,
    ) -> Result<Arc<LoadedManifest>, ServiceError> {
        check_id("id", "manifest_id_invalid", id)?;
        let manifest = Manifest::parse(Catalog::embedded(), id, source).map_err(|errors| {
            ServiceError::Invalid {
                code: "manifest_invalid",
                field: "source",
                message: errors.to_string(),
            }
        })?;
        self.inner
            .store
            .put_manifest(&ManifestRow {
                id: id.to_owned(),
                name: manifest.name.clone(),
                source: source.to_owned(),
                updated_at: now_millis(),
            })
            .await?;
        self.cache_manifest(id, manifest, source.to_owned());
        self.manifest(id)
    }

    /// A loaded manifest.
    pub fn manifest(&self, id: &str) -> Result<Arc<LoadedManifest>, ServiceError> {
        self.inner
            .manifests
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned()
            .ok_or_else(|| ServiceError::ManifestNotFound(id.to_owned()))
    }

    /// Every loaded manifest id.
    pub fn manifest_ids(&self) -> Vec<String> {
        self.inner
            .manifests
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    /// The budget every verification for `tenant` in `mode` shares.
    fn budget(&self, tenant: &str, mode: Mode) -> Arc<Budget> {
        let mut budgets = self
            .inner
            .budgets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = (tenant.to_owned(), mode);
        if let Some(budget) = budgets.get(&key).and_then(Weak::upgrade) {
            return budget;
        }
        if budgets.len() >= 1024 {
            budgets.retain(|_, budget| budget.strong_count() > 0);
        }
        let rate = self
            .inner
            .settings
            .verify
            .rate_per_second
            .unwrap_or_else(|| rakguard_verify::default_rate(mode));
        let budget = Arc::new(Budget::new(rate));
        budgets.insert(key, Arc::downgrade(&budget));
        budget
    }

    fn options(
        &self,
        tenant: &str,
        mode: Mode,
        tier: Option<&str>,
        previously_valid: bool,
    ) -> Options {
        let mut options = self.inner.settings.verify.clone();
        options.budget = Some(self.budget(tenant, mode));
        options.api_base = self.inner.settings.api_base.clone();
        options.mode = Some(mode);
        options.tier = tier.map(str::to_owned);
        options.previously_valid = previously_valid;
        options
    }

    /// Verifies `key` for `tenant` in `mode` against the manifest (and tier) and, when it
    /// passes, seals and stores it as the tenant's connection for that mode (replacing the
    /// previous one). The verdict is returned either way; nothing is stored for a failing key.
    #[allow(clippy::too_many_arguments)]
    pub async fn connect(
        &self,
        actor: &Actor,
        tenant: &str,
        mode: &str,
        key: &SecretString,
        manifest_id: &str,
        tier: Option<&str>,
    ) -> Result<ConnectOutcome, ServiceError> {
        check_id("tenant", "tenant_invalid", tenant)?;
        let mode = parse_mode(mode)?;
        if !actor.may_act_for(tenant) {
            return Err(ServiceError::Forbidden(
                "this token may not act for that tenant".to_owned(),
            ));
        }
        let loaded = self.manifest(manifest_id)?;
        check_tier(&loaded.manifest, tier)?;
        let options = self.options(tenant, mode, tier, false);
        let started = now_millis();
        let parsed = ApiKey::parse_lenient(key.expose_secret());
        let verdict = match &parsed {
            Ok((key, _)) => rakguard_verify::verify(key, &loaded.manifest, &options)
                .await
                .map_err(|error| ServiceError::Verify(error.to_string()))?,
            Err(error) => rakguard_verify::malformed(error, "verify", &options),
        };
        let masked = verdict.key.masked.clone();
        tracing::info!(
            actor = %actor.name,
            tenant,
            mode = mode.as_str(),
            manifest = manifest_id,
            key = %masked,
            code = verdict.code.as_str(),
            requests = verdict.requests,
            elapsed_ms = now_millis() - started,
            "connect: verified"
        );
        let audit = |connection_id: Option<String>| AuditRow {
            at: now_millis(),
            actor: actor.name.clone(),
            action: "connect".to_owned(),
            tenant: Some(tenant.to_owned()),
            mode: Some(mode.as_str().to_owned()),
            connection_id,
            source: actor.source.clone(),
            detail: format!("{} {masked}", verdict.code),
        };
        let Ok((api_key, _)) = parsed else {
            self.inner.store.audit(&audit(None)).await?;
            return Ok(ConnectOutcome {
                verdict,
                connection: None,
            });
        };
        if verdict.code != Code::Ok {
            self.inner.store.audit(&audit(None)).await?;
            return Ok(ConnectOutcome {
                verdict,
                connection: None,
            });
        }
        let id = new_id("conn");
        let sealed = self
            .with_keyring(|keyring| {
                keyring.seal(
                    api_key.expose_secret(),
                    &Binding {
                        tenant,
                        mode: mode.as_str(),
                        connection_id: &id,
                    },
                )
            })
            .map_err(|error| ServiceError::Seal(error.to_string()))?;
        let verdict_json = serde_json::to_string(&verdict).unwrap_or_default();
        let now = now_millis();
        let row = ConnectionRow {
            id: id.clone(),
            tenant: tenant.to_owned(),
            mode: mode.as_str().to_owned(),
            manifest: manifest_id.to_owned(),
            tier: tier.map(str::to_owned),
            status: status::ACTIVE.to_owned(),
            active: true,
            masked_key: masked.clone(),
            ciphertext: Some(sealed.ciphertext),
            wrapped_key: Some(sealed.wrapped_key),
            master_key_id: Some(sealed.master_key_id),
            verdict: verdict_json,
            created_at: started,
            verified_at: now,
            next_check_at: now + self.next_interval_millis(),
            failures: 0,
            disconnected_at: None,
        };
        let orphans = orphan_rows(&id, &verdict, now);
        self.inner
            .store
            .insert_connection(
                &row,
                "connect",
                verdict.code.as_str(),
                &orphans,
                &audit(Some(id.clone())),
            )
            .await?;
        let connection = self.view(row).await?;
        Ok(ConnectOutcome {
            verdict,
            connection: Some(connection),
        })
    }

    /// The tenant's active connection for `mode`.
    pub async fn status(
        &self,
        actor: &Actor,
        tenant: &str,
        mode: &str,
    ) -> Result<ConnectionView, ServiceError> {
        let row = self.active(actor, tenant, mode).await?;
        self.view(row).await
    }

    async fn active(
        &self,
        actor: &Actor,
        tenant: &str,
        mode: &str,
    ) -> Result<ConnectionRow, ServiceError> {
        let mode = parse_mode(mode)?;
        let not_found = || ServiceError::NotConnected {
            tenant: tenant.to_owned(),
            mode: mode.as_str().to_owned(),
        };
        // Another tenant's connection is indistinguishable from a missing one.
        if !actor.may_act_for(tenant) {
            return Err(not_found());
        }
        self.inner
            .store
            .active_connection(tenant, mode.as_str())
            .await?
            .ok_or_else(not_found)
    }

    async fn view(&self, row: ConnectionRow) -> Result<ConnectionView, ServiceError> {
        let history = self
            .inner
            .store
            .history(&row.id, 20)
            .await?
            .into_iter()
            .map(|entry| HistoryEntry {
                at: entry.at,
                trigger: entry.trigger,
                code: entry.code,
                status: entry.status,
            })
            .collect();
        let verdict = Verdict::from_json(&row.verdict)
            .map_err(|error| StoreError::Corrupt(format!("verdict of {}: {error}", row.id)))?;
        Ok(ConnectionView {
            id: row.id,
            tenant: row.tenant,
            mode: row.mode,
            status: row.status,
            masked_key: row.masked_key,
            manifest: row.manifest,
            tier: row.tier,
            connected_at: row.created_at,
            last_verified_at: row.verified_at,
            next_check_at: row.next_check_at,
            verdict,
            history,
        })
    }

    fn open(&self, row: &ConnectionRow) -> Result<SecretString, ServiceError> {
        let (Some(ciphertext), Some(wrapped_key), Some(master_key_id)) =
            (&row.ciphertext, &row.wrapped_key, &row.master_key_id)
        else {
            return Err(ServiceError::Seal("the key was shredded".to_owned()));
        };
        let sealed = Sealed {
            ciphertext: ciphertext.clone(),
            wrapped_key: wrapped_key.clone(),
            master_key_id: master_key_id.clone(),
        };
        self.with_keyring(|keyring| {
            keyring.open(
                &sealed,
                &Binding {
                    tenant: &row.tenant,
                    mode: &row.mode,
                    connection_id: &row.id,
                },
            )
        })
        .map_err(|error| ServiceError::Seal(error.to_string()))
    }

    /// Re-verifies the tenant's connection now.
    pub async fn reverify(
        &self,
        actor: &Actor,
        tenant: &str,
        mode: &str,
    ) -> Result<ConnectionView, ServiceError> {
        let row = self.active(actor, tenant, mode).await?;
        let id = row.id.clone();
        self.reverify_row(actor, row, "manual").await?;
        let row =
            self.inner
                .store
                .connection(&id)
                .await?
                .ok_or_else(|| ServiceError::NotConnected {
                    tenant: tenant.to_owned(),
                    mode: mode.to_owned(),
                })?;
        self.view(row).await
    }

    /// Re-verifies one stored connection and records the outcome (status transitions, event,
    /// history, audit). Returns the new status. Used by [`Service::reverify`] and the monitor.
    pub async fn reverify_row(
        &self,
        actor: &Actor,
        row: ConnectionRow,
        trigger: &str,
    ) -> Result<String, ServiceError> {
        let loaded = self.manifest(&row.manifest)?;
        let mode = parse_mode(&row.mode)?;
        let options = self.options(&row.tenant, mode, row.tier.as_deref(), true);
        let plaintext = self.open(&row)?;
        let key = ApiKey::parse(plaintext.expose_secret()).map_err(|error| {
            ServiceError::Seal(format!("the stored key does not parse: {}", error.code()))
        })?;
        drop(plaintext);
        let verdict = rakguard_verify::verify(&key, &loaded.manifest, &options)
            .await
            .map_err(|error| ServiceError::Verify(error.to_string()))?;
        drop(key);
        let now = now_millis();
        let (status, failures, next) = transition(&row, &verdict, now, self.next_interval_millis());
        // An inconclusive run keeps the previous verdict on display; the history records it.
        let verdict_json = serde_json::to_string(&verdict).unwrap_or_default();
        let shown = if verdict.code.is_inconclusive() && status != status::UNREACHABLE {
            row.verdict.clone()
        } else {
            verdict_json.clone()
        };
        let event = (status != row.status).then(|| event_row(&row, &status, &verdict, now));
        let audit = audit_row(
            actor,
            "reverify",
            &row,
            now,
            format!("{} {} -> {}", verdict.code, row.status, status),
        );
        let orphans = orphan_rows(&row.id, &verdict, now);
        tracing::info!(
            actor = %actor.name,
            trigger,
            tenant = %row.tenant,
            mode = %row.mode,
            connection = %row.id,
            key = %row.masked_key,
            code = verdict.code.as_str(),
            from = %row.status,
            to = %status,
            failures,
            "reverify"
        );
        self.inner
            .store
            .record_verification(
                &row.id,
                trigger,
                verdict.code.as_str(),
                &status,
                &shown,
                now,
                next,
                failures,
                &orphans,
                event.as_ref(),
                &audit,
            )
            .await?;
        Ok(status)
    }

    /// Disconnects: the key is shredded, an event and an audit line are recorded.
    pub async fn disconnect(
        &self,
        actor: &Actor,
        tenant: &str,
        mode: &str,
    ) -> Result<(), ServiceError> {
        let row = self.active(actor, tenant, mode).await?;
        let now = now_millis();
        let verdict = Verdict::from_json(&row.verdict).ok();
        let event = EventRow {
            id: new_id("evt"),
            tenant: row.tenant.clone(),
            connection_id: Some(row.id.clone()),
            event_type: "connection.disconnected".to_owned(),
            payload: event_payload(&row, status::DISCONNECTED, verdict.as_ref(), now),
            created_at: now,
            delivered_at: None,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
        };
        let audit = audit_row(actor, "disconnect", &row, now, row.masked_key.clone());
        let removed = self
            .inner
            .store
            .disconnect(&row.tenant, &row.mode, now, &event, &audit)
            .await?;
        if removed.is_none() {
            return Err(ServiceError::NotConnected {
                tenant: tenant.to_owned(),
                mode: mode.to_owned(),
            });
        }
        tracing::info!(
            actor = %actor.name,
            tenant = %row.tenant,
            mode = %row.mode,
            connection = %row.id,
            key = %row.masked_key,
            "disconnect: key shredded"
        );
        Ok(())
    }

    /// The plaintext key, for an actor allowed to reveal keys. Audited.
    pub async fn reveal(
        &self,
        actor: &Actor,
        tenant: &str,
        mode: &str,
    ) -> Result<SecretString, ServiceError> {
        let row = self.active(actor, tenant, mode).await?;
        if !actor.can_reveal {
            return Err(ServiceError::Forbidden(
                "this token may not reveal keys: create one with reveal permission".to_owned(),
            ));
        }
        let key = self.open(&row)?;
        tracing::info!(
            actor = %actor.name,
            tenant = %row.tenant,
            mode = %row.mode,
            connection = %row.id,
            key = %row.masked_key,
            "reveal"
        );
        self.inner
            .store
            .audit(&audit_row(
                actor,
                "reveal",
                &row,
                now_millis(),
                row.masked_key.clone(),
            ))
            .await?;
        Ok(key)
    }

    /// The monitor's interval with ±10% jitter, in milliseconds.
    fn next_interval_millis(&self) -> i64 {
        let base = self.inner.settings.monitor_interval.as_millis() as f64;
        let jitter: f64 = rand::random_range(0.9..=1.1);
        (base * jitter) as i64
    }

    /// Re-wraps every stored data key with the keyring's current master key (keys wrapped by a
    /// previous master key must be in the keyring). Returns how many were re-wrapped.
    pub async fn rotate_master(&self, actor: &Actor) -> Result<usize, ServiceError> {
        let mut count = 0;
        for (id, wrapped, old_id) in self.inner.store.wrapped_keys().await? {
            let (current_id, rewrapped) = self.with_keyring(|keyring| {
                (
                    keyring.current.id().to_owned(),
                    keyring.rewrap(&wrapped, &old_id, &id),
                )
            });
            if old_id == current_id {
                continue;
            }
            let rewrapped = rewrapped.map_err(|error| ServiceError::Seal(error.to_string()))?;
            if self
                .inner
                .store
                .rewrap(&id, &old_id, &rewrapped, &current_id)
                .await?
            {
                count += 1;
            }
        }
        self.inner
            .store
            .audit(&AuditRow {
                at: now_millis(),
                actor: actor.name.clone(),
                action: "rotate-master".to_owned(),
                tenant: None,
                mode: None,
                connection_id: None,
                source: actor.source.clone(),
                detail: format!("{count} data keys re-wrapped"),
            })
            .await?;
        Ok(count)
    }
}

/// The status after a re-verification, the count of inconclusive runs in a row, and when to
/// check next. Inconclusive runs never flip a status until [`UNREACHABLE_AFTER`] in a row, and
/// are retried sooner (5 minutes × the count, at most the interval).
pub fn transition(
    row: &ConnectionRow,
    verdict: &Verdict,
    now: i64,
    interval: i64,
) -> (String, i64, i64) {
    let decided = |status: &str| (status.to_owned(), 0, now + interval);
    match verdict.code {
        Code::Ok => decided(status::ACTIVE),
        Code::PermissionsMissing => decided(status::DEGRADED),
        Code::KeyInvalid | Code::KeyRevoked => decided(status::REVOKED),
        Code::KeyExpired => decided(status::EXPIRED),
        Code::KeyIpRestricted
        | Code::KeyPublishable
        | Code::KeyWrongMode
        | Code::SecretKeyRefused
        | Code::KeyMalformed
        | Code::AccountInvalid => decided(status::REVOKED),
        Code::RateLimited | Code::Unreachable | Code::Incomplete => {
            let failures = row.failures + 1;
            let status = if failures >= UNREACHABLE_AFTER {
                status::UNREACHABLE.to_owned()
            } else {
                row.status.clone()
            };
            let retry = (5 * 60 * 1000 * failures).min(interval);
            (status, failures, now + retry)
        }
    }
}

fn event_row(row: &ConnectionRow, status: &str, verdict: &Verdict, now: i64) -> EventRow {
    let event_type = match status {
        status::ACTIVE => "connection.restored",
        status::DEGRADED => "connection.degraded",
        status::REVOKED => "connection.revoked",
        status::EXPIRED => "connection.expired",
        status::UNREACHABLE => "connection.unreachable",
        _ => "connection.updated",
    };
    EventRow {
        id: new_id("evt"),
        tenant: row.tenant.clone(),
        connection_id: Some(row.id.clone()),
        event_type: event_type.to_owned(),
        payload: event_payload(row, status, Some(verdict), now),
        created_at: now,
        delivered_at: None,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
    }
}

fn event_payload(row: &ConnectionRow, status: &str, verdict: Option<&Verdict>, now: i64) -> String {
    serde_json::json!({
        "tenant": row.tenant,
        "mode": row.mode,
        "connection": row.id,
        "masked_key": row.masked_key,
        "previous_status": row.status,
        "status": status,
        "code": verdict.map(|verdict| verdict.code.as_str()),
        "missing": verdict.map(|verdict| verdict.missing.clone()).unwrap_or_default(),
        "at": now,
    })
    .to_string()
}

fn orphan_rows(connection_id: &str, verdict: &Verdict, now: i64) -> Vec<OrphanRow> {
    verdict
        .orphans
        .iter()
        .map(|orphan| OrphanRow {
            connection_id: connection_id.to_owned(),
            object_id: orphan.id.clone(),
            cleanup: orphan.cleanup.clone(),
            permission: orphan.permission.clone(),
            reason: orphan.reason.clone(),
            created_at: now,
        })
        .collect()
}

/// Parses `test` or `live`.
pub fn parse_mode(mode: &str) -> Result<Mode, ServiceError> {
    mode.parse::<Mode>().map_err(|_| ServiceError::Invalid {
        code: "mode_invalid",
        field: "mode",
        message: format!("{mode:?} is not a mode: use \"test\" or \"live\""),
    })
}

fn check_tier(manifest: &Manifest, tier: Option<&str>) -> Result<(), ServiceError> {
    match tier {
        Some(tier) if manifest.tier(tier).is_none() => Err(ServiceError::Invalid {
            code: "tier_invalid",
            field: "tier",
            message: format!(
                "manifest {:?} has no tier {tier:?} (tiers: {})",
                manifest.id,
                manifest.tier_ids().join(", ")
            ),
        }),
        None if !manifest.tiers.is_empty() && manifest.permissions.is_empty() => {
            Err(ServiceError::Invalid {
                code: "tier_required",
                field: "tier",
                message: format!(
                    "manifest {:?} has tiers; say which: {}",
                    manifest.id,
                    manifest.tier_ids().join(", ")
                ),
            })
        }
        _ => Ok(()),
    }
}

/// Checks a tenant or manifest id: 1 to 64 of `A-Z a-z 0-9 _ - .`.
pub fn check_id(field: &'static str, code: &'static str, id: &str) -> Result<(), ServiceError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::Invalid {
            code,
            field,
            message: "use 1 to 64 letters, digits, '_', '-' or '.'".to_owned(),
        })
    }
}

/// A new random id with a prefix: `conn_…`, `evt_…`.
pub fn new_id(prefix: &str) -> String {
    use rand::RngExt;
    let mut rng = rand::rng();
    let body: String = (0..20)
        .map(|_| {
            let n: u32 = rng.random_range(0..62);
            let c = match n {
                0..=9 => b'0' + n as u8,
                10..=35 => b'a' + (n - 10) as u8,
                _ => b'A' + (n - 36) as u8,
            };
            char::from(c)
        })
        .collect();
    format!("{prefix}_{body}")
}

/// The audit line for `action` by `actor` on a stored connection.
fn audit_row(
    actor: &Actor,
    action: &str,
    row: &ConnectionRow,
    at: i64,
    detail: String,
) -> AuditRow {
    AuditRow {
        at,
        actor: actor.name.clone(),
        action: action.to_owned(),
        tenant: Some(row.tenant.clone()),
        mode: Some(row.mode.clone()),
        connection_id: Some(row.id.clone()),
        source: actor.source.clone(),
        detail,
    }
}
