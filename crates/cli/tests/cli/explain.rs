//! `rakguard explain`: Stripe error bodies in, the fix out; fully offline.

use rakguard_catalog::stripe_error::{self, PermissionErrorEra, PermissionName, PermissionRefusal};

use crate::{rakguard, run_with_stdin, stderr, stdout, temp_dir};

fn refusal(era: PermissionErrorEra) -> String {
    stripe_error::permission_error(
        era,
        &PermissionRefusal {
            masked_key: "rk_live_*************************************************Qz42",
            account_id: "acct_1CliTest",
            permissions: &[PermissionName::new("coupon_write", "Coupons Write")],
            key_object_id: "rk_1EditMe",
        },
    )
    .body_string()
}

#[test]
fn a_current_refusal_from_stdin_names_the_row_and_the_edit_page() {
    let mut command = rakguard();
    command.arg("explain");
    let output = run_with_stdin(command, &refusal(PermissionErrorEra::Current));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("STRIPE_PERMISSIONS_MISSING\n"), "{text}");
    assert!(
        text.contains("coupon_write  Billing → Coupons: Write"),
        "{text}"
    );
    assert!(text.contains("  1. "), "{text}");
    assert!(text.contains("set \"Coupons\" to Write"), "{text}");
    assert!(
        text.contains("Dashboard: https://dashboard.stripe.com/b/acct_1CliTest?destination=%2Fapikeys%2Frk_1EditMe%2Fedit"),
        "{text}"
    );
}

#[test]
fn a_legacy_refusal_from_a_file_as_json() {
    let dir = temp_dir("explain");
    let file = dir.join("error.json");
    std::fs::write(&file, refusal(PermissionErrorEra::Rak)).expect("write");
    let output = rakguard()
        .arg("explain")
        .arg(&file)
        .args(["--status", "403", "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["code"], "STRIPE_PERMISSIONS_MISSING");
    assert_eq!(json["status"], 403);
    assert_eq!(json["permissions"][0]["id"], "coupon_write");
    assert_eq!(json["permissions"][0]["label"], "Billing → Coupons: Write");
    assert_eq!(
        json["dashboard_url"],
        "https://dashboard.stripe.com/apikeys"
    );
    assert_eq!(json["stripe"]["type"], "invalid_request_error");
}

#[test]
fn key_errors_and_markdown() {
    let mut command = rakguard();
    command.args(["explain", "-", "--format", "md"]);
    let body =
        stripe_error::expired_api_key("rk_test_********************************Ab12").body_string();
    let output = run_with_stdin(command, &body);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let md = stdout(&output);
    assert!(md.starts_with("### `STRIPE_KEY_EXPIRED`"), "{md}");
    assert!(
        md.contains("<https://dashboard.stripe.com/test/apikeys>"),
        "{md}"
    );
    assert!(md.contains("1. "), "{md}");
}

#[test]
fn a_full_key_in_the_body_is_never_printed() {
    let key = concat!(
        "sk_",
        "live_",
        "51HqZ0aLkdIwHu7ixWBzZ6dnV1x4Zq9sXxGQ3b8kMZp2T7Rg"
    );
    let body = format!(
        r#"{{"error":{{"type":"invalid_request_error","message":"Invalid API Key provided: {key}"}}}}"#
    );
    for format in ["table", "md", "json"] {
        let mut command = rakguard();
        command.args(["explain", "--format", format]);
        let output = run_with_stdin(command, &body);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(
            stdout(&output).contains("STRIPE_KEY_INVALID"),
            "{}",
            stdout(&output)
        );
        assert!(
            !stdout(&output).contains(key),
            "{format}: {}",
            stdout(&output)
        );
        assert!(!stderr(&output).contains(key), "{format}");
    }
}

#[test]
fn input_that_is_not_a_stripe_error_exits_2() {
    for input in ["", "Permission denied.", "[1, 2, 3]", "{\"id\": \"cus_1\"}"] {
        let mut command = rakguard();
        command.arg("explain");
        let output = run_with_stdin(command, input);
        assert_eq!(output.status.code(), Some(2), "{input:?}");
        assert!(
            stderr(&output).starts_with("error: <stdin>: "),
            "{}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty());
    }
    let output = rakguard()
        .args(["explain", "/nonexistent/error.json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
}
