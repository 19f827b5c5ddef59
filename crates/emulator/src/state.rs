//! The emulator's shared state: configuration, keys, stored objects, idempotency records, rate
//! buckets, faults and the request log, behind one `Arc<RwLock<…>>`.
//!
//! The lock is a std lock held only for short synchronous sections, never across an `.await`.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use rakguard_catalog::Catalog;
use rakguard_catalog::key::Mode;
use serde::Serialize;

use crate::config::{EmulatorConfig, ErrorEra, FaultSettings, RateLimits};
use crate::error::{AdminError, EmulatorError};
use crate::idempotency::IdempotencyStore;
use crate::ids::{Clock, Ids};
use crate::keys::{KeyRecord, KeyStore};
use crate::store::Store;

/// The most request-log entries kept; older ones are dropped first.
pub const MAX_LOG_ENTRIES: usize = 10_000;

/// One line of the request log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// When the request ended (Unix seconds).
    pub time: i64,
    /// The key object's id, when the key was recognised.
    pub key_id: Option<String>,
    /// The HTTP method.
    pub method: String,
    /// The path, without query string.
    pub path: String,
    /// The response status.
    pub status: u16,
    /// The permission the operation required, when it maps to one.
    pub permission: Option<String>,
    /// The `Request-Id` sent back.
    pub request_id: String,
}

/// A per-(account, mode) token bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated_millis: i64,
}

/// Everything that changes while the emulator runs.
#[derive(Debug)]
pub struct Data {
    /// The keys.
    pub keys: KeyStore,
    /// Every stored object, by account, mode and type.
    pub objects: Store,
    /// Events waiting for webhook delivery: (account, mode, event id).
    pub outbox: Vec<(String, Mode, String)>,
    /// First responses of idempotent requests.
    pub idempotency: IdempotencyStore,
    /// Injected faults.
    pub faults: FaultSettings,
    /// The generator behind ids, secrets and faults.
    pub ids: Ids,
    /// The request log, oldest first.
    pub log: Vec<LogEntry>,
    buckets: HashMap<(String, Mode), Bucket>,
}

/// What never changes after start.
#[derive(Debug)]
struct Fixed {
    catalog: &'static Catalog,
    account_id: String,
    connected_accounts: BTreeSet<String>,
    era: ErrorEra,
    rate_limits: RateLimits,
    default_stripe_version: String,
    clock: Clock,
}

/// The emulator's state, cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    fixed: Arc<Fixed>,
    data: Arc<RwLock<Data>>,
}

impl AppState {
    /// Builds the state from a configuration, creating its keys (the default four when none are
    /// configured).
    pub fn new(config: &EmulatorConfig) -> Result<AppState, EmulatorError> {
        let clock = Clock::default();
        let mut ids = Ids::new(config.seed);
        let account_id = ids.id("acct_1", 15);
        let mut keys = KeyStore::default();
        let specs = if config.keys.is_empty() {
            EmulatorConfig::default_keys()
        } else {
            config.keys.clone()
        };
        for spec in specs {
            keys.add(spec, &mut ids, clock.now())
                .map_err(EmulatorError::KeySpec)?;
        }
        Ok(AppState {
            fixed: Arc::new(Fixed {
                catalog: Catalog::embedded(),
                account_id,
                connected_accounts: config.connected_accounts.iter().cloned().collect(),
                era: config.era,
                rate_limits: config.rate_limits,
                default_stripe_version: config.default_stripe_version.clone(),
                clock,
            }),
            data: Arc::new(RwLock::new(Data {
                keys,
                objects: Store::default(),
                outbox: Vec::new(),
                idempotency: IdempotencyStore::default(),
                faults: config.faults,
                ids,
                log: Vec::new(),
                buckets: HashMap::new(),
            })),
        })
    }

    /// The catalogue used for routing and permissions.
    pub fn catalog(&self) -> &'static Catalog {
        self.fixed.catalog
    }

    /// The emulated platform account (`acct_…`).
    pub fn account_id(&self) -> &str {
        &self.fixed.account_id
    }

    /// Whether `Stripe-Account` may name this account.
    pub fn is_reachable_account(&self, account: &str) -> bool {
        account == self.fixed.account_id || self.fixed.connected_accounts.contains(account)
    }

    /// The permission-error wording.
    pub fn era(&self) -> ErrorEra {
        self.fixed.era
    }

    /// The `Stripe-Version` used when a request names none.
    pub fn default_stripe_version(&self) -> &str {
        &self.fixed.default_stripe_version
    }

    /// The emulator's clock.
    pub fn clock(&self) -> &Clock {
        &self.fixed.clock
    }

    /// Moves the emulator's clock forward (key expiry, rate-limit refill) without sleeping.
    pub fn advance_clock(&self, by: Duration) {
        self.fixed.clock.advance(by);
    }

    /// Reads the data.
    pub fn read(&self) -> RwLockReadGuard<'_, Data> {
        self.data.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the data.
    pub fn write(&self) -> RwLockWriteGuard<'_, Data> {
        self.data.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every key, oldest first.
    pub fn keys(&self) -> Vec<KeyRecord> {
        self.read().keys.all().to_vec()
    }

    /// A fresh `Request-Id`: `req_` and 14 letters and digits.
    pub fn new_request_id(&self) -> String {
        self.write().ids.id("req_", 14)
    }

    /// Takes one request from the (account, mode) bucket; false when it is empty.
    pub fn take_token(&self, account: &str, mode: Mode) -> bool {
        let now = self.fixed.clock.now_millis();
        let mut data = self.write();
        let per_second = data
            .faults
            .rate_limit_per_second
            .unwrap_or_else(|| self.fixed.rate_limits.for_mode(mode))
            .max(1);
        let capacity = f64::from(per_second);
        let bucket = data
            .buckets
            .entry((account.to_owned(), mode))
            .or_insert(Bucket {
                tokens: capacity,
                updated_millis: now,
            });
        let elapsed = (now - bucket.updated_millis).max(0);
        bucket.tokens = (bucket.tokens + capacity * elapsed as f64 / 1000.0).min(capacity);
        bucket.updated_millis = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Appends to the request log.
    pub fn record(&self, entry: LogEntry) {
        let mut data = self.write();
        if data.log.len() >= MAX_LOG_ENTRIES {
            data.log.remove(0);
        }
        data.log.push(entry);
    }

    /// The request log, optionally only one key's requests.
    pub fn requests(&self, key_id: Option<&str>) -> Vec<LogEntry> {
        self.read()
            .log
            .iter()
            .filter(|entry| key_id.is_none_or(|wanted| entry.key_id.as_deref() == Some(wanted)))
            .cloned()
            .collect()
    }

    /// Clears objects, idempotency records, rate buckets and the log; keeps keys and faults.
    pub fn reset(&self) {
        let mut data = self.write();
        data.objects.clear();
        data.outbox.clear();
        data.idempotency.clear();
        data.buckets.clear();
        data.log.clear();
    }

    /// Runs `change` on the key store, returning the key as the admin API shows it.
    pub fn with_keys<F>(&self, reveal: bool, change: F) -> Result<serde_json::Value, AdminError>
    where
        F: FnOnce(&mut KeyStore, &mut Ids, i64) -> Result<KeyRecord, AdminError>,
    {
        let now = self.fixed.clock.now();
        let mut data = self.write();
        let Data { keys, ids, .. } = &mut *data;
        let record = change(keys, ids, now)?;
        Ok(record.to_json(self.fixed.catalog, reveal, now))
    }
}
