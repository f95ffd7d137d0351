//! Parsing of a single `Range: bytes=...` request header (RFC 9110 §14.1.2).
//!
//! Only one range is honoured: `a-b`, `a-` and `-n`. A header that does not parse, uses
//! another unit, or asks for several ranges is ignored (RFC 9110 §14.2 lets a server ignore
//! `Range`), so the full body is served with 200. A syntactically valid range that selects no
//! byte of the body is unsatisfiable (416 with `Content-Range: bytes */size`).

/// Outcome of evaluating a `Range` header against a body of known length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeOutcome {
    /// Serve the whole body with 200.
    Full,
    /// Serve bytes `start..=end` (inclusive, in bytes) with 206.
    Partial { start: u64, end: u64 },
    /// Reply 416 Range Not Satisfiable.
    Unsatisfiable,
}

/// Evaluates header value `value` (e.g. `bytes=100-`) for a body of `size` bytes.
pub(crate) fn evaluate(value: &str, size: u64) -> RangeOutcome {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeOutcome::Full;
    };
    let spec = spec.trim();
    if spec.contains(',') {
        return RangeOutcome::Full;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeOutcome::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let num = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            s.parse().ok()
        }
    };
    if first.is_empty() {
        // Suffix range: the last `n` bytes.
        let Some(n) = num(last) else { return RangeOutcome::Full };
        if n == 0 || size == 0 {
            return RangeOutcome::Unsatisfiable;
        }
        let n = n.min(size);
        return RangeOutcome::Partial { start: size - n, end: size - 1 };
    }
    let Some(start) = num(first) else { return RangeOutcome::Full };
    let end = if last.is_empty() {
        None
    } else {
        match num(last) {
            Some(e) if e >= start => Some(e),
            _ => return RangeOutcome::Full,
        }
    };
    if start >= size {
        return RangeOutcome::Unsatisfiable;
    }
    let end = end.map_or(size - 1, |e| e.min(size - 1));
    RangeOutcome::Partial { start, end }
}

#[cfg(test)]
mod tests {
    use super::RangeOutcome::*;
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(evaluate("bytes=0-9", 100), Partial { start: 0, end: 9 });
        assert_eq!(evaluate("bytes=90-", 100), Partial { start: 90, end: 99 });
        assert_eq!(evaluate("bytes=90-500", 100), Partial { start: 90, end: 99 });
        assert_eq!(evaluate("bytes=-10", 100), Partial { start: 90, end: 99 });
        assert_eq!(evaluate("bytes=-1000", 100), Partial { start: 0, end: 99 });
        assert_eq!(evaluate("bytes=100-", 100), Unsatisfiable);
        assert_eq!(evaluate("bytes=-0", 100), Unsatisfiable);
        assert_eq!(evaluate("bytes=5-1", 100), Full);
        assert_eq!(evaluate("bytes=0-1,5-6", 100), Full);
        assert_eq!(evaluate("items=0-1", 100), Full);
        assert_eq!(evaluate("bytes=x-", 100), Full);
    }
}
