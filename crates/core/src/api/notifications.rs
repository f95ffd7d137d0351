//! Grouped job notifications (issue 16, part 5), as a pure function of the finished jobs and
//! the time, so the desktop shell only shows what [`NotifyGroup`] hands it. Jobs that end
//! close together (an auto-sync of 200 playlists queues 200 jobs) are collected until no job
//! has ended for [`QUIET_MS`], or at most [`HOLD_MS`] after the first, then summarized in one
//! notification: "12 jobs finished, 2 failed" with the failed ones named. Which jobs count is
//! the `notify` setting (`config::NotifyMode`): none, failed ones only, or every job that
//! succeeded or failed (cancelled, paused and re-queued jobs never notify).

use super::JobStatus;
use crate::config::NotifyMode;

/// A group closes once no job ended for this long (ms).
pub const QUIET_MS: i64 = 3_000;
/// A group closes at the latest this long after its first job ended (ms), so a steady stream
/// of jobs still notifies now and then.
pub const HOLD_MS: i64 = 60_000;
/// Failed jobs named in a summary; the rest are counted.
pub const NAMED_FAILURES: usize = 3;

/// A job that ended, as a notification tells of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedJob {
    /// Job id.
    pub job: u64,
    /// Its display name ("Sync and download").
    pub name: String,
    /// How it ended.
    pub status: JobStatus,
    /// The first error of its last run, for a failed job.
    pub error: Option<String>,
}

/// One desktop notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
}

/// Whether `mode` notifies about a job that ended `status`.
pub fn counts(mode: NotifyMode, status: JobStatus) -> bool {
    match (mode, status) {
        (NotifyMode::Off, _) => false,
        (NotifyMode::Failures, s) => s == JobStatus::Failed,
        (NotifyMode::EveryJob, s) => matches!(s, JobStatus::Succeeded | JobStatus::Failed),
    }
}

/// One notification for `jobs` (in the order they ended); `None` for none.
pub fn summarize(jobs: &[FinishedJob]) -> Option<Notice> {
    let failed: Vec<&FinishedJob> = jobs.iter().filter(|j| j.status == JobStatus::Failed).collect();
    match jobs {
        [] => None,
        [one] => {
            let what = if one.status == JobStatus::Failed { "failed" } else { "finished" };
            let body = one.error.clone().unwrap_or_else(|| format!("Job {} {what}.", one.job));
            Some(Notice { title: format!("{} {what}", one.name), body })
        }
        many => {
            let title = match failed.len() {
                0 => format!("{} jobs finished", many.len()),
                n if n == many.len() => format!("{n} jobs failed"),
                n => format!("{} jobs finished, {n} failed", many.len()),
            };
            let mut named: Vec<String> = failed
                .iter()
                .take(NAMED_FAILURES)
                .map(|j| match &j.error {
                    Some(e) => format!("{} (job {}): {e}", j.name, j.job),
                    None => format!("{} (job {})", j.name, j.job),
                })
                .collect();
            if failed.len() > NAMED_FAILURES {
                named.push(format!("and {} more failed", failed.len() - NAMED_FAILURES));
            }
            let body = if named.is_empty() { "Every job succeeded.".to_string() } else { named.join("\n") };
            Some(Notice { title, body })
        }
    }
}

/// Collects finished jobs into groups (module docs). Times are Unix ms from the caller's clock.
#[derive(Debug, Default)]
pub struct NotifyGroup {
    jobs: Vec<FinishedJob>,
    first_ms: i64,
    last_ms: i64,
}

impl NotifyGroup {
    /// Adds a job that ended at `now_ms`, when `mode` counts it; returns whether it was added.
    pub fn push(&mut self, mode: NotifyMode, job: FinishedJob, now_ms: i64) -> bool {
        if !counts(mode, job.status) {
            return false;
        }
        if self.jobs.is_empty() {
            self.first_ms = now_ms;
        }
        self.last_ms = now_ms;
        self.jobs.push(job);
        true
    }

    /// When the open group closes (Unix ms): [`QUIET_MS`] after its last job, at most
    /// [`HOLD_MS`] after its first; `None` without a group.
    pub fn due_ms(&self) -> Option<i64> {
        (!self.jobs.is_empty()).then(|| (self.last_ms + QUIET_MS).min(self.first_ms + HOLD_MS))
    }

    /// The group's notification once it is due at `now_ms` (the group starts over), else
    /// `None`.
    pub fn take(&mut self, now_ms: i64) -> Option<Notice> {
        match self.due_ms() {
            Some(due) if now_ms >= due => summarize(&std::mem::take(&mut self.jobs)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u64, status: JobStatus) -> FinishedJob {
        let error = (status == JobStatus::Failed).then(|| format!("HTTP 404 for item {id}"));
        FinishedJob { job: id, name: "Sync and download".into(), status, error }
    }

    #[test]
    fn an_auto_sync_of_200_playlists_gives_one_notification() {
        let mut g = NotifyGroup::default();
        let mut shown = Vec::new();
        // 200 jobs end 100 ms apart; the shell asks at each end and at the due time
        for n in 0..200u64 {
            let now = 1_000 + n as i64 * 100;
            let status = if n % 50 == 7 { JobStatus::Failed } else { JobStatus::Succeeded };
            g.push(NotifyMode::EveryJob, job(n, status), now);
            shown.extend(g.take(now));
        }
        assert!(shown.is_empty(), "nothing while jobs keep ending: {shown:?}");
        let due = g.due_ms().unwrap();
        assert_eq!(due, 1_000 + 199 * 100 + QUIET_MS);
        assert_eq!(g.take(due - 1), None);
        let n = g.take(due).unwrap();
        assert_eq!(n.title, "200 jobs finished, 4 failed");
        assert_eq!(n.body.lines().count(), 4, "{}", n.body);
        assert!(n.body.contains("Sync and download (job 7): HTTP 404 for item 7"), "{}", n.body);
        assert!(n.body.ends_with("and 1 more failed"), "{}", n.body);
        assert_eq!(g.take(due + 10_000), None, "the group started over");
    }

    #[test]
    fn a_steady_stream_still_notifies_after_the_hold() {
        let mut g = NotifyGroup::default();
        let mut shown = 0;
        for n in 0..100u64 {
            let now = n as i64 * 2_000; // never quiet for 3 s
            g.push(NotifyMode::EveryJob, job(n, JobStatus::Succeeded), now);
            shown += usize::from(g.take(now).is_some());
        }
        assert_eq!(shown, 3, "one per minute over 200 s");
    }

    #[test]
    fn modes_choose_the_jobs() {
        let mut g = NotifyGroup::default();
        assert!(!g.push(NotifyMode::Failures, job(1, JobStatus::Succeeded), 0));
        assert!(!g.push(NotifyMode::Off, job(2, JobStatus::Failed), 0));
        assert!(!g.push(NotifyMode::EveryJob, job(3, JobStatus::Cancelled), 0));
        assert_eq!(g.due_ms(), None);
        assert!(g.push(NotifyMode::Failures, job(4, JobStatus::Failed), 0));
        let n = g.take(QUIET_MS).unwrap();
        assert_eq!((n.title.as_str(), n.body.as_str()), ("Sync and download failed", "HTTP 404 for item 4"));
        g.push(NotifyMode::EveryJob, job(5, JobStatus::Succeeded), 0);
        g.push(NotifyMode::EveryJob, job(6, JobStatus::Succeeded), 1);
        let n = g.take(10_000).unwrap();
        assert_eq!((n.title.as_str(), n.body.as_str()), ("2 jobs finished", "Every job succeeded."));
    }
}
