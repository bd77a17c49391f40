//! The SARIF 2.1.0 format, for code-scanning dashboards and CI annotations.
//!
//! One run; `tool.driver.rules` is the whole [rule registry](crate::rules::RULES)
//! (id = code, name, `shortDescription` = summary, `fullDescription` = the
//! doc's "What it checks", `help` = the whole doc, `defaultConfiguration.level`); one
//! result per diagnostic, in report order:
//!
//! ```json
//! {"ruleId": "E002", "ruleIndex": 10, "level": "error",
//!  "message": {"text": "\"mario.rossi@\" is not a valid email address…\nhelp: write the address as…"},
//!  "locations": [{"physicalLocation": {
//!     "artifactLocation": {"uri": "users.csv"},
//!     "region": {"startLine": 4, "startColumn": 1, "endLine": 4, "endColumn": 13}}}],
//!  "properties": {"row": 3, "column": "User ID/Email (Required)", "value": "mario.rossi@"}}
//! ```
//!
//! Columns count Unicode code points (`"columnKind": "unicodeCodePoints"`),
//! 1-based, end exclusive, and point at the cell itself, so a cell after a
//! quoted line break has its own line. A finding with no single line (F003,
//! F004, F005) has a location without a region. The path is written as a
//! relative URI reference (`\` becomes `/`, other unsafe bytes are
//! percent-encoded), or a `file://` URI when it is absolute. `--quiet` does
//! not apply: the log is an artefact for tools.

use std::io::{self, Write};

use serde::Serialize;

use super::text::field_span;
use super::RenderOptions;
use crate::check::FileReport;
use crate::rules::{Diagnostic, Severity, RULES};

/// The schema the log declares.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The SARIF version written.
pub const VERSION: &str = "2.1.0";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    rules: Vec<Descriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    id: &'static str,
    name: &'static str,
    short_description: Text<&'static str>,
    full_description: Text<&'static str>,
    help: Text<&'static str>,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Text<T> {
    text: T,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text<String>,
    locations: [Location; 1],
    #[serde(skip_serializing_if = "Properties::is_empty")]
    properties: Properties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

/// A region of the file: 1-based lines and code-point columns, end exclusive.
#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<u64>,
}

#[derive(Serialize)]
struct Properties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    row: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
}

impl Properties<'_> {
    fn is_empty(&self) -> bool {
        self.row.is_none() && self.column.is_none() && self.value.is_none()
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The body of a rule doc's first section ("What it checks"); the whole doc
/// when it has no such heading.
fn what_it_checks(doc: &'static str) -> &'static str {
    let Some(body) = doc.strip_prefix("## What it checks\n") else { return doc.trim() };
    body.split("\n## ").next().unwrap_or(body).trim()
}

/// Writes one SARIF log covering every file.
pub fn write(out: &mut dyn Write, files: &[FileReport], _options: &RenderOptions) -> io::Result<()> {
    let rules = RULES
        .iter()
        .map(|r| Descriptor {
            id: r.code.as_str(),
            name: r.name,
            short_description: Text { text: r.summary },
            full_description: Text { text: what_it_checks(r.doc) },
            help: Text { text: r.doc },
            default_configuration: Configuration { level: level(r.severity) },
        })
        .collect();
    let results = files
        .iter()
        .flat_map(|file| {
            let uri = uri(&file.path);
            file.diagnostics.iter().map(move |d| result(file, d, uri.clone()))
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: VERSION,
        runs: [Run {
            tool: Tool { driver: Driver { name: "csvcheck", version: env!("CARGO_PKG_VERSION"), rules } },
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
}

fn result<'a>(file: &FileReport, d: &'a Diagnostic, uri: String) -> SarifResult<'a> {
    let mut text = d.message.clone();
    if !d.help.is_empty() {
        text.push_str("\nhelp: ");
        text.push_str(&d.help);
    }
    SarifResult {
        rule_id: d.code.as_str(),
        rule_index: RULES.iter().position(|r| r.code == d.code).unwrap_or(0),
        level: level(d.severity()),
        message: Text { text },
        locations: [Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri },
                region: region(file, d),
            },
        }],
        properties: Properties { row: d.row, column: d.column.as_deref(), value: d.value.as_deref() },
    }
}

/// The region of a finding: its cell when one applies, else its line.
fn region(file: &FileReport, d: &Diagnostic) -> Option<Region> {
    let line = d.line?;
    let whole_line = Region { start_line: line, start_column: None, end_line: None, end_column: None };
    let raw = match d.row {
        Some(row) => file.row_raw(row),
        None if Some(line) == file.header_line() => file.header_raw(),
        None => None,
    };
    let (Some(raw), Some(index)) = (raw, d.column_index) else { return Some(whole_line) };
    let raw = String::from_utf8_lossy(raw);
    let Some(span) = field_span(&raw, file.source().delimiter, index) else { return Some(whole_line) };
    let (start_line, start_column) = position(&raw, span.start);
    let (end_line, end_column) = position(&raw, span.end);
    Some(Region {
        start_line: line + start_line,
        start_column: Some(start_column),
        end_line: Some(line + end_line),
        end_column: Some(end_column),
    })
}

/// Lines after the first and the 1-based code-point column of byte `at` of
/// a record (`\r\n`, `\n` and a lone `\r` each end a line, as when reading).
fn position(record: &str, at: usize) -> (u64, u64) {
    let (mut line, mut column) = (0, 1);
    let mut prev_cr = false;
    for (i, c) in record.char_indices() {
        if i >= at {
            break;
        }
        match c {
            '\n' if prev_cr => {}
            '\n' | '\r' => {
                line += 1;
                column = 1;
            }
            _ => column += 1,
        }
        prev_cr = c == '\r';
    }
    (line, column)
}

/// A path as a URI reference: relative as given, `file://` when absolute.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        match b {
            b'\\' => out.push('/'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(char::from(b))
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_code_points_and_line_breaks() {
        assert_eq!(position("ab,cd", 3), (0, 4));
        assert_eq!(position("é,x", 3), (0, 3));
        assert_eq!(position("a,\"x\r\ny\",z", 9), (1, 4));
        assert_eq!(position("a,\"x\ry\",z", 8), (1, 4));
    }

    #[test]
    fn full_descriptions_are_the_first_section() {
        for rule in RULES {
            let text = what_it_checks(rule.doc);
            assert!(!text.is_empty() && !text.contains("## "), "{}: {text}", rule.code.as_str());
        }
    }

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("fixtures/files/users.csv"), "fixtures/files/users.csv");
        assert_eq!(uri("my users\\Q1 #2.csv"), "my%20users/Q1%20%232.csv");
        assert_eq!(uri("città.csv"), "citt%C3%A0.csv");
        assert_eq!(uri("/srv/in/users.csv"), "file:///srv/in/users.csv");
    }
}
