//! The admin API under `/_emulator/v1`: manage keys, read the request log, set faults and reset
//! data. JSON in and out; bad input is a 400 naming the field (see [`AdminError`]).
//!
//! | Route | Does |
//! |---|---|
//! | `POST /keys` | creates a key; the only answer that shows its secret |
//! | `GET /keys` | lists keys, secrets masked |
//! | `DELETE /keys/{id}` | revokes a key |
//! | `POST /keys/{id}/roll` | new secret; the old one works `expires_in_seconds` more, then expires |
//! | `POST /keys/{id}/permissions` | replaces a restricted key's permissions |
//! | `GET /requests?key=mk_…` | the request log, optionally for one key |
//! | `POST /faults` | sets latency, jitter, error, reset and throttle rates, their scope, rate limit, seed; answers the settings |
//! | `POST /reset` | clears objects, idempotency records, rate buckets and the log; keeps keys |

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{delete, get, post};
use serde_json::{Map, Value, json};

use crate::config::{FaultScope, FaultSettings};
use crate::error::AdminError;
use crate::ids::Ids;
use crate::keys::{KeySpec, resolve_all};
use crate::state::AppState;

/// The path the admin API is mounted under.
pub const ADMIN_PREFIX: &str = "/_emulator/v1";

/// The admin routes, to be nested under [`ADMIN_PREFIX`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/keys", post(create_key).get(list_keys))
        .route("/keys/{id}", delete(revoke_key))
        .route("/keys/{id}/roll", post(roll_key))
        .route("/keys/{id}/permissions", post(set_permissions))
        .route("/requests", get(list_requests))
        .route("/faults", post(set_faults))
        .route("/reset", post(reset))
        .route("/stats", get(stats))
}

type AdminResult = Result<Json<Value>, AdminError>;

fn parse_body(body: &Bytes) -> Result<Map<String, Value>, AdminError> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(AdminError::field("body", "expected a JSON object")),
        Err(error) => Err(AdminError::field("body", format!("invalid JSON: {error}"))),
    }
}

async fn create_key(State(state): State<AppState>, body: Bytes) -> AdminResult {
    let object = parse_body(&body)?;
    let spec = KeySpec::from_json(state.catalog(), &Value::Object(object))?;
    state
        .with_keys(true, |keys, ids, now| keys.add(spec, ids, now).cloned())
        .map(Json)
}

async fn list_keys(State(state): State<AppState>) -> Json<Value> {
    let now = state.clock().now();
    let keys: Vec<Value> = state
        .keys()
        .iter()
        .map(|record| record.to_json(state.catalog(), false, now))
        .collect();
    Json(json!({"object": "list", "data": keys}))
}

async fn revoke_key(State(state): State<AppState>, Path(id): Path<String>) -> AdminResult {
    state
        .with_keys(false, |keys, _, _| keys.revoke(&id).cloned())
        .map(Json)
}

async fn roll_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> AdminResult {
    let object = parse_body(&body)?;
    let grace = match object.get("expires_in_seconds") {
        None => 0,
        Some(value) => value
            .as_i64()
            .filter(|seconds| *seconds >= 0)
            .ok_or_else(|| {
                AdminError::field("expires_in_seconds", "expected a non-negative integer")
            })?,
    };
    if let Some(unknown) = object
        .keys()
        .find(|key| key.as_str() != "expires_in_seconds")
    {
        return Err(AdminError::field(unknown.clone(), "unknown field"));
    }
    state
        .with_keys(true, |keys, ids, now| {
            keys.roll(&id, grace, ids, now).cloned()
        })
        .map(Json)
}

async fn set_permissions(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> AdminResult {
    let object = parse_body(&body)?;
    if let Some(unknown) = object.keys().find(|key| key.as_str() != "permissions") {
        return Err(AdminError::field(unknown.clone(), "unknown field"));
    }
    let permissions = match object.get("permissions") {
        Some(value @ Value::Array(_)) => resolve_all(state.catalog(), Some(value), "permissions")?,
        Some(_) => {
            return Err(AdminError::field(
                "permissions",
                "expected an array of permission names",
            ));
        }
        None => return Err(AdminError::field("permissions", "is required")),
    };
    state
        .with_keys(false, |keys, _, _| {
            keys.set_permissions(&id, permissions).cloned()
        })
        .map(Json)
}

async fn list_requests(State(state): State<AppState>, RawQuery(query): RawQuery) -> AdminResult {
    let params = crate::form::decode(query.as_deref().unwrap_or_default())
        .map_err(|error| AdminError::field(error.param, error.reason.describe()))?;
    let key = match params.get("key") {
        None => None,
        Some(Value::String(key)) => Some(key.clone()),
        Some(_) => return Err(AdminError::field("key", "expected a key id")),
    };
    let entries = state.requests(key.as_deref());
    let data = serde_json::to_value(entries)
        .map_err(|error| AdminError::field("log", error.to_string()))?;
    Ok(Json(json!({"object": "list", "data": data})))
}

/// A parsed `POST /faults` body: only the fields sent change.
#[derive(Debug, Default)]
struct FaultsUpdate {
    latency_ms: Option<u64>,
    jitter_ms: Option<u64>,
    error_rate: Option<f64>,
    reset_rate: Option<f64>,
    throttle_rate: Option<f64>,
    rate_limit_per_second: Option<Option<u32>>,
    scope: Option<Option<FaultScope>>,
    seed: Option<u64>,
}

/// Sets faults: every field is checked before any is applied, so a refused body changes nothing.
/// The answer is the full settings after the change (`{}` reads them).
async fn set_faults(State(state): State<AppState>, body: Bytes) -> AdminResult {
    let object = parse_body(&body)?;
    let mut update = FaultsUpdate::default();
    for (field, value) in &object {
        let whole = || {
            value
                .as_u64()
                .ok_or_else(|| AdminError::field(field, "expected a non-negative integer"))
        };
        let rate = || {
            value
                .as_f64()
                .filter(|rate| (0.0..=1.0).contains(rate))
                .ok_or_else(|| AdminError::field(field, "expected a number from 0 to 1"))
        };
        match field.as_str() {
            "latency_ms" => update.latency_ms = Some(whole()?),
            "jitter_ms" => update.jitter_ms = Some(whole()?),
            "error_rate" => update.error_rate = Some(rate()?),
            "reset_rate" => update.reset_rate = Some(rate()?),
            "throttle_rate" => update.throttle_rate = Some(rate()?),
            "rate_limit_per_second" => {
                update.rate_limit_per_second = Some(match value {
                    Value::Null => None,
                    _ => Some(
                        whole()?
                            .try_into()
                            .ok()
                            .filter(|limit: &u32| *limit > 0)
                            .ok_or_else(|| {
                                AdminError::field(field, "expected a positive integer")
                            })?,
                    ),
                })
            }
            "scope" => update.scope = Some(parse_scope(value)?),
            "seed" => update.seed = Some(whole()?),
            _ => return Err(AdminError::field(field.clone(), "unknown field")),
        }
    }
    let mut data = state.write();
    let faults = &mut data.faults;
    if let Some(latency_ms) = update.latency_ms {
        faults.latency_ms = latency_ms;
    }
    if let Some(jitter_ms) = update.jitter_ms {
        faults.jitter_ms = jitter_ms;
    }
    if let Some(error_rate) = update.error_rate {
        faults.error_rate = error_rate;
    }
    if let Some(reset_rate) = update.reset_rate {
        faults.reset_rate = reset_rate;
    }
    if let Some(throttle_rate) = update.throttle_rate {
        faults.throttle_rate = throttle_rate;
    }
    if let Some(limit) = update.rate_limit_per_second {
        faults.rate_limit_per_second = limit;
    }
    if let Some(scope) = update.scope {
        faults.scope = scope;
    }
    let answer = faults_json(faults);
    if let Some(seed) = update.seed {
        data.ids = Ids::new(Some(seed));
    }
    Ok(Json(answer))
}

/// `scope`: `null`, or an object with an optional `method` (`GET`, `POST` or `DELETE`, any case)
/// and an optional `path_prefix` (starting with `/`). An empty scope is no scope.
fn parse_scope(value: &Value) -> Result<Option<FaultScope>, AdminError> {
    let object = match value {
        Value::Null => return Ok(None),
        Value::Object(object) => object,
        _ => {
            return Err(AdminError::field(
                "scope",
                "expected an object with method and/or path_prefix, or null",
            ));
        }
    };
    let mut scope = FaultScope::default();
    for (field, value) in object {
        match (field.as_str(), value) {
            ("method" | "path_prefix", Value::Null) => {}
            ("method", Value::String(method))
                if ["GET", "POST", "DELETE"]
                    .iter()
                    .any(|known| known.eq_ignore_ascii_case(method)) =>
            {
                scope.method = Some(method.to_ascii_uppercase());
            }
            ("method", _) => {
                return Err(AdminError::field(
                    "scope.method",
                    "expected GET, POST or DELETE",
                ));
            }
            ("path_prefix", Value::String(prefix)) if prefix.starts_with('/') => {
                scope.path_prefix = Some(prefix.clone());
            }
            ("path_prefix", _) => {
                return Err(AdminError::field(
                    "scope.path_prefix",
                    "expected a path starting with /",
                ));
            }
            _ => return Err(AdminError::field(format!("scope.{field}"), "unknown field")),
        }
    }
    Ok((scope != FaultScope::default()).then_some(scope))
}

/// The fault settings as `POST /faults` answers them.
fn faults_json(faults: &FaultSettings) -> Value {
    json!({
        "latency_ms": faults.latency_ms,
        "jitter_ms": faults.jitter_ms,
        "error_rate": faults.error_rate,
        "reset_rate": faults.reset_rate,
        "throttle_rate": faults.throttle_rate,
        "rate_limit_per_second": faults.rate_limit_per_second,
        "scope": faults.scope.as_ref().map(|scope| json!({
            "method": scope.method,
            "path_prefix": scope.path_prefix,
        })),
    })
}

async fn reset(State(state): State<AppState>) -> Json<Value> {
    state.reset();
    Json(json!({"reset": true}))
}

/// `GET /_emulator/v1/stats`: how many objects of each type are stored (all accounts and modes),
/// how many requests are logged and how many keys exist.
async fn stats(State(state): State<AppState>) -> Json<Value> {
    let data = state.read();
    Json(serde_json::json!({
        "objects": data.objects.counts(),
        "requests": state.logged(),
        "keys": data.keys.all().len(),
    }))
}
