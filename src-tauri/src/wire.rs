//! Wire enums: the core's status and kind enums mirrored with `specta::Type`, so the generated
//! TypeScript has them as string unions (`"sync_only" | "download_only" | ...`), serialized in
//! the same snake_case as the core's own serde names. The core stays free of specta (convention
//! 1); [`wire_enum!`] writes each mirror and its conversions in both directions, so a variant
//! added to the core without a mirror is a compile error here.

use catalog_sync_core::jobs::Lane as CoreLane;
use catalog_sync_core::store::{
    ErrorClass as CoreErrorClass, JobCommand, JobKind as CoreJobKind, JobStatus as CoreJobStatus,
    LogKind as CoreLogKind, RunOutcome as CoreRunOutcome, StageKind as CoreStageKind,
    StepOutcome as CoreStepOutcome, WorkStatus as CoreWorkStatus, WorkerState as CoreWorkerState,
};
use serde::{Deserialize, Serialize};
use specta::Type;

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident <- $core:ident { $($(#[$vm:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Type)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl From<$core> for $name {
            fn from(v: $core) -> Self { match v { $($core::$variant => Self::$variant),+ } }
        }

        impl From<$name> for $core {
            fn from(v: $name) -> Self { match v { $($name::$variant => $core::$variant),+ } }
        }
    };
}

wire_enum!(
    /// Kind of a job (which stages it runs).
    JobKind <- CoreJobKind {
        /// Refresh playlists.
        SyncOnly,
        /// Download what is not downloaded yet.
        DownloadOnly,
        /// Sync, then download.
        SyncDownload,
        /// Re-read subscription lists, sync, download.
        CatalogSync,
        /// Re-read subscription lists only.
        CollectOnly,
        /// Write M3U playlists.
        ExportOnly,
        /// Download, then export.
        DownloadExport,
    }
);

wire_enum!(
    /// Lifecycle of a job.
    JobStatus <- CoreJobStatus {
        /// Waiting for its lane.
        Queued,
        /// Running.
        Running,
        /// Finished, nothing failed.
        Succeeded,
        /// A stage or some items failed.
        Failed,
        /// Cancelled by the user.
        Cancelled,
        /// Pausing: workers are finishing.
        PauseRequested,
        /// Paused.
        Paused,
    }
);

wire_enum!(
    /// Lifecycle of a stage or of one work item.
    WorkStatus <- CoreWorkStatus {
        /// Not started.
        Queued,
        /// In progress.
        Running,
        /// Finished.
        Done,
        /// Finished with an error.
        Failed,
        /// Nothing to do.
        Skipped,
        /// No playlist or job wants the item any more; its transfer is stopping.
        Cancelling,
        /// Stopped because nothing wants the item any more.
        Cancelled,
    }
);

wire_enum!(
    /// Kind of a stage.
    StageKind <- CoreStageKind {
        /// Refresh playlists.
        Sync,
        /// Download media.
        Download,
        /// Re-read subscription lists.
        Collect,
        /// Write M3U files.
        Export,
    }
);

wire_enum!(
    /// Scheduling lane of a job.
    Lane <- CoreLane {
        /// Jobs with a download stage.
        Download,
        /// Everything else.
        General,
    }
);

wire_enum!(
    /// What a worker is doing.
    WorkerState <- CoreWorkerState {
        /// Waiting for work.
        Idle,
        /// Working on an item.
        Working,
        /// Ended.
        Stopped,
    }
);

wire_enum!(
    /// How a run ended.
    RunOutcome <- CoreRunOutcome {
        /// Every stage succeeded.
        Succeeded,
        /// A stage failed.
        Failed,
        /// Cancelled.
        Cancelled,
        /// Paused.
        Paused,
        /// The process ended while it ran.
        Interrupted,
    }
);

wire_enum!(
    /// How a step of a run ended.
    StepOutcome <- CoreStepOutcome {
        /// The stage finished without failed work.
        Succeeded,
        /// The stage failed.
        Failed,
        /// Cancelled.
        Cancelled,
        /// Paused.
        Paused,
        /// The process ended while it ran.
        Interrupted,
    }
);

wire_enum!(
    /// Class of a recorded error: whether retrying can help.
    ErrorClass <- CoreErrorClass {
        /// Final for this input.
        Expected,
        /// Worth retrying.
        Transient,
        /// A bug or broken environment.
        Bug,
    }
);

wire_enum!(
    /// What a job log line is about.
    LogKind <- CoreLogKind {
        /// A job transition.
        Job,
        /// A stage transition.
        Stage,
        /// A work item transition.
        Item,
        /// An error.
        Error,
        /// A user command.
        Command,
    }
);

/// A user command on a job, as the task center's buttons name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum JobAction {
    /// Stop taking new work, then pause.
    Pause,
    /// Continue a paused job.
    Resume,
    /// End the job as cancelled.
    Cancel,
    /// Queue the failed items again.
    Retry,
}

impl From<JobAction> for JobCommand {
    fn from(a: JobAction) -> JobCommand {
        match a {
            JobAction::Pause => JobCommand::Pause,
            JobAction::Resume => JobCommand::Resume,
            JobAction::Cancel => JobCommand::Cancel,
            JobAction::Retry => JobCommand::RetryFailed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_the_core_serde_names() {
        for k in [CoreJobKind::SyncOnly, CoreJobKind::DownloadExport] {
            assert_eq!(serde_json::to_value(JobKind::from(k)).unwrap(), serde_json::to_value(k).unwrap());
        }
        assert_eq!(serde_json::to_value(JobStatus::PauseRequested).unwrap(), "pause_requested");
        assert_eq!(
            CoreJobKind::from(serde_json::from_str::<JobKind>("\"sync_download\"").unwrap()),
            CoreJobKind::SyncDownload
        );
    }
}
