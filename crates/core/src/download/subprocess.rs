//! The subprocess watchdog (ARCHITECTURE.md, convention 9): runs a child (yt-dlp) in its own
//! process group, reads its stdout and stderr as they come, and ends the whole group with
//! SIGKILL when it prints nothing for [`SubprocessLimits::stall`], runs past
//! [`SubprocessLimits::deadline`], or the cancel token fires. The child is always reaped
//! (`wait`), and the group is killed after the child exits too, so grandchildren it left
//! behind (and that may still hold its pipes) never outlive the call and no zombie remains.
//! Dropping the call's future (a caller's timeout or `select!`) kills the group as well; the
//! child itself is then reaped by tokio in the background (`kill_on_drop`).
//!
//! Progress is judged by output, not elapsed time: every chunk read from either stream resets
//! the stall window. Captured output is bounded ([`MAX_CAPTURE_BYTES`] per stream); later
//! bytes still count as progress but are dropped.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

/// Bytes of stdout and of stderr kept per run (16 MiB; yt-dlp's `-J` of a long playlist fits).
pub const MAX_CAPTURE_BYTES: usize = 16 * 1024 * 1024;

/// The windows of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubprocessLimits {
    /// No output on stdout or stderr for this long ends the run (config
    /// `subprocess_stall_timeout_ms`).
    pub stall: Duration,
    /// The run ends at this age whatever it prints (config `subprocess_deadline_ms`).
    pub deadline: Duration,
}

/// What a finished child left: exit status and captured output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubprocessOutput {
    /// Exit status (success or the code / signal).
    pub status: ExitStatus,
    /// Captured stdout (at most [`MAX_CAPTURE_BYTES`]).
    pub stdout: Vec<u8>,
    /// Captured stderr (at most [`MAX_CAPTURE_BYTES`]).
    pub stderr: Vec<u8>,
}

/// Why a run ended without an exit of its own. Each ended run was killed with its group and
/// reaped before the error is returned.
#[derive(Debug, thiserror::Error)]
pub enum SubprocessError {
    /// The program could not be started (missing binary, permissions). Expected.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// No output for the stall window. Transient.
    #[error("{program} printed nothing for {after:?}; killed")]
    Stalled {
        /// The program.
        program: String,
        /// The stall window.
        after: Duration,
    },
    /// Still running at the deadline. Transient.
    #[error("{program} ran past its deadline of {after:?}; killed")]
    Deadline {
        /// The program.
        program: String,
        /// The deadline.
        after: Duration,
    },
    /// Cancelled by the caller. Expected.
    #[error("{program} cancelled; killed")]
    Cancelled {
        /// The program.
        program: String,
    },
    /// Waiting for the child failed (an OS error; a bug or environment failure).
    #[error("waiting for {program} failed: {source}")]
    Wait {
        /// The program.
        program: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl SubprocessError {
    /// Transient errors (stall, deadline) are worth another attempt later.
    pub fn is_transient(&self) -> bool {
        matches!(self, SubprocessError::Stalled { .. } | SubprocessError::Deadline { .. })
    }
}

/// Kills the process group when dropped while armed: the call's future was dropped mid-run.
/// Disarmed once the group is killed and the child reaped, so a reused group id is never hit.
struct GroupGuard(Option<Pid>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0.take() {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }
}

enum Ending {
    Exited(std::io::Result<ExitStatus>),
    Stalled,
    Deadline,
    Cancelled,
}

/// Runs `cmd` under the watchdog (module docs) and returns its output once it exits.
///
/// stdin is closed; stdout and stderr are captured. Errors: [`SubprocessError`]; a non-zero
/// exit is not an error here (the caller reads `status`).
pub async fn run(
    cmd: Command,
    limits: SubprocessLimits,
    cancel: &CancellationToken,
) -> Result<SubprocessOutput, SubprocessError> {
    run_observed(cmd, limits, cancel, &|_| {}).await
}

/// [`run`], calling `on_stdout` with each chunk of stdout as it arrives (progress lines).
pub async fn run_observed(
    mut cmd: Command,
    limits: SubprocessLimits,
    cancel: &CancellationToken,
    on_stdout: &(dyn Fn(&[u8]) + Send + Sync),
) -> Result<SubprocessOutput, SubprocessError> {
    let program = cmd.as_std().get_program().to_string_lossy().into_owned();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child =
        cmd.spawn().map_err(|source| SubprocessError::Spawn { program: program.clone(), source })?;
    let pgid = child.id().map(|id| Pid::from_raw(id as i32));
    // declared after `child`, so dropped before it: the unreaped child still holds the group id
    let mut guard = GroupGuard(pgid);
    let mut out = child.stdout.take().map(Stream::new);
    let mut err = child.stderr.take().map(Stream::new);
    let deadline = tokio::time::sleep(limits.deadline);
    tokio::pin!(deadline);
    let stall = tokio::time::sleep(limits.stall);
    tokio::pin!(stall);
    let ending = loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => break Ending::Cancelled,
            () = &mut deadline => break Ending::Deadline,
            () = &mut stall => break Ending::Stalled,
            got = read_some(&mut out), if out.as_ref().is_some_and(|s| !s.eof) => {
                if got {
                    stall.as_mut().reset(tokio::time::Instant::now() + limits.stall);
                    if let Some(s) = out.as_ref() { on_stdout(&s.last); }
                }
            }
            got = read_some(&mut err), if err.as_ref().is_some_and(|s| !s.eof) => {
                if got { stall.as_mut().reset(tokio::time::Instant::now() + limits.stall); }
            }
            status = child.wait() => break Ending::Exited(status),
        }
    };
    // Whatever happened, nothing of the group survives the call: the child's leftovers too.
    if let Some(pgid) = pgid {
        if let Err(e) = killpg(pgid, Signal::SIGKILL) {
            if e != nix::errno::Errno::ESRCH {
                tracing::warn!(%program, error = %e, "killing the process group failed");
            }
        }
    }
    let killed = match ending {
        Ending::Exited(status) => {
            let status =
                status.map_err(|source| SubprocessError::Wait { program: program.clone(), source })?;
            Ok(status)
        }
        Ending::Stalled => Err(SubprocessError::Stalled { program: program.clone(), after: limits.stall }),
        Ending::Deadline => {
            Err(SubprocessError::Deadline { program: program.clone(), after: limits.deadline })
        }
        Ending::Cancelled => Err(SubprocessError::Cancelled { program: program.clone() }),
    };
    let status = match killed {
        Ok(status) => status,
        Err(e) => {
            // reap the killed child: no zombie stays behind
            let reaped = child.wait().await;
            guard.0 = None;
            reaped.map_err(|source| SubprocessError::Wait { program, source })?;
            return Err(e);
        }
    };
    guard.0 = None;
    // The group is gone, so the pipes reach EOF promptly; drain what is left.
    let drain = async {
        while out.as_ref().is_some_and(|s| !s.eof) {
            read_some(&mut out).await;
        }
        while err.as_ref().is_some_and(|s| !s.eof) {
            read_some(&mut err).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
    Ok(SubprocessOutput {
        status,
        stdout: out.map(|s| s.buf).unwrap_or_default(),
        stderr: err.map(|s| s.buf).unwrap_or_default(),
    })
}

struct Stream<R> {
    reader: R,
    buf: Vec<u8>,
    /// The last chunk read.
    last: Vec<u8>,
    eof: bool,
}

impl<R: AsyncRead + Unpin> Stream<R> {
    fn new(reader: R) -> Self {
        Stream { reader, buf: Vec::new(), last: Vec::new(), eof: false }
    }
}

/// Reads one chunk; true when bytes arrived. EOF and read errors mark the stream ended.
async fn read_some<R: AsyncRead + Unpin>(stream: &mut Option<Stream<R>>) -> bool {
    let Some(s) = stream.as_mut() else { return false };
    let mut chunk = [0u8; 8192];
    match s.reader.read(&mut chunk).await {
        Ok(0) | Err(_) => {
            s.eof = true;
            false
        }
        Ok(n) => {
            let room = MAX_CAPTURE_BYTES.saturating_sub(s.buf.len());
            s.buf.extend_from_slice(&chunk[..n.min(room)]);
            s.last.clear();
            s.last.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(stall_ms: u64, deadline_ms: u64) -> SubprocessLimits {
        SubprocessLimits {
            stall: Duration::from_millis(stall_ms),
            deadline: Duration::from_millis(deadline_ms),
        }
    }

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script);
        cmd
    }

    /// Whether process `pid` still runs (a zombie whose parent is gone waits for init's
    /// reaping and does not run).
    fn alive(pid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
    }

    #[tokio::test]
    async fn output_and_exit_status_come_back() {
        let out =
            run(sh("echo hello; echo oops >&2; exit 3"), limits(5_000, 10_000), &CancellationToken::new())
                .await
                .unwrap();
        assert_eq!(
            (out.stdout.as_slice(), out.stderr.as_slice(), out.status.code()),
            (&b"hello\n"[..], &b"oops\n"[..], Some(3))
        );
    }

    #[tokio::test]
    async fn a_silent_child_and_its_grandchild_are_killed_and_reaped() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        // The grandchild keeps the pipes open and would outlive a plain kill of the child.
        let script =
            format!("sleep 600 & echo $! > {p}; echo $$ >> {p}; echo started; sleep 600", p = pids.display());
        let err = run(sh(&script), limits(300, 60_000), &CancellationToken::new()).await.unwrap_err();
        assert!(matches!(err, SubprocessError::Stalled { .. }), "{err}");
        assert!(err.is_transient());
        let text = std::fs::read_to_string(&pids).unwrap();
        let pids: Vec<i32> = text.lines().map(|l| l.trim().parse().unwrap()).collect();
        assert_eq!(pids.len(), 2, "{text}");
        for _ in 0..100 {
            if pids.iter().all(|p| !alive(*p)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for pid in &pids {
            assert!(!alive(*pid), "process {pid} survived the watchdog");
        }
        // the child itself was reaped by us: not even a zombie is left
        assert!(!std::path::Path::new(&format!("/proc/{}", pids[1])).exists(), "the child is a zombie");
    }

    #[tokio::test]
    async fn dropping_the_call_kills_the_group_too() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let script = format!("sleep 600 & echo $! > {p}; sleep 600", p = pids.display());
        let cancel = CancellationToken::new();
        let run = run(sh(&script), limits(60_000, 60_000), &cancel);
        assert!(
            tokio::time::timeout(Duration::from_millis(300), run).await.is_err(),
            "still running when dropped"
        );
        let grandchild: i32 = std::fs::read_to_string(&pids).unwrap().trim().parse().unwrap();
        for _ in 0..100 {
            if !alive(grandchild) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!alive(grandchild), "the grandchild {grandchild} outlived the dropped call");
    }

    #[tokio::test]
    async fn chatty_child_past_its_deadline_is_killed() {
        let err = run(
            sh("while true; do echo tick; sleep 0.05; done"),
            limits(2_000, 400),
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, SubprocessError::Deadline { .. }), "{err}");
    }

    #[tokio::test]
    async fn cancel_kills_the_group() {
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            c.cancel();
        });
        let err = run(sh("sleep 600"), limits(60_000, 60_000), &cancel).await.unwrap_err();
        assert!(matches!(err, SubprocessError::Cancelled { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_missing_program_is_a_spawn_error() {
        let err = run(Command::new("/nonexistent/yt-dlp"), limits(1_000, 1_000), &CancellationToken::new())
            .await
            .unwrap_err();
        assert!(matches!(err, SubprocessError::Spawn { .. }), "{err}");
    }
}
