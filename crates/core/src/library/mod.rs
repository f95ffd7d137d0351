//! After the download: what the library keeps beside the media and in it. The cover art cache
//! ([`art`]): each playlist's and item's image, fetched once from the URL the feed names,
//! checked (size cap, content sniffed by its magic bytes, [`sniff`]) and kept in a folder
//! beside the catalog, so the UI shows covers without loading remote images (the window's CSP
//! stays `img-src 'self' data:`) and tags embed the same bytes. Tags ([`tags`]: written with
//! lofty, ID3v2.4 / MP4 / Vorbis comments) from the catalog's metadata ([`tagging`]: when a
//! download is verified, and again when a sync changes what they would say). Tagging copies a crash left
//! beside media are swept at start ([`leftovers`]). Retention
//! ([`retention`]: deletes episodes past a playlist's rule, never the ones that must stay).

pub mod art;
pub mod leftovers;
pub mod organize;
pub mod retention;
pub mod sniff;
pub mod tagging;
pub mod tags;

pub use art::{ArtCache, ArtError, CachedImage};
pub use sniff::ImageKind;
pub use tagging::{retag_playlist, tag_item, TagOutcome};
