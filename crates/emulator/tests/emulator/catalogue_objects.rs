//! Tests of the catalogue_objects resources (being written).
