//! `rakguard key inspect`: the key comes from the environment or stdin and is never echoed.

use crate::{rakguard, run_with_stdin, stderr, stdout};

// Split so that secret scanners do not mistake this made-up fixture for a real live key.
const RESTRICTED: &str = concat!(
    "rk_",
    "live_",
    "51HqZ0aLkdIwHu7ixWBzZ6dnV1x4Zq9sXxGQ3b8kMZp2T7RgqYcV0mJ5nW8aH2tL4uY6iE9oP1sD3fG5hJ7kL9zXc00aB12cD"
);

#[test]
fn a_key_from_the_environment_is_classified_and_masked() {
    let output = rakguard()
        .args(["key", "inspect", "--json"])
        .env("STRIPE_API_KEY", RESTRICTED)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["kind"], "restricted");
    assert_eq!(json["mode"], "live");
    assert_eq!(json["usable_as_restricted_key"], true);
    let masked = json["masked"].as_str().expect("masked");
    assert_eq!(masked.len(), RESTRICTED.len());
    assert!(masked.starts_with("rk_live_") && masked.ends_with("B12cD".get(1..).expect("tail")));
    assert_secret_absent(&output);
}

#[test]
fn a_key_from_stdin_is_cleaned_and_the_cleaning_reported() {
    let mut command = rakguard();
    command.args(["key", "inspect", "--key-stdin"]);
    let output = run_with_stdin(command, &format!("  \"{RESTRICTED}\"\n"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("restricted key, live mode"), "{text}");
    assert!(text.contains("cleaned:"), "{text}");
    assert_secret_absent(&output);
}

#[test]
fn a_publishable_key_is_inspected_with_advice() {
    let output = rakguard()
        .args(["key", "inspect"])
        .env("STRIPE_API_KEY", "pk_test_TYooMQauvdEDq54NiTphI7jx")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stdout(&output).contains("create a restricted key"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_webhook_secret_is_refused_with_exit_3() {
    let mut command = rakguard();
    command.args(["key", "inspect", "--key-stdin"]);
    let output = run_with_stdin(command, "whsec_0123456789abcdefghijklmnopqrstuv\n");
    assert_eq!(output.status.code(), Some(3));
    let text = stderr(&output);
    assert!(text.contains("key_is_webhook_secret"), "{text}");
    assert!(!text.contains("0123456789abcdefghijklmnopqrst"), "{text}");
}

#[test]
fn no_key_at_all_explains_where_keys_come_from() {
    let output = rakguard().args(["key", "inspect"]).output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("STRIPE_API_KEY"),
        "{}",
        stderr(&output)
    );
}

fn assert_secret_absent(output: &std::process::Output) {
    let middle = &RESTRICTED[12..RESTRICTED.len() - 6];
    assert!(!stdout(output).contains(middle), "stdout leaks the key");
    assert!(!stderr(output).contains(middle), "stderr leaks the key");
}
