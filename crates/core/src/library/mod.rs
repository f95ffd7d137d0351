//! After the download: what the library keeps beside the media. For now the cover art cache
//! ([`art`]): each playlist's and item's image, fetched once from the URL the feed names,
//! checked (size cap, content sniffed by its magic bytes, [`sniff`]) and kept in a folder
//! beside the catalog, so the UI shows covers without loading remote images (the window's CSP
//! stays `img-src 'self' data:`) and tags can embed the same bytes later.

pub mod art;
pub mod sniff;

pub use art::{ArtCache, ArtError, CachedImage};
pub use sniff::ImageKind;
