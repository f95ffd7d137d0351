//! Tags and cover art (issue 16, part 1), read back with lofty from real files the testkit
//! writes by code (an MP3 of MPEG frames, an M4A, an Ogg Opus stream): every field and the
//! cover in each format, ID3v2.4 for MP3; and end to end through the engine against the
//! testkit server: a download is tagged once verified (both hashes recorded), a file lofty
//! cannot read downloads untagged, a re-sync that changes the metadata tags the file again
//! without downloading it, and a playlist with tagging off is left alone.

use catalog_sync_core::api::Api;
use catalog_sync_core::config::Config;
use catalog_sync_core::library::tags::{
    hash_file, tag_file, taggable, taggable_bytes, Cover, TagInfo, GENRE,
};
use catalog_sync_core::store::{JobKind, JobStatus, Store};
use catalog_sync_testkit::audio::{tiny_m4a, tiny_mp3, tiny_opus};
use catalog_sync_testkit::{ServerConfig, TestImage, TestServer};
use lofty::file::{AudioFile, TaggedFileExt};
use lofty::tag::Accessor;

fn info() -> TagInfo {
    TagInfo {
        title: Some("Episode 12: Tags".into()),
        album: Some("The Show".into()),
        artist: Some("The Hosts".into()),
        date_secs: Some(1_710_288_000), // 2024-03-13
        track: Some(12),
        disc: Some(3),
        comment: Some("What tags are for.".into()),
        cover_url: Some("http://i/cover.jpg".into()),
    }
}

/// Reads `path` back with lofty: (title, album, artist, track, disc, genre, comment, date,
/// pictures).
fn read_back(path: &std::path::Path) -> (String, String, String, u32, u32, String, String, String, usize) {
    let file = lofty::read_from_path(path).unwrap();
    let tag = file.primary_tag().expect("a tag");
    let s = |v: Option<std::borrow::Cow<'_, str>>| v.map(|c| c.into_owned()).unwrap_or_default();
    (
        s(tag.title()),
        s(tag.album()),
        s(tag.artist()),
        tag.track().unwrap_or(0),
        tag.disk().unwrap_or(0),
        s(tag.genre()),
        s(tag.comment()),
        tag.date()
            .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month.unwrap_or(0), d.day.unwrap_or(0)))
            .unwrap_or_default(),
        tag.pictures().len(),
    )
}

#[test]
fn tags_read_back_from_mp3_m4a_and_opus() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = TestImage::Jpeg.bytes();
    let cover = Cover { bytes: &jpeg, mime: "image/jpeg" };
    for (name, bytes) in [("a.mp3", tiny_mp3(20)), ("b.m4a", tiny_m4a(4_000)), ("c.opus", tiny_opus(5))] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let tagged = tag_file(&path, &info(), Some(cover)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(hash_file(&path).unwrap(), tagged, "{name}: the recorded hash is the file's");
        assert_ne!(std::fs::read(&path).unwrap(), bytes, "{name}");
        let want = (
            "Episode 12: Tags".to_string(),
            "The Show".to_string(),
            "The Hosts".to_string(),
            12,
            3,
            GENRE.to_string(),
            "What tags are for.".to_string(),
            "2024-03-13".to_string(),
            1,
        );
        assert_eq!(read_back(&path), want, "{name}");
        let pictures = lofty::read_from_path(&path).unwrap().primary_tag().unwrap().pictures().to_vec();
        assert_eq!(pictures[0].data(), &jpeg[..], "{name}: the cover's bytes");
        // tagged again with new metadata: fields change, still one cover
        let again = TagInfo { title: Some("Renamed".into()), ..info() };
        tag_file(&path, &again, Some(cover)).unwrap();
        let (title, .., pictures) = read_back(&path);
        assert_eq!((title.as_str(), pictures), ("Renamed", 1), "{name}");
        assert_eq!(
            std::fs::read_dir(dir.path())
                .unwrap()
                .filter(|e| { e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".tagging") })
                .count(),
            0
        );
    }
    // the MP3's tag is ID3v2.4
    let mut f = std::fs::File::open(dir.path().join("a.mp3")).unwrap();
    let mp3 = lofty::mpeg::MpegFile::read_from(&mut f, lofty::config::ParseOptions::new()).unwrap();
    assert_eq!(mp3.id3v2().unwrap().original_version(), lofty::id3::v2::Id3v2Version::V4);
}

#[test]
fn the_probe_of_held_bytes_agrees_with_the_probe_of_the_file() {
    // a small download's format is read from the bytes the transfer held (no trip to the disk)
    let dir = tempfile::tempdir().unwrap();
    let tagged_mp3 = dir.path().join("t.mp3");
    std::fs::write(&tagged_mp3, tiny_mp3(20)).unwrap();
    tag_file(&tagged_mp3, &info(), None).unwrap(); // an ID3v2 tag before the frames
    let cases = [
        ("a.mp3", tiny_mp3(20), true),
        ("b.m4a", tiny_m4a(4_000), true),
        ("c.opus", tiny_opus(5), true),
        ("t.mp3", std::fs::read(&tagged_mp3).unwrap(), true),
        ("d.mp3", b"x".to_vec(), false),
        ("e.mp3", b"<html>not audio</html>".to_vec(), false),
        ("f.mp3", tiny_mp3(20)[..40].to_vec(), false), // cut inside its first frame
    ];
    for (name, bytes, taggable_format) in cases {
        let path = dir.path().join(format!("probe-{name}"));
        std::fs::write(&path, &bytes).unwrap();
        let (from_file, from_bytes) = (taggable(&path), taggable_bytes(&bytes));
        assert_eq!(from_file.as_ref().ok(), from_bytes.as_ref().ok(), "{name}");
        assert_eq!(from_file.is_ok(), taggable_format, "{name}: {from_file:?}");
    }
}

fn feed(server: &TestServer, title: &str) -> Vec<u8> {
    let media = server.url("/tags/ep1.mp3");
    let junk = server.url("/tags/ep2.mp3");
    let cover = server.url("/tags/cover.jpg");
    format!(
        "<rss version=\"2.0\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\"><channel>\
         <title>Tag Show</title><itunes:author>Tag Hosts</itunes:author><itunes:image href=\"{cover}\"/>\
         <item><title>{title}</title><guid>ep1</guid><pubDate>Wed, 13 Mar 2024 10:00:00 GMT</pubDate>\
         <description>&lt;p&gt;About &lt;b&gt;tags&lt;/b&gt;&lt;/p&gt;</description>\
         <itunes:episode>7</itunes:episode><itunes:season>2</itunes:season>\
         <enclosure url=\"{media}\" length=\"{len}\" type=\"audio/mpeg\"/></item>\
         <item><title>Not audio</title><guid>ep2</guid>\
         <enclosure url=\"{junk}\" type=\"audio/mpeg\"/></item>\
         </channel></rss>",
        len = tiny_mp3(30).len()
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_are_tagged_once_verified_and_again_when_a_sync_changes_them() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let mp3 = tiny_mp3(30);
    server.add_feed("/tags/ep1.mp3", mp3.clone(), "audio/mpeg");
    server.add_feed("/tags/ep2.mp3", b"plain text, not audio".to_vec(), "audio/mpeg");
    server.add_image("/tags/cover.jpg", TestImage::Jpeg);
    let feed_url = server.add_feed("/tags/feed.xml", feed(&server, "First title"), "application/rss+xml");
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database: dir.path().join("catalog.redb"),
        library: dir.path().join("library"),
        fyyd_enabled: false,
        ..Config::default()
    };
    let api = Api::open_system(config.clone(), None).unwrap();
    let id = api.add_playlists(vec![feed_url.to_string()]).await.unwrap().ids[0];
    assert!(api.playlist(id).await.unwrap().tagging, "on by default for a feed");
    api.enqueue(JobKind::SyncDownload, vec![id]).await.unwrap();
    let ran = api.run_until_idle().await.unwrap();
    assert_eq!(ran.iter().map(|r| r.1).collect::<Vec<_>>(), [JobStatus::Succeeded]);
    let items = api.list_items(id, Default::default()).await.unwrap().items;
    let path = |i: usize| dir.path().join("library").join(items[i].file_path.as_deref().expect("downloaded"));
    let (title, album, artist, track, disc, genre, comment, date, pictures) = read_back(&path(0));
    assert_eq!(
        (title.as_str(), album.as_str(), artist.as_str(), track, disc, genre.as_str()),
        ("First title", "Tag Show", "Tag Hosts", 7, 2, GENRE)
    );
    assert_eq!((comment.as_str(), date.as_str(), pictures), ("About tags", "2024-03-13", 1));
    assert_eq!(std::fs::read(path(1)).unwrap(), b"plain text, not audio", "kept untagged");
    api.shutdown(std::time::Duration::from_secs(5)).await;
    drop(api);

    let store = Store::open(&config.database).unwrap();
    let (ep1, ep2) = (items[0].id, items[1].id);
    let tagged = store.item_tagged(ep1).unwrap().expect("recorded");
    let original = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&mp3));
    assert_eq!(tagged.original_sha256, original, "the file row's hash, as downloaded");
    assert_eq!(store.item_file(ep1).unwrap().unwrap().sha256, original);
    assert_eq!(tagged.tagged_sha256, Some(hash_file(&path(0)).unwrap().sha256));
    let junk = store.item_tagged(ep2).unwrap().expect("recorded as untagged");
    assert!(junk.tagged_sha256.is_none() && junk.error.is_some(), "{junk:?}");
    drop(store);

    // the feed renames the episode: a sync tags the file again, nothing is downloaded again
    server.add_feed("/tags/feed.xml", feed(&server, "Second title"), "application/rss+xml");
    let api = Api::open_system(config.clone(), None).unwrap();
    api.enqueue(JobKind::SyncDownload, vec![id]).await.unwrap();
    api.run_until_idle().await.unwrap();
    assert_eq!(read_back(&path(0)).0, "Second title");
    assert_eq!(server.stats().requests_for("/tags/ep1.mp3"), 1, "not downloaded again");
    // tagging off: the next change is not written
    api.set_playlist_tagging(id, Some(false)).await.unwrap();
    server.add_feed("/tags/feed.xml", feed(&server, "Third title"), "application/rss+xml");
    api.enqueue(JobKind::SyncOnly, vec![id]).await.unwrap();
    api.run_until_idle().await.unwrap();
    assert_eq!(read_back(&path(0)).0, "Second title");
}
