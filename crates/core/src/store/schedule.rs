//! Recurring schedules in the store (`SCHEDULE_NAME_TO_SCHEDULE`, schema 7): one row per
//! schedule name with its next due time, so the count survives restarts. What the row means
//! and how the due time moves is `jobs::schedule`'s; this module only reads and writes it.

use super::{tables, Result, ScheduleRow, Store};

/// The name of the auto-sync schedule's row.
pub const AUTO_SYNC: &str = "auto_sync";

impl Store {
    /// The state of schedule `name`, `None` when it never ran or was turned off.
    /// Errors: database failures.
    pub fn schedule(&self, name: &str) -> Result<Option<ScheduleRow>> {
        self.read(|tx| Ok(tx.open_table(tables::SCHEDULE_NAME_TO_SCHEDULE)?.get(name)?.map(|g| g.value())))
    }

    /// Stores the state of schedule `name` (`None` removes it), durably.
    /// Errors: database failures.
    pub fn put_schedule(&self, name: &str, row: Option<&ScheduleRow>) -> Result<()> {
        let name = name.to_owned();
        let row = row.cloned();
        self.write(move |tx| {
            let name = name.as_str();
            let row = row.as_ref();
            let mut table = tx.open_table(tables::SCHEDULE_NAME_TO_SCHEDULE)?;
            match row {
                Some(row) => drop(table.insert(name, row)?),
                None => drop(table.remove(name)?),
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_row_is_kept_and_removed() {
        let (_dir, store) = crate::store::temp_store();
        assert_eq!(store.schedule(AUTO_SYNC).unwrap(), None);
        let row = ScheduleRow { due_ms: 5, every_ms: 3, last_run_ms: Some(2), last_job: Some(7) };
        store.put_schedule(AUTO_SYNC, Some(&row)).unwrap();
        assert_eq!(store.schedule(AUTO_SYNC).unwrap(), Some(row));
        store.put_schedule(AUTO_SYNC, None).unwrap();
        assert_eq!(store.schedule(AUTO_SYNC).unwrap(), None);
    }
}
