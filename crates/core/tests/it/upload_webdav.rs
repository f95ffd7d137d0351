//! Uploads to a real WebDAV server on loopback (`rclone serve webdav` with a user and a
//! password, started by the test) through a byte-counting relay: a first run sends every file
//! and an M3U per playlist, a second sends nothing, a changed file alone is sent again, and so
//! is a file deleted on the server (it is streamed: OpenDAL's writer would buffer it), mirror
//! mode deletes only our own files (a foreign file survives). The fault test kills the server
//! mid-upload and restarts it: the next run completes with every SHA-256 right, leaves no
//! temporary file, and sends nothing that was complete already (bytes the server received).

use std::path::Path;
use std::time::Duration;

use catalog_sync_core::config::{Remote, Secret, UploadTarget};
use catalog_sync_core::store::JobStatus;

use crate::upload_common::*;

fn webdav(port: u16, mirror: bool) -> UploadTarget {
    UploadTarget {
        name: "nas".into(),
        remote: Remote::Webdav {
            endpoint: format!("http://127.0.0.1:{port}"),
            root: "/pods".into(),
            username: Some("u".into()),
            password: Some(Secret::new("p")),
        },
        mirror,
        m3u_crlf: true,
    }
}

fn check_files(remote: &Path, files: &[(String, String)]) {
    for (rel, sha) in files {
        let on_server = remote.join("pods").join(rel);
        assert!(on_server.is_file(), "{rel} missing on the server: {:?}", tree(remote));
        assert_eq!(&sha_of(&on_server), sha, "{rel}");
    }
    let temps: Vec<String> = tree(remote).into_iter().filter(|p| p.ends_with(".csync-part")).collect();
    assert!(temps.is_empty(), "temporary files left: {temps:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webdav_sends_only_new_or_changed_files_and_mirror_spares_foreign_ones() {
    if !have("rclone", "CATALOG_SYNC_REQUIRE_RCLONE") {
        return;
    }
    let remote = tempfile::tempdir().unwrap();
    let server = rclone_webdav(remote.path(), free_port());
    let relay = Relay::start(server.port, Duration::ZERO);
    let rig = Rig::new(vec![webdav(relay.port, true)], 3);
    let (a, files_a) = rig.playlist("Show A", 3, 100_000);
    let (b, files_b) = rig.playlist("Show B", 2, 50_000);
    for p in [a, b] {
        rig.api.set_playlist_targets(p, vec!["nas".into()]).await.unwrap();
    }
    // files that are not ours, beside ours and in a folder of ours
    std::fs::create_dir_all(remote.path().join("pods/Show B")).unwrap();
    std::fs::write(remote.path().join("pods/Show B/notes.txt"), b"mine, not the app's").unwrap();
    std::fs::write(remote.path().join("pods/foreign.mp3"), b"someone else's").unwrap();

    let (job, status) = rig.upload(vec![], vec![]).await;
    let detail = rig.api.job_detail(job).await.unwrap();
    assert_eq!(status, JobStatus::Succeeded, "{:?}", detail.items);
    check_files(remote.path(), &files_a);
    check_files(remote.path(), &files_b);
    let m3u = std::fs::read_to_string(remote.path().join("pods/Show A.m3u")).unwrap();
    assert!(m3u.starts_with("#EXTM3U\r\n#PLAYLIST:Show A\r\n"), "{m3u:?}");
    assert!(m3u.contains("\r\nShow A/episode 02.mp3\r\n"), "target-relative paths: {m3u:?}");
    let first = relay.bytes();
    assert!(first >= 400_000, "every file went through the relay: {first}");

    let (_, status) = rig.upload(vec![], vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    let listed = relay.bytes() - first;
    assert!(listed < 5_000, "a second run sends nothing but its folder listings: {listed} bytes");

    // a file deleted on the server is sent again, alone
    // (through the server: rclone caches its folder listings)
    let gone = catalog_sync_core::upload::Backend::open(&webdav(server.port, false)).unwrap();
    gone.delete(&files_b[1].0).await.unwrap();
    assert!(!remote.path().join("pods").join(&files_b[1].0).exists());
    let before = relay.bytes();
    let (_, status) = rig.upload(vec![], vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    let resent = relay.bytes() - before;
    assert!((50_000..55_000).contains(&resent), "only the deleted file: {resent}");
    check_files(remote.path(), &files_b);
    let first = relay.bytes();

    // a changed file is sent again, alone
    let store = rig.api.engine().store().clone();
    let item = store.playlist_items(a).unwrap()[1].id;
    let changed = content("changed", 1, 80_000);
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&changed));
    rig.put_file(item, "Show A/episode 01.mp3", &changed, &sha);
    let (_, status) = rig.upload(vec![a], vec!["nas".into()]).await;
    assert_eq!(status, JobStatus::Succeeded);
    let resent = relay.bytes() - first;
    assert!((80_000..100_000).contains(&resent), "only the changed file (and the M3U): {resent}");
    assert_eq!(sha_of(&remote.path().join("pods/Show A/episode 01.mp3")), sha);

    // Show B leaves the target: mirror mode deletes its files and M3U, nothing else
    rig.api.set_playlist_targets(b, vec![]).await.unwrap();
    let (_, status) = rig.upload(vec![], vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    let left = tree(&remote.path().join("pods"));
    assert!(!left.iter().any(|p| p.starts_with("Show B/episode") || p == "Show B.m3u"), "{left:?}");
    assert!(
        left.contains(&"Show B/notes.txt".to_string()) && left.contains(&"foreign.mp3".to_string()),
        "{left:?}"
    );
    check_files(remote.path(), &files_a[..1]);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_upload_loses_nothing_and_resends_nothing_complete() {
    if !have("rclone", "CATALOG_SYNC_REQUIRE_RCLONE") {
        return;
    }
    let remote = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = rclone_webdav(remote.path(), port);
    // throttled: 64 KiB per 3 ms at most, so the test can act while files are on the wire
    let relay = Relay::start(port, Duration::from_millis(3));
    let rig = Rig::new(vec![webdav(relay.port, false)], 2);
    let (a, files) = rig.playlist("Show", 12, 512 * 1024);
    rig.api.set_playlist_targets(a, vec!["nas".into()]).await.unwrap();
    let total: u64 = 12 * 512 * 1024;

    let api = rig.api.clone();
    let run = tokio::spawn(async move {
        let job =
            api.enqueue_upload(catalog_sync_core::store::JobKind::UploadOnly, vec![], vec![]).await.unwrap();
        (job, api.run_until_idle().await.unwrap())
    });
    let mut server = Some(server);
    for _ in 0..6000 {
        if relay.bytes() >= total * 2 / 5 {
            drop(server.take()); // kill -9 and reap
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(server.is_none(), "the upload never got under way: {} bytes", relay.bytes());
    let (job, ran) = run.await.unwrap();
    let status = ran.iter().find(|(j, _)| *j == job).unwrap().1;
    assert_eq!(status, JobStatus::Failed, "files were cut off");
    let store = rig.api.engine().store().clone();
    let done_first = store.uploaded("nas").unwrap();
    assert!(!done_first.is_empty(), "some files were complete before the kill");
    assert!(done_first.len() < 12, "and some were not");

    let server = rclone_webdav(remote.path(), port);
    let before = relay.bytes();
    let (_, status) = rig.upload(vec![], vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    check_files(remote.path(), &files);
    let sent = relay.bytes() - before;
    let missing: u64 =
        12 * 512 * 1024 - done_first.values().filter(|r| r.item.is_some()).map(|r| r.size).sum::<u64>();
    assert!(sent >= missing, "every missing file was sent: {sent} < {missing}");
    // headers, the M3U and the cleanup of temporary files stay far below one file (512 KiB)
    assert!(sent < missing + 64 * 1024, "a complete file was sent again: {sent} bytes for {missing} missing");
    let after = store.uploaded("nas").unwrap();
    for (path, row) in &done_first {
        assert_eq!(after[path].uploaded_ms, row.uploaded_ms, "{path} was sent again");
    }
    assert!(store.temps("nas").unwrap().is_empty(), "no temporary file is still noted");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_upload_finishes_its_running_files_and_resumes_where_it_stopped() {
    if !have("rclone", "CATALOG_SYNC_REQUIRE_RCLONE") {
        return;
    }
    let remote = tempfile::tempdir().unwrap();
    let server = rclone_webdav(remote.path(), free_port());
    let relay = Relay::start(server.port, Duration::from_millis(3));
    let rig = Rig::new(vec![webdav(relay.port, false)], 2);
    let (a, files) = rig.playlist("Show", 12, 512 * 1024);
    rig.api.set_playlist_targets(a, vec!["nas".into()]).await.unwrap();
    let total: u64 = 12 * 512 * 1024;
    let job =
        rig.api.enqueue_upload(catalog_sync_core::store::JobKind::UploadOnly, vec![], vec![]).await.unwrap();
    let api = rig.api.clone();
    let run = tokio::spawn(async move { api.run_until_idle().await.unwrap() });
    let mut paused = false;
    for _ in 0..6000 {
        if relay.bytes() >= total / 4 {
            rig.api.pause(job).await.unwrap();
            paused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(paused, "the upload never got under way");
    let ran = run.await.unwrap();
    assert_eq!(ran.iter().find(|(j, _)| *j == job).unwrap().1, JobStatus::Paused);
    let store = rig.api.engine().store().clone();
    let before = store.uploaded("nas").unwrap();
    assert!(!before.is_empty() && before.len() < 12, "paused part way: {} files", before.len());
    // running files finished (renamed into place): nothing partial is left behind
    assert!(!tree(remote.path()).iter().any(|p| p.ends_with(".csync-part")), "{:?}", tree(remote.path()));
    let detail = rig.api.job_detail(job).await.unwrap();
    assert!(detail.workers.iter().any(|w| w.name == "upload-1" && w.processed > 0), "{:?}", detail.workers);

    rig.api.resume(job).await.unwrap();
    let ran = rig.api.run_until_idle().await.unwrap();
    assert_eq!(ran.iter().find(|(j, _)| *j == job).unwrap().1, JobStatus::Succeeded);
    check_files(remote.path(), &files);
    let after = store.uploaded("nas").unwrap();
    for (path, row) in &before {
        assert_eq!(after[path].uploaded_ms, row.uploaded_ms, "{path} was sent again");
    }
    drop(server);
}
