//! The emulator's shared state: configuration, keys, stored objects, idempotency records and
//! faults behind one `Arc<RwLock<…>>`; the request log, the rate buckets and the request-id
//! counter have locks (or atomics) of their own, because every request touches them and they
//! must not serialise requests that only read objects.
//!
//! Locks are std locks held only for short synchronous sections, never across an `.await`.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
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
    /// When the request arrived (Unix milliseconds, on the emulator's clock): what a rate limit
    /// counts.
    pub received_ms: i64,
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

/// An event waiting to be matched against webhook endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The account the event belongs to.
    pub account: String,
    /// Its mode.
    pub mode: Mode,
    /// The event's id.
    pub event_id: String,
    /// The event's type (`customer.created`), so matching needs no parsing.
    pub event_type: String,
}

/// Everything that changes while the emulator runs.
#[derive(Debug)]
pub struct Data {
    /// The keys.
    pub keys: KeyStore,
    /// Every stored object, by account, mode and type.
    pub objects: Store,
    /// Events waiting for webhook delivery.
    pub outbox: Vec<Outgoing>,
    /// First responses of idempotent requests.
    pub idempotency: IdempotencyStore,
    /// Injected faults.
    pub faults: FaultSettings,
    /// The generator behind ids, secrets and faults.
    pub ids: Ids,
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
    inner: Arc<Inner>,
}

/// Everything behind the one `Arc` an [`AppState`] clone shares.
#[derive(Debug)]
struct Inner {
    fixed: Fixed,
    data: RwLock<Data>,
    log: Mutex<VecDeque<LogEntry>>,
    buckets: Mutex<HashMap<(String, Mode), Bucket>>,
    request_ids: AtomicU64,
    /// Object and event ids, drawn outside the data lock (seeded from the main generator).
    object_ids: Mutex<Ids>,
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
        let request_seed = ids.up_to(u64::MAX - 1);
        let object_ids = Ids::new(Some(ids.up_to(u64::MAX - 1)));
        Ok(AppState {
            inner: Arc::new(Inner {
                fixed: Fixed {
                    catalog: Catalog::embedded(),
                    account_id,
                    connected_accounts: config.connected_accounts.iter().cloned().collect(),
                    era: config.era,
                    rate_limits: config.rate_limits,
                    default_stripe_version: config.default_stripe_version.clone(),
                    clock,
                },
                data: RwLock::new(Data {
                    keys,
                    objects: Store::default(),
                    outbox: Vec::new(),
                    idempotency: IdempotencyStore::default(),
                    faults: config.faults.clone(),
                    ids,
                }),
                log: Mutex::new(VecDeque::with_capacity(MAX_LOG_ENTRIES)),
                buckets: Mutex::new(HashMap::new()),
                request_ids: AtomicU64::new(request_seed),
                object_ids: Mutex::new(object_ids),
            }),
        })
    }

    /// The catalogue used for routing and permissions.
    pub fn catalog(&self) -> &'static Catalog {
        self.inner.fixed.catalog
    }

    /// The emulated platform account (`acct_…`).
    pub fn account_id(&self) -> &str {
        &self.inner.fixed.account_id
    }

    /// Whether `Stripe-Account` may name this account.
    pub fn is_reachable_account(&self, account: &str) -> bool {
        account == self.inner.fixed.account_id
            || self.inner.fixed.connected_accounts.contains(account)
    }

    /// The permission-error wording.
    pub fn era(&self) -> ErrorEra {
        self.inner.fixed.era
    }

    /// The `Stripe-Version` used when a request names none.
    pub fn default_stripe_version(&self) -> &str {
        &self.inner.fixed.default_stripe_version
    }

    /// The emulator's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.fixed.clock
    }

    /// Moves the emulator's clock forward (key expiry, rate-limit refill) without sleeping.
    pub fn advance_clock(&self, by: Duration) {
        self.inner.fixed.clock.advance(by);
    }

    /// Reads the data.
    pub fn read(&self) -> RwLockReadGuard<'_, Data> {
        self.inner
            .data
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the data.
    pub fn write(&self) -> RwLockWriteGuard<'_, Data> {
        self.inner
            .data
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Every key, oldest first.
    pub fn keys(&self) -> Vec<KeyRecord> {
        self.read().keys.all().to_vec()
    }

    /// A fresh `Request-Id`: `req_` and 14 letters and digits, from a counter scrambled with
    /// SplitMix64 (unique per run, reproducible with a seed, and lock-free).
    pub fn new_request_id(&self) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut state = self
            .inner
            .request_ids
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        let mut id = String::with_capacity(18);
        id.push_str("req_");
        for _ in 0..2 {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            for _ in 0..7 {
                id.push(char::from(ALPHABET[(z % 62) as usize]));
                z /= 62;
            }
        }
        id
    }

    /// A fresh object id (`cus_` and `len` letters and digits), without taking the data lock.
    pub fn new_object_id(&self, prefix: &str, len: usize) -> String {
        self.inner
            .object_ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .object_id(prefix, len)
    }

    /// Takes one request from the (account, mode) bucket; false when it is empty.
    pub fn take_token(&self, account: &str, mode: Mode) -> bool {
        let now = self.inner.fixed.clock.now_millis();
        let per_second = self
            .read()
            .faults
            .rate_limit_per_second
            .unwrap_or_else(|| self.inner.fixed.rate_limits.for_mode(mode))
            .max(1);
        let capacity = f64::from(per_second);
        let mut buckets = self
            .inner
            .buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let bucket = buckets.entry((account.to_owned(), mode)).or_insert(Bucket {
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
        let mut log = self
            .inner
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if log.len() >= MAX_LOG_ENTRIES {
            log.pop_front();
        }
        log.push_back(entry);
    }

    /// How many requests the log holds.
    pub fn logged(&self) -> usize {
        self.inner
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The request log, optionally only one key's requests.
    pub fn requests(&self, key_id: Option<&str>) -> Vec<LogEntry> {
        self.inner
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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
        drop(data);
        self.inner
            .buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.inner
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Runs `change` on the key store, returning the key as the admin API shows it.
    pub fn with_keys<F>(&self, reveal: bool, change: F) -> Result<serde_json::Value, AdminError>
    where
        F: FnOnce(&mut KeyStore, &mut Ids, i64) -> Result<KeyRecord, AdminError>,
    {
        let now = self.inner.fixed.clock.now();
        let mut data = self.write();
        let Data { keys, ids, .. } = &mut *data;
        let record = change(keys, ids, now)?;
        Ok(record.to_json(self.inner.fixed.catalog, reveal, now))
    }
}
