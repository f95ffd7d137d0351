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
use std::sync::{mpsc, Arc, Mutex, OnceLock};

use super::podcast_ns::{self, FeedExtras};

type Job = Box<dyn FnOnce() + Send>;

/// The queue into the thread; `None` when it could not be started.
static QUEUE: OnceLock<Option<Mutex<mpsc::Sender<Job>>>> = OnceLock::new();

/// Starts the extras pass over `text` (repaired, decoded feed text; `base` the feed URL) on
/// the extras thread. Returns where its result arrives, or `None` when the thread cannot be
/// reached (the caller then scans itself). A receiver that yields nothing means the scan
/// panicked.
pub(super) fn scan(text: Arc<String>, base: url::Url) -> Option<mpsc::Receiver<FeedExtras>> {
    let (reply, result) = mpsc::sync_channel(1);
    let job: Job = Box::new(move || {
        if let Ok(extras) = catch_unwind(AssertUnwindSafe(|| podcast_ns::scan(&text, Some(&base)))) {
            let _ = reply.send(extras);
        }
    });
    let queue = QUEUE.get_or_init(start).as_ref()?;
    queue.lock().ok()?.send(job).ok()?;
    Some(result)
}

fn start() -> Option<Mutex<mpsc::Sender<Job>>> {
    let (tx, rx) = mpsc::channel::<Job>();
    let started = std::thread::Builder::new().name("feed-extras".into()).spawn(move || {
        while let Ok(job) = rx.recv() {
            job();
        }
    });
    match started {
        Ok(_) => Some(Mutex::new(tx)),
        Err(e) => {
            tracing::warn!(error = %e, "cannot start the feed extras thread; scanning on the parse thread");
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
        let job: Job = Box::new(move || drop(tx.send(std::thread::current().name().map(str::to_owned))));
        QUEUE.get().unwrap().as_ref().unwrap().lock().unwrap().send(job).unwrap();
        assert_eq!(rx.recv().unwrap().as_deref(), Some("feed-extras"));
    }
}
