//! Podcast indexes behind one trait ([`EpisodeIndex`]): podcastindex.org ([`podcastindex`])
//! and fyyd.de ([`fyyd`]). The [`Indexes`] source asks every configured provider at once
//! (fan-out), each under its own deadline ([`PROVIDER_DEADLINE`]), and merges their hits in
//! provider order without repeated URLs. A provider without credentials (or disabled) is
//! skipped; a provider's error is noted and never stops the others. Every provider's result
//! goes into the source's note, e.g. `podcastindex: skipped (no API key and secret); fyyd: 1
//! result`.

pub mod fyyd;
pub mod podcastindex;

use std::time::Duration;

use futures_util::future::{join_all, BoxFuture};
use futures_util::FutureExt;
use url::Url;

use super::http::Http;
use super::{http_url, Candidate, Found, Limits, ResolveCtx, Source, SourceError};
use crate::config::Config;
use crate::store::ItemRow;

/// Name of this source.
pub const NAME: &str = "index";

/// Bound on one provider's lookup.
pub const PROVIDER_DEADLINE: Duration = Duration::from_secs(30);

/// What is known about the episode to look it up by.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// The item's guid.
    pub guid: Option<String>,
    /// The episode title.
    pub title: Option<String>,
    /// The feed URL.
    pub feed_url: Option<Url>,
    /// The show's title.
    pub feed_title: Option<String>,
    /// The (stale) enclosure URL.
    pub enclosure_url: Option<String>,
}

impl Query {
    /// The query for `item` of the feed in `ctx`.
    pub fn of(item: &ItemRow, ctx: &ResolveCtx) -> Query {
        Query {
            guid: item.guid.clone(),
            title: item.title.clone(),
            feed_url: ctx.feed_url.clone(),
            feed_title: ctx.feed_title.clone(),
            enclosure_url: item.enclosure.as_ref().map(|e| e.url.clone()),
        }
    }
}

/// One episode an index knows, with its media URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Media URL.
    pub url: Url,
    /// Declared MIME type.
    pub mime_type: Option<String>,
}

/// A podcast index that can find an episode's media URL.
pub trait EpisodeIndex: Send + Sync {
    /// Provider name, e.g. `podcastindex`.
    fn name(&self) -> &'static str;
    /// `Ok` when the settings let it run; `Err(reason)` to skip it (no credentials, disabled).
    fn configured(&self, config: &Config) -> Result<(), String>;
    /// Hits for `query`, best first.
    fn lookup<'a>(
        &'a self,
        query: &'a Query,
        ctx: &'a ResolveCtx,
        http: &'a Http,
    ) -> BoxFuture<'a, Result<Vec<Hit>, SourceError>>;
}

/// The indexes source: every provider, fanned out.
pub struct Indexes {
    providers: Vec<Box<dyn EpisodeIndex>>,
}

impl Indexes {
    /// podcastindex.org, then fyyd.de.
    pub fn standard() -> Indexes {
        Indexes::new(vec![Box::new(podcastindex::PodcastIndex), Box::new(fyyd::Fyyd)])
    }

    /// The given providers, in merge order.
    pub fn new(providers: Vec<Box<dyn EpisodeIndex>>) -> Indexes {
        Indexes { providers }
    }
}

/// Makes a hit from a JSON string field holding a URL.
pub(crate) fn hit(url: Option<&str>, mime: Option<&str>) -> Option<Hit> {
    Some(Hit { url: http_url(url?)?, mime_type: mime.filter(|m| !m.is_empty()).map(str::to_string) })
}

/// Case- and space-insensitive title equality.
pub(crate) fn same_title(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    norm(a) == norm(b)
}

impl Source for Indexes {
    fn name(&self) -> &'static str {
        NAME
    }

    fn suitable(&self, item: &ItemRow, ctx: &ResolveCtx) -> Result<(), String> {
        let reasons: Vec<String> = self
            .providers
            .iter()
            .filter_map(|p| p.configured(&ctx.config).err().map(|r| format!("{}: {r}", p.name())))
            .collect();
        if reasons.len() == self.providers.len() {
            return Err(if reasons.is_empty() { "no index providers".into() } else { reasons.join("; ") });
        }
        if item.guid.is_none() && item.title.is_none() {
            return Err("item has neither guid nor title".into());
        }
        Ok(())
    }

    fn limits(&self) -> Limits {
        Limits { max_requests: 12, deadline: PROVIDER_DEADLINE + Duration::from_secs(5) }
    }

    fn resolve<'a>(
        &'a self,
        item: &'a ItemRow,
        ctx: &'a ResolveCtx,
        http: &'a Http,
    ) -> BoxFuture<'a, Result<Found, SourceError>> {
        async move {
            let query = Query::of(item, ctx);
            let runs = self.providers.iter().map(|p| {
                let query = &query;
                async move {
                    if let Err(reason) = p.configured(&ctx.config) {
                        return (p.name(), Err(format!("skipped ({reason})")));
                    }
                    let r = tokio::time::timeout(PROVIDER_DEADLINE, p.lookup(query, ctx, http))
                        .await
                        .unwrap_or(Err(SourceError::Deadline(PROVIDER_DEADLINE)));
                    (p.name(), r.map_err(|e| format!("error: {e}")))
                }
            });
            let mut candidates: Vec<Candidate> = Vec::new();
            let mut notes = Vec::new();
            for (name, result) in join_all(runs).await {
                match &result {
                    Ok(hits) => tracing::debug!(provider = name, hits = hits.len(), "index lookup"),
                    Err(e) => tracing::debug!(provider = name, outcome = %e, "index lookup failed"),
                }
                match result {
                    Ok(hits) => {
                        notes.push(format!(
                            "{name}: {} result{}",
                            hits.len(),
                            if hits.len() == 1 { "" } else { "s" }
                        ));
                        for h in hits {
                            if !candidates.iter().any(|c| c.url == h.url) {
                                candidates.push(Candidate::http(NAME, h.url, h.mime_type));
                            }
                        }
                    }
                    Err(e) => notes.push(format!("{name}: {e}")),
                }
            }
            Ok(Found { candidates, note: Some(notes.join("; ")) })
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_and_hit_cases() {
        let titles = [
            ("Episode 1: The Answer", "episode 1:  the answer", true),
            ("Ep 1", "Ep 2", false),
            (" A ", "a", true),
        ];
        for (a, b, same) in titles {
            assert_eq!(same_title(a, b), same, "{a} / {b}");
        }
        let hits = [
            (Some("https://cdn/1.mp3"), Some("audio/mpeg"), Some(("https://cdn/1.mp3", Some("audio/mpeg")))),
            (Some("https://cdn/1.mp3"), Some(""), Some(("https://cdn/1.mp3", None))),
            (Some("ipfs://Qm"), None, None),
            (None, Some("audio/mpeg"), None),
        ];
        for (url, mime, expected) in hits {
            let got = hit(url, mime);
            assert_eq!(got.as_ref().map(|h| (h.url.as_str(), h.mime_type.as_deref())), expected);
        }
    }
}
