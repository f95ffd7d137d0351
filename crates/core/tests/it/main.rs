//! Integration tests of the core: one binary (ARCHITECTURE.md, convention 14) with modules
//! named after `src/`: catalog parsing on the real corpus, HTTP transfer over loopback, and
//! the job engine end to end against the testkit server with a real redb file, and the
//! resolver cascade's sources against fake APIs, pages, feeds and yt-dlp on loopback; the
//! fault-injection suite of issue 4 (`fault_*`: every fault kind, permanent failures, cancel
//! during a silent stall); cover art fetched, checked and cached (`library_art`); the auto-sync schedule on the injected
//! clock (`api_schedule`); tags and cover art written and read back with lofty (`library_tags`); renaming after the name template with a crash at each step of a move (`library_organize`); retention on a real
//! library, its never-delete rules and a crash mid-run (`library_retention`); tagging copies a
//! crash left, swept at start (`library_leftovers`); the import graph of `src/` has no cycle (`import_graph`).

mod api_ops;
mod api_schedule;
mod api_ytdlp;
mod catalog_common;
mod catalog_corpus;
mod catalog_fetch;
mod catalog_identity;
mod catalog_opml;
mod catalog_parity;
mod catalog_ytdlp;
mod download_coding;
mod download_hedge;
mod download_policy;
mod download_transfer;
mod fault_cancel;
mod fault_suite;
mod import_graph;
mod jobs_engine;
mod jobs_naming;
mod jobs_reaper;
mod jobs_refs;
mod jobs_scheduler;
mod jobs_sync_moves;
mod jobs_ytdlp_download;
mod jobs_ytdlp_extract;
mod jobs_ytdlp_sync;
mod library_art;
mod library_leftovers;
mod library_organize;
mod library_retention;
mod library_tags;
mod net_guard;
mod resolve_agent;
mod resolve_cascade;
mod resolve_common;
mod resolve_indexes;
mod resolve_sources;
mod resolve_ytdlp;
mod upload_common;
mod upload_folder;
mod upload_remotes;
mod upload_webdav;
