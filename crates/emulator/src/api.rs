//! The Stripe-compatible `/v1` surface: the response envelope (headers and request log) and the
//! request pipeline, in Stripe's order of checks:
//!
//! 1. authentication and key state ([`Caller`], see [`crate::auth`]);
//! 2. publishable keys: only a few client-side calls, else 401 `secret_key_required`;
//! 3. rate limit per account and mode: 429 with `Stripe-Rate-Limited-Reason: global-rate`; the
//!    `throttle_rate` fault answers the same 429 here;
//! 4. route: an operation of the catalogue, else 404 "Unrecognized request URL";
//! 5. permission: `Stripe-Account` (no Connect permissions, unreachable account, Connect
//!    permission) or the key's own permissions; restricted keys get the 403 of the configured era.
//!    Operations the catalogue marks `unavailable` or `unknown` are refused to restricted keys
//!    with the "not available for use by restricted keys" form: for `unknown` that is a choice,
//!    since no permission is known that would allow them;
//! 6. parameter decoding (400 on malformed input), idempotency, faults (latency, jitter, error
//!    and reset rates), then the handler. Answers that end before this step (401, 403, 404, 429)
//!    are delayed by the latency and jitter faults in [`envelope`], so every answer in scope
//!    takes the configured time, as network and server time would.
//!
//! Faults are read once per request, under the read lock, and only their numbers are copied out
//! (`ActiveFaults`), and only when some apply to the request (its scope matches): a quiet
//! emulator adds one read lock and no allocation per request.
//!
//! Nothing before step 6 is stored against an idempotency key.

use std::str::FromStr;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method as HttpMethod, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rakguard_catalog::endpoint::{ExceptionKind, Matched, Method, Rule};
use rakguard_catalog::key::{KeyKind, MaskStyle};
use rakguard_catalog::permission::Permission;
use rakguard_catalog::stripe_error::{self, PermissionErrorEra, PermissionName, PermissionRefusal};
use serde_json::Value;

use crate::auth::Caller;
use crate::config::ErrorEra;
use crate::error::ApiError;
use crate::form;
use crate::idempotency::{Begin, IdempotencyKey, Scope, StoredResponse, is_storable};
use crate::ids::Ids;
use crate::resources::{Ctx, Outcome, customers, fallback};
use crate::state::{AppState, LogEntry};

/// The `Request-Id` of the request being served, set by [`envelope`].
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// What the request log records beyond the request itself, attached to responses.
#[derive(Debug, Clone, Default)]
pub struct LogInfo {
    /// The key object's id.
    pub key_id: Option<String>,
    /// The permission the operation required.
    pub permission: Option<String>,
    /// Whether the latency fault already delayed this answer (in the handler).
    pub delayed: bool,
}

/// Marks a response whose connection must be dropped (the `reset_rate` fault).
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// The handler for every `/v1` request: the envelope around authentication and the pipeline.
/// (One plain handler rather than a middleware layer and an extractor: on the hot path the
/// layer's boxed service clones and futures cost more than everything the emulator decides.)
pub async fn serve(State(state): State<AppState>, request: Request) -> Response {
    envelope(state, request).await
}

/// Authenticates (a refusal is the answer) and runs [`handle`].
async fn authenticated(state: &AppState, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller = match Caller::from_request_parts(&mut parts, state).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    handle(
        State(state.clone()),
        caller,
        Request::from_parts(parts, body),
    )
    .await
}

/// Around every `/v1` request: assigns the `Request-Id`, sets Stripe's response headers
/// (`Request-Id`, `Stripe-Version`, JSON content type, the echoed `Idempotency-Key`) and records
/// the request in the log.
pub async fn envelope(state: AppState, mut request: Request) -> Response {
    let received_ms = state.clock().now_millis();
    let request_id = state.new_request_id();
    let version = request
        .headers()
        .get("stripe-version")
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(state.default_stripe_version())
                .unwrap_or_else(|_| HeaderValue::from_static("2025-09-30.clover"))
        });
    let idempotency_key = request.headers().get("idempotency-key").cloned();
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    let mut response = authenticated(&state, request).await;
    let info = response
        .extensions()
        .get::<LogInfo>()
        .cloned()
        .unwrap_or_default();
    // Latency and jitter delay every answer in scope, refusals included, as network and server
    // time would. Requests that reached the handler were delayed there (inside the idempotency
    // window, where a concurrent duplicate sees the key in use); the others wait here.
    if !info.delayed
        && let Some(faults) = ActiveFaults::for_request(&state, &method, &path)
        && faults.delays()
    {
        let delay = faults.delay(&mut state.write().ids);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("request-id", value);
    }
    headers.insert("stripe-version", version);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    if let Some(key) = idempotency_key {
        headers.insert("idempotency-key", key);
    }
    state.record(LogEntry {
        time: state.clock().now(),
        received_ms,
        key_id: info.key_id,
        method,
        path,
        status: response.status().as_u16(),
        permission: info.permission,
        request_id,
    });
    if response.extensions().get::<DropConnection>().is_some() {
        *response.body_mut() = Body::new(crate::server::AbortBody);
    }
    response
}

/// The handler for every `/v1` request once the key is authenticated.
pub async fn handle(State(state): State<AppState>, caller: Caller, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // Stripe bodies are small form posts; 1 MiB is far above any real one.
    let body = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(body) => body,
        Err(_) => {
            return ApiError::from(stripe_error::malformed_parameter(
                "body",
                "the request body could not be read (at most 1 MiB)",
            ))
            .into_response();
        }
    };
    let request_id = parts
        .extensions
        .get::<RequestId>()
        .map_or("", |RequestId(id)| id.as_str());
    let mut info = LogInfo {
        key_id: Some(caller.key_id.clone()),
        permission: None,
        delayed: false,
    };
    let request = Incoming {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
        body: &body,
        request_id,
    };
    let mut response = match pipeline(&state, &caller, &request, &mut info).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    response.extensions_mut().insert(info);
    response
}

/// The parts of the request the pipeline reads.
struct Incoming<'a> {
    method: &'a HttpMethod,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: &'a Bytes,
    request_id: &'a str,
}

impl Incoming<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The raw parameters: the body of a `POST`, the query string otherwise.
    fn raw_params(&self) -> String {
        if self.method == HttpMethod::POST {
            String::from_utf8_lossy(self.body).into_owned()
        } else {
            self.uri.query().unwrap_or_default().to_owned()
        }
    }
}

async fn pipeline(
    state: &AppState,
    caller: &Caller,
    request: &Incoming<'_>,
    info: &mut LogInfo,
) -> Result<Response, ApiError> {
    let catalog = state.catalog();
    let path = request.uri.path();
    let matched = Method::from_str(request.method.as_str())
        .ok()
        .and_then(|method| catalog.lookup_with_params(method, path));
    info.permission = matched
        .as_ref()
        .and_then(|matched| matched.operation.permission())
        .map(|permission| catalog.permission_name(permission));
    let raw_params = request.raw_params();

    if caller.kind == KeyKind::Publishable && !publishable_may_call(matched.as_ref(), &raw_params) {
        return Err(stripe_error::secret_key_required().into());
    }
    let stripe_account = request.header("stripe-account").map(str::to_owned);
    let account = stripe_account
        .clone()
        .unwrap_or_else(|| state.account_id().to_owned());
    if !state.take_token(&account, caller.mode) {
        return Err(ApiError::rate_limited());
    }
    let faults = ActiveFaults::for_request(state, request.method.as_str(), path);
    if faults.is_some_and(|faults| faults.throttle(state)) {
        return Err(ApiError::rate_limited());
    }
    let Some(matched) = matched else {
        return Err(stripe_error::unrecognized_url(request.method.as_str(), path).into());
    };
    let authority = authorise(state, caller, &matched, stripe_account.as_deref())?;

    let params = form::decode(&raw_params)?;
    let ctx = Ctx {
        state,
        account: &account,
        mode: caller.mode,
        params: &params,
        path,
        request_id: request.request_id,
        idempotency_key: request.header("idempotency-key"),
        path_params: &matched.params,
        authority: &authority,
    };
    let idempotency = match request.header("idempotency-key") {
        Some(raw) if request.method == HttpMethod::POST => {
            let key = IdempotencyKey::parse(raw)
                .map_err(|problem| ApiError::parameter_invalid("Idempotency-Key", problem))?;
            Some(Scope {
                account: account.clone(),
                mode: caller.mode,
                key,
            })
        }
        _ => None,
    };
    let Some(scope) = idempotency else {
        info.delayed = faults.is_some_and(ActiveFaults::delays);
        return Ok(execute(&ctx, &matched, faults).await.into_response_parts());
    };
    let fingerprint = format!("{} {path}\n{params}", request.method);
    let begun = state.write().idempotency.begin(&scope, &fingerprint);
    match begun {
        Begin::Replay(stored) => {
            let mut response = stored_response(stored.status, stored.body);
            let headers = response.headers_mut();
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
            if let Ok(original) = HeaderValue::from_str(&stored.request_id) {
                headers.insert("original-request", original);
            }
            Ok(response)
        }
        Begin::Mismatch => Err(stripe_error::idempotency_mismatch(scope.key.as_str()).into()),
        Begin::InUse => Err(stripe_error::idempotency_key_in_use(scope.key.as_str()).into()),
        Begin::Proceed => {
            let guard = InFlight {
                state,
                scope: &scope,
            };
            info.delayed = faults.is_some_and(ActiveFaults::delays);
            let outcome = execute(&ctx, &matched, faults).await;
            let (status, body) = match &outcome {
                Executed::Answered(Ok(reply)) | Executed::Dropped(Ok(reply)) => {
                    (reply.status, Some(reply.clone().into_json().body))
                }
                Executed::Answered(Err(error)) | Executed::Dropped(Err(error)) => {
                    (error.status(), Some(error.rendered.body.clone()))
                }
            };
            match body {
                Some(body) if is_storable(status) => {
                    state.write().idempotency.finish(
                        &scope,
                        StoredResponse {
                            status,
                            body,
                            request_id: request.request_id.to_owned(),
                        },
                    );
                }
                _ => drop(guard),
            }
            Ok(outcome.into_response_parts())
        }
    }
}

/// Forgets an in-flight idempotency key when the request ends without storing a result,
/// including when the client goes away mid-request.
struct InFlight<'a> {
    state: &'a AppState,
    scope: &'a Scope,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.state.write().idempotency.abandon(self.scope);
    }
}

fn text_response(status: u16, body: Bytes) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn stored_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

/// What executing a request produced.
enum Executed {
    /// A reply or an error.
    Answered(Outcome),
    /// The `reset_rate` fault: the request was executed (and its result stored under its
    /// idempotency key), then the connection was closed without an answer, the way a network
    /// failure after Stripe has done the work looks to a client.
    Dropped(Outcome),
}

impl Executed {
    fn into_response_parts(self) -> Response {
        match self {
            Executed::Answered(Ok(reply)) => text_response(reply.status, reply.into_bytes()),
            Executed::Answered(Err(error)) => error.into_response(),
            Executed::Dropped(_) => {
                let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
                response.extensions_mut().insert(DropConnection);
                response
            }
        }
    }
}

/// The faults that apply to one request: the numbers of [`crate::FaultSettings`], copied out
/// under the read lock only when the settings are not quiet and the request is in their scope.
#[derive(Debug, Clone, Copy)]
struct ActiveFaults {
    latency_ms: u64,
    jitter_ms: u64,
    error_rate: f64,
    reset_rate: f64,
    throttle_rate: f64,
}

impl ActiveFaults {
    /// The faults for a request (path without query string), or `None` when none apply.
    fn for_request(state: &AppState, method: &str, path: &str) -> Option<ActiveFaults> {
        let data = state.read();
        let faults = &data.faults;
        if faults.is_quiet() || !faults.applies_to(method, path) {
            return None;
        }
        Some(ActiveFaults {
            latency_ms: faults.latency_ms,
            jitter_ms: faults.jitter_ms,
            error_rate: faults.error_rate,
            reset_rate: faults.reset_rate,
            throttle_rate: faults.throttle_rate,
        })
    }

    /// Whether answers are delayed.
    fn delays(self) -> bool {
        self.latency_ms > 0 || self.jitter_ms > 0
    }

    /// Whether anything happens in [`execute`]: a delay, an error or a reset.
    fn delays_or_fails(self) -> bool {
        self.delays() || self.error_rate > 0.0 || self.reset_rate > 0.0
    }

    /// The latency plus a jitter draw.
    fn delay(self, ids: &mut Ids) -> u64 {
        let jitter = if self.jitter_ms > 0 {
            ids.up_to(self.jitter_ms)
        } else {
            0
        };
        self.latency_ms.saturating_add(jitter)
    }

    /// Draws the `throttle_rate` fault: whether to answer 429 instead of going on.
    fn throttle(self, state: &AppState) -> bool {
        self.throttle_rate > 0.0 && state.write().ids.unit() < self.throttle_rate
    }
}

/// Runs the faults (latency and jitter, error and reset rates), then the handler. The pipeline
/// sets `LogInfo::delayed` first, so that [`envelope`] does not delay the answer again.
async fn execute(ctx: &Ctx<'_>, matched: &Matched<'_>, faults: Option<ActiveFaults>) -> Executed {
    let Some(faults) = faults.filter(|faults| faults.delays_or_fails()) else {
        return Executed::Answered(dispatch(ctx, matched));
    };
    let (delay, fail, reset) = {
        let mut data = ctx.state.write();
        let delay = faults.delay(&mut data.ids);
        let fail = faults.error_rate > 0.0 && data.ids.unit() < faults.error_rate;
        let reset = faults.reset_rate > 0.0 && data.ids.unit() < faults.reset_rate;
        (delay, fail, reset)
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if fail {
        return Executed::Answered(Err(ApiError::internal()));
    }
    let outcome = dispatch(ctx, matched);
    if reset {
        return Executed::Dropped(outcome);
    }
    Executed::Answered(outcome)
}

fn dispatch(ctx: &Ctx<'_>, matched: &Matched<'_>) -> Outcome {
    let expand = crate::resources::expand::paths(ctx.params)?;
    let outcome = route(ctx, matched);
    match outcome {
        Ok(reply) if !expand.is_empty() && reply.status == 200 => {
            let mut reply = reply.into_json();
            crate::resources::expand::apply(ctx, &mut reply.body, &expand)?;
            Ok(reply)
        }
        other => other,
    }
}

fn route(ctx: &Ctx<'_>, matched: &Matched<'_>) -> Outcome {
    let operation = matched.operation;
    let id = || {
        matched
            .params
            .first()
            .map_or("", |(_, value)| value.as_str())
    };
    match (operation.method, operation.path.as_str()) {
        (Method::Post, "/v1/customers") => customers::create(ctx),
        (Method::Get, "/v1/customers") => customers::list(ctx),
        (Method::Get, "/v1/customers/{customer}") => customers::retrieve(ctx, id()),
        (Method::Post, "/v1/customers/{customer}") => customers::update(ctx, id()),
        (Method::Delete, "/v1/customers/{customer}") => customers::delete(ctx, id()),
        (method, template) => crate::resources::ROUTES
            .iter()
            .find_map(|route| route(ctx, method, template, id()))
            .unwrap_or_else(|| fallback::answer(ctx, matched)),
    }
}

/// Client-side calls a publishable key may make: the catalogue's `publishable` operations and a
/// short explicit list; the payment and setup intent ones only with a `client_secret`.
fn publishable_may_call(matched: Option<&Matched<'_>>, raw_params: &str) -> bool {
    let Some(matched) = matched else {
        return false;
    };
    let operation = matched.operation;
    if matches!(
        operation.rule,
        Rule::Excepted {
            kind: ExceptionKind::Publishable
        }
    ) {
        return true;
    }
    let has_client_secret = || {
        form::decode(raw_params)
            .ok()
            .is_some_and(|params| params.get("client_secret").is_some())
    };
    match (operation.method, operation.path.as_str()) {
        (Method::Post, "/v1/tokens" | "/v1/payment_methods" | "/v1/sources") => true,
        (Method::Get, "/v1/payment_intents/{intent}" | "/v1/setup_intents/{intent}")
        | (
            Method::Post,
            "/v1/payment_intents/{intent}/confirm" | "/v1/setup_intents/{intent}/confirm",
        ) => has_client_secret(),
        _ => false,
    }
}

/// The permission check, with `Stripe-Account` handling.
fn authorise<'c>(
    state: &AppState,
    caller: &'c Caller,
    matched: &Matched<'_>,
    stripe_account: Option<&'c str>,
) -> Result<Authority<'c>, ApiError> {
    let restricted = caller.kind == KeyKind::Restricted;
    let permission_mask = match state.era() {
        ErrorEra::Current => MaskStyle::Short,
        ErrorEra::Legacy => MaskStyle::Long,
    };
    let held = match stripe_account {
        None => &caller.permissions,
        Some(account) => {
            let connect = caller.connect_permissions.as_ref();
            if restricted && connect.is_none_or(|permissions| permissions.is_empty()) {
                return Err(stripe_error::no_connect_permissions().into());
            }
            if !state.is_reachable_account(account) {
                return Err(stripe_error::account_invalid(
                    &caller.masked(permission_mask),
                    account,
                )
                .into());
            }
            match connect {
                Some(permissions) => permissions,
                None => &caller.permissions,
            }
        }
    };
    let authority = Authority {
        held: restricted.then_some(held),
        caller: Some(caller),
        mask: permission_mask,
        account: stripe_account.map_or_else(|| state.account_id().to_owned(), str::to_owned),
    };
    match &matched.operation.rule {
        Rule::Mapped {
            permission, names, ..
        } => authority.require_named(state, permission, names)?,
        Rule::Excepted {
            kind: ExceptionKind::Unavailable | ExceptionKind::Unknown,
        } if restricted => return Err(authority.refuse(PermissionErrorEra::Unavailable, &[])),
        Rule::Excepted { .. } => {}
    }
    Ok(authority)
}

/// What the request's key may do, and what a refusal must say.
#[derive(Debug, Clone)]
pub struct Authority<'c> {
    /// A restricted key's permissions for this request (its Connect permissions with
    /// `Stripe-Account`); `None` for keys that may do anything.
    held: Option<&'c std::collections::BTreeSet<Permission>>,
    /// The key, for the masked form and object id a refusal names (`None` outside a request).
    caller: Option<&'c Caller>,
    mask: MaskStyle,
    account: String,
}

impl Authority<'_> {
    /// An authority that may do anything on `account`, for calling resources outside a request
    /// (tests of helpers such as `payment_intents::pay`).
    pub fn unrestricted(account: &str) -> Authority<'static> {
        Authority {
            held: None,
            caller: None,
            mask: MaskStyle::Short,
            account: account.to_owned(),
        }
    }

    /// Allows the request to go on if the key holds `permission` (write implies read, rows imply
    /// others), else Stripe's 403 naming it.
    pub fn require(&self, state: &AppState, permission: &Permission) -> Result<(), ApiError> {
        self.require_named(state, permission, &[])
    }

    fn require_named(
        &self,
        state: &AppState,
        permission: &Permission,
        names: &[String],
    ) -> Result<(), ApiError> {
        // Most requests name a permission the key holds outright; the closure over implications
        // is only computed when that direct check fails.
        let direct = |held: &std::collections::BTreeSet<Permission>| {
            held.contains(permission)
                || (permission.level == rakguard_catalog::permission::Level::Read
                    && held.contains(&Permission::new(
                        permission.row.clone(),
                        rakguard_catalog::permission::Level::Write,
                    )))
        };
        match self.held {
            Some(held) if !direct(held) && !state.catalog().satisfies(held, permission) => {
                Err(self.refuse(state.era().template(), &named(state, permission, names)))
            }
            _ => Ok(()),
        }
    }

    fn refuse(&self, era: PermissionErrorEra, permissions: &[PermissionName]) -> ApiError {
        let masked_key = self
            .caller
            .map(|caller| caller.masked(self.mask))
            .unwrap_or_default();
        stripe_error::permission_error(
            era,
            &PermissionRefusal {
                masked_key: &masked_key,
                account_id: &self.account,
                permissions,
                key_object_id: self.caller.map_or("", |caller| caller.key_id.as_str()),
            },
        )
        .into()
    }
}

/// The permissions a 403 names: the ids Stripe has been seen to name for this operation when the
/// catalogue records any, else the operation's own permission.
fn named(state: &AppState, permission: &Permission, names: &[String]) -> Vec<PermissionName> {
    let catalog = state.catalog();
    if names.is_empty() {
        let id = catalog.permission_name(permission);
        return vec![PermissionName::new(id, catalog.error_label(permission))];
    }
    names
        .iter()
        .map(|name| {
            let label = catalog
                .permission_by_scope(name)
                .map(|permission| catalog.error_label(&permission))
                .unwrap_or_default();
            PermissionName::new(name.clone(), label)
        })
        .collect()
}
