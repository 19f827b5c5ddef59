//! Under the faults (20% 500s, 10% dropped connections, 5% 429s, 200 ms jitter) every
//! permission result is right or unknown, never wrong, and with retries at least 99% are right.

use super::*;
use rakguard_catalog::key::Mode;
use rakguard_verify::{scan, verify};

#[tokio::test]
async fn faults_never_produce_a_wrong_answer() {
    let catalog = Catalog::embedded();
    let spread: BTreeSet<Permission> = catalog
        .rows()
        .iter()
        .enumerate()
        .filter_map(|(i, row)| {
            let level = if i % 2 == 0 {
                Level::Write
            } else {
                Level::Read
            };
            (i % 5 != 0 && row.levels.offers(level)).then(|| Permission::new(row.id.clone(), level))
        })
        .collect();
    let mut specs = vec![restricted("spread", Mode::Test, &spread)];
    for name in MANIFESTS {
        let mut held = needs(&manifest(name));
        // Drop one so that both outcomes occur.
        let first = held.iter().next().cloned().unwrap();
        held.remove(&first);
        specs.push(restricted(name, Mode::Test, &held));
    }
    let running = emulator(specs.clone()).await;
    faults(
        &running,
        json!({"error_rate": 0.2, "reset_rate": 0.1, "throttle_rate": 0.05, "jitter_ms": 200}),
    )
    .await;
    let options = options(&running);

    let mut right = 0usize;
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    let mut tally = |verdict: &Verdict, held: &BTreeSet<Permission>| {
        for result in &verdict.permissions {
            let permission = Permission::new(result.row.clone(), result.level);
            if catalog.probe(&permission).is_none()
                && catalog
                    .probe(&Permission::new(result.row.clone(), Level::Write))
                    .is_none()
            {
                continue; // no probe: unknown by construction
            }
            if super::scan::structural(result.reason.as_deref()) {
                continue;
            }
            let truth = holds(held, &permission);
            match result.outcome {
                Outcome::Granted if truth => right += 1,
                Outcome::Missing if !truth => right += 1,
                Outcome::Unknown => {
                    unknown.push(format!("{}: {:?}", result.permission, result.reason))
                }
                _ => wrong.push(format!(
                    "{} {:?} ({})",
                    result.permission, result.outcome, verdict.subject.command
                )),
            }
        }
    };
    let verdict = scan(&key_of(&specs[0]), &options).await.unwrap();
    tally(&verdict, &spread);
    for (spec, name) in specs[1..].iter().zip(MANIFESTS) {
        let manifest = manifest(name);
        let mut options = options.clone();
        options.tier = tier(&manifest);
        let verdict = verify(&key_of(spec), &manifest, &options).await.unwrap();
        tally(&verdict, &spec.permissions);
    }
    assert!(wrong.is_empty(), "wrong answers under faults: {wrong:?}");
    let total = right + unknown.len();
    assert!(total > 100, "{total} results");
    assert!(
        right * 100 >= total * 99,
        "only {right} of {total} right; unknown: {unknown:?}"
    );
    // The faults really happened: the log shows 500s, 429s and retried requests.
    let log = running.state.requests(None);
    assert!(log.iter().any(|entry| entry.status == 500));
    assert!(log.iter().any(|entry| entry.status == 429));
    running.shutdown().await.unwrap();
}
