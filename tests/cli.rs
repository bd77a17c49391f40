//! The command line end to end: exit statuses, stdin, the default subcommand.

use crate::util::{run, stdout};

const ORG: &str = "fixtures/org/acme.json";
const USERS: &str = "fixtures/files/users.csv";

#[test]
fn a_file_with_errors_exits_1_and_check_is_the_default() {
    let o = run(&["--org", ORG, USERS], None);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("error[E002]"), "{out}");
    assert!(
        out.contains("5 rows: 1 add, 1 modify, 1 delete, 1 unchanged, 1 rejected; 2 errors, 0 warnings"),
        "{out}"
    );
}

#[test]
fn a_clean_file_exits_0_and_warnings_fail_only_when_denied() {
    let csv = b"User ID/Email (Required),First Name,Webex Meetings\nanna@acme.example,Anna ,TRUE\n";
    let o = run(&["check", "-"], Some(csv));
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("warning[T001]"));
    let o = run(&["check", "--deny-warnings", "-"], Some(csv));
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn usage_errors_and_unreadable_files_exit_2() {
    assert_eq!(run(&["check", "--format", "xml", USERS], None).status.code(), Some(2));
    assert_eq!(run(&["check", "--mode", "remove", USERS], None).status.code(), Some(2));
    let o = run(&["check", "no/such/file.csv"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/file.csv"));
}

#[test]
fn a_malformed_org_names_file_line_and_column() {
    let dir = crate::util::TempDir::new("org");
    let org = dir.write("org.json", "{\n  \"users\": [\n    {\"email\": }\n  ]\n}\n");
    let o = run(&["check", "--org", org.to_str().unwrap(), USERS], None);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("org.json:3:"), "{err}");
}

#[test]
fn rules_and_explain() {
    let o = run(&["rules"], None);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).lines().count(), 42);
    let o = run(&["explain", "n002"], None);
    assert!(stdout(&o).contains("## Why Control Hub cares"));
    assert_eq!(run(&["explain", "Z999"], None).status.code(), Some(2));
}
