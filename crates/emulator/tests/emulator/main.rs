//! Integration tests of the emulator, one module per area, mostly driving the router with
//! `oneshot`; `socket` spawns it on port 0 where the connection matters.

// Test helpers are not public API; tests may panic on broken expectations.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod auth;
mod billing;
mod catalogue_objects;
mod customers;
mod expand;
mod fallback;
mod faults;
mod idempotency;
mod payments;
mod permissions;
mod probes;
mod sdk;
mod socket;
mod webhooks;

use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request};
use rakguard_catalog::Catalog;
use rakguard_emulator::{AppState, EmulatorConfig, ErrorEra, KeySpec, router};
use serde_json::{Value, json};
use tower::ServiceExt;

/// A router over a fresh state.
pub struct App {
    pub state: AppState,
    pub router: Router,
}

/// A response, read.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn code(&self) -> Option<&str> {
        self.body["error"]["code"].as_str()
    }
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

pub fn spec(value: Value) -> KeySpec {
    KeySpec::from_json(Catalog::embedded(), &value).expect("valid key spec")
}

impl App {
    pub fn new(keys: Vec<KeySpec>) -> App {
        App::with_config(EmulatorConfig {
            keys,
            seed: Some(42),
            ..EmulatorConfig::default()
        })
    }

    pub fn with_config(config: EmulatorConfig) -> App {
        let state = AppState::new(&config).expect("state");
        App {
            router: router(state.clone()),
            state,
        }
    }

    /// The default keys plus restricted test keys holding the given permissions, named r0, r1, ….
    pub fn with_restricted(permission_sets: &[&[&str]], era: ErrorEra) -> App {
        let mut keys = EmulatorConfig::default_keys();
        for (index, permissions) in permission_sets.iter().enumerate() {
            keys.push(spec(json!({"name": format!("r{index}"), "type": "restricted", "permissions": permissions})));
        }
        App::with_config(EmulatorConfig {
            keys,
            seed: Some(7),
            era,
            ..EmulatorConfig::default()
        })
    }

    /// The secret of the key with this name.
    pub fn secret(&self, name: &str) -> String {
        self.key(name).secret
    }

    pub fn key(&self, name: &str) -> rakguard_emulator::keys::KeyRecord {
        self.state
            .keys()
            .into_iter()
            .find(|record| record.spec.name == name)
            .expect("key exists")
    }

    pub async fn call(&self, method: &str, path: &str, key: Option<&str>, body: &str) -> Answer {
        self.call_with(
            method,
            path,
            key.map(|key| format!("Bearer {key}")).as_deref(),
            body,
            &[],
        )
        .await
    }

    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: &str,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(authorization) = authorization {
            builder = builder.header("authorization", authorization);
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let mut request = builder.body(Body::from(body.to_owned())).expect("request");
        let peer: SocketAddr = "127.0.0.1:40000".parse().expect("address");
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }
}
