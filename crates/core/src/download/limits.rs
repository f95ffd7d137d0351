//! Shared limits on transfers: a per-host connection cap ([`HostLimiter`], default 6, so one
//! server never sees more parallel connections than a polite client opens) and an optional
//! global bandwidth limit ([`BandwidthLimiter`], bytes/s over all transfers together).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// At most `per_host` concurrent transfers per host name (`host:port`).
#[derive(Debug)]
pub struct HostLimiter {
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostLimiter {
    /// A limiter allowing `per_host` (at least 1) connections per host.
    pub fn new(per_host: usize) -> HostLimiter {
        HostLimiter { per_host: per_host.max(1), hosts: Mutex::default() }
    }

    /// Waits for a connection slot for the host of `url`; the slot is held until the permit
    /// drops. URLs without a host (e.g. `file:`) share one slot group named `""`.
    pub async fn acquire(&self, url: &url::Url) -> OwnedSemaphorePermit {
        let key = format!("{}:{}", url.host_str().unwrap_or(""), url.port_or_known_default().unwrap_or(0));
        let semaphore = {
            let mut hosts = self.hosts.lock().expect("host limiter lock");
            hosts.entry(key).or_insert_with(|| Arc::new(Semaphore::new(self.per_host))).clone()
        };
        semaphore.acquire_owned().await.expect("host semaphores are never closed")
    }
}

/// A global rate limit in bytes/s shared by every transfer, as a virtual-clock token bucket
/// (GCRA): each chunk advances a theoretical arrival time by `len / rate`; a reader ahead of
/// it by more than the burst allowance (1/4 s of traffic) waits the difference.
#[derive(Debug)]
pub struct BandwidthLimiter {
    bytes_per_sec: u64,
    next_free: Mutex<Option<Instant>>,
}

impl BandwidthLimiter {
    /// A limit of `bytes_per_sec` (at least 1) bytes per second.
    pub fn new(bytes_per_sec: u64) -> BandwidthLimiter {
        BandwidthLimiter { bytes_per_sec: bytes_per_sec.max(1), next_free: Mutex::new(None) }
    }

    /// The limit, in bytes/s.
    pub fn bytes_per_sec(&self) -> u64 {
        self.bytes_per_sec
    }

    /// Accounts `n` bytes just received at `now`; returns how long the caller should wait
    /// before reading more.
    pub fn reserve_at(&self, n: u64, now: Instant) -> Duration {
        let cost = Duration::from_secs_f64(n as f64 / self.bytes_per_sec as f64);
        let burst = Duration::from_millis(250);
        let mut next = self.next_free.lock().expect("bandwidth lock");
        let start = next.filter(|t| *t > now).unwrap_or(now);
        let tat = start + cost;
        *next = Some(tat);
        tat.saturating_duration_since(now + burst)
    }

    /// [`Self::reserve_at`] now.
    pub fn reserve(&self, n: u64) -> Duration {
        self.reserve_at(n, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bandwidth_waits_once_past_the_burst() {
        let limiter = BandwidthLimiter::new(1_000_000);
        let t0 = Instant::now();
        assert_eq!(limiter.reserve_at(200_000, t0), Duration::ZERO, "within the 1/4 s burst");
        let wait = limiter.reserve_at(300_000, t0);
        assert_eq!(wait, Duration::from_millis(250), "0.5 s of traffic at t0: 0.25 s past the burst");
        // time passing pays the debt back
        assert_eq!(limiter.reserve_at(100_000, t0 + Duration::from_secs(2)), Duration::ZERO);
    }

    #[tokio::test]
    async fn host_limiter_caps_connections_per_host() {
        let limiter = HostLimiter::new(2);
        let a: url::Url = "http://a.example/1".parse().unwrap();
        let b: url::Url = "http://b.example/1".parse().unwrap();
        let _p1 = limiter.acquire(&a).await;
        let _p2 = limiter.acquire(&a).await;
        let third = tokio::time::timeout(Duration::from_millis(50), limiter.acquire(&a)).await;
        assert!(third.is_err(), "a third connection to a.example waits");
        let other = tokio::time::timeout(Duration::from_millis(50), limiter.acquire(&b)).await;
        assert!(other.is_ok(), "another host is not held back");
        drop(_p1);
        assert!(tokio::time::timeout(Duration::from_millis(50), limiter.acquire(&a)).await.is_ok());
    }
}
