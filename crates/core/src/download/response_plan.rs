//! How a transfer uses an HTTP response to a request sent with `offset` bytes already in the
//! part (`Range: bytes=offset-` sent iff `offset > 0`), decided from status and headers only
//! (RFC 9110 §14 and §15): a 200 writes from byte 0, a 206 whose `Content-Range` starts at the
//! offset appends, a 416 `bytes */offset` means the part is complete, any other answer to a
//! range request restarts from 0, an HTML page (`text/html`, `application/xhtml+xml`) is not
//! media ([`TransferError::UnsupportedType`], final), and error statuses become [`TransferError::Status`] with the
//! server's `Retry-After` (RFC 9110 §10.2.3) parsed beside them.

use reqwest::header::{HeaderMap, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use url::Url;

use super::error::TransferError;
use super::http_range::{parse_content_range, ContentRange};

/// What to do with a response, decided from its status and headers.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Plan {
    /// Write the body after the first `offset` bytes of the part; `total` is the expected
    /// final size in bytes.
    Write { offset: u64, total: Option<u64> },
    /// The part already holds all `total` bytes.
    AlreadyComplete { total: u64 },
    /// The answer cannot continue the part: truncate it and ask again without `Range`.
    Restart(String),
}

/// Decides how to use a response to a request sent with `offset` bytes already in the part
/// (`Range` sent iff `offset > 0`).
pub(super) fn plan(
    status: StatusCode,
    headers: &HeaderMap,
    offset: u64,
    url: &Url,
) -> Result<Plan, TransferError> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if status.is_success() {
        // an HTML page where media was expected: a login, error or landing page served as 200
        let essence =
            header(CONTENT_TYPE).map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        if let Some(essence) = essence.filter(|e| matches!(e.as_str(), "text/html" | "application/xhtml+xml"))
        {
            return Err(TransferError::UnsupportedType { content_type: essence, url: url.clone() });
        }
    }
    let content_length = header(CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok());
    let content_range = header(CONTENT_RANGE).and_then(parse_content_range);
    let restart_or = |reason: String| {
        if offset > 0 {
            Ok(Plan::Restart(reason))
        } else {
            Err(TransferError::WrongRange { url: url.clone(), reason })
        }
    };
    match status {
        StatusCode::OK => Ok(Plan::Write { offset: 0, total: content_length }),
        StatusCode::PARTIAL_CONTENT => match content_range {
            Some(ContentRange::Bytes { first, last, complete }) if first == offset => {
                if content_length.is_some_and(|len| len != last - first + 1) {
                    return restart_or(format!("Content-Length disagrees with Content-Range {first}-{last}"));
                }
                // Unknown complete length: the range end is the best expectation we have.
                Ok(Plan::Write { offset, total: Some(complete.unwrap_or(last + 1)) })
            }
            other => restart_or(format!("206 with Content-Range {other:?} for offset {offset}")),
        },
        StatusCode::RANGE_NOT_SATISFIABLE if offset > 0 => match content_range {
            Some(ContentRange::Unsatisfied { complete }) if complete == offset => {
                Ok(Plan::AlreadyComplete { total: complete })
            }
            other => Ok(Plan::Restart(format!("416 with Content-Range {other:?} for offset {offset}"))),
        },
        s if s.is_client_error() || s.is_server_error() => Err(TransferError::Status {
            status: s,
            url: url.clone(),
            retry_after: header(RETRY_AFTER)
                .and_then(|v| super::retry::parse_retry_after(v, std::time::SystemTime::now())),
        }),
        s => Err(TransferError::Protocol { url: url.clone(), reason: format!("unexpected status {s}") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::download::error::ErrorKind;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(reqwest::header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn plans_follow_rfc_9110() {
        let url = Url::parse("http://x.test/a.mp3").unwrap();
        let ok = headers(&[(CONTENT_LENGTH, "10")]);
        assert_eq!(plan(StatusCode::OK, &ok, 4, &url).unwrap(), Plan::Write { offset: 0, total: Some(10) });
        let partial = headers(&[(CONTENT_RANGE, "bytes 4-9/10"), (CONTENT_LENGTH, "6")]);
        assert_eq!(
            plan(StatusCode::PARTIAL_CONTENT, &partial, 4, &url).unwrap(),
            Plan::Write { offset: 4, total: Some(10) }
        );
        assert!(matches!(plan(StatusCode::PARTIAL_CONTENT, &partial, 3, &url).unwrap(), Plan::Restart(_)));
        let err = plan(StatusCode::PARTIAL_CONTENT, &partial, 0, &url).unwrap_err();
        assert!(matches!(err, TransferError::WrongRange { .. }) && err.is_transient());
        let unsat = headers(&[(CONTENT_RANGE, "bytes */10")]);
        assert_eq!(
            plan(StatusCode::RANGE_NOT_SATISFIABLE, &unsat, 10, &url).unwrap(),
            Plan::AlreadyComplete { total: 10 }
        );
        assert!(matches!(
            plan(StatusCode::RANGE_NOT_SATISFIABLE, &unsat, 12, &url).unwrap(),
            Plan::Restart(_)
        ));
        let err = plan(StatusCode::RANGE_NOT_SATISFIABLE, &unsat, 0, &url).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Expected);
        let err = plan(StatusCode::SERVICE_UNAVAILABLE, &ok, 0, &url).unwrap_err();
        assert!(err.is_transient());
        let err = plan(StatusCode::TOO_MANY_REQUESTS, &ok, 0, &url).unwrap_err();
        assert!(err.is_transient());
        let err = plan(StatusCode::GONE, &ok, 0, &url).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Expected);
        let html = headers(&[(CONTENT_LENGTH, "10"), (CONTENT_TYPE, "Text/HTML; charset=utf-8")]);
        let err = plan(StatusCode::OK, &html, 0, &url).unwrap_err();
        assert!(
            matches!(&err, TransferError::UnsupportedType { content_type, .. } if content_type == "text/html"),
            "{err:?}"
        );
        assert_eq!(err.class(), "final");
        let audio = headers(&[(CONTENT_LENGTH, "10"), (CONTENT_TYPE, "audio/mpeg")]);
        assert!(plan(StatusCode::OK, &audio, 0, &url).is_ok());
    }
}
