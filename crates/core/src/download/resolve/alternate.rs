//! `podcast:alternateEnclosure` sources (Podcasting 2.0,
//! <https://podcastindex.org/namespace/1.0#alternate-enclosure>): the default alternative
//! first, then document order. Only http(s) `podcast:source`s are used: IPFS and torrent
//! sources are skipped, as are stream manifests (HLS `application/x-mpegURL`, DASH), which are
//! not single files. A declared `length` becomes the candidate's exact length and a
//! `podcast:integrity` SRI value its integrity check, applied after the download.

use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use super::http::Http;
use super::{http_url, Candidate, Fetch, Found, Integrity, Limits, ResolveCtx, Source, SourceError};
use crate::store::ItemRow;

/// Name of this source.
pub const NAME: &str = "alternate";

/// Alternatives the feed declared for the item.
#[derive(Debug, Default)]
pub struct AlternateEnclosures;

fn is_stream(mime: Option<&str>) -> bool {
    mime.is_some_and(|m| {
        let m = m.to_ascii_lowercase();
        m.contains("mpegurl") || m.contains("dash+xml")
    })
}

/// The item's usable alternatives as candidates, default first.
pub fn candidates(item: &ItemRow) -> Vec<Candidate> {
    let mut alternates: Vec<_> =
        item.alternate_enclosures.iter().filter(|a| !is_stream(a.mime_type.as_deref())).collect();
    alternates.sort_by_key(|a| !a.default);
    alternates
        .into_iter()
        .flat_map(|a| {
            let integrity = a.integrity.as_deref().and_then(Integrity::parse);
            a.sources.iter().filter_map(move |s| {
                Some(Candidate {
                    source: NAME,
                    url: http_url(s)?,
                    mime_type: a.mime_type.clone(),
                    length: a.length.filter(|l| *l > 0),
                    integrity: integrity.clone(),
                    fetch: Fetch::Http,
                })
            })
        })
        .collect()
}

impl Source for AlternateEnclosures {
    fn name(&self) -> &'static str {
        NAME
    }

    fn suitable(&self, item: &ItemRow, _ctx: &ResolveCtx) -> Result<(), String> {
        if item.alternate_enclosures.is_empty() {
            Err("no alternate enclosures".into())
        } else if candidates(item).is_empty() {
            Err("no http(s) alternate sources".into())
        } else {
            Ok(())
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
        let candidates = candidates(item);
        async move { Ok(Found { candidates, note: None }) }.boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::AlternateEnclosure;

    fn alt(mime: &str, default: bool, sources: &[&str], integrity: Option<&str>) -> AlternateEnclosure {
        AlternateEnclosure {
            mime_type: Some(mime.into()),
            default,
            length: Some(100),
            sources: sources.iter().map(|s| s.to_string()).collect(),
            integrity: integrity.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn cases() {
        let sha = "sri:sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        // (alternates, expected (url, has integrity))
        type Case = (Vec<AlternateEnclosure>, Vec<(&'static str, bool)>);
        let cases: Vec<Case> = vec![
            (vec![], vec![]),
            (
                vec![alt(
                    "audio/opus",
                    false,
                    &["http://b/1.opus", "ipfs://x", "magnet:?xt=urn:btih:x"],
                    None,
                )],
                vec![("http://b/1.opus", false)],
            ),
            (
                vec![
                    alt("audio/aac", false, &["https://c/1.aac"], None),
                    alt("audio/mpeg", true, &["https://d/1.mp3"], Some(sha)),
                ],
                vec![("https://d/1.mp3", true), ("https://c/1.aac", false)],
            ),
            (vec![alt("application/x-mpegURL", true, &["http://c/1.m3u8"], None)], vec![]),
            (
                vec![alt("audio/mpeg", false, &["http://a/1.mp3"], Some("pgp-signature:xyz"))],
                vec![("http://a/1.mp3", false)],
            ),
        ];
        for (alternates, expected) in cases {
            let item = ItemRow { alternate_enclosures: alternates, ..Default::default() };
            let got: Vec<(String, bool)> =
                candidates(&item).into_iter().map(|c| (c.url.to_string(), c.integrity.is_some())).collect();
            let expected: Vec<(String, bool)> =
                expected.into_iter().map(|(u, i)| (u.to_string(), i)).collect();
            assert_eq!(got, expected);
        }
    }
}
