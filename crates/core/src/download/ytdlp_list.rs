//! Asking yt-dlp what a URL lists, under the subprocess watchdog (`subprocess`: own process
//! group, killed on silence, deadline or cancel):
//! - [`probe`]: `yt-dlp --flat-playlist -J -I 1:1 <url>`, whether a URL is a playlist or
//!   channel, with its title and extractor (one entry fetched, not the whole list);
//! - [`list`]: `yt-dlp --flat-playlist -j --lazy-playlist -I <start>: <url>`, the entries from
//!   playlist index `start` on, one JSON line each as yt-dlp pages through the playlist, handed
//!   to the caller as they come; the caller may stop the run once it has what it needs (the
//!   head of a channel it knows), so a channel of 200,000 entries is never listed whole twice;
//! - [`version`]: `yt-dlp --version`.
//!
//! Options shared by every run: `--no-warnings`, `--socket-timeout 30` (a silent socket ends
//! with an error yt-dlp reports, rather than the watchdog's kill), `--` before the URL.

use std::path::Path;

use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::subprocess::{self, SubprocessError, SubprocessLimits};
use super::ytdlp_errors::YtDlpFailure;
use crate::catalog::ytdlp::{parse_listing, YtDlpListing};

/// Why a yt-dlp listing run failed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The subprocess could not start, stalled, ran past its deadline or was cancelled; its own
    /// class decides ([`SubprocessError::is_transient`]).
    #[error(transparent)]
    Subprocess(#[from] SubprocessError),
    /// yt-dlp reported a failure, with its class.
    #[error(transparent)]
    Failed(#[from] YtDlpFailure),
    /// yt-dlp exited successfully but printed something unreadable (expected: a bug of yt-dlp
    /// or an extractor).
    #[error("{0}")]
    Output(String),
}

impl ListError {
    /// True when a later attempt may succeed: a stall, a deadline, or a transient failure.
    pub fn is_transient(&self) -> bool {
        match self {
            ListError::Subprocess(e) => e.is_transient(),
            ListError::Failed(f) => f.is_transient(),
            ListError::Output(_) => false,
        }
    }

    /// The failure's kind in words (`private`, `rate limited`, `stalled`...).
    pub fn kind(&self) -> &'static str {
        match self {
            ListError::Subprocess(SubprocessError::Stalled { .. }) => "stalled",
            ListError::Subprocess(SubprocessError::Deadline { .. }) => "deadline",
            ListError::Subprocess(SubprocessError::Cancelled { .. }) => "cancelled",
            ListError::Subprocess(_) => "cannot run yt-dlp",
            ListError::Failed(f) => f.kind.as_str(),
            ListError::Output(_) => "unreadable output",
        }
    }
}

fn base_command(binary: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.args(["--no-warnings", "--socket-timeout", "30"]);
    cmd
}

/// What yt-dlp says `url` is (module docs). Errors: [`ListError`].
pub async fn probe(
    binary: &Path,
    url: &str,
    limits: SubprocessLimits,
    cancel: &CancellationToken,
) -> Result<YtDlpListing, ListError> {
    let mut cmd = base_command(binary);
    cmd.args(["--flat-playlist", "-J", "-I", "1:1", "--"]).arg(url);
    let out = subprocess::run(cmd, limits, cancel).await?;
    if !out.status.success() {
        return Err(YtDlpFailure::from_stderr(&out.stderr).into());
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| ListError::Output(format!("yt-dlp -J printed no JSON: {e}")))?;
    parse_listing(&json).map_err(ListError::Output)
}

/// Runs the listing of `url` from playlist index `start` (1-based; module docs), calling
/// `on_stdout` with each chunk of its output as it comes (the caller splits lines). `stop`
/// ends the run early: then the result is `Ok(false)`; `Ok(true)` when yt-dlp listed to the
/// end. Errors: [`ListError`] (a cancel of `stop` is not one).
pub async fn list(
    binary: &Path,
    url: &str,
    start: u64,
    limits: SubprocessLimits,
    stop: &CancellationToken,
    on_stdout: &(dyn Fn(&[u8]) + Send + Sync),
) -> Result<bool, ListError> {
    let mut cmd = base_command(binary);
    cmd.args(["--flat-playlist", "-j", "--lazy-playlist", "-I"])
        .arg(format!("{}:", start.max(1)))
        .arg("--")
        .arg(url);
    match subprocess::run_observed(cmd, limits, stop, on_stdout).await {
        Ok(out) if out.status.success() => Ok(true),
        Ok(out) => Err(YtDlpFailure::from_stderr(&out.stderr).into()),
        Err(SubprocessError::Cancelled { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// yt-dlp's version (`2026.10.26`) from `<binary> --version`, within 30 s. Errors: the
/// subprocess's, or yt-dlp's failure.
pub async fn version(binary: &Path) -> Result<String, ListError> {
    let mut cmd = Command::new(binary);
    cmd.arg("--version");
    let limits = SubprocessLimits {
        stall: std::time::Duration::from_secs(30),
        deadline: std::time::Duration::from_secs(30),
    };
    let out = subprocess::run(cmd, limits, &CancellationToken::new()).await?;
    if !out.status.success() {
        return Err(YtDlpFailure::from_stderr(&out.stderr).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
