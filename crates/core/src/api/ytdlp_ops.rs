//! The operations of playlists of kind yt-dlp (channels and playlists yt-dlp lists): adding
//! with a kind ([`Api::add_playlists_as`]: by content, as a document, or through yt-dlp), the
//! per-playlist format choice ([`Api::set_playlist_media`]), what yt-dlp is installed and how
//! ([`Api::ytdlp_status`]), and its update where the user installed it ([`Api::update_ytdlp`],
//! `download::ytdlp_update`).

use serde::{Deserialize, Serialize};

use super::error::{ApiResult, WireError};
use super::views::{AddResult, PlaylistView};
use super::Api;
use crate::catalog::ytdlp::MediaChoice;
use crate::download::resolve::ytdlp::{find_binary, limits, RESOLVE_DEADLINE};
use crate::download::subprocess::SubprocessError;
use crate::download::ytdlp_list::version;
use crate::download::ytdlp_update::{self, UpdateError, YtDlpInstall};
use crate::subscriptions;

/// What kind of playlist an added URL becomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AddKind {
    /// By content: a feed, M3U/PLS/XSPF or OPML document as such; anything else (a web page)
    /// through yt-dlp when it reads the URL as a playlist or channel.
    #[default]
    Auto,
    /// A feed, playlist or subscription list document only.
    Document,
    /// A channel or playlist yt-dlp lists, whatever the URL serves (a feed too).
    Ytdlp,
}

/// The yt-dlp this process would run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct YtDlpStatus {
    /// The binary: the `ytdlp_path` setting, else `yt-dlp` on `PATH`; `None` when not found.
    pub path: Option<String>,
    /// Its version (`2026.10.26`), when it ran.
    pub version: Option<String>,
    /// Why it could not run or was not found.
    pub error: Option<String>,
    /// How it was installed and whether we can update it, when it ran.
    pub install: Option<YtDlpInstall>,
}

/// What an update of yt-dlp did ([`Api::update_ytdlp`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct YtDlpUpdate {
    /// The version before the update (`2026.10.26`), when it ran.
    pub before: Option<String>,
    /// The version after the update, when it ran; equal to `before` when it was up to date.
    pub after: Option<String>,
    /// The command run, as typed.
    pub command: String,
    /// The command's output, its last 20 lines.
    pub output: String,
}

fn update_error(e: UpdateError) -> WireError {
    let code = match &e {
        UpdateError::NotUpdatable(_) => super::ErrorCode::Conflict,
        UpdateError::Failed { .. } => super::ErrorCode::Network,
        UpdateError::Subprocess(SubprocessError::Spawn { .. }) => super::ErrorCode::Io,
        UpdateError::Subprocess(s) if s.is_transient() => super::ErrorCode::Network,
        UpdateError::Subprocess(_) => super::ErrorCode::Internal,
    };
    WireError::new(code, e.to_string())
}

impl Api {
    /// Adds playlists by URL or path as `kind` (see [`AddKind`]); yt-dlp playlists download
    /// `media` (default: video up to 1080p). Errors: as [`Api::add_playlists`], and for yt-dlp:
    /// `invalid_input` when yt-dlp is not installed, `unparsable` when yt-dlp reads the URL as
    /// a single video or not at all (unsupported, private, removed...), `network` when it
    /// failed transiently on a forced yt-dlp kind; entries before it stay added.
    pub async fn add_playlists_as(
        &self,
        urls: Vec<String>,
        kind: AddKind,
        media: Option<MediaChoice>,
    ) -> ApiResult<AddResult> {
        if kind == AddKind::Document {
            return self.add_playlists(urls).await;
        }
        let config = self.config();
        let (binary, media) = (find_binary(&config), media.unwrap_or_default());
        let probe_limits = limits(&config, RESOLVE_DEADLINE);
        let mut out = AddResult { ids: Vec::new(), created: 0 };
        let mut result = Ok(());
        for url in urls.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
            let added = if kind == AddKind::Ytdlp {
                subscriptions::add_ytdlp(
                    self.store(),
                    binary.as_deref(),
                    url,
                    media,
                    probe_limits,
                    self.now_ms(),
                )
                .await
                .map(|o| (o.ids, o.created))
                .map_err(WireError::from)
            } else {
                match self.add_playlists(vec![url.to_string()]).await {
                    Ok(r) => Ok((r.ids, r.created)),
                    Err(e) if e.code == super::ErrorCode::Unparsable && binary.is_some() => {
                        let now = self.now_ms();
                        let via = subscriptions::add_ytdlp(
                            self.store(),
                            binary.as_deref(),
                            url,
                            media,
                            probe_limits,
                            now,
                        );
                        match via.await {
                            Ok(o) => Ok((o.ids, o.created)),
                            // neither a document nor a playlist yt-dlp lists: both reasons
                            Err(y) => Err(WireError::new(
                                e.code,
                                format!("{}; {}", e.message, WireError::from(y).message),
                            )),
                        }
                    }
                    Err(e) => Err(e),
                }
            };
            match added {
                Ok((ids, created)) => {
                    out.ids.extend(ids);
                    out.created += created;
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if !out.ids.is_empty() {
            self.touch(false, true);
        }
        result.map(|()| out)
    }

    /// Sets what yt-dlp playlist `id` downloads of each entry; returns the playlist. Errors:
    /// `not_found` for an unknown playlist or one of another kind.
    pub async fn set_playlist_media(&self, id: u64, media: MediaChoice) -> ApiResult<PlaylistView> {
        self.blocking(move |s| Ok(s.set_ytdlp_media(id, media)?)).await?;
        self.touch(false, true);
        self.playlist(id).await
    }

    /// The yt-dlp binary the settings name (or `PATH` holds) and its version. Never fails: a
    /// missing or broken binary is described in `error`.
    pub async fn ytdlp_status(&self) -> ApiResult<YtDlpStatus> {
        let config = self.config();
        let Some(binary) = find_binary(&config) else {
            let error = match &config.ytdlp_path {
                Some(p) => format!("not found at {} (settings: ytdlp_path)", p.display()),
                None => {
                    "not found on PATH; install it with `pipx install yt-dlp` or the standalone binary".into()
                }
            };
            return Ok(YtDlpStatus { path: None, version: None, error: Some(error), install: None });
        };
        let path = Some(binary.display().to_string());
        Ok(match version(&binary).await {
            Ok(v) => {
                let install = ytdlp_update::inspect(&binary).await.ok();
                YtDlpStatus { path, version: Some(v), error: None, install }
            }
            Err(e) => YtDlpStatus { path, version: None, error: Some(e.to_string()), install: None },
        })
    }

    /// Updates yt-dlp where the user installed it (`download::ytdlp_update`: `yt-dlp -U` for
    /// the standalone binary, `pipx upgrade yt-dlp`, or pip in a virtualenv or `--user`) and
    /// says what changed. Errors: `invalid_input` when yt-dlp is not found, `conflict` when it is
    /// installed system-wide (the message says how to update it), `network` when the update
    /// command failed or stalled (its error line), `io` when it could not start.
    pub async fn update_ytdlp(&self) -> ApiResult<YtDlpUpdate> {
        let status = self.ytdlp_status().await?;
        let Some(path) = status.path else {
            return Err(WireError::new(super::ErrorCode::InvalidInput, status.error.unwrap_or_default()));
        };
        let binary = std::path::PathBuf::from(path);
        let install = match status.install {
            Some(install) => install,
            None => ytdlp_update::inspect(&binary).await.map_err(update_error)?,
        };
        let command = install.update_command.as_deref().unwrap_or_default().join(" ");
        let output = ytdlp_update::update(&install, &tokio_util::sync::CancellationToken::new())
            .await
            .map_err(update_error)?;
        let lines: Vec<&str> = output.lines().collect();
        let output = lines[lines.len().saturating_sub(20)..].join("\n");
        let after = version(&binary).await.ok();
        Ok(YtDlpUpdate { before: status.version, after, command, output })
    }
}
