use serde_json::json;

use crate::App;

#[tokio::test]
async fn keys_are_created_listed_masked_and_revoked() {
    let app = App::new(vec![]);
    let created = app
        .call_with("POST", "/_emulator/v1/keys", None, r#"{"name": "worker", "type": "restricted", "mode": "test", "permissions": ["customer_read"]}"#, &[])
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let secret = created.body["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("rk_test_") && secret.len() == 107);
    assert!(
        created.body["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("mk_"))
    );
    let listed = app
        .call_with("GET", "/_emulator/v1/keys", None, "", &[])
        .await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(5));
    assert!(!listed.body.to_string().contains(&secret));
    assert_eq!(
        app.call("GET", "/v1/customers", Some(&secret), "")
            .await
            .status,
        200
    );
    let id = created.body["id"].as_str().expect("id");
    let revoked = app
        .call_with("DELETE", &format!("/_emulator/v1/keys/{id}"), None, "", &[])
        .await;
    assert_eq!(revoked.body["status"], "revoked");
    let answer = app.call("GET", "/v1/customers", Some(&secret), "").await;
    assert_eq!(answer.status, 401);
    assert!(answer.message().starts_with("Invalid API Key provided"));
}

#[tokio::test]
async fn bad_admin_input_names_the_field() {
    let app = App::new(vec![]);
    let answer = app
        .call_with(
            "POST",
            "/_emulator/v1/keys",
            None,
            r#"{"type": "restricted", "permissions": ["customer_read", "nonsense_perm"]}"#,
            &[],
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"]["field"], "permissions[1]");
    let answer = app
        .call_with(
            "POST",
            "/_emulator/v1/faults",
            None,
            r#"{"error_rate": 2}"#,
            &[],
        )
        .await;
    assert_eq!(answer.body["error"]["field"], "error_rate");
    let answer = app
        .call_with("POST", "/_emulator/v1/keys/mk_nope/roll", None, "{}", &[])
        .await;
    assert_eq!(answer.status, 404);
}

#[tokio::test]
async fn rolled_key_keeps_working_until_its_grace_period_ends() {
    let app = App::new(vec![]);
    let key = app.key("Secret key (test)");
    let rolled = app
        .call_with(
            "POST",
            &format!("/_emulator/v1/keys/{}/roll", key.id),
            None,
            &json!({"expires_in_seconds": 60}).to_string(),
            &[],
        )
        .await;
    let new_secret = rolled.body["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new_secret, key.secret);
    assert_eq!(
        app.call("GET", "/v1/customers", Some(&key.secret), "")
            .await
            .status,
        200
    );
    app.state.advance_clock(std::time::Duration::from_secs(61));
    let answer = app
        .call("GET", "/v1/customers", Some(&key.secret), "")
        .await;
    assert_eq!(answer.code(), Some("api_key_expired"));
    assert_eq!(
        app.call("GET", "/v1/customers", Some(&new_secret), "")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn request_log_records_each_request_and_reset_keeps_keys() {
    let app = App::with_restricted(&[&["customer_read"]], rakguard_emulator::ErrorEra::Current);
    let key = app.key("r0");
    app.call("GET", "/v1/customers?limit=1", Some(&key.secret), "")
        .await;
    app.call("POST", "/v1/customers", Some(&key.secret), "")
        .await;
    let log = app
        .call_with(
            "GET",
            &format!("/_emulator/v1/requests?key={}", key.id),
            None,
            "",
            &[],
        )
        .await;
    let entries = log.body["data"].as_array().expect("entries");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["path"], "/v1/customers");
    assert_eq!(entries[0]["status"], 200);
    assert_eq!(entries[0]["permission"], "customer_read");
    assert_eq!(entries[1]["status"], 403);
    assert_eq!(entries[1]["permission"], "customer_write");
    assert!(
        entries[1]["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("req_"))
    );
    app.call_with("POST", "/_emulator/v1/reset", None, "", &[])
        .await;
    assert_eq!(
        app.call("GET", "/v1/customers", Some(&key.secret), "")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn error_rate_fault_answers_500_that_should_be_retried() {
    let app = App::new(vec![]);
    app.call_with(
        "POST",
        "/_emulator/v1/faults",
        None,
        r#"{"error_rate": 1.0}"#,
        &[],
    )
    .await;
    let answer = app
        .call(
            "GET",
            "/v1/customers",
            Some(&app.secret("Secret key (test)")),
            "",
        )
        .await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.body["error"]["type"], "api_error");
    assert_eq!(answer.header("stripe-should-retry"), Some("true"));
}
