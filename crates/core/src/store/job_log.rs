//! The per-job event log: job, stage and item transitions, errors and user commands, as short
//! lines the task center and `catalog-sync log` show. Entries are keyed `(job, seq)`, where
//! `seq` comes from one store-wide counter (`"next_job_log_seq"` in the meta table), so it
//! increases within each job and a reader can poll for entries after the last `seq` it saw
//! ([`Store::job_log_since`]). A batch of entries is appended in one durable transaction.

use super::{next_id, tables, Result, Store};

pub use super::layouts::{JobLogRow, LogKind};

/// Appends `rows` to the log of `job` inside the caller's transaction, so a state change and
/// its log line commit together.
pub(super) fn append_in(tx: &redb::WriteTransaction, job: u64, rows: &[JobLogRow]) -> Result<()> {
    let first = next_id(tx, "next_job_log_seq")?;
    let mut t = tx.open_table(tables::JOB_LOG)?;
    for (i, row) in rows.iter().enumerate() {
        t.insert((job, first + i as u64), row)?;
    }
    // reserve the rest of the batch's sequence numbers
    tx.open_table(tables::META)?.insert("next_job_log_seq", first + rows.len() as u64)?;
    Ok(())
}

impl Store {
    /// Appends `rows` to the log of `job`, in order, in one durable write transaction.
    /// Errors: [`super::StoreError::Db`].
    pub fn append_job_log(&self, job: u64, rows: &[JobLogRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let rows = rows.to_vec();
        self.write(move |tx| {
            let rows = rows.as_slice();
            append_in(tx, job, rows)
        })
    }

    /// The log of `job` as `(seq, entry)`, oldest first. Errors: [`super::StoreError::Db`].
    pub fn job_log(&self, job: u64) -> Result<Vec<(u64, JobLogRow)>> {
        self.job_log_since(job, 0)
    }

    /// Entries of `job`'s log with `seq > after_seq`, oldest first; pass the last `seq` seen to
    /// poll for new entries (sequence numbers start at 1). Errors: [`super::StoreError::Db`].
    pub fn job_log_since(&self, job: u64, after_seq: u64) -> Result<Vec<(u64, JobLogRow)>> {
        self.read(|tx| {
            let t = tx.open_table(tables::JOB_LOG)?;
            let mut out = Vec::new();
            if after_seq == u64::MAX {
                return Ok(out);
            }
            for e in t.range((job, after_seq + 1)..=(job, u64::MAX))? {
                let (k, v) = e?;
                out.push((k.value().1, v.value()));
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at_ms: i64, kind: LogKind, text: &str) -> JobLogRow {
        JobLogRow { at_ms, kind, stage: Some(0), target: None, text: text.into() }
    }

    #[test]
    fn log_is_per_job_ordered_and_pollable() {
        let (_dir, store) = crate::store::temp_store();
        store
            .append_job_log(1, &[entry(1, LogKind::Job, "running"), entry(2, LogKind::Stage, "sync started")])
            .unwrap();
        store.append_job_log(2, &[entry(3, LogKind::Job, "running")]).unwrap();
        store.append_job_log(1, &[]).unwrap();
        store
            .append_job_log(
                1,
                &[JobLogRow {
                    at_ms: 4,
                    kind: LogKind::Error,
                    stage: Some(1),
                    target: Some(12),
                    text: "item 12 failed: HTTP 404".into(),
                }],
            )
            .unwrap();
        let log = store.job_log(1).unwrap();
        assert_eq!(
            log.iter().map(|(_, r)| r.text.as_str()).collect::<Vec<_>>(),
            vec!["running", "sync started", "item 12 failed: HTTP 404"]
        );
        let seqs: Vec<u64> = log.iter().map(|(s, _)| *s).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        assert_eq!(log[2].1.target, Some(12));
        assert_eq!(store.job_log(2).unwrap().len(), 1);
        let newer = store.job_log_since(1, seqs[1]).unwrap();
        assert_eq!(newer.len(), 1);
        assert_eq!(newer[0].0, seqs[2]);
        assert!(store.job_log_since(1, seqs[2]).unwrap().is_empty());
        assert!(store.job_log(3).unwrap().is_empty());
    }
}
