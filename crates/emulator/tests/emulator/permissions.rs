use rakguard_catalog::stripe_error::{StripeErrorKind, classify};
use rakguard_emulator::ErrorEra;

use crate::App;

#[tokio::test]
async fn current_era_names_label_id_and_edit_link() {
    let app = App::with_restricted(&[&["invoice_read"]], ErrorEra::Current);
    let key = app.key("r0");
    let answer = app
        .call("GET", "/v1/customers", Some(&key.secret), "")
        .await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.code(), Some("more_permissions_required"));
    let message = answer.message();
    assert!(
        message.contains("\"Customers Read\" ('customer_read')"),
        "{message}"
    );
    assert!(
        message.contains(&format!("%2Fapikeys%2F{}%2Fedit", key.id)),
        "{message}"
    );
    assert!(message.contains(app.state.account_id()), "{message}");
    assert!(!message.contains(&key.secret));
    let StripeErrorKind::MissingPermission(parsed) = classify(403, &answer.body.to_string()).kind
    else {
        panic!("not a permission error: {message}");
    };
    assert_eq!(
        parsed.permission_ids().collect::<Vec<_>>(),
        ["customer_read"]
    );
}

#[tokio::test]
async fn legacy_era_names_rak_permission_with_long_mask() {
    let app = App::with_restricted(&[&[]], ErrorEra::Legacy);
    let key = app.key("r0");
    let answer = app
        .call("POST", "/v1/customers", Some(&key.secret), "")
        .await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.code(), None);
    let masked = rakguard_catalog::key::mask(&key.secret, rakguard_catalog::key::MaskStyle::Long);
    assert!(
        answer.message().contains(&format!("'{masked}'")),
        "{}",
        answer.message()
    );
    assert!(
        answer.message().contains("'rak_customer_write' permission"),
        "{}",
        answer.message()
    );
}

#[tokio::test]
async fn permission_is_checked_before_validation_and_lookup() {
    let app = App::with_restricted(
        &[&["customer_read"], &["customer_write"]],
        ErrorEra::Current,
    );
    let garbage = "a=1&a[b]=2&%zz";
    let reader = app
        .call(
            "POST",
            "/v1/customers/cus_x",
            Some(&app.secret("r0")),
            garbage,
        )
        .await;
    assert_eq!(reader.status, 403);
    let writer = app
        .call(
            "POST",
            "/v1/customers/cus_x",
            Some(&app.secret("r1")),
            "name=x",
        )
        .await;
    assert_eq!(writer.status, 404);
    assert_eq!(writer.code(), Some("resource_missing"));
    let writer = app
        .call(
            "POST",
            "/v1/customers/cus_x",
            Some(&app.secret("r1")),
            garbage,
        )
        .await;
    assert_eq!(writer.status, 400);
}

#[tokio::test]
async fn write_implies_read_and_secret_keys_pass() {
    let app = App::with_restricted(&[&["customer_write"]], ErrorEra::Current);
    assert_eq!(
        app.call("GET", "/v1/customers", Some(&app.secret("r0")), "")
            .await
            .status,
        200
    );
    assert_eq!(
        app.call("GET", "/v1/charges", Some(&app.secret("r0")), "")
            .await
            .status,
        403
    );
    let secret = app.secret("Secret key (test)");
    assert_eq!(
        app.call("GET", "/v1/charges", Some(&secret), "")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn unknown_operations_are_refused_to_restricted_keys_only() {
    let app = App::with_restricted(&[&["customer_write"]], ErrorEra::Current);
    let answer = app
        .call("GET", "/v1/country_specs", Some(&app.secret("r0")), "")
        .await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        classify(403, &answer.body.to_string()).kind,
        StripeErrorKind::RestrictedUnavailable
    );
    let secret = app.secret("Secret key (test)");
    assert_eq!(
        app.call("GET", "/v1/country_specs", Some(&secret), "")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn stripe_account_needs_connect_permissions_and_a_reachable_account() {
    let app = App::with_restricted(&[&["customer_write"]], ErrorEra::Current);
    let answer = app
        .call_with(
            "GET",
            "/v1/customers",
            Some(&format!("Bearer {}", app.secret("r0"))),
            "",
            &[("stripe-account", "acct_other")],
        )
        .await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        classify(403, &answer.body.to_string()).kind,
        StripeErrorKind::NoConnectPermissions
    );
    let secret = app.secret("Secret key (test)");
    let answer = app
        .call_with(
            "GET",
            "/v1/customers",
            Some(&format!("Bearer {secret}")),
            "",
            &[("stripe-account", "acct_other")],
        )
        .await;
    assert_eq!(answer.code(), Some("account_invalid"));
}

#[tokio::test]
async fn changed_permissions_apply_to_the_next_request() {
    let app = App::with_restricted(&[&[]], ErrorEra::Current);
    let key = app.key("r0");
    assert_eq!(
        app.call("GET", "/v1/customers", Some(&key.secret), "")
            .await
            .status,
        403
    );
    let path = format!("/_emulator/v1/keys/{}/permissions", key.id);
    let answer = app
        .call_with(
            "POST",
            &path,
            None,
            r#"{"permissions": ["customer_read"]}"#,
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(
        app.call("GET", "/v1/customers", Some(&key.secret), "")
            .await
            .status,
        200
    );
}
