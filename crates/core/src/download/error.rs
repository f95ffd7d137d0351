//! Errors of the HTTP transfer, each classified (ARCHITECTURE.md convention 2) as expected
//! (final: 404, 410, other 4xx, 416 misuse, an HTML page for media, disk full, cancelled), transient (retried:
//! timeouts, stalls, the overall deadline, 5xx, 408, 429, resets, short bodies) or a bug.
//! [`TransferError::kind`] is the one place that decides; [`TransferError::class`] names the
//! class users see (`transient`, `final`, `disk_full`, `bug`);
//! [`crate::download::fetch_to_file`] retries exactly the transient ones, and a
//! [`FetchFailure`] says which attempt failed and why.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use url::Url;

/// How an error should be handled (ARCHITECTURE.md convention 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Final: retrying the same request will not help (404, 416 misuse, disk full, cancelled).
    Expected,
    /// Worth retrying later: timeouts, stalls, 5xx, 429, resets, short bodies.
    Transient,
    /// A caller or program error.
    Bug,
}

/// Errors of [`fetch_to_file`](crate::download::fetch_to_file); [`TransferError::kind`] classifies each.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The server answered with an error status. Transient for 408, 429 and 5xx, expected
    /// otherwise (404, 410, 403, 416 without a part...).
    #[error("HTTP {} from {url}", status_text(*status))]
    Status {
        /// The status received.
        status: StatusCode,
        /// The URL requested.
        url: Url,
        /// The server's `Retry-After` (RFC 9110 §10.2.3) as a delay from the response, if it
        /// sent one (with 429, 503 and 3xx); the retry waits at least this long, capped.
        retry_after: Option<Duration>,
    },
    /// The request failed (connect, reset, TLS, body read). Transient, except too many
    /// redirects (expected) and a request that could not be built (bug).
    #[error("HTTP request failed: {}", crate::error_chain::Chain(.0))]
    Http(#[from] reqwest::Error),
    /// No response headers within `connect_timeout + stall_timeout`. Transient.
    #[error("no response within {after:?}")]
    ResponseTimeout {
        /// The window waited.
        after: Duration,
    },
    /// No body bytes for `stall_timeout` (the watchdog). Transient; the part is kept.
    #[error("transfer stalled: no bytes for {after:?} after {downloaded} bytes")]
    Stalled {
        /// The stall window.
        after: Duration,
        /// Bytes in the part when it stalled.
        downloaded: u64,
    },
    /// The attempt ran past its overall deadline (`Config::transfer_deadline_ms`) while bytes
    /// were still arriving, too slowly. Transient; the part is kept and resumed.
    #[error("transfer deadline of {after:?} passed after {downloaded} bytes")]
    DeadlineExceeded {
        /// The deadline.
        after: Duration,
        /// Bytes in the part when it passed.
        downloaded: u64,
    },
    /// The library root lacks the free space the file needs, and no overflow root has it.
    /// Expected (class `disk_full`): final until someone frees space.
    #[error("{needed} bytes needed, {available} available under {root:?}")]
    DiskFull {
        /// The root checked last.
        root: PathBuf,
        /// Bytes still to write (expected size minus the part).
        needed: u64,
        /// Bytes available to an unprivileged user there.
        available: u64,
    },
    /// The body ended early (connection closed, short body) or the size differs from the
    /// announced total, in bytes. Transient; a short part is kept for a resume, an overlong
    /// one is deleted.
    #[error(
        "incomplete transfer: expected {expected} bytes, got {got}{}",
        cause.as_ref().map(|c| format!(" ({})", crate::error_chain::Chain(c))).unwrap_or_default()
    )]
    Incomplete {
        /// Expected final size in bytes.
        expected: u64,
        /// Bytes received (including a resumed prefix).
        got: u64,
        /// The read error that ended the body, if one did.
        #[source]
        cause: Option<reqwest::Error>,
    },
    /// The server's answer breaks HTTP semantics in a way a retry will not fix (a 3xx that was
    /// not followed, a 1xx...; a wrong 206 is [`TransferError::WrongRange`]).
    /// Expected.
    #[error("unusable response from {url}: {reason}")]
    Protocol {
        /// The URL requested.
        url: Url,
        /// What was wrong.
        reason: String,
    },
    /// A 206 whose `Content-Range` is not the range asked for, or disagrees with its
    /// `Content-Length` (RFC 9110 §14.4), to a request without a part to restart: a server or
    /// cache that served the wrong bytes. The body is never written. Transient: the next
    /// attempt asks again.
    #[error("wrong range from {url}: {reason}")]
    WrongRange {
        /// The URL requested.
        url: Url,
        /// What was wrong.
        reason: String,
    },
    /// Local file I/O failed (disk full, permissions). Expected: final until someone acts.
    #[error("{op} {path:?}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The server answered with a type that is not media (an HTML page: a login, error or
    /// landing page served with 200). Expected: the next candidate URL is tried.
    #[error("unsupported type {content_type} from {url}")]
    UnsupportedType {
        /// The `Content-Type` essence, lowercased.
        content_type: String,
        /// The URL requested.
        url: Url,
    },
    /// The media came with a `Content-Encoding` we do not decode (`compress`, `zstd`, several
    /// codings stacked; see [`super::content_coding`]). Expected: the next candidate is tried.
    #[error("unsupported Content-Encoding {0:?} on media")]
    UnsupportedEncoding(String),
    /// The media came content-encoded and the complete body did not decode. The part is
    /// deleted; transient: the next attempt fetches it again from byte 0.
    #[error("media sent with Content-Encoding {coding} did not decode: {reason}")]
    Undecodable {
        /// The coding token (`gzip`, `deflate`, `br`).
        coding: &'static str,
        /// The decoder's error.
        reason: String,
    },
    /// The URL is not `http` or `https`. Expected.
    #[error("unsupported URL scheme {0:?}")]
    UnsupportedScheme(String),
    /// `dest` has no file name. Bug (caller error).
    #[error("destination {0:?} has no file name")]
    InvalidDestination(PathBuf),
    /// The cancellation token fired; the part is kept. Expected (final, never retried).
    #[error("transfer cancelled")]
    Cancelled,
}

impl TransferError {
    /// Expected, transient or bug (see each variant); 408, 429 and 5xx are transient, every
    /// other 4xx (404, 410, 403...) final.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Status { status, .. } => {
                if status.is_server_error()
                    || *status == StatusCode::TOO_MANY_REQUESTS
                    || *status == StatusCode::REQUEST_TIMEOUT
                {
                    ErrorKind::Transient
                } else {
                    ErrorKind::Expected
                }
            }
            Self::Http(e) if e.is_builder() => ErrorKind::Bug,
            Self::Http(e) if e.is_redirect() || crate::net_guard::is_refusal(e) => ErrorKind::Expected,
            Self::Http(_)
            | Self::ResponseTimeout { .. }
            | Self::Stalled { .. }
            | Self::DeadlineExceeded { .. }
            | Self::Incomplete { .. }
            | Self::Undecodable { .. } => ErrorKind::Transient,
            Self::Protocol { .. }
            | Self::Io { .. }
            | Self::DiskFull { .. }
            | Self::UnsupportedType { .. }
            | Self::UnsupportedEncoding(_)
            | Self::UnsupportedScheme(_)
            | Self::Cancelled => ErrorKind::Expected,
            Self::InvalidDestination(_) => ErrorKind::Bug,

            Self::WrongRange { .. } => ErrorKind::Transient,
        }
    }

    /// True when a later retry may succeed ([`ErrorKind::Transient`]).
    pub fn is_transient(&self) -> bool {
        self.kind() == ErrorKind::Transient
    }

    /// True for a full disk: [`TransferError::DiskFull`], or a write that failed with
    /// `ENOSPC`/`EDQUOT` (the part is kept; it never takes the final name).
    pub fn is_disk_full(&self) -> bool {
        match self {
            Self::DiskFull { .. } => true,
            Self::Io { source, .. } => is_no_space(source),
            _ => false,
        }
    }

    /// The class shown to users and stored with a failed item: `disk_full`, else `transient`,
    /// `final` or `bug` by [`TransferError::kind`].
    pub fn class(&self) -> &'static str {
        if self.is_disk_full() {
            return "disk_full";
        }
        match self.kind() {
            ErrorKind::Transient => "transient",
            ErrorKind::Expected => "final",
            ErrorKind::Bug => "bug",
        }
    }

    /// The server's `Retry-After` delay, for a status error that carried one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A transfer that ended without a file: the failing attempt (1-based) of how many were
/// allowed, and its error. Displays as `attempt 3/3, transient: HTTP 503 ... from <url>`, the
/// text stored with a failed work item.
#[derive(Debug, thiserror::Error)]
#[error("attempt {attempt}/{max_attempts}, {}: {error}", .error.class())]
pub struct FetchFailure {
    /// The attempt that failed last, from 1.
    pub attempt: u32,
    /// Attempts allowed (`max_attempts`).
    pub max_attempts: u32,
    /// Its error.
    #[source]
    pub error: TransferError,
}

/// `503 Service Unavailable`: the code with its reason phrase.
fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// `ENOSPC` (no space left on device) or `EDQUOT` (quota exceeded) on unix.
fn is_no_space(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        // Linux 28/122, macOS and the BSDs 28/69.
        let quota = if cfg!(target_os = "linux") { 122 } else { 69 };
        matches!(e.raw_os_error(), Some(code) if code == 28 || code == quota)
    }
    #[cfg(not(unix))]
    {
        // ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL
        matches!(e.raw_os_error(), Some(112) | Some(39))
    }
}

pub(crate) fn io_err<'a>(
    op: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> TransferError + 'a {
    move |source| TransferError::Io { op, path: path.to_path_buf(), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> TransferError {
        TransferError::Status {
            status: StatusCode::from_u16(code).unwrap(),
            url: Url::parse("http://x.test/a.mp3").unwrap(),
            retry_after: None,
        }
    }

    #[test]
    fn classes_follow_the_retry_policy() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert_eq!(status(code).class(), "transient", "{code}");
        }
        for code in [400, 401, 403, 404, 410, 451] {
            assert_eq!(status(code).class(), "final", "{code}");
        }
        let full = TransferError::Io {
            op: "write",
            path: "/x.part".into(),
            source: std::io::Error::from_raw_os_error(28),
        };
        assert_eq!((full.class(), full.kind()), ("disk_full", ErrorKind::Expected));
        let stalled = TransferError::Stalled { after: Duration::from_secs(30), downloaded: 5 };
        assert_eq!(stalled.class(), "transient");
        let failure = FetchFailure { attempt: 3, max_attempts: 3, error: status(503) };
        assert_eq!(
            failure.to_string(),
            "attempt 3/3, transient: HTTP 503 Service Unavailable from http://x.test/a.mp3"
        );
    }
}
