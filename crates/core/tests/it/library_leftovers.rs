//! Tagging copies a crash left beside media (`<file>.tagging`, issue 16 part 1) are deleted at
//! the engine's start, and only those of files the catalog records: a real store, files
//! downloaded over loopback, a fresh engine's first run.

use catalog_sync_core::library::leftovers::{sweep_tagging_leftovers, tagging_temp};
use catalog_sync_core::store::{JobKind, JobStatus};
use catalog_sync_testkit::{ServerConfig, TestServer};

use crate::jobs_engine::Rig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_start_deletes_tagging_copies_of_recorded_files_only() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let a = rig.add(&server.add_podcast("show", 2, 9_000));
    assert_eq!(rig.run(JobKind::SyncDownload, vec![]).await.1, JobStatus::Succeeded);
    let lib = rig.library();
    let files: Vec<_> = rig
        .store
        .playlist_items(a)
        .unwrap()
        .into_iter()
        .filter_map(|e| e.file)
        .map(|f| lib.join(f.path))
        .collect();
    assert_eq!(files.len(), 2);
    // a crash mid-tagging left a copy of the first file; the user has files named alike
    let ours = tagging_temp(&files[0]);
    std::fs::copy(&files[0], &ours).unwrap();
    let dir = files[0].parent().unwrap();
    let theirs = dir.join("holiday.mp3.tagging");
    let plain = dir.join("notes.tagging");
    std::fs::write(&theirs, b"not ours").unwrap();
    std::fs::write(&plain, b"not ours either").unwrap();
    // a fresh engine's first run sweeps before any job
    rig.engine().run_queued().await.unwrap();
    assert!(!ours.exists(), "our copy is gone");
    assert!(theirs.exists() && plain.exists(), "files named alike that the catalog never recorded stay");
    assert!(files.iter().all(|f| f.is_file()), "the media stay");
    assert!(sweep_tagging_leftovers(&rig.store, &lib).unwrap().is_empty(), "nothing left to sweep");
}
