//! rakguard-emulator: a local Stripe-compatible HTTP server that enforces restricted API keys
//! the way Stripe does, so that integrations and rakguard's own prober can be tested offline.
//!
//! - [`EmulatorConfig`] says where to listen and which keys exist ([`config::parse_keys_file`]
//!   reads a TOML keys file); without keys, a secret and a publishable key per mode are made.
//! - [`router`] builds the axum app from an [`AppState`]; [`spawn`] serves it on a socket and
//!   returns a [`Running`] handle with the address and the generated secrets.
//! - `/v1/…` answers like Stripe: authentication, key state, publishable-key rules, rate limit,
//!   routing and permission checks from the catalogue, then customers (stored) or a
//!   "does not exist" answer for every other operation ([`resources`]).
//! - `/_emulator/v1/…` is the admin API ([`admin`]).
//!
//! Every error body comes from `rakguard_catalog::stripe_error`, which owns Stripe's wording.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rakguard_emulator::EmulatorError> {
//! let running = rakguard_emulator::spawn(rakguard_emulator::EmulatorConfig::default()).await?;
//! println!("Stripe emulator on {}", running.base_url);
//! running.shutdown().await.ok();
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod admin;
pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod form;
pub mod idempotency;
pub mod ids;
pub mod keys;
pub mod resources;
pub mod server;
pub mod state;
pub mod store;
pub mod webhooks;

pub use config::{EmulatorConfig, ErrorEra, FaultScope, FaultSettings, RateLimits};
pub use error::{AdminError, ApiError, EmulatorError};
pub use keys::KeySpec;
pub use server::{Running, StartedKey, router, spawn};
pub use state::AppState;
