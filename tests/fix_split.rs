//! `csvcheck fix` and `csvcheck split`, on realistic generated files and on
//! the awkward ones: semicolons, BOMs, UTF-16, NFD, quoted line breaks.

use std::collections::BTreeSet;

use csvcheck::fix::{fix, FixOptions};
use csvcheck::read::Source;
use csvcheck::{Checker, FileReport, OrgState, Profile};

use crate::util::{run, stdout, TempDir};

use crate::util::gen;

/// A generated users file (with faults in 30% of rows) and its org.
fn generated(rows: usize, seed: u64) -> (Vec<u8>, OrgState) {
    let g = gen::generate(&gen::GenConfig { rows, org_users: rows / 2, error_pct: 30.0, seed });
    let org = OrgState::from_json(g.org_json.as_bytes(), std::path::Path::new("org.json")).unwrap();
    (g.csv, org)
}

/// Makes a clean-ish file messy in the ways `fix` repairs: lower-case flags,
/// padded and decomposed names.
fn messier(csv: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(csv.to_vec()).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let line = match i % 5 {
            1 => line.replacen(",TRUE,", ",true,", 1),
            2 => line.replacen(",FALSE", ", False ", 1),
            3 => line.replacen("ò", "o\u{300}", 1).replacen("é", "e\u{301}", 1),
            4 if i > 0 => format!(" {line}"),
            _ => line.to_owned(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out.into_bytes()
}

fn to_semicolons(csv: &[u8]) -> Vec<u8> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(csv);
    let mut writer = csv::WriterBuilder::new().delimiter(b';').flexible(true).from_writer(Vec::new());
    for r in reader.byte_records() {
        writer.write_byte_record(&r.unwrap()).unwrap();
    }
    writer.into_inner().unwrap()
}

fn utf16le_with_bom(csv: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for unit in std::str::from_utf8(csv).unwrap().encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

fn check(org: &OrgState, bytes: Vec<u8>) -> FileReport {
    Checker::builder().org(org.clone()).build().check_bytes("users.csv", bytes)
}

fn codes(report: &FileReport) -> BTreeSet<&'static str> {
    report.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

fn fixed(bytes: &[u8], unsafe_fixes: bool) -> csvcheck::fix::Fixed {
    let source = Source::decode(bytes.to_vec(), None);
    fix("users.csv", &source, &Profile::default(), &FixOptions::with_unsafe_fixes(unsafe_fixes)).unwrap()
}

#[test]
fn fixed_files_have_no_fixable_findings_left() {
    let (csv, org) = generated(600, 7);
    let messy = messier(&csv);
    let variants: [(&str, Vec<u8>); 4] = [
        ("generated", csv.clone()),
        ("messier", messy.clone()),
        ("semicolons", to_semicolons(&messy)),
        ("utf-16 with BOM", utf16le_with_bom(&to_semicolons(&messy))),
    ];
    for (i, (name, bytes)) in variants.into_iter().enumerate() {
        let before = check(&org, bytes.clone());
        let expected: &[&str] = match i {
            0 => &["T001", "N002", "P001"],
            1 => &["T001", "T002", "N002", "P001"],
            _ => &["T001", "T002", "N002", "P001", "F002"],
        };
        assert!(expected.iter().all(|c| codes(&before).contains(c)), "{name}: the input needs the fixes");
        let safe = fixed(&bytes, false);
        let after = check(&org, safe.bytes.clone());
        let left: Vec<_> =
            codes(&after).into_iter().filter(|c| ["T001", "T002", "F001", "F002"].contains(c)).collect();
        assert!(left.is_empty(), "{name}: safe fixes left {left:?}");
        assert!(!safe.bytes.starts_with("\u{feff}".as_bytes()), "{name}: no BOM");
        assert_eq!(after.rows, before.rows, "{name}: every row kept");
        let keys = |r: &FileReport| r.operations.iter().map(|o| o.email.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&after), keys(&before), "{name}: no user key changes");
        assert!(safe.edits.iter().filter(|e| e.email).all(|e| e.from.trim() == e.to.trim()), "{name}");
        assert_eq!(safe.applied().count(), safe.edits.len() - safe.suggested().count());

        // The guesses clear what they are for, when asked.
        let guessed = fixed(&bytes, true);
        let after = check(&org, guessed.bytes.clone());
        assert!(!codes(&after).contains("N002"), "{name}: a stripped + left");
        assert!(
            !after.diagnostics.iter().any(|d| d.code.as_str() == "P001" && d.value.as_deref() == Some("yes")),
            "{name}: a yes left"
        );
        assert_eq!(keys(&after), keys(&before), "{name}: no user key changes");
        assert_eq!(guessed.suggested().count(), 0, "{name}");
    }
}

#[test]
fn a_sep_line_is_removed_and_the_rest_fixed_as_without_it() {
    let (csv, org) = generated(200, 5);
    let semicolons = to_semicolons(&messier(&csv));
    // The `sep=` line ends in `\r\n`, the file's lines in `\n`: the copy
    // keeps the lines' own ends, not the removed line's.
    let mut bytes = b"sep=;\r\n".to_vec();
    bytes.extend_from_slice(&semicolons);
    let before = check(&org, bytes.clone());
    assert!(codes(&before).contains("H001"), "{:?}", codes(&before));
    crate::invariants::assert_fix(&before, &Profile::default(), false);
    let (with, without) = (fixed(&bytes, false), fixed(&semicolons, false));
    let text = |f: &csvcheck::fix::Fixed| String::from_utf8_lossy(&f.bytes).into_owned();
    assert!(text(&with) == text(&without), "the copy is the copy of the file without the line");
    assert_eq!(with.rows, without.rows);
    // The edits are the same, a line further down.
    let place = |f: &csvcheck::fix::Fixed, shift: u64| {
        f.edits.iter().map(|e| (e.line - shift, e.row, e.column, e.to.clone())).collect::<Vec<_>>()
    };
    assert_eq!(place(&with, 1), place(&without, 0));
    let after = check(&org, with.bytes);
    assert!(!codes(&after).contains("H001") && !codes(&after).contains("F002"), "{:?}", codes(&after));
    assert_eq!(after.rows, before.rows - 1, "every row kept (the real header was row 1)");
}

#[test]
fn a_clean_comma_file_is_left_byte_for_byte() {
    let (csv, _) = generated(300, 11);
    let source = Source::decode(csv.clone(), None);
    // Generated T001 faults aside, every record keeps its bytes.
    let f = fix("users.csv", &source, &Profile::default(), &FixOptions::default()).unwrap();
    let changed: BTreeSet<u64> = f.applied().map(|e| e.line).collect();
    let out = Source::decode(f.bytes.clone(), None);
    let before: Vec<_> = source.records().collect();
    let after: Vec<_> = out.records().collect();
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        if !changed.contains(&b.line) {
            assert_eq!(source.raw(&b.span), out.raw(&a.span), "line {}", b.line);
        }
    }
}

#[test]
fn fix_prints_each_change_and_writes_the_copy() {
    let dir = TempDir::new("fix");
    let input = dir.write(
        "users.csv",
        "User ID/Email (Required);First Name;Phone Number;Webex Calling [Wholesale]\n\
         Anna@Acme.example ;Anna ;390212345679;yes\n",
    );
    let out = dir.path().join("fixed.csv");
    let o = run(&["fix", input.to_str().unwrap(), "-o", out.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = stdout(&o);
    let expected = [
        "delimiter: ';' -> ',' (F002)",
        r#"line 2, column "User ID/Email (Required)": "Anna@Acme.example " -> "Anna@Acme.example" (T001 trimmed; email cell: the user's key is unchanged)"#,
        r#"line 2, column "First Name": "Anna " -> "Anna" (T001 trimmed)"#,
        r#"line 2, column "Phone Number": "390212345679" -> "+390212345679" (N002 + restored; not applied: unsafe, use --unsafe-fixes)"#,
        r#"line 2, column "Webex Calling [Wholesale]": "yes" -> "TRUE" (P001 yes/no read as TRUE/FALSE; not applied: unsafe, use --unsafe-fixes)"#,
    ];
    assert_eq!(text.lines().take(expected.len()).collect::<Vec<_>>(), expected);
    assert!(text.lines().last().unwrap().contains("2 unsafe fixes not applied"), "{text}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "User ID/Email (Required),First Name,Phone Number,Webex Calling [Wholesale]\n\
         Anna@Acme.example,Anna,390212345679,yes\n"
    );

    // In place, with the guesses; the report goes to stderr with `-o -`.
    let o = run(&["fix", "--unsafe-fixes", input.to_str().unwrap(), "-o", input.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&input).unwrap(),
        "User ID/Email (Required),First Name,Phone Number,Webex Calling [Wholesale]\n\
         Anna@Acme.example,Anna,+390212345679,TRUE\n"
    );
    let o = run(&["fix", "-", "-o", "-"], Some(b"User ID/Email (Required),First Name\na@acme.example,A \n"));
    assert_eq!(stdout(&o), "User ID/Email (Required),First Name\na@acme.example,A\n");
    assert!(String::from_utf8_lossy(&o.stderr).contains(r#""A " -> "A""#));
}

#[test]
fn fix_refuses_to_guess_an_encoding_but_decodes_a_named_one() {
    let dir = TempDir::new("fixenc");
    let input = dir.write("latin.csv", b"User ID/Email (Required),First Name\nn@acme.example,Nicol\xf2\n");
    let out = dir.path().join("out.csv");
    let o = run(&["fix", input.to_str().unwrap(), "-o", out.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("latin.csv:2:"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.exists(), "nothing is written");
    let o = run(
        &["fix", "--encoding", "windows-1252", input.to_str().unwrap(), "-o", out.to_str().unwrap()],
        None,
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("encoding: windows-1252 -> UTF-8"), "{}", stdout(&o));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "User ID/Email (Required),First Name\nn@acme.example,Nicolò\n"
    );
}

/// The raw data records of a file.
fn records(bytes: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let source = Source::decode(bytes.to_vec(), None);
    let mut all = source.records().map(|r| source.raw(&r.span).to_vec());
    let header = all.next().unwrap();
    (header, all.collect())
}

#[test]
fn split_parts_concatenate_back_to_the_input_rows() {
    let (csv, _) = generated(2_345, 3);
    // A record spread over two lines, and CRLF terminators.
    let mut text = String::from_utf8(csv).unwrap().replace('\n', "\r\n");
    let second = text.find("\r\n").unwrap() + 2;
    let end = second + text[second..].find(',').unwrap();
    text.insert_str(end, ",\"Multi\r\nline\"");
    text.truncate(text.len() - 2); // and no terminator at the end
    let dir = TempDir::new("split");
    let input = dir.write("users.csv", &text);
    let parts_dir = dir.path().join("parts");
    let o =
        run(&["split", input.to_str().unwrap(), "--rows", "1000", "-o", parts_dir.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("into 3 parts of at most 1000 rows (2345 rows in all)"), "{}", stdout(&o));

    let mut names: Vec<String> = std::fs::read_dir(&parts_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["users-part-001-of-003.csv", "users-part-002-of-003.csv", "users-part-003-of-003.csv"]
    );
    let (header, rows) = records(text.as_bytes());
    let mut joined = Vec::new();
    for name in &names {
        let bytes = std::fs::read(parts_dir.join(name)).unwrap();
        assert!(bytes.ends_with(b"\r\n") && !bytes.windows(3).any(|w| w == b"\n\r\n"), "{name}");
        let (part_header, part_rows) = records(&bytes);
        assert_eq!(part_header, header, "{name} starts with the header");
        assert!(!part_rows.is_empty() && part_rows.len() <= 1000, "{name}");
        joined.extend(part_rows);
        // Each part is one upload: within the limit.
        let report = Checker::builder().max_rows(1000).build().check_bytes(name, bytes);
        assert!(!report.diagnostics.iter().any(|d| d.code.as_str() == "F004"));
    }
    assert_eq!(joined.len(), rows.len());
    assert!(joined == rows, "the parts hold the input's records, byte for byte, in order");
}

#[test]
fn split_defaults_to_control_hubs_limit_and_refuses_what_it_cannot_split() {
    let (csv, _) = generated(20_001, 5);
    let dir = TempDir::new("splitdefault");
    let input = dir.write("big.csv", &csv);
    let parts = dir.path().join("out");
    let o = run(&["split", input.to_str().unwrap(), "-o", parts.to_str().unwrap(), "--quiet"], None);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).lines().count(), 1);
    let first = std::fs::read(parts.join("big-part-001-of-002.csv")).unwrap();
    let second = std::fs::read(parts.join("big-part-002-of-002.csv")).unwrap();
    assert_eq!((records(&first).1.len(), records(&second).1.len()), (20_000, 1));

    let empty = dir.write("empty.csv", "");
    let o = run(&["split", empty.to_str().unwrap(), "-o", parts.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("empty.csv: the file has no header"));
    assert_eq!(
        run(&["split", input.to_str().unwrap(), "--rows", "0", "-o", "x"], None).status.code(),
        Some(2)
    );
}
