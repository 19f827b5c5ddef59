//! Tests of the billing resources (being written).
