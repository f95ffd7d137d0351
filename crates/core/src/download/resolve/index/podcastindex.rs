//! podcastindex.org (<https://podcastindex-org.github.io/docs-api/>). Every request carries
//! `User-Agent`, `X-Auth-Key` (the API key), `X-Auth-Date` (Unix seconds from the injected
//! clock) and `Authorization` = lowercase hex SHA-1 of key + secret + date. The lookup asks
//! `/episodes/byguid?guid=..&feedurl=..` first; when that knows nothing it searches the show
//! with `/search/byterm?q=<show title>`, and reads `/episodes/byfeedid?id=..` of up to
//! [`MAX_FEEDS`] matching feeds for the episode by guid, else title. Key and secret are only
//! ever put in headers; errors show URLs and statuses, never headers.

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, USER_AGENT};
use sha1::{Digest, Sha1};
use url::Url;

use super::{hit, same_title, EpisodeIndex, Hit, Query};
use crate::config::Config;
use crate::download::resolve::http::Http;
use crate::download::resolve::{ResolveCtx, SourceError};

/// Feeds of a term search whose episodes are read.
pub const MAX_FEEDS: usize = 3;

/// The podcastindex.org provider.
#[derive(Debug, Default)]
pub struct PodcastIndex;

/// `Authorization` value: lowercase hex SHA-1 of `key + secret + date`.
pub fn auth_hash(key: &str, secret: &str, date: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(secret.as_bytes());
    h.update(date.as_bytes());
    hex::encode(h.finalize())
}

fn headers(ctx: &ResolveCtx) -> Result<HeaderMap, SourceError> {
    let c = &ctx.config;
    let (Some(key), Some(secret)) = (&c.podcastindex_key, &c.podcastindex_secret) else {
        return Err(SourceError::Tool("no credentials".into()));
    };
    let date = (ctx.clock.now_ms() / 1000).to_string();
    let value = |s: &str| {
        HeaderValue::from_str(s)
            .map_err(|_| SourceError::Tool("credentials contain characters not allowed in a header".into()))
    };
    let mut h = HeaderMap::new();
    h.insert(USER_AGENT, value(&c.user_agent)?);
    let mut key_value = value(key.expose())?;
    key_value.set_sensitive(true);
    h.insert(HeaderName::from_static("x-auth-key"), key_value);
    h.insert(HeaderName::from_static("x-auth-date"), value(&date)?);
    let mut auth = value(&auth_hash(key.expose(), secret.expose(), &date))?;
    auth.set_sensitive(true);
    h.insert(AUTHORIZATION, auth);
    Ok(h)
}

fn endpoint(config: &Config, path: &str, query: &[(&str, &str)]) -> Result<Url, SourceError> {
    let base = config.podcastindex_base_url.trim_end_matches('/');
    let mut url = Url::parse(&format!("{base}{path}"))
        .map_err(|e| SourceError::Tool(format!("podcastindex_base_url: {e}")))?;
    url.query_pairs_mut().extend_pairs(query);
    Ok(url)
}

/// The hit of one episode object (`enclosureUrl`, `enclosureType`).
fn episode_hit(e: &serde_json::Value) -> Option<Hit> {
    hit(e.get("enclosureUrl")?.as_str(), e.get("enclosureType").and_then(|t| t.as_str()))
}

impl EpisodeIndex for PodcastIndex {
    fn name(&self) -> &'static str {
        "podcastindex"
    }

    fn configured(&self, config: &Config) -> Result<(), String> {
        match (&config.podcastindex_key, &config.podcastindex_secret) {
            (Some(k), Some(s)) if !k.expose().is_empty() && !s.expose().is_empty() => Ok(()),
            _ => Err("no API key and secret".into()),
        }
    }

    fn lookup<'a>(
        &'a self,
        q: &'a Query,
        ctx: &'a ResolveCtx,
        http: &'a Http,
    ) -> BoxFuture<'a, Result<Vec<Hit>, SourceError>> {
        async move {
            let config = &ctx.config;
            if let Some(guid) = &q.guid {
                let feed = q.feed_url.as_ref().map(Url::as_str).unwrap_or("");
                let mut params = vec![("guid", guid.as_str())];
                if !feed.is_empty() {
                    params.push(("feedurl", feed));
                }
                let json =
                    http.get_json(&endpoint(config, "/episodes/byguid", &params)?, headers(ctx)?).await?;
                if let Some(h) = json.get("episode").and_then(episode_hit) {
                    return Ok(vec![h]);
                }
            }
            let Some(term) = q.feed_title.as_deref().or(q.title.as_deref()) else { return Ok(vec![]) };
            let json =
                http.get_json(&endpoint(config, "/search/byterm", &[("q", term)])?, headers(ctx)?).await?;
            let feeds = json.get("feeds").and_then(|f| f.as_array()).cloned().unwrap_or_default();
            // the feed we know first, then title matches
            let mut ids: Vec<(bool, i64)> = feeds
                .iter()
                .filter_map(|f| {
                    let id = f.get("id")?.as_i64()?;
                    let same_url = q
                        .feed_url
                        .as_ref()
                        .is_some_and(|u| f.get("url").and_then(|x| x.as_str()) == Some(u.as_str()));
                    let same_show = q
                        .feed_title
                        .as_deref()
                        .zip(f.get("title").and_then(|t| t.as_str()))
                        .is_some_and(|(a, b)| same_title(a, b));
                    (same_url || same_show).then_some((!same_url, id))
                })
                .collect();
            ids.sort();
            let mut hits = Vec::new();
            for (_, id) in ids.into_iter().take(MAX_FEEDS) {
                let id = id.to_string();
                let json = http
                    .get_json(
                        &endpoint(config, "/episodes/byfeedid", &[("id", &id), ("max", "1000")])?,
                        headers(ctx)?,
                    )
                    .await?;
                let items = json.get("items").and_then(|i| i.as_array()).cloned().unwrap_or_default();
                let found = items
                    .iter()
                    .find(|e| q.guid.is_some() && e.get("guid").and_then(|g| g.as_str()) == q.guid.as_deref())
                    .or_else(|| {
                        items.iter().find(|e| {
                            q.title
                                .as_deref()
                                .zip(e.get("title").and_then(|t| t.as_str()))
                                .is_some_and(|(a, b)| same_title(a, b))
                        })
                    });
                if let Some(h) = found.and_then(episode_hit) {
                    if !hits.contains(&h) {
                        hits.push(h);
                    }
                }
            }
            Ok(hits)
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_hash_is_lowercase_hex_sha1_of_key_secret_date() {
        // sha1("abc") is the FIPS 180 test vector
        assert_eq!(auth_hash("a", "b", "c"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(auth_hash("", "", ""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }
}
