//! The built UI (`ui/dist`, made by `npm --prefix ui run build`), embedded in the binary at
//! compile time (`rust-embed`): no Node and no files are needed at run time. A request path is
//! percent-decoded once and looked up in the embedded set; a path with a `..`, `.` or empty
//! segment, a backslash or a NUL (raw or encoded: `%2e%2e`, `%2f`, `%5c`) is refused with 404
//! before any lookup, so nothing outside the set can be named. `/` is `index.html`. Hashed
//! assets (`/assets/*`) are cached for a year; the rest must be revalidated.

use std::borrow::Cow;

use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use catalog_sync_core::api::ErrorCode;
use percent_encoding::percent_decode_str;

use crate::wire::ApiError;

/// The embedded `ui/dist`.
#[derive(rust_embed::Embed)]
#[folder = "../../ui/dist"]
pub struct Ui;

/// The embedded file a request path names, as its path inside `ui/dist`; `None` for a path
/// that is malformed or tries to leave the set (module docs).
pub fn resolve(path: &str) -> Option<String> {
    let decoded: Cow<str> = percent_decode_str(path).decode_utf8().ok()?;
    let rel = decoded.strip_prefix('/')?;
    if rel.is_empty() {
        return Some("index.html".into());
    }
    if rel.contains(['\\', '\0']) || rel.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..") {
        return None;
    }
    Some(rel.to_string())
}

/// The fallback route: a file of the UI, or `404 not_found`.
pub async fn static_file(uri: Uri) -> Response {
    let not_found =
        || ApiError::new(ErrorCode::NotFound, format!("{} not found", uri.path())).into_response();
    if uri.path().starts_with("/api/") {
        return not_found();
    }
    let Some(rel) = resolve(uri.path()) else { return not_found() };
    let Some(file) = Ui::get(&rel) else { return not_found() };
    let mime = file.metadata.mimetype().to_string();
    let cache = if rel.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    (StatusCode::OK, [(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, cache.to_string())], file.data)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_set() {
        assert_eq!(resolve("/").as_deref(), Some("index.html"));
        assert_eq!(resolve("/assets/a.js").as_deref(), Some("assets/a.js"));
        for bad in [
            "/../Cargo.toml",
            "/assets/../../x",
            "/%2e%2e/x",
            "/%2E%2E%2Fetc%2Fpasswd",
            "/assets/%2e%2e%5c..%5cx",
            "/a//b",
            "/./index.html",
            "/x%00",
            "/%ff",
        ] {
            assert_eq!(resolve(bad), None, "{bad}");
        }
    }
}
