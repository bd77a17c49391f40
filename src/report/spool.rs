//! Operations kept on disk while a large file is checked.
//!
//! The JSON report lists the summary first and every row's operation last,
//! but the summary is known only once the last row is checked. Keeping a
//! million planned operations in memory until then would cost several times
//! the input; a [`Spool`] writes each one, already serialised, to an
//! anonymous temporary file (deleted by the system when closed) and reads
//! them back, in order, when the report is written.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex};

use crate::plan::{Operation, PlannedRow};

/// Serialised operations, one JSON object per line, in input order.
pub(crate) struct Spool {
    out: BufWriter<File>,
    len: u64,
    /// The object being written, reused from one to the next.
    object: Vec<u8>,
}

impl Spool {
    /// An empty spool in a new anonymous temporary file.
    pub(crate) fn new() -> io::Result<Spool> {
        Ok(Spool {
            out: BufWriter::with_capacity(1 << 16, tempfile::tempfile()?),
            len: 0,
            object: Vec::with_capacity(256),
        })
    }

    /// Appends one operation. Serialised JSON holds no raw line break (they
    /// are escaped in strings), so a line is an object.
    pub(crate) fn push(&mut self, planned: &PlannedRow) -> io::Result<()> {
        let mut object = std::mem::take(&mut self.object);
        object.clear();
        planned.write_json(&mut object);
        let written = self.push_json(&object);
        self.object = object;
        written
    }

    /// Appends one operation already serialised (by
    /// [`PlannedRow::write_json`], as [`push`](Spool::push) does).
    pub(crate) fn push_json(&mut self, object: &[u8]) -> io::Result<()> {
        self.len += 1;
        self.out.write_all(object)?;
        self.out.write_all(b"\n")
    }

    /// The operations written; with `rejected`, each is read back as
    /// `rejected` (a file-level error refuses every row).
    pub(crate) fn finish(self, rejected: bool) -> io::Result<Spooled> {
        let file = self.out.into_inner().map_err(io::IntoInnerError::into_error)?;
        Ok(Spooled { file: Arc::new(Mutex::new(file)), len: self.len, rejected })
    }
}

/// The operations of a [`Spool`], ready to be read back (any number of
/// times).
#[derive(Clone)]
pub(crate) struct Spooled {
    file: Arc<Mutex<File>>,
    len: u64,
    rejected: bool,
}

impl fmt::Debug for Spooled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spooled").field("len", &self.len).field("rejected", &self.rejected).finish()
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
        let mut file = self.file.lock().map_err(|_| io::Error::other("the operations spool was poisoned"))?;
        file.seek(SeekFrom::Start(0))?;
        let mut lines = BufReader::with_capacity(1 << 16, &mut *file);
        let (mut line, mut rewritten) = (Vec::with_capacity(256), Vec::with_capacity(256));
        for _ in 0..self.len {
            line.clear();
            lines.read_until(b'\n', &mut line)?;
            let object = line.strip_suffix(b"\n").unwrap_or(&line);
            if !self.rejected || already_rejected(object) {
                each(object)?;
                continue;
            }
            let place: Place<'_> = serde_json::from_slice(object)?;
            let planned = PlannedRow {
                line: place.line,
                row: place.row,
                email: place.email.into_owned(),
                operation: Operation::Rejected,
            };
            rewritten.clear();
            planned.write_json(&mut rewritten);
            each(&rewritten)?;
        }
        Ok(())
    }
}

/// Whether a spooled object is already a `rejected` operation (the rows
/// past the row limit are spooled so): its `op` comes right after the line
/// and row numbers, before any text from the file.
fn already_rejected(object: &[u8]) -> bool {
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
                email: format!("user{i}\"\n@acme.example"),
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

    fn read_back(rejected: bool) -> Vec<Vec<u8>> {
        let mut spool = Spool::new().unwrap();
        for row in rows() {
            spool.push(&row).unwrap();
        }
        let spooled = spool.finish(rejected).unwrap();
        assert_eq!(spooled.len(), 300);
        let all = || {
            let mut objects = Vec::new();
            spooled
                .for_each(|o| {
                    objects.push(o.to_vec());
                    Ok(())
                })
                .unwrap();
            objects
        };
        let got = all();
        // Read twice, the same.
        assert_eq!(got, all());
        got
    }

    #[test]
    fn operations_come_back_as_serde_wrote_them() {
        let expected: Vec<Vec<u8>> = rows().iter().map(|r| serde_json::to_vec(r).unwrap()).collect();
        assert_eq!(read_back(false), expected);
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
