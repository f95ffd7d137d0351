//! The known enclosure: the media URL the feed gave (`<enclosure>`, Atom enclosure link,
//! `media:content`, a playlist entry). First in the cascade; the cascade's check (HEAD or a
//! ranged GET) decides whether it still answers with media. An RSS enclosure's `length` is
//! advisory (feeds often declare 0 or an old size), so it is not used as an exact length.

use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use super::http::Http;
use super::{http_url, Candidate, Found, Limits, ResolveCtx, Source, SourceError};
use crate::store::ItemRow;

/// Name of this source.
pub const NAME: &str = "enclosure";

/// The item's own enclosure URL.
#[derive(Debug, Default)]
pub struct KnownEnclosure;

impl Source for KnownEnclosure {
    fn name(&self) -> &'static str {
        NAME
    }

    fn suitable(&self, item: &ItemRow, _ctx: &ResolveCtx) -> Result<(), String> {
        match &item.enclosure {
            None => Err("no enclosure".into()),
            Some(e) if http_url(&e.url).is_none() => Err(format!("not an http(s) URL: {}", e.url)),
            Some(_) => Ok(()),
        }
    }

    fn limits(&self) -> Limits {
        Limits { max_requests: 0, deadline: std::time::Duration::from_secs(1) }
    }

    fn resolve<'a>(
        &'a self,
        item: &'a ItemRow,
        _ctx: &'a ResolveCtx,
        _http: &'a Http,
    ) -> BoxFuture<'a, Result<Found, SourceError>> {
        let candidates = item
            .enclosure
            .iter()
            .filter_map(|e| Some(Candidate::http(NAME, http_url(&e.url)?, e.mime_type.clone())))
            .collect();
        async move { Ok(Found { candidates, note: None }) }.boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Enclosure;

    #[test]
    fn cases() {
        let cx = crate::download::resolve::tests::ctx();
        let item = |url: Option<&str>| ItemRow {
            enclosure: url.map(|u| Enclosure {
                url: u.into(),
                length: Some(99),
                mime_type: Some("audio/mpeg".into()),
            }),
            ..Default::default()
        };
        // (enclosure, suitable, candidate URL)
        let cases = [
            (Some("https://cdn.example/ep1.mp3"), Ok(()), Some("https://cdn.example/ep1.mp3")),
            (Some("  http://a/ep 2.mp3 "), Ok(()), Some("http://a/ep%202.mp3")),
            (Some("ftp://a/1.mp3"), Err("not an http(s) URL: ftp://a/1.mp3".to_string()), None),
            (None, Err("no enclosure".to_string()), None),
        ];
        let http = Http::new(cx.client.clone(), 0, cx.cancel.clone());
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        for (url, suitable, candidate) in cases {
            let item = item(url);
            assert_eq!(KnownEnclosure.suitable(&item, &cx), suitable, "{url:?}");
            let found = rt.block_on(KnownEnclosure.resolve(&item, &cx, &http)).unwrap();
            assert_eq!(found.candidates.first().map(|c| c.url.as_str()), candidate);
            // an RSS length is advisory: never an exact length to enforce
            assert!(found.candidates.iter().all(|c| c.length.is_none()));
        }
    }
}
