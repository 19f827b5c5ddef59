//! The cost of the emulator's own work per request, without sockets: a request goes through
//! the whole app (routing, authentication, rate limit, permission check, handler, store, event,
//! request log, response headers) in-process, with the binary's allocator (mimalloc).
//!
//! `cargo bench -p rakguard-emulator --bench pipeline`
//!
//! `bench/emulator.sh` measures the same two workloads over HTTP with wrk, where the kernel's
//! TCP work and the load generator share the machine; this bench isolates the part the emulator
//! can change. The store grows during "create customer", as it does under wrk.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use rakguard_emulator::config::parse_keys_file;
use rakguard_emulator::{AppState, EmulatorConfig, router};
use std::net::SocketAddr;
use tower::ServiceExt;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn key() -> String {
    format!("rk_test_{}", "b".repeat(99))
}

fn request(method: &str, uri: &str, body: &'static str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {}", key()))
        .header("content-type", "application/x-www-form-urlencoded")
        .extension(axum::extract::ConnectInfo(SocketAddr::from((
            [127, 0, 0, 1],
            40000,
        ))))
        .body(Body::from(body))
        .unwrap()
}

fn pipeline(c: &mut Criterion) {
    let keys = parse_keys_file(&format!(
        "[[key]]\nname = \"bench\"\ntype = \"restricted\"\nmode = \"test\"\nsecret = \"{}\"\npermissions = [\"customer_write\"]\n",
        key()
    ))
    .unwrap();
    let config = EmulatorConfig {
        keys,
        seed: Some(1),
        rate_limits: rakguard_emulator::RateLimits {
            test: 100_000_000,
            live: 100_000_000,
        },
        ..EmulatorConfig::default()
    };
    let state = AppState::new(&config).unwrap();
    let app = router(state);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let send = |request: Request<Body>| {
        runtime.block_on(async {
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), 200);
            axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap()
        })
    };
    let created = send(request(
        "POST",
        "/v1/customers",
        "email=load%40example.com&metadata[run]=bench",
    ));
    let created: serde_json::Value = serde_json::from_slice(&created).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let retrieve = format!("/v1/customers/{id}");

    c.bench_function("retrieve customer (rk_)", |b| {
        b.iter(|| send(request("GET", &retrieve, "")))
    });
    c.bench_function("create customer", |b| {
        b.iter(|| {
            send(request(
                "POST",
                "/v1/customers",
                "email=load%40example.com&metadata[run]=bench",
            ))
        })
    });
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
