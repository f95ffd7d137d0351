//! The cross-front scenario (issue 11) through the command line: the same steps and results as
//! the desktop's `src-tauri/tests/it/scenario.rs`, because both fronts make the same `Api`
//! calls. `add` imports by content like the desktop (the feed's title is in the catalog at
//! once) and falls back to the URL as it is when offline.

use catalog_sync_testkit::{ServerConfig, TestServer};

use super::Cli;

/// A URL nothing listens on: fetching it fails transiently (connection refused).
const OFFLINE_URL: &str = "http://127.0.0.1:9/offline.xml";

/// What both fronts show, step by step (the desktop test has the same list).
const EXPECTED: [&str; 8] = [
    "add online: playlist 1 \"Podcast scenario\"",
    "add offline: playlist 2 \"http://127.0.0.1:9/offline.xml\"",
    "add again: playlist 1, 0 new",
    "job 1 failed",
    "job 1: pause does not apply to a failed job",
    "job 1: resume does not apply to a failed job",
    "job 1: cancel does not apply to a failed job",
    "job 1: retried",
];

/// The title a `list` line shows for playlist `id` (the column after the id).
fn title_of(list: &str, id: u64) -> String {
    let line = list.lines().find(|l| l.split_whitespace().next() == Some(&id.to_string())).unwrap();
    line[7..57].trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cross_front_scenario_through_the_cli() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let feed = server.add_podcast("scenario", 3, 1_000);
    let cli = Cli::new();
    let mut out = Vec::new();
    for (step, url) in [("add online", feed.as_str()), ("add offline", OFFLINE_URL)] {
        let (code, text, err) = cli.run(&["add", url]).await;
        assert_eq!(code, 0, "{text}{err}");
        assert!(text.starts_with("added playlist "), "{text}");
        let id: u64 = text.split_whitespace().nth(2).unwrap().parse().unwrap();
        let (_, list, _) = cli.run(&["list"]).await;
        out.push(format!("{step}: playlist {id} {:?}", title_of(&list, id)));
    }
    let (_, text, _) = cli.run(&["add", feed.as_str()]).await;
    assert!(text.starts_with("already in the catalog: playlist 1 "), "{text}");
    out.push("add again: playlist 1, 0 new".to_string());
    let (code, _, _) = cli.run(&["-q", "sync"]).await;
    assert_eq!(code, 1, "the offline playlist fails");
    let (_, status, _) = cli.run(&["status"]).await;
    assert!(status.contains("job 1    sync_only      failed"), "{status}");
    out.push("job 1 failed".to_string());
    for action in ["pause", "resume", "cancel", "retry"] {
        let (code, text, err) = cli.run(&[action, "1"]).await;
        assert_eq!(code, 0, "{text}{err}");
        out.push(match text.trim() {
            "job 1: failed -> queued" => "job 1: retried".to_string(),
            other => other.to_string(),
        });
    }
    assert_eq!(out, EXPECTED);
}
