//! yt-dlp's `--flat-playlist -J` documents of real sites read as listings (issue 13): the
//! hand-written fixtures under `fixtures/ytdlp/` follow the shapes yt-dlp prints for a YouTube
//! channel tab, a channel's home (tabs, not videos), a YouTube playlist, a PeerTube playlist and
//! a SoundCloud set.

use catalog_sync_core::catalog::ytdlp::{parse_listing, YtDlpListing};
use catalog_sync_core::download::ytdlp_errors::site_of;

fn listing(name: &str) -> YtDlpListing {
    let path = format!("{}/tests/it/fixtures/ytdlp/{name}", env!("CARGO_MANIFEST_DIR"));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    parse_listing(&json).unwrap()
}

/// (key, title, published, duration, thumbnail, url) of each entry.
type Row = (String, Option<String>, Option<i64>, Option<u64>, Option<String>, String);

fn rows(l: &YtDlpListing) -> Vec<Row> {
    l.entries
        .iter()
        .map(|e| (e.key(), e.title.clone(), e.published, e.duration_secs, e.thumbnail.clone(), e.url.clone()))
        .collect()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[test]
fn a_youtube_channel_tab_lists_its_videos_by_extractor_and_id() {
    let l = listing("youtube_channel_videos.json");
    assert!(l.is_playlist);
    assert_eq!(
        (l.title.as_deref(), l.extractor.as_deref(), l.count, l.uploader.as_deref()),
        (Some("Example Channel - Videos"), Some("youtubetab"), Some(3), Some("Example Channel"))
    );
    assert_eq!(site_of(l.extractor.as_deref().unwrap()), "youtube");
    assert_eq!(
        rows(&l)[..2],
        [
            (
                "ytdlp:youtube:dQw4w9WgXcQ".to_string(),
                s("Newest video"),
                None,
                Some(212),
                s("https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg?sqp=b"),
                "https://www.youtube.com/watch?v=dQw4w9WgXcQ".to_string()
            ),
            (
                "ytdlp:youtube:9bZkp7q19f0".to_string(),
                s("Older video"),
                None,
                Some(253),
                s("https://i.ytimg.com/vi/9bZkp7q19f0/hqdefault.jpg"),
                "https://www.youtube.com/watch?v=9bZkp7q19f0".to_string()
            ),
        ]
    );
    assert_eq!(l.entries[2].title.as_deref(), Some("[Private video]"), "listed; its download says why not");
    assert_eq!(l.entries.iter().map(|e| e.index).collect::<Vec<_>>(), [Some(1), Some(2), Some(3)]);
}

#[test]
fn a_channel_home_lists_tabs_which_are_skipped_with_a_reason() {
    let l = listing("youtube_channel_home.json");
    assert!(l.entries.is_empty());
    assert_eq!(l.skipped.len(), 2);
    assert!(
        l.skipped[0].contains("\"Example Channel - Videos\" is a playlist or channel tab"),
        "{:?}",
        l.skipped
    );
}

#[test]
fn a_video_in_a_playlist_and_in_a_channel_has_one_key() {
    let channel = listing("youtube_channel_videos.json");
    let playlist = listing("youtube_playlist.json");
    assert_eq!(playlist.entries[0].key(), channel.entries[1].key());
    assert_eq!(
        (playlist.entries[1].duration_secs, playlist.entries[0].uploader.as_deref()),
        (Some(62), Some("Other Channel"))
    );
}

#[test]
fn peertube_and_soundcloud_entries() {
    let p = listing("peertube_playlist.json");
    assert_eq!(
        (p.title.as_deref(), p.extractor.as_deref()),
        (Some("Conference talks"), Some("peertubeplaylist"))
    );
    assert_eq!(
        rows(&p)[0],
        (
            "ytdlp:peertube:9c9de5e8-0a1b-4cfb-a0b1-7c3e3f3a9f10".to_string(),
            None,
            None,
            None,
            None,
            "peertube:peertube.example:9c9de5e8-0a1b-4cfb-a0b1-7c3e3f3a9f10".to_string()
        )
    );
    let sc = listing("soundcloud_set.json");
    assert_eq!(site_of(sc.extractor.as_deref().unwrap()), "soundcloud");
    assert_eq!(
        rows(&sc),
        [
            (
                "ytdlp:soundcloud:111111111".to_string(),
                s("Track one"),
                Some(1_700_000_000),
                Some(181),
                s("https://i1.sndcdn.com/artworks-one-t500x500.jpg"),
                "https://api.soundcloud.com/tracks/111111111".to_string()
            ),
            (
                "ytdlp:soundcloud:222222222".to_string(),
                s("Track two"),
                Some(1_700_006_400),
                Some(203),
                None,
                "https://api.soundcloud.com/tracks/222222222".to_string()
            ),
        ],
        "a date only (upload_date) is midnight UTC"
    );
}
