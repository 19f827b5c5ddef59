//! `rakguard suggest`: least privilege from a request log; fully offline.

use crate::{rakguard, run_with_stdin, stderr, stdout, temp_dir};

const LINES: &str = "\
# requests the integration made
GET /v1/customers?limit=10
POST /v1/customers
GET https://api.stripe.com/v1/invoices/in_123?expand[]=customer
POST /v1/coupons

GET /v1/not_a_thing
";

#[test]
fn plain_lines_give_a_manifest_that_checks() {
    let dir = temp_dir("suggest");
    let log = dir.join("requests.txt");
    std::fs::write(&log, LINES).expect("write");
    let output = rakguard()
        .args(["suggest", "--log"])
        .arg(&log)
        .args(["--id", "acme", "--name", "Acme"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let toml = stdout(&output);
    assert!(toml.contains("id = \"acme\""), "{toml}");
    assert!(toml.contains("name = \"Customers: Write\""), "{toml}");
    assert!(
        !toml.contains("Customers: Read"),
        "Write covers Read: {toml}"
    );
    assert!(toml.contains("name = \"Invoices: Read\""), "{toml}");
    assert!(toml.contains("name = \"Coupons: Write\""), "{toml}");
    let errors = stderr(&output);
    assert!(errors.contains("line 7: GET /v1/not_a_thing"), "{errors}");

    // The manifest parses back.
    let manifest = dir.join("acme.toml");
    std::fs::write(&manifest, &output.stdout).expect("write");
    let check = rakguard()
        .args(["manifest", "check"])
        .arg(&manifest)
        .output()
        .expect("run");
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
}

#[test]
fn the_emulators_log_as_json() {
    let log = serde_json::json!({
        "object": "list",
        "data": [
            {"time": 1, "key_id": "mk_1", "method": "GET", "path": "/v1/charges", "status": 200, "permission": "charge_read", "request_id": "req_1"},
            {"time": 2, "key_id": "mk_1", "method": "POST", "path": "/v1/refunds", "status": 403, "permission": "refund_write", "request_id": "req_2"},
            {"time": 3, "key_id": "mk_2", "method": "GET", "path": "/v1/balance", "status": 200, "permission": "balance_read", "request_id": "req_3"}
        ]
    })
    .to_string();
    let mut command = rakguard();
    command.args(["suggest", "--log", "-", "--json", "--key-id", "mk_1"]);
    let output = run_with_stdin(command, &log);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["requests"], 2);
    let permissions: Vec<&str> = json["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .filter_map(|permission| permission["permission"].as_str())
        .collect();
    // Refunds ride on the Charges row: its Write covers the read of charges too.
    assert_eq!(permissions, ["charge_write"]);
    let requests = &json["permissions"][0]["requests"];
    assert_eq!(requests[0]["operation"], "GET /v1/charges");
    assert_eq!(requests[0]["needs"], "charge_read");
    assert_eq!(requests[1]["operation"], "POST /v1/refunds");
    assert!(
        json["manifest"]
            .as_str()
            .is_some_and(|toml| toml.contains("[[permission]]"))
    );
}

#[test]
fn nothing_to_suggest_exits_1() {
    let mut command = rakguard();
    command.args(["suggest", "--log", "-"]);
    let output = run_with_stdin(command, "# nothing\nGET /v1/nope\n");
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
    assert!(
        stderr(&output).contains("nothing to suggest"),
        "{}",
        stderr(&output)
    );
}
