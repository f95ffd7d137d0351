//! A loopback HTTP/1.1 feed and media server for the project's tests and benchmarks.
//!
//! [`TestServer`] binds 127.0.0.1 on the current tokio runtime and serves what is
//! registered on it: deterministic media (bytes a function of the URL path only, generated in
//! chunks on demand, with `Range`, `ETag` and `Last-Modified`), fixed feed bodies, real corpus
//! files with their enclosure URLs rewritten to loopback ([`corpus_dir`]), and synthetic
//! podcasts and OPML lists, and dynamic routes ([`TestServer::add_route`]) behind fake APIs:
//! podcastindex.org ([`FakePodcastIndex`]), fyyd.de ([`FakeFyyd`]) and an OpenAI-compatible
//! chat-completions server ([`ScriptedChat`]). Responses can be shaped (per-connection rate limit in bytes/s,
//! latency in ms), faulted per path ([`Fault`]), and made to behave like real hosts per path
//! ([`Behaviour`]: redirects, content codings, no `Content-Length`), and serve small real
//! images ([`TestImage`]); conditional GETs get `304 Not Modified`, and
//! [`Stats`] counts what was asked and sent.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use catalog_sync_testkit::{Fault, ServerConfig, TestServer};
//! let server = TestServer::start(ServerConfig::default()).await?;
//! let media = server.add_media("/show/1.mp3", 200_000);
//! server.set_fault("/show/1.mp3", Fault::Reset { after_bytes: 50_000 }, Some(1));
//! // ... download media.url, expect one failure, resume, compare with media.sha256_hex ...
//! assert_eq!(server.stats().requests_for("/show/1.mp3"), 0);
//! # Ok(()) }
//! ```

pub mod audio;
mod behaviour;
mod config;
mod content;
mod corpus;
mod error;
mod fakes;
mod handler;
mod images;
mod range;
mod routes;
mod scenario;
mod server;
mod shaping;
mod stats;

pub use behaviour::{Behaviour, Coding};
pub use config::{Fault, ServerConfig};
pub use content::{guess_content_type, MediaInfo};
pub use corpus::{corpus_dir, feed_texts, UrlRewrite, CORPUS_ENV};
pub use error::TestkitError;
pub use fakes::{
    episode_page, feed_xml, ChatStep, FakeEpisode, FakeFyyd, FakePodcastIndex, FeedAlternate, FeedItem,
    ScriptedChat,
};
pub use images::TestImage;
pub use routes::{ApiRequest, ApiResponse, Route};
pub use scenario::xml_escape;
pub use server::TestServer;
pub use stats::Stats;
