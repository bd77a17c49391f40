//! Checking untrusted files safely: within [`Limits`](crate::limits::Limits), and with a panic in
//! csvcheck contained to the file that caused it.
//!
//! [`Checker::check_bytes`] trusts its input to be of a sane size and shape.
//! The functions here are the entry points for files from outside: they read
//! at most [`Limits::max_file_bytes`](crate::limits::Limits::max_file_bytes), refuse a file whose shape exceeds the
//! limits or whose text is broken (a quote never closed, truncated UTF-16)
//! with a typed [`Error`] naming the place, and turn a panic anywhere in the
//! check — including inside a rayon task — into [`Error::Internal`], so that
//! the other files are still checked and the run exits with status 2 instead
//! of aborting.
//!
//! ```
//! use csvcheck::{guard, Checker, Error};
//!
//! let checker = Checker::builder().build();
//! let csv = b"User ID/Email (Required),First Name\n\"anna@acme.example,Anna\n".to_vec();
//! let err = guard::check_bytes(&checker, "users.csv", csv).unwrap_err();
//! assert!(matches!(err, Error::Malformed { .. }));
//! assert_eq!(err.location().map(|l| (l.line, l.column)), Some((2, 1)));
//! ```

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use crate::check::{Checker, FileReport};
use crate::error::{Error, Result};

/// Checks a file on disk (`-` reads standard input) within the checker's
/// [`Limits`](crate::limits::Limits), catching any panic.
pub fn check_path(checker: &Checker, path: impl AsRef<Path>) -> Result<FileReport> {
    let path = path.as_ref();
    let limits = &checker.options().limits;
    if path == Path::new("-") {
        let bytes = limits.read(Path::new("<stdin>"), std::io::stdin().lock())?;
        return check_bytes(checker, "<stdin>", bytes);
    }
    let bytes = limits.read_path(path)?;
    check_bytes(checker, &path.display().to_string(), bytes)
}

/// Checks everything `reader` yields (reading at most the file limit);
/// `name` names it in the report and in errors.
pub fn check_reader(checker: &Checker, name: &str, reader: impl Read) -> Result<FileReport> {
    let bytes = checker.options().limits.read(Path::new(name), reader)?;
    check_bytes(checker, name, bytes)
}

/// Checks the bytes of a file within the checker's
/// [`Limits`](crate::limits::Limits), catching any panic.
pub fn check_bytes(checker: &Checker, name: &str, bytes: Vec<u8>) -> Result<FileReport> {
    let path = Path::new(name);
    catch_panic(path, || {
        let limits = &checker.options().limits;
        limits.check_bytes(path, &bytes, checker.options().encoding)?;
        let report = checker.check_bytes(name, bytes);
        // Counted after the fact here, so this keeps the promise of the
        // limit but not its memory bound: the driver should count per batch.
        let last_line = report.operations.last().map_or(0, |o| o.line);
        limits.check_findings(path, report.diagnostics.len() as u64, last_line)?;
        Ok(report)
    })
}

/// Runs `f`, turning a panic in it (or in any rayon task it waits on, since
/// rayon re-raises a task's panic in the thread that joins it) into
/// [`Error::Internal`] for `path`.
///
/// The panic hook still runs, so the panic's own message and location reach
/// standard error for the bug report.
pub fn catch_panic<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    // Unwind safety: on a panic, everything `f` touched is dropped with the
    // report it was building; nothing half-updated outlives the call.
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            Err(Error::Internal { path: path.to_owned(), message })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use rayon::prelude::*;

    #[test]
    fn a_panic_in_a_rayon_task_becomes_an_internal_error() {
        let result: Result<Vec<u32>> = catch_panic(Path::new("f.csv"), || {
            Ok((0..1000u32)
                .into_par_iter()
                .map(|i| if i == 617 { panic!("row {i} broke") } else { i })
                .collect())
        });
        let err = result.unwrap_err();
        assert!(matches!(&err, Error::Internal { message, .. } if message == "row 617 broke"), "{err}");
        assert!(err.to_string().starts_with("f.csv: internal error"), "{err}");
    }

    #[test]
    fn results_and_errors_pass_through() {
        assert_eq!(catch_panic(Path::new("f"), || Ok(3)).unwrap(), 3);
        let err = catch_panic::<()>(Path::new("f"), || Err(Error::Usage("no".into()))).unwrap_err();
        assert!(matches!(err, Error::Usage(_)));
    }

    #[test]
    fn limits_apply_before_the_check() {
        let options =
            crate::Options { limits: Limits::default().with_max_columns(2), ..crate::Options::default() };
        let checker = Checker::builder().options(options).build();
        let err = check_bytes(&checker, "f.csv", b"a,b,c\n".to_vec()).unwrap_err();
        assert!(matches!(err, Error::Limit { .. }), "{err}");
        let report =
            check_bytes(&checker, "f.csv", b"User ID/Email (Required)\na@b.example\n".to_vec()).unwrap();
        assert_eq!(report.rows, 1);
    }
}
