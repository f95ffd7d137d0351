//! Start-up settings of a [`crate::TestServer`] and the faults it can inject.
//!
//! Every setting here can also be changed while the server runs through the `set_*` methods of
//! `TestServer`; the values are read per request (latency, faults, `ignore_range`) or per body
//! chunk (rate), so a change applies to the next request or chunk.

/// Settings a [`crate::TestServer`] starts with.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// TCP port to bind on 127.0.0.1; 0 (the default) picks a free one.
    pub port: u16,
    /// Per-connection rate limit on response body bytes, in bytes/s; `None` = unlimited.
    pub rate_limit: Option<u64>,
    /// Delay before each response head is sent, in ms.
    pub latency_ms: u64,
    /// When true, `Range` headers are recorded but ignored: every GET gets 200 and the full body.
    pub ignore_range: bool,
    /// Size of each media file registered by corpus rewriting, in bytes (default 64 KiB).
    pub corpus_media_size: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            port: 0,
            rate_limit: None,
            latency_ms: 0,
            ignore_range: false,
            corpus_media_size: 64 * 1024,
        }
    }
}

/// A failure injected for requests to one path (see `TestServer::set_fault`).
///
/// `after_bytes` counts body bytes of the response as sent (for a 206, bytes of the range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Reply with this status (e.g. 404, 408, 500, 503) and a short text body, whatever the path
    /// holds.
    Status(u16),
    /// Reply with `status` (e.g. 429 or 503) and `Retry-After: retry_after_s` (delay-seconds form,
    /// RFC 9110 §10.2.3) and a short text body.
    RetryAfter {
        /// The status sent.
        status: u16,
        /// The `Retry-After` value, in seconds.
        retry_after_s: u64,
    },
    /// Answer with 206 and a `Content-Range` that starts `shift` bytes after the byte the request
    /// asked for (byte 0 when it sent no `Range`), with the body of that shifted range: a server
    /// or cache serving the wrong range. A client must not append those bytes to its part.
    WrongContentRange {
        /// How far the announced (and sent) range starts after the requested one, in bytes.
        shift: u64,
    },
    /// Send the head and `after_bytes` body bytes, then hang without closing until shutdown.
    Stall {
        /// Body bytes sent before the stall, in bytes.
        after_bytes: u64,
    },
    /// Send the head and `after_bytes` body bytes, then close the TCP connection abruptly
    /// (`SO_LINGER` 0, so the peer sees a RST).
    Reset {
        /// Body bytes sent before the reset, in bytes.
        after_bytes: u64,
    },
    /// Send the head with the full `Content-Length`, then only `after_bytes` body bytes, then
    /// close the connection cleanly (FIN): the body is shorter than promised.
    ShortBody {
        /// Body bytes sent before the close, in bytes.
        after_bytes: u64,
    },
    /// Send the head at once, then the body one byte every `interval_ms` (a slow-loris server):
    /// bytes keep coming, so a stall window never trips; only an overall deadline or a size cap
    /// ends it.
    Drip {
        /// Pause before each body byte, in ms.
        interval_ms: u64,
    },
}
