//! The JSON and JSON Lines formats.
//!
//! `--format json` prints one document (SPEC §8):
//!
//! ```json
//! {"version": 1, "files": [{"path": "users.csv", "rows": 3,
//!   "summary": {"add": 1, "modify": 1, "delete": 0, "unchanged": 0, "rejected": 1, "errors": 1, "warnings": 0},
//!   "diagnostics": [{"code": "E002", "name": "invalid-email", "severity": "error", "line": 4, "row": 3,
//!                    "column": "User ID/Email (Required)", "value": "mario.rossi@", "message": "…", "help": "…"}],
//!   "operations": [{"line": 2, "row": 1, "op": "add", "email": "anna@acme.example",
//!                   "package": "webex_calling", "base_licenses": ["calling", "meetings", "messaging"]}]}]}
//! ```
//!
//! `--format jsonl` prints the same objects one per line, each with a
//! `"type"` first: per file, a `file` message (`path`, `rows`), its
//! `diagnostic`s, its `operation`s, then a `summary` (`path` and the
//! counts). Diagnostic and operation messages also carry the `path`, so
//! each line stands alone.

use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;

use super::RenderOptions;
use crate::check::FileReport;

/// Items serialised by one task, and items serialised before they are
/// written (which bounds the memory held).
const SIZES: (usize, usize) = (2048, 32 * 2048);

/// Writes the single JSON document.
///
/// The bytes are those of `serde_json::to_writer(out, &Report::new(files))`
/// followed by a newline; the diagnostics and operations arrays are
/// serialised in parallel pieces and written in order.
pub fn write_document(out: &mut dyn Write, files: &[FileReport], options: &RenderOptions) -> io::Result<()> {
    if options.quiet {
        #[derive(Serialize)]
        struct Quiet<'a> {
            path: &'a str,
            rows: u64,
            summary: &'a crate::Summary,
        }
        #[derive(Serialize)]
        struct QuietReport<'a> {
            version: u32,
            files: Vec<Quiet<'a>>,
        }
        let files =
            files.iter().map(|f| Quiet { path: &f.path, rows: f.rows, summary: &f.summary }).collect();
        serde_json::to_writer(&mut *out, &QuietReport { version: super::JSON_VERSION, files })?;
        return out.write_all(b"\n");
    }
    write!(out, "{{\"version\":{},\"files\":[", super::JSON_VERSION)?;
    for (i, file) in files.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        // The fields of `FileReport`'s `Serialize`, in its order.
        out.write_all(b"{\"path\":")?;
        serde_json::to_writer(&mut *out, &file.path)?;
        write!(out, ",\"rows\":{},\"summary\":", file.rows)?;
        serde_json::to_writer(&mut *out, &file.summary)?;
        out.write_all(b",\"diagnostics\":[")?;
        write_pieces(out, &file.diagnostics, SIZES, true, |buf, d| serde_json::to_writer(buf, d))?;
        out.write_all(b"],\"operations\":[")?;
        match file.spooled() {
            Some(spooled) => spooled.write_separated(out, options.output_file.as_deref())?,
            None => write_pieces(out, &file.operations, SIZES, true, |buf, o| serde_json::to_writer(buf, o))?,
        }
        out.write_all(b"]}")?;
    }
    out.write_all(b"]}\n")
}

/// Writes `items`, `comma` between two, each as `one` writes it into a
/// buffer; pieces of `piece` items are serialised in parallel, `window`
/// items at a time, and written in order.
fn write_pieces<T: Sync>(
    out: &mut dyn Write,
    items: &[T],
    (piece, window): (usize, usize),
    comma: bool,
    one: impl Fn(&mut Vec<u8>, &T) -> serde_json::Result<()> + Sync,
) -> io::Result<()> {
    let (piece, window) = (piece.max(1), window.max(1));
    let mut first = true;
    // One buffer per piece of a window, reused from window to window.
    let mut buffers: Vec<Vec<u8>> = Vec::new();
    buffers.resize_with(window.div_ceil(piece).min(items.len().div_ceil(piece)), Vec::new);
    for window in items.chunks(window) {
        window.par_chunks(piece).zip(buffers.par_iter_mut()).try_for_each(|(items, buf)| {
            buf.clear();
            for item in items {
                if comma {
                    buf.push(b',');
                }
                one(buf, item)?;
            }
            Ok::<_, serde_json::Error>(())
        })?;
        for buf in buffers.iter().take(window.len().div_ceil(piece)) {
            // Every item is preceded by a comma but the very first.
            let from = usize::from(comma && std::mem::take(&mut first));
            out.write_all(buf.get(from..).unwrap_or_default())?;
        }
    }
    Ok(())
}

/// Writes one message into `buf`: `{"type": kind, "path": …?, …object's
/// fields}` and a newline; `path` is the path already as JSON.
fn message<T: Serialize>(
    buf: &mut Vec<u8>,
    kind: &str,
    path: Option<&[u8]>,
    value: &T,
) -> serde_json::Result<()> {
    let at = buf.len();
    serde_json::to_writer(&mut *buf, value)?;
    let object = buf.split_off(at);
    splice(buf, kind, path, &object);
    Ok(())
}

/// Writes one message into `buf` from `object`, a serialised JSON object:
/// `{"type": kind, "path": …?, …its fields}` and a newline.
fn splice(buf: &mut Vec<u8>, kind: &str, path: Option<&[u8]>, object: &[u8]) {
    buf.extend_from_slice(b"{\"type\":\"");
    buf.extend_from_slice(kind.as_bytes());
    buf.push(b'"');
    if let Some(path) = path {
        buf.extend_from_slice(b",\"path\":");
        buf.extend_from_slice(path);
    }
    match object.get(1..) {
        Some(b"}") | None => buf.push(b'}'),
        Some(rest) => {
            buf.push(b',');
            buf.extend_from_slice(rest);
        }
    }
    buf.push(b'\n');
}

/// Writes the JSON Lines stream.
pub fn write_lines(out: &mut dyn Write, files: &[FileReport], options: &RenderOptions) -> io::Result<()> {
    #[derive(Serialize)]
    struct FileMessage {
        rows: u64,
    }
    let mut buf = Vec::with_capacity(512);
    for file in files {
        let path = serde_json::to_vec(&file.path)?;
        let path = Some(path.as_slice());
        buf.clear();
        message(&mut buf, "file", path, &FileMessage { rows: file.rows })?;
        out.write_all(&buf)?;
        if !options.quiet {
            write_pieces(out, &file.diagnostics, SIZES, false, |buf, d| message(buf, "diagnostic", path, d))?;
            match file.spooled() {
                Some(spooled) => spooled.for_each(|object| {
                    buf.clear();
                    splice(&mut buf, "operation", path, object);
                    out.write_all(&buf)
                })?,
                None => write_pieces(out, &file.operations, SIZES, false, |buf, o| {
                    message(buf, "operation", path, o)
                })?,
            }
        }
        buf.clear();
        message(&mut buf, "summary", path, &file.summary)?;
        out.write_all(&buf)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Report;
    use crate::{Checker, OrgState, OrgUser};

    /// A report with adds, modifies, deletes, rejections and findings.
    fn reports() -> Vec<FileReport> {
        let mut org = OrgState::default();
        for i in 0..40 {
            org.users.push(OrgUser {
                package: Some("webex_meetings".into()),
                first_name: Some(format!("Old{i}")),
                ..OrgUser::new(format!("user{i}@acme.example"))
            });
        }
        let checker = Checker::builder().org(org).build();
        let mut csv = String::from("User ID/Email (Required),First Name,Webex Meetings,Webex Calling\n");
        for i in 0..100 {
            let cells = match i % 5 {
                0 => ",\"Quote \"\"q\"\"\",TRUE,".to_owned(),
                1 => ",Nicolò\u{7},maybe,".to_owned(),
                2 => ",,FALSE,FALSE".to_owned(),
                _ => format!(",New{i},,"),
            };
            csv.push_str(&format!("user{}@acme.example{cells}\n", i % 60));
        }
        vec![
            checker.check_bytes("a \"1\".csv", csv.clone().into_bytes()),
            checker.check_bytes("empty.csv", Vec::new()),
            checker.check_bytes("b.csv", csv.into_bytes()),
        ]
    }

    #[test]
    fn the_document_is_what_serde_writes_whatever_the_pieces() {
        let files = reports();
        assert!(files[0].operations.len() == 100 && files[0].diagnostics.len() > 10);
        let mut expected = serde_json::to_vec(&Report::new(&files)).unwrap();
        expected.push(b'\n');
        let mut got = Vec::new();
        write_document(&mut got, &files, &RenderOptions::default()).unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(expected).unwrap());
        for sizes in [(1, 1), (3, 7), (64, 64)] {
            let (mut one, mut other) = (Vec::new(), Vec::new());
            write_pieces(&mut one, &files[0].operations, sizes, true, |b, o| serde_json::to_writer(b, o))
                .unwrap();
            write_pieces(&mut other, &files[0].operations, SIZES, true, |b, o| serde_json::to_writer(b, o))
                .unwrap();
            assert_eq!(one, other, "{sizes:?}");
        }
    }

    #[test]
    fn every_line_is_one_typed_object() {
        let files = reports();
        let mut out = Vec::new();
        write_lines(&mut out, &files, &RenderOptions::default()).unwrap();
        let lines: Vec<serde_json::Value> = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        let count = |t: &str| lines.iter().filter(|l| l["type"] == t).count();
        let (rows, diags): (usize, usize) =
            files.iter().fold((0, 0), |(r, d), f| (r + f.operations.len(), d + f.diagnostics.len()));
        assert_eq!((count("file"), count("summary")), (3, 3));
        assert_eq!((count("operation"), count("diagnostic")), (rows, diags));
        let op = lines.iter().find(|l| l["type"] == "operation").unwrap();
        assert_eq!(op["path"], "a \"1\".csv");
        assert_eq!(op["row"], 1);
    }
}
