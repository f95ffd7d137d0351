//! The two ways bytes reach a target: a mounted folder (std file I/O) and the remote kinds
//! through Apache OpenDAL (`opendal`: WebDAV, SFTP, S3). [`Backend::put`] streams one local
//! file to a target-relative path, hashing what it sends (SHA-256), and never leaves a
//! partial file under the final name:
//!
//! - folder, WebDAV and SFTP write to a temporary name beside the final one
//!   ([`temp_path`]: `.<name>.csync-part`), then rename it (folder: `rename(2)` after
//!   `fsync`, then the folder is fsynced; WebDAV: `MOVE`, RFC 4918 §9.9; SFTP: `rename`);
//! - S3 has no rename, but an object appears only when its `PUT` or multipart upload
//!   completes (chunks of [`S3_CHUNK_BYTES`]), so it is written under its final key; a failed
//!   multipart upload is aborted, and one a crash left pending is aborted by the next run
//!   ([`Backend::discard`], [`super::s3_pending`]).
//!
//! The caller records each temporary path ([`Backend::noted_for`]) in the store before the
//! write and drops it with the final record, so what a crash left behind is discarded on the
//! next run.
//!
//! OpenDAL's WebDAV writer sends a file in one `PUT` and holds it in memory until then, so
//! files go to WebDAV through our streaming `PUT` ([`super::webdav_put`]) and OpenDAL does the
//! rest (folders, `MOVE`, `DELETE`, listing, small M3U bodies). SFTP streams. SFTP goes through
//! the system's OpenSSH client (`ssh` on `PATH`, key auth only).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use super::s3_pending::PendingUploads;
use super::webdav_put::StreamingPut;
use super::UploadError;
use crate::config::{Remote, UploadTarget};

/// Bytes read from the local file per write (1 MiB).
const READ_CHUNK: usize = 1 << 20;
/// Part size of an S3 multipart upload (8 MiB; S3 needs at least 5 MiB per part).
pub const S3_CHUNK_BYTES: usize = 8 << 20;
/// Suffix of temporary files on a target.
pub const TEMP_SUFFIX: &str = ".csync-part";

/// An opened target.
#[derive(Clone)]
pub enum Backend {
    /// A mounted folder.
    Folder {
        /// The target folder.
        root: PathBuf,
    },
    /// A remote reached through OpenDAL.
    Remote {
        /// The operator.
        op: opendal::Operator,
        /// Whether writes go through a temporary name and a rename (false for S3).
        rename: bool,
        /// WebDAV only: the streaming `PUT` files go through.
        put: Option<std::sync::Arc<StreamingPut>>,
        /// S3 only: finds and aborts multipart uploads a crash left pending.
        pending: Option<std::sync::Arc<PendingUploads>>,
    },
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Folder { root } => write!(f, "Folder({})", root.display()),
            Backend::Remote { op, .. } => write!(f, "Remote({:?})", op.info().scheme()),
        }
    }
}

/// `.<name>.csync-part` in the folder of target-relative `path`.
pub fn temp_path(path: &str) -> String {
    match path.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/.{name}{TEMP_SUFFIX}"),
        None => format!(".{path}{TEMP_SUFFIX}"),
    }
}

fn dal(e: opendal::Error) -> UploadError {
    UploadError::Remote(e)
}

impl Backend {
    /// Opens `target` (no I/O yet for remotes). Errors: [`UploadError::Config`] for settings
    /// OpenDAL refuses (a malformed endpoint).
    pub fn open(target: &UploadTarget) -> Result<Backend, UploadError> {
        let config = |e: opendal::Error| UploadError::Config(format!("target {}: {e}", target.name));
        let mut put = None;
        let op = match &target.remote {
            Remote::Folder { path } => return Ok(Backend::Folder { root: path.clone() }),
            Remote::Webdav { endpoint, root, username, password } => {
                let streaming = StreamingPut::new(
                    endpoint,
                    root,
                    username.as_deref(),
                    password.as_ref().map(|p| p.expose()),
                )
                .map_err(|e| UploadError::Config(format!("target {}: {e}", target.name)))?;
                put = Some(std::sync::Arc::new(streaming));
                let mut b = opendal::services::Webdav::default().endpoint(endpoint).root(root_or_slash(root));
                if let Some(u) = username {
                    b = b.username(u);
                }
                if let Some(p) = password {
                    b = b.password(p.expose());
                }
                opendal::Operator::new(b).map_err(config)?.finish()
            }
            Remote::Sftp { endpoint, root, user, key, known_hosts } => {
                let mut b = opendal::services::Sftp::default().endpoint(endpoint).root(root_or_slash(root));
                if let Some(u) = user {
                    b = b.user(u);
                }
                if let Some(k) = key {
                    b = b.key(&k.to_string_lossy());
                }
                b = b.known_hosts_strategy(known_hosts.as_deref().unwrap_or("strict"));
                opendal::Operator::new(b).map_err(config)?.finish()
            }
            Remote::S3 { endpoint, bucket, region, root, access_key_id, secret_access_key } => {
                // never read ~/.aws or ask the EC2 metadata address: only what the target says
                let mut b = opendal::services::S3::default()
                    .endpoint(endpoint)
                    .bucket(bucket)
                    .region(region.as_deref().unwrap_or("us-east-1"))
                    .root(root_or_slash(root))
                    .disable_config_load()
                    .disable_ec2_metadata();
                if let Some(k) = access_key_id {
                    b = b.access_key_id(k);
                }
                if let Some(s) = secret_access_key {
                    b = b.secret_access_key(s.expose());
                }
                let pending = PendingUploads::new(
                    endpoint,
                    bucket,
                    region.as_deref().unwrap_or("us-east-1"),
                    root,
                    access_key_id.as_deref().unwrap_or_default(),
                    secret_access_key.as_ref().map(|s| s.expose()).unwrap_or_default(),
                )
                .map_err(|e| UploadError::Config(format!("target {}: {e}", target.name)))?;
                return Ok(Backend::Remote {
                    op: opendal::Operator::new(b).map_err(config)?.finish(),
                    rename: false,
                    put: None,
                    pending: Some(std::sync::Arc::new(pending)),
                });
            }
        };
        Ok(Backend::Remote { op, rename: true, put, pending: None })
    }

    /// The temporary path a write of `path` goes through, or `None` when the target writes
    /// atomically under the final name (S3).
    pub fn temp_for(&self, path: &str) -> Option<String> {
        match self {
            Backend::Remote { rename: false, .. } => None,
            _ => Some(temp_path(path)),
        }
    }

    /// What the caller notes in the store before sending `path`, so that a crash leaves
    /// nothing behind ([`Backend::discard`] on the next run): the temporary file, or for S3 the
    /// key itself (its multipart upload).
    pub fn noted_for(&self, path: &str) -> Option<String> {
        match self {
            Backend::Remote { pending: Some(_), .. } => Some(path.to_string()),
            _ => self.temp_for(path),
        }
    }

    /// Undoes what an interrupted send of a noted path ([`Backend::noted_for`]) left: deletes
    /// the temporary file, or aborts the key's pending S3 multipart uploads (the object, if a
    /// complete one exists, stays). A missing file is no error.
    pub async fn discard(&self, noted: &str) -> Result<(), UploadError> {
        match self {
            Backend::Remote { pending: Some(pending), .. } => {
                let aborted = pending.abort_all(noted).await?;
                if aborted > 0 {
                    tracing::info!(
                        key = noted,
                        aborted,
                        "aborted multipart uploads left by an interrupted run"
                    );
                }
                Ok(())
            }
            _ => self.delete(noted).await,
        }
    }

    /// Sends local file `local` to `path` (through `temp` when given, see [`Backend::temp_for`]),
    /// calling `progress` with the bytes sent so far. Returns (bytes, SHA-256 hex). Errors:
    /// [`UploadError::Cancelled`] when `cancel` fires (the temporary file is removed), I/O and
    /// remote errors.
    pub async fn put(
        &self,
        local: &Path,
        path: &str,
        temp: Option<&str>,
        progress: &(dyn Fn(u64) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<(u64, String), UploadError> {
        let file = tokio::fs::File::open(local).await.map_err(UploadError::io(local))?;
        let write_to = temp.unwrap_or(path);
        let sent = tokio::select! {
            biased;
            _ = cancel.cancelled() => Err(UploadError::Cancelled),
            r = self.stream(file, local, write_to, progress) => r,
        };
        let sent = match sent {
            Ok(sent) => sent,
            Err(e) => {
                if temp.is_some() {
                    let _ = self.delete(write_to).await;
                }
                return Err(e);
            }
        };
        if let Some(temp) = temp {
            self.rename(temp, path).await?;
        }
        Ok(sent)
    }

    /// Writes `bytes` to `path` the same way as [`Backend::put`] (M3U playlists).
    pub async fn put_bytes(&self, bytes: Bytes, path: &str, temp: Option<&str>) -> Result<(), UploadError> {
        let write_to = temp.unwrap_or(path);
        match self {
            Backend::Folder { root } => {
                let full = join(root, write_to)?;
                make_parent(&full).await?;
                let mut f = tokio::fs::File::create(&full).await.map_err(UploadError::io(&full))?;
                f.write_all(&bytes).await.map_err(UploadError::io(&full))?;
                f.sync_all().await.map_err(UploadError::io(&full))?;
            }
            Backend::Remote { op, .. } => {
                op.write(write_to, bytes).await.map_err(dal)?;
            }
        }
        if let Some(temp) = temp {
            self.rename(temp, path).await?;
        }
        Ok(())
    }

    async fn stream(
        &self,
        mut file: tokio::fs::File,
        local: &Path,
        to: &str,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<(u64, String), UploadError> {
        let mut hasher = Sha256::new();
        let mut sent = 0u64;
        match self {
            Backend::Folder { root } => {
                let full = join(root, to)?;
                make_parent(&full).await?;
                let mut out = tokio::fs::File::create(&full).await.map_err(UploadError::io(&full))?;
                let mut buf = vec![0u8; READ_CHUNK];
                loop {
                    let n = file.read(&mut buf).await.map_err(UploadError::io(local))?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buf[..n]);
                    out.write_all(&buf[..n]).await.map_err(UploadError::io(&full))?;
                    sent += n as u64;
                    progress(sent);
                }
                out.sync_all().await.map_err(UploadError::io(&full))?;
            }
            Backend::Remote { op, put: Some(put), .. } => {
                if let Some((dir, _)) = to.rsplit_once('/') {
                    op.create_dir(&format!("{dir}/")).await.map_err(dal)?;
                }
                let len = file.metadata().await.map_err(UploadError::io(local))?.len();
                return put.put(file, local, len, to, progress).await;
            }
            Backend::Remote { op, .. } => {
                let mut w = op.writer_with(to).chunk(S3_CHUNK_BYTES).await.map_err(dal)?;
                let written: Result<(), UploadError> = async {
                    loop {
                        let mut buf = vec![0u8; READ_CHUNK];
                        let n = file.read(&mut buf).await.map_err(UploadError::io(local))?;
                        if n == 0 {
                            break;
                        }
                        buf.truncate(n);
                        hasher.update(&buf);
                        w.write(buf).await.map_err(dal)?;
                        sent += n as u64;
                        progress(sent);
                    }
                    w.close().await.map_err(dal)?;
                    Ok(())
                }
                .await;
                if let Err(e) = written {
                    let _ = w.abort().await;
                    return Err(e);
                }
            }
        }
        Ok((sent, hex::encode(hasher.finalize())))
    }

    async fn rename(&self, from: &str, to: &str) -> Result<(), UploadError> {
        match self {
            Backend::Folder { root } => {
                let (a, b) = (join(root, from)?, join(root, to)?);
                tokio::fs::rename(&a, &b).await.map_err(UploadError::io(&b))?;
                if let Some(dir) = b.parent() {
                    // the rename itself survives a crash once the folder is synced
                    let dir = dir.to_path_buf();
                    let _ = tokio::task::spawn_blocking(move || {
                        std::fs::File::open(dir).and_then(|d| d.sync_all())
                    })
                    .await;
                }
                Ok(())
            }
            Backend::Remote { op, .. } => op.rename(from, to).await.map_err(dal),
        }
    }

    /// Deletes `path` on the target; a missing file is no error.
    pub async fn delete(&self, path: &str) -> Result<(), UploadError> {
        match self {
            Backend::Folder { root } => {
                let full = join(root, path)?;
                match tokio::fs::remove_file(&full).await {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(UploadError::io(&full)(e)),
                    _ => Ok(()),
                }
            }
            Backend::Remote { op, .. } => match op.delete(path).await {
                Err(e) if e.kind() != opendal::ErrorKind::NotFound => Err(dal(e)),
                _ => Ok(()),
            },
        }
    }

    /// Which of `paths` (target-relative files) are on the target now, each with its size in
    /// bytes as the target's listing gives it (`0` where the listing does not say). Lists each
    /// parent folder once (a folder's `read_dir`; OpenDAL's `list`: WebDAV `PROPFIND` depth 1,
    /// S3 `ListObjectsV2`, SFTP `readdir`); a missing folder holds nothing. Errors: the
    /// target's, other than a missing folder.
    pub async fn present(&self, paths: &[String]) -> Result<BTreeMap<String, u64>, UploadError> {
        let dirs: BTreeSet<&str> = paths.iter().map(|p| p.rsplit_once('/').map_or("", |(d, _)| d)).collect();
        let mut found = BTreeMap::new();
        for dir in dirs {
            let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
            match self {
                Backend::Folder { root } => {
                    let full = if dir.is_empty() { root.clone() } else { join(root, dir)? };
                    let mut entries = match tokio::fs::read_dir(&full).await {
                        Ok(entries) => entries,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(UploadError::io(&full)(e)),
                    };
                    while let Some(entry) = entries.next_entry().await.map_err(UploadError::io(&full))? {
                        let meta = entry.metadata().await.map_err(UploadError::io(&full))?;
                        if meta.is_file() {
                            found.insert(
                                format!("{prefix}{}", entry.file_name().to_string_lossy()),
                                meta.len(),
                            );
                        }
                    }
                }
                Backend::Remote { op, .. } => {
                    let listed = match op.list(if dir.is_empty() { "/" } else { &prefix }).await {
                        Ok(listed) => listed,
                        Err(e) if e.kind() == opendal::ErrorKind::NotFound => continue,
                        Err(e) => return Err(dal(e)),
                    };
                    for entry in listed.into_iter().filter(|e| e.metadata().is_file()) {
                        let path = entry.path().trim_start_matches('/').to_string();
                        found.insert(path, entry.metadata().content_length());
                    }
                }
            }
        }
        Ok(found)
    }

    /// Checks the target works: writes, reads back and deletes a small probe file at its root.
    /// Returns a line for the user. Errors: what went wrong, as the target said it.
    pub async fn probe(&self) -> Result<String, UploadError> {
        let name = ".catalog-sync-probe";
        let body = Bytes::from_static(b"catalog-sync connection test\n");
        match self {
            Backend::Folder { root } => {
                if !root.is_dir() {
                    return Err(UploadError::io(root)(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no such folder (is the device mounted?)",
                    )));
                }
                self.put_bytes(body, name, None).await?;
                self.delete(name).await?;
                let free = fs4::available_space(root).map_err(UploadError::io(root))?;
                let kind = match super::fat::fs_kind(root).map_err(UploadError::io(root))? {
                    super::fat::FsKind::Fat => "FAT (FAT32 rules apply)",
                    super::fat::FsKind::ExFat => "exFAT (exFAT rules apply)",
                    super::fat::FsKind::Other => "writable",
                };
                Ok(format!("{kind}, {:.1} GB free", free as f64 / 1e9))
            }
            Backend::Remote { op, .. } => {
                op.write(name, body.clone()).await.map_err(dal)?;
                let back = op.read(name).await.map_err(dal)?.to_bytes();
                op.delete(name).await.map_err(dal)?;
                if back != body {
                    return Err(UploadError::Config("the probe file read back differently".into()));
                }
                Ok(format!("{} reachable: wrote, read and deleted a probe file", op.info().scheme()))
            }
        }
    }

    /// Free bytes at a folder target; `None` for remotes (they do not say).
    pub fn free_space(&self) -> Option<std::io::Result<u64>> {
        match self {
            Backend::Folder { root } => Some(fs4::available_space(root)),
            Backend::Remote { .. } => None,
        }
    }
}

fn root_or_slash(root: &str) -> &str {
    if root.trim().is_empty() {
        "/"
    } else {
        root
    }
}

/// `root` joined with target-relative `path`, refusing `..` and absolute parts.
fn join(root: &Path, path: &str) -> Result<PathBuf, UploadError> {
    crate::download::naming::safe_join(root, Path::new(path))
        .map_err(|e| UploadError::Config(format!("{path}: {e}")))
}

async fn make_parent(full: &Path) -> Result<(), UploadError> {
    if let Some(dir) = full.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(UploadError::io(dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_sit_beside_the_final_name_and_are_hidden() {
        assert_eq!(temp_path("Show/Ep 1.mp3"), "Show/.Ep 1.mp3.csync-part");
        assert_eq!(temp_path("list.m3u"), ".list.m3u.csync-part");
    }
}
