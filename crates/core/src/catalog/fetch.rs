//! Fetching a playlist document: `http(s)://` through the shared client, `file://` from disk.
//! The body is read whole (feeds are small); a cap protects against endless responses, and a
//! stall window against silent ones: a fetch that receives nothing (no response head, no body
//! bytes) for the window ends with [`FetchError::Stalled`] (transient), so a hanging server
//! never holds a sync forever.

use std::time::Duration;

use url::Url;

/// The stall window of [`fetch_document`]: 30 s, the default HTTP stall window (issue 4).
pub const DEFAULT_STALL_WINDOW: Duration = Duration::from_secs(30);

/// Largest document accepted, in bytes (64 MiB; the biggest real feeds are a few MiB).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// Why a document could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server answered with an error status. 4xx are final, 5xx and 429 transient.
    #[error("HTTP {status}")]
    Status {
        /// The HTTP status code.
        status: u16,
    },
    /// Connection, TLS or timeout failure (transient).
    #[error("cannot fetch: {0}")]
    Http(#[from] reqwest::Error),
    /// Nothing arrived (response head or body bytes) for this long (transient).
    #[error("stalled: nothing received for {0:?}")]
    Stalled(Duration),
    /// Reading a local file failed.
    #[error("cannot read {path}: {source}")]
    File {
        /// Local path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The document is larger than [`MAX_DOCUMENT_BYTES`].
    #[error("document larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge,
    /// Only http, https and file URLs are fetched.
    #[error("unsupported URL scheme {0}")]
    Scheme(String),
}

impl FetchError {
    /// Whether retrying later may succeed (5xx, 429, network errors).
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Status { status } => *status >= 500 || *status == 429,
            FetchError::Http(_) | FetchError::Stalled(_) => true,
            _ => false,
        }
    }
}

/// Fetches the document at `url`, following redirects, with the [`DEFAULT_STALL_WINDOW`].
/// Returns the body and the final URL (relative links in the document resolve against it).
pub async fn fetch_document(client: &reqwest::Client, url: &Url) -> Result<(Vec<u8>, Url), FetchError> {
    fetch_document_within(client, url, DEFAULT_STALL_WINDOW).await
}

/// [`fetch_document`] with a stall window of `stall`: waiting for the response head, and for
/// each body chunk, longer than that ends the fetch with [`FetchError::Stalled`].
pub async fn fetch_document_within(
    client: &reqwest::Client,
    url: &Url,
    stall: Duration,
) -> Result<(Vec<u8>, Url), FetchError> {
    match url.scheme() {
        "file" => {
            let path = url.to_file_path().map_err(|_| FetchError::Scheme(url.to_string()))?;
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|source| FetchError::File { path: path.display().to_string(), source })?;
            if bytes.len() > MAX_DOCUMENT_BYTES {
                return Err(FetchError::TooLarge);
            }
            Ok((bytes, url.clone()))
        }
        "http" | "https" => {
            let mut resp = tokio::time::timeout(stall, client.get(url.clone()).send())
                .await
                .map_err(|_| FetchError::Stalled(stall))??;
            let status = resp.status();
            if !status.is_success() {
                return Err(FetchError::Status { status: status.as_u16() });
            }
            let final_url = resp.url().clone();
            let mut body = Vec::new();
            while let Some(chunk) =
                tokio::time::timeout(stall, resp.chunk()).await.map_err(|_| FetchError::Stalled(stall))??
            {
                if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                    return Err(FetchError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok((body, final_url))
        }
        other => Err(FetchError::Scheme(other.to_string())),
    }
}

/// Turns what a user typed (a URL or a local path) into a URL; local paths become absolute
/// `file://` URLs.
pub fn url_from_user_input(input: &str) -> Result<Url, String> {
    if let Ok(url) = Url::parse(input) {
        if url.scheme().len() > 1 {
            return Ok(url);
        }
    }
    let path = std::path::Path::new(input);
    // canonicalize resolves `..` and symlinks for an existing file; absolute() keeps others.
    let abs =
        path.canonicalize().or_else(|_| std::path::absolute(path)).map_err(|e| format!("{input}: {e}"))?;
    Url::from_file_path(&abs).map_err(|_| format!("{input}: not a URL or a path"))
}
