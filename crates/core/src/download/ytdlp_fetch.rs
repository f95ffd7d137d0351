//! yt-dlp as a downloader (issue 13, parts 2 and 3): [`fetch`] runs
//! `yt-dlp --continue --newline --progress-template ... -o <work>/media.%(ext)s <page>` under
//! the subprocess watchdog (`download::subprocess`: own process group, killed after
//! `subprocess_stall_timeout_ms` without output, at `subprocess_deadline_ms`, or on cancel).
//!
//! - Format: the playlist's [`MediaChoice`] (`-f`, and `-x --audio-format m4a|opus` with
//!   `--postprocessor-args "ExtractAudio:-c:a copy"` for extraction without re-encoding),
//!   else the resolver's `format_id`, else yt-dlp's default.
//! - Output: yt-dlp writes into a work folder beside the destination, `<dest>.part.d/`, named
//!   after our own destination (the library's naming template), so the folder is the same
//!   on every attempt and after a restart. A yt-dlp still writing there after a crash of the
//!   run that started it (its process group outlives us) is killed first ([`kill_orphans`]). yt-dlp keeps its `.part` files there and
//!   `--continue` resumes them (an HTTP Range request); the folder is removed once the file
//!   is in place, or when yt-dlp fails for good, and kept on a transient failure, a stall or
//!   a cancel. `--download-archive` is never used: the catalog is the archive.
//! - The file: yt-dlp names its final file (`--print-to-file after_move:filepath`); it is
//!   hashed (sha256), fsynced and renamed to the destination with the extension yt-dlp gave
//!   it (`Episode.mp3` becomes `Episode.webm` when yt-dlp produced WebM), unless a file of
//!   that name exists (then the destination's own name is kept).
//! - Progress: each `--progress-template` line (`download:csp %(progress)j`, one JSON object
//!   per line thanks to `--newline`) is read by [`parse_progress`] into bytes, total, speed
//!   and ETA and handed to the caller as a [`TransferProgress`], the same live samples as an
//!   HTTP transfer. Each line is output, so it is also the watchdog's heartbeat.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::resolve::ytdlp::limits;
use super::resolve::{Candidate, Fetch};
use super::subprocess::{self, SubprocessError};
use super::ytdlp_errors::YtDlpFailure;
use super::{part_path, FetchedFile, TransferProgress};
use crate::catalog::ytdlp::MediaChoice;
use crate::config::Config;

/// Prefix of our progress lines on yt-dlp's stdout (see [`PROGRESS_TEMPLATE`]).
pub const PROGRESS_MARK: &str = "csp ";

/// yt-dlp's `--progress-template` for downloads: our mark, then yt-dlp's progress dictionary
/// as JSON (`downloaded_bytes`, `total_bytes` / `total_bytes_estimate`, `speed` in bytes/s,
/// `eta` in s, `status`; <https://github.com/yt-dlp/yt-dlp#output-template>).
pub const PROGRESS_TEMPLATE: &str = "download:csp %(progress)j";

/// File (in the work folder) where yt-dlp names the file it produced.
const FINAL_NAME: &str = "final-path.txt";

/// One progress report of yt-dlp.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YtDlpProgress {
    /// Bytes of the current file so far (a resumed part included).
    pub downloaded: u64,
    /// Expected size in bytes: `total_bytes`, else yt-dlp's `total_bytes_estimate`.
    pub total: Option<u64>,
    /// yt-dlp's current speed, bytes/s.
    pub speed_bps: Option<f64>,
    /// yt-dlp's estimate of the time left, seconds.
    pub eta_secs: Option<u64>,
    /// `true` on the last report of a file (`status: finished`).
    pub finished: bool,
}

/// Reads one line of yt-dlp's stdout: a progress report (module docs) or `None` for any other
/// line (`[download] Destination: ...`, `[generic] ...`).
pub fn parse_progress(line: &str) -> Option<YtDlpProgress> {
    let json = line.trim().strip_prefix(PROGRESS_MARK)?;
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let num = |k: &str| v.get(k).and_then(serde_json::Value::as_f64).filter(|n| n.is_finite() && *n >= 0.0);
    Some(YtDlpProgress {
        downloaded: num("downloaded_bytes")?.round() as u64,
        total: num("total_bytes").or_else(|| num("total_bytes_estimate")).map(|t| t.round() as u64),
        speed_bps: num("speed"),
        eta_secs: num("eta").map(|e| e.round() as u64),
        finished: v.get("status").and_then(serde_json::Value::as_str) == Some("finished"),
    })
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
    /// yt-dlp was killed by a signal we did not send (out of memory, a user's `kill`): a
    /// crash, so transient; its parts stay for `--continue`.
    #[error("yt-dlp was killed by signal {0}")]
    Killed(i32),
    /// The choice extracts audio (`-x`), which needs ffmpeg, and no `ffmpeg` is on `PATH`:
    /// said before yt-dlp downloads anything it could not finish. Expected.
    #[error("the format {0} extracts the audio with ffmpeg, which is not installed (apt install ffmpeg, brew install ffmpeg)")]
    NoFfmpeg(&'static str),
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
            YtDlpError::Killed(_) => true,
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

/// The work folder of `dest`: `<dest>.part.d` (module docs). `None` when `dest` has no file
/// name.
pub fn work_dir(dest: &Path) -> Option<PathBuf> {
    let mut work = part_path(dest)?.into_os_string();
    work.push(".d");
    Some(PathBuf::from(work))
}

/// yt-dlp's arguments for the format: the choice's, else `-f <format_id>`, else none.
fn format_args(format: Option<&str>, media: Option<MediaChoice>) -> Vec<String> {
    match (media, format) {
        (Some(m), _) => m.ytdlp_args(),
        (None, Some(f)) => vec!["-f".into(), f.into()],
        (None, None) => Vec::new(),
    }
}

/// The audio format a choice extracts with ffmpeg (`-x`), if any.
fn extraction(media: MediaChoice) -> Option<&'static str> {
    match media {
        MediaChoice::AudioM4a => Some("m4a"),
        MediaChoice::AudioOpus => Some("opus"),
        MediaChoice::BestAudio | MediaChoice::Video { .. } => None,
    }
}

/// Whether `program` is a file in a folder of `PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

/// Bytes of the `.part` files yt-dlp left in `work` (what `--continue` resumes).
fn part_bytes(work: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(work) else { return 0 };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Lets yt-dlp download `candidate` (a [`Fetch::YtDlp`] one) in the work folder of `dest`
/// and moves the file it produced into place (module docs): at `dest`, or `dest` with yt-dlp's
/// extension. `progress` gets each of yt-dlp's reports, `resumed_from` being the bytes of the
/// parts it resumed. Errors: [`YtDlpError`]; on a transient one or a cancel the work folder
/// stays for the next attempt.
pub async fn fetch(
    candidate: &Candidate,
    dest: &Path,
    config: &Config,
    cancel: &CancellationToken,
    progress: &(dyn Fn(TransferProgress) + Send + Sync),
) -> Result<FetchedFile, YtDlpError> {
    let Fetch::YtDlp { binary, format, media } = &candidate.fetch else {
        return Err(YtDlpError::NotYtDlp);
    };
    let work = work_dir(dest).ok_or_else(|| YtDlpError::Destination(dest.to_path_buf()))?;
    if let Some(extracts) = media.and_then(extraction) {
        if !on_path("ffmpeg") {
            return Err(YtDlpError::NoFfmpeg(extracts));
        }
    }
    tokio::fs::create_dir_all(&work).await.map_err(YtDlpError::io(format!("create {}", work.display())))?;
    let resumed_from = part_bytes(&work);
    let _ = tokio::fs::remove_file(work.join(FINAL_NAME)).await;
    // `-o` and `--print-to-file` take output templates: a literal `%` is doubled
    let escaped = work.to_string_lossy().replace('%', "%%");
    let template = |name: &str| format!("{escaped}/{name}");
    let output = template("media.%(ext)s");
    // a yt-dlp a crashed run left behind would write into the same parts: it goes first
    kill_orphans(&output);
    let mut cmd = Command::new(binary);
    cmd.args(["--no-playlist", "--continue", "--newline", "--no-warnings", "--socket-timeout", "30"])
        .args(["--progress-template", PROGRESS_TEMPLATE])
        .args(["--print-to-file", "after_move:filepath"])
        .arg(template(FINAL_NAME))
        .arg("-o")
        .arg(&output)
        .args(format_args(format.as_deref(), *media))
        .arg("--")
        .arg(candidate.url.as_str());
    let pending = std::sync::Mutex::new(Vec::<u8>::new());
    let on_stdout = |chunk: &[u8]| {
        let mut pending = pending.lock().expect("progress lock");
        pending.extend_from_slice(chunk);
        while let Some(end) = pending.iter().position(|b| *b == b'\n' || *b == b'\r') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            if let Some(p) = parse_progress(&String::from_utf8_lossy(&line)) {
                progress(TransferProgress { downloaded: p.downloaded, total: p.total, resumed_from });
            }
        }
    };
    let ran = subprocess::run_observed(cmd, limits(config, Duration::MAX), cancel, &on_stdout).await;
    let result = match ran {
        Err(e) => Err(e.into()),
        Ok(out) if !out.status.success() => {
            match std::os::unix::process::ExitStatusExt::signal(&out.status) {
                Some(signal) => Err(YtDlpError::Killed(signal)),
                None => Err(YtDlpFailure::from_stderr(&out.stderr).into()),
            }
        }
        Ok(_) => place(&work, dest, resumed_from).await,
    };
    // the parts stay for `--continue` only when another attempt may come
    let keep = result.as_ref().err().is_some_and(|e| e.is_transient() || e.is_cancelled());
    if !keep {
        let _ = tokio::fs::remove_dir_all(&work).await;
    }
    result
}

/// Kills (SIGKILL, with its process group) every process whose command line has the argument
/// `output`: a yt-dlp still downloading into this work folder after the run that started it
/// crashed (its process group outlives our process). Reads `/proc`; where there is none (not
/// Linux) nothing is done. Returns the process groups killed (the pid alone for a process in
/// our own group), each once: a child the orphan forked has its argument list until it execs,
/// and goes with its group.
pub fn kill_orphans(output: &str) -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let own = nix::unistd::getpgid(None).ok();
    let signal = nix::sys::signal::Signal::SIGKILL;
    let mut killed = Vec::new();
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        if pid == me || !cmdline.split(|b| *b == 0).any(|arg| arg == output.as_bytes()) {
            continue;
        }
        let pid = nix::unistd::Pid::from_raw(pid);
        let group = nix::unistd::getpgid(Some(pid)).unwrap_or(pid);
        let whole_group = Some(group) != own; // never our own group
        let target = if whole_group { group } else { pid };
        if killed.contains(&target.as_raw()) {
            continue;
        }
        let _ = if whole_group {
            nix::sys::signal::killpg(group, signal)
        } else {
            nix::sys::signal::kill(pid, signal)
        };
        tracing::warn!(pid = pid.as_raw(), %output, "killed a yt-dlp left by an earlier run");
        killed.push(target.as_raw());
    }
    killed
}

/// The file yt-dlp produced in `work`: the path it printed, else the one finished media file.
async fn produced(work: &Path) -> Result<Option<PathBuf>, YtDlpError> {
    if let Ok(text) = tokio::fs::read_to_string(work.join(FINAL_NAME)).await {
        if let Some(line) = text.lines().rev().find(|l| !l.trim().is_empty()) {
            let path = PathBuf::from(line.trim());
            if path.is_file() {
                return Ok(Some(path));
            }
        }
    }
    let read_dir = || format!("read {}", work.display());
    let mut entries = tokio::fs::read_dir(work).await.map_err(YtDlpError::io(read_dir()))?;
    let mut found = None;
    while let Some(entry) = entries.next_entry().await.map_err(YtDlpError::io(read_dir()))? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let unfinished = name.ends_with(".part") || name.ends_with(".ytdl") || name == FINAL_NAME;
        if !unfinished && entry.file_type().await.is_ok_and(|t| t.is_file()) {
            found = Some(entry.path());
        }
    }
    Ok(found)
}

/// Hashes, fsyncs and renames the produced file into place (module docs).
async fn place(work: &Path, dest: &Path, resumed_from: u64) -> Result<FetchedFile, YtDlpError> {
    let Some(file) = produced(work).await? else { return Err(YtDlpError::NoFile) };
    let dest = dest.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<FetchedFile, YtDlpError> {
        let step = |what: &str| YtDlpError::io(format!("{what} {}", file.display()));
        let (size, sha256_hex) = super::resolve::check::sha256_file(&file).map_err(step("hash"))?;
        if size == 0 {
            return Err(YtDlpError::EmptyFile);
        }
        std::fs::File::open(&file).and_then(|f| f.sync_all()).map_err(step("sync"))?;
        let ext = file.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
        let own = match ext {
            Some(ext) if !ext.is_empty() => dest.with_extension(ext),
            _ => dest.clone(),
        };
        let target = if own == dest || own.exists() { dest } else { own };
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(step("create the folder of"))?;
        }
        std::fs::rename(&file, &target).map_err(step("rename"))?;
        Ok(FetchedFile {
            path: target,
            size,
            sha256_hex,
            resumed_from,
            attempts: 1,
            content_type: None,
            held: None,
        })
    })
    .await
    .map_err(|e| YtDlpError::Io { what: "yt-dlp download".into(), source: std::io::Error::other(e) })?
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as yt-dlp 2026.10.26 prints them with [`PROGRESS_TEMPLATE`] (shortened: the
    /// `_*_str` fields dropped), and lines that are not progress.
    #[test]
    fn progress_cases() {
        let cases = [
            (
                r#"csp {"status": "downloading", "downloaded_bytes": 1024, "total_bytes": 300000, "eta": null, "speed": null, "elapsed": 0.003}"#,
                Some(YtDlpProgress {
                    downloaded: 1024,
                    total: Some(300_000),
                    speed_bps: None,
                    eta_secs: None,
                    finished: false,
                }),
            ),
            (
                r#"csp {"status": "downloading", "downloaded_bytes": 130048, "total_bytes": 300000, "eta": 2.4, "speed": 37235363.5}"#,
                Some(YtDlpProgress {
                    downloaded: 130_048,
                    total: Some(300_000),
                    speed_bps: Some(37_235_363.5),
                    eta_secs: Some(2),
                    finished: false,
                }),
            ),
            (
                r#"csp {"status": "downloading", "downloaded_bytes": 5000, "total_bytes_estimate": 1048576.4, "fragment_index": 2, "fragment_count": 9, "eta": 7, "speed": 1000}"#,
                Some(YtDlpProgress {
                    downloaded: 5000,
                    total: Some(1_048_576),
                    speed_bps: Some(1000.0),
                    eta_secs: Some(7),
                    finished: false,
                }),
            ),
            (
                r#"csp {"downloaded_bytes": 300000, "total_bytes": 300000, "filename": "out/media.mp3", "status": "finished", "elapsed": 0.007, "speed": 40206134.9}"#,
                Some(YtDlpProgress {
                    downloaded: 300_000,
                    total: Some(300_000),
                    speed_bps: Some(40_206_134.9),
                    eta_secs: None,
                    finished: true,
                }),
            ),
            (r#"csp {"status": "downloading", "total_bytes": 10}"#, None),
            ("csp not json", None),
            ("[download] Destination: /lib/x.mp3", None),
            ("[download]  45.3% of   19.53KiB at    2.34MiB/s ETA 00:00", None),
            (r#"{"downloaded_bytes": 1}"#, None),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_progress(line), expected, "{line}");
        }
    }

    #[test]
    fn format_cases() {
        let cases = [
            (Some("18"), Some(MediaChoice::BestAudio), vec!["-f", "bestaudio/best"]),
            (
                None,
                Some(MediaChoice::AudioOpus),
                vec![
                    "-f",
                    "bestaudio[acodec=opus]",
                    "-x",
                    "--audio-format",
                    "opus",
                    "--postprocessor-args",
                    "ExtractAudio:-c:a copy",
                ],
            ),
            (Some("18"), None, vec!["-f", "18"]),
            (None, None, vec![]),
        ];
        for (format, media, want) in cases {
            assert_eq!(format_args(format, media), want, "{format:?} {media:?}");
        }
    }

    #[test]
    fn a_process_writing_into_the_work_folder_is_killed_with_its_group() {
        use std::os::unix::process::CommandExt;
        let dir = tempfile::tempdir().unwrap();
        let output = format!("{}/media.%(ext)s", dir.path().display());
        // the subshell is a fork that never execs: a second process with the same arguments,
        // in the orphan's group, killed with it and reported once
        let mut orphan = std::process::Command::new("sh")
            .args(["-c", "(sleep 600; exit 0); exit 0", "yt-dlp", "-o", &output])
            .process_group(0)
            .spawn()
            .unwrap();
        let mut other = std::process::Command::new("sh")
            .args(["-c", "sleep 600; exit 0", "yt-dlp", "-o", "/elsewhere/media.%(ext)s"])
            .process_group(0)
            .spawn()
            .unwrap();
        let with_output = || {
            std::fs::read_dir("/proc")
                .unwrap()
                .flatten()
                .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
                .filter(|c| c.split(|b| *b == 0).any(|a| a == output.as_bytes()))
                .count()
        };
        let since = std::time::Instant::now();
        while with_output() < 2 {
            assert!(since.elapsed() < std::time::Duration::from_secs(10), "the subshell never started");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(kill_orphans(&output), vec![orphan.id() as i32]);
        let status = orphan.wait().unwrap();
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
        assert!(other.try_wait().unwrap().is_none(), "another folder's yt-dlp runs on");
        other.kill().unwrap();
        other.wait().unwrap();
    }

    #[test]
    fn the_work_folder_sits_beside_the_destination() {
        assert_eq!(
            work_dir(Path::new("/lib/Show/Ep 1.mp4")),
            Some(PathBuf::from("/lib/Show/Ep 1.mp4.part.d"))
        );
    }
}
