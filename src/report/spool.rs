//! Operations kept on disk while a large file is checked.
//!
//! The JSON report lists the summary first and every row's operation last,
//! but the summary is known only once the last row is checked. Keeping a
//! million planned operations in memory until then would cost several times
//! the input; a [`Spool`] writes each one, already serialised, to an
//! anonymous temporary file (deleted by the system when closed) and reads
//! them back, in order, when the report is written.
//!
//! The file holds the JSON report's array as it is written, without its
//! brackets: the objects, a comma between two. Most of it is copied to the
//! report as it is, by the system when the report goes to a file
//! ([`RenderOptions::output_file`](super::RenderOptions::output_file)).
//! Every object starts `{"line":`, which no string inside one can hold
//! unescaped, so the objects are told apart where a comma is followed by
//! that ([`SEPARATOR`]).

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use crate::plan::{Operation, PlannedRow};

/// Serialised operations, a comma between two, in input order.
pub(crate) struct Spool {
    out: BufWriter<File>,
    len: u64,
    /// How many objects there are up to the last one pushed as planned,
    /// not known to be rejected: only those may need rewriting (see
    /// [`Spooled::rewrite`]).
    rewritable: u64,
    /// The object being written, reused from one to the next.
    object: Vec<u8>,
}

impl Spool {
    /// An empty spool in a new anonymous temporary file.
    pub(crate) fn new() -> io::Result<Spool> {
        Ok(Spool {
            out: BufWriter::with_capacity(1 << 16, tempfile::tempfile()?),
            len: 0,
            rewritable: 0,
            object: Vec::with_capacity(256),
        })
    }

    /// Appends one operation.
    pub(crate) fn push(&mut self, planned: &PlannedRow) -> io::Result<()> {
        let mut object = std::mem::take(&mut self.object);
        object.clear();
        planned.write_json(&mut object);
        let written = match planned.operation {
            Operation::Rejected => self.push_json_rejected(&object),
            _ => self.push_json(&object),
        };
        self.object = object;
        written
    }

    /// Appends one operation already serialised (by
    /// [`PlannedRow::write_json`], as [`push`](Spool::push) does).
    pub(crate) fn push_json(&mut self, object: &[u8]) -> io::Result<()> {
        self.push_json_rejected(object)?;
        self.rewritable = self.len;
        Ok(())
    }

    /// Appends one operation already serialised as a `rejected` one: it is
    /// not read again to be rewritten when the file is rejected. Like every
    /// object of the spool's writers, it starts `{"line":`.
    pub(crate) fn push_json_rejected(&mut self, object: &[u8]) -> io::Result<()> {
        debug_assert!(object.starts_with(OBJECT_START), "an object starts with its line");
        if self.len > 0 {
            self.out.write_all(b",")?;
        }
        self.len += 1;
        self.out.write_all(object)
    }

    /// Appends one operation already serialised, as
    /// [`push_json`](Spool::push_json) does, but rejected: the row's own
    /// check planned it, and a finding since (a duplicate further up, say)
    /// rejects it.
    pub(crate) fn push_rejected(&mut self, object: &[u8]) -> io::Result<()> {
        if already_rejected(object) {
            return self.push_json_rejected(object);
        }
        let mut rewritten = std::mem::take(&mut self.object);
        rewritten.clear();
        let written = rejected(object, &mut rewritten).and_then(|()| self.push_json_rejected(&rewritten));
        self.object = rewritten;
        written
    }

    /// The operations written; with `rejected`, each is read back as
    /// `rejected` (a file-level error refuses every row).
    pub(crate) fn finish(self, rejected: bool) -> io::Result<Spooled> {
        let file = self.out.into_inner().map_err(io::IntoInnerError::into_error)?;
        Ok(Spooled { file: Arc::new(Mutex::new(file)), len: self.len, rewritable: self.rewritable, rejected })
    }
}

/// The operations of a [`Spool`], ready to be read back (any number of
/// times).
#[derive(Clone)]
pub(crate) struct Spooled {
    file: Arc<Mutex<File>>,
    len: u64,
    /// As in [`Spool`]: the objects after the first `rewritable` are
    /// rejected already (a file's rows past the row limit, which F004
    /// rejects), and are not read again to be rewritten.
    rewritable: u64,
    rejected: bool,
}

impl fmt::Debug for Spooled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spooled")
            .field("len", &self.len)
            .field("rewritable", &self.rewritable)
            .field("rejected", &self.rejected)
            .finish()
    }
}

/// What a spooled object must hold to be rewritten as `rejected`.
#[derive(serde::Deserialize)]
struct Place<'a> {
    line: u64,
    row: u64,
    #[serde(borrow)]
    email: std::borrow::Cow<'a, str>,
}

impl Spooled {
    /// How many operations there are.
    #[cfg(test)]
    fn len(&self) -> u64 {
        self.len
    }

    /// Calls `each` with every operation as a JSON object, in input order.
    pub(crate) fn for_each(&self, mut each: impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        let mut rewritten = Vec::with_capacity(256);
        let mut index = 0;
        self.for_each_object(|_, object| {
            index += 1;
            match self.rewrite(index - 1, object, &mut rewritten)? {
                true => each(&rewritten)?,
                false => each(object)?,
            }
            Ok(ControlFlow::Continue(()))
        })
    }

    /// Writes every operation to `out`, a comma between two: the JSON
    /// report's array. Only the objects that may have to be rewritten as
    /// rejected are read one at a time; the rest of the spool is its bytes,
    /// copied as they are, by the system when `file` is given (the file
    /// `out` writes to: `out` is flushed first).
    pub(crate) fn write_separated(&self, out: &mut dyn Write, file: Option<&File>) -> io::Result<()> {
        let mut copy_from = Some(0);
        if self.rejected && self.rewritable > 0 {
            let (mut rewritten, mut index) = (Vec::with_capacity(256), 0);
            copy_from = None;
            self.for_each_object(|offset, object| {
                if index == self.rewritable {
                    // From the comma before it on.
                    copy_from = Some(offset.saturating_sub(1));
                    return Ok(ControlFlow::Break(()));
                }
                if index > 0 {
                    out.write_all(b",")?;
                }
                match self.rewrite(index, object, &mut rewritten)? {
                    true => out.write_all(&rewritten)?,
                    false => out.write_all(object)?,
                }
                index += 1;
                Ok(ControlFlow::Continue(()))
            })?;
        }
        match copy_from {
            Some(offset) => self.copy_from(offset, out, file),
            None => Ok(()),
        }
    }

    /// Writes `out` the spool's bytes from `offset` on, as
    /// [`write_separated`](Self::write_separated) says.
    fn copy_from(&self, offset: u64, out: &mut dyn Write, file: Option<&File>) -> io::Result<()> {
        let mut spool = self.file_at(offset)?;
        if let Some(mut file) = file {
            out.flush()?;
            // `copy_file_range` or `sendfile` on Linux: the bytes do not
            // come up into the process.
            io::copy(&mut *spool, &mut file)?;
        } else {
            // A block at a time (`io::copy` writes a `BufReader`'s whole
            // buffer at once).
            io::copy(&mut io::BufReader::with_capacity(BLOCK, &mut *spool), out)?;
        }
        Ok(())
    }

    /// Writes `object`, the one at `index`, into `rewritten` (cleared
    /// first) as a `rejected` operation when the file is rejected and the
    /// object is not already; returns whether it did.
    fn rewrite(&self, index: u64, object: &[u8], rewritten: &mut Vec<u8>) -> io::Result<bool> {
        if !self.rejected || index >= self.rewritable || already_rejected(object) {
            return Ok(false);
        }
        rewritten.clear();
        rejected(object, rewritten)?;
        Ok(true)
    }

    /// The spool's file, its position at `offset`.
    fn file_at(&self, offset: u64) -> io::Result<std::sync::MutexGuard<'_, File>> {
        let mut file = self.file.lock().map_err(|_| io::Error::other("the operations spool was poisoned"))?;
        file.seek(SeekFrom::Start(offset))?;
        Ok(file)
    }

    /// Calls `each` with every object of the spool in order, and the offset
    /// it starts at, until `each` breaks.
    fn for_each_object(
        &self,
        mut each: impl FnMut(u64, &[u8]) -> io::Result<ControlFlow<()>>,
    ) -> io::Result<()> {
        let mut file = self.file_at(0)?;
        let separator = memchr::memmem::Finder::new(SEPARATOR);
        let mut buf = vec![0; BLOCK];
        // `buf[..filled]` holds the spool from offset `base`.
        let (mut filled, mut base) = (0, 0u64);
        loop {
            if filled == buf.len() {
                // One object longer than a block.
                buf.resize(buf.len() * 2, 0);
            }
            let read = match file.read(buf.get_mut(filled..).unwrap_or_default()) {
                Ok(read) => read,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            filled += read;
            let bytes = buf.get(..filled).unwrap_or_default();
            // Each object followed by a separator is whole.
            let mut from = 0;
            for at in separator.find_iter(bytes) {
                if each(base + from as u64, bytes.get(from..at).unwrap_or_default())?.is_break() {
                    return Ok(());
                }
                from = at + 1;
            }
            if read == 0 {
                // The last object ends the spool.
                if filled > from {
                    // Whether it breaks or not, nothing follows.
                    let _ = each(base + from as u64, bytes.get(from..).unwrap_or_default())?;
                }
                return Ok(());
            }
            buf.copy_within(from..filled, 0);
            filled -= from;
            base += from as u64;
        }
    }
}

/// What starts every object of the spool after the first, the comma before
/// it included: JSON escapes every quote inside a string, so no string holds
/// it.
const SEPARATOR: &[u8] = b",{\"line\":";

/// What starts every object of the spool.
const OBJECT_START: &[u8] = SEPARATOR.split_at(1).1;

/// Bytes read back from the spool at a time: more than the command line's
/// output buffer (so that a block goes straight through it, not copied
/// once more), and few pages: each page of fresh memory costs a fault, some
/// microseconds on a virtual machine, where a read of a page from the
/// system's cache costs a fraction of that.
const BLOCK: usize = 1 << 17;

/// Appends `object`, a spooled operation, as a `rejected` one. The spool's
/// own writer starts every object `{"line":L,"row":R,"op":"K","email":E`:
/// the object is cut after the email, whose JSON text is kept as it is.
/// Anything else is read with serde.
fn rejected(object: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    if let Some((place, email)) = split_place(object) {
        out.extend_from_slice(place);
        out.extend_from_slice(b"\"op\":\"rejected\",\"email\":");
        out.extend_from_slice(email);
        out.push(b'}');
        return Ok(());
    }
    let place: Place<'_> = serde_json::from_slice(object)?;
    let planned = PlannedRow {
        line: place.line,
        row: place.row,
        email: place.email.into_owned(),
        operation: Operation::Rejected,
    };
    planned.write_json(out);
    Ok(())
}

/// What follows `{"line":L,"row":R,` in an object in the spool writer's
/// layout.
fn after_place(object: &[u8]) -> Option<&[u8]> {
    let digits = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
    let after_line = object.strip_prefix(OBJECT_START)?;
    let after_row = after_line.get(digits(after_line)..)?.strip_prefix(b",\"row\":")?;
    after_row.get(digits(after_row)..)?.strip_prefix(b",")
}

/// `{"line":L,"row":R,` and the email's JSON string of an object in the
/// spool writer's layout.
fn split_place(object: &[u8]) -> Option<(&[u8], &[u8])> {
    let after_place = after_place(object)?;
    let place = object.get(..object.len() - after_place.len())?;
    let kind = after_place.strip_prefix(b"\"op\":\"")?;
    let email = kind
        .get(kind.iter().take_while(|b| b.is_ascii_lowercase()).count()..)?
        .strip_prefix(b"\",\"email\":")?;
    // The string ends at the first quote not escaped by a backslash.
    let mut escaped = false;
    let len =
        1 + email.iter().skip(1).position(|&b| {
            let end = b == b'"' && !escaped;
            escaped = b == b'\\' && !escaped;
            end
        })? + 1;
    email.first().filter(|&&b| b == b'"')?;
    Some((place, email.get(..len)?))
}

/// Whether a spooled object is already a `rejected` operation (the rows
/// past the row limit are spooled so): its `op` comes right after the line
/// and row numbers, before any text from the file.
fn already_rejected(object: &[u8]) -> bool {
    if let Some(kind) = after_place(object).and_then(|rest| rest.strip_prefix(b"\"op\":\"")) {
        return kind.starts_with(b"rejected\"");
    }
    const OP: &[u8] = b"\"op\":\"";
    let Some(at) = memchr::memmem::find(object, OP) else { return false };
    object.get(at + OP.len()..).is_some_and(|rest| rest.starts_with(b"rejected\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<PlannedRow> {
        (1..=300)
            .map(|i| PlannedRow {
                line: i + 1,
                row: i,
                // Quotes, line breaks and what starts an object in the spool.
                email: format!("user{i}\"\n,{{\"line\":{i}@acme.example"),
                operation: if i % 7 == 0 {
                    Operation::Rejected
                } else if i % 2 == 0 {
                    Operation::Add {
                        package: Some("webex_calling".into()),
                        base_licenses: vec!["calling".into()],
                    }
                } else {
                    Operation::Unchanged
                },
            })
            .collect()
    }

    /// A row's object as the spool's writers make it.
    fn json(row: &PlannedRow) -> Vec<u8> {
        let mut object = Vec::new();
        row.write_json(&mut object);
        object
    }

    fn spooled(rows: &[PlannedRow], rejected: bool) -> Spooled {
        let mut spool = Spool::new().unwrap();
        for row in rows {
            spool.push(row).unwrap();
        }
        spool.finish(rejected).unwrap()
    }

    fn objects(spooled: &Spooled) -> Vec<Vec<u8>> {
        let mut objects = Vec::new();
        spooled
            .for_each(|o| {
                objects.push(o.to_vec());
                Ok(())
            })
            .unwrap();
        objects
    }

    fn read_back(rejected: bool) -> Vec<Vec<u8>> {
        let spooled = spooled(&rows(), rejected);
        assert_eq!(spooled.len(), 300);
        let got = objects(&spooled);
        // Read twice, the same.
        assert_eq!(got, objects(&spooled));
        got
    }

    #[test]
    fn operations_come_back_as_serde_wrote_them() {
        let expected: Vec<Vec<u8>> = rows().iter().map(|r| serde_json::to_vec(r).unwrap()).collect();
        assert_eq!(read_back(false), expected);
    }

    /// The JSON report's array: the objects as `for_each` gives them, a
    /// comma between two.
    #[test]
    fn written_separated_is_the_objects_joined_by_commas() {
        for rejected in [false, true] {
            let mut rows = rows();
            // An object longer than a block of the read-back.
            rows[150].email = format!("{}\\\"@acme.example", "x".repeat(BLOCK * 2));
            let spooled = spooled(&rows, rejected);
            let objects = objects(&spooled);
            assert_eq!(objects.len(), rows.len());
            let mut written = Vec::new();
            spooled.write_separated(&mut written, None).unwrap();
            assert_eq!(written, objects.join(&b","[..]), "rejected: {rejected}");
        }
        let empty = Spool::new().unwrap().finish(false).unwrap();
        let mut written = Vec::new();
        empty.write_separated(&mut written, None).unwrap();
        assert!(written.is_empty());
    }

    /// What a file holds once `before`, the array (copied by the system,
    /// the writer flushed first) and `after` are written to it.
    fn copied_into_a_file(spooled: &Spooled, before: &[u8], after: &[u8]) -> Vec<u8> {
        let file = tempfile::tempfile().unwrap();
        let twin = file.try_clone().unwrap();
        let mut out = BufWriter::new(file);
        out.write_all(before).unwrap();
        spooled.write_separated(&mut out, Some(&twin)).unwrap();
        out.write_all(after).unwrap();
        let mut file = out.into_inner().unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        let mut written = Vec::new();
        file.read_to_end(&mut written).unwrap();
        written
    }

    /// Copied by the system into the file the writer writes to (after
    /// what the writer holds), the array is the same as written through it.
    #[test]
    fn copied_into_the_output_file_it_is_the_same() {
        let rows = rows();
        // Rewritable: every object, none, or the first three.
        let mut spools = vec![spooled(&rows, false), spooled(&rows, true)];
        let mut spool = Spool::new().unwrap();
        rows[..3].iter().for_each(|row| spool.push_json(&json(row)).unwrap());
        rows[3..].iter().for_each(|row| spool.push_rejected(&json(row)).unwrap());
        spools.push(spool.finish(true).unwrap());
        for spooled in spools {
            let mut expected = b"[".to_vec();
            spooled.write_separated(&mut expected, None).unwrap();
            expected.push(b']');
            let written = copied_into_a_file(&spooled, b"[", b"]");
            assert_eq!(written, expected);
            assert!(serde_json::from_slice::<serde_json::Value>(&written).is_ok());
        }
    }

    proptest::proptest! {
        /// Whatever the emails hold (what starts an object, quotes,
        /// backslashes, line breaks) and however the objects were pushed,
        /// they read back one by one as serde writes the rows, rejected
        /// where the spool rewrites them, and the array written through the
        /// writer or copied into a file is them a comma apart.
        #[test]
        fn objects_read_back_and_copy_whatever_their_emails(
            rows in proptest::collection::vec(
                ("(,\\{\"line\":|[a-z\"\\\\\n{},:])*", 0u8..4, proptest::prelude::any::<bool>()),
                0..40,
            ),
            rejected_file in proptest::prelude::any::<bool>(),
        ) {
            let mut spool = Spool::new().unwrap();
            let mut expected = Vec::new();
            let mut rewritable = 0;
            for (i, (email, how, add)) in rows.into_iter().enumerate() {
                let operation = match add {
                    true => Operation::Add { package: Some("p".into()), base_licenses: vec![] },
                    false => Operation::Unchanged,
                };
                let row = PlannedRow { line: i as u64 + 2, row: i as u64 + 1, email, operation };
                let as_rejected = PlannedRow { operation: Operation::Rejected, ..row.clone() };
                // Planned (rewritten if the file is rejected), or rejected
                // as pushed.
                let planned = match how {
                    0 => { spool.push(&row).unwrap(); true }
                    1 => { spool.push_json(&json(&row)).unwrap(); true }
                    2 => { spool.push_rejected(&json(&row)).unwrap(); false }
                    _ => { spool.push_json_rejected(&json(&as_rejected)).unwrap(); false }
                };
                if planned {
                    rewritable = i + 1;
                }
                let out = if planned && !rejected_file { row } else { as_rejected };
                expected.push(serde_json::to_vec(&out).unwrap());
            }
            let spooled = spool.finish(rejected_file).unwrap();
            proptest::prop_assert_eq!(spooled.rewritable, rewritable as u64);
            proptest::prop_assert_eq!(&objects(&spooled), &expected);
            let array = expected.join(&b","[..]);
            let mut written = Vec::new();
            spooled.write_separated(&mut written, None).unwrap();
            proptest::prop_assert_eq!(&written, &array);
            proptest::prop_assert_eq!(&copied_into_a_file(&spooled, b"", b""), &array);
        }

        /// Rewriting an object as rejected gives what serialising the row
        /// rejected gives, whatever its email holds.
        #[test]
        fn rejected_is_the_row_serialised_rejected(
            email in "[a-z\"\\\\\u{0}-\u{1f}é\u{2028}]{0,16}",
            line in proptest::prelude::any::<u64>(),
            add in proptest::prelude::any::<bool>(),
        ) {
            let operation = match add {
                true => Operation::Add { package: Some("p\"".into()), base_licenses: vec!["\\".into()] },
                false => Operation::Unchanged,
            };
            let row = PlannedRow { line, row: 3, email, operation };
            let mut object = Vec::new();
            row.write_json(&mut object);
            let mut fast = Vec::new();
            rejected(&object, &mut fast).unwrap();
            let expected = serde_json::to_vec(&PlannedRow { operation: Operation::Rejected, ..row }).unwrap();
            proptest::prop_assert_eq!(fast, expected);
            proptest::prop_assert!(split_place(&object).is_some());
        }
    }

    /// An operation pushed rejected reads back as the row serialised
    /// rejected, whatever it was; one already rejected, as it was.
    #[test]
    fn an_operation_pushed_rejected_reads_back_rejected() {
        let rows = rows();
        let mut spool = Spool::new().unwrap();
        for row in &rows {
            let mut object = Vec::new();
            row.write_json(&mut object);
            spool.push_rejected(&object).unwrap();
        }
        let expected: Vec<Vec<u8>> = rows
            .into_iter()
            .map(|r| serde_json::to_vec(&PlannedRow { operation: Operation::Rejected, ..r }).unwrap())
            .collect();
        assert_eq!(objects(&spool.finish(false).unwrap()), expected);
    }

    /// Only the objects up to the last one pushed as it was planned may
    /// need rewriting; every one reads back rejected all the same.
    #[test]
    fn objects_known_rejected_are_not_rewritten_again() {
        let rows = rows();
        let mut spool = Spool::new().unwrap();
        spool.push_json(&json(&rows[0])).unwrap();
        spool.push(&rows[1]).unwrap();
        spool.push_json(&json(&rows[2])).unwrap();
        for row in &rows[3..] {
            let rejected = PlannedRow { operation: Operation::Rejected, ..row.clone() };
            match row.row % 4 {
                0 => spool.push_rejected(&json(row)).unwrap(),
                1 => spool.push(&rejected).unwrap(),
                2 => spool.push_rejected(&json(&rejected)).unwrap(),
                _ => spool.push_json_rejected(&json(&rejected)).unwrap(),
            }
        }
        let spooled = spool.finish(true).unwrap();
        assert_eq!(spooled.rewritable, 3);
        let expected: Vec<Vec<u8>> = rows
            .into_iter()
            .map(|r| serde_json::to_vec(&PlannedRow { operation: Operation::Rejected, ..r }).unwrap())
            .collect();
        assert_eq!(objects(&spooled), expected);
        let mut written = Vec::new();
        spooled.write_separated(&mut written, None).unwrap();
        assert_eq!(written, expected.join(&b","[..]));
    }

    #[test]
    fn a_rejected_file_reads_back_every_operation_rejected() {
        let expected: Vec<Vec<u8>> = rows()
            .into_iter()
            .map(|r| serde_json::to_vec(&PlannedRow { operation: Operation::Rejected, ..r }).unwrap())
            .collect();
        assert_eq!(read_back(true), expected);
    }
}
