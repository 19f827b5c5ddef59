//! The JSON API under `/v1` (integrator backends, API tokens), health, metrics and the OpenAPI
//! document. Every error is `{"error": {"code", "message", "field"?}}` with a 4xx/5xx status.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::metrics::Metrics;
use crate::service::{Actor, Service, ServiceError};
use crate::store::{TokenRow, now_millis};
use crate::tokens::{self, Signer};

/// The OpenAPI document of the API.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The service.
    pub service: Service,
    /// Signs connect-page links and CSRF tokens.
    pub signer: Arc<Signer>,
    /// The address the service is reached at, for links (`http://127.0.0.1:8080`).
    pub public_url: String,
    /// Counters and histograms.
    pub metrics: Arc<Metrics>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// An API error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<&'static str>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    fn field(code: &'static str, field: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
            field: Some(field),
        }
    }

    fn unauthorized(message: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> ApiError {
        let status = match &error {
            ServiceError::Invalid { .. } => StatusCode::BAD_REQUEST,
            ServiceError::ManifestNotFound(_) | ServiceError::NotConnected { .. } => {
                StatusCode::NOT_FOUND
            }
            ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServiceError::Seal(_) | ServiceError::Store(_) | ServiceError::Verify(_) => {
                tracing::error!(code = error.code(), "request failed: {error}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let field = match &error {
            ServiceError::Invalid { field, .. } => Some(*field),
            _ => None,
        };
        let message = match &error {
            // Internal details stay in the log.
            ServiceError::Store(_) => "a storage error occurred; see the service log".to_owned(),
            other => other.to_string(),
        };
        ApiError {
            status,
            code: error.code(),
            message,
            field,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(field) = self.field {
            error["field"] = json!(field);
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}

type ApiResult = Result<Response, ApiError>;

/// Reads the caller's API token into an [`Actor`].
pub async fn actor(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<Actor, ApiError> {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| ApiError::unauthorized("send an API token: Authorization: Bearer rgk_…"))?;
    let token =
        tokens::bearer(header).map_err(|error| ApiError::unauthorized(&error.to_string()))?;
    let row: TokenRow = state
        .service
        .store()
        .token_by_hash(&tokens::hash_token(token))
        .await
        .map_err(ServiceError::from)?
        .ok_or_else(|| ApiError::unauthorized("unknown or revoked API token"))?;
    Ok(Actor {
        name: format!("token:{}", row.id),
        tenant: row.tenant,
        can_reveal: row.can_reveal,
        source: Some(peer.ip().to_string()),
    })
}

/// Parses a JSON body, naming the field at fault.
fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "body_invalid",
            format!("the body is not the expected JSON: {error}"),
        )
    })
}

/// `GET /healthz`.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.service.store().ping().await {
        Ok(()) => "ready".into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}

/// `GET /metrics` (Prometheus text format).
pub async fn metrics(State(state): State<AppState>) -> Response {
    let body = state.metrics.render(&state.service).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestBody {
    id: String,
    source: String,
}

/// `POST /v1/manifests` {id, source}: loads (or replaces) a manifest. Tokens for all tenants only.
pub async fn put_manifest(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> ApiResult {
    let actor = actor(&state, &headers, peer).await?;
    if actor.tenant.is_some() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a token scoped to one tenant cannot load manifests",
        ));
    }
    let request: ManifestBody = body(&bytes)?;
    let loaded = state
        .service
        .load_manifest(&request.id, &request.source)
        .await?;
    Ok(Json(manifest_json(&request.id, &loaded.manifest)).into_response())
}

fn manifest_json(id: &str, manifest: &rakguard_catalog::manifest::Manifest) -> Value {
    json!({
        "id": id,
        "name": manifest.name,
        "key_name": manifest.key_name,
        "tiers": manifest.tier_ids(),
        "accept_secret_keys": manifest.accept_secret_keys,
    })
}

/// `GET /v1/manifests`.
pub async fn list_manifests(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult {
    actor(&state, &headers, peer).await?;
    let data: Vec<Value> = state
        .service
        .manifest_ids()
        .iter()
        .filter_map(|id| {
            state
                .service
                .manifest(id)
                .ok()
                .map(|loaded| manifest_json(id, &loaded.manifest))
        })
        .collect();
    Ok(Json(json!({ "data": data })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectBody {
    key: SecretString,
    manifest: String,
    tier: Option<String>,
}

/// `PUT /v1/tenants/{tenant}/connections/{mode}` {key, manifest, tier?}: 201 with the verdict
/// and the connection when the key passed and was stored, 422 with the verdict otherwise.
pub async fn connect(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((tenant, mode)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> ApiResult {
    let actor = actor(&state, &headers, peer).await?;
    let request: ConnectBody = body(&bytes)?;
    if request.key.expose_secret().trim().is_empty() {
        return Err(ApiError::field(
            "key_missing",
            "key",
            "paste the restricted key (rk_test_… or rk_live_…)",
        ));
    }
    let started = std::time::Instant::now();
    let outcome = state
        .service
        .connect(
            &actor,
            &tenant,
            &mode,
            &request.key,
            &request.manifest,
            request.tier.as_deref(),
        )
        .await?;
    state
        .metrics
        .verification(outcome.verdict.code.as_str(), started.elapsed());
    let status = if outcome.connection.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        Json(json!({
            "connected": outcome.connection.is_some(),
            "code": outcome.verdict.code,
            "verdict": outcome.verdict,
            "connection": outcome.connection,
        })),
    )
        .into_response())
}

/// `GET /v1/tenants/{tenant}/connections/{mode}`.
pub async fn status(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((tenant, mode)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let actor = actor(&state, &headers, peer).await?;
    let view = state.service.status(&actor, &tenant, &mode).await?;
    Ok(Json(view).into_response())
}

/// `POST /v1/tenants/{tenant}/connections/{mode}/verify`.
pub async fn reverify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((tenant, mode)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let actor = actor(&state, &headers, peer).await?;
    let started = std::time::Instant::now();
    let view = state.service.reverify(&actor, &tenant, &mode).await?;
    state.metrics.verification(
        view.history.first().map_or("unknown", |h| h.code.as_str()),
        started.elapsed(),
    );
    Ok(Json(view).into_response())
}

/// `DELETE /v1/tenants/{tenant}/connections/{mode}`.
pub async fn disconnect(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((tenant, mode)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let actor = actor(&state, &headers, peer).await?;
    state.service.disconnect(&actor, &tenant, &mode).await?;
    Ok(Json(json!({"disconnected": true, "tenant": tenant, "mode": mode})).into_response())
}

/// `POST /v1/tenants/{tenant}/connections/{mode}/reveal`: the plaintext key, for tokens allowed
/// to reveal. Audited; never cached.
pub async fn reveal(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((tenant, mode)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let actor = actor(&state, &headers, peer).await?;
    let key = state.service.reveal(&actor, &tenant, &mode).await?;
    let mut response = Json(json!({"key": key.expose_secret()})).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionBody {
    tenant: String,
    mode: Option<String>,
    manifest: String,
    tier: Option<String>,
    return_url: Option<String>,
}

/// How long a connect-page link is valid.
pub const SESSION_SECONDS: i64 = 30 * 60;

/// The signed payload of a connect-page link.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct SessionClaims {
    /// The tenant.
    pub tenant: String,
    /// The one mode the page offers, or both.
    pub mode: Option<String>,
    /// The manifest id.
    pub manifest: String,
    /// The tier.
    pub tier: Option<String>,
    /// Where the page links back to.
    pub return_url: Option<String>,
}

/// `POST /v1/connect_sessions` {tenant, mode?, manifest, tier?, return_url?} → a short-lived
/// signed URL of the hosted connect page.
pub async fn connect_session(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> ApiResult {
    let actor = actor(&state, &headers, peer).await?;
    let request: SessionBody = body(&bytes)?;
    crate::service::check_id("tenant", "tenant_invalid", &request.tenant)?;
    if !actor.may_act_for(&request.tenant) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this token may not act for that tenant",
        ));
    }
    if let Some(mode) = &request.mode {
        crate::service::parse_mode(mode)?;
    }
    let loaded = state.service.manifest(&request.manifest)?;
    if let Some(tier) = &request.tier
        && loaded.manifest.tier(tier).is_none()
    {
        return Err(ApiError::field(
            "tier_invalid",
            "tier",
            format!("no tier {tier:?}"),
        ));
    }
    if let Some(url) = &request.return_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return Err(ApiError::field(
            "return_url_invalid",
            "return_url",
            "use an absolute http(s) URL",
        ));
    }
    let claims = SessionClaims {
        tenant: request.tenant,
        mode: request.mode,
        manifest: request.manifest,
        tier: request.tier,
        return_url: request.return_url,
    };
    let expires_at = now_millis() / 1000 + SESSION_SECONDS;
    let payload = serde_json::to_string(&claims).unwrap_or_default();
    let token = state.signer.sign(&payload, expires_at);
    Ok(Json(json!({
        "url": format!("{}/connect?session={token}", state.public_url),
        "expires_at": expires_at,
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainBody {
    body: Value,
    status: Option<u16>,
}

/// `POST /v1/explain` {body, status?}: a Stripe error body (JSON object or its text) in plain
/// words.
pub async fn explain(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> ApiResult {
    actor(&state, &headers, peer).await?;
    let request: ExplainBody = body(&bytes)?;
    let text = match &request.body {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let explanation = rakguard_verify::explain(request.status, &text)
        .map_err(|error| ApiError::field("body_invalid", "body", error.to_string()))?;
    Ok(Json(explanation).into_response())
}

/// The query of `GET /v1/events`.
#[derive(Deserialize)]
pub struct EventsQuery {
    tenant: Option<String>,
    limit: Option<i64>,
}

/// `GET /v1/events?tenant=&limit=`: events, newest first, with their delivery state.
pub async fn events(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> ApiResult {
    let actor = actor(&state, &headers, peer).await?;
    let tenant = match (&actor.tenant, query.tenant) {
        (Some(own), Some(asked)) if *own != asked => {
            return Ok(Json(json!({"data": []})).into_response());
        }
        (Some(own), _) => Some(own.clone()),
        (None, asked) => asked,
    };
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let rows = state
        .service
        .store()
        .events(tenant.as_deref(), limit)
        .await
        .map_err(ServiceError::from)?;
    let data: Vec<Value> = rows
        .iter()
        .map(|event| {
            json!({
                "id": event.id,
                "type": event.event_type,
                "tenant": event.tenant,
                "connection": event.connection_id,
                "created": event.created_at,
                "data": serde_json::from_str::<Value>(&event.payload).unwrap_or(Value::Null),
                "delivered_at": event.delivered_at,
                "attempts": event.attempts,
                "last_error": event.last_error,
            })
        })
        .collect();
    Ok(Json(json!({ "data": data })).into_response())
}
