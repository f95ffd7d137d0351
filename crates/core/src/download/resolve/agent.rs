//! The optional resolver agent: an OpenAI-compatible chat-completions endpoint
//! (`POST {agent_base_url}/chat/completions`, e.g. a local Ollama at
//! `http://127.0.0.1:11434/v1`) with function calling. It gets the episode's facts and three
//! tools: `index_lookup` (the podcast indexes), `fetch_page` (a page's media links, as the
//! episode-page source reads them) and `head_url` (status, type and length of a URL), and is
//! asked to answer with one direct media URL. Every request, chat or tool, counts against
//! [`MAX_REQUESTS`]; the run is bounded by [`DEADLINE`]. The URL it returns is checked like
//! any other candidate; its last message is kept for `DownloadFailed::agent_message`. Off
//! unless `agent_base_url` and `agent_model` are set; `agent_api_key` is sent as a bearer
//! token and never logged.

use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use serde_json::{json, Value};
use url::Url;

use super::http::Http;
use super::index;
use super::page::media_links;
use super::{http_url, Candidate, Found, Limits, ResolveCtx, Source, SourceError};
use crate::store::ItemRow;

/// Name of this source.
pub const NAME: &str = "agent";

/// Requests (chat completions and tool calls together) per run.
pub const MAX_REQUESTS: u32 = 30;

/// Wall-clock bound of a run.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// Characters of a tool result or final message kept.
const MAX_TEXT: usize = 4000;

/// The agent source.
#[derive(Debug, Default)]
pub struct Agent;

fn tools() -> Value {
    let tool = |name: &str, description: &str, params: Value| json!({"type": "function", "function": {"name": name, "description": description, "parameters": params}});
    let url_param = json!({"type": "object", "properties": {"url": {"type": "string", "description": "absolute http(s) URL"}}, "required": ["url"]});
    json!([
        tool("index_lookup", "Look the episode up in podcast indexes (podcastindex.org, fyyd.de); returns media URLs they know.", json!({"type": "object", "properties": {}})),
        tool("fetch_page", "Fetch a web page and list the audio/video media links on it.", url_param.clone()),
        tool("head_url", "Send a HEAD request: returns HTTP status, Content-Type and Content-Length.", url_param),
    ])
}

fn prompt(item: &ItemRow, ctx: &ResolveCtx) -> String {
    let f = |label: &str, v: Option<&str>| v.map(|v| format!("{label}: {v}\n")).unwrap_or_default();
    format!(
        "Find a working direct download URL of this podcast episode's audio or video file. The known URL fails.\n{}{}{}{}{}{}\
         Use the tools. Answer with exactly one absolute http(s) URL of the media file, or NONE with a one-line reason.",
        f("Show", ctx.feed_title.as_deref()),
        f("Feed URL", ctx.feed_url.as_ref().map(Url::as_str)),
        f("Episode title", item.title.as_deref()),
        f("Episode guid", item.guid.as_deref()),
        f("Episode page", item.link.as_deref()),
        f("Failing media URL", item.enclosure.as_ref().map(|e| e.url.as_str())),
    )
}

/// The first http(s) URL in `text` (surrounding brackets, quotes and punctuation removed).
pub fn first_url(text: &str) -> Option<Url> {
    text.split(|c: char| {
        c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '(' | ')' | '[' | ']' | '`')
    })
    .map(|w| w.trim_end_matches(['.', ',', ';', ':', '!', '?']))
    .find_map(http_url)
}

fn clip(mut s: String) -> String {
    if s.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

async fn run_tool(
    name: &str,
    args: &Value,
    item: &ItemRow,
    ctx: &ResolveCtx,
    http: &Http,
) -> Result<String, SourceError> {
    let url_arg = || {
        args.get("url")
            .and_then(|u| u.as_str())
            .and_then(http_url)
            .ok_or_else(|| SourceError::Parse(format!("{name}: missing or bad url argument")))
    };
    Ok(match name {
        "index_lookup" => {
            let indexes = index::Indexes::standard();
            let found = <index::Indexes as Source>::resolve(&indexes, item, ctx, http).await?;
            json!({"urls": found.candidates.iter().map(|c| c.url.as_str()).collect::<Vec<_>>(), "providers": found.note}).to_string()
        }
        "fetch_page" => {
            let url = url_arg()?;
            let page = http.get(&url, HeaderMap::new()).await?;
            let links: Vec<Value> = media_links(&page.text, &page.url)
                .into_iter()
                .take(50)
                .map(|l| json!({"url": l.url.as_str(), "type": l.mime_type}))
                .collect();
            json!({"final_url": page.url.as_str(), "media_links": links}).to_string()
        }
        "head_url" => {
            let url = url_arg()?;
            let (status, ct, len) = http.head(&url).await?;
            json!({"status": status, "content_type": ct, "content_length": len}).to_string()
        }
        other => json!({"error": format!("unknown tool {other}")}).to_string(),
    })
}

impl Source for Agent {
    fn name(&self) -> &'static str {
        NAME
    }

    fn suitable(&self, _item: &ItemRow, ctx: &ResolveCtx) -> Result<(), String> {
        match (&ctx.config.agent_base_url, &ctx.config.agent_model) {
            (Some(b), Some(m)) if !b.is_empty() && !m.is_empty() => Ok(()),
            _ => Err("not configured (agent_base_url, agent_model)".into()),
        }
    }

    fn limits(&self) -> Limits {
        Limits { max_requests: MAX_REQUESTS, deadline: DEADLINE }
    }

    fn resolve<'a>(
        &'a self,
        item: &'a ItemRow,
        ctx: &'a ResolveCtx,
        http: &'a Http,
    ) -> BoxFuture<'a, Result<Found, SourceError>> {
        async move {
            let c = &ctx.config;
            let base = c.agent_base_url.as_deref().unwrap_or_default().trim_end_matches('/');
            let endpoint = Url::parse(&format!("{base}/chat/completions")).map_err(|e| SourceError::Tool(format!("agent_base_url: {e}")))?;
            let mut headers = HeaderMap::new();
            if let Some(key) = c.agent_api_key.as_ref().filter(|k| !k.expose().is_empty()) {
                let mut v = HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| SourceError::Tool("agent_api_key is not a valid header value".into()))?;
                v.set_sensitive(true);
                headers.insert(AUTHORIZATION, v);
            }
            let mut messages = vec![
                json!({"role": "system", "content": "You find podcast media files. Use tools; reply with one URL."}),
                json!({"role": "user", "content": prompt(item, ctx)}),
            ];
            loop {
                let body = json!({"model": c.agent_model, "messages": messages, "tools": tools(), "tool_choice": "auto", "temperature": 0});
                let answer = http.post_json(&endpoint, headers.clone(), &body).await?;
                let message = answer.pointer("/choices/0/message").cloned().ok_or_else(|| SourceError::Parse("no choices[0].message".into()))?;
                let calls = message.get("tool_calls").and_then(|t| t.as_array()).cloned().unwrap_or_default();
                if calls.is_empty() {
                    let text = clip(message.get("content").and_then(|t| t.as_str()).unwrap_or("").trim().to_string());
                    let candidates = first_url(&text).map(|u| Candidate::http(NAME, u, None)).into_iter().collect();
                    return Ok(Found { candidates, note: Some(text) });
                }
                messages.push(message);
                for call in calls {
                    let id = call.get("id").and_then(|i| i.as_str()).unwrap_or("").to_string();
                    let name = call.pointer("/function/name").and_then(|n| n.as_str()).unwrap_or("");
                    // arguments are a JSON string in OpenAI's API; some servers send an object
                    let args = match call.pointer("/function/arguments") {
                        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
                        Some(v) => v.clone(),
                        None => Value::Null,
                    };
                    let result = match run_tool(name, &args, item, ctx, http).await {
                        Ok(r) => r,
                        Err(SourceError::Budget(n)) => return Err(SourceError::Budget(n)),
                        Err(e) => json!({"error": e.to_string()}).to_string(),
                    };
                    messages.push(json!({"role": "tool", "tool_call_id": id, "name": name, "content": clip(result)}));
                }
            }
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_url_cases() {
        let cases = [
            ("https://cdn.example/ep42.mp3", Some("https://cdn.example/ep42.mp3")),
            ("The file is at <https://cdn.example/ep42.mp3>.", Some("https://cdn.example/ep42.mp3")),
            ("Found it: \"http://a.example/x.m4a?t=1\", enjoy!", Some("http://a.example/x.m4a?t=1")),
            ("NONE: the episode was deleted", None),
            ("ftp://a/x.mp3 only", None),
        ];
        for (text, expected) in cases {
            assert_eq!(first_url(text).as_ref().map(Url::as_str), expected, "{text}");
        }
    }
}
