//! The thread feeds are parsed on: one per engine, started at its first document and ended
//! when the engine is dropped (its channel closes; a parse under way finishes first). The sync
//! stage fetches up to `parallel_syncs` documents at once but parses them here one at a time.
//!
//! Why one thread (issue 18): parsing a big feed allocates many times its size for a moment
//! (decoded text, repaired and normalized copies, feed-rs's model, the items). On tokio's
//! blocking pool every parse could land on another thread, and glibc's malloc gives each such
//! thread an arena of its own that keeps what was freed: a sync of 100 feeds x 1,000 items
//! held 73 MB of RSS for a heap that never passed 30 MB. On one thread the next parse reuses
//! the memory of the last, and at most one document's parse is in memory at a time. The
//! parser is CPU-bound, so a second parse thread would win little on the two cores the
//! benchmarks run on while the store's writer thread and the fetches need them too.
//!
//! What a parse returned is freed here too, once used ([`ParseLane::discard`]): glibc returns
//! a freed block to the arena it came from, under that arena's lock, so the store's writer
//! freeing a document of 1,000 items (thousands of small blocks) took the parse thread's
//! arena lock over and over while the parser allocated from it: ~100 futex calls of each
//! thread inside malloc and free per sync of 100 feeds x 1,000 items (`perf record -e
//! syscalls:sys_enter_futex`), none once documents are freed here.
//!
//! A panic inside the parser (third-party code) is caught and comes back as the panic's
//! message: it fails that playlist only, never the thread or the job.

use crate::catalog::task_thread::{Task, TaskThread};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The parse thread's queue (module docs).
pub(super) struct ParseLane {
    thread: TaskThread,
}

impl Default for ParseLane {
    fn default() -> ParseLane {
        ParseLane { thread: TaskThread::new("feed-parser") }
    }
}

impl ParseLane {
    /// Runs `parse` on the parse thread and returns its result, or the message of the panic
    /// it raised (errors: a panic; the thread could not be started or is gone).
    pub(super) async fn run<T: Send + 'static>(
        &self,
        parse: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let (reply, result) = tokio::sync::oneshot::channel();
        let task: Task = Box::new(move || {
            let _ = reply.send(catch_unwind(AssertUnwindSafe(parse)).map_err(|panic| {
                panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".to_string())
            }));
        });
        self.thread.send(task)?;
        result.await.map_err(|_| "the parse thread is gone".to_string())?
    }

    /// Drops `value` on the parse thread, after the tasks queued before it: for what a parse
    /// returned, once it was used (module docs). Never waits; when the thread cannot be
    /// reached, `value` is dropped here.
    pub(super) fn discard<T: Send + 'static>(&self, value: T) {
        let _ = self.thread.send(Box::new(move || drop(value)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn results_come_back_and_a_panic_fails_only_its_own_task() {
        let lane = ParseLane::default();
        assert_eq!(lane.run(|| 2 + 2).await, Ok(4));
        let err = lane.run(|| -> u32 { panic!("bad feed") }).await.unwrap_err();
        assert_eq!(err, "bad feed");
        let names = lane.run(|| std::thread::current().name().map(str::to_owned)).await.unwrap();
        assert_eq!(names.as_deref(), Some("feed-parser"), "the lane's own thread runs every task");
        assert_eq!(lane.run(|| "still here").await, Ok("still here"), "the thread outlives a panic");
    }

    /// Tells the name of the thread it is dropped on.
    struct DropProbe(std::sync::mpsc::Sender<Option<String>>);

    impl Drop for DropProbe {
        fn drop(&mut self) {
            let _ = self.0.send(std::thread::current().name().map(str::to_owned));
        }
    }

    #[tokio::test]
    async fn a_discarded_value_is_dropped_on_the_parse_thread() {
        let lane = ParseLane::default();
        let (tx, rx) = std::sync::mpsc::channel();
        lane.discard(DropProbe(tx));
        let dropped_on = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("dropped");
        assert_eq!(dropped_on.as_deref(), Some("feed-parser"));
    }
}
