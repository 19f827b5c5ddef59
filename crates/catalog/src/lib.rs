//! rakguard-catalog: the pure core of rakguard.
//!
//! It owns everything rakguard knows about Stripe restricted API keys, as data and pure functions:
//! the rows of Stripe's "Create restricted key" form ([`permission`]), which permission every API
//! operation needs ([`endpoint`]), a side-effect-free probe per permission ([`probe`]), the
//! Dashboard's templates ([`template`]), key formats and masking ([`key`]), the wording of
//! Stripe's permission errors across the years ([`stripe_error`]), integration manifests
//! ([`manifest`]) and merchant-facing setup guides ([`guide`]).
//!
//! Architecture invariant: this crate does no IO, spawns no tasks and opens no connections. The
//! catalogue data is compiled in (see `data/README.md`) and parsed once, on first use.
#![deny(missing_docs)]

pub mod catalog;
pub mod dashboard;
pub mod endpoint;
pub mod guide;
pub mod key;
pub mod manifest;
pub mod permission;
pub mod probe;
pub mod stripe_error;
pub mod template;

pub use catalog::{Catalog, CatalogError, ResolveError};
