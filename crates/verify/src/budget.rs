//! The rate budget: at most `limit` requests in any window of one second (plus a small guard, so
//! that requests sent exactly one second apart cannot arrive inside one window at the server).
//!
//! A sliding-window log rather than a token bucket: a bucket of capacity `b` refilled at `r`/s
//! lets `b + r` requests through in some one-second windows, while this never lets more than
//! `limit` through in any, and still sends the first `limit` at once (what makes `verify` of a
//! small manifest take one round trip).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The window.
pub const WINDOW: Duration = Duration::from_secs(1);
/// Added to the window to absorb scheduling and network jitter between the client's clock and
/// the server's.
pub const GUARD: Duration = Duration::from_millis(50);

/// A sliding-window rate limiter shared by every request of a run.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    sent: Mutex<VecDeque<Instant>>,
}

impl Budget {
    /// A budget of `per_second` requests (at least one).
    pub fn new(per_second: u32) -> Budget {
        let limit = usize::try_from(per_second.max(1)).unwrap_or(usize::MAX);
        Budget {
            limit,
            sent: Mutex::new(VecDeque::with_capacity(limit.min(1024))),
        }
    }

    /// The limit per window.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Waits until one more request fits, and records it as sent now.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let now = Instant::now();
                let mut sent = self
                    .sent
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                while sent
                    .front()
                    .is_some_and(|&first| now.duration_since(first) >= WINDOW + GUARD)
                {
                    sent.pop_front();
                }
                if sent.len() < self.limit {
                    sent.push_back(now);
                    return;
                }
                match sent.front() {
                    Some(&first) => (first + WINDOW + GUARD).saturating_duration_since(now),
                    None => Duration::ZERO,
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_limit_in_any_window() {
        let budget = std::sync::Arc::new(Budget::new(5));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..23 {
            let budget = budget.clone();
            tasks.push(tokio::spawn(async move {
                budget.acquire().await;
                Instant::now()
            }));
        }
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.unwrap_or(start));
        }
        times.sort();
        for (i, &time) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|&&later| later.duration_since(time) < WINDOW)
                .count();
            assert!(in_window <= 5, "{in_window} requests within a second");
        }
        // The first five go at once; 23 requests need four more windows.
        assert_eq!(times[4], start);
        let total = times[22].duration_since(start);
        assert!(
            total >= 4 * WINDOW && total < 5 * (WINDOW + GUARD),
            "{total:?}"
        );
    }
}
