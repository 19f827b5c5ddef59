//! The rate budget, asserted from the emulator's request log: never more than the budget in any
//! one-second window, and no 429 caused by the verifier at its defaults.

use super::*;
use rakguard_catalog::key::Mode;
use rakguard_verify::{Code, default_rate, scan};

fn max_in_any_second(times: &[i64]) -> usize {
    let mut times = times.to_vec();
    times.sort_unstable();
    (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|&&t| t - times[i] < 1000)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test]
async fn scans_at_the_defaults_stay_inside_the_budget() {
    let held: BTreeSet<Permission> = ["customer_write", "charge_read", "invoice_read"]
        .iter()
        .map(|id| perm(id))
        .collect();
    let specs = vec![
        restricted("budgettest", Mode::Test, &held),
        restricted("budgetlive", Mode::Live, &held),
    ];
    // The emulator's own limits are Stripe's: 25/s in test mode, 100/s in live mode.
    let running = emulator(specs.clone()).await;
    for spec in &specs {
        let mut options = Options::with_api_base(&running.base_url);
        options.deadline = Duration::from_secs(60);
        let logged = running.state.requests(None).len();
        let verdict = scan(&key_of(spec), &options).await.unwrap();
        assert_eq!(verdict.code, Code::Ok, "{}", verdict.message);
        let log = running.state.requests(None);
        let sent = &log[logged..];
        assert_eq!(sent.len(), verdict.requests as usize);
        assert!(
            sent.len() > 2 * default_rate(spec.mode) as usize / 2,
            "{} requests",
            sent.len()
        );
        let times: Vec<i64> = sent.iter().map(|entry| entry.received_ms).collect();
        let peak = max_in_any_second(&times);
        assert!(
            peak <= default_rate(spec.mode) as usize,
            "{}: {peak} requests in one second, budget {}",
            spec.name,
            default_rate(spec.mode)
        );
        assert!(
            sent.iter().all(|entry| entry.status != 429),
            "{}: the verifier caused a 429",
            spec.name
        );
    }
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_configured_budget_is_honoured_including_retries() {
    let held: BTreeSet<Permission> = [perm("customer_read")].into_iter().collect();
    let spec = restricted("budgetretry", Mode::Test, &held);
    let running = emulator(vec![spec.clone()]).await;
    faults(&running, json!({"error_rate": 0.3})).await;
    let mut options = options(&running);
    options.rate_per_second = Some(10);
    let logged = running.state.requests(None).len();
    let verdict = scan(&key_of(&spec), &options).await.unwrap();
    let log = running.state.requests(None)[logged..].to_vec();
    assert_eq!(log.len(), verdict.requests as usize);
    assert!(
        log.iter().any(|entry| entry.status == 500),
        "retries happened"
    );
    let times: Vec<i64> = log.iter().map(|entry| entry.received_ms).collect();
    assert!(max_in_any_second(&times) <= 10);
    running.shutdown().await.unwrap();
}
