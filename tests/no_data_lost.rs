//! No data lost: for arbitrary rows, every record reaches the report
//! unaltered and in order (issue 7).
//!
//! The rows are written by the test itself, so the exact bytes of each
//! record are known: the report's raw text of every row must be exactly
//! those bytes (the text the CSV report echoes), and the plan must hold one
//! operation per row, in order. Arbitrary bytes must satisfy the shared
//! invariants too.

use proptest::prelude::*;

use crate::invariants::{assert_csv_report, assert_fix, assert_report_invariants, assert_split, json};
use csvcheck::Checker;

/// Column titles: known ones (so rules run) and a few that are not.
const TITLES: &[&str] = &[
    "User ID/Email (Required)",
    "First Name",
    "Last Name",
    "Display Name",
    "Phone Number",
    "Extension",
    "Location",
    "Webex Calling [Wholesale]",
    "Webex Meetings [Wholesale]",
    "Basic Messaging",
    "Department",
    "Favourite Colour",
];

/// A cell: mostly plausible values, plus everything that is hard for a CSV
/// writer (quotes, delimiters, line ends, formulas, NFD, controls, NUL).
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z]{1,8}(\\.[a-z]{1,8})?@acme\\.example",
        2 => "(TRUE|FALSE|true| FALSE |maybe|)",
        2 => "\\+?[0-9]{2,15}",
        4 => "[a-zA-Z0-9 ,;\"\r\n=+@\\-\t\u{e8}\u{301}\u{a0}|]{0,12}",
        1 => any::<String>(),
    ]
}

/// How a cell is written: quoted only when it must be, or always.
fn needs_quotes(cell: &str) -> bool {
    cell.contains([',', '"', '\r', '\n']) || cell.starts_with(|c: char| c.is_whitespace())
}

fn write_cell(cell: &str, always_quote: bool) -> String {
    if always_quote || needs_quotes(cell) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

/// A file with its exact records: (bytes, header bytes, each row's bytes).
#[derive(Debug, Clone)]
struct File {
    bytes: Vec<u8>,
    header: Vec<u8>,
    rows: Vec<Vec<u8>>,
}

fn file() -> impl Strategy<Value = File> {
    let header = proptest::sample::subsequence(TITLES, 2..=TITLES.len());
    let rows = prop::collection::vec(
        (prop::collection::vec(cell(), 2..=12), any::<bool>(), 0..3usize, 0..3usize),
        0..40,
    );
    (header, rows, any::<bool>(), 0..3usize, any::<bool>()).prop_map(
        |(titles, rows, bom, header_end, final_end)| {
            const ENDS: [&str; 3] = ["\n", "\r\n", "\r"];
            let mut bytes = Vec::new();
            if bom {
                bytes.extend_from_slice(b"\xEF\xBB\xBF");
            }
            let header = titles.join(",").into_bytes();
            bytes.extend_from_slice(&header);
            bytes.extend_from_slice(ENDS[header_end].as_bytes());
            let mut raws = Vec::new();
            let count = rows.len();
            for (i, (cells, always_quote, end, blank_lines)) in rows.into_iter().enumerate() {
                let raw = cells.iter().map(|c| write_cell(c, always_quote)).collect::<Vec<_>>().join(",");
                bytes.extend_from_slice(raw.as_bytes());
                raws.push(raw.into_bytes());
                // The last record may end the file without a line end.
                if i + 1 < count || final_end {
                    bytes.extend_from_slice(ENDS[end].as_bytes());
                }
                for _ in 0..blank_lines {
                    if i + 1 < count || final_end {
                        bytes.extend_from_slice(b"\n");
                    }
                }
            }
            File { bytes, header, rows: raws }
        },
    )
}

fn checker() -> Checker {
    let org =
        csvcheck::OrgState::from_path(crate::util::fixture("org/acme.json"), &csvcheck::Profile::default())
            .expect("the fixture org parses");
    Checker::builder().org(org).build()
}

/// Cases per property: 64 by default, so that `cargo test` stays quick;
/// `PROPTEST_CASES=10000 cargo test no_data_lost` searches harder.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    /// Every row's raw text is exactly the bytes written for it; the header
    /// too; one operation per row, in order; and the shared invariants.
    #[test]
    fn every_record_is_echoed_byte_for_byte(file in file()) {
        let report = checker().check_bytes("users.csv", file.bytes.clone());
        prop_assert_eq!(report.header_raw(), Some(&file.header[..]));
        prop_assert_eq!(report.rows, file.rows.len() as u64);
        for (i, expected) in file.rows.iter().enumerate() {
            let row = i as u64 + 1;
            prop_assert_eq!(report.row_raw(row), Some(&expected[..]), "row {}", row);
            prop_assert_eq!(report.operations[i].row, row);
        }
        assert_report_invariants(&report);
    }

    /// The CSV report is the input, record for record and byte for byte,
    /// each with its Errors cell appended.
    #[test]
    fn the_csv_report_echoes_every_record(file in file()) {
        assert_csv_report(&checker().check_bytes("users.csv", file.bytes));
    }

    /// Split parts, each stripped of its header, concatenate back to the
    /// input's records.
    #[test]
    fn split_parts_concatenate_back_to_the_records(file in file(), per_part in 1..8u64) {
        assert_split(&checker().check_bytes("users.csv", file.bytes), per_part);
    }

    /// Fix changes only the cells it reports changing, exactly as reported.
    #[test]
    fn fix_changes_only_what_it_reports(file in file(), unsafe_fixes in any::<bool>()) {
        let report = checker().check_bytes("users.csv", file.bytes);
        assert_fix(&report, &csvcheck::Profile::default(), unsafe_fixes);
    }

    /// The same file gives the same report, on any number of threads.
    #[test]
    fn reports_are_deterministic(file in file()) {
        let checker = checker();
        let first = json(&checker.check_bytes("users.csv", file.bytes.clone()));
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a pool");
        let single = pool.install(|| json(&checker.check_bytes("users.csv", file.bytes.clone())));
        prop_assert_eq!(&first, &single);
        prop_assert_eq!(first, json(&checker.check_bytes("users.csv", file.bytes)));
    }

    /// Arbitrary bytes, and arbitrary bytes after a valid header: whatever
    /// the reader makes of them, nothing is lost or altered.
    #[test]
    fn arbitrary_bytes_lose_nothing(tail in prop::collection::vec(any::<u8>(), 0..400), header in any::<bool>()) {
        let mut bytes = if header { TITLES.join(",").into_bytes() } else { Vec::new() };
        bytes.extend_from_slice(b"\n");
        bytes.extend_from_slice(&tail);
        for bytes in [bytes, tail] {
            let report = checker().check_bytes("users.csv", bytes);
            assert_report_invariants(&report);
            assert_csv_report(&report);
            assert_split(&report, 3);
            assert_fix(&report, &csvcheck::Profile::default(), true);
        }
    }
}
