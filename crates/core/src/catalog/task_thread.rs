//! A named thread that runs queued tasks one at a time, in order, started at the first task
//! and ended when its [`TaskThread`] is dropped (a task under way finishes first). For work
//! that should stay on one long-lived thread, so what it allocates stays in one glibc arena:
//! the engine's parse thread (`jobs::parse_lane`) and the feed extras thread
//! ([`super::extras_thread`]). It lives in `catalog` because both run its parsers.

use std::sync::{mpsc, Mutex, OnceLock};

/// A queued task.
pub(crate) type Task = Box<dyn FnOnce() + Send>;

/// The thread's queue (module docs).
pub(crate) struct TaskThread {
    name: &'static str,
    tasks: OnceLock<Mutex<mpsc::Sender<Task>>>,
}

impl TaskThread {
    /// A thread named `name`, not started yet.
    pub(crate) const fn new(name: &'static str) -> TaskThread {
        TaskThread { name, tasks: OnceLock::new() }
    }

    /// Queues `task` behind the ones queued before it, starting the thread if need be.
    /// Errors: the thread cannot be started, or is gone; `task` is then dropped here.
    pub(crate) fn send(&self, task: Task) -> Result<(), String> {
        let tasks = self.sender()?.lock().map_err(|_| format!("the {} queue is poisoned", self.name))?;
        tasks.send(task).map_err(|_| format!("the {} thread is gone", self.name))
    }

    fn sender(&self) -> Result<&Mutex<mpsc::Sender<Task>>, String> {
        if let Some(tasks) = self.tasks.get() {
            return Ok(tasks);
        }
        let (tx, rx) = mpsc::channel::<Task>();
        let started = std::thread::Builder::new().name(self.name.into()).spawn(move || {
            while let Ok(task) = rx.recv() {
                task();
            }
        });
        started.map_err(|e| format!("cannot start the {} thread: {e}", self.name))?;
        // two first calls at once: one thread's sender wins, the other's thread ends at once
        Ok(self.tasks.get_or_init(|| Mutex::new(tx)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_run_in_order_on_the_named_thread() {
        let thread = TaskThread::new("test-tasks");
        let (tx, rx) = mpsc::channel();
        for i in 0..3 {
            let tx = tx.clone();
            thread
                .send(Box::new(move || drop(tx.send((i, std::thread::current().name().map(str::to_owned))))))
                .unwrap();
        }
        let got: Vec<_> = (0..3).map(|_| rx.recv().unwrap()).collect();
        let named = Some("test-tasks".to_string());
        assert_eq!(got, vec![(0, named.clone()), (1, named.clone()), (2, named)]);
    }
}
