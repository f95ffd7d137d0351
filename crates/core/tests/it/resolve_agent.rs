//! The resolver agent against a scripted OpenAI-compatible chat-completions server on
//! loopback: it runs the tools the model calls (fetch a page and list its media, HEAD a URL),
//! sends their results back, takes the URL of the final answer, sends the bearer key, and
//! stops at the 30-request cap when the model never answers.

use catalog_sync_core::config::{Config, Secret};
use catalog_sync_core::download::resolve::agent::{Agent, MAX_REQUESTS};
use catalog_sync_core::download::resolve::{Source, SourceError};
use catalog_sync_core::store::ItemRow;
use catalog_sync_testkit::{episode_page, ChatStep, ScriptedChat, ServerConfig, TestServer};
use serde_json::json;

use crate::resolve_common::{ctx, offline_config, run_source, urls};

fn config(chat: &ScriptedChat, key: Option<&str>) -> Config {
    Config {
        agent_base_url: Some(chat.base_url.to_string()),
        agent_model: Some("llama3.1:8b".into()),
        agent_api_key: key.map(Secret::new),
        ..offline_config()
    }
}

fn call(name: &str, url: &str) -> ChatStep {
    ChatStep::Call { name: name.into(), arguments: json!({"url": url}) }
}

#[tokio::test]
async fn the_agent_calls_tools_and_returns_the_url_of_its_answer() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let media = server.add_media("/a/ep3.mp3", 5_000);
    let page = server.add_page("/a/episodes/3/", &episode_page("Episode 3", media.url.as_str()));
    let steps = vec![
        call("fetch_page", page.as_str()),
        call("head_url", media.url.as_str()),
        ChatStep::Say(format!("The media file is <{}>.", media.url)),
    ];
    let chat = ScriptedChat::mount(&server, "/v1", steps, Some("sk-agent-key"));
    let item =
        ItemRow { title: Some("Episode 3".into()), link: Some(page.to_string()), ..Default::default() };
    let cx = ctx(config(&chat, Some("sk-agent-key")), None, Some("A show"));
    let found = run_source(&Agent, &item, &cx).await.unwrap();
    assert_eq!(urls(&found), vec![media.url.to_string()]);
    assert_eq!(found.note, Some(format!("The media file is <{}>.", media.url)));
    let requests = chat.requests();
    assert_eq!(requests.len(), 3);
    let body = requests[0].json();
    assert_eq!(body["model"], "llama3.1:8b");
    let tools: Vec<&str> =
        body["tools"].as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
    assert_eq!(tools, ["index_lookup", "fetch_page", "head_url"]);
    assert!(body["messages"][1]["content"].as_str().unwrap().contains("Episode 3"));
    // the page's media links went back to the model as the tool's result
    let second = requests[1].json();
    let tool_msg = second["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (tool_msg["role"].as_str(), tool_msg["tool_call_id"].as_str()),
        (Some("tool"), Some("call_0"))
    );
    assert!(tool_msg["content"].as_str().unwrap().contains(media.url.as_str()), "{tool_msg}");
    let third = requests[2].json();
    let head: serde_json::Value = serde_json::from_str(
        third["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(head, json!({"status": 200, "content_type": "audio/mpeg", "content_length": 5000}));
    assert_eq!(server.stats().requests_for("/a/ep3.mp3"), 1, "one HEAD by the tool");
}

#[tokio::test]
async fn the_agent_stops_at_its_request_cap() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let media = server.add_media("/cap/ep.mp3", 1_000);
    // a model that never stops calling tools
    let chat = ScriptedChat::mount(&server, "/v1", vec![call("head_url", media.url.as_str())], None);
    let cx = ctx(config(&chat, None), None, None);
    let item = ItemRow { title: Some("Loop".into()), ..Default::default() };
    let err = run_source(&Agent, &item, &cx).await.unwrap_err();
    assert!(matches!(err, SourceError::Budget(n) if n == MAX_REQUESTS), "{err}");
    let chat_requests = chat.requests().len() as u64;
    let heads = server.stats().requests_for("/cap/ep.mp3");
    assert_eq!(
        chat_requests + heads,
        u64::from(MAX_REQUESTS),
        "chat {chat_requests} + tool {heads} requests"
    );
    assert!(
        chat.requests().iter().all(|r| r.header("authorization").is_none()),
        "no key configured: no Authorization header"
    );
}

#[tokio::test]
async fn a_wrong_key_and_an_unconfigured_agent() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let chat = ScriptedChat::mount(&server, "/v1", vec![ChatStep::Say("NONE".into())], Some("sk-right"));
    let cx = ctx(config(&chat, Some("sk-wrong-key")), None, None);
    let err = run_source(&Agent, &ItemRow::default(), &cx).await.unwrap_err().to_string();
    assert!(err.starts_with("HTTP 401 from ") && !err.contains("sk-wrong-key"), "{err}");
    let found = run_source(&Agent, &ItemRow::default(), &ctx(config(&chat, Some("sk-right")), None, None))
        .await
        .unwrap();
    assert_eq!((found.candidates.len(), found.note.as_deref()), (0, Some("NONE")));
    let off = ctx(offline_config(), None, None);
    assert_eq!(
        Agent.suitable(&ItemRow::default(), &off),
        Err("not configured (agent_base_url, agent_model)".into())
    );
}
