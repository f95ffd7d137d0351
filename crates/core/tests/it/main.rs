//! Integration tests of the core: one binary (ARCHITECTURE.md, convention 14) with modules
//! named after `src/`: catalog parsing on the real corpus, HTTP transfer over loopback, and
//! the job engine end to end against the testkit server with a real redb file, and the
//! fault-injection suite of issue 4 (`fault_*`: every fault kind, permanent failures, cancel
//! during a silent stall).

mod catalog_common;
mod catalog_corpus;
mod catalog_identity;
mod catalog_opml;
mod download_transfer;
mod fault_cancel;
mod fault_suite;
mod jobs_engine;
mod jobs_scheduler;
