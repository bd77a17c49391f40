//! Stage 6: reports. Every format renders the same [`FileReport`]s.
//!
//! * [`Format::Text`] — for people: rustc-style blocks, then a summary.
//! * [`Format::Json`] — one document, `{"version": 1, "files": [...]}` (SPEC §8).
//! * [`Format::Jsonl`] — the same objects one per line, each with a `type`.
//! * [`Format::Sarif`] — SARIF 2.1.0, one result per diagnostic.
//! * [`Format::Csv`] — the input echoed row for row, plus an `Errors` column.

pub mod csv;
pub mod json;
pub mod plan;
pub mod sarif;
pub(crate) mod spool;
pub mod text;

use std::io::{self, Write};

use serde::Serialize;

use crate::check::FileReport;

/// The version of the JSON report format.
pub const JSON_VERSION: u32 = 1;

/// An output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Human-readable blocks (the default).
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// JSON Lines: typed messages.
    Jsonl,
    /// SARIF 2.1.0.
    Sarif,
    /// The input CSV with an `Errors` column.
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "jsonl" => Ok(Format::Jsonl),
            "sarif" => Ok(Format::Sarif),
            "csv" => Ok(Format::Csv),
            other => Err(format!("unknown format {other:?}: expected text, json, jsonl, sarif or csv")),
        }
    }
}

/// The JSON report document (SPEC §8).
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// Always [`JSON_VERSION`].
    pub version: u32,
    /// One entry per file, in the order given.
    pub files: &'a [FileReport],
}

impl<'a> Report<'a> {
    /// A report over these files.
    pub fn new(files: &'a [FileReport]) -> Report<'a> {
        Report { version: JSON_VERSION, files }
    }
}

/// The text report's width when none is given: wide enough for a typical
/// Control Hub record's neighbourhood, narrow enough for a terminal.
pub const DEFAULT_WIDTH: usize = 100;

/// How to render.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    /// Use ANSI colours (text only; default off).
    pub color: bool,
    /// Print only the summary (default off).
    pub quiet: bool,
    /// Columns of the text report; longer records are cut around the cell
    /// (default [`DEFAULT_WIDTH`]).
    pub width: usize,
    /// The file the report's writer writes to, when it is one (standard
    /// output may be given as one too: a duplicate of its descriptor). The
    /// JSON report of a large file copies most of the operations it kept on
    /// disk straight to it, through the system (`copy_file_range`,
    /// `sendfile`), flushing the writer first. Default none: everything goes
    /// through the writer.
    pub output_file: Option<std::sync::Arc<std::fs::File>>,
}

impl Default for RenderOptions {
    fn default() -> RenderOptions {
        RenderOptions { color: false, quiet: false, width: DEFAULT_WIDTH, output_file: None }
    }
}

/// Writes `files` in `format` to `out`.
pub fn write(
    out: &mut dyn Write,
    format: Format,
    files: &[FileReport],
    options: &RenderOptions,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(out, files, options),
        Format::Json => json::write_document(out, files, options),
        Format::Jsonl => json::write_lines(out, files, options),
        Format::Sarif => sarif::write(out, files, options),
        Format::Csv => csv::write(out, files, options),
    }
}
