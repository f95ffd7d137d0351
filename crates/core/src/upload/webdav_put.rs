//! A streaming WebDAV `PUT` (RFC 4918 §9.7, RFC 9110 §9.3.4) for file bodies.
//!
//! OpenDAL 0.54's WebDAV writer is one-shot: it holds the whole file in memory until it sends
//! one `PUT`, so a 2 GB video would cost 2 GB of RAM. Files therefore go up through this one
//! request, streamed from disk in [`CHUNK`]-sized pieces with a `Content-Length`, while
//! everything else on the target (`MKCOL` of parent folders, `MOVE`, `DELETE`, `PROPFIND`)
//! stays with OpenDAL. The URL is built as OpenDAL builds it: the endpoint, then the target's
//! root, then the target-relative path, each segment percent-encoded.
//!
//! Failures become `opendal::Error`s so that [`super::UploadError::kind`] classifies them
//! like OpenDAL's own: a dropped connection, a timeout, `408`, `429` and `5xx` are temporary.

use std::path::Path;

use bytes::Bytes;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{StatusCode, Url};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use super::UploadError;

/// Bytes read from the local file per body chunk (256 KiB); two chunks are in flight at most.
pub const CHUNK: usize = 256 << 10;
/// Longest wait for the server between two reads of its answer (ms).
const READ_TIMEOUT_MS: u64 = 120_000;

/// Where and as whom a WebDAV target takes `PUT`s.
#[derive(Debug, Clone)]
pub struct StreamingPut {
    client: reqwest::Client,
    base: Url,
    root: Vec<String>,
    user: Option<(String, String)>,
}

impl StreamingPut {
    /// A `PUT` sender for `endpoint` (an `http(s)` URL, possibly with a path, e.g. Nextcloud's
    /// `/remote.php/dav/files/<user>`) and `root` (a folder under it, `/`-separated), with
    /// HTTP Basic credentials when a user name is given (RFC 7617). Errors: a malformed endpoint.
    pub fn new(
        endpoint: &str,
        root: &str,
        username: Option<&str>,
        password: Option<&str>,
    ) -> Result<Self, String> {
        let base = Url::parse(endpoint).map_err(|e| format!("endpoint {endpoint}: {e}"))?;
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            return Err(format!("endpoint {endpoint}: not an http(s) URL"));
        }
        let client =
            crate::net_guard::client_builder(concat!("catalog-sync/", env!("CARGO_PKG_VERSION")), None)
                .read_timeout(std::time::Duration::from_millis(READ_TIMEOUT_MS))
                .build()
                .map_err(|e| e.to_string())?;
        Ok(StreamingPut {
            client,
            base,
            root: segments(root),
            user: username.map(|u| (u.to_string(), password.unwrap_or_default().to_string())),
        })
    }

    /// The URL of target-relative `path`.
    pub fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("checked in new: a base URL")
            .pop_if_empty()
            .extend(self.root.iter().map(String::as_str).chain(path.split('/').filter(|s| !s.is_empty())));
        url
    }

    /// Streams `file` (at `local`, `len` bytes) to `path`, hashing what it sends and calling
    /// `progress` with the bytes handed to the connection so far. Returns (bytes, SHA-256 hex).
    /// The parent folder must exist. Errors: local I/O, the connection, a status other than
    /// `200`, `201` or `204` (with the server's answer).
    pub async fn put(
        &self,
        mut file: tokio::fs::File,
        local: &Path,
        len: u64,
        path: &str,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<(u64, String), UploadError> {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        let body = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) });
        let mut request = self
            .client
            .put(self.url(path))
            .header(CONTENT_LENGTH, len)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(reqwest::Body::wrap_stream(body));
        if let Some((user, password)) = &self.user {
            request = request.basic_auth(user, Some(password));
        }
        let mut hasher = Sha256::new();
        let mut sent = 0u64;
        let feed = async {
            loop {
                let mut buf = vec![0u8; CHUNK];
                let n = match file.read(&mut buf).await {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = tx.send(Err(std::io::Error::new(e.kind(), e.to_string()))).await;
                        return Err(UploadError::io(local)(e));
                    }
                };
                if n == 0 {
                    return Ok(());
                }
                buf.truncate(n);
                hasher.update(&buf);
                if tx.send(Ok(Bytes::from(buf))).await.is_err() {
                    return Ok(()); // the request ended early: its result says why
                }
                sent += n as u64;
                progress(sent);
            }
        };
        let (fed, answer) = tokio::join!(feed, async move { request.send().await });
        fed?;
        let response = answer.map_err(from_reqwest)?;
        let status = response.status();
        if !matches!(status, StatusCode::OK | StatusCode::CREATED | StatusCode::NO_CONTENT) {
            let text = response.text().await.unwrap_or_default();
            return Err(UploadError::Remote(status_error(status, &text)));
        }
        if sent != len {
            return Err(UploadError::Config(format!("{}: changed while it was sent", local.display())));
        }
        Ok((sent, hex::encode(hasher.finalize())))
    }
}

fn segments(root: &str) -> Vec<String> {
    root.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn from_reqwest(e: reqwest::Error) -> UploadError {
    let text = crate::error_chain::Chain(&e).to_string();
    let mut err = opendal::Error::new(opendal::ErrorKind::Unexpected, format!("PUT: {text}"));
    if e.is_connect() || e.is_timeout() || e.is_request() || e.is_body() {
        err = err.set_temporary();
    }
    UploadError::Remote(err)
}

/// The error for an unsuccessful answer, kinds as OpenDAL's WebDAV service gives them.
fn status_error(status: StatusCode, body: &str) -> opendal::Error {
    use opendal::ErrorKind as K;
    let kind = match status {
        StatusCode::NOT_FOUND | StatusCode::CONFLICT => K::NotFound,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => K::PermissionDenied,
        StatusCode::PRECONDITION_FAILED => K::ConditionNotMatch,
        _ => K::Unexpected,
    };
    let body: String = body.chars().take(200).collect();
    let err = opendal::Error::new(kind, format!("PUT answered {status}: {}", body.trim()));
    if status.is_server_error()
        || matches!(status, StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS)
    {
        err.set_temporary()
    } else {
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_endpoint_root_and_path_with_each_segment_encoded() {
        let put =
            StreamingPut::new("https://cloud.example/remote.php/dav/files/u/", "/Podcasts/", None, None)
                .unwrap();
        assert_eq!(
            put.url("Show A/.Ep #1 100%.mp3.csync-part").as_str(),
            "https://cloud.example/remote.php/dav/files/u/Podcasts/Show%20A/.Ep%20%231%20100%25.mp3.csync-part"
        );
        let bare = StreamingPut::new("http://127.0.0.1:8080", "/", None, None).unwrap();
        assert_eq!(bare.url("a/b?.mp3").as_str(), "http://127.0.0.1:8080/a/b%3F.mp3");
        assert!(StreamingPut::new("ftp://x", "/", None, None).is_err());
    }

    #[test]
    fn server_errors_are_temporary_and_refusals_are_not() {
        assert!(status_error(StatusCode::BAD_GATEWAY, "").is_temporary());
        assert!(status_error(StatusCode::TOO_MANY_REQUESTS, "").is_temporary());
        assert!(!status_error(StatusCode::FORBIDDEN, "").is_temporary());
        assert_eq!(status_error(StatusCode::CONFLICT, "").kind(), opendal::ErrorKind::NotFound);
    }
}
