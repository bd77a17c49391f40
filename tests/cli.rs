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

#[test]
fn several_files_keep_argument_order_and_an_unreadable_one_is_exit_2() {
    let dir = crate::util::TempDir::new("multi");
    let clean = dir.write("clean.csv", "User ID/Email (Required),Webex Meetings\nanna@acme.example,TRUE\n");
    // Files of very different sizes finish out of order when checked in parallel.
    let big: String = std::iter::once("User ID/Email (Required),Webex Meetings\n".to_owned())
        .chain((0..3000).map(|i| format!("user{i}@acme.example,TRUE\n")))
        .collect();
    let big = dir.write("big.csv", big);
    let (clean, big) = (clean.to_str().unwrap(), big.to_str().unwrap());
    let args = [big, USERS, "no/such/file.csv", clean, big, USERS];
    let o = run(&[&["--format", "json"], &args[..]].concat(), None);
    assert_eq!(o.status.code(), Some(2), "an unreadable file is exit 2");
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/file.csv"));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("the others are reported");
    let paths: Vec<&str> =
        report["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, [big, USERS, clean, big, USERS]);

    let o = run(&args, None);
    assert_eq!(o.status.code(), Some(2));
    let text = stdout(&o);
    let summaries: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" rows: ") || l.contains(" row: "))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(summaries, [big, USERS, clean, big, USERS, "total (5 files)"]);
}

#[test]
fn output_goes_to_the_o_file_and_quiet_prints_only_summaries() {
    let dir = crate::util::TempDir::new("output");
    let report = dir.path().join("report.sarif");
    let o = run(&["--org", ORG, "--format", "sarif", "-o", report.to_str().unwrap(), USERS], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let direct = run(&["--org", ORG, "--format", "sarif", USERS], None);
    assert_eq!(std::fs::read(&report).unwrap(), direct.stdout);

    let o = run(&["--org", ORG, "--quiet", USERS], None);
    assert_eq!(
        stdout(&o),
        format!(
            "{USERS}: 5 rows: 1 add, 1 modify, 1 delete, 1 unchanged, 1 rejected; 2 errors, 0 warnings\n"
        )
    );
}

/// The JSON report copies most of a file's operations to its output
/// through the system (`copy_file_range` into the `-o` file, `sendfile`
/// into the pipe that is standard output here): the same bytes either way,
/// and the same as the library writes, the rows before the row limit
/// rewritten rejected and the rest copied as they were spooled.
#[test]
fn the_json_report_is_the_same_in_a_file_on_standard_output_and_from_the_library() {
    let dir = crate::util::TempDir::new("json-output");
    let report = dir.path().join("report.json");
    let args = ["--org", ORG, "--format", "json", "--max-rows", "2"];
    let o = run(&[&args[..], &["-o", report.to_str().unwrap(), USERS]].concat(), None);
    assert_eq!(o.status.code(), Some(1));
    let direct = run(&[&args[..], &[USERS]].concat(), None);
    let written = std::fs::read(&report).unwrap();
    assert_eq!(written, direct.stdout);

    let org = csvcheck::OrgState::from_path(ORG, &csvcheck::Profile::default()).unwrap();
    let checker = csvcheck::Checker::builder().org(org).max_rows(2).build();
    let whole = checker.check_path(USERS).unwrap();
    let mut expected = Vec::new();
    let options = csvcheck::report::RenderOptions::default();
    csvcheck::report::write(&mut expected, csvcheck::report::Format::Json, &[whole], &options).unwrap();
    let expected = String::from_utf8(expected).unwrap();
    assert_eq!(String::from_utf8(written).unwrap(), expected);
    let value: serde_json::Value = serde_json::from_str(&expected).unwrap();
    let operations = value["files"][0]["operations"].as_array().unwrap();
    assert_eq!(operations.len(), 5);
    assert!(operations.iter().all(|o| o["op"] == "rejected"), "{operations:?}");
}

#[test]
fn a_closed_pipe_ends_quietly_with_success() {
    use std::io::Read;
    use std::process::Stdio;
    let dir = crate::util::TempDir::new("pipe");
    // Thousands of findings: far more output than a pipe buffers.
    let csv: String = std::iter::once("User ID/Email (Required),Webex Meetings\n".to_owned())
        .chain((0..5000).map(|i| format!("user{i}@,TRUE\n")))
        .collect();
    let path = dir.write("many.csv", csv);
    for format in ["text", "jsonl", "csv"] {
        let mut child = crate::util::csvcheck()
            .args(["--format", format, path.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0; 256];
        child.stdout.take().unwrap().read_exact(&mut head).unwrap(); // then dropped: `| head -c 256`
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{format}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(o.stderr.is_empty(), "{format}: {}", String::from_utf8_lossy(&o.stderr));
    }
}

#[test]
fn a_percentage_of_deletes_needs_an_org() {
    let o = run(&["check", "--max-deletes", "5%", USERS], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("needs --org"));
    let o = run(&["check", "--org", ORG, "--max-deletes", "0", USERS], None);
    assert!(stdout(&o).contains("error[F005]"), "{}", stdout(&o));
}

#[test]
fn the_readme_quick_start_output_is_what_the_command_prints() {
    let readme = std::fs::read_to_string(crate::util::root().join("README.md")).expect("README");
    let shown = readme
        .split("```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the quick start shows the output in the first text block");
    let out = stdout(&run(&["check", "--org", ORG, USERS], None));
    for line in shown.lines() {
        assert!(
            out.lines().any(|l| l.trim_end() == line.trim_end()),
            "README line not printed: {line:?}\n{out}"
        );
    }
}

#[test]
fn limits_are_options_and_exceeding_one_is_exit_2_naming_the_place() {
    let o = run(&["check", "--max-columns", "3", USERS], None);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("users.csv:1:") && err.contains("--max-columns"), "{err}");
    // The other files are still reported.
    let o = run(&["check", "--max-file-size", "300", USERS, "fixtures/rules/E001/fires.csv"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("E001/fires.csv:"), "{}", stdout(&o));
    let unclosed =
        b"User ID/Email (Required),First Name\nanna@acme.example,Anna\n\"bruno@acme.example,Bruno\n";
    let o = run(&["check", "-"], Some(unclosed));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains(":3:"), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn several_files_and_a_large_org_give_the_same_report_on_one_thread_or_many() {
    // An org this large is indexed in parallel, and files are checked in
    // parallel beside each other's rows: on one thread, nothing may wait
    // for a thread that is not there.
    let dir = crate::util::TempDir::new("org-beside");
    let users: Vec<String> = (0..5000).map(|i| format!("{{\"email\": \"user{i}@acme.example\"}}")).collect();
    let org = dir.write("org.json", format!("{{\"users\": [{}]}}", users.join(",\n")));
    let rows: String = (0..3000).map(|i| format!("user{i}@acme.example,User {i}\n")).collect();
    let large = dir.write("large.csv", format!("User ID/Email (Required),First Name\n{rows}"));
    let (org, large) = (org.to_str().unwrap(), large.to_str().unwrap());
    let args = ["check", "--org", org, "--format", "json", "--quiet", large, USERS, large];
    let many = run(&args, None);
    assert_eq!(many.status.code(), Some(1), "{}", String::from_utf8_lossy(&many.stderr));
    assert!(stdout(&many).contains("\"add\":0,\"modify\":3000"), "{}", stdout(&many));
    // A deadlock fails the test rather than hanging it.
    let mut child = crate::util::csvcheck()
        .env("RAYON_NUM_THREADS", "1")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("csvcheck runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().expect("csvcheck is waited for").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("csvcheck on one thread did not finish: something waits for a thread that is not there");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let one = child.wait_with_output().expect("csvcheck finishes");
    assert_eq!(stdout(&one), stdout(&many));
}

#[test]
fn an_org_that_fails_to_load_is_exit_2_without_a_report() {
    let dir = crate::util::TempDir::new("org-fails");
    let malformed = dir.write("org.json", "{\"users\": [{\"email\": 7}]}");
    for org in ["no/such/org.json", malformed.to_str().unwrap()] {
        let o = run(&["check", "--org", org, "--format", "json", USERS], None);
        assert_eq!(o.status.code(), Some(2), "{org}");
        assert!(o.stdout.is_empty(), "{org}: a report was printed without the org");
        assert!(String::from_utf8_lossy(&o.stderr).contains(org), "{org}");
    }
}
