//! `rakguard manifest check|import`.

use rakguard_catalog::Catalog;
use rakguard_catalog::manifest::{Manifest, import_stripe_app_with_warnings};
use serde::Serialize;

use super::print_json;
use crate::cli::ManifestCommand;
use crate::exit::Code;
use crate::input::read_file;

#[derive(Serialize)]
struct CheckOut<'a> {
    file: String,
    valid: bool,
    problems: &'a [rakguard_catalog::manifest::ManifestProblem],
    summary: Option<Summary>,
}

#[derive(Serialize)]
struct Summary {
    id: String,
    name: String,
    accept_secret_keys: bool,
    tiers: Vec<TierSummary>,
    alternates: Vec<String>,
}

#[derive(Serialize)]
struct TierSummary {
    tier: Option<String>,
    permissions: Vec<String>,
    connect_permissions: Vec<String>,
}

/// Runs `rakguard manifest …`.
pub fn run(command: ManifestCommand) -> anyhow::Result<Code> {
    let catalog = Catalog::embedded();
    match command {
        ManifestCommand::Check { file, json } => {
            let name = file.display().to_string();
            let text = read_file(&file)?;
            let (manifest, problems) = match Manifest::parse_with_warnings(catalog, &name, &text) {
                Ok((manifest, warnings)) => (Some(manifest), warnings),
                Err(errors) => (None, errors.problems),
            };
            let summary = manifest
                .as_ref()
                .map(|manifest| summarise(catalog, manifest))
                .transpose()?;
            if json {
                print_json(&CheckOut {
                    file: name,
                    valid: manifest.is_some(),
                    problems: &problems,
                    summary,
                })?;
            } else {
                for problem in &problems {
                    eprintln!("{problem}");
                }
                if let Some(summary) = summary {
                    println!(
                        "{}: valid manifest {:?} ({})",
                        name, summary.id, summary.name
                    );
                    for tier in &summary.tiers {
                        let label = tier.tier.as_deref().unwrap_or("base");
                        let permissions = if tier.permissions.is_empty() {
                            "(none)".to_owned()
                        } else {
                            tier.permissions.join(", ")
                        };
                        println!("  {label}: {permissions}");
                        if !tier.connect_permissions.is_empty() {
                            println!("    connect: {}", tier.connect_permissions.join(", "));
                        }
                    }
                    for alternate in &summary.alternates {
                        println!("  alternate: {alternate}");
                    }
                }
            }
            Ok(if manifest.is_some() {
                Code::Ok
            } else {
                Code::Negative
            })
        }
        ManifestCommand::Import { file } => {
            let name = file.display().to_string();
            let text = read_file(&file)?;
            let (manifest, warnings) = import_stripe_app_with_warnings(catalog, &name, &text)?;
            for warning in &warnings {
                eprintln!("{warning}");
            }
            print!("{}", manifest.to_toml_with(catalog));
            Ok(Code::Ok)
        }
        ManifestCommand::Export { file, tier } => {
            let name = file.display().to_string();
            let text = read_file(&file)?;
            let manifest = Manifest::parse(catalog, &name, &text)?;
            if tier.is_none() && !manifest.tiers.is_empty() {
                anyhow::bail!(
                    "--tier: {name} has tiers ({}); say which one the app's key should hold",
                    manifest.tier_ids().join(", ")
                );
            }
            let exported = manifest.stripe_app_permissions(catalog, tier.as_deref())?;
            for label in &exported.not_requestable {
                eprintln!("warning: a Stripe App cannot request {label}; it is left out");
            }
            print_json(&serde_json::json!({ "permissions": exported.permissions }))?;
            Ok(Code::Ok)
        }
    }
}

fn summarise(catalog: &Catalog, manifest: &Manifest) -> anyhow::Result<Summary> {
    let mut tiers: Vec<Option<String>> = vec![None];
    tiers.extend(
        manifest
            .tier_ids()
            .into_iter()
            .map(|id| Some(id.to_owned())),
    );
    let names = |requirements: Vec<rakguard_catalog::manifest::Requirement>| -> Vec<String> {
        requirements
            .iter()
            .map(|requirement| catalog.form_label(&requirement.permission))
            .collect()
    };
    let tiers = tiers
        .into_iter()
        .map(|tier| {
            Ok(TierSummary {
                permissions: names(manifest.requirements_with(catalog, tier.as_deref())?),
                connect_permissions: names(
                    manifest.connect_requirements_with(catalog, tier.as_deref())?,
                ),
                tier,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Summary {
        id: manifest.id.clone(),
        name: manifest.name.clone(),
        accept_secret_keys: manifest.accept_secret_keys,
        tiers,
        alternates: manifest
            .alternates
            .iter()
            .map(|alternate| alternate.id.clone())
            .collect(),
    })
}
