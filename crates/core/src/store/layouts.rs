//! Row layouts of the smaller aggregates (collections, commands, the job log, runs, worker
//! samples, resolutions), beside the main ones in `rows`: the types `tables` names as values.
//! They live below every aggregate module, so `tables` (which names them) and the aggregate
//! modules (which use `tables`) never import each other in a circle. Each aggregate module
//! re-exports its own types, so `store::runs::RunRow` and friends keep their paths. A changed
//! layout gets a new `RowType::NAME` (convention 3).

use serde::{Deserialize, Serialize};

use super::codec::RowType;
use super::failures::DownloadFailed;
use super::StageKind;

/// A subscription list the catalog follows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionRow {
    /// Where the OPML document is (`http(s)://` or `file://`).
    pub url: String,
    /// When it was added (Unix ms).
    pub added_ms: i64,
    /// When it was last read (Unix ms).
    pub last_collect_ms: Option<i64>,
    /// The last read's error.
    pub last_error: Option<String>,
    /// Subscriptions it listed at the last read.
    pub listed: u32,
}

impl RowType for CollectionRow {
    const NAME: &'static str = "CollectionRow_v1";
}

/// A user command on a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobCommand {
    /// Stop taking new work; running work finishes or stops, then the job is paused.
    Pause,
    /// Continue a paused job (or withdraw a pause not yet complete).
    Resume,
    /// End the job as cancelled.
    Cancel,
    /// Queue a failed job again with its failed work items.
    RetryFailed,
}

impl JobCommand {
    /// `pause`, `resume`, `cancel` or `retry_failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobCommand::Pause => "pause",
            JobCommand::Resume => "resume",
            JobCommand::Cancel => "cancel",
            JobCommand::RetryFailed => "retry_failed",
        }
    }
}

/// A stored command waiting for the runner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRow {
    /// Job id the command is for.
    pub job: u64,
    /// What the user asked.
    pub command: JobCommand,
    /// When it was issued (Unix ms).
    pub issued_ms: i64,
}

impl RowType for CommandRow {
    const NAME: &'static str = "CommandRow_v1";
}

/// What a log entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    /// A job transition (queued, running, paused, finished).
    Job,
    /// A stage transition (started, finished).
    Stage,
    /// A work item transition (started, done, failed, skipped).
    Item,
    /// An error.
    Error,
    /// A user command (pause, resume, cancel, retry) issued or applied.
    Command,
}

/// One entry of a job's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLogRow {
    /// When it happened (Unix ms).
    pub at_ms: i64,
    /// What it is about.
    pub kind: LogKind,
    /// Stage index in the job's stages, for stage and item entries.
    pub stage: Option<u8>,
    /// Target id (playlist or item), for item entries.
    pub target: Option<u64>,
    /// The line shown, e.g. `download started` or `item 12 failed: HTTP 404`.
    pub text: String,
}

impl RowType for JobLogRow {
    const NAME: &'static str = "JobLogRow_v1";
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Every stage succeeded.
    Succeeded,
    /// A stage failed (or items of it failed).
    Failed,
    /// The user cancelled the job.
    Cancelled,
    /// The user paused the job; a later run continues it.
    Paused,
    /// The process ended (crash, kill) while the run was open; closed by the reaper.
    Interrupted,
}

/// How a step (one stage within a run) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    /// The stage finished without failed work.
    Succeeded,
    /// The stage failed; the step carries its [`TypedError`].
    Failed,
    /// The user cancelled the job during the stage.
    Cancelled,
    /// The user paused the job during the stage.
    Paused,
    /// The process ended while the stage ran; closed by the reaper.
    Interrupted,
}

impl From<RunOutcome> for StepOutcome {
    fn from(o: RunOutcome) -> StepOutcome {
        match o {
            RunOutcome::Succeeded => StepOutcome::Succeeded,
            RunOutcome::Failed => StepOutcome::Failed,
            RunOutcome::Cancelled => StepOutcome::Cancelled,
            RunOutcome::Paused => StepOutcome::Paused,
            RunOutcome::Interrupted => StepOutcome::Interrupted,
        }
    }
}

/// Class of an error (convention 2): whether retrying can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Final for this input (404, unsupported URL, items failed): retrying as is won't help.
    Expected,
    /// Worth retrying (timeouts, 5xx, connection resets).
    Transient,
    /// A bug or a broken environment (corrupt database, invariant violated).
    Bug,
}

/// An error as recorded in a run: a stable code, a human message and its class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypedError {
    /// Stable snake_case code the UI branches on, e.g. `items_failed`, `fetch_failed`, `store`.
    pub code: String,
    /// Human-readable message, e.g. `2 of 40 items failed`.
    pub message: String,
    /// Expected, transient or bug.
    pub kind: ErrorClass,
}

impl TypedError {
    /// An error with `code`, `message` and class `kind`.
    pub fn new(code: impl Into<String>, message: impl Into<String>, kind: ErrorClass) -> TypedError {
        TypedError { code: code.into(), message: message.into(), kind }
    }
}

/// One stage within a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRow {
    /// Index of the stage in the job's stages.
    pub stage: u8,
    /// What the stage does.
    pub kind: StageKind,
    /// When the step started (Unix ms).
    pub started_ms: i64,
    /// When it ended (Unix ms); `None` while open.
    pub ended_ms: Option<i64>,
    /// How it ended; `None` while open.
    pub outcome: Option<StepOutcome>,
    /// The failure, for a failed (or interrupted by error) step.
    pub error: Option<TypedError>,
}

/// One attempt of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRow {
    /// Job id.
    pub job: u64,
    /// Run number within the job, from 1.
    pub n: u32,
    /// When the run started (Unix ms).
    pub started_ms: i64,
    /// When it ended (Unix ms); `None` while open.
    pub ended_ms: Option<i64>,
    /// How it ended; `None` while open.
    pub outcome: Option<RunOutcome>,
    /// Steps in the order they started.
    pub steps: Vec<StepRow>,
}

impl RowType for RunRow {
    const NAME: &'static str = "RunRow_v1";
}

impl RunRow {
    /// This run's id, `job-<id>-run-<n>`.
    pub fn id(&self) -> String {
        run_id(self.job, self.n)
    }
}

/// The id of run `n` of job `job`: `job-<job>-run-<n>`, e.g. `job-12-run-3`.
pub fn run_id(job: u64, n: u32) -> String {
    format!("job-{job}-run-{n}")
}

impl RowType for DownloadFailed {
    const NAME: &'static str = "DownloadFailed_v1";
}

/// An enclosure URL replaced by one a later cascade tier found and downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnclosureReplaced {
    /// The stale URL the feed gave.
    pub old_url: String,
    /// The working URL now in the item's enclosure.
    pub new_url: String,
    /// The source that found it (`alternate`, `feed`, `page`, `index`, `yt-dlp`, `agent`).
    pub source: String,
    /// When (Unix ms).
    pub at_ms: i64,
}

impl RowType for EnclosureReplaced {
    const NAME: &'static str = "EnclosureReplaced_v1";
}

/// What the last fetches of a playlist's document left for the next one: the validators of the
/// last document applied (sent back as a conditional request, RFC 9110 §13.1) and the URLs the
/// playlist had before it moved (a `301`/`308`, or `itunes:new-feed-url`), oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchStateRow {
    /// `ETag` of the last document applied.
    pub etag: Option<String>,
    /// `Last-Modified` of the last document applied.
    pub last_modified: Option<String>,
    /// Earlier URLs of the playlist, oldest first.
    pub moves: Vec<UrlMove>,
}

impl RowType for FetchStateRow {
    const NAME: &'static str = "FetchStateRow_v1";
}

/// One move of a playlist's URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlMove {
    /// The URL before the move.
    pub from: String,
    /// The URL after it.
    pub to: String,
    /// Why: `HTTP 301`, `HTTP 308` or `itunes:new-feed-url`.
    pub why: String,
    /// When (Unix ms).
    pub at_ms: i64,
}

/// A playlist of kind yt-dlp (a channel or playlist yt-dlp lists): its presence in
/// `PLAYLIST_ID_TO_YTDLP` makes the playlist one. The format choice, and the checkpoint of its
/// listing, so a sync cut short resumes where it was (`jobs::ytdlp_sync`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct YtDlpSourceRow {
    /// What to download of each entry.
    pub media: crate::catalog::ytdlp::MediaChoice,
    /// The playlist's extractor, lowercase (e.g. `youtubetab`), once listed.
    pub extractor: Option<String>,
    /// 1-based playlist index the listing continues from; 1 before the first sync.
    pub next_index: u64,
    /// The listing reached the playlist's end at least once.
    pub complete: bool,
    /// Whether the playlist lists its newest entries first (from their dates), once known.
    pub newest_first: Option<bool>,
    /// Lowest position (`PLAYLIST_ITEM_INDEX`) given to entries found at the head, newer than
    /// everything listed before; listed entries sit at `LISTING_BASE + index`.
    pub head_position: u32,
    /// The kind of the last sync's failure (`private`, `rate limited`...), `None` after a
    /// success.
    pub last_error_kind: Option<String>,
}

impl RowType for YtDlpSourceRow {
    const NAME: &'static str = "YtDlpSourceRow_v1";
}

/// What yt-dlp said of an item beyond the item row: its identity parts and thumbnail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct YtDlpEntryRow {
    /// Extractor, lowercase.
    pub extractor: String,
    /// The extractor's id of the entry.
    pub video_id: String,
    /// Thumbnail URL.
    pub thumbnail: Option<String>,
    /// Uploader or channel.
    pub uploader: Option<String>,
}

impl RowType for YtDlpEntryRow {
    const NAME: &'static str = "YtDlpEntryRow_v1";
}

/// A recurring schedule's state (schema 7): when it is next due and what it last did. Kept in
/// the catalog so the count survives restarts (issue 16, part 4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRow {
    /// When the next run is due (Unix ms).
    pub due_ms: i64,
    /// The interval the due time was computed with (ms); a changed setting recomputes it.
    pub every_ms: i64,
    /// When it last ran (Unix ms), queued or skipped because a run was still going.
    pub last_run_ms: Option<i64>,
    /// The job its last run queued; `None` when that run was skipped.
    pub last_job: Option<u64>,
}

impl RowType for ScheduleRow {
    const NAME: &'static str = "ScheduleRow_v1";
}

/// What a sync read of an episode beyond `ItemRow` for its tags (schema 7): its author and
/// its iTunes episode and season numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpisodeMetaRow {
    /// `itunes:author` (or the entry's author).
    pub author: Option<String>,
    /// `itunes:episode`.
    pub episode: Option<u32>,
    /// `itunes:season`.
    pub season: Option<u32>,
}

impl RowType for EpisodeMetaRow {
    const NAME: &'static str = "EpisodeMetaRow_v1";
}

/// The tags written into an item's file (schema 7). The file row keeps the downloaded bytes'
/// size and SHA-256 (the original); this row the tagged file's, and the fingerprint of what
/// the tags say, so a sync that changes the metadata tags the file again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaggedRow {
    /// SHA-256 of the file as downloaded (lowercase hex).
    pub original_sha256: String,
    /// SHA-256 of the file as tagged; `None` when the file could not be tagged.
    pub tagged_sha256: Option<String>,
    /// Size of the tagged file (bytes); 0 when not tagged.
    pub tagged_size: u64,
    /// Fingerprint of the tag contents (`library::tags::TagInfo::fingerprint`).
    pub fingerprint: String,
    /// Why the file stayed untagged (lofty's words).
    pub error: Option<String>,
    /// When (Unix ms).
    pub at_ms: i64,
}

impl RowType for TaggedRow {
    const NAME: &'static str = "TaggedRow_v1";
}

/// A file we put on an upload target (`TARGET_PATH_TO_UPLOAD`, schema 8).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedRow {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes sent, lowercase hex.
    pub sha256: String,
    /// SHA-256 the catalog recorded for the source (`FileRow::sha256`; for an M3U file, of its
    /// text) when it was sent: a different one later means the source changed.
    pub source_sha256: String,
    /// When the file was complete on the target (Unix ms).
    pub uploaded_ms: i64,
    /// The catalog item the file came from; `None` for an M3U playlist file.
    pub item: Option<u64>,
}

impl RowType for UploadedRow {
    const NAME: &'static str = "UploadedRow_v1";
}

/// The targets an upload job was limited to (`JOB_ID_TO_UPLOAD_TARGETS`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadJobRow {
    /// Target names; empty = every target of the playlists in scope.
    pub targets: Vec<String>,
}

impl RowType for UploadJobRow {
    const NAME: &'static str = "UploadJobRow_v1";
}

/// One planned rename of an item's file, as journaled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizeMoveRow {
    /// The job that planned it.
    pub job: u64,
    /// The file's library-relative path before the move (`/`-separated).
    pub from: String,
    /// Its library-relative path after the move (`/`-separated).
    pub to: String,
    /// When it was journaled (Unix ms).
    pub planned_ms: i64,
}

impl RowType for OrganizeMoveRow {
    const NAME: &'static str = "OrganizeMoveRow_v1";
}

/// An item retention deleted: where its file was and why (`ITEM_ID_TO_REMOVED`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovedRow {
    /// Library-relative path of the deleted file, `/`-separated.
    pub path: String,
    /// The overflow root it lived under (absolute); `None` = the default library.
    pub root: Option<String>,
    /// Size the catalog recorded (bytes).
    pub size: u64,
    /// The playlist whose rule deleted it.
    pub playlist: u64,
    /// The rule, in words (`keep newest 5`).
    pub rule: String,
    /// When the deletion was decided (Unix ms).
    pub removed_ms: i64,
}

impl RowType for RemovedRow {
    const NAME: &'static str = "RemovedRow_v1";
}

/// Count of a stage's work items by status (also stored in a compacted job's summary,
/// `store::history::JobSummaryRow`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCounts {
    /// Not started.
    pub queued: u32,
    /// In progress.
    pub running: u32,
    /// Finished successfully.
    pub done: u32,
    /// Finished with an error.
    pub failed: u32,
    /// Nothing to do.
    pub skipped: u32,
    /// Cancelled (or being cancelled) because no reference wants the item any more.
    pub cancelled: u32,
}

impl StageCounts {
    /// All work items of the stage.
    pub fn total(&self) -> u32 {
        self.queued + self.running + self.done + self.failed + self.skipped + self.cancelled
    }
    /// Work items that reached an end state.
    pub fn finished(&self) -> u32 {
        self.done + self.failed + self.skipped + self.cancelled
    }
}

/// What compaction keeps of a finished job whose work items and log it trimmed
/// (`store::history`): the stage counts and the last failure the task center shows, and how
/// much was trimmed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSummaryRow {
    /// Work item counts per stage, in stage order, as they were before the trim.
    pub counts: Vec<StageCounts>,
    /// The error of the job's latest failed work item (`Store::last_failure`), if any.
    pub last_error: Option<String>,
    /// When the job was compacted (Unix ms).
    pub compacted_ms: i64,
    /// Work item rows removed.
    pub work_items: u64,
    /// Log lines removed.
    pub log_lines: u64,
    /// Runs removed (every run but the last is dropped).
    pub runs: u32,
}

impl RowType for JobSummaryRow {
    const NAME: &'static str = "JobSummaryRow_v1";
}
