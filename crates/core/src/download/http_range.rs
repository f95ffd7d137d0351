//! HTTP range headers (RFC 9110 §14): formatting the `Range: bytes=n-` request header that
//! resumes a partial download and parsing the `Content-Range` answer of a 206 or 416.
//!
//! Parsing is strict about numbers (digits only, `first <= last < complete`) and lenient about
//! the unit's case and surrounding whitespace; anything else is `None`, which the transfer
//! treats as "cannot resume, restart from byte 0".

/// A parsed `Content-Range` header value (RFC 9110 §14.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentRange {
    /// `bytes first-last/complete` (206): the body holds bytes `first..=last`; `complete` is
    /// the whole representation's length in bytes, `None` for `*` (unknown).
    Bytes {
        /// First byte position, inclusive.
        first: u64,
        /// Last byte position, inclusive.
        last: u64,
        /// Total length of the representation in bytes, when known.
        complete: Option<u64>,
    },
    /// `bytes */complete` (416): the range was unsatisfiable; the representation has
    /// `complete` bytes.
    Unsatisfied {
        /// Total length of the representation in bytes.
        complete: u64,
    },
}

/// The `Range` header value asking for everything from byte `offset` on (RFC 9110 §14.1.2,
/// an open-ended `int-range`).
pub fn range_from(offset: u64) -> String {
    format!("bytes={offset}-")
}

/// Parses a `Content-Range` value; `None` when it is malformed or not in bytes.
pub fn parse_content_range(value: &str) -> Option<ContentRange> {
    let value = value.trim();
    let (unit, rest) = value.split_once(' ')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let (range, complete) = rest.trim().split_once('/')?;
    let complete = match complete.trim() {
        "*" => None,
        n => Some(parse_u64(n)?),
    };
    if range.trim() == "*" {
        return complete.map(|complete| ContentRange::Unsatisfied { complete });
    }
    let (first, last) = range.trim().split_once('-')?;
    let (first, last) = (parse_u64(first)?, parse_u64(last)?);
    if first > last || complete.is_some_and(|c| last >= c) {
        return None;
    }
    Some(ContentRange::Bytes { first, last, complete })
}

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc_9110_forms() {
        let cases: &[(&str, Option<ContentRange>)] = &[
            ("bytes 0-499/1234", Some(ContentRange::Bytes { first: 0, last: 499, complete: Some(1234) })),
            ("BYTES 500-1233/*", Some(ContentRange::Bytes { first: 500, last: 1233, complete: None })),
            ("bytes */1234", Some(ContentRange::Unsatisfied { complete: 1234 })),
            ("bytes */*", None),
            ("bytes 5-4/10", None),
            ("bytes 0-10/10", None),
            ("bytes -1-5/10", None),
            ("items 0-1/2", None),
            ("bytes 0-+1/2", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_content_range(raw), *want, "{raw:?}");
        }
        assert_eq!(range_from(42), "bytes=42-");
    }
}
