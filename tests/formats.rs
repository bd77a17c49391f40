//! The machine formats, pinned: JSON and JSONL decoded into typed structs
//! that deny unknown fields, the SARIF log's shape, the CSV report's rows.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use crate::util::{run, stdout, TempDir};

const ORG: &str = "fixtures/org/acme.json";
const USERS: &str = "fixtures/files/users.csv";

// ---------------------------------------------------------------- JSON --

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    version: u32,
    files: Vec<File>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    path: String,
    rows: u64,
    summary: Summary,
    diagnostics: Vec<Diagnostic>,
    operations: Vec<Operation>,
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct Summary {
    add: u64,
    modify: u64,
    delete: u64,
    unchanged: u64,
    rejected: u64,
    errors: u64,
    warnings: u64,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Diagnostic {
    code: String,
    name: String,
    severity: Severity,
    line: Option<u64>,
    row: Option<u64>,
    column: Option<String>,
    value: Option<String>,
    message: String,
    help: String,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Op {
    Add,
    Modify,
    Delete,
    Unchanged,
    Rejected,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Operation {
    line: u64,
    row: u64,
    op: Op,
    email: String,
    #[serde(default, deserialize_with = "present")]
    package: Option<Option<String>>,
    base_licenses: Option<Vec<String>>,
    changes: Option<BTreeMap<String, FromTo>>,
}

/// A field that may be absent (outer `None`) or `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FromTo {
    #[allow(dead_code)]
    from: serde_json::Value,
    #[allow(dead_code)]
    to: serde_json::Value,
}

/// What every file report must satisfy, whatever its content.
fn assert_consistent(file: &File) {
    assert_eq!(file.operations.len() as u64, file.rows, "one operation per row");
    let rows: Vec<u64> = file.operations.iter().map(|o| o.row).collect();
    assert_eq!(rows, (1..=file.rows).collect::<Vec<_>>(), "operations in row order");
    assert!(file.operations.windows(2).all(|w| w[0].line < w[1].line));
    let count = |op| file.operations.iter().filter(|o| o.op == op).count() as u64;
    let s = &file.summary;
    assert_eq!(
        (s.add, s.modify, s.delete, s.unchanged, s.rejected),
        (count(Op::Add), count(Op::Modify), count(Op::Delete), count(Op::Unchanged), count(Op::Rejected))
    );
    let errors = file.diagnostics.iter().filter(|d| d.severity == Severity::Error).count() as u64;
    assert_eq!((s.errors, s.warnings), (errors, file.diagnostics.len() as u64 - errors));
    for o in &file.operations {
        let shaped = match o.op {
            Op::Add => o.package.is_some() && o.base_licenses.is_some() && o.changes.is_none(),
            Op::Modify => o.package.is_some() && o.base_licenses.is_some() && o.changes.is_some(),
            _ => o.package.is_none() && o.base_licenses.is_none() && o.changes.is_none(),
        };
        assert!(shaped, "{o:?}");
    }
    for d in &file.diagnostics {
        let rule = csvcheck::rules::registry::lookup(&d.code).expect("a registered code");
        assert_eq!(
            (d.name.as_str(), d.severity == Severity::Error),
            (rule.name, rule.severity.as_str() == "error")
        );
        assert!(!d.message.is_empty() && !d.help.is_empty(), "{d:?}");
        if let Some(row) = d.row {
            let o = &file.operations[row as usize - 1];
            assert_eq!(Some(o.line), d.line, "a row's diagnostic is on its line");
        }
    }
    let keys: Vec<_> = file.diagnostics.iter().map(|d| (d.line.unwrap_or(0), d.code.clone())).collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "diagnostics by line, then code");
}

#[test]
fn json_decodes_into_typed_structs_that_deny_unknown_fields() {
    let o = run(&["--org", ORG, "--format", "json", USERS], None);
    assert_eq!(o.status.code(), Some(1));
    let report: Report = serde_json::from_slice(&o.stdout).expect("the SPEC §8 shape");
    assert_eq!(report.version, 1);
    assert_eq!(report.files.len(), 1);
    let file = &report.files[0];
    assert_eq!(file.path, USERS);
    assert_consistent(file);
    let e002 = file.diagnostics.iter().find(|d| d.code == "E002").expect("E002");
    assert_eq!((e002.line, e002.row, e002.value.as_deref()), (Some(4), Some(3), Some("mario.rossi@")));
    assert_eq!(e002.column.as_deref(), Some("User ID/Email (Required)"));
}

#[test]
fn quiet_json_keeps_only_the_summaries() {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Quiet {
        version: u32,
        files: Vec<QuietFile>,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct QuietFile {
        path: String,
        rows: u64,
        summary: Summary,
    }
    let full: Report =
        serde_json::from_slice(&run(&["--org", ORG, "--format", "json", USERS], None).stdout).unwrap();
    let o = run(&["--org", ORG, "--format", "json", "--quiet", USERS], None);
    let quiet: Quiet = serde_json::from_slice(&o.stdout).expect("the quiet shape");
    assert_eq!(quiet.version, 1);
    assert_eq!((quiet.files[0].path.as_str(), quiet.files[0].rows), (USERS, full.files[0].rows));
    assert_eq!(quiet.files[0].summary, full.files[0].summary);
}

// --------------------------------------------------------------- JSONL --

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
#[allow(dead_code)] // decoded to pin the shape; compared through the document
enum Message {
    File {
        path: String,
        rows: u64,
    },
    Diagnostic {
        path: String,
        code: String,
        name: String,
        severity: Severity,
        line: Option<u64>,
        row: Option<u64>,
        column: Option<String>,
        value: Option<String>,
        message: String,
        help: String,
    },
    Operation {
        path: String,
        line: u64,
        row: u64,
        op: Op,
        email: String,
        #[serde(default, deserialize_with = "present")]
        package: Option<Option<String>>,
        base_licenses: Option<Vec<String>>,
        changes: Option<BTreeMap<String, FromTo>>,
    },
    Summary {
        path: String,
        add: u64,
        modify: u64,
        delete: u64,
        unchanged: u64,
        rejected: u64,
        errors: u64,
        warnings: u64,
    },
}

#[test]
fn jsonl_is_a_typed_stream_in_file_order_matching_the_document() {
    let dir = TempDir::new("jsonl");
    let clean = dir.write("clean.csv", "User ID/Email (Required),Webex Meetings\nanna@acme.example,TRUE\n");
    let clean = clean.to_str().unwrap();
    let args = ["--org", ORG, USERS, clean, USERS];
    let document: Report =
        serde_json::from_slice(&run(&[&args[..], &["--format", "json"]].concat(), None).stdout).unwrap();
    let o = run(&[&args[..], &["--format", "jsonl"]].concat(), None);
    let messages: Vec<Message> =
        stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();

    // file, diagnostics, operations, summary — per file, in argument order.
    let mut files = document.files.iter();
    let mut i = 0;
    while i < messages.len() {
        let file = files.next().expect("no more messages than files");
        let Message::File { path, rows } = &messages[i] else { panic!("{:?}", messages[i]) };
        assert_eq!((path, *rows), (&file.path, file.rows));
        i += 1;
        for d in &file.diagnostics {
            let Message::Diagnostic { path: p, code, line, row, value, message, .. } = &messages[i] else {
                panic!("{:?}", messages[i])
            };
            assert_eq!(
                (p, code, line, row, value, message),
                (path, &d.code, &d.line, &d.row, &d.value, &d.message)
            );
            i += 1;
        }
        for op in &file.operations {
            let Message::Operation { path: p, line, row, op: kind, email, .. } = &messages[i] else {
                panic!("{:?}", messages[i])
            };
            assert_eq!((p, *line, *row, *kind, email), (path, op.line, op.row, op.op, &op.email));
            i += 1;
        }
        let Message::Summary { path: p, add, modify, delete, unchanged, rejected, errors, warnings } =
            &messages[i]
        else {
            panic!("{:?}", messages[i])
        };
        assert_eq!(p, path);
        let s = Summary {
            add: *add,
            modify: *modify,
            delete: *delete,
            unchanged: *unchanged,
            rejected: *rejected,
            errors: *errors,
            warnings: *warnings,
        };
        assert_eq!(s, file.summary);
        i += 1;
    }
    assert!(files.next().is_none(), "every file has its messages");
    let paths: Vec<_> = document.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, [USERS, clean, USERS]);
}

// --------------------------------------------------------------- SARIF --

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sarif {
    #[serde(rename = "$schema")]
    schema: String,
    version: String,
    runs: Vec<Run>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Run {
    tool: Tool,
    column_kind: String,
    results: Vec<SarifResult>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Tool {
    driver: Driver,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Driver {
    name: String,
    version: String,
    information_uri: Option<String>,
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Text {
    text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Text,
    default_configuration: Configuration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Configuration {
    level: Level,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Level {
    Error,
    Warning,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: Level,
    message: Text,
    locations: Vec<Location>,
    properties: Option<Properties>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Option<Region>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Region {
    start_line: u64,
    start_column: Option<u64>,
    end_line: Option<u64>,
    end_column: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Properties {
    row: Option<u64>,
    column: Option<String>,
    value: Option<String>,
}

#[test]
fn sarif_has_the_2_1_0_shape_rules_from_the_registry_and_one_result_per_diagnostic() {
    let dir = TempDir::new("sarif");
    // A quoted line break before the bad cell, a wide character, and (with
    // --max-rows 1) a file finding without a line.
    let tricky = dir.write(
        "tricky.csv",
        "User ID/Email (Required),Display Name,Phone Number,Webex Meetings\n\
         anna@acme.example,\"Anna\nBianchi\",390212345679,TRUE\n\
         élise@acme.example,Élise,+39 02,TRUE\n",
    );
    let tricky = tricky.to_str().unwrap();
    let args = ["--org", ORG, "--max-rows", "1", USERS, tricky];
    let json: Report =
        serde_json::from_slice(&run(&[&args[..], &["--format", "json"]].concat(), None).stdout).unwrap();
    let o = run(&[&args[..], &["--format", "sarif"]].concat(), None);
    assert_eq!(o.status.code(), Some(1));
    let log: Sarif = serde_json::from_slice(&o.stdout).expect("the SARIF shape");
    assert_eq!(log.schema, "https://json.schemastore.org/sarif-2.1.0.json");
    assert_eq!(log.version, "2.1.0");
    assert_eq!(log.runs.len(), 1);
    let run = &log.runs[0];
    assert_eq!(run.column_kind, "unicodeCodePoints");
    assert_eq!(run.tool.driver.name, "csvcheck");
    assert_eq!(run.tool.driver.version, env!("CARGO_PKG_VERSION"));
    assert!(run.tool.driver.information_uri.is_none());

    let registry = csvcheck::rules::RULES;
    assert_eq!(run.tool.driver.rules.len(), registry.len());
    for (rule, reg) in run.tool.driver.rules.iter().zip(registry) {
        assert_eq!((rule.id.as_str(), rule.name.as_str()), (reg.code.as_str(), reg.name));
        assert_eq!(rule.short_description.text, reg.summary);
        assert_eq!(rule.help.text, reg.doc);
        assert!(reg.doc.contains(&rule.full_description.text));
        let level = if reg.severity.as_str() == "error" { Level::Error } else { Level::Warning };
        assert_eq!(rule.default_configuration.level, level);
    }

    let diagnostics: Vec<(&File, &Diagnostic)> =
        json.files.iter().flat_map(|f| f.diagnostics.iter().map(move |d| (f, d))).collect();
    assert_eq!(run.results.len(), diagnostics.len(), "one result per diagnostic");
    assert!(diagnostics.iter().any(|(_, d)| d.line.is_none()), "the test covers a finding without a line");
    for (result, (file, d)) in run.results.iter().zip(&diagnostics) {
        let rule = &run.tool.driver.rules[result.rule_index];
        assert_eq!((result.rule_id.as_str(), rule.id.as_str()), (d.code.as_str(), d.code.as_str()));
        assert_eq!(result.level, rule.default_configuration.level);
        assert!(result.message.text.starts_with(&d.message) && result.message.text.ends_with(&d.help));
        assert_eq!(result.locations.len(), 1);
        let location = &result.locations[0].physical_location;
        let uri = &location.artifact_location.uri;
        assert!(*uri == file.path || *uri == format!("file://{}", file.path), "{uri}");
        let Some(region) = &location.region else {
            assert_eq!(d.line, None, "only findings without a line lack a region");
            continue;
        };
        let properties = result.properties.as_ref();
        assert_eq!(
            (properties.and_then(|p| p.row), properties.and_then(|p| p.column.as_ref())),
            (d.row, d.column.as_ref())
        );
        assert_eq!(properties.and_then(|p| p.value.as_ref()), d.value.as_ref());
        assert!(region.start_line >= d.line.unwrap());
        let (Some(start), Some(end_line), Some(end), Some(value)) =
            (region.start_column, region.end_line, region.end_column, &d.value)
        else {
            continue;
        };
        // The region is the cell: the text it covers is the value, as
        // written (quoted when it holds a line break).
        let text: Vec<char> = std::fs::read_to_string(&file.path).unwrap().chars().collect();
        let offset = |line: u64, column: u64| {
            let mut at = 0;
            for _ in 1..line {
                at += text[at..].iter().position(|&c| c == '\n').unwrap() + 1;
            }
            at + column as usize - 1
        };
        let covered: String = text[offset(region.start_line, start)..offset(end_line, end)].iter().collect();
        let unquoted = match covered.strip_prefix('"').and_then(|c| c.strip_suffix('"')) {
            Some(inner) => inner.replace("\"\"", "\""),
            None => covered.clone(),
        };
        assert_eq!(&unquoted, value, "{d:?}");
    }
    let n001 = run.results.iter().find(|r| r.rule_id == "N001").expect("N001 on the wide line");
    let region = n001.locations[0].physical_location.region.as_ref().unwrap();
    assert_eq!(
        (region.start_line, region.start_column),
        (4, Some(26)),
        "columns count characters, not bytes"
    );
    let n002 = run.results.iter().find(|r| {
        r.rule_id == "N002" && r.locations[0].physical_location.artifact_location.uri.ends_with(tricky)
    });
    let region = n002.unwrap().locations[0].physical_location.region.as_ref().unwrap();
    assert_eq!((region.start_line, region.start_column), (3, Some(10)), "the cell after a quoted line break");
}

// ----------------------------------------------------------------- CSV --

/// The byte records of `bytes` with their raw bytes (terminator excluded).
fn raw_records(bytes: &[u8]) -> Vec<(csv::ByteRecord, Vec<u8>)> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut starts = Vec::new();
    while reader.read_byte_record(&mut record).unwrap() {
        starts.push(record.position().unwrap().byte() as usize);
        out.push(record.clone());
    }
    starts.push(bytes.len());
    out.into_iter()
        .zip(starts.windows(2))
        .map(|(r, w)| {
            // Positions can sit on a preceding terminator or blank line.
            let raw = &bytes[w[0]..w[1]];
            let start = raw.iter().position(|&b| b != b'\n' && b != b'\r').unwrap_or(raw.len());
            let end = raw.iter().rposition(|&b| b != b'\n' && b != b'\r').map_or(0, |i| i + 1);
            (r, raw[start..end.max(start)].to_vec())
        })
        .collect()
}

#[test]
fn the_csv_report_echoes_every_row_byte_for_byte_and_adds_errors() {
    let dir = TempDir::new("csvreport");
    let input = "User ID/Email (Required),First Name,Display Name,Phone Number,Webex Meetings\r\n\
                 anna@acme.example,Anna,\"Bianchi, Anna\",,TRUE\r\n\
                 \"=HYPERLINK(\"\"http://evil.example\"\")\",Mario,Mario,,TRUE\r\n\
                 \r\n\
                 carla@acme.example,\"Car\r\nla\",Carla ,+390212345670,TRUE\r\n\
                 @SUM(1+1),-Dario,+Dario,+1,TRUE\r\n\
                 short@acme.example,Short\r\n";
    let path = dir.write("users.csv", input);
    let o = run(&["--org", ORG, "--format", "csv", path.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    let report: Report = serde_json::from_slice(
        &run(&["--org", ORG, "--format", "json", path.to_str().unwrap()], None).stdout,
    )
    .unwrap();
    let file = &report.files[0];

    let input_records = raw_records(input.as_bytes());
    let output_records = raw_records(&o.stdout);
    assert_eq!(output_records.len() as u64, file.rows + 1, "the header and every row");
    assert_eq!(input_records.len(), output_records.len(), "blank lines are not rows");
    assert!(o.stdout.ends_with(b"\r\n") && !o.stdout.windows(2).any(|w| w == b"\n\n"));
    for (i, ((input, input_raw), (output, output_raw))) in
        input_records.iter().zip(&output_records).enumerate()
    {
        assert!(output_raw.starts_with(input_raw), "record {i} is echoed byte for byte");
        assert_eq!(output_raw[input_raw.len()], b',');
        assert_eq!(output.len(), input.len() + 1);
        assert_eq!(&output.iter().take(input.len()).collect::<Vec<_>>(), &input.iter().collect::<Vec<_>>());
        let errors = std::str::from_utf8(output.get(input.len()).unwrap()).unwrap();
        if i == 0 {
            assert_eq!(errors, "Errors");
            continue;
        }
        // The file's errors, then that row's diagnostics, in report order,
        // and nothing else.
        let expected: Vec<String> = file
            .diagnostics
            .iter()
            .filter(|d| (d.row.is_none() && d.severity == Severity::Error) || d.row == Some(i as u64))
            .map(|d| format!("{}: {}", d.code, csvcheck::text::printable(&d.message)))
            .collect();
        assert_eq!(errors, expected.join(" | "), "row {i}");
        // A spreadsheet never evaluates it: it starts with a code.
        let first = errors.chars().next();
        assert!(first.is_none() || first.is_some_and(|c| c.is_ascii_uppercase()), "{errors}");
    }
    let injected = std::str::from_utf8(&output_records[2].0[5]).unwrap();
    assert!(injected.starts_with("E002: ") && injected.contains("=HYPERLINK"), "{injected}");
}

#[test]
fn file_errors_go_on_every_row_header_warnings_on_none() {
    let dir = TempDir::new("csvfile");
    let input = "\u{feff}User ID/Email (Required);Frist Name;Webex Meetings\na@acme.example;A;TRUE\nb@acme.example;B;TRUE";
    let path = dir.write("semi.csv", input);
    let o = run(&["--format", "csv", path.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.starts_with('\u{feff}'), "the BOM is kept");
    let mut reader =
        csv::ReaderBuilder::new().delimiter(b';').from_reader(out.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(reader.headers().unwrap().iter().next_back(), Some("Errors"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        let errors = row.get(3).unwrap();
        assert!(errors.starts_with("F002: "), "{errors}");
        assert!(!errors.contains("H003"), "{errors}");
    }
    assert!(out.ends_with("\n") && !out.contains('\r'), "the file's own terminator");
}

#[test]
fn csv_takes_one_file_and_an_empty_file_is_just_the_header() {
    let o = run(&["--format", "csv", USERS, USERS], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("one FILE"));
    let o = run(&["--format", "csv", "-"], Some(b""));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "Errors\r\n");
}
