//! Rendering results for people: terminal text (`table`), Markdown for tickets and pull requests
//! (`md`), or the stable JSON (`json`). Pure: strings in, strings out, no colour codes.

use std::fmt::Write as _;
use std::str::FromStr;

use rakguard_catalog::Catalog;

use crate::diff::{Change, Entry, ManifestDiff, VerdictDiff};
use crate::explain::Explanation;
use crate::verdict::{Code, Evidence, Held, Outcome, PermissionResult, RowResult, Verdict};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Plain text for a terminal.
    #[default]
    Table,
    /// Markdown.
    Markdown,
    /// Pretty JSON (the stable shape).
    Json,
}

impl Format {
    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Markdown => "md",
            Format::Json => "json",
        }
    }
}

/// A format name that is none of `table`, `md`, `json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?}: expected table, md or json")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "table" | "text" => Ok(Format::Table),
            "md" | "markdown" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            _ => Err(UnknownFormat(text.to_owned())),
        }
    }
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".to_owned())
}

/// Renders a verdict.
pub fn render_verdict(verdict: &Verdict, format: Format) -> String {
    match format {
        Format::Table => verdict_table(verdict),
        Format::Markdown => verdict_markdown(verdict),
        Format::Json => verdict.to_json(),
    }
}

/// One request, as one line: `GET /v1/coupons/x → 403 (req_123)`.
pub fn evidence_line(evidence: &Evidence) -> String {
    let mut line = format!("{} {} → ", evidence.method, evidence.path);
    match evidence.status {
        Some(status) => {
            let _ = write!(line, "{status}");
        }
        None => line.push_str("no answer"),
    }
    match (&evidence.request_id, &evidence.error_code) {
        (Some(id), Some(code)) => {
            let _ = write!(line, " ({code}, {id})");
        }
        (Some(id), None) => {
            let _ = write!(line, " ({id})");
        }
        (None, Some(code)) => {
            let _ = write!(line, " ({code})");
        }
        (None, None) => {}
    }
    if evidence.attempts > 1 {
        let _ = write!(line, " after {} attempts", evidence.attempts);
    }
    line
}

/// The evidence behind a result, in one line.
fn evidence_summary(result: &PermissionResult) -> String {
    let mut parts: Vec<String> = result.evidence.iter().map(evidence_line).collect();
    if let Some(by) = &result.implied_by {
        parts.push(if by == "secret_key" {
            "a secret key holds every permission".to_owned()
        } else {
            format!("implied by {by}")
        });
    }
    if let Some(reason) = &result.reason
        && result.outcome == Outcome::Unknown
    {
        parts.push(reason.clone());
    }
    if parts.is_empty() {
        "—".to_owned()
    } else {
        parts.join("; ")
    }
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Granted => "granted",
        Outcome::Missing => "MISSING",
        Outcome::Unknown => "unknown",
    }
}

fn width(text: &str) -> usize {
    text.chars().count()
}

fn pad(text: &str, to: usize) -> String {
    let mut out = text.to_owned();
    out.extend(std::iter::repeat_n(' ', to.saturating_sub(width(text))));
    out
}

fn seconds(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{}.{} s", ms / 1000, (ms % 1000) / 100)
    }
}

fn subject_line(verdict: &Verdict) -> String {
    let subject = &verdict.subject;
    let mut line = subject.command.clone();
    if let Some(manifest) = &subject.manifest {
        let _ = write!(line, " {manifest}");
    }
    if let Some(tier) = &subject.tier {
        let _ = write!(line, " (tier {tier})");
    }
    let _ = write!(line, " against {}", subject.api_base);
    if let Some(account) = &subject.stripe_account {
        let _ = write!(line, " on account {account}");
    }
    let key = &verdict.key;
    if !key.masked.is_empty() {
        let _ = write!(line, " — key {}", key.masked);
        match (key.kind, key.mode) {
            (Some(kind), Some(mode)) => {
                let _ = write!(line, " ({kind}, {mode} mode)");
            }
            (Some(kind), None) => {
                let _ = write!(line, " ({kind})");
            }
            _ => {}
        }
    }
    line
}

/// The verdict as terminal text.
pub fn verdict_table(verdict: &Verdict) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}  {}", verdict.code, verdict.message);
    let _ = writeln!(out, "{}", subject_line(verdict));
    if let Some(decisive) = &verdict.decisive {
        let _ = writeln!(out, "evidence: {}", evidence_line(decisive));
    }
    if verdict.subject.command == "scan" && !verdict.rows.is_empty() {
        out.push('\n');
        scan_rows_table(verdict, &mut out);
    } else {
        let required: Vec<&PermissionResult> =
            verdict.permissions.iter().filter(|r| r.required).collect();
        if !required.is_empty() {
            out.push('\n');
            let label_width = required
                .iter()
                .map(|result| width(&result.label))
                .max()
                .unwrap_or(0)
                .max(width("permission"));
            let _ = writeln!(
                out,
                "  {}  {}  evidence",
                pad("result", 7),
                pad("permission", label_width)
            );
            for result in required {
                let _ = writeln!(
                    out,
                    "  {}  {}  {}",
                    pad(outcome_word(result.outcome), 7),
                    pad(&result.label, label_width),
                    evidence_summary(result)
                );
            }
        }
    }
    list_section(&mut out, "Missing", &verdict.missing);
    list_section(&mut out, "Unknown", &verdict.unknown);
    let excess_title = if verdict.subject.excess_checked {
        "Excess (granted, not needed)"
    } else {
        "Excess (granted, not needed; only rows probed for the manifest were looked at)"
    };
    list_section(&mut out, excess_title, &verdict.excess);
    if !verdict.orphans.is_empty() {
        let _ = writeln!(
            out,
            "\nLeft behind by probes ({}), delete them by hand:",
            verdict.orphans.len()
        );
        for orphan in &verdict.orphans {
            let cleanup = cleanup_request(&orphan.cleanup, &orphan.id);
            let _ = writeln!(
                out,
                "  - {} (from the {} probe): {} — {}",
                orphan.id, orphan.permission, cleanup, orphan.reason
            );
        }
    }
    if let Some(fix) = &verdict.fix {
        let _ = writeln!(out, "\nFix: {}", fix.summary);
        for (number, step) in fix.steps.iter().enumerate() {
            let _ = writeln!(out, "  {}. {step}", number + 1);
        }
        if let Some(url) = &fix.dashboard_url {
            let _ = writeln!(out, "  Dashboard: {url}");
        }
    }
    let _ = writeln!(
        out,
        "\n{} request(s) in {}",
        verdict.requests,
        seconds(verdict.elapsed_ms)
    );
    out
}

/// `DELETE /v1/coupons/{id}` with the id filled in.
fn cleanup_request(template: &str, id: &str) -> String {
    match (template.find('{'), template.find('}')) {
        (Some(open), Some(close)) if open < close => format!(
            "{}{id}{}",
            template.get(..open).unwrap_or_default(),
            template.get(close + 1..).unwrap_or_default()
        ),
        _ => template.to_owned(),
    }
}

fn list_section(out: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title} ({}):", items.len());
    for item in items {
        let _ = writeln!(out, "  - {item}");
    }
}

/// The reason a scanned row is unknown, from its permission results.
fn row_reason<'v>(verdict: &'v Verdict, row: &str) -> Option<&'v str> {
    verdict
        .permissions
        .iter()
        .filter(|result| result.row == row && result.outcome == Outcome::Unknown)
        .find_map(|result| result.reason.as_deref())
}

/// The scanned rows, grouped by form section in the catalogue's order.
fn scan_groups(verdict: &Verdict) -> Vec<(String, Vec<&RowResult>)> {
    let catalog = Catalog::embedded();
    let mut groups: Vec<(String, Vec<&RowResult>)> = catalog
        .groups()
        .iter()
        .map(|group| (group.name.clone(), Vec::new()))
        .collect();
    for row in &verdict.rows {
        match groups.iter_mut().find(|(name, _)| *name == row.group) {
            Some((_, rows)) => rows.push(row),
            None => groups.push((row.group.clone(), vec![row])),
        }
    }
    for (_, rows) in &mut groups {
        rows.sort_by_key(|row| catalog.row_position(&row.row));
    }
    groups.retain(|(_, rows)| !rows.is_empty());
    groups
}

fn scan_rows_table(verdict: &Verdict, out: &mut String) {
    let held: Vec<&RowResult> = verdict
        .rows
        .iter()
        .filter(|row| matches!(row.held, Held::Write | Held::Read | Held::ReadOrWrite))
        .collect();
    let _ = writeln!(
        out,
        "Held on {} of {} rows (Write {}, Read {}):",
        held.len(),
        verdict.rows.len(),
        held.iter().filter(|row| row.held == Held::Write).count(),
        held.iter()
            .filter(|row| matches!(row.held, Held::Read | Held::ReadOrWrite))
            .count()
    );
    let label_width = verdict
        .rows
        .iter()
        .map(|row| width(&row.label))
        .max()
        .unwrap_or(0);
    for (group, rows) in scan_groups(verdict) {
        if rows.iter().all(|row| row.held == Held::None) {
            let _ = writeln!(out, "{group}: None on all {} rows", rows.len());
            continue;
        }
        let _ = writeln!(out, "{group}");
        for row in rows {
            let mut line = format!("  {}  {}", pad(&row.label, label_width), row.held.as_str());
            if row.held == Held::Unknown {
                let probed = Catalog::embedded()
                    .probes()
                    .iter()
                    .any(|probe| probe.permission.row == row.row);
                if !probed {
                    line.push_str(" (no probe)");
                } else if let Some(reason) = row_reason(verdict, &row.row) {
                    let _ = write!(line, " — {reason}");
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
}

/// Escapes text for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The verdict as Markdown.
pub fn verdict_markdown(verdict: &Verdict) -> String {
    let mut out = String::new();
    let mark = if verdict.code == Code::Ok {
        "✅"
    } else {
        "❌"
    };
    let _ = writeln!(out, "### {mark} `{}`\n", verdict.code);
    let _ = writeln!(out, "{}\n", verdict.message);
    let _ = writeln!(out, "- **Check:** {}", cell(&subject_line(verdict)));
    if let Some(decisive) = &verdict.decisive {
        let _ = writeln!(out, "- **Evidence:** `{}`", evidence_line(decisive));
    }
    out.push('\n');
    if verdict.subject.command == "scan" && !verdict.rows.is_empty() {
        let _ = writeln!(out, "| Section | Row | Held |\n| --- | --- | --- |");
        for (group, rows) in scan_groups(verdict) {
            for row in rows {
                let held = match row.held {
                    Held::Write | Held::Read | Held::ReadOrWrite => {
                        format!("**{}**", row.held.as_str())
                    }
                    other => other.as_str().to_owned(),
                };
                let _ = writeln!(out, "| {} | {} | {held} |", cell(&group), cell(&row.label));
            }
        }
        out.push('\n');
    } else {
        let required: Vec<&PermissionResult> =
            verdict.permissions.iter().filter(|r| r.required).collect();
        if !required.is_empty() {
            let _ = writeln!(
                out,
                "| Permission | Result | Evidence |\n| --- | --- | --- |"
            );
            for result in required {
                let word = match result.outcome {
                    Outcome::Granted => "granted".to_owned(),
                    Outcome::Missing => "**missing**".to_owned(),
                    Outcome::Unknown => "unknown".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "| {} | {word} | {} |",
                    cell(&result.label),
                    cell(&evidence_summary(result))
                );
            }
            out.push('\n');
        }
    }
    for (title, items) in [
        ("Missing", &verdict.missing),
        ("Unknown", &verdict.unknown),
        ("Excess (granted, not needed)", &verdict.excess),
    ] {
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "**{title}:**\n");
        for item in items {
            let _ = writeln!(out, "- {item}");
        }
        out.push('\n');
    }
    if !verdict.orphans.is_empty() {
        let _ = writeln!(out, "**Left behind by probes (delete by hand):**\n");
        for orphan in &verdict.orphans {
            let _ = writeln!(
                out,
                "- `{}` — `{}` ({})",
                orphan.id,
                cleanup_request(&orphan.cleanup, &orphan.id),
                orphan.reason
            );
        }
        out.push('\n');
    }
    if let Some(fix) = &verdict.fix {
        let _ = writeln!(out, "**How to fix:** {}\n", fix.summary);
        for (number, step) in fix.steps.iter().enumerate() {
            let _ = writeln!(out, "{}. {step}", number + 1);
        }
        if let Some(url) = &fix.dashboard_url {
            if !fix.steps.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "Dashboard: <{url}>");
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "<sub>{} request(s) in {}</sub>",
        verdict.requests,
        seconds(verdict.elapsed_ms)
    );
    out
}

/// Renders an explanation of a Stripe error.
pub fn render_explanation(explanation: &Explanation, format: Format) -> String {
    match format {
        Format::Json => json(explanation),
        Format::Table => explanation_table(explanation),
        Format::Markdown => explanation_markdown(explanation),
    }
}

fn stripe_said(explanation: &Explanation) -> Option<String> {
    let stripe = &explanation.stripe;
    let message = stripe.message.as_deref()?;
    let mut tags: Vec<String> = Vec::new();
    if let Some(status) = explanation.status {
        tags.push(status.to_string());
    }
    if let Some(code) = &stripe.code {
        tags.push(code.clone());
    }
    Some(if tags.is_empty() {
        message.to_owned()
    } else {
        format!("({}) {message}", tags.join(", "))
    })
}

fn explanation_table(explanation: &Explanation) -> String {
    let mut out = String::new();
    let code = explanation.code.map_or("(not a key problem)", Code::as_str);
    let _ = writeln!(out, "{code}\n{}", explanation.summary);
    if !explanation.permissions.is_empty() {
        let _ = writeln!(out, "\nPermissions named:");
        let id_width = explanation
            .permissions
            .iter()
            .map(|permission| width(&permission.id))
            .max()
            .unwrap_or(0);
        for permission in &explanation.permissions {
            let _ = writeln!(
                out,
                "  {}  {}",
                pad(&permission.id, id_width),
                permission.label
            );
            if let Some(note) = &permission.note {
                let _ = writeln!(out, "  {}  ({note})", pad("", id_width));
            }
        }
    }
    if !explanation.steps.is_empty() {
        let _ = writeln!(out, "\nWhat to do:");
        for (number, step) in explanation.steps.iter().enumerate() {
            let _ = writeln!(out, "  {}. {step}", number + 1);
        }
    }
    if let Some(url) = &explanation.dashboard_url {
        let _ = writeln!(out, "\nDashboard: {url}");
    }
    if let Some(said) = stripe_said(explanation) {
        let _ = writeln!(out, "\nStripe said {said}");
    }
    out
}

fn explanation_markdown(explanation: &Explanation) -> String {
    let mut out = String::new();
    let code = explanation.code.map_or("not a key problem", Code::as_str);
    let _ = writeln!(out, "### `{code}`\n\n{}\n", explanation.summary);
    if !explanation.permissions.is_empty() {
        let _ = writeln!(out, "| Permission id | On the form |\n| --- | --- |");
        for permission in &explanation.permissions {
            let label = match &permission.note {
                Some(note) => format!("{} ({note})", permission.label),
                None => permission.label.clone(),
            };
            let _ = writeln!(out, "| `{}` | {} |", cell(&permission.id), cell(&label));
        }
        out.push('\n');
    }
    for (number, step) in explanation.steps.iter().enumerate() {
        let _ = writeln!(out, "{}. {step}", number + 1);
    }
    if !explanation.steps.is_empty() {
        out.push('\n');
    }
    if let Some(url) = &explanation.dashboard_url {
        let _ = writeln!(out, "Dashboard: <{url}>\n");
    }
    if let Some(said) = stripe_said(explanation) {
        let _ = writeln!(out, "> Stripe said {said}");
    }
    out
}

/// Renders a comparison of two verdicts.
pub fn render_verdict_diff(diff: &VerdictDiff, format: Format) -> String {
    if format == Format::Json {
        return json(diff);
    }
    let markdown = format == Format::Markdown;
    let mut out = String::new();
    let headline = if diff.has_regressions() {
        "REGRESSED"
    } else if diff.has_changes() {
        "changed"
    } else {
        "unchanged"
    };
    if markdown {
        let _ = writeln!(out, "### Verdict comparison: {headline}\n");
    } else {
        let _ = writeln!(out, "{headline}");
    }
    let _ = writeln!(
        out,
        "{}before: {} ({}, key {}) → after: {} ({}, key {}){}",
        if markdown { "- " } else { "" },
        diff.before.code,
        diff.before.command,
        diff.before.key,
        diff.after.code,
        diff.after.command,
        diff.after.key,
        if diff.same_key {
            ""
        } else {
            " — different keys"
        }
    );
    for (title, changes) in [
        ("Lost", &diff.lost),
        ("Gained", &diff.gained),
        ("Changed", &diff.changed),
    ] {
        if changes.is_empty() {
            continue;
        }
        if markdown {
            let _ = writeln!(out, "\n**{title} ({}):**\n", changes.len());
        } else {
            let _ = writeln!(out, "\n{title} ({}):", changes.len());
        }
        for change in changes {
            let _ = writeln!(
                out,
                "{}{}: {} → {}",
                if markdown { "- " } else { "  - " },
                change.label,
                describe_outcome(change, true),
                describe_outcome(change, false)
            );
        }
    }
    out
}

fn describe_outcome(change: &Change, before: bool) -> &'static str {
    let outcome = if before { change.before } else { change.after };
    match outcome {
        Some(Outcome::Granted) => "granted",
        Some(Outcome::Missing) => "missing",
        Some(Outcome::Unknown) => "unknown",
        None => "not checked",
    }
}

/// Renders a comparison of a verdict with a manifest.
pub fn render_manifest_diff(diff: &ManifestDiff, format: Format) -> String {
    if format == Format::Json {
        return json(diff);
    }
    let markdown = format == Format::Markdown;
    let mut out = String::new();
    let headline = if diff.has_regressions() {
        "MISSING PERMISSIONS"
    } else if diff.unknown.is_empty() {
        "satisfied"
    } else {
        "not determined"
    };
    let target = match &diff.tier {
        Some(tier) => format!("{} (tier {tier})", diff.manifest),
        None => diff.manifest.clone(),
    };
    if markdown {
        let _ = writeln!(out, "### {target}: {headline}\n");
        let _ = writeln!(out, "- key {} (verdict `{}`)", diff.key, diff.code);
    } else {
        let _ = writeln!(out, "{target}: {headline}");
        let _ = writeln!(out, "key {} (verdict {})", diff.key, diff.code);
    }
    let excess_title = if diff.excess_complete {
        "Excess (held, not needed)"
    } else {
        "Excess (held, not needed; incomplete: the verdict did not look at every row)"
    };
    for (title, entries) in [
        ("Missing", &diff.missing),
        ("Unknown", &diff.unknown),
        (excess_title, &diff.excess),
        ("Satisfied", &diff.satisfied),
    ] {
        if entries.is_empty() {
            continue;
        }
        if markdown {
            let _ = writeln!(out, "\n**{title} ({}):**\n", entries.len());
        } else {
            let _ = writeln!(out, "\n{title} ({}):", entries.len());
        }
        for entry in entries {
            let _ = writeln!(
                out,
                "{}{}",
                if markdown { "- " } else { "  - " },
                entry_line(entry)
            );
        }
    }
    out
}

fn entry_line(entry: &Entry) -> String {
    match &entry.detail {
        Some(detail) => format!("{} — {detail}", entry.label),
        None => entry.label.clone(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::verdict::{Fix, KeyInfo, Orphan, SCHEMA, Subject};
    use rakguard_catalog::key::{KeyKind, Mode};
    use rakguard_catalog::permission::Level;

    fn evidence(method: &str, path: &str, status: u16, id: &str) -> Evidence {
        Evidence {
            method: method.to_owned(),
            path: path.to_owned(),
            status: Some(status),
            request_id: Some(id.to_owned()),
            error_code: None,
            scope_named: Vec::new(),
            attempts: 1,
            note: None,
        }
    }

    fn result(
        row: &str,
        level: Level,
        outcome: Outcome,
        evidence: Vec<Evidence>,
    ) -> PermissionResult {
        let catalog = Catalog::embedded();
        let permission = rakguard_catalog::permission::Permission::new(row, level);
        PermissionResult {
            permission: crate::verdict::permission_id(&permission),
            row: row.to_owned(),
            level,
            label: catalog.form_label(&permission),
            required: true,
            outcome,
            implied_by: None,
            reason: (outcome == Outcome::Unknown)
                .then(|| "HTTP 500, still after 6 attempts".to_owned()),
            evidence,
        }
    }

    fn base(command: &str) -> Verdict {
        Verdict {
            schema: SCHEMA,
            code: Code::Ok,
            message: "all good".to_owned(),
            key: KeyInfo {
                kind: Some(KeyKind::Restricted),
                mode: Some(Mode::Test),
                masked: "rk_test_****************wxyz".to_owned(),
            },
            subject: Subject {
                command: command.to_owned(),
                manifest: (command == "verify").then(|| "selgeo".to_owned()),
                tier: None,
                api_base: "http://127.0.0.1:9".to_owned(),
                stripe_account: None,
                excess_checked: false,
            },
            permissions: Vec::new(),
            rows: Vec::new(),
            missing: Vec::new(),
            unknown: Vec::new(),
            excess: Vec::new(),
            orphans: Vec::new(),
            fix: None,
            decisive: None,
            requests: 7,
            elapsed_ms: 1234,
        }
    }

    fn missing_verdict() -> Verdict {
        let mut verdict = base("verify");
        verdict.code = Code::PermissionsMissing;
        verdict.message = "rk_test_****wxyz lacks 1 of the 3 permissions needed".to_owned();
        verdict.permissions = vec![
            result(
                "customer",
                Level::Read,
                Outcome::Granted,
                vec![evidence("GET", "/v1/customers?limit=1", 200, "req_aaa")],
            ),
            result(
                "coupon",
                Level::Write,
                Outcome::Missing,
                vec![evidence("POST", "/v1/coupons", 403, "req_bbb")],
            ),
            result("invoice", Level::Read, Outcome::Unknown, Vec::new()),
        ];
        verdict.missing = vec!["Billing → Coupons: Write".to_owned()];
        verdict.unknown = vec!["Billing → Invoices: Read".to_owned()];
        verdict.orphans = vec![Orphan {
            id: "rakguard_probe_1".to_owned(),
            cleanup: "DELETE /v1/coupons/{coupon}".to_owned(),
            permission: "coupon_write".to_owned(),
            reason: "both delete attempts failed (last: HTTP 500)".to_owned(),
        }];
        verdict.fix = Some(Fix {
            summary: "Edit the key and set these permissions.".to_owned(),
            steps: vec!["Billing → Coupons: Write (now None)".to_owned()],
            dashboard_url: Some("https://dashboard.stripe.com/test/apikeys".to_owned()),
        });
        verdict
    }

    #[test]
    fn a_verify_table_shows_results_evidence_and_the_fix() {
        let text = render_verdict(&missing_verdict(), Format::Table);
        assert!(
            text.starts_with("STRIPE_PERMISSIONS_MISSING  rk_test_"),
            "{text}"
        );
        assert!(
            text.contains("verify selgeo against http://127.0.0.1:9"),
            "{text}"
        );
        assert!(text.contains("(restricted, test mode)"), "{text}");
        let coupon = text
            .lines()
            .find(|line| line.contains("Billing → Coupons: Write") && line.contains("MISSING"))
            .expect("the coupon line");
        assert!(
            coupon.contains("POST /v1/coupons → 403 (req_bbb)"),
            "{coupon}"
        );
        assert!(
            text.contains("GET /v1/customers?limit=1 → 200 (req_aaa)"),
            "{text}"
        );
        assert!(text.contains("HTTP 500, still after 6 attempts"), "{text}");
        assert!(
            text.contains("Missing (1):\n  - Billing → Coupons: Write"),
            "{text}"
        );
        assert!(text.contains("Unknown (1):"), "{text}");
        assert!(
            text.contains("DELETE /v1/coupons/rakguard_probe_1"),
            "{text}"
        );
        assert!(text.contains("Fix: Edit the key"), "{text}");
        assert!(
            text.contains("  1. Billing → Coupons: Write (now None)"),
            "{text}"
        );
        assert!(
            text.contains("Dashboard: https://dashboard.stripe.com/test/apikeys"),
            "{text}"
        );
        assert!(text.trim_end().ends_with("7 request(s) in 1.2 s"), "{text}");
    }

    #[test]
    fn markdown_has_a_table_and_escapes_cells() {
        let mut verdict = missing_verdict();
        verdict.permissions[0].evidence[0].path = "/v1/customers?a=b|c".to_owned();
        let text = render_verdict(&verdict, Format::Markdown);
        assert!(
            text.starts_with("### ❌ `STRIPE_PERMISSIONS_MISSING`"),
            "{text}"
        );
        assert!(
            text.contains("| Permission | Result | Evidence |"),
            "{text}"
        );
        assert!(
            text.contains(
                "| Billing → Coupons: Write | **missing** | POST /v1/coupons → 403 (req_bbb) |"
            ),
            "{text}"
        );
        assert!(text.contains("a=b\\|c"), "{text}");
        assert!(text.contains("**How to fix:**"), "{text}");
        assert!(
            text.contains("<https://dashboard.stripe.com/test/apikeys>"),
            "{text}"
        );
    }

    #[test]
    fn json_is_the_verdicts_own() {
        let verdict = missing_verdict();
        let text = render_verdict(&verdict, Format::Json);
        assert_eq!(Verdict::from_json(&text).unwrap(), verdict);
    }

    #[test]
    fn a_scan_table_groups_rows_as_the_form() {
        let mut verdict = base("scan");
        let row = |id: &str, held: Held| {
            let catalog = Catalog::embedded();
            let row = catalog.row(id).expect(id);
            RowResult {
                row: id.to_owned(),
                group: row.group.clone(),
                label: row.display_name.clone(),
                held,
            }
        };
        // Deliberately out of order: the rendering follows the form.
        verdict.rows = vec![
            row("coupon", Held::Write),
            row("customer", Held::Read),
            row("balance", Held::None),
            row("invoice", Held::Unknown),
            row("promotion_code", Held::None),
        ];
        let mut unknown = result("invoice", Level::Read, Outcome::Unknown, Vec::new());
        unknown.required = false;
        verdict.permissions = vec![unknown];
        let text = render_verdict(&verdict, Format::Table);
        let core = text.find("\nCore\n").expect("Core");
        let billing = text.find("\nBilling\n").expect("Billing");
        assert!(core < billing, "{text}");
        let customers = text.find("Customers").unwrap();
        let coupons = text.find("Coupons").unwrap();
        assert!(customers < coupons, "{text}");
        assert!(
            text.contains("Held on 2 of 5 rows (Write 1, Read 1)"),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|line| line.contains("Coupons") && line.trim_end().ends_with("Write")),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|line| line.contains("Invoices") && line.contains("unknown — HTTP 500")),
            "{text}"
        );

        let md = render_verdict(&verdict, Format::Markdown);
        assert!(md.contains("| Billing | Coupons | **Write** |"), "{md}");
        assert!(md.contains("| Core | Balance | None |"), "{md}");
    }

    #[test]
    fn a_section_with_nothing_held_is_one_line() {
        let mut verdict = base("scan");
        let catalog = Catalog::embedded();
        let group = catalog
            .groups()
            .iter()
            .find(|group| group.name == "Treasury")
            .expect("Treasury");
        verdict.rows = group
            .rows
            .iter()
            .map(|id| RowResult {
                row: id.clone(),
                group: group.name.clone(),
                label: catalog.row(id).unwrap().display_name.clone(),
                held: Held::None,
            })
            .collect();
        let text = verdict_table(&verdict);
        assert!(
            text.contains(&format!("Treasury: None on all {} rows", group.rows.len())),
            "{text}"
        );
    }

    #[test]
    fn a_rejected_key_shows_the_decisive_answer() {
        let mut verdict = base("verify");
        verdict.code = Code::KeyExpired;
        verdict.message = "Stripe says rk_test_****wxyz has expired".to_owned();
        let mut decisive = evidence("GET", "/v1/balance", 401, "req_zzz");
        decisive.error_code = Some("api_key_expired".to_owned());
        verdict.decisive = Some(decisive);
        let text = verdict_table(&verdict);
        assert!(
            text.contains("evidence: GET /v1/balance → 401 (api_key_expired, req_zzz)"),
            "{text}"
        );
        assert!(text.starts_with("STRIPE_KEY_EXPIRED"), "{text}");
    }

    #[test]
    fn explanations_render_in_every_format() {
        let body = rakguard_catalog::stripe_error::permission_error(
            rakguard_catalog::stripe_error::PermissionErrorEra::Current,
            &rakguard_catalog::stripe_error::PermissionRefusal {
                masked_key: "rk_test_***wxyz",
                account_id: "acct_1X",
                permissions: &[rakguard_catalog::stripe_error::PermissionName::new(
                    "coupon_write",
                    "Coupons Write",
                )],
                key_object_id: "rk_1Obj",
            },
        )
        .body_string();
        let explanation = crate::explain::explain(Some(403), &body).unwrap();
        let table = render_explanation(&explanation, Format::Table);
        assert!(table.starts_with("STRIPE_PERMISSIONS_MISSING\n"), "{table}");
        assert!(
            table.contains("coupon_write  Billing → Coupons: Write"),
            "{table}"
        );
        assert!(table.contains("  1. "), "{table}");
        assert!(
            table.contains("Dashboard: https://dashboard.stripe.com/b/acct_1X"),
            "{table}"
        );
        assert!(
            table.contains("Stripe said (403, more_permissions_required) Permission denied."),
            "{table}"
        );
        let md = render_explanation(&explanation, Format::Markdown);
        assert!(
            md.contains("| `coupon_write` | Billing → Coupons: Write |"),
            "{md}"
        );
        let json = render_explanation(&explanation, Format::Json);
        assert!(json.contains("\"STRIPE_PERMISSIONS_MISSING\""), "{json}");
    }

    #[test]
    fn diffs_render() {
        let before = base("verify");
        let after = missing_verdict();
        let mut granted = after.clone();
        granted.permissions[1].outcome = Outcome::Granted;
        let diff = crate::diff::diff_verdicts(&granted, &after);
        let text = render_verdict_diff(&diff, Format::Table);
        assert!(text.starts_with("REGRESSED"), "{text}");
        assert!(
            text.contains("Lost (1):\n  - Billing → Coupons: Write: granted → missing"),
            "{text}"
        );
        let same = crate::diff::diff_verdicts(&before, &before);
        assert!(render_verdict_diff(&same, Format::Markdown).contains("unchanged"));
    }

    #[test]
    fn formats_parse() {
        assert_eq!("table".parse::<Format>(), Ok(Format::Table));
        assert_eq!("MD".parse::<Format>(), Ok(Format::Markdown));
        assert_eq!("json".parse::<Format>(), Ok(Format::Json));
        assert!("html".parse::<Format>().is_err());
    }
}
