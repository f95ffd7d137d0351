//! The thread the extras pass ([`super::podcast_ns::scan`]) runs on while feed-rs parses the
//! same text (`feed::parse_feed`): one for the process, started at the first big document and
//! kept, so its heap stays its own.
//!
//! Why not a scoped thread per document (how it was): glibc hands a new thread an arena
//! through a free list, and the threads spawned one per document ended up in the arena of the
//! parse thread that spawned them. Both then allocated under one arena lock: the parse
//! thread made 120-360 futex calls inside malloc per sync of 100 feeds x 1,000 items (`perf
//! record -e syscalls:sys_enter_futex`), and slept 40-70 ms of its 0.6 s there. A thread that
//! lives on allocates from one arena of its own.
//!
//! A panic inside the scan leaves the thread running; the caller sees no result and scans
//! on its own thread instead, where the panic reaches the parse lane like any parser panic.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};

use super::podcast_ns::{self, FeedExtras};
use super::task_thread::{Task, TaskThread};

/// The extras thread (module docs).
static THREAD: TaskThread = TaskThread::new("feed-extras");

/// Starts the extras pass over `text` (repaired, decoded feed text; `base` the feed URL) on
/// the extras thread. Returns where its result arrives, or `None` when the thread cannot be
/// reached (the caller then scans itself). A receiver that yields nothing means the scan
/// panicked.
pub(super) fn scan(text: Arc<String>, base: url::Url) -> Option<mpsc::Receiver<FeedExtras>> {
    let (reply, result) = mpsc::sync_channel(1);
    let task: Task = Box::new(move || {
        if let Ok(extras) = catch_unwind(AssertUnwindSafe(|| podcast_ns::scan(&text, Some(&base)))) {
            let _ = reply.send(extras);
        }
    });
    match THREAD.send(task) {
        Ok(()) => Some(result),
        Err(e) => {
            tracing::warn!(error = %e, "scanning on the parse thread");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_run_on_the_one_extras_thread() {
        let base = url::Url::parse("https://example.com/feed.xml").unwrap();
        let text = r#"<rss><channel><item><enclosure url="a.mp3" type="audio/mpeg"/></item></channel></rss>"#;
        for _ in 0..2 {
            let got = scan(Arc::new(text.to_string()), base.clone()).expect("started").recv().unwrap();
            assert_eq!(got.items.len(), 1);
            assert_eq!(got.items[0].enclosures[0].url, "https://example.com/a.mp3");
        }
        let (tx, rx) = mpsc::channel();
        THREAD
            .send(Box::new(move || drop(tx.send(std::thread::current().name().map(str::to_owned)))))
            .unwrap();
        assert_eq!(rx.recv().unwrap().as_deref(), Some("feed-extras"));
    }
}
