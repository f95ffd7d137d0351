//! Upload targets in the config file: each `[[upload_targets]]` table names a place the
//! library is copied to (`upload` stage): a mounted folder (player, SD card, USB stick, NAS
//! share), a WebDAV server, an SFTP server or an S3-compatible bucket. The kind is the
//! `kind` key and its fields sit beside the common ones:
//!
//! ```toml
//! [[upload_targets]]
//! name = "nas"
//! kind = "webdav"
//! endpoint = "https://cloud.example.org/remote.php/dav/files/me"
//! root = "/Podcasts"
//! username = "me"
//! password = "app-password"
//! mirror = true
//! ```
//!
//! Credentials (WebDAV `password`, S3 `secret_access_key`) are [`Secret`]s: the file is the one
//! place they live (written with mode `0600`, `api::write_config`); `Debug` prints `***`, views
//! carry only whether one is set, and the catalog never stores them. SFTP authenticates with a
//! private key file through the `ssh` client (`key`), so no secret of it is kept here.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Secret;

/// One named upload target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadTarget {
    /// Unique name, as the CLI's `--target` and the playlist assignments name it. What we put
    /// on a target is recorded under this name: renaming a target forgets that record.
    pub name: String,
    /// Where and how the files go.
    #[serde(flatten)]
    pub remote: Remote,
    /// Delete from the target the files we put there that no playlist assigned to it wants any
    /// more (never a file we did not put there). Default off.
    #[serde(default)]
    pub mirror: bool,
    /// Write the target's M3U playlists with CRLF line ends (some players need them).
    #[serde(default)]
    pub m3u_crlf: bool,
}

/// How to reach a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Remote {
    /// A mounted folder. On FAT32/exFAT the file system's naming rules apply (`upload::fat`).
    Folder {
        /// The folder files go into (created if missing, but its parent must exist).
        path: PathBuf,
    },
    /// A WebDAV server (RFC 4918), e.g. Nextcloud's `remote.php/dav/files/<user>`.
    Webdav {
        /// Server URL, `http(s)://host[:port][/path]`.
        endpoint: String,
        /// Folder under the endpoint (default `/`).
        #[serde(default)]
        root: String,
        /// Basic-auth user.
        #[serde(default)]
        username: Option<String>,
        /// Basic-auth password.
        #[serde(default)]
        password: Option<Secret>,
    },
    /// An SFTP server, reached through the system's OpenSSH client (`ssh`), key auth only.
    Sftp {
        /// `ssh://[user@]host[:port]` or `host[:port]`.
        endpoint: String,
        /// Absolute folder on the server (default the login folder).
        #[serde(default)]
        root: String,
        /// Login user (default: the one in `endpoint` or ssh's own default).
        #[serde(default)]
        user: Option<String>,
        /// Private key file (default: ssh's own keys and agent).
        #[serde(default)]
        key: Option<PathBuf>,
        /// Host key check: `strict` (default; the key must be in known_hosts), `accept` (any
        /// key) or `add` (accept and remember a new key).
        #[serde(default)]
        known_hosts: Option<String>,
    },
    /// An S3-compatible bucket (AWS, MinIO, Garage, Ceph...).
    S3 {
        /// Service URL, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://127.0.0.1:9000`.
        endpoint: String,
        /// Bucket name.
        bucket: String,
        /// Region (default `us-east-1`).
        #[serde(default)]
        region: Option<String>,
        /// Key prefix inside the bucket (default `/`).
        #[serde(default)]
        root: String,
        /// Access key id.
        #[serde(default)]
        access_key_id: Option<String>,
        /// Secret access key.
        #[serde(default)]
        secret_access_key: Option<Secret>,
    },
}

impl Remote {
    /// `folder`, `webdav`, `sftp` or `s3`.
    pub fn kind(&self) -> &'static str {
        match self {
            Remote::Folder { .. } => "folder",
            Remote::Webdav { .. } => "webdav",
            Remote::Sftp { .. } => "sftp",
            Remote::S3 { .. } => "s3",
        }
    }

    /// The credential of this remote, when it has one set.
    pub fn secret(&self) -> Option<&Secret> {
        match self {
            Remote::Webdav { password, .. } => password.as_ref(),
            Remote::S3 { secret_access_key, .. } => secret_access_key.as_ref(),
            Remote::Folder { .. } | Remote::Sftp { .. } => None,
        }
    }

    /// Sets the credential (a no-op for kinds without one).
    pub fn set_secret(&mut self, secret: Option<Secret>) {
        match self {
            Remote::Webdav { password, .. } => *password = secret,
            Remote::S3 { secret_access_key, .. } => *secret_access_key = secret,
            Remote::Folder { .. } | Remote::Sftp { .. } => {}
        }
    }
}

/// The folder of a folder target (for free-space and file-system checks).
pub fn folder_of(target: &UploadTarget) -> Option<&PathBuf> {
    match &target.remote {
        Remote::Folder { path } => Some(path),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_their_kind_and_hide_secrets() {
        let text = r#"
            [[upload_targets]]
            name = "nas"
            kind = "webdav"
            endpoint = "http://127.0.0.1:8080"
            username = "me"
            password = "pw-123"
            mirror = true

            [[upload_targets]]
            name = "player"
            kind = "folder"
            path = "/media/player"
            m3u_crlf = true
        "#;
        let c: crate::config::Config = toml::from_str(text).unwrap();
        assert_eq!(c.upload_targets.len(), 2);
        assert_eq!(c.upload_targets[0].remote.secret().map(Secret::expose), Some("pw-123"));
        assert!(c.upload_targets[0].mirror && c.upload_targets[1].m3u_crlf);
        assert_eq!(c.upload_targets[1].remote.kind(), "folder");
        let shown = format!("{c:?}");
        assert!(!shown.contains("pw-123"), "{shown}");
        let back: crate::config::Config = toml::from_str(&toml::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c, "round trip");
    }
}
