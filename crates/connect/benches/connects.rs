//! Connect throughput: `PUT /v1/tenants/{tenant}/connections/test` through the JSON API, each a
//! full connect (the verifier's probes against the emulator, sealing, the transaction that
//! stores the connection, its history, orphans and audit line), for distinct tenants and keys,
//! with a fixed number of clients in flight. On SQLite (a file in a temporary directory) and,
//! when `RAKGUARD_TEST_POSTGRES_URL` (or `DATABASE_URL`) points at a PostgreSQL server, on a
//! fresh database there.
//!
//! `cargo bench -p rakguard-connect --bench connects [-- CONNECTS [CLIENTS]]`
//! (defaults: 2000 connects, 32 clients). Prints connects/s and latency percentiles.
//!
//! The emulator's per-account rate limit is lifted: every benchmark key lives on one emulated
//! account, where real merchants each have their own. The verifier keeps its own per-key budget.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rakguard_catalog::Catalog;
use rakguard_catalog::key::{KeyKind, Mode, prefix_for};
use rakguard_catalog::manifest::Manifest;
use rakguard_connect::monitor::MonitorSettings;
use rakguard_connect::seal::{Keyring, MasterKey};
use rakguard_connect::server::{self, ServeConfig};
use rakguard_connect::service::{Settings, new_id};
use rakguard_emulator::{EmulatorConfig, KeySpec};
use secrecy::ExposeSecret;
use tokio::sync::Semaphore;

const SELGEO: &str = include_str!("../../../examples/manifests/selgeo.toml");

fn secret(kind: KeyKind, name: &str) -> String {
    let body: String = format!("{name}{}", "b".repeat(40))
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(40)
        .collect();
    format!("{}{body}", prefix_for(kind, Mode::Test))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

struct Figures {
    per_second: f64,
    p50: f64,
    p99: f64,
    max: f64,
}

async fn run(
    label: &str,
    database_url: &str,
    api_base: &str,
    keys: &[String],
    clients: usize,
) -> Figures {
    let mut settings = Settings {
        api_base: api_base.to_owned(),
        ..Settings::default()
    };
    settings.verify.api_base = api_base.to_owned();
    let running = server::start(ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.to_owned(),
        public_url: None,
        keyring: Keyring::new(MasterKey::generate()),
        settings,
        monitor: MonitorSettings::default(),
        manifests: vec![("selgeo".to_owned(), SELGEO.to_owned())],
        run_monitor: false,
    })
    .await
    .unwrap();
    let (token, _) = server::create_token(running.service.store(), "bench", None, false)
        .await
        .unwrap();
    let token = Arc::new(token.expose_secret().to_owned());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let gate = Arc::new(Semaphore::new(clients));
    let run_id = new_id("b").to_lowercase();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let url = format!(
            "{}/v1/tenants/{run_id}t{i}/connections/test",
            running.base_url
        );
        let body = serde_json::json!({"key": key, "manifest": "selgeo"}).to_string();
        let (client, token) = (client.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let response = client
                .put(url)
                .bearer_auth(token.as_str())
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            assert_eq!(status, 201, "{text}");
            drop(permit);
            sent.elapsed().as_secs_f64() * 1000.0
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    for task in tasks {
        latencies.push(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    let stored = running
        .service
        .store()
        .connections(true)
        .await
        .unwrap()
        .len();
    assert_eq!(stored, keys.len(), "{label}: every connect stored");
    running.shutdown().await;
    latencies.sort_by(f64::total_cmp);
    Figures {
        per_second: keys.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        max: percentile(&latencies, 1.0),
    }
}

async fn postgres_database() -> Option<String> {
    let base = std::env::var("RAKGUARD_TEST_POSTGRES_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .ok()
        .filter(|url| url.starts_with("postgres"))?;
    use sqlx::Connection;
    let name = format!("rakguard_bench_{}", new_id("db").to_lowercase());
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    Some(format!("{prefix}/{name}"))
}

#[tokio::main]
async fn main() {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let connects = numbers.first().copied().unwrap_or(2000).max(1);
    let clients = numbers.get(1).copied().unwrap_or(32).max(1);
    let needs = Manifest::parse(Catalog::embedded(), "selgeo", SELGEO)
        .unwrap()
        .required_permissions(None)
        .unwrap();
    let mut specs = Vec::with_capacity(connects + 1);
    let mut keys = Vec::with_capacity(connects);
    for i in 0..connects {
        let key = secret(KeyKind::Restricted, &format!("k{i}"));
        let mut spec = KeySpec::new(format!("k{i}"), KeyKind::Restricted, Mode::Test);
        spec.secret = Some(key.clone());
        spec.permissions = needs.clone();
        specs.push(spec);
        keys.push(key);
    }
    let seeder = secret(KeyKind::Secret, "seeder");
    let mut seed = KeySpec::new("seed", KeyKind::Secret, Mode::Test);
    seed.secret = Some(seeder.clone());
    specs.push(seed);
    let mut config = EmulatorConfig {
        host: std::net::Ipv4Addr::LOCALHOST.into(),
        port: 0,
        keys: specs,
        seed: Some(1),
        ..EmulatorConfig::default()
    };
    config.faults.rate_limit_per_second = Some(1_000_000_000);
    let emulator = rakguard_emulator::spawn(config).await.unwrap();
    emulator.seed_paid_charge(&seeder, 1000).await.unwrap();

    println!(
        "connects through PUT /v1/tenants/…/connections/test (selgeo, 8 permissions), \
         {connects} connects, {clients} clients in flight, emulator in process"
    );
    let dir = std::env::temp_dir().join(new_id("rakguard-bench"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut databases = vec![(
        "SQLite",
        format!("sqlite://{}", dir.join("bench.db").display()),
    )];
    if let Some(url) = postgres_database().await {
        databases.push(("PostgreSQL", url));
    } else {
        println!("  (PostgreSQL skipped: set RAKGUARD_TEST_POSTGRES_URL)");
    }
    for (label, url) in &databases {
        let figures = run(label, url, &emulator.base_url, &keys, clients).await;
        println!(
            "  {label:<10} {:>7.0} connects/s   latency p50 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms",
            figures.per_second, figures.p50, figures.p99, figures.max
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    if let (Some((_, url)), Ok(base)) = (
        databases.get(1),
        std::env::var("RAKGUARD_TEST_POSTGRES_URL").or_else(|_| std::env::var("DATABASE_URL")),
    ) {
        use sqlx::Connection;
        let name = url.rsplit('/').next().unwrap_or_default();
        let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
        let _ = sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
    }
    emulator.shutdown().await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
}
