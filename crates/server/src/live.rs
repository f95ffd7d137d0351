//! Live events over Server-Sent Events (`GET /api/events`; WHATWG HTML §9.2). The core's
//! forwarder (`api::live::forward`: coalesced, cumulative, the events the desktop gets) feeds
//! one [`Hub`]; each browser tab subscribes to it. An SSE event's `event:` field is the live
//! event's name (`task-center-changed`, ...), its `data:` the payload JSON, so the browser's
//! `EventSource` listens by the same names the desktop's bindings use.
//!
//! A new subscriber first gets the latest task center, so a second window opened mid-job shows
//! the same live state at once. A subscriber too slow to keep up (the channel holds
//! [`CHANNEL_EVENTS`]) skips what it missed and gets the latest task center again: the
//! projection is cumulative, so nothing is lost. Streams end at shutdown.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use catalog_sync_core::api::live::{self, LiveEvent};
use catalog_sync_core::api::{Api, EventStream};
use futures_util::Stream;
use tokio::sync::broadcast;

use crate::AppState;

/// Events a subscriber may fall behind by before it skips to the latest state.
pub const CHANNEL_EVENTS: usize = 1024;
/// Interval of SSE keep-alive comments, so proxies keep an idle stream open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One event on the wire: name and payload JSON.
pub type WireEvent = Arc<(&'static str, String)>;

/// The fan-out of live events to every subscriber.
pub struct Hub {
    tx: broadcast::Sender<WireEvent>,
    latest_task_center: Mutex<Option<WireEvent>>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub { tx: broadcast::channel(CHANNEL_EVENTS).0, latest_task_center: Mutex::default() }
    }
}

impl Hub {
    /// Sends `e` to every subscriber (none: dropped), remembering the latest task center.
    pub fn publish(&self, e: LiveEvent) {
        let wire: WireEvent = Arc::new((e.name(), e.payload_json()));
        if matches!(e, LiveEvent::TaskCenterChanged(_)) {
            *self.latest_task_center.lock().expect("hub lock") = Some(wire.clone());
        }
        let _ = self.tx.send(wire);
    }

    /// The latest task center event, if one was sent.
    pub fn latest_task_center(&self) -> Option<WireEvent> {
        self.latest_task_center.lock().expect("hub lock").clone()
    }

    /// Subscribers now.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }
}

/// Runs the core's forwarder into `hub` until the engine's channel closes.
pub async fn run_forwarder(api: Api, rx: EventStream, hub: Arc<Hub>) {
    live::forward(api, rx, move |e| hub.publish(e)).await
}

fn sse(e: &WireEvent) -> SseEvent {
    SseEvent::default().event(e.0).data(e.1.as_str())
}

/// `GET /api/events`: the live event stream (module docs).
pub async fn events(State(state): State<AppState>) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let hub = state.hub.clone();
    let rx = hub.tx.subscribe();
    let first = hub.latest_task_center();
    let stop = state.stop.clone();
    let stream = futures_util::stream::unfold((rx, first, hub), move |(mut rx, mut first, hub)| {
        let stop = stop.clone();
        async move {
            if let Some(e) = first.take() {
                return Some((Ok(sse(&e)), (rx, None, hub)));
            }
            loop {
                let next = tokio::select! {
                    _ = stop.cancelled() => return None,
                    r = rx.recv() => r,
                };
                match next {
                    Ok(e) => return Some((Ok(sse(&e)), (rx, None, hub))),
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if let Some(e) = hub.latest_task_center() {
                            return Some((Ok(sse(&e)), (rx, None, hub)));
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
