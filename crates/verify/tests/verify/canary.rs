//! No side effects: a scan with a key holding every write permission leaves the account exactly
//! as it was.

use super::*;
use rakguard_catalog::key::Mode;
use rakguard_verify::scan;

#[tokio::test]
async fn scan_with_every_write_permission_changes_nothing() {
    let catalog = Catalog::embedded();
    let every: BTreeSet<Permission> = catalog
        .rows()
        .iter()
        .flat_map(|row| {
            [Level::Write, Level::Read]
                .into_iter()
                .find(|level| row.levels.offers(*level))
                .map(|level| Permission::new(row.id.clone(), level))
        })
        .collect();
    let spec = restricted("canary", Mode::Test, &every);
    let mut config = EmulatorConfig {
        keys: vec![spec.clone()],
        ..EmulatorConfig::default()
    };
    config.faults.rate_limit_per_second = Some(100_000);
    let running = emulator_with(config).await;

    // Some objects for the probes to (not) touch.
    let client = reqwest::Client::new();
    for path in ["/v1/customers", "/v1/products", "/v1/coupons"] {
        let body = match path {
            "/v1/products" => "name=Canary",
            "/v1/coupons" => "percent_off=10&duration=once",
            _ => "email=canary@example.com",
        };
        let response = client
            .post(format!("{}{path}", running.base_url))
            .bearer_auth(spec.secret.as_deref().unwrap())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let before = admin(&running, "GET", "/stats", empty()).await["objects"].clone();
    let logged_before = running.state.requests(None).len();

    let mut options = options(&running);
    options.rate_per_second = Some(1000);
    options.max_in_flight = 32;
    let verdict = scan(&key_of(&spec), &options).await.unwrap();
    assert_eq!(
        verdict.code,
        rakguard_verify::Code::Ok,
        "{}",
        verdict.message
    );
    assert!(verdict.orphans.is_empty());

    let after = admin(&running, "GET", "/stats", empty()).await["objects"].clone();
    assert_eq!(before, after, "the scan changed the account");
    let log = running.state.requests(None);
    let probes = &log[logged_before..];
    assert_eq!(probes.len(), verdict.requests as usize);
    for entry in probes {
        if entry.method != "GET" {
            assert!(
                entry.status >= 400,
                "{} {} answered {}: a write probe succeeded",
                entry.method,
                entry.path,
                entry.status
            );
        }
    }
    running.shutdown().await.unwrap();
}
