//! The emulator's error types.
//!
//! - [`ApiError`]: every failure of a Stripe-compatible `/v1` request. It wraps a
//!   [`RenderedError`] from `rakguard_catalog::stripe_error`, which owns Stripe's wording, and adds
//!   response headers (`Stripe-Rate-Limited-Reason`, `Stripe-Should-Retry`).
//! - [`AdminError`]: a failure of the `/_emulator` admin API, a plain JSON body naming the field.
//! - [`EmulatorError`]: a failure to start the emulator (bad keys file, address in use).

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rakguard_catalog::stripe_error::{self, RenderedError};
use serde_json::{Value, json};

use crate::form::{FormError, FormErrorReason};

/// A Stripe-shaped error response: the status, the `{"error": …}` envelope and extra headers.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The rendered status and body.
    pub rendered: RenderedError,
    /// Headers to add to the response.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// Adds a response header.
    pub fn with_header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.rendered.status
    }

    /// 500 `api_error`, with `Stripe-Should-Retry: true` as Stripe sends on its own failures.
    pub fn internal() -> Self {
        ApiError::from(stripe_error::api_error(
            stripe_error::DEFAULT_API_ERROR_MESSAGE,
        ))
        .with_header("stripe-should-retry", "true")
    }

    /// 429 `rate_limit` with `Stripe-Rate-Limited-Reason: global-rate`, as Stripe's rate limiter
    /// answers; used by the token bucket and by the `throttle_rate` fault alike.
    pub fn rate_limited() -> Self {
        ApiError::from(stripe_error::rate_limited())
            .with_header("stripe-rate-limited-reason", "global-rate")
    }

    /// 400 for a parameter whose value cannot be used (Stripe's wording where it is recorded,
    /// rendered by the catalogue).
    pub fn parameter_invalid(param: &str, problem: &str) -> Self {
        ApiError::from(stripe_error::malformed_parameter(param, problem))
    }
}

impl From<RenderedError> for ApiError {
    fn from(rendered: RenderedError) -> Self {
        ApiError {
            rendered,
            headers: Vec::new(),
        }
    }
}

impl From<FormError> for ApiError {
    fn from(error: FormError) -> Self {
        match error.reason {
            // `metadata=1&metadata[a]=2`: the container (`metadata`) is what Stripe names.
            FormErrorReason::ConflictingShapes => {
                let container = error
                    .param
                    .rsplit_once('[')
                    .map_or(error.param.as_str(), |(head, _)| head);
                ApiError::from(stripe_error::invalid_hash(container))
            }
            reason => ApiError::parameter_invalid(&error.param, reason.describe()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.rendered.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self.rendered.body)).into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// A refused admin request: which field was wrong and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct AdminError {
    /// The HTTP status (400 for bad input, 404 for an unknown key id).
    pub status: u16,
    /// The field at fault (`permissions[2]`), or `id` for an unknown key.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl AdminError {
    /// 400 for a bad field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        AdminError {
            status: 400,
            field: field.into(),
            message: message.into(),
        }
    }

    /// 404 for an unknown key id.
    pub fn unknown_key(id: &str) -> Self {
        AdminError {
            status: 404,
            field: "id".to_owned(),
            message: format!("no key with id '{id}'"),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let body: Value = json!({"error": {"field": self.field, "message": self.message}});
        (status, Json(body)).into_response()
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The keys file is not valid TOML.
    #[error("the keys file is not valid TOML")]
    KeysFileSyntax(#[source] toml::de::Error),
    /// A key in the keys file or configuration is invalid.
    #[error("invalid key definition")]
    KeySpec(#[source] AdminError),
    /// The listening socket could not be bound.
    #[error("cannot listen on {address}")]
    Bind {
        /// The address asked for.
        address: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
