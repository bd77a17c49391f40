//! The library embedded the way a service would use it: org built in code,
//! bytes or readers checked, the plan acted on, the report serialised.

use csvcheck::{Checker, Code, FileReport, ImportMode, OpKind, Operation, OrgState, OrgUser, Profile};

fn service_org() -> OrgState {
    let mut org = OrgState::default();
    org.package = Some("webex_calling".into());
    org.packages = Some(vec!["webex_calling".into(), "webex_meetings".into()]);
    org.domains = Some(vec!["acme.example".into()]);
    org.locations = Some(vec!["Milano HQ".into()]);
    org.users.push(OrgUser {
        package: Some("webex_calling".into()),
        location: Some("Milano HQ".into()),
        phone_number: Some("+390212345678".into()),
        extension: Some("1001".into()),
        base_licenses: Some(vec!["calling".to_owned()].into()),
        ..OrgUser::new("giulia.rossi@acme.example")
    });
    org
}

const CSV: &str =
    "User ID/Email (Required),Extension,Location,Phone Number,Webex Calling [Wholesale],Basic Messaging\n\
                   giulia.rossi@acme.example,,,,,TRUE\n\
                   anna@acme.example,1003,Milano HQ,+390212345679,TRUE,\n\
                   piero@other.example,1001,Milano HQ,+390212345678,TRUE,\n";

#[test]
fn a_service_checks_bytes_against_an_org_built_in_code() {
    let checker = Checker::builder().org(service_org()).mode(ImportMode::AddRemoveServices).build();
    let report = checker.check_bytes("upload.csv", CSV.as_bytes().to_vec());

    let kinds: Vec<OpKind> = report.operations.iter().map(|o| o.operation.kind()).collect();
    assert_eq!(kinds, [OpKind::Modify, OpKind::Add, OpKind::Rejected]);

    let Operation::Modify { changes, base_licenses, package } = &report.operations[0].operation else {
        panic!("row 1 is a modify");
    };
    assert_eq!(package.as_deref(), Some("webex_calling"));
    assert_eq!(base_licenses, &["calling", "messaging"]);
    let fields: Vec<&str> = changes.iter().map(|c| c.field).collect();
    assert_eq!(fields, ["base_licenses"]);

    // Row 3 takes Giulia's number and extension and is from a foreign domain.
    let row3: Vec<Code> = report.diagnostics.iter().filter(|d| d.row == Some(3)).map(|d| d.code).collect();
    assert!(row3.contains(&Code::N006), "{row3:?}");
    assert!(row3.contains(&Code::N007), "{row3:?}");
    assert!(row3.contains(&Code::E005), "{row3:?}");
    assert!(report.has_errors());
}

#[test]
fn readers_bytes_and_paths_give_the_same_report() {
    let checker = Checker::builder().org(service_org()).build();
    let from_bytes = checker.check_bytes("u.csv", CSV.as_bytes().to_vec());
    let from_reader = checker.check_reader("u.csv", CSV.as_bytes()).expect("a slice reads");
    let dir = crate::util::TempDir::new("library");
    let path = dir.write("u.csv", CSV);
    let mut from_path = checker.check_path(&path).expect("the file reads");
    from_path.path = "u.csv".into();
    let json = |r: &csvcheck::FileReport| serde_json::to_string(r).expect("reports serialise");
    assert_eq!(json(&from_bytes), json(&from_reader));
    assert_eq!(json(&from_bytes), json(&from_path));
}

#[test]
fn the_report_serialises_to_the_spec_document() {
    let report = Checker::builder().build().check_bytes("u.csv", CSV.as_bytes().to_vec());
    let text =
        serde_json::to_string(&csvcheck::report::Report::new(std::slice::from_ref(&report))).expect("json");
    // Keys in the order SPEC §8 shows them.
    let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap_or(usize::MAX);
    let order = ["version", "files", "path", "rows", "summary", "diagnostics", "operations"].map(at);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?} in {text}");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("valid json");
    assert_eq!(doc["version"], 1);
    let file = &doc["files"][0];
    assert_eq!(file["rows"], 3);
    assert_eq!(file["operations"].as_array().map(Vec::len), Some(3));
}

#[test]
fn a_custom_profile_built_in_code_is_used() {
    let mut profile = Profile::default();
    profile.packages.push(csvcheck::profile::PackageDef {
        id: "cx_essentials".into(),
        title: "Customer Experience Essentials".into(),
        tier: 6,
        calling: true,
        meetings: false,
    });
    profile.validate().expect("the profile is valid");
    let csv = "User ID/Email (Required),Location,Extension,Customer Experience Essentials [Sub-1]\nanna@acme.example,Roma,2001,TRUE\n";
    let report = Checker::builder().profile(profile).build().check_bytes("u.csv", csv.as_bytes().to_vec());
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    let Operation::Add { package, .. } = &report.operations[0].operation else { panic!("an add") };
    assert_eq!(package.as_deref(), Some("cx_essentials"));
}

#[test]
fn errors_that_stop_a_check_are_typed_and_positioned() {
    let err = Checker::builder().encoding("klingon").map(|_| ()).expect_err("an unknown label");
    assert!(matches!(err, csvcheck::Error::Encoding { .. }));
    let err =
        OrgState::from_json(b"{\"users\": [{}]}", std::path::Path::new("org.json")).expect_err("no email");
    assert_eq!(err.path(), Some(std::path::Path::new("org.json")));
    assert!(err.location().is_some_and(|l| l.line == 1), "{err}");
    let err = Checker::builder().build().check_path("does/not/exist.csv").expect_err("missing file");
    assert!(matches!(err, csvcheck::Error::Io { .. }));
}

#[test]
fn rows_with_bytes_that_are_not_utf8_are_reported_once_by_f001() {
    // SPEC §2: the affected rows are not reported again. Row 1's email is
    // windows-1252 (0xF2 = ò): without the rule it would also be an E002.
    let mut csv = b"User ID/Email (Required),Webex Meetings\nnicol\xf2@acme.example,TRUE\n".to_vec();
    csv.extend_from_slice(b"bad-email@,TRUE\n");
    let report = Checker::builder().build().check_bytes("u.csv", csv);
    let codes: Vec<(Code, Option<u64>)> = report.diagnostics.iter().map(|d| (d.code, d.line)).collect();
    assert_eq!(codes, [(Code::F001, Some(2)), (Code::E002, Some(3)), (Code::P009, Some(3))]);
    assert_eq!(report.summary.rejected, 2, "F001 rejects the whole file");
}

/// Checks `csv` whole and as a stream, and compares (the stream must
/// accept it); both reports.
fn same_as_whole(checker: &Checker, csv: &[u8]) -> (FileReport, csvcheck::StreamReport) {
    let whole = checker.check_bytes("users.csv", csv.to_vec());
    let streamed = crate::invariants::assert_stream_same(checker, csv, &whole)
        .expect("the stream reads what the whole check reads");
    (whole, streamed)
}

/// An org whose users hold numbers, and a file of `rows` rows that
/// reuses emails, numbers and extensions, gives some numbers away and
/// takes others, across chunk boundaries.
fn org_and_file(rows: usize) -> (OrgState, String) {
    let mut org = OrgState::default();
    org.locations = Some(vec!["Milano HQ".into(), "Roma".into()]);
    for i in 0..rows / 2 {
        org.users.push(OrgUser {
            package: Some("webex_calling".into()),
            location: Some("Milano HQ".into()),
            phone_number: Some(format!("+3902{i:08}")),
            extension: Some(format!("{}", 1000 + i)),
            admin: (i % 97 == 0).then(|| "full".into()),
            ..OrgUser::new(format!("u{i}@acme.example"))
        });
    }
    let mut csv = String::from(
        "User ID/Email (Required),First Name,Phone Number,Extension,Location,Webex Calling,Webex Meetings\n",
    );
    for i in 0..rows {
        let line = match i % 11 {
            // takes the number of a user whose row comes later, or never
            0 => format!("u{i}@acme.example,A,+3902{:08},,,TRUE,", (i + 5000) % rows),
            // gives its number up
            1 => format!("u{i}@acme.example,B,REMOVE,REMOVE,,,"),
            2 => format!("u{}@acme.example,C,,,,,", i / 3),
            3 => format!("new{i}@acme.example,D,+3906{:08},{},Roma,TRUE,", i % 500, 1000 + i % 700),
            4 => format!("u{i}@acme.example,,,,,FALSE,FALSE"),
            5 => format!("bad{i}@,E,{i},x,Nowhere,maybe,"),
            6 => format!("u{i}@acme.example,\"F, q\",,{},Milano HQ,,", 1000 + (i + 3) % rows),
            _ => format!("new{i}@acme.example, G ,,,,,TRUE"),
        };
        csv.push_str(&line);
        csv.push('\n');
    }
    (org, csv)
}

#[test]
fn a_stream_gives_the_rows_and_findings_of_a_whole_file() {
    let (org, csv) = org_and_file(10_000);
    let checker = Checker::builder().org(org.clone()).max_rows(100_000).build();
    let (whole, streamed) = same_as_whole(&checker, csv.as_bytes());
    assert!(!streamed.rejects_file());
    for code in ["E002", "E004", "N005", "N006", "N007", "P001"] {
        assert!(whole.diagnostics.iter().any(|d| d.code.as_str() == code), "{code}");
    }
    // The same with the default row limit (F004 rejects the file), without
    // an org, and for odd inputs.
    same_as_whole(&Checker::builder().org(org).build(), csv.as_bytes());
    let plain = Checker::builder().max_rows(100_000).build();
    same_as_whole(&plain, csv.as_bytes());
    for odd in
        [&b""[..], b"\xEF\xBB\xBF", b"\n\n", b"a;b\n1;2\n", b"User ID/Email (Required)\nx@y.example\n\xff\n"]
    {
        same_as_whole(&plain, odd);
    }
}

/// Past 32,768 rows the cross-row tables outgrow the caches, and the slots
/// of the rows about to be handed over are fetched before they are looked
/// up: the repeats found in a file that long (emails in another case,
/// phone numbers, extensions in a location) are those maps of what was
/// seen find, line for line.
#[test]
fn the_repeats_of_a_long_file_are_those_maps_find() {
    use std::collections::{BTreeSet, HashMap};
    let rows = 40_000;
    let mut csv = String::from("User ID/Email (Required),Phone Number,Extension,Location,Webex Calling\n");
    let (mut emails, mut phones, mut extensions) = (HashMap::new(), HashMap::new(), HashMap::new());
    let mut expected = BTreeSet::new();
    for i in 0..rows {
        let line = i as u64 + 2;
        // A row repeats an email (in capitals), or sets a phone number and
        // an extension that are new or an earlier row's; never both, so
        // that each repeat has one finding.
        let (email, phone, extension) = match i % 7 {
            6 => (format!("U{}@ACME.EXAMPLE", i / 3), String::new(), String::new()),
            _ => (
                format!("u{i}@acme.example"),
                format!("+3902{:08}", i % 25_000),
                format!("{}", 1000 + i % 9_000),
            ),
        };
        let mut first = |map: &mut HashMap<String, u64>, key: String, code: &'static str| {
            if !key.is_empty() && map.entry(key).or_insert(line) != &line {
                expected.insert((line, code));
            }
        };
        first(&mut emails, email.to_lowercase(), "E004");
        first(&mut phones, phone.clone(), "N005");
        first(&mut extensions, extension.clone(), "N007");
        csv.push_str(&format!("{email},{phone},{extension},Milano HQ,TRUE\n"));
    }
    let checker = Checker::builder().max_rows(100_000).build();
    let (whole, _) = same_as_whole(&checker, csv.as_bytes());
    let found: BTreeSet<(u64, &str)> = whole
        .diagnostics
        .iter()
        .filter(|d| ["E004", "N005", "N007"].contains(&d.code.as_str()))
        .map(|d| (d.line.unwrap(), d.code.as_str()))
        .collect();
    assert!(expected.len() > 20_000, "{}", expected.len());
    assert_eq!(found, expected);
}
