//! The operations of playlists of kind yt-dlp (channels and playlists yt-dlp lists): adding
//! with a kind ([`Api::add_playlists_as`]: by content, as a document, or through yt-dlp), the
//! per-playlist format choice ([`Api::set_playlist_media`]) and what yt-dlp is installed
//! ([`Api::ytdlp_status`]).

use serde::{Deserialize, Serialize};

use super::error::{ApiResult, WireError};
use super::views::{AddResult, PlaylistView};
use super::Api;
use crate::catalog::ytdlp::MediaChoice;
use crate::download::resolve::ytdlp::{find_binary, limits, RESOLVE_DEADLINE};
use crate::download::ytdlp_list::version;
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
            return Ok(YtDlpStatus { path: None, version: None, error: Some(error) });
        };
        let path = Some(binary.display().to_string());
        Ok(match version(&binary).await {
            Ok(v) => YtDlpStatus { path, version: Some(v), error: None },
            Err(e) => YtDlpStatus { path, version: None, error: Some(e.to_string()) },
        })
    }
}
