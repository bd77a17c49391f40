//! Parallel and deterministic: the report of a realistic file with faults is
//! byte-identical whatever the number of threads, its diagnostics are in the
//! total order (line, code, column) and its plan has one operation per row,
//! in input order.

use std::collections::{BTreeSet, HashMap};
use std::process::Output;

use serde_json::Value;

use crate::util::{csvcheck, TempDir};

use crate::util::gen;

/// A generated org and users file on disk.
struct Corpus {
    dir: TempDir,
    generated: gen::Generated,
    rows: usize,
}

impl Corpus {
    fn new(rows: usize, seed: u64) -> Corpus {
        let generated = gen::generate(&gen::GenConfig { rows, org_users: rows / 2, error_pct: 10.0, seed });
        let dir = TempDir::new("determinism");
        dir.write("users.csv", &generated.csv);
        dir.write("org.json", &generated.org_json);
        Corpus { dir, generated, rows }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// Runs the binary with `RAYON_NUM_THREADS` set to `threads` (unset: the
/// default, one per core).
fn run_with_threads(threads: Option<&str>, args: &[String]) -> Output {
    let mut cmd = csvcheck();
    cmd.args(args);
    match threads {
        Some(n) => cmd.env("RAYON_NUM_THREADS", n),
        None => cmd.env_remove("RAYON_NUM_THREADS"),
    };
    let out = cmd.output().expect("csvcheck runs");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn json_args(corpus: &Corpus, files: &[&str]) -> Vec<String> {
    let mut args =
        vec!["check".into(), "--format".into(), "json".into(), "--org".into(), corpus.path("org.json")];
    args.extend(files.iter().map(|f| corpus.path(f)));
    args
}

#[test]
fn the_report_is_byte_identical_whatever_the_thread_count() {
    let corpus = Corpus::new(4_000, 7);
    let args = json_args(&corpus, &["users.csv"]);
    let one = run_with_threads(Some("1"), &args);
    for threads in [None, Some("2"), Some("7")] {
        let other = run_with_threads(threads, &args);
        assert!(
            one.stdout == other.stdout,
            "RAYON_NUM_THREADS={threads:?} gives a different report than 1 thread"
        );
    }
    // The text report too: it renders the same findings in the same order.
    let text: Vec<String> = args.iter().filter(|a| *a != "--format" && *a != "json").cloned().collect();
    let one_text = run_with_threads(Some("1"), &text);
    assert!(one_text.stdout == run_with_threads(None, &text).stdout, "text reports differ");
}

#[test]
fn several_files_are_reported_in_argument_order_whatever_the_thread_count() {
    let corpus = Corpus::new(2_000, 11);
    let other = gen::generate(&gen::GenConfig { rows: 500, org_users: 1_000, error_pct: 30.0, seed: 12 });
    corpus.dir.write("other.csv", &other.csv);
    let args = json_args(&corpus, &["users.csv", "other.csv", "users.csv"]);
    let one = run_with_threads(Some("1"), &args);
    assert!(one.stdout == run_with_threads(None, &args).stdout, "multi-file reports differ");
    let doc: Value = serde_json::from_slice(&one.stdout).expect("json");
    let paths: Vec<&str> =
        doc["files"].as_array().expect("files").iter().map(|f| f["path"].as_str().expect("path")).collect();
    assert_eq!(paths, [corpus.path("users.csv"), corpus.path("other.csv"), corpus.path("users.csv")]);
    assert_eq!(doc["files"][0], doc["files"][2], "the same file checked twice differs");
}

#[test]
fn diagnostics_are_in_total_order_and_every_row_has_its_operation() {
    let corpus = Corpus::new(4_000, 7);
    let out = run_with_threads(None, &json_args(&corpus, &["users.csv"]));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    let file = &doc["files"][0];
    assert_eq!(file["rows"].as_u64(), Some(corpus.rows as u64));

    // One operation per data row, in input order: rows 1..=n, lines rising.
    let ops = file["operations"].as_array().expect("operations");
    assert_eq!(ops.len(), corpus.rows);
    let mut last_line = 1;
    for (i, op) in ops.iter().enumerate() {
        assert_eq!(op["row"].as_u64(), Some(i as u64 + 1), "{op}");
        let line = op["line"].as_u64().expect("line");
        assert!(line > last_line, "operation {op} is not after line {last_line}");
        last_line = line;
    }

    // Diagnostics in (line, code, column) order, the column by its place in
    // the header; findings without a line or column come first.
    let header: HashMap<&str, usize> = gen::HEADER.split(',').enumerate().map(|(i, t)| (t, i + 1)).collect();
    let key = |d: &Value| {
        let column = d["column"].as_str().map_or(0, |c| header.get(c).copied().unwrap_or(usize::MAX));
        (d["line"].as_u64().unwrap_or(0), d["code"].as_str().unwrap_or_default().to_owned(), column)
    };
    let diags = file["diagnostics"].as_array().expect("diagnostics");
    for pair in diags.windows(2) {
        assert!(key(&pair[0]) <= key(&pair[1]), "out of order:\n{}\n{}", pair[0], pair[1]);
    }

    // The faults the generator injected are all found, so the order above
    // was checked on a report with many codes on many lines.
    let codes: BTreeSet<&str> = diags.iter().filter_map(|d| d["code"].as_str()).collect();
    for (fault, &count) in gen::Fault::ALL.iter().zip(&corpus.generated.stats.faults) {
        if count > 0 {
            assert!(codes.contains(fault.code()), "{} ({}) not reported", fault.name(), fault.code());
        }
    }
    assert!(codes.len() >= 6, "{codes:?}");
}

#[test]
fn the_library_gives_the_same_report_in_any_thread_pool() {
    let corpus = Corpus::new(3_000, 5);
    let org = csvcheck::OrgState::from_json(corpus.generated.org_json.as_bytes(), "org.json".as_ref())
        .expect("org parses");
    let checker = csvcheck::Checker::builder().org(org).build();
    let report = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        let r = pool.install(|| checker.check_bytes("users.csv", corpus.generated.csv.clone()));
        serde_json::to_string(&r).expect("serialises")
    };
    let one = report(1);
    assert!(one == report(4), "1 and 4 threads differ");
    assert!(one == report(3), "1 and 3 threads differ");
}
