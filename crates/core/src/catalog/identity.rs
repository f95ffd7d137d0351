//! Item identity and in-document deduplication.
//!
//! The rule, as the code applies it ([`item_key`]; ARCHITECTURE.md, "item"):
//! 1. the guid (RSS `<guid>`, Atom `<id>`, RSS 1.0 `rdf:about`), trimmed;
//! 2. else the enclosure URL;
//! 3. else a stable hash: SHA-256 over `title + "\n" + published` (published as decimal Unix
//!    seconds, empty when unknown), hex encoded, when the item has a title or a date;
//! 4. else SHA-256 over `"desc:" + description + "\n" + link`, so text-only entries still get
//!    a key that is the same on every parse of the same document.
//!
//! An item with none of guid, enclosure, title, date, description or link has nothing to
//! identify it by and nothing to download: [`merge_duplicates_reporting`] drops it (with a
//! warning) rather than let it become a row no later sync can ever match again.
//!
//! Across syncs, a host may change an episode's guid while its media stays where it was (a CMS
//! migration, a re-import): then the new key matches nothing, yet it is the same episode. The
//! store treats a new key as a known item of the same playlist when their media match
//! ([`same_media`]): the same enclosure URL once tracking query parameters are dropped
//! ([`media_url_identity`]), and the same declared length when both declare one. This is the
//! duplicate users of gPodder and AntennaPod report most; AntennaPod likewise treats an episode
//! with a known download URL as known.
//!
//! Entries of a yt-dlp playlist (`catalog::ytdlp`) are named by their extractor and video id
//! instead ([`extractor_key`], `ytdlp:youtube:dQw4w9WgXcQ`): the prefix keeps them apart from
//! guid, enclosure and hash keys, and they are global, so a video listed by two channels or
//! playlists is one item.
//!
//! [`merge_duplicates`] folds items with the same key into one: the first occurrence keeps its
//! position and fields, later occurrences only fill fields that are still empty (e.g. a feed
//! that repeats an item once per enclosure). Feeds list newest first, so the first is normally
//! the newest. [`merge_duplicates_reporting`] also says in words what it folded or dropped.

use super::model::ParsedItem;
use sha2::{Digest, Sha256};
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// The identity of an item within and across parses of a playlist.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKey {
    /// `<guid>` / Atom `<id>` as written (trimmed).
    Guid(String),
    /// The enclosure URL (absolute), used when there is no guid.
    EnclosureUrl(String),
    /// Hex SHA-256, see the module docs for the input.
    TitleDate(String),
}

impl ItemKey {
    /// A stable, prefixed string form: `guid:<guid>`, `url:<url>` or `hash:<hex>`.
    pub fn as_string(&self) -> String {
        self.to_string()
    }

    fn as_key_ref(&self) -> KeyRef<'_> {
        match self {
            ItemKey::Guid(g) => KeyRef::Guid(g),
            ItemKey::EnclosureUrl(u) => KeyRef::EnclosureUrl(u),
            ItemKey::TitleDate(h) => KeyRef::TitleDate(std::borrow::Cow::Borrowed(h)),
        }
    }
}

impl std::fmt::Display for ItemKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_key_ref().fmt(f)
    }
}

/// An [`ItemKey`] that borrows from its item instead of copying the guid or URL: what
/// deduplication and the store's key need, one allocation less per item (none for a guid or
/// URL key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum KeyRef<'a> {
    Guid(&'a str),
    EnclosureUrl(&'a str),
    /// Hex SHA-256 (module docs).
    TitleDate(std::borrow::Cow<'a, str>),
}

impl KeyRef<'_> {
    fn into_owned(self) -> ItemKey {
        match self {
            KeyRef::Guid(g) => ItemKey::Guid(g.to_string()),
            KeyRef::EnclosureUrl(u) => ItemKey::EnclosureUrl(u.to_string()),
            KeyRef::TitleDate(h) => ItemKey::TitleDate(h.into_owned()),
        }
    }
}

/// The prefixed form [`ItemKey::as_string`] documents.
impl std::fmt::Display for KeyRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyRef::Guid(g) => write!(f, "guid:{g}"),
            KeyRef::EnclosureUrl(u) => write!(f, "url:{u}"),
            KeyRef::TitleDate(h) => write!(f, "hash:{h}"),
        }
    }
}

/// The identity key of a yt-dlp entry: `ytdlp:<extractor, lowercase>:<id>` (module docs).
pub fn extractor_key(extractor: &str, id: &str) -> String {
    format!("ytdlp:{}:{}", extractor.to_lowercase(), id.trim())
}

/// Query parameters that only track who fetched a file and never select the media: Google
/// Analytics' `utm_*`, ad click ids (`fbclid`, `gclid`, `msclkid`), Mailchimp's `mc_cid` and
/// `mc_eid`, and the collection and episode ids Art19/Megaphone-style hosts append
/// (`awCollectionId`, `awEpisodeId`).
const TRACKING_PARAMS: &[&str] =
    &["fbclid", "gclid", "msclkid", "mc_cid", "mc_eid", "awCollectionId", "awEpisodeId"];

/// The enclosure URL as media identity: the URL without tracking query parameters
/// ([`TRACKING_PARAMS`], `utm_*`) and without a fragment; other parameters keep their order.
/// A string that is no URL is returned trimmed.
pub fn media_url_identity(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url.trim()) else { return url.trim().to_string() };
    u.set_fragment(None);
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("utm_") && !TRACKING_PARAMS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    u.to_string()
}

/// Whether two enclosures are the same media (module docs): equal [`media_url_identity`], and
/// equal lengths when both declare a non-zero one.
pub fn same_media(a_url: &str, a_len: Option<u64>, b_url: &str, b_len: Option<u64>) -> bool {
    let lengths_agree = match (a_len.filter(|l| *l > 0), b_len.filter(|l| *l > 0)) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    lengths_agree && media_url_identity(a_url) == media_url_identity(b_url)
}

/// The identity key of `item`: guid, else enclosure URL, else a SHA-256 hash (module docs).
pub fn item_key(item: &ParsedItem) -> ItemKey {
    key_ref(item).into_owned()
}

/// [`item_key`], borrowed from `item`.
pub(crate) fn key_ref(item: &ParsedItem) -> KeyRef<'_> {
    if let Some(g) = item.guid.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
        return KeyRef::Guid(g);
    }
    if let Some(e) = item.enclosure.as_ref().filter(|e| !e.url.trim().is_empty()) {
        return KeyRef::EnclosureUrl(e.url.trim());
    }
    let mut h = Sha256::new();
    if item.title.is_some() || item.published.is_some() {
        h.update(item.title.as_deref().unwrap_or("").as_bytes());
        h.update(b"\n");
        h.update(item.published.map(|p| p.to_string()).unwrap_or_default().as_bytes());
    } else {
        h.update(b"desc:");
        h.update(item.description.as_deref().unwrap_or("").as_bytes());
        h.update(b"\n");
        h.update(item.link.as_deref().unwrap_or("").as_bytes());
    }
    KeyRef::TitleDate(std::borrow::Cow::Owned(hex::encode(h.finalize())))
}

/// Merges items with equal [`item_key`]s, keeping the first one's position; later duplicates
/// fill only fields that are still `None` (alternate enclosures are appended when new).
pub fn merge_duplicates(items: Vec<ParsedItem>) -> Vec<ParsedItem> {
    merge_duplicates_reporting(items).0
}

/// Whether an item carries nothing to identify or download it by (module docs).
pub fn is_unidentifiable(item: &ParsedItem) -> bool {
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
    blank(&item.guid)
        && item.enclosure.as_ref().is_none_or(|e| e.url.trim().is_empty())
        && blank(&item.title)
        && item.published.is_none()
        && blank(&item.description)
        && blank(&item.link)
}

/// [`merge_duplicates`], first dropping [`is_unidentifiable`] items, plus one warning per
/// folded key (`2 entries share the id "guid:x"; kept the first (newest) ...`) and one for the
/// dropped items, for the sync report.
pub fn merge_duplicates_reporting(mut items: Vec<ParsedItem>) -> (Vec<ParsedItem>, Vec<String>) {
    if nothing_to_fold(&items) {
        // the usual feed: kept as it is, no key copied; a list collected in place of a bigger
        // type (the rss crate's items) gives back what it does not use while it waits for the store
        items.shrink_to_fit();
        return (items, Vec::new());
    }
    let mut out: Vec<ParsedItem> = Vec::with_capacity(items.len());
    let mut index: HashMap<ItemKey, usize> = HashMap::with_capacity(items.len());
    let mut counts: Vec<usize> = Vec::with_capacity(items.len()); // entries per kept item
    let (mut dropped, mut merged) = (0usize, false);
    for item in items {
        if is_unidentifiable(&item) {
            dropped += 1;
            continue;
        }
        match index.entry(item_key(&item)) {
            Entry::Occupied(kept) => {
                let i = *kept.get();
                merged = true;
                fill_gaps(&mut out[i], item);
                counts[i] += 1;
            }
            Entry::Vacant(new) => {
                new.insert(out.len());
                counts.push(1);
                out.push(item);
            }
        }
    }
    // the keys shared by several entries, in document order
    let mut shared: Vec<(usize, &ItemKey)> = match merged {
        true => index.iter().filter(|(_, &i)| counts[i] > 1).map(|(key, &i)| (i, key)).collect(),
        false => Vec::new(),
    };
    shared.sort_unstable_by_key(|(i, _)| *i);
    let mut warnings: Vec<String> = shared
        .into_iter()
        .map(|(i, k)| {
            let n = counts[i];
            format!(
                "{n} entries share the id \"{k}\"; kept the first in the document (normally the newest), \
                 the others only fill its empty fields"
            )
        })
        .collect();
    if dropped > 0 {
        warnings.push(format!(
            "{dropped} entries have no guid, media, title, date, text or link; skipped (nothing to identify or download)"
        ));
    }
    (out, warnings)
}

/// Whether every item of `items` is identifiable and has a key of its own: nothing for
/// [`merge_duplicates_reporting`] to drop or fold.
fn nothing_to_fold(items: &[ParsedItem]) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.iter().all(|item| !is_unidentifiable(item) && seen.insert(key_ref(item)))
}

fn fill_gaps(into: &mut ParsedItem, from: ParsedItem) {
    fn fill<T>(a: &mut Option<T>, b: Option<T>) {
        if a.is_none() {
            *a = b;
        }
    }
    fill(&mut into.guid, from.guid);
    fill(&mut into.title, from.title);
    fill(&mut into.author, from.author);
    fill(&mut into.published, from.published);
    fill(&mut into.description, from.description);
    fill(&mut into.link, from.link);
    fill(&mut into.duration_secs, from.duration_secs);
    fill(&mut into.enclosure, from.enclosure);
    fill(&mut into.image, from.image);
    for alt in from.alternate_enclosures {
        if !into.alternate_enclosures.contains(&alt) {
            into.alternate_enclosures.push(alt);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_identity_drops_tracking_parameters_only() {
        let cases = [
            ("https://cdn.example/ep1.mp3?utm_source=rss&utm_medium=x", "https://cdn.example/ep1.mp3"),
            ("https://cdn.example/ep1.mp3?id=7&fbclid=abc#t=10", "https://cdn.example/ep1.mp3?id=7"),
            ("https://cdn.example/ep1.mp3?awCollectionId=1&awEpisodeId=2", "https://cdn.example/ep1.mp3"),
            ("https://cdn.example/dl?file=ep1.mp3", "https://cdn.example/dl?file=ep1.mp3"),
            ("  not a url ", "not a url"),
        ];
        for (url, want) in cases {
            assert_eq!(media_url_identity(url), want, "{url}");
        }
        assert!(same_media("https://a/1.mp3?utm_source=x", Some(10), "https://a/1.mp3", Some(10)));
        assert!(same_media("https://a/1.mp3", None, "https://a/1.mp3", Some(10)), "an unknown length agrees");
        assert!(!same_media("https://a/1.mp3", Some(10), "https://a/1.mp3", Some(11)), "lengths differ");
        assert!(!same_media("https://a/1.mp3?id=1", None, "https://a/1.mp3?id=2", None));
    }
    use crate::catalog::model::Enclosure;

    fn item(guid: Option<&str>, url: Option<&str>, title: Option<&str>) -> ParsedItem {
        ParsedItem {
            guid: guid.map(String::from),
            title: title.map(String::from),
            enclosure: url.map(|u| Enclosure { url: u.into(), ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn key_order() {
        assert_eq!(item_key(&item(Some("g"), Some("u"), None)).as_string(), "guid:g");
        assert_eq!(item_key(&item(None, Some("u"), None)).as_string(), "url:u");
        let k = item_key(&item(None, None, Some("t")));
        assert!(k.as_string().starts_with("hash:"));
        assert_eq!(k, item_key(&item(None, None, Some("t"))));
        assert_ne!(k, item_key(&item(None, None, Some("u"))));
        // Known vector: sha256("t\n").
        assert_eq!(k.as_string(), format!("hash:{}", hex::encode(Sha256::digest(b"t\n"))));
    }

    #[test]
    fn text_only_items_hash_description() {
        let mut a = item(None, None, None);
        a.description = Some("x".into());
        let mut b = a.clone();
        b.description = Some("y".into());
        assert_ne!(item_key(&a), item_key(&b));
    }

    #[test]
    fn duplicates_and_empty_items_are_reported() {
        let (items, warnings) = merge_duplicates_reporting(vec![
            item(Some("g"), None, Some("new")),
            ParsedItem::default(),
            item(Some("g"), None, Some("old")),
            item(None, None, Some("t")),
        ]);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].title.as_deref(), Some("new"));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("2 entries share the id \"guid:g\"; kept the first"), "{warnings:?}");
        assert!(warnings[1].starts_with("1 entries have no guid"), "{warnings:?}");
    }

    #[test]
    fn shared_ids_are_reported_in_document_order_with_their_counts() {
        let ids = ["z", "a", "z", "m", "a", "z", "q", "m"];
        let (items, warnings) =
            merge_duplicates_reporting(ids.iter().map(|g| item(Some(g), None, None)).collect());
        assert_eq!(items.len(), 4);
        let expected = [
            "3 entries share the id \"guid:z\"",
            "2 entries share the id \"guid:a\"",
            "2 entries share the id \"guid:m\"",
        ];
        assert_eq!(warnings.len(), expected.len(), "{warnings:?}");
        for (warning, start) in warnings.iter().zip(expected) {
            assert!(warning.starts_with(start), "{warnings:?}");
        }
    }

    #[test]
    fn the_borrowed_key_prints_as_the_owned_one() {
        let mut text = item(None, None, None);
        text.description = Some("x".into());
        let items = [
            item(Some(" g "), Some("u"), None),
            item(None, Some(" u "), None),
            item(None, None, Some("t")),
            text,
        ];
        for it in &items {
            assert_eq!(key_ref(it).to_string(), item_key(it).as_string());
            assert_eq!(key_ref(it).into_owned(), item_key(it));
        }
    }

    #[test]
    fn a_feed_with_nothing_to_fold_is_kept_as_it_is_and_any_shared_key_still_folds() {
        let distinct =
            vec![item(Some("a"), None, None), item(None, Some("u"), None), item(None, None, Some("t"))];
        assert_eq!(merge_duplicates_reporting(distinct.clone()), (distinct, Vec::new()));
        // keys equal once trimmed, by URL, by title hash: each found by the quick check too
        let shared = [
            [item(Some("a"), None, None), item(Some(" a"), None, Some("x"))],
            [item(None, Some("u"), None), item(None, Some("u "), Some("x"))],
            [item(None, None, Some("t")), item(None, None, Some("t"))],
        ];
        for pair in shared {
            let (items, warnings) = merge_duplicates_reporting(pair.to_vec());
            assert_eq!((items.len(), warnings.len()), (1, 1), "{warnings:?}");
        }
        let (items, warnings) =
            merge_duplicates_reporting(vec![item(Some("a"), None, None), ParsedItem::default()]);
        assert_eq!((items.len(), warnings.len()), (1, 1), "an empty item is still dropped");
    }

    #[test]
    fn merge_first_wins_and_fills_gaps() {
        let mut second = item(Some("g"), Some("b.mp3"), Some("later"));
        second.duration_secs = Some(5);
        let merged =
            merge_duplicates(vec![item(Some("g"), None, Some("first")), item(Some("h"), None, None), second]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].title.as_deref(), Some("first"));
        assert_eq!(merged[0].duration_secs, Some(5));
        assert_eq!(merged[0].enclosure.as_ref().unwrap().url, "b.mp3");
        assert_eq!(merged[1].guid.as_deref(), Some("h"));
    }
}
