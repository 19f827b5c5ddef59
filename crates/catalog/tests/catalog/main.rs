//! Integration tests of the catalogue: one binary, one module per area.
