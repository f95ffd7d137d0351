//! The commands end to end through the IPC of the mock runtime: import an OPML served over
//! loopback, sync and download two playlists, read the task center and a job's detail, mark
//! wanted, pause and resume, settings, covers as `data:` URLs, and the wire errors the UI
//! branches on.

use base64::Engine as _;
use serde_json::{json, Value};

use crate::rig::Rig;

/// The rows of a page (`PlaylistPage`, `ItemPage`) under `field`.
fn page(p: Value, field: &str) -> Vec<Value> {
    serde_json::from_value(p[field].clone()).expect("a page")
}

fn two_podcasts(rig: &Rig, episodes: usize, size: u64) -> Vec<u64> {
    let a = rig.server.add_podcast("alpha", episodes, size);
    let b = rig.server.add_podcast("beta", episodes, size);
    let opml = rig.server.add_opml("/subs.opml", &[a, b]);
    let out: Value = rig.ok("import_file", json!({ "path": opml.as_str() }));
    assert_eq!(out["subscription_list"], true);
    assert_eq!(out["created"], 2);
    out["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect()
}

#[test]
fn import_sync_download_then_views_show_files_on_disk() {
    let rig = Rig::new();
    let ids = two_podcasts(&rig, 3, 20_000);
    let before: Vec<Value> = page(rig.ok("list_playlists", json!({})), "playlists");
    assert_eq!(before.len(), 2);
    assert_eq!(before[0]["item_count"], 0, "not synced yet");

    let job: u64 = rig.ok("enqueue_job", json!({ "kind": "sync_download", "playlistIds": ids }));
    assert_eq!(rig.wait_finished(job), "succeeded");

    let playlists: Vec<Value> = page(rig.ok("list_playlists", json!({})), "playlists");
    for p in &playlists {
        assert_eq!(
            (p["item_count"].as_u64(), p["downloaded_count"].as_u64(), p["failed_count"].as_u64()),
            (Some(3), Some(3), Some(0)),
            "{p}"
        );
        assert_eq!(p["format"], "rss");
        assert!(p["last_sync_ms"].as_i64().unwrap() > 0);
    }
    let items: Vec<Value> = page(rig.ok("list_items", json!({ "playlistId": ids[0] })), "items");
    assert_eq!(items.len(), 3);
    for item in &items {
        assert_eq!(item["status"], "downloaded", "{item}");
        assert_eq!(item["size_bytes"], 20_000);
        let path = rig.dir.path().join("library").join(item["file_path"].as_str().unwrap());
        assert_eq!(std::fs::metadata(&path).map(|m| m.len()).ok(), Some(20_000), "{}", path.display());
    }

    let tc: Value = rig.ok("task_center", json!({}));
    let row = &tc["jobs"][0];
    assert_eq!(
        (row["id"].as_u64(), row["status"].as_str(), row["kind"].as_str()),
        (Some(job), Some("succeeded"), Some("sync_download"))
    );
    assert_eq!(tc["summary"]["running"], 0);

    let detail: Value = rig.ok("job_detail", json!({ "jobId": job }));
    let stages = detail["stages"].as_array().unwrap();
    assert_eq!(stages.iter().map(|s| s["kind"].as_str().unwrap()).collect::<Vec<_>>(), ["sync", "download"]);
    assert_eq!(
        (stages[0]["done"].as_u64(), stages[1]["done"].as_u64(), stages[1]["total"].as_u64()),
        (Some(2), Some(6), Some(6))
    );
    let downloads: Vec<&Value> =
        detail["items"].as_array().unwrap().iter().filter(|i| i["stage"] == 1).collect();
    assert_eq!(downloads.len(), 6);
    assert!(
        downloads.iter().all(|i| i["status"] == "done"
            && i["bytes"] == 20_000
            && i["title"].as_str().unwrap().contains("episode")),
        "{downloads:?}"
    );
    assert_eq!(detail["runs"][0]["id"], format!("job-{job}-run-1"));
    assert_eq!(detail["runs"][0]["outcome"], "succeeded");
    assert_eq!(detail["runs"][0]["steps"].as_array().unwrap().len(), 2);
    assert!(!detail["log"].as_array().unwrap().is_empty());
    let workers = detail["workers"].as_array().unwrap();
    assert!(workers.iter().any(|w| w["name"].as_str().unwrap().starts_with("download-")), "{workers:?}");

    // events: progress is cumulative per item; the task center arrives whole, versioned, and
    // its last state before the job ended already showed the job
    let progress = rig.progress.lock().unwrap().clone();
    let mut last: std::collections::HashMap<u64, u64> = Default::default();
    for batch in &progress {
        for p in &batch.items {
            let before = last.insert(p.item, p.downloaded).unwrap_or(0);
            assert!(p.downloaded >= before && p.downloaded <= 20_000, "{p:?} after {before}");
        }
    }
    let shown_done = |tcs: &[catalog_sync_desktop::events::TaskCenterChanged]| {
        tcs.iter().any(|t| {
            t.task_center
                .jobs
                .iter()
                .any(|j| j.id == job && serde_json::to_value(j.status).unwrap() == "succeeded")
        })
    };
    let tcs = rig.wait_for(|| {
        let tcs = rig.task_centers.lock().unwrap().clone();
        shown_done(&tcs).then_some(tcs)
    });
    assert!(tcs.windows(2).all(|w| w[0].version < w[1].version), "versions increase");

    let out = rig.dir.path().join("export.opml");
    let _: () = rig.ok("export_opml", json!({ "path": out.to_str().unwrap() }));
    let xml = std::fs::read_to_string(&out).unwrap();
    assert!(xml.contains("/alpha/feed.xml") && xml.contains("/beta/feed.xml"), "{xml}");
}

#[test]
fn adding_an_opml_url_adds_its_feeds_and_a_dead_url_is_refused() {
    let rig = Rig::new();
    let a = rig.server.add_podcast("alpha", 1, 100);
    let b = rig.server.add_podcast("beta", 1, 100);
    let opml = rig.server.add_opml("/subs.opml", &[a.clone(), b]);
    let out: Value = rig.ok("add_playlists", json!({ "urls": [opml.as_str(), a.as_str()] }));
    assert_eq!(out["created"], 2, "{out}");
    assert_eq!(out["ids"].as_array().unwrap().len(), 3, "alpha is named twice");
    let playlists: Vec<Value> = page(rig.ok("list_playlists", json!({})), "playlists");
    assert_eq!(
        playlists.iter().map(|p| p["title"].as_str().unwrap()).collect::<Vec<_>>(),
        ["/alpha/feed.xml", "/beta/feed.xml"]
    );
    let e = rig
        .call::<Value>("add_playlists", json!({ "urls": [rig.server.url("/nothing.xml").as_str()] }))
        .unwrap_err();
    assert_eq!(e["code"], "not_found", "{e}");
    let offline = "http://127.0.0.1:9/feed.xml";
    let out: Value = rig.ok("add_playlists", json!({ "urls": [offline] }));
    assert_eq!(out["created"], 1, "an unreachable server is added for a later sync: {out}");
}

#[test]
fn wanted_marks_count_until_downloaded() {
    let rig = Rig::new();
    let ids = two_podcasts(&rig, 2, 1_000);
    let job: u64 = rig.ok("enqueue_job", json!({ "kind": "sync_only", "playlistIds": [] }));
    assert_eq!(rig.wait_finished(job), "succeeded");
    let changed: u32 = rig.ok("set_wanted", json!({ "playlistIds": [ids[1]], "wanted": true }));
    assert_eq!(changed, 2);
    let playlists: Vec<Value> = page(rig.ok("list_playlists", json!({})), "playlists");
    let wanted: Vec<u64> = playlists.iter().map(|p| p["wanted_count"].as_u64().unwrap()).collect();
    assert_eq!(wanted, [0, 2]);
    let items: Vec<Value> = page(rig.ok("list_items", json!({ "playlistId": ids[1] })), "items");
    assert!(items.iter().all(|i| i["wanted"] == true && i["status"] == "not_downloaded"), "{items:?}");
    let job: u64 = rig.ok("enqueue_job", json!({ "kind": "download_only", "playlistIds": [ids[1]] }));
    assert_eq!(rig.wait_finished(job), "succeeded");
    let playlists: Vec<Value> = page(rig.ok("list_playlists", json!({})), "playlists");
    assert_eq!(playlists[1]["wanted_count"], 0, "downloaded items are no longer waiting");
    let changed: u32 = rig.ok("set_wanted", json!({ "playlistIds": [ids[1]], "wanted": false }));
    assert_eq!(changed, 2);
}

#[test]
fn pause_all_then_resume_all_finishes_the_job() {
    let rig = Rig::new();
    let ids = two_podcasts(&rig, 3, 200_000);
    let job: u64 = rig.ok("enqueue_job", json!({ "kind": "sync_only", "playlistIds": ids }));
    assert_eq!(rig.wait_finished(job), "succeeded");
    rig.server.set_rate_limit(Some(100_000));
    let job: u64 = rig.ok("enqueue_job", json!({ "kind": "download_only", "playlistIds": ids }));
    rig.wait_started(job);
    let paused: u32 = rig.ok("pause_all", json!({}));
    assert_eq!(paused, 1);
    assert_eq!(rig.wait_finished(job), "paused");
    let detail: Value = rig.ok("job_detail", json!({ "jobId": job }));
    assert_eq!(detail["job"]["status"], "paused");
    assert_eq!(detail["job"]["can_resume"], true);
    rig.server.set_rate_limit(None);
    let resumed: u32 = rig.ok("resume_all", json!({}));
    assert_eq!(resumed, 1);
    assert_eq!(rig.wait_finished(job), "succeeded");
    let playlists: Vec<Value> = page(rig.ok("list_playlists", json!({})), "playlists");
    assert!(playlists.iter().all(|p| p["downloaded_count"] == 3), "{playlists:?}");
}

#[test]
fn wire_errors_carry_codes_the_ui_branches_on() {
    let rig = Rig::new();
    let e = rig.call::<Value>("list_items", json!({ "playlistId": 999 })).unwrap_err();
    assert_eq!(e["code"], "not_found", "{e}");
    assert!(e["message"].as_str().unwrap().contains("999"));
    let e =
        rig.call::<Value>("enqueue_job", json!({ "kind": "sync_only", "playlistIds": [42] })).unwrap_err();
    assert_eq!(e["code"], "invalid_input", "{e}");
    let e = rig.call::<Value>("job_detail", json!({ "jobId": 7 })).unwrap_err();
    assert_eq!(e["code"], "not_found", "{e}");
    let missing = rig.dir.path().join("missing.opml");
    let e = rig.call::<Value>("import_file", json!({ "path": missing.to_str().unwrap() })).unwrap_err();
    assert_eq!(e["code"], "io", "{e}");
    let page =
        rig.server.add_feed("/page.html", b"<html><body>not a feed</body></html>".to_vec(), "text/html");
    let e = rig.call::<Value>("import_file", json!({ "path": page.as_str() })).unwrap_err();
    assert_eq!(e["code"], "unparsable", "{e}");
    let gone = rig.server.url("/gone.xml");
    let e = rig.call::<Value>("import_file", json!({ "path": gone.as_str() })).unwrap_err();
    assert_eq!(e["code"], "not_found", "{e}");

    let ids: Value =
        rig.ok("add_playlists", json!({ "urls": [rig.server.add_podcast("solo", 1, 10).as_str()] }));
    let job: u64 = rig.ok("enqueue_job", json!({ "kind": "sync_only", "playlistIds": ids["ids"] }));
    assert_eq!(rig.wait_finished(job), "succeeded");
    let e = rig.call::<Value>("job_command", json!({ "jobId": job, "action": "resume" })).unwrap_err();
    assert_eq!(e["code"], "conflict", "{e}");
}

#[test]
fn settings_round_trip_through_the_config_file() {
    let rig = Rig::new();
    let mut s: Value = rig.ok("get_settings", json!({}));
    assert_eq!(s["parallel_downloads"], 8, "the default");
    s["parallel_downloads"] = json!(12);
    s["auto_sync_hours"] = json!(12);
    s["podcastindex_key"] = json!("key-123");
    let saved: Value = rig.ok("save_settings", json!({ "settings": s }));
    assert_eq!(saved["parallel_downloads"], 12);
    let file = std::fs::read_to_string(rig.dir.path().join("config/config.toml")).unwrap();
    assert!(file.contains("parallel_downloads = 12") && file.contains("auto_sync_hours = 12"), "{file}");
    let again: Value = rig.ok("get_settings", json!({}));
    assert_eq!(
        (again["auto_sync_hours"].as_u64(), again["podcastindex_key"].as_str()),
        (Some(12), Some("key-123"))
    );

    s["name_template"] = json!("{title}");
    let e = rig.call::<Value>("save_settings", json!({ "settings": s })).unwrap_err();
    assert_eq!(e["code"], "invalid_input", "{e}");
    let info: Value = rig.ok("app_info", json!({}));
    assert!(info["database"].as_str().unwrap().ends_with("catalog.redb"));
}

#[test]
fn capabilities_grant_the_commands_to_the_main_window_only() {
    let rig = Rig::new();
    let _: Vec<Value> = page(rig.ok("list_playlists", json!({})), "playlists");
    let other = rig.window("other");
    let denied = rig.call_from::<Value>(&other, "list_playlists", json!({})).unwrap_err();
    assert!(denied.as_str().unwrap_or_default().contains("not allowed"), "{denied}");
    let unknown = rig.call::<Value>("plugin:fs|read_file", json!({ "path": "/etc/passwd" })).unwrap_err();
    assert!(unknown.as_str().is_some(), "{unknown}");
}

#[test]
fn covers_come_as_data_urls_from_the_art_cache() {
    use catalog_sync_testkit::TestImage;
    let rig = Rig::new();
    rig.server.add_image("/art/cover.png", TestImage::Png);
    rig.server.add_image("/art/ep.jpg", TestImage::Jpeg);
    rig.server.add_feed("/art/page.jpg", b"<html><body>no</body></html>".to_vec(), "image/jpeg");
    let xml = format!(
        "<rss version=\"2.0\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\"><channel>\
         <title>Covers</title><itunes:image href=\"{}\"/>\
         <item><guid>a</guid><title>a</title><itunes:image href=\"/art/ep.jpg\"/></item>\
         <item><guid>b</guid><title>b</title><itunes:image href=\"/art/page.jpg\"/></item>\
         <item><guid>c</guid><title>c</title></item></channel></rss>",
        rig.server.url("/art/cover.png")
    );
    let feed = rig.server.add_feed("/covers.xml", xml.into_bytes(), "application/rss+xml");
    let out: Value = rig.ok("add_playlists", json!({ "urls": [feed.as_str()] }));
    let id = out["ids"][0].as_u64().unwrap();
    let job: u64 = rig.ok("enqueue_job", json!({ "kind": "sync_only", "playlistIds": [id] }));
    assert_eq!(rig.wait_finished(job), "succeeded");

    let playlists: Vec<Value> = page(rig.ok("list_playlists", json!({})), "playlists");
    assert_eq!(playlists[0]["has_image"], true);
    let cover: Option<String> = rig.ok("playlist_art", json!({ "playlistId": id }));
    let png = base64::engine::general_purpose::STANDARD.encode(TestImage::Png.bytes());
    assert_eq!(cover, Some(format!("data:image/png;base64,{png}")));
    let items: Vec<Value> = page(rig.ok("list_items", json!({ "playlistId": id })), "items");
    let art: Vec<Option<String>> = items
        .iter()
        .map(|i| rig.ok::<Option<String>>("item_art", json!({ "itemId": i["id"] })))
        .map(|a| a.map(|u| u[..u.find(';').unwrap()].to_string()))
        .collect();
    assert_eq!(art, [Some("data:image/jpeg".to_string()), None, None]);
    assert_eq!(
        items.iter().map(|i| i["has_image"].as_bool().unwrap()).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert_eq!(rig.server.stats().requests_for("/art/page.jpg"), 1, "a refused image is remembered");
    let e = rig.call::<Value>("item_art", json!({ "itemId": 999 })).unwrap_err();
    assert_eq!(e["code"], "not_found", "{e}");
}

#[test]
fn organize_previews_then_queues_the_rename_job() {
    let rig = Rig::new();
    two_podcasts(&rig, 2, 2_000);
    let job: u64 = rig.ok("enqueue_job", json!({ "kind": "sync_download", "playlistIds": [] }));
    assert_eq!(rig.wait_finished(job), "succeeded");
    let mut s: Value = rig.ok("get_settings", json!({}));
    s["name_template"] = json!("All/{playlist} - {title}.{ext}");
    let _: Value = rig.ok("save_settings", json!({ "settings": s }));
    let preview: Value = rig.ok("organize_preview", json!({}));
    let renames = preview["renames"].as_array().unwrap();
    assert_eq!(renames.len(), 4, "{preview}");
    assert!(renames.iter().all(|r| r["to"].as_str().unwrap().starts_with("All/")), "{preview}");
    let job: u64 = rig.ok("organize", json!({}));
    assert_eq!(rig.wait_finished(job), "succeeded");
    let again: Value = rig.ok("organize_preview", json!({}));
    assert_eq!((again["renames"].as_array().unwrap().len(), again["unchanged"].as_u64()), (0, Some(4)));
}
