//! [`EngineError`]: what stops the engine itself (not one item or playlist: those are stored
//! per item). Its own module so every part of `jobs` can name it without reaching into the
//! runner.

use crate::store::StoreError;

/// Errors that stop the engine itself (not one item or playlist: those are stored per item).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed (I/O, corruption): a bug or an environment failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A worker task panicked: a bug.
    #[error("worker task failed: {0}")]
    Worker(String),
}
