//! When the desktop app raises a notification for finished jobs (issue 16, part 5): `off`,
//! `failures` (a job failed) or `every_job` (every job that ended, succeeded or failed).
//! Notifications are grouped (`api::notifications`), so many jobs ending close together give
//! one notification.

use serde::{Deserialize, Serialize};

/// Which finished jobs raise a desktop notification. In TOML: `notify = "failures"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum NotifyMode {
    /// Never.
    Off,
    /// Only when a job failed.
    Failures,
    /// When any job succeeded or failed (the default; cancelled and paused jobs never notify).
    #[default]
    EveryJob,
}
