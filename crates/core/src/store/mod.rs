//! The embedded catalog database on redb. [`Store`] is a cheap clone around one
//! `redb::Database`; each public method runs one read or one write transaction, so a row and
//! its index entries always change together (convention 4). Methods are blocking: async code
//! calls them through `tokio::task::spawn_blocking` (see `jobs::runner`), or, on the hot paths,
//! awaits the `_async` variants. Every write runs on one writer thread that batches concurrent
//! writes into one transaction and one fsync ([`writer`]); a state change is durable when its
//! method returns, except a downloaded file's row, durable within the writer's window
//! ([`deferred`]: a crash before loses it whole, and the next run adopts the file).
//!
//! Aggregates live in their own modules: [`playlists`], [`items`] (items, membership and
//! downloaded files), [`jobs`] (jobs, stages and stage work items), [`runs`] (attempts of a job
//! and their steps), [`job_log`] (per-job event log), [`commands`] (stored user commands),
//! [`history`] (compaction of old finished jobs), [`failures`] (the stored shape of a cascade that found nothing), [`resolutions`] (download
//! failures naming every resolver source, replaced enclosures), [`schedule`] (recurring
//! schedules' next due times), [`tagging`] (what tags need and what was tagged), [`retention`]
//! (retention rules, "keep" marks, deleted items, deletions pending on disk). Every table is defined in
//! [`tables`]; the schema version and migrations in [`schema`].

mod codec;
pub mod collections;
pub mod commands;
mod deferred;
pub mod failures;
pub mod history;
pub mod items;
pub mod job_log;
pub mod jobs;
mod layouts;
pub mod listing;
pub mod organize;
pub mod playlists;
pub mod reaping;
pub mod refs;
pub mod resolutions;
pub mod retention;
mod rows;
pub mod runs;
pub mod schedule;
pub mod schema;
mod sync_apply;
pub mod tables;
pub mod tagging;
pub mod uploads;
mod work_ops;
mod writer;
pub(crate) use writer::fsync_dir;
mod writes;
pub mod ytdlp;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use commands::{apply_command, CommandRow, JobCommand};
pub use job_log::{JobLogRow, LogKind};
pub use jobs::StageCounts;
pub use layouts::{
    EpisodeMetaRow, FetchStateRow, JobSummaryRow, ScheduleRow, TaggedRow, UploadJobRow, UploadedRow, UrlMove,
    YtDlpEntryRow, YtDlpSourceRow,
};
pub use resolutions::EnclosureReplaced;
pub use rows::*;
pub use runs::{run_id, ErrorClass, RunOutcome, RunRow, StepOutcome, StepRow, TypedError};

/// Errors of the store. Database errors are kept as their `redb` sources.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file was written by a newer Catalog Sync (its schema version is higher).
    #[error("database {path} has schema version {found}, newer than this build's {supported}; upgrade Catalog Sync")]
    NewerSchema {
        /// Database file.
        path: PathBuf,
        /// Version found in the file.
        found: u64,
        /// Highest version this build knows.
        supported: u64,
    },
    /// A row the caller named does not exist.
    #[error("{what} {id} not found")]
    NotFound {
        /// Kind of row, e.g. `playlist`.
        what: &'static str,
        /// Its id or selector.
        id: String,
    },
    /// A state transition that the row's current state does not allow.
    #[error("{0}")]
    Conflict(String),
    /// Another process (a running `catalog-sync` or the desktop app) has the catalog open.
    #[error("catalog {path} is in use by another Catalog Sync process; stop it first (Ctrl-C keeps its work queued)")]
    InUse {
        /// Database file.
        path: PathBuf,
    },
    /// The database file cannot be created or opened.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// Database file.
        path: PathBuf,
        /// redb's reason.
        #[source]
        source: redb::DatabaseError,
    },
    /// Creating the database's folder failed.
    #[error("cannot create folder for database {path}: {source}")]
    Io {
        /// Database file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A folder a write depends on could not be made durable: the folder of a file the
    /// write records, fsynced by the writer before the durable commit that persists it
    /// ([`Store::finish_download_async`]), when that is the write's own commit. The write did
    /// not commit.
    #[error("cannot make folder {dir} durable (open and fsync): {source}")]
    DirSync {
        /// The folder.
        dir: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Any other redb error (I/O, corruption), a bug or an environment failure.
    #[error("database error: {0}")]
    Db(#[from] redb::Error),
}

macro_rules! from_redb {
    ($($t:ty),+) => { $(impl From<$t> for StoreError { fn from(e: $t) -> Self { StoreError::Db(e.into()) } })+ };
}
from_redb!(redb::TransactionError, redb::TableError, redb::StorageError, redb::CommitError);

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Handle to the catalog database. Clone freely; all clones share one `redb::Database`.
#[derive(Clone, Debug)]
pub struct Store {
    db: Arc<redb::Database>,
    path: PathBuf,
    /// The thread that runs every write of every clone (see [`writer`]).
    writer: Arc<writer::Writer>,
}

/// redb's page cache (read cache and write buffer together), in bytes. redb's default is
/// 1 GiB, and the cache keeps every page a process reads or writes until it is full: a sync of
/// a 100,000-item catalog (a 34 MB file) held the whole file in memory. Pages evicted from this
/// one are read again from the operating system's page cache; the write buffer is flushed to
/// the file early when it passes half of it (before the commit, which still fsyncs once).
/// 2 MiB rather than 4: a first sync of 100 feeds x 1,000 items peaks 1.5 MB lower
/// (28.1-29.1 MB) at the same wall time, and the engine's item rate is unchanged.
pub const CACHE_BYTES: usize = 2 * 1024 * 1024;

impl Store {
    /// Opens the database at `path`, creating it (and its folder) if missing, then creates
    /// missing tables and runs forward migrations in one write transaction.
    ///
    /// Errors: [`StoreError::NewerSchema`] when the file comes from a newer build (nothing is
    /// changed in it); [`StoreError::Open`] when the file is locked by another process or is
    /// not a redb database.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io { path: path.into(), source })?;
        }
        // ExclusiveWriter (redb's default): one process owns the catalog. redb refuses
        // non-durable commits in its multi-process modes, and worker samples and heartbeats
        // must not fsync (convention 6); other front ends talk to the owning process instead.
        // A bounded page cache ([`CACHE_BYTES`]): redb's default (1 GiB) keeps every page a
        // scan, a sync or a repair after a crash touched.
        let db =
            redb::Builder::new().set_cache_size(CACHE_BYTES).create(path).map_err(|source| match source {
                redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse { path: path.into() },
                source => StoreError::Open { path: path.into(), source },
            })?;
        let db = Arc::new(db);
        let writer = writer::Writer::start(db.clone())
            .map_err(|source| StoreError::Io { path: path.into(), source })?;
        let store = Store { db, path: path.to_path_buf(), writer: Arc::new(writer) };
        schema::migrate(&store)?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in a write transaction and returns once it is committed durably. The writer
    /// thread runs it, batched with the writes queued meanwhile ([`writer`]): one transaction
    /// and one fsync for the batch. `f` may run more than once when another write of its batch
    /// fails (each run sees the same prior state; only the last one's effect is kept). When
    /// `f` fails, its effect is rolled back and nothing else is affected.
    pub(crate) fn write<T: Send + 'static>(
        &self,
        f: impl FnMut(&redb::WriteTransaction) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.writer.run_blocking(writer::Durability::Immediate, f)
    }

    /// As [`Store::write`], committed without fsync (`Durability::None`): for heartbeats,
    /// claims and throughput samples, which the next durable commit persists (convention 6).
    pub(crate) fn write_volatile<T: Send + 'static>(
        &self,
        f: impl FnMut(&redb::WriteTransaction) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.writer.run_blocking(writer::Durability::Volatile, f)
    }

    /// Makes every commit before it durable: an empty durable commit (redb persists the
    /// commits made without fsync before it). Errors: the database's.
    pub(crate) fn persist(&self) -> Result<()> {
        self.write(|_| Ok(()))
    }

    /// As [`Store::write`] (durable) or [`Store::write_volatile`], awaited instead of blocking:
    /// for async hot paths, which then need no blocking-pool thread. `f` owns what it uses.
    /// The write is queued when this is called, so writes submitted one after another commit
    /// in that order; dropping the future does not withdraw it.
    pub(crate) fn submit<T: Send + 'static>(
        &self,
        durable: bool,
        f: impl FnMut(&redb::WriteTransaction) -> Result<T> + Send + 'static,
    ) -> impl std::future::Future<Output = Result<T>> {
        self.writer.submit(durable, f)
    }

    /// Write transactions committed so far (each may hold many writes).
    pub fn commits(&self) -> u64 {
        self.writer.commits()
    }

    /// Runs `f` in one read transaction.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&redb::ReadTransaction) -> Result<T>) -> Result<T> {
        use redb::ReadableDatabase;
        let tx = self.db.begin_read()?;
        f(&tx)
    }

    /// Bytes the tables hold (redb's stored bytes: keys and values, plus their trees'
    /// metadata; free and fragmented space not counted), what the data needs apart from the
    /// file's spare room; reads
    /// redb's statistics in a write transaction that changes nothing. Errors: [`StoreError::Db`].
    pub fn stored_bytes(&self) -> Result<u64> {
        self.write(|tx| {
            let s = tx.stats()?;
            Ok(s.stored_bytes() + s.metadata_bytes())
        })
    }

    /// Size of the database file in bytes.
    pub fn file_size(&self) -> u64 {
        std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
    }
}

/// Takes and increments the counter `name` of the meta table; ids start at 1.
pub(crate) fn next_id(tx: &redb::WriteTransaction, name: &str) -> Result<u64> {
    use redb::ReadableTable;
    let mut meta = tx.open_table(tables::META)?;
    let id = meta.get(name)?.map(|g| g.value()).unwrap_or(1);
    meta.insert(name, id + 1)?;
    Ok(id)
}

/// A store in a fresh temp folder, for unit tests; keep the folder alive with the store.
#[cfg(test)]
pub(crate) fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("c.redb")).expect("open store");
    (dir, store)
}
