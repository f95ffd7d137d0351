//! The retry policy of a transfer (ARCHITECTURE.md convention 9: an explicit policy decides
//! what happens after the watchdog or the server ends an attempt).
//!
//! Only transient errors ([`TransferError::is_transient`]: timeouts, stalls, the deadline,
//! resets, short bodies, 408, 429, 5xx) are retried, up to `max_attempts` in all, each retry
//! resuming from the part with a Range request. Retry k (k = 1, 2, ...) waits
//! `retry_backoff * 2^(k-1)`, at most [`MAX_BACKOFF`]; when the server sent `Retry-After`
//! (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) the wait is at least that, capped at
//! [`MAX_RETRY_AFTER`] so a hostile or confused server cannot park a downloader for hours.

use std::time::{Duration, SystemTime};

use super::error::TransferError;

/// Longest exponential backoff between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Longest `Retry-After` honoured; a longer one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// The wait before retry number `retry` (1 for the second attempt) after `error`, or `None`
/// when `error` is not worth retrying. `base` is the configured `retry_backoff`.
pub fn retry_delay(retry: u32, base: Duration, error: &TransferError) -> Option<Duration> {
    if !error.is_transient() {
        return None;
    }
    let factor = 1u32 << retry.saturating_sub(1).min(16);
    let backoff = base.saturating_mul(factor).min(MAX_BACKOFF);
    Some(match error.retry_after() {
        Some(asked) => backoff.max(asked.min(MAX_RETRY_AFTER)),
        None => backoff,
    })
}

/// Parses a `Retry-After` header value (RFC 9110 §10.2.3) into a delay from `now`:
/// `delay-seconds` (ASCII digits) or an `HTTP-date` (IMF-fixdate, or the obsolete RFC 850 and
/// asctime forms, via `httpdate`). A date in the past gives zero; anything else is `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // an absurdly long number saturates rather than failing
        return Some(Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    fn status(code: u16, retry_after: Option<Duration>) -> TransferError {
        let url = url::Url::parse("http://x.test/a.mp3").unwrap();
        TransferError::Status { status: StatusCode::from_u16(code).unwrap(), url, retry_after }
    }

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now),
            Some(Duration::from_secs(10)),
            "RFC 850 form"
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:57 1994", now),
            Some(Duration::from_secs(20)),
            "asctime form"
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO),
            "a past date"
        );
        for bad in ["", "-5", "1.5", "soon", "Sun, 06 Nov 1994"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn backoff_doubles_is_capped_and_yields_to_retry_after() {
        let base = Duration::from_millis(500);
        let delays: Vec<_> = (1..=4).map(|k| retry_delay(k, base, &status(503, None)).unwrap()).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000].map(Duration::from_millis));
        assert_eq!(retry_delay(20, base, &status(500, None)), Some(MAX_BACKOFF));
        assert_eq!(
            retry_delay(1, base, &status(429, Some(Duration::from_secs(7)))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_delay(1, base, &status(429, Some(Duration::from_secs(86_400)))),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            retry_delay(4, base, &status(503, Some(Duration::from_secs(1)))),
            Some(Duration::from_secs(4)),
            "backoff wins when longer"
        );
        for final_code in [404, 410, 403] {
            assert_eq!(retry_delay(1, base, &status(final_code, None)), None, "{final_code}");
        }
    }
}
