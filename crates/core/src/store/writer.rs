//! The single writer (ARCHITECTURE.md, convention 6): one thread owns every write transaction
//! of the catalog and batches them. A write ([`Store::write`](super::Store::write) and its
//! kin) is an operation queued to that thread; the thread takes every operation queued
//! meanwhile (up to [`MAX_BATCH`]), runs them in order in ONE write transaction and commits it
//! once: with `Durability::Immediate` (one fsync for the whole batch) when any of them must be
//! durable now, else without fsync (heartbeats, claims, samples: the next durable commit
//! persists them). Each caller gets its result only after that commit returned, so an
//! acknowledged durable write is on disk, and a crash leaves a prefix of the commits (redb
//! persists commits in order). A third kind, [`Durability::Deferred`], is answered after a
//! commit without fsync and made durable within the writer's window ([`super::deferred`]): a
//! downloaded file's row or a synced playlist, which the next run recovers (from the disk, or
//! by fetching the feed again) if a crash loses it.
//!
//! Operations are `FnMut` so a batch can be re-run: when one fails (returns an error or
//! panics), the transaction is aborted, that operation alone gets its error (a panic is
//! resumed in the caller's thread), and the others run again, in order, in a fresh
//! transaction. Each caller thus sees exactly the effect of running its operation alone after
//! the ones queued before it: batching changes how often we commit, never what a write means.
//!
//! Two ways in: [`Writer::run_blocking`] for the store's synchronous methods (the caller's
//! thread waits) and [`Writer::submit`] / [`Writer::submit_deferred`] for async hot paths
//! (claims, finished downloads), which need no blocking-pool thread. Either way an operation
//! owns what it uses (`'static`).
//!
//! A deferred write that records a file just renamed into a folder names that folder
//! ([`Writer::submit_deferred`]): the writer fsyncs it before the durable commit that persists
//! the write, so the rename is durable before the row that records it (POSIX `rename(2)`,
//! `fsync(2)`). Each folder is fsynced once per durable commit however many such writes it
//! persists: a group commit of folder fsyncs. When the write's own batch commits durably and
//! its folder cannot be fsynced, it gets [`StoreError::DirSync`] and does not commit; the rest
//! of the batch does. (Later, the write was answered already: the failure is logged.)

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::deferred::{Pending, Synced};
use super::{Result, StoreError};

/// Most operations committed in one transaction.
pub const MAX_BATCH: usize = 512;

/// Longest time a [`Durability::Deferred`] write stays without fsync (ms).
pub const DEFER_WINDOW_MS: u64 = 500;

/// When an operation's commit must reach the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Durability {
    /// Committed without fsync; the next durable commit persists it, whenever it comes
    /// (heartbeats, claims, samples): a crash before that loses it.
    Volatile,
    /// Committed without fsync, then made durable by the first durable commit after it, at
    /// the latest [`DEFER_WINDOW_MS`] later, its folder fsynced first ([`super::deferred`]):
    /// for writes whose loss in a crash the next run repairs from the disk.
    Deferred,
    /// Durable when its caller hears back.
    Immediate,
}

impl Durability {
    fn from_durable(durable: bool) -> Durability {
        if durable {
            Durability::Immediate
        } else {
            Durability::Volatile
        }
    }
}

/// A folder fsync: [`fsync_dir`], or a stand-in in tests.
type FsyncDir = Box<dyn Fn(&Path) -> std::io::Result<()> + Send>;

/// What an operation's caller gets: its result, or the payload of its panic.
type Outcome<T> = std::result::Result<Result<T>, Box<dyn Any + Send>>;

/// Where an operation's outcome goes: a blocked thread or an awaiting task.
enum Reply<T> {
    Blocking(std::sync::mpsc::SyncSender<Outcome<T>>),
    Async(oneshot::Sender<Outcome<T>>),
}

/// A queued operation, type-erased.
trait Op: Send {
    /// Runs the operation in `tx`; its output is kept until [`Op::reply`].
    fn apply(&mut self, tx: &redb::WriteTransaction) -> std::result::Result<(), Failure>;
    /// When its commit must reach the disk.
    fn durability(&self) -> Durability;
    /// The folder to fsync before its durable commit, if any (module docs).
    fn dir_sync(&self) -> Option<&Path>;
    /// Drops the operation's closure, then hands the kept output, or `failure`, to the caller.
    fn reply(self: Box<Self>, failure: Option<Failure>);
}

/// Why an operation did not commit.
enum Failure {
    Error(StoreError),
    Panic(Box<dyn Any + Send>),
}

struct Typed<T, F> {
    f: F,
    out: Option<T>,
    durability: Durability,
    dir_sync: Option<PathBuf>,
    reply: Reply<T>,
}

impl<T: Send + 'static, F: FnMut(&redb::WriteTransaction) -> Result<T> + Send + 'static> Typed<T, F> {
    /// `f` as a queued operation.
    fn op(f: F, durability: Durability, dir_sync: Option<PathBuf>, reply: Reply<T>) -> Box<dyn Op> {
        Box::new(Typed { f, out: None, durability, dir_sync, reply })
    }
}

impl<T: Send, F: FnMut(&redb::WriteTransaction) -> Result<T> + Send> Op for Typed<T, F> {
    fn apply(&mut self, tx: &redb::WriteTransaction) -> std::result::Result<(), Failure> {
        let f = &mut self.f;
        match catch_unwind(AssertUnwindSafe(|| f(tx))) {
            Ok(Ok(v)) => {
                self.out = Some(v);
                Ok(())
            }
            Ok(Err(e)) => Err(Failure::Error(e)),
            Err(payload) => Err(Failure::Panic(payload)),
        }
    }

    fn durability(&self) -> Durability {
        self.durability
    }

    fn dir_sync(&self) -> Option<&Path> {
        self.dir_sync.as_deref()
    }

    fn reply(self: Box<Self>, failure: Option<Failure>) {
        let Typed { f, out, reply, .. } = *self;
        drop(f); // what the closure owned goes before the caller wakes up
        let outcome = match (failure, out) {
            (Some(Failure::Error(e)), _) => Ok(Err(e)),
            (Some(Failure::Panic(payload)), _) => Err(payload),
            (None, Some(v)) => Ok(Ok(v)),
            (None, None) => Ok(Err(StoreError::Conflict("a store operation produced no result".into()))),
        };
        // the caller may have gone away (an async caller that was cancelled)
        match reply {
            Reply::Blocking(tx) => drop(tx.send(outcome)),
            Reply::Async(tx) => drop(tx.send(outcome)),
        }
    }
}

/// The queue into the writer thread. Dropping it stops the thread and waits for it, so the
/// database file is closed when the last `Store` clone goes.
pub(super) struct Writer {
    queue: Option<mpsc::Sender<Box<dyn Op>>>,
    thread: Option<JoinHandle<()>>,
    /// Transactions committed by the writer, for tests and diagnostics.
    commits: Arc<AtomicU64>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("commits", &self.commits()).finish()
    }
}

impl Writer {
    /// Starts the writer thread over `db`, deferred writes made durable within
    /// [`DEFER_WINDOW_MS`]. Errors: the thread could not be spawned.
    pub(super) fn start(db: Arc<redb::Database>) -> std::io::Result<Writer> {
        Writer::start_with(db, Duration::from_millis(DEFER_WINDOW_MS), Box::new(fsync_dir))
    }

    /// [`Writer::start`] with the deferred writes' `window` and the folder fsync given.
    fn start_with(db: Arc<redb::Database>, window: Duration, fsync: FsyncDir) -> std::io::Result<Writer> {
        let (queue, rx) = mpsc::channel();
        let commits = Arc::new(AtomicU64::new(0));
        let counter = commits.clone();
        let thread = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run(&db, &rx, &counter, window, &*fsync))?;
        Ok(Writer { queue: Some(queue), thread: Some(thread), commits })
    }

    /// Transactions the writer committed so far.
    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Runs `f` on the writer thread and waits for its commit (as durable as `durability`
    /// says), for the store's synchronous methods. A panic in `f` is resumed here.
    pub(super) fn run_blocking<T, F>(&self, durability: Durability, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&redb::WriteTransaction) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.enqueue(Typed::op(f, durability, None, Reply::Blocking(tx)));
        match rx.recv() {
            Ok(Ok(result)) => result,
            Ok(Err(payload)) => resume_unwind(payload),
            Err(_) => Err(stopped()),
        }
    }

    /// Queues `f` for the writer thread at once (in call order); the future resolves with its
    /// result once its batch committed (durable when `durable`). Needs no blocking-pool thread.
    /// A panic in `f` is resumed in the awaiting task. Dropping the future does not withdraw
    /// the write.
    pub(super) fn submit<T, F>(&self, durable: bool, f: F) -> impl std::future::Future<Output = Result<T>>
    where
        T: Send + 'static,
        F: FnMut(&redb::WriteTransaction) -> Result<T> + Send + 'static,
    {
        self.queue_async(Durability::from_durable(durable), None, f)
    }

    /// [`Writer::submit`] as a [`Durability::Deferred`] write: the future resolves once it is
    /// committed without fsync; it is durable within [`DEFER_WINDOW_MS`], folder `dir_sync`
    /// (when given) fsynced before (module docs). Errors: [`StoreError::DirSync`] when its own
    /// batch commits durably and that fsync failed (`f` did not run), else `f`'s.
    pub(super) fn submit_deferred<T, F>(
        &self,
        dir_sync: Option<PathBuf>,
        f: F,
    ) -> impl std::future::Future<Output = Result<T>>
    where
        T: Send + 'static,
        F: FnMut(&redb::WriteTransaction) -> Result<T> + Send + 'static,
    {
        self.queue_async(Durability::Deferred, dir_sync, f)
    }

    fn queue_async<T, F>(
        &self,
        durability: Durability,
        dir_sync: Option<PathBuf>,
        f: F,
    ) -> impl std::future::Future<Output = Result<T>>
    where
        T: Send + 'static,
        F: FnMut(&redb::WriteTransaction) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.enqueue(Typed::op(f, durability, dir_sync, Reply::Async(tx)));
        async move {
            match rx.await {
                Ok(Ok(result)) => result,
                Ok(Err(payload)) => resume_unwind(payload),
                Err(_) => Err(stopped()),
            }
        }
    }

    fn enqueue(&self, op: Box<dyn Op>) {
        match &self.queue {
            Some(queue) => {
                if let Err(mpsc::SendError(op)) = queue.send(op) {
                    op.reply(Some(Failure::Error(stopped())));
                }
            }
            None => op.reply(Some(Failure::Error(stopped()))),
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Conflict("the catalog's writer has stopped".into())
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.queue.take();
        if let Some(thread) = self.thread.take() {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// The writer thread: takes each batch, and commits an empty durable transaction itself when
/// deferred writes reached the end of their `window` with nothing else to commit. When the
/// queue closes (the store is dropped), deferred writes are made durable before it returns.
fn run(
    db: &redb::Database,
    rx: &mpsc::Receiver<Box<dyn Op>>,
    commits: &AtomicU64,
    window: Duration,
    fsync: &dyn Fn(&Path) -> std::io::Result<()>,
) {
    let mut pending = Pending::default();
    loop {
        let first = match pending.wait(Instant::now()) {
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(wait) => rx.recv_timeout(wait),
        };
        let (first, last) = match first {
            Ok(op) => (op, false),
            Err(RecvTimeoutError::Timeout) => (persist_op(), false),
            Err(RecvTimeoutError::Disconnected) if pending.any() => (persist_op(), true),
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let durable =
            pending.is_due(Instant::now()) || batch.iter().any(|op| op.durability() == Durability::Immediate);
        let batch = match durable {
            true => sync_dirs(batch, pending.sync_dirs(fsync), fsync),
            false => batch,
        };
        commit_batch(db, batch, (durable, &mut pending, window), commits);
        if last {
            return;
        }
        if durable && pending.any() {
            // the durable commit failed: try again a window later, not in a busy loop
            pending.postpone(Instant::now() + window);
        }
    }
}

/// An empty write that must be durable: it persists the deferred writes before it.
fn persist_op() -> Box<dyn Op> {
    let (reply, _) = oneshot::channel();
    let f = |_: &redb::WriteTransaction| Ok(());
    Typed::op(f, Durability::Immediate, None, Reply::Async(reply))
}

/// fsyncs each folder the operations of `batch` wait for, once per folder and skipping those
/// in `synced` (already fsynced for this commit), and answers the operations whose folder
/// failed with [`StoreError::DirSync`]; returns the others.
fn sync_dirs(
    batch: Vec<Box<dyn Op>>,
    mut synced: Vec<Synced>,
    fsync: &dyn Fn(&Path) -> std::io::Result<()>,
) -> Vec<Box<dyn Op>> {
    if batch.iter().all(|op| op.dir_sync().is_none()) {
        return batch;
    }
    let mut kept = Vec::with_capacity(batch.len());
    for op in batch {
        let Some(dir) = op.dir_sync() else {
            kept.push(op);
            continue;
        };
        let i = match synced.iter().position(|(d, _)| d == dir) {
            Some(i) => i,
            None => {
                synced.push((dir.to_path_buf(), fsync(dir).err()));
                synced.len() - 1
            }
        };
        match &synced[i] {
            (_, None) => kept.push(op),
            (dir, Some(e)) => {
                let source = std::io::Error::new(e.kind(), e.to_string());
                let dir = dir.clone();
                op.reply(Some(Failure::Error(StoreError::DirSync { dir, source })));
            }
        }
    }
    kept
}

/// fsyncs folder `dir`, so the renames, creates and unlinks done in it survive a power cut
/// (POSIX `rename(2)`, `fsync(2)`; ext4 and XFS document the same). A no-op where a folder
/// cannot be opened as a file (Windows: NTFS journals the rename instead). The one folder
/// fsync of the crate: the writer's, transfers' and exports'. Errors: opening or fsyncing it.
pub(crate) fn fsync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Runs `batch` in one transaction, committed durably when `durable`, and replies to each; a
/// failing operation is answered with its failure and the rest re-run without it (module
/// docs). A durable commit clears `pending`; a commit without fsync notes its deferred writes
/// there, to be durable within `window`.
fn commit_batch(
    db: &redb::Database,
    mut batch: Vec<Box<dyn Op>>,
    (durable, pending, window): (bool, &mut Pending, Duration),
    commits: &AtomicU64,
) {
    while !batch.is_empty() {
        let mut tx = match db.begin_write() {
            Ok(tx) => tx,
            Err(e) => return fail_all(batch, &StoreError::from(e)),
        };
        let durability = if durable { redb::Durability::Immediate } else { redb::Durability::None };
        if let Err(e) = tx.set_durability(durability) {
            return fail_all(batch, &StoreError::Conflict(format!("durability: {e}")));
        }
        let failed = batch.iter_mut().enumerate().find_map(|(i, op)| op.apply(&tx).err().map(|f| (i, f)));
        match failed {
            None => match tx.commit() {
                Ok(()) => {
                    commits.fetch_add(1, Ordering::Relaxed);
                    if durable {
                        pending.clear();
                    }
                    let now = Instant::now();
                    for op in batch {
                        if !durable && op.durability() == Durability::Deferred {
                            pending.note(now, window, op.dir_sync());
                        }
                        op.reply(None);
                    }
                }
                Err(e) => fail_all(batch, &StoreError::from(e)),
            },
            Some((i, failure)) => {
                let _ = tx.abort();
                batch.remove(i).reply(Some(failure));
                continue;
            }
        }
        return;
    }
}

/// Answers every operation of a batch whose transaction could not begin or commit.
fn fail_all(batch: Vec<Box<dyn Op>>, e: &StoreError) {
    for op in batch {
        op.reply(Some(Failure::Error(StoreError::Conflict(format!("the catalog could not commit: {e}")))));
    }
}

#[cfg(test)]
mod tests;
