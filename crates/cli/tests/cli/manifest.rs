//! `rakguard manifest` and `rakguard guide` over the example manifests.

use crate::{rakguard, stderr, stdout};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/manifests");

#[test]
fn the_examples_are_valid() {
    for name in ["frontegg", "contacts-inbox", "selgeo"] {
        let output = rakguard()
            .args(["manifest", "check", &format!("{EXAMPLES}/{name}.toml")])
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
        assert!(stdout(&output).contains("valid manifest"), "{name}");
    }
}

#[test]
fn check_json_summarises_tiers() {
    let output = rakguard()
        .args([
            "manifest",
            "check",
            &format!("{EXAMPLES}/contacts-inbox.toml"),
            "--json",
        ])
        .output()
        .expect("run");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["valid"], true);
    let tiers = json["summary"]["tiers"].as_array().expect("tiers");
    let premium = tiers
        .iter()
        .find(|tier| tier["tier"] == "premium")
        .expect("premium");
    assert_eq!(premium["permissions"].as_array().expect("list").len(), 6);
}

#[test]
fn an_invalid_manifest_lists_every_problem_and_exits_1() {
    let dir = std::env::temp_dir().join(format!("rakguard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "id = \"x\"\nname = \"X\"\ndescription = \"d\"\n[[permission]]\nname = \"checkout_sesion_read\"\npurpose = \"p\"\n[[permission]]\nname = \"Balance: Write\"\npurpose = \"q\"\n",
    )
    .expect("write");
    let output = rakguard()
        .args(["manifest", "check"])
        .arg(&file)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("bad.toml:5:8: permission[0].name"), "{text}");
    assert!(
        text.contains("did you mean checkout_session_read?"),
        "{text}"
    );
    assert!(text.contains("permission[1].name"), "{text}");
}

#[test]
fn a_missing_file_is_a_usage_error() {
    let output = rakguard()
        .args(["manifest", "check", "/nonexistent/m.toml"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot read /nonexistent/m.toml"));
}

#[test]
fn guide_writes_markdown_for_a_tier_and_html_for_live() {
    let output = rakguard()
        .args([
            "guide",
            &format!("{EXAMPLES}/contacts-inbox.toml"),
            "--tier",
            "premium",
        ])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("# "), "{text}");
    assert!(
        text.contains("https://dashboard.stripe.com/test/apikeys"),
        "{text}"
    );

    let output = rakguard()
        .args([
            "guide",
            &format!("{EXAMPLES}/selgeo.toml"),
            "--mode",
            "live",
            "--format",
            "html",
        ])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let html = stdout(&output);
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "{}",
        &html[..40.min(html.len())]
    );
    assert!(
        html.contains("https://dashboard.stripe.com/apikeys"),
        "live dashboard link"
    );
}

#[test]
fn guide_without_a_tier_for_a_tiered_manifest_says_which_tiers_exist() {
    let output = rakguard()
        .args(["guide", &format!("{EXAMPLES}/contacts-inbox.toml")])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("free") && text.contains("premium"), "{text}");
}

#[test]
fn export_prints_a_stripe_app_permissions_array() {
    let output = rakguard()
        .args([
            "manifest",
            "export",
            &format!("{EXAMPLES}/contacts-inbox.toml"),
            "--tier",
            "free",
        ])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let names: Vec<&str> = json["permissions"]
        .as_array()
        .expect("array")
        .iter()
        .map(|entry| entry["permission"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["customer_read", "connected_account_read"]);
}
