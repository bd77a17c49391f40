//! Every rule of the registry against its fixtures, and the README's rule
//! table against the registry.
//!
//! `fixtures/rules/<CODE>/` holds, for each code:
//!
//! * `fires.csv`: a file that triggers the code;
//! * `clean.csv`: the same file with the minimal fix, which must not;
//! * `expected.txt`: every occurrence of the code in `fires.csv`, one per
//!   line as `LINE COLUMN-TITLE` (`-` where a diagnostic has no line or no
//!   column);
//! * optionally `org.json` (passed as `--org` for both files) and `args`
//!   (one command-line option per line, e.g. `--max-rows 2`).
//!
//! The test walks the registry, so a new code without fixtures fails.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::Parser;
use csvcheck::cli::{Cli, Command};
use csvcheck::rules::RULES;
use csvcheck::{Checker, Code, Diagnostic, FileReport};

use crate::util::root;

fn fixtures() -> PathBuf {
    root().join("fixtures").join("rules")
}

/// Where a diagnostic is: (line, column title), as `expected.txt` writes it.
type Place = (Option<u64>, Option<String>);

fn place(d: &Diagnostic) -> Place {
    (d.line, d.column.clone())
}

fn show(p: &Place) -> String {
    let line = p.0.map_or_else(|| "-".to_owned(), |l| l.to_string());
    format!("{line} {}", p.1.as_deref().unwrap_or("-"))
}

fn parse_expected(text: &str) -> Result<BTreeSet<Place>, String> {
    let mut out = BTreeSet::new();
    for raw in text.lines().filter(|l| !l.trim().is_empty()) {
        let (line, column) = raw.split_once(' ').ok_or_else(|| format!("bad expected line {raw:?}"))?;
        let line = match line {
            "-" => None,
            n => Some(n.parse::<u64>().map_err(|e| format!("bad line in {raw:?}: {e}"))?),
        };
        let column = (column != "-").then(|| column.to_owned());
        if !out.insert((line, column)) {
            return Err(format!("{raw:?} is listed twice"));
        }
    }
    Ok(out)
}

/// The checker the command line would build for a fixture directory: its
/// `org.json` and the options in its `args` file.
fn checker_for(dir: &Path) -> Result<Checker, String> {
    let mut argv = vec!["csvcheck".to_owned(), "check".to_owned()];
    let org = dir.join("org.json");
    if org.exists() {
        argv.push("--org".into());
        argv.push(org.display().to_string());
    }
    if let Ok(args) = std::fs::read_to_string(dir.join("args")) {
        for line in args.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match line.split_once(char::is_whitespace) {
                Some((option, value)) => argv.extend([option.to_owned(), value.trim().to_owned()]),
                None => argv.push(line.to_owned()),
            }
        }
    }
    argv.push(dir.join("fires.csv").display().to_string());
    let cli = Cli::try_parse_from(&argv).map_err(|e| format!("args {argv:?}: {e}"))?;
    let Command::Check(args) = cli.command else {
        return Err("not a check command".into());
    };
    csvcheck::cli::checker(&args).map_err(|e| e.to_string())
}

/// The cell a diagnostic points at, read independently of the checker: the
/// record starting on its line, the field at its column.
fn cell_at(checker: &Checker, bytes: &[u8], line: u64, column: usize) -> Option<String> {
    let source = csvcheck::read::Source::decode(bytes.to_vec(), checker.options().encoding);
    let record = source.records().find(|r| r.line == line)?;
    record.field(column).map(str::to_owned)
}

/// Whether `message` names `value` (trimmed): as written, in another case
/// (emails are keys), or escaped the way `{:?}` escapes it.
fn names(message: &str, value: &str) -> bool {
    let v = value.trim();
    let escaped = format!("{v:?}");
    let escaped = &escaped[1..escaped.len() - 1];
    // A long value is elided in the middle (`start…end`): its first
    // characters, as quoted, must still be there.
    let start: String = escaped.chars().take(30).collect();
    v.is_empty()
        || message.contains(v)
        || message.contains(escaped)
        || message.to_lowercase().contains(&v.to_lowercase())
        || (escaped.chars().count() > 60 && message.contains(start.as_str()) && message.contains('…'))
}

/// What every diagnostic of a report must satisfy; returns the failures.
fn check_diagnostics(what: &str, checker: &Checker, bytes: &[u8], report: &FileReport) -> Vec<String> {
    let mut failures = Vec::new();
    for d in &report.diagnostics {
        let at = format!("{what}: {} at {}", d.code, show(&place(d)));
        if d.message.trim().is_empty() {
            failures.push(format!("{at}: empty message"));
        }
        if d.help.trim().is_empty() {
            failures.push(format!("{at}: empty help"));
        }
        if d.column.is_some() != d.column_index.is_some() {
            failures.push(format!("{at}: column title and index disagree"));
        }
        if let (Some(line), Some(index)) = (d.line, d.column_index) {
            // A diagnostic in a column shows that cell's value as written...
            let cell = cell_at(checker, bytes, line, index);
            if d.value != cell {
                failures.push(format!("{at}: value {:?} is not the cell {cell:?}", d.value));
            }
            // ...and its message says which value is wrong.
            if let Some(value) = &d.value {
                if !names(&d.message, value) {
                    failures.push(format!("{at}: message {:?} does not name {value:?}", d.message));
                }
            }
        }
        if matches!(d.code, Code::E004 | Code::N005 | Code::N007) {
            // Duplicates name the earlier row's line (N007 may name an org
            // user instead).
            let earlier = d
                .message
                .split("line ")
                .nth(1)
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse::<u64>().ok());
            let ok = match earlier {
                Some(n) => d.line.is_some_and(|l| n < l),
                None => d.code == Code::N007 && d.message.contains("a user of the org"),
            };
            if !ok {
                failures.push(format!("{at}: {:?} does not name an earlier line", d.message));
            }
        }
    }
    failures
}

/// Checks one code's fixtures; returns what is wrong with them.
fn check_code(code: Code) -> Vec<String> {
    check_fixture(code, &fixtures().join(code.as_str()))
}

/// Checks the fixtures of `code` in `dir`.
fn check_fixture(code: Code, dir: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    for file in ["fires.csv", "clean.csv", "expected.txt"] {
        if !dir.join(file).is_file() {
            failures.push(format!("{code}: {} is missing", dir.join(file).display()));
        }
    }
    if !failures.is_empty() {
        return failures;
    }
    let expected = match std::fs::read_to_string(dir.join("expected.txt")).map_err(|e| e.to_string()) {
        Ok(text) => parse_expected(&text),
        Err(e) => Err(e),
    };
    let expected = match expected {
        Ok(e) if e.is_empty() => return vec![format!("{code}: expected.txt lists nothing")],
        Ok(e) => e,
        Err(e) => return vec![format!("{code}: expected.txt: {e}")],
    };
    let checker = match checker_for(dir) {
        Ok(c) => c,
        Err(e) => return vec![format!("{code}: {e}")],
    };
    for (file, must_fire) in [("fires.csv", true), ("clean.csv", false)] {
        let bytes = std::fs::read(dir.join(file)).expect("fixture reads");
        let report = checker.check_bytes(file, bytes.clone());
        let got: BTreeSet<Place> = report.diagnostics.iter().filter(|d| d.code == code).map(place).collect();
        if must_fire && got != expected {
            let list = |s: &BTreeSet<Place>| s.iter().map(show).collect::<Vec<_>>().join(", ");
            failures.push(format!(
                "{code}: fires.csv reports [{}], expected.txt says [{}]",
                list(&got),
                list(&expected)
            ));
        }
        if !must_fire && !got.is_empty() {
            let places: Vec<_> = got.iter().map(show).collect();
            failures.push(format!("{code}: clean.csv still reports it at {}", places.join(", ")));
        }
        let count = report.diagnostics.iter().filter(|d| d.code == code).count();
        if count != got.len() {
            failures.push(format!("{code}: {file} reports it twice at one place"));
        }
        failures.extend(check_diagnostics(&format!("{code}/{file}"), &checker, &bytes, &report));
    }
    failures
}

#[test]
fn every_rule_fires_on_its_fixture_and_not_on_the_fix() {
    let failures: Vec<String> = RULES.iter().flat_map(|r| check_code(r.code)).collect();
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_fixture_directory_is_a_live_code() {
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(fixtures()).expect("fixtures/rules exists") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        if !RULES.iter().any(|r| r.code.as_str() == name) {
            stale.push(name);
        }
    }
    assert!(stale.is_empty(), "fixtures for codes the registry does not have: {stale:?}");
}

#[test]
fn a_code_without_fixtures_fails_the_walk() {
    let dir = crate::util::TempDir::new("rule-fixtures");
    let failures = check_fixture(Code::E002, dir.path());
    assert_eq!(failures.len(), 3, "{failures:?}");
    assert!(failures.iter().all(|f| f.contains("is missing")), "{failures:?}");
    // A fixture whose expectations are wrong fails too.
    let real = fixtures().join("E002");
    for file in ["fires.csv", "clean.csv"] {
        dir.write(file, std::fs::read(real.join(file)).unwrap());
    }
    dir.write("expected.txt", "2 User ID/Email (Required)\n");
    let failures = check_fixture(Code::E002, dir.path());
    assert!(failures.iter().any(|f| f.contains("expected.txt says")), "{failures:?}");
    // A clean file that still fires fails.
    dir.write("clean.csv", std::fs::read(real.join("fires.csv")).unwrap());
    let failures = check_fixture(Code::E002, dir.path());
    assert!(failures.iter().any(|f| f.contains("clean.csv still reports")), "{failures:?}");
}

#[test]
fn expected_lines_parse_strictly() {
    let e = parse_expected("4 User ID/Email (Required)\n- -\n1 webex calling  [w]\n").unwrap();
    assert!(e.contains(&(Some(4), Some("User ID/Email (Required)".into()))));
    assert!(e.contains(&(None, None)));
    assert!(e.contains(&(Some(1), Some("webex calling  [w]".into()))));
    assert!(parse_expected("four Location").is_err());
    assert!(parse_expected("4").is_err());
    assert!(parse_expected("4 Location\n4 Location").is_err());
}

#[test]
fn the_n002_help_restores_the_plus() {
    let report = crate::util::check(
        "User ID/Email (Required),Phone Number,Extension,Location,Webex Calling\n\
         anna@acme.example,390212345678,1001,Roma,TRUE\n",
        None,
    );
    let d = report.diagnostics.iter().find(|d| d.code == Code::N002).expect("N002");
    assert_eq!(d.help, "add the leading + (spreadsheets drop it); did you mean +390212345678?");
    assert!(d.message.contains("390212345678"), "{}", d.message);
}

/// The README's rule table, between its markers.
fn readme_table() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let start = readme.find("<!-- rules:begin").expect("rules:begin marker");
    let start = start + readme[start..].find('\n').expect("end of marker line") + 1;
    let end = readme.find("<!-- rules:end -->").expect("rules:end marker");
    readme[start..end].to_owned()
}

#[test]
fn the_readme_rule_table_is_generated_from_the_registry() {
    let mut table = String::from("| code | severity | name | when |\n|---|---|---|---|\n");
    for r in RULES {
        table.push_str(&format!("| {} | {} | {} | {} |\n", r.code, r.severity, r.name, r.summary));
    }
    assert_text_eq!(table, readme_table());
}
