//! Idempotent requests: the `Idempotency-Key` newtype and the store of first responses.
//!
//! As on Stripe, keys are scoped per account and mode, only `POST`s use them, and a result is
//! stored once the request has started executing. Failures before that (authentication,
//! permission, rate limit, malformed parameters) are never stored, so the same key can be retried.

use std::collections::HashMap;

use rakguard_catalog::key::Mode;
use serde_json::Value;

/// The longest key Stripe accepts.
pub const MAX_KEY_LEN: usize = 255;

/// A validated `Idempotency-Key` header value: 1 to 255 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Validates a header value.
    pub fn parse(raw: &str) -> Result<IdempotencyKey, &'static str> {
        if raw.is_empty() {
            Err("must not be empty")
        } else if raw.chars().count() > MAX_KEY_LEN {
            Err("must be at most 255 characters")
        } else {
            Ok(IdempotencyKey(raw.to_owned()))
        }
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a key lives: account, mode and the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The account the request ran on.
    pub account: String,
    /// The mode of the API key used.
    pub mode: Mode,
    /// The idempotency key.
    pub key: IdempotencyKey,
}

/// A stored first response.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    /// Its status.
    pub status: u16,
    /// Its body.
    pub body: Value,
    /// The `Request-Id` of the first request (sent back as `Original-Request`).
    pub request_id: String,
}

#[derive(Debug, Clone)]
enum Slot {
    InFlight {
        fingerprint: String,
    },
    Done {
        fingerprint: String,
        response: StoredResponse,
    },
}

/// What to do with a request that carries a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// First use: execute, then call [`IdempotencyStore::finish`] or [`IdempotencyStore::abandon`].
    Proceed,
    /// Send this stored response again.
    Replay(StoredResponse),
    /// The key was used with other parameters: 400 `idempotency_error`.
    Mismatch,
    /// The first request with this key is still running: 409 `idempotency_key_in_use`.
    InUse,
}

/// First responses by scope.
#[derive(Debug, Default)]
pub struct IdempotencyStore {
    slots: HashMap<Scope, Slot>,
}

impl IdempotencyStore {
    /// Looks the key up; on first use, marks it in flight with the request's `fingerprint`
    /// (method, path and decoded parameters).
    pub fn begin(&mut self, scope: &Scope, fingerprint: &str) -> Begin {
        match self.slots.get(scope) {
            None => {
                self.slots.insert(
                    scope.clone(),
                    Slot::InFlight {
                        fingerprint: fingerprint.to_owned(),
                    },
                );
                Begin::Proceed
            }
            Some(Slot::InFlight { .. }) => Begin::InUse,
            Some(Slot::Done {
                fingerprint: first,
                response,
            }) => {
                if first == fingerprint {
                    Begin::Replay(response.clone())
                } else {
                    Begin::Mismatch
                }
            }
        }
    }

    /// Stores the response of a request that began with [`Begin::Proceed`].
    pub fn finish(&mut self, scope: &Scope, response: StoredResponse) {
        if let Some(Slot::InFlight { fingerprint }) = self.slots.remove(scope) {
            self.slots.insert(
                scope.clone(),
                Slot::Done {
                    fingerprint,
                    response,
                },
            );
        }
    }

    /// Forgets an in-flight key whose request ended without a result worth storing.
    pub fn abandon(&mut self, scope: &Scope) {
        if matches!(self.slots.get(scope), Some(Slot::InFlight { .. })) {
            self.slots.remove(scope);
        }
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.slots.clear();
    }
}

/// Whether a response produced by executing a request is stored against its key. Stripe stores
/// results once execution starts (including 500s and card errors) but not validation failures;
/// the emulator treats every 400, 401, 403, 409 and 429 as "failed before execution".
pub fn is_storable(status: u16) -> bool {
    !matches!(status, 400 | 401 | 403 | 409 | 429)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope(key: &str) -> Scope {
        Scope {
            account: "acct_1".to_owned(),
            mode: Mode::Test,
            key: IdempotencyKey::parse(key).unwrap_or_else(|error| panic!("{error}")),
        }
    }

    #[test]
    fn keys_are_validated() {
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse(&"x".repeat(256)).is_err());
        assert!(IdempotencyKey::parse(&"x".repeat(255)).is_ok());
    }

    #[test]
    fn second_request_while_first_runs_is_in_use() {
        let mut store = IdempotencyStore::default();
        assert_eq!(store.begin(&scope("a"), "f"), Begin::Proceed);
        assert_eq!(store.begin(&scope("a"), "f"), Begin::InUse);
        store.abandon(&scope("a"));
        assert_eq!(store.begin(&scope("a"), "g"), Begin::Proceed);
    }

    #[test]
    fn finished_requests_replay_or_mismatch() {
        let mut store = IdempotencyStore::default();
        assert_eq!(store.begin(&scope("a"), "f"), Begin::Proceed);
        let response = StoredResponse {
            status: 200,
            body: json!({"id": "cus_1"}),
            request_id: "req_1".to_owned(),
        };
        store.finish(&scope("a"), response.clone());
        assert_eq!(store.begin(&scope("a"), "f"), Begin::Replay(response));
        assert_eq!(store.begin(&scope("a"), "other"), Begin::Mismatch);
    }
}
