//! The driver: the only module that calls every stage.
//!
//! ```text
//! bytes ─read─▶ records ─header─▶ rows ─plan─▶ intents ─rules (rayon)─▶ diagnostics
//!                                                   └── cross-row rules (in order) ──┘
//!                                                         ▼
//!                                          FileReport { summary, diagnostics, operations }
//! ```

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
use crate::plan::{plan_row, OpKind, Operation, PlanContext, PlannedRow};
use crate::profile::Profile;
use crate::read::{self, Record, RecordReader, Source};
use crate::report::spool::{Spool, Spooled};
use crate::row::Row;
use crate::rules::{self, CrossRow, Diagnostic, RowContext, RowFacts, Severity};
use crate::text::email_key;

/// Rows read and checked at a time: enough to keep both cores busy between
/// two reads, few enough that a streamed file's chunk stays small.
const CHUNK: usize = 4096;

/// What checking one row gives.
struct RowResult {
    planned: PlannedRow,
    /// What the row does unless an error rejects it.
    kind: OpKind,
    /// What the cross-row rules compare.
    facts: RowFacts,
    diagnostics: Vec<Diagnostic>,
    /// `planned` serialised as JSON, when the driver was asked to (see
    /// [`Rows::serialize`]): made where the row is checked, in parallel,
    /// rather than where the rows are handed over in order, one at a time.
    json: Option<Vec<u8>>,
}

/// How the driver treats the rows it checks.
#[derive(Clone, Copy, Debug, Default)]
struct Rows {
    /// Reject the rows past the row limit as they are checked (F004 rejects
    /// the whole file anyway): what they would do need not be kept.
    limit: bool,
    /// Serialise each row's operation (for a report that spools them).
    serialize: bool,
}

/// What the driver watches as it reads: the input's name for errors, and
/// the limits when the input is not trusted.
struct Watch<'a> {
    path: &'a Path,
    limits: Option<&'a Limits>,
    /// Whether to copy each record's raw text into it (for a report made
    /// from a stream, which quotes the rows with findings).
    keep_raw: bool,
    /// Records read, header included.
    records: u64,
    /// Findings made so far (before the cross-row rules).
    findings: u64,
}

impl<'a> Watch<'a> {
    fn new(path: &'a Path, limits: Option<&'a Limits>) -> Watch<'a> {
        Watch { path, limits, keep_raw: false, records: 0, findings: 0 }
    }

    /// Reads the next record into `slot`, checking it against the limits.
    fn read(
        &mut self,
        reader: &mut RecordReader<'_>,
        slot: &mut Record,
        header: Option<&Header>,
    ) -> Result<bool> {
        let read = reader.read_record(slot).map_err(|source| Limits::read_error(self.path, source))?;
        if !read {
            return Ok(false);
        }
        self.records += 1;
        let raw = reader.raw(&slot.span);
        if let Some(limits) = self.limits {
            let title = |i: usize| header.map(|h| h.title(i).to_owned());
            limits.check_read(self.path, slot, raw, reader.delimiter(), self.records, &title)?;
        }
        if self.keep_raw {
            slot.raw.clear();
            slot.raw.extend_from_slice(raw);
        }
        Ok(true)
    }

    /// Counts the findings of checked rows, `line` the last row's line:
    /// stopping here keeps a file with a finding in every cell from
    /// filling memory.
    fn count_findings(&mut self, results: &[RowResult], line: u64) -> Result<()> {
        self.findings += results.iter().map(|r| r.diagnostics.len() as u64).sum::<u64>();
        match self.limits {
            Some(limits) => limits.check_findings(self.path, self.findings, line),
            None => Ok(()),
        }
    }

    /// Reads up to [`CHUNK`] records into `slots`, reusing the records
    /// there; returns how many it read.
    fn fill(
        &mut self,
        reader: &mut RecordReader<'_>,
        slots: &mut Vec<Record>,
        header: &Header,
    ) -> Result<usize> {
        for filled in 0..CHUNK {
            if slots.len() == filled {
                slots.push(Record::default());
            }
            let Some(slot) = slots.get_mut(filled) else { return Ok(filled) };
            if !self.read(reader, slot, Some(header))? {
                return Ok(filled);
            }
        }
        Ok(CHUNK)
    }
}

/// A row checked, its cross-row findings made.
struct Checked {
    planned: PlannedRow,
    /// What the row does unless an error rejects it.
    kind: OpKind,
    diagnostics: Vec<Diagnostic>,
    span: Range<usize>,
    /// The record's raw text, when kept (see [`Watch::keep_raw`]) and the
    /// row may have findings.
    raw: Option<Box<[u8]>>,
    /// `planned` as JSON, when asked for and still true.
    json: Option<Vec<u8>>,
}

/// The rows of one file after the per-row rules: the cross-row rules, and
/// the rows whose findings wait on rows still to come.
struct Run<'o> {
    cross: CrossRow<'o>,
    waiting: VecDeque<Checked>,
    /// The 0-based index of the row at the front of `waiting`.
    first_waiting: usize,
}

impl<'o> Run<'o> {
    fn new(org: Option<&'o OrgState>) -> Run<'o> {
        Run { cross: CrossRow::new(org), waiting: VecDeque::new(), first_waiting: 0 }
    }

    /// Runs the cross-row rules on a chunk, then hands over, in order,
    /// every row whose findings are settled.
    fn push(
        &mut self,
        header: &Header,
        records: &[Record],
        results: &mut Vec<RowResult>,
        emit: &mut dyn FnMut(Checked),
    ) {
        for (record, result) in records.iter().zip(results.drain(..)) {
            let RowResult { planned, kind, facts, mut diagnostics, json } = result;
            // Cross-row findings are made from facts: they get their cell's
            // title and value from the record.
            let fill = |d: &mut Diagnostic| {
                if d.column.is_none() {
                    if let Some(i) = d.column_index {
                        d.column = Some(header.title(i).to_owned());
                        d.value = record.field(i).map(str::to_owned);
                    }
                }
            };
            let index = self.first_waiting + self.waiting.len();
            self.cross.check(index, &facts, &fill, &mut diagnostics);
            diagnostics.iter_mut().for_each(fill);
            // A row that waits may get findings later; F001 quotes the
            // first row that is not UTF-8.
            let quotable = !diagnostics.is_empty() || self.cross.first_waiting().is_some() || record.not_utf8;
            let raw = (quotable && !record.raw.is_empty()).then(|| record.raw.clone().into_boxed_slice());
            self.waiting.push_back(Checked {
                planned,
                kind,
                diagnostics,
                span: record.span.clone(),
                raw,
                json,
            });
            let settled = self.cross.take_settled();
            self.attach(settled);
        }
        let settled = self.cross.first_waiting().unwrap_or(usize::MAX);
        while self.first_waiting < settled {
            let Some(checked) = self.waiting.pop_front() else { break };
            self.first_waiting += 1;
            emit(settle(checked));
        }
    }

    /// Gives findings that waited to their rows (which waited with them).
    fn attach(&mut self, found: Vec<(usize, Diagnostic)>) {
        for (index, d) in found {
            if let Some(checked) = index.checked_sub(self.first_waiting).and_then(|i| self.waiting.get_mut(i))
            {
                checked.diagnostics.push(d);
            }
        }
    }

    /// Adds the findings that waited for the end and hands over the rest.
    fn finish(mut self, emit: &mut dyn FnMut(Checked)) {
        let found = std::mem::replace(&mut self.cross, CrossRow::new(None)).finish();
        self.attach(found);
        for checked in self.waiting {
            emit(settle(checked));
        }
    }
}

/// Orders a row's findings and rejects it if one is an error.
fn settle(mut checked: Checked) -> Checked {
    checked.diagnostics.sort_by_key(Diagnostic::sort_key);
    if checked.diagnostics.iter().any(Diagnostic::is_error) {
        checked.planned.operation = Operation::Rejected;
        checked.json = None;
    }
    checked
}

/// What reading a stream found besides its rows.
struct Streamed {
    rows: u64,
    /// Rows that delete a user unless the file is refused (F005 counts them).
    deletes: u64,
    /// Counts of the rows' operations and findings.
    summary: Summary,
    /// Findings about the file and its header (F005 aside).
    file_diags: Vec<Diagnostic>,
    /// The facts about the text (encoding, BOM, bytes not UTF-8, delimiter).
    facts: Source,
    header_raw: Option<Vec<u8>>,
    header_line: u64,
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
        self.checker.clone()
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
        let mut keep = |checked: Checked| {
            spans.push(checked.span);
            let mut planned = checked.planned;
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
            row_diags.extend(checked.diagnostics);
        };
        let mut run = Run::new(self.org());
        let rows_mode = Rows { limit: true, serialize: false };
        self.drive(&header, &mut reader, rows_mode, &mut watch, |records, results| {
            run.push(&header, records, results, &mut keep)
        })?;
        run.finish(&mut keep);
        drop(reader);

        let file_diags = self.file_findings(&source, &header, source.raw(&header_record.span), rows.len());
        let mut report = self.finish(name, source, rows, deletes, header.line, file_diags, row_diags);
        report.spans = spans;
        Ok(report)
    }

    /// Reads the data records in chunks and checks the rows of each chunk
    /// in parallel while the next chunk is read and the previous one handed
    /// to `consume` (in input order, with its records). Returns the number
    /// of data rows.
    fn drive(
        &self,
        header: &Header,
        reader: &mut RecordReader<'_>,
        rows: Rows,
        watch: &mut Watch<'_>,
        mut consume: impl FnMut(&[Record], &mut Vec<RowResult>),
    ) -> Result<u64> {
        // Three sets of records turn around: one being checked, one being
        // read, one being consumed.
        let (mut checking, mut reading, mut consuming) = (Vec::new(), Vec::new(), Vec::new());
        let (mut results, mut done) = (Vec::with_capacity(CHUNK), Vec::with_capacity(CHUNK));
        let mut filled = watch.fill(reader, &mut checking, header)?;
        let mut consumable = 0;
        let mut first_row = 1;
        loop {
            let records = checking.get(..filled).unwrap_or_default();
            let mut next = Ok(0);
            let mut counted = Ok(());
            rayon::in_place_scope(|scope| {
                if filled > 0 {
                    let results = &mut results;
                    scope.spawn(move |_| {
                        records
                            .par_iter()
                            .enumerate()
                            .map(|(i, record)| self.check_record(header, record, first_row + i as u64, rows))
                            .collect_into_vec(results);
                    });
                    next = watch.fill(reader, &mut reading, header);
                }
                if consumable > 0 {
                    let consumed: &[Record] = consuming.get(..consumable).unwrap_or_default();
                    let line = consumed.last().map_or(0, |r| r.line);
                    counted = watch.count_findings(&done, line);
                    if counted.is_ok() {
                        consume(consumed, &mut done);
                    }
                }
            });
            counted?;
            if filled == 0 {
                return Ok(first_row - 1);
            }
            first_row += filled as u64;
            consumable = filled;
            std::mem::swap(&mut done, &mut results);
            std::mem::swap(&mut consuming, &mut checking);
            std::mem::swap(&mut checking, &mut reading);
            filled = next?;
        }
    }

    /// Checks what `reader` yields as it arrives, without holding the whole
    /// file: `sink` gets every data row in input order, once its findings
    /// are settled; the findings about the file as a whole and the counts
    /// come last, in the returned [`StreamReport`]. `name` names the input.
    ///
    /// The rows and findings are those [`check_bytes`](Checker::check_bytes)
    /// gives, except that a row's operation reflects only its own errors: a
    /// file-level error ([`StreamReport::rejects_file`]) rejects every row on
    /// top of that, as the counts in [`StreamReport::summary`] do.
    ///
    /// The input is checked against the checker's [`Limits`] as it is read
    /// (its size, records, columns, cells, unclosed quotes and findings):
    /// the first limit exceeded is the error.
    ///
    /// Memory: rows are read and checked a few thousand at a time. What is
    /// kept is what the cross-row rules compare — the valid emails, phone
    /// numbers and extensions seen — and rows whose findings are not settled:
    /// whether a number that belongs to another org user blocks a row (N006,
    /// N007) depends on whether a later row gives it up, so such a row, and
    /// the rows after it, wait until the owner's row does or the input ends.
    ///
    /// ```
    /// use csvcheck::{Checker, OpKind};
    ///
    /// let csv = "User ID/Email (Required),Preferred Webex Site,Webex Meetings\n\
    ///            anna@acme.example,acme.webex.com,TRUE\n\
    ///            mario.rossi@,acme.webex.com,TRUE\n\
    ///            Anna@acme.example,acme.webex.com,TRUE\n";
    /// let mut rows = Vec::new();
    /// let report = Checker::builder()
    ///     .build()
    ///     .check_stream("users.csv", csv.as_bytes(), |row| {
    ///         let codes: Vec<_> = row.diagnostics.iter().map(|d| d.code.as_str()).collect();
    ///         rows.push((row.planned.line, row.planned.operation.kind(), codes.join(" ")));
    ///     })
    ///     .unwrap();
    /// assert_eq!(
    ///     rows,
    ///     [(2, OpKind::Add, String::new()), (3, OpKind::Rejected, "E002".into()), (4, OpKind::Rejected, "E004".into())]
    /// );
    /// assert_eq!((report.rows, report.summary.add, report.summary.rejected), (3, 1, 2));
    /// assert!(!report.rejects_file());
    /// ```
    pub fn check_stream(
        &self,
        name: &str,
        reader: impl Read,
        mut sink: impl FnMut(RowOutcome),
    ) -> Result<StreamReport> {
        let mut emit = |checked: Checked| {
            sink(RowOutcome { planned: checked.planned, diagnostics: checked.diagnostics })
        };
        let streamed = self.stream_rows(name, reader, Rows::default(), false, &mut emit)?;
        Ok(self.stream_report(name, &streamed))
    }

    /// Checks a file as a stream, as [`check_stream`](Checker::check_stream)
    /// does, for a report: what it keeps besides the findings and counts is
    /// what `keep` asks for, so that a file of a million rows is reported
    /// in a fraction of its own size in memory. The report's
    /// [`operations`](FileReport::operations) stay empty: they are spooled
    /// to disk ([`FileReport::spooled`]) when kept. Rows past the row limit
    /// are rejected as they are checked (F004 rejects the file anyway).
    pub(crate) fn check_streamed(&self, name: &str, reader: impl Read, keep: Keep) -> Result<FileReport> {
        let io_error = |source| Error::Io { path: name.into(), source };
        let mut spool = if keep.operations { Some(Spool::new().map_err(io_error)?) } else { None };
        let mut spool_error = None;
        let mut quoted = Quoted::default();
        let mut row_diags = Vec::new();
        let mut emit = |checked: Checked| {
            if let Some(spool) = spool.as_mut().filter(|_| spool_error.is_none()) {
                spool_error = match &checked.json {
                    Some(json) => spool.push_json(json),
                    None => spool.push(&checked.planned),
                }
                .err();
            }
            if let Some(raw) = checked.raw.filter(|_| keep.lines) {
                quoted.rows.push((checked.planned.row, checked.planned.line, raw));
            }
            row_diags.extend(checked.diagnostics);
        };
        let mode = Rows { limit: true, serialize: keep.operations };
        let streamed = self.stream_rows(name, reader, mode, keep.lines, &mut emit)?;
        if let Some(e) = spool_error {
            return Err(io_error(e));
        }
        let report = self.stream_report(name, &streamed);
        let spooled = spool.map(|s| s.finish(report.rejects_file())).transpose().map_err(io_error)?;
        let mut diagnostics = report.diagnostics;
        diagnostics.extend(row_diags);
        diagnostics.sort_by_key(Diagnostic::sort_key);
        quoted.header = streamed.header_raw.filter(|_| keep.lines).map(Vec::into_boxed_slice);
        Ok(FileReport {
            path: name.to_owned(),
            rows: streamed.rows,
            summary: report.summary,
            diagnostics,
            operations: Vec::new(),
            source: Arc::new(streamed.facts),
            spans: Vec::new(),
            header_line: streamed.header_line,
            quoted: Some(Arc::new(quoted)),
            spooled,
        })
    }

    /// Reads and checks a stream, handing every row to `emit` in order once
    /// its findings are settled, as `mode` says; `keep_raw`: keep the raw
    /// text of rows with findings.
    fn stream_rows(
        &self,
        name: &str,
        reader: impl Read,
        mode: Rows,
        keep_raw: bool,
        emit: &mut dyn FnMut(Checked),
    ) -> Result<Streamed> {
        let limits = &self.options.limits;
        let reader = crate::limits::Bounded::new(reader, limits.max_file_bytes);
        let io_error = |source| Limits::read_error(Path::new(name), source);
        let opened = read::stream::open(reader, self.options.encoding).map_err(io_error)?;
        let mut reader = opened.records;
        let mut header_record = Record::default();
        let facts = |reader: &RecordReader<'_>| {
            Source::facts(opened.encoding, opened.bom, reader.invalid_utf8(), reader.delimiter())
        };
        let mut watch = Watch::new(Path::new(name), Some(limits));
        watch.keep_raw = keep_raw;
        if !watch.read(&mut reader, &mut header_record, None)? {
            return Ok(Streamed {
                rows: 0,
                deletes: 0,
                summary: Summary::default(),
                file_diags: vec![rules::file::empty_file()],
                facts: facts(&reader),
                header_raw: None,
                header_line: 0,
            });
        }
        let titles: Vec<&str> = header_record.fields.iter().collect();
        let header = Header::parse(&titles, header_record.line, &self.profile);
        let header_raw = reader.raw(&header_record.span).to_vec();
        let (mut summary, mut deletes) = (Summary::default(), 0);
        let mut count = |checked: Checked| {
            summary.count(checked.planned.operation.kind());
            for d in &checked.diagnostics {
                summary.count_finding(d);
            }
            let own_error = checked.diagnostics.iter().any(Diagnostic::is_error);
            deletes += u64::from(checked.kind == OpKind::Delete && !own_error);
            emit(checked);
        };
        let mut run = Run::new(self.org());
        let rows = self.drive(&header, &mut reader, mode, &mut watch, |records, results| {
            run.push(&header, records, results, &mut count)
        })?;
        run.finish(&mut count);
        let facts = facts(&reader);
        let file_diags = self.file_findings(&facts, &header, &header_raw, rows as usize);
        Ok(Streamed {
            rows,
            deletes,
            summary,
            file_diags,
            facts,
            header_raw: Some(header_raw),
            header_line: header.line,
        })
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

    /// Adds the verdicts that need every row (F005) to a streamed file's
    /// findings and counts.
    fn stream_report(&self, name: &str, streamed: &Streamed) -> StreamReport {
        let (rows, mut summary, mut diagnostics) =
            (streamed.rows, streamed.summary, streamed.file_diags.clone());
        let org_users = self.org().map(|o| o.users.len());
        diagnostics.extend(rules::file::too_many_deletes(
            streamed.deletes,
            self.options.max_deletes,
            org_users,
        ));
        diagnostics.sort_by_key(Diagnostic::sort_key);
        for d in &diagnostics {
            summary.count_finding(d);
        }
        if diagnostics.iter().any(Diagnostic::is_error) {
            summary = Summary {
                rejected: rows,
                errors: summary.errors,
                warnings: summary.warnings,
                ..Summary::default()
            };
        }
        StreamReport { path: name.to_owned(), rows, summary, diagnostics }
    }

    /// Plans and checks one data record, as `mode` says.
    fn check_record(&self, header: &Header, record: &Record, row: u64, mode: Rows) -> RowResult {
        let row = Row { line: record.line, row, record, header };
        let key = row.raw(Field::Email).map(email_key).unwrap_or_default();
        let plan_cx = PlanContext { profile: &self.profile, org: self.org(), mode: self.options.mode };
        let intent = plan_row(&row, &key, &plan_cx);
        let cx = RowContext {
            row,
            key: &key,
            intent: &intent,
            profile: &self.profile,
            org: self.org(),
            options: &self.options,
        };
        let mut diags = Vec::new();
        let facts = rules::check_row(&cx, &mut diags);
        let kind = intent.operation.kind();
        // Past the row limit, what the row would do is dropped on the thread
        // that made it.
        let operation = if mode.limit && row.row > self.options.max_rows {
            Operation::Rejected
        } else {
            intent.operation
        };
        let planned = PlannedRow { line: row.line, row: row.row, email: key, operation };
        let json = mode.serialize.then(|| {
            // Room for a typical add: one allocation, no regrowth.
            let mut json = Vec::with_capacity(192 + planned.email.len());
            planned.write_json(&mut json);
            json
        });
        RowResult { planned, kind, facts, diagnostics: diags, json }
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
        let org_users = self.org().map(|o| o.users.len());
        file_diags.extend(rules::file::too_many_deletes(deletes, self.options.max_deletes, org_users));
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
    use crate::OrgUser;

    /// Reads in pieces of a few bytes, as a pipe might.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(7);
            let (head, tail) = self.0.split_at(n);
            buf[..n].copy_from_slice(head);
            self.0 = tail;
            Ok(n)
        }
    }

    /// Checks `csv` whole and as a stream, and compares.
    fn same_as_whole(checker: &Checker, csv: &[u8]) -> StreamReport {
        let whole = checker.check_bytes("users.csv", csv.to_vec());
        let mut rows = Vec::new();
        let streamed = checker.check_stream("users.csv", Trickle(csv), |row| rows.push(row)).unwrap();
        assert_eq!((streamed.rows, streamed.summary), (whole.rows, whole.summary));
        assert_eq!(rows.len() as u64, whole.rows);
        let mut diagnostics = streamed.diagnostics.clone();
        diagnostics.extend(rows.iter().flat_map(|r| r.diagnostics.iter().cloned()));
        diagnostics.sort_by_key(Diagnostic::sort_key);
        assert_eq!(diagnostics, whole.diagnostics);
        for (row, planned) in rows.iter().zip(&whole.operations) {
            if streamed.rejects_file() {
                assert_eq!((row.planned.line, &row.planned.email), (planned.line, &planned.email));
            } else {
                assert_eq!(&row.planned, planned);
            }
        }
        streamed
    }

    /// An org whose users hold numbers, and a file of `rows` rows that
    /// reuses emails, numbers and extensions, gives some numbers away and
    /// takes others, across chunk boundaries.
    fn org_and_file(rows: usize) -> (OrgState, String) {
        let mut org = OrgState::default();
        org.locations = Some(vec!["Milano HQ".into(), "Roma".into()]);
        for i in 0..rows / 2 {
            org.users.push(OrgUser {
                package: Some("webex_calling".into()),
                location: Some("Milano HQ".into()),
                phone_number: Some(format!("+3902{i:08}")),
                extension: Some(format!("{}", 1000 + i)),
                admin: (i % 97 == 0).then(|| "full".into()),
                ..OrgUser::new(format!("u{i}@acme.example"))
            });
        }
        let mut csv = String::from(
            "User ID/Email (Required),First Name,Phone Number,Extension,Location,Webex Calling,Webex Meetings\n",
        );
        for i in 0..rows {
            let line = match i % 11 {
                // takes the number of a user whose row comes later, or never
                0 => format!("u{i}@acme.example,A,+3902{:08},,,TRUE,", (i + 5000) % rows),
                // gives its number up
                1 => format!("u{i}@acme.example,B,REMOVE,REMOVE,,,"),
                2 => format!("u{}@acme.example,C,,,,,", i / 3),
                3 => format!("new{i}@acme.example,D,+3906{:08},{},Roma,TRUE,", i % 500, 1000 + i % 700),
                4 => format!("u{i}@acme.example,,,,,FALSE,FALSE"),
                5 => format!("bad{i}@,E,{i},x,Nowhere,maybe,"),
                6 => format!("u{i}@acme.example,\"F, q\",,{},Milano HQ,,", 1000 + (i + 3) % rows),
                _ => format!("new{i}@acme.example, G ,,,,,TRUE"),
            };
            csv.push_str(&line);
            csv.push('\n');
        }
        (org, csv)
    }

    #[test]
    fn a_stream_gives_the_rows_and_findings_of_a_whole_file() {
        let (org, csv) = org_and_file(10_000);
        let checker = Checker::builder().org(org.clone()).max_rows(100_000).build();
        let report = same_as_whole(&checker, csv.as_bytes());
        assert!(!report.rejects_file());
        let whole = checker.check_bytes("users.csv", csv.clone().into_bytes());
        for code in ["E002", "E004", "N005", "N006", "N007", "P001"] {
            assert!(whole.diagnostics.iter().any(|d| d.code.as_str() == code), "{code}");
        }
        // The same with the default row limit (F004 rejects the file), without
        // an org, and for odd inputs.
        same_as_whole(&Checker::builder().org(org).build(), csv.as_bytes());
        let plain = Checker::builder().max_rows(100_000).build();
        same_as_whole(&plain, csv.as_bytes());
        for odd in [
            &b""[..],
            b"\xEF\xBB\xBF",
            b"\n\n",
            b"a;b\n1;2\n",
            b"User ID/Email (Required)\nx@y.example\n\xff\n",
        ] {
            same_as_whole(&plain, odd);
        }
    }
}
