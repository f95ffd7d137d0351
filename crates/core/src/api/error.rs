//! The one wire error of every API operation (ARCHITECTURE.md, convention 2): `{code, message}`.
//! `code` is a closed enum the fronts branch on (never the text); `message` is for people. Each
//! core error maps to a code here, in one place, keeping the core's own class: `not_found`,
//! `invalid_input`, `unparsable` and `conflict` are expected (final for this input), `network`
//! is transient (retrying later may help), `in_use` needs the user to close another Catalog Sync,
//! `io` and `internal` are environment failures or bugs.

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::jobs::EngineError;
use crate::store::StoreError;
use crate::subscriptions::SubscriptionError;

/// What went wrong, for the UI to branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A playlist, item or job the command named does not exist.
    NotFound,
    /// The input is not a URL, path, job kind or setting the command accepts.
    InvalidInput,
    /// A fetched document is not a feed, playlist or subscription list.
    Unparsable,
    /// The server or network failed; retrying later may help.
    Network,
    /// The state does not allow the command (e.g. resume of a finished job).
    Conflict,
    /// Another Catalog Sync process has the catalog open.
    InUse,
    /// Reading or writing a file failed.
    Io,
    /// A bug or a broken environment (corrupt database, panicked task).
    Internal,
    /// A network front (`serve`): no valid token or session.
    Unauthorized,
    /// A network front: the request is refused (an unknown `Host`, a disallowed address).
    Forbidden,
    /// A network front: too many attempts (logins); try again later.
    RateLimited,
    /// A network front: the request body is larger than the route accepts.
    TooLarge,
}

/// The error every command returns: a stable `code` and a human `message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[error("{message}")]
pub struct WireError {
    /// What went wrong; the UI branches on this.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
}

impl WireError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> WireError {
        WireError { code, message: message.into() }
    }

    /// An [`ErrorCode::InvalidInput`] error.
    pub fn invalid(message: impl Into<String>) -> WireError {
        WireError::new(ErrorCode::InvalidInput, message)
    }
}

fn store_code(s: &StoreError) -> ErrorCode {
    match s {
        StoreError::NotFound { .. } => ErrorCode::NotFound,
        StoreError::Conflict(_) => ErrorCode::Conflict,
        StoreError::InUse { .. } => ErrorCode::InUse,
        StoreError::Io { .. } | StoreError::DirSync { .. } => ErrorCode::Io,
        StoreError::NewerSchema { .. } | StoreError::Open { .. } | StoreError::Db(_) => ErrorCode::Internal,
    }
}

impl From<StoreError> for WireError {
    fn from(e: StoreError) -> WireError {
        WireError::new(store_code(&e), e.to_string())
    }
}

impl From<EngineError> for WireError {
    fn from(e: EngineError) -> WireError {
        match e {
            EngineError::Store(s) => s.into(),
            EngineError::Worker(m) => WireError::new(ErrorCode::Internal, format!("worker task failed: {m}")),
        }
    }
}

impl From<SubscriptionError> for WireError {
    fn from(e: SubscriptionError) -> WireError {
        use crate::catalog::fetch::FetchError;
        let code = match &e {
            SubscriptionError::Store(s) => store_code(s),
            SubscriptionError::BadInput(_) => ErrorCode::InvalidInput,
            SubscriptionError::Fetch { source, .. } if source.is_transient() => ErrorCode::Network,
            SubscriptionError::Fetch { source: FetchError::File { .. }, .. } => ErrorCode::Io,
            SubscriptionError::Fetch { source: FetchError::Status { status: 404 | 410 }, .. } => {
                ErrorCode::NotFound
            }
            SubscriptionError::Fetch { .. } => ErrorCode::InvalidInput,
            SubscriptionError::Parse { .. } => ErrorCode::Unparsable,
            SubscriptionError::NoYtDlp(_) => ErrorCode::InvalidInput,
            SubscriptionError::YtDlp { source, .. } if source.is_transient() => ErrorCode::Network,
            SubscriptionError::YtDlp { .. } | SubscriptionError::SingleVideo { .. } => ErrorCode::Unparsable,
        };
        WireError::new(code, e.to_string())
    }
}

impl From<ConfigError> for WireError {
    fn from(e: ConfigError) -> WireError {
        let code = match &e {
            ConfigError::Read { .. } => ErrorCode::Io,
            ConfigError::Parse { .. } => ErrorCode::InvalidInput,
        };
        WireError::new(code, e.to_string())
    }
}

impl From<std::io::Error> for WireError {
    fn from(e: std::io::Error) -> WireError {
        WireError::new(ErrorCode::Io, e.to_string())
    }
}

impl WireError {
    /// An [`ErrorCode::Internal`] error (a panicked task, a broken invariant).
    pub fn internal(message: impl Into<String>) -> WireError {
        WireError::new(ErrorCode::Internal, message)
    }
}

/// Result of an API operation.
pub type ApiResult<T> = Result<T, WireError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_keep_their_class() {
        let e: WireError = StoreError::NotFound { what: "playlist", id: "7".into() }.into();
        assert_eq!((e.code, e.message.as_str()), (ErrorCode::NotFound, "playlist 7 not found"));
        let e: WireError = SubscriptionError::BadInput("x: not a URL".into()).into();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        let e: WireError = SubscriptionError::Store(StoreError::InUse { path: "/c.redb".into() }).into();
        assert_eq!(e.code, ErrorCode::InUse);
        assert_eq!(serde_json::to_value(&e).unwrap()["code"], "in_use");
    }
}
