//! The verifier's performance targets, measured against the emulator adding 100 ms to every
//! request, side by side with a one-request-at-a-time prober sending the same probes in the
//! same run:
//!
//! - `verify` of the Selgeo manifest (8 permissions): within 2 × the latency plus the validity
//!   check, and at least 4 times faster than one request at a time;
//! - `scan` of the whole catalogue: within 1.2 × requests ÷ rate, and fewer than two requests
//!   per row.
//!
//! `cargo bench -p rakguard-verify --bench verify [-- ROUNDS]` (default 5 rounds; medians).
//! Not a criterion bench: each measurement takes from 0.2 to 10 seconds of mostly waiting.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rakguard_catalog::Catalog;
use rakguard_catalog::key::{ApiKey, KeyKind, Mode};
use rakguard_catalog::manifest::Manifest;
use rakguard_catalog::permission::{Level, Permission};
use rakguard_emulator::{EmulatorConfig, KeySpec};
use rakguard_verify::{Code, Options, Verdict, default_rate, scan, verify};

const LATENCY_MS: u64 = 100;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn key(name: &str, mode: Mode, permissions: BTreeSet<Permission>) -> (KeySpec, ApiKey) {
    let mut spec = KeySpec::new(name, KeyKind::Restricted, mode);
    let secret = format!(
        "{}{}",
        rakguard_catalog::key::prefix_for(KeyKind::Restricted, mode),
        format!("{name}bench{}", "x".repeat(40))
            .chars()
            .take(40)
            .collect::<String>()
    );
    spec.secret = Some(secret.clone());
    spec.permissions = permissions;
    (spec, ApiKey::parse(&secret).unwrap())
}

async fn timed<F: std::future::Future<Output = Verdict>>(run: F) -> (Verdict, f64) {
    let started = Instant::now();
    let verdict = run.await;
    (verdict, started.elapsed().as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(5);
    let catalog = Catalog::embedded();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/manifests/selgeo.toml"
    );
    let manifest = Manifest::parse(catalog, path, &std::fs::read_to_string(path).unwrap()).unwrap();
    let selgeo = manifest.required_permissions(None).unwrap();
    // A key holding what Selgeo needs, and a key holding a spread of the whole form for the
    // scan (a third of the rows at write, a third at read).
    let spread: BTreeSet<Permission> = catalog
        .rows()
        .iter()
        .enumerate()
        .filter_map(|(i, row)| {
            let level = match i % 3 {
                0 => return None,
                1 => Level::Read,
                _ => Level::Write,
            };
            row.levels
                .offers(level)
                .then(|| Permission::new(row.id.clone(), level))
        })
        .collect();
    let (selgeo_spec, selgeo_key) = key("selgeo", Mode::Test, selgeo);
    let (scan_spec, scan_key) = key("scan", Mode::Test, spread);
    let mut seed = KeySpec::new("seed", KeyKind::Secret, Mode::Test);
    let seed_secret = format!("sk_test_{}", "s".repeat(32));
    seed.secret = Some(seed_secret.clone());
    let mut config = EmulatorConfig {
        keys: vec![selgeo_spec, scan_spec, seed],
        seed: Some(1),
        ..EmulatorConfig::default()
    };
    config.faults.latency_ms = LATENCY_MS;
    let running = rakguard_emulator::spawn(config).await.unwrap();
    // One paid charge, so that the balance transaction probe has a source to expand.
    running.seed_paid_charge(&seed_secret, 1000).await.unwrap();

    let parallel = Options::with_api_base(&running.base_url);
    let one_at_a_time = Options {
        max_in_flight: 1,
        ..parallel.clone()
    };

    println!("emulator latency: {LATENCY_MS} ms per request; {rounds} rounds, medians\n");

    // verify, Selgeo.
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    let mut requests = 0;
    for _ in 0..rounds {
        let (verdict, ms) =
            timed(async { verify(&selgeo_key, &manifest, &parallel).await.unwrap() }).await;
        assert_eq!(verdict.code, Code::Ok, "{}", verdict.to_json());
        requests = verdict.requests;
        fast.push(ms);
        let (verdict, ms) = timed(async {
            verify(&selgeo_key, &manifest, &one_at_a_time)
                .await
                .unwrap()
        })
        .await;
        assert_eq!(verdict.code, Code::Ok);
        assert_eq!(verdict.requests, requests, "the same requests");
        slow.push(ms);
    }
    let (fast, slow) = (median(&mut fast), median(&mut slow));
    let budget_ms = 2.0 * LATENCY_MS as f64 + LATENCY_MS as f64;
    println!("verify selgeo ({requests} requests, 8 permissions)");
    println!(
        "  parallel {fast:.0} ms (target <= 2 x latency + validity check = {budget_ms:.0} ms: {})",
        verdict_word(fast <= budget_ms)
    );
    println!("  one at a time {slow:.0} ms");
    println!(
        "  ratio {:.2}x (target >= 4x: {})\n",
        slow / fast,
        verdict_word(slow / fast >= 4.0)
    );

    // Re-verification of a key that verified before: no separate validity round.
    let mut again = parallel.clone();
    again.previously_valid = true;
    let mut times = Vec::new();
    for _ in 0..rounds {
        // Each run gets a fresh second of Stripe's per-account budget, as separate runs would.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let (verdict, ms) =
            timed(async { verify(&selgeo_key, &manifest, &again).await.unwrap() }).await;
        assert_eq!(verdict.code, Code::Ok);
        assert_eq!(verdict.requests, requests, "the same requests");
        times.push(ms);
    }
    let again_ms = median(&mut times);
    println!("re-verify selgeo (previously_valid: the validity request joins the first round)");
    println!(
        "  parallel {again_ms:.0} ms; ratio to one at a time {:.2}x (target >= 4x: {})\n",
        slow / again_ms,
        verdict_word(slow / again_ms >= 4.0)
    );

    // scan, whole catalogue, test mode (budget 20/s).
    let rate = default_rate(Mode::Test);
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    let mut requests = 0;
    let scan_rounds = rounds.min(3);
    for _ in 0..scan_rounds {
        let (verdict, ms) = timed(async { scan(&scan_key, &parallel).await.unwrap() }).await;
        assert_eq!(verdict.code, Code::Ok, "{}", verdict.message);
        requests = verdict.requests;
        fast.push(ms);
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let (verdict, ms) = timed(async { scan(&scan_key, &one_at_a_time).await.unwrap() }).await;
    assert_eq!(verdict.requests, requests, "the same requests");
    slow.push(ms);
    let (fast, slow) = (median(&mut fast), median(&mut slow));
    let rows = catalog.rows().len();
    let allowed_ms = 1.2 * f64::from(requests) / f64::from(rate) * 1000.0;
    println!("scan, whole catalogue ({rows} rows, test mode, budget {rate}/s)");
    println!(
        "  requests {requests} = {:.2} per row (target < 2: {})",
        f64::from(requests) / rows as f64,
        verdict_word(u64::from(requests) < 2 * rows as u64)
    );
    println!(
        "  parallel {fast:.0} ms (target <= 1.2 x requests / rate = {allowed_ms:.0} ms: {})",
        verdict_word(fast <= allowed_ms)
    );
    println!("  one at a time {slow:.0} ms (1 round)");
    println!("  ratio {:.2}x", slow / fast);
    running.shutdown().await.ok();
}

fn verdict_word(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}
