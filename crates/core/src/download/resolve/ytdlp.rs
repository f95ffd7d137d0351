//! yt-dlp (<https://github.com/yt-dlp/yt-dlp>) as a source, when its binary is configured
//! (`ytdlp_path`) or found on `PATH`. It runs under the subprocess watchdog
//! (`download::subprocess`: own process group, killed on silence, deadline or cancel).
//!
//! Resolve: `yt-dlp -J --no-playlist <page>` prints the chosen format as JSON. The page is
//! the item's `link`, else its enclosure URL when that does not name a media file (a video
//! site's watch URL listed as the entry's location). When
//! that is a direct http(s) URL (`protocol` http/https), the candidate is an ordinary HTTP
//! one, checked and downloaded by our downloader. Otherwise (HLS, DASH, cookies) the
//! candidate is [`Fetch::YtDlp`], and `download::ytdlp_fetch::fetch` lets yt-dlp download it
//! itself.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use tokio::process::Command;

use super::http::Http;
use super::{http_url, Candidate, Fetch, Found, Limits, ResolveCtx, Source, SourceError};
use crate::config::Config;
use crate::download::subprocess::{self, SubprocessLimits};
use crate::download::ytdlp_errors::error_line;
use crate::store::ItemRow;

/// Name of this source.
pub const NAME: &str = "yt-dlp";

/// Bound on one `-J` resolve run (the subprocess deadline applies when shorter).
pub const RESOLVE_DEADLINE: Duration = Duration::from_secs(600);

/// The yt-dlp source.
#[derive(Debug, Default)]
pub struct YtDlp;

/// The yt-dlp binary: `config.ytdlp_path` when set (and present), else `yt-dlp` on `PATH`.
pub fn find_binary(config: &Config) -> Option<PathBuf> {
    if let Some(p) = &config.ytdlp_path {
        return p.is_file().then(|| p.clone());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("yt-dlp")).find(|p| p.is_file())
}

/// The watchdog windows from the settings, the deadline capped at `cap`.
pub fn limits(config: &Config, cap: Duration) -> SubprocessLimits {
    SubprocessLimits {
        stall: Duration::from_millis(config.subprocess_stall_timeout_ms),
        deadline: Duration::from_millis(config.subprocess_deadline_ms).min(cap),
    }
}

/// Reads yt-dlp's `-J` info into a candidate for `page` (module docs).
pub fn candidate_from_info(info: &serde_json::Value, page: &url::Url, binary: &Path) -> Option<Candidate> {
    let info = match info.get("_type").and_then(|t| t.as_str()) {
        Some("playlist") => info.get("entries")?.as_array()?.first()?,
        _ => info,
    };
    let chosen =
        info.get("requested_downloads").and_then(|d| d.as_array()).and_then(|d| d.first()).unwrap_or(info);
    let field = |k: &str| chosen.get(k).or_else(|| info.get(k)).and_then(|v| v.as_str());
    let ext = field("ext");
    let mime = ext.map(|e| match e {
        "mp3" => "audio/mpeg".to_string(),
        "m4a" => "audio/mp4".to_string(),
        "mp4" => "video/mp4".to_string(),
        other => format!("audio/{other}"),
    });
    if matches!(field("protocol"), Some("http" | "https")) {
        if let Some(url) = field("url").and_then(http_url) {
            return Some(Candidate::http(NAME, url, mime));
        }
    }
    let format = field("format_id").map(str::to_string);
    Some(Candidate {
        source: NAME,
        url: page.clone(),
        mime_type: mime,
        length: None,
        integrity: None,
        fetch: Fetch::YtDlp { binary: binary.to_path_buf(), format, media: None },
    })
}

/// What yt-dlp is asked about for `item` (module docs).
pub fn page_of(item: &ItemRow) -> Option<url::Url> {
    item.link.as_deref().and_then(http_url).or_else(|| {
        let url = http_url(&item.enclosure.as_ref()?.url)?;
        (!super::check::has_media_extension(url.path())).then_some(url)
    })
}

impl Source for YtDlp {
    fn name(&self) -> &'static str {
        NAME
    }

    fn suitable(&self, item: &ItemRow, ctx: &ResolveCtx) -> Result<(), String> {
        if page_of(item).is_none() {
            return Err("no episode page (link) and the enclosure is a media file".into());
        }
        match (find_binary(&ctx.config), &ctx.config.ytdlp_path) {
            (Some(_), _) => Ok(()),
            (None, Some(p)) => Err(format!("yt-dlp not found at {}", p.display())),
            (None, None) => Err("yt-dlp not found on PATH".into()),
        }
    }

    fn limits(&self) -> Limits {
        Limits { max_requests: 0, deadline: RESOLVE_DEADLINE + Duration::from_secs(5) }
    }

    fn resolve<'a>(
        &'a self,
        item: &'a ItemRow,
        ctx: &'a ResolveCtx,
        _http: &'a Http,
    ) -> BoxFuture<'a, Result<Found, SourceError>> {
        async move {
            let (Some(binary), Some(page)) = (find_binary(&ctx.config), page_of(item)) else {
                return Ok(Found::default());
            };
            let mut cmd = Command::new(&binary);
            cmd.args([
                "-J",
                "--no-playlist",
                "--no-warnings",
                "--no-progress",
                "--socket-timeout",
                "30",
                "--",
            ])
            .arg(page.as_str());
            let out = subprocess::run(cmd, limits(&ctx.config, RESOLVE_DEADLINE), &ctx.cancel).await?;
            if !out.status.success() {
                return Err(SourceError::Tool(error_line(&out.stderr)));
            }
            let info: serde_json::Value = serde_json::from_slice(&out.stdout)
                .map_err(|e| SourceError::Parse(format!("yt-dlp -J: {e}")))?;
            Ok(Found {
                candidates: candidate_from_info(&info, &page, &binary).into_iter().collect(),
                note: None,
            })
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_cases() {
        let page = url::Url::parse("http://127.0.0.1:1/ep/42").unwrap();
        let bin = Path::new("/usr/bin/yt-dlp");
        // (info JSON, expected url, expected yt-dlp fetch)
        let cases: Vec<(serde_json::Value, Option<&str>, bool)> = vec![
            (
                serde_json::json!({"url": "http://cdn/ep.mp3", "protocol": "http", "ext": "mp3", "format_id": "0"}),
                Some("http://cdn/ep.mp3"),
                false,
            ),
            (
                serde_json::json!({"requested_downloads": [{"url": "https://cdn/ep.m4a", "protocol": "https", "ext": "m4a"}]}),
                Some("https://cdn/ep.m4a"),
                false,
            ),
            (
                serde_json::json!({"url": "https://cdn/ep.m3u8", "protocol": "m3u8_native", "ext": "mp4", "format_id": "hls-1"}),
                Some("http://127.0.0.1:1/ep/42"),
                true,
            ),
            (
                serde_json::json!({"_type": "playlist", "entries": [{"url": "http://cdn/a.mp3", "protocol": "http"}]}),
                Some("http://cdn/a.mp3"),
                false,
            ),
            (serde_json::json!({"_type": "playlist", "entries": []}), None, false),
        ];
        for (info, url, via_ytdlp) in cases {
            let c = candidate_from_info(&info, &page, bin);
            assert_eq!(c.as_ref().map(|c| c.url.as_str()), url, "{info}");
            assert_eq!(c.is_some_and(|c| matches!(c.fetch, Fetch::YtDlp { .. })), via_ytdlp, "{info}");
        }
    }

    #[test]
    fn page_cases() {
        let item = |link: Option<&str>, enclosure: Option<&str>| ItemRow {
            link: link.map(str::to_string),
            enclosure: enclosure.map(|u| crate::catalog::Enclosure { url: u.into(), ..Default::default() }),
            ..Default::default()
        };
        let cases = [
            (item(Some("https://show/ep/1"), Some("https://cdn/1.mp3")), Some("https://show/ep/1")),
            (
                item(None, Some("https://www.youtube.com/watch?v=abc")),
                Some("https://www.youtube.com/watch?v=abc"),
            ),
            (item(None, Some("https://cdn/1.mp3")), None),
            (item(Some("mailto:a@b"), None), None),
        ];
        for (item, expected) in cases {
            assert_eq!(page_of(&item).as_ref().map(url::Url::as_str), expected);
        }
    }
}
