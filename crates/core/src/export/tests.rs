//! Tests of the export against a real redb store and real files in a temporary library:
//! playlists are synced with [`Store::apply_sync`], files are marked downloaded through a
//! download job ([`Store::finish_download`]) and written to disk, then the exported M3U is
//! compared exactly and parsed back with the project's own reader.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;
use crate::catalog::{Enclosure, ParsedItem, ParsedPlaylist};
use crate::store::{JobKind, StageKind};

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    library: PathBuf,
    store: Store,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let library = root.join("library");
    fs::create_dir(&library).unwrap();
    let store = Store::open(&root.join("catalog.redb")).unwrap();
    Fixture { _dir: dir, root, library, store }
}

/// `(guid, title, duration)` -> an item with enclosure `http://media.example/<guid>.mp3`.
fn item(guid: &str, title: Option<&str>, duration_secs: Option<u64>) -> ParsedItem {
    ParsedItem {
        guid: Some(guid.into()),
        title: title.map(str::to_string),
        duration_secs,
        enclosure: Some(Enclosure {
            url: format!("http://media.example/{guid}.mp3"),
            length: None,
            mime_type: None,
        }),
        ..Default::default()
    }
}

impl Fixture {
    /// Adds a playlist and syncs `items` into it; returns its id and the item ids in order.
    fn playlist(&self, url: &str, title: &str, items: Vec<ParsedItem>) -> (u64, Vec<u64>) {
        let id = self.store.add_playlist(url, None, &[], 1).unwrap().id;
        let ids = self.sync(id, title, items);
        (id, ids)
    }

    /// Syncs `items` into playlist `id`; returns the ids of the items, in document order.
    fn sync(&self, id: u64, title: &str, items: Vec<ParsedItem>) -> Vec<u64> {
        let doc = ParsedPlaylist { title: Some(title.into()), items, ..Default::default() };
        self.store.apply_sync(id, &doc, 2).unwrap();
        self.store.playlist_items(id).unwrap().into_iter().map(|e| e.id).collect()
    }

    /// Records `rel` as the downloaded file of `item_id` through a download job, and writes it.
    fn download(&self, item_id: u64, rel: &str) {
        let store = &self.store;
        let job = store.create_job(JobKind::DownloadOnly, &[StageKind::Download], &[], 3).unwrap();
        store.add_stage_items(job, 0, &[item_id], 3).unwrap();
        assert_eq!(store.claim_stage_item(job, 0, 4).unwrap(), Some(item_id));
        let bytes = format!("audio of item {item_id}");
        let file = FileRow {
            path: rel.into(),
            size: bytes.len() as u64,
            sha256: String::new(),
            url: format!("http://media.example/{item_id}"),
            downloaded_ms: 5,
        };
        store.finish_download(job, 0, item_id, &file, 5).unwrap();
        let full = self.library.join(rel);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, bytes).unwrap();
    }

    fn export(&self, id: u64) -> Option<PathBuf> {
        export_playlist(&self.store, &self.library, id).unwrap()
    }
}

/// Every file under `dir`, relative, `/`-separated, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).unwrap();
                out.push(
                    rel.components().map(|c| c.as_os_str().to_str().unwrap()).collect::<Vec<_>>().join("/"),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn lists_downloaded_files_present_on_disk_in_feed_order() {
    let f = fixture();
    let items = vec![
        item("1", Some("One: the start"), Some(61)),
        item("2", Some("Two (not downloaded)"), Some(62)),
        item("3", None, None),
        item("4", Some("Four (file deleted)"), Some(64)),
        item("5", Some("Five"), Some(3_600)),
    ];
    let (id, ids) = f.playlist("http://feeds.example/show", "My Show", items);
    // Downloaded out of feed order; the export follows the feed.
    f.download(ids[4], "My Show/2024-01-05 Five.mp3");
    f.download(ids[3], "My Show/2024-01-04 Four.mp3");
    f.download(ids[2], "My Show/undated untitled.mp3");
    f.download(ids[0], "My Show/2024-01-01 One_ the start.mp3");
    fs::remove_file(f.library.join("My Show/2024-01-04 Four.mp3")).unwrap();

    let path = f.export(id).unwrap();
    assert_eq!(path, f.library.join("My Show.m3u"));
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "#EXTM3U\n\
         #PLAYLIST:My Show\n\
         #EXTINF:61,One: the start\n\
         My Show/2024-01-01 One_ the start.mp3\n\
         #EXTINF:-1,undated untitled.mp3\n\
         My Show/undated untitled.mp3\n\
         #EXTINF:3600,Five\n\
         My Show/2024-01-05 Five.mp3\n"
    );

    // A re-sync that reverses the feed reverses the playlist.
    let mut reversed = vec![
        item("5", Some("Five"), Some(3_600)),
        item("3", None, None),
        item("1", Some("One: the start"), Some(61)),
    ];
    reversed.insert(1, item("2", Some("Two (not downloaded)"), None));
    f.sync(id, "My Show", reversed);
    let text = fs::read_to_string(f.export(id).unwrap()).unwrap();
    let paths: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        paths,
        [
            "My Show/2024-01-05 Five.mp3",
            "My Show/undated untitled.mp3",
            "My Show/2024-01-01 One_ the start.mp3"
        ]
    );
}

#[test]
fn hostile_titles_stay_inside_the_library() {
    let f = fixture();
    let cases = [
        ("../x", "_x.m3u"),
        ("CON", "_CON.m3u"),
        ("../../etc/passwd", "_.._etc_passwd.m3u"),
        ("a/b\\c:d", "a_b_c_d.m3u"),
        ("..", "untitled.m3u"),
        ("C:\\Windows\\evil", "C__Windows_evil.m3u"),
    ];
    for (n, (title, want)) in cases.iter().enumerate() {
        let (id, ids) = f.playlist(
            &format!("http://feeds.example/{n}"),
            title,
            vec![item(&format!("h{n}"), Some("ep"), Some(1))],
        );
        f.download(ids[0], &format!("show{n}/ep.mp3"));
        let path = f.export(id).unwrap();
        assert_eq!(path.parent(), Some(f.library.as_path()), "{title:?} -> {path:?}");
        assert_eq!(path.file_name().unwrap().to_str(), Some(*want), "{title:?}");
        assert!(fs::read_to_string(&path).unwrap().contains(&format!("\nshow{n}/ep.mp3\n")));
    }
    let mut outside: Vec<String> =
        fs::read_dir(&f.root).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    outside.sort();
    assert_eq!(outside, ["catalog.redb", "library"], "nothing written beside the library");
    let m3us: Vec<String> = files_under(&f.library).into_iter().filter(|p| p.ends_with(".m3u")).collect();
    assert_eq!(m3us.len(), cases.len());
    assert!(m3us.iter().all(|p| !p.contains('/')), "{m3us:?}");
}

#[test]
fn playlist_without_downloads_removes_its_old_m3u_only() {
    let f = fixture();
    let (id, ids) = f.playlist("http://feeds.example/a", "Show A", vec![item("a1", Some("A1"), Some(10))]);
    assert_eq!(f.export(id), None, "nothing downloaded: no file");
    assert!(!f.library.join("Show A.m3u").exists());

    f.download(ids[0], "Show A/a1.mp3");
    let path = f.export(id).unwrap();
    assert!(path.is_file());
    fs::remove_file(f.library.join("Show A/a1.mp3")).unwrap();
    assert_eq!(f.export(id), None);
    assert!(!path.exists(), "the stale m3u is removed");

    // A file at that name this module did not write is left alone.
    let (other, _) = f.playlist("http://feeds.example/b", "Show B", vec![item("b1", Some("B1"), None)]);
    let foreign = f.library.join("Show B.m3u");
    fs::write(&foreign, "#EXTM3U\n#EXTINF:1,mine\nmine.mp3\n").unwrap();
    assert_eq!(f.export(other), None);
    assert!(foreign.is_file());
    // Nor is another playlist's file.
    fs::write(&foreign, "#EXTM3U\n#PLAYLIST:Show C\n").unwrap();
    assert_eq!(f.export(other), None);
    assert!(foreign.is_file());
}

/// The file's identity on disk (its inode on unix; elsewhere its modification time).
fn file_id(path: &Path) -> u64 {
    let meta = fs::metadata(path).unwrap();
    #[cfg(unix)]
    return std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    return meta.modified().unwrap().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
}

#[test]
fn re_export_overwrites_atomically_without_leftovers() {
    let f = fixture();
    let (id, ids) = f.playlist(
        "http://feeds.example/a",
        "Show",
        vec![item("1", Some("One"), Some(1)), item("2", Some("Two"), Some(2))],
    );
    f.download(ids[0], "Show/one.mp3");
    let path = f.export(id).unwrap();
    let first = file_id(&path);
    assert_eq!(f.export(id).as_deref(), Some(path.as_path()));
    assert_eq!(file_id(&path), first, "the same text: the file is not written again");
    // A crash during an earlier export left a half-written .tmp behind.
    fs::write(f.library.join("Show.m3u.tmp"), "#EXTM3U\n#EXTINF:1,half").unwrap();
    f.download(ids[1], "Show/two.mp3");
    assert_eq!(f.export(id).as_deref(), Some(path.as_path()));
    assert_ne!(file_id(&path), first, "new text: a new file renamed over the old one");
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "#EXTM3U\n#PLAYLIST:Show\n#EXTINF:1,One\nShow/one.mp3\n#EXTINF:2,Two\nShow/two.mp3\n"
    );
    assert_eq!(files_under(&f.library), ["Show.m3u", "Show/one.mp3", "Show/two.mp3"], "no .tmp left");
}

#[test]
fn export_all_covers_every_playlist() {
    let f = fixture();
    // An item shared by two playlists (same enclosure URL, no guid) is one item, stored in
    // the first playlist's folder; both playlists list it.
    let shared = ParsedItem { guid: None, ..item("shared", Some("Shared"), Some(9)) };
    let (_a, ia) =
        f.playlist("http://feeds.example/a", "Alpha", vec![item("a", Some("A"), Some(1)), shared.clone()]);
    let (_empty, _) = f.playlist("http://feeds.example/e", "Empty", vec![item("e", Some("E"), None)]);
    let beta = vec![item("b1", Some("B1"), None), shared, item("b2", Some("B2"), None)];
    let (_b, ib) = f.playlist("http://feeds.example/b", "Beta", beta);
    assert_eq!(ia[1], ib[1], "the shared item is one item");
    f.download(ia[0], "Alpha/a.mp3");
    f.download(ia[1], "Alpha/shared.mp3");
    f.download(ib[2], "Beta/b2.mp3");

    let written = export_all(&f.store, &f.library).unwrap();
    assert_eq!(written, [f.library.join("Alpha.m3u"), f.library.join("Beta.m3u")]);
    assert_eq!(
        fs::read_to_string(&written[0]).unwrap(),
        "#EXTM3U\n#PLAYLIST:Alpha\n#EXTINF:1,A\nAlpha/a.mp3\n#EXTINF:9,Shared\nAlpha/shared.mp3\n"
    );
    assert_eq!(
        fs::read_to_string(&written[1]).unwrap(),
        "#EXTM3U\n#PLAYLIST:Beta\n#EXTINF:9,Shared\nAlpha/shared.mp3\n#EXTINF:-1,B2\nBeta/b2.mp3\n"
    );
    assert!(!f.library.join("Empty.m3u").exists());
}

#[test]
fn written_file_parses_back_and_every_entry_resolves() {
    let f = fixture();
    let items = vec![
        item("1", Some("Épisode 1 — Début, suite"), Some(1_234)),
        item("2", Some("Line\nbreak\r\ntitle"), None),
        item("3", Some("🎧 emoji"), Some(5)),
    ];
    let (id, ids) = f.playlist("http://feeds.example/fr", "Émission: spéciale", items);
    f.download(ids[0], "Émission_ spéciale/2024-01-01 Épisode 1 — Début, suite.mp3");
    f.download(ids[1], "Émission_ spéciale/Line break title.m4a");
    f.download(ids[2], "Émission_ spéciale/🎧 emoji (2).ogg");

    let path = f.export(id).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let base = url::Url::from_directory_path(&f.library).unwrap();
    let parsed = crate::catalog::m3u::parse_m3u(&text, &base).unwrap();
    assert_eq!(parsed.title.as_deref(), Some("Émission: spéciale"));
    let titles: Vec<_> = parsed.items.iter().map(|i| i.title.as_deref().unwrap()).collect();
    assert_eq!(titles, ["Épisode 1 — Début, suite", "Line break  title", "🎧 emoji"]);
    let durations: Vec<_> = parsed.items.iter().map(|i| i.duration_secs).collect();
    assert_eq!(durations, [Some(1_234), None, Some(5)]);
    let resolved: Vec<PathBuf> = parsed
        .items
        .iter()
        .map(|i| url::Url::parse(&i.enclosure.as_ref().unwrap().url).unwrap().to_file_path().unwrap())
        .collect();
    let expected: Vec<PathBuf> = f
        .store
        .playlist_items(id)
        .unwrap()
        .iter()
        .map(|e| f.library.join(&e.file.as_ref().unwrap().path))
        .collect();
    assert_eq!(resolved, expected);
    assert!(resolved.iter().all(|p| p.is_file()), "{resolved:?}");
}

#[test]
fn unknown_playlist_is_an_expected_store_error() {
    let f = fixture();
    let err = export_playlist(&f.store, &f.library, 42).unwrap_err();
    assert!(matches!(err, ExportError::Store(StoreError::NotFound { .. })), "{err}");
    assert_eq!(err.kind(), ErrorKind::Expected);
    assert!(!err.is_transient());
}

#[test]
fn untitled_playlist_is_named_by_its_url() {
    let f = fixture();
    let id = f.store.add_playlist("http://feeds.example/x.xml", None, &[], 1).unwrap().id;
    let doc = ParsedPlaylist { items: vec![item("x", Some("X"), None)], ..Default::default() };
    f.store.apply_sync(id, &doc, 2).unwrap();
    let item_id = f.store.playlist_items(id).unwrap()[0].id;
    f.download(item_id, "x/x.mp3");
    let path = f.export(id).unwrap();
    assert_eq!(path, f.library.join("http___feeds.example_x.xml.m3u"));
    assert!(fs::read_to_string(path).unwrap().starts_with("#EXTM3U\n#PLAYLIST:http://feeds.example/x.xml\n"));
}

#[test]
fn m3u_path_is_one_sanitized_component() {
    let lib = Path::new("/lib");
    assert_eq!(m3u_path(lib, "My Show").unwrap(), PathBuf::from("/lib/My Show.m3u"));
    assert_eq!(m3u_path(lib, "../../x").unwrap(), PathBuf::from("/lib/_.._x.m3u"));
    assert_eq!(m3u_path(lib, "").unwrap(), PathBuf::from("/lib/untitled.m3u"));
    assert_eq!(m3u_path(lib, "lpt1").unwrap(), PathBuf::from("/lib/_lpt1.m3u"));
    let long = m3u_path(lib, &"é".repeat(300)).unwrap();
    assert!(long.file_name().unwrap().len() <= 255 - TMP_SUFFIX.len());
}

#[test]
fn io_errors_name_the_file() {
    let f = fixture();
    let (id, ids) = f.playlist("http://feeds.example/a", "Show", vec![item("1", Some("One"), Some(1))]);
    f.download(ids[0], "Show/one.mp3");
    // A folder where the .tmp should go makes the write fail.
    fs::create_dir(f.library.join("Show.m3u.tmp")).unwrap();
    let err = export_playlist(&f.store, &f.library, id).unwrap_err();
    match &err {
        ExportError::Io { path, .. } => assert_eq!(path, &f.library.join("Show.m3u.tmp")),
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("Show.m3u.tmp"), "{err}");
    assert!(std::error::Error::source(&err).is_some(), "the io::Error is kept as source");
}

#[test]
fn the_sweep_deletes_only_the_temporaries_of_our_playlist_files() {
    let f = fixture();
    let (a, _) = f.playlist("http://feeds.example/a", "Show", vec![item("1", Some("One"), None)]);
    // a second playlist of the same name exports as `Show (<id>).m3u`
    let (b, _) = f.playlist("http://feeds.example/b", "show", vec![item("2", Some("Two"), None)]);
    assert_eq!(playlist_file_stems(&f.store).unwrap().get(&b), Some(&format!("show ({b})")));
    assert_eq!(playlist_file_stem(&f.store, a).unwrap(), "Show");
    // kills between create and rename left both temporaries; another app's file is not ours
    fs::write(f.library.join("Show.m3u.tmp"), "#EXTM3U\n").unwrap();
    fs::write(f.library.join(format!("show ({b}).m3u.tmp")), "#EXTM3U\n").unwrap();
    fs::write(f.library.join("Other.m3u.tmp"), "not ours").unwrap();
    let mut deleted = sweep_tmp_leftovers(&f.store, &f.library).unwrap();
    deleted.sort();
    assert_eq!(deleted, [f.library.join("Show.m3u.tmp"), f.library.join(format!("show ({b}).m3u.tmp"))]);
    assert_eq!(files_under(&f.library), ["Other.m3u.tmp"]);
    assert!(sweep_tmp_leftovers(&f.store, &f.library).unwrap().is_empty(), "nothing left to sweep");
}
