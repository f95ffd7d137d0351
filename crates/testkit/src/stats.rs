//! Request counters, so tests can assert what a client asked for and what it got.
//!
//! Every request bumps the total and its path's count (path without query string) and, when a
//! `Range` header was sent, records its value verbatim. Body bytes are counted as the server
//! hands them to the connection, so a faulted or shaped response counts only what was sent.

use std::collections::BTreeMap;

/// A snapshot of the server's counters since start or the last `reset_stats()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Number of requests received, all paths together.
    pub total_requests: u64,
    /// Requests per URL path (without query string).
    pub requests: BTreeMap<String, u64>,
    /// Body bytes sent per URL path, in bytes (heads not counted).
    pub body_bytes: BTreeMap<String, u64>,
    /// Values of the `Range` request headers received per path, in arrival order
    /// (e.g. `["bytes=1000-"]`).
    pub ranges: BTreeMap<String, Vec<String>>,
    /// GET requests per path asking for the body from byte 0: no `Range` header, or a range
    /// starting at byte 0 (whether or not the server honoured it).
    pub from_zero: BTreeMap<String, u64>,
    /// `304 Not Modified` answers per path (conditional GETs whose copy was current).
    pub not_modified: BTreeMap<String, u64>,
}

impl Stats {
    /// Requests seen for `path` (0 if none).
    pub fn requests_for(&self, path: &str) -> u64 {
        self.requests.get(path).copied().unwrap_or(0)
    }

    /// Body bytes sent for `path`, in bytes (0 if none).
    pub fn body_bytes_for(&self, path: &str) -> u64 {
        self.body_bytes.get(path).copied().unwrap_or(0)
    }

    /// `Range` header values received for `path` (empty if none).
    pub fn ranges_for(&self, path: &str) -> &[String] {
        self.ranges.get(path).map(Vec::as_slice).unwrap_or(&[])
    }

    /// GETs of `path` that asked for the body from byte 0 (0 if none).
    pub fn from_zero_for(&self, path: &str) -> u64 {
        self.from_zero.get(path).copied().unwrap_or(0)
    }

    /// `304 Not Modified` answers for `path` (0 if none).
    pub fn not_modified_for(&self, path: &str) -> u64 {
        self.not_modified.get(path).copied().unwrap_or(0)
    }

    /// Body bytes sent over all paths, in bytes.
    pub fn total_body_bytes(&self) -> u64 {
        self.body_bytes.values().sum()
    }

    pub(crate) fn record_get_from(&mut self, path: &str, range: Option<&str>) {
        let from_zero = match range.and_then(|r| r.trim().strip_prefix("bytes=")) {
            None => true,
            Some(spec) => spec.trim().split_once('-').is_some_and(|(first, _)| first.trim() == "0"),
        };
        if from_zero {
            *self.from_zero.entry(path.to_owned()).or_default() += 1;
        }
    }

    pub(crate) fn record_request(&mut self, path: &str, range: Option<&str>) {
        self.total_requests += 1;
        *self.requests.entry(path.to_owned()).or_default() += 1;
        if let Some(r) = range {
            self.ranges.entry(path.to_owned()).or_default().push(r.to_owned());
        }
    }

    pub(crate) fn record_not_modified(&mut self, path: &str) {
        *self.not_modified.entry(path.to_owned()).or_default() += 1;
    }

    pub(crate) fn record_body(&mut self, path: &str, bytes: u64) {
        *self.body_bytes.entry(path.to_owned()).or_default() += bytes;
    }
}
