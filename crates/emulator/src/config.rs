//! The emulator's configuration: where it listens, which keys exist, the seed, the wording era of
//! permission errors, rate limits and injected faults.

use std::net::{IpAddr, Ipv4Addr};

use rakguard_catalog::Catalog;
use rakguard_catalog::key::{KeyKind, Mode};
use rakguard_catalog::stripe_error::PermissionErrorEra;
use serde_json::Value;

use crate::error::{AdminError, EmulatorError};
use crate::keys::KeySpec;
use crate::webhooks::WebhookSettings;

/// Stripe's global rate limit in test mode (sandbox), requests per second.
pub const DEFAULT_TEST_RATE_LIMIT: u32 = 25;
/// Stripe's global rate limit in live mode, requests per second.
pub const DEFAULT_LIVE_RATE_LIMIT: u32 = 100;
/// The `Stripe-Version` answered when a request names none.
pub const DEFAULT_STRIPE_VERSION: &str = "2025-09-30.clover";

/// Which template 403 permission errors use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorEra {
    /// Stripe's current wording: `more_permissions_required`, Dashboard label and edit link.
    #[default]
    Current,
    /// The 2021–2025 wording naming `'rak_…'` permissions.
    Legacy,
}

impl ErrorEra {
    /// The catalogue's template for this era.
    pub fn template(self) -> PermissionErrorEra {
        match self {
            ErrorEra::Current => PermissionErrorEra::Current,
            ErrorEra::Legacy => PermissionErrorEra::Rak,
        }
    }
}

/// Per-mode request budgets, per second, shared by all keys of one account and mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Test mode.
    pub test: u32,
    /// Live mode.
    pub live: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            test: DEFAULT_TEST_RATE_LIMIT,
            live: DEFAULT_LIVE_RATE_LIMIT,
        }
    }
}

impl RateLimits {
    /// The budget of a mode.
    pub fn for_mode(self, mode: Mode) -> u32 {
        match mode {
            Mode::Test => self.test,
            Mode::Live => self.live,
        }
    }
}

/// Injected faults. Throttling is decided where Stripe's rate limiter runs (after the key and
/// before routing, permission and idempotency); latency, errors and resets once a request is
/// authorised and about to execute. When [`FaultSettings::scope`] is set, only matching requests
/// are delayed, throttled, failed or reset.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultSettings {
    /// Added delay, in milliseconds.
    pub latency_ms: u64,
    /// Up to this many more milliseconds, drawn per request.
    pub jitter_ms: u64,
    /// Share of requests (0.0 to 1.0) answered with 500 `api_error`.
    pub error_rate: f64,
    /// Share of requests (0.0 to 1.0) whose connection is closed without an answer.
    pub reset_rate: f64,
    /// Share of requests (0.0 to 1.0) answered like Stripe's rate limiter (429 `rate_limit`,
    /// `Stripe-Rate-Limited-Reason: global-rate`) without being executed. A throttled request is
    /// still delayed by the latency and jitter.
    pub throttle_rate: f64,
    /// Overrides both modes' rate limit when set. Not limited by [`FaultSettings::scope`].
    pub rate_limit_per_second: Option<u32>,
    /// When set, latency, jitter and the error, reset and throttle rates apply only to the
    /// requests it matches.
    pub scope: Option<FaultScope>,
}

impl FaultSettings {
    /// True when no request is delayed, throttled, failed or reset, whatever its scope.
    pub fn is_quiet(&self) -> bool {
        self.latency_ms == 0
            && self.jitter_ms == 0
            && self.error_rate <= 0.0
            && self.reset_rate <= 0.0
            && self.throttle_rate <= 0.0
    }

    /// Whether the per-request faults apply to a request (always, without a scope).
    pub fn applies_to(&self, method: &str, path: &str) -> bool {
        self.scope
            .as_ref()
            .is_none_or(|scope| scope.matches(method, path))
    }
}

/// Which requests faults apply to; an unset part matches every request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FaultScope {
    /// The HTTP method (`GET`, `POST` or `DELETE`), compared case-insensitively.
    pub method: Option<String>,
    /// A prefix of the request path, without the query string (`/v1/coupons/`), compared
    /// byte for byte.
    pub path_prefix: Option<String>,
}

impl FaultScope {
    /// Whether a request with this method and path (no query string) is in scope.
    ///
    /// ```
    /// use rakguard_emulator::FaultScope;
    /// let scope = FaultScope {
    ///     method: Some("DELETE".into()),
    ///     path_prefix: Some("/v1/coupons/".into()),
    /// };
    /// assert!(scope.matches("delete", "/v1/coupons/TENOFF"));
    /// assert!(!scope.matches("POST", "/v1/coupons/TENOFF"));
    /// assert!(!scope.matches("DELETE", "/v1/coupons"));
    /// ```
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|wanted| wanted.eq_ignore_ascii_case(method))
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|prefix| path.starts_with(prefix))
    }
}

/// Everything the emulator needs to start.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The address to listen on.
    pub host: IpAddr,
    /// The port; 0 picks a free one.
    pub port: u16,
    /// The keys; when empty, one secret and one publishable key per mode are generated.
    pub keys: Vec<KeySpec>,
    /// Seeds every generated id and secret, and the fault generator.
    pub seed: Option<u64>,
    /// The wording of 403 permission errors.
    pub era: ErrorEra,
    /// Request budgets.
    pub rate_limits: RateLimits,
    /// Injected faults.
    pub faults: FaultSettings,
    /// Connected accounts reachable with `Stripe-Account`.
    pub connected_accounts: Vec<String>,
    /// The `Stripe-Version` answered when a request names none.
    pub default_stripe_version: String,
    /// Webhook delivery: retries, concurrency, timeouts.
    pub webhooks: WebhookSettings,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            keys: Vec::new(),
            seed: None,
            era: ErrorEra::default(),
            rate_limits: RateLimits::default(),
            faults: FaultSettings::default(),
            connected_accounts: Vec::new(),
            default_stripe_version: DEFAULT_STRIPE_VERSION.to_owned(),
            webhooks: WebhookSettings::default(),
        }
    }
}

impl EmulatorConfig {
    /// The keys used when none are configured: a secret and a publishable key per mode.
    pub fn default_keys() -> Vec<KeySpec> {
        [Mode::Test, Mode::Live]
            .into_iter()
            .flat_map(|mode| {
                [
                    KeySpec::new(format!("Secret key ({mode})"), KeyKind::Secret, mode),
                    KeySpec::new(
                        format!("Publishable key ({mode})"),
                        KeyKind::Publishable,
                        mode,
                    ),
                ]
            })
            .collect()
    }
}

/// Parses a keys file: TOML with one `[[key]]` table per key, fields as in the admin API
/// (`name`, `type`, `mode`, `secret`, `permissions`, `connect_permissions`, `expires_at`,
/// `allowed_ips`).
///
/// ```
/// let keys = rakguard_emulator::config::parse_keys_file(r#"
/// [[key]]
/// name = "billing worker"
/// type = "restricted"
/// mode = "test"
/// permissions = ["customer_write", "invoice_read"]
/// expires_at = 2030-01-01T00:00:00Z
/// allowed_ips = ["10.0.0.0/8"]
/// "#)?;
/// assert_eq!(keys.len(), 1);
/// # Ok::<(), rakguard_emulator::EmulatorError>(())
/// ```
pub fn parse_keys_file(text: &str) -> Result<Vec<KeySpec>, EmulatorError> {
    let table: toml::Table = toml::from_str(text).map_err(EmulatorError::KeysFileSyntax)?;
    let json = serde_json::to_value(&table)
        .map_err(|error| EmulatorError::KeySpec(AdminError::field("key", error.to_string())))?;
    if let Some(unknown) = table.keys().find(|key| key.as_str() != "key") {
        return Err(EmulatorError::KeySpec(AdminError::field(
            unknown.clone(),
            "unknown table; expected [[key]]",
        )));
    }
    let keys = match json.get("key") {
        None => return Ok(Vec::new()),
        Some(Value::Array(keys)) => keys,
        Some(_) => {
            return Err(EmulatorError::KeySpec(AdminError::field(
                "key",
                "expected [[key]] tables",
            )));
        }
    };
    keys.iter()
        .enumerate()
        .map(|(index, key)| {
            KeySpec::from_json(Catalog::embedded(), key).map_err(|error| {
                EmulatorError::KeySpec(AdminError::field(
                    format!("key[{index}].{}", error.field),
                    error.message,
                ))
            })
        })
        .collect()
}
