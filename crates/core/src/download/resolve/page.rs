//! The episode's web page (the item's `link`): fetched once and parsed with `scraper`
//! (html5ever, the HTML Living Standard's parsing algorithm), it yields media URLs in this
//! order: Open Graph `og:audio` / `og:video` (`:url`, `:secure_url`; <https://ogp.me/>),
//! `<audio>` / `<video>` `src` and their `<source src>` children, schema.org JSON-LD
//! `contentUrl` (`PodcastEpisode.associatedMedia`), then `<a href>` links to media files (by
//! extension). Relative URLs resolve against the page's final URL; repeats are dropped.

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use reqwest::header::HeaderMap;
use scraper::{Html, Selector};
use url::Url;

use super::check::has_media_extension;
use super::http::Http;
use super::{http_url, Candidate, Found, Limits, ResolveCtx, Source, SourceError};
use crate::store::ItemRow;

/// Name of this source.
pub const NAME: &str = "page";

/// Media named by the episode's web page.
#[derive(Debug, Default)]
pub struct EpisodePage;

/// A media URL found on a page with the type the page declared for it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaLink {
    /// Absolute http(s) URL.
    pub url: Url,
    /// Declared MIME type (`og:audio:type`, `<source type>`).
    pub mime_type: Option<String>,
}

fn selector(s: &str) -> Selector {
    Selector::parse(s).expect("static selector is valid")
}

/// Media links of `html`, resolved against `base`, best first (module docs).
pub fn media_links(html: &str, base: &Url) -> Vec<MediaLink> {
    let doc = Html::parse_document(html);
    let mut out: Vec<MediaLink> = Vec::new();
    let mut push = |raw: &str, mime: Option<String>| {
        let Some(url) = base.join(raw.trim()).ok().and_then(|u| http_url(u.as_str())) else { return };
        if !out.iter().any(|l| l.url == url) {
            out.push(MediaLink { url, mime_type: mime.filter(|m| !m.is_empty()) });
        }
    };
    // Open Graph: a `:type` tag applies to the media tag before it
    let meta = selector("meta[property], meta[name]");
    let mut og: Vec<(String, Option<String>)> = Vec::new();
    for m in doc.select(&meta) {
        let key =
            m.value().attr("property").or_else(|| m.value().attr("name")).unwrap_or("").to_ascii_lowercase();
        let Some(content) = m.value().attr("content") else { continue };
        match key.as_str() {
            "og:audio"
            | "og:audio:url"
            | "og:audio:secure_url"
            | "og:video"
            | "og:video:url"
            | "og:video:secure_url"
            | "twitter:player:stream" => {
                og.push((content.to_string(), None));
            }
            "og:audio:type" | "og:video:type" | "twitter:player:stream:content_type" => {
                if let Some(last) = og.last_mut() {
                    last.1.get_or_insert_with(|| content.to_string());
                }
            }
            _ => {}
        }
    }
    // og:video is often an HTML player: keep only media-looking ones
    for (url, mime) in og {
        let media = mime.as_deref().is_some_and(|m| m.starts_with("audio/") || m.starts_with("video/"))
            || Url::parse(&url).map(|u| has_media_extension(u.path())).unwrap_or(false);
        if media {
            push(&url, mime);
        }
    }
    for el in doc.select(&selector("audio, video")) {
        if let Some(src) = el.value().attr("src") {
            push(src, el.value().attr("type").map(str::to_string));
        }
        for source in el.select(&selector("source")) {
            if let Some(src) = source.value().attr("src") {
                push(src, source.value().attr("type").map(str::to_string));
            }
        }
    }
    for script in doc.select(&selector(r#"script[type="application/ld+json"]"#)) {
        let text: String = script.text().collect();
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) {
            let mut urls = Vec::new();
            content_urls(&json, &mut urls);
            for (u, mime) in urls {
                push(&u, mime);
            }
        }
    }
    for a in doc.select(&selector("a[href]")) {
        let href = a.value().attr("href").unwrap_or("");
        if base.join(href.trim()).is_ok_and(|u| has_media_extension(u.path())) {
            push(href, None);
        }
    }
    out
}

/// `contentUrl` values (with `encodingFormat`) anywhere in a JSON-LD value.
fn content_urls(v: &serde_json::Value, out: &mut Vec<(String, Option<String>)>) {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(u)) = map.get("contentUrl") {
                out.push((u.clone(), map.get("encodingFormat").and_then(|f| f.as_str()).map(str::to_string)));
            }
            map.values().for_each(|v| content_urls(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| content_urls(v, out)),
        _ => {}
    }
}

impl Source for EpisodePage {
    fn name(&self) -> &'static str {
        NAME
    }

    fn suitable(&self, item: &ItemRow, _ctx: &ResolveCtx) -> Result<(), String> {
        match item.link.as_deref().map(http_url) {
            None => Err("no episode page (link)".into()),
            Some(None) => Err("episode link is not http(s)".into()),
            Some(Some(_)) => Ok(()),
        }
    }

    fn limits(&self) -> Limits {
        Limits { max_requests: 1, deadline: std::time::Duration::from_secs(60) }
    }

    fn resolve<'a>(
        &'a self,
        item: &'a ItemRow,
        _ctx: &'a ResolveCtx,
        http: &'a Http,
    ) -> BoxFuture<'a, Result<Found, SourceError>> {
        async move {
            let Some(link) = item.link.as_deref().and_then(http_url) else { return Ok(Found::default()) };
            let page = http.get(&link, HeaderMap::new()).await?;
            let candidates = media_links(&page.text, &page.url)
                .into_iter()
                .map(|l| Candidate::http(NAME, l.url, l.mime_type))
                .collect();
            Ok(Found { candidates, note: None })
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pages shaped like real podcast hosts' episode pages (trimmed).
    #[test]
    fn page_cases() {
        let base = Url::parse("https://show.example/episodes/42-the-answer/").unwrap();
        let cases: Vec<(&str, &str, Vec<&str>)> = vec![
            (
                "WordPress + PowerPress: the [audio] shortcode and a download link",
                r#"<!DOCTYPE html><html><head><meta property="og:type" content="article"/></head><body>
                <div class="powerpress_player"><!--[if lt IE 9]><script>document.createElement('audio');</script><![endif]-->
                <audio class="wp-audio-shortcode" id="audio-42-1" preload="none" style="width: 100%;" controls="controls">
                <source type="audio/mpeg" src="https://media.blubrry.com/show/show.example/wp-content/uploads/ep42.mp3?_=1" />
                <a href="https://media.blubrry.com/show/show.example/wp-content/uploads/ep42.mp3">https://media.blubrry.com/show/show.example/wp-content/uploads/ep42.mp3</a></audio></div>
                <p class="powerpress_links">Podcast: <a href="https://media.blubrry.com/show/show.example/wp-content/uploads/ep42.mp3" class="powerpress_link_pinw" target="_blank">Play in new window</a> | <a href="https://media.blubrry.com/show/show.example/wp-content/uploads/ep42.mp3" download="ep42.mp3">Download</a></p>
                </body></html>"#,
                vec![
                    "https://media.blubrry.com/show/show.example/wp-content/uploads/ep42.mp3?_=1",
                    "https://media.blubrry.com/show/show.example/wp-content/uploads/ep42.mp3",
                ],
            ),
            (
                "Libsyn / Podbean style: Open Graph audio with its type, player iframe",
                r#"<html><head><meta property="og:title" content="42: The Answer"/>
                <meta property="og:audio" content="https://traffic.libsyn.com/secure/show/ep42.mp3?dest-id=1"/>
                <meta property="og:audio:type" content="audio/mpeg"/>
                <meta property="og:video" content="https://html5-player.libsyn.com/embed/episode/id/42/"/>
                </head><body><iframe src="https://html5-player.libsyn.com/embed/episode/id/42/"></iframe></body></html>"#,
                vec!["https://traffic.libsyn.com/secure/show/ep42.mp3?dest-id=1"],
            ),
            (
                "Squarespace style: relative media and JSON-LD associatedMedia",
                r#"<html><head><script type="application/ld+json">{"@context":"https://schema.org","@type":"PodcastEpisode",
                "name":"42","associatedMedia":{"@type":"MediaObject","contentUrl":"https://static1.squarespace.com/ep42.m4a","encodingFormat":"audio/mp4"}}</script></head>
                <body><div class="sqs-audio-embed" data-url="/s/ep42.m4a"></div><video controls src="../../media/ep42-video.mp4"></video>
                <a href="/about">About</a><a href="/feed.xml">RSS</a></body></html>"#,
                vec!["https://show.example/media/ep42-video.mp4", "https://static1.squarespace.com/ep42.m4a"],
            ),
            (
                "no media at all",
                "<html><body><p>Show notes only. <a href='/episodes/41/'>previous</a></p></body></html>",
                vec![],
            ),
            (
                "broken markup still parses",
                "<audio src='ep.ogg'><source src='javascript:alert(1)'><p>unclosed",
                vec!["https://show.example/episodes/42-the-answer/ep.ogg"],
            ),
        ];
        for (what, html, expected) in cases {
            let got: Vec<String> = media_links(html, &base).into_iter().map(|l| l.url.to_string()).collect();
            assert_eq!(got, expected, "{what}");
        }
    }
}
