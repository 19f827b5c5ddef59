//! The monitor: re-verifies every active connection on its schedule, and delivers events to the
//! integrator's webhook from the outbox.
//!
//! Replicas share the work through leases: each tick claims due connections
//! ([`crate::store::Store::claim_due`], `FOR UPDATE SKIP LOCKED` on PostgreSQL), so no
//! connection is verified twice in a cycle. Inconclusive runs never flip a status on their own
//! ([`crate::service::transition`]).

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use tokio::sync::watch;

use crate::metrics::Metrics;
use crate::service::{Actor, Service};
use crate::store::now_millis;

/// How the monitor runs.
#[derive(Debug, Clone)]
pub struct MonitorSettings {
    /// This replica's name, recorded on leases.
    pub owner: String,
    /// How often to look for due connections and pending events.
    pub tick: Duration,
    /// Connections claimed per tick.
    pub batch: i64,
    /// How long a claim holds (a replica that dies mid-check releases it by expiry).
    pub lease: Duration,
    /// The integrator's webhook endpoint, if any.
    pub webhook_url: Option<String>,
    /// The secret events are signed with.
    pub webhook_secret: Option<SecretString>,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        MonitorSettings {
            owner: crate::service::new_id("replica"),
            tick: Duration::from_secs(15),
            batch: 20,
            lease: Duration::from_secs(300),
            webhook_url: None,
            webhook_secret: None,
        }
    }
}

/// Claims due connections and re-verifies them (concurrently; each verification keeps to its
/// own rate budget, and a tenant has one connection per mode). Returns how many were checked.
pub async fn check_due(service: &Service, settings: &MonitorSettings) -> usize {
    let now = now_millis();
    let lease_until = now + i64::try_from(settings.lease.as_millis()).unwrap_or(i64::MAX / 2);
    let claimed = match service
        .store()
        .claim_due(&settings.owner, now, lease_until, settings.batch)
        .await
    {
        Ok(claimed) => claimed,
        Err(error) => {
            tracing::warn!("monitor: could not claim connections: {error}");
            return 0;
        }
    };
    let count = claimed.len();
    let actor = Actor::monitor();
    join_all(claimed.into_iter().map(|row| {
        let actor = actor.clone();
        async move {
            let id = row.id.clone();
            if let Err(error) = service.reverify_row(&actor, row, "monitor").await {
                tracing::warn!(connection = %id, "monitor: re-verification failed: {error}");
            }
        }
    }))
    .await;
    count
}

/// The `Rakguard-Signature` header for a payload sent at `timestamp`: `t=<unix>,v1=<hex>`,
/// HMAC-SHA256 over `"<t>.<payload>"`, like Stripe's webhook signatures.
pub fn signature(secret: &str, timestamp: i64, payload: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(format!("{timestamp}.{payload}").as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// The delay before delivery attempt `attempts + 1`: 10 s doubling, at most 6 hours.
pub fn retry_delay_ms(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    (10_000i64.saturating_mul(1i64 << exponent)).min(6 * 3600 * 1000)
}

/// Delivers pending events to the webhook. Returns how many were accepted (2xx).
pub async fn deliver_events(
    service: &Service,
    settings: &MonitorSettings,
    client: &reqwest::Client,
    metrics: &Metrics,
) -> usize {
    let (Some(url), Some(secret)) = (&settings.webhook_url, &settings.webhook_secret) else {
        return 0;
    };
    let now = now_millis();
    let Ok(events) = service.store().pending_events(now, 50).await else {
        return 0;
    };
    let mut delivered = 0;
    for event in events {
        let payload = serde_json::json!({
            "id": event.id,
            "object": "event",
            "type": event.event_type,
            "created": event.created_at / 1000,
            "tenant": event.tenant,
            "data": serde_json::from_str::<serde_json::Value>(&event.payload).unwrap_or_default(),
        })
        .to_string();
        let timestamp = now / 1000;
        let result = client
            .post(url)
            .header("content-type", "application/json")
            .header(
                "rakguard-signature",
                signature(secret.expose_secret(), timestamp, &payload),
            )
            .body(payload)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        let outcome = match result {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(format!("HTTP {}", response.status().as_u16())),
            Err(error) => Err(if error.is_timeout() {
                "timed out".to_owned()
            } else {
                "could not connect".to_owned()
            }),
        };
        let stored = match &outcome {
            Ok(()) => {
                delivered += 1;
                metrics.delivery("ok");
                service
                    .store()
                    .event_attempted(&event.id, Some(now_millis()), now, None)
                    .await
            }
            Err(error) => {
                metrics.delivery("failed");
                service
                    .store()
                    .event_attempted(
                        &event.id,
                        None,
                        now + retry_delay_ms(event.attempts),
                        Some(error),
                    )
                    .await
            }
        };
        if let Err(error) = stored {
            tracing::warn!("webhooks: could not record a delivery: {error}");
        }
    }
    delivered
}

/// Runs the monitor and the webhook delivery every tick until `shutdown` turns true.
pub async fn run(
    service: Service,
    settings: MonitorSettings,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    let client = reqwest::Client::new();
    loop {
        check_due(&service, &settings).await;
        deliver_events(&service, &settings, &client, &metrics).await;
        tokio::select! {
            _ = tokio::time::sleep(settings.tick) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
    }
}
