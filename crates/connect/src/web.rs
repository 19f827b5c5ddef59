//! The hosted pages, rendered to HTML: the merchant's connect page, the admin page and its login,
//! and one-message pages. Pure functions from the plain data in [`crate::views`] to a complete
//! HTML5 document; the service does the IO.
//!
//! Every page is rendered with [`maud`], which escapes every spliced value, so tenant ids,
//! integration names, masked keys, messages and purposes can never inject markup. The pages carry
//! no inline script, no inline style and no event-handler attributes: the service can send a
//! strict `Content-Security-Policy: default-src 'self'`. Styling and the optional enhancements
//! come from [`CONNECT_CSS`] (`/static/connect.css`) and [`CONNECT_JS`] (`/static/connect.js`);
//! every page works with JavaScript disabled.

use maud::{DOCTYPE, Markup, html};

use crate::views::{AdminConnection, AdminPage, ConnectPage, FieldState, MessagePage, ModeSection};

/// The stylesheet every page links to, served at `/static/connect.css`.
pub const CONNECT_CSS: &str = include_str!("../static/connect.css");

/// The script every page loads (deferred), served at `/static/connect.js`. Progressive
/// enhancement only: a show/hide toggle for key fields, cleanup of pasted keys, and a busy state
/// on submit buttons.
pub const CONNECT_JS: &str = include_str!("../static/connect.js");

/// Where the pages link the stylesheet.
const CSS_PATH: &str = "/static/connect.css";
/// Where the pages load the script from.
const JS_PATH: &str = "/static/connect.js";

/// The full document around a page's body.
fn document(title: &str, body_class: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta name="robots" content="noindex, nofollow";
                title { (title) }
                link rel="stylesheet" href=(CSS_PATH);
                script src=(JS_PATH) defer {}
            }
            body class=(body_class) {
                (body)
            }
        }
    }
    .into_string()
}

/// A URL that is safe to put in an `href`: absolute `http(s)` or a same-site path. Anything
/// else (`javascript:`, `data:`, …) becomes `#`.
fn safe_href(url: &str) -> &str {
    let lower = url.trim_start().to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with('/') {
        url
    } else {
        "#"
    }
}

/// A mode as a fragment usable inside an `id` (letters, digits, `-`, `_`).
fn id_part(mode: &str) -> String {
    let part: String = mode
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if part.is_empty() {
        "mode".to_owned()
    } else {
        part
    }
}

/// The placeholder for a mode's key field.
fn key_placeholder(mode: &str) -> &'static str {
    match mode {
        "test" => "rk_test_…",
        "live" => "rk_live_…",
        _ => "rk_…",
    }
}

/// A status as shown to the merchant ("active" → "Active"); unknown statuses are shown as given.
fn status_label(status: &str) -> String {
    match status {
        "active" => "Active".to_owned(),
        "degraded" => "Degraded".to_owned(),
        "revoked" => "Revoked".to_owned(),
        "expired" => "Expired".to_owned(),
        "unreachable" => "Unreachable".to_owned(),
        other => other.to_owned(),
    }
}

/// The hidden fields every connect-page form posts back.
fn hidden_fields(page: &ConnectPage, mode: &str) -> Markup {
    html! {
        input type="hidden" name="session" value=(page.session);
        input type="hidden" name="csrf" value=(page.csrf);
        input type="hidden" name="mode" value=(mode);
    }
}

/// The empty field: paste a key, Connect.
fn key_form(page: &ConnectPage, section: &ModeSection) -> Markup {
    let id = format!("key-{}", id_part(&section.mode));
    let hint_id = format!("{id}-hint");
    html! {
        form.connect-form method="post" action=(page.connect_action) data-busy="Verifying…" {
            (hidden_fields(page, &section.mode))
            label.field-label for=(id) { "Stripe restricted key" }
            div.key-row {
                input.key-input type="password" name="key" id=(id) autocomplete="off"
                    spellcheck="false" autocapitalize="off" placeholder=(key_placeholder(&section.mode))
                    required aria-describedby=(hint_id) data-key-input;
            }
            p.hint id=(hint_id) {
                "Paste a restricted key (it starts with "
                code { (key_placeholder(&section.mode)) }
                "). No key yet? "
                a href=(safe_href(&section.guide_url)) target="_blank" rel="noopener" { "Create one →" }
            }
            div.actions {
                button.button.button-primary type="submit" { "Connect" }
                a.button.button-link href=(safe_href(&section.dashboard_url)) target="_blank" rel="noopener" {
                    "Open Stripe Dashboard"
                }
            }
        }
    }
}

/// What to do about a connection that is not active, in words.
fn status_warning(page: &ConnectPage, status: &str, lost: &[String]) -> Markup {
    let integration = &page.integration;
    html! {
        @match status {
            "active" => {}
            "degraded" => {
                div.panel.panel-warning role="alert" {
                    h3 { "This key lost permissions " (integration) " needs" }
                    p {
                        "The last check found that these permissions are no longer on the key. "
                        "Edit the key in the Stripe Dashboard (Developers → API keys → the key's ⋯ menu → Edit), "
                        "turn them back on and save. The next check picks the change up; to check right away, "
                        "disconnect and connect the key again."
                    }
                    @if !lost.is_empty() {
                        ul.permission-list {
                            @for line in lost { li { (line) } }
                        }
                    }
                }
            }
            "revoked" => {
                div.panel.panel-warning role="alert" {
                    h3 { "Stripe no longer accepts this key" }
                    p {
                        "The key was revoked, rolled or deleted in the Stripe Dashboard, so "
                        (integration) " can no longer use it. Create a new restricted key with the same "
                        "permissions, disconnect this one and connect the new key."
                    }
                }
            }
            "expired" => {
                div.panel.panel-warning role="alert" {
                    h3 { "This key has expired" }
                    p {
                        "Stripe stopped accepting the key when it reached its expiry date. Create a new "
                        "restricted key with the same permissions (without an expiry date, or a later one), "
                        "disconnect this one and connect the new key."
                    }
                }
            }
            "unreachable" => {
                div.panel.panel-warning role="alert" {
                    h3 { "The last check could not reach Stripe" }
                    p {
                        (integration) " could not confirm that the key still works because Stripe did not "
                        "answer. This is usually temporary and the key is checked again automatically. "
                        "If this stays for more than a few hours, check that the key still exists in the "
                        "Stripe Dashboard, or disconnect and connect it again."
                    }
                }
            }
            _ => {
                div.panel.panel-warning role="alert" {
                    h3 { "This connection needs attention" }
                    p {
                        "The key is not working as expected. Disconnect it and connect a new restricted key "
                        "with the required permissions."
                    }
                }
            }
        }
    }
}

/// One mode's section.
fn mode_section(page: &ConnectPage, section: &ModeSection) -> Markup {
    let heading_id = format!("mode-{}-title", id_part(&section.mode));
    html! {
        section.mode aria-labelledby=(heading_id) {
            h2 id=(heading_id) { (section.title) }
            @match &section.state {
                FieldState::Empty => {
                    (key_form(page, section))
                }
                FieldState::Connected { masked_key, status, verified_at, lost } => {
                    div.connected {
                        dl.facts {
                            div { dt { "Key" } dd { code.key { (masked_key) } } }
                            div {
                                dt { "Status" }
                                dd {
                                    span.status.status-ok[status == "active"].status-bad[status != "active"] {
                                        (status_label(status))
                                    }
                                }
                            }
                            div { dt { "Checked" } dd { "Verified " (verified_at) } }
                        }
                        (status_warning(page, status, lost))
                        form.disconnect-form method="post" action=(page.disconnect_action) data-busy="Disconnecting…" {
                            (hidden_fields(page, &section.mode))
                            button.button.button-secondary type="submit" { "Disconnect" }
                        }
                    }
                }
                FieldState::Refused { code, title, message, missing, masked_key } => {
                    div.panel.panel-error role="alert" {
                        h3 { (title) }
                        p { (message) }
                        @if !missing.is_empty() {
                            ul.permission-list {
                                @for line in missing { li { (line) } }
                            }
                            p {
                                "Edit the key in the Stripe Dashboard (Developers → API keys → the key's ⋯ menu → Edit), "
                                "turn these on, save, then paste the key below and connect again."
                            }
                        }
                        @if let Some(masked) = masked_key {
                            p.small { "Key tried: " code.key { (masked) } }
                        }
                        p.panel-links {
                            a href=(safe_href(&section.guide_url)) target="_blank" rel="noopener" {
                                "Read the restricted-key guide"
                            }
                            " · "
                            a href=(safe_href(&section.dashboard_url)) target="_blank" rel="noopener" {
                                "Open Stripe Dashboard"
                            }
                        }
                        p.small { "Code: " code { (code) } }
                    }
                    (key_form(page, section))
                }
            }
        }
    }
}

/// The "Required permissions (N)" disclosure, grouped by form section in the order given.
fn permissions_disclosure(page: &ConnectPage) -> Markup {
    let mut groups: Vec<(&str, Vec<&crate::views::PermissionLine>)> = Vec::new();
    for line in &page.permissions {
        match groups.iter_mut().find(|(group, _)| *group == line.group) {
            Some((_, lines)) => lines.push(line),
            None => groups.push((&line.group, vec![line])),
        }
    }
    html! {
        details.permissions {
            summary { "Required permissions (" (page.permissions.len()) ")" }
            div.permissions-body {
                p {
                    "Give the key exactly these permissions and leave every other row at None. "
                    "Write includes Read."
                }
                @for (group, lines) in &groups {
                    h3 { (group) }
                    ul.permission-list {
                        @for line in lines {
                            li {
                                strong { (line.row) } ": " (line.level)
                                @if !line.purpose.is_empty() {
                                    " — " (line.purpose)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The merchant's connect page: one section per allowed mode, the required permissions, the red
/// panel after a refused attempt.
pub fn connect_page(page: &ConnectPage) -> String {
    let title = format!("{} — Connect Stripe", page.integration);
    let body = html! {
        main.container {
            header.page-header {
                @if let Some(url) = &page.return_url {
                    p.back { a href=(safe_href(url)) { "← Back to " (page.integration) } }
                }
                h1 { "Connect your Stripe account" }
                p.lead {
                    (page.integration) " works with a Stripe restricted key: a key that can do only what "
                    (page.integration) " needs. Create one in the Stripe Dashboard (name it "
                    strong.key-name { (page.key_name) }
                    " so you can find it later), then paste it below. "
                    (page.integration) " checks every permission before saving the key."
                }
            }
            @if let Some(notice) = &page.notice {
                div.notice role="status" { (notice) }
            }
            (permissions_disclosure(page))
            @for section in &page.modes {
                (mode_section(page, section))
            }
            footer.page-footer {
                p.small {
                    "The key is checked against Stripe, stored encrypted and never shown in full again. "
                }
                p.small { "Tenant: " code.tenant { (page.tenant) } }
            }
        }
    };
    document(&title, "page-connect", body)
}

/// A table, or a line saying there is nothing to list.
fn empty_row(columns: usize, what: &str) -> Markup {
    html! {
        tr.empty { td colspan=(columns) { (what) } }
    }
}

/// One connection's row on the admin page.
fn admin_connection_row(conn: &AdminConnection) -> Markup {
    html! {
        tr {
            td { code { (conn.id) } }
            td { (conn.tenant) }
            td { (conn.mode) }
            td { (conn.manifest) }
            td {
                span.status.status-ok[conn.status == "active"].status-bad[conn.status != "active"] {
                    (conn.status)
                }
            }
            td { code.key { (conn.masked_key) } }
            td { (conn.connected_at) }
            td { (conn.verified_at) }
            td { code { (conn.code) } }
            td {
                @if conn.history.is_empty() {
                    "—"
                } @else {
                    details.history {
                        summary { (conn.history.len()) " checks" }
                        table.inner {
                            thead { tr { th scope="col" { "When" } th scope="col" { "Trigger" } th scope="col" { "Code" } th scope="col" { "Status" } } }
                            tbody {
                                @for (when, trigger, code, status) in &conn.history {
                                    tr { td { (when) } td { (trigger) } td { code { (code) } } td { (status) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The admin page: tenants, connections with their history, orphaned probe objects, the audit
/// log; a form to re-verify every connection and one to log out.
pub fn admin_page(page: &AdminPage) -> String {
    let body = html! {
        main.container.wide {
            header.page-header.admin-header {
                h1 { "Connections — admin" }
                div.actions {
                    form method="post" action="/admin/reverify" data-busy="Re-verifying…" {
                        input type="hidden" name="csrf" value=(page.csrf);
                        button.button.button-primary type="submit" { "Re-verify all" }
                    }
                    form method="post" action="/admin/logout" {
                        input type="hidden" name="csrf" value=(page.csrf);
                        button.button.button-secondary type="submit" { "Log out" }
                    }
                }
            }
            section aria-labelledby="tenants-title" {
                h2 id="tenants-title" { "Tenants (" (page.tenants.len()) ")" }
                div.table-wrap {
                    table {
                        thead { tr { th scope="col" { "Tenant" } } }
                        tbody {
                            @for tenant in &page.tenants { tr { td { (tenant) } } }
                            @if page.tenants.is_empty() { (empty_row(1, "No tenants.")) }
                        }
                    }
                }
            }
            section aria-labelledby="connections-title" {
                h2 id="connections-title" { "Connections (" (page.connections.len()) ")" }
                div.table-wrap {
                    table {
                        thead {
                            tr {
                                th scope="col" { "ID" }
                                th scope="col" { "Tenant" }
                                th scope="col" { "Mode" }
                                th scope="col" { "Manifest" }
                                th scope="col" { "Status" }
                                th scope="col" { "Key" }
                                th scope="col" { "Connected" }
                                th scope="col" { "Verified" }
                                th scope="col" { "Last code" }
                                th scope="col" { "History" }
                            }
                        }
                        tbody {
                            @for conn in &page.connections { (admin_connection_row(conn)) }
                            @if page.connections.is_empty() { (empty_row(10, "No connections.")) }
                        }
                    }
                }
            }
            section aria-labelledby="orphans-title" {
                h2 id="orphans-title" { "Orphaned probe objects (" (page.orphans.len()) ")" }
                div.table-wrap {
                    table {
                        thead {
                            tr {
                                th scope="col" { "When" }
                                th scope="col" { "Connection" }
                                th scope="col" { "Object" }
                                th scope="col" { "Cleanup request" }
                                th scope="col" { "Reason" }
                            }
                        }
                        tbody {
                            @for (when, conn, object, cleanup, reason) in &page.orphans {
                                tr {
                                    td { (when) }
                                    td { code { (conn) } }
                                    td { code { (object) } }
                                    td { code { (cleanup) } }
                                    td { (reason) }
                                }
                            }
                            @if page.orphans.is_empty() { (empty_row(5, "No orphans.")) }
                        }
                    }
                }
            }
            section aria-labelledby="audit-title" {
                h2 id="audit-title" { "Audit log" }
                div.table-wrap {
                    table {
                        thead {
                            tr {
                                th scope="col" { "When" }
                                th scope="col" { "Actor" }
                                th scope="col" { "Action" }
                                th scope="col" { "Tenant / mode" }
                                th scope="col" { "Detail" }
                            }
                        }
                        tbody {
                            @for (when, actor, action, target, detail) in &page.audit {
                                tr {
                                    td { (when) }
                                    td { (actor) }
                                    td { code { (action) } }
                                    td { (target) }
                                    td { (detail) }
                                }
                            }
                            @if page.audit.is_empty() { (empty_row(5, "Nothing yet.")) }
                        }
                    }
                }
            }
        }
    };
    document("Admin — Connect Stripe", "page-admin", body)
}

/// The admin login: the admin API token, posted with `csrf` to `/admin/login`.
pub fn admin_login_page(error: Option<&str>, csrf: &str) -> String {
    let body = html! {
        main.container.narrow {
            h1 { "Admin sign-in" }
            @if let Some(error) = error {
                div.panel.panel-error role="alert" { p { (error) } }
            }
            form.login-form method="post" action="/admin/login" data-busy="Signing in…" {
                input type="hidden" name="csrf" value=(csrf);
                label.field-label for="admin-token" { "Admin API token" }
                div.key-row {
                    input.key-input type="password" name="token" id="admin-token" autocomplete="off"
                        spellcheck="false" autocapitalize="off" required data-key-input;
                }
                div.actions {
                    button.button.button-primary type="submit" { "Sign in" }
                }
            }
        }
    };
    document("Admin sign-in — Connect Stripe", "page-login", body)
}

/// A page with one message: an expired link, a bad request, a confirmation.
pub fn message_page(page: &MessagePage) -> String {
    let body = html! {
        main.container.narrow {
            h1 { (page.title) }
            @if page.error {
                div.panel.panel-error role="alert" { p { (page.message) } }
            } @else {
                div.notice role="status" { p { (page.message) } }
            }
        }
    };
    document(
        &format!("{} — Connect Stripe", page.title),
        "page-message",
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::PermissionLine;

    const HOSTILE: &str = "<script>alert(1)</script>";
    const HOSTILE_ATTR: &str = "\"><img src=x onerror=alert(1)>";

    fn perm(group: &str, row: &str, level: &str, purpose: &str) -> PermissionLine {
        PermissionLine {
            group: group.into(),
            row: row.into(),
            level: level.into(),
            purpose: purpose.into(),
        }
    }

    fn section(mode: &str, state: FieldState) -> ModeSection {
        ModeSection {
            mode: mode.into(),
            title: if mode == "test" {
                "Test mode".into()
            } else {
                "Live mode".into()
            },
            dashboard_url: format!("https://dashboard.stripe.com/{mode}/apikeys"),
            guide_url: format!("https://docs.example.com/guide/{mode}"),
            state,
        }
    }

    fn page(modes: Vec<ModeSection>) -> ConnectPage {
        ConnectPage {
            integration: "Selgeo".into(),
            tenant: "acct_tenant_42".into(),
            session: "sess.token.value".into(),
            csrf: "csrf-token-1".into(),
            connect_action: "/connect".into(),
            disconnect_action: "/disconnect".into(),
            return_url: Some("https://app.example.com/settings".into()),
            permissions: vec![
                perm("Core resources", "Charges", "Read", "to attribute sales"),
                perm("Billing", "Coupons", "Write", "to create affiliate coupons"),
                perm("Core resources", "Customers", "Read", ""),
                perm(
                    "Webhook",
                    "Webhook endpoints",
                    "Write",
                    "to listen for payments",
                ),
            ],
            key_name: "Selgeo Affiliates".into(),
            modes,
            notice: None,
        }
    }

    /// Every tag in `html` as (name, attribute names), parsed the way maud writes them
    /// (attribute values always double-quoted, `"` and `<` escaped inside).
    fn tags(html: &str) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        let bytes = html.as_bytes();
        let mut i = 0;
        while let Some(start) = html[i..].find('<').map(|p| p + i) {
            i = start + 1;
            if html[i..].starts_with('!') || html[i..].starts_with('/') {
                continue;
            }
            let name_end = html[i..]
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .map_or(html.len(), |p| p + i);
            let name = html[i..name_end].to_ascii_lowercase();
            i = name_end;
            let mut attrs = Vec::new();
            loop {
                while i < bytes.len() && (bytes[i] as char).is_whitespace() {
                    i += 1;
                }
                if i >= bytes.len() || bytes[i] == b'>' || bytes[i] == b'/' {
                    break;
                }
                let attr_end = html[i..]
                    .find(|c: char| c.is_whitespace() || c == '>' || c == '=')
                    .map_or(html.len(), |p| p + i);
                attrs.push(html[i..attr_end].to_ascii_lowercase());
                i = attr_end;
                if i < bytes.len() && bytes[i] == b'=' {
                    assert_eq!(bytes[i + 1], b'"', "unquoted attribute value near {i}");
                    let close = html[i + 2..].find('"').map(|p| p + i + 2);
                    i = close.map_or(html.len(), |c| c + 1);
                }
            }
            out.push((name, attrs));
        }
        out
    }

    /// No inline script, no inline style, no event handlers; the CSS and JS are linked.
    fn assert_csp_clean(html: &str) {
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(html.contains(r#"<html lang="en">"#));
        assert!(html.contains(r#"<link rel="stylesheet" href="/static/connect.css">"#));
        assert!(html.contains(r#"<script src="/static/connect.js" defer></script>"#));
        for (name, attrs) in tags(html) {
            assert_ne!(name, "style", "inline <style> element");
            if name == "script" {
                assert!(attrs.iter().any(|a| a == "src"), "<script> without src");
            }
            for attr in &attrs {
                assert!(
                    !attr.starts_with("on"),
                    "event handler attribute {attr} on <{name}>"
                );
                assert_ne!(attr, "style", "style attribute on <{name}>");
            }
        }
        assert_eq!(html.matches("<main").count(), 1);
    }

    /// Every `<input>` other than hidden ones has a `<label for>` naming its id.
    fn assert_inputs_labelled(html: &str) {
        let mut rest = html;
        while let Some(pos) = rest.find("<input ") {
            let tag_end = rest[pos..].find('>').map_or(rest.len(), |e| pos + e);
            let tag = &rest[pos..tag_end];
            if !tag.contains(r#"type="hidden""#) {
                let id_start = tag.find(r#" id=""#).map(|p| p + 5);
                let id = id_start
                    .and_then(|s| tag[s..].find('"').map(|e| &tag[s..s + e]))
                    .unwrap_or_default();
                assert!(!id.is_empty(), "input without id: {tag}");
                assert!(
                    html.contains(&format!(r#"<label class="field-label" for="{id}">"#)),
                    "unlabelled {id}"
                );
            }
            rest = &rest[tag_end..];
        }
    }

    #[test]
    fn empty_state_has_the_form() {
        let html = connect_page(&page(vec![
            section("test", FieldState::Empty),
            section("live", FieldState::Empty),
        ]));
        assert_csp_clean(&html);
        assert_inputs_labelled(&html);
        assert!(html.contains("<title>Selgeo — Connect Stripe</title>"));
        assert!(html.contains("<h1>Connect your Stripe account</h1>"));
        assert!(html.contains(">Test mode</h2>"));
        assert!(html.contains(">Live mode</h2>"));
        assert_eq!(
            html.matches(r#"<form class="connect-form" method="post" action="/connect""#)
                .count(),
            2
        );
        assert_eq!(
            html.matches(r#"<input type="hidden" name="session" value="sess.token.value">"#)
                .count(),
            2
        );
        assert_eq!(
            html.matches(r#"<input type="hidden" name="csrf" value="csrf-token-1">"#)
                .count(),
            2
        );
        assert!(html.contains(r#"<input type="hidden" name="mode" value="test">"#));
        assert!(html.contains(r#"<input type="hidden" name="mode" value="live">"#));
        assert!(html.contains(
            r#"<label class="field-label" for="key-test">Stripe restricted key</label>"#
        ));
        assert!(html.contains(
            r#"<input class="key-input" type="password" name="key" id="key-test" autocomplete="off" spellcheck="false" autocapitalize="off" placeholder="rk_test_…" required"#
        ));
        assert!(html.contains(r#"id="key-live" autocomplete="off" spellcheck="false" autocapitalize="off" placeholder="rk_live_…" required"#));
        assert!(html.contains(
            r#"<a href="https://docs.example.com/guide/test" target="_blank" rel="noopener">Create one →</a>"#
        ));
        assert!(html.contains(r#"href="https://dashboard.stripe.com/live/apikeys" target="_blank" rel="noopener">Open Stripe Dashboard</a>"#));
        assert!(
            html.contains(
                r#"<button class="button button-primary" type="submit">Connect</button>"#
            )
        );
        assert!(
            html.contains(r#"<a href="https://app.example.com/settings">← Back to Selgeo</a>"#)
        );
        assert!(html.contains("Selgeo Affiliates"));
        assert!(html.contains(r#"<footer class="page-footer">"#));
        assert!(html.contains("acct_tenant_42"));
        assert!(!html.contains("Disconnect"));
        assert!(!html.contains(r#"role="alert""#));
        assert!(!html.contains(r#"role="status""#));
    }

    #[test]
    fn notice_is_a_status() {
        let mut p = page(vec![section("test", FieldState::Empty)]);
        p.notice = Some("Disconnected.".into());
        let html = connect_page(&p);
        assert!(html.contains(r#"<div class="notice" role="status">Disconnected.</div>"#));
    }

    #[test]
    fn connected_state_shows_key_status_and_disconnect() {
        let state = FieldState::Connected {
            masked_key: "rk_test_…a1b2".into(),
            status: "active".into(),
            verified_at: "2026-11-23 09:41 UTC".into(),
            lost: vec![],
        };
        let html = connect_page(&page(vec![section("test", state)]));
        assert_csp_clean(&html);
        assert!(html.contains(r#"<code class="key">rk_test_…a1b2</code>"#));
        assert!(html.contains("Active"));
        assert!(html.contains("Verified 2026-11-23 09:41 UTC"));
        assert!(
            html.contains(r#"<form class="disconnect-form" method="post" action="/disconnect""#)
        );
        assert!(html.contains(r#"<input type="hidden" name="mode" value="test">"#));
        assert!(html.contains(r#"<input type="hidden" name="session" value="sess.token.value">"#));
        assert!(html.contains(r#"<input type="hidden" name="csrf" value="csrf-token-1">"#));
        assert!(html.contains(r#"type="submit">Disconnect</button>"#));
        assert!(!html.contains(r#"name="key""#));
        assert!(
            !html.contains(r#"role="alert""#),
            "no warning for an active key"
        );
    }

    #[test]
    fn degraded_lists_lost_permissions() {
        let state = FieldState::Connected {
            masked_key: "rk_live_…zz".into(),
            status: "degraded".into(),
            verified_at: "today".into(),
            lost: vec![
                "Billing → Coupons: Write".into(),
                "Core → Charges: Read".into(),
            ],
        };
        let html = connect_page(&page(vec![section("live", state)]));
        assert_csp_clean(&html);
        assert!(html.contains("Degraded"));
        assert!(html.contains(r#"role="alert""#));
        assert!(html.contains("<li>Billing → Coupons: Write</li>"));
        assert!(html.contains("<li>Core → Charges: Read</li>"));
        assert!(html.contains("Disconnect</button>"));
    }

    #[test]
    fn revoked_expired_unreachable_explain() {
        for (status, words) in [
            ("revoked", "Create a new restricted key"),
            ("expired", "Create a new"),
            ("unreachable", "checked again automatically"),
            ("weird", "needs attention"),
        ] {
            let state = FieldState::Connected {
                masked_key: "rk_test_…1".into(),
                status: status.into(),
                verified_at: "now".into(),
                lost: vec![],
            };
            let html = connect_page(&page(vec![section("test", state)]));
            assert_csp_clean(&html);
            assert!(
                html.contains(r#"<div class="panel panel-warning" role="alert">"#),
                "{status}"
            );
            assert!(html.contains(words), "{status}: {html}");
        }
    }

    #[test]
    fn refused_shows_red_panel_then_the_form() {
        let state = FieldState::Refused {
            code: "STRIPE_PERMISSIONS_MISSING".into(),
            title: "Your Stripe key is missing required permissions".into(),
            message: "Turn on the permissions below.".into(),
            missing: vec![
                "Billing → Coupons: Write".into(),
                "Webhook endpoints: Write".into(),
            ],
            masked_key: Some("rk_test_…9f".into()),
        };
        let html = connect_page(&page(vec![section("test", state)]));
        assert_csp_clean(&html);
        assert_inputs_labelled(&html);
        let panel = html.find(r#"<div class="panel panel-error" role="alert"><h3>Your Stripe key is missing required permissions</h3>"#);
        let form = html.find(r#"<form class="connect-form""#);
        assert!(
            panel.is_some() && form.is_some() && panel < form,
            "panel, then form: {html}"
        );
        assert!(html.contains("<p>Turn on the permissions below.</p>"));
        assert!(html.contains(r#"<ul class="permission-list"><li>Billing → Coupons: Write</li><li>Webhook endpoints: Write</li></ul>"#));
        assert!(html.contains("rk_test_…9f"));
        assert!(html.contains("STRIPE_PERMISSIONS_MISSING"));
        assert!(html.contains("Read the restricted-key guide</a>"));
        assert_eq!(html.matches(">Open Stripe Dashboard</a>").count(), 2);
        assert!(html.contains(r#"name="key" id="key-test""#));
        assert!(html.contains(r#"type="submit">Connect</button>"#));
    }

    #[test]
    fn permissions_grouped_in_order_with_count() {
        let html = connect_page(&page(vec![section("test", FieldState::Empty)]));
        assert!(html.contains("<summary>Required permissions (4)</summary>"));
        let core = html.find("<h3>Core resources</h3>");
        let billing = html.find("<h3>Billing</h3>");
        let webhook = html.find("<h3>Webhook</h3>");
        assert!(core.is_some() && core < billing && billing < webhook);
        assert_eq!(html.matches("<h3>Core resources</h3>").count(), 1);
        assert!(html.contains(
            "<h3>Core resources</h3><ul class=\"permission-list\"><li><strong>Charges</strong>: Read — to attribute sales</li><li><strong>Customers</strong>: Read</li></ul>"
        ));
        assert!(
            html.contains("<li><strong>Coupons</strong>: Write — to create affiliate coupons</li>")
        );
    }

    #[test]
    fn user_strings_are_escaped() {
        let mut p = page(vec![
            section(
                "test",
                FieldState::Connected {
                    masked_key: HOSTILE.into(),
                    status: HOSTILE.into(),
                    verified_at: HOSTILE.into(),
                    lost: vec![HOSTILE.into()],
                },
            ),
            section(
                "live",
                FieldState::Refused {
                    code: HOSTILE.into(),
                    title: HOSTILE.into(),
                    message: HOSTILE.into(),
                    missing: vec![HOSTILE.into()],
                    masked_key: Some(HOSTILE.into()),
                },
            ),
            section(HOSTILE_ATTR, FieldState::Empty),
        ]);
        p.integration = HOSTILE.into();
        p.tenant = HOSTILE.into();
        p.key_name = HOSTILE.into();
        p.notice = Some(HOSTILE.into());
        p.session = HOSTILE_ATTR.into();
        p.csrf = HOSTILE_ATTR.into();
        p.connect_action = HOSTILE_ATTR.into();
        p.return_url = Some("javascript:alert(1)".into());
        p.permissions = vec![perm(HOSTILE, HOSTILE, HOSTILE, HOSTILE)];
        p.modes[0].dashboard_url = "javascript:alert(1)".into();
        p.modes[2].title = HOSTILE.into();
        p.modes[2].guide_url = "data:text/html,<script>alert(1)</script>".into();
        let html = connect_page(&p);
        assert!(!html.contains(HOSTILE), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("javascript:"));
        assert!(!html.contains("data:text"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(
            html.contains("<title>&lt;script&gt;alert(1)&lt;/script&gt; — Connect Stripe</title>")
        );
        assert_csp_clean(&html);
        assert_inputs_labelled(&html);
    }

    fn admin() -> AdminPage {
        AdminPage {
            tenants: vec!["t1".into(), HOSTILE.into()],
            connections: vec![AdminConnection {
                id: "conn_123".into(),
                tenant: HOSTILE.into(),
                mode: "live".into(),
                manifest: "selgeo@2 (pro)".into(),
                status: "degraded".into(),
                masked_key: "rk_live_…beef".into(),
                connected_at: "2026-01-01".into(),
                verified_at: "2026-01-02".into(),
                code: "STRIPE_PERMISSIONS_MISSING".into(),
                history: vec![
                    (
                        "2026-01-02".into(),
                        "schedule".into(),
                        "STRIPE_PERMISSIONS_MISSING".into(),
                        "degraded".into(),
                    ),
                    (
                        "2026-01-01".into(),
                        "connect".into(),
                        "OK".into(),
                        HOSTILE.into(),
                    ),
                ],
            }],
            orphans: vec![(
                "2026-01-01".into(),
                "conn_123".into(),
                "selgeo_probe_x".into(),
                "req_1".into(),
                HOSTILE.into(),
            )],
            audit: vec![(
                "now".into(),
                "admin".into(),
                "reverify".into(),
                "t1/live".into(),
                HOSTILE.into(),
            )],
            csrf: HOSTILE_ATTR.into(),
        }
    }

    #[test]
    fn admin_page_lists_and_escapes() {
        let html = admin_page(&admin());
        assert_csp_clean(&html);
        assert!(!html.contains(HOSTILE));
        assert!(!html.contains("<img"));
        assert!(html.contains("<code>conn_123</code>"));
        assert!(html.contains("selgeo@2 (pro)"));
        assert!(html.contains("rk_live_…beef"));
        assert!(html.contains("<summary>2 checks</summary>"));
        assert!(html.contains("<td>schedule</td>"));
        assert!(html.contains("selgeo_probe_x"));
        assert!(html.contains("<td>t1/live</td>"));
        assert!(html.contains(r#"<form method="post" action="/admin/reverify""#));
        assert!(html.contains(r#"<form method="post" action="/admin/logout">"#));
        assert_eq!(
            html.matches(r#"name="csrf" value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;""#)
                .count(),
            2
        );
        assert!(html.contains("Re-verify all</button>"));
        assert!(html.contains("Log out</button>"));
    }

    #[test]
    fn admin_page_empty() {
        let html = admin_page(&AdminPage {
            tenants: vec![],
            connections: vec![],
            orphans: vec![],
            audit: vec![],
            csrf: "c".into(),
        });
        assert_csp_clean(&html);
        assert!(html.contains("No connections."));
    }

    #[test]
    fn login_page_form() {
        let html = admin_login_page(Some(HOSTILE), HOSTILE_ATTR);
        assert_csp_clean(&html);
        assert_inputs_labelled(&html);
        assert!(!html.contains(HOSTILE));
        assert!(!html.contains("<img"));
        assert!(html.contains(r#"<form class="login-form" method="post" action="/admin/login""#));
        assert!(
            html.contains(
                r#"<label class="field-label" for="admin-token">Admin API token</label>"#
            )
        );
        assert!(html.contains(r#"type="password" name="token" id="admin-token""#));
        assert!(html.contains(r#"<input type="hidden" name="csrf" value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">"#));
        assert!(html.contains(r#"role="alert""#));
        let clean = admin_login_page(None, "tok");
        assert!(!clean.contains(r#"role="alert""#));
        assert!(clean.contains(r#"name="csrf" value="tok""#));
    }

    #[test]
    fn message_page_escapes_and_styles_errors() {
        let html = message_page(&MessagePage {
            title: HOSTILE.into(),
            message: HOSTILE.into(),
            error: true,
        });
        assert_csp_clean(&html);
        assert!(!html.contains(HOSTILE));
        assert!(html.contains(r#"role="alert""#));
        let ok = message_page(&MessagePage {
            title: "Done".into(),
            message: "All good.".into(),
            error: false,
        });
        assert!(ok.contains("<h1>Done</h1>"));
        assert!(ok.contains(r#"<div class="notice" role="status"><p>All good.</p></div>"#));
    }

    #[test]
    fn static_assets_are_self_contained() {
        assert!(CONNECT_CSS.contains(":focus-visible"));
        assert!(!CONNECT_CSS.contains("@import"));
        assert!(!CONNECT_CSS.contains("url("));
        assert!(CONNECT_JS.contains("Verifying"));
        assert!(!CONNECT_JS.contains("eval("));
        assert!(!CONNECT_JS.contains("innerHTML"));
        assert!(!CONNECT_JS.contains("http"));
    }
}
