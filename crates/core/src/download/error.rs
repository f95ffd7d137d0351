//! Errors of the HTTP transfer, each classified (ARCHITECTURE.md convention 2) as expected
//! (final: 404, 410, 416 misuse, disk full, cancelled), transient (retried: timeouts, stalls,
//! 5xx, 429, resets, short bodies) or a bug. [`TransferError::kind`] is the one place that
//! decides; [`crate::download::fetch_to_file`] retries exactly the transient ones.

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
    #[error("HTTP status {status} from {url}")]
    Status {
        /// The status received.
        status: StatusCode,
        /// The URL requested.
        url: Url,
    },
    /// The request failed (connect, reset, TLS, body read). Transient, except too many
    /// redirects (expected) and a request that could not be built (bug).
    #[error("HTTP request failed: {0}")]
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
    /// The body ended early (connection closed, short body) or the size differs from the
    /// announced total, in bytes. Transient; a short part is kept for a resume, an overlong
    /// one is deleted.
    #[error("incomplete transfer: expected {expected} bytes, got {got}")]
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
    /// Expected, transient or bug (see each variant).
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
            Self::Http(e) if e.is_redirect() => ErrorKind::Expected,
            Self::Http(_)
            | Self::ResponseTimeout { .. }
            | Self::Stalled { .. }
            | Self::Incomplete { .. } => ErrorKind::Transient,
            Self::Protocol { .. }
            | Self::Io { .. }
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
}

pub(crate) fn io_err<'a>(
    op: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> TransferError + 'a {
    move |source| TransferError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}
