//! The driver proper: records read a chunk at a time, checked in parallel,
//! handed over in input order through the cross-row rules.

use super::*;

/// Rows read and checked at a time: enough to keep both cores busy between
/// two reads, few enough that a streamed file's chunk stays small. Three
/// chunks of records and two of results are alive at once: at a million
/// rows, 4096 rows a chunk took 9 MB more at the peak than 2048, and no
/// less time.
pub(super) const CHUNK: usize = 2048;

/// Rows in the first chunk, and in the smallest (see [`ChunkSizes`]). The
/// first chunk is read with nothing to check beside it, and the last one
/// handed over with nothing left to check: both are small, so that a file
/// of a few thousand rows (most uploads) spends little time with one core
/// idle.
const FIRST_CHUNK: usize = 256;

/// The sizes of the chunks a file is read in.
///
/// Chunks start at [`FIRST_CHUNK`] rows and double up to [`CHUNK`], or to
/// a sixteenth of the rows the file is expected to hold: the records and
/// results of three chunks are alive at once, and each page of them is
/// fresh memory, which costs a fault of some microseconds on a virtual
/// machine (a file of 20,000 rows in chunks of up to 1,250 rather than
/// 2,048: 3,900 faults down to 3,100, a twentieth of the wall time). Near
/// the expected end they shrink again, each to half the rows left (not
/// below [`FIRST_CHUNK`]): the last chunk's rows are handed over with
/// nothing left to check beside them, one core idle, so that chunk should
/// be short. A file longer than expected goes on in the largest chunks.
#[derive(Clone, Copy, Debug)]
pub(super) struct ChunkSizes {
    size: usize,
    largest: usize,
    expected: Option<u64>,
}

impl ChunkSizes {
    /// The sizes for a file expected to hold `expected` data rows (see
    /// [`expected_rows`]), after a first chunk of [`FIRST_CHUNK`].
    pub(super) fn new(expected: Option<u64>) -> ChunkSizes {
        let largest = expected
            .map_or(CHUNK, |rows| usize::try_from(rows / 16).unwrap_or(CHUNK).clamp(FIRST_CHUNK, CHUNK));
        ChunkSizes { size: FIRST_CHUNK, largest, expected }
    }

    /// The size of the next chunk, `read` data rows read so far.
    pub(super) fn next(&mut self, read: u64) -> usize {
        self.size = (self.size * 2).min(self.largest);
        match self.expected.and_then(|expected| expected.checked_sub(read)).filter(|&left| left > 0) {
            Some(left) => self.size.min(usize::try_from(left / 2).unwrap_or(usize::MAX).max(FIRST_CHUNK)),
            None => self.size,
        }
    }
}

/// The most rows of a chunk checked as one piece of work. The thread that
/// reads and hands over rows checks rows too once it is done, taking the
/// pieces not yet begun; rayon's own split of a chunk on two threads is
/// four pieces of 512 rows, and that thread came to find the last piece
/// already taken and waited for it: at a million rows, 15% of its time in
/// the second half of the run (where handing rows over costs most, its
/// tables large), 2.5% of the wall time in all. Pieces of 64 rows leave
/// it little to wait for, at the cost of some 30 more splits a chunk.
const PIECE: usize = 64;

/// Rows whose slots in the cross-row tables are fetched together before
/// they are looked up (see [`CrossRow::touch`]): enough for the processor
/// to have a few dozen cache misses under way at once, few enough that the
/// slots are still in the first-level cache when their rows come. (With
/// the slots fetched rather than read, 16, 64 and 128 measured the same.)
const TOUCHED: usize = 32;

/// What checking one row gives.
///
/// The driver keeps a chunk's worth of these, and a row's check writes its
/// result into its slot: a result is some 450 bytes, and returned through
/// rayon's collect it was copied several times (3% of the instructions of
/// a 20,000-row check).
pub(super) struct RowResult {
    /// The row's place and operation; its email and the operation's
    /// details only for a caller that reads them ([`RowOps::Owned`]).
    pub(super) planned: PlannedRow,
    /// What the row does unless an error rejects it.
    pub(super) kind: OpKind,
    /// What the cross-row rules compare.
    pub(super) facts: RowFacts,
    pub(super) diagnostics: Vec<Diagnostic>,
    /// `planned` serialised as JSON, when the driver was asked to (see
    /// [`RowOps::Json`]).
    pub(super) json: Option<Vec<u8>>,
}

impl RowResult {
    /// A slot for a row's result, before the row is checked.
    fn empty() -> RowResult {
        RowResult {
            planned: PlannedRow::none(),
            kind: OpKind::Rejected,
            facts: RowFacts::default(),
            diagnostics: Vec::new(),
            json: None,
        }
    }
}

/// How the driver treats the rows it checks.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rows {
    /// Reject the rows past the row limit as they are checked (F004 rejects
    /// the whole file anyway): what they would do need not be kept.
    pub(super) limit: bool,
    /// What is kept of each row's operation.
    pub(super) operations: RowOps,
    /// The input's size in bytes, when known (a file): the first rows
    /// tell how many there are in all (see [`expected_rows`]).
    pub(super) input_bytes: Option<u64>,
    /// The most data rows the input can hold (the record limit): a file
    /// whose first rows are short and the rest long would be thought to
    /// hold far more rows than it does.
    pub(super) most_rows: u64,
}

impl Default for Rows {
    /// Every row kept as it is checked, its operation owned; nothing known
    /// of the input's size.
    fn default() -> Rows {
        Rows { limit: false, operations: RowOps::Owned, input_bytes: None, most_rows: u64::MAX }
    }
}

/// How many data rows an input of `input_bytes` bytes holds, judged from
/// its first `records` (the header included in their spans): rows are of
/// a kind in a user file.
pub(super) fn expected_rows(input_bytes: Option<u64>, records: &[Record]) -> Option<u64> {
    let read = records.last()?.span.end as u64;
    (read > 0).then(|| input_bytes.map(|bytes| bytes.saturating_mul(records.len() as u64) / read)).flatten()
}

/// How many rows to make room for in the cross-row tables when `expected`
/// are expected (see [`expected_rows`]): a sixteenth to spare (the first
/// rows are not the file), and never more than `most_rows`.
pub(super) fn rows_to_reserve(expected: u64, most_rows: u64) -> usize {
    let rows = expected.saturating_add(expected / 16).min(most_rows);
    usize::try_from(rows).unwrap_or(usize::MAX)
}

/// What the driver keeps of a row's operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum RowOps {
    /// The owned [`Operation`], for a caller that reads it.
    #[default]
    Owned,
    /// Its JSON (for a report that spools the operations), made where the
    /// row is checked, in parallel, rather than where the rows are handed
    /// over in order, one at a time; the operation keeps only its kind.
    Json,
    /// Only its kind, for a report that only counts the operations.
    Kind,
}

/// What the driver watches as it reads: the input's name for errors, and
/// the limits when the input is not trusted.
pub(super) struct Watch<'a> {
    pub(super) path: &'a Path,
    pub(super) limits: Option<&'a Limits>,
    /// Whether to copy each record's raw text into it (for a report made
    /// from a stream, which quotes the rows with findings).
    pub(super) keep_raw: bool,
    /// Records read, header included.
    pub(super) records: u64,
    /// Findings made so far (before the cross-row rules).
    pub(super) findings: u64,
}

impl<'a> Watch<'a> {
    pub(super) fn new(path: &'a Path, limits: Option<&'a Limits>) -> Watch<'a> {
        Watch { path, limits, keep_raw: false, records: 0, findings: 0 }
    }

    /// Reads the next record into `slot`, checking it against the limits.
    pub(super) fn read(
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

    /// Counts `found` more findings, `line` the last checked row's line:
    /// stopping here keeps a file with a finding in every cell (or a
    /// duplicate on every row) from filling memory.
    pub(super) fn count_findings(&mut self, found: u64, line: u64) -> Result<()> {
        self.findings += found;
        match self.limits {
            Some(limits) => limits.check_findings(self.path, self.findings, line),
            None => Ok(()),
        }
    }

    /// Reads up to `size` records into `slots`, reusing the records there;
    /// returns how many it read.
    pub(super) fn fill(
        &mut self,
        reader: &mut RecordReader<'_>,
        slots: &mut Vec<Record>,
        header: &Header,
        size: usize,
    ) -> Result<usize> {
        for filled in 0..size {
            if slots.len() == filled {
                slots.push(Record::default());
            }
            let Some(slot) = slots.get_mut(filled) else { return Ok(filled) };
            if !self.read(reader, slot, Some(header))? {
                return Ok(filled);
            }
        }
        Ok(size)
    }
}

/// A row checked, its cross-row findings made, as handed over: what it
/// holds stays where it is (the result's slot, the record, or the row's
/// place in the queue of rows that wait), and a caller takes what it keeps.
/// Nothing of a row is copied or allocated to hand it over, unless it waits.
pub(super) struct Checked<'a> {
    /// As in [`RowResult::planned`], rejected if an error was found.
    pub(super) planned: &'a mut PlannedRow,
    /// What the row does unless an error rejects it.
    pub(super) kind: OpKind,
    pub(super) diagnostics: &'a mut Vec<Diagnostic>,
    pub(super) span: Range<usize>,
    /// The record's raw text, when kept (see [`Watch::keep_raw`]) and the
    /// row may have findings.
    pub(super) raw: Option<&'a [u8]>,
    /// Whether the record holds bytes that are not UTF-8 (F001 quotes the
    /// first such row).
    pub(super) not_utf8: bool,
    /// `planned` as JSON, when asked for, as the row's own check made it:
    /// a row that [`settle`] rejects keeps it, and the spool writes it
    /// rejected ([`Spool::push_rejected`](crate::report::spool::Spool::push_rejected)).
    pub(super) json: Option<&'a [u8]>,
    /// Whether [`settle`] rejected a row that its own check had not (its
    /// JSON then says what the check planned).
    pub(super) rejected_since: bool,
}

/// A row whose findings wait on rows to come (see [`Run`]): what it hands
/// over once they are settled, its own, as its result's slot and record
/// are reused for the next chunk's rows.
struct Waiting {
    planned: PlannedRow,
    kind: OpKind,
    diagnostics: Vec<Diagnostic>,
    span: Range<usize>,
    raw: Option<Box<[u8]>>,
    not_utf8: bool,
    json: Option<Vec<u8>>,
}

impl Waiting {
    /// The row as handed over, once settled.
    fn checked(&mut self) -> Checked<'_> {
        Checked {
            planned: &mut self.planned,
            kind: self.kind,
            diagnostics: &mut self.diagnostics,
            span: self.span.clone(),
            raw: self.raw.as_deref(),
            not_utf8: self.not_utf8,
            json: self.json.as_deref(),
            rejected_since: false,
        }
    }
}

/// The rows of one file after the per-row rules: the cross-row rules, and
/// the rows whose findings wait on rows still to come.
struct Run<'o> {
    cross: CrossRow<'o>,
    waiting: VecDeque<Waiting>,
    /// The 0-based index of the row at the front of `waiting`.
    first_waiting: usize,
}

impl<'o> Run<'o> {
    /// Nothing seen yet.
    fn new(org: Option<&'o OrgState>) -> Run<'o> {
        Run { cross: CrossRow::new(org), waiting: VecDeque::new(), first_waiting: 0 }
    }

    /// Runs the cross-row rules on a chunk and hands over, in order, every
    /// row whose findings are settled: at once when no row waits (most
    /// rows), else once the rows it waits behind are. Returns how many
    /// findings the chunk's rows made, their own and the cross-row ones.
    fn push(
        &mut self,
        header: &Header,
        records: &[Record],
        results: &mut [RowResult],
        emit: &mut dyn FnMut(&mut Checked<'_>),
    ) -> u64 {
        let mut found = 0;
        for (i, record) in records.iter().enumerate() {
            if i % TOUCHED == 0 && self.cross.worth_touching() {
                // The slots of the next rows, fetched before they are looked
                // up (see `CrossRow::touch`).
                let next = results.get(i..records.len()).unwrap_or_default();
                next.iter().take(TOUCHED).for_each(|r| self.cross.touch(&r.facts));
            }
            // The row's facts are only read: the result stays in its slot
            // (the next chunk's rows are checked into it).
            let Some(result) = results.get_mut(i) else { break };
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
            self.cross.check(index, &result.facts, &fill, &mut result.diagnostics);
            result.diagnostics.iter_mut().for_each(fill);
            found += result.diagnostics.len() as u64;
            // Findings of rows that wait, settled by this one (which is not
            // in the queue yet: one of its own goes to it).
            let settled = self.cross.take_settled();
            found += settled.len() as u64;
            for (at, d) in settled {
                match at == index {
                    true => result.diagnostics.push(d),
                    false => self.attach(at, d),
                }
            }
            let raw = (!record.raw.is_empty()).then_some(record.raw.as_slice());
            if self.waiting.is_empty() && self.cross.first_waiting().is_none() {
                self.first_waiting += 1;
                let checked = Checked {
                    planned: &mut result.planned,
                    kind: result.kind,
                    diagnostics: &mut result.diagnostics,
                    span: record.span.clone(),
                    raw,
                    not_utf8: record.not_utf8,
                    json: result.json.as_deref(),
                    rejected_since: false,
                };
                hand_over(checked, emit);
                continue;
            }
            // A row that waits may get findings later; F001 quotes the
            // first row that is not UTF-8.
            let quotable =
                !result.diagnostics.is_empty() || self.cross.first_waiting().is_some() || record.not_utf8;
            self.waiting.push_back(Waiting {
                planned: std::mem::replace(&mut result.planned, PlannedRow::none()),
                kind: result.kind,
                diagnostics: std::mem::take(&mut result.diagnostics),
                span: record.span.clone(),
                raw: raw.filter(|_| quotable).map(Box::from),
                not_utf8: record.not_utf8,
                json: result.json.take(),
            });
        }
        let settled = self.cross.first_waiting().unwrap_or(usize::MAX);
        while self.first_waiting < settled {
            let Some(mut waiting) = self.waiting.pop_front() else { break };
            self.first_waiting += 1;
            hand_over(waiting.checked(), emit);
        }
        found
    }

    /// Gives a finding that waited to its row (which waited with it), the
    /// row at `index`.
    fn attach(&mut self, index: usize, d: Diagnostic) {
        if let Some(waiting) = index.checked_sub(self.first_waiting).and_then(|i| self.waiting.get_mut(i)) {
            waiting.diagnostics.push(d);
        }
    }

    /// Adds the findings that waited for the end and hands over the rest.
    fn finish(mut self, emit: &mut dyn FnMut(&mut Checked<'_>)) {
        let found = std::mem::replace(&mut self.cross, CrossRow::new(None)).finish();
        for (index, d) in found {
            self.attach(index, d);
        }
        for mut waiting in self.waiting {
            hand_over(waiting.checked(), emit);
        }
    }
}

/// Settles a row and hands it to `emit`.
fn hand_over(mut checked: Checked<'_>, emit: &mut dyn FnMut(&mut Checked<'_>)) {
    settle(&mut checked);
    emit(&mut checked);
}

/// Orders a row's findings and rejects it if one is an error.
fn settle(checked: &mut Checked<'_>) {
    checked.diagnostics.sort_by_key(Diagnostic::sort_key);
    if checked.diagnostics.iter().any(Diagnostic::is_error) {
        checked.rejected_since = checked.planned.operation.kind() != OpKind::Rejected;
        checked.planned.operation = Operation::Rejected;
    }
}

impl Checker {
    /// Reads the data records in chunks and checks the rows of each chunk
    /// in parallel while the next chunk is read and the previous one goes
    /// through the cross-row rules ([`Run`]), which hand each row to `emit`
    /// in input order once its findings are settled. The findings limit is
    /// checked after each chunk. Returns the number of data rows.
    pub(super) fn drive(
        &self,
        header: &Header,
        reader: &mut RecordReader<'_>,
        rows: Rows,
        watch: &mut Watch<'_>,
        emit: &mut dyn FnMut(&mut Checked<'_>),
    ) -> Result<u64> {
        let mut run = Run::new(self.org());
        // Three sets of records turn around: one being checked, one being
        // read, one being consumed.
        let (mut checking, mut reading, mut consuming) = (Vec::new(), Vec::new(), Vec::new());
        let (mut results, mut done) = (Vec::with_capacity(CHUNK), Vec::with_capacity(CHUNK));
        let mut filled = watch.fill(reader, &mut checking, header, FIRST_CHUNK)?;
        let expected = expected_rows(rows.input_bytes, checking.get(..filled).unwrap_or_default());
        if let Some(expected) = expected {
            run.cross.reserve(rows_to_reserve(expected, rows.most_rows));
        }
        let mut sizes = ChunkSizes::new(expected);
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
                        if results.len() < records.len() {
                            results.resize_with(records.len(), RowResult::empty);
                        }
                        records
                            .par_iter()
                            .zip(results.par_iter_mut())
                            .enumerate()
                            .with_max_len(PIECE)
                            .for_each(|(i, (record, out))| {
                                self.check_record(header, record, first_row + i as u64, rows, out)
                            });
                    });
                    let size = sizes.next(first_row - 1 + filled as u64);
                    next = watch.fill(reader, &mut reading, header, size);
                }
                if consumable > 0 {
                    let consumed: &[Record] = consuming.get(..consumable).unwrap_or_default();
                    let line = consumed.last().map_or(0, |r| r.line);
                    let found = run.push(header, consumed, &mut done, emit);
                    counted = watch.count_findings(found, line);
                }
            });
            counted?;
            if filled == 0 {
                run.finish(emit);
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

    /// Plans and checks one data record, as `mode` says, into `out`.
    fn check_record(&self, header: &Header, record: &Record, row: u64, mode: Rows, out: &mut RowResult) {
        let row = Row { line: record.line, row, record, header };
        let key = row.raw(Field::Email).map(email_key).unwrap_or_default();
        let plan_cx = PlanContext { profile: &self.profile, org: self.org(), mode: self.options.mode };
        let org_user = self.org().and_then(|org| org.user_index(&key));
        if let (Some(org), Some(user)) = (self.org(), org_user) {
            // Fetched while the row's licence cells are read, before the plan.
            org.touch_user(user);
        }
        let licences = row.licence_cells();
        let intent = plan_row_of(&row, &key, &plan_cx, org_user, &licences);
        let cx = RowContext {
            row,
            key: &key,
            intent: &intent,
            licences,
            org_user,
            profile: &self.profile,
            org: self.org(),
            options: &self.options,
        };
        out.diagnostics.clear();
        rules::check_row(&cx, &mut out.diagnostics, &mut out.facts);
        let kind = intent.operation.kind();
        // Past the row limit, what the row would do is dropped on the thread
        // that made it.
        let operation = match mode.limit && row.row > self.options.max_rows {
            true => &OperationRef::Rejected,
            false => &intent.operation,
        };
        if mode.operations == RowOps::Json {
            // The slot's buffer, from the row checked into it before: room
            // for a typical add at first, one allocation, no regrowth.
            let json = out.json.get_or_insert_with(|| Vec::with_capacity(192 + key.len()));
            json.clear();
            operation.write_json(json, row.line, row.row, &key, &self.profile, &self.base_licence_lists);
        }
        // Unless the caller reads the operation, the row keeps only its
        // kind: its text is not copied.
        let operation = match mode.operations {
            RowOps::Owned => operation.to_operation(&self.profile),
            RowOps::Json | RowOps::Kind => Operation::of_kind(operation.kind()),
        };
        // Only a caller that reads the operation reads the email: the JSON
        // holds it, and a report that counts has no use for it. Not handing
        // it over spares a string freed on another thread than made it.
        let email = match mode.operations {
            RowOps::Owned => key,
            RowOps::Json | RowOps::Kind => String::new(),
        };
        let planned = PlannedRow { line: row.line, row: row.row, email, operation };
        out.planned = planned;
        out.kind = kind;
    }
}

#[cfg(test)]
mod tests {
    use super::{ChunkSizes, CHUNK, FIRST_CHUNK};

    /// The chunks a file of `rows` rows is read in, expected to hold
    /// `expected`.
    fn chunks(rows: u64, expected: Option<u64>) -> Vec<usize> {
        let mut sizes = ChunkSizes::new(expected);
        let (mut read, mut chunks) = (0, Vec::new());
        let mut size = FIRST_CHUNK;
        while read < rows {
            let chunk = size.min(usize::try_from(rows - read).unwrap());
            chunks.push(chunk);
            read += chunk as u64;
            size = sizes.next(read);
        }
        chunks
    }

    #[test]
    fn chunks_grow_then_shrink_toward_the_expected_end() {
        let got = chunks(60_000, Some(60_000));
        assert_eq!(got.iter().sum::<usize>(), 60_000);
        let peak = got.iter().position(|&c| c == CHUNK).unwrap();
        assert!(got[..=peak].windows(2).all(|w| w[1] == 2 * w[0]), "{got:?}");
        assert!(got[peak..].windows(2).all(|w| w[1] <= w[0]), "{got:?}");
        assert!(*got.last().unwrap() <= FIRST_CHUNK, "{got:?}");
        // Without the tapering, the last chunk would be a whole one.
        assert!(got.len() < 60_000 / CHUNK + 8, "{got:?}");
        // A smaller file stops growing at a sixteenth of its rows.
        let got = chunks(20_000, Some(20_000));
        assert_eq!(got.iter().max(), Some(&1_250), "{got:?}");
    }

    #[test]
    fn a_file_longer_than_expected_goes_on_in_large_chunks() {
        let got = chunks(120_000, Some(60_000));
        assert_eq!(got.iter().sum::<usize>(), 120_000);
        // Once past the expected end, every chunk but the last is whole.
        let starts = got.iter().scan(0, |read, &c| Some(std::mem::replace(read, *read + c)));
        let past: Vec<usize> =
            got.iter().zip(starts).filter(|&(_, at)| at >= 60_000).map(|(&c, _)| c).collect();
        assert!(past.len() > 8 && past[..past.len() - 1].iter().all(|&c| c == CHUNK), "{got:?}");
        // Of unknown size: no shrinking at all.
        let got = chunks(60_000, None);
        assert!(got[got.len() - 6..got.len() - 1].iter().all(|&c| c == CHUNK), "{got:?}");
    }
}
