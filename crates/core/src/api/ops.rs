//! The user operations, one `async fn` each (see the module docs of `api`): the catalog (add
//! and import by content, OPML export, lists, selection for download), jobs (enqueue each kind,
//! pause, resume, cancel, retry, pause all, resume all), the task center, a job's detail, the
//! throughput history and the settings. Each validates its input, makes its changes through
//! the store or the engine, announces them ([`Api::touch`]) and returns a view or a
//! [`WireError`].

use serde::{Deserialize, Serialize};

use super::error::{ApiResult, ErrorCode, WireError};
use super::job_views::{job_detail, JobDetail, TaskCenterView};
use super::settings::Settings;
use super::views::{self, AddResult, ImportResult, ItemPage, PlaylistPage, PlaylistView, ThroughputPoint};
use super::{Api, LIVE_WINDOW_MS};
use crate::jobs::task_center;
use crate::store::commands::{apply_command, JobCommand};
use crate::store::{JobKind, JobStatus};
use crate::subscriptions::{self, SubscriptionError};

/// A user command on a job, as the task center's buttons name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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

impl From<JobCommand> for JobAction {
    fn from(c: JobCommand) -> JobAction {
        match c {
            JobCommand::Pause => JobAction::Pause,
            JobCommand::Resume => JobAction::Resume,
            JobCommand::Cancel => JobAction::Cancel,
            JobCommand::RetryFailed => JobAction::Retry,
        }
    }
}

/// Which page of a list to read: the rows after cursor `after` (the `next` of the page before;
/// `None`: from the first row), at most `limit` of them (`None`: [`views::MAX_PAGE`]; at most
/// that many in any case). Cursors name the last row shown, not an offset, so rows added
/// while a list is paged through never make a row show twice (`store::listing`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Cursor of the page before (`PlaylistPage::next`, `ItemPage::next`).
    pub after: Option<String>,
    /// Most rows returned.
    pub limit: Option<usize>,
}

impl Page {
    /// The first page, of at most `limit` rows.
    pub fn first(limit: usize) -> Page {
        Page { after: None, limit: Some(limit) }
    }

    fn limit(&self) -> usize {
        self.limit.unwrap_or(views::MAX_PAGE)
    }
}

fn bad_cursor(after: &str) -> WireError {
    WireError::invalid(format!("invalid page cursor {after:?}"))
}

/// A playlist cursor: a playlist id.
fn playlist_cursor(after: Option<&str>) -> ApiResult<u64> {
    after.map_or(Ok(0), |a| a.parse().map_err(|_| bad_cursor(a)))
}

/// An item cursor: `<position>.<item id>`.
fn item_cursor(after: Option<&str>) -> ApiResult<Option<views::ItemCursor>> {
    let Some(a) = after else { return Ok(None) };
    let (p, i) = a.split_once('.').ok_or_else(|| bad_cursor(a))?;
    match (p.parse(), i.parse()) {
        (Ok(position), Ok(item)) => Ok(Some(views::ItemCursor { position, item })),
        _ => Err(bad_cursor(a)),
    }
}

/// What a change of the selection for download did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WantedChange {
    /// Items whose wanted state changed.
    pub changed: u32,
    /// Files deleted because nothing wants their items any more.
    pub deleted_files: u32,
}

/// What a job command did: the job's status before and after. Equal statuses mean the job's
/// runner (in this or another process) applies it on its next tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandOutcome {
    /// Status when the command was issued.
    pub before: JobStatus,
    /// Status once applied (or `before` while a runner still has to apply it).
    pub after: JobStatus,
}

impl Api {
    /// Adds playlists by URL or path, each by its content (as an import): a feed or playlist
    /// becomes one playlist, an OPML subscription list adds every feed it lists. When the fetch
    /// fails transiently (offline, timeout, 5xx) the URL is added as it is and the next sync
    /// reads it. Errors: the first entry that is not a URL or path (`invalid_input`), not found
    /// (`not_found`), or not a feed (`unparsable`); entries before it stay added.
    pub async fn add_playlists(&self, urls: Vec<String>) -> ApiResult<AddResult> {
        let client = self.engine().document_client().clone();
        let mut out = AddResult { ids: Vec::new(), created: 0 };
        let result = async {
            for url in urls.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
                match subscriptions::import_source(self.store(), &client, url, self.now_ms()).await {
                    Ok(import) => {
                        out.created += import.created;
                        out.ids.extend(import.ids);
                    }
                    Err(SubscriptionError::Fetch { source, .. }) if source.is_transient() => {
                        let (id, created, _) = subscriptions::add_url(self.store(), url, self.now_ms())?;
                        out.ids.push(id);
                        out.created += u32::from(created);
                    }
                    Err(e) => return Err(WireError::from(e)),
                }
            }
            Ok(())
        }
        .await;
        if !out.ids.is_empty() {
            self.touch(false, true);
        }
        result.map(|()| out)
    }

    /// Imports an OPML, M3U, PLS, XSPF or feed file (or URL) by its content. Errors: `io`,
    /// `not_found`, `network`, `unparsable`, `invalid_input`.
    pub async fn import(&self, source: String) -> ApiResult<ImportResult> {
        let client = self.engine().document_client().clone();
        let out = subscriptions::import_source(self.store(), &client, &source, self.now_ms()).await?;
        self.touch(false, true);
        Ok(ImportResult {
            url: out.url,
            subscription_list: out.subscription_list,
            ids: out.ids,
            created: out.created,
            items: out.items,
        })
    }

    /// The catalog as an OPML 2.0 document. Errors: the store's.
    pub async fn export_opml(&self) -> ApiResult<String> {
        self.blocking(|s| Ok(subscriptions::export_opml_document(s)?)).await
    }

    /// Writes the catalog as OPML 2.0 to `path`. Errors: `io`.
    pub async fn export_opml_to(&self, path: String) -> ApiResult<()> {
        let xml = self.export_opml().await?;
        tokio::fs::write(&path, xml)
            .await
            .map_err(|e| WireError::new(ErrorCode::Io, format!("writing {path}: {e}")))
    }

    /// Whether the catalog has no playlist yet: a front's check before it starts a job over
    /// "every playlist" (reads one key, unlike a listing, which reads every item).
    pub async fn catalog_is_empty(&self) -> ApiResult<bool> {
        self.blocking(|s| Ok(s.has_no_playlists()?)).await
    }

    /// Playlists with their counts, by id, one page of them. Errors: `invalid_input` for a
    /// cursor that is not one.
    pub async fn list_playlists(&self, page: Page) -> ApiResult<PlaylistPage> {
        let after = playlist_cursor(page.after.as_deref())?;
        self.blocking(move |s| Ok(views::list_playlists(s, after, page.limit())?)).await
    }

    /// Items of playlist `playlist` in document order, one page of them. Errors: `not_found`;
    /// `invalid_input` for a cursor that is not one.
    pub async fn list_items(&self, playlist: u64, page: Page) -> ApiResult<ItemPage> {
        let after = item_cursor(page.after.as_deref())?;
        self.blocking(move |s| Ok(views::list_items(s, playlist, after, page.limit())?)).await
    }

    /// Playlist `id` with its counts. Errors: `not_found`.
    pub async fn playlist(&self, id: u64) -> ApiResult<PlaylistView> {
        self.blocking(move |s| {
            let states = views::ItemStates::read(s)?;
            Ok(views::playlist_view(s, &states, id, &s.playlist(id)?)?)
        })
        .await
    }

    /// Turns tags and cover art for playlist `id`'s downloads on or off (`None`: back to the
    /// default, on for feeds); returns the playlist. Files downloaded before are tagged at the
    /// playlist's next sync when turned on. Errors: `not_found`.
    pub async fn set_playlist_tagging(&self, id: u64, enabled: Option<bool>) -> ApiResult<PlaylistView> {
        self.blocking(move |s| Ok(s.set_tagging(id, enabled)?)).await?;
        self.touch(false, true);
        self.playlist(id).await
    }

    /// The id of the playlist `selector` names (its id, URL or title). Errors: `not_found`.
    pub async fn find_playlist(&self, selector: String) -> ApiResult<u64> {
        self.blocking(move |s| Ok(s.find_playlist(&selector)?)).await
    }

    /// Selects (`wanted`) or unselects `playlists` for download (reference-counted: an item
    /// stays wanted while any selected playlist references it; unselecting stops transfers of
    /// items nothing wants any more, and with `delete_orphans` deletes their files). Returns how
    /// many items changed their wanted state and how many files were deleted. Errors:
    /// `not_found` for an unknown playlist (playlists before it stay changed).
    pub async fn set_wanted(
        &self,
        playlists: Vec<u64>,
        wanted: bool,
        delete_orphans: bool,
    ) -> ApiResult<WantedChange> {
        let engine = self.engine();
        let before = self.blocking(|s| Ok(s.wanted_items()?)).await?;
        let (mut result, mut deleted_files) = (Ok(()), 0);
        for id in playlists {
            match engine.set_playlist_wanted(id, wanted, delete_orphans).await {
                Ok(dropped) => deleted_files += dropped.deleted_files.len() as u32,
                Err(e) => {
                    result = Err(WireError::from(e));
                    break;
                }
            }
        }
        let after = self.blocking(|s| Ok(s.wanted_items()?)).await?;
        self.touch(false, true);
        let changed = before.symmetric_difference(&after).count() as u32;
        result.map(|()| WantedChange { changed, deleted_files })
    }

    /// Queues a job of `kind` over `playlists` (empty = every playlist) and wakes the driver;
    /// returns its id. Errors: `invalid_input` for an unknown playlist id.
    pub async fn enqueue(&self, kind: JobKind, playlists: Vec<u64>) -> ApiResult<u64> {
        if kind == JobKind::Organize {
            return self.organize().await; // one organize job at a time, over the whole library
        }
        let ids = playlists.clone();
        self.blocking(move |s| {
            for id in ids {
                s.playlist(id)
                    .map_err(|_| WireError::invalid(format!("playlist {id} is not in the catalog")))?;
            }
            Ok(())
        })
        .await?;
        let id = self.engine().enqueue(kind, playlists).await?;
        self.wake();
        self.touch(true, false);
        Ok(id)
    }

    /// Pauses, resumes, cancels or retries the failed items of `job`. A job no runner holds
    /// changes at once; a running job's runner applies it on its next tick. Errors:
    /// `not_found`; `conflict` when the action does not apply to the job's status.
    pub async fn job_command(&self, job: u64, action: JobAction) -> ApiResult<CommandOutcome> {
        let command = JobCommand::from(action);
        let before = self.blocking(move |s| Ok(s.job(job)?.status)).await?;
        if apply_command(before, command).is_none() {
            return Err(WireError::new(
                ErrorCode::Conflict,
                format!("job {job}: {} does not apply to a {before} job", command.as_str()),
            ));
        }
        let engine = self.engine();
        engine.command(job, command).await?;
        if !self.engine_active() {
            // no driver here: apply what an idle job can take now
            engine.apply_pending_commands().await?;
        }
        self.wake();
        self.touch(true, false);
        let after = self.blocking(move |s| Ok(s.job(job)?.status)).await?;
        Ok(CommandOutcome { before, after })
    }

    /// Pauses `job`: it stops taking new work; running transfers finish (see [`Api::job_command`]).
    pub async fn pause(&self, job: u64) -> ApiResult<CommandOutcome> {
        self.job_command(job, JobAction::Pause).await
    }

    /// Resumes a paused `job` (see [`Api::job_command`]).
    pub async fn resume(&self, job: u64) -> ApiResult<CommandOutcome> {
        self.job_command(job, JobAction::Resume).await
    }

    /// Cancels `job`: its transfers stop unless a selected playlist still wants their items
    /// (see [`Api::job_command`]).
    pub async fn cancel(&self, job: u64) -> ApiResult<CommandOutcome> {
        self.job_command(job, JobAction::Cancel).await
    }

    /// Queues the failed items of a failed `job` again (see [`Api::job_command`]).
    pub async fn retry(&self, job: u64) -> ApiResult<CommandOutcome> {
        self.job_command(job, JobAction::Retry).await
    }

    /// Sends `action` to every job it applies to; returns how many.
    pub async fn job_command_all(&self, action: JobAction) -> ApiResult<u32> {
        let command = JobCommand::from(action);
        let jobs = self.blocking(|s| Ok(s.jobs()?)).await?;
        let mut n = 0;
        for (id, job) in jobs {
            if apply_command(job.status, command).is_some() {
                match self.job_command(id, action).await {
                    Ok(_) => n += 1,
                    // it changed state meanwhile
                    Err(e) if e.code == ErrorCode::Conflict => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(n)
    }

    /// Queues a `sync_download` of every playlist (the auto-sync timer's round) unless one is
    /// still queued or running (no pile-up) or shutdown began. Returns the new job's id.
    /// Errors: the store's.
    pub async fn auto_sync(&self) -> ApiResult<Option<u64>> {
        let busy = self
            .blocking(|s| {
                for status in [JobStatus::Queued, JobStatus::Running, JobStatus::PauseRequested] {
                    for id in s.jobs_with_status(status)? {
                        let j = s.job(id)?;
                        if j.kind == JobKind::SyncDownload && j.scope.is_empty() {
                            return Ok(true);
                        }
                    }
                }
                Ok(false)
            })
            .await?;
        if busy || self.is_shutting_down() {
            return Ok(None);
        }
        self.enqueue(JobKind::SyncDownload, Vec::new()).await.map(Some)
    }

    /// Pauses every job that can pause; returns how many.
    pub async fn pause_all(&self) -> ApiResult<u32> {
        self.job_command_all(JobAction::Pause).await
    }

    /// Resumes every paused job; returns how many.
    pub async fn resume_all(&self) -> ApiResult<u32> {
        self.job_command_all(JobAction::Resume).await
    }

    /// The task center projection now, every front's one view of the jobs (worker samples
    /// older than [`LIVE_WINDOW_MS`] do not count).
    pub async fn task_center(&self) -> ApiResult<TaskCenterView> {
        let (now, workers) = (self.now_ms(), self.engine().worker_samples(None));
        self.blocking(move |s| Ok(task_center::task_center(s, &workers, now, LIVE_WINDOW_MS)?)).await
    }

    /// Stages, work items, workers, runs and recent log lines of `job`. Errors: `not_found`.
    pub async fn job_detail(&self, job: u64) -> ApiResult<JobDetail> {
        let (now, workers) = (self.now_ms(), self.engine().worker_samples(Some(job)));
        self.blocking(move |s| Ok(job_detail(s, workers, job, now, LIVE_WINDOW_MS)?)).await
    }

    /// Summed download speed, one sample a second while jobs run, oldest first (last 10 minutes).
    pub fn throughput_history(&self) -> Vec<ThroughputPoint> {
        self.inner
            .throughput
            .lock()
            .expect("throughput lock")
            .iter()
            .map(|&(t_ms, bytes_per_sec)| ThroughputPoint { t_ms, bytes_per_sec })
            .collect()
    }

    /// The settings as saved.
    pub fn settings(&self) -> Settings {
        Settings::from_config(&self.config())
    }

    /// Checks and saves `settings` to the config file; the engine uses them from its next idle
    /// moment. Returns the settings as saved. Errors: `invalid_input` naming the field, `io`.
    pub async fn save_settings(&self, settings: Settings) -> ApiResult<Settings> {
        let mut config = self.config();
        settings.apply_to(&mut config)?;
        let saved = Settings::from_config(&config);
        let api = self.clone();
        tokio::task::spawn_blocking(move || api.save_config(config))
            .await
            .map_err(|e| WireError::internal(e.to_string()))??;
        self.retick_after_save().await;
        Ok(saved)
    }
}
