//! Retention rules (issue 16, part 2): how many downloaded episodes a playlist keeps. One rule
//! is the global default (`Config::retention`, `[retention]` in the config file); a playlist may
//! override it (stored in the catalog, `store::retention`). The rule only says which files are
//! past it; what is never deleted (kept items, files other playlists or jobs reference, files
//! not ours) is decided by `library::retention`.

use serde::{Deserialize, Serialize};

/// A retention rule. In TOML: `[retention]` with `kind = "keep_all"`, `kind = "keep_newest"`
/// and `count = N`, or `kind = "older_than_days"` and `days = D`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Retention {
    /// Keep every downloaded episode (the default).
    #[default]
    KeepAll,
    /// Keep the newest `count` downloaded episodes (by publication date, else by download
    /// time); older ones are deleted.
    KeepNewest {
        /// Episodes kept, at least 1.
        count: u32,
    },
    /// Delete episodes published (else downloaded) more than `days` days ago.
    OlderThanDays {
        /// Age limit in days, at least 1.
        days: u32,
    },
}

/// One day in ms.
pub const DAY_MS: i64 = 86_400_000;

impl Retention {
    /// The rule as stored in the catalog: (kind code, value) with codes 0 keep all, 1 keep
    /// newest, 2 older than days.
    pub fn to_code(self) -> (u8, u32) {
        match self {
            Retention::KeepAll => (0, 0),
            Retention::KeepNewest { count } => (1, count),
            Retention::OlderThanDays { days } => (2, days),
        }
    }

    /// Inverse of [`Retention::to_code`]; `None` for an unknown kind.
    pub fn from_code((kind, value): (u8, u32)) -> Option<Retention> {
        match kind {
            0 => Some(Retention::KeepAll),
            1 => Some(Retention::KeepNewest { count: value }),
            2 => Some(Retention::OlderThanDays { days: value }),
            _ => None,
        }
    }

    /// Checks the value: a count or an age of 0 would delete everything, so it is refused.
    /// Errors: a sentence naming the field.
    pub fn validate(self) -> Result<Retention, String> {
        match self {
            Retention::KeepNewest { count: 0 } => Err("retention: keep at least 1 episode".into()),
            Retention::OlderThanDays { days: 0 } => {
                Err("retention: the age limit must be at least 1 day".into())
            }
            ok => Ok(ok),
        }
    }

    /// Words for the command line and logs: `keep all`, `keep newest 5`, `older than 30 days`.
    pub fn describe(self) -> String {
        match self {
            Retention::KeepAll => "keep all".into(),
            Retention::KeepNewest { count } => format!("keep newest {count}"),
            Retention::OlderThanDays { days } => format!("delete older than {days} days"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_zero_is_refused() {
        for r in
            [Retention::KeepAll, Retention::KeepNewest { count: 3 }, Retention::OlderThanDays { days: 9 }]
        {
            assert_eq!(Retention::from_code(r.to_code()), Some(r));
        }
        assert_eq!(Retention::from_code((7, 1)), None);
        assert!(Retention::KeepNewest { count: 0 }.validate().is_err());
        assert!(Retention::OlderThanDays { days: 0 }.validate().is_err());
    }

    #[test]
    fn toml_shape() {
        #[derive(Deserialize)]
        struct W {
            retention: Retention,
        }
        let w: W = toml::from_str("[retention]\nkind = \"keep_newest\"\ncount = 5\n").unwrap();
        assert_eq!(w.retention, Retention::KeepNewest { count: 5 });
    }
}
