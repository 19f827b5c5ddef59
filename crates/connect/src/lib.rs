//! rakguard-connect: the service an integration runs so that it never hand-rolls Stripe key intake
//! again. It accepts a merchant's restricted key for a tenant and mode, verifies it against the
//! integration's manifest (`rakguard-verify`), seals it (envelope encryption, [`seal`]), stores it
//! (SQLite or PostgreSQL, [`store`]), re-verifies it on a schedule ([`monitor`]) and reports what
//! changes as signed webhook events. The integrator's backend uses the JSON API ([`api`]); the
//! merchant uses the hosted connect page ([`web`]).
//!
//! Deployment, configuration, API, events and the security model: `docs/connect.md`.
#![deny(missing_docs)]

pub mod api;
pub mod metrics;
pub mod monitor;
pub mod pages;
pub mod seal;
pub mod server;
pub mod service;
pub mod store;
pub mod tokens;
pub mod views;
pub mod web;
