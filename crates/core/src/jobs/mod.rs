//! Jobs: what the user asked for, as resumable data. A job kind maps to ordered stages
//! ([`stages_of`]); the [`Engine`] claims queued jobs from the store and runs their stages,
//! emitting domain [`Event`]s that the front ends render (ARCHITECTURE.md, convention 11:
//! progress is sent as cumulative totals). State lives in the store, so a restarted process
//! reaps stale running work back to the queue and continues it.

mod collect_stage;
mod commands;
mod context;
mod download_stage;
mod error;
mod events;
mod export_hooks;
mod export_stage;
mod fetch_candidates;
mod finishers;
mod job_task;
pub mod kinds;
mod organize_stage;
mod parse_lane;
mod placement;
pub mod pools;
pub mod reaper;
mod refs;
mod retention_hook;
mod runner;
pub mod schedule;
mod sync_stage;
pub mod task_center;
pub mod throughput;
mod upload_stage;
pub mod workers;
mod ytdlp_download;
mod ytdlp_sync;

pub use context::DocumentParser;
pub use events::{Event, EventSink, ItemOutcome};
pub use kinds::{lane_of, stages_of, Lane};
pub use reaper::ReapReport;
pub use runner::{Engine, EngineError};
pub use workers::{WorkerRegistry, WorkerSample, WorkerState};
