//! `rakguard catalog`.

use crate::{rakguard, stderr, stdout};

#[test]
fn lookup_prints_the_permission_and_its_evidence() {
    let output = rakguard()
        .args(["catalog", "lookup", "GET", "/v1/customers/cus_123"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.contains("GET /v1/customers/{customer}"), "{text}");
    assert!(text.contains("customer_read"), "{text}");
    assert!(text.contains("Core → Customers: Read"), "{text}");
}

#[test]
fn lookup_json_is_stable_and_complete() {
    let output = rakguard()
        .args([
            "catalog",
            "lookup",
            "post",
            "/v1/coupons/SUMMER?x=1",
            "--json",
        ])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["operation"], "POST /v1/coupons/{coupon}");
    assert_eq!(json["status"], "mapped");
    assert_eq!(json["permission_id"], "coupon_write");
    assert_eq!(json["permission"]["row"], "coupon");
    assert_eq!(json["permission"]["level"], "write");
    assert_eq!(json["form_label"], "Billing → Coupons: Write");
    assert_eq!(json["params"][0][1], "SUMMER");
}

#[test]
fn lookup_of_an_unknown_path_exits_1() {
    let output = rakguard()
        .args(["catalog", "lookup", "GET", "/v1/nope"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("no Stripe API operation matches"));
}

#[test]
fn lookup_of_a_bad_method_is_a_usage_error() {
    let output = rakguard()
        .args(["catalog", "lookup", "PATCH", "/v1/customers"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("METHOD: unknown HTTP method"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn listing_a_group_shows_its_rows_in_form_order() {
    let output = rakguard()
        .args(["catalog", "--group", "webhook"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.starts_with("Webhook\n"), "{text}");
    assert!(text.contains("webhook_read, webhook_write"), "{text}");
}

#[test]
fn an_unknown_group_names_the_real_ones() {
    let output = rakguard()
        .args(["catalog", "--group", "Bills"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("Core, Checkout, Billing"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_json_listing_covers_every_row() {
    let output = rakguard()
        .args(["catalog", "--json"])
        .output()
        .expect("run");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let rows: usize = json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|group| group["rows"].as_array().expect("rows").len())
        .sum();
    assert_eq!(rows, rakguard_rows());
}

fn rakguard_rows() -> usize {
    include_str!("../../../catalog/data/permissions.csv")
        .lines()
        .count()
        - 1
}
