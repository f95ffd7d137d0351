//! Command-line grammar of `catalog-sync` (clap derive). Global options override the config
//! file, which overrides the built-in defaults (see `catalog_sync_core::config`).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Keep a catalog of podcast feeds and playlists, sync them and download their media.
#[derive(Debug, Parser)]
#[command(name = "catalog-sync", version, about)]
pub struct Args {
    /// Catalog database file (default: <data dir>/catalog-sync/catalog.redb).
    #[arg(long, global = true, env = "CATALOG_SYNC_DATABASE")]
    pub database: Option<PathBuf>,
    /// Library folder downloads go to (default: <music dir>/Catalog Sync).
    #[arg(long, global = true, env = "CATALOG_SYNC_LIBRARY")]
    pub library: Option<PathBuf>,
    /// Config file (TOML; default: <config dir>/catalog-sync/config.toml).
    #[arg(long, global = true, env = "CATALOG_SYNC_CONFIG")]
    pub config: Option<PathBuf>,
    /// Download-stage workers (default 4), split into resolvers and downloaders:
    /// 4 = 1 + 3, 8 = 2 + 6, 19 = 3 + 16.
    #[arg(short = 'j', long, global = true)]
    pub parallel: Option<usize>,
    /// No progress bars; print only the summary.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add playlists by URL (feed, M3U/PLS/XSPF) or local path.
    Add {
        /// URLs or paths.
        #[arg(required = true)]
        urls: Vec<String>,
    },
    /// Import an OPML subscription list, or add an M3U/PLS/XSPF/feed file as a playlist
    /// (decided by content).
    Import {
        /// A file path or URL.
        source: String,
    },
    /// Write the catalog's playlists as OPML 2.0.
    ExportOpml {
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// List playlists or items.
    List {
        /// What to list.
        #[arg(value_enum, default_value_t = ListWhat::Playlists)]
        what: ListWhat,
        /// Only items of these playlists (id, URL or title).
        #[arg(short, long)]
        playlist: Vec<String>,
    },
    /// Refresh playlists into the catalog (all when none is named).
    Sync {
        /// Playlists by id, URL or title.
        playlists: Vec<String>,
    },
    /// Download items of the catalog not yet downloaded (all playlists when none is named).
    Download {
        /// Playlists by id, URL or title.
        playlists: Vec<String>,
    },
    /// Sync, then download: the main job.
    Run {
        /// Playlists by id, URL or title.
        playlists: Vec<String>,
    },
    /// Show jobs with their stages and the catalog's totals.
    Status,
    /// The task center: jobs with lane, queue position, progress and speed; refreshes every
    /// second while jobs run (on a terminal).
    Jobs {
        /// Print once and exit.
        #[arg(long)]
        once: bool,
    },
    /// Pause a job: running work finishes its current transfers, then the job waits.
    Pause {
        /// Job id.
        job: u64,
    },
    /// Resume a paused job.
    Resume {
        /// Job id.
        job: u64,
    },
    /// Cancel a job: drops its references, so its transfers stop now unless a selected
    /// playlist still wants their items (partial files are kept for a later download).
    Cancel {
        /// Job id.
        job: u64,
    },
    /// Queue the failed items of a failed job again.
    Retry {
        /// Job id.
        job: u64,
    },
    /// Select playlists for download: they hold a reference on each of their items, so a
    /// download of an item shared with other playlists goes on while one of them wants it.
    Want {
        /// Playlists by id, URL or title.
        #[arg(required = true)]
        playlists: Vec<String>,
    },
    /// Unselect playlists: drop their references; with --delete, delete the downloaded files
    /// of their items that no other selected playlist or running job wants.
    Unwant {
        /// Playlists by id, URL or title.
        #[arg(required = true)]
        playlists: Vec<String>,
        /// Delete files (and partial files) nothing wants any more.
        #[arg(long)]
        delete: bool,
    },
    /// Show a job's runs (newest first) and its event log.
    Log {
        /// Job id.
        job: u64,
    },
    /// Serve the web UI and the JSON API (engine in-process) until Ctrl-C or SIGTERM. The first
    /// start creates an access token, saves it in the config file and prints a login URL.
    #[cfg(feature = "serve")]
    Serve {
        /// Address and port to listen on (`0.0.0.0:8750` for every interface).
        #[arg(long, env = "CATALOG_SYNC_LISTEN", default_value = catalog_sync_server::DEFAULT_LISTEN)]
        listen: std::net::SocketAddr,
    },
}

/// What `list` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListWhat {
    /// Playlists with item and download counts.
    Playlists,
    /// Items with their download state.
    Items,
}
