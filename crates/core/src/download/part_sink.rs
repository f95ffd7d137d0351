//! Where a transfer writes its body ([`super::transfer`]): a fresh part is held in memory
//! until it outgrows [`WRITE_BUFFER_BYTES`], and only then created on disk with its sidecar;
//! past that, or for a resumed part, writes go to the open file through a buffer of the same
//! size. A body that ends while still held (a small file) is written, fsynced and renamed
//! into place in one blocking call ([`PartBody::Held`]), so a small item costs one trip to
//! the blocking pool instead of four, and no sidecar at all.
//!
//! The on-disk contract stays that of the transfer module: [`PartSink::persist`] puts exactly
//! the bytes received into `<dest>.part` (with its sidecar, even when that is zero bytes), as
//! an attempt that ends early must leave them for a resume.

use std::io::Write;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncWriteExt, BufWriter};

use super::content_coding::PartMeta;

/// Write buffer between the network and the part file, and the most a fresh part holds in
/// memory before it is created, in bytes.
pub(super) const WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// `<dest>.part.validator`: the strong `ETag` (else `Last-Modified`) of the representation a
/// part holds bytes of, and their content coding ([`PartMeta`]). A resume sends the validator
/// as `If-Range` (RFC 9110 §13.1.5), so a server whose file changed answers 200 with the new
/// full body instead of appending new bytes to old ones.
pub fn validator_path(part: &Path) -> PathBuf {
    let mut name = part.as_os_str().to_owned();
    name.push(".validator");
    PathBuf::from(name)
}

/// A transfer's destination for body bytes (module docs).
pub(super) enum PartSink {
    /// Nothing on disk yet: the part's path, the sidecar to write beside it, the bytes so far.
    Held { part: PathBuf, meta: PartMeta, bytes: Vec<u8> },
    /// The part is open for writing (at its end).
    Open(BufWriter<tokio::fs::File>),
}

/// The complete part at the end of a transfer: still in memory, or the flushed file.
pub(super) enum PartBody {
    Held(Vec<u8>),
    File(std::fs::File),
}

impl PartSink {
    /// A fresh part at `part`, not yet created; `meta` goes to its sidecar when it is.
    pub(super) fn held(part: &Path, meta: PartMeta) -> PartSink {
        PartSink::Held { part: part.to_path_buf(), meta, bytes: Vec::new() }
    }

    /// A part already open at its end (a resume).
    pub(super) fn open(file: tokio::fs::File) -> PartSink {
        PartSink::Open(BufWriter::with_capacity(WRITE_BUFFER_BYTES, file))
    }

    /// Appends `chunk`. Errors: creating or writing the part (or its sidecar).
    pub(super) async fn write_all(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        if let PartSink::Held { bytes, .. } = self {
            if bytes.len() + chunk.len() <= WRITE_BUFFER_BYTES {
                bytes.extend_from_slice(chunk);
                return Ok(());
            }
        }
        match self.spill().await? {
            PartSink::Open(writer) => writer.write_all(chunk).await,
            PartSink::Held { .. } => unreachable!("spill opens the part"),
        }
    }

    /// Makes the part on disk hold exactly the bytes received: creates it (and its sidecar)
    /// from held bytes, or flushes the open file. Errors: the file system's.
    pub(super) async fn persist(&mut self) -> std::io::Result<()> {
        match self.spill().await? {
            PartSink::Open(writer) => writer.flush().await,
            PartSink::Held { .. } => unreachable!("spill opens the part"),
        }
    }

    /// The whole part, for finalizing: held bytes as they are, an open part flushed.
    /// Errors: the flush's.
    pub(super) async fn into_body(self) -> std::io::Result<PartBody> {
        match self {
            PartSink::Held { bytes, .. } => Ok(PartBody::Held(bytes)),
            PartSink::Open(mut writer) => {
                writer.flush().await?;
                Ok(PartBody::File(writer.into_inner().into_std().await))
            }
        }
    }

    /// Creates a held part on disk, sidecar first (one blocking call); returns the sink, now
    /// open.
    async fn spill(&mut self) -> std::io::Result<&mut PartSink> {
        if let PartSink::Held { part, meta, bytes } = self {
            let (part, meta, bytes) = (part.clone(), meta.clone(), std::mem::take(bytes));
            let created = tokio::task::spawn_blocking(move || {
                meta.write_blocking(&validator_path(&part))?;
                let mut file = std::fs::File::create(&part)?;
                file.write_all(&bytes)?;
                Ok::<_, std::io::Error>(file)
            });
            let file = created.await.map_err(std::io::Error::other)??;
            *self = PartSink::open(tokio::fs::File::from_std(file));
        }
        Ok(self)
    }
}

impl PartBody {
    /// On the calling (blocking) thread: the part as a file at `part`, fsynced; held bytes
    /// are written there first and returned. Errors: the file system's, with the operation
    /// that failed.
    pub(super) fn sync_at(self, part: &Path) -> Result<Option<Vec<u8>>, (&'static str, std::io::Error)> {
        let (file, held) = match self {
            PartBody::File(file) => (file, None),
            PartBody::Held(bytes) => {
                let mut file = std::fs::File::create(part).map_err(|e| ("create", e))?;
                file.write_all(&bytes).map_err(|e| ("write", e))?;
                (file, Some(bytes))
            }
        };
        file.sync_all().map_err(|e| ("fsync", e))?;
        Ok(held)
    }
}
