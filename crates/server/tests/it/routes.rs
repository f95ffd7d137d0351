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
    assert_eq!(items.as_array().unwrap().len(), 3);
    let tc: serde_json::Value = rig.get("/api/task-center").send().await.unwrap().json().await.unwrap();
    assert!(tc["jobs"].is_array(), "{tc}");
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
