//! Resource handlers: what runs once a request is authenticated, authorised and decoded.
//!
//! [`customers`] is a real resource with storage; [`fallback`] answers every other catalogue
//! operation the way Stripe answers a request for an object that does not exist.

pub mod customers;
pub mod fallback;

use rakguard_catalog::key::Mode;
use serde_json::Value;

use crate::error::ApiError;
use crate::state::AppState;

/// What a handler needs to know about the request.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The emulator state.
    pub state: &'a AppState,
    /// The account the request runs on (the platform, or `Stripe-Account`).
    pub account: &'a str,
    /// The key's mode.
    pub mode: Mode,
    /// The decoded parameters (query string for `GET`/`DELETE`, body for `POST`).
    pub params: &'a Value,
    /// The request path, without query string.
    pub path: &'a str,
}

impl Ctx<'_> {
    /// Whether the request is in live mode.
    pub fn livemode(&self) -> bool {
        self.mode == Mode::Live
    }
}

/// A successful answer: the status and the JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl Reply {
    /// 200 with `body`.
    pub fn ok(body: Value) -> Self {
        Reply { status: 200, body }
    }
}

/// What a handler returns.
pub type Outcome = Result<Reply, ApiError>;
