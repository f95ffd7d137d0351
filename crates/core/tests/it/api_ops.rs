//! The application API (`catalog_sync_core::api::Api`) without a front: add by URL online
//! (imported by content: the feed's title is known at once) and offline (added as is), enqueue, pause, resume and cancel a queued
//! job, the `conflict` of a command that does not apply, pages of lists, the selection for
//! download, and the settings. [`scenario`] is the scenario the desktop and CLI tests replay
//! through their fronts; its transcript is what every front must show.

use catalog_sync_core::api::{Api, ErrorCode, JobAction, Page, WireError};
use catalog_sync_core::config::Config;
use catalog_sync_core::store::{JobKind, JobStatus};
use catalog_sync_testkit::{ServerConfig, TestServer};

/// A URL nothing listens on: fetching it fails transiently (connection refused).
pub const OFFLINE_URL: &str = "http://127.0.0.1:9/offline.xml";

fn open(dir: &tempfile::TempDir) -> Api {
    let config = Config {
        database: dir.path().join("catalog.redb"),
        library: dir.path().join("library"),
        fyyd_enabled: false,
        ..Config::default()
    };
    Api::open_system(config, Some(dir.path().join("config.toml"))).unwrap()
}

/// The shared scenario over `api` (no engine running): lines of what each step returned.
pub async fn scenario(api: &Api, online_url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let added = api.add_playlists(vec![online_url.to_string()]).await.unwrap();
    let p = api.playlist(added.ids[0]).await.unwrap();
    out.push(format!("add online: ids {:?} created {} title {:?}", added.ids, added.created, p.title));
    let added = api.add_playlists(vec![OFFLINE_URL.to_string()]).await.unwrap();
    let p = api.playlist(added.ids[0]).await.unwrap();
    out.push(format!("add offline: ids {:?} created {} title {:?}", added.ids, added.created, p.title));
    let again = api.add_playlists(vec![online_url.to_string()]).await.unwrap();
    out.push(format!("add again: ids {:?} created {}", again.ids, again.created));
    let job = api.enqueue(JobKind::SyncOnly, vec![1, 2]).await.unwrap();
    out.push(format!("enqueue: job {job}"));
    let line = |r: Result<catalog_sync_core::api::CommandOutcome, WireError>| match r {
        Ok(o) => format!("{} -> {}", o.before, o.after),
        Err(e) => format!("{:?}: {}", e.code, e.message),
    };
    for action in
        [JobAction::Pause, JobAction::Pause, JobAction::Resume, JobAction::Cancel, JobAction::Resume]
    {
        out.push(format!("{action:?}: {}", line(api.job_command(job, action).await)));
    }
    let e = api.enqueue(JobKind::SyncOnly, vec![99]).await.unwrap_err();
    out.push(format!("enqueue unknown: {:?}: {}", e.code, e.message));
    out
}

/// What [`scenario`] shows on every front.
pub fn expected_transcript() -> Vec<String> {
    [
        "add online: ids [1] created 1 title \"Podcast api\"",
        "add offline: ids [2] created 1 title \"http://127.0.0.1:9/offline.xml\"",
        "add again: ids [1] created 0",
        "enqueue: job 1",
        "Pause: queued -> paused",
        "Pause: Conflict: job 1: pause does not apply to a paused job",
        "Resume: paused -> queued",
        "Cancel: queued -> cancelled",
        "Resume: Conflict: job 1: resume does not apply to a cancelled job",
        "enqueue unknown: InvalidInput: playlist 99 is not in the catalog",
    ]
    .map(String::from)
    .to_vec()
}

#[tokio::test]
async fn the_scenario_through_the_api() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let feed = server.add_podcast("api", 3, 1_000);
    let dir = tempfile::tempdir().unwrap();
    let api = open(&dir);
    assert_eq!(scenario(&api, feed.as_str()).await, expected_transcript());
    let detail = api.job_detail(1).await.unwrap();
    assert_eq!(detail.job.status, JobStatus::Cancelled);
}

#[tokio::test]
async fn lists_page_and_selection_and_settings() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let api = open(&dir);
    for name in ["a", "b", "c"] {
        let feed = server.add_podcast(name, 2, 1_000);
        api.add_playlists(vec![feed.to_string()]).await.unwrap();
    }
    api.enqueue(JobKind::SyncOnly, vec![]).await.unwrap();
    let ran = api.run_until_idle().await.unwrap();
    assert_eq!(ran, vec![(1, JobStatus::Succeeded)]);
    let all = api.list_playlists(Page::default()).await.unwrap();
    let first = api.list_playlists(Page::first(1)).await.unwrap();
    let page = api.list_playlists(Page { after: first.next.clone(), limit: Some(1) }).await.unwrap();
    assert_eq!((all.playlists.len(), all.total, all.next.as_deref()), (3, 3, None));
    assert_eq!((page.playlists.len(), page.playlists[0].id), (1, all.playlists[1].id));
    let items = api.list_items(1, Page::first(1)).await.unwrap();
    assert_eq!((items.items.len(), items.total), (1, 2));
    let rest = api.list_items(1, Page { after: items.next, limit: None }).await.unwrap();
    assert_eq!((rest.items.len(), rest.next), (1, None));
    let e = api.list_playlists(Page { after: Some("x".into()), limit: None }).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    let e = api.list_items(42, Page::default()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);

    let change = api.set_wanted(vec![1, 2], true, false).await.unwrap();
    assert_eq!((change.changed, change.deleted_files), (4, 0));
    assert_eq!(api.playlist(1).await.unwrap().wanted_count, 2);
    assert_eq!(api.set_wanted(vec![1], false, false).await.unwrap().changed, 2);

    let mut settings = api.settings();
    settings.parallel_downloads = 7;
    assert_eq!(api.save_settings(settings).await.unwrap().parallel_downloads, 7);
    assert_eq!(api.config().parallel_downloads, 7);
    assert_eq!(Config::load(&dir.path().join("config.toml")).unwrap().parallel_downloads, 7);
    settings = api.settings();
    settings.name_template = "{title}".into();
    assert_eq!(api.save_settings(settings).await.err().map(|e| e.code), Some(ErrorCode::InvalidInput));
}

#[tokio::test]
async fn the_driver_runs_queued_jobs_and_shutdown_waits_for_it() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let feed = server.add_podcast("drive", 2, 2_000);
    let dir = tempfile::tempdir().unwrap();
    let api = open(&dir);
    let mut events = api.take_events().unwrap();
    assert!(api.take_events().is_none(), "one stream");
    let driver = tokio::spawn({
        let api = api.clone();
        async move { api.drive().await }
    });
    api.add_playlists(vec![feed.to_string()]).await.unwrap();
    let job = api.enqueue(JobKind::SyncDownload, vec![]).await.unwrap();
    let status = loop {
        match events.recv().await.unwrap() {
            catalog_sync_core::jobs::Event::JobFinished { job: j, status } if j == job => break status,
            _ => {}
        }
    };
    assert_eq!(status, JobStatus::Succeeded);
    assert_eq!(api.task_center().await.unwrap().summary.running, 0);
    api.shutdown(std::time::Duration::from_secs(10)).await;
    assert!(
        driver.is_finished() || tokio::time::timeout(std::time::Duration::from_secs(1), driver).await.is_ok()
    );
}
