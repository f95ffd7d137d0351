//! The known enclosure: the media URL the feed gave (`<enclosure>`, Atom enclosure link,
//! `media:content`, a playlist entry). First in the cascade.

use super::{http_url, Candidate, Source};
use crate::store::ItemRow;

/// The item's own enclosure URL.
#[derive(Debug, Default)]
pub struct KnownEnclosure;

impl Source for KnownEnclosure {
    fn name(&self) -> &'static str {
        "enclosure"
    }

    fn suitable(&self, item: &ItemRow) -> bool {
        item.enclosure.as_ref().is_some_and(|e| http_url(&e.url).is_some())
    }

    fn resolve(&self, item: &ItemRow) -> Vec<Candidate> {
        item.enclosure
            .iter()
            .filter_map(|e| Some(Candidate { source: self.name(), url: http_url(&e.url)?, mime_type: e.mime_type.clone() }))
            .collect()
    }
}
