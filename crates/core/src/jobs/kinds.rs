//! Job kinds in one place: which ordered stages each kind runs and which lane schedules it.
//! A job with a download stage is in the `download` lane (one at a time by default, so
//! transfers of two jobs never compete); every other job is in the `general` lane.

use serde::{Deserialize, Serialize};

use crate::store::{JobKind, StageKind};

/// Scheduling class of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// Jobs with a download stage; default limit 1 running.
    Download,
    /// Everything else; default limit 3 running.
    General,
}

impl Lane {
    /// `download` or `general`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Download => "download",
            Lane::General => "general",
        }
    }
}

/// The ordered stages a job of `kind` runs.
pub fn stages_of(kind: JobKind) -> &'static [StageKind] {
    use StageKind::*;
    match kind {
        JobKind::CatalogSync => &[Collect, Sync, Download],
        JobKind::CollectOnly => &[Collect],
        JobKind::SyncOnly => &[Sync],
        JobKind::SyncDownload => &[Sync, Download],
        JobKind::DownloadOnly => &[Download],
        JobKind::ExportOnly => &[Export],
        JobKind::DownloadExport => &[Download, Export],
        JobKind::UploadOnly => &[Upload],
        JobKind::DownloadUpload => &[Download, Upload],
        JobKind::Organize => &[Organize],
    }
}

/// The lane of `kind`: `download` when it has a download stage.
pub fn lane_of(kind: JobKind) -> Lane {
    if stages_of(kind).contains(&StageKind::Download) {
        Lane::Download
    } else {
        Lane::General
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_follow_the_download_stage() {
        let download = [
            JobKind::CatalogSync,
            JobKind::SyncDownload,
            JobKind::DownloadOnly,
            JobKind::DownloadExport,
            JobKind::DownloadUpload,
        ];
        let general = [
            JobKind::CollectOnly,
            JobKind::SyncOnly,
            JobKind::ExportOnly,
            JobKind::UploadOnly,
            JobKind::Organize,
        ];
        assert!(download.iter().all(|&k| lane_of(k) == Lane::Download));
        assert!(general.iter().all(|&k| lane_of(k) == Lane::General));
        assert_eq!(
            stages_of(JobKind::CatalogSync),
            &[StageKind::Collect, StageKind::Sync, StageKind::Download]
        );
        assert_eq!(stages_of(JobKind::DownloadUpload), &[StageKind::Download, StageKind::Upload]);
    }
}
