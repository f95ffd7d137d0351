//! The single writer (ARCHITECTURE.md, convention 6): one thread owns every write transaction
//! of the catalog and batches them. A write ([`Store::write`](super::Store::write) and its
//! kin) is an operation queued to that thread; the thread takes every operation queued
//! meanwhile (up to [`MAX_BATCH`]), runs them in order in ONE write transaction and commits it
//! once: with `Durability::Immediate` (one fsync for the whole batch) when any of them must be
//! durable, else without fsync (heartbeats, claims, samples: the next durable commit persists
//! them). Each caller gets its result only after that commit returned, so an acknowledged
//! durable write is on disk, and a crash leaves a prefix of the commits (redb persists commits
//! in order).
//!
//! Operations are `FnMut` so a batch can be re-run: when one fails (returns an error or
//! panics), the transaction is aborted, that operation alone gets its error (a panic is
//! resumed in the caller's thread), and the others run again, in order, in a fresh
//! transaction. Each caller thus sees exactly the effect of running its operation alone after
//! the ones queued before it: batching changes how often we commit, never what a write means.
//!
//! Two ways in: [`Writer::run_blocking`] for the store's synchronous methods (the caller's
//! thread waits) and [`Writer::submit`] for async hot paths (claims, finishes), which needs no
//! blocking-pool thread. Either way an operation owns what it uses (`'static`).
//!
//! A write that records a file just renamed into a folder can name that folder
//! ([`Writer::submit_after`]): the writer fsyncs it before the batch's transaction,
//! so the rename is durable before the row that records it (POSIX `rename(2)`, `fsync(2)`).
//! Each folder is fsynced once per batch however many of its writes the batch holds: a group
//! commit of folder fsyncs that grows with the load, as the batch does. A write whose folder
//! cannot be fsynced gets [`StoreError::DirSync`] and does not commit; the rest of the batch
//! does.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::{Result, StoreError};

/// Most operations committed in one transaction.
pub const MAX_BATCH: usize = 512;

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
    /// Whether its commit must be durable.
    fn durable(&self) -> bool;
    /// The folder to fsync before its transaction, if any (module docs).
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
    durable: bool,
    dir_sync: Option<PathBuf>,
    reply: Reply<T>,
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

    fn durable(&self) -> bool {
        self.durable
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
    queue: Option<mpsc::UnboundedSender<Box<dyn Op>>>,
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
    /// Starts the writer thread over `db`. Errors: the thread could not be spawned.
    pub(super) fn start(db: Arc<redb::Database>) -> std::io::Result<Writer> {
        let (queue, rx) = mpsc::unbounded_channel();
        let commits = Arc::new(AtomicU64::new(0));
        let counter = commits.clone();
        let thread =
            std::thread::Builder::new().name("store-writer".into()).spawn(move || run(&db, rx, &counter))?;
        Ok(Writer { queue: Some(queue), thread: Some(thread), commits })
    }

    /// Transactions the writer committed so far.
    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Runs `f` on the writer thread and waits for its commit (durable when `durable`), for
    /// the store's synchronous methods. A panic in `f` is resumed here.
    pub(super) fn run_blocking<T, F>(&self, durable: bool, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&redb::WriteTransaction) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.enqueue(Box::new(Typed { f, out: None, durable, dir_sync: None, reply: Reply::Blocking(tx) }));
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
        self.submit_after(durable, None, f)
    }

    /// [`Writer::submit`], committed only once folder `dir_sync` (when given) was fsynced
    /// (module docs). Errors: [`StoreError::DirSync`] when that fsync failed (`f` did not
    /// run), else `f`'s.
    pub(super) fn submit_after<T, F>(
        &self,
        durable: bool,
        dir_sync: Option<PathBuf>,
        f: F,
    ) -> impl std::future::Future<Output = Result<T>>
    where
        T: Send + 'static,
        F: FnMut(&redb::WriteTransaction) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.enqueue(Box::new(Typed { f, out: None, durable, dir_sync, reply: Reply::Async(tx) }));
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
                if let Err(mpsc::error::SendError(op)) = queue.send(op) {
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

fn run(db: &redb::Database, mut rx: mpsc::UnboundedReceiver<Box<dyn Op>>, commits: &AtomicU64) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        commit_batch(db, sync_dirs(batch, fsync_dir), commits);
    }
}

/// fsyncs each folder the operations of `batch` wait for, once per folder, and answers the
/// operations whose folder failed with [`StoreError::DirSync`]; returns the others.
fn sync_dirs(batch: Vec<Box<dyn Op>>, fsync: impl Fn(&Path) -> std::io::Result<()>) -> Vec<Box<dyn Op>> {
    if batch.iter().all(|op| op.dir_sync().is_none()) {
        return batch;
    }
    let mut synced: Vec<(PathBuf, Option<std::io::Error>)> = Vec::new();
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

/// Runs `batch` in one transaction and replies to each; a failing operation is answered with
/// its failure and the rest re-run without it (module docs).
fn commit_batch(db: &redb::Database, mut batch: Vec<Box<dyn Op>>, commits: &AtomicU64) {
    while !batch.is_empty() {
        let mut tx = match db.begin_write() {
            Ok(tx) => tx,
            Err(e) => return fail_all(batch, &StoreError::from(e)),
        };
        let durability = if batch.iter().any(|op| op.durable()) {
            redb::Durability::Immediate
        } else {
            redb::Durability::None
        };
        if let Err(e) = tx.set_durability(durability) {
            return fail_all(batch, &StoreError::Conflict(format!("durability: {e}")));
        }
        let failed = batch.iter_mut().enumerate().find_map(|(i, op)| op.apply(&tx).err().map(|f| (i, f)));
        match failed {
            None => match tx.commit() {
                Ok(()) => {
                    commits.fetch_add(1, Ordering::Relaxed);
                    batch.into_iter().for_each(|op| op.reply(None));
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
mod tests {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::mpsc;

    use crate::store::{next_id, tables, temp_store, Store, StoreError};

    fn meta(store: &Store, name: &str) -> u64 {
        store.read(|tx| Ok(tx.open_table(tables::META)?.get(name)?.map(|g| g.value()).unwrap_or(1))).unwrap()
    }

    /// Holds the writer thread inside an operation until the returned sender is used, so
    /// what is submitted meanwhile queues up as one batch.
    fn hold_writer(
        store: &Store,
    ) -> (mpsc::Sender<()>, impl std::future::Future<Output = Result<(), StoreError>>) {
        let (release, wait) = mpsc::channel::<()>();
        let (entered_tx, entered) = mpsc::channel::<()>();
        let held = store.submit(false, move |_| {
            let _ = entered_tx.send(());
            let _ = wait.recv();
            Ok(())
        });
        entered.recv().unwrap();
        (release, held)
    }

    #[tokio::test]
    async fn writes_queued_during_a_commit_share_the_next_transaction_and_keep_their_order() {
        let (_dir, store) = temp_store();
        let (release, held) = hold_writer(&store);
        let before = store.commits();
        let writes: Vec<_> = (0..20).map(|_| store.submit(true, |tx| next_id(tx, "seq"))).collect();
        release.send(()).unwrap();
        held.await.unwrap();
        let mut ids = Vec::new();
        for w in writes {
            ids.push(w.await.unwrap());
        }
        assert_eq!(ids, (1..=20).collect::<Vec<_>>(), "in submission order");
        assert_eq!(store.commits() - before, 2, "the held batch, then one for the 20 queued behind it");
    }

    #[tokio::test]
    async fn a_failing_write_rolls_back_alone_and_the_rest_of_its_batch_commits() {
        let (_dir, store) = temp_store();
        let (release, held) = hold_writer(&store);
        let a = store.submit(true, |tx| next_id(tx, "kept"));
        let b = store.submit(true, |tx| {
            next_id(tx, "kept")?;
            next_id(tx, "dropped")?;
            Err::<u64, _>(StoreError::Conflict("refused".into()))
        });
        let c = store.submit(true, |tx| next_id(tx, "kept"));
        release.send(()).unwrap();
        held.await.unwrap();
        assert_eq!(a.await.unwrap(), 1);
        assert!(matches!(b.await, Err(StoreError::Conflict(m)) if m == "refused"));
        assert_eq!(c.await.unwrap(), 2, "c ran after a, without b's effect");
        assert_eq!(meta(&store, "kept"), 3);
        assert_eq!(meta(&store, "dropped"), 1, "b rolled back");
    }

    #[test]
    fn a_panicking_write_panics_its_caller_and_spares_the_others() {
        let (_dir, store) = temp_store();
        let (release, held) = hold_writer(&store);
        let s = store.clone();
        let panicking = std::thread::spawn(move || {
            catch_unwind(AssertUnwindSafe(|| {
                s.write(|tx| -> Result<(), StoreError> {
                    next_id(tx, "n")?;
                    panic!("boom")
                })
            }))
            .is_err()
        });
        let s = store.clone();
        let fine = std::thread::spawn(move || s.write(|tx| next_id(tx, "other")));
        std::thread::sleep(std::time::Duration::from_millis(50)); // both queue behind the held op
        release.send(()).unwrap();
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(held).unwrap();
        assert!(panicking.join().unwrap(), "the panic reached the caller");
        assert_eq!(fine.join().unwrap().unwrap(), 1);
        assert_eq!(meta(&store, "n"), 1, "the panicking write left nothing");
    }

    /// A write that waits for a folder (module docs), answering on `rx`.
    fn waiting_for(
        dir: Option<&str>,
    ) -> (Box<dyn super::Op>, tokio::sync::oneshot::Receiver<super::Outcome<u8>>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let f = |_: &redb::WriteTransaction| Ok(1u8);
        let dir_sync = dir.map(std::path::PathBuf::from);
        (Box::new(super::Typed { f, out: None, durable: true, dir_sync, reply: super::Reply::Async(tx) }), rx)
    }

    #[test]
    fn each_folder_is_fsynced_once_per_batch_and_a_failed_one_fails_only_its_writes() {
        let fsynced = std::cell::RefCell::new(Vec::new());
        let fsync = |dir: &std::path::Path| {
            fsynced.borrow_mut().push(dir.to_path_buf());
            match dir.ends_with("bad") {
                true => Err(std::io::Error::other("EIO")),
                false => Ok(()),
            }
        };
        let (ops, mut replies): (Vec<_>, Vec<_>) =
            [Some("/lib/a"), Some("/lib/bad"), Some("/lib/a"), None, Some("/lib/bad"), Some("/lib/b")]
                .into_iter()
                .map(waiting_for)
                .unzip();
        let kept = super::sync_dirs(ops, fsync);
        assert_eq!(
            kept.iter().map(|op| op.dir_sync().map(|d| d.to_path_buf())).collect::<Vec<_>>(),
            [Some("/lib/a".into()), Some("/lib/a".into()), None, Some("/lib/b".into())]
        );
        assert_eq!(*fsynced.borrow(), ["/lib/a", "/lib/bad", "/lib/b"].map(std::path::PathBuf::from));
        for i in [1, 4] {
            match replies[i].try_recv() {
                Ok(Ok(Err(StoreError::DirSync { dir, source }))) => {
                    assert_eq!((dir.to_str(), source.to_string().as_str()), (Some("/lib/bad"), "EIO"))
                }
                other => panic!("write {i}: {:?}", other.map(|o| o.map(|r| r.map_err(|e| e.to_string())))),
            }
        }
        for i in [0, 2, 3, 5] {
            let waiting = replies[i].try_recv();
            assert!(matches!(waiting, Err(tokio::sync::oneshot::error::TryRecvError::Empty)), "write {i}");
        }
    }

    #[tokio::test]
    async fn a_download_is_recorded_only_once_its_folder_was_fsynced() {
        use crate::store::{FileRow, JobKind, StageKind};
        let (dir, store) = temp_store();
        let job = store.create_job(JobKind::DownloadOnly, &[StageKind::Download], &[], 1).unwrap();
        store.claim_next_job(|_| true, 1).unwrap();
        store.add_stage_items(job, 0, &[5, 6], 1).unwrap();
        assert_eq!(store.claim_stage_items_async(job, 0, 2, 2).await.unwrap(), vec![5, 6]);
        let file = |p: &str| FileRow { path: p.into(), size: 1, ..Default::default() };
        let gone = dir.path().join("no such folder");
        let failed =
            store.finish_download_async((job, 0, 5), file("x/a.mp3"), None, Some(gone.clone()), 3).await;
        assert!(matches!(&failed, Err(StoreError::DirSync { dir, .. }) if *dir == gone), "{failed:?}");
        assert_eq!(store.item_file(5).unwrap(), None, "nothing recorded");
        let folder = dir.path().join("show");
        std::fs::create_dir(&folder).unwrap();
        store.finish_download_async((job, 0, 6), file("show/b.mp3"), None, Some(folder), 3).await.unwrap();
        assert_eq!(store.item_file(6).unwrap().map(|f| f.path).as_deref(), Some("show/b.mp3"));
        let c = store.stage_counts(job, 0).unwrap();
        assert_eq!((c.running, c.done), (1, 1), "item 5 still runs: its write did not commit");
    }

    #[test]
    fn every_acknowledged_write_survives_a_reopen_and_dropping_the_store_closes_the_file() {
        let (dir, store) = temp_store();
        let path = store.path().to_path_buf();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let s = store.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        let r = s.write(move |tx| {
                            next_id(tx, "kept")?;
                            if (t + i) % 5 == 0 {
                                next_id(tx, "dropped")?;
                                return Err(StoreError::Conflict("refused".into()));
                            }
                            Ok(())
                        });
                        assert_eq!(r.is_err(), (t + i) % 5 == 0);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        drop(store);
        let store = Store::open(&path).expect("the file is closed once the last handle is gone");
        assert_eq!(meta(&store, "kept"), 1 + 80, "20 of 100 writes failed and rolled back");
        assert_eq!(meta(&store, "dropped"), 1);
        drop(dir);
    }
}
