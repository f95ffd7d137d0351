//! Uploads to a folder target: a plain folder (files, M3U, nothing sent twice, mirror mode
//! sparing a foreign file, a cancelled job leaving no temporary file) and, when the test runs
//! as root with `mkfs.vfat` and loop mounts, a real FAT32 image: device-safe names, names that
//! differ only in case, the 4 GiB limit as a per-file error, and the free-space check. Where the
//! image cannot be made the test prints why and skips that part.

use std::path::Path;
use std::process::Command;

use catalog_sync_core::config::{Remote, UploadTarget};
use catalog_sync_core::store::JobStatus;

use crate::upload_common::*;

fn folder(path: &Path, mirror: bool) -> UploadTarget {
    UploadTarget {
        name: "player".into(),
        remote: Remote::Folder { path: path.into() },
        mirror,
        m3u_crlf: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_target_gets_new_files_once_and_mirror_deletes_only_ours() {
    let device = tempfile::tempdir().unwrap();
    let rig = Rig::new(vec![folder(device.path(), true)], 2);
    let (a, files) = rig.playlist("Show A", 3, 10_000);
    let (b, _) = rig.playlist("Show B", 2, 10_000);
    rig.api.set_playlist_targets(a, vec!["player".into()]).await.unwrap();
    rig.api.set_playlist_targets(b, vec!["player".into()]).await.unwrap();
    std::fs::create_dir_all(device.path().join("Show B")).unwrap();
    std::fs::write(device.path().join("Show B/cover.jpg"), b"not ours").unwrap();

    let (_, status) = rig.upload(vec![], vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    for (rel, sha) in &files {
        assert_eq!(&sha_of(&device.path().join(rel)), sha);
    }
    let m3u = std::fs::read_to_string(device.path().join("Show A.m3u")).unwrap();
    assert!(m3u.contains("\nShow A/episode 00.mp3\n") && !m3u.contains('\r'), "{m3u}");
    let store = rig.api.engine().store().clone();
    let first = store.uploaded("player").unwrap();
    assert_eq!(first.len(), 3 + 2 + 2, "5 files and 2 M3U recorded");

    let (_, status) = rig.upload(vec![], vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    assert_eq!(store.uploaded("player").unwrap(), first, "nothing sent again");

    // the user deletes one file on the device and replaces another: both are sent again
    std::fs::remove_file(device.path().join(&files[0].0)).unwrap();
    std::fs::write(device.path().join(&files[1].0), b"edited on the player").unwrap();
    let (_, status) = rig.upload(vec![], vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    for (rel, sha) in &files {
        assert_eq!(&sha_of(&device.path().join(rel)), sha);
    }
    let now = store.uploaded("player").unwrap();
    let again: Vec<&String> = now.keys().filter(|p| now[*p].uploaded_ms != first[*p].uploaded_ms).collect();
    assert_eq!(again, vec![&files[0].0, &files[1].0], "only the lost and the replaced file");

    rig.api.set_playlist_targets(b, vec![]).await.unwrap();
    let (_, status) = rig.upload(vec![], vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    let left = tree(device.path());
    assert_eq!(
        left,
        vec![
            "Show A.m3u",
            "Show A/episode 00.mp3",
            "Show A/episode 01.mp3",
            "Show A/episode 02.mp3",
            "Show B/cover.jpg"
        ],
        "Show B's files went, the foreign file stayed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporary_file_left_by_a_crash_is_removed_by_the_next_run() {
    let device = tempfile::tempdir().unwrap();
    let rig = Rig::new(vec![folder(device.path(), false)], 1);
    let (a, files) = rig.playlist("Show", 2, 5_000);
    rig.api.set_playlist_targets(a, vec!["player".into()]).await.unwrap();
    // a crash after the temporary file was noted and half written, of a file that is no longer
    // in the library (so no later write of the same name would replace it)
    let store = rig.api.engine().store().clone();
    let temp = "Show/.episode gone.mp3.csync-part";
    store.begin_temp("player", temp, 1).unwrap();
    std::fs::create_dir_all(device.path().join("Show")).unwrap();
    std::fs::write(device.path().join(temp), b"half a fi").unwrap();
    let (_, status) = rig.upload(vec![], vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    assert!(!device.path().join(temp).exists(), "the orphan went");
    assert!(store.temps("player").unwrap().is_empty());
    for (rel, sha) in &files {
        assert_eq!(&sha_of(&device.path().join(rel)), sha);
    }
}

/// Runs `cmd`; `Err` with its output when it fails or cannot start.
fn run(cmd: &mut Command) -> Result<(), String> {
    match cmd.output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => Err(format!("{cmd:?}: {e}")),
    }
}

/// A mounted FAT32 image of `mib` MiB, unmounted on drop.
struct Vfat {
    dir: tempfile::TempDir,
}

impl Vfat {
    fn mount(mib: u64) -> Result<Vfat, String> {
        let uid = Command::new("id").arg("-u").output().map_err(|e| e.to_string())?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return Err("not root: loop mounts need root".into());
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let image = dir.path().join("card.img");
        std::fs::File::create(&image).and_then(|f| f.set_len(mib << 20)).map_err(|e| e.to_string())?;
        run(Command::new("mkfs.vfat").args(["-F", "32"]).arg(&image))?;
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&mnt).map_err(|e| e.to_string())?;
        run(Command::new("mount").args(["-o", "loop"]).arg(&image).arg(&mnt))?;
        Ok(Vfat { dir })
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("mnt")
    }
}

impl Drop for Vfat {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_fat32_card_gets_device_safe_names_and_clear_errors() {
    let card = match Vfat::mount(40) {
        Ok(card) => card,
        Err(why) => {
            eprintln!("SKIP the vfat image test: {why}");
            return;
        }
    };
    let rig = Rig::new(vec![folder(&card.path(), false)], 2);
    let store = rig.api.engine().store().clone();
    let (a, _) = rig.playlist("Show", 2, 1_000);
    let items = store.playlist_items(a).unwrap();
    // names the library allows but FAT does not, colliding once made safe
    rig.put_file(items[0].id, "Show/What? Now: part 1.mp3", b"first", &sha_hex(b"first"));
    rig.put_file(items[1].id, "Show/What_ Now_ part 1.mp3.", b"second", &sha_hex(b"second"));
    // a sparse 4 GiB file: FAT32 cannot hold it
    let (big, _) = rig.playlist("Big", 1, 10);
    let big_item = store.playlist_items(big).unwrap()[0].id;
    rig.put_file(big_item, "Big/huge.mp4", b"x", &sha_hex(b"x"));
    std::fs::File::options()
        .write(true)
        .open(rig.library.join("Big/huge.mp4"))
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    for p in [a, big] {
        rig.api.set_playlist_targets(p, vec!["player".into()]).await.unwrap();
    }
    let (job, status) = rig.upload(vec![], vec![]).await;
    assert_eq!(status, JobStatus::Failed, "the 4 GiB file fails its playlist");
    let detail = rig.api.job_detail(job).await.unwrap();
    let text = format!("{detail:?}");
    assert!(text.contains("too large for FAT32"), "{text}");
    let names = tree(&card.path());
    assert!(names.contains(&"Show/What_ Now_ part 1.mp3".to_string()), "{names:?}");
    assert!(names.contains(&"Show/What_ Now_ part 1 (2).mp3".to_string()), "{names:?}");
    assert_eq!(std::fs::read(card.path().join("Show/What_ Now_ part 1.mp3")).unwrap(), b"first");
    assert!(!names.iter().any(|n| n.contains("huge")), "{names:?}");

    // more than the card holds: refused before anything is sent
    let (full, _) = rig.playlist("Full", 3, 15 << 20);
    rig.api.set_playlist_targets(full, vec!["player".into()]).await.unwrap();
    let (job, status) = rig.upload(vec![full], vec![]).await;
    assert_eq!(status, JobStatus::Failed);
    let text = format!("{:?}", rig.api.job_detail(job).await.unwrap());
    assert!(text.contains("not enough space"), "{text}");
    assert!(!tree(&card.path()).iter().any(|n| n.starts_with("Full/")), "nothing of it was sent");
}

fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))
}
