//! Tests of the single writer: batching, failures, folder fsyncs and deferred durability.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

use crate::store::{next_id, tables, temp_store, Store, StoreError};

fn meta(store: &Store, name: &str) -> u64 {
    store.read(|tx| Ok(tx.open_table(tables::META)?.get(name)?.map(|g| g.value()).unwrap_or(1))).unwrap()
}

/// Holds the writer thread inside an operation until the returned sender is used, so
/// what is submitted meanwhile queues up as one batch.
fn hold_writer(
    writer: &super::Writer,
) -> (mpsc::Sender<()>, impl std::future::Future<Output = Result<(), StoreError>>) {
    let (release, wait) = mpsc::channel::<()>();
    let (entered_tx, entered) = mpsc::channel::<()>();
    let held = writer.submit(false, move |_| {
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
    let (release, held) = hold_writer(&store.writer);
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
    let (release, held) = hold_writer(&store.writer);
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
    let (release, held) = hold_writer(&store.writer);
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
    let durability = super::Durability::Deferred;
    (super::Typed::op(f, durability, dir_sync, super::Reply::Async(tx)), rx)
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
    let kept = super::sync_dirs(ops, vec![], &fsync);
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

/// A writer over a fresh database, deferred writes durable within `window`, whose folder
/// fsyncs are recorded in the returned list (and fail for a folder named `bad`).
fn recording_writer(
    window: std::time::Duration,
) -> (tempfile::TempDir, super::Writer, std::sync::Arc<std::sync::Mutex<Vec<std::path::PathBuf>>>) {
    let dir = tempfile::tempdir().unwrap();
    let db = std::sync::Arc::new(redb::Database::create(dir.path().join("w.redb")).unwrap());
    let fsynced = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = fsynced.clone();
    let fsync = move |d: &std::path::Path| {
        log.lock().unwrap().push(d.to_path_buf());
        match d.ends_with("bad") {
            true => Err(std::io::Error::other("EIO")),
            false => Ok(()),
        }
    };
    (dir, super::Writer::start_with(db, window, Box::new(fsync)).unwrap(), fsynced)
}

fn sorted(fsynced: &std::sync::Mutex<Vec<std::path::PathBuf>>) -> Vec<String> {
    let mut dirs: Vec<String> = fsynced.lock().unwrap().iter().map(|d| d.display().to_string()).collect();
    dirs.sort();
    dirs
}

#[tokio::test]
async fn deferred_writes_are_answered_at_once_and_the_next_durable_write_syncs_their_folders_first() {
    let (_dir, writer, fsynced) = recording_writer(std::time::Duration::from_secs(3600));
    let deferred = |dir: &str| writer.submit_deferred(Some(dir.into()), |tx| next_id(tx, "n"));
    let answers = [deferred("/lib/a").await, deferred("/lib/a").await, deferred("/lib/b").await];
    assert_eq!(answers.map(|a| a.unwrap()), [1, 2, 3], "committed, in order");
    assert!(fsynced.lock().unwrap().is_empty(), "no folder fsynced before a durable commit");
    let commits = writer.commits();
    assert_eq!(writer.submit(true, |tx| next_id(tx, "n")).await.unwrap(), 4);
    assert_eq!(writer.commits() - commits, 1);
    assert_eq!(sorted(&fsynced), ["/lib/a", "/lib/b"], "each folder once, before that commit");
    // a folder that fails: logged for the earlier writes; a write of the durable batch
    // that waits for it is refused
    writer.submit_deferred(Some("/lib/bad".into()), |tx| next_id(tx, "n")).await.unwrap();
    let (release, held) = hold_writer(&writer);
    let refused = writer.submit_deferred(Some("/lib/bad".into()), |tx| next_id(tx, "n"));
    let durable = writer.submit(true, |tx| next_id(tx, "n"));
    release.send(()).unwrap();
    held.await.unwrap();
    assert!(matches!(refused.await, Err(StoreError::DirSync { .. })));
    assert_eq!(durable.await.unwrap(), 6, "the refused write left nothing");
    assert_eq!(sorted(&fsynced), ["/lib/a", "/lib/b", "/lib/bad"], "the bad folder tried once");
}

#[tokio::test]
async fn deferred_writes_become_durable_when_their_window_ends_or_the_writer_stops() {
    let (_dir, writer, fsynced) = recording_writer(std::time::Duration::from_millis(20));
    writer.submit_deferred(Some("/lib/a".into()), |tx| next_id(tx, "n")).await.unwrap();
    let commits = writer.commits();
    // no other write comes: the writer commits durably itself once the window ended
    let waited = std::time::Instant::now();
    while fsynced.lock().unwrap().is_empty() {
        assert!(waited.elapsed() < std::time::Duration::from_secs(30), "never made durable");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    while writer.commits() == commits {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(sorted(&fsynced), ["/lib/a"]);

    let (_dir, writer, fsynced) = recording_writer(std::time::Duration::from_secs(3600));
    writer.submit_deferred(Some("/lib/b".into()), |tx| next_id(tx, "n")).await.unwrap();
    let counter = writer.commits.clone();
    let commits = counter.load(std::sync::atomic::Ordering::Relaxed);
    drop(writer); // the store goes: its deferred writes are made durable first
    assert_eq!(sorted(&fsynced), ["/lib/b"]);
    assert_eq!(counter.load(std::sync::atomic::Ordering::Relaxed) - commits, 1, "one durable commit");
}

#[tokio::test]
async fn a_download_is_recorded_durably_only_once_its_folder_was_fsynced() {
    use crate::store::{FileRow, JobKind, StageKind};
    let (dir, store) = temp_store();
    let job = store.create_job(JobKind::DownloadOnly, &[StageKind::Download], &[], 1).unwrap();
    store.claim_next_job(|_| true, 1).unwrap();
    store.add_stage_items(job, 0, &[5, 6], 1).unwrap();
    assert_eq!(store.claim_stage_items_async(job, 0, 2, 2).await.unwrap(), vec![5, 6]);
    let file = |p: &str| FileRow { path: p.into(), size: 1, ..Default::default() };
    let gone = dir.path().join("no such folder");
    // in a batch that commits durably, with a write that must be durable now
    let (release, held) = hold_writer(&store.writer);
    let failed = store.finish_download_async((job, 0, 5), file("x/a.mp3"), None, Some(gone.clone()), 3);
    let durable = store.submit(true, |tx| next_id(tx, "n"));
    release.send(()).unwrap();
    held.await.unwrap();
    durable.await.unwrap();
    let failed = failed.await;
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
