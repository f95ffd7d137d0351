//! The JSON routes call the Api: a playlist added by URL, selected, synced and downloaded, its
//! job's expanded detail, and errors as `{code, message}` with their status.

use catalog_sync_testkit::TestServer;

use crate::auth::wait_until_ended;
use crate::rig::{wire, Rig};

#[tokio::test]
async fn a_job_through_the_routes_and_its_expanded_detail() {
    let server = TestServer::start(Default::default()).await.unwrap();
    let feed = server.add_podcast("show", 3, 20_000);
    let rig = Rig::start().await;
    let added: serde_json::Value = rig
        .post("/api/playlists")
        .json(&serde_json::json!({ "urls": [feed.as_str()] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = added["ids"][0].as_u64().unwrap();
    let changed = rig
        .client()
        .put(rig.url("/api/wanted"))
        .bearer_auth(crate::rig::TOKEN)
        .json(&serde_json::json!({ "playlist_ids": [id], "wanted": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let job: u64 = rig
        .post("/api/jobs")
        .json(&serde_json::json!({ "kind": "sync_download", "playlist_ids": [id] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    wait_until_ended(&rig, job).await;
    let detail: serde_json::Value =
        rig.get(&format!("/api/jobs/{job}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(detail["job"]["status"], "succeeded", "{detail}");
    for key in ["stages", "items", "workers", "runs", "log"] {
        assert!(detail[key].is_array(), "{key} in {detail}");
    }
    assert_eq!(detail["stages"].as_array().unwrap().len(), 2);
    let items: serde_json::Value =
        rig.get(&format!("/api/playlists/{id}/items")).send().await.unwrap().json().await.unwrap();
    assert_eq!((items["items"].as_array().unwrap().len(), &items["total"]), (3, &serde_json::json!(3)));
    // paged: a cursor names the last row shown
    let first: serde_json::Value =
        rig.get(&format!("/api/playlists/{id}/items?limit=2")).send().await.unwrap().json().await.unwrap();
    let next = first["next"].as_str().expect("a next cursor").to_owned();
    let rest: serde_json::Value = rig
        .get(&format!("/api/playlists/{id}/items?limit=2&after={next}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((rest["items"].as_array().unwrap().len(), &rest["next"]), (1, &serde_json::Value::Null));
    assert_eq!(rest["items"][0]["id"], items["items"][2]["id"]);
    let pl: serde_json::Value = rig.get("/api/playlists?limit=1").send().await.unwrap().json().await.unwrap();
    assert_eq!((pl["playlists"].as_array().unwrap().len(), &pl["total"]), (1, &serde_json::json!(1)));
    let tc: serde_json::Value = rig.get("/api/task-center").send().await.unwrap().json().await.unwrap();
    assert!(tc["jobs"].is_array(), "{tc}");
    assert_eq!(tc["older"], 0, "{tc}");
    let opml = rig.get("/api/opml").send().await.unwrap().text().await.unwrap();
    assert!(opml.contains(feed.as_str()));
    // errors keep their code and status
    let (status, code, _) = wire(rig.get("/api/jobs/999").send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (404, "not_found"));
    let resp = rig
        .post(&format!("/api/jobs/{job}/command"))
        .json(&serde_json::json!({ "action": "resume" }))
        .send()
        .await
        .unwrap();
    let (status, code, _) = wire(resp).await;
    assert_eq!((status, code.as_str()), (409, "conflict"));
    rig.stop().await;
}

#[tokio::test]
async fn add_as_a_kind_art_formats_and_yt_dlp_have_their_routes() {
    let server = TestServer::start(Default::default()).await.unwrap();
    let feed = server.add_podcast("kinds", 1, 1_000);
    let rig = Rig::start().await;
    let resp = rig
        .post("/api/playlists")
        .json(&serde_json::json!({ "urls": [feed.as_str()], "kind": "document" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let added: serde_json::Value = resp.json().await.unwrap();
    let id = added["ids"][0].as_u64().unwrap();
    let (status, code, _) = wire(
        rig.post("/api/playlists")
            .json(&serde_json::json!({ "urls": [feed.as_str()], "kind": "sideways" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "invalid_input"), "an unknown kind");
    let art = rig.get(&format!("/api/playlists/{id}/art")).send().await.unwrap();
    assert_eq!(art.status(), 200);
    assert_eq!(art.json::<serde_json::Value>().await.unwrap(), serde_json::Value::Null, "no cover known");
    let (status, code, _) = wire(rig.get("/api/items/999/art").send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (404, "not_found"));
    let media = rig
        .client()
        .put(rig.url(&format!("/api/playlists/{id}/media")))
        .bearer_auth(crate::rig::TOKEN)
        .json(&serde_json::json!("best_audio"))
        .send()
        .await
        .unwrap();
    let (status, code, message) = wire(media).await;
    assert_eq!((status, code.as_str()), (404, "not_found"), "a feed has no yt-dlp format: {message}");
    let ytdlp: serde_json::Value = rig.get("/api/ytdlp").send().await.unwrap().json().await.unwrap();
    assert!(ytdlp.get("path").is_some() && ytdlp.get("version").is_some(), "{ytdlp}");
    rig.stop().await;
}

/// Upload targets over HTTP: a WebDAV target is saved with its password and listed without it
/// (`has_password`), saving again without one keeps it, a folder target is refused (a local
/// path), a playlist is assigned, the connection test answers with its result, and an upload
/// job is queued.
#[tokio::test]
async fn upload_targets_through_the_routes_never_return_a_password() {
    let rig = Rig::start().await;
    let target = serde_json::json!({
        "name": "nas", "kind": "webdav", "location": "http://127.0.0.1:9", "root": "/pods",
        "username": "me", "bucket": null, "region": null, "key_path": null, "known_hosts": null,
        "password": "pw-secret-1", "mirror": true, "m3u_crlf": false
    });
    let put = |body: serde_json::Value| {
        rig.client().put(rig.url("/api/targets")).bearer_auth(crate::rig::TOKEN).json(&body).send()
    };
    let saved = put(target.clone()).await.unwrap();
    assert_eq!(saved.status(), 200);
    let text = saved.text().await.unwrap();
    assert!(text.contains("\"has_password\":true") && !text.contains("pw-secret-1"), "{text}");
    let mut again = target.clone();
    again["password"] = serde_json::Value::Null;
    assert_eq!(put(again).await.unwrap().status(), 200);
    let listed = rig.get("/api/targets").send().await.unwrap().text().await.unwrap();
    assert!(listed.contains("\"has_password\":true") && !listed.contains("pw-secret-1"), "{listed}");
    let mut folder = target.clone();
    folder["kind"] = serde_json::json!("folder");
    folder["location"] = serde_json::json!("/root/.ssh");
    let (status, code, _) = wire(put(folder).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (403, "forbidden"));

    let test: serde_json::Value =
        rig.post("/api/targets/nas/test").send().await.unwrap().json().await.unwrap();
    assert_eq!(test["ok"], false, "nothing listens on port 9: {test}");
    let (status, code, _) = wire(
        rig.client()
            .put(rig.url("/api/playlists/1/targets"))
            .bearer_auth(crate::rig::TOKEN)
            .json(&serde_json::json!({ "targets": ["nas"] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (404, "not_found"), "no playlist 1 yet");
    let job = rig
        .post("/api/uploads")
        .json(&serde_json::json!({ "kind": "upload_only", "playlist_ids": [], "targets": ["nas"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(job.status(), 200);
    let (status, code, _) = wire(
        rig.post("/api/uploads")
            .json(&serde_json::json!({ "kind": "sync_only", "playlist_ids": [] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "invalid_input"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organize_routes_give_the_dry_run_and_queue_the_job() {
    let rig = crate::rig::Rig::start().await;
    let preview: serde_json::Value = rig.get("/api/organize").send().await.unwrap().json().await.unwrap();
    assert_eq!(preview["renames"], serde_json::json!([]), "{preview}");
    assert_eq!(preview["template"], "{playlist}/{date} {title}.{ext}", "{preview}");
    let job = rig.post("/api/organize").send().await.unwrap();
    assert_eq!(job.status(), 200);
    assert!(job.json::<u64>().await.unwrap() > 0);
    rig.stop().await;
}

#[tokio::test]
async fn retention_routes_set_a_rule_keep_an_item_and_clean_with_a_preview() {
    let server = TestServer::start(Default::default()).await.unwrap();
    let feed = server.add_podcast("keep", 3, 10_000);
    let rig = Rig::start().await;
    let added: serde_json::Value = rig
        .post("/api/playlists")
        .json(&serde_json::json!({ "urls": [feed.as_str()] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = added["ids"][0].as_u64().unwrap();
    let job: u64 = rig
        .post("/api/jobs")
        .json(&serde_json::json!({ "kind": "sync_download", "playlist_ids": [id] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    wait_until_ended(&rig, job).await;
    let put = |path: String, body: serde_json::Value| {
        rig.client().put(rig.url(&path)).bearer_auth(crate::rig::TOKEN).json(&body).send()
    };
    let p: serde_json::Value = put(
        format!("/api/playlists/{id}/retention"),
        serde_json::json!({ "rule": { "kind": "keep_newest", "count": 1 } }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(p["retention"], serde_json::json!({ "kind": "keep_newest", "count": 1 }), "{p}");
    let (status, code, _) = wire(
        put(
            format!("/api/playlists/{id}/retention"),
            serde_json::json!({ "rule": { "kind": "older_than_days", "days": 0 } }),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "invalid_input"));
    let items: serde_json::Value =
        rig.get(&format!("/api/playlists/{id}/items")).send().await.unwrap().json().await.unwrap();
    let last = items["items"][2]["id"].as_u64().unwrap();
    let kept: serde_json::Value = put(format!("/api/items/{last}/keep"), serde_json::json!({ "keep": true }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kept, serde_json::json!({ "item": last, "keep": true, "restored": false }));
    let clean = |dry_run: bool| {
        rig.post("/api/clean").json(&serde_json::json!({ "playlist_ids": [id], "dry_run": dry_run })).send()
    };
    let preview: serde_json::Value = clean(true).await.unwrap().json().await.unwrap();
    assert_eq!(
        (preview["dry_run"].as_bool(), preview["removed"].as_array().map(Vec::len)),
        (Some(true), Some(1))
    );
    assert_eq!(preview["spared"][0]["reason"], "marked keep", "{preview}");
    let done: serde_json::Value = clean(false).await.unwrap().json().await.unwrap();
    assert_eq!(done["bytes_freed"], 10_000, "{done}");
    let items: serde_json::Value =
        rig.get(&format!("/api/playlists/{id}/items")).send().await.unwrap().json().await.unwrap();
    let removed: Vec<bool> =
        items["items"].as_array().unwrap().iter().map(|i| i["removed"].as_bool().unwrap()).collect();
    assert_eq!(removed, vec![false, true, false], "{items}");
}
