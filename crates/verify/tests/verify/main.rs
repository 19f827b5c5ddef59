//! The verifier against a running emulator: every verdict of the matrix, faults, the
//! rate budget, the no-side-effects canary, orphans of `creates` probes, Connect.

// Test helpers are not public API; tests may panic on broken expectations.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod budget;
mod canary;
mod connect;
mod faults;
mod matrix;
mod orphans;
mod scan;

use std::collections::BTreeSet;
use std::time::Duration;

use rakguard_catalog::Catalog;
use rakguard_catalog::key::{ApiKey, KeyKind, Mode};
use rakguard_catalog::manifest::Manifest;
use rakguard_catalog::permission::{Level, Permission};
use rakguard_emulator::{EmulatorConfig, KeySpec, Running};
use rakguard_verify::{Options, Outcome, Retry, Verdict};
use serde_json::{Value, json};

/// The example manifests shipped with the repository.
pub fn manifest(name: &str) -> Manifest {
    let path = format!(
        "{}/../../examples/manifests/{name}.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    Manifest::parse(Catalog::embedded(), &path, &text).unwrap()
}

pub const MANIFESTS: [&str; 3] = ["selgeo", "frontegg", "contacts-inbox"];

/// A key secret of `kind` and `mode` that is unique per `name`.
pub fn secret(kind: KeyKind, mode: Mode, name: &str) -> String {
    let prefix = rakguard_catalog::key::prefix_for(kind, mode);
    let body: String = format!("{name}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(40)
        .collect();
    format!("{prefix}{body}")
}

pub fn restricted(name: &str, mode: Mode, permissions: &BTreeSet<Permission>) -> KeySpec {
    let mut spec = KeySpec::new(name, KeyKind::Restricted, mode);
    spec.secret = Some(secret(KeyKind::Restricted, mode, name));
    spec.permissions = permissions.clone();
    spec
}

pub fn key_of(spec: &KeySpec) -> ApiKey {
    ApiKey::parse(spec.secret.as_deref().unwrap()).unwrap()
}

pub fn perm(id: &str) -> Permission {
    Catalog::embedded().resolve(id).unwrap()
}

/// An emulator holding `keys`, fast and fault-free.
pub async fn emulator(keys: Vec<KeySpec>) -> Running {
    emulator_with(EmulatorConfig {
        keys,
        ..EmulatorConfig::default()
    })
    .await
}

/// Starts an emulator; the test-mode account gets a secret key and one paid charge (with its
/// balance transaction), as a merchant's account has, so that probes which expand objects have
/// something to expand. (Test cards do not work in live mode, so the live account stays empty.)
pub async fn emulator_with(mut config: EmulatorConfig) -> Running {
    config.port = 0;
    config.host = std::net::Ipv4Addr::LOCALHOST.into();
    config.seed.get_or_insert(7);
    let mut spec = KeySpec::new("seed", KeyKind::Secret, Mode::Test);
    let seeder = secret(KeyKind::Secret, Mode::Test, "seeder");
    spec.secret = Some(seeder.clone());
    config.keys.push(spec);
    let running = rakguard_emulator::spawn(config).await.unwrap();
    running.seed_paid_charge(&seeder, 1000).await.unwrap();
    running
}

/// Options for the emulator at `running`, with quick retries so fault tests stay short.
pub fn options(running: &Running) -> Options {
    let mut options = Options::with_api_base(&running.base_url);
    options.retry = Retry {
        max_retries: 5,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
    };
    options
}

pub async fn admin(running: &Running, method: &str, path: &str, body: Value) -> Value {
    let client = reqwest::Client::new();
    let url = format!("{}/_emulator/v1{path}", running.base_url);
    let request = match method {
        "GET" => client.get(url),
        "DELETE" => client.delete(url),
        _ => client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string()),
    };
    let response = request.send().await.unwrap();
    let status = response.status();
    let value: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {value}");
    value
}

pub async fn faults(running: &Running, settings: Value) {
    admin(running, "POST", "/faults", settings).await;
}

/// The ids (`coupon_write`) of results with this outcome.
pub fn with_outcome(verdict: &Verdict, outcome: Outcome) -> BTreeSet<String> {
    verdict
        .permissions
        .iter()
        .filter(|result| result.outcome == outcome)
        .map(|result| result.permission.clone())
        .collect()
}

/// Whether a key holding `held` has `permission`, by the catalogue's rules (write implies read,
/// row implications).
pub fn holds(held: &BTreeSet<Permission>, permission: &Permission) -> bool {
    Catalog::embedded().satisfies(held, permission)
}

pub fn id(permission: &Permission) -> String {
    rakguard_verify::verdict::permission_id(permission)
}

pub fn read_of(permission: &Permission) -> Permission {
    Permission::new(permission.row.clone(), Level::Read)
}

pub fn json_of(verdict: &Verdict) -> Value {
    serde_json::to_value(verdict).unwrap()
}

pub fn empty() -> Value {
    json!({})
}

/// The tier the tests verify: the manifest's last (most demanding) tier, if it has tiers.
pub fn tier(manifest: &Manifest) -> Option<String> {
    manifest.tiers.last().map(|tier| tier.id.clone())
}

/// What the manifest needs at [`tier`].
pub fn needs(manifest: &Manifest) -> BTreeSet<Permission> {
    manifest
        .required_permissions(tier(manifest).as_deref())
        .unwrap()
}

/// Options for verifying `manifest` at [`tier`].
pub fn options_for(running: &Running, manifest: &Manifest) -> Options {
    let mut options = options(running);
    options.tier = tier(manifest);
    options
}
