use crate::App;

#[tokio::test]
async fn replays_the_first_response_and_refuses_other_parameters() {
    let app = App::new(vec![]);
    let auth = format!("Bearer {}", app.secret("Secret key (test)"));
    let headers = [("idempotency-key", "k-1")];
    let first = app
        .call_with("POST", "/v1/customers", Some(&auth), "name=A", &headers)
        .await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("idempotency-key"), Some("k-1"));
    let second = app
        .call_with("POST", "/v1/customers", Some(&auth), "name=A", &headers)
        .await;
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        second.header("original-request"),
        first.header("request-id")
    );
    assert_ne!(second.header("request-id"), first.header("request-id"));
    let other = app
        .call_with("POST", "/v1/customers", Some(&auth), "name=B", &headers)
        .await;
    assert_eq!(other.status, 400);
    assert_eq!(other.body["error"]["type"], "idempotency_error");
    let listed = app
        .call(
            "GET",
            "/v1/customers",
            Some(&app.secret("Secret key (test)")),
            "",
        )
        .await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn errors_before_execution_are_not_stored() {
    let app = App::with_restricted(&[&[]], rakguard_emulator::ErrorEra::Current);
    let headers = [("idempotency-key", "k-2")];
    let refused = app
        .call_with(
            "POST",
            "/v1/customers",
            Some(&format!("Bearer {}", app.secret("r0"))),
            "",
            &headers,
        )
        .await;
    assert_eq!(refused.status, 403);
    let auth = format!("Bearer {}", app.secret("Secret key (test)"));
    let bad = app
        .call_with("POST", "/v1/customers", Some(&auth), "colour=1", &headers)
        .await;
    assert_eq!(bad.status, 400);
    let ok = app
        .call_with("POST", "/v1/customers", Some(&auth), "name=x", &headers)
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
}

#[tokio::test]
async fn concurrent_same_key_is_in_use() {
    let app = App::new(vec![]);
    let auth = format!("Bearer {}", app.secret("Secret key (test)"));
    let faults = app
        .call_with(
            "POST",
            "/_emulator/v1/faults",
            None,
            r#"{"latency_ms": 50}"#,
            &[],
        )
        .await;
    assert_eq!(faults.status, 200);
    let headers = [("idempotency-key", "k-3")];
    let (first, second) = tokio::join!(
        app.call_with("POST", "/v1/customers", Some(&auth), "", &headers),
        app.call_with("POST", "/v1/customers", Some(&auth), "", &headers),
    );
    let mut statuses = [first.status, second.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
}
