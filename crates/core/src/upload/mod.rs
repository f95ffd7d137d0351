//! Upload targets: send the library's downloaded files and M3U playlists to where they are
//! listened to (ARCHITECTURE.md, layout: "upload targets (folder, WebDAV, SFTP, S3 via
//! OpenDAL), what we put where"). Targets are configured in the config file
//! (`config::targets`); a playlist is assigned to targets in the store (`PLAYLIST_TARGET`).
//!
//! - [`backend`]: one file to one target, never partial under its final name;
//! - [`fat`]: FAT32/exFAT naming and size rules of folder targets;
//! - [`s3_pending`]: S3 multipart uploads a crash left pending, found and aborted;
//! - [`webdav_put`]: files to WebDAV as one streamed `PUT` (OpenDAL's writer buffers them);
//! - [`plan`]: what a target should hold (every playlist assigned to it), what to send (new
//!   or changed since what we recorded) and, in mirror mode, what to delete (only files we
//!   recorded putting there).
//!
//! The `upload` stage (`jobs::upload_stage`) runs the workers; this module knows nothing of
//! jobs.

pub mod backend;
pub mod fat;
pub mod plan;
pub mod s3_pending;
pub mod webdav_put;

pub use backend::Backend;

use std::path::{Path, PathBuf};

use crate::download::ErrorKind;

/// Errors of an upload. Kinds (convention 2) via [`UploadError::kind`].
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// A local or folder-target file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The remote refused or failed (OpenDAL's error, with the service's answer).
    #[error("{0}")]
    Remote(#[source] opendal::Error),
    /// The target's settings are unusable, or the target misbehaved.
    #[error("{0}")]
    Config(String),
    /// The device cannot take this file (FAT rules).
    #[error(transparent)]
    Fat(#[from] fat::FatError),
    /// The folder target lacks the room for what is to be sent.
    #[error("not enough space on the target: {need} bytes to send, {free} bytes free")]
    NoSpace {
        /// Bytes to send.
        need: u64,
        /// Bytes free.
        free: u64,
    },
    /// The job was cancelled or paused while sending.
    #[error("cancelled")]
    Cancelled,
}

impl UploadError {
    /// An `Io` error maker for `path`.
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> UploadError + '_ {
        move |source| UploadError::Io { path: path.to_path_buf(), source }
    }

    /// Expected, transient or bug: remote errors OpenDAL marks temporary, and I/O that was
    /// interrupted or timed out, are transient (the next run retries them); the rest is
    /// expected (wrong password, missing bucket, full device, FAT limits).
    pub fn kind(&self) -> ErrorKind {
        use std::io::ErrorKind as Io;
        match self {
            Self::Remote(e) if e.is_temporary() => ErrorKind::Transient,
            Self::Io { source, .. }
                if matches!(source.kind(), Io::Interrupted | Io::TimedOut | Io::ConnectionReset) =>
            {
                ErrorKind::Transient
            }
            _ => ErrorKind::Expected,
        }
    }
}
