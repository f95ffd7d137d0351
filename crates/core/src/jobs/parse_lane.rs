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
//! A panic inside the parser (third-party code) is caught and comes back as the panic's
//! message: it fails that playlist only, never the thread or the job.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

type Task = Box<dyn FnOnce() + Send>;

/// The parse thread's queue (module docs).
#[derive(Default)]
pub(super) struct ParseLane {
    tasks: OnceLock<Mutex<mpsc::Sender<Task>>>,
}

impl ParseLane {
    /// Runs `parse` on the parse thread and returns its result, or the message of the panic
    /// it raised (errors: a panic; the thread could not be started).
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
        let sent = self.sender()?.lock().map_err(|_| "the parse queue is poisoned".to_string())?.send(task);
        sent.map_err(|_| "the parse thread is gone".to_string())?;
        result.await.map_err(|_| "the parse thread is gone".to_string())?
    }

    fn sender(&self) -> Result<&Mutex<mpsc::Sender<Task>>, String> {
        if let Some(tasks) = self.tasks.get() {
            return Ok(tasks);
        }
        let (tx, rx) = mpsc::channel::<Task>();
        let started = std::thread::Builder::new().name("feed-parser".into()).spawn(move || {
            while let Ok(task) = rx.recv() {
                task();
            }
        });
        started.map_err(|e| format!("cannot start the parse thread: {e}"))?;
        // two first calls at once: one thread's sender wins, the other's thread ends at once
        Ok(self.tasks.get_or_init(|| Mutex::new(tx)))
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
}
