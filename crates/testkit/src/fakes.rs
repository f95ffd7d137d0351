//! Fakes of the outside services the resolver cascade talks to, served on the loopback
//! server as dynamic routes, and builders of the documents it reads:
//!
//! - [`FakePodcastIndex`]: podcastindex.org's `/episodes/byguid`, `/search/byterm` and
//!   `/episodes/byfeedid`, checking the auth headers on every request (`X-Auth-Key`,
//!   `X-Auth-Date`, `Authorization` = hex sha1(key + secret + date), `User-Agent`) and
//!   answering 401 to wrong ones, as the real API does;
//! - [`FakeFyyd`]: fyyd.de's `/0.2/search/episode` by `guid`, `url` or `title`;
//! - [`ScriptedChat`]: an OpenAI-compatible `/chat/completions` that plays a script of tool
//!   calls and answers, repeating the last step forever (so a request cap can be tested);
//! - [`feed_xml`]: RSS 2.0 with Podcasting 2.0 `alternateEnclosure`/`source`/`integrity`;
//! - [`episode_page`]: an episode web page shaped like a WordPress + PowerPress site's.
//!
//! Every fake records the requests it received.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use url::Url;

use crate::routes::{ApiRequest, ApiResponse};
use crate::scenario::xml_escape;
use crate::server::TestServer;

/// One episode the fake indexes know.
#[derive(Debug, Clone, Default)]
pub struct FakeEpisode {
    /// Item guid.
    pub guid: String,
    /// Episode title.
    pub title: String,
    /// Feed URL of the show.
    pub feed_url: String,
    /// The show's id in the index.
    pub feed_id: i64,
    /// The show's title.
    pub feed_title: String,
    /// Current media URL.
    pub enclosure_url: String,
    /// Its MIME type.
    pub enclosure_type: String,
    /// Media URLs it had before (fyyd finds an episode by an old URL).
    pub previous_urls: Vec<String>,
}

fn pi_episode(e: &FakeEpisode) -> Value {
    json!({"id": 1, "title": e.title, "guid": e.guid, "feedId": e.feed_id, "feedTitle": e.feed_title,
           "enclosureUrl": e.enclosure_url, "enclosureType": e.enclosure_type, "enclosureLength": 0})
}

/// A fake podcastindex.org API (module docs).
#[derive(Debug, Clone)]
pub struct FakePodcastIndex {
    /// Base URL to configure (`.../pi`), like `https://api.podcastindex.org/api/1.0`.
    pub base_url: Url,
    log: Arc<Mutex<Vec<ApiRequest>>>,
    rejected: Arc<AtomicU32>,
}

impl FakePodcastIndex {
    /// Mounts the API under `prefix` (e.g. `/pi`) accepting only `key` and `secret`.
    pub fn mount(
        server: &TestServer,
        prefix: &str,
        key: &str,
        secret: &str,
        episodes: Vec<FakeEpisode>,
    ) -> FakePodcastIndex {
        let log = Arc::new(Mutex::new(Vec::new()));
        let rejected = Arc::new(AtomicU32::new(0));
        let episodes = Arc::new(episodes);
        for endpoint in ["/episodes/byguid", "/search/byterm", "/episodes/byfeedid"] {
            let (log, rejected, episodes) = (log.clone(), rejected.clone(), episodes.clone());
            let (key, secret) = (key.to_string(), secret.to_string());
            server.add_route(&format!("{prefix}{endpoint}"), move |req| {
                log.lock().expect("log lock").push(req.clone());
                if let Err(why) = check_auth(req, &key, &secret) {
                    rejected.fetch_add(1, Ordering::SeqCst);
                    return ApiResponse::json(401, &json!({"status": "false", "description": why}));
                }
                ApiResponse::json(200, &answer(endpoint, req, &episodes))
            });
        }
        FakePodcastIndex { base_url: server.url(prefix), log, rejected }
    }

    /// Requests received, in order.
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.log.lock().expect("log lock").clone()
    }

    /// Requests answered 401 for wrong or missing auth headers.
    pub fn rejected(&self) -> u32 {
        self.rejected.load(Ordering::SeqCst)
    }
}

/// podcastindex's auth rule: the hash of key + secret + the request's own date.
fn check_auth(req: &ApiRequest, key: &str, secret: &str) -> Result<(), String> {
    if req.header("user-agent").is_none_or(str::is_empty) {
        return Err("missing User-Agent".into());
    }
    if req.header("x-auth-key") != Some(key) {
        return Err("bad X-Auth-Key".into());
    }
    let date = req.header("x-auth-date").ok_or("missing X-Auth-Date")?;
    date.parse::<u64>().map_err(|_| "X-Auth-Date is not unix seconds".to_string())?;
    let mut h = Sha1::new();
    h.update(format!("{key}{secret}{date}").as_bytes());
    if req.header("authorization") != Some(hex::encode(h.finalize()).as_str()) {
        return Err("bad Authorization hash".into());
    }
    Ok(())
}

fn answer(endpoint: &str, req: &ApiRequest, episodes: &[FakeEpisode]) -> Value {
    match endpoint {
        "/episodes/byguid" => {
            let guid = req.param("guid").unwrap_or("");
            let feed = req.param("feedurl");
            match episodes.iter().find(|e| e.guid == guid && feed.is_none_or(|f| f == e.feed_url)) {
                Some(e) => json!({"status": "true", "episode": pi_episode(e)}),
                None => json!({"status": "true", "episode": [], "description": "Episode not found."}),
            }
        }
        "/search/byterm" => {
            let q = req.param("q").unwrap_or("").to_lowercase();
            let mut feeds: Vec<Value> = Vec::new();
            for e in episodes.iter().filter(|e| e.feed_title.to_lowercase().contains(&q)) {
                if !feeds.iter().any(|f| f["id"] == e.feed_id) {
                    feeds.push(json!({"id": e.feed_id, "title": e.feed_title, "url": e.feed_url}));
                }
            }
            json!({"status": "true", "count": feeds.len(), "feeds": feeds})
        }
        _ => {
            let id: i64 = req.param("id").and_then(|i| i.parse().ok()).unwrap_or(-1);
            let items: Vec<Value> = episodes.iter().filter(|e| e.feed_id == id).map(pi_episode).collect();
            json!({"status": "true", "count": items.len(), "items": items})
        }
    }
}

/// A fake fyyd.de API (module docs).
#[derive(Debug, Clone)]
pub struct FakeFyyd {
    /// Base URL to configure (`.../fyyd`), like `https://api.fyyd.de`.
    pub base_url: Url,
    log: Arc<Mutex<Vec<ApiRequest>>>,
}

impl FakeFyyd {
    /// Mounts `/0.2/search/episode` under `prefix` (e.g. `/fyyd`).
    pub fn mount(server: &TestServer, prefix: &str, episodes: Vec<FakeEpisode>) -> FakeFyyd {
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        server.add_route(&format!("{prefix}/0.2/search/episode"), move |req| {
            l.lock().expect("log lock").push(req.clone());
            let hits: Vec<Value> = episodes
                .iter()
                .filter(|e| match (req.param("guid"), req.param("url"), req.param("title")) {
                    (Some(g), _, _) => e.guid == g,
                    (_, Some(u), _) => e.enclosure_url == u || e.previous_urls.iter().any(|p| p == u),
                    (_, _, Some(t)) => e.title.to_lowercase().contains(&t.to_lowercase()),
                    _ => false,
                })
                .map(|e| json!({"title": e.title, "guid": e.guid, "enclosure": e.enclosure_url, "content_type": e.enclosure_type, "podcast_id": e.feed_id}))
                .collect();
            ApiResponse::json(200, &json!({"status": 1, "msg": "ok", "meta": {"paging": {"count": hits.len()}}, "data": hits}))
        });
        FakeFyyd { base_url: server.url(prefix), log }
    }

    /// Requests received, in order.
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.log.lock().expect("log lock").clone()
    }
}

/// One step of a [`ScriptedChat`] script.
#[derive(Debug, Clone)]
pub enum ChatStep {
    /// The assistant calls tool `name` with `arguments` (sent as a JSON string, as OpenAI does).
    Call {
        /// Tool name.
        name: String,
        /// Arguments object.
        arguments: Value,
    },
    /// The assistant answers with this text and no tool call.
    Say(String),
}

/// A scripted OpenAI-compatible chat-completions server (module docs).
#[derive(Debug, Clone)]
pub struct ScriptedChat {
    /// Base URL to configure (`.../v1`), like `http://127.0.0.1:11434/v1` for Ollama.
    pub base_url: Url,
    log: Arc<Mutex<Vec<ApiRequest>>>,
}

impl ScriptedChat {
    /// Mounts `POST {prefix}/chat/completions` playing `steps`; when `bearer` is set, other
    /// `Authorization` values get 401.
    pub fn mount(
        server: &TestServer,
        prefix: &str,
        steps: Vec<ChatStep>,
        bearer: Option<&str>,
    ) -> ScriptedChat {
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        let expected = bearer.map(|b| format!("Bearer {b}"));
        server.add_route(&format!("{prefix}/chat/completions"), move |req| {
            let n = {
                let mut log = l.lock().expect("log lock");
                log.push(req.clone());
                log.len() - 1
            };
            if req.method != "POST" {
                return ApiResponse::json(405, &json!({"error": {"message": "POST only"}}));
            }
            if expected.is_some() && req.header("authorization") != expected.as_deref() {
                return ApiResponse::json(401, &json!({"error": {"message": "Incorrect API key provided"}}));
            }
            let model = req.json().get("model").cloned().unwrap_or(Value::Null);
            let message = match steps.get(n).or(steps.last()) {
                Some(ChatStep::Call { name, arguments }) => json!({"role": "assistant", "content": null, "tool_calls": [
                    {"id": format!("call_{n}"), "type": "function", "function": {"name": name, "arguments": arguments.to_string()}}]}),
                Some(ChatStep::Say(text)) => json!({"role": "assistant", "content": text}),
                None => json!({"role": "assistant", "content": ""}),
            };
            let finish = if message.get("tool_calls").is_some() { "tool_calls" } else { "stop" };
            ApiResponse::json(200, &json!({"id": format!("chatcmpl-{n}"), "object": "chat.completion", "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}]}))
        });
        ScriptedChat { base_url: server.url(prefix), log }
    }

    /// Requests received, in order (bodies are the chat requests).
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.log.lock().expect("log lock").clone()
    }
}

/// A `podcast:alternateEnclosure` of a [`FeedItem`].
#[derive(Debug, Clone, Default)]
pub struct FeedAlternate {
    /// `type`.
    pub mime_type: String,
    /// `length` in bytes.
    pub length: Option<u64>,
    /// `default="true"`.
    pub default: bool,
    /// `podcast:source uri`s.
    pub sources: Vec<String>,
    /// `podcast:integrity` as (`type`, `value`), e.g. (`sri`, `sha256-...`).
    pub integrity: Option<(String, String)>,
}

/// An `<item>` of [`feed_xml`].
#[derive(Debug, Clone, Default)]
pub struct FeedItem {
    /// `<guid isPermaLink="false">`.
    pub guid: String,
    /// `<title>`.
    pub title: String,
    /// `<link>` (the episode page).
    pub link: Option<String>,
    /// `<enclosure url length type>`.
    pub enclosure: Option<(String, u64, String)>,
    /// Alternatives.
    pub alternates: Vec<FeedAlternate>,
}

/// An RSS 2.0 feed with the Podcasting 2.0 namespace over `items`.
pub fn feed_xml(title: &str, items: &[FeedItem]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:podcast=\"https://podcastindex.org/namespace/1.0\">\n<channel>\n");
    let _ = writeln!(
        xml,
        "<title>{}</title>\n<link>http://127.0.0.1/</link>\n<description>testkit feed</description>",
        xml_escape(title)
    );
    for it in items {
        let _ = writeln!(
            xml,
            "<item>\n<title>{}</title>\n<guid isPermaLink=\"false\">{}</guid>",
            xml_escape(&it.title),
            xml_escape(&it.guid)
        );
        if let Some(link) = &it.link {
            let _ = writeln!(xml, "<link>{}</link>", xml_escape(link));
        }
        if let Some((url, len, mime)) = &it.enclosure {
            let _ = writeln!(
                xml,
                "<enclosure url=\"{}\" length=\"{len}\" type=\"{}\"/>",
                xml_escape(url),
                xml_escape(mime)
            );
        }
        for a in &it.alternates {
            let len = a.length.map(|l| format!(" length=\"{l}\"")).unwrap_or_default();
            let _ = writeln!(
                xml,
                "<podcast:alternateEnclosure type=\"{}\"{len}{}>",
                xml_escape(&a.mime_type),
                if a.default { " default=\"true\"" } else { "" }
            );
            if let Some((t, v)) = &a.integrity {
                let _ = writeln!(
                    xml,
                    "<podcast:integrity type=\"{}\" value=\"{}\"/>",
                    xml_escape(t),
                    xml_escape(v)
                );
            }
            for s in &a.sources {
                let _ = writeln!(xml, "<podcast:source uri=\"{}\"/>", xml_escape(s));
            }
            xml.push_str("</podcast:alternateEnclosure>\n");
        }
        xml.push_str("</item>\n");
    }
    xml.push_str("</channel>\n</rss>\n");
    xml
}

/// An episode page shaped like a WordPress + PowerPress site's, with the media in an
/// `<audio>` element (the `[audio]` shortcode) and a download link.
pub fn episode_page(title: &str, media_url: &str) -> String {
    let (t, m) = (xml_escape(title), xml_escape(media_url));
    format!(
        "<!DOCTYPE html>\n<html lang=\"en-US\"><head><meta charset=\"UTF-8\"><title>{t} &#8211; Show</title>\n\
         <meta property=\"og:type\" content=\"article\" /><meta property=\"og:title\" content=\"{t}\" /></head>\n\
         <body class=\"post-template-default single single-post\"><article class=\"post type-post\"><h1 class=\"entry-title\">{t}</h1>\n\
         <div class=\"entry-content\"><div class=\"powerpress_player\" id=\"powerpress_player_1\">\n\
         <audio class=\"wp-audio-shortcode\" id=\"audio-1-1\" preload=\"none\" style=\"width: 100%;\" controls=\"controls\">\
         <source type=\"audio/mpeg\" src=\"{m}\" /><a href=\"{m}\">{m}</a></audio></div>\n\
         <p class=\"powerpress_links powerpress_links_mp3\">Podcast: <a href=\"{m}\" class=\"powerpress_link_d\" download>Download</a></p>\n\
         <p>Show notes.</p></div></article></body></html>\n"
    )
}
