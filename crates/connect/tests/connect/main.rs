//! The connect service end to end: storage on SQLite and PostgreSQL (RAKGUARD_TEST_POSTGRES_URL,
//! set by `.ci/run`), the JSON API against the emulator, secrets at rest, the monitor and
//! webhooks, replicas sharing the monitor's work.

// Test helpers are not public API; tests may panic on broken expectations.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod browser;
mod monitor;
mod pages;
mod secrets;
mod store;

use std::collections::BTreeSet;
use std::time::Duration;

use rakguard_catalog::Catalog;
use rakguard_catalog::key::{KeyKind, Mode};
use rakguard_catalog::manifest::Manifest;
use rakguard_catalog::permission::Permission;
use rakguard_connect::monitor::MonitorSettings;
use rakguard_connect::seal::{Keyring, MasterKey};
use rakguard_connect::server::{self, Running, ServeConfig};
use rakguard_connect::service::Settings;
use rakguard_emulator::{EmulatorConfig, KeySpec};
use serde_json::{Value, json};

pub const SELGEO: &str = include_str!("../../../../examples/manifests/selgeo.toml");

pub fn selgeo_needs() -> BTreeSet<Permission> {
    Manifest::parse(Catalog::embedded(), "selgeo", SELGEO)
        .unwrap()
        .required_permissions(None)
        .unwrap()
}

pub fn secret(kind: KeyKind, name: &str) -> String {
    let prefix = rakguard_catalog::key::prefix_for(kind, Mode::Test);
    let body: String = format!("{name}zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(40)
        .collect();
    format!("{prefix}{body}")
}

pub fn restricted(name: &str, permissions: BTreeSet<Permission>) -> KeySpec {
    let mut spec = KeySpec::new(name, KeyKind::Restricted, Mode::Test);
    spec.secret = Some(secret(KeyKind::Restricted, name));
    spec.permissions = permissions;
    spec
}

/// An emulator with `keys` plus a secret key that seeds one paid charge.
pub async fn emulator(keys: Vec<KeySpec>) -> rakguard_emulator::Running {
    let mut keys = keys;
    let mut seed = KeySpec::new("seed", KeyKind::Secret, Mode::Test);
    let seeder = secret(KeyKind::Secret, "seeder");
    seed.secret = Some(seeder.clone());
    keys.push(seed);
    let mut config = EmulatorConfig {
        host: std::net::Ipv4Addr::LOCALHOST.into(),
        port: 0,
        keys,
        seed: Some(3),
        ..EmulatorConfig::default()
    };
    config.faults.rate_limit_per_second = Some(1_000_000);
    let running = rakguard_emulator::spawn(config).await.unwrap();
    running.seed_paid_charge(&seeder, 1000).await.unwrap();
    running
}

/// A database URL for a test: a fresh SQLite file, or a fresh PostgreSQL database when
/// `postgres` is asked and RAKGUARD_TEST_POSTGRES_URL is set (`None` otherwise).
pub async fn database(postgres: bool, dir: &std::path::Path) -> Option<String> {
    if !postgres {
        return Some(format!("sqlite://{}", dir.join("test.db").display()));
    }
    let base = std::env::var("RAKGUARD_TEST_POSTGRES_URL").ok()?;
    let name = format!(
        "rakguard_test_{}",
        rakguard_connect::service::new_id("db").to_lowercase()
    );
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    Some(format!("{prefix}/{name}"))
}

/// Whether PostgreSQL tests run; in CI (`CI` set) they must.
pub fn postgres_available() -> bool {
    let set = std::env::var("RAKGUARD_TEST_POSTGRES_URL").is_ok();
    assert!(
        set || std::env::var("CI").is_err(),
        "CI must set RAKGUARD_TEST_POSTGRES_URL"
    );
    set
}

pub fn temp_dir() -> tempdir::Dir {
    tempdir::Dir::new()
}

pub mod tempdir {
    /// A temporary directory removed on drop.
    #[derive(Debug)]
    pub struct Dir(pub std::path::PathBuf);
    impl Default for Dir {
        fn default() -> Dir {
            Dir::new()
        }
    }
    impl Dir {
        pub fn new() -> Dir {
            let path =
                std::env::temp_dir().join(rakguard_connect::service::new_id("rakguard-test"));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
        pub fn path(&self) -> &std::path::Path {
            &self.0
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Starts the service against `api_base` on `database_url`, with the Selgeo manifest loaded.
pub async fn service(api_base: &str, database_url: &str, monitor: bool) -> Running {
    service_with(
        api_base,
        database_url,
        Keyring::new(MasterKey::generate()),
        monitor,
    )
    .await
}

pub async fn service_with(
    api_base: &str,
    database_url: &str,
    keyring: Keyring,
    monitor: bool,
) -> Running {
    service_with_rate(api_base, database_url, keyring, monitor, 10_000).await
}

/// As [`service_with`], with the verifier's rate budget (per tenant and mode) at `rate`.
pub async fn service_with_rate(
    api_base: &str,
    database_url: &str,
    keyring: Keyring,
    monitor: bool,
    rate: u32,
) -> Running {
    let mut settings = Settings {
        api_base: api_base.to_owned(),
        monitor_interval: Duration::from_secs(3600),
        ..Settings::default()
    };
    settings.verify.rate_per_second = Some(rate);
    settings.verify.max_in_flight = 16;
    settings.verify.retry.initial_backoff = Duration::from_millis(10);
    settings.verify.retry.max_backoff = Duration::from_millis(50);
    server::start(ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.to_owned(),
        public_url: None,
        keyring,
        settings,
        monitor: MonitorSettings {
            tick: Duration::from_millis(200),
            ..Default::default()
        },
        manifests: vec![("selgeo".to_owned(), SELGEO.to_owned())],
        run_monitor: monitor,
    })
    .await
    .unwrap()
}

pub async fn token(running: &Running, tenant: Option<&str>, can_reveal: bool) -> String {
    use secrecy::ExposeSecret;
    let (token, _) = server::create_token(running.service.store(), "test", tenant, can_reveal)
        .await
        .unwrap();
    token.expose_secret().to_owned()
}

/// A JSON API call: (status, body).
pub async fn call(
    running: &Running,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let url = format!("{}{path}", running.base_url);
    let mut request = match method {
        "GET" => client.get(url),
        "PUT" => client.put(url),
        "DELETE" => client.delete(url),
        _ => client.post(url),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub fn connect_body(key: &str) -> Value {
    json!({"key": key, "manifest": "selgeo"})
}

/// The emulator with a good key and one lacking `coupon_write` and `invoice_read`, the service,
/// and a signed connect-page link for tenant acme in test mode.
pub struct PageSetup {
    pub emulator: rakguard_emulator::Running,
    pub running: Running,
    pub url: String,
    pub good: String,
    pub partial: String,
    pub _dir: tempdir::Dir,
}

pub async fn page_setup(name: &str) -> PageSetup {
    let good = restricted(&format!("{name}good"), selgeo_needs());
    let mut lacking = selgeo_needs();
    lacking.remove(&Catalog::embedded().resolve("coupon_write").unwrap());
    lacking.remove(&Catalog::embedded().resolve("invoice_read").unwrap());
    let partial = restricted(&format!("{name}partial"), lacking);
    let emulator = emulator(vec![good.clone(), partial.clone()]).await;
    let dir = temp_dir();
    let running = service(
        &emulator.base_url,
        &database(false, dir.path()).await.unwrap(),
        false,
    )
    .await;
    let token = token(&running, Some("acme"), false).await;
    let (status, session) = call(
        &running,
        "POST",
        "/v1/connect_sessions",
        Some(&token),
        Some(json!({"tenant": "acme", "manifest": "selgeo", "mode": "test"})),
    )
    .await;
    assert_eq!(status, 200, "{session}");
    let url = session["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    PageSetup {
        emulator,
        running,
        url,
        good: good.secret.unwrap(),
        partial: partial.secret.unwrap(),
        _dir: dir,
    }
}

impl PageSetup {
    pub async fn shutdown(self) {
        self.running.shutdown().await;
        self.emulator.shutdown().await.unwrap();
    }
}
