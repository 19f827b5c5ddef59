//! `rakguard catalog`: the permission form, endpoint lookups, coverage, probes and templates.

use anyhow::bail;
use rakguard_catalog::Catalog;
use rakguard_catalog::endpoint::{Method, Rule};
use serde::Serialize;

use super::print_json;
use crate::cli::{CatalogArgs, CatalogCommand};
use crate::exit::Code;

/// Runs `rakguard catalog …`.
pub fn run(args: CatalogArgs) -> anyhow::Result<Code> {
    let catalog = Catalog::embedded();
    match args.command {
        None => list(catalog, args.group.as_deref(), args.json),
        Some(CatalogCommand::Lookup { method, path, json }) => {
            lookup(catalog, &method, &path, json)
        }
        Some(CatalogCommand::Coverage { json }) => coverage(catalog, json),
        Some(CatalogCommand::Probes { json }) => probes(catalog, json),
        Some(CatalogCommand::Templates { json }) => templates(catalog, json),
    }
}

#[derive(Serialize)]
struct GroupOut<'a> {
    name: &'a str,
    rows: Vec<&'a rakguard_catalog::permission::Row>,
}

fn list(catalog: &Catalog, group: Option<&str>, json: bool) -> anyhow::Result<Code> {
    let groups: Vec<_> = catalog
        .groups()
        .iter()
        .filter(|candidate| group.is_none_or(|wanted| candidate.name.eq_ignore_ascii_case(wanted)))
        .collect();
    if groups.is_empty() {
        let names: Vec<&str> = catalog
            .groups()
            .iter()
            .map(|group| group.name.as_str())
            .collect();
        bail!(
            "--group: no section named {:?}; the form's sections are: {}",
            group.unwrap_or_default(),
            names.join(", ")
        );
    }
    let out: Vec<GroupOut<'_>> = groups
        .iter()
        .map(|group| GroupOut {
            name: &group.name,
            rows: group.rows.iter().filter_map(|id| catalog.row(id)).collect(),
        })
        .collect();
    if json {
        print_json(&serde_json::json!({ "groups": out }))?;
        return Ok(Code::Ok);
    }
    for group in out {
        println!("{}", group.name);
        for row in group.rows {
            let scopes: Vec<&str> = row
                .levels
                .iter()
                .filter_map(|level| row.scope(level))
                .collect();
            let scopes = if scopes.is_empty() {
                "(scope id unknown)".to_owned()
            } else {
                scopes.join(", ")
            };
            println!(
                "  {:<34} {:<16} {}",
                row.display_name,
                row.levels.label(),
                scopes
            );
        }
        println!();
    }
    Ok(Code::Ok)
}

#[derive(Serialize)]
struct LookupOut<'a> {
    request: String,
    operation: String,
    #[serde(flatten)]
    rule: &'a Rule,
    permission_id: Option<String>,
    form_label: Option<String>,
    evidence: Option<&'static str>,
    params: Vec<(&'a str, String)>,
    basis: &'a str,
}

fn lookup(catalog: &Catalog, method: &str, path: &str, json: bool) -> anyhow::Result<Code> {
    let method: Method = match method.parse() {
        Ok(method) => method,
        Err(error) => bail!("METHOD: {error}"),
    };
    let Some(matched) = catalog.lookup_with_params(method, path) else {
        if json {
            print_json(&serde_json::json!({
                "request": format!("{method} {path}"),
                "operation": null,
                "status": "no_match",
            }))?;
        } else {
            println!(
                "{method} {path}: no Stripe API operation matches (Stripe answers such requests with 404 \"Unrecognized request URL\")"
            );
        }
        return Ok(Code::Negative);
    };
    let operation = matched.operation;
    let permission = operation.permission();
    let out = LookupOut {
        request: format!("{method} {path}"),
        operation: operation.to_string(),
        rule: &operation.rule,
        permission_id: permission.map(|permission| catalog.permission_name(permission)),
        form_label: permission.map(|permission| catalog.form_label(permission)),
        evidence: operation.grade().map(|grade| grade.describe()),
        params: matched.params,
        basis: &operation.basis,
    };
    if json {
        print_json(&out)?;
        return Ok(Code::Ok);
    }
    println!("{} → {}", out.request, out.operation);
    match &operation.rule {
        Rule::Mapped { grade, names, .. } => {
            println!(
                "  needs    {} ({})",
                out.permission_id.unwrap_or_default(),
                out.form_label.unwrap_or_default()
            );
            println!("  evidence {grade}: {}", grade.describe());
            if !names.is_empty() {
                println!(
                    "  note     Stripe's 403 has been seen to name {} instead",
                    names.join(", ")
                );
            }
        }
        Rule::Excepted { kind } => {
            println!(
                "  no permission mapped ({}): {}",
                kind.as_str(),
                operation.basis
            );
        }
    }
    for (name, value) in &out.params {
        println!("  param    {name} = {value}");
    }
    Ok(Code::Ok)
}

fn coverage(catalog: &Catalog, json: bool) -> anyhow::Result<Code> {
    let coverage = catalog.coverage();
    if json {
        print_json(&coverage)?;
        return Ok(Code::Ok);
    }
    println!("Operations in the catalogue (the official SDK's list plus legacy paths):");
    for (api, counts) in &coverage.by_api {
        let share = counts.mapped as f64 * 100.0 / counts.total.max(1) as f64;
        println!(
            "{api}: {} operations, {} mapped ({share:.1}%)",
            counts.total, counts.mapped
        );
        for (grade, count) in &counts.by_grade {
            println!("  mapped, {grade:<16} {count}");
        }
        for (kind, count) in &counts.by_exception {
            println!("  excepted, {kind:<14} {count}");
        }
    }
    Ok(Code::Ok)
}

fn probes(catalog: &Catalog, json: bool) -> anyhow::Result<Code> {
    if json {
        print_json(&catalog.probes())?;
        return Ok(Code::Ok);
    }
    for probe in catalog.probes() {
        let body = if probe.body.is_empty() {
            String::new()
        } else {
            format!(" [{}]", probe.body)
        };
        println!(
            "{:<40} {} {}{} → granted on {:?}",
            catalog.permission_name(&probe.permission),
            probe.method,
            probe.path,
            body,
            probe.granted
        );
    }
    Ok(Code::Ok)
}

fn templates(catalog: &Catalog, json: bool) -> anyhow::Result<Code> {
    if json {
        print_json(&catalog.templates())?;
        return Ok(Code::Ok);
    }
    for template in catalog.templates() {
        println!("{}: {}", template.name, template.description);
        if template.known {
            for permission in &template.permissions {
                println!("  {}", catalog.form_label(permission));
            }
        } else {
            println!(
                "  (the rows this template sets are not publicly documented; confidence: {})",
                template.confidence
            );
        }
    }
    Ok(Code::Ok)
}
