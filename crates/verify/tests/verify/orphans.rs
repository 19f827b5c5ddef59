//! `creates` probes clean up after themselves; when the delete fails twice, the verdict names
//! the orphan and the permission verdict still stands (seed 002's coupon case).

use super::*;
use rakguard_catalog::endpoint::Method;
use rakguard_catalog::key::Mode;
use rakguard_catalog::probe::{Effect, Probe, ProbeBasis};
use rakguard_verify::{Code, verify};

/// The catalogue's probes, with coupons' write probe replaced by the create-then-delete probe
/// integrations hand-roll.
fn probes_with_coupon_create() -> Vec<Probe> {
    let mut probes: Vec<Probe> = Catalog::embedded().probes().to_vec();
    probes.retain(|probe| {
        !(probe.permission.row == "coupon" && probe.permission.level == Level::Write)
    });
    probes.push(Probe {
        permission: Permission::new("coupon", Level::Write),
        method: Method::Post,
        path: "/v1/coupons".to_owned(),
        body: "percent_off=1&duration=once&name=rakguardprobe".to_owned(),
        granted: vec![200],
        effect: Effect::Creates,
        invalid: String::new(),
        cleanup: "DELETE /v1/coupons/{coupon}".to_owned(),
        basis: ProbeBasis::Derived,
        note: "test: create then delete".to_owned(),
    });
    probes
}

async fn coupons(running: &Running, secret: &str) -> usize {
    let response = reqwest::Client::new()
        .get(format!("{}/v1/coupons?limit=100", running.base_url))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    body["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_failed_cleanup_is_reported_as_an_orphan() {
    let manifest = manifest("selgeo");
    let held = manifest.required_permissions(None).unwrap();
    let spec = restricted("coupons", Mode::Test, &held);
    let secret = spec.secret.clone().unwrap();
    let running = emulator(vec![spec.clone()]).await;
    let mut options = options(&running);
    options.probes = Some(probes_with_coupon_create());

    // The cleanup works: nothing left behind.
    let verdict = verify(&key_of(&spec), &manifest, &options).await.unwrap();
    assert_eq!(verdict.code, Code::Ok, "{}", verdict.to_json());
    assert!(verdict.orphans.is_empty());
    assert_eq!(coupons(&running, &secret).await, 0);

    // Every delete of a coupon fails: the coupon is an orphan, and the verdict still stands.
    faults(
        &running,
        json!({"error_rate": 1.0, "scope": {"method": "DELETE", "path_prefix": "/v1/coupons/"}}),
    )
    .await;
    let verdict = verify(&key_of(&spec), &manifest, &options).await.unwrap();
    assert_eq!(verdict.code, Code::Ok, "{}", verdict.to_json());
    assert_eq!(
        verdict.result("coupon_write").unwrap().outcome,
        Outcome::Granted
    );
    assert_eq!(verdict.orphans.len(), 1, "{}", verdict.to_json());
    let orphan = &verdict.orphans[0];
    assert!(orphan.id.starts_with(""), "{orphan:?}");
    assert_eq!(orphan.permission, "coupon_write");
    assert!(orphan.reason.contains("500"), "{orphan:?}");
    assert_eq!(
        coupons(&running, &secret).await,
        1,
        "the orphan is really there"
    );
    let deletes = running
        .state
        .requests(None)
        .iter()
        .filter(|entry| {
            entry.method == "DELETE" && entry.path == format!("/v1/coupons/{}", orphan.id)
        })
        .count();
    assert_eq!(deletes, 2, "one delete, retried once");
    running.shutdown().await.unwrap();
}
