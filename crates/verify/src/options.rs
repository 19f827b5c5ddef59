//! How a verification runs: where, how fast, how patiently.

use std::time::Duration;

use rakguard_catalog::key::Mode;
use rakguard_catalog::probe::Probe;

/// Stripe's production API.
pub const STRIPE_API_BASE: &str = "https://api.stripe.com";

/// Stripe's global limit per account in test mode (sandbox), requests per second.
pub const STRIPE_TEST_LIMIT: u32 = 25;
/// Stripe's global limit per account in live mode, requests per second.
pub const STRIPE_LIVE_LIMIT: u32 = 100;

/// The default budget: 80% of Stripe's per-mode limit, leaving room for the integration's own
/// traffic on the same account.
pub const fn default_rate(mode: Mode) -> u32 {
    match mode {
        Mode::Test => STRIPE_TEST_LIMIT * 4 / 5,
        Mode::Live => STRIPE_LIVE_LIMIT * 4 / 5,
    }
}

/// Retry policy for 429, 5xx, 409 and connection errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Retries after the first attempt (so `max_retries + 1` attempts at most).
    pub max_retries: u32,
    /// The first delay; each further one doubles, with jitter in [0.5, 1].
    pub initial_backoff: Duration,
    /// The longest delay between attempts.
    pub max_backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            max_retries: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// Everything `verify` and `scan` can be told.
#[derive(Debug, Clone)]
pub struct Options {
    /// The Stripe-compatible API, without a trailing slash. Default [`STRIPE_API_BASE`].
    pub api_base: String,
    /// The mode of the slot the key was given for; a key of the other mode is refused
    /// (`STRIPE_KEY_WRONG_MODE`). `None` accepts either.
    pub mode: Option<Mode>,
    /// The manifest's tier to verify (verify only).
    pub tier: Option<String>,
    /// Overrides the manifest's `accept_secret_keys` (for `scan`, secret keys are refused unless
    /// this is `Some(true)`: they hold every permission, so there is nothing to scan).
    pub accept_secret_keys: Option<bool>,
    /// Requests per second at most, in any one-second window. `None`: [`default_rate`] of the
    /// key's mode.
    pub rate_per_second: Option<u32>,
    /// Requests in flight at most.
    pub max_in_flight: usize,
    /// Retry policy.
    pub retry: Retry,
    /// The whole run's deadline; probes not answered by then are `unknown`.
    pub deadline: Duration,
    /// One request's timeout.
    pub request_timeout: Duration,
    /// `Stripe-Account` on every probe (a platform checking its key's Connect permissions on a
    /// connected account).
    pub stripe_account: Option<String>,
    /// `Stripe-Context` on every probe (organisation keys).
    pub stripe_context: Option<String>,
    /// `Stripe-Version` on every probe; `None` sends none (the account's default applies).
    pub stripe_version: Option<String>,
    /// The key verified successfully before (e.g. when it was connected). Stripe answers a
    /// deleted key like a mistyped one; with this set, that answer reads as revoked.
    pub previously_valid: bool,
    /// Verify only: also probe every other row, so that `excess` lists everything the key
    /// holds beyond the manifest (least privilege). Costs a scan's requests.
    pub check_excess: bool,
    /// Probes to use instead of the catalogue's, one per (row, level) at most.
    pub probes: Option<Vec<Probe>>,
    /// Called after each answered probe with (answered, planned so far), for progress bars.
    pub progress: Option<Progress>,
    /// A rate budget shared with other runs, such as every verification of one Stripe account
    /// in a service, so that together they keep to the account's limit. When set,
    /// `rate_per_second` is not used.
    pub budget: Option<std::sync::Arc<crate::budget::Budget>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            api_base: STRIPE_API_BASE.to_owned(),
            mode: None,
            tier: None,
            accept_secret_keys: None,
            rate_per_second: None,
            max_in_flight: 10,
            retry: Retry::default(),
            deadline: Duration::from_secs(60),
            request_timeout: Duration::from_secs(20),
            stripe_account: None,
            stripe_context: None,
            stripe_version: None,
            previously_valid: false,
            check_excess: false,
            probes: None,
            progress: None,
            budget: None,
        }
    }
}

/// A progress callback: (probes answered, probes planned at most).
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(usize, usize) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

impl Options {
    /// Options for an API at `api_base`, other settings default.
    pub fn with_api_base(api_base: impl Into<String>) -> Options {
        Options {
            api_base: api_base.into().trim_end_matches('/').to_owned(),
            ..Options::default()
        }
    }
}
