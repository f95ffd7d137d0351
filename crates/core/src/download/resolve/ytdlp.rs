//! yt-dlp (<https://github.com/yt-dlp/yt-dlp>) as a source, when its binary is configured
//! (`ytdlp_path`) or found on `PATH`. It runs under the subprocess watchdog
//! (`download::subprocess`: own process group, killed on silence, deadline or cancel).
//!
//! Resolve: `yt-dlp -J --no-playlist <page>` prints the chosen format as JSON. The page is
//! the item's `link`, else its enclosure URL when that does not name a media file (a video
//! site's watch URL listed as the entry's location). When
//! that is a direct http(s) URL (`protocol` http/https), the candidate is an ordinary HTTP
//! one, checked and downloaded by our downloader. Otherwise (HLS, DASH, cookies) the
//! candidate is [`Fetch::YtDlp`], and [`fetch`] lets yt-dlp write into a work folder next to
//! the destination (`<dest>.part.d/`, as yt-dlp picks the file's extension itself), then
//! hashes, fsyncs and renames the file into place like a normal transfer.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::http::Http;
use super::{http_url, Candidate, Fetch, Found, Limits, ResolveCtx, Source, SourceError};
use crate::config::Config;
use crate::download::subprocess::{self, SubprocessError, SubprocessLimits};
use crate::download::ytdlp_errors::{error_line, YtDlpFailure};
use crate::download::{part_path, FetchedFile, TransferProgress};
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

/// Why a yt-dlp download ([`fetch`]) failed. The class is kept: [`YtDlpError::is_transient`]
/// says whether a later attempt may succeed (a stalled or overlong subprocess), everything
/// else is final for this candidate (convention 2).
#[derive(Debug, thiserror::Error)]
pub enum YtDlpError {
    /// The candidate is not a [`Fetch::YtDlp`] one: a bug of the caller.
    #[error("not a yt-dlp candidate")]
    NotYtDlp,
    /// The destination has no file name to derive the work folder from: a bug of naming.
    #[error("invalid destination {0}")]
    Destination(PathBuf),
    /// The subprocess could not start, stalled, ran past its deadline or was cancelled; its
    /// own class decides ([`SubprocessError::is_transient`]).
    #[error(transparent)]
    Subprocess(#[from] SubprocessError),
    /// yt-dlp exited unsuccessfully: its `ERROR:` line with its class
    /// (`download::ytdlp_errors`): final (private, removed, geo-blocked, members-only, sign-in,
    /// unsupported) or transient (5xx, timeouts, network, rate limits).
    #[error("yt-dlp download: {0}")]
    Failed(#[from] YtDlpFailure),
    /// yt-dlp exited successfully without writing a file. Expected.
    #[error("yt-dlp wrote no file")]
    NoFile,
    /// yt-dlp wrote an empty file. Expected.
    #[error("yt-dlp download: yt-dlp wrote an empty file")]
    EmptyFile,
    /// Reading, hashing, syncing or renaming the file failed (`what` names the step).
    #[error("{what}: {source}")]
    Io {
        /// The step, e.g. `create /lib/show`.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl YtDlpError {
    /// True when a later attempt may succeed: the subprocess stalled or ran past its deadline,
    /// or yt-dlp failed transiently (5xx, timeout, network, rate limit).
    pub fn is_transient(&self) -> bool {
        match self {
            YtDlpError::Subprocess(e) => e.is_transient(),
            YtDlpError::Failed(f) => f.is_transient(),
            _ => false,
        }
    }

    /// True when the download was cancelled (its token fired).
    pub fn is_cancelled(&self) -> bool {
        matches!(self, YtDlpError::Subprocess(SubprocessError::Cancelled { .. }))
    }

    fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> YtDlpError {
        let what = what.into();
        move |source| YtDlpError::Io { what, source }
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
        fetch: Fetch::YtDlp { binary: binary.to_path_buf(), format },
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

/// Reads a yt-dlp `--newline` progress line, `[download]  45.3% of ~  1.23MiB at ...`, as
/// (bytes downloaded, total bytes); sizes in B, KiB, MiB, GiB (or KB, MB, GB).
pub fn parse_progress(line: &str) -> Option<(u64, u64)> {
    let rest = line.trim().strip_prefix("[download]")?.trim_start();
    let (pct, rest) = rest.split_once('%')?;
    let pct: f64 = pct.trim().parse().ok()?;
    let size = rest
        .trim_start()
        .strip_prefix("of")?
        .trim_start()
        .trim_start_matches('~')
        .split_whitespace()
        .next()?;
    let split = size.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = size.split_at(split);
    let scale: f64 = match unit {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        _ => return None,
    };
    let total = (number.parse::<f64>().ok()? * scale).round() as u64;
    Some((((pct / 100.0) * total as f64).round() as u64, total))
}

/// Lets yt-dlp download `candidate` (a [`Fetch::YtDlp`] one) into the work folder
/// `<dest>.part.d/`, then hashes the file (sha256), fsyncs and renames it to `dest`. Errors:
/// the subprocess's or yt-dlp's reason, no or an empty file, or an I/O error; the work
/// folder is removed either way.
/// `progress` gets yt-dlp's progress (approximate, from its percentage and size).
pub async fn fetch(
    candidate: &Candidate,
    dest: &Path,
    config: &Config,
    cancel: &CancellationToken,
    progress: &(dyn Fn(TransferProgress) + Send + Sync),
) -> Result<FetchedFile, YtDlpError> {
    let Fetch::YtDlp { binary, format } = &candidate.fetch else {
        return Err(YtDlpError::NotYtDlp);
    };
    let part = part_path(dest).ok_or_else(|| YtDlpError::Destination(dest.to_path_buf()))?;
    let mut work = part.into_os_string();
    work.push(".d");
    let work = PathBuf::from(work);
    let _ = tokio::fs::remove_dir_all(&work).await;
    tokio::fs::create_dir_all(&work).await.map_err(YtDlpError::io(format!("create {}", work.display())))?;
    let result = fetch_into(Run {
        binary,
        format: format.as_deref(),
        candidate,
        work: &work,
        dest,
        config,
        cancel,
        progress,
    })
    .await;
    let _ = tokio::fs::remove_dir_all(&work).await;
    result
}

struct Run<'a> {
    binary: &'a Path,
    format: Option<&'a str>,
    candidate: &'a Candidate,
    work: &'a Path,
    dest: &'a Path,
    config: &'a Config,
    cancel: &'a CancellationToken,
    progress: &'a (dyn Fn(TransferProgress) + Send + Sync),
}

async fn fetch_into(run: Run<'_>) -> Result<FetchedFile, YtDlpError> {
    let Run { binary, format, candidate, work, dest, config, cancel, progress } = run;
    let mut cmd = Command::new(binary);
    // `-o` is an output template: a literal `%` must be doubled
    let out_template = format!("{}/media.%(ext)s", work.to_string_lossy().replace('%', "%%"));
    cmd.args(["--no-playlist", "--no-part", "--no-warnings", "--newline", "--socket-timeout", "30", "-o"])
        .arg(out_template);
    if let Some(dir) = dest.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(YtDlpError::io(format!("create {}", dir.display())))?;
    }
    if let Some(f) = format {
        cmd.arg("-f").arg(f);
    }
    cmd.arg("--").arg(candidate.url.as_str());
    let pending = std::sync::Mutex::new(Vec::<u8>::new());
    let on_stdout = |chunk: &[u8]| {
        let mut pending = pending.lock().expect("progress lock");
        pending.extend_from_slice(chunk);
        while let Some(end) = pending.iter().position(|b| *b == b'\n' || *b == b'\r') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            if let Some((downloaded, total)) = parse_progress(&String::from_utf8_lossy(&line)) {
                progress(TransferProgress { downloaded, total: Some(total), resumed_from: 0 });
            }
        }
    };
    let out = subprocess::run_observed(cmd, limits(config, Duration::MAX), cancel, &on_stdout).await?;
    if !out.status.success() {
        return Err(YtDlpFailure::from_stderr(&out.stderr).into());
    }
    let read_dir = || format!("read {}", work.display());
    let mut entries = tokio::fs::read_dir(work).await.map_err(YtDlpError::io(read_dir()))?;
    let mut written = None;
    while let Some(entry) = entries.next_entry().await.map_err(YtDlpError::io(read_dir()))? {
        if entry.file_type().await.is_ok_and(|t| t.is_file()) {
            written = Some(entry.path());
        }
    }
    let Some(part2) = written else { return Err(YtDlpError::NoFile) };
    let dest2 = dest.to_path_buf();
    let done = tokio::task::spawn_blocking(move || -> Result<(u64, String), YtDlpError> {
        let download = || YtDlpError::io("yt-dlp download");
        let (size, sha256) = super::check::sha256_file(&part2).map_err(download())?;
        std::fs::File::open(&part2).and_then(|f| f.sync_all()).map_err(download())?;
        if size == 0 {
            return Err(YtDlpError::EmptyFile);
        }
        std::fs::rename(&part2, &dest2).map_err(download())?;
        Ok((size, sha256))
    })
    .await
    .map_err(|e| YtDlpError::Io { what: "yt-dlp download".into(), source: std::io::Error::other(e) })??;
    let (size, sha256_hex) = done;
    // the exact size, now that the file is complete
    progress(TransferProgress { downloaded: size, total: Some(size), resumed_from: 0 });
    Ok(FetchedFile {
        path: dest.to_path_buf(),
        size,
        sha256_hex,
        resumed_from: 0,
        attempts: 1,
        content_type: candidate.mime_type.clone(),
    })
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

    #[test]
    fn progress_cases() {
        let cases = [
            ("[download]  45.3% of   19.53KiB at    2.34MiB/s ETA 00:00", Some((9060, 19999))),
            (
                "[download] 100.0% of ~  1.00MiB at  1.0MiB/s ETA 00:00 (frag 3/3)",
                Some((1_048_576, 1_048_576)),
            ),
            ("[download] 100% of   19.53KiB in 00:00:00 at 1.49MiB/s", Some((19999, 19999))),
            ("[download] Destination: /lib/x.mp3", None),
            ("[generic] Extracting URL: http://a/", None),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_progress(line), expected, "{line}");
        }
    }
}
