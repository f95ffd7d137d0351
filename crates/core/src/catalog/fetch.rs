//! Fetching a playlist document: `http(s)://` through the shared client, `file://` from disk.
//! The body is read whole (feeds are small); a cap protects against endless responses.

use url::Url;

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
            FetchError::Http(_) => true,
            _ => false,
        }
    }
}

/// Fetches the document at `url`, following redirects. Returns the body and the final URL
/// (relative links in the document resolve against it).
pub async fn fetch_document(client: &reqwest::Client, url: &Url) -> Result<(Vec<u8>, Url), FetchError> {
    match url.scheme() {
        "file" => {
            let path = url.to_file_path().map_err(|_| FetchError::Scheme(url.to_string()))?;
            let bytes = tokio::fs::read(&path).await.map_err(|source| FetchError::File { path: path.display().to_string(), source })?;
            if bytes.len() > MAX_DOCUMENT_BYTES {
                return Err(FetchError::TooLarge);
            }
            Ok((bytes, url.clone()))
        }
        "http" | "https" => {
            let mut resp = client.get(url.clone()).send().await?;
            let status = resp.status();
            if !status.is_success() {
                return Err(FetchError::Status { status: status.as_u16() });
            }
            let final_url = resp.url().clone();
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await? {
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
    let abs = path.canonicalize().or_else(|_| std::path::absolute(path)).map_err(|e| format!("{input}: {e}"))?;
    Url::from_file_path(&abs).map_err(|_| format!("{input}: not a URL or a path"))
}
