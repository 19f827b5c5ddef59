//! Prometheus metrics: verifications by outcome, verification latency, connections by status,
//! monitor lag, webhook deliveries. Rendered in the text exposition format.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::service::Service;
use crate::store::now_millis;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// The counters.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    verifications: BTreeMap<String, u64>,
    latency_buckets: [u64; BUCKETS.len()],
    latency_count: u64,
    latency_sum: f64,
    deliveries: BTreeMap<String, u64>,
}

impl Metrics {
    /// Counts one verification with its outcome (the verdict code) and duration.
    pub fn verification(&self, code: &str, took: Duration) {
        let mut counters = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *counters.verifications.entry(code.to_owned()).or_default() += 1;
        let seconds = took.as_secs_f64();
        for (bucket, bound) in counters.latency_buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        counters.latency_count += 1;
        counters.latency_sum += seconds;
    }

    /// Counts one webhook delivery attempt (`ok` or `failed`).
    pub fn delivery(&self, outcome: &str) {
        let mut counters = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *counters.deliveries.entry(outcome.to_owned()).or_default() += 1;
    }

    /// The exposition text; connection counts and the monitor lag are read from the store.
    pub async fn render(&self, service: &Service) -> String {
        let mut out = String::new();
        {
            let counters = self
                .inner
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            out.push_str("# HELP rakguard_verifications_total Verifications by verdict code.\n");
            out.push_str("# TYPE rakguard_verifications_total counter\n");
            for (code, count) in &counters.verifications {
                out.push_str(&format!(
                    "rakguard_verifications_total{{code=\"{code}\"}} {count}\n"
                ));
            }
            out.push_str("# HELP rakguard_verification_seconds Time to verify a key.\n");
            out.push_str("# TYPE rakguard_verification_seconds histogram\n");
            for (count, bound) in counters.latency_buckets.iter().zip(BUCKETS) {
                out.push_str(&format!(
                    "rakguard_verification_seconds_bucket{{le=\"{bound}\"}} {count}\n"
                ));
            }
            out.push_str(&format!(
                "rakguard_verification_seconds_bucket{{le=\"+Inf\"}} {}\n",
                counters.latency_count
            ));
            out.push_str(&format!(
                "rakguard_verification_seconds_sum {}\nrakguard_verification_seconds_count {}\n",
                counters.latency_sum, counters.latency_count
            ));
            out.push_str(
                "# HELP rakguard_webhook_deliveries_total Webhook delivery attempts by outcome.\n",
            );
            out.push_str("# TYPE rakguard_webhook_deliveries_total counter\n");
            for (outcome, count) in &counters.deliveries {
                out.push_str(&format!(
                    "rakguard_webhook_deliveries_total{{outcome=\"{outcome}\"}} {count}\n"
                ));
            }
        }
        if let Ok(connections) = service.store().connections(true).await {
            let mut by_status: BTreeMap<&str, u64> = BTreeMap::new();
            let now = now_millis();
            let mut lag_ms = 0i64;
            for connection in &connections {
                *by_status.entry(connection.status.as_str()).or_default() += 1;
                lag_ms = lag_ms.max(now - connection.next_check_at);
            }
            out.push_str("# HELP rakguard_connections Active connections by status.\n");
            out.push_str("# TYPE rakguard_connections gauge\n");
            for (status, count) in by_status {
                out.push_str(&format!(
                    "rakguard_connections{{status=\"{status}\"}} {count}\n"
                ));
            }
            out.push_str(
                "# HELP rakguard_monitor_lag_seconds How overdue the most overdue re-verification is.\n",
            );
            out.push_str("# TYPE rakguard_monitor_lag_seconds gauge\n");
            out.push_str(&format!(
                "rakguard_monitor_lag_seconds {}\n",
                lag_ms.max(0) as f64 / 1000.0
            ));
        }
        out
    }
}
