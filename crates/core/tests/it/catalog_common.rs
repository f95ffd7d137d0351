//! Shared helpers for the catalog integration tests: reading the shared corpus in place
//! (`<repo>/../shared/corpus`, never copied into the repository) and its `MANIFEST.tsv`.
#![allow(dead_code)]

use catalog_sync_core::catalog::{parse_document, Document, ParseError, ParsedPlaylist};
use std::path::PathBuf;

/// The corpus directory, relative to this crate's manifest.
pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

/// One row of `MANIFEST.tsv`.
#[derive(Debug, Clone)]
pub struct Row {
    pub path: String,
    pub kind: String,
    pub notes: String,
}

impl Row {
    /// `items=N` from the notes, if present.
    pub fn items(&self) -> Option<usize> {
        number_after(&self.notes, "items=")
    }
    /// The file name without directory.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// The first run of digits following `key` in `s`.
pub fn number_after(s: &str, key: &str) -> Option<usize> {
    let i = s.find(key)? + key.len();
    let digits: String = s[i..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// All manifest rows (header skipped).
pub fn manifest() -> Vec<Row> {
    let text = std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv")).expect("corpus MANIFEST.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Row {
                path: cols[0].into(),
                kind: cols[1].into(),
                notes: cols.get(5).copied().unwrap_or("").into(),
            }
        })
        .collect()
}

/// A stable fake URL the file is "served" from (the corpus path under example.com).
pub fn url_for(path: &str) -> url::Url {
    url::Url::parse(&format!("https://corpus.example/{path}")).unwrap()
}

/// Parses a corpus file by its manifest path.
pub fn parse(path: &str) -> Result<Document, ParseError> {
    let bytes = std::fs::read(corpus_dir().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_document(&bytes, &url_for(path))
}

/// Parses a corpus file that must be a playlist.
pub fn playlist(path: &str) -> ParsedPlaylist {
    match parse(path) {
        Ok(Document::Playlist(p)) => p,
        other => panic!("{path}: expected a playlist, got {other:?}"),
    }
}
