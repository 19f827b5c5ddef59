//! The monitor: lost permissions → degraded, revoked keys → revoked, faults never flip a healthy
//! connection to revoked (only to unreachable after repeated failures), events are signed and
//! delivered, and replicas on one PostgreSQL never verify a connection twice in a cycle.

use std::sync::{Arc, Mutex};

use super::*;
use rakguard_connect::monitor::{self, check_due};
use rakguard_connect::service::Actor;
use rakguard_connect::store::now_millis;

fn admin_actor() -> Actor {
    Actor {
        name: "test".to_owned(),
        tenant: None,
        can_reveal: false,
        source: None,
    }
}

async fn status_of(running: &Running, tenant: &str) -> String {
    running
        .service
        .status(&admin_actor(), tenant, "test")
        .await
        .unwrap()
        .status
}

async fn tick(running: &Running, settings: &MonitorSettings) -> usize {
    running
        .service
        .store()
        .make_all_due(now_millis())
        .await
        .unwrap();
    check_due(&running.service, settings).await
}

#[tokio::test]
async fn statuses_follow_stripe_and_faults_never_revoke() {
    let spec = restricted("monitored", selgeo_needs());
    let healthy = restricted("healthy", selgeo_needs());
    let emulator = emulator(vec![spec.clone(), healthy.clone()]).await;
    let key_id = |name: &str| {
        emulator
            .keys
            .iter()
            .find(|k| k.name == name)
            .unwrap()
            .id
            .clone()
    };
    let dir = temp_dir();
    let running = service(
        &emulator.base_url,
        &database(false, dir.path()).await.unwrap(),
        false,
    )
    .await;
    let actor = admin_actor();
    for (tenant, spec) in [("acme", &spec), ("calm", &healthy)] {
        let key = secrecy::SecretString::from(spec.secret.clone().unwrap());
        let outcome = running
            .service
            .connect(&actor, tenant, "test", &key, "selgeo", None)
            .await
            .unwrap();
        assert!(
            outcome.connection.is_some(),
            "{}",
            outcome.verdict.to_json()
        );
    }
    let settings = MonitorSettings::default();
    assert_eq!(tick(&running, &settings).await, 2);
    assert_eq!(status_of(&running, "acme").await, "active");

    // The merchant edits the key and drops Coupons: Write.
    let mut fewer: Vec<String> = selgeo_needs()
        .iter()
        .map(|p| format!("{}_{}", p.row, p.level))
        .filter(|id| id != "coupon_write")
        .collect();
    fewer.sort();
    let client = reqwest::Client::new();
    let answer = client
        .post(format!(
            "{}/_emulator/v1/keys/{}/permissions",
            emulator.base_url,
            key_id("monitored")
        ))
        .header("content-type", "application/json")
        .body(json!({"permissions": fewer}).to_string())
        .send()
        .await
        .unwrap();
    assert!(
        answer.status().is_success(),
        "{}",
        answer.text().await.unwrap()
    );
    tick(&running, &settings).await;
    assert_eq!(status_of(&running, "acme").await, "degraded");
    let events = running
        .service
        .store()
        .events(Some("acme"), 10)
        .await
        .unwrap();
    assert_eq!(events[0].event_type, "connection.degraded");
    assert!(
        events[0].payload.contains("Coupons"),
        "{}",
        events[0].payload
    );

    // Faults: every request fails. Never revoked; unreachable only after three runs.
    let answer = client
        .post(format!("{}/_emulator/v1/faults", emulator.base_url))
        .header("content-type", "application/json")
        .body(json!({"error_rate": 1.0}).to_string())
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    for run in 1..=4 {
        tick(&running, &settings).await;
        let calm = status_of(&running, "calm").await;
        assert_ne!(calm, "revoked");
        if run < 3 {
            assert_eq!(calm, "active", "run {run}");
        } else {
            assert_eq!(calm, "unreachable", "run {run}");
        }
    }
    client
        .post(format!("{}/_emulator/v1/faults", emulator.base_url))
        .header("content-type", "application/json")
        .body(json!({"error_rate": 0.0}).to_string())
        .send()
        .await
        .unwrap();
    tick(&running, &settings).await;
    assert_eq!(status_of(&running, "calm").await, "active", "recovers");

    // The key is deleted in the Dashboard.
    client
        .delete(format!(
            "{}/_emulator/v1/keys/{}",
            emulator.base_url,
            key_id("monitored")
        ))
        .send()
        .await
        .unwrap();
    tick(&running, &settings).await;
    assert_eq!(status_of(&running, "acme").await, "revoked");
    let events = running
        .service
        .store()
        .events(Some("acme"), 10)
        .await
        .unwrap();
    assert_eq!(events[0].event_type, "connection.revoked");
    running.shutdown().await;
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn events_are_delivered_signed_and_retried() {
    // A webhook receiver that fails the first delivery.
    let received: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let failures = Arc::new(std::sync::atomic::AtomicUsize::new(1));
    let app = {
        let received = received.clone();
        let failures = failures.clone();
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let received = received.clone();
                let failures = failures.clone();
                async move {
                    if failures
                        .fetch_update(
                            std::sync::atomic::Ordering::SeqCst,
                            std::sync::atomic::Ordering::SeqCst,
                            |n| n.checked_sub(1),
                        )
                        .is_ok()
                    {
                        return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    let signature = headers
                        .get("rakguard-signature")
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .to_owned();
                    received.lock().unwrap().push((signature, body));
                    axum::http::StatusCode::OK
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let spec = restricted("hooked", selgeo_needs());
    let emulator = emulator(vec![spec.clone()]).await;
    let dir = temp_dir();
    let running = service(
        &emulator.base_url,
        &database(false, dir.path()).await.unwrap(),
        false,
    )
    .await;
    let key = secrecy::SecretString::from(spec.secret.clone().unwrap());
    running
        .service
        .connect(&admin_actor(), "acme", "test", &key, "selgeo", None)
        .await
        .unwrap();
    running
        .service
        .disconnect(&admin_actor(), "acme", "test")
        .await
        .unwrap();
    let settings = MonitorSettings {
        webhook_url: Some(hook),
        webhook_secret: Some(secrecy::SecretString::from("whsec_test_secret".to_owned())),
        ..Default::default()
    };
    let client = reqwest::Client::new();
    let metrics = rakguard_connect::metrics::Metrics::default();
    assert_eq!(
        monitor::deliver_events(&running.service, &settings, &client, &metrics).await,
        0
    );
    let event = &running
        .service
        .store()
        .events(Some("acme"), 1)
        .await
        .unwrap()[0];
    assert_eq!(event.attempts, 1);
    assert!(event.last_error.as_deref().unwrap().contains("500"));
    assert!(
        event.next_attempt_at > now_millis(),
        "retried later, not at once"
    );
    // Not due yet: nothing sent.
    assert_eq!(
        monitor::deliver_events(&running.service, &settings, &client, &metrics).await,
        0
    );
    assert!(received.lock().unwrap().is_empty());
    // Due again (as if the backoff had passed): delivered, signed.
    running
        .service
        .store()
        .event_attempted(&event.id, None, 0, Some("test"))
        .await
        .unwrap();
    assert_eq!(
        monitor::deliver_events(&running.service, &settings, &client, &metrics).await,
        1
    );
    let (signature, body) = received.lock().unwrap()[0].clone();
    let timestamp: i64 = signature
        .split(',')
        .next()
        .unwrap()
        .trim_start_matches("t=")
        .parse()
        .unwrap();
    assert_eq!(
        signature,
        monitor::signature("whsec_test_secret", timestamp, &body)
    );
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["type"], "connection.disconnected");
    assert_eq!(body["tenant"], "acme");
    assert!(!body.to_string().contains(spec.secret.as_deref().unwrap()));
    running.shutdown().await;
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn two_replicas_on_postgres_share_the_work_without_overlap() {
    if !postgres_available() {
        return;
    }
    let specs: Vec<KeySpec> = (0..30)
        .map(|i| restricted(&format!("replica{i}"), selgeo_needs()))
        .collect();
    let emulator = emulator(specs.clone()).await;
    let dir = temp_dir();
    let url = database(true, dir.path()).await.unwrap();
    let master = MasterKey::generate();
    let one = service_with(
        &emulator.base_url,
        &url,
        Keyring::new(master.clone()),
        false,
    )
    .await;
    let two = service_with(&emulator.base_url, &url, Keyring::new(master), false).await;
    for (i, spec) in specs.iter().enumerate() {
        let key = secrecy::SecretString::from(spec.secret.clone().unwrap());
        let outcome = one
            .service
            .connect(
                &admin_actor(),
                &format!("t{i}"),
                "test",
                &key,
                "selgeo",
                None,
            )
            .await
            .unwrap();
        assert!(outcome.connection.is_some());
    }
    one.service
        .store()
        .make_all_due(now_millis())
        .await
        .unwrap();
    let settings = |owner: &str| MonitorSettings {
        owner: owner.to_owned(),
        batch: 7,
        ..Default::default()
    };
    let (a, b) = (settings("one"), settings("two"));
    let mut total = 0;
    loop {
        let (x, y) = tokio::join!(check_due(&one.service, &a), check_due(&two.service, &b));
        total += x + y;
        if x + y == 0 {
            break;
        }
    }
    assert_eq!(total, 30, "every connection checked once in the cycle");
    for row in one.service.store().connections(true).await.unwrap() {
        let history = one.service.store().history(&row.id, 10).await.unwrap();
        let monitor_runs = history
            .iter()
            .filter(|entry| entry.trigger == "monitor")
            .count();
        assert_eq!(monitor_runs, 1, "{} verified {monitor_runs} times", row.id);
    }
    one.shutdown().await;
    two.shutdown().await;
    emulator.shutdown().await.unwrap();
}

/// The most of `times` (milliseconds) inside any one-second window.
fn peak_per_second(times: &mut [i64]) -> usize {
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
async fn verifications_of_one_tenant_and_mode_share_one_rate_budget() {
    const RATE: u32 = 10;
    let good = restricted("sharedbudget", selgeo_needs());
    let key = good.secret.clone().unwrap();
    let emulator = emulator(vec![good]).await;
    let dir = temp_dir();
    let running = service_with_rate(
        &emulator.base_url,
        &database(false, dir.path()).await.unwrap(),
        Keyring::new(MasterKey::generate()),
        false,
        RATE,
    )
    .await;
    let actor = admin_actor();
    let connected = running
        .service
        .connect(
            &actor,
            "acme",
            "test",
            &secrecy::SecretString::from(key.clone()),
            "selgeo",
            None,
        )
        .await
        .unwrap();
    assert!(connected.connection.is_some());
    // Three re-verifications and a new connect of the same tenant and mode at once: each alone
    // would send its first round together; sharing, all of them keep to RATE in any second.
    let logged = emulator.state.requests(None).len();
    let secret = secrecy::SecretString::from(key);
    let reverify = || running.service.reverify(&actor, "acme", "test");
    let (a, b, c, d) = tokio::join!(
        reverify(),
        reverify(),
        reverify(),
        running
            .service
            .connect(&actor, "acme", "test", &secret, "selgeo", None)
    );
    for view in [a, b, c] {
        // Active, or already replaced by the connect that ran beside it.
        let status = view.unwrap().status;
        assert!(status == "active" || status == "replaced", "{status}");
    }
    assert!(d.unwrap().connection.is_some());
    let log = emulator.state.requests(None)[logged..].to_vec();
    assert!(log.len() > 3 * RATE as usize, "{} requests", log.len());
    let mut times: Vec<i64> = log.iter().map(|entry| entry.received_ms).collect();
    let peak = peak_per_second(&mut times);
    assert!(
        peak <= RATE as usize,
        "{peak} requests in one second, budget {RATE}"
    );
    running.shutdown().await;
    emulator.shutdown().await.unwrap();
}
