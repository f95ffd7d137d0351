//! Catalog Sync core: the application API every front calls ([`api`]), the catalog of
//! playlists and items, the embedded redb store, the job engine, the download engine and the
//! library's cover art cache. No Tauri and no terminal UI live here (ARCHITECTURE.md,
//! convention 1): the desktop shell and the `catalog-sync` command line both call into this crate.

pub mod allocator;
pub mod api;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod download;
pub mod error_chain;
pub mod export;
pub mod jobs;
pub mod library;
pub mod net_guard;
pub mod store;
pub mod subscriptions;
pub mod upload;
