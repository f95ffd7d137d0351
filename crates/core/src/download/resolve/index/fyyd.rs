//! fyyd.de (<https://github.com/eazyliving/fyyd-api>): `GET /0.2/search/episode` needs no
//! key. The lookup asks by `guid`, then by the stale enclosure `url`, then by `title`
//! (keeping only exact title matches), stopping at the first query with hits. Each answer is
//! `{"status": 1, "data": [{"enclosure": url, "content_type": mime, "title", "guid"}...]}`.

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use reqwest::header::{HeaderMap, HeaderValue, USER_AGENT};
use url::Url;

use super::{hit, same_title, EpisodeIndex, Hit, Query};
use crate::config::Config;
use crate::download::resolve::http::Http;
use crate::download::resolve::{ResolveCtx, SourceError};

/// The fyyd.de provider.
#[derive(Debug, Default)]
pub struct Fyyd;

impl EpisodeIndex for Fyyd {
    fn name(&self) -> &'static str {
        "fyyd"
    }

    fn configured(&self, config: &Config) -> Result<(), String> {
        if config.fyyd_enabled {
            Ok(())
        } else {
            Err("disabled (fyyd_enabled = false)".into())
        }
    }

    fn lookup<'a>(
        &'a self,
        q: &'a Query,
        ctx: &'a ResolveCtx,
        http: &'a Http,
    ) -> BoxFuture<'a, Result<Vec<Hit>, SourceError>> {
        async move {
            let base = ctx.config.fyyd_base_url.trim_end_matches('/');
            let endpoint = Url::parse(&format!("{base}/0.2/search/episode"))
                .map_err(|e| SourceError::Tool(format!("fyyd_base_url: {e}")))?;
            let mut headers = HeaderMap::new();
            if let Ok(ua) = HeaderValue::from_str(&ctx.config.user_agent) {
                headers.insert(USER_AGENT, ua);
            }
            let queries = [
                ("guid", q.guid.as_deref()),
                ("url", q.enclosure_url.as_deref()),
                ("title", q.title.as_deref()),
            ];
            for (key, value) in queries {
                let Some(value) = value.filter(|v| !v.is_empty()) else { continue };
                let mut url = endpoint.clone();
                url.query_pairs_mut().append_pair(key, value);
                let json = http.get_json(&url, headers.clone()).await?;
                let data = json.get("data").and_then(|d| d.as_array()).cloned().unwrap_or_default();
                let hits: Vec<Hit> = data
                    .iter()
                    .filter(|e| {
                        key != "title"
                            || e.get("title").and_then(|t| t.as_str()).is_some_and(|t| same_title(t, value))
                    })
                    .filter_map(|e| {
                        hit(
                            e.get("enclosure").and_then(|u| u.as_str()),
                            e.get("content_type").and_then(|t| t.as_str()),
                        )
                    })
                    .collect();
                if !hits.is_empty() {
                    return Ok(hits);
                }
            }
            Ok(vec![])
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_cases() {
        let cases = [(true, true), (false, false)];
        for (enabled, ok) in cases {
            let config = Config { fyyd_enabled: enabled, ..Config::default() };
            assert_eq!(Fyyd.configured(&config).is_ok(), ok);
        }
    }
}
