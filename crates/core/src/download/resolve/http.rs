//! [`Http`]: the HTTP a resolver source may send, counted against its request budget
//! ([`super::Limits::max_requests`]). Bodies are bounded ([`MAX_BODY_BYTES`]); JSON answers
//! are parsed with `serde_json`. Errors never echo request headers, so credentials sent in
//! headers (podcastindex, the agent's bearer key) cannot reach logs or stored errors.

use std::sync::atomic::{AtomicU32, Ordering};

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::SourceError;

/// Largest body a source reads (pages, feeds, API answers): 8 MiB.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// A budgeted HTTP client for one source run.
#[derive(Debug)]
pub struct Http {
    client: reqwest::Client,
    cap: u32,
    used: AtomicU32,
    cancel: CancellationToken,
}

/// A fetched text body with the final URL (after redirects) and its `Content-Type`.
#[derive(Debug, Clone)]
pub struct Page {
    /// Final URL.
    pub url: Url,
    /// `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// Body decoded as UTF-8 (lossy).
    pub text: String,
    /// Raw body.
    pub bytes: Vec<u8>,
}

impl Http {
    /// A client allowing `cap` requests.
    pub fn new(client: reqwest::Client, cap: u32, cancel: CancellationToken) -> Http {
        Http { client, cap, used: AtomicU32::new(0), cancel }
    }

    /// Requests sent so far.
    pub fn used(&self) -> u32 {
        self.used.load(Ordering::SeqCst)
    }

    /// Takes one request from the budget. Errors: [`SourceError::Budget`] when spent.
    pub fn take(&self) -> Result<(), SourceError> {
        let before = self.used.fetch_add(1, Ordering::SeqCst);
        if before >= self.cap {
            self.used.fetch_sub(1, Ordering::SeqCst);
            return Err(SourceError::Budget(self.cap));
        }
        Ok(())
    }

    /// Sends one request (budgeted) and reads its body. Errors: budget, HTTP, non-2xx status.
    pub async fn send(
        &self,
        method: Method,
        url: &Url,
        headers: HeaderMap,
        json: Option<&serde_json::Value>,
    ) -> Result<Page, SourceError> {
        self.take()?;
        let mut req = self.client.request(method, url.clone()).headers(headers);
        if let Some(body) = json {
            req = req.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.to_string());
        }
        let work = async {
            let mut resp = req.send().await?;
            let status = resp.status();
            if !status.is_success() {
                return Err(status_error(status, url));
            }
            let final_url = resp.url().clone();
            let content_type = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let mut bytes = Vec::new();
            while let Some(chunk) = resp.chunk().await? {
                if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(SourceError::Parse(format!(
                        "body of {url} larger than {MAX_BODY_BYTES} bytes"
                    )));
                }
                bytes.extend_from_slice(&chunk);
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            Ok(Page { url: final_url, content_type, text, bytes })
        };
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(SourceError::Tool("cancelled".into())),
            r = work => r,
        }
    }

    /// GET `url`.
    pub async fn get(&self, url: &Url, headers: HeaderMap) -> Result<Page, SourceError> {
        self.send(Method::GET, url, headers, None).await
    }

    /// GET `url` and parse the body as JSON.
    pub async fn get_json(&self, url: &Url, headers: HeaderMap) -> Result<serde_json::Value, SourceError> {
        let page = self.get(url, headers).await?;
        serde_json::from_slice(&page.bytes).map_err(|e| SourceError::Parse(format!("{url}: {e}")))
    }

    /// POST `body` as JSON to `url` and parse the answer as JSON.
    pub async fn post_json(
        &self,
        url: &Url,
        headers: HeaderMap,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, SourceError> {
        let page = self.send(Method::POST, url, headers, Some(body)).await?;
        serde_json::from_slice(&page.bytes).map_err(|e| SourceError::Parse(format!("{url}: {e}")))
    }

    /// HEAD `url` (budgeted): the status, `Content-Type` and `Content-Length`, for the
    /// agent's tool. Errors: budget, HTTP.
    pub async fn head(&self, url: &Url) -> Result<(u16, Option<String>, Option<u64>), SourceError> {
        self.take()?;
        let resp = self.client.head(url.clone()).send().await?;
        let h = resp.headers();
        let ct = h.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let len =
            h.get(reqwest::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        Ok((resp.status().as_u16(), ct, len))
    }
}

fn status_error(status: StatusCode, url: &Url) -> SourceError {
    SourceError::Status { status: status.as_u16(), url: url.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_a_hard_cap() {
        let http = Http::new(reqwest::Client::new(), 2, CancellationToken::new());
        let got: Vec<bool> = (0..4).map(|_| http.take().is_ok()).collect();
        assert_eq!((got, http.used()), (vec![true, true, false, false], 2));
        assert!(matches!(
            Http::new(reqwest::Client::new(), 0, CancellationToken::new()).take(),
            Err(SourceError::Budget(0))
        ));
    }
}
