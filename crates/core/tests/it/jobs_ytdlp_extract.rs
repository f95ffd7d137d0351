//! Audio extraction through yt-dlp (issue 13, part 2): the `opus` and `m4a` choices of a
//! yt-dlp playlist run `-x --audio-format opus|m4a`, which needs ffmpeg. With the real
//! yt-dlp and the real ffmpeg, on loopback: an entry whose media is already Ogg Opus (or
//! AAC in M4A, written by `testkit::audio`) ends in our library as `.opus` (`.m4a`) under
//! our naming, its bytes the source's: yt-dlp's `FFmpegExtractAudio` probes the stream
//! (ffprobe), finds it already in the target codec and container ("Not converting audio
//! ...; file is already in target format") and keeps it as is, so nothing is re-encoded. An
//! entry with no stream in the chosen codec (an MP3) fails for good with yt-dlp's "Requested
//! format is not available" on the item. Without ffmpeg the choice fails before yt-dlp runs
//! ([`YtDlpError::NoFfmpeg`]), checked in a child test process whose `PATH` has no ffmpeg.

use std::path::PathBuf;

use catalog_sync_core::api::MediaChoice;
use catalog_sync_core::config::Config;
use catalog_sync_core::download::resolve::{Candidate, Fetch};
use catalog_sync_core::download::ytdlp_fetch::{self, work_dir, YtDlpError};
use catalog_sync_core::jobs::{Event, ItemOutcome};
use catalog_sync_core::store::{JobKind, WorkStatus};
use catalog_sync_core::subscriptions::add_ytdlp;
use catalog_sync_testkit::{audio, ServerConfig, TestServer};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::jobs_engine::Rig;
use crate::jobs_ytdlp_download::{calls, config_with, recording_wrapper};
use crate::jobs_ytdlp_sync::{limits, real_ytdlp};

/// Whether `ffmpeg` and `ffprobe` are on `PATH` (yt-dlp's extraction runs both). Missing:
/// the test is skipped, or fails when `CATALOG_SYNC_REQUIRE_FFMPEG=1` (CI).
fn real_ffmpeg() -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found =
        ["ffmpeg", "ffprobe"].iter().all(|p| std::env::split_paths(&path).any(|d| d.join(p).is_file()));
    if !found {
        if std::env::var("CATALOG_SYNC_REQUIRE_FFMPEG").as_deref() == Ok("1") {
            panic!("CATALOG_SYNC_REQUIRE_FFMPEG=1 but ffmpeg/ffprobe are not on PATH");
        }
        eprintln!("skipped: ffmpeg is not on PATH (apt-get install ffmpeg)");
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_opus_choice_keeps_an_opus_stream_as_is_and_fails_for_good_on_mp3() {
    // RFC 7845 §9: Ogg Opus is `audio/ogg`; yt-dlp takes the codec from the `.opus` extension
    let (bytes, sig) = (audio::tiny_opus(50), (28..36, &b"OpusHead"[..]));
    extracts_as_is(MediaChoice::AudioOpus, "opus", bytes, "audio/ogg", sig).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_m4a_choice_keeps_an_aac_stream_as_is_and_fails_for_good_on_mp3() {
    let (bytes, sig) = (audio::tiny_aac_m4a(80), (4..12, &b"ftypM4A "[..]));
    extracts_as_is(MediaChoice::AudioM4a, "m4a", bytes, "audio/mp4", sig).await;
}

/// A yt-dlp playlist with `choice` (extracting to `ext`) of two entries: `source` (already
/// in that codec and container, served as `mime` at a URL ending `.ext`, its signature
/// `sig` at a byte range) and an MP3. The first lands as is; the second fails for good.
async fn extracts_as_is(
    choice: MediaChoice,
    ext: &str,
    source: Vec<u8>,
    mime: &str,
    sig: (std::ops::Range<usize>, &[u8]),
) {
    let Some(real) = real_ytdlp() else { return };
    if !real_ffmpeg() {
        return;
    }
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let source_url = server.add_feed(&format!("/yx/ep1.{ext}"), source.clone(), mime);
    let mp3_url = server.add_feed("/yx/ep2.mp3", audio::tiny_mp3(40), "audio/mpeg");
    let item = |title: &str, day: u32, url: &url::Url, mime: &str| {
        format!(
            "<item><title>{title}</title><guid>{title}</guid><pubDate>0{day} Jan 2024 10:00:00 GMT</pubDate>\
             <enclosure url=\"{url}\" type=\"{mime}\"/></item>"
        )
    };
    let xml = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Show</title>{}{}</channel></rss>",
        item("Mp3 Only", 2, &mp3_url, "audio/mpeg"),
        item("Ep 1", 1, &source_url, mime)
    );
    let url = server.add_feed("/yx/feed.xml", xml.into_bytes(), "application/rss+xml");
    let bin_dir = tempfile::tempdir().unwrap();
    let wrapper = recording_wrapper(bin_dir.path(), &real);
    let rig = Rig::new();
    let id = add_ytdlp(&rig.store, Some(&real), url.as_str(), choice, limits(), 1).await.unwrap().ids[0];
    let engine = rig.engine_with(Config { max_attempts: 1, ..config_with(&rig, &wrapper) });
    let job = engine.enqueue(JobKind::SyncDownload, vec![id]).await.unwrap();
    engine.run_queued().await.unwrap();

    let items = rig.store.playlist_items(id).unwrap();
    let by_title = |t: &str| items.iter().find(|e| e.item.title.as_deref() == Some(t)).unwrap().id;
    let work = |item: u64| {
        let stages = rig.store.stage_items(job, 1).unwrap();
        stages.into_iter().find(|(i, _)| *i == item).map(|(_, w)| w).expect("a download work item")
    };

    // the entry in that codec: in our library as `.<ext>`, the very bytes the server sent
    let ep1 = by_title("Ep 1");
    assert_eq!(work(ep1).status, WorkStatus::Done, "{:?}", work(ep1).last_error);
    let file = rig.store.item_file(ep1).unwrap().expect("downloaded");
    let name = format!("Show/2024-01-01 Ep 1.{ext}");
    assert_eq!(file.path, name, "our naming, yt-dlp's extension");
    let bytes = std::fs::read(rig.library().join(&file.path)).unwrap();
    assert_eq!(&bytes[sig.0.clone()], sig.1, "a {ext} file");
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        hex::encode(Sha256::digest(&source)),
        "not re-encoded: yt-dlp kept the {ext} stream as it came"
    );
    let runs = calls(bin_dir.path());
    let downloads: Vec<&String> = runs.iter().filter(|c| c.contains("--progress-template")).collect();
    assert_eq!(downloads.len(), 2, "{runs:?}");
    for c in &downloads {
        let args = choice.ytdlp_args().join(" ");
        let extract = format!("-x --audio-format {ext} --postprocessor-args ExtractAudio:-c:a copy");
        assert!(c.contains(&args) && args.contains(&extract), "{c}");
        assert!(!c.contains("--audio-quality"), "{c}");
    }

    // the MP3 entry has no stream in that codec: a final failure, with yt-dlp's own message
    let mp3 = by_title("Mp3 Only");
    let failed = work(mp3);
    assert_eq!(failed.status, WorkStatus::Failed);
    let error = failed.last_error.unwrap_or_default();
    assert!(
        error.contains("final (error)") && error.contains("Requested format is not available"),
        "{error}"
    );
    assert!(rig.store.item_file(mp3).unwrap().is_none());
    let shown = rig.events.lock().unwrap().iter().any(|e| {
        matches!(e, Event::DownloadFinished { item, outcome: ItemOutcome::Failed(error), .. }
            if *item == mp3 && error.contains("Requested format"))
    });
    assert!(shown, "the failure reached the live events");
    assert_eq!(
        rig.library_files().keys().cloned().collect::<Vec<_>>(),
        [name],
        "no file and no work folder for the MP3 entry"
    );
}

/// ALAC in a `.m4a` (made by the real ffmpeg: testkit writes no ALAC): the generic extractor
/// names no codec, so `bestaudio[ext=m4a]` picks it, and yt-dlp's `FFmpegExtractAudio`, seeing
/// a codec other than AAC, would re-encode it to lossy AAC (`-acodec aac -q:a 2.05`); our
/// `-c:a copy` keeps the ALAC stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_m4a_choice_copies_alac_instead_of_re_encoding_it() {
    let Some(real) = real_ytdlp() else { return };
    if !real_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let alac = dir.path().join("alac.m4a");
    let made = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"])
        .args(["-t", "0.5", "-c:a", "alac"])
        .arg(&alac)
        .status()
        .unwrap();
    assert!(made.success());
    let source = std::fs::read(&alac).unwrap();
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let url = server.add_feed("/ya/lossless.m4a", source.clone(), "audio/mp4");
    let candidate = Candidate {
        source: "yt-dlp",
        url,
        mime_type: None,
        length: None,
        integrity: None,
        fetch: Fetch::YtDlp { binary: real, format: None, media: Some(MediaChoice::AudioM4a) },
    };
    let dest = dir.path().join("Show").join("2024-01-01 Lossless.m4a");
    let config = Config { subprocess_stall_timeout_ms: 60_000, ..Config::default() };
    let file =
        ytdlp_fetch::fetch(&candidate, &dest, &config, &CancellationToken::new(), &|_| {}).await.unwrap();
    assert_eq!(file.path, dest);
    let probed = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0"])
        .arg(&file.path)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&probed.stdout).trim(), "alac", "the ALAC stream, not AAC");
    // the ALAC frames themselves are unchanged: the source's media data is in the file
    let mdat = |b: &[u8]| {
        let at = b.windows(4).position(|w| w == b"mdat").expect("an mdat box") - 4;
        let len = u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        b[at + 8..at + len].to_vec()
    };
    let (before, after) = (mdat(&source), std::fs::read(&file.path).unwrap());
    assert!(after.windows(before.len()).any(|w| w == before.as_slice()), "ALAC frames copied as they were");
}

/// Set in the child process of [`an_extracting_choice_without_ffmpeg_fails_before_ytdlp_runs`]:
/// the path of the real yt-dlp.
const CHILD_YTDLP: &str = "CATALOG_SYNC_TEST_NO_FFMPEG_YTDLP";

/// The check runs in a child test process whose `PATH` is an empty folder (no ffmpeg, the
/// machine's own may be installed): `PATH` is process-wide, so it is not changed here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extracting_choice_without_ffmpeg_fails_before_ytdlp_runs() {
    let Some(real) = std::env::var_os(CHILD_YTDLP).map(PathBuf::from) else {
        let Some(real) = real_ytdlp() else { return };
        let empty = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "--nocapture",
                "jobs_ytdlp_extract::an_extracting_choice_without_ffmpeg_fails_before_ytdlp_runs",
            ])
            .env("PATH", empty.path())
            .env(CHILD_YTDLP, &real)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("1 passed"),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    };
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let media = server.add_feed("/yn/ep.mp3", audio::tiny_mp3(10), "audio/mpeg");
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("x.m4a");
    for (media_choice, codec) in [(MediaChoice::AudioM4a, "m4a"), (MediaChoice::AudioOpus, "opus")] {
        let candidate = Candidate {
            source: "yt-dlp",
            url: media.clone(),
            mime_type: None,
            length: None,
            integrity: None,
            fetch: Fetch::YtDlp { binary: real.clone(), format: None, media: Some(media_choice) },
        };
        let err =
            ytdlp_fetch::fetch(&candidate, &dest, &Config::default(), &CancellationToken::new(), &|_| {})
                .await
                .unwrap_err();
        assert!(matches!(err, YtDlpError::NoFfmpeg(c) if c == codec), "{err}");
        assert!(!err.is_transient() && !work_dir(&dest).unwrap().exists(), "{err}");
    }
    assert_eq!(server.stats().body_bytes_for("/yn/ep.mp3"), 0, "yt-dlp never ran");
}
