//! The official Stripe Python SDK against the emulator, unchanged but for the base URL: a
//! customer → product → price → subscription → invoice → refund flow with a restricted key, and
//! the SDK's own exception classes for a missing permission, a revoked key and a rate limit, and
//! its automatic retries (with idempotency keys) creating nothing twice (`tests/sdk/flow.py`).
//!
//! The interpreter comes from `RAKGUARD_TEST_PYTHON` (set by `.ci/run`, which installs
//! `stripe==16.1.0` in a venv). Without it the test makes that venv itself under `target/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use rakguard_catalog::Catalog;
use rakguard_catalog::key::{KeyKind, Mode};
use rakguard_emulator::{EmulatorConfig, KeySpec, RateLimits, spawn};

const SDK: &str = "stripe==16.1.0";

fn restricted(name: &str, permissions: &[&str]) -> KeySpec {
    let catalog = Catalog::embedded();
    let mut spec = KeySpec::new(name, KeyKind::Restricted, Mode::Test);
    spec.permissions = permissions
        .iter()
        .map(|name| catalog.resolve(name).expect("known permission"))
        .collect();
    spec
}

/// The Python interpreter with the official SDK installed.
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("RAKGUARD_TEST_PYTHON") {
        return PathBuf::from(python);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/sdk-venv");
    let python = venv.join("bin/python");
    let installed = Command::new(&python)
        .args(["-c", "import stripe; assert stripe.VERSION == '16.1.0'"])
        .status()
        .is_ok_and(|status| status.success());
    if !installed {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|status| status.success());
        assert!(
            made,
            "cannot create a venv with python3 (set RAKGUARD_TEST_PYTHON to an interpreter with {SDK})"
        );
        let pip = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", SDK])
            .status()
            .is_ok_and(|status| status.success());
        assert!(
            pip,
            "cannot install {SDK} (set RAKGUARD_TEST_PYTHON to an interpreter that has it)"
        );
    }
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_works_unchanged() {
    let everything = [
        "customer_write",
        "product_write",
        "plan_write",
        "subscription_write",
        "invoice_write",
        "charge_write",
        "payment_intent_write",
        "payment_method_write",
    ];
    let no_product_write: Vec<&str> = everything
        .iter()
        .copied()
        .filter(|name| *name != "product_write")
        .collect();
    let config = EmulatorConfig {
        keys: vec![
            restricted("full", &everything),
            restricted("no product write", &no_product_write),
            restricted("revoked", &everything),
        ],
        rate_limits: RateLimits {
            test: 1000,
            live: 1000,
        },
        seed: Some(42),
        ..EmulatorConfig::default()
    };
    let running = spawn(config).await.expect("spawn");
    let secret = |name: &str| {
        running
            .keys
            .iter()
            .find(|key| key.name == name)
            .expect("key")
            .secret
            .clone()
    };
    let revoked = running
        .keys
        .iter()
        .find(|key| key.name == "revoked")
        .expect("key")
        .id
        .clone();
    running
        .state
        .with_keys(false, |keys, _, _| keys.revoke(&revoked).cloned())
        .expect("revoke");

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/flow.py");
    let python = python();
    let (url, full, narrow, gone) = (
        running.base_url.clone(),
        secret("full"),
        secret("no product write"),
        secret("revoked"),
    );
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .env("EMULATOR_URL", url)
            .env("KEY_FULL", full)
            .env("KEY_NO_PRODUCT_WRITE", narrow)
            .env("KEY_REVOKED", gone)
            .output()
            .expect("run python")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the SDK flow failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
    println!("{stdout}");
    running.shutdown().await.expect("shutdown");
}
