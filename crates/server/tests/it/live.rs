//! Live events over SSE: a subscriber gets the current task center at once, then the job's
//! events by the desktop's names; a second subscriber opened mid-job sees the same state;
//! shutdown ends the streams and the engine, and a stopped transfer resumes at the next start.

use futures_util::StreamExt;

use catalog_sync_testkit::TestServer;

use crate::rig::{Rig, TOKEN};

/// An SSE subscription: yields `(event, data)` pairs.
struct Sse {
    stream: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

impl Sse {
    async fn open(rig: &Rig) -> Sse {
        let resp = rig.client().get(rig.url("/api/events")).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        Sse { stream: Box::pin(resp.bytes_stream()), buf: String::new() }
    }

    /// The next event, `None` when the stream ended.
    async fn next(&mut self) -> Option<(String, serde_json::Value)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut name = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                match name {
                    Some(n) => return Some((n, serde_json::from_str(&data).unwrap())),
                    None => continue, // a keep-alive comment
                }
            }
            match self.stream.next().await {
                Some(Ok(chunk)) => self.buf.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }

    /// Skips to the first event named `name`.
    async fn until(&mut self, name: &str) -> serde_json::Value {
        while let Some((n, v)) = self.next().await {
            if n == name {
                return v;
            }
        }
        panic!("the stream ended before {name}");
    }
}

#[tokio::test]
async fn subscribers_get_the_task_center_then_the_jobs_events() {
    let server = TestServer::start(Default::default()).await.unwrap();
    server.set_rate_limit(Some(400_000));
    let feed = server.add_podcast("live", 2, 200_000);
    let rig = Rig::start().await;
    let mut first = Sse::open(&rig).await;
    let (name, tc) = first.next().await.unwrap();
    assert_eq!(name, "task-center-changed");
    assert!(tc["task_center"]["jobs"].is_array(), "{tc}");
    let id = rig.api.add_playlists(vec![feed.to_string()]).await.unwrap().ids[0];
    let job = rig.api.enqueue(catalog_sync_core::api::JobKind::SyncDownload, vec![id]).await.unwrap();
    let started = first.until("job-started").await;
    assert_eq!((started["job"].as_u64(), started["kind"].as_str()), (Some(job), Some("sync_download")));
    let progress = first.until("download-progress").await;
    assert!(progress["items"][0]["downloaded"].as_u64().is_some(), "{progress}");
    // a second window mid-job: the current state at once
    let mut second = Sse::open(&rig).await;
    let (name, tc) = second.next().await.unwrap();
    assert_eq!(name, "task-center-changed");
    let row = &tc["task_center"]["jobs"][0];
    assert_eq!((row["id"].as_u64(), row["status"].as_str()), (Some(job), Some("running")), "{tc}");
    for sse in [&mut first, &mut second] {
        let done = sse.until("job-finished").await;
        assert_eq!((done["job"].as_u64(), done["status"].as_str()), (Some(job), Some("succeeded")));
    }
    rig.stop().await;
    assert!(first.next().await.is_none(), "shutdown ends the stream");
}

#[tokio::test]
async fn shutdown_stops_transfers_and_the_part_resumes_at_the_next_start() {
    let server = TestServer::start(Default::default()).await.unwrap();
    server.set_rate_limit(Some(200_000));
    let feed = server.add_podcast("stop", 1, 2_000_000);
    let rig = Rig::start().await;
    let mut sse = Sse::open(&rig).await;
    let id = rig.api.add_playlists(vec![feed.to_string()]).await.unwrap().ids[0];
    let job = rig.api.enqueue(catalog_sync_core::api::JobKind::SyncDownload, vec![id]).await.unwrap();
    loop {
        let p = sse.until("download-progress").await;
        if p["items"][0]["downloaded"].as_u64().unwrap_or(0) > 300_000 {
            break;
        }
    }
    let dir = rig.stop_keeping_dir().await;
    let dir_path = dir.path().to_path_buf();
    let parts: Vec<_> =
        walk(&dir_path).into_iter().filter(|p| p.extension().is_some_and(|e| e == "part")).collect();
    assert_eq!(parts.len(), 1, "the partial file stays");
    let kept = std::fs::metadata(&parts[0]).unwrap().len();
    assert!(kept > 0);
    // the next start resumes it
    let rig = Rig::in_dir(dir, |_| {}).await;
    crate::auth::wait_until_ended(&rig, job).await;
    let detail = rig.api.job_detail(job).await.unwrap();
    assert_eq!(detail.job.status, catalog_sync_core::api::JobStatus::Succeeded);
    assert!(walk(rig.dir.path()).iter().all(|p| p.extension().is_none_or(|e| e != "part")));
    rig.stop().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
