//! The driver: the only module that calls every stage.
//!
//! ```text
//! bytes ─read─▶ records ─header─▶ rows ─plan─▶ intents ─rules (rayon)─▶ diagnostics
//!                                                   └── cross-row rules (in order) ──┘
//!                                                         ▼
//!                                          FileReport { summary, diagnostics, operations }
//! ```
//!
//! Here: the [`Checker`], its builder and the reports it makes. `drive.rs`
//! reads the records a chunk at a time, checks each chunk in parallel while
//! the next is read, and hands the rows over in input order through the
//! cross-row rules; `stream.rs` checks a file as it arrives
//! ([`Checker::check_stream`], and the command line's reports, which never
//! hold a file whole).

use std::collections::VecDeque;
use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::header::{Field, Header};
use crate::limits::Limits;
use crate::options::{ImportMode, MaxDeletes, Options};
use crate::org::OrgState;
use crate::plan::{plan_row_of, BaseLicenceLists, OpKind, Operation, OperationRef, PlanContext, PlannedRow};
use crate::profile::Profile;
use crate::read::{self, Record, RecordReader, Source};
use crate::report::spool::{Spool, Spooled};
use crate::row::Row;
use crate::rules::{self, CrossRow, Diagnostic, RowContext, RowFacts, Severity};
use crate::text::email_key;

mod drive;
mod stream;

use drive::*;

/// Runs `work` on a thread of rayon's pool, waiting for it here.
///
/// The driver reads and hands rows over on the thread it runs on while the
/// pool's threads check them. On a thread of its own (a caller's `main`),
/// that is one busy thread more than there are cores: the operating system
/// shares them out evenly, the pool finishes each chunk first and waits for
/// the reader, and a core idles about a sixth of the time. On the pool, the
/// driver's thread checks rows itself whenever it would wait.
pub(crate) fn in_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    match rayon::current_thread_index() {
        Some(_) => work(),
        None => rayon::scope(|_| work()),
    }
}

/// Counts of a file's operations and findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Users added.
    pub add: u64,
    /// Users modified.
    pub modify: u64,
    /// Users deleted.
    pub delete: u64,
    /// Rows that change nothing.
    pub unchanged: u64,
    /// Rows Control Hub would refuse.
    pub rejected: u64,
    /// Findings of severity error.
    pub errors: u64,
    /// Findings of severity warning.
    pub warnings: u64,
}

impl Summary {
    fn count(&mut self, kind: OpKind) {
        match kind {
            OpKind::Add => self.add += 1,
            OpKind::Modify => self.modify += 1,
            OpKind::Delete => self.delete += 1,
            OpKind::Unchanged => self.unchanged += 1,
            OpKind::Rejected => self.rejected += 1,
        }
    }

    fn count_finding(&mut self, d: &Diagnostic) {
        match d.severity() {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
        }
    }

    /// Adds another summary's counts to this one.
    pub fn merge(&mut self, other: &Summary) {
        self.add += other.add;
        self.modify += other.modify;
        self.delete += other.delete;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
        self.errors += other.errors;
        self.warnings += other.warnings;
    }
}

/// Everything csvcheck found in one file. Serialises to one element of the
/// `files` array of the JSON report (SPEC §8).
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    /// The file as named on the command line (`<stdin>` for `-`).
    pub path: String,
    /// Number of data rows.
    pub rows: u64,
    /// Counts.
    pub summary: Summary,
    /// Every finding, by line, then code, then column.
    pub diagnostics: Vec<Diagnostic>,
    /// One operation per data row, in input order.
    pub operations: Vec<PlannedRow>,
    #[serde(skip)]
    source: Arc<Source>,
    /// Byte span of the header record, then of each data record.
    #[serde(skip)]
    spans: Vec<Range<usize>>,
    #[serde(skip)]
    header_line: u64,
    /// For a report made from a stream, which holds no text: the lines it
    /// quotes.
    #[serde(skip)]
    quoted: Option<Arc<Quoted>>,
    /// For a report made from a stream: the operations, on disk.
    #[serde(skip)]
    spooled: Option<Spooled>,
}

/// The raw lines a report made from a stream quotes: the header, and the
/// rows with findings (by row, each with its line).
#[derive(Debug, Default)]
struct Quoted {
    header: Option<Box<[u8]>>,
    rows: Vec<(u64, u64, Box<[u8]>)>,
}

/// What a report made from a stream keeps besides its findings and counts
/// (see [`Checker::check_streamed`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Keep {
    /// Every row's operation (spooled to disk, for the JSON reports).
    pub(crate) operations: bool,
    /// The raw lines the findings are about (for the text and SARIF reports).
    pub(crate) lines: bool,
}

impl Keep {
    /// What a report in `format` needs kept, `quiet` or not; `None` for a
    /// report that echoes every row (CSV), which is made from the whole file.
    pub(crate) fn for_report(format: crate::report::Format, quiet: bool) -> Option<Keep> {
        use crate::report::Format;
        match format {
            Format::Csv => None,
            Format::Json | Format::Jsonl => Some(Keep { operations: !quiet, lines: false }),
            // SARIF has no quiet form: its results locate their cells.
            Format::Sarif => Some(Keep { operations: false, lines: true }),
            _ => Some(Keep { operations: false, lines: !quiet }),
        }
    }
}

impl FileReport {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.summary.errors > 0
    }

    /// Whether any finding is a warning.
    pub fn has_warnings(&self) -> bool {
        self.summary.warnings > 0
    }

    /// The decoded input.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The raw text of the header record (without line terminator).
    pub fn header_raw(&self) -> Option<&[u8]> {
        match &self.quoted {
            Some(quoted) => quoted.header.as_deref(),
            None => self.spans.first().map(|s| self.source.raw(s)),
        }
    }

    /// The raw text of data row `row` (1-based), as it is in the file.
    pub fn row_raw(&self, row: u64) -> Option<&[u8]> {
        if let Some(quoted) = &self.quoted {
            let i = quoted.rows.binary_search_by_key(&row, |r| r.0).ok()?;
            return quoted.rows.get(i).map(|r| &*r.2);
        }
        let span = self.spans.get(usize::try_from(row).ok()?)?;
        Some(self.source.raw(span))
    }

    /// The raw text of the record starting on `line`, if one does.
    pub fn line_raw(&self, line: u64) -> Option<&[u8]> {
        if let Some(quoted) = &self.quoted {
            let i = quoted.rows.binary_search_by_key(&line, |r| r.1).ok()?;
            return quoted.rows.get(i).map(|r| &*r.2);
        }
        let i = self.operations.binary_search_by_key(&line, |o| o.line).ok()?;
        self.row_raw(i as u64 + 1)
    }

    /// The header line, if the file has a header.
    pub fn header_line(&self) -> Option<u64> {
        self.header_raw().map(|_| self.header_line)
    }

    /// The operations of a report made from a stream, which are on disk
    /// rather than in [`FileReport::operations`].
    pub(crate) fn spooled(&self) -> Option<&Spooled> {
        self.spooled.as_ref()
    }
}

/// One data row checked by [`Checker::check_stream`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowOutcome {
    /// Where the row is, whose it is, and its operation: `rejected` when the
    /// row has an error of its own (see [`StreamReport::rejects_file`] for
    /// errors that reject every row).
    pub planned: PlannedRow,
    /// The row's findings, by code, then column.
    pub diagnostics: Vec<Diagnostic>,
}

/// What [`Checker::check_stream`] found about a file as a whole, once every
/// row was handed over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StreamReport {
    /// The input as named by the caller.
    pub path: String,
    /// Number of data rows.
    pub rows: u64,
    /// Counts, as a [`FileReport`]'s: when a file-level finding is an error,
    /// every row counts as rejected.
    pub summary: Summary,
    /// The findings about the file and its header (F and H codes), by line,
    /// then code.
    pub diagnostics: Vec<Diagnostic>,
}

impl StreamReport {
    /// Whether a finding about the file is an error, so that Control Hub
    /// would refuse the whole upload whatever each row says.
    pub fn rejects_file(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks files. Holds the profile, the org state and the options; cheap to
/// share across threads.
///
/// ```
/// use csvcheck::Checker;
/// let checker = Checker::builder().build();
/// let report = checker.check_bytes("users.csv", b"User ID/Email (Required),Webex Calling\nanna@acme.example,maybe\n".to_vec());
/// assert_eq!(report.diagnostics[0].code.as_str(), "P001");
/// assert_eq!(report.summary.rejected, 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Checker {
    profile: Arc<Profile>,
    org: Option<Arc<OrgState>>,
    options: Options,
    /// The JSON of the profile's sets of base licences, made by
    /// [`CheckerBuilder::build`] (empty, each row's written in full, for a
    /// checker made otherwise).
    base_licence_lists: Arc<BaseLicenceLists>,
}

/// Configures a [`Checker`].
#[derive(Clone, Debug, Default)]
pub struct CheckerBuilder {
    checker: Checker,
}

impl CheckerBuilder {
    /// The current state of the organisation (without it every row is an
    /// add, or a delete, and the org checks are skipped).
    pub fn org(&mut self, org: OrgState) -> &mut CheckerBuilder {
        // A loaded org comes indexed; one built or changed in code since is
        // indexed here.
        self.checker.org = Some(Arc::new(org.into_indexed()));
        self
    }

    /// The packages and base licences (default: the built-in profile).
    pub fn profile(&mut self, profile: Profile) -> &mut CheckerBuilder {
        self.checker.profile = Arc::new(profile);
        self
    }

    /// The import mode (default: add-services).
    pub fn mode(&mut self, mode: ImportMode) -> &mut CheckerBuilder {
        self.checker.options.mode = mode;
        self
    }

    /// Most data rows per upload (default: 20,000).
    pub fn max_rows(&mut self, max: u64) -> &mut CheckerBuilder {
        self.checker.options.max_rows = max;
        self
    }

    /// Most deletes before F005 (default: no limit).
    pub fn max_deletes(&mut self, max: Option<MaxDeletes>) -> &mut CheckerBuilder {
        self.checker.options.max_deletes = max;
        self
    }

    /// Decode input with this WHATWG encoding label instead of UTF-8.
    pub fn encoding(&mut self, label: &str) -> Result<&mut CheckerBuilder> {
        let encoding = crate::read::encoding_for_label(label)
            .ok_or_else(|| Error::Encoding { label: label.to_owned() })?;
        self.checker.options.encoding = Some(encoding);
        Ok(self)
    }

    /// All options at once.
    pub fn options(&mut self, options: Options) -> &mut CheckerBuilder {
        self.checker.options = options;
        self
    }

    /// The configured checker.
    pub fn build(&self) -> Checker {
        let mut checker = self.checker.clone();
        checker.base_licence_lists = Arc::new(BaseLicenceLists::of(&checker.profile));
        checker
    }
}

impl Checker {
    /// A builder with the defaults.
    pub fn builder() -> CheckerBuilder {
        CheckerBuilder::default()
    }

    /// The profile in use.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The org state, if any.
    pub fn org(&self) -> Option<&OrgState> {
        self.org.as_deref()
    }

    /// The options in use.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Checks a file on disk; `-` reads standard input.
    pub fn check_path(&self, path: impl AsRef<Path>) -> Result<FileReport> {
        let path = path.as_ref();
        if path == Path::new("-") {
            return self.check_reader("<stdin>", std::io::stdin().lock());
        }
        let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        Ok(self.check_bytes(&path.display().to_string(), bytes))
    }

    /// Checks everything `reader` yields; `name` names it in the report.
    pub fn check_reader(&self, name: &str, mut reader: impl Read) -> Result<FileReport> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map_err(|source| Error::Io { path: name.into(), source })?;
        Ok(self.check_bytes(name, bytes))
    }

    /// Checks the bytes of a file; `name` names it in the report.
    ///
    /// The bytes are trusted to be of a sane size and shape: the
    /// [`Limits`] are not applied ([`guard::check_bytes`](crate::guard::check_bytes) applies them).
    pub fn check_bytes(&self, name: &str, bytes: Vec<u8>) -> FileReport {
        let source = Arc::new(Source::decode(bytes, self.options.encoding));
        match self.check_source(name, Arc::clone(&source), None) {
            Ok(report) => report,
            // Without limits, reading text in memory cannot fail; should it
            // ever, the file is reported as if it had no records rather than
            // with rows missing.
            Err(_) => {
                self.finish(name, source, Vec::new(), 0, 0, vec![rules::file::empty_file()], Vec::new())
            }
        }
    }

    /// Checks decoded text, within `limits` when given: the first limit a
    /// record exceeds stops the check with an error naming the place.
    pub(crate) fn check_source(
        &self,
        name: &str,
        source: Arc<Source>,
        limits: Option<&Limits>,
    ) -> Result<FileReport> {
        in_pool(|| self.check_source_here(name, source, limits))
    }

    fn check_source_here(
        &self,
        name: &str,
        source: Arc<Source>,
        limits: Option<&Limits>,
    ) -> Result<FileReport> {
        let path = Path::new(name);
        let mut watch = Watch::new(path, limits);
        let mut header_record = Record::default();
        let mut reader = source.record_reader();
        if !watch.read(&mut reader, &mut header_record, None)? {
            drop(reader);
            return Ok(self.finish(
                name,
                source,
                Vec::new(),
                0,
                0,
                vec![rules::file::empty_file()],
                Vec::new(),
            ));
        }
        let titles: Vec<&str> = header_record.fields.iter().collect();
        let header = Header::parse(&titles, header_record.line, &self.profile);
        let mut spans = vec![header_record.span.clone()];
        let mut rows: Vec<PlannedRow> = Vec::new();
        let (mut row_diags, mut deletes) = (Vec::new(), 0);
        let max_rows = usize::try_from(self.options.max_rows).unwrap_or(usize::MAX);
        let mut keep = |checked: &mut Checked<'_>| {
            spans.push(checked.span.clone());
            let mut planned = std::mem::replace(checked.planned, PlannedRow::none());
            let own_error = checked.diagnostics.iter().any(Diagnostic::is_error);
            deletes += u64::from(checked.kind == OpKind::Delete && !own_error);
            // Past the row limit F004 rejects the whole file: what the rows
            // would have done need not be kept (the rows after the limit
            // were rejected as they were checked).
            if rows.len() >= max_rows {
                if rows.len() == max_rows {
                    rows.iter_mut().for_each(|r| r.operation = Operation::Rejected);
                }
                planned.operation = Operation::Rejected;
            }
            rows.push(planned);
            row_diags.append(checked.diagnostics);
        };
        // No more records than line ends: the text is at hand to count them.
        let line_ends = memchr::memchr2_iter(b'\n', b'\r', source.bytes()).count() as u64 + 1;
        let rows_mode = Rows {
            limit: true,
            operations: RowOps::Owned,
            input_bytes: Some(source.bytes().len() as u64),
            most_rows: limits.map_or(u64::MAX, |l| l.max_records).min(line_ends),
        };
        self.drive(&header, &mut reader, rows_mode, &mut watch, &mut keep)?;
        drop(reader);

        let file_diags = self.file_findings(&source, &header, source.raw(&header_record.span), rows.len());
        let mut report = self.finish(name, source, rows, deletes, header.line, file_diags, row_diags);
        report.spans = spans;
        Ok(report)
    }

    /// The findings about the file and its header, once its rows are counted.
    fn file_findings(
        &self,
        source: &Source,
        header: &Header,
        header_raw: &[u8],
        rows: usize,
    ) -> Vec<Diagnostic> {
        let mut found = Vec::new();
        found.extend(rules::file::not_utf8(source));
        found.extend(rules::file::wrong_delimiter(source, header.line, header_raw));
        rules::header::check(header, &mut found);
        found.extend(rules::file::too_many_rows(rows as u64, self.options.max_rows));
        found
    }

    /// F005 for a file whose rows delete `deletes` users (counted without
    /// the rows rejected by their own errors).
    fn too_many_deletes(&self, deletes: u64) -> Option<Diagnostic> {
        let org_users = self.org().map(|o| o.users.len());
        rules::file::too_many_deletes(deletes, self.options.max_deletes, org_users)
    }

    /// Applies file-level verdicts, counts, and orders the findings (each
    /// row already rejected for its own errors; `deletes` counted then).
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        name: &str,
        source: Arc<Source>,
        mut rows: Vec<PlannedRow>,
        deletes: u64,
        header_line: u64,
        mut file_diags: Vec<Diagnostic>,
        row_diags: Vec<Diagnostic>,
    ) -> FileReport {
        file_diags.extend(self.too_many_deletes(deletes));
        if file_diags.iter().any(Diagnostic::is_error) {
            for planned in &mut rows {
                planned.operation = Operation::Rejected;
            }
        }
        let mut summary = Summary::default();
        for planned in &rows {
            summary.count(planned.operation.kind());
        }
        let mut diagnostics = Vec::with_capacity(file_diags.len() + row_diags.len());
        diagnostics.extend(file_diags);
        diagnostics.extend(row_diags);
        diagnostics.sort_by_key(Diagnostic::sort_key);
        for d in &diagnostics {
            summary.count_finding(d);
        }
        FileReport {
            path: name.to_owned(),
            rows: rows.len() as u64,
            summary,
            diagnostics,
            operations: rows,
            source,
            spans: Vec::new(),
            header_line,
            quoted: None,
            spooled: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rows_expected_are_judged_from_the_first() {
        let records = |ends: &[usize]| -> Vec<Record> {
            ends.iter()
                .map(|&end| Record { span: end.saturating_sub(10)..end, ..Record::default() })
                .collect()
        };
        // 4 records in the first 400 bytes of 100,000.
        assert_eq!(expected_rows(Some(100_000), &records(&[100, 200, 300, 400])), Some(1000));
        // Unknown size, or nothing read: no guess (chunks then grow to the most).
        assert_eq!(expected_rows(None, &records(&[100, 200])), None);
        assert_eq!(expected_rows(Some(100_000), &[]), None);
        assert_eq!(expected_rows(Some(100_000), &records(&[0])), None);
        // Room for a sixteenth more than expected, but never past the most:
        // short first rows and a huge cell after them must not make room
        // for millions of rows.
        assert_eq!(rows_to_reserve(1000, u64::MAX), 1062);
        assert_eq!(expected_rows(Some(1 << 28), &records(&[2, 4, 6, 8])), Some(1 << 27));
        assert_eq!(rows_to_reserve(1 << 27, 1000), 1000);
    }
}
