//! Tests of the webhooks resources (being written).
