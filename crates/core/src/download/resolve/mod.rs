//! The resolver cascade (ARCHITECTURE.md, convention 10): an ordered registry of sources,
//! each with `suitable()` and `resolve()`, turning a catalog item into candidate media URLs
//! tried in order: the known enclosure first, then `podcast:alternateEnclosure` sources. A
//! downloader moves to the next candidate when one fails with an expected error (404, 410...);
//! when all fail, [`DownloadFailed`] names every source and URL tried with its error.
//!
//! Sources here need no network; later ones (the re-fetched feed, the episode page, podcast
//! indexes, yt-dlp) join the same registry before the generic last resort.

mod alternate;
mod known;

use std::fmt;

use url::Url;

use crate::store::ItemRow;

pub use alternate::AlternateEnclosures;
pub use known::KnownEnclosure;

/// One URL to try for an item, with the source that proposed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Source name, e.g. `enclosure`.
    pub source: &'static str,
    /// Absolute http(s) URL.
    pub url: Url,
    /// Declared MIME type, used for the file extension.
    pub mime_type: Option<String>,
}

/// A source of candidate media URLs.
pub trait Source: Send + Sync {
    /// Short name shown in errors, e.g. `enclosure`.
    fn name(&self) -> &'static str;
    /// Whether this source has anything to offer for `item`.
    fn suitable(&self, item: &ItemRow) -> bool;
    /// Candidate URLs, best first. Unparsable or non-http URLs are skipped.
    fn resolve(&self, item: &ItemRow) -> Vec<Candidate>;
}

/// One failed try: which source, which URL, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tried {
    /// Source name.
    pub source: &'static str,
    /// The URL tried, if the source produced one.
    pub url: Option<String>,
    /// The error.
    pub error: String,
}

/// Every source failed for an item. Display: `no source worked: enclosure <url>: HTTP 404;
/// alternate <url>: ...`, or `no media URL: ...` when no source was suitable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DownloadFailed {
    /// Each try in order.
    pub tried: Vec<Tried>,
}

impl fmt::Display for DownloadFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tried.iter().all(|t| t.url.is_none()) {
            f.write_str("no media URL")?;
        } else {
            f.write_str("no source worked")?;
        }
        for (i, t) in self.tried.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            match &t.url {
                Some(url) => write!(f, "{} {url}: {}", t.source, t.error)?,
                None => write!(f, "{}: {}", t.source, t.error)?,
            }
        }
        Ok(())
    }
}

/// The ordered registry of sources.
pub struct Cascade {
    sources: Vec<Box<dyn Source>>,
}

impl Default for Cascade {
    /// The known enclosure, then alternate enclosures.
    fn default() -> Self {
        Cascade { sources: vec![Box::new(KnownEnclosure), Box::new(AlternateEnclosures)] }
    }
}

impl Cascade {
    /// Candidates of every suitable source in registry order, without repeated URLs.
    /// Errors: [`DownloadFailed`] naming each source when none offers a URL.
    pub fn candidates(&self, item: &ItemRow) -> Result<Vec<Candidate>, DownloadFailed> {
        let mut out: Vec<Candidate> = Vec::new();
        for source in self.sources.iter().filter(|s| s.suitable(item)) {
            for c in source.resolve(item) {
                if !out.iter().any(|o| o.url == c.url) {
                    out.push(c);
                }
            }
        }
        if out.is_empty() {
            let tried = self.sources.iter().map(|s| Tried { source: s.name(), url: None, error: "nothing to offer".into() }).collect();
            return Err(DownloadFailed { tried });
        }
        Ok(out)
    }
}

/// Parses `raw` as an absolute http(s) URL.
fn http_url(raw: &str) -> Option<Url> {
    Url::parse(raw.trim()).ok().filter(|u| matches!(u.scheme(), "http" | "https"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{AlternateEnclosure, Enclosure};

    fn item(enclosure: Option<&str>, alternates: &[(&str, &[&str])]) -> ItemRow {
        ItemRow {
            enclosure: enclosure.map(|u| Enclosure { url: u.into(), length: None, mime_type: Some("audio/mpeg".into()) }),
            alternate_enclosures: alternates
                .iter()
                .map(|(t, sources)| AlternateEnclosure { mime_type: Some(t.to_string()), sources: sources.iter().map(|s| s.to_string()).collect(), ..Default::default() })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn cascade_cases() {
        let cascade = Cascade::default();
        // (item, expected (source, url) list or the error text)
        type Case = (ItemRow, Result<Vec<(&'static str, &'static str)>, &'static str>);
        let cases: Vec<Case> = vec![
            (item(Some("http://a/1.mp3"), &[]), Ok(vec![("enclosure", "http://a/1.mp3")])),
            (
                item(Some("http://a/1.mp3"), &[("audio/opus", &["http://b/1.opus", "ipfs://x"]), ("application/x-mpegURL", &["http://c/1.m3u8"])]),
                Ok(vec![("enclosure", "http://a/1.mp3"), ("alternate", "http://b/1.opus")]),
            ),
            (item(None, &[("audio/mpeg", &["http://a/1.mp3", "http://a/1.mp3"])]), Ok(vec![("alternate", "http://a/1.mp3")])),
            (item(Some("ftp://a/1.mp3"), &[]), Err("no media URL: enclosure: nothing to offer; alternate: nothing to offer")),
            (item(None, &[]), Err("no media URL: enclosure: nothing to offer; alternate: nothing to offer")),
        ];
        for (item, expected) in cases {
            let got = cascade.candidates(&item).map(|cs| cs.into_iter().map(|c| (c.source, c.url.to_string())).collect::<Vec<_>>()).map_err(|e| e.to_string());
            let expected = expected.map(|v| v.into_iter().map(|(s, u)| (s, u.to_string())).collect::<Vec<_>>()).map_err(str::to_string);
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn failure_names_every_try() {
        let e = DownloadFailed {
            tried: vec![
                Tried { source: "enclosure", url: Some("http://a/1.mp3".into()), error: "HTTP 404".into() },
                Tried { source: "alternate", url: Some("http://b/1.opus".into()), error: "HTTP 410".into() },
            ],
        };
        assert_eq!(e.to_string(), "no source worked: enclosure http://a/1.mp3: HTTP 404; alternate http://b/1.opus: HTTP 410");
    }
}
