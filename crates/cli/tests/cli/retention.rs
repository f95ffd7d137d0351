//! `retention`, `clean [--dry-run]` and `keep` end to end (issue 16, part 2): the real binary,
//! a feed served over loopback, a real catalog and library.

use catalog_sync_testkit::{ServerConfig, TestServer};

use super::Cli;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_clean_and_keep_from_the_command_line() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    // episode 1 is the newest; items are numbered in document order
    let feed = server.add_podcast("rt", 3, 12_000);
    let cli = Cli::new();
    let (code, _, stderr) = cli.run(&["-q", "run", feed.as_str()]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(cli.files().0.len(), 3);
    let (code, out, stderr) = cli.run(&["retention", "1", "newest:1"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(out.contains("retention keep newest 1"), "{out}");
    let (code, _, stderr) = cli.run(&["retention", "1", "newest:0"]).await;
    assert_eq!(code, 2, "a rule that deletes everything is refused: {stderr}");

    let (code, out, _) = cli.run(&["clean", "--dry-run"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("would delete 2 files, 24.0 kB freed"), "{out}");
    assert_eq!(cli.files().0.len(), 3, "a dry run deletes nothing");
    let (code, out, _) = cli.run(&["clean"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("deleted item 2 rt episode 2"), "{out}");
    assert!(out.contains("deleted 2 files, 24.0 kB freed"), "{out}");
    assert_eq!(cli.files().0.len(), 1);
    let m3u = std::fs::read_dir(cli.library())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "m3u"))
        .expect("an M3U file");
    let m3u = std::fs::read_to_string(m3u).unwrap();
    assert!(!m3u.contains("episode 2") && !m3u.contains("episode 3"), "refreshed: {m3u}");

    let (_, out, _) = cli.run(&["list", "items"]).await;
    assert!(
        out.lines().any(|l| l.contains("rt episode 3") && l.ends_with("[deleted by retention]")),
        "{out}"
    );
    // deleted items are not downloaded again, until kept
    let (code, _, _) = cli.run(&["-q", "run"]).await;
    assert_eq!(code, 0);
    assert_eq!(cli.files().0.len(), 1, "not downloaded again");
    let (code, out, _) = cli.run(&["keep", "3"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("downloaded again by the next download"), "{out}");
    let (code, _, _) = cli.run(&["-q", "run"]).await;
    assert_eq!(code, 0);
    assert_eq!(cli.files().0.len(), 2, "the kept item is back and stays past the rule");
    let (_, out, _) = cli.run(&["list", "items"]).await;
    assert!(out.lines().any(|l| l.contains("rt episode 3") && l.ends_with(", keep]")), "{out}");
    let (code, out, _) = cli.run(&["keep", "--unkeep", "3"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("no longer kept"), "{out}");
}
