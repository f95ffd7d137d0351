//! A schedule that keeps time (issue 16, part 4): the pure rule that moves a recurring
//! schedule's due time, with the state kept in the catalog (`store::schedule`), so it survives
//! restarts. [`plan`] takes the stored row, now, the interval and one random draw, and says
//! whether a run is due and when the next one is:
//! - no row yet (first start, or just turned on): due one interval (plus jitter) from now;
//! - the interval changed: due one new interval (plus jitter) after the last run, or from now
//!   when it never ran; when that lies in the past, it runs now;
//! - due time reached: run once, however many slots were missed while the machine slept or the
//!   app was closed, and the next one is due an interval (plus jitter) from now, not from the
//!   missed slot (no catch-up burst);
//! - otherwise: wait for the stored due time.
//!
//! Jitter: each due time gets a random extra of `[0, 10 %)` of the interval ([`jitter_ms`]),
//! so clients started together spread their load on the hosts over time instead of syncing in
//! step. Randomness is a parameter (ARCHITECTURE.md, convention 13): the draw comes from the
//! caller.

use crate::store::ScheduleRow;

/// The largest jitter as a fraction of the interval: 10 %.
pub const JITTER_FRACTION: f64 = 0.10;

/// The extra delay (ms) of one due time: `unit` (a draw in `[0, 1)`, clamped) times
/// [`JITTER_FRACTION`] of `every_ms`; `0 <= jitter < every_ms / 10`.
pub fn jitter_ms(every_ms: i64, unit: f64) -> i64 {
    let unit = if unit.is_finite() { unit.clamp(0.0, 1.0) } else { 0.0 };
    let max = (every_ms as f64 * JITTER_FRACTION) as i64;
    ((max as f64 * unit) as i64).min((max - 1).max(0))
}

/// What a schedule does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Turned off: no row is kept.
    Off,
    /// Not due yet: `row` is the state to keep (changed when it was missing or stale).
    Wait {
        /// The state to store.
        row: ScheduleRow,
        /// Whether `row` differs from the stored one.
        changed: bool,
    },
    /// Due: run once now, then store `next` (its `last_run_ms` is now; the caller sets
    /// `last_job`).
    Run {
        /// The state after the run.
        next: ScheduleRow,
    },
}

/// Decides what a schedule with stored state `row` and interval `every_ms` (`None`: off) does
/// at `now_ms`; `unit` is one random draw in `[0, 1)` for the jitter (module docs).
pub fn plan(row: Option<ScheduleRow>, now_ms: i64, every_ms: Option<i64>, unit: f64) -> Plan {
    let Some(every) = every_ms.filter(|e| *e > 0) else { return Plan::Off };
    let jitter = jitter_ms(every, unit);
    let fresh =
        |from: i64| ScheduleRow { due_ms: from + every + jitter, every_ms: every, ..Default::default() };
    let (row, changed) = match row {
        None => (fresh(now_ms), true),
        Some(r) if r.every_ms != every => {
            let base = r.last_run_ms.unwrap_or(now_ms);
            (ScheduleRow { last_run_ms: r.last_run_ms, last_job: r.last_job, ..fresh(base) }, true)
        }
        Some(r) => (r, false),
    };
    if now_ms >= row.due_ms {
        let next = ScheduleRow { last_run_ms: Some(now_ms), last_job: None, ..fresh(now_ms) };
        return Plan::Run { next };
    }
    Plan::Wait { row, changed }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn jitter_stays_below_a_tenth_of_the_interval() {
        assert_eq!(jitter_ms(10 * H, 0.0), 0);
        assert_eq!(jitter_ms(10 * H, 0.5), H / 2);
        for unit in [0.999_999, 1.0, 7.0, f64::NAN, -1.0] {
            let j = jitter_ms(10 * H, unit);
            assert!((0..H).contains(&j), "{unit}: {j}");
        }
        assert_eq!(jitter_ms(5, 0.9), 0, "an interval too short for jitter");
    }

    #[test]
    fn the_first_start_waits_one_interval_plus_jitter() {
        let Plan::Wait { row, changed } = plan(None, 1_000, Some(24 * H), 0.5) else { panic!() };
        assert!(changed);
        assert_eq!(row.due_ms, 1_000 + 24 * H + jitter_ms(24 * H, 0.5));
        assert_eq!(plan(Some(row), 2_000, Some(24 * H), 0.9), Plan::Wait { row, changed: false });
    }

    #[test]
    fn missed_slots_run_once_and_the_next_is_counted_from_now() {
        let row = ScheduleRow { due_ms: 10 * H, every_ms: H, last_run_ms: Some(9 * H), last_job: Some(3) };
        let now = 15 * H + 7; // five slots missed
        let Plan::Run { next } = plan(Some(row), now, Some(H), 0.0) else { panic!() };
        assert_eq!((next.due_ms, next.last_run_ms, next.last_job), (now + H, Some(now), None));
        assert!(matches!(plan(Some(next), now + 1, Some(H), 0.0), Plan::Wait { changed: false, .. }));
    }

    #[test]
    fn a_changed_interval_counts_from_the_last_run() {
        let row =
            ScheduleRow { due_ms: 30 * H, every_ms: 24 * H, last_run_ms: Some(6 * H), last_job: Some(1) };
        let Plan::Wait { row: r, changed: true } = plan(Some(row), 8 * H, Some(6 * H), 0.0) else { panic!() };
        assert_eq!((r.due_ms, r.every_ms, r.last_job), (12 * H, 6 * H, Some(1)));
        // shorter than the time since the last run: runs now
        assert!(matches!(plan(Some(row), 8 * H, Some(H), 0.0), Plan::Run { .. }));
        assert_eq!(plan(Some(row), 8 * H, None, 0.0), Plan::Off);
    }
}
