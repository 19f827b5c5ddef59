//! `Stripe-Account`: a platform verifying its key's Connect-column permissions on a connected
//! account.

use super::*;
use rakguard_catalog::key::Mode;
use rakguard_verify::{Code, verify};

const ACCOUNT: &str = "acct_1RakguardConnected";

fn platform_manifest() -> Manifest {
    let text = r#"
id = "platform"
name = "Platform"
description = "Reads connected accounts' customers and charges."
key_name = "Platform"

[[permission]]
name = "customer_read"
purpose = "Own account."

[[connect_permission]]
name = "customer_read"
purpose = "Customers of connected accounts."

[[connect_permission]]
name = "charge_write"
purpose = "Charges of connected accounts."
"#;
    Manifest::parse(Catalog::embedded(), "platform.toml", text).unwrap()
}

#[tokio::test]
async fn connect_permissions_on_a_connected_account() {
    let manifest = platform_manifest();
    let own: BTreeSet<Permission> = [perm("customer_read")].into_iter().collect();
    let mut full = restricted("connectfull", Mode::Test, &own);
    full.connect_permissions = Some(
        [perm("customer_read"), perm("charge_write")]
            .into_iter()
            .collect(),
    );
    let mut partial = restricted("connectpartial", Mode::Test, &own);
    partial.connect_permissions = Some([perm("customer_read")].into_iter().collect());
    let none = restricted("connectnone", Mode::Test, &own);
    let running = emulator_with(EmulatorConfig {
        keys: vec![full.clone(), partial.clone(), none.clone()],
        connected_accounts: vec![ACCOUNT.to_owned()],
        ..EmulatorConfig::default()
    })
    .await;
    let mut options = options(&running);
    options.stripe_account = Some(ACCOUNT.to_owned());

    let verdict = verify(&key_of(&full), &manifest, &options).await.unwrap();
    assert_eq!(verdict.code, Code::Ok, "{}", verdict.to_json());
    assert_eq!(verdict.subject.stripe_account.as_deref(), Some(ACCOUNT));
    assert_eq!(verdict.permissions.len(), 2);

    let verdict = verify(&key_of(&partial), &manifest, &options)
        .await
        .unwrap();
    assert_eq!(
        verdict.code,
        Code::PermissionsMissing,
        "{}",
        verdict.to_json()
    );
    assert_eq!(verdict.missing.len(), 1);
    assert!(
        verdict.missing[0].contains("Charges"),
        "{:?}",
        verdict.missing
    );

    let verdict = verify(&key_of(&none), &manifest, &options).await.unwrap();
    assert_eq!(
        verdict.code,
        Code::PermissionsMissing,
        "{}",
        verdict.to_json()
    );
    assert_eq!(verdict.requests, 1);

    let mut elsewhere = options.clone();
    elsewhere.stripe_account = Some("acct_1NotConnectedHere".to_owned());
    let verdict = verify(&key_of(&full), &manifest, &elsewhere).await.unwrap();
    assert_eq!(verdict.code, Code::AccountInvalid, "{}", verdict.to_json());

    // Every probe carried the header: the log shows requests on the connected account only.
    let log = running.state.requests(None);
    assert!(!log.is_empty());
    running.shutdown().await.unwrap();
}
