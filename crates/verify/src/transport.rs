//! The edge: HTTP requests to a Stripe-compatible API, inside the rate budget and the cap on
//! requests in flight, retried with exponential backoff and jitter.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rakguard_catalog::endpoint::Method;
use rakguard_catalog::key::ApiKey;
use rand::RngExt;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::budget::Budget;
use crate::options::{Options, Retry};

/// The `User-Agent` sent with every request.
pub const USER_AGENT: &str = concat!("rakguard-verify/", env!("CARGO_PKG_VERSION"));

/// Things that stop a run before it starts.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The API base is not an http(s) URL.
    #[error("api_base {0:?} is not an http:// or https:// URL: pass e.g. https://api.stripe.com")]
    ApiBase(String),
    /// The HTTP client could not be built.
    #[error("could not set up the HTTP client: {0}")]
    Client(String),
}

/// An answer from the API.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The HTTP status.
    pub status: u16,
    /// The body, as text.
    pub body: String,
    /// `Request-Id`.
    pub request_id: Option<String>,
    /// `Stripe-Should-Retry`, when sent.
    pub should_retry: Option<bool>,
    /// `Retry-After`, when sent (seconds).
    pub retry_after: Option<Duration>,
}

/// What sending produced.
#[derive(Debug, Clone)]
pub enum Sent {
    /// An answer.
    Answer(Exchange),
    /// No answer: the connection failed or timed out (the text names the failure, never the key).
    Failed(String),
}

/// Sends requests for one run.
pub struct Transport {
    http: reqwest::Client,
    api_base: String,
    key: ApiKey,
    budget: std::sync::Arc<Budget>,
    in_flight: Semaphore,
    /// The retry policy.
    pub retry: Retry,
    /// When the run must end.
    pub deadline: Instant,
    request_timeout: Duration,
    stripe_account: Option<String>,
    stripe_context: Option<String>,
    stripe_version: Option<String>,
    requests: AtomicU32,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("api_base", &self.api_base)
            .field("key", &self.key)
            .field("budget", &self.budget.limit())
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A transport for `key` with `options`; the deadline starts now. `rate` sizes the run's own
    /// budget unless `options.budget` shares one.
    pub fn new(key: &ApiKey, options: &Options, rate: u32) -> Result<Transport, TransportError> {
        let api_base = options.api_base.trim_end_matches('/').to_owned();
        if !(api_base.starts_with("https://") || api_base.starts_with("http://"))
            || reqwest::Url::parse(&api_base).is_err()
        {
            return Err(TransportError::ApiBase(api_base));
        }
        let http = shared_client()?;
        Ok(Transport {
            http,
            api_base,
            key: key.clone(),
            budget: options
                .budget
                .clone()
                .unwrap_or_else(|| std::sync::Arc::new(Budget::new(rate))),
            in_flight: Semaphore::new(options.max_in_flight.max(1)),
            retry: options.retry,
            deadline: Instant::now() + options.deadline,
            request_timeout: options.request_timeout,
            stripe_account: options.stripe_account.clone(),
            stripe_context: options.stripe_context.clone(),
            stripe_version: options.stripe_version.clone(),
            requests: AtomicU32::new(0),
        })
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u32 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Whether the deadline has passed.
    pub fn past_deadline(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Sends one request (no retry), inside the budget and the in-flight cap. `None` when the
    /// deadline passed before it could be sent.
    pub async fn send_once(
        &self,
        method: Method,
        path_and_query: &str,
        body: &str,
        idempotency_key: Option<&str>,
    ) -> Option<Sent> {
        let _permit = tokio::time::timeout_at(self.deadline, self.in_flight.acquire())
            .await
            .ok()?
            .ok()?;
        tokio::time::timeout_at(self.deadline, self.budget.acquire())
            .await
            .ok()?;
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return None;
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let url = format!("{}{}", self.api_base, path_and_query);
        let mut request = match method {
            Method::Get => self.http.get(&url),
            Method::Post => self.http.post(&url),
            Method::Delete => self.http.delete(&url),
        }
        .bearer_auth(self.key.expose_secret())
        .timeout(self.request_timeout.min(remaining));
        if method == Method::Post {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.to_owned());
        }
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        if let Some(account) = &self.stripe_account {
            request = request.header("stripe-account", account);
        }
        if let Some(context) = &self.stripe_context {
            request = request.header("stripe-context", context);
        }
        if let Some(version) = &self.stripe_version {
            request = request.header("stripe-version", version);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                let reason = describe(&error);
                tracing::debug!(method = method.as_str(), path = path_and_query, %reason, "probe failed");
                return Some(Sent::Failed(reason));
            }
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = header("request-id");
        tracing::debug!(
            method = method.as_str(),
            path = path_and_query,
            status,
            request_id = request_id.as_deref().unwrap_or(""),
            "probe answered"
        );
        let should_retry = header("stripe-should-retry").map(|value| value == "true");
        let retry_after = header("retry-after")
            .and_then(|value| value.trim().parse::<f64>().ok())
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
            .map(|seconds| Duration::from_secs_f64(seconds.min(3600.0)));
        match response.text().await {
            Ok(body) => Some(Sent::Answer(Exchange {
                status,
                body,
                request_id,
                should_retry,
                retry_after,
            })),
            Err(error) => Some(Sent::Failed(describe(&error))),
        }
    }

    /// The delay before retry number `retry` (1-based), or `None` when it would pass the
    /// deadline. A `Retry-After` from the server replaces the computed delay (capped at the
    /// policy's maximum).
    pub fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Option<Duration> {
        let computed = {
            let exponent = retry.saturating_sub(1).min(16);
            let base = self
                .retry
                .initial_backoff
                .saturating_mul(1u32 << exponent)
                .min(self.retry.max_backoff);
            let jitter: f64 = rand::rng().random_range(0.5..=1.0);
            base.mul_f64(jitter)
        };
        let delay = retry_after
            .map(|after| after.min(self.retry.max_backoff))
            .unwrap_or(computed);
        (Instant::now() + delay < self.deadline).then_some(delay)
    }
}

/// A transport failure, described without the URL (which is harmless, but a habit worth
/// keeping) and never with a header.
fn describe(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "the connection closed while reading the answer"
    } else if error.is_request() {
        "the connection failed"
    } else {
        "the request failed"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        detail = inner.to_string();
        source = inner.source();
    }
    if detail.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {detail}")
    }
}

/// One HTTP client for the whole process: building one loads the TLS roots, which costs more
/// than a verification's requests against a nearby API, and sharing it shares its connection
/// pool across runs (a service verifying many keys against Stripe reuses connections).
fn shared_client() -> Result<reqwest::Client, TransportError> {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client.clone());
    }
    let client = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .map_err(|error| TransportError::Client(error.without_url().to_string()))?;
    Ok(CLIENT.get_or_init(|| client).clone())
}

/// A fresh idempotency key for one probe (shared by its retries).
pub fn idempotency_key() -> String {
    let mut rng = rand::rng();
    let suffix: String = (0..24)
        .map(|_| {
            let n: u8 = rng.random_range(0..36);
            char::from_digit(u32::from(n), 36).unwrap_or('0')
        })
        .collect();
    format!("rakguard-{suffix}")
}
