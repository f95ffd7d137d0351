//! Item dates for feed-rs ([`feed_rs::parser::Builder::timestamp_parser`]), read exactly as
//! feed-rs's own lenient parser reads them, at a fraction of its cost for well-formed dates.
//!
//! feed-rs's default parser tries RFC 3339, then RFC 2822, then RFC 1123, each after a row of
//! regex repairs (weekday dropped, month names shortened, `UTC` and `-0000` as `+0000`, hour 24
//! as 00, single-digit hours padded, day and month swapped): up to eight regex replacements
//! per date, 7% of a big feed's parse. A date that chrono reads as it stands under RFC 2822
//! (<https://www.rfc-editor.org/rfc/rfc2822#section-3.3>) or RFC 3339 means the same under those
//! repairs (none changes the instant such a date names: each leaves it as it is, rewrites a
//! zone to its equal offset, or only touches text chrono rejects), so it is returned at once.
//! Any other text goes to feed-rs's own parser, which keeps its lenient rules private: it reads
//! the text as the `pubDate` of a one-line RSS document. The corpus test below checks both
//! paths agree on every date of the shared corpus.

use chrono::{DateTime, Utc};

/// The instant `text` names (see the module docs), or `None` when feed-rs cannot read it.
pub(crate) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    strict(text).or_else(|| feed_rs_lenient(text))
}

/// `text` (trimmed) read by chrono as it stands, as RFC 2822 or RFC 3339; `None` otherwise.
fn strict(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    let date = DateTime::parse_from_rfc2822(t).or_else(|_| DateTime::parse_from_rfc3339(t)).ok()?;
    Some(date.with_timezone(&Utc))
}

/// feed-rs's own reading of `text` as a date: the `pubDate` of a minimal RSS 2.0 document,
/// parsed by a default feed-rs parser (whose timestamp parser is the lenient one).
fn feed_rs_lenient(text: &str) -> Option<DateTime<Utc>> {
    let doc = format!(
        "<rss version=\"2.0\"><channel><pubDate>{}</pubDate></channel></rss>",
        quick_xml::escape::escape(text)
    );
    feed_rs::parser::parse(doc.as_bytes()).ok()?.published
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every date element's text in the shared corpus, plus edge cases of the repairs.
    fn dates() -> Vec<String> {
        let mut out: Vec<String> = [
            "Tue, 01 Dec 2026 10:00:00 +0000",
            "Tue, 01 Dec 2026 10:00:00 GMT",
            "Tue, 01 Dec 2026 10:00:00 UTC",
            "Tue, 01 Dec 2026 10:00:00 -0000",
            "Tue, 01 Dec 2026 10:00:00 EST",
            "Tuesday, 01 December 2026 10:00:00 +0100",
            "Wed, 01 Dec 2026 10:00:00 +0000",
            "01 Dec 26 10:00 +0000",
            "1 Dec 2026 9:05:00 +0000",
            "Tue, 01 Dec 2026 24:00:00 +0000",
            "Dec 01 2026 10:00:00 +0000",
            " 2026-12-01T10:00:00Z ",
            "2026-12-01T10:00:00.123+05:30",
            "2026-12-01T10:00:00+0530",
            "2026-12-01",
            "01 Dec 2026 10:00:00 Z",
            "not a date",
            "",
        ]
        .map(String::from)
        .to_vec();
        let tags = ["pubDate", "published", "updated", "dc:date", "lastBuildDate", "modified", "issued"];
        for text in catalog_sync_testkit::feed_texts() {
            for tag in tags {
                let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
                for piece in text.split(&open).skip(1) {
                    if let Some(end) = piece.find(&close) {
                        out.push(piece[..end].to_string());
                    }
                }
            }
        }
        out
    }

    #[test]
    fn every_corpus_date_reads_as_feed_rs_reads_it() {
        let dates = dates();
        let quick = dates.iter().filter(|d| strict(d).is_some()).count();
        assert!(dates.len() > 200 && quick > 100, "{} dates, {quick} on the quick path", dates.len());
        for date in &dates {
            assert_eq!(parse_timestamp(date), feed_rs_lenient(date), "{date:?}");
        }
    }
}
