//! Every probe obeys the rules that keep probing free of side effects, and probes what it claims.

use rakguard_catalog::Catalog;
use rakguard_catalog::endpoint::Method;
use rakguard_catalog::permission::Level;
use rakguard_catalog::probe::{Effect, Reading, SENTINEL};

#[test]
fn every_probe_obeys_the_rules() {
    let catalog = Catalog::embedded();
    let mut broken = Vec::new();
    for probe in catalog.probes() {
        for problem in probe.check_rules() {
            broken.push(format!("{}: {problem}", probe.permission));
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn every_probe_requests_an_operation_of_its_own_permission() {
    let catalog = Catalog::embedded();
    let mut wrong = Vec::new();
    for probe in catalog.probes() {
        match catalog.lookup(probe.method, &probe.path) {
            None => wrong.push(format!(
                "{}: {} {} matches no operation",
                probe.permission, probe.method, probe.path
            )),
            Some(operation) => {
                // An expansion probe requests another row's operation whose 403 is recorded as
                // naming the probed permission (balance transaction sources).
                let named = catalog.scope(&probe.permission).is_some_and(|scope| {
                    probe.path.contains("expand") && operation_names(operation).contains(&scope)
                });
                if operation.permission() != Some(&probe.permission) && !named {
                    wrong.push(format!(
                        "{}: {} {} needs {:?}",
                        probe.permission,
                        probe.method,
                        probe.path,
                        operation.permission()
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

fn operation_names(operation: &rakguard_catalog::endpoint::Operation) -> Vec<&str> {
    match &operation.rule {
        rakguard_catalog::endpoint::Rule::Mapped { names, .. } => {
            names.iter().map(String::as_str).collect()
        }
        rakguard_catalog::endpoint::Rule::Excepted { .. } => Vec::new(),
    }
}

#[test]
fn reads_use_get_and_writes_do_not() {
    let catalog = Catalog::embedded();
    for probe in catalog.probes() {
        match probe.permission.level {
            Level::Read => assert_eq!(probe.method, Method::Get, "{}", probe.permission),
            Level::Write => assert_ne!(probe.method, Method::Get, "{}", probe.permission),
        }
    }
}

#[test]
fn no_probe_creates_anything_without_cleanup() {
    let catalog = Catalog::embedded();
    for probe in catalog
        .probes()
        .iter()
        .filter(|probe| probe.effect == Effect::Creates)
    {
        assert!(probe.cleanup.starts_with("DELETE "), "{}", probe.permission);
    }
}

#[test]
fn the_sentinel_never_matches_a_literal_route() {
    let catalog = Catalog::embedded();
    for operation in catalog.operations() {
        assert!(!operation.path.contains(SENTINEL), "{operation}");
    }
}

#[test]
fn readings_need_evidence() {
    let catalog = Catalog::embedded();
    let probe = catalog.probes().first().expect("probes exist");
    assert_eq!(probe.read(403, true), Reading::Missing);
    assert_eq!(
        probe.read(403, false),
        Reading::Unknown,
        "a 403 that is no permission error proves nothing"
    );
    assert_eq!(probe.read(500, false), Reading::Unknown);
    assert_eq!(probe.read(429, false), Reading::Unknown);
    assert_eq!(probe.read(probe.granted[0], false), Reading::Granted);
}

#[test]
fn the_seeds_permissions_all_have_probes() {
    let catalog = Catalog::embedded();
    for name in [
        "checkout_session_read",
        "charge_read",
        "customer_read",
        "invoice_read",
        "promotion_code_write",
        "coupon_write",
        "webhook_write",
        "customer_write",
        "charge_write",
        "payment_intent_write",
        "product_write",
        "invoice_write",
        "plan_write",
        "subscription_write",
        "product_read",
        "plan_read",
        "connected_account_read",
        "balance_read",
        "balance_transaction_source_read",
    ] {
        let permission = catalog.resolve(name).expect("known");
        assert!(catalog.probe(&permission).is_some(), "no probe for {name}");
    }
}
