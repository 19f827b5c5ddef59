//! rakguard-verify: tells, by probing a Stripe-compatible API, exactly which restricted-key
//! permissions a key holds — fast, without side effects, and with the evidence for every answer.
//!
//! - [`verify`] checks a key against a manifest; [`scan`] finds the level held on every row of
//!   Stripe's permission form that has a probe. Both return a [`Verdict`].
//! - The pure core: [`plan`] (which probes, in what order: write implies read), [`reading`] (what
//!   an answer proves), [`verdict`] (the result and its stable JSON).
//! - The edge: [`transport`] (HTTP inside a rate [`budget`], retries with backoff and jitter).
//!
//! How probing works and what every verdict code means: `docs/verify.md`.
#![deny(missing_docs)]

pub mod budget;
pub mod diff;
pub mod engine;
pub mod explain;
pub mod options;
pub mod plan;
pub mod reading;
pub mod render;
pub mod suggest;
pub mod transport;
pub mod verdict;

pub use diff::{ManifestDiff, VerdictDiff, diff_manifest, diff_verdicts};
pub use engine::{VerifyError, malformed, scan, verify};
pub use explain::{ExplainError, Explanation, explain};
pub use options::{Options, Retry, STRIPE_API_BASE, default_rate};
pub use render::{Format, render_verdict};
pub use suggest::{SuggestOptions, Suggestion, suggest};
pub use verdict::{Code, Evidence, Held, Orphan, Outcome, PermissionResult, Verdict};
