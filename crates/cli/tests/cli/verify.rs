//! `rakguard verify` and `rakguard scan` against a real emulator: exit codes 0, 1, 3 and 4, the
//! verdict's content in every format, and the key never printed.

use std::process::Output;

use rakguard_catalog::Catalog;
use rakguard_emulator::{EmulatorConfig, KeySpec, RateLimits, Running};
use serde_json::{Value, json};

use crate::{rakguard, run_with_stdin, stderr, stdout};

const SELGEO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/manifests/selgeo.toml"
);

/// What Selgeo's manifest needs, as scope ids.
const SELGEO_PERMISSIONS: [&str; 8] = [
    "checkout_session_read",
    "charge_read",
    "balance_transaction_source_read",
    "customer_read",
    "invoice_read",
    "promotion_code_write",
    "coupon_write",
    "webhook_write",
];

/// An emulator on a free port, served by its own runtime until dropped.
struct Emulator {
    runtime: tokio::runtime::Runtime,
    running: Option<Running>,
}

impl Emulator {
    /// Starts an emulator with a secret key ("secret"), a restricted key with everything Selgeo
    /// needs ("full"), one without Coupons: Write ("no-coupon"), and one with nothing ("none").
    fn start() -> Emulator {
        let spec =
            |value: Value| KeySpec::from_json(Catalog::embedded(), &value).expect("valid key spec");
        let without_coupon: Vec<&str> = SELGEO_PERMISSIONS
            .iter()
            .copied()
            .filter(|id| *id != "coupon_write")
            .collect();
        let keys = vec![
            spec(json!({"name": "secret", "type": "secret", "mode": "test"})),
            spec(
                json!({"name": "full", "type": "restricted", "mode": "test", "permissions": SELGEO_PERMISSIONS}),
            ),
            spec(
                json!({"name": "no-coupon", "type": "restricted", "mode": "test", "permissions": without_coupon}),
            ),
            spec(json!({"name": "none", "type": "restricted", "mode": "test"})),
        ];
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let running = runtime
            .block_on(rakguard_emulator::spawn(EmulatorConfig {
                port: 0,
                keys,
                seed: Some(7),
                // Fast runs: the CLI is told to send up to 500 requests per second.
                rate_limits: RateLimits {
                    test: 1000,
                    live: 1000,
                },
                ..EmulatorConfig::default()
            }))
            .expect("emulator");
        Emulator {
            runtime,
            running: Some(running),
        }
    }

    fn running(&self) -> &Running {
        self.running.as_ref().expect("running")
    }

    fn base_url(&self) -> String {
        self.running().base_url.clone()
    }

    fn secret(&self, name: &str) -> String {
        self.running()
            .keys
            .iter()
            .find(|key| key.name == name)
            .map(|key| key.secret.clone())
            .expect("key")
    }

    /// Makes a captured payment, so that the balance transaction list is not empty and the
    /// Balance transaction sources probe (which expands `data.source`) can tell.
    fn seed_a_payment(&self) {
        let key = self.secret("secret");
        self.runtime
            .block_on(self.running().seed_paid_charge(&key, 1000))
            .expect("a paid charge");
    }

    /// `rakguard <command> --api-base <emulator> --rate 500 …` with the key in STRIPE_API_KEY.
    fn run(&self, key: &str, args: &[&str]) -> Output {
        let mut command = rakguard();
        command
            .args(args)
            .args(["--api-base", &self.base_url(), "--rate", "500"])
            .env("STRIPE_API_KEY", key);
        command.output().expect("run")
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = self.runtime.block_on(running.shutdown());
        }
    }
}

fn assert_secret_absent(output: &Output, secret: &str) {
    assert!(!stdout(output).contains(secret), "the key is in stdout");
    assert!(!stderr(output).contains(secret), "the key is in stderr");
}

fn verdict_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}\n{}", stdout(output), stderr(output)))
}

#[test]
fn a_key_with_everything_verifies_with_exit_0() {
    let emulator = Emulator::start();
    emulator.seed_a_payment();
    let secret = emulator.secret("full");
    let output = emulator.run(&secret, &["verify", "--manifest", SELGEO]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let text = stdout(&output);
    assert!(text.starts_with("ok  "), "{text}");
    assert!(text.contains("holds every permission needed"), "{text}");
    assert!(
        text.contains("verify selgeo against http://127.0.0.1:"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|line| line.contains("granted") && line.contains("Billing → Coupons: Write")),
        "{text}"
    );
    assert_secret_absent(&output, &secret);

    let output = emulator.run(
        &secret,
        &["verify", "--manifest", SELGEO, "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(0));
    let verdict = verdict_json(&output);
    assert_eq!(verdict["code"], "ok");
    assert_eq!(verdict["subject"]["manifest"], "selgeo");
    assert_eq!(verdict["permissions"].as_array().map(Vec::len), Some(8));
    assert_secret_absent(&output, &secret);
}

#[test]
fn a_missing_permission_exits_1_and_says_which_in_every_format() {
    let emulator = Emulator::start();
    emulator.seed_a_payment();
    let secret = emulator.secret("no-coupon");

    // The key from standard input.
    let mut command = rakguard();
    command.args([
        "verify",
        "--manifest",
        SELGEO,
        "--key-stdin",
        "--api-base",
        &emulator.base_url(),
        "--rate",
        "500",
    ]);
    let output = run_with_stdin(command, &format!("{secret}\n"));
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let text = stdout(&output);
    assert!(text.starts_with("STRIPE_PERMISSIONS_MISSING"), "{text}");
    let coupon = text
        .lines()
        .find(|line| line.starts_with("  MISSING") && line.contains("Billing → Coupons: Write"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(coupon.contains("POST /v1/coupons/"), "{coupon}");
    assert!(coupon.contains("→ 403"), "{coupon}");
    assert!(coupon.contains("req_"), "{coupon}");
    assert!(
        text.contains("Missing (1):\n  - Billing → Coupons: Write"),
        "{text}"
    );
    assert!(text.contains("Fix: "), "{text}");
    assert!(
        text.contains("https://dashboard.stripe.com/test/apikeys"),
        "{text}"
    );
    assert_secret_absent(&output, &secret);

    let output = emulator.run(&secret, &["verify", "--manifest", SELGEO, "--format", "md"]);
    assert_eq!(output.status.code(), Some(1));
    let md = stdout(&output);
    assert!(md.contains("`STRIPE_PERMISSIONS_MISSING`"), "{md}");
    assert!(
        md.contains("| Billing → Coupons: Write | **missing** |"),
        "{md}"
    );
    assert_secret_absent(&output, &secret);

    let output = emulator.run(
        &secret,
        &["verify", "--manifest", SELGEO, "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1));
    let verdict = verdict_json(&output);
    assert_eq!(verdict["code"], "STRIPE_PERMISSIONS_MISSING");
    assert_eq!(verdict["missing"], json!(["Billing → Coupons: Write"]));
    assert_secret_absent(&output, &secret);
}

#[test]
fn an_undetermined_permission_exits_4() {
    // Without a payment, the balance transaction list is empty: the expansion is not checked.
    let emulator = Emulator::start();
    let secret = emulator.secret("full");
    let output = emulator.run(&secret, &["verify", "--manifest", SELGEO]);
    assert_eq!(
        output.status.code(),
        Some(4),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let text = stdout(&output);
    assert!(text.starts_with("STRIPE_VERIFICATION_INCOMPLETE"), "{text}");
    assert!(text.contains("Unknown (1):"), "{text}");
    assert_secret_absent(&output, &secret);
}

#[test]
fn an_unknown_key_exits_3() {
    let emulator = Emulator::start();
    let real = emulator.secret("full");
    // A well-formed restricted key the emulator does not know: the real one with its tail
    // changed.
    let tail = if real.ends_with('A') { "B" } else { "A" };
    let unknown = format!("{}{tail}", &real[..real.len() - 1]);
    let output = emulator.run(
        &unknown,
        &["verify", "--manifest", SELGEO, "--format", "json"],
    );
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let verdict = verdict_json(&output);
    assert_eq!(verdict["code"], "STRIPE_KEY_INVALID");
    assert_eq!(verdict["decisive"]["status"], 401);
    assert_secret_absent(&output, &unknown);

    let output = emulator.run(
        &unknown,
        &["verify", "--manifest", SELGEO, "--previously-valid"],
    );
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stdout(&output).starts_with("STRIPE_KEY_REVOKED"),
        "{}",
        stdout(&output)
    );
    assert_secret_absent(&output, &unknown);
}

#[test]
fn a_scan_lists_the_rows_held_as_the_form_does() {
    let emulator = Emulator::start();
    emulator.seed_a_payment();
    let secret = emulator.secret("no-coupon");
    let output = emulator.run(&secret, &["scan"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let text = stdout(&output);
    assert!(text.starts_with("ok  "), "{text}");
    let core = text.find("\nCore\n").unwrap_or_else(|| panic!("{text}"));
    let billing = text.find("\nBilling\n").unwrap_or_else(|| panic!("{text}"));
    assert!(core < billing, "{text}");
    let line = |label: &str| {
        text.lines()
            .find(|line| line.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("{label}: {text}"))
            .to_owned()
    };
    assert!(
        line("Promotion Codes").trim_end().ends_with("Write"),
        "{text}"
    );
    assert!(line("Coupons").trim_end().ends_with("None"), "{text}");
    assert!(line("Customers").trim_end().ends_with("Read"), "{text}");
    assert!(
        !stderr(&output).contains("probing"),
        "no progress bar when stderr is not a terminal"
    );
    assert_secret_absent(&output, &secret);

    let output = emulator.run(&secret, &["scan", "--format", "json"]);
    let verdict = verdict_json(&output);
    let held = |row: &str| {
        verdict["rows"]
            .as_array()
            .and_then(|rows| rows.iter().find(|entry| entry["row"] == row))
            .map(|entry| entry["held"].clone())
    };
    assert_eq!(held("promotion_code"), Some(json!("write")));
    assert_eq!(held("coupon"), Some(json!("none")));
    assert_secret_absent(&output, &secret);

    // A secret key is refused unless asked for.
    let secret_key = emulator.secret("secret");
    let output = emulator.run(&secret_key, &["scan"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stdout(&output).starts_with("STRIPE_SECRET_KEY_REFUSED"),
        "{}",
        stdout(&output)
    );
    let output = emulator.run(&secret_key, &["scan", "--accept-secret-key"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_secret_absent(&output, &secret_key);
}

#[test]
fn a_scan_compared_with_the_manifest_finds_the_gap() {
    let emulator = Emulator::start();
    emulator.seed_a_payment();
    let secret = emulator.secret("no-coupon");
    let output = emulator.run(&secret, &["scan", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let dir = crate::temp_dir("scan-diff");
    let file = dir.join("scan.json");
    std::fs::write(&file, &output.stdout).expect("write");
    let output = rakguard()
        .args(["diff"])
        .arg(&file)
        .args(["--manifest", SELGEO])
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let text = stdout(&output);
    assert!(text.starts_with("selgeo: MISSING PERMISSIONS"), "{text}");
    assert!(
        text.contains("Missing (1):\n  - Billing → Coupons: Write"),
        "{text}"
    );
    assert_secret_absent(&output, &secret);
}

#[test]
fn keys_that_are_refused_before_any_request() {
    // Not a key at all: exit 3 with the malformed verdict, no request needed.
    let webhook_secret = concat!("whsec_", "5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH");
    let output = rakguard()
        .args([
            "verify",
            "--manifest",
            SELGEO,
            "--api-base",
            "http://127.0.0.1:9",
            "--format",
            "json",
        ])
        .env("STRIPE_API_KEY", webhook_secret)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let verdict = verdict_json(&output);
    assert_eq!(verdict["code"], "STRIPE_KEY_MALFORMED");
    assert!(
        verdict["message"]
            .as_str()
            .is_some_and(|message| message.contains("webhook")),
        "{verdict}"
    );
    assert_secret_absent(&output, webhook_secret);

    // A test key where a live key is expected.
    let test_key = concat!(
        "rk_",
        "test_",
        "51HqZ0aLkdIwHu7ixWBzZ6dnV1x4Zq9sXxGQ3b8kMZp2T7Rg"
    );
    let output = rakguard()
        .args(["scan", "--mode", "live", "--api-base", "http://127.0.0.1:9"])
        .env("STRIPE_API_KEY", test_key)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("STRIPE_KEY_WRONG_MODE"),
        "{}",
        stdout(&output)
    );
    assert_secret_absent(&output, test_key);

    // No key at all is a usage error.
    let output = rakguard()
        .args(["verify", "--manifest", SELGEO])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("STRIPE_API_KEY"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unreachable_api_exits_4() {
    let key = concat!(
        "rk_",
        "test_",
        "51HqZ0aLkdIwHu7ixWBzZ6dnV1x4Zq9sXxGQ3b8kMZp2T7Rg"
    );
    // Port 9 (discard) is closed on test machines: every connection is refused.
    let output = rakguard()
        .args([
            "verify",
            "--manifest",
            SELGEO,
            "--api-base",
            "http://127.0.0.1:9",
            "--deadline",
            "2",
            "--format",
            "json",
        ])
        .env("STRIPE_API_KEY", key)
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(4),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let verdict = verdict_json(&output);
    assert_eq!(verdict["code"], "STRIPE_UNREACHABLE");
    assert_secret_absent(&output, key);
}

#[test]
fn a_manifest_with_tiers_needs_one() {
    let manifest = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/manifests/contacts-inbox.toml"
    );
    let key = concat!(
        "rk_",
        "test_",
        "51HqZ0aLkdIwHu7ixWBzZ6dnV1x4Zq9sXxGQ3b8kMZp2T7Rg"
    );
    let output = rakguard()
        .args(["verify", "--manifest", manifest])
        .env("STRIPE_API_KEY", key)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--tier"), "{}", stderr(&output));
    assert_secret_absent(&output, key);
}
