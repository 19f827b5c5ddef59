//! Endpoint lookup over the full table: every operation of the catalogue as a concrete request
//! (ids filled in, a query string on every other one), looked up in turn. The figure per lookup
//! is the reported time divided by the number of requests (printed once at start).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rakguard_catalog::Catalog;
use rakguard_catalog::endpoint::Method;

fn requests(catalog: &Catalog) -> Vec<(Method, String)> {
    catalog
        .operations()
        .iter()
        .enumerate()
        .map(|(index, operation)| {
            let mut path: String = operation
                .path
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        "obj_1NirD82eZvKYlo2C"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            if index % 2 == 0 {
                path.push_str("?limit=3&expand[]=data.customer");
            }
            (operation.method, path)
        })
        .collect()
}

fn lookup(c: &mut Criterion) {
    let catalog = Catalog::embedded();
    let requests = requests(catalog);
    eprintln!("{} requests per iteration", requests.len());
    let mut group = c.benchmark_group("lookup");
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.bench_function("full_table", |b| {
        b.iter(|| {
            for (method, path) in &requests {
                black_box(catalog.lookup(*method, black_box(path)));
            }
        })
    });
    group.bench_function("customer_retrieve", |b| {
        b.iter(|| {
            black_box(catalog.lookup(Method::Get, black_box("/v1/customers/cus_NffrFeUfNV2Hib")))
        })
    });
    group.bench_function("percent_encoded", |b| {
        b.iter(|| {
            black_box(catalog.lookup(
                Method::Get,
                black_box("/v1/customers/cus%5FNffrFeUfNV2Hib/"),
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
