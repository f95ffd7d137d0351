//! The wire error on HTTP: every failure of a route is a JSON body `{code, message}` (the core's
//! `WireError`, ARCHITECTURE.md convention 2) with the status its code maps to
//! ([`status_of`]), including the extractor failures axum would otherwise answer in plain text:
//! malformed JSON is `400 invalid_input`, an oversized body `413 too_large` ([`ApiJson`],
//! [`ApiBytes`]).

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use catalog_sync_core::api::{ErrorCode, WireError};
use serde::de::DeserializeOwned;

/// The HTTP status of a wire error code (RFC 9110 §15): `not_found` 404, `invalid_input` 400,
/// `unparsable` 422, `network` 502, `conflict` 409, `in_use` 503, `io` and `internal` 500,
/// `unauthorized` 401, `forbidden` 403, `rate_limited` 429, `too_large` 413.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorCode::Unparsable => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Network => StatusCode::BAD_GATEWAY,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::InUse => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Io | ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
    }
}

/// A wire error as a response.
#[derive(Debug)]
pub struct ApiError(pub WireError);

impl From<WireError> for ApiError {
    fn from(e: WireError) -> ApiError {
        ApiError(e)
    }
}

impl ApiError {
    /// An error of `code` with `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError(WireError::new(code, message))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (status_of(self.0.code), Json(self.0)).into_response()
    }
}

/// The result of a route.
pub type ApiResult<T> = Result<T, ApiError>;

/// An extractor rejection (status, text) as a wire error.
fn rejection(status: StatusCode, text: String) -> ApiError {
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::TooLarge,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::InvalidInput,
    };
    ApiError::new(code, text)
}

/// A JSON body whose failures are wire errors (module docs).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(rejection(r.status(), r.body_text())),
        }
    }
}

/// A raw body (an upload) whose failures are wire errors.
#[derive(Debug)]
pub struct ApiBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => Ok(ApiBytes(b)),
            Err(r) => Err(rejection(r.status(), r.body_text())),
        }
    }
}
