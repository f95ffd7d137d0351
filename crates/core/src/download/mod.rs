//! The download engine: HTTP transfer with resume ([`transfer`], its errors in [`error`],
//! how it reads a response in `response_plan`, where its body goes in `part_sink`), the
//! progress watchdog that ends stalled, overdue or cancelled transfers ([`watchdog`]), the
//! retry policy by error class ([`retry`]), free space of library roots ([`space`]), HTTP
//! range headers ([`http_range`]),
//! hedged range requests for a transfer stuck while its host delivers elsewhere ([`hedge`]),
//! the resolver cascade ([`resolve`]), the subprocess watchdog ([`subprocess`]), library file
//! naming ([`naming`]), media file extensions ([`media_ext`]) and yt-dlp's failures by class
//! ([`ytdlp_errors`]), yt-dlp as a downloader with its progress ([`ytdlp_fetch`]) and its
//! update where the user installed it ([`ytdlp_update`]).
//!
//! A transfer streams into `<dest>.part`, resumes it with an HTTP Range request (RFC 9110
//! §14), verifies size and sha256, fsyncs and renames it into place, so a file at its final
//! name is always complete. Names come from a template rendered into sanitized, portable path
//! components and are joined under the library root by [`naming::safe_join`].

pub mod content_coding;
mod dir_sync;
pub mod error;
pub mod hedge;
pub mod http_range;
pub mod limits;
pub mod media_ext;
pub mod naming;
mod part_sink;
pub mod resolve;
mod response_plan;
pub mod retry;
pub mod space;
pub mod subprocess;
pub mod transfer;
pub mod watchdog;
pub mod ytdlp_errors;
pub mod ytdlp_fetch;
pub mod ytdlp_list;
pub mod ytdlp_update;

pub use naming::{
    extension_for, guid_hash, render_relative_path, safe_join, sanitize_component, split_ext, unique_path,
    NameVars, NamingError, DEFAULT_TEMPLATE, MAX_COMPONENT_BYTES,
};
pub use transfer::{
    build_client, fetch_to_file, fetch_to_file_from, inspect_part_blocking, part_path, validator_path,
    ErrorKind, FetchFailure, FetchedFile, PartState, TransferError, TransferOptions, TransferProgress,
};
pub use watchdog::{Watchdog, WatchdogStop};
