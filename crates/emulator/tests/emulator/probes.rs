//! Every probe of the catalogue against the emulator: granted with exactly its permission,
//! refused with a permission error naming it with none.

use rakguard_catalog::Catalog;
use rakguard_catalog::endpoint::{Method, Rule};
use rakguard_catalog::stripe_error::{StripeErrorKind, classify};
use rakguard_emulator::{EmulatorConfig, ErrorEra};
use serde_json::json;

use crate::{App, spec};

#[tokio::test]
async fn every_probe_is_granted_with_its_permission_and_refused_without() {
    let catalog = Catalog::embedded();
    let mut keys = EmulatorConfig::default_keys();
    keys.push(spec(json!({"name": "none", "type": "restricted"})));
    for (index, probe) in catalog.probes().iter().enumerate() {
        let name = catalog.permission_name(&probe.permission);
        keys.push(spec(
            json!({"name": format!("p{index}"), "type": "restricted", "permissions": [name]}),
        ));
    }
    let mut config = EmulatorConfig {
        keys,
        seed: Some(3),
        era: ErrorEra::Current,
        ..EmulatorConfig::default()
    };
    config.rate_limits.test = 100_000;
    let app = App::with_config(config);
    let empty = app.secret("none");
    let mut failures = Vec::new();
    for (index, probe) in catalog.probes().iter().enumerate() {
        let method = probe.method.as_str();
        let scope = catalog.permission_name(&probe.permission);
        let granted = app
            .call(
                method,
                &probe.path,
                Some(&app.secret(&format!("p{index}"))),
                &probe.body,
            )
            .await;
        if !probe.granted.contains(&granted.status) {
            failures.push(format!(
                "{method} {} with {scope}: {} {}",
                probe.path, granted.status, granted.body
            ));
        }
        let refused = app
            .call(method, &probe.path, Some(&empty), &probe.body)
            .await;
        let operation = catalog.lookup(probe.method, &probe.path);
        let aliases: Vec<String> = match operation.map(|operation| &operation.rule) {
            Some(Rule::Mapped { names, .. }) => names.clone(),
            _ => Vec::new(),
        };
        match classify(refused.status, &refused.body.to_string()).kind {
            StripeErrorKind::MissingPermission(parsed)
                if refused.status == 403
                    && parsed
                        .permission_ids()
                        .any(|id| id == scope || aliases.iter().any(|alias| alias == id)) => {}
            other => failures.push(format!(
                "{method} {} without {scope}: {} {other:?}",
                probe.path, refused.status
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} probes failed:\n{}",
        failures.len(),
        catalog.probes().len(),
        failures.join("\n")
    );
    assert!(
        catalog
            .probes()
            .iter()
            .any(|probe| probe.method == Method::Delete)
    );
}
