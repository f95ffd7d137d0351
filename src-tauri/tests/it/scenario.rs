//! The cross-front scenario (issue 11): the same steps through the desktop's IPC as through the
//! command line (`crates/cli/tests/cli/scenario.rs`), with the same results, because both
//! fronts make the same `Api` calls: add a feed by URL online (imported by content: its items
//! its title is in the catalog at once) and one offline (added as it is), add the first again, enqueue a
//! sync of both (it fails on the offline one), then pause, resume and cancel (none applies to a
//! failed job: the same `conflict` message) and retry (the job is queued again).

use serde_json::{json, Value};

use crate::rig::Rig;

/// A URL nothing listens on: fetching it fails transiently (connection refused).
const OFFLINE_URL: &str = "http://127.0.0.1:9/offline.xml";

/// What both fronts show, step by step.
pub const EXPECTED: [&str; 8] = [
    "add online: playlist 1 \"Podcast scenario\"",
    "add offline: playlist 2 \"http://127.0.0.1:9/offline.xml\"",
    "add again: playlist 1, 0 new",
    "job 1 failed",
    "job 1: pause does not apply to a failed job",
    "job 1: resume does not apply to a failed job",
    "job 1: cancel does not apply to a failed job",
    "job 1: retried",
];

#[test]
fn the_cross_front_scenario_through_the_desktop() {
    let rig = Rig::new();
    let feed = rig.server.add_podcast("scenario", 3, 1_000);
    let mut out = Vec::new();
    let title = |rig: &Rig, id: u64| {
        let page: Value = rig.ok("list_playlists", json!({}));
        page["playlists"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .map(|p| p["title"].as_str().unwrap().to_string())
            .unwrap()
    };
    for (step, url) in [("add online", feed.as_str()), ("add offline", OFFLINE_URL)] {
        let added: Value = rig.ok("add_playlists", json!({ "urls": [url] }));
        let id = added["ids"][0].as_u64().unwrap();
        out.push(format!("{step}: playlist {id} {:?}", title(&rig, id)));
    }
    let again: Value = rig.ok("add_playlists", json!({ "urls": [feed.as_str()] }));
    out.push(format!("add again: playlist {}, {} new", again["ids"][0], again["created"]));
    let job: u64 = rig.ok("enqueue_job", json!({ "kind": "sync_only", "playlistIds": [1, 2] }));
    out.push(format!("job {job} {}", rig.wait_finished(job)));
    for action in ["pause", "resume", "cancel", "retry"] {
        match rig.call::<Value>("job_command", json!({ "jobId": job, "action": action })) {
            Ok(_) => out.push(format!("job {job}: retried")),
            Err(e) => {
                assert_eq!(e["code"], "conflict", "{e}");
                out.push(e["message"].as_str().unwrap().to_string());
            }
        }
    }
    assert_eq!(out, EXPECTED);
}
