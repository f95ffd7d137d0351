//! Renaming downloaded files after the name template (issue 16, part 3): the dry run
//! ([`Api::organize_preview`]: what would move where, nothing written) and the job
//! ([`Api::organize`]: an `organize` job in the general lane, see `jobs::organize_stage`).

use serde::{Deserialize, Serialize};

use super::error::{ApiResult, ErrorCode, WireError};
use super::Api;
use crate::library::organize::{self, OrganizeError};
use crate::store::{JobKind, JobStatus};

/// One planned rename: library-relative paths (`/`-separated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RenameView {
    /// The catalog item.
    pub item: u64,
    /// Its title.
    pub title: String,
    /// Its file's path now.
    pub from: String,
    /// Its path after the rename.
    pub to: String,
}

/// The dry run of an organize job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OrganizePreview {
    /// The template the names come from.
    pub template: String,
    /// Renames in the order the job makes them.
    pub renames: Vec<RenameView>,
    /// Downloaded files already named after the template.
    pub unchanged: u32,
    /// Recorded files missing from disk (left alone).
    pub missing: u32,
    /// Items no name could be chosen for, one line each.
    pub errors: Vec<String>,
}

fn wire(e: OrganizeError) -> WireError {
    match e {
        OrganizeError::Store(e) => e.into(),
        OrganizeError::Naming(e) => WireError::invalid(e.to_string()),
        OrganizeError::Io { .. } => WireError::new(ErrorCode::Internal, e.to_string()),
    }
}

impl Api {
    /// What an organize job would rename now, with the saved `name_template`, in the order
    /// it would: nothing is moved or written. Errors: `invalid_input` for a template that
    /// does not render; the store's.
    pub async fn organize_preview(&self) -> ApiResult<OrganizePreview> {
        let config = self.config();
        let (library, template) = (config.library.clone(), config.name_template.clone());
        self.blocking(move |s| {
            let plan = organize::preview(s, &library, &template).map_err(wire)?;
            Ok(OrganizePreview {
                template,
                renames: plan
                    .renames
                    .into_iter()
                    .map(|r| RenameView { item: r.item, title: r.title, from: r.from, to: r.to })
                    .collect(),
                unchanged: plan.unchanged,
                missing: plan.missing,
                errors: plan.errors.into_iter().map(|(item, why)| format!("item {item}: {why}")).collect(),
            })
        })
        .await
    }

    /// Queues an `organize` job (general lane): downloaded files move to the names the saved
    /// `name_template` gives them (recorded with the job, so an engine still running with the
    /// settings before the save renames after the new one too), empty folders go, M3U files follow. Returns its id; while
    /// an organize job is unfinished (queued, running, paused) that job's id instead, so two
    /// never rename at once. Errors: the store's.
    pub async fn organize(&self) -> ApiResult<u64> {
        let unfinished = self
            .blocking(|s| {
                Ok(s.jobs()?.into_iter().find(|(_, j)| {
                    j.kind == JobKind::Organize
                        && matches!(
                            j.status,
                            JobStatus::Queued
                                | JobStatus::Running
                                | JobStatus::PauseRequested
                                | JobStatus::Paused
                        )
                }))
            })
            .await?;
        if let Some((id, job)) = unfinished {
            if job.status == JobStatus::Paused {
                self.resume(id).await?;
            }
            self.wake();
            return Ok(id);
        }
        let id = self.engine().enqueue_organize(self.config().name_template).await?;
        self.wake();
        self.touch(true, false);
        Ok(id)
    }
}
