//! Benchmark of the endpoint lookup (work in progress).
fn main() {}
