//! `bench-catalog compact` (the history compaction the app runs, `store::history`) killed with
//! SIGKILL at several points over a generated catalog of 600 finished jobs: every job stays
//! whole or compacted, never half, its stage counts survive, and the failed and newest jobs are
//! never compacted.

use std::time::Duration;

use catalog_sync_core::store::Store;

/// Stage counts and trimmed state of every job: (job, counts per stage, has work rows, has summary).
fn history(db: &std::path::Path) -> Vec<(u64, Vec<catalog_sync_core::store::StageCounts>, bool, bool)> {
    let store = Store::open(db).unwrap();
    let mut out = Vec::new();
    for (id, job) in store.jobs().unwrap() {
        let counts: Vec<_> =
            (0..job.stages.len() as u8).map(|s| store.stage_counts(id, s).unwrap()).collect();
        let work = (0..job.stages.len() as u8).any(|s| !store.stage_items(id, s).unwrap().is_empty());
        out.push((id, counts, work, store.job_summary(id).unwrap().is_some()));
    }
    out
}

#[test]
fn sigkill_during_compaction_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.redb");
    let bin = env!("CARGO_BIN_EXE_bench-catalog");
    let gen = std::process::Command::new(bin)
        .args(["generate", db.to_str().unwrap(), "--playlists", "20", "--items", "2", "--jobs", "600"])
        .output()
        .unwrap();
    assert!(gen.status.success(), "{}", String::from_utf8_lossy(&gen.stderr));
    let before = history(&db);
    assert!(before.iter().all(|(_, _, work, summary)| *work && !*summary));
    let mut delays = [120u64, 40, 250, 80, 10].into_iter();
    let (mut done, mut kills) = (false, 0);
    while !done {
        kills += 1;
        assert!(kills < 20, "compaction never finished");
        let mut child =
            std::process::Command::new(bin).args(["compact", db.to_str().unwrap()]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delays.next().unwrap_or(5_000)));
        done = child.try_wait().unwrap().is_some_and(|s| s.success());
        child.kill().ok(); // SIGKILL on Unix
        child.wait().unwrap();
        let after = history(&db);
        assert_eq!(after.len(), before.len(), "no job row is lost");
        for ((id, counts, _, _), (id2, counts2, work, summary)) in before.iter().zip(&after) {
            assert_eq!((id, counts), (id2, counts2), "job {id}: its counts survive the kill");
            // each job is whole or compacted, never half of it
            assert!(*work != *summary, "job {id}: work rows {work}, summary {summary}");
        }
    }
    assert!(kills > 1, "no kill landed during compaction");
    // the failed jobs (retryable) and the newest job stay whole; every other job was compacted
    let failed_jobs =
        Store::open(&db).unwrap().jobs_with_status(catalog_sync_core::store::JobStatus::Failed).unwrap();
    for (id, _, work, summary) in history(&db) {
        let failed = failed_jobs.contains(&id);
        let newest = id == before.first().unwrap().0;
        assert_eq!((work, summary), (failed || newest, !(failed || newest)), "job {id}");
    }
}
