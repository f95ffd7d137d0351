//! [`DownloadFailed`]: the typed end of a cascade that found nothing (issue 5, point 3). It
//! names every source in registry order with its [`Outcome`], the known enclosure's own
//! error and the agent's last message, and is stored with the item (`store::resolutions`) so
//! the CLI and the app show exactly what was tried. The type belongs to the store (it is a
//! stored row layout, `DownloadFailed_v1`); `download::resolve` re-exports it and builds it.
//! Its `Display` is one line:
//! `no source worked for item 7: enclosure: rejected http://a/1.mp3 (HTTP 404); alternate:
//! skipped (no alternate enclosures); ...`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What one source did for the item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not suitable (no data, no credentials, no binary, not configured), with the reason.
    Skipped(String),
    /// Ran and proposed nothing new (URLs an earlier source tried are not repeated); the
    /// source's note, if any.
    Nothing(Option<String>),
    /// Proposed URLs that failed their check or download: `(url, reason)` each.
    Rejected(Vec<(String, String)>),
    /// The source itself failed (HTTP error, request cap, deadline, bad answer).
    Error(String),
    /// A candidate passed its check; URLs rejected before it are kept.
    Found {
        /// The URL that passed.
        url: String,
        /// `(url, reason)` of candidates rejected before it.
        rejected: Vec<(String, String)>,
    },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, items: &[(String, String)]| -> fmt::Result {
            for (i, (url, reason)) in items.iter().enumerate() {
                write!(f, "{}{url} ({reason})", if i == 0 { "" } else { ", " })?;
            }
            Ok(())
        };
        match self {
            Outcome::Skipped(reason) => write!(f, "skipped ({reason})"),
            Outcome::Nothing(None) => f.write_str("nothing found"),
            Outcome::Nothing(Some(note)) => write!(f, "nothing found ({note})"),
            Outcome::Rejected(items) => {
                f.write_str("rejected ")?;
                list(f, items)
            }
            Outcome::Error(e) => write!(f, "error: {e}"),
            Outcome::Found { url, .. } => write!(f, "found {url}"),
        }
    }
}

/// One source's line in [`DownloadFailed::sources_tried`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceOutcome {
    /// Source name (`enclosure`, `alternate`, `feed`, `page`, `index`, `yt-dlp`, `agent`).
    pub source: String,
    /// What it did.
    pub outcome: Outcome,
}

impl SourceOutcome {
    /// `source` did `outcome`.
    pub fn new(source: &str, outcome: Outcome) -> SourceOutcome {
        SourceOutcome { source: source.to_string(), outcome }
    }
}

/// No source gave the item's media. Expected (final for this attempt; a later attempt walks
/// the cascade again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct DownloadFailed {
    /// The catalog item id.
    pub item: u64,
    /// Every source in registry order with its outcome.
    pub sources_tried: Vec<SourceOutcome>,
    /// Why the known enclosure URL failed (`<url>: <reason>`), when it was tried.
    pub direct_error: Option<String>,
    /// The agent's final message when it ran and returned no usable URL.
    pub agent_message: Option<String>,
}

impl fmt::Display for DownloadFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no source worked for item {}", self.item)?;
        for (i, s) in self.sources_tried.iter().enumerate() {
            write!(f, "{}{}: {}", if i == 0 { ": " } else { "; " }, s.source, s.outcome)?;
        }
        Ok(())
    }
}

impl DownloadFailed {
    /// Records that the downloader rejected `url` of `source` after the cascade found it
    /// (transfer error, wrong length, integrity mismatch): the source's `Found` becomes
    /// `Rejected` (or the rejection is appended).
    pub fn reject(&mut self, source: &str, url: &str, reason: String) {
        match self.sources_tried.iter_mut().rev().find(|s| s.source == source) {
            Some(s) => {
                let mut items = match std::mem::replace(&mut s.outcome, Outcome::Nothing(None)) {
                    Outcome::Found { rejected, .. } | Outcome::Rejected(rejected) => rejected,
                    _ => Vec::new(),
                };
                items.push((url.to_string(), reason));
                s.outcome = Outcome::Rejected(items);
            }
            None => self
                .sources_tried
                .push(SourceOutcome::new(source, Outcome::Rejected(vec![(url.to_string(), reason)]))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_cases() {
        let r = |u: &str, why: &str| (u.to_string(), why.to_string());
        let cases: Vec<(Vec<SourceOutcome>, &str)> = vec![
            (vec![], "no source worked for item 7"),
            (
                vec![
                    SourceOutcome::new("enclosure", Outcome::Rejected(vec![r("http://a/1.mp3", "HTTP 404")])),
                    SourceOutcome::new("alternate", Outcome::Skipped("no alternate enclosures".into())),
                    SourceOutcome::new("feed", Outcome::Nothing(None)),
                    SourceOutcome::new("index", Outcome::Nothing(Some("fyyd: 0 results".into()))),
                    SourceOutcome::new("agent", Outcome::Error("request cap of 30 reached".into())),
                ],
                "no source worked for item 7: enclosure: rejected http://a/1.mp3 (HTTP 404); alternate: skipped (no alternate enclosures); \
                 feed: nothing found; index: nothing found (fyyd: 0 results); agent: error: request cap of 30 reached",
            ),
        ];
        for (sources_tried, expected) in cases {
            let e = DownloadFailed { item: 7, sources_tried, direct_error: None, agent_message: None };
            assert_eq!(e.to_string(), expected);
        }
    }

    #[test]
    fn a_found_url_rejected_by_the_downloader_turns_into_rejected() {
        let mut e = DownloadFailed {
            item: 1,
            sources_tried: vec![SourceOutcome::new(
                "alternate",
                Outcome::Found { url: "http://b/1.opus".into(), rejected: vec![] },
            )],
            direct_error: None,
            agent_message: None,
        };
        e.reject("alternate", "http://b/1.opus", "integrity mismatch".into());
        assert_eq!(
            e.to_string(),
            "no source worked for item 1: alternate: rejected http://b/1.opus (integrity mismatch)"
        );
        e.reject("enclosure", "http://a/1.mp3", "HTTP 404".into());
        assert_eq!(
            e.sources_tried[1],
            SourceOutcome::new(
                "enclosure",
                Outcome::Rejected(vec![("http://a/1.mp3".into(), "HTTP 404".into())])
            )
        );
    }
}
