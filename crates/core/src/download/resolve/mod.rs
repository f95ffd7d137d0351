//! The resolver cascade (ARCHITECTURE.md, convention 10): an ordered registry of sources, each
//! with `suitable()` and `resolve()`, that turns a catalog item into checked media URLs.
//!
//! [`Cascade::resolve`] walks the sources in order: the known enclosure ([`known`]), the
//! item's `podcast:alternateEnclosure`s ([`alternate`]), the re-fetched feed ([`feed`]), the
//! episode's web page ([`page`]), the podcast indexes fanned out together ([`index`]), yt-dlp
//! ([`ytdlp`]) and last the optional LLM agent ([`agent`]). A source that is not suitable is
//! recorded as skipped with its reason. Each suitable source runs bounded in time and in HTTP
//! requests ([`Limits`], [`http::Http`]); its candidates are checked ([`check::probe`]: a HEAD
//! or `Range: bytes=0-0` GET must answer 2xx with a media type, and a known exact length must
//! match) before any bytes are trusted. The known enclosure is checked in-band instead: its
//! own transfer's status and `Content-Type` ([`Candidate::verify`]), sparing every healthy
//! item an extra request. The first source with a usable candidate pauses the walk
//! ([`Walk`]); when the downloader rejects every candidate it resumes the walk with the next
//! source. When no source is left, [`DownloadFailed`] lists every source in order with its
//! outcome.
//!
//! Candidates carry what the downloader must verify after the transfer ([`Candidate::verify`]):
//! an exact length and a `podcast:integrity` SRI hash, so a wrong file is rejected, never kept
//! as the episode.

pub mod agent;
mod alternate;
pub mod check;
pub mod feed;
pub mod http;
pub mod index;
pub mod known;
pub mod page;
pub mod ytdlp;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::clock::Clock;
use crate::config::Config;
use crate::store::ItemRow;

pub use crate::store::failures::{self as failure, DownloadFailed, Outcome, SourceOutcome};
pub use alternate::AlternateEnclosures;
pub use check::Integrity;
pub use known::KnownEnclosure;

/// How a candidate's bytes are fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetch {
    /// A plain HTTP(S) transfer of [`Candidate::url`] by our downloader.
    Http,
    /// yt-dlp downloads the page [`Candidate::url`] itself (`download::ytdlp_fetch`), in a
    /// work folder beside the destination.
    YtDlp {
        /// The yt-dlp binary.
        binary: PathBuf,
        /// yt-dlp's `format_id`, when the resolver's `-J` named one.
        format: Option<String>,
        /// The playlist's format choice (`-f`, `-x --audio-format`) for an item of a yt-dlp
        /// playlist; it wins over `format`.
        media: Option<crate::catalog::ytdlp::MediaChoice>,
    },
}

/// One URL to try for an item, with the source that proposed it and what must hold for its
/// bytes to be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Source name, e.g. `enclosure`.
    pub source: &'static str,
    /// Absolute http(s) URL.
    pub url: Url,
    /// Declared MIME type, used for the file extension.
    pub mime_type: Option<String>,
    /// Exact size in bytes when the source vouches for it (an alternate enclosure's
    /// `length`); an RSS enclosure's advisory `length` is not used.
    pub length: Option<u64>,
    /// `podcast:integrity` hash the bytes must match.
    pub integrity: Option<Integrity>,
    /// Who moves the bytes.
    pub fetch: Fetch,
}

impl Candidate {
    /// A plain HTTP candidate without length or integrity.
    pub fn http(source: &'static str, url: Url, mime_type: Option<String>) -> Candidate {
        Candidate { source, url, mime_type, length: None, integrity: None, fetch: Fetch::Http }
    }

    /// Checks a downloaded file: not a document (`text/html`, JSON, XML: an error page or
    /// a web page served with 200), not empty, of the exact length and integrity hash when
    /// known. `sha256_hex` is the transfer's own hash of the file (lowercase hex);
    /// `content_type` the response's. Errors: the
    /// reason the bytes are not this episode; the caller deletes the file.
    pub async fn verify(
        &self,
        path: &std::path::Path,
        size: u64,
        sha256_hex: &str,
        content_type: Option<&str>,
    ) -> Result<(), String> {
        if let Some(ct) = content_type.filter(|ct| check::is_document_type(ct)) {
            return Err(format!("not media: {ct}"));
        }
        if size == 0 {
            return Err("empty body".into());
        }
        if let Some(expected) = self.length.filter(|_| self.integrity.is_none()) {
            if expected != size {
                return Err(format!("length {size} bytes, expected {expected}"));
            }
        }
        match &self.integrity {
            Some(integrity) => integrity.verify_file(path, sha256_hex).await,
            None => Ok(()),
        }
    }
}

/// What one source run found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Candidate URLs, best first (checked by the cascade, not by the source).
    pub candidates: Vec<Candidate>,
    /// What the source has to say beyond its candidates (per-provider results, the agent's
    /// final message).
    pub note: Option<String>,
}

/// Errors of one source run; each is recorded as that source's outcome, never stopping the
/// cascade.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The request failed (connect, reset, timeout). Transient.
    #[error("request failed: {}", crate::error_chain::Chain(.0))]
    Http(#[from] reqwest::Error),
    /// An error status. Transient for 408, 429 and 5xx.
    #[error("HTTP {status} from {url}")]
    Status {
        /// The status code.
        status: u16,
        /// The URL asked (never carries credentials: they travel in headers).
        url: String,
    },
    /// The source used up its request budget ([`Limits::max_requests`]). Expected.
    #[error("request cap of {0} reached")]
    Budget(u32),
    /// The source ran past [`Limits::deadline`]. Transient.
    #[error("no answer within {0:?}")]
    Deadline(Duration),
    /// An answer that could not be read (bad JSON, feed parse error). Expected.
    #[error("unreadable answer: {0}")]
    Parse(String),
    /// A subprocess failed (yt-dlp). Transient for stalls and deadlines.
    #[error(transparent)]
    Subprocess(#[from] crate::download::subprocess::SubprocessError),
    /// The subprocess ran but reported an error (yt-dlp's `ERROR: ...`). Expected.
    #[error("{0}")]
    Tool(String),
}

impl SourceError {
    /// Transient errors (network, 408/429/5xx, deadline, a stalled subprocess) may pass on a
    /// later attempt; the rest are expected (ARCHITECTURE.md convention 2).
    pub fn is_transient(&self) -> bool {
        match self {
            SourceError::Http(_) | SourceError::Deadline(_) => true,
            SourceError::Status { status, .. } => *status == 408 || *status == 429 || *status >= 500,
            SourceError::Subprocess(e) => e.is_transient(),
            SourceError::Budget(_) | SourceError::Parse(_) | SourceError::Tool(_) => false,
        }
    }
}

/// Bounds of one source run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// HTTP requests the source may send (checks of its candidates not included).
    pub max_requests: u32,
    /// Wall-clock bound of the run.
    pub deadline: Duration,
}

/// What a source may use: the shared HTTP client, settings, the clock and the item's feed.
#[derive(Clone, Debug)]
pub struct ResolveCtx {
    /// The engine's HTTP client.
    pub client: reqwest::Client,
    /// Settings (base URLs, credentials, yt-dlp, agent, subprocess windows).
    pub config: Arc<Config>,
    /// Wall clock (podcastindex's `X-Auth-Date`).
    pub clock: Arc<dyn Clock>,
    /// Ends every source at once.
    pub cancel: CancellationToken,
    /// The playlist (feed) URL the item came from.
    pub feed_url: Option<Url>,
    /// The playlist's title (index searches).
    pub feed_title: Option<String>,
}

/// A source of candidate media URLs (convention 10).
pub trait Source: Send + Sync {
    /// Short name shown in [`DownloadFailed`], e.g. `enclosure`.
    fn name(&self) -> &'static str;
    /// `Ok` when the source may help with `item`; `Err(reason)` when it is skipped.
    fn suitable(&self, item: &ItemRow, ctx: &ResolveCtx) -> Result<(), String>;
    /// Time and request bounds of one run.
    fn limits(&self) -> Limits {
        Limits { max_requests: 10, deadline: Duration::from_secs(30) }
    }
    /// Candidate URLs, best first. HTTP goes through `http`, which enforces the budget.
    fn resolve<'a>(
        &'a self,
        item: &'a ItemRow,
        ctx: &'a ResolveCtx,
        http: &'a http::Http,
    ) -> BoxFuture<'a, Result<Found, SourceError>>;
}

/// Where a walk stands: the outcomes so far and the next source to ask. A downloader whose
/// candidates all failed continues the walk from here ([`Cascade::resume`]).
#[derive(Debug, Clone, Default)]
pub struct Walk {
    /// Index of the next source in the registry.
    pub next: usize,
    /// Outcomes of the sources walked, in order.
    pub outcomes: Vec<SourceOutcome>,
    /// URLs already proposed; later sources' repeats are dropped.
    pub seen: HashSet<String>,
    /// The agent's final message, if it ran.
    pub agent_message: Option<String>,
}

impl Walk {
    /// Records that the downloader rejected `url` of `source` (transfer error, wrong type,
    /// length or integrity).
    pub fn reject(&mut self, source: &str, url: &str, reason: String) {
        let mut f = DownloadFailed {
            item: 0,
            sources_tried: std::mem::take(&mut self.outcomes),
            direct_error: None,
            agent_message: None,
        };
        f.reject(source, url, reason);
        self.outcomes = f.sources_tried;
    }

    /// The failure naming every source walked (the rest of the registry was not reached
    /// only when a transient error ended the attempt).
    pub fn failed(self, item: u64) -> DownloadFailed {
        let direct_error = self
            .outcomes
            .iter()
            .find(|o| o.source == known::NAME && !matches!(o.outcome, Outcome::Skipped(_)))
            .map(|o| o.outcome.to_string());
        DownloadFailed { item, sources_tried: self.outcomes, direct_error, agent_message: self.agent_message }
    }
}

/// The result of a cascade walk.
#[derive(Debug)]
pub enum Resolution {
    /// Candidates of the first source that had any, best first, and where the walk stands.
    Found {
        /// Candidates to download, in order (checked, except the known enclosure: its own
        /// transfer checks it, sparing a request per item).
        candidates: Vec<Candidate>,
        /// The walk, to continue if every candidate fails.
        walk: Walk,
    },
    /// No source had a working candidate.
    Failed(DownloadFailed),
    /// The cancel token fired during the walk.
    Cancelled,
}

/// The ordered registry of sources.
pub struct Cascade {
    sources: Vec<Box<dyn Source>>,
}

impl Cascade {
    /// A cascade over `sources` in the given order.
    pub fn new(sources: Vec<Box<dyn Source>>) -> Cascade {
        Cascade { sources }
    }

    /// Every source in the standard order (module docs); each decides in `suitable()`
    /// whether the settings let it run (credentials, a yt-dlp binary, an agent endpoint).
    pub fn standard() -> Cascade {
        Cascade::new(vec![
            Box::new(KnownEnclosure),
            Box::new(AlternateEnclosures),
            Box::new(feed::RefetchedFeed),
            Box::new(page::EpisodePage),
            Box::new(index::Indexes::standard()),
            Box::new(ytdlp::YtDlp),
            Box::new(agent::Agent),
        ])
    }

    /// Source names in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.sources.iter().map(|s| s.name()).collect()
    }

    /// Walks the sources for item `item_id` from the first (module docs). Never fails as a
    /// call: every source's error becomes its outcome.
    pub async fn resolve(&self, item_id: u64, item: &ItemRow, ctx: &ResolveCtx) -> Resolution {
        self.resume(item_id, item, ctx, Walk::default()).await
    }

    /// Continues `walk` with its next source.
    pub async fn resume(&self, item_id: u64, item: &ItemRow, ctx: &ResolveCtx, mut walk: Walk) -> Resolution {
        while let Some(source) = self.sources.get(walk.next) {
            walk.next += 1;
            let name = source.name();
            if let Err(reason) = source.suitable(item, ctx) {
                walk.outcomes.push(SourceOutcome::new(name, Outcome::Skipped(reason)));
                continue;
            }
            let limits = source.limits();
            let http = http::Http::new(ctx.client.clone(), limits.max_requests, ctx.cancel.clone());
            let run = tokio::time::timeout(limits.deadline, source.resolve(item, ctx, &http));
            let result = tokio::select! {
                biased;
                _ = ctx.cancel.cancelled() => return Resolution::Cancelled,
                r = run => r.unwrap_or(Err(SourceError::Deadline(limits.deadline))),
            };
            let found = match result {
                Ok(found) => found,
                Err(e) => {
                    tracing::debug!(source = name, item = item_id, error = %e, "resolver source failed");
                    walk.outcomes.push(SourceOutcome::new(name, Outcome::Error(e.to_string())));
                    continue;
                }
            };
            if name == agent::NAME {
                walk.agent_message = found.note.clone();
            }
            let mut checked = Vec::new();
            let mut rejected = Vec::new();
            for candidate in found.candidates {
                if !walk.seen.insert(candidate.url.to_string()) {
                    continue; // an earlier source already proposed this URL
                }
                if ctx.cancel.is_cancelled() {
                    return Resolution::Cancelled;
                }
                if name == known::NAME {
                    checked.push(candidate); // checked in-band by its own transfer
                    continue;
                }
                match check::probe(&ctx.client, &candidate).await {
                    Ok(()) => checked.push(candidate),
                    Err(reason) => rejected.push((candidate.url.to_string(), reason)),
                }
            }
            if let Some(first) = checked.first() {
                walk.outcomes
                    .push(SourceOutcome::new(name, Outcome::Found { url: first.url.to_string(), rejected }));
                return Resolution::Found { candidates: checked, walk };
            }
            let outcome =
                if rejected.is_empty() { Outcome::Nothing(found.note) } else { Outcome::Rejected(rejected) };
            walk.outcomes.push(SourceOutcome::new(name, outcome));
        }
        Resolution::Failed(walk.failed(item_id))
    }
}

/// Parses `raw` as an absolute http(s) URL.
pub(crate) fn http_url(raw: &str) -> Option<Url> {
    Url::parse(raw.trim()).ok().filter(|u| matches!(u.scheme(), "http" | "https"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A context with default settings for unit tests (no request is sent by them).
    pub(crate) fn ctx() -> ResolveCtx {
        let config = Config { fyyd_enabled: false, ..Config::default() };
        ResolveCtx {
            client: crate::download::build_client(&config.user_agent),
            config: Arc::new(config),
            clock: Arc::new(crate::clock::ManualClock::new(0)),
            cancel: CancellationToken::new(),
            feed_url: None,
            feed_title: None,
        }
    }

    #[test]
    fn error_classes() {
        let status = |s: u16| SourceError::Status { status: s, url: "http://a/".into() };
        let cases = [
            (status(404), false),
            (status(401), false),
            (status(429), true),
            (status(503), true),
            (SourceError::Budget(30), false),
            (SourceError::Deadline(Duration::from_secs(1)), true),
            (SourceError::Parse("x".into()), false),
            (
                SourceError::Subprocess(crate::download::subprocess::SubprocessError::Cancelled {
                    program: "yt-dlp".into(),
                }),
                false,
            ),
        ];
        for (e, transient) in cases {
            assert_eq!(e.is_transient(), transient, "{e}");
        }
    }

    #[test]
    fn walk_failure_names_the_known_enclosure_error() {
        let mut walk = Walk::default();
        walk.outcomes.push(SourceOutcome::new(
            "enclosure",
            Outcome::Found { url: "http://a/1.mp3".into(), rejected: vec![] },
        ));
        walk.reject("enclosure", "http://a/1.mp3", "HTTP status 404 Not Found from http://a/1.mp3".into());
        walk.outcomes
            .push(SourceOutcome::new("alternate", Outcome::Skipped("no alternate enclosures".into())));
        let f = walk.failed(3);
        assert_eq!(
            f.direct_error.as_deref(),
            Some("rejected http://a/1.mp3 (HTTP status 404 Not Found from http://a/1.mp3)")
        );
        assert_eq!(f.sources_tried.len(), 2);
    }

    #[test]
    fn the_standard_registry_order() {
        assert_eq!(
            Cascade::standard().names(),
            ["enclosure", "alternate", "feed", "page", "index", "yt-dlp", "agent"]
        );
    }
}
