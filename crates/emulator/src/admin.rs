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
//! | `POST /faults` | sets latency, jitter, error and reset rates, rate limit, seed |
//! | `POST /reset` | clears objects, idempotency records, rate buckets and the log; keeps keys |

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{delete, get, post};
use serde_json::{Map, Value, json};

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

async fn set_faults(State(state): State<AppState>, body: Bytes) -> AdminResult {
    let object = parse_body(&body)?;
    let mut data = state.write();
    let mut faults = data.faults;
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
            "latency_ms" => faults.latency_ms = whole()?,
            "jitter_ms" => faults.jitter_ms = whole()?,
            "error_rate" => faults.error_rate = rate()?,
            "reset_rate" => faults.reset_rate = rate()?,
            "rate_limit_per_second" => {
                faults.rate_limit_per_second = match value {
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
                }
            }
            "seed" => data.ids = Ids::new(Some(whole()?)),
            _ => return Err(AdminError::field(field.clone(), "unknown field")),
        }
    }
    data.faults = faults;
    Ok(Json(json!({
        "latency_ms": faults.latency_ms,
        "jitter_ms": faults.jitter_ms,
        "error_rate": faults.error_rate,
        "reset_rate": faults.reset_rate,
        "rate_limit_per_second": faults.rate_limit_per_second,
    })))
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
