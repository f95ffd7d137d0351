//! Upload targets for the fronts: list, save (add or replace by name), remove and test a
//! target, assign playlists to targets, and queue upload jobs. Targets live in the config file
//! (`config::targets`); a [`TargetView`] never carries a credential, only whether one is set
//! (`has_password`), and a [`TargetInput`] saved without one keeps the stored credential, so a
//! secret never travels back to a window. `TargetInput` has no `Debug`: it is never logged.

use serde::{Deserialize, Serialize};

use super::error::{ApiResult, ErrorCode, WireError};
use super::Api;
use crate::config::{Remote, Secret, UploadTarget};
use crate::store::JobKind;
use crate::upload::Backend;

/// A target as the settings page shows it: everything but the credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TargetView {
    /// Unique name.
    pub name: String,
    /// `folder`, `webdav`, `sftp` or `s3`.
    pub kind: String,
    /// Folder path (folder) or endpoint URL (the others).
    pub location: String,
    /// Folder under the endpoint (WebDAV, SFTP) or key prefix (S3).
    pub root: String,
    /// WebDAV user, SFTP user or S3 access key id.
    pub username: Option<String>,
    /// S3 bucket.
    pub bucket: Option<String>,
    /// S3 region.
    pub region: Option<String>,
    /// SFTP private key file.
    pub key_path: Option<String>,
    /// SFTP host key check: `strict`, `accept` or `add`.
    pub known_hosts: Option<String>,
    /// Whether a password (WebDAV) or secret key (S3) is stored; it is never shown.
    pub has_password: bool,
    /// Mirror mode: delete our own files no assigned playlist wants any more.
    pub mirror: bool,
    /// M3U files with CRLF line ends.
    pub m3u_crlf: bool,
    /// Ids of the playlists assigned to it.
    pub playlists: Vec<u64>,
}

/// A target as the settings page saves it. `password` empty or absent keeps the stored one.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TargetInput {
    /// Unique name (an existing one is replaced).
    pub name: String,
    /// `folder`, `webdav`, `sftp` or `s3`.
    pub kind: String,
    /// Folder path (folder) or endpoint URL.
    pub location: String,
    /// Folder under the endpoint or key prefix.
    pub root: String,
    /// WebDAV user, SFTP user or S3 access key id.
    pub username: Option<String>,
    /// S3 bucket (required for `s3`).
    pub bucket: Option<String>,
    /// S3 region.
    pub region: Option<String>,
    /// SFTP private key file.
    pub key_path: Option<String>,
    /// SFTP host key check.
    pub known_hosts: Option<String>,
    /// New password or secret key; empty/absent keeps the stored one.
    pub password: Option<String>,
    /// Mirror mode.
    pub mirror: bool,
    /// CRLF M3U files.
    pub m3u_crlf: bool,
}

/// The result of [`Api::test_target`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TargetTest {
    /// Whether the target took, gave back and deleted a probe file.
    pub ok: bool,
    /// What happened, for people (the error when not `ok`).
    pub message: String,
}

fn some(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The view of `t` with its assigned playlists.
pub fn target_view(t: &UploadTarget, playlists: Vec<u64>) -> TargetView {
    let mut v = TargetView {
        name: t.name.clone(),
        kind: t.remote.kind().to_string(),
        location: String::new(),
        root: String::new(),
        username: None,
        bucket: None,
        region: None,
        key_path: None,
        known_hosts: None,
        has_password: t.remote.secret().is_some(),
        mirror: t.mirror,
        m3u_crlf: t.m3u_crlf,
        playlists,
    };
    match &t.remote {
        Remote::Folder { path } => v.location = path.display().to_string(),
        Remote::Webdav { endpoint, root, username, .. } => {
            (v.location, v.root, v.username) = (endpoint.clone(), root.clone(), username.clone())
        }
        Remote::Sftp { endpoint, root, user, key, known_hosts } => {
            (v.location, v.root, v.username) = (endpoint.clone(), root.clone(), user.clone());
            v.key_path = key.as_ref().map(|k| k.display().to_string());
            v.known_hosts = known_hosts.clone();
        }
        Remote::S3 { endpoint, bucket, region, root, access_key_id, .. } => {
            (v.location, v.root, v.username) = (endpoint.clone(), root.clone(), access_key_id.clone());
            (v.bucket, v.region) = (Some(bucket.clone()), region.clone());
        }
    }
    v
}

impl TargetInput {
    /// The target this input describes, keeping `old`'s credential when none is given.
    /// Errors: `invalid_input` naming the field (empty name or location, unknown kind, an S3
    /// target without bucket, an unknown host key check).
    pub fn to_target(&self, old: Option<&UploadTarget>) -> ApiResult<UploadTarget> {
        let name = self.name.trim().to_string();
        if name.is_empty() {
            return Err(WireError::invalid("target name: give the target a name"));
        }
        let location = self.location.trim().to_string();
        if location.is_empty() {
            return Err(WireError::invalid("target location: give a folder or an endpoint URL"));
        }
        let root = self.root.trim().to_string();
        let mut remote = match self.kind.as_str() {
            "folder" => Remote::Folder { path: location.into() },
            "webdav" => {
                Remote::Webdav { endpoint: location, root, username: some(&self.username), password: None }
            }
            "sftp" => {
                let known_hosts = some(&self.known_hosts);
                if known_hosts.as_deref().is_some_and(|k| !matches!(k, "strict" | "accept" | "add")) {
                    return Err(WireError::invalid("host key check: strict, accept or add"));
                }
                Remote::Sftp {
                    endpoint: location,
                    root,
                    user: some(&self.username),
                    key: some(&self.key_path).map(Into::into),
                    known_hosts,
                }
            }
            "s3" => Remote::S3 {
                endpoint: location,
                bucket: some(&self.bucket)
                    .ok_or_else(|| WireError::invalid("bucket: an S3 target needs one"))?,
                region: some(&self.region),
                root,
                access_key_id: some(&self.username),
                secret_access_key: None,
            },
            other => {
                return Err(WireError::invalid(format!("target kind {other}: folder, webdav, sftp or s3")))
            }
        };
        let secret = match some(&self.password) {
            Some(p) => Some(Secret::new(p)),
            // keep the stored credential when the kind did not change
            None => old.filter(|o| o.remote.kind() == remote.kind()).and_then(|o| o.remote.secret().cloned()),
        };
        remote.set_secret(secret);
        Ok(UploadTarget { name, remote, mirror: self.mirror, m3u_crlf: self.m3u_crlf })
    }
}

impl Api {
    /// Every upload target with its assigned playlists, in the config file's order.
    pub async fn list_targets(&self) -> ApiResult<Vec<TargetView>> {
        let assignments = self.blocking(|s| Ok(s.target_assignments()?)).await?;
        Ok(self
            .config()
            .upload_targets
            .iter()
            .map(|t| {
                let mine = assignments.iter().filter(|(_, n)| *n == t.name).map(|(p, _)| *p).collect();
                target_view(t, mine)
            })
            .collect())
    }

    /// Adds `input` as a target, or replaces the target of that name (keeping its credential
    /// when none is given), and saves the config file. Returns the target's view. Errors:
    /// `invalid_input` naming the field, `io`.
    pub async fn save_target(&self, input: TargetInput) -> ApiResult<TargetView> {
        let mut config = self.config();
        let old = config.target(input.name.trim()).cloned();
        let target = input.to_target(old.as_ref())?;
        match config.upload_targets.iter_mut().find(|t| t.name == target.name) {
            Some(slot) => *slot = target.clone(),
            None => config.upload_targets.push(target.clone()),
        }
        let api = self.clone();
        tokio::task::spawn_blocking(move || api.save_config(config))
            .await
            .map_err(|e| WireError::internal(e.to_string()))??;
        let name = target.name.clone();
        let playlists = self.blocking(move |s| Ok(s.target_playlists(&name)?)).await?;
        Ok(target_view(&target, playlists))
    }

    /// Removes target `name` from the settings and drops its playlist assignments (what we put
    /// there stays recorded). Errors: `not_found`, `io`.
    pub async fn remove_target(&self, name: String) -> ApiResult<()> {
        let mut config = self.config();
        let before = config.upload_targets.len();
        config.upload_targets.retain(|t| t.name != name);
        if config.upload_targets.len() == before {
            return Err(WireError::new(ErrorCode::NotFound, format!("upload target {name} not found")));
        }
        let api = self.clone();
        tokio::task::spawn_blocking(move || api.save_config(config))
            .await
            .map_err(|e| WireError::internal(e.to_string()))??;
        self.blocking(move |s| Ok(s.forget_target_assignments(&name)?)).await
    }

    /// Tests target `name`: writes, reads back and deletes a small probe file. A failing
    /// target is a result with `ok: false` and the target's error, not an error. Errors:
    /// `not_found` for an unknown target.
    pub async fn test_target(&self, name: String) -> ApiResult<TargetTest> {
        let target =
            self.config().target(&name).cloned().ok_or_else(|| {
                WireError::new(ErrorCode::NotFound, format!("upload target {name} not found"))
            })?;
        let probe = async { Backend::open(&target)?.probe().await };
        Ok(match tokio::time::timeout(std::time::Duration::from_secs(30), probe).await {
            Ok(Ok(message)) => TargetTest { ok: true, message },
            Ok(Err(e)) => TargetTest { ok: false, message: e.to_string() },
            Err(_) => TargetTest { ok: false, message: "no answer within 30 s".into() },
        })
    }

    /// Assigns playlist `playlist` to exactly the targets `targets` (names). Errors:
    /// `not_found` for an unknown playlist, `invalid_input` for a target not in the settings.
    pub async fn set_playlist_targets(&self, playlist: u64, targets: Vec<String>) -> ApiResult<Vec<String>> {
        let config = self.config();
        if let Some(t) = targets.iter().find(|t| config.target(t).is_none()) {
            return Err(WireError::invalid(format!("upload target {t} is not in the settings")));
        }
        let saved = targets.clone();
        self.blocking(move |s| Ok(s.set_playlist_targets(playlist, &targets)?)).await?;
        self.touch(false, true);
        Ok(saved)
    }

    /// Queues an upload job (`upload_only` or `download_upload`) over `playlists` (empty =
    /// every playlist with a target), limited to `targets` (empty = every target of those
    /// playlists); returns its id. Errors: `invalid_input` for another kind, an unknown
    /// playlist or target.
    pub async fn enqueue_upload(
        &self,
        kind: JobKind,
        playlists: Vec<u64>,
        targets: Vec<String>,
    ) -> ApiResult<u64> {
        if !matches!(kind, JobKind::UploadOnly | JobKind::DownloadUpload) {
            return Err(WireError::invalid(format!("{kind} is not an upload job")));
        }
        let config = self.config();
        if let Some(t) = targets.iter().find(|t| config.target(t).is_none()) {
            return Err(WireError::invalid(format!("upload target {t} is not in the settings")));
        }
        let ids = playlists.clone();
        self.blocking(move |s| {
            for id in ids {
                s.playlist(id)
                    .map_err(|_| WireError::invalid(format!("playlist {id} is not in the catalog")))?;
            }
            Ok(())
        })
        .await?;
        let id = self.engine().enqueue_upload(kind, playlists, targets).await?;
        self.wake();
        self.touch(true, false);
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: &str) -> TargetInput {
        TargetInput {
            name: "nas".into(),
            kind: kind.into(),
            location: "http://127.0.0.1:1".into(),
            root: "/pods".into(),
            username: Some("me".into()),
            bucket: Some("b".into()),
            region: None,
            key_path: None,
            known_hosts: None,
            password: Some("pw-1".into()),
            mirror: true,
            m3u_crlf: false,
        }
    }

    #[test]
    fn a_saved_secret_is_kept_without_a_new_one_and_never_shown() {
        let first = input("webdav").to_target(None).unwrap();
        assert_eq!(first.remote.secret().map(Secret::expose), Some("pw-1"));
        let again = TargetInput { password: None, ..input("webdav") }.to_target(Some(&first)).unwrap();
        assert_eq!(again.remote.secret().map(Secret::expose), Some("pw-1"), "kept");
        let view = target_view(&again, vec![3]);
        assert!(view.has_password);
        let json = serde_json::to_string(&view).unwrap();
        assert!(!json.contains("pw-1"), "{json}");
        let s3 = TargetInput { password: None, ..input("s3") }.to_target(Some(&first)).unwrap();
        assert!(s3.remote.secret().is_none(), "another kind does not inherit the password");
        let e = TargetInput { kind: "ftp".into(), ..input("ftp") }.to_target(None).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
    }
}
