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

use std::sync::Arc;

use crate::check::{Checker, FileReport, Keep};
use crate::error::{Error, Result};
use crate::read::Source;

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
        let encoding = checker.options().encoding;
        limits.check_len(path, bytes.len() as u64)?;
        limits.check_encoding(path, &bytes, encoding)?;
        // Records, columns, cells, quotes and findings are checked as the
        // text is parsed, in the same pass.
        checker.check_source(name, Arc::new(Source::decode(bytes, encoding)), Some(limits))
    })
}

/// Checks a file on disk within the checker's
/// [`Limits`](crate::limits::Limits), catching any panic, for a report that
/// keeps only what `keep` asks for besides findings and counts.
///
/// A regular file whose text is UTF-8 is checked as a stream: memory stays
/// a fraction of the file's size however large it is. Anything else is
/// checked whole, as [`check_path`] does: standard input or a pipe (read
/// once), and text in another encoding (a stream would be decoded
/// leniently, where the whole-file path refuses a truncated or malformed
/// UTF-16 file). The file is opened once, and its first bytes, which tell
/// the encoding, are read from it before either way goes on with it.
pub(crate) fn check_file(checker: &Checker, path: &Path, keep: Keep) -> Result<FileReport> {
    let forced = checker.options().encoding.is_some_and(|e| e != encoding_rs::UTF_8);
    if path == Path::new("-") || forced {
        return check_path(checker, path);
    }
    catch_panic(path, || {
        let limits = &checker.options().limits;
        let file = limits.open_path(path)?;
        let size = file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
        let mut start = Vec::with_capacity(PEEK);
        (&file)
            .take(PEEK as u64)
            .read_to_end(&mut start)
            .map_err(|source| Error::Io { path: path.to_owned(), source })?;
        let other_encoding =
            matches!(encoding_rs::Encoding::for_bom(&start), Some((e, _)) if e != encoding_rs::UTF_8);
        let name = path.display().to_string();
        // The first bytes, then the file itself: a `BufReader` would copy
        // every block the record reader asks for smaller than its own
        // buffer, a second copy of the whole file.
        let reader = std::io::Cursor::new(start).chain(file);
        match size {
            Some(bytes) if !other_encoding => {
                crate::check::in_pool(|| checker.check_streamed(&name, reader, Some(bytes), keep))
            }
            _ => check_bytes(checker, &name, limits.read(path, reader)?),
        }
    })
}

/// The bytes read first from a file, to tell its encoding: a block the
/// reader would have read anyway.
const PEEK: usize = 1 << 16;

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

    /// Every report made from a stream is byte for byte the one made from
    /// the whole file, in every format it serves, for every rule fixture
    /// (which include a file error that rejects every row, F004, and rows
    /// whose findings wait for later rows, N006 and N007).
    #[test]
    fn streamed_reports_are_the_whole_file_reports() {
        use crate::report::{self, Format, RenderOptions};
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules");
        let mut compared = 0;
        for dir in std::fs::read_dir(&root).unwrap() {
            let dir = dir.unwrap().path();
            let mut builder = Checker::builder();
            if let Ok(org) = crate::OrgState::from_path(dir.join("org.json"), &crate::Profile::default()) {
                builder.org(org);
            }
            let args = std::fs::read_to_string(dir.join("args")).unwrap_or_default();
            let mut words = args.split_whitespace();
            while let Some(option) = words.next() {
                let value = words.next().unwrap();
                match option {
                    "--max-rows" => builder.max_rows(value.parse().unwrap()),
                    "--max-deletes" => {
                        builder.max_deletes(Some(crate::MaxDeletes::Count(value.parse().unwrap())))
                    }
                    _ => panic!("{option}"),
                };
            }
            let checker = builder.build();
            for name in ["fires.csv", "clean.csv"] {
                let path = dir.join(name);
                let keep = Keep::for_report(Format::Json, false).unwrap();
                if !streamed(&check_file(&checker, &path, keep).unwrap()) {
                    // UTF-16: checked whole.
                    assert!(std::fs::read(&path).unwrap().starts_with(&[0xFF, 0xFE]), "{}", path.display());
                    continue;
                }
                let whole = check_path(&checker, &path).unwrap();
                for (format, quiet) in [Format::Json, Format::Jsonl, Format::Text, Format::Sarif]
                    .into_iter()
                    .flat_map(|f| [(f, false), (f, true)])
                {
                    let keep = Keep::for_report(format, quiet).unwrap();
                    let streamed = check_file(&checker, &path, keep).unwrap();
                    let options = RenderOptions { quiet, ..RenderOptions::default() };
                    let render = |r: &FileReport| {
                        let mut out = Vec::new();
                        report::write(&mut out, format, std::slice::from_ref(r), &options).unwrap();
                        String::from_utf8(out).unwrap()
                    };
                    assert_eq!(
                        render(&streamed),
                        render(&whole),
                        "{} {format:?} quiet {quiet}",
                        path.display()
                    );
                    compared += 1;
                }
            }
        }
        assert!(compared > 300, "{compared}");
    }

    /// Whether a report was made from a stream (only such a report, kept
    /// for a JSON report, spools its operations).
    fn streamed(report: &FileReport) -> bool {
        report.spooled().is_some()
    }

    /// A new directory for a test's files, `name` telling whose.
    fn test_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("csvcheck-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// `text` in UTF-16LE, after its byte-order mark.
    fn utf16le(text: &str) -> Vec<u8> {
        [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect()
    }

    /// Only a regular UTF-8 file is streamed; the rest is checked whole,
    /// and the same, from the one opening of the file.
    #[test]
    fn only_regular_utf8_files_are_streamed() {
        let checker = Checker::builder().build();
        let keep = Keep::for_report(crate::report::Format::Json, false).unwrap();
        let dir = test_dir("streams");
        let utf8 = dir.join("utf8.csv");
        std::fs::write(&utf8, "\u{feff}User ID/Email (Required)\nanna@acme.example\n").unwrap();
        let utf16 = dir.join("utf16.csv");
        std::fs::write(&utf16, utf16le("User ID/Email (Required)\nanna@acme.example\n")).unwrap();
        let streamed_utf8 = check_file(&checker, &utf8, keep).unwrap();
        assert!(streamed(&streamed_utf8));
        let whole_utf16 = check_file(&checker, &utf16, keep).unwrap();
        assert!(!streamed(&whole_utf16));
        // Either way, the rows are all there.
        assert_eq!((streamed_utf8.rows, whole_utf16.rows), (1, 1));
        assert_eq!(whole_utf16.summary, streamed_utf8.summary);
        assert!(matches!(check_file(&checker, &dir.join("missing.csv"), keep), Err(Error::Io { .. })));
        #[cfg(unix)]
        {
            let fifo = dir.join("fifo.csv");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                let writer = {
                    let fifo = fifo.clone();
                    std::thread::spawn(move || {
                        std::fs::write(fifo, "User ID/Email (Required)\nanna@acme.example\n")
                    })
                };
                let piped = check_file(&checker, &fifo, keep).unwrap();
                writer.join().unwrap().unwrap();
                assert!(!streamed(&piped));
                assert_eq!(piped.rows, 1);
            }
        }
        let windows_1252 = Checker::builder().encoding("windows-1252").unwrap().build();
        assert!(!streamed(&check_file(&windows_1252, &utf8, keep).unwrap()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A file longer than the block read first to tell its encoding: the
    /// block and the rest of the file join with no byte lost or repeated,
    /// streamed (UTF-8) or read whole (UTF-16).
    #[test]
    fn the_first_block_and_the_rest_of_a_file_join() {
        use std::fmt::Write;
        let checker = Checker::builder().build();
        let keep = Keep::for_report(crate::report::Format::Json, false).unwrap();
        let dir = test_dir("peek");
        let mut text = String::from(
            "User ID/Email (Required),First Name,Preferred Webex Site,Webex Meetings [Wholesale]\n",
        );
        for i in 0..6000 {
            writeln!(text, "user.{i}@acme.example,Anna {i},acme.webex.com,TRUE").unwrap();
        }
        // A duplicate of the first row's email: found only if every row
        // between them was read.
        text.push_str("USER.0@acme.example,Again,acme.webex.com,TRUE\n");
        assert!(text.len() > 2 * PEEK);
        let utf16 = utf16le(&text);
        for (name, bytes, is_streamed) in [("utf8.csv", text.into_bytes(), true), ("utf16.csv", utf16, false)]
        {
            let path = dir.join(name);
            std::fs::write(&path, &bytes).unwrap();
            let report = check_file(&checker, &path, keep).unwrap();
            assert_eq!(streamed(&report), is_streamed, "{name}");
            let whole = check_bytes(&checker, &path.display().to_string(), bytes).unwrap();
            assert_eq!((report.rows, report.summary), (6001, whole.summary), "{name}");
            assert_eq!(report.diagnostics, whole.diagnostics, "{name}");
            let found: Vec<_> = report.diagnostics.iter().map(|d| (d.code, d.line)).collect();
            assert_eq!(found, [(crate::Code::E004, Some(6002))], "{name}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
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
