//! Media sent with a `Content-Encoding` although `identity` was asked (issue 12, behaviour 1):
//! against the testkit server forcing `gzip`, `deflate` or `br` on a path, the file under the
//! final name is the decoded media (its sha256 is the server's), a cut transfer resumes over
//! the *encoded* bytes, and a part whose coding no longer matches the response starts over.

use std::time::Duration;

use catalog_sync_core::download::{build_client, part_path, TransferOptions};

use crate::download_policy::fetch;
use catalog_sync_testkit::{Behaviour, Coding, Fault, ServerConfig, TestServer};

fn opts(max_attempts: u32) -> TransferOptions {
    TransferOptions { max_attempts, retry_backoff: Duration::from_millis(10), ..TransferOptions::default() }
}

#[tokio::test]
async fn forced_codings_are_decoded_before_the_file_takes_its_name() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let client = build_client("catalog-sync-tests/0");
    let dir = tempfile::tempdir().unwrap();
    for coding in [Coding::Gzip, Coding::Deflate, Coding::Brotli] {
        let path = format!("/show/{}.mp3", coding.token());
        let media = server.add_media(&path, 300_000);
        server.set_behaviour(&path, Behaviour::Encode { coding, forced: true });
        let dest = dir.path().join(format!("{}.mp3", coding.token()));
        let got =
            fetch(&client, &media.url, &dest, &opts(1)).await.unwrap_or_else(|e| panic!("{coding:?}: {e}"));
        assert_eq!((got.size, &got.sha256_hex), (media.size, &media.sha256_hex), "{coding:?}");
        let on_disk = std::fs::read(&dest).unwrap();
        assert_eq!(on_disk.len() as u64, media.size, "{coding:?}: the file is the decoded media");
        assert!(!part_path(&dest).unwrap().exists());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".mp3"))
            .collect();
        assert!(leftovers.is_empty(), "no part, sidecar or decoded temp left: {leftovers:?}");
    }
}

#[tokio::test]
async fn a_cut_encoded_transfer_resumes_over_the_encoded_bytes() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let client = build_client("catalog-sync-tests/0");
    let dir = tempfile::tempdir().unwrap();
    // generated media barely compresses, so the encoded body is about as long as the media
    let media = server.add_media("/show/cut.mp3", 400_000);
    server.set_behaviour("/show/cut.mp3", Behaviour::Encode { coding: Coding::Gzip, forced: true });
    server.set_fault("/show/cut.mp3", Fault::Reset { after_bytes: 150_000 }, Some(1));
    let dest = dir.path().join("cut.mp3");
    let got = fetch(&client, &media.url, &dest, &opts(2)).await.unwrap();
    assert_eq!(got.sha256_hex, media.sha256_hex);
    assert_eq!(got.attempts, 2);
    assert!(got.resumed_from > 0, "the second attempt kept the encoded prefix");
    let ranges = server.stats().ranges_for("/show/cut.mp3").to_vec();
    assert_eq!(ranges, [format!("bytes={}-", got.resumed_from)], "resumed with a range of encoded bytes");
    assert_eq!(server.stats().from_zero_for("/show/cut.mp3"), 1, "the body was fetched from byte 0 once");
}

#[tokio::test]
async fn a_part_in_another_coding_than_the_response_starts_over() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let client = build_client("catalog-sync-tests/0");
    let dir = tempfile::tempdir().unwrap();
    let media = server.add_media("/show/switch.mp3", 200_000);
    server.set_behaviour("/show/switch.mp3", Behaviour::Encode { coding: Coding::Brotli, forced: true });
    server.set_fault("/show/switch.mp3", Fault::Reset { after_bytes: 50_000 }, Some(1));
    let dest = dir.path().join("switch.mp3");
    let first = fetch(&client, &media.url, &dest, &opts(1)).await.unwrap_err();
    assert!(first.error.is_transient(), "{first}");
    let part = part_path(&dest).unwrap();
    assert!(part.exists(), "the encoded prefix is kept for a resume");
    // The host stops encoding. Its ETag changes with the representation, so If-Range alone
    // would restart; drop the validator from the sidecar to check the coding rule by itself.
    let sidecar = catalog_sync_core::download::transfer::validator_path(&part);
    std::fs::write(&sidecar, "\ncoding=br").unwrap();
    server.clear_behaviour("/show/switch.mp3");
    let got = fetch(&client, &media.url, &dest, &opts(1)).await.unwrap();
    assert_eq!(got.sha256_hex, media.sha256_hex, "identity bytes were never appended to brotli ones");
    assert_eq!(got.resumed_from, 0);
    assert_eq!(server.stats().from_zero_for("/show/switch.mp3"), 2);
}
