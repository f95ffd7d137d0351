//! `podcast:alternateEnclosure` sources (Podcasting 2.0,
//! <https://podcastindex.org/namespace/1.0#alternate-enclosure>): the default alternative
//! first, then document order. Stream manifests (HLS `application/x-mpegURL`, DASH) and
//! non-HTTP sources (IPFS, torrents) are skipped: they are not single files.

use super::{http_url, Candidate, Source};
use crate::store::ItemRow;

/// Alternatives the feed declared for the item.
#[derive(Debug, Default)]
pub struct AlternateEnclosures;

fn is_stream(mime: Option<&str>) -> bool {
    mime.is_some_and(|m| {
        let m = m.to_ascii_lowercase();
        m.contains("mpegurl") || m.contains("dash+xml")
    })
}

impl Source for AlternateEnclosures {
    fn name(&self) -> &'static str {
        "alternate"
    }

    fn suitable(&self, item: &ItemRow) -> bool {
        !self.resolve(item).is_empty()
    }

    fn resolve(&self, item: &ItemRow) -> Vec<Candidate> {
        let mut alternates: Vec<_> = item.alternate_enclosures.iter().filter(|a| !is_stream(a.mime_type.as_deref())).collect();
        alternates.sort_by_key(|a| !a.default);
        alternates
            .into_iter()
            .flat_map(|a| a.sources.iter().filter_map(move |s| Some(Candidate { source: self.name(), url: http_url(s)?, mime_type: a.mime_type.clone() })))
            .collect()
    }
}
