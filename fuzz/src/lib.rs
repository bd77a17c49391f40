//! What the fuzz targets share: the fixed org, the invariants every report
//! must satisfy (`tests/invariants.rs`, the same file the property tests
//! use), and [`check_everything`], which checks one input every way there is
//! and asserts that the answers agree.

use std::path::Path;
use std::sync::OnceLock;

use csvcheck::limits::{scan, Limits};
use csvcheck::report::{self, Format, RenderOptions};
use csvcheck::{Checker, Error, FileReport, OrgState, Profile};

#[path = "../../tests/invariants.rs"]
pub mod invariants;

use invariants::{assert_csv_report, assert_fix, assert_report_invariants, assert_split, json, records};

/// The org of `fixtures/org/acme.json`.
pub fn acme() -> OrgState {
    let json = include_bytes!("../../fixtures/org/acme.json");
    OrgState::from_json(json, Path::new("acme.json")).expect("the fixture org parses")
}

/// A checker against the acme org, built once.
pub fn acme_checker() -> &'static Checker {
    static CHECKER: OnceLock<Checker> = OnceLock::new();
    CHECKER.get_or_init(|| Checker::builder().org(acme()).build())
}

/// A one-thread pool, built once: the same input must give the same report
/// whatever the parallelism.
fn single_thread() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a thread pool"))
}

/// Limits small enough that fuzz inputs reach them.
const TINY: Limits = Limits::UNLIMITED.with_max_records(16).with_max_columns(8).with_max_cell_bytes(16);

/// Checks `data` every way there is and asserts that the answers agree:
/// the report invariants; the same report on one thread; every format
/// renders (JSON parses back); the CSV report, `split` and `fix` keep every
/// record; the structure scan counts exactly the records
/// the reader holds; the limits accept it or refuse it with a typed error;
/// and a file accepted under tiny limits is within them.
pub fn check_everything(checker: &Checker, data: &[u8]) -> FileReport {
    let report = checker.check_bytes("fuzz.csv", data.to_vec());
    assert_report_invariants(&report);
    let first = json(&report);
    let single = single_thread().install(|| json(&checker.check_bytes("fuzz.csv", data.to_vec())));
    assert_eq!(first, single, "one thread differs from many, or a second run from the first");
    render(&report);
    assert_csv_report(&report);
    assert_split(&report, 1 + data.len() as u64 % 4);
    assert_fix(&report, checker.profile(), data.len() % 2 == 0);

    // A stream may refuse what the whole-file check reads: nothing to compare.
    let _ = invariants::assert_stream_same(checker, data, &report);

    let source = report.source();
    let shape = scan(source.bytes(), source.delimiter);
    let held = report.header_raw().map_or(0, |_| report.rows + 1);
    assert_eq!(shape.records, held, "the scan counts other records than the reader holds");

    let path = Path::new("fuzz.csv");
    match checker.options().limits.check_bytes(path, data, checker.options().encoding) {
        Ok(within) => assert_eq!(within, shape, "the limits saw another file"),
        Err(Error::Limit { .. } | Error::Malformed { .. }) => {}
        Err(e) => panic!("the limits failed with {e}"),
    }
    match TINY.check_bytes(path, data, checker.options().encoding) {
        Ok(_) => {
            for record in records(source.bytes(), source.delimiter) {
                assert!(record.fields.len() <= 8, "a record over the column limit passed");
                assert!(record.fields.iter().all(|f| f.len() <= 16), "a cell over the cell limit passed");
            }
            assert!(held <= 16, "a file over the record limit passed");
        }
        Err(Error::Limit { location, .. }) => {
            assert!(location.is_none_or(|l| l.line >= 1 && l.column >= 1), "a limit error at line 0");
        }
        Err(Error::Malformed { location, .. }) => {
            assert!(location.line >= 1 && location.column >= 1, "a malformed file at line 0");
        }
        Err(e) => panic!("the limits failed with {e}"),
    }
    report
}

/// Renders the report in every format (and the plan as text); JSON must
/// parse back.
fn render(report: &FileReport) {
    let files = std::slice::from_ref(report);
    let mut options = RenderOptions::default();
    options.color = true;
    let mut out = Vec::new();
    report::plan::write(&mut out, Format::Text, files, &options).expect("the plan renders");
    for format in [Format::Text, Format::Json, Format::Jsonl, Format::Sarif, Format::Csv] {
        out.clear();
        match report::write(&mut out, format, files, &options) {
            Ok(()) => {}
            // Formats still being written render nothing yet.
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => continue,
            Err(e) => panic!("{format:?} failed to render: {e}"),
        }
        match format {
            Format::Json | Format::Sarif => {
                serde_json::from_slice::<serde_json::Value>(&out).expect("the JSON report parses");
            }
            Format::Jsonl => {
                for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                    serde_json::from_slice::<serde_json::Value>(line).expect("each JSONL line parses");
                }
            }
            _ => {}
        }
    }
}

/// The default profile, built once.
pub fn default_profile() -> &'static Profile {
    static PROFILE: OnceLock<Profile> = OnceLock::new();
    PROFILE.get_or_init(Profile::default)
}
