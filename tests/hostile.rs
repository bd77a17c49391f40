//! Hostile input (issue 7): every file a partner can send yields a clear
//! finding or a typed error naming the place — never a panic, an abort or
//! unbounded memory. Inputs are generated here, not committed.
//!
//! Files from outside go through [`csvcheck::guard`], which applies the
//! [`Limits`] before the check; where the file is within the limits, the
//! report must also satisfy the shared invariants (nothing lost or altered).

use std::path::Path;

use csvcheck::limits::Limits;
use csvcheck::{guard, Checker, Error, FileReport, Options};

use crate::invariants::assert_report_invariants;

const HEADER: &str = "User ID/Email (Required),First Name,Display Name,Webex Meetings [Wholesale]";

/// A valid row `i` (1-based), with a quoted comma so quoting is exercised.
fn row(i: usize) -> String {
    format!("user{i}@acme.example,Name{i},\"Name{i}, Jr\",TRUE\n")
}

/// A file of `rows` valid rows.
fn file(rows: usize) -> String {
    let mut s = format!("{HEADER}\n");
    for i in 1..=rows {
        s.push_str(&row(i));
    }
    s
}

fn checker_with(limits: Limits) -> Checker {
    let mut options = Options::default();
    options.limits = limits;
    Checker::builder().options(options).build()
}

/// Checks through the guard with the default limits; the report must keep
/// every record.
fn check(bytes: impl Into<Vec<u8>>) -> Result<FileReport, Error> {
    let report = guard::check_bytes(&Checker::builder().build(), "hostile.csv", bytes.into())?;
    assert_report_invariants(&report);
    Ok(report)
}

fn codes(report: &FileReport) -> Vec<(&str, Option<u64>)> {
    report.diagnostics.iter().map(|d| (d.code.as_str(), d.line)).collect()
}

#[test]
fn invalid_utf8_mid_file_is_f001_at_its_line_and_echoed_unchanged() {
    let mut bytes = file(100).into_bytes();
    let at = file(49).len() + "user50@acme.example,Na".len();
    bytes[at] = 0xFF;
    let report = check(bytes.clone()).unwrap();
    let f001: Vec<_> = codes(&report).into_iter().filter(|(c, _)| *c == "F001").collect();
    assert_eq!(f001, [("F001", Some(51))]);
    assert_eq!(report.rows, 100);
    assert_eq!(report.summary.rejected, 100, "F001 rejects the whole file");
    assert!(report.row_raw(50).unwrap().contains(&0xFF), "the invalid byte is echoed as it is");
}

#[test]
fn nul_bytes_are_control_characters_at_their_cell() {
    let csv = format!("{HEADER}\nanna@acme.example,An\0na,Anna,TRUE\n{}", row(2));
    let report = check(csv).unwrap();
    let t003 = report.diagnostics.iter().find(|d| d.code.as_str() == "T003").expect("T003 on the NUL");
    assert_eq!((t003.line, t003.column.as_deref()), (Some(2), Some("First Name")));
    // A file of nothing but NUL bytes is one strange title, not a crash.
    let report = check(vec![0u8; 10_000]).unwrap();
    assert!(codes(&report).contains(&("H001", Some(1))), "{:?}", codes(&report));
}

#[test]
fn formulas_are_echoed_unchanged_and_warned_about() {
    let formula = "\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\"";
    let raw = format!("anna@acme.example,{formula},@SUM(A1),TRUE");
    let report = check(format!("{HEADER}\n{raw}\n")).unwrap();
    let t004: Vec<_> = report.diagnostics.iter().filter(|d| d.code.as_str() == "T004").collect();
    assert_eq!(t004.len(), 2, "{:?}", codes(&report));
    assert_eq!(report.row_raw(1), Some(raw.as_bytes()), "the input is echoed byte for byte");
    crate::invariants::assert_csv_report(&report);
    // csvcheck's own cells: a quoted value that starts a formula is defused.
    let cell = format!("T004: {:?} starts with =", "=HYPERLINK(\"x\")");
    let defused = csvcheck::text::defuse_formula(&cell);
    assert!(defused.contains("\"'=HYPERLINK") && !csvcheck::text::starts_formula(&defused), "{defused}");
}

#[test]
fn lone_carriage_returns_end_lines() {
    let csv = file(3).replace('\n', "\r");
    let report = check(csv).unwrap();
    let lines: Vec<u64> = report.operations.iter().map(|o| o.line).collect();
    assert_eq!(lines, [2, 3, 4]);
    assert!(!report.has_errors(), "{:?}", codes(&report));
}

#[test]
fn an_unterminated_quote_is_blamed_where_it_opens() {
    // Line 5 is row 4: open a quote in its Display Name and never close it.
    let line5 = row(4);
    let broken = line5.replace("\"Name4, Jr\"", "\"Name4, Jr");
    let column = "user4@acme.example,Name4,".chars().count() as u64 + 1;
    // The next row's opening quote closes it by accident.
    let csv = file(20_000).replacen(&line5, &broken, 1);
    let err = check(csv.clone()).unwrap_err();
    let Error::Malformed { location, message, .. } = &err else { panic!("{err}") };
    assert_eq!((location.line, location.column), (5, column), "{err}");
    assert!(message.contains("not closed on its line") && message.contains("line 6, column 26"), "{err}");
    // Unguarded, the check still loses nothing the reader saw.
    assert_report_invariants(&Checker::builder().build().check_bytes("hostile.csv", csv.into_bytes()));
    // No quote follows: the rest of the file is one cell.
    let csv = file(20_000).replace("\"Name", "Name").replace(" Jr\"", " Jr").replacen(
        "Name4, Jr",
        "\"Name4, Jr",
        1,
    );
    let err = check(csv).unwrap_err();
    let Error::Malformed { location, message, .. } = &err else { panic!("{err}") };
    assert_eq!((location.line, location.column), (5, column), "{err}");
    assert!(message.contains("never closed") && message.contains("19,996 more lines"), "{err}");
}

#[test]
fn a_50_mb_cell_is_refused_by_the_cell_limit() {
    let mut csv = format!("{HEADER}\nanna@acme.example,Anna,");
    csv.push_str(&"x".repeat(50 * 1024 * 1024));
    csv.push_str(",TRUE\n");
    let err = check(csv).unwrap_err();
    assert!(matches!(err, Error::Limit { .. }), "{err}");
    assert_eq!(err.location().map(|l| (l.line, l.column)), Some((2, 24)));
    let text = err.to_string();
    assert!(text.contains("52,428,800 bytes") && text.contains("Display Name"), "{text}");
    assert!(text.contains("--max-cell-size"), "{text}");
}

#[test]
fn a_raised_cell_limit_lets_a_long_cell_through() {
    let csv = format!("{HEADER}\nanna@acme.example,Anna,{},TRUE\n", "y".repeat(1 << 20));
    let checker = checker_with(Limits::default().with_max_cell_bytes(2 << 20));
    let report = guard::check_bytes(&checker, "long.csv", csv.into_bytes()).unwrap();
    assert_report_invariants(&report);
    assert_eq!(report.rows, 1);
}

#[test]
fn a_header_of_100000_columns_is_refused_by_the_column_limit() {
    let titles: Vec<String> = (0..100_000).map(|i| format!("c{i}")).collect();
    let csv = format!("{}\n", titles.join(","));
    let err = check(csv.clone()).unwrap_err();
    assert!(matches!(err, Error::Limit { .. }), "{err}");
    assert_eq!(err.location().map(|l| l.line), Some(1));
    assert!(err.to_string().contains("100,000 columns") && err.to_string().contains("--max-columns"));
    // Raised, a header over the default limit is checked: no email column,
    // every title unknown.
    let csv = format!("{}\n", titles[..20_000].join(","));
    let checker = checker_with(Limits::default().with_max_columns(20_000));
    let report = guard::check_bytes(&checker, "wide.csv", csv.into_bytes()).unwrap();
    assert!(codes(&report).contains(&("H001", Some(1))));
    assert_eq!(report.diagnostics.iter().filter(|d| d.code.as_str() == "H003").count(), 20_000);
}

#[test]
fn a_million_empty_lines_are_skipped() {
    let only_blank = "\n".repeat(1_000_000);
    assert_eq!(codes(&check(only_blank).unwrap()), [("F003", None)]);
    let mut csv = format!("{HEADER}\n");
    csv.push_str(&"\r\n".repeat(500_000));
    csv.push_str(&"  \n".repeat(500_000));
    csv.push_str(&row(1));
    let report = check(csv).unwrap();
    assert_eq!(report.rows, 1);
    assert_eq!(report.operations[0].line, 1_000_002);
}

#[test]
fn a_file_of_only_a_byte_order_mark_is_empty() {
    for bom in [&b"\xEF\xBB\xBF"[..], b"\xFF\xFE", b"\xFE\xFF", b"\xEF\xBB\xBF\xEF\xBB\xBF"] {
        let report = check(bom).unwrap();
        assert_eq!(codes(&report), [("F003", None)], "{bom:?}");
        assert_eq!(report.rows, 0);
    }
}

#[test]
fn utf16_with_an_odd_byte_count_is_refused_where_it_breaks() {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in file(3).encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    bytes.push(b'x');
    let err = check(bytes.clone()).unwrap_err();
    let Error::Malformed { location, message, .. } = &err else { panic!("{err}") };
    assert_eq!(location.line, 5, "{err}");
    assert!(message.contains("UTF-16LE") && message.contains("odd number of bytes"), "{err}");
    // Unguarded, it is decoded with a replacement character and loses nothing.
    assert_report_invariants(&Checker::builder().build().check_bytes("odd.csv", bytes));
}

#[test]
fn too_many_records_are_refused_before_they_are_held() {
    let csv = format!("{HEADER}\n{}", "a,b\n".repeat(1_048_576));
    // Every row has a finding: lift that limit to meet the records limit.
    let checker = checker_with(Limits::default().with_max_findings(u64::MAX));
    let err = guard::check_bytes(&checker, "hostile.csv", csv.into_bytes()).unwrap_err();
    assert!(err.to_string().contains("more than 1,048,576 records"), "{err}");
    // Refused where the record past the limit starts.
    assert_eq!(err.location().map(|l| l.line), Some(1_048_577), "{err}");
    assert!(err.to_string().contains("--max-records"), "{err}");
}

#[test]
fn a_file_with_too_many_findings_is_refused() {
    // Every cell untrimmed: eight findings per row.
    let mut csv = String::from(
        "User ID/Email (Required),First Name,Last Name,Display Name,Department,Title,Manager,Location\n",
    );
    for _ in 0..200 {
        csv.push_str(" a, b, c, d, e, f, g, h\n");
    }
    let checker = checker_with(Limits::default().with_max_findings(1000));
    let err = guard::check_bytes(&checker, "noisy.csv", csv.clone().into_bytes()).unwrap_err();
    assert!(err.to_string().contains("more than 1,000 findings by line 201"), "{err}");
    let checker = checker_with(Limits::default().with_max_findings(10_000));
    let report = guard::check_bytes(&checker, "noisy.csv", csv.into_bytes()).unwrap();
    assert!(report.diagnostics.len() > 1000);
}

#[test]
fn cross_row_findings_count_towards_the_findings_limit() {
    // One clean row, then the same user again and again: every finding is
    // a duplicate (E004), made by the cross-row pass.
    let mut csv = String::from("User ID/Email (Required),Preferred Webex Site,Webex Meetings [Wholesale]\n");
    for _ in 0..300 {
        csv.push_str("anna@acme.example,acme.webex.com,TRUE\n");
    }
    let checker = checker_with(Limits::default().with_max_findings(100));
    let err = guard::check_bytes(&checker, "same.csv", csv.clone().into_bytes()).unwrap_err();
    assert!(err.to_string().contains("more than 100 findings"), "{err}");
    let report = Checker::builder().build().check_bytes("same.csv", csv.into_bytes());
    assert!(report.diagnostics.iter().all(|d| d.code.as_str() == "E004"), "{:?}", report.diagnostics[0]);
    assert_eq!(report.diagnostics.len(), 299);
}

#[test]
fn a_reader_that_never_ends_is_refused_at_the_file_limit() {
    let checker = checker_with(Limits::default().with_max_file_bytes(1 << 20));
    let err = guard::check_reader(&checker, "<stdin>", std::io::repeat(b'a')).unwrap_err();
    assert!(matches!(err, Error::Limit { .. }), "{err}");
    assert!(err.to_string().contains("--max-file-size"), "{err}");
}

#[test]
fn a_file_over_the_size_limit_is_refused_without_reading_it() {
    let dir = crate::util::TempDir::new("hostile-size");
    let path = dir.write("big.csv", file(1000));
    let checker = checker_with(Limits::default().with_max_file_bytes(1000));
    let err = guard::check_path(&checker, &path).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("bytes, more than the limit of 1,000 (raise it with --max-file-size)"), "{text}");
    assert!(guard::check_path(&Checker::builder().build(), &path).is_ok());
}

#[test]
fn deeply_nested_org_and_profile_files_are_errors_not_stack_overflows() {
    let depth = 100_000;
    // Under a known field: a type error at the first bracket too many.
    let json = format!("{{\"users\": [{{\"email\": {}{}}}]}}", "[".repeat(depth), "]".repeat(depth));
    let err = csvcheck::OrgState::from_json(json.as_bytes(), Path::new("org.json")).unwrap_err();
    assert!(matches!(err, Error::Org { .. }), "{err}");
    // Under an unknown field: skipped, as unknown fields are.
    let json = format!("{{\"x\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
    let org = csvcheck::OrgState::from_json(json.as_bytes(), Path::new("org.json")).unwrap();
    assert!(org.users.is_empty());
    let toml = format!("a = {}{}", "[".repeat(depth), "]".repeat(depth));
    let err = csvcheck::Profile::from_toml(&toml, Path::new("p.toml")).unwrap_err();
    assert!(matches!(err, Error::Profile { .. }), "{err}");
}

/// The inputs of fuzz/regressions/TARGET/: what once broke a fuzz target.
fn regressions(target: &str) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let dir = crate::util::root().join("fuzz").join("regressions").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files.into_iter().map(|p| (p.clone(), std::fs::read(&p).expect("a regression input reads"))).collect()
}

/// Everything the check_bytes fuzz target asserts that the test suite can.
fn replay_check(checker: &Checker, data: &[u8]) {
    let report = checker.check_bytes("fuzz.csv", data.to_vec());
    assert_report_invariants(&report);
    crate::invariants::assert_csv_report(&report);
    crate::invariants::assert_split(&report, 2);
    crate::invariants::assert_fix(&report, checker.profile(), true);
    let _ = guard::check_bytes(checker, "fuzz.csv", data.to_vec());
}

#[test]
fn fuzz_regressions_stay_fixed() {
    let acme = csvcheck::OrgState::from_path(crate::util::fixture("org/acme.json"), &Default::default())
        .expect("the fixture org parses");
    let checker = Checker::builder().org(acme).build();
    let mut replayed = 0;
    for (path, data) in regressions("check_bytes") {
        eprintln!("replaying {}", path.display());
        replay_check(&checker, &data);
        replayed += 1;
    }
    let users = std::fs::read(crate::util::fixture("files/users.csv")).expect("the fixture reads");
    for (path, data) in regressions("org_file") {
        eprintln!("replaying {}", path.display());
        for name in ["org.json", "org.csv"] {
            match csvcheck::OrgState::from_bytes(&data, Path::new(name), &Default::default()) {
                Ok(org) => {
                    let checker = Checker::builder().org(org).build();
                    replay_check(&checker, &users);
                    replay_check(&checker, &data);
                }
                Err(e) => {
                    assert!(matches!(e, Error::Org { .. } | Error::Limit { .. } | Error::Malformed { .. }))
                }
            }
        }
        replayed += 1;
    }
    for (path, data) in regressions("profile") {
        eprintln!("replaying {}", path.display());
        if let Ok(text) = std::str::from_utf8(&data) {
            match csvcheck::Profile::from_toml(text, Path::new("profile.toml")) {
                Ok(profile) => replay_check(&Checker::builder().profile(profile).build(), &users),
                Err(e) => assert!(matches!(e, Error::Profile { .. }), "{e}"),
            }
        }
        replayed += 1;
    }
    assert!(replayed > 0, "fuzz/regressions/ holds no inputs");
}

#[cfg(unix)]
#[test]
fn an_endless_profile_file_is_an_error() {
    let err = csvcheck::Profile::from_path("/dev/zero").unwrap_err();
    assert!(matches!(err, Error::Limit { .. }), "{err}");
    assert_eq!(err.to_string(), "/dev/zero: more than 1048576 bytes: too large to be a profile");
}

#[test]
fn a_byte_order_mark_after_a_blank_line_does_not_hide_the_email_column() {
    let report = check(format!("\n\u{feff}{HEADER}\n{}", row(1))).unwrap();
    assert!(!report.diagnostics.iter().any(|d| d.code.as_str().starts_with('H')), "{:?}", codes(&report));
    assert_eq!(report.rows, 1);
}

#[test]
fn a_byte_order_mark_inside_a_file_is_text_and_opens_no_quote() {
    // Only a file's first bytes can be its byte-order mark: one at the start
    // of a later line is a character (U+FEFF) of its first cell, so the
    // quote after it is text too, as the reader reads it.
    let csv = format!("{HEADER}\n\u{FEFF}\"anna@acme.example,Anna,Anna,TRUE\n{}\n", row(2));
    let report = check(csv).expect("no quote is open");
    assert_eq!(report.rows, 2);
    assert_eq!(codes(&report).first(), Some(&("E002", Some(2))), "{:?}", codes(&report));
    // The fuzzer's input, which the guard refused: it scanned the second
    // record as if the mark began the file, and took the quote after it for
    // an opening one.
    let fuzzed = b"\xEF\"\xBF\n\xEF\xBB\xBF\"\xBF\n\xEF\xBB\xBF\n\n".to_vec();
    check(fuzzed).expect("no quote is open");
    // A quote right after the file's own mark still opens a cell.
    let err = check(format!("\u{FEFF}\"{HEADER}\n{}\n", row(1))).unwrap_err();
    assert!(err.to_string().contains("never closed") || err.to_string().contains("not closed"), "{err}");
}
