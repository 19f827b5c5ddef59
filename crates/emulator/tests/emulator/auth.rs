use rakguard_catalog::key::{MaskStyle, mask};
use rakguard_catalog::stripe_error;
use serde_json::json;

use crate::{App, spec};

#[tokio::test]
async fn missing_header_is_no_api_key() {
    let app = App::new(vec![]);
    let answer = app.call("GET", "/v1/customers", None, "").await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body, stripe_error::no_api_key().body);
    assert!(
        answer
            .header("request-id")
            .is_some_and(|id| id.starts_with("req_") && id.len() == 18)
    );
}

#[tokio::test]
async fn empty_headers_are_empty_api_key() {
    let app = App::new(vec![]);
    for (header, shown) in [("Bearer", "Bearer"), ("Bearer null", "null"), ("", "")] {
        let answer = app
            .call_with("GET", "/v1/customers", Some(header), "", &[])
            .await;
        assert_eq!(answer.status, 401, "{header}");
        assert_eq!(
            answer.body,
            stripe_error::empty_api_key(shown).body,
            "{header}"
        );
    }
}

#[tokio::test]
async fn unknown_key_is_invalid_with_the_masked_key() {
    let app = App::new(vec![]);
    let fake = format!("sk_test_{}", "a".repeat(99));
    let answer = app.call("GET", "/v1/customers", Some(&fake), "").await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.body,
        stripe_error::invalid_api_key(&mask(&fake, MaskStyle::InvalidKey)).body
    );
    assert!(!answer.message().contains(&fake));
}

#[tokio::test]
async fn basic_auth_with_the_key_as_user_works() {
    let app = App::new(vec![spec(
        json!({"name": "s", "type": "secret", "secret": "sk_test_4eC39HqLyjWDarjtT1zdp7dc"}),
    )]);
    // base64("sk_test_4eC39HqLyjWDarjtT1zdp7dc:")
    let answer = app
        .call_with(
            "GET",
            "/v1/customers",
            Some("Basic c2tfdGVzdF80ZUMzOUhxTHlqV0Rhcmp0VDF6ZHA3ZGM6"),
            "",
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

#[tokio::test]
async fn expired_key_is_api_key_expired() {
    let app = App::new(vec![spec(
        json!({"name": "old", "type": "secret", "expires_at": "2020-01-01T00:00:00Z"}),
    )]);
    let secret = app.secret("old");
    let answer = app.call("GET", "/v1/customers", Some(&secret), "").await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.code(), Some("api_key_expired"));
    assert_eq!(
        answer.body,
        stripe_error::expired_api_key(&mask(&secret, MaskStyle::Long)).body
    );
}

#[tokio::test]
async fn ip_outside_the_allowlist_is_refused() {
    let app = App::new(vec![
        spec(json!({"name": "office", "type": "secret", "allowed_ips": ["10.0.0.0/8"]})),
        spec(json!({"name": "local", "type": "secret", "allowed_ips": ["127.0.0.1"]})),
    ]);
    let answer = app
        .call("GET", "/v1/customers", Some(&app.secret("office")), "")
        .await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.body,
        stripe_error::ip_not_allowed(Some("127.0.0.1")).body
    );
    let answer = app
        .call("GET", "/v1/customers", Some(&app.secret("local")), "")
        .await;
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn publishable_key_is_refused_on_secret_endpoints_only() {
    let app = App::new(vec![]);
    let publishable = app.secret("Publishable key (test)");
    let answer = app
        .call("GET", "/v1/customers", Some(&publishable), "")
        .await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body, stripe_error::secret_key_required().body);
    let answer = app.call("POST", "/v1/tokens", Some(&publishable), "").await;
    assert_eq!(answer.status, 400, "{:?}", answer.body);
    let answer = app
        .call("GET", "/v1/payment_intents/pi_x", Some(&publishable), "")
        .await;
    assert_eq!(answer.status, 401);
    let answer = app
        .call(
            "GET",
            "/v1/payment_intents/pi_x?client_secret=pi_x_secret_y",
            Some(&publishable),
            "",
        )
        .await;
    assert_eq!(answer.status, 404);
}

#[tokio::test]
async fn rate_limit_answers_429_after_the_budget_and_refills() {
    let mut config = rakguard_emulator::EmulatorConfig {
        seed: Some(1),
        ..Default::default()
    };
    config.rate_limits.test = 2;
    let app = App::with_config(config);
    let secret = app.secret("Secret key (test)");
    for _ in 0..2 {
        assert_eq!(
            app.call("GET", "/v1/customers", Some(&secret), "")
                .await
                .status,
            200
        );
    }
    let answer = app.call("GET", "/v1/customers", Some(&secret), "").await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.body, stripe_error::rate_limited().body);
    assert_eq!(
        answer.header("stripe-rate-limited-reason"),
        Some("global-rate")
    );
    // The live bucket is separate.
    let live = app.secret("Secret key (live)");
    assert_eq!(
        app.call("GET", "/v1/customers", Some(&live), "")
            .await
            .status,
        200
    );
    app.state
        .advance_clock(std::time::Duration::from_millis(600));
    assert_eq!(
        app.call("GET", "/v1/customers", Some(&secret), "")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn responses_carry_stripe_headers() {
    let app = App::new(vec![]);
    let secret = app.secret("Secret key (test)");
    let answer = app
        .call_with(
            "GET",
            "/v1/customers",
            Some(&format!("Bearer {secret}")),
            "",
            &[("stripe-version", "2020-08-27")],
        )
        .await;
    assert_eq!(answer.header("stripe-version"), Some("2020-08-27"));
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let answer = app.call("GET", "/v1/customers", Some(&secret), "").await;
    assert_eq!(
        answer.header("stripe-version"),
        Some(rakguard_emulator::config::DEFAULT_STRIPE_VERSION)
    );
}

#[tokio::test]
async fn unknown_route_is_unrecognized_url() {
    let app = App::new(vec![]);
    let secret = app.secret("Secret key (test)");
    let answer = app.call("GET", "/v1/nothing_here", Some(&secret), "").await;
    assert_eq!(answer.status, 404);
    assert_eq!(
        answer.body,
        stripe_error::unrecognized_url("GET", "/v1/nothing_here").body
    );
}
