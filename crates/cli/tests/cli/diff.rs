//! `rakguard diff`: verdicts compared with each other or with a manifest; fully offline.

use serde_json::{Value, json};

use crate::{rakguard, stderr, stdout, temp_dir};

const SELGEO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/manifests/selgeo.toml"
);

fn result(permission: &str, row: &str, level: &str, label: &str, outcome: &str) -> Value {
    json!({
        "permission": permission, "row": row, "level": level, "label": label,
        "required": true, "outcome": outcome, "evidence": []
    })
}

fn verdict(code: &str, permissions: Vec<Value>) -> Value {
    json!({
        "schema": 1,
        "code": code,
        "message": "",
        "key": {"kind": "restricted", "mode": "test", "masked": "rk_test_****************wxyz"},
        "subject": {"command": "verify", "manifest": "selgeo", "api_base": "http://127.0.0.1:1", "excess_checked": false},
        "permissions": permissions,
        "missing": [], "unknown": [], "excess": [], "orphans": [],
        "requests": 8, "elapsed_ms": 10
    })
}

fn write(name: &str, value: &Value) -> std::path::PathBuf {
    let path = temp_dir("diff").join(name);
    std::fs::write(&path, value.to_string()).expect("write");
    path
}

#[test]
fn a_lost_permission_is_a_regression() {
    let coupon = |outcome| {
        result(
            "coupon_write",
            "coupon",
            "write",
            "Billing → Coupons: Write",
            outcome,
        )
    };
    let invoice = |outcome| {
        result(
            "invoice_read",
            "invoice",
            "read",
            "Billing → Invoices: Read",
            outcome,
        )
    };
    let before = write(
        "before.json",
        &verdict("ok", vec![coupon("granted"), invoice("missing")]),
    );
    let after = write(
        "after.json",
        &verdict(
            "STRIPE_PERMISSIONS_MISSING",
            vec![coupon("missing"), invoice("granted")],
        ),
    );
    let output = rakguard()
        .arg("diff")
        .arg(&before)
        .arg(&after)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("REGRESSED"), "{text}");
    assert!(
        text.contains("Lost (1):\n  - Billing → Coupons: Write: granted → missing"),
        "{text}"
    );
    assert!(
        text.contains("Gained (1):\n  - Billing → Invoices: Read: missing → granted"),
        "{text}"
    );

    // Only gains: an improvement, exit 0.
    let fixed = write(
        "fixed.json",
        &verdict("ok", vec![coupon("granted"), invoice("granted")]),
    );
    let output = rakguard()
        .arg("diff")
        .arg(&after)
        .arg(&fixed)
        .args(["--format", "json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["gained"][0]["permission"], "coupon_write");
    assert_eq!(json["lost"], json!([]));
    assert_eq!(json["code_regressed"], false);
}

#[test]
fn a_verdict_against_the_manifest() {
    let file = write(
        "scan.json",
        &verdict(
            "ok",
            vec![
                result(
                    "coupon_write",
                    "coupon",
                    "write",
                    "Billing → Coupons: Write",
                    "granted",
                ),
                result(
                    "invoice_read",
                    "invoice",
                    "read",
                    "Billing → Invoices: Read",
                    "missing",
                ),
                result(
                    "product_write",
                    "product",
                    "write",
                    "Core → Products: Write",
                    "granted",
                ),
            ],
        ),
    );
    let output = rakguard()
        .arg("diff")
        .arg(&file)
        .args(["--manifest", SELGEO, "--format", "md"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let md = stdout(&output);
    assert!(md.starts_with("### selgeo: MISSING PERMISSIONS"), "{md}");
    assert!(
        md.contains("**Missing (1):**\n\n- Billing → Invoices: Read"),
        "{md}"
    );
    assert!(md.contains("- Core → Products: Write"), "excess: {md}");
    assert!(
        md.contains("incomplete"),
        "a verify without the excess check: {md}"
    );
}

#[test]
fn bad_input_exits_2() {
    let not_a_verdict = write("nope.json", &json!({"hello": "world"}));
    let output = rakguard()
        .arg("diff")
        .arg(&not_a_verdict)
        .arg(&not_a_verdict)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is not a rakguard verdict"),
        "{}",
        stderr(&output)
    );

    let valid = write("valid.json", &verdict("ok", Vec::new()));
    let output = rakguard()
        .arg("diff")
        .arg(&valid)
        .args(["--manifest", SELGEO, "--tier", "gold"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("gold"), "{}", stderr(&output));

    let output = rakguard().arg("diff").arg(&valid).output().expect("run");
    assert_eq!(output.status.code(), Some(2));
}
