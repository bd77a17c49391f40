//! The text report: snapshots of the exact rendering (no colour, width 100)
//! under `fixtures/snapshots/`, and the properties every rendering keeps.
//!
//! `BLESS=1 cargo test --test integration text::` rewrites the snapshots;
//! review the diff before committing it.

use csvcheck::report::{self, Format, RenderOptions};
use csvcheck::{Checker, FileReport, OrgState};

use crate::util::{fixture, run, stdout};

fn checker(org: bool, max_rows: Option<u64>) -> Checker {
    let mut b = Checker::builder();
    if org {
        let path = fixture("org/acme.json");
        b.org(OrgState::from_json(&std::fs::read(&path).unwrap(), &path).unwrap());
    }
    if let Some(n) = max_rows {
        b.max_rows(n);
    }
    b.build()
}

fn render(files: &[FileReport], options: &RenderOptions) -> String {
    let mut out = Vec::new();
    report::write(&mut out, Format::Text, files, options).unwrap();
    String::from_utf8(out).unwrap()
}

/// Compares with `fixtures/snapshots/<name>.txt`, or writes it when `BLESS` is set.
fn assert_snapshot(name: &str, got: &str) {
    let path = fixture(&format!("snapshots/{name}.txt"));
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with BLESS=1 to create it)", path.display()));
    assert_text_eq!(expected, got);
}

/// Properties of any plain rendering of `files`.
fn assert_plain_rendering(files: &[FileReport], text: &str) {
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "no control characters reach the terminal");
    let titles: Vec<&str> =
        text.lines().filter(|l| l.starts_with("error[") || l.starts_with("warning[")).collect();
    let expected: Vec<String> = files
        .iter()
        .flat_map(|f| &f.diagnostics)
        .map(|d| format!("{}[{}]", d.severity(), d.code.as_str()))
        .collect();
    assert_eq!(titles.len(), expected.len(), "one block per diagnostic");
    for (title, expected) in titles.iter().zip(&expected) {
        assert!(title.starts_with(&format!("{expected}: ")), "{title} / {expected}");
    }
    for f in files {
        assert!(text.contains(&report::text::summary_line(f)), "the summary of {}", f.path);
    }
}

#[test]
fn users_against_the_org() {
    let bytes = std::fs::read(fixture("files/users.csv")).unwrap();
    let files = [checker(true, None).check_bytes("users.csv", bytes)];
    let text = render(&files, &RenderOptions::default());
    assert_plain_rendering(&files, &text);
    assert_snapshot("users", &text);
}

#[test]
fn hostile_cells_long_lines_line_breaks_and_wide_characters() {
    let long = "x".repeat(300);
    let csv = format!(
        "User ID/Email (Required),First Name,Last Name,Department,Webex Meetings\n\
         anna@acme.example,\"Anna\u{1b}[2J\u{1b}[31m\",Bianchi,Sales,TRUE\n\
         ,Empty,Email,Sales,TRUE\n\
         {long}@acme.example,Long,Line,{long},TRUE\n\
         carla@acme.example,\"Car\nla\",Rossi  ,Sales,TRUE\n\
         山田@acme.example,太郎,=山田(),Sales,yes\n\
         ragged@acme.example,Ragged\n"
    );
    let files = [checker(false, None).check_bytes("hostile.csv", csv.into_bytes())];
    let text = render(&files, &RenderOptions::default());
    assert_plain_rendering(&files, &text);
    assert!(text.lines().all(|l| l.chars().count() <= 2 * 100), "long records are cut to the width");
    assert_snapshot("hostile", &text);
}

#[test]
fn header_and_file_findings() {
    let csv = "User ID/Email (Required);Frist Name;Webex Calling;Webex Calling\n\
               a@acme.example;A;TRUE;\n\
               b@acme.example;B;TRUE;\n";
    let files = [checker(false, Some(1)).check_bytes("semicolons.csv", csv.as_bytes().to_vec())];
    let text = render(&files, &RenderOptions::default());
    assert_plain_rendering(&files, &text);
    assert_snapshot("header-and-file", &text);
}

#[test]
fn quiet_prints_the_summaries_and_a_total() {
    let checker = checker(true, None);
    let users = std::fs::read(fixture("files/users.csv")).unwrap();
    let files = [
        checker.check_bytes("users.csv", users.clone()),
        checker.check_bytes("empty.csv", Vec::new()),
        checker.check_bytes("again.csv", users),
    ];
    let text = render(&files, &RenderOptions { quiet: true, ..RenderOptions::default() });
    assert_eq!(text.lines().count(), 4, "{text}");
    assert_snapshot("quiet", &text);
}

#[test]
fn colour_only_when_asked() {
    let bytes = std::fs::read(fixture("files/users.csv")).unwrap();
    let files = [checker(true, None).check_bytes("users.csv", bytes)];
    let plain = render(&files, &RenderOptions::default());
    let styled = render(&files, &RenderOptions { color: true, ..RenderOptions::default() });
    assert!(!plain.contains('\u{1b}') && styled.contains("\u{1b}["));
    // The styled text is the plain text with escapes added, nothing else.
    let mut stripped = String::new();
    let mut chars = styled.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            stripped.push(c);
        }
    }
    assert_text_eq!(plain, stripped);
    // The binary writing to a pipe never colours, NO_COLOR or not.
    let o = run(&["--org", "fixtures/org/acme.json", "fixtures/files/users.csv"], None);
    assert!(!stdout(&o).contains('\u{1b}'));
}
