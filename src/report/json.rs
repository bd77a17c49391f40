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

use serde::Serialize;

use super::{RenderOptions, Report};
use crate::check::FileReport;

/// Writes the single JSON document.
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
    } else {
        serde_json::to_writer(&mut *out, &Report::new(files))?;
    }
    out.write_all(b"\n")
}

/// Writes one message: `{"type": kind, "path": …?, …object's fields}`.
fn message<T: Serialize>(
    out: &mut dyn Write,
    buf: &mut Vec<u8>,
    kind: &str,
    path: Option<&str>,
    value: &T,
) -> io::Result<()> {
    buf.clear();
    serde_json::to_writer(&mut *buf, value)?;
    write!(out, "{{\"type\":\"{kind}\"")?;
    if let Some(path) = path {
        out.write_all(b",\"path\":")?;
        serde_json::to_writer(&mut *out, path)?;
    }
    // `buf` is a JSON object: splice its fields after ours.
    match buf.get(1..) {
        Some(b"}") | None => out.write_all(b"}")?,
        Some(rest) => {
            out.write_all(b",")?;
            out.write_all(rest)?;
        }
    }
    out.write_all(b"\n")
}

/// Writes the JSON Lines stream.
pub fn write_lines(out: &mut dyn Write, files: &[FileReport], options: &RenderOptions) -> io::Result<()> {
    #[derive(Serialize)]
    struct FileMessage {
        rows: u64,
    }
    let mut buf = Vec::with_capacity(512);
    for file in files {
        let path = Some(file.path.as_str());
        message(out, &mut buf, "file", path, &FileMessage { rows: file.rows })?;
        if !options.quiet {
            for d in &file.diagnostics {
                message(out, &mut buf, "diagnostic", path, d)?;
            }
            for o in &file.operations {
                message(out, &mut buf, "operation", path, o)?;
            }
        }
        message(out, &mut buf, "summary", path, &file.summary)?;
    }
    Ok(())
}
