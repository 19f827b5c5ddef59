//! The matrix, for each example manifest: exact, missing one, missing several, extra,
//! read instead of write, revoked, expired, rolled, publishable, live in the test slot, secret.

use super::*;
use rakguard_catalog::key::{KeyKind, Mode};
use rakguard_verify::{Code, verify};

fn required(manifest: &Manifest) -> Vec<Permission> {
    let mut required: Vec<Permission> = needs(manifest).into_iter().collect();
    Catalog::embedded().sort_as_form(&mut required);
    required
}

fn labels(permissions: &[Permission]) -> Vec<String> {
    let catalog = Catalog::embedded();
    let mut sorted = permissions.to_vec();
    catalog.sort_as_form(&mut sorted);
    sorted.iter().map(|p| catalog.form_label(p)).collect()
}

/// Extra permissions no example manifest needs, on rows with probes and no implications.
fn extras() -> Vec<Permission> {
    ["tax_rate_write", "shipping_rate_write", "file_read"]
        .iter()
        .map(|id| perm(id))
        .collect()
}

async fn emulator_for(specs: Vec<KeySpec>) -> Running {
    let mut config = EmulatorConfig {
        keys: specs,
        ..EmulatorConfig::default()
    };
    config.faults.rate_limit_per_second = Some(100_000);
    emulator_with(config).await
}

#[tokio::test]
async fn every_example_manifest_permission_has_a_probe() {
    let catalog = Catalog::embedded();
    for name in MANIFESTS {
        for permission in required(&manifest(name)) {
            let write = Permission::new(permission.row.clone(), Level::Write);
            assert!(
                catalog.probe(&permission).is_some() || catalog.probe(&write).is_some(),
                "{name}: no probe for {permission}"
            );
        }
    }
}

#[tokio::test]
async fn exact_missing_extra_and_read_instead_of_write() {
    for name in MANIFESTS {
        let manifest = manifest(name);
        let required = required(&manifest);
        let all: BTreeSet<Permission> = required.iter().cloned().collect();
        let without = |drop: &[Permission]| -> BTreeSet<Permission> {
            all.iter().filter(|p| !drop.contains(p)).cloned().collect()
        };
        let several: Vec<Permission> = required.iter().step_by(2).take(3).cloned().collect();
        let mut with_extra = all.clone();
        with_extra.extend(extras());
        let write = required.iter().find(|p| p.level == Level::Write).cloned();
        let mut read_instead = all.clone();
        if let Some(write) = &write {
            read_instead.remove(write);
            read_instead.insert(read_of(write));
        }
        let specs = vec![
            restricted("exact", Mode::Test, &all),
            restricted("one", Mode::Test, &without(&required[..1])),
            restricted("several", Mode::Test, &without(&several)),
            restricted("extra", Mode::Test, &with_extra),
            restricted("readinstead", Mode::Test, &read_instead),
        ];
        let running = emulator_for(specs.clone()).await;
        let options = options_for(&running, &manifest);

        // Exact.
        let verdict = verify(&key_of(&specs[0]), &manifest, &options)
            .await
            .unwrap();
        assert_eq!(verdict.code, Code::Ok, "{name}: {}", verdict.to_json());
        assert!(
            verdict.missing.is_empty() && verdict.unknown.is_empty() && verdict.excess.is_empty()
        );
        assert_eq!(
            with_outcome(&verdict, Outcome::Granted),
            required.iter().map(id).collect(),
            "{name}"
        );
        for result in &verdict.permissions {
            assert!(
                !result.evidence.is_empty(),
                "{name}: {result:?} has no evidence"
            );
        }
        // Write implies read and a read probe is one request: no more than one per permission.
        assert!(
            verdict.requests as usize <= required.len(),
            "{name}: {} requests",
            verdict.requests
        );

        // Missing one.
        let verdict = verify(&key_of(&specs[1]), &manifest, &options)
            .await
            .unwrap();
        assert_eq!(verdict.code, Code::PermissionsMissing, "{name}");
        assert_eq!(verdict.missing, labels(&required[..1]), "{name}");
        assert!(verdict.unknown.is_empty(), "{name}: {:?}", verdict.unknown);
        let result = verdict.result(&id(&required[0])).unwrap();
        let evidence = &result.evidence[0];
        assert_eq!(evidence.status, Some(403));
        assert!(
            evidence
                .request_id
                .as_deref()
                .is_some_and(|id| id.starts_with("req_"))
        );
        assert!(
            !evidence.scope_named.is_empty(),
            "{name}: the 403 names the permission: {evidence:?}"
        );
        let fix = verdict.fix.as_ref().unwrap();
        assert!(
            fix.dashboard_url
                .as_deref()
                .unwrap()
                .contains("/test/apikeys")
        );

        // Missing several.
        let verdict = verify(&key_of(&specs[2]), &manifest, &options)
            .await
            .unwrap();
        assert_eq!(verdict.code, Code::PermissionsMissing, "{name}");
        assert_eq!(verdict.missing, labels(&several), "{name}");

        // Extra: fine for the manifest; listed as excess only when asked.
        let verdict = verify(&key_of(&specs[3]), &manifest, &options)
            .await
            .unwrap();
        assert_eq!(verdict.code, Code::Ok, "{name}");
        assert!(verdict.excess.is_empty());
        assert!(!verdict.subject.excess_checked);
        let mut checking = options.clone();
        checking.check_excess = true;
        let verdict = verify(&key_of(&specs[3]), &manifest, &checking)
            .await
            .unwrap();
        assert_eq!(verdict.code, Code::Ok, "{name}: {}", verdict.to_json());
        assert!(verdict.subject.excess_checked);
        assert_eq!(verdict.excess, labels(&extras()), "{name}");

        // Read instead of write.
        if let Some(write) = &write {
            let verdict = verify(&key_of(&specs[4]), &manifest, &options)
                .await
                .unwrap();
            assert_eq!(verdict.code, Code::PermissionsMissing, "{name}");
            assert_eq!(
                verdict.missing,
                labels(std::slice::from_ref(write)),
                "{name}"
            );
            let steps = &verdict.fix.as_ref().unwrap().steps;
            assert!(
                steps.iter().any(|step| step.contains("(now Read)")),
                "{name}: {steps:?}"
            );
        }
        running.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn rejected_keys() {
    let manifest = manifest("selgeo");
    let all: BTreeSet<Permission> = required(&manifest).into_iter().collect();
    let mut expired = restricted("expired", Mode::Test, &all);
    expired.expires_at = Some(1_000_000_000);
    let mut publishable = KeySpec::new("pub", KeyKind::Publishable, Mode::Test);
    publishable.secret = Some(secret(KeyKind::Publishable, Mode::Test, "pub"));
    let mut full = KeySpec::new("full", KeyKind::Secret, Mode::Test);
    full.secret = Some(secret(KeyKind::Secret, Mode::Test, "full"));
    let specs = vec![
        restricted("revoked", Mode::Test, &all),
        expired,
        restricted("rolled", Mode::Test, &all),
        restricted("rollednow", Mode::Test, &all),
        publishable,
        restricted("live", Mode::Live, &all),
        full,
    ];
    let running = emulator_for(specs.clone()).await;
    let options = options(&running);
    let id_of = |name: &str| {
        running
            .keys
            .iter()
            .find(|key| key.name == name)
            .unwrap()
            .id
            .clone()
    };

    // Revoked: Stripe answers it like an unknown key; with history it reads as revoked.
    admin(
        &running,
        "DELETE",
        &format!("/keys/{}", id_of("revoked")),
        empty(),
    )
    .await;
    let verdict = verify(&key_of(&specs[0]), &manifest, &options)
        .await
        .unwrap();
    assert_eq!(verdict.code, Code::KeyInvalid);
    assert_eq!(verdict.requests, 1, "one request establishes validity");
    assert_eq!(verdict.decisive.as_ref().unwrap().status, Some(401));
    assert!(verdict.permissions.is_empty());
    let mut known = options.clone();
    known.previously_valid = true;
    let verdict = verify(&key_of(&specs[0]), &manifest, &known).await.unwrap();
    assert_eq!(verdict.code, Code::KeyRevoked);

    // Expired.
    let verdict = verify(&key_of(&specs[1]), &manifest, &options)
        .await
        .unwrap();
    assert_eq!(verdict.code, Code::KeyExpired, "{}", verdict.to_json());
    assert_eq!(
        verdict.decisive.as_ref().unwrap().error_code.as_deref(),
        Some("api_key_expired")
    );

    // Rolled with a grace period: both secrets work until it ends, then the old one expired.
    let rolled = admin(
        &running,
        "POST",
        &format!("/keys/{}/roll", id_of("rolled")),
        json!({"expires_in_seconds": 3600}),
    )
    .await;
    let new_secret = rolled["secret"].as_str().unwrap();
    let new_key = ApiKey::parse(new_secret).unwrap();
    assert_eq!(
        verify(&key_of(&specs[2]), &manifest, &options)
            .await
            .unwrap()
            .code,
        Code::Ok
    );
    assert_eq!(
        verify(&new_key, &manifest, &options).await.unwrap().code,
        Code::Ok
    );
    running.state.advance_clock(Duration::from_secs(7200));
    assert_eq!(
        verify(&key_of(&specs[2]), &manifest, &options)
            .await
            .unwrap()
            .code,
        Code::KeyExpired
    );
    assert_eq!(
        verify(&new_key, &manifest, &options).await.unwrap().code,
        Code::Ok
    );
    // Rolled "now": the old secret is gone.
    admin(
        &running,
        "POST",
        &format!("/keys/{}/roll", id_of("rollednow")),
        empty(),
    )
    .await;
    assert_eq!(
        verify(&key_of(&specs[3]), &manifest, &options)
            .await
            .unwrap()
            .code,
        Code::KeyInvalid
    );

    // Refused offline, before any request.
    let before = running.state.requests(None).len();
    let verdict = verify(&key_of(&specs[4]), &manifest, &options)
        .await
        .unwrap();
    assert_eq!(verdict.code, Code::KeyPublishable);
    assert_eq!(verdict.requests, 0);
    let mut test_slot = options.clone();
    test_slot.mode = Some(Mode::Test);
    let verdict = verify(&key_of(&specs[5]), &manifest, &test_slot)
        .await
        .unwrap();
    assert_eq!(verdict.code, Code::KeyWrongMode);
    assert_eq!(verdict.requests, 0);
    assert!(
        verdict
            .fix
            .unwrap()
            .dashboard_url
            .unwrap()
            .contains("/test/")
    );
    let verdict = verify(&key_of(&specs[6]), &manifest, &options)
        .await
        .unwrap();
    assert_eq!(verdict.code, Code::SecretKeyRefused);
    assert_eq!(
        running.state.requests(None).len(),
        before,
        "nothing was sent"
    );

    // A secret key where the integration accepts one: one request, everything granted.
    let mut accept = options.clone();
    accept.accept_secret_keys = Some(true);
    let verdict = verify(&key_of(&specs[6]), &manifest, &accept)
        .await
        .unwrap();
    assert_eq!(verdict.code, Code::Ok);
    assert_eq!(verdict.requests, 1);
    assert_eq!(verdict.permissions.len(), all.len());

    // The live key in a live (or unspecified) slot is accepted. The live account has no
    // balance transactions, so the probe that expands their sources has nothing to expand and
    // Balance transaction sources stays unknown: the verdict says so rather than guess.
    let verdict = verify(&key_of(&specs[5]), &manifest, &options)
        .await
        .unwrap();
    assert_eq!(verdict.code, Code::Incomplete, "{}", verdict.to_json());
    assert!(verdict.missing.is_empty());
    assert_eq!(verdict.unknown.len(), 1, "{:?}", verdict.unknown);
    let unknown = verdict
        .permissions
        .iter()
        .find(|result| result.outcome == Outcome::Unknown)
        .unwrap();
    assert_eq!(unknown.permission, "balance_transaction_source_read");
    assert!(
        unknown
            .reason
            .as_deref()
            .unwrap()
            .contains("nothing to expand")
    );
    assert!(verdict.key.masked.starts_with("rk_live_"));

    // No verdict carries a secret.
    for spec in &specs {
        let text = verify(&key_of(spec), &manifest, &accept)
            .await
            .unwrap()
            .to_json();
        assert!(!text.contains(spec.secret.as_deref().unwrap()));
    }
    running.shutdown().await.unwrap();
}
