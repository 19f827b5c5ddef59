//! The `rakguard` binary (work in progress).
fn main() {}
