//! Fetching a playlist document: `http(s)://` through the document client, `file://` from
//! disk. The body is read whole (feeds are small) within [`DocumentLimits`]: a stall window
//! (nothing received, no response head or body bytes, for that long ends the fetch with
//! [`FetchError::Stalled`], transient), an overall deadline (a server that drips a byte now and
//! then never stalls, so [`FetchError::DeadlineExceeded`] ends it, transient) and a size cap
//! ([`FetchError::TooLarge`], final; a declared `Content-Length` above it is refused before
//! the body is read, and the bytes received are counted, so a body without a length or longer
//! than declared is cut off at the cap too). The cover art cache (`library::art`) fetches
//! images the same way, with its own limits.
//!
//! Redirects are followed here, not by the client, so that a fetch knows how it got where it
//! did ([`Fetched::moved_to`]): the URL reached through permanent redirects only (`301`, `308`;
//! RFC 9110 §15.4.2, §15.4.9) from the start is where the feed now lives, and the caller stores
//! it; a `302`, `303` or `307` on the way ends that run, since it says nothing about the future.
//! At most [`MAX_REDIRECTS`] hops; a URL seen twice is [`FetchError::RedirectLoop`].
//!
//! A refresh can be conditional (RFC 9110 §13.1): [`fetch_document_conditional`] sends the
//! `ETag` as `If-None-Match` and the `Last-Modified` as `If-Modified-Since` from the last
//! fetch, and a `304 Not Modified` comes back as [`Fetched::not_modified`] with no body.
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
    /// A redirect led back to a URL already visited in this fetch (final).
    #[error("redirect loop: {0} again")]
    RedirectLoop(String),
    /// More than [`MAX_REDIRECTS`] redirects (final).
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    /// A redirect without a usable `Location` (final).
    #[error("HTTP {status} without a usable Location")]
    BadRedirect {
        /// The redirect status.
        status: u16,
    },
}

/// Most redirects one document fetch follows.
pub const MAX_REDIRECTS: usize = 10;

/// The validators of a fetched document (RFC 9110 §8.8), sent back on the next refresh.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag`, verbatim (weak ones included: `If-None-Match` compares weakly).
    pub etag: Option<String>,
    /// The `Last-Modified`, verbatim.
    pub last_modified: Option<String>,
}

/// A fetched document and how it was reached.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    /// The body (empty when [`Fetched::not_modified`]).
    pub body: Vec<u8>,
    /// The URL the body came from (relative links in the document resolve against it).
    pub final_url: Option<Url>,
    /// The URL reached through permanent redirects (`301`/`308`) only, when it differs from the
    /// URL asked: where the document now lives.
    pub moved_to: Option<Url>,
    /// The server answered `304 Not Modified` to the conditional request.
    pub not_modified: bool,
    /// The response's validators, for the next conditional refresh.
    pub validators: Validators,
}

impl FetchError {
    /// Whether retrying later may succeed (5xx, 429, network errors, stalls, deadlines; not
    /// an address the private-address guard refused).
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Status { status } => *status >= 500 || *status == 429,
            FetchError::Http(e) => !crate::net_guard::is_refusal(e),
            FetchError::Stalled(_) | FetchError::DeadlineExceeded(_) => true,
            _ => false,
        }
    }
}

/// The client for documents (feeds, playlists, OPML): the media client's settings plus
/// `gzip`, `deflate` and `br` asked for and decoded (module docs).
pub fn build_document_client(user_agent: &str) -> reqwest::Client {
    build_document_client_guarded(user_agent, None)
}

/// [`build_document_client`] with the private-address `guard` installed on every connection
/// (`net_guard`), when given.
pub fn build_document_client_guarded(
    user_agent: &str,
    guard: Option<&std::sync::Arc<crate::net_guard::AddressGuard>>,
) -> reqwest::Client {
    crate::net_guard::client_builder(user_agent, guard)
        // followed by fetch_document_conditional, which needs to see each hop
        .redirect(reqwest::redirect::Policy::none())
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
    let fetched = fetch_document_conditional(client, url, limits, &Validators::default()).await?;
    Ok((fetched.body, fetched.final_url.unwrap_or_else(|| url.clone())))
}

/// Fetches `url` within `limits`, following redirects itself and sending `known` validators
/// as a conditional request (module docs). `file://` URLs are read from disk. Errors:
/// [`FetchError`].
pub async fn fetch_document_conditional(
    client: &reqwest::Client,
    url: &Url,
    limits: &DocumentLimits,
    known: &Validators,
) -> Result<Fetched, FetchError> {
    match url.scheme() {
        "file" => {
            let path = url.to_file_path().map_err(|_| FetchError::Scheme(url.to_string()))?;
            let body = tokio::fs::read(&path)
                .await
                .map_err(|source| FetchError::File { path: path.display().to_string(), source })?;
            if body.len() as u64 > limits.max_bytes {
                return Err(FetchError::TooLarge(limits.max_bytes));
            }
            Ok(Fetched { body, final_url: Some(url.clone()), ..Fetched::default() })
        }
        "http" | "https" => tokio::time::timeout(limits.deadline, fetch_http(client, url, limits, known))
            .await
            .map_err(|_| FetchError::DeadlineExceeded(limits.deadline))?,
        other => Err(FetchError::Scheme(other.to_string())),
    }
}

async fn fetch_http(
    client: &reqwest::Client,
    url: &Url,
    limits: &DocumentLimits,
    known: &Validators,
) -> Result<Fetched, FetchError> {
    use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION};
    let stall = limits.stall;
    let mut current = url.clone();
    let mut seen = vec![url.clone()];
    let mut permanent = Some(url.clone());
    let mut resp = loop {
        let mut request = client.get(current.clone());
        if let Some(etag) = &known.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(date) = &known.last_modified {
            request = request.header(IF_MODIFIED_SINCE, date);
        }
        let resp =
            tokio::time::timeout(stall, request.send()).await.map_err(|_| FetchError::Stalled(stall))??;
        let status = resp.status();
        if !status.is_redirection() || status == reqwest::StatusCode::NOT_MODIFIED {
            break resp;
        }
        let next = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| current.join(l.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or(FetchError::BadRedirect { status: status.as_u16() })?;
        if seen.contains(&next) {
            return Err(FetchError::RedirectLoop(next.to_string()));
        }
        if seen.len() > MAX_REDIRECTS {
            return Err(FetchError::TooManyRedirects);
        }
        let is_permanent = matches!(status.as_u16(), 301 | 308);
        permanent = permanent.filter(|_| is_permanent).map(|_| next.clone());
        seen.push(next.clone());
        current = next;
    };
    let moved_to = permanent.filter(|p| p != url);
    let header = |name| {
        resp.headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let validators = Validators { etag: header(ETAG), last_modified: header(LAST_MODIFIED) };
    let status = resp.status();
    if status == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Fetched {
            final_url: Some(current),
            moved_to,
            not_modified: true,
            validators,
            ..Fetched::default()
        });
    }
    if !status.is_success() {
        return Err(FetchError::Status { status: status.as_u16() });
    }
    // a declared length above the cap is refused before the body is read (a decoded body
    // has none: reqwest drops it with the coding, and the count below applies)
    if resp.content_length().is_some_and(|n| n > limits.max_bytes) {
        return Err(FetchError::TooLarge(limits.max_bytes));
    }
    // sized once from the declared length (capped), instead of doubling as chunks arrive
    let declared = resp.content_length().unwrap_or(0).min(limits.max_bytes);
    let mut body = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    while let Some(chunk) =
        tokio::time::timeout(stall, resp.chunk()).await.map_err(|_| FetchError::Stalled(stall))??
    {
        if (body.len() + chunk.len()) as u64 > limits.max_bytes {
            return Err(FetchError::TooLarge(limits.max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched { body, final_url: Some(current), moved_to, not_modified: false, validators })
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
