//! The re-fetched feed: the publisher may have moved the file since the last sync. The feed
//! is fetched again (one request), parsed with the catalog's own parser
//! (`catalog::parse_document`), and the item is found by guid (else by exact title when the
//! item has no guid); its current enclosure and alternate enclosures become candidates. URLs
//! the cascade already tried are dropped by the cascade.

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use reqwest::header::HeaderMap;

use super::http::Http;
use super::{alternate, http_url, Candidate, Found, Limits, ResolveCtx, Source, SourceError};
use crate::catalog::{parse_document, Document, ParsedItem};
use crate::store::ItemRow;

/// Name of this source.
pub const NAME: &str = "feed";

/// The item as the feed lists it now.
#[derive(Debug, Default)]
pub struct RefetchedFeed;

/// The entry of `items` that is `item`: same guid, else (no guid) same title.
pub fn find_entry<'a>(items: &'a [ParsedItem], item: &ItemRow) -> Option<&'a ParsedItem> {
    match &item.guid {
        Some(guid) => items.iter().find(|p| p.guid.as_deref() == Some(guid.as_str())),
        None => {
            item.title.as_ref().and_then(|t| items.iter().find(|p| p.title.as_deref() == Some(t.as_str())))
        }
    }
}

impl Source for RefetchedFeed {
    fn name(&self) -> &'static str {
        NAME
    }

    fn suitable(&self, item: &ItemRow, ctx: &ResolveCtx) -> Result<(), String> {
        match &ctx.feed_url {
            Some(u) if matches!(u.scheme(), "http" | "https") => {}
            Some(u) => return Err(format!("playlist is not fetched over http(s): {}", u.scheme())),
            None => return Err("no playlist URL".into()),
        }
        if item.guid.is_none() && item.title.is_none() {
            return Err("item has neither guid nor title".into());
        }
        Ok(())
    }

    fn limits(&self) -> Limits {
        Limits { max_requests: 1, deadline: std::time::Duration::from_secs(60) }
    }

    fn resolve<'a>(
        &'a self,
        item: &'a ItemRow,
        ctx: &'a ResolveCtx,
        http: &'a Http,
    ) -> BoxFuture<'a, Result<Found, SourceError>> {
        async move {
            let Some(feed_url) = &ctx.feed_url else { return Ok(Found::default()) };
            let page = http.get(feed_url, HeaderMap::new()).await?;
            let doc =
                parse_document(&page.bytes, &page.url).map_err(|e| SourceError::Parse(e.to_string()))?;
            let Document::Playlist(playlist) = doc else {
                return Err(SourceError::Parse("not a feed any more".into()));
            };
            let Some(entry) = find_entry(&playlist.items, item) else {
                return Ok(Found {
                    candidates: vec![],
                    note: Some("the item is no longer in the feed".into()),
                });
            };
            let mut candidates: Vec<Candidate> = entry
                .enclosure
                .iter()
                .filter_map(|e| Some(Candidate::http(NAME, http_url(&e.url)?, e.mime_type.clone())))
                .collect();
            let now =
                ItemRow { alternate_enclosures: entry.alternate_enclosures.clone(), ..Default::default() };
            candidates
                .extend(alternate::candidates(&now).into_iter().map(|c| Candidate { source: NAME, ..c }));
            Ok(Found { candidates, note: None })
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_cases() {
        let p = |guid: Option<&str>, title: &str| ParsedItem {
            guid: guid.map(str::to_string),
            title: Some(title.into()),
            ..Default::default()
        };
        let items = vec![p(Some("g-1"), "One"), p(None, "Two"), p(Some("g-3"), "Three")];
        let item = |guid: Option<&str>, title: Option<&str>| ItemRow {
            guid: guid.map(str::to_string),
            title: title.map(str::to_string),
            ..Default::default()
        };
        // (item, expected title of the entry found)
        let cases = [
            (item(Some("g-3"), Some("Renamed")), Some("Three")),
            (item(Some("g-9"), Some("One")), None), // a guid decides alone
            (item(None, Some("Two")), Some("Two")),
            (item(None, Some("Nine")), None),
        ];
        for (item, expected) in cases {
            assert_eq!(find_entry(&items, &item).and_then(|e| e.title.as_deref()), expected, "{item:?}");
        }
    }
}
