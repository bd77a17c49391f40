//! How a check is run: import mode, row and delete limits, encoding, and
//! the hard [`Limits`] on the input.

use serde::Serialize;

use crate::limits::Limits;

/// Control Hub's "CSV import behavior", chosen at upload time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ImportMode {
    /// "Add services only" (the default): new users get every base licence,
    /// and base-licence `FALSE` cells are ignored (B001).
    #[default]
    AddServices,
    /// "Add and remove services": base-licence cells apply as written.
    AddRemoveServices,
}

impl std::str::FromStr for ImportMode {
    type Err = String;

    fn from_str(s: &str) -> Result<ImportMode, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "add-services" => Ok(ImportMode::AddServices),
            "add-remove-services" => Ok(ImportMode::AddRemoveServices),
            other => Err(format!("unknown mode {other:?}: expected add-services or add-remove-services")),
        }
    }
}

/// The most users a plan may delete before F005 stops it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MaxDeletes {
    /// At most this many.
    Count(u64),
    /// At most this percentage of the org's users.
    Percent(f64),
}

impl MaxDeletes {
    /// The limit in users, given the org's user count (`None` when a
    /// percentage is given but the org is unknown).
    pub fn limit(self, org_users: Option<usize>) -> Option<u64> {
        match self {
            MaxDeletes::Count(n) => Some(n),
            MaxDeletes::Percent(p) => org_users.map(|n| (n as f64 * p / 100.0).floor() as u64),
        }
    }
}

impl std::str::FromStr for MaxDeletes {
    type Err = String;

    /// `N` or `N%`.
    fn from_str(s: &str) -> Result<MaxDeletes, String> {
        let s = s.trim();
        let bad = || format!("invalid --max-deletes {s:?}: expected a number or a percentage like 5%");
        match s.strip_suffix('%') {
            Some(p) => {
                let p: f64 = p.trim().parse().map_err(|_| bad())?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(bad());
                }
                Ok(MaxDeletes::Percent(p))
            }
            None => s.parse().map(MaxDeletes::Count).map_err(|_| bad()),
        }
    }
}

/// Control Hub's limit of data rows per upload.
pub const DEFAULT_MAX_ROWS: u64 = 20_000;

/// Options of a check. Build with [`Options::default`] and set fields, or
/// through [`CheckerBuilder`](crate::CheckerBuilder).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Options {
    /// The import mode (default: add-services).
    pub mode: ImportMode,
    /// Most data rows per upload before F004 (default: 20,000).
    pub max_rows: u64,
    /// Most deletes before F005 (default: no limit).
    pub max_deletes: Option<MaxDeletes>,
    /// Decode input with this encoding instead of UTF-8 (a BOM still wins).
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// Hard limits on the input that keep memory bounded (see
    /// [`limits`](crate::limits) for the defaults and why).
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            mode: ImportMode::default(),
            max_rows: DEFAULT_MAX_ROWS,
            max_deletes: None,
            encoding: None,
            limits: Limits::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_deletes_parses_counts_and_percentages() {
        assert_eq!("10".parse(), Ok(MaxDeletes::Count(10)));
        assert_eq!(" 5% ".parse(), Ok(MaxDeletes::Percent(5.0)));
        assert!("ten".parse::<MaxDeletes>().is_err());
        assert!("150%".parse::<MaxDeletes>().is_err());
        assert_eq!(MaxDeletes::Percent(10.0).limit(Some(95)), Some(9));
        assert_eq!(MaxDeletes::Percent(10.0).limit(None), None);
    }

    #[test]
    fn modes_parse() {
        assert_eq!("add-remove-services".parse(), Ok(ImportMode::AddRemoveServices));
        assert!("remove".parse::<ImportMode>().is_err());
    }
}
