//! Fetching a playlist document: `http(s)://` through the document client, `file://` from
//! disk. The body is read whole (feeds are small) within [`DocumentLimits`]: a stall window
//! (nothing received, no response head or body bytes, for that long ends the fetch with
//! [`FetchError::Stalled`], transient), an overall deadline (a server that drips a byte now and
//! then never stalls, so [`FetchError::DeadlineExceeded`] ends it, transient) and a size cap
//! ([`FetchError::TooLarge`], final).
//!
//! The document client ([`build_document_client`]) asks for and decodes `gzip`, `deflate` and
//! `br` (RFC 9110 §8.4) through reqwest's own decoders, and decodes a compressed body the
//! server sent unasked too. Media goes through `download::build_client`, which never decodes:
//! a media file must be byte-exact and its ranges address the encoded bytes.

use std::time::Duration;

use url::Url;

/// How long, how big and how silent a document fetch may be (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentLimits {
    /// Nothing received for this long ends the fetch; default 30 s (`stall_timeout_ms`).
    pub stall: Duration,
    /// The whole fetch, head and body, ends after this long; default 120 s
    /// (`document_deadline_ms`).
    pub deadline: Duration,
    /// Largest document accepted, in bytes (after decoding); default 50 MB
    /// (`document_max_bytes`; the biggest real feeds are a few MB).
    pub max_bytes: u64,
}

impl Default for DocumentLimits {
    fn default() -> Self {
        DocumentLimits {
            stall: Duration::from_secs(30),
            deadline: Duration::from_secs(120),
            max_bytes: 50_000_000,
        }
    }
}

/// Why a document could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server answered with an error status. 4xx are final, 5xx and 429 transient.
    #[error("HTTP {status}")]
    Status {
        /// The HTTP status code.
        status: u16,
    },
    /// Connection, TLS or timeout failure (transient); shown with its causes (connection
    /// refused, DNS name not found, certificate invalid...).
    #[error("cannot fetch: {}", crate::error_chain::Chain(.0))]
    Http(#[from] reqwest::Error),
    /// Nothing arrived (response head or body bytes) for this long (transient).
    #[error("stalled: nothing received for {0:?}")]
    Stalled(Duration),
    /// The fetch ran past [`DocumentLimits::deadline`] while bytes still trickled in
    /// (transient).
    #[error("no complete document within {0:?}")]
    DeadlineExceeded(Duration),
    /// Reading a local file failed.
    #[error("cannot read {path}: {source}")]
    File {
        /// Local path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The document is larger than [`DocumentLimits::max_bytes`] (final).
    #[error("document larger than {0} bytes (document_max_bytes)")]
    TooLarge(u64),
    /// Only http, https and file URLs are fetched.
    #[error("unsupported URL scheme {0}")]
    Scheme(String),
}

impl FetchError {
    /// Whether retrying later may succeed (5xx, 429, network errors, stalls, deadlines).
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Status { status } => *status >= 500 || *status == 429,
            FetchError::Http(_) | FetchError::Stalled(_) | FetchError::DeadlineExceeded(_) => true,
            _ => false,
        }
    }
}

/// The client for documents (feeds, playlists, OPML): the media client's settings plus
/// `gzip`, `deflate` and `br` asked for and decoded (module docs).
pub fn build_document_client(user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(user_agent)
        .redirect(reqwest::redirect::Policy::limited(10))
        .connect_timeout(Duration::from_secs(15))
        .tcp_keepalive(Duration::from_secs(60))
        .gzip(true)
        .brotli(true)
        .deflate(true)
        .build()
        // Only fails when the TLS backend cannot initialise: a build/configuration bug.
        .expect("HTTP client configuration is valid")
}

/// Fetches the document at `url`, following redirects, within the default [`DocumentLimits`].
/// Returns the body and the final URL (relative links in the document resolve against it).
pub async fn fetch_document(client: &reqwest::Client, url: &Url) -> Result<(Vec<u8>, Url), FetchError> {
    fetch_document_with(client, url, &DocumentLimits::default()).await
}

/// [`fetch_document`] within `limits` (module docs). `client` should be a
/// [`build_document_client`] for compressed documents to be decoded.
pub async fn fetch_document_with(
    client: &reqwest::Client,
    url: &Url,
    limits: &DocumentLimits,
) -> Result<(Vec<u8>, Url), FetchError> {
    let too_large = |len: usize| len as u64 > limits.max_bytes;
    match url.scheme() {
        "file" => {
            let path = url.to_file_path().map_err(|_| FetchError::Scheme(url.to_string()))?;
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|source| FetchError::File { path: path.display().to_string(), source })?;
            if too_large(bytes.len()) {
                return Err(FetchError::TooLarge(limits.max_bytes));
            }
            Ok((bytes, url.clone()))
        }
        "http" | "https" => {
            let stall = limits.stall;
            let fetch = async {
                let mut resp = tokio::time::timeout(stall, client.get(url.clone()).send())
                    .await
                    .map_err(|_| FetchError::Stalled(stall))??;
                let status = resp.status();
                if !status.is_success() {
                    return Err(FetchError::Status { status: status.as_u16() });
                }
                let final_url = resp.url().clone();
                let mut body = Vec::new();
                while let Some(chunk) = tokio::time::timeout(stall, resp.chunk())
                    .await
                    .map_err(|_| FetchError::Stalled(stall))??
                {
                    if too_large(body.len() + chunk.len()) {
                        return Err(FetchError::TooLarge(limits.max_bytes));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok((body, final_url))
            };
            tokio::time::timeout(limits.deadline, fetch)
                .await
                .map_err(|_| FetchError::DeadlineExceeded(limits.deadline))?
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
