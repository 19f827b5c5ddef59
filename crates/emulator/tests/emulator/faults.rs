//! Fault injection set through `POST /_emulator/v1/faults`: throttling and the fault scope.

use std::time::{Duration, Instant};

use rakguard_catalog::stripe_error;
use serde_json::{Value, json};

use crate::{Answer, App, spec};

async fn set_faults(app: &App, body: Value) -> Answer {
    app.call_with("POST", "/_emulator/v1/faults", None, &body.to_string(), &[])
        .await
}

async fn stats(app: &App) -> Value {
    app.call_with("GET", "/_emulator/v1/stats", None, "", &[])
        .await
        .body
}

#[tokio::test]
async fn faults_answer_echoes_every_setting() {
    let app = App::new(vec![]);
    let quiet = set_faults(&app, json!({})).await;
    assert_eq!(
        quiet.body,
        json!({
            "latency_ms": 0, "jitter_ms": 0, "error_rate": 0.0, "reset_rate": 0.0,
            "throttle_rate": 0.0, "rate_limit_per_second": null, "scope": null,
        })
    );
    let set = set_faults(
        &app,
        json!({"throttle_rate": 0.25, "scope": {"method": "delete", "path_prefix": "/v1/coupons/"}}),
    )
    .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    assert_eq!(set.body["throttle_rate"], 0.25);
    assert_eq!(
        set.body["scope"],
        json!({"method": "DELETE", "path_prefix": "/v1/coupons/"})
    );
    // Only the fields sent change; `scope` is replaced as a whole.
    let partial = set_faults(&app, json!({"scope": {"path_prefix": "/v1/"}})).await;
    assert_eq!(partial.body["throttle_rate"], 0.25);
    assert_eq!(
        partial.body["scope"],
        json!({"method": null, "path_prefix": "/v1/"})
    );
    let cleared = set_faults(&app, json!({"scope": null, "throttle_rate": 0})).await;
    assert_eq!(cleared.body, quiet.body);
}

#[tokio::test]
async fn throttle_answers_stripes_429_and_executes_nothing() {
    let app = App::new(vec![]);
    let auth = format!("Bearer {}", app.secret("Secret key (test)"));
    let set = set_faults(&app, json!({"throttle_rate": 1.0})).await;
    assert_eq!(set.status, 200, "{:?}", set.body);

    let headers = [("idempotency-key", "throttled-1")];
    let answer = app
        .call_with("POST", "/v1/customers", Some(&auth), "name=x", &headers)
        .await;
    assert_eq!(answer.status, 429);
    assert_eq!(
        answer.header("stripe-rate-limited-reason"),
        Some("global-rate")
    );
    assert_eq!(answer.body, stripe_error::rate_limited().body);
    assert_eq!(answer.code(), Some("rate_limit"));
    let list = app
        .call_with("GET", "/v1/customers", Some(&auth), "", &[])
        .await;
    assert_eq!(list.status, 429);
    assert_eq!(stats(&app).await["objects"], json!({}));

    // The same 429 as the token bucket's.
    let bucket = App::new(vec![]);
    set_faults(&bucket, json!({"rate_limit_per_second": 1})).await;
    let key = bucket.secret("Secret key (test)");
    bucket.call("GET", "/v1/customers", Some(&key), "").await;
    let limited = bucket.call("GET", "/v1/customers", Some(&key), "").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body, answer.body);
    assert_eq!(
        limited.header("stripe-rate-limited-reason"),
        answer.header("stripe-rate-limited-reason")
    );

    // Nothing was stored under the idempotency key: the retry runs.
    set_faults(&app, json!({"throttle_rate": 0})).await;
    let retried = app
        .call_with("POST", "/v1/customers", Some(&auth), "name=x", &headers)
        .await;
    assert_eq!(retried.status, 200, "{:?}", retried.body);
    assert_eq!(retried.header("idempotent-replayed"), None);
    let list = app
        .call_with("GET", "/v1/customers", Some(&auth), "", &[])
        .await;
    assert_eq!(list.body["data"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn throttled_requests_still_wait_for_the_latency() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    set_faults(&app, json!({"throttle_rate": 1.0, "latency_ms": 60})).await;
    let started = Instant::now();
    let answer = app.call("GET", "/v1/customers", Some(&key), "").await;
    assert_eq!(answer.status, 429);
    assert!(started.elapsed() >= Duration::from_millis(60));
}

#[tokio::test]
async fn refusals_and_unknown_keys_wait_for_the_latency_too() {
    let app = App::new(vec![spec(json!({
        "name": "nothing", "type": "restricted", "mode": "test",
        "secret": "rk_test_latencylatencylatencylatency", "permissions": ["customer_read"]
    }))]);
    set_faults(&app, json!({"latency_ms": 60})).await;
    for (key, expected) in [
        ("rk_test_latencylatencylatencylatency", 403),
        ("rk_test_unknownunknownunknownunknown", 401),
    ] {
        let started = Instant::now();
        let answer = app.call("POST", "/v1/customers", Some(key), "").await;
        assert_eq!(answer.status, expected, "{:?}", answer.body);
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(60),
            "{expected}: {elapsed:?}"
        );
        assert!(
            elapsed < Duration::from_millis(115),
            "delayed once, not twice: {elapsed:?}"
        );
    }
    // A request that reaches the handler is delayed once as well.
    let started = Instant::now();
    let answer = app
        .call(
            "GET",
            "/v1/customers",
            Some("rk_test_latencylatencylatencylatency"),
            "",
        )
        .await;
    assert_eq!(answer.status, 200);
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(60) && elapsed < Duration::from_millis(115));
}

#[tokio::test]
async fn scope_limits_errors_to_matching_requests() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let created = app
        .call(
            "POST",
            "/v1/coupons",
            Some(&key),
            "id=TENOFF&percent_off=10",
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let set = set_faults(
        &app,
        json!({"error_rate": 1.0, "scope": {"method": "DELETE", "path_prefix": "/v1/coupons/"}}),
    )
    .await;
    assert_eq!(set.status, 200, "{:?}", set.body);

    let other = app
        .call("POST", "/v1/coupons", Some(&key), "percent_off=5")
        .await;
    assert_eq!(other.status, 200, "{:?}", other.body);
    let deleted = app
        .call("DELETE", "/v1/coupons/TENOFF", Some(&key), "")
        .await;
    assert_eq!(deleted.status, 500);
    assert_eq!(deleted.body["error"]["type"], "api_error");
    assert_eq!(deleted.header("stripe-should-retry"), Some("true"));
    let still = app.call("GET", "/v1/coupons/TENOFF", Some(&key), "").await;
    assert_eq!(still.status, 200, "{:?}", still.body);
    assert_eq!(still.body["id"], "TENOFF");
    assert_eq!(
        app.call("DELETE", "/v1/customers/cus_missing", Some(&key), "")
            .await
            .status,
        404
    );

    // Without a scope, every request fails.
    let cleared = set_faults(&app, json!({"scope": null})).await;
    assert_eq!(cleared.body["scope"], Value::Null);
    let answer = app.call("GET", "/v1/coupons/TENOFF", Some(&key), "").await;
    assert_eq!(answer.status, 500);
}

#[tokio::test]
async fn scope_path_prefix_ignores_the_query_string() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    set_faults(
        &app,
        json!({"throttle_rate": 1.0, "scope": {"method": "get", "path_prefix": "/v1/customers"}}),
    )
    .await;
    let throttled = app
        .call("GET", "/v1/customers?limit=1", Some(&key), "")
        .await;
    assert_eq!(throttled.status, 429);
    assert_eq!(
        app.call("POST", "/v1/customers", Some(&key), "")
            .await
            .status,
        200
    );
    assert_eq!(
        app.call("GET", "/v1/coupons?limit=1", Some(&key), "")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn bad_fault_input_names_the_field_and_changes_nothing() {
    let app = App::new(vec![]);
    let cases = [
        (json!({"throttle_rate": 2}), "throttle_rate"),
        (json!({"throttle_rate": "half"}), "throttle_rate"),
        (json!({"scope": "coupons"}), "scope"),
        (json!({"scope": {"method": "PATCH"}}), "scope.method"),
        (json!({"scope": {"method": 1}}), "scope.method"),
        (
            json!({"scope": {"path_prefix": "v1/coupons"}}),
            "scope.path_prefix",
        ),
        (json!({"scope": {"path_prefix": 7}}), "scope.path_prefix"),
        (json!({"scope": {"colour": "red"}}), "scope.colour"),
        (
            json!({"error_rate": 1.0, "seed": 3, "scope": {"method": "PUT"}}),
            "scope.method",
        ),
    ];
    for (body, field) in cases {
        let answer = set_faults(&app, body.clone()).await;
        assert_eq!(answer.status, 400, "{body}");
        assert_eq!(answer.body["error"]["field"], field, "{body}");
    }
    let now = set_faults(&app, json!({})).await;
    assert_eq!(now.body["error_rate"], 0.0);
    assert_eq!(now.body["scope"], Value::Null);
}
