//! Errors of the test kit.
//!
//! Registration of in-memory content cannot fail; what can fail is reading corpus files and
//! writing manifests. Every error here is expected (final) in the architecture's terms: a
//! missing corpus file does not get better by retrying.

use std::path::PathBuf;

/// Errors returned by [`crate::TestServer`] methods that touch the file system.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// A corpus file or output file could not be read or written.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done (`read`, `write`).
        op: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A path given to the server is not usable as a URL path.
    #[error("invalid URL path {0:?}")]
    InvalidPath(String),
}
