//! The HTML side: the hosted connect page (reached through a signed link from
//! `POST /v1/connect_sessions`), the generated guide beside it, and the admin page. Forms carry a
//! CSRF token bound to the signed session (or the admin cookie); every HTML answer has a strict
//! Content-Security-Policy and no third-party assets.

// Handlers answer refusals with a ready page; boxing it would buy nothing on this path.
#![allow(clippy::result_large_err)]

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rakguard_catalog::Catalog;
use rakguard_catalog::dashboard::api_keys_url;
use rakguard_catalog::guide::{GuideFormat, GuideOptions};
use rakguard_verify::{Code, Verdict};
use secrecy::SecretString;
use serde::Deserialize;

use crate::api::{AppState, SessionClaims};
use crate::service::{Actor, ConnectionView, Service, parse_mode};
use crate::store::now_millis;
use crate::tokens;
use crate::views::{
    AdminConnection, AdminPage, ConnectPage, FieldState, MessagePage, ModeSection, PermissionLine,
};
use crate::web;

/// The CSP of every page rendered by [`crate::web`].
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";
/// The CSP of the generated guide (its one stylesheet is inline; it runs no script).
pub const GUIDE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const ADMIN_COOKIE: &str = "rakguard_admin";

fn html(status: StatusCode, body: String, csp: &'static str) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}

fn message(status: StatusCode, title: &str, text: &str) -> Response {
    html(
        status,
        web::message_page(&MessagePage {
            title: title.to_owned(),
            message: text.to_owned(),
            error: status.is_client_error() || status.is_server_error(),
        }),
        PAGE_CSP,
    )
}

/// `GET /static/connect.css` and `/static/connect.js`.
pub async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "connect.css" => (web::CONNECT_CSS, "text/css; charset=utf-8"),
        "connect.js" => (web::CONNECT_JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[derive(Deserialize)]
/// The query of `GET /connect`.
pub struct SessionQuery {
    session: Option<String>,
}

/// Reads and checks a signed session token.
fn claims(state: &AppState, token: &str) -> Result<SessionClaims, Response> {
    let payload = state
        .signer
        .verify(token, now_millis() / 1000)
        .map_err(|error| {
            message(
                StatusCode::FORBIDDEN,
                "This link cannot be used",
                &format!(
                    "{error}. Go back to the integration and open its Stripe settings again to get a fresh link."
                ),
            )
        })?;
    serde_json::from_str(&payload).map_err(|_| {
        message(
            StatusCode::BAD_REQUEST,
            "This link cannot be used",
            "The link is malformed.",
        )
    })
}

/// `GET /connect?session=…`: the hosted connect page.
pub async fn connect_page(
    State(state): State<AppState>,
    Query(query): Query<SessionQuery>,
) -> Response {
    let Some(token) = query.session else {
        return message(
            StatusCode::BAD_REQUEST,
            "This link cannot be used",
            "The link has no session. Open the integration's Stripe settings to get one.",
        );
    };
    let claims = match claims(&state, &token) {
        Ok(claims) => claims,
        Err(response) => return response,
    };
    match page(&state, &token, &claims, None, None).await {
        Ok(page) => html(StatusCode::OK, web::connect_page(&page), PAGE_CSP),
        Err(response) => response,
    }
}

/// The body of the connect and disconnect forms.
#[derive(Deserialize)]
pub struct ConnectForm {
    session: String,
    csrf: String,
    mode: String,
    key: Option<SecretString>,
}

/// `POST /connect`: verifies the pasted key and shows the connected state or the red panel.
pub async fn connect_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<ConnectForm>,
) -> Response {
    let (claims, actor) = match form_actor(&state, &form, peer) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(key) = form.key else {
        return message(
            StatusCode::BAD_REQUEST,
            "Nothing was pasted",
            "Paste the restricted key.",
        );
    };
    let started = std::time::Instant::now();
    let outcome = state
        .service
        .connect(
            &actor,
            &claims.tenant,
            &form.mode,
            &key,
            &claims.manifest,
            claims.tier.as_deref(),
        )
        .await;
    drop(key);
    match outcome {
        Ok(outcome) => {
            state
                .metrics
                .verification(outcome.verdict.code.as_str(), started.elapsed());
            let (notice, refused) = if outcome.connection.is_some() {
                (Some(format!("Connected in {} mode.", form.mode)), None)
            } else {
                (
                    None,
                    Some((form.mode.clone(), refused_state(&outcome.verdict))),
                )
            };
            match page(&state, &form.session, &claims, notice, refused).await {
                Ok(page) => html(StatusCode::OK, web::connect_page(&page), PAGE_CSP),
                Err(response) => response,
            }
        }
        Err(error) => message(
            StatusCode::BAD_REQUEST,
            "The key could not be checked",
            &error.to_string(),
        ),
    }
}

/// `POST /disconnect`.
pub async fn disconnect_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<ConnectForm>,
) -> Response {
    let (claims, actor) = match form_actor(&state, &form, peer) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let notice = match state
        .service
        .disconnect(&actor, &claims.tenant, &form.mode)
        .await
    {
        Ok(()) => format!(
            "Disconnected the {} mode key. Delete it in the Stripe Dashboard too if it is no longer used.",
            form.mode
        ),
        Err(error) => error.to_string(),
    };
    match page(&state, &form.session, &claims, Some(notice), None).await {
        Ok(page) => html(StatusCode::OK, web::connect_page(&page), PAGE_CSP),
        Err(response) => response,
    }
}

fn form_actor(
    state: &AppState,
    form: &ConnectForm,
    peer: SocketAddr,
) -> Result<(SessionClaims, Actor), Response> {
    let claims = claims(state, &form.session)?;
    if !state
        .signer
        .check_csrf(&form.csrf, &form.session, now_millis() / 1000)
    {
        return Err(message(
            StatusCode::FORBIDDEN,
            "Please try again",
            "The form expired or did not come from this page. Reload the page and submit again.",
        ));
    }
    if parse_mode(&form.mode).is_err()
        || claims
            .mode
            .as_deref()
            .is_some_and(|allowed| allowed != form.mode)
    {
        return Err(message(
            StatusCode::BAD_REQUEST,
            "Unknown mode",
            "This page connects test and live keys only.",
        ));
    }
    let actor = Actor {
        name: format!("page:{}", claims.tenant),
        tenant: Some(claims.tenant.clone()),
        can_reveal: false,
        source: Some(peer.ip().to_string()),
    };
    Ok((claims, actor))
}

fn refused_state(verdict: &Verdict) -> FieldState {
    let title = match verdict.code {
        Code::PermissionsMissing => "Your Stripe key is missing required permissions",
        Code::KeyInvalid | Code::KeyRevoked => "Stripe does not recognise this key",
        Code::KeyExpired => "This Stripe key has expired",
        Code::KeyIpRestricted => "This key does not allow requests from our servers",
        Code::KeyPublishable => "This is a publishable key",
        Code::KeyWrongMode => "This key is for the other mode",
        Code::SecretKeyRefused => "Please use a restricted key, not your secret key",
        Code::KeyMalformed => "This is not a Stripe API key",
        Code::AccountInvalid => "The key cannot reach the account",
        Code::RateLimited | Code::Unreachable | Code::Incomplete => {
            "We could not finish checking this key"
        }
        Code::Ok => "Connected",
    };
    let mut text = verdict.message.clone();
    if let Some(fix) = &verdict.fix {
        text.push(' ');
        text.push_str(&fix.summary);
    }
    FieldState::Refused {
        code: verdict.code.as_str().to_owned(),
        title: title.to_owned(),
        message: text,
        missing: verdict
            .fix
            .as_ref()
            .filter(|_| verdict.code == Code::PermissionsMissing)
            .map(|fix| fix.steps.clone())
            .unwrap_or_else(|| verdict.missing.clone()),
        masked_key: (!verdict.key.masked.is_empty()).then(|| verdict.key.masked.clone()),
    }
}

async fn page(
    state: &AppState,
    session: &str,
    claims: &SessionClaims,
    notice: Option<String>,
    refused: Option<(String, FieldState)>,
) -> Result<ConnectPage, Response> {
    let service: &Service = &state.service;
    let loaded = service.manifest(&claims.manifest).map_err(|_| {
        message(
            StatusCode::NOT_FOUND,
            "Unknown integration",
            "This link names an integration the service does not know.",
        )
    })?;
    let manifest = &loaded.manifest;
    let catalog = Catalog::embedded();
    let requirements = manifest
        .requirements_with(catalog, claims.tier.as_deref())
        .unwrap_or_default();
    let permissions = requirements
        .iter()
        .map(|requirement| {
            let row = catalog.row(&requirement.permission.row);
            PermissionLine {
                group: row.map(|row| row.group.clone()).unwrap_or_default(),
                row: row
                    .map(|row| row.display_name.clone())
                    .unwrap_or_else(|| requirement.permission.row.clone()),
                level: requirement.permission.level.label().to_owned(),
                purpose: requirement.purpose.clone(),
            }
        })
        .collect();
    let modes: Vec<&str> = match claims.mode.as_deref() {
        Some(mode) => vec![mode],
        None => vec!["test", "live"],
    };
    let actor = Actor {
        name: format!("page:{}", claims.tenant),
        tenant: Some(claims.tenant.clone()),
        can_reveal: false,
        source: None,
    };
    let mut sections = Vec::new();
    for mode in modes {
        let Ok(parsed) = parse_mode(mode) else {
            continue;
        };
        let mut guide_url = format!("/guide/{}?mode={mode}", claims.manifest);
        if let Some(tier) = &claims.tier {
            guide_url.push_str(&format!("&tier={tier}"));
        }
        let state = match &refused {
            Some((refused_mode, refused)) if refused_mode == mode => refused.clone(),
            _ => match service.status(&actor, &claims.tenant, mode).await {
                Ok(view) => connected_state(&view),
                Err(_) => FieldState::Empty,
            },
        };
        sections.push(ModeSection {
            mode: mode.to_owned(),
            title: if mode == "test" {
                "Test mode"
            } else {
                "Live mode"
            }
            .to_owned(),
            dashboard_url: api_keys_url(parsed),
            guide_url,
            state,
        });
    }
    Ok(ConnectPage {
        integration: manifest.name.clone(),
        tenant: claims.tenant.clone(),
        session: session.to_owned(),
        csrf: state.signer.csrf_token(session, now_millis() / 1000),
        connect_action: "/connect".to_owned(),
        disconnect_action: "/disconnect".to_owned(),
        return_url: claims.return_url.clone(),
        permissions,
        key_name: manifest.key_name.clone(),
        modes: sections,
        notice,
    })
}

fn connected_state(view: &ConnectionView) -> FieldState {
    FieldState::Connected {
        masked_key: view.masked_key.clone(),
        status: view.status.clone(),
        verified_at: format_time(view.last_verified_at),
        lost: view.verdict.missing.clone(),
    }
}

/// Unix milliseconds as `2026-11-23 09:41 UTC`.
pub fn format_time(millis: i64) -> String {
    let seconds = millis.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        (rest % 3600) / 60
    )
}

/// The query of `GET /guide/{manifest}`.
#[derive(Deserialize)]
pub struct GuideQuery {
    mode: Option<String>,
    tier: Option<String>,
}

/// `GET /guide/{manifest}?mode=&tier=`: the generated guide (HTML).
pub async fn guide(
    State(state): State<AppState>,
    Path(manifest): Path<String>,
    Query(query): Query<GuideQuery>,
) -> Response {
    let Ok(loaded) = state.service.manifest(&manifest) else {
        return message(
            StatusCode::NOT_FOUND,
            "Unknown integration",
            "No such manifest.",
        );
    };
    let mode = query
        .mode
        .as_deref()
        .and_then(|mode| parse_mode(mode).ok())
        .unwrap_or(rakguard_catalog::key::Mode::Test);
    let options = GuideOptions {
        tier: query.tier,
        mode,
        format: GuideFormat::Html,
        ..GuideOptions::default()
    };
    match rakguard_catalog::guide::render(Catalog::embedded(), &loaded.manifest, &options) {
        Ok(text) => html(StatusCode::OK, text, GUIDE_CSP),
        Err(error) => message(StatusCode::BAD_REQUEST, "No guide", &error.to_string()),
    }
}

// Admin.

fn admin_session(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let value = cookies.split(';').find_map(|cookie| {
        cookie
            .trim()
            .strip_prefix(ADMIN_COOKIE)?
            .strip_prefix('=')
            .map(str::to_owned)
    })?;
    state.signer.verify(&value, now_millis() / 1000).ok()?;
    Some(value)
}

/// `GET /admin`: the admin page, or the login form.
pub async fn admin(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(session) = admin_session(&state, &headers) else {
        let csrf = state.signer.csrf_token("admin-login", now_millis() / 1000);
        return html(StatusCode::OK, web::admin_login_page(None, &csrf), PAGE_CSP);
    };
    match admin_model(&state, &session).await {
        Ok(page) => html(StatusCode::OK, web::admin_page(&page), PAGE_CSP),
        Err(error) => message(StatusCode::INTERNAL_SERVER_ERROR, "Admin", &error),
    }
}

async fn admin_model(state: &AppState, session: &str) -> Result<AdminPage, String> {
    let store = state.service.store();
    let tenants = store.tenants().await.map_err(|error| error.to_string())?;
    let mut connections = Vec::new();
    for row in store
        .connections(false)
        .await
        .map_err(|error| error.to_string())?
    {
        let history = store
            .history(&row.id, 10)
            .await
            .map_err(|error| error.to_string())?
            .into_iter()
            .map(|entry| {
                (
                    format_time(entry.at),
                    entry.trigger,
                    entry.code,
                    entry.status,
                )
            })
            .collect();
        let code = Verdict::from_json(&row.verdict)
            .map(|verdict| verdict.code.as_str().to_owned())
            .unwrap_or_default();
        connections.push(AdminConnection {
            id: row.id,
            tenant: row.tenant,
            mode: row.mode,
            manifest: match row.tier {
                Some(tier) => format!("{} ({tier})", row.manifest),
                None => row.manifest,
            },
            status: row.status,
            masked_key: row.masked_key,
            connected_at: format_time(row.created_at),
            verified_at: format_time(row.verified_at),
            code,
            history,
        });
    }
    connections.sort_by_key(|connection| {
        connection.status == "disconnected" || connection.status == "replaced"
    });
    let orphans = store
        .orphans()
        .await
        .map_err(|error| error.to_string())?
        .into_iter()
        .map(|orphan| {
            (
                format_time(orphan.created_at),
                orphan.connection_id,
                orphan.object_id,
                orphan.cleanup,
                orphan.reason,
            )
        })
        .collect();
    let audit = store
        .audit_log(None, 50)
        .await
        .map_err(|error| error.to_string())?
        .into_iter()
        .map(|row| {
            let scope = match (&row.tenant, &row.mode) {
                (Some(tenant), Some(mode)) => format!("{tenant}/{mode}"),
                (Some(tenant), None) => tenant.clone(),
                _ => String::new(),
            };
            (
                format_time(row.at),
                row.actor,
                row.action,
                scope,
                row.detail,
            )
        })
        .collect();
    Ok(AdminPage {
        tenants,
        connections,
        orphans,
        audit,
        csrf: state.signer.csrf_token(session, now_millis() / 1000),
    })
}

/// The admin login form.
#[derive(Deserialize)]
pub struct LoginForm {
    token: SecretString,
    csrf: String,
}

/// `POST /admin/login`: an API token for all tenants opens an admin session (a signed,
/// HttpOnly, SameSite=Strict cookie for 8 hours).
pub async fn admin_login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<LoginForm>,
) -> Response {
    use secrecy::ExposeSecret;
    let now = now_millis() / 1000;
    let retry = |error: &str| {
        let csrf = state.signer.csrf_token("admin-login", now);
        html(
            StatusCode::UNAUTHORIZED,
            web::admin_login_page(Some(error), &csrf),
            PAGE_CSP,
        )
    };
    if !state.signer.check_csrf(&form.csrf, "admin-login", now) {
        return retry("The form expired. Try again.");
    }
    let token = form.token.expose_secret().trim();
    if tokens::check_format(token).is_err() {
        return retry("That is not a rakguard API token (they start with rgk_).");
    }
    let row = match state
        .service
        .store()
        .token_by_hash(&tokens::hash_token(token))
        .await
    {
        Ok(Some(row)) if row.tenant.is_none() => row,
        Ok(_) => return retry("Unknown token, or a token limited to one tenant."),
        Err(_) => return retry("The database is unavailable."),
    };
    let _ = state
        .service
        .store()
        .audit(&crate::store::AuditRow {
            at: now_millis(),
            actor: format!("token:{}", row.id),
            action: "admin-login".to_owned(),
            tenant: None,
            mode: None,
            connection_id: None,
            source: Some(peer.ip().to_string()),
            detail: String::new(),
        })
        .await;
    let session = state
        .signer
        .sign(&format!("admin:{}", row.id), now + 8 * 3600);
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, HeaderValue::from_static("/admin"));
    if let Ok(cookie) = HeaderValue::from_str(&format!(
        "{ADMIN_COOKIE}={session}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=28800"
    )) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    response
}

/// A form with only a CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /admin/logout`.
pub async fn admin_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(session) = admin_session(&state, &headers)
        && !state
            .signer
            .check_csrf(&form.csrf, &session, now_millis() / 1000)
    {
        return message(
            StatusCode::FORBIDDEN,
            "Please try again",
            "The form expired.",
        );
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, HeaderValue::from_static("/admin"));
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "rakguard_admin=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

/// `POST /admin/reverify`: makes every active connection due now; the monitor picks them up.
pub async fn admin_reverify(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some(session) = admin_session(&state, &headers) else {
        return message(StatusCode::UNAUTHORIZED, "Admin", "Log in first.");
    };
    if !state
        .signer
        .check_csrf(&form.csrf, &session, now_millis() / 1000)
    {
        return message(
            StatusCode::FORBIDDEN,
            "Please try again",
            "The form expired.",
        );
    }
    let _ = state.service.store().make_all_due(now_millis()).await;
    let mut response = StatusCode::SEE_OTHER.into_response();
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static("/admin"));
    response
}
