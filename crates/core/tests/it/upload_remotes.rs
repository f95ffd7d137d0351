//! Uploads to SFTP (`rclone serve sftp` with a key the test makes, reached through OpenDAL and
//! the system's `ssh`) and to S3 (moto's server): every file arrives with its SHA-256, a second
//! run sends nothing, mirror mode deletes only our own files, and the connection test reports
//! success or the server's refusal. Each part skips with a printed reason when its server or
//! client is not installed (and fails instead when `CATALOG_SYNC_REQUIRE_RCLONE` /
//! `CATALOG_SYNC_REQUIRE_MOTO` is set, as in CI).

use std::process::{Command, Stdio};

use catalog_sync_core::config::{Remote, Secret, UploadTarget};
use catalog_sync_core::store::JobStatus;

use crate::upload_common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sftp_target_through_openssh() {
    if !have("rclone", "CATALOG_SYNC_REQUIRE_RCLONE") || !have("ssh-keygen", "CATALOG_SYNC_REQUIRE_RCLONE") {
        return;
    }
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("id_ed25519");
    let made =
        Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(&key).status().unwrap();
    assert!(made.success());
    let remote = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new("rclone")
        .args(["serve", "sftp", "--addr", &format!("127.0.0.1:{port}"), "--config", "/dev/null"])
        .arg("--authorized-keys")
        .arg(key.with_extension("pub"))
        .arg(remote.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_listening(port, &mut child);
    let _server = Server { child, port };
    let target = UploadTarget {
        name: "ssh".into(),
        remote: Remote::Sftp {
            endpoint: format!("ssh://tester@127.0.0.1:{port}"),
            root: "/".into(),
            user: Some("tester".into()),
            key: Some(key.clone()),
            known_hosts: Some("accept".into()),
        },
        mirror: true,
        m3u_crlf: false,
    };
    let rig = Rig::new(vec![target], 2);
    let test = rig.api.test_target("ssh".into()).await.unwrap();
    assert!(test.ok, "connection test: {}", test.message);
    let (a, files) = rig.playlist("Show", 3, 200_000);
    rig.api.set_playlist_targets(a, vec!["ssh".into()]).await.unwrap();
    std::fs::write(remote.path().join("foreign.txt"), b"not ours").unwrap();
    let (_, status) = rig.upload(vec![], vec![]).await;
    let store = rig.api.engine().store().clone();
    assert_eq!(status, JobStatus::Succeeded, "{:?}", rig.api.job_detail(1).await.map(|d| format!("{d:?}")));
    for (rel, sha) in &files {
        assert_eq!(&sha_of(&remote.path().join(rel)), sha, "{rel}");
    }
    assert!(remote.path().join("Show.m3u").is_file());
    let recorded = store.uploaded("ssh").unwrap();
    let (_, status) = rig.upload(vec![], vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    assert_eq!(store.uploaded("ssh").unwrap(), recorded, "nothing sent again");
    assert!(!tree(remote.path()).iter().any(|p| p.ends_with(".csync-part")));
    assert!(remote.path().join("foreign.txt").is_file());
}

/// `moto_server` on a free port.
fn moto() -> Option<Server> {
    if !have("moto_server", "CATALOG_SYNC_REQUIRE_MOTO") {
        return None;
    }
    let port = free_port();
    let mut child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_listening(port, &mut child);
    Some(Server { child, port })
}

fn s3_pending(port: u16) -> catalog_sync_core::upload::s3_pending::PendingUploads {
    let endpoint = format!("http://127.0.0.1:{port}");
    catalog_sync_core::upload::s3_pending::PendingUploads::new(
        &endpoint,
        "pods",
        "us-east-1",
        "/library",
        "testing",
        "testing",
    )
    .unwrap()
}

fn s3(port: u16, secret: &str) -> UploadTarget {
    UploadTarget {
        name: "bucket".into(),
        remote: Remote::S3 {
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: "pods".into(),
            region: Some("us-east-1".into()),
            root: "/library".into(),
            access_key_id: Some("testing".into()),
            secret_access_key: Some(Secret::new(secret)),
        },
        mirror: true,
        m3u_crlf: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_target_with_multipart_and_mirror() {
    let Some(server) = moto() else { return };
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{}/pods", server.port);
    assert!(http.put(&base).send().await.unwrap().status().is_success(), "bucket created");
    let foreign = format!("{base}/library/foreign.mp3");
    assert!(http.put(&foreign).body("not ours").send().await.unwrap().status().is_success());

    let rig = Rig::new(vec![s3(server.port, "testing")], 2);
    let test = rig.api.test_target("bucket".into()).await.unwrap();
    assert!(test.ok, "connection test: {}", test.message);
    let (a, files) = rig.playlist("Show", 2, 100_000);
    // one file above the 8 MiB part size: a multipart upload
    let (big, big_files) = rig.playlist("Big", 1, 9 << 20);
    for p in [a, big] {
        rig.api.set_playlist_targets(p, vec!["bucket".into()]).await.unwrap();
    }
    // read and write with the credentials (objects are private)
    let op = opendal::Operator::new(
        opendal::services::S3::default()
            .endpoint(&format!("http://127.0.0.1:{}", server.port))
            .bucket("pods")
            .region("us-east-1")
            .root("/library")
            .access_key_id("testing")
            .secret_access_key("testing")
            .disable_config_load()
            .disable_ec2_metadata(),
    )
    .unwrap()
    .finish();
    // a run that crashed while sending the big file: its key noted, a multipart upload begun
    let big_key = &big_files[0].0;
    let store = rig.api.engine().store().clone();
    store.begin_temp("bucket", big_key, 1).unwrap();
    let begun = http.post(format!("{base}/library/{big_key}?uploads")).send().await.unwrap();
    assert!(begun.status().is_success(), "CreateMultipartUpload: {}", begun.status());
    let pending = s3_pending(server.port);
    assert_eq!(pending.pending(big_key).await.unwrap().len(), 1, "a multipart upload was left pending");

    let (_, status) = rig.upload(vec![], vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    assert!(pending.pending(big_key).await.unwrap().is_empty(), "the pending upload was aborted");
    assert!(store.temps("bucket").unwrap().is_empty(), "nothing left noted");
    for (rel, sha) in files.iter().chain(&big_files) {
        let body = op.read(rel).await.unwrap().to_vec();
        assert_eq!(&hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body)), sha, "{rel}");
    }
    let recorded = store.uploaded("bucket").unwrap();
    assert_eq!(recorded.len(), 3 + 2, "3 files and 2 M3U");
    let (_, status) = rig.upload(vec![], vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    assert_eq!(store.uploaded("bucket").unwrap(), recorded, "nothing sent again");

    rig.api.set_playlist_targets(big, vec![]).await.unwrap();
    let (_, status) = rig.upload(vec![], vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    let gone = op.stat("Big/episode 00.mp3").await.unwrap_err();
    assert_eq!(gone.kind(), opendal::ErrorKind::NotFound, "ours went");
    let kept = op.read("foreign.mp3").await.unwrap().to_vec();
    assert_eq!(kept, b"not ours", "the foreign object stayed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_test_reports_a_refusal() {
    // nothing listens on port 9: the WebDAV probe fails and says so, without an error
    let target = UploadTarget {
        name: "down".into(),
        remote: Remote::Webdav {
            endpoint: "http://127.0.0.1:9".into(),
            root: "/".into(),
            username: None,
            password: None,
        },
        mirror: false,
        m3u_crlf: false,
    };
    let rig = Rig::new(vec![target], 1);
    let test = rig.api.test_target("down".into()).await.unwrap();
    assert!(!test.ok);
    assert!(!test.message.is_empty());
    let e = rig.api.test_target("nope".into()).await.unwrap_err();
    assert_eq!(e.code, catalog_sync_core::api::ErrorCode::NotFound);
}
