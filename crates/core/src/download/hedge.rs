//! Hedged range requests: a stalled transfer is noticed as soon as the evidence allows, not
//! after the fixed stall window (issue 18, part 4). The evidence is twofold:
//! - this transfer has received nothing for [`Hedge::gap_factor`] times its usual gap between
//!   chunks (a moving average), and for at least [`Hedge::min_silence`];
//! - meanwhile other transfers from the same host (`host:port`) received bytes, so the host
//!   and the network are fine and this one connection is stuck ([`HostActivity`]).
//!
//! Then the transfer sends a second request, `Range: bytes=<received>-` with the part's
//! `If-Range` validator (RFC 9110 §13.1.5, §14.2), while it keeps waiting on the first: the
//! first of the two to deliver a byte wins and the other is dropped (its connection closes),
//! so no byte is fetched twice beyond what was in flight. A hedge whose answer cannot continue
//! the part (a 200, another start, another coding) is dropped and the transfer waits on. At
//! most one hedge runs per silence; the fixed stall window stays the last resort. Single
//! transfers to a host never hedge: without other traffic there is no evidence.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// When to hedge; see the module docs.
#[derive(Debug, Clone)]
pub struct Hedge {
    /// Bytes received per host, shared by every transfer of the engine.
    pub activity: Arc<HostActivity>,
    /// Silence shorter than this never hedges (ms scale; default 1 s).
    pub min_silence: Duration,
    /// Silence must also exceed this many times the transfer's usual gap (default 8).
    pub gap_factor: u32,
}

impl Hedge {
    /// Hedging over `activity` with the default thresholds (1 s, 8 gaps).
    pub fn new(activity: Arc<HostActivity>) -> Hedge {
        Hedge { activity, min_silence: Duration::from_secs(1), gap_factor: 8 }
    }

    /// Whether a transfer from `host` whose last chunk came at `last_chunk`, with a usual gap
    /// of `usual_gap`, should hedge at `now`.
    pub fn due(&self, host: &str, last_chunk: Instant, usual_gap: Duration, now: Instant) -> bool {
        let silence = now.saturating_duration_since(last_chunk);
        let threshold = self.min_silence.max(usual_gap.saturating_mul(self.gap_factor));
        silence >= threshold && self.activity.last(host).is_some_and(|other| other > last_chunk)
    }
}

/// The instant each host (`host:port`) last delivered body bytes to any transfer.
#[derive(Debug, Default)]
pub struct HostActivity {
    last: Mutex<HashMap<String, Instant>>,
}

impl HostActivity {
    /// Records bytes from `host` at `now`.
    pub fn note(&self, host: &str, now: Instant) {
        let mut last = self.last.lock().expect("host activity lock");
        match last.get_mut(host) {
            Some(at) => *at = (*at).max(now),
            None => {
                last.insert(host.to_owned(), now);
            }
        }
    }

    /// When `host` last delivered bytes, if ever.
    pub fn last(&self, host: &str) -> Option<Instant> {
        self.last.lock().expect("host activity lock").get(host).copied()
    }
}

/// The usual gap between a transfer's chunks: an exponential moving average (weight 1/4 for
/// the newest gap), starting at zero.
#[derive(Debug, Clone, Copy, Default)]
pub struct GapAverage {
    average: Duration,
}

impl GapAverage {
    /// Adds one observed gap.
    pub fn observe(&mut self, gap: Duration) {
        self.average = (self.average * 3 + gap) / 4;
    }

    /// The average so far.
    pub fn get(&self) -> Duration {
        self.average
    }
}

/// The key of a URL's host in [`HostActivity`]: `host:port`, as the per-host limits count.
pub fn host_key(url: &url::Url) -> String {
    format!("{}:{}", url.host_str().unwrap_or(""), url.port_or_known_default().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hedges_only_on_silence_beyond_both_thresholds_while_the_host_delivers_elsewhere() {
        let activity = Arc::new(HostActivity::default());
        let hedge = Hedge::new(activity.clone());
        let t0 = Instant::now();
        let s = Duration::from_secs;
        // silent 5 s, usual gap 10 ms, but the host delivered nothing since: no evidence
        assert!(!hedge.due("h:80", t0, Duration::from_millis(10), t0 + s(5)));
        activity.note("h:80", t0 + s(1));
        assert!(hedge.due("h:80", t0, Duration::from_millis(10), t0 + s(5)));
        // another host's traffic is no evidence
        assert!(!hedge.due("other:80", t0, Duration::from_millis(10), t0 + s(5)));
        // not silent long enough: under the floor, or under 8 usual gaps
        assert!(!hedge.due("h:80", t0, Duration::from_millis(10), t0 + Duration::from_millis(900)));
        assert!(!hedge.due("h:80", t0, Duration::from_millis(700), t0 + s(5)));
        assert!(hedge.due("h:80", t0, Duration::from_millis(700), t0 + s(6)));
    }

    #[test]
    fn the_gap_average_follows_the_newest_gaps() {
        let mut g = GapAverage::default();
        for _ in 0..20 {
            g.observe(Duration::from_millis(8));
        }
        assert!(g.get() > Duration::from_millis(7) && g.get() <= Duration::from_millis(8), "{:?}", g.get());
    }
}
