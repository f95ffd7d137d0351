//! Items of a yt-dlp playlist are downloaded by yt-dlp itself (issue 13, part 2), never
//! through the HTTP resolver cascade: [`direct`] makes the one candidate, a [`Fetch::YtDlp`] of
//! the entry's URL with the playlist's format choice, and a walk that has no source left, so a
//! failed download ends the item with yt-dlp's classed message instead of asking the feed,
//! the page or the indexes about a video. The file is named by the library's template like
//! any other (`download_stage::choose_path`), with the extension yt-dlp's file has
//! (`fetch_candidates::rename_for_media`).
//!
//! One item, two formats: an item several yt-dlp playlists list is one catalog item with one
//! file. Its format is the choice of the playlist that listed it first (the item's own
//! `playlist_id`); changing another playlist's choice does not change it. This keeps the file
//! (and the work folder yt-dlp resumes from) the same whichever job downloads the item.

use super::context::Context;
use super::error::EngineError;
use crate::catalog::ytdlp::MediaChoice;
use crate::config::Config;
use crate::download::resolve::ytdlp::{find_binary, NAME};
use crate::download::resolve::{Candidate, Cascade, Fetch, Outcome, Resolution, SourceOutcome, Walk};
use crate::store::ItemRow;

/// The MIME type of the file a choice surely produces (an extracted `.m4a` or `.opus`), used
/// to name it before the download; `None` when only yt-dlp knows (then the entry URL's
/// extension, else `.bin`, is the first guess and the file is renamed once it exists).
pub(super) fn predicted_mime(media: MediaChoice) -> Option<&'static str> {
    match media {
        MediaChoice::AudioM4a => Some("audio/mp4"),
        MediaChoice::AudioOpus => Some("audio/opus"),
        MediaChoice::BestAudio | MediaChoice::Video { .. } => None,
    }
}

/// The URL the name template's `{ext}` reads, for `candidate`: none when its MIME type was
/// predicted from the format choice (the entry URL's extension would be wrong then).
pub(super) fn naming_url(candidate: &Candidate) -> Option<String> {
    let predicted =
        matches!(candidate.fetch, Fetch::YtDlp { media: Some(_), .. }) && candidate.mime_type.is_some();
    (!predicted).then(|| candidate.url.to_string())
}

/// For an item a yt-dlp playlist listed, its resolution without the cascade (module docs):
/// found (the yt-dlp candidate), or failed when yt-dlp is not installed or the entry has no
/// http(s) URL. `None` for any other item. Errors: the store's.
pub(super) fn direct(
    cx: &Context,
    cascade: &Cascade,
    item_id: u64,
    item: &ItemRow,
    config: &Config,
) -> Result<Option<Resolution>, EngineError> {
    let home = item.playlist_id;
    // two point reads by key, asked of every item: on this thread, not the blocking pool
    let (entry, source) = cx.read_now(|s| Ok((s.ytdlp_entry(item_id)?, s.ytdlp_source(home)?)))?;
    if entry.is_none() {
        return Ok(None);
    }
    let media = source.map(|s| s.media).unwrap_or_default();
    let mut walk = Walk { next: cascade.names().len(), ..Walk::default() };
    let page = item
        .link
        .as_deref()
        .or(item.enclosure.as_ref().map(|e| e.url.as_str()))
        .and_then(|u| url::Url::parse(u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    let skipped = match (find_binary(config), page) {
        (Some(binary), Some(page)) => {
            let candidate = Candidate {
                source: NAME,
                url: page,
                mime_type: predicted_mime(media).map(str::to_string),
                length: None,
                integrity: None,
                fetch: Fetch::YtDlp { binary, format: None, media: Some(media) },
            };
            let found = Outcome::Found { url: candidate.url.to_string(), rejected: Vec::new() };
            walk.outcomes.push(SourceOutcome::new(NAME, found));
            return Ok(Some(Resolution::Found { candidates: vec![candidate], walk }));
        }
        (None, _) => match &config.ytdlp_path {
            Some(p) => format!("yt-dlp not found at {}", p.display()),
            None => "yt-dlp not found on PATH".to_string(),
        },
        (Some(_), None) => "the entry has no http(s) URL".to_string(),
    };
    walk.outcomes.push(SourceOutcome::new(NAME, Outcome::Skipped(skipped)));
    Ok(Some(Resolution::Failed(walk.failed(item_id))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_extraction_predicts_the_extension() {
        let cases = [
            (MediaChoice::AudioM4a, Some("audio/mp4")),
            (MediaChoice::AudioOpus, Some("audio/opus")),
            (MediaChoice::BestAudio, None),
            (MediaChoice::Video { max_height: Some(720) }, None),
        ];
        for (media, mime) in cases {
            assert_eq!(predicted_mime(media), mime, "{media:?}");
            let ext = crate::download::extension_for(None, mime);
            assert_eq!(
                ext,
                mime.map_or("bin", |_| if media == MediaChoice::AudioM4a { "m4a" } else { "opus" })
            );
        }
    }
}
