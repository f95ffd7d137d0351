//! Every redb table of the catalog, in one place (ARCHITECTURE.md, convention 3). Names say
//! what maps to what; a changed value layout gets a new table name with a version suffix.
//! Secondary indexes (`*_INDEX`, `*_TO_ID`) are written only by the store modules, in the same
//! write transaction as their rows (convention 4).

use redb::TableDefinition;

use super::codec::Row;
use super::failures::DownloadFailed;
use super::layouts::{
    CollectionRow, CommandRow, EnclosureReplaced, EpisodeMetaRow, FetchStateRow, JobLogRow, JobSummaryRow,
    OrganizeMoveRow, RemovedRow, RunRow, ScheduleRow, TaggedRow, UploadJobRow, UploadedRow, YtDlpEntryRow,
    YtDlpSourceRow,
};
use super::rows::{FileRow, ItemRow, JobRow, PlaylistRow, StageItemRow};

/// Store-wide counters and the schema version: `"schema_version"`, `"next_playlist_id"`,
/// `"next_item_id"`, `"next_job_id"`, `"next_job_log_seq"`, `"next_command_seq"`.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Playlist id -> playlist row.
pub const PLAYLIST_ID_TO_PLAYLIST: TableDefinition<u64, Row<PlaylistRow>> =
    TableDefinition::new("playlist_id_to_playlist_v1");
/// Playlist URL (as added, normalized by `url::Url`) -> playlist id. Unique.
pub const PLAYLIST_URL_TO_ID: TableDefinition<&str, u64> = TableDefinition::new("playlist_url_to_id_v1");

/// Playlist id -> what the last fetches left for the next one: validators for a conditional
/// refresh and the playlist's earlier URLs (schema 3).
pub const PLAYLIST_ID_TO_FETCH_STATE: TableDefinition<u64, Row<FetchStateRow>> =
    TableDefinition::new("playlist_id_to_fetch_state_v1");

/// Item id -> item row.
pub const ITEM_ID_TO_ITEM: TableDefinition<u64, Row<ItemRow>> = TableDefinition::new("item_id_to_item_v1");
/// Item identity key (see `catalog::identity`, scoped by `store::items::scoped_key`) -> item id.
pub const ITEM_KEY_TO_ID: TableDefinition<&str, u64> = TableDefinition::new("item_key_to_id_v1");
/// (playlist id, item id) -> position of the item in the playlist's latest document.
pub const PLAYLIST_ITEM_INDEX: TableDefinition<(u64, u64), u32> =
    TableDefinition::new("playlist_item_index_v1");

/// Item id -> the downloaded file of that item. Present only once the file is complete on disk.
pub const ITEM_ID_TO_FILE: TableDefinition<u64, Row<FileRow>> = TableDefinition::new("item_id_to_file_v1");
/// Library-relative path -> item id; keeps two items from claiming one file name.
pub const FILE_PATH_TO_ITEM_ID: TableDefinition<&str, u64> = TableDefinition::new("file_path_to_item_id_v1");
/// Library-relative path case-folded ([`fold_path`]) -> item id: two names that differ only in
/// case are one file on FAT32, exFAT and macOS volumes, so a new name is checked here too
/// (schema 3; filled from `FILE_PATH_TO_ITEM_ID` by the migration).
pub const FILE_PATH_FOLDED_TO_ITEM_ID: TableDefinition<&str, u64> =
    TableDefinition::new("file_path_folded_to_item_id_v1");

/// A path as case-insensitive file systems compare it: Unicode lowercase.
pub fn fold_path(path: &str) -> String {
    path.to_lowercase()
}

/// Job id -> job row (kind, scope, status, stages).
pub const JOB_ID_TO_JOB: TableDefinition<u64, Row<JobRow>> = TableDefinition::new("job_id_to_job_v1");
/// (job status code, job id) -> (). The scheduler's and reaper's scan (convention 4).
pub const JOB_STATUS_INDEX: TableDefinition<(u8, u64), ()> = TableDefinition::new("job_status_index_v1");

/// Job id -> last heartbeat of the runner working on it (Unix ms). Written without fsync;
/// the reaper re-queues running jobs whose heartbeat is stale.
pub const JOB_ID_TO_HEARTBEAT: TableDefinition<u64, i64> = TableDefinition::new("job_id_to_heartbeat_v1");

/// (job id, stage index, target id) -> work item of a stage. The target is a playlist id in a
/// sync stage and an item id in a download stage.
pub const STAGE_ITEM: TableDefinition<(u64, u8, u64), Row<StageItemRow>> =
    TableDefinition::new("stage_item_v1");
/// (job id, stage index, work status code, target id) -> (). Claim queued work without a walk.
pub const STAGE_ITEM_STATUS_INDEX: TableDefinition<(u64, u8, u8, u64), ()> =
    TableDefinition::new("stage_item_status_index_v1");

/// Collection id -> a subscription list (OPML) the catalog follows.
pub const COLLECTION_ID_TO_COLLECTION: TableDefinition<u64, Row<CollectionRow>> =
    TableDefinition::new("collection_id_to_collection_v1");
/// Collection URL -> collection id. Unique.
pub const COLLECTION_URL_TO_ID: TableDefinition<&str, u64> = TableDefinition::new("collection_url_to_id_v1");
/// Retired in schema version 5 (live worker samples are kept in memory now): named only so
/// the migration can delete it from older files.
pub const RETIRED_WORKER_KEY_TO_WORKER: TableDefinition<(u64, &str), &[u8]> =
    TableDefinition::new("worker_key_to_worker_v1");

/// (job id, run number from 1) -> run: one attempt of a job with one step per stage.
pub const RUN_KEY_TO_RUN: TableDefinition<(u64, u32), Row<RunRow>> =
    TableDefinition::new("run_key_to_run_v1");
/// (job id, run number) -> () for runs not yet ended. The reaper's scan of runs left open by a
/// crash (convention 4).
pub const RUN_OPEN_INDEX: TableDefinition<(u64, u32), ()> = TableDefinition::new("run_open_index_v1");

/// (job id, sequence number) -> entry of the job's event log. Sequence numbers come from one
/// store-wide counter, so they increase within each job.
pub const JOB_LOG: TableDefinition<(u64, u64), Row<JobLogRow>> = TableDefinition::new("job_log_v1");

/// Command sequence number -> a user command (pause, resume, cancel, retry) not yet applied by
/// the runner. Removed once acknowledged.
pub const COMMAND_SEQ_TO_COMMAND: TableDefinition<u64, Row<CommandRow>> =
    TableDefinition::new("command_seq_to_command_v1");

/// Item id -> the item's last download failure: every resolver source tried, in order, with
/// its outcome. Created by its first write (see `store::resolutions`).
pub const ITEM_ID_TO_DOWNLOAD_FAILURE: TableDefinition<u64, Row<DownloadFailed>> =
    TableDefinition::new("item_id_to_download_failure_v1");
/// Item id -> the last replacement of its enclosure URL by one a later cascade tier found
/// (old and new URL). Created by its first write (see `store::resolutions`).
pub const ITEM_ID_TO_ENCLOSURE_REPLACED: TableDefinition<u64, Row<EnclosureReplaced>> =
    TableDefinition::new("item_id_to_enclosure_replaced_v1");
/// (work status code, job id, stage index, target id) -> (). Every work item of every job by
/// status: the reaper's scan of running and cancelling items across jobs without a walk
/// (convention 4). Written with `STAGE_ITEM_STATUS_INDEX`, in the same transaction.
pub const WORK_STATUS_INDEX: TableDefinition<(u8, u64, u8, u64), ()> =
    TableDefinition::new("work_status_index_v1");

/// (job id, stage index, target id) -> last heartbeat of a running work item (Unix ms).
/// Stamped at claim and while bytes flow, written without fsync (convention 6); removed when
/// the item leaves `running`. The reaper returns items with a stale heartbeat to the queue.
pub const WORK_HEARTBEAT: TableDefinition<(u64, u8, u64), i64> = TableDefinition::new("work_heartbeat_v1");

/// (item id, holder kind, holder id) -> (): who wants an item downloaded (a playlist selected
/// for download, a job downloading it). Holder kinds: see `store::refs::Holder`.
pub const ITEM_REF: TableDefinition<(u64, u8, u64), ()> = TableDefinition::new("item_ref_v1");
/// (holder kind, holder id, item id) -> (): the reverse of `ITEM_REF`, so dropping a holder's
/// references is a range scan. Written with `ITEM_REF` in the same transaction.
pub const HOLDER_ITEM_INDEX: TableDefinition<(u8, u64, u64), ()> =
    TableDefinition::new("holder_item_index_v1");
/// Playlist id -> (): playlists the user selected ("wanted") for download; their items hold a
/// reference of the playlist, new items of a sync included.
pub const PLAYLIST_WANTED: TableDefinition<u64, ()> = TableDefinition::new("playlist_wanted_v1");

/// Item id -> the library root (absolute path) its file lives under, for files placed in an
/// overflow root (`Config::overflow_libraries`); absent = the default library. Written with
/// `ITEM_ID_TO_FILE` in the same transaction, so `FileRow` keeps its layout (convention 3).
pub const ITEM_ID_TO_FILE_ROOT: TableDefinition<u64, &str> = TableDefinition::new("item_id_to_file_root_v1");

/// Item id -> the item's own cover image URL (absolute; `catalog::ParsedItem::image`), absent
/// when the entry names none. Written by `Store::apply_sync` in the item's transaction, so
/// `ItemRow` keeps its layout (convention 3; schema 4). The image bytes live in the art cache
/// (`library::art`), not here.
pub const ITEM_ID_TO_IMAGE_URL: TableDefinition<u64, &str> = TableDefinition::new("item_id_to_image_url_v1");
/// Playlist id -> the playlist's yt-dlp source: format choice and listing checkpoint. Present
/// only for playlists of kind yt-dlp (schema 6).
pub const PLAYLIST_ID_TO_YTDLP: TableDefinition<u64, Row<YtDlpSourceRow>> =
    TableDefinition::new("playlist_id_to_ytdlp_v1");
/// Item id -> extractor, video id and thumbnail of an item a yt-dlp playlist listed (schema 6).
/// Written with the item row, in the same transaction.
pub const ITEM_ID_TO_YTDLP_ENTRY: TableDefinition<u64, Row<YtDlpEntryRow>> =
    TableDefinition::new("item_id_to_ytdlp_entry_v1");
/// Schedule name (`"auto_sync"`) -> its state: next due time, interval, last run (schema 7).
/// See `store::schedule`.
pub const SCHEDULE_NAME_TO_SCHEDULE: TableDefinition<&str, Row<ScheduleRow>> =
    TableDefinition::new("schedule_name_to_schedule_v1");

/// Item id -> its author and iTunes episode / season numbers, for tags (schema 7). Written by
/// `Store::apply_sync` in the item's transaction, absent when the entry has none of them.
pub const ITEM_ID_TO_EPISODE_META: TableDefinition<u64, Row<EpisodeMetaRow>> =
    TableDefinition::new("item_id_to_episode_meta_v1");
/// Playlist id -> the channel's author (`itunes:author`), for tags (schema 7). Written by
/// `Store::apply_sync`.
pub const PLAYLIST_ID_TO_AUTHOR: TableDefinition<u64, &str> =
    TableDefinition::new("playlist_id_to_author_v1");
/// Playlist id -> whether its downloads are tagged, when the user chose (schema 7); absent =
/// the default (on for feeds, off for M3U/PLS/XSPF and yt-dlp playlists). See `store::tagging`.
pub const PLAYLIST_ID_TO_TAGGING: TableDefinition<u64, bool> =
    TableDefinition::new("playlist_id_to_tagging_v1");
/// Item id -> the tags written into its file (schema 7); removed with the file row.
pub const ITEM_ID_TO_TAGGED: TableDefinition<u64, Row<TaggedRow>> =
    TableDefinition::new("item_id_to_tagged_v1");

/// (playlist id, upload target name) -> (): the playlist is sent to that target by the
/// `upload` stage (schema 8). Targets themselves live in the config file, never here.
pub const PLAYLIST_TARGET: TableDefinition<(u64, &str), ()> = TableDefinition::new("playlist_target_v1");
/// (upload target name, target-relative path) -> what we put there: size, SHA-256, time
/// (schema 8). The only files mirror mode ever deletes; written once the file is complete
/// under its final name.
pub const TARGET_PATH_TO_UPLOAD: TableDefinition<(&str, &str), Row<UploadedRow>> =
    TableDefinition::new("target_path_to_upload_v1");
/// (upload target name, target-relative temporary path) -> when the upload to it started
/// (Unix ms; schema 8). Written before a temporary file is created on the target and removed
/// after its rename, so the next run deletes the temporary files a crash or a dropped
/// connection left behind.
pub const TARGET_TEMP_PATHS: TableDefinition<(&str, &str), i64> =
    TableDefinition::new("target_temp_paths_v1");
/// Job id -> the upload targets an upload job was limited to (`--target`); absent = every
/// target of the playlists in scope (schema 8).
pub const JOB_ID_TO_UPLOAD_TARGETS: TableDefinition<u64, Row<UploadJobRow>> =
    TableDefinition::new("job_id_to_upload_targets_v1");

/// Item id -> a rename of its file the `organize` stage planned and has not committed yet
/// (schema 9): the old and new library-relative paths and the root. Written durably before the
/// file is moved and removed in the transaction that records the new path, so after a crash
/// the next run finds, for each entry, which of the two paths holds the file and finishes
/// (see `store::organize`).
pub const ITEM_ID_TO_ORGANIZE_MOVE: TableDefinition<u64, Row<OrganizeMoveRow>> =
    TableDefinition::new("item_id_to_organize_move_v1");
/// Job id -> the name template an `organize` job renames after (schema 9): the one saved when
/// the user asked, even if the engine that runs the job was built with an older one. Absent:
/// the engine's template.
pub const JOB_ID_TO_ORGANIZE_TEMPLATE: TableDefinition<u64, &str> =
    TableDefinition::new("job_id_to_organize_template_v1");
/// Playlist id -> its own retention rule as `config::Retention::to_code` (kind, value)
/// (schema 10); absent = the global default (`Config::retention`). See `store::retention`.
pub const PLAYLIST_ID_TO_RETENTION: TableDefinition<u64, (u8, u32)> =
    TableDefinition::new("playlist_id_to_retention_v1");
/// Item id -> (): items the user marked "keep"; retention never deletes them (schema 10).
pub const ITEM_KEEP: TableDefinition<u64, ()> = TableDefinition::new("item_keep_v1");
/// Item id -> what retention deleted of it (schema 10). Such an item is not downloaded again
/// (`Store::pending_downloads`) until the user marks it "keep", which removes the row.
pub const ITEM_ID_TO_REMOVED: TableDefinition<u64, Row<RemovedRow>> =
    TableDefinition::new("item_id_to_removed_v1");
/// Item id -> a deletion recorded but whose file may still be on disk (schema 10): written with
/// the `ITEM_ID_TO_REMOVED` row in the transaction that removes the file row, removed once the
/// file is gone, so the next run finishes what a crash interrupted.
pub const REMOVAL_PENDING: TableDefinition<u64, Row<RemovedRow>> = TableDefinition::new("removal_pending_v1");
/// Job id -> the summary compaction kept of a finished job whose work items, log and earlier
/// runs it trimmed (schema 11; see `store::history`). Present only for compacted jobs: their
/// stage counts and last error come from here.
pub const JOB_ID_TO_SUMMARY: TableDefinition<u64, Row<JobSummaryRow>> =
    TableDefinition::new("job_id_to_summary_v1");
