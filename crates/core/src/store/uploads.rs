//! Uploads in the store (schema 7): which playlists go to which upload target
//! (`PLAYLIST_TARGET`), what we put on each target (`TARGET_PATH_TO_UPLOAD`: path, size,
//! SHA-256, time), the temporary files in flight on a target (`TARGET_TEMP_PATHS`) and the
//! targets an upload job is limited to (`JOB_ID_TO_UPLOAD_TARGETS`). Targets are named by
//! their config name; their settings and credentials live in the config file only.
//!
//! A file's record is written only once the file is complete under its final name, in the
//! same transaction that drops its temporary path, so a crash between the two never leaves a
//! record of a file that is not there, and the next run deletes the temporary file instead.

use std::collections::BTreeMap;

use redb::ReadableTable;

use super::{tables, JobKind, Result, StageKind, Store, UploadJobRow, UploadedRow};

impl Store {
    /// Assigns playlist `playlist` to exactly `targets` (replacing its earlier assignment).
    /// Errors: the store's; an unknown playlist is [`super::StoreError::NotFound`].
    pub fn set_playlist_targets(&self, playlist: u64, targets: &[String]) -> Result<()> {
        self.playlist(playlist)?;
        let targets = targets.to_vec();
        self.write(move |tx| {
            let targets = targets.as_slice();
            let mut t = tx.open_table(tables::PLAYLIST_TARGET)?;
            let old: Vec<String> = t
                .range((playlist, "")..)?
                .map_while(|e| {
                    e.ok().filter(|(k, _)| k.value().0 == playlist).map(|(k, _)| k.value().1.to_string())
                })
                .collect();
            for name in old {
                t.remove((playlist, name.as_str()))?;
            }
            for name in targets {
                t.insert((playlist, name.as_str()), ())?;
            }
            Ok(())
        })
    }

    /// The targets playlist `playlist` is assigned to, by name.
    pub fn playlist_targets(&self, playlist: u64) -> Result<Vec<String>> {
        Ok(self.target_assignments()?.into_iter().filter(|(p, _)| *p == playlist).map(|(_, t)| t).collect())
    }

    /// Every (playlist id, target name) assignment, by playlist then name.
    pub fn target_assignments(&self) -> Result<Vec<(u64, String)>> {
        self.read(|tx| {
            let t = tx.open_table(tables::PLAYLIST_TARGET)?;
            let mut out = Vec::new();
            for entry in t.iter()? {
                let (k, _) = entry?;
                let (p, name) = k.value();
                out.push((p, name.to_string()));
            }
            Ok(out)
        })
    }

    /// The playlists assigned to target `name`, by id.
    pub fn target_playlists(&self, name: &str) -> Result<Vec<u64>> {
        Ok(self.target_assignments()?.into_iter().filter(|(_, t)| t == name).map(|(p, _)| p).collect())
    }

    /// Drops every playlist's assignment to target `name` (the target was removed). What we
    /// put on it stays recorded, so a target added again under the same name keeps ownership.
    pub fn forget_target_assignments(&self, name: &str) -> Result<()> {
        let pairs: Vec<u64> = self.target_playlists(name)?;
        let name = name.to_owned();
        self.write(move |tx| {
            let name = name.as_str();
            let mut t = tx.open_table(tables::PLAYLIST_TARGET)?;
            for &p in &pairs {
                t.remove((p, name))?;
            }
            Ok(())
        })
    }

    /// What we put on target `name`: target-relative path -> record.
    pub fn uploaded(&self, name: &str) -> Result<BTreeMap<String, UploadedRow>> {
        self.read(|tx| {
            let t = tx.open_table(tables::TARGET_PATH_TO_UPLOAD)?;
            let mut out = BTreeMap::new();
            for entry in t.range((name, "")..)? {
                let (k, v) = entry?;
                let (target, path) = k.value();
                if target != name {
                    break;
                }
                out.insert(path.to_string(), v.value());
            }
            Ok(out)
        })
    }

    /// Records that `path` on target `name` is complete with `row`, and drops the temporary
    /// path `temp` it was written under (if any), in one transaction.
    pub fn record_upload(&self, name: &str, path: &str, temp: Option<&str>, row: UploadedRow) -> Result<()> {
        let name = name.to_owned();
        let path = path.to_owned();
        let temp = temp.map(str::to_owned);
        self.write(move |tx| {
            let name = name.as_str();
            let path = path.as_str();
            let temp = temp.as_deref();
            tx.open_table(tables::TARGET_PATH_TO_UPLOAD)?.insert((name, path), &row)?;
            if let Some(temp) = temp {
                tx.open_table(tables::TARGET_TEMP_PATHS)?.remove((name, temp))?;
            }
            Ok(())
        })
    }

    /// Forgets `path` on target `name` (mirror mode deleted it).
    pub fn forget_upload(&self, name: &str, path: &str) -> Result<()> {
        let name = name.to_owned();
        let path = path.to_owned();
        self.write(move |tx| {
            let name = name.as_str();
            let path = path.as_str();
            tx.open_table(tables::TARGET_PATH_TO_UPLOAD)?.remove((name, path))?;
            Ok(())
        })
    }

    /// Notes that a temporary file `temp` is about to be written on target `name` (Unix ms).
    pub fn begin_temp(&self, name: &str, temp: &str, now_ms: i64) -> Result<()> {
        let name = name.to_owned();
        let temp = temp.to_owned();
        self.write(move |tx| {
            let name = name.as_str();
            let temp = temp.as_str();
            tx.open_table(tables::TARGET_TEMP_PATHS)?.insert((name, temp), now_ms)?;
            Ok(())
        })
    }

    /// Forgets the temporary file `temp` on target `name` (removed, or renamed away).
    pub fn end_temp(&self, name: &str, temp: &str) -> Result<()> {
        let name = name.to_owned();
        let temp = temp.to_owned();
        self.write(move |tx| {
            let name = name.as_str();
            let temp = temp.as_str();
            tx.open_table(tables::TARGET_TEMP_PATHS)?.remove((name, temp))?;
            Ok(())
        })
    }

    /// The temporary files noted on target `name` and not yet renamed or removed.
    pub fn temps(&self, name: &str) -> Result<Vec<String>> {
        self.read(|tx| {
            let t = tx.open_table(tables::TARGET_TEMP_PATHS)?;
            let mut out = Vec::new();
            for entry in t.range((name, "")..)? {
                let (k, _) = entry?;
                let (target, path) = k.value();
                if target != name {
                    break;
                }
                out.push(path.to_string());
            }
            Ok(out)
        })
    }

    /// Creates a queued job of `kind` (see [`Store::create_job`]) limited to the upload
    /// `targets` (empty = every target of the playlists in scope), in one transaction.
    pub fn create_upload_job(
        &self,
        kind: JobKind,
        stages: &[StageKind],
        scope: &[u64],
        targets: &[String],
        now_ms: i64,
    ) -> Result<u64> {
        let stages = stages.to_vec();
        let scope = scope.to_vec();
        let targets = targets.to_vec();
        self.write(move |tx| {
            let stages = stages.as_slice();
            let scope = scope.as_slice();
            let targets = targets.as_slice();
            let id = super::jobs::insert_job(tx, kind, stages, scope, now_ms)?;
            if !targets.is_empty() {
                let row = UploadJobRow { targets: targets.to_vec() };
                tx.open_table(tables::JOB_ID_TO_UPLOAD_TARGETS)?.insert(id, row)?;
            }
            Ok(id)
        })
    }

    /// The targets upload job `job` is limited to; empty = every target.
    pub fn job_upload_targets(&self, job: u64) -> Result<Vec<String>> {
        self.read(|tx| {
            let t = tx.open_table(tables::JOB_ID_TO_UPLOAD_TARGETS)?;
            Ok(t.get(job)?.map(|g| g.value().targets).unwrap_or_default())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_records_and_temps_are_per_target() {
        let (_dir, store) = crate::store::temp_store();
        let a = store.add_playlist("http://x/a", Some("A"), &[], 1).unwrap().id;
        let b = store.add_playlist("http://x/b", Some("B"), &[], 1).unwrap().id;
        store.set_playlist_targets(a, &["nas".into(), "player".into()]).unwrap();
        store.set_playlist_targets(b, &["nas".into()]).unwrap();
        store.set_playlist_targets(a, &["player".into()]).unwrap();
        assert_eq!(store.playlist_targets(a).unwrap(), vec!["player".to_string()]);
        assert_eq!(store.target_playlists("nas").unwrap(), vec![b]);
        assert!(store.set_playlist_targets(99, &[]).is_err(), "unknown playlist");

        store.begin_temp("nas", "A/.x.part", 5).unwrap();
        store.begin_temp("nasty", "A/.y.part", 5).unwrap();
        assert_eq!(store.temps("nas").unwrap(), vec!["A/.x.part".to_string()]);
        let row = UploadedRow {
            size: 3,
            sha256: "ab".into(),
            source_sha256: "ab".into(),
            uploaded_ms: 9,
            item: Some(1),
        };
        store.record_upload("nas", "A/x", Some("A/.x.part"), row.clone()).unwrap();
        store.record_upload("nasty", "A/z", None, row.clone()).unwrap();
        assert!(store.temps("nas").unwrap().is_empty(), "the temp went with the record");
        assert_eq!(
            store.uploaded("nas").unwrap().into_iter().collect::<Vec<_>>(),
            vec![("A/x".to_string(), row)]
        );
        store.forget_upload("nas", "A/x").unwrap();
        assert!(store.uploaded("nas").unwrap().is_empty());
        assert_eq!(store.uploaded("nasty").unwrap().len(), 1);

        store.forget_target_assignments("player").unwrap();
        assert!(store.playlist_targets(a).unwrap().is_empty());
        let job = store
            .create_upload_job(JobKind::UploadOnly, &[StageKind::Upload], &[a], &["nas".into()], 1)
            .unwrap();
        assert_eq!(store.job_upload_targets(job).unwrap(), vec!["nas".to_string()]);
        assert_eq!(store.job(job).unwrap().scope, vec![a]);
    }
}
