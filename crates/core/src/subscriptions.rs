//! Adding playlists to the catalog and writing it out, shared by the command line and the
//! desktop app (ARCHITECTURE.md, convention 1: front ends only call these). [`add_url`] adds one
//! playlist by URL or path without fetching it; [`import_source`] fetches a document and decides
//! by its content: an OPML subscription list (OPML 2.0, <http://opml.org/spec2.opml>) adds every
//! subscription with its folder path and is followed as a collection, anything else (a feed,
//! M3U, PLS, XSPF) is added as one playlist. [`export_opml_document`] renders the catalog as an
//! OPML 2.0 subscription list. [`add_ytdlp`] adds a channel or playlist yt-dlp lists (a
//! playlist of kind yt-dlp) once yt-dlp's probe says the URL is one: what adding does when the
//! user forces that kind, or when the URL's content is no feed, playlist or subscription list.

use url::Url;

use crate::catalog::fetch::{fetch_document, url_from_user_input, FetchError};
use crate::catalog::opml::export_opml;
use crate::catalog::ytdlp::MediaChoice;
use crate::catalog::{parse_document, Document, ParseError, Subscription};
use crate::download::subprocess::SubprocessLimits;
use crate::download::ytdlp_list::{probe, ListError};
use crate::store::{Store, StoreError};

/// Why adding or importing failed.
#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    /// The input is neither a URL nor a usable path (expected: final for this input).
    #[error("{0}")]
    BadInput(String),
    /// The document could not be fetched; [`FetchError::is_transient`] tells whether a retry
    /// may help.
    #[error("fetching {url}: {source}")]
    Fetch {
        /// The URL fetched.
        url: String,
        /// Why.
        #[source]
        source: FetchError,
    },
    /// The document is not a playlist or subscription list (expected: final for these bytes).
    #[error("{url}: {source}")]
    Parse {
        /// The URL fetched.
        url: String,
        /// Why.
        #[source]
        source: ParseError,
    },
    /// The store failed (environment failure or bug).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// yt-dlp is not installed or not where the settings say (expected: the user installs it).
    #[error("{0}")]
    NoYtDlp(String),
    /// yt-dlp could not list the URL; [`ListError::is_transient`] gives the class.
    #[error("yt-dlp on {url}: {source}")]
    YtDlp {
        /// The URL probed.
        url: String,
        /// Why.
        #[source]
        source: ListError,
    },
    /// yt-dlp reads the URL as a single video, not a playlist or channel (expected).
    #[error("{url}: yt-dlp reads it as a single video, not a playlist or channel")]
    SingleVideo {
        /// The URL probed.
        url: String,
    },
}

/// Adds the channel or playlist at `input` as a playlist of kind yt-dlp with the format choice
/// `media`, after yt-dlp's probe (`download::ytdlp_list::probe`) found it one; its title is the
/// probe's. When the probe fails transiently (offline, 5xx, a stall) it is added as it is and
/// the first sync lists it. Errors: [`SubscriptionError::BadInput`] for a URL that is not
/// http(s), [`SubscriptionError::NoYtDlp`], [`SubscriptionError::SingleVideo`],
/// [`SubscriptionError::YtDlp`] with yt-dlp's final failure (unsupported URL, private,
/// removed...), or the store's.
pub async fn add_ytdlp(
    store: &Store,
    binary: Option<&std::path::Path>,
    input: &str,
    media: MediaChoice,
    limits: SubprocessLimits,
    now_ms: i64,
) -> Result<ImportOutcome, SubscriptionError> {
    let url: Url = url_from_user_input(input.trim()).map_err(SubscriptionError::BadInput)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SubscriptionError::BadInput(format!(
            "{url}: yt-dlp lists web addresses (http or https)"
        )));
    }
    let binary = binary.ok_or_else(|| {
        SubscriptionError::NoYtDlp("yt-dlp is not installed (pipx install yt-dlp, or set ytdlp_path)".into())
    })?;
    let cancel = tokio_util::sync::CancellationToken::new();
    let (title, extractor, items) = match probe(binary, url.as_str(), limits, &cancel).await {
        Ok(listing) if listing.is_playlist => {
            (listing.title, listing.extractor, listing.count.unwrap_or(0) as u32)
        }
        Ok(_) => return Err(SubscriptionError::SingleVideo { url: url.to_string() }),
        Err(e) if e.is_transient() => (None, None, 0),
        Err(source) => return Err(SubscriptionError::YtDlp { url: url.to_string(), source }),
    };
    let added = store.add_ytdlp_playlist(url.as_str(), title.as_deref(), media, now_ms)?;
    if let Some(extractor) = extractor {
        store.set_ytdlp_extractor(added.id, &extractor)?;
    }
    Ok(ImportOutcome {
        url: url.to_string(),
        subscription_list: false,
        ids: vec![added.id],
        created: u32::from(added.created),
        items,
    })
}

/// What [`import_source`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    /// The source as a URL (`file://` for a local path).
    pub url: String,
    /// `true` for an OPML subscription list, `false` for a single playlist.
    pub subscription_list: bool,
    /// Ids of the playlists the source names, new or already known, in document order.
    pub ids: Vec<u64>,
    /// How many of them are new to the catalog.
    pub created: u32,
    /// Items in the document, for a single playlist (0 for a subscription list).
    pub items: u32,
}

/// Adds the playlist at `input` (a URL or a local path) without fetching it. Returns its id and
/// whether it is new. Errors: [`SubscriptionError::BadInput`], [`SubscriptionError::Store`].
pub fn add_url(store: &Store, input: &str, now_ms: i64) -> Result<(u64, bool, String), SubscriptionError> {
    let url = url_from_user_input(input.trim()).map_err(SubscriptionError::BadInput)?;
    let added = store.add_playlist(url.as_str(), None, &[], now_ms)?;
    Ok((added.id, added.created, url.to_string()))
}

/// Fetches `source` (URL or local path) and imports it by content (see the module docs).
/// Errors: [`SubscriptionError`]: bad input, fetch failure, unparsable document, store failure.
pub async fn import_source(
    store: &Store,
    client: &reqwest::Client,
    source: &str,
    now_ms: i64,
) -> Result<ImportOutcome, SubscriptionError> {
    let url: Url = url_from_user_input(source.trim()).map_err(SubscriptionError::BadInput)?;
    let (bytes, final_url) = fetch_document(client, &url)
        .await
        .map_err(|source| SubscriptionError::Fetch { url: url.to_string(), source })?;
    let doc = parse_document(&bytes, &final_url)
        .map_err(|source| SubscriptionError::Parse { url: url.to_string(), source })?;
    let mut out = ImportOutcome {
        url: url.to_string(),
        subscription_list: false,
        ids: Vec::new(),
        created: 0,
        items: 0,
    };
    match doc {
        Document::Subscriptions(subs) => {
            out.subscription_list = true;
            store.add_collection(url.as_str(), now_ms)?;
            for sub in &subs {
                let added = store.add_playlist(&sub.url, sub.title.as_deref(), &sub.folders, now_ms)?;
                out.created += u32::from(added.created);
                out.ids.push(added.id);
            }
        }
        Document::Playlist(pl) => {
            let added = store.add_playlist(url.as_str(), pl.title.as_deref(), &[], now_ms)?;
            out.created = u32::from(added.created);
            out.items = pl.items.len() as u32;
            out.ids.push(added.id);
        }
    }
    Ok(out)
}

/// The whole catalog as an OPML 2.0 document titled `Catalog Sync subscriptions`, one outline
/// per playlist with its folder path. Errors: [`StoreError`] from reading the store.
pub fn export_opml_document(store: &Store) -> Result<String, StoreError> {
    let subs: Vec<Subscription> = store
        .playlists()?
        .into_iter()
        .map(|(_, p)| Subscription {
            url: p.url.clone(),
            title: p.title.clone(),
            html_url: p.link.clone(),
            folders: p.folders.clone(),
        })
        .collect();
    Ok(export_opml("Catalog Sync subscriptions", &subs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opml_adds_each_subscription_and_reimport_adds_none() {
        let (dir, store) = crate::store::temp_store();
        let opml = dir.path().join("subs.opml");
        std::fs::write(
            &opml,
            r#"<?xml version="1.0"?><opml version="2.0"><head/><body>
            <outline text="News"><outline type="rss" text="A" xmlUrl="http://127.0.0.1:9/a.xml"/></outline>
            <outline type="rss" text="B" xmlUrl="http://127.0.0.1:9/b.xml"/></body></opml>"#,
        )
        .unwrap();
        let client = reqwest::Client::new();
        let first = import_source(&store, &client, opml.to_str().unwrap(), 1).await.unwrap();
        assert!(first.subscription_list);
        assert_eq!((first.ids.len(), first.created), (2, 2));
        assert_eq!(store.playlist(first.ids[0]).unwrap().folders, vec!["News".to_string()]);
        let again = import_source(&store, &client, opml.to_str().unwrap(), 2).await.unwrap();
        assert_eq!((again.ids, again.created), (first.ids, 0));
        let xml = export_opml_document(&store).unwrap();
        assert!(
            xml.contains("http://127.0.0.1:9/a.xml") && xml.contains("http://127.0.0.1:9/b.xml"),
            "{xml}"
        );
    }

    #[tokio::test]
    async fn a_missing_file_and_a_non_feed_are_typed_errors() {
        let (dir, store) = crate::store::temp_store();
        let client = reqwest::Client::new();
        let missing = dir.path().join("nope.opml");
        let err = import_source(&store, &client, missing.to_str().unwrap(), 1).await.unwrap_err();
        assert!(matches!(err, SubscriptionError::Fetch { .. }), "{err}");
        let html = dir.path().join("page.html");
        std::fs::write(&html, "<html><body>hello</body></html>").unwrap();
        let err = import_source(&store, &client, html.to_str().unwrap(), 1).await.unwrap_err();
        assert!(matches!(err, SubscriptionError::Parse { .. }), "{err}");
        assert!(store.playlists().unwrap().is_empty());
    }
}
