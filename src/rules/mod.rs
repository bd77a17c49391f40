//! Stage 5: the rules. Every check has a stable code ([`Code`]) in the
//! [`registry`], and lives with its documentation and tests in the
//! file of its family:
//!
//! | family | file | codes |
//! |---|---|---|
//! | file | `file.rs` | F001–F005 |
//! | header | `header.rs` | H001–H003 |
//! | record | `record.rs` | R001 |
//! | email | `email.rs` | E001–E005 |
//! | number | `number.rs` | N001–N007 |
//! | package | `package.rs` | P001–P012 |
//! | location | `location.rs` | L001–L002 |
//! | read-only | `read_only.rs` | O001 |
//! | base licence | `base_licence.rs` | B001 |
//! | text | `text.rs` | T001–T005 |
//!
//! Stages before this one only record facts; rules turn facts into
//! [`Diagnostic`]s. Per-row rules see a `RowContext` and run in parallel;
//! cross-row rules (E004, N005–N007) see every row's `RowFacts` in input
//! order (`CrossRow`), so "the earlier row" is always the lower line.

pub(crate) mod base_licence;
pub mod diagnostic;
pub(crate) mod email;
pub(crate) mod file;
pub(crate) mod header;
pub(crate) mod intern;
pub(crate) mod location;
pub(crate) mod number;
pub(crate) mod package;
pub(crate) mod read_only;
pub(crate) mod record;
pub mod registry;
pub(crate) mod text;

pub use diagnostic::Diagnostic;
pub use registry::{Code, Rule, Severity, RULES};

use crate::header::{CellRole, Field};
use crate::options::Options;
use crate::org::OrgState;
use crate::plan::{EffectiveLocation, Intent};
use crate::profile::Profile;
use crate::row::{LicenceCells, NumberCell, Row};

/// What a per-row rule sees.
pub(crate) struct RowContext<'a> {
    pub row: Row<'a>,
    /// The row's key (normalised email).
    pub key: &'a str,
    pub intent: &'a Intent<'a>,
    /// The row's package and base-licence cells, as the plan read them.
    pub licences: LicenceCells<'a>,
    /// The position in the org of the user with the row's key (the user
    /// `intent.existing` is).
    pub org_user: Option<usize>,
    pub profile: &'a Profile,
    pub org: Option<&'a OrgState>,
    pub options: &'a Options,
}

impl RowContext<'_> {
    /// A diagnostic for this row, in column `index`, showing the cell's value.
    pub fn cell_diagnostic(&self, code: Code, index: usize, message: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::new(code, message)
            .at_line(self.row.line)
            .in_column(index, self.row.header.title(index));
        let d = Diagnostic { row: Some(self.row.row), ..d };
        match self.row.cell(index) {
            Some(v) => d.value(v),
            None => d,
        }
    }

    /// A diagnostic for this row in the column of `field`.
    pub fn field_diagnostic(&self, code: Code, field: Field, message: impl Into<String>) -> Diagnostic {
        match self.row.header.field(field) {
            Some(i) => self.cell_diagnostic(code, i, message),
            None => self.row_diagnostic(code, message),
        }
    }

    /// A diagnostic for this row as a whole.
    pub fn row_diagnostic(&self, code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic { row: Some(self.row.row), ..Diagnostic::new(code, message).at_line(self.row.line) }
    }

    /// The package definition of the effective package.
    pub fn effective_package(&self) -> Option<&crate::profile::PackageDef> {
        self.profile.packages.get(self.intent.effective.package?)
    }

    /// Whether the row adds or modifies a user (the checks on required
    /// values apply to those).
    pub fn adds_or_modifies(&self) -> bool {
        matches!(self.intent.operation.kind(), crate::plan::OpKind::Add | crate::plan::OpKind::Modify)
    }
}

/// What the cross-row rules need to know of one row, extracted while the
/// row was checked so the record itself can be dropped.
#[derive(Clone, Debug, Default)]
pub(crate) struct RowFacts {
    pub line: u64,
    pub row: u64,
    /// Whether the email is valid (only valid values are compared).
    pub key_valid: bool,
    /// The org user with the row's key.
    pub org_user: Option<usize>,
    /// Column indexes the cross-row findings point at.
    pub email_column: Option<usize>,
    pub phone_column: Option<usize>,
    pub extension_column: Option<usize>,
    /// The strings, end to end (see [`FactText`]): the key, then the phone
    /// number if any, then the extension and its location if any.
    text: intern::SmallString,
    /// Where the key ends in `text`.
    key_end: usize,
    /// Where the phone number ends, when the row sets a valid one.
    phone_end: Option<usize>,
    /// Where the extension ends, when the row sets a valid one in a
    /// location known to the org; the key of its location runs to the end.
    extension_end: Option<usize>,
    /// The org users who have that phone number, and that extension there.
    /// (Looked up here, in parallel, so that the in-order pass stays short.)
    pub phone_owner: Option<usize>,
    pub extension_owner: Option<usize>,
    /// Whether the row is an org user's and deletes them, or removes or
    /// replaces their number (or extension, or moves them to another
    /// location), so the org's current value no longer blocks others.
    pub releases_phone: bool,
    pub releases_extension: bool,
    /// What the cross-row tables look the strings up by, worked out from
    /// them once they are complete (by [`check_row`], in parallel); `None`
    /// when the facts were made otherwise, and the cross-row pass works it
    /// out itself.
    keys: Option<FactKeys>,
}

/// What the cross-row tables look a row's strings up by (see
/// [`RowFacts::keys`]).
#[derive(Clone, Copy, Debug, Default)]
struct FactKeys {
    /// The hash of the key (see [`intern::hash_bytes`]).
    key: u64,
    numbers: number::NumberKeys,
}

impl FactKeys {
    /// The keys of `text`.
    fn of(text: FactText<'_>) -> FactKeys {
        FactKeys { key: intern::hash_bytes(text.key), numbers: number::NumberKeys::of(text) }
    }
}

/// The strings of a row's facts, as the bytes of UTF-8 text (see
/// [`shown`]): the cross-row rules compare and hash them, and show one
/// only in a finding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FactText<'a> {
    /// The key, valid or not (to tell an org user from another).
    pub key: &'a [u8],
    /// A valid Phone Number the row sets.
    pub phone: Option<&'a [u8]>,
    /// A valid Extension the row sets, with the key of its effective
    /// location (empty for the default location).
    pub extension: Option<(&'a [u8], &'a [u8])>,
}

impl RowFacts {
    /// The row's strings.
    pub(crate) fn text(&self) -> FactText<'_> {
        let text = self.text.as_bytes();
        let after_key = self.phone_end.unwrap_or(self.key_end);
        FactText {
            key: text.get(..self.key_end).unwrap_or_default(),
            phone: self.phone_end.and_then(|end| text.get(self.key_end..end)),
            extension: self.extension_end.and_then(|end| Some((text.get(after_key..end)?, text.get(end..)?))),
        }
    }
}

/// A fact string as text, for a finding (it is UTF-8: it was pushed as `str`).
fn shown(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// Runs every per-row rule on one row, and writes the row's facts into
/// `facts` (what was there before is replaced whole): the driver's slot for
/// the row, so that the facts, a few hundred bytes, are not moved there.
pub(crate) fn check_row(cx: &RowContext<'_>, out: &mut Vec<Diagnostic>, facts: &mut RowFacts) {
    let header = cx.row.header;
    *facts = RowFacts {
        line: cx.row.line,
        row: cx.row.row,
        org_user: cx.org_user.filter(|_| cx.intent.existing.is_some()),
        email_column: header.field(Field::Email),
        phone_column: header.field(Field::PhoneNumber),
        extension_column: header.field(Field::Extension),
        ..RowFacts::default()
    };
    facts.text.push_str(cx.key);
    facts.key_end = facts.text.len();
    check_cells(cx, facts, out);
    facts.keys = Some(FactKeys::of(facts.text()));
}

/// Runs the per-row rules on the cells of a row, and adds to its facts
/// what they find.
fn check_cells(cx: &RowContext<'_>, facts: &mut RowFacts, out: &mut Vec<Diagnostic>) {
    if cx.row.record.not_utf8 {
        // SPEC §2: bytes that are not UTF-8 are reported once per file
        // (F001, which rejects every row); the cells of this row are a lossy
        // decoding, and what the replacement characters break is an echo.
        return;
    }
    if !record::check(cx, out) {
        // A ragged record's cells are misaligned: checking them would blame
        // the wrong columns.
        return;
    }
    let cells = read_cells(cx, out);
    let email_ok = email::check(cx, &cells, out);
    let numbers = number::check(cx, &cells, out);
    package::check(cx, email_ok, &cells, out);
    let location_known = location::check(cx, &cells, out);
    read_only::check(cx, &cells, out);
    base_licence::check(cx, &cx.licences, out);

    facts.key_valid = email_ok;
    if let Some(phone) = numbers.phone {
        facts.phone_owner = cx.org.and_then(|o| o.phone_owner(phone));
        facts.text.push_str(phone);
        facts.phone_end = Some(facts.text.len());
    }
    if let (Some(ext), true) = (numbers.extension, location_known) {
        facts.text.push_str(ext);
        let ext_end = facts.text.len();
        let named = match cx.intent.effective.location {
            EffectiveLocation::Named(location) => {
                // The key, as `org::location_key` makes it, without a string
                // of its own.
                facts.text.push_folded(location);
                // The org folds the name it is given; an ASCII name folds to
                // what its key folds to, and is not read back from the facts.
                let key =
                    if location.is_ascii() { crate::text::trim(location) } else { facts.text.tail(ext_end) };
                Some(key).filter(|k| !k.is_empty())
            }
            EffectiveLocation::Default | EffectiveLocation::None => None,
        };
        facts.extension_owner = cx.org.and_then(|o| o.extension_owner(named, ext));
        facts.extension_end = Some(ext_end);
    }
    if let Some(user) = cx.intent.existing {
        let deletes = cx.intent.operation.kind() == crate::plan::OpKind::Delete;
        let moves = match cells.text(Field::Location) {
            None => false,
            Some(l) if l.eq_ignore_ascii_case("remove") => user.location.is_some(),
            Some(l) => !user.location.as_deref().is_some_and(|c| crate::text::eq_folded(c, l)),
        };
        facts.releases_phone = deletes || releases(cells.number(Field::PhoneNumber), &user.phone_number);
        facts.releases_extension =
            deletes || moves || releases(cells.number(Field::Extension), &user.extension);
    }
}

/// A row's cells as the rules other than the text rules read them:
/// gathered by the text rules' pass over every cell, so that each cell is
/// looked up in the record once. (The package and base-licence cells are
/// [`RowContext::licences`], read as the row was planned.)
pub(crate) struct Cells<'a> {
    /// The cell of each known field present, by `Field as usize`.
    fields: [Option<&'a str>; Field::ALL.len()],
}

impl<'a> Cells<'a> {
    /// The cell of a known field as written, if the column exists (as
    /// [`Row::raw`](crate::row::Row::raw)).
    pub(crate) fn raw(&self, field: Field) -> Option<&'a str> {
        self.fields.get(field as usize).copied().flatten()
    }

    /// The trimmed cell of a known field; `None` when absent or empty.
    pub(crate) fn text(&self, field: Field) -> Option<&'a str> {
        self.raw(field).map(crate::text::trim).filter(|s| !s.is_empty())
    }

    /// A Phone Number / Extension cell, typed.
    pub(crate) fn number(&self, field: Field) -> NumberCell<'a> {
        NumberCell::parse(self.raw(field).unwrap_or(""))
    }
}

/// Reads every cell of a well-formed row once: runs the text rules on it
/// and keeps what the other rules read.
fn read_cells<'a>(cx: &RowContext<'a>, out: &mut Vec<Diagnostic>) -> Cells<'a> {
    let mut cells = Cells { fields: [None; Field::ALL.len()] };
    let (record, header) = (cx.row.record, cx.row.header);
    for ((index, cell), role) in record.fields.iter().enumerate().zip(header.roles()) {
        if let CellRole::Field(field) = role.cell {
            if let Some(slot) = cells.fields.get_mut(field as usize) {
                *slot = Some(cell);
            }
        }
        if !cell.is_empty() {
            text::check_cell(cx, index, cell, role.text, out);
        }
    }
    cells
}

/// Whether a Phone Number or Extension cell gives up the user's `current`
/// value: it removes it, or replaces it with another. Writing the current
/// value again keeps it.
fn releases(cell: NumberCell<'_>, current: &Option<String>) -> bool {
    let Some(current) = current.as_deref().map(crate::text::trim).filter(|c| !c.is_empty()) else {
        return false;
    };
    match cell {
        NumberCell::Empty => false,
        NumberCell::Remove => true,
        NumberCell::RemoveValue(v) => v == current,
        NumberCell::Value(v) => v != current,
    }
}

/// The cross-row rules (E004, N005–N007), fed every row's `RowFacts` in
/// input order, one row at a time: a driver can check a file chunk by
/// chunk, or as a stream, without keeping every row's facts. Only the keys
/// and numbers seen are remembered.
pub(crate) struct CrossRow<'o> {
    keys: email::Keys,
    numbers: number::DuplicateNumbers<'o>,
    /// How many rows were checked.
    rows: usize,
    /// How many rows a driver expects in all (see
    /// [`reserve`](CrossRow::reserve)), until [`SAMPLE_ROWS`] rows tell how
    /// many of them set numbers.
    expected_rows: Option<usize>,
}

/// The rows past which the tables no longer fit in a second-level cache
/// (a few dozen bytes of slots a row, in three tables).
const TOUCHED_ROWS: usize = 1 << 15;

/// The rows seen before the number tables are made room for: enough to
/// tell what share of rows set a phone number or an extension.
const SAMPLE_ROWS: usize = 4096;

impl<'o> CrossRow<'o> {
    /// Nothing seen yet.
    pub(crate) fn new(org: Option<&'o OrgState>) -> CrossRow<'o> {
        CrossRow {
            keys: email::Keys::default(),
            numbers: number::DuplicateNumbers::new(org),
            rows: 0,
            expected_rows: None,
        }
    }

    /// Makes room for about `rows` more rows (a driver's estimate, from the
    /// size of the file), so that the tables do not grow while they come:
    /// a table that grows holds its old and its new storage at once. The
    /// keys' table is sized at once (every row has a key); the numbers'
    /// when [`SAMPLE_ROWS`] rows have shown how many set one.
    pub(crate) fn reserve(&mut self, rows: usize) {
        self.keys.reserve(rows);
        if self.rows >= SAMPLE_ROWS {
            self.numbers.reserve(rows, self.rows);
        } else {
            self.expected_rows = Some(self.rows.saturating_add(rows));
        }
    }

    /// Checks row `index` (0-based) against the rows before it; `out` holds
    /// the row's findings so far and receives the new ones. `fill` gives
    /// each finding its cell's title and value while the row's record is at
    /// hand. Findings that depend on rows still to come (N005-N007 when an
    /// org user may yet give a number up) wait: see
    /// [`take_settled`](CrossRow::take_settled) and
    /// [`finish`](CrossRow::finish).
    pub(crate) fn check(
        &mut self,
        index: usize,
        facts: &RowFacts,
        fill: &dyn Fn(&mut Diagnostic),
        out: &mut Vec<Diagnostic>,
    ) {
        self.rows += 1;
        if self.rows == SAMPLE_ROWS {
            if let Some(expected) = self.expected_rows.take() {
                self.numbers.reserve(expected.saturating_sub(self.rows), self.rows);
            }
        }
        let from = out.len();
        let text = facts.text();
        let keys = facts.keys.unwrap_or_else(|| FactKeys::of(text));
        let key = self.keys.check(text.key, keys.key, facts, out);
        // Only a row Control Hub accepts gives a number up.
        let has_error = out.iter().any(Diagnostic::is_error);
        let lines = &self.keys;
        let first_line = |id| lines.first_line(id);
        self.numbers.check(index, key, facts, text, &keys.numbers, has_error, &first_line, fill, out);
        for d in out.iter_mut().skip(from) {
            fill(d);
        }
    }

    /// Has the processor fetch the slots of the tables that
    /// [`check`](CrossRow::check) will look `facts` up in first.
    ///
    /// The tables of a large file are far larger than the caches, and a
    /// lookup in them misses: `check`, one row at a time, waits for each
    /// miss before the next. A caller that touches the slots of a few dozen
    /// rows first has their misses served together, and `check` then finds
    /// the slots in the cache.
    pub(crate) fn touch(&self, facts: &RowFacts) {
        if let Some(keys) = &facts.keys {
            self.keys.touch(keys.key);
            self.numbers.touch(&keys.numbers);
        }
    }

    /// Whether the tables are large enough to be worth
    /// [`touch`](CrossRow::touch)ing: a file of a few ten thousand rows
    /// (most uploads) has tables that stay in the cache.
    pub(crate) fn worth_touching(&self) -> bool {
        self.rows > TOUCHED_ROWS
    }

    /// Findings of earlier rows that rows since have settled: (row index,
    /// finding).
    pub(crate) fn take_settled(&mut self) -> Vec<(usize, Diagnostic)> {
        self.numbers.take_settled()
    }

    /// The first row (0-based) whose findings may still change with rows
    /// to come; `None` when every row checked so far is settled.
    pub(crate) fn first_waiting(&self) -> Option<usize> {
        self.numbers.first_waiting()
    }

    /// The findings that waited for the end of the file: (row index,
    /// finding), in row order.
    pub(crate) fn finish(self) -> Vec<(usize, Diagnostic)> {
        self.numbers.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{CrossRow, Diagnostic, FactKeys, RowFacts, SAMPLE_ROWS};

    /// A valid row's facts: a key, and the numbers it sets.
    fn facts(line: u64, key: &str, phone: Option<String>, extension: Option<(String, &str)>) -> RowFacts {
        let mut f = RowFacts {
            line,
            row: line - 1,
            key_valid: true,
            email_column: Some(0),
            phone_column: Some(1),
            extension_column: Some(2),
            ..RowFacts::default()
        };
        f.text.push_str(key);
        f.key_end = f.text.len();
        if let Some(phone) = phone {
            f.text.push_str(&phone);
            f.phone_end = Some(f.text.len());
        }
        if let Some((extension, location)) = extension {
            f.text.push_str(&extension);
            f.extension_end = Some(f.text.len());
            f.text.push_str(location);
        }
        f
    }

    /// Rows with repeated keys, phone numbers and extensions.
    fn rows(n: u64) -> Vec<RowFacts> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |below: u64| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % below
        };
        (2..n + 2)
            .map(|line| {
                let key = format!("user.{}@acme{}.example", next(n), next(2));
                let phone = (next(4) > 0).then(|| format!("+39021{:07}", next(2 * n)));
                let location = ["", "milano hq", "roma"][next(3) as usize];
                let extension = (next(4) > 0).then(|| (format!("{:04}", next(n)), location));
                facts(line, &key, phone, extension)
            })
            .collect()
    }

    /// Every row's findings, with `reserve(rows)` called before row `at`
    /// when asked; and the tables' room after the sample and at the end.
    fn check(
        rows: &[RowFacts],
        reserve: Option<(usize, usize)>,
    ) -> (Vec<Vec<Diagnostic>>, [usize; 3], [usize; 3]) {
        let mut cross = CrossRow::new(None);
        let capacities = |cross: &CrossRow<'_>| {
            let (phones, extensions) = cross.numbers.capacities();
            [cross.keys.capacity(), phones, extensions]
        };
        let mut found = Vec::new();
        let mut sampled = [0; 3];
        for (index, f) in rows.iter().enumerate() {
            if let Some((_, rows)) = reserve.filter(|&(at, _)| at == index) {
                cross.reserve(rows);
            }
            let mut out = Vec::new();
            cross.check(index, f, &|_| {}, &mut out);
            found.push(out);
            if index + 1 == SAMPLE_ROWS {
                sampled = capacities(&cross);
            }
        }
        let end = capacities(&cross);
        for (index, d) in cross.finish() {
            found[index].push(d);
        }
        (found, sampled, end)
    }

    #[test]
    fn reserving_changes_room_not_findings() {
        let mut rows = rows(3 * SAMPLE_ROWS as u64);
        let (unreserved, _, _) = check(&rows, None);
        // Keys worked out beforehand, as `check_row` does, or by the pass.
        for f in &mut rows {
            f.keys = Some(FactKeys::of(f.text()));
        }
        assert_eq!(check(&rows, None).0, unreserved);
        assert!(unreserved.iter().flatten().any(|d| d.code == super::Code::E004));
        assert!(unreserved.iter().flatten().any(|d| d.code == super::Code::N005));
        assert!(unreserved.iter().flatten().any(|d| d.code == super::Code::N007));
        // Reserved before the first row: the keys' table at once, the
        // numbers' after the sample, none grows after that.
        let (found, sampled, end) = check(&rows, Some((0, rows.len())));
        assert_eq!(found, unreserved);
        assert!(sampled[0] >= rows.len(), "{sampled:?}");
        assert_eq!(sampled, end);
        // Reserved later, after the sample, or for too few rows.
        for (at, more) in [(100, rows.len() - 100), (SAMPLE_ROWS + 5, rows.len()), (10, 10)] {
            assert_eq!(check(&rows, Some((at, more))).0, unreserved, "{at} {more}");
        }
    }
}

/// Helpers for the rules' unit tests: check a small file and pick out one
/// code's findings.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::Path;

    use super::{Code, Diagnostic};
    use crate::{Checker, FileReport, ImportMode, OrgState};

    /// An org with the users the family tests refer to: giulia (full admin,
    /// Webex Calling, Milano HQ, +390212345678, 1001), marco (Webex Calling,
    /// Milano HQ, +390212345680, 1002) and lucia (Webex Meetings, Roma).
    pub const ORG: &str = r#"{
        "package": "webex_calling",
        "packages": ["webex_calling", "webex_suite", "webex_meetings"],
        "domains": ["acme.example"],
        "locations": ["Milano HQ", "Roma"],
        "sites": ["acme.webex.com"],
        "users": [
          {"email": "giulia.rossi@acme.example", "status": "Active", "package": "webex_calling",
           "location": "Milano HQ", "phone_number": "+390212345678", "extension": "1001", "admin": "full"},
          {"email": "marco.bianchi@acme.example", "status": "Active", "package": "webex_calling",
           "location": "Milano HQ", "phone_number": "+390212345680", "extension": "1002"},
          {"email": "lucia.ferri@acme.example", "package": "webex_meetings", "location": "Roma",
           "site": "acme.webex.com"}
        ]
    }"#;

    /// Checks `csv` (without an org, or against `org` JSON) in `mode`.
    pub fn check_in(csv: &str, org: Option<&str>, mode: ImportMode) -> FileReport {
        let mut builder = Checker::builder();
        if let Some(json) = org {
            builder
                .org(OrgState::from_json(json.as_bytes(), Path::new("org.json")).expect("test org parses"));
        }
        builder.mode(mode).build().check_bytes("test.csv", csv.as_bytes().to_vec())
    }

    /// Checks `csv` in the default mode.
    pub fn check(csv: &str, org: Option<&str>) -> FileReport {
        check_in(csv, org, ImportMode::AddServices)
    }

    /// The findings of `code`.
    pub fn found(report: &FileReport, code: Code) -> Vec<&Diagnostic> {
        report.diagnostics.iter().filter(|d| d.code == code).collect()
    }

    /// The lines on which `code` fires.
    pub fn lines(csv: &str, org: Option<&str>, code: Code) -> Vec<u64> {
        found(&check(csv, org), code).iter().filter_map(|d| d.line).collect()
    }

    /// Calls `f` with the context of the first data row of `csv`, planned
    /// without an org in the default mode: to run one rule, or one path of
    /// it, on a row.
    pub fn with_row<T>(csv: &str, f: impl FnOnce(&super::RowContext<'_>) -> T) -> T {
        use crate::header::{Field, Header};
        use crate::plan::{plan_row, PlanContext};
        use crate::{Options, Profile};

        let source = crate::read::Source::decode(csv.as_bytes().to_vec(), None);
        let mut records = source.records();
        let titles = records.next().expect("a header");
        let profile = Profile::default();
        let header = Header::parse(&titles.fields.iter().collect::<Vec<_>>(), titles.line, &profile);
        let record = records.next().expect("a data row");
        let row = crate::row::Row { line: record.line, row: 1, record: &record, header: &header };
        let key = row.raw(Field::Email).map(crate::text::email_key).unwrap_or_default();
        let options = Options::default();
        let intent = plan_row(&row, &key, &PlanContext { profile: &profile, org: None, mode: options.mode });
        let cx = super::RowContext {
            row,
            key: &key,
            intent: &intent,
            licences: row.licence_cells(),
            org_user: None,
            profile: &profile,
            org: None,
            options: &options,
        };
        f(&cx)
    }
}
