//! Webhook endpoints, events and webhook delivery: CRUD with the secret shown only on create,
//! event lists and filters, signed deliveries to a local receiver, retries driven by the
//! emulator clock, and endpoints that must get nothing.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use rakguard_catalog::key::{KeyKind, Mode};
use rakguard_emulator::webhooks::{self, WebhookSettings, Webhooks};
use rakguard_emulator::{EmulatorConfig, spawn};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::App;

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
}

#[derive(Clone)]
struct ReceiverState {
    script: Arc<Mutex<VecDeque<u16>>>,
    seen: Arc<Mutex<Vec<Received>>>,
    notify: mpsc::UnboundedSender<()>,
}

/// A local webhook receiver answering the scripted statuses in turn, then 200.
struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<Received>>>,
    notified: mpsc::UnboundedReceiver<()>,
}

impl Receiver {
    async fn start(script: &[u16]) -> Receiver {
        let (notify, notified) = mpsc::unbounded_channel();
        let state = ReceiverState {
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
            seen: Arc::default(),
            notify,
        };
        let seen = Arc::clone(&state.seen);
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(state);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Receiver {
            url: format!("http://{addr}/hook"),
            seen,
            notified,
        }
    }

    fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}

async fn receive(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    state.seen.lock().unwrap().push(Received {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let _ = state.notify.send(());
    let status = state.script.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Creates an endpoint; returns its id and secret.
async fn endpoint(app: &App, key: &str, url: &str, events: &[&str]) -> (String, String) {
    let mut body = format!("url={}", encode(url));
    for event in events {
        body.push_str(&format!("&enabled_events[]={}", encode(event)));
    }
    let created = app
        .call("POST", "/v1/webhook_endpoints", Some(key), &body)
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    (
        created.body["id"].as_str().unwrap().to_owned(),
        created.body["secret"].as_str().unwrap().to_owned(),
    )
}

async fn customer(app: &App, key: &str) -> String {
    let created = app
        .call("POST", "/v1/customers", Some(key), "name=Ann")
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    created.body["id"].as_str().unwrap().to_owned()
}

async fn events(app: &App, key: &str, query: &str) -> Vec<Value> {
    let answer = app
        .call("GET", &format!("/v1/events?{query}"), Some(key), "")
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["data"].as_array().unwrap().clone()
}

fn fast() -> WebhookSettings {
    WebhookSettings {
        backoff_base: Duration::from_secs(1),
        max_attempts: 4,
        timeout: Duration::from_secs(5),
        ..WebhookSettings::default()
    }
}

#[tokio::test]
async fn endpoint_crud_shows_the_secret_only_on_create() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let created = app
        .call(
            "POST",
            "/v1/webhook_endpoints",
            Some(&key),
            "url=https%3A%2F%2Fexample.com%2Fhook&enabled_events[]=customer.created&enabled_events[]=invoice.paid&description=main&metadata[team]=billing",
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("we_") && id.len() == 27, "{id}");
    let secret = created.body["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 38,
        "{secret}"
    );
    assert!(secret[6..].bytes().all(|byte| byte.is_ascii_alphanumeric()));
    assert_eq!(created.body["object"], "webhook_endpoint");
    assert_eq!(created.body["status"], "enabled");
    assert_eq!(created.body["url"], "https://example.com/hook");
    assert_eq!(
        created.body["enabled_events"],
        json!(["customer.created", "invoice.paid"])
    );
    assert_eq!(created.body["description"], "main");
    assert_eq!(created.body["metadata"], json!({"team": "billing"}));
    assert_eq!(created.body["livemode"], false);

    let path = format!("/v1/webhook_endpoints/{id}");
    let fetched = app.call("GET", &path, Some(&key), "").await;
    assert_eq!(fetched.status, 200);
    assert!(fetched.body.get("secret").is_none());
    assert_eq!(fetched.body["url"], "https://example.com/hook");

    let updated = app
        .call(
            "POST",
            &path,
            Some(&key),
            "disabled=true&url=http%3A%2F%2F127.0.0.1%3A9%2Fx&enabled_events[]=*&description=",
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["status"], "disabled");
    assert_eq!(updated.body["url"], "http://127.0.0.1:9/x");
    assert_eq!(updated.body["enabled_events"], json!(["*"]));
    assert_eq!(updated.body["description"], Value::Null);
    assert!(updated.body.get("secret").is_none());
    let enabled = app.call("POST", &path, Some(&key), "disabled=false").await;
    assert_eq!(enabled.body["status"], "enabled");

    let listed = app
        .call("GET", "/v1/webhook_endpoints", Some(&key), "")
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["url"], "/v1/webhook_endpoints");
    let data = listed.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert!(data[0].get("secret").is_none());
    assert_eq!(data[0]["id"], id.as_str());

    let deleted = app.call("DELETE", &path, Some(&key), "").await;
    assert_eq!(
        deleted.body,
        json!({"id": id, "object": "webhook_endpoint", "deleted": true})
    );
    let gone = app.call("GET", &path, Some(&key), "").await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.code(), Some("resource_missing"));
}

#[tokio::test]
async fn endpoint_creation_checks_its_parameters() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    for (body, param) in [
        ("enabled_events[]=*", "url"),
        ("url=http%3A%2F%2Fa.test%2F", "enabled_events"),
        ("url=ftp%3A%2F%2Fa.test%2F&enabled_events[]=*", "url"),
        ("url=not-a-url&enabled_events[]=*", "url"),
        (
            "url=http%3A%2F%2Fa.test%2F&enabled_events=",
            "enabled_events",
        ),
        (
            "url=http%3A%2F%2Fa.test%2F&enabled_events[]=*&colour=red",
            "colour",
        ),
    ] {
        let answer = app
            .call("POST", "/v1/webhook_endpoints", Some(&key), body)
            .await;
        assert_eq!(answer.status, 400, "{body}: {:?}", answer.body);
        assert_eq!(answer.body["error"]["param"], param, "{body}");
    }
    let missing = app
        .call("POST", "/v1/webhook_endpoints/we_missing", Some(&key), "")
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn events_list_and_retrieve_with_type_filters() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let id = customer(&app, &key).await;
    let updated = app
        .call(
            "POST",
            &format!("/v1/customers/{id}"),
            Some(&key),
            "email=a%40b.c",
        )
        .await;
    assert_eq!(updated.status, 200);

    let all = events(&app, &key, "").await;
    let types: Vec<&str> = all.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types, ["customer.updated", "customer.created"]);
    assert_eq!(all[1]["data"]["object"]["id"], id.as_str());
    assert_eq!(all[1]["object"], "event");
    assert_eq!(all[1]["pending_webhooks"], 0);
    assert_eq!(all[0]["data"]["previous_attributes"]["email"], Value::Null);

    assert_eq!(events(&app, &key, "type=customer.*").await.len(), 2);
    assert_eq!(events(&app, &key, "type=*.created").await.len(), 1);
    assert_eq!(events(&app, &key, "type=invoice.*").await.len(), 0);
    let created = events(&app, &key, "type=customer.created").await;
    assert_eq!(created.len(), 1);
    let only = events(&app, &key, "types[]=customer.updated&types[]=invoice.paid").await;
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["type"], "customer.updated");
    let stamp = all[0]["created"].as_i64().unwrap();
    assert_eq!(
        events(&app, &key, &format!("created[gte]={stamp}"))
            .await
            .len(),
        2
    );
    assert!(
        events(&app, &key, &format!("created[gt]={stamp}"))
            .await
            .is_empty()
    );
    assert_eq!(events(&app, &key, "limit=1").await.len(), 1);

    let both = app
        .call(
            "GET",
            "/v1/events?type=customer.created&types[]=customer.updated",
            Some(&key),
            "",
        )
        .await;
    assert_eq!(both.status, 400);

    let event_id = created[0]["id"].as_str().unwrap();
    assert!(event_id.starts_with("evt_"));
    let fetched = app
        .call("GET", &format!("/v1/events/{event_id}"), Some(&key), "")
        .await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body, created[0]);
    let missing = app
        .call("GET", "/v1/events/evt_missing", Some(&key), "")
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.code(), Some("resource_missing"));

    let live = app.secret("Secret key (live)");
    assert!(events(&app, &live, "").await.is_empty());
}

#[tokio::test]
async fn deliveries_are_signed_with_the_endpoint_secret() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let receiver = Receiver::start(&[]).await;
    let (endpoint_id, secret) = endpoint(&app, &key, &receiver.url, &["customer.created"]).await;
    let hooks = Webhooks::new(app.state.clone(), fast());
    let customer_id = customer(&app, &key).await;

    assert_eq!(hooks.deliver_pending().await, 1);
    let seen = receiver.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    let header = |name: &str| request.headers.get(name).unwrap().to_str().unwrap();
    assert_eq!(header("content-type"), "application/json; charset=utf-8");
    assert_eq!(
        header("user-agent"),
        "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    );
    let signature = header("stripe-signature");
    assert!(signature.starts_with("t="), "{signature}");
    let now = app.state.clock().now();
    assert!(webhooks::verify(
        signature,
        &request.body,
        &secret,
        300,
        now
    ));
    assert!(!webhooks::verify(
        signature,
        &request.body,
        "whsec_wrong",
        300,
        now
    ));

    let event: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(event["type"], "customer.created");
    assert_eq!(event["data"]["object"]["id"], customer_id.as_str());
    assert_eq!(event["pending_webhooks"], 1);
    let event_id = event["id"].as_str().unwrap();
    let stored = app
        .call("GET", &format!("/v1/events/{event_id}"), Some(&key), "")
        .await;
    assert_eq!(stored.body["pending_webhooks"], 0);

    let attempts = hooks.attempts();
    assert_eq!(attempts.len(), 1);
    assert!(attempts[0].succeeded);
    assert_eq!(attempts[0].status, Some(200));
    assert_eq!(attempts[0].endpoint_id, endpoint_id);
    assert_eq!(attempts[0].attempt, 1);
    assert_eq!(hooks.queued(), 0);
    assert_eq!(hooks.deliver_pending().await, 0);
    assert_eq!(receiver.seen().len(), 1);
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_on_the_emulator_clock() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let receiver = Receiver::start(&[500, 500]).await;
    let (_, secret) = endpoint(&app, &key, &receiver.url, &["*"]).await;
    let hooks = Webhooks::new(app.state.clone(), fast());
    customer(&app, &key).await;
    let event_id = events(&app, &key, "").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pending = || async {
        app.call("GET", &format!("/v1/events/{event_id}"), Some(&key), "")
            .await
            .body["pending_webhooks"]
            .clone()
    };

    assert_eq!(hooks.deliver_pending().await, 1);
    assert_eq!(pending().await, 1);
    // Not due yet: the first retry waits one second of emulator time.
    assert_eq!(hooks.deliver_pending().await, 0);
    app.state.advance_clock(Duration::from_millis(1100));
    assert_eq!(hooks.deliver_pending().await, 1);
    // The second retry waits two seconds.
    app.state.advance_clock(Duration::from_millis(1100));
    assert_eq!(hooks.deliver_pending().await, 0);
    app.state.advance_clock(Duration::from_millis(1000));
    assert_eq!(hooks.deliver_pending().await, 1);

    let attempts = hooks.attempts();
    let statuses: Vec<Option<u16>> = attempts.iter().map(|attempt| attempt.status).collect();
    assert_eq!(statuses, [Some(500), Some(500), Some(200)]);
    let numbers: Vec<u32> = attempts.iter().map(|attempt| attempt.attempt).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert!(attempts[0].next_attempt_at.is_some());
    assert!(attempts[2].succeeded && attempts[2].next_attempt_at.is_none());
    assert_eq!(pending().await, 0);
    assert_eq!(hooks.queued(), 0);
    let seen = receiver.seen();
    assert_eq!(seen.len(), 3);
    let now = app.state.clock().now();
    for request in &seen {
        let signature = request.headers["stripe-signature"].to_str().unwrap();
        assert!(webhooks::verify(
            signature,
            &request.body,
            &secret,
            300,
            now
        ));
    }
}

#[tokio::test]
async fn unreachable_endpoints_are_given_up_after_the_last_attempt() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    // A port nobody listens on: bind one, then close it.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    endpoint(&app, &key, &format!("http://{closed}/hook"), &["*"]).await;
    let settings = WebhookSettings {
        max_attempts: 2,
        ..fast()
    };
    let hooks = Webhooks::new(app.state.clone(), settings);
    customer(&app, &key).await;
    assert_eq!(hooks.deliver_pending().await, 1);
    app.state.advance_clock(Duration::from_secs(2));
    assert_eq!(hooks.deliver_pending().await, 1);
    app.state.advance_clock(Duration::from_secs(60));
    assert_eq!(hooks.deliver_pending().await, 0);
    let attempts = hooks.attempts();
    assert_eq!(attempts.len(), 2);
    assert!(
        attempts.iter().all(|attempt| attempt.status.is_none()
            && attempt.error.is_some()
            && !attempt.succeeded)
    );
    assert!(attempts[1].next_attempt_at.is_none());
    assert_eq!(hooks.queued(), 0);
    assert_eq!(events(&app, &key, "").await[0]["pending_webhooks"], 0);
}

#[tokio::test]
async fn disabled_and_uninterested_endpoints_get_nothing() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let live = app.secret("Secret key (live)");
    let wanted = Receiver::start(&[]).await;
    let disabled = Receiver::start(&[]).await;
    let other_type = Receiver::start(&[]).await;
    let other_mode = Receiver::start(&[]).await;
    let deleted = Receiver::start(&[]).await;
    endpoint(&app, &key, &wanted.url, &["customer.created"]).await;
    let (disabled_id, _) = endpoint(&app, &key, &disabled.url, &["*"]).await;
    let answer = app
        .call(
            "POST",
            &format!("/v1/webhook_endpoints/{disabled_id}"),
            Some(&key),
            "disabled=true",
        )
        .await;
    assert_eq!(answer.body["status"], "disabled");
    endpoint(
        &app,
        &key,
        &other_type.url,
        &["invoice.paid", "customer.updated"],
    )
    .await;
    endpoint(&app, &live, &other_mode.url, &["*"]).await;
    let (deleted_id, _) = endpoint(&app, &key, &deleted.url, &["*"]).await;
    let hooks = Webhooks::new(app.state.clone(), fast());
    customer(&app, &key).await;
    // Deleted after the event was queued: the delivery is dropped.
    hooks.deliver_pending().await;
    let answer = app
        .call(
            "DELETE",
            &format!("/v1/webhook_endpoints/{deleted_id}"),
            Some(&key),
            "",
        )
        .await;
    assert_eq!(answer.status, 200);
    customer(&app, &key).await;
    hooks.deliver_pending().await;

    assert_eq!(wanted.seen().len(), 2);
    assert!(disabled.seen().is_empty());
    assert!(other_type.seen().is_empty());
    assert!(other_mode.seen().is_empty());
    assert_eq!(deleted.seen().len(), 1);
    let stored = events(&app, &key, "").await;
    assert!(stored.iter().all(|event| event["pending_webhooks"] == 0));
}

#[tokio::test]
async fn the_spawned_emulator_delivers_in_the_background() {
    let mut config = EmulatorConfig {
        seed: Some(11),
        ..EmulatorConfig::default()
    };
    config.webhooks.poll_interval = Duration::from_millis(10);
    let running = spawn(config).await.expect("spawn");
    let key = running
        .key(KeyKind::Secret, Mode::Test)
        .expect("key")
        .secret
        .clone();
    let app = App {
        router: rakguard_emulator::router(running.state.clone()),
        state: running.state.clone(),
    };
    let mut receiver = Receiver::start(&[]).await;
    let (_, secret) = endpoint(&app, &key, &receiver.url, &["customer.created"]).await;
    customer(&app, &key).await;
    tokio::time::timeout(Duration::from_secs(10), receiver.notified.recv())
        .await
        .expect("delivered in time")
        .expect("receiver alive");
    let seen = receiver.seen();
    assert_eq!(seen.len(), 1);
    let signature = seen[0].headers["stripe-signature"].to_str().unwrap();
    assert!(webhooks::verify(
        signature,
        &seen[0].body,
        &secret,
        300,
        running.state.clock().now()
    ));
    // Wait (bounded) for the attempt to be recorded.
    for _ in 0..200 {
        if !running.webhooks.attempts().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(running.webhooks.attempts().len(), 1);
    running.shutdown().await.expect("shutdown");
}
