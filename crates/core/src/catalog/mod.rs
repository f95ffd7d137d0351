//! The catalog's input side: parsing of feeds (RSS 0.9x/1.0/2.0, Atom, iTunes, Podcasting 2.0),
//! OPML subscription lists and M3U/PLS/XSPF playlists into one [`ParsedPlaylist`] shape, plus
//! item identity ([`identity`]). Bytes come in, decoded by [`encoding`]; which parser runs is
//! decided by content, never by file extension ([`detect`]).

pub mod fetch;
pub mod identity;
pub mod model;

pub use model::*;
