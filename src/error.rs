//! The errors that stop csvcheck from checking a file at all.
//!
//! Findings *in* a file are never errors: they are [`Diagnostic`](crate::Diagnostic)s,
//! ordinary data in a report. An [`Error`] is reserved for what prevents the
//! check itself — a file that cannot be read, a malformed org-state or
//! profile file, an unknown encoding label, a bad option. Every variant that
//! concerns a file names it, and where a position applies, its line and
//! column, so the message alone tells the user where to look.

use std::path::PathBuf;

/// A position inside an input file: 1-based line and column.
///
/// Column is counted in characters from the start of the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Location {
    /// 1-based line number.
    pub line: u64,
    /// 1-based column number (0 when unknown).
    pub column: u64,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column > 0 {
            write!(f, "{}:{}", self.line, self.column)
        } else {
            write!(f, "{}", self.line)
        }
    }
}

/// Everything that can stop a check before it produces a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file that could not be read (`<stdin>` for standard input).
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The org-state file (`--org`) is malformed.
    #[error("{path}{}: invalid org state: {message}", at(&Some(*location)))]
    Org {
        /// The org-state file.
        path: PathBuf,
        /// Where in the file the problem is (line 0 when no one place is).
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// The profile file (`--profile`) is malformed.
    #[error("{path}{}: invalid profile: {message}", at(&Some(*location)))]
    Profile {
        /// The profile file.
        path: PathBuf,
        /// Where in the file the problem is.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// `--encoding` named a label the WHATWG Encoding Standard does not know.
    #[error("unknown encoding label {label:?} (try utf-8, utf-16le, windows-1252, iso-8859-15, ...)")]
    Encoding {
        /// The label as given.
        label: String,
    },
    /// An option or argument that makes no sense.
    #[error("{0}")]
    Usage(String),
    /// A file exceeds a hard limit set to keep memory bounded
    /// ([`Limits`](crate::limits::Limits)).
    #[error("{path}{}: {message}", at(location))]
    Limit {
        /// The file.
        path: PathBuf,
        /// Where in the file the limit is exceeded, when one place is to blame.
        location: Option<Location>,
        /// Which limit, and how to raise it.
        message: String,
    },
    /// A file whose text is broken where no row after the break can be
    /// trusted: a quote that is never closed, a UTF-16 file cut in the middle
    /// of a character.
    #[error("{path}:{location}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Where the break starts (where the quote opens, say), not where it
        /// is noticed.
        location: Location,
        /// What is wrong and how to repair it.
        message: String,
    },
    /// csvcheck itself failed on this file (a panic, caught). Other files
    /// are still checked and the run exits with status 2.
    #[error("{path}: internal error, please report it (with the file if you can): {message}")]
    Internal {
        /// The file being checked.
        path: PathBuf,
        /// The panic message.
        message: String,
    },
}

/// `:line:column` for a location, for `Display`; nothing when there is none
/// (or its line is 0: the whole file is to blame).
fn at(location: &Option<Location>) -> String {
    location.filter(|l| l.line > 0).map_or_else(String::new, |l| format!(":{l}"))
}

impl Error {
    /// The file this error concerns, if any.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::Io { path, .. }
            | Error::Org { path, .. }
            | Error::Profile { path, .. }
            | Error::Limit { path, .. }
            | Error::Malformed { path, .. }
            | Error::Internal { path, .. } => Some(path),
            Error::Encoding { .. } | Error::Usage(_) => None,
        }
    }

    /// The position inside the file, when one place is to blame.
    pub fn location(&self) -> Option<Location> {
        match self {
            Error::Org { location, .. }
            | Error::Profile { location, .. }
            | Error::Malformed { location, .. } => Some(*location).filter(|l| l.line > 0),
            Error::Limit { location, .. } => *location,
            Error::Io { .. } | Error::Encoding { .. } | Error::Usage(_) | Error::Internal { .. } => None,
        }
    }
}

/// `Result` with csvcheck's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Line and column (1-based) of byte `offset` in `text`.
pub(crate) fn location_of(text: &[u8], offset: usize) -> Location {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or_default();
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column =
        String::from_utf8_lossy(before.get(line_start..).unwrap_or_default()).chars().count() as u64 + 1;
    Location { line, column }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_characters() {
        let text = "ab\ncdé\nf".as_bytes();
        assert_eq!(location_of(text, 0), Location { line: 1, column: 1 });
        assert_eq!(location_of(text, 3), Location { line: 2, column: 1 });
        // 'é' is two bytes but one column.
        assert_eq!(location_of(text, 7), Location { line: 2, column: 4 });
        assert_eq!(location_of(text, 8), Location { line: 3, column: 1 });
        assert_eq!(location_of(text, 999).line, 3);
    }

    #[test]
    fn display_puts_the_position_first() {
        let e = Error::Org {
            path: "org.json".into(),
            location: Location { line: 3, column: 7 },
            message: "expected `,`".into(),
        };
        assert_eq!(e.to_string(), "org.json:3:7: invalid org state: expected `,`");
        let e = Error::Profile { path: "p.toml".into(), location: Location::default(), message: "no".into() };
        assert_eq!(e.to_string(), "p.toml: invalid profile: no");
        assert_eq!(e.location(), None);
    }
}
