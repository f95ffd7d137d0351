//! Dynamic routes: a path answered by a function of the request instead of a stored body,
//! for fake JSON APIs (podcast indexes, a chat-completions server). [`ApiRequest`] carries
//! method, path, decoded query pairs, headers (names lowercase) and the body; the function
//! returns an [`ApiResponse`]. Injected `Fault::Status` faults and latency apply as for other
//! paths; the request is counted in `Stats`.

use std::sync::Arc;

use url::Url;

/// A request as a dynamic route sees it.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    /// `GET`, `POST`...
    pub method: String,
    /// URL path, e.g. `/pi/episodes/byguid`.
    pub path: String,
    /// Query pairs, percent-decoded, in order.
    pub query: Vec<(String, String)>,
    /// Headers as `(lowercase name, value)`.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Vec<u8>,
}

impl ApiRequest {
    /// The first query value named `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub(crate) fn query_of(url: &str) -> Vec<(String, String)> {
        Url::parse(&format!("http://x{url}"))
            .map(|u| u.query_pairs().into_owned().collect())
            .unwrap_or_default()
    }
}

/// What a dynamic route answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// Body.
    pub body: Vec<u8>,
}

impl ApiResponse {
    /// `status` with a JSON body.
    pub fn json(status: u16, value: &serde_json::Value) -> ApiResponse {
        ApiResponse { status, content_type: "application/json".into(), body: value.to_string().into_bytes() }
    }
}

/// A dynamic route's function.
pub type Route = Arc<dyn Fn(&ApiRequest) -> ApiResponse + Send + Sync>;
