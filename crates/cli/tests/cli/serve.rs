//! `rakguard serve` as a process: killed with SIGKILL in the middle of a burst of concurrent
//! connects, then restarted on the same database. Every connection must be whole and decryptable
//! (the key revealed is the key sent) or absent; none may be half-written, and every connect
//! that was answered `201` before the kill must have survived it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rakguard_catalog::Catalog;
use rakguard_catalog::key::{KeyKind, Mode, prefix_for};
use rakguard_catalog::manifest::Manifest;
use rakguard_emulator::{EmulatorConfig, KeySpec};
use serde_json::{Value, json};

use crate::{rakguard, stdout, temp_dir};

const SELGEO: &str = include_str!("../../../../examples/manifests/selgeo.toml");
const ROUNDS: usize = 3;
const BURST: usize = 48;

fn secret(kind: KeyKind, name: &str) -> String {
    let body: String = format!("{name}zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(40)
        .collect();
    format!("{}{body}", prefix_for(kind, Mode::Test))
}

/// The service process; killed (SIGKILL) and reaped on drop.
struct Serve {
    child: Child,
    base_url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(database_url: &str, master: &str, api_base: &str, manifest: &std::path::Path) -> Serve {
    let mut child = rakguard()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            database_url,
            "--api-base",
            api_base,
            "--no-monitor",
            "--production",
            "--log-level",
            "warn",
            "--manifest",
        ])
        .arg(format!("selgeo={}", manifest.display()))
        .env("RAKGUARD_MASTER_KEY", master)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rakguard serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines
        .next()
        .expect("serve prints its address")
        .expect("readable");
    let base_url = first
        .strip_prefix("rakguard connect service on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .trim()
        .to_owned();
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Serve { child, base_url }
}

async fn emulator(keys: Vec<KeySpec>) -> rakguard_emulator::Running {
    let mut keys = keys;
    let seeder = secret(KeyKind::Secret, "seeder");
    let mut seed = KeySpec::new("seed", KeyKind::Secret, Mode::Test);
    seed.secret = Some(seeder.clone());
    keys.push(seed);
    let mut config = EmulatorConfig {
        host: std::net::Ipv4Addr::LOCALHOST.into(),
        port: 0,
        keys,
        seed: Some(5),
        ..EmulatorConfig::default()
    };
    config.faults.rate_limit_per_second = Some(1_000_000);
    let running = rakguard_emulator::spawn(config).await.expect("emulator");
    // A paid charge, so that the probes that read one have something to read.
    running.seed_paid_charge(&seeder, 1000).await.unwrap();
    running
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> Result<(u16, Value), reqwest::Error> {
    let mut request = client.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    let value = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok((status, value))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_concurrent_connects_leaves_whole_connections_or_none_on_sqlite() {
    let dir = temp_dir("kill9");
    let database_url = format!("sqlite://{}", dir.join("service.db").display());
    kill_9_during_concurrent_connects(&dir, &database_url).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_concurrent_connects_leaves_whole_connections_or_none_on_postgres() {
    let Ok(base) = std::env::var("RAKGUARD_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must set RAKGUARD_TEST_POSTGRES_URL"
        );
        eprintln!("RAKGUARD_TEST_POSTGRES_URL is not set: skipped");
        return;
    };
    use sqlx::Connection;
    let name = format!(
        "rakguard_kill_{}_{}",
        std::process::id(),
        rakguard_connect::service::new_id("db").to_lowercase()
    );
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    let dir = temp_dir("kill9pg");
    kill_9_during_concurrent_connects(&dir, &format!("{prefix}/{name}")).await;
    let _ = std::fs::remove_dir_all(&dir);
    let _ = sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await;
}

async fn kill_9_during_concurrent_connects(dir: &std::path::Path, database_url: &str) {
    let catalog = Catalog::embedded();
    let needs = Manifest::parse(catalog, "selgeo", SELGEO)
        .unwrap()
        .required_permissions(None)
        .unwrap();
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    let mut specs = Vec::new();
    for round in 0..ROUNDS {
        for i in 0..BURST {
            let tenant = format!("r{round}t{i:02}");
            let key = secret(KeyKind::Restricted, &format!("crash{round}x{i:02}"));
            let mut spec = KeySpec::new(tenant.clone(), KeyKind::Restricted, Mode::Test);
            spec.secret = Some(key.clone());
            spec.permissions = needs.clone();
            specs.push(spec);
            keys.insert(tenant, key);
        }
    }
    let emulator = emulator(specs).await;
    let manifest = dir.join("selgeo.toml");
    std::fs::write(&manifest, SELGEO).unwrap();

    let master = stdout(
        &rakguard()
            .args(["keys", "generate-master"])
            .output()
            .unwrap(),
    )
    .trim()
    .to_owned();
    let token_out = rakguard()
        .args([
            "tokens",
            "create",
            "--name",
            "crash-test",
            "--can-reveal",
            "--database-url",
            database_url,
        ])
        .output()
        .unwrap();
    assert!(token_out.status.success(), "{token_out:?}");
    let token = stdout(&token_out).trim().to_owned();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();

    let mut acknowledged: BTreeSet<String> = BTreeSet::new();
    let mut killed_with_pending = 0;
    for round in 0..ROUNDS {
        let mut service = serve(database_url, &master, &emulator.base_url, &manifest);
        // Check what earlier rounds left, then fire this round's burst.
        check(&client, &service.base_url, &token, &keys, &acknowledged).await;
        let done = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..BURST {
            let tenant = format!("r{round}t{i:02}");
            let key = keys[&tenant].clone();
            let url = format!("{}/v1/tenants/{tenant}/connections/test", service.base_url);
            let (client, token, done) = (client.clone(), token.clone(), done.clone());
            tasks.push(tokio::spawn(async move {
                let answer = call(
                    &client,
                    reqwest::Method::PUT,
                    url,
                    &token,
                    Some(json!({"key": key, "manifest": "selgeo"})),
                )
                .await;
                done.fetch_add(1, Ordering::SeqCst);
                (tenant, answer)
            }));
        }
        // Kill once a few connects have been answered, with the rest in flight.
        let kill_after = 2 + round * 6;
        let deadline = Instant::now() + Duration::from_secs(60);
        while done.load(Ordering::SeqCst) < kill_after && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        service.child.kill().unwrap();
        service.child.wait().unwrap();
        for task in tasks {
            let (tenant, answer) = task.await.unwrap();
            match answer {
                Ok((201, _)) => {
                    acknowledged.insert(tenant);
                }
                Ok((status, body)) => panic!("{tenant}: unexpected {status} {body}"),
                Err(_) => killed_with_pending += 1,
            }
        }
        drop(service);
    }
    assert!(
        killed_with_pending > 0,
        "the kill must land while connects are in flight"
    );
    assert!(!acknowledged.is_empty());
    let service = serve(database_url, &master, &emulator.base_url, &manifest);
    let whole = check(&client, &service.base_url, &token, &keys, &acknowledged).await;
    assert!(whole >= acknowledged.len());
    eprintln!(
        "{} connects sent, {} acknowledged, {} cut by the kill; {whole} whole after restart",
        ROUNDS * BURST,
        acknowledged.len(),
        killed_with_pending
    );
    drop(service);
    emulator.shutdown().await.unwrap();
}

/// Every tenant's test connection is absent (404) or whole: active, masked as its key, and
/// revealing exactly the key that was sent. Acknowledged connects must be present. Returns how
/// many are whole.
async fn check(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
    keys: &BTreeMap<String, String>,
    acknowledged: &BTreeSet<String>,
) -> usize {
    let mut whole = 0;
    for (tenant, key) in keys {
        let url = format!("{base_url}/v1/tenants/{tenant}/connections/test");
        let (status, body) = call(client, reqwest::Method::GET, url.clone(), token, None)
            .await
            .unwrap();
        match status {
            404 => {
                assert!(
                    !acknowledged.contains(tenant),
                    "{tenant}: answered 201 before the kill, gone after it"
                );
                assert_eq!(body["error"]["code"], "connection_not_found", "{body}");
            }
            200 => {
                assert_eq!(body["status"], "active", "{tenant}: {body}");
                let masked = body["masked_key"].as_str().unwrap_or_default();
                assert!(masked.ends_with(&key[key.len() - 4..]), "{masked}");
                let (status, revealed) = call(
                    client,
                    reqwest::Method::POST,
                    format!("{url}/reveal"),
                    token,
                    None,
                )
                .await
                .unwrap();
                assert_eq!(status, 200, "{tenant}: reveal {revealed}");
                assert_eq!(revealed["key"].as_str(), Some(key.as_str()), "{tenant}");
                whole += 1;
            }
            other => panic!("{tenant}: {other} {body}"),
        }
    }
    whole
}
