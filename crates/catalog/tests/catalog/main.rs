//! Integration tests of the catalogue: one binary, one module per area.

mod coverage;
mod data;
mod guides;
mod lookup;
mod manifests;
mod probes;
