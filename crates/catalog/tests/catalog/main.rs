//! Integration tests of the catalogue: one binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod coverage;
mod data;
mod guides;
mod lookup;
mod manifests;
mod probes;
