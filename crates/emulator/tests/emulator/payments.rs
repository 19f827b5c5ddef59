//! Tests of the payments resources (being written).
