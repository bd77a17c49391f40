//! The org's lookup index as an embedder meets it: an org loaded, then
//! changed in code before it is handed to a checker, is looked up as it is
//! then — not as it was loaded.

use std::path::Path;

use csvcheck::{Checker, Code, OpKind, OrgState, OrgUser};

const ORG: &str = r#"{
  "locations": ["Milano HQ"],
  "users": [
    {"email": "giulia.rossi@acme.example", "first_name": "Giulia", "location": "Milano HQ",
     "phone_number": "+390212345678", "extension": "1001", "package": "webex_calling"}
  ]
}"#;

const CSV: &str =
    "User ID/Email (Required),First Name,Phone Number,Extension,Location,Webex Calling [Wholesale]\n\
                   giulia.rossi@acme.example,Giulia R.,,,,TRUE\n\
                   anna.bianchi@acme.example,Anna B.,,1003,Milano HQ,TRUE\n\
                   piero@acme.example,Piero,+390212340001,1002,Milano HQ,TRUE\n";

fn loaded() -> OrgState {
    OrgState::from_json(ORG.as_bytes(), Path::new("org.json")).expect("the org parses")
}

fn plan(org: OrgState) -> (Vec<OpKind>, Vec<(Option<u64>, Code)>) {
    let report = Checker::builder().org(org).build().check_bytes("u.csv", CSV.as_bytes().to_vec());
    let kinds = report.operations.iter().map(|o| o.operation.kind()).collect();
    let codes = report.diagnostics.iter().map(|d| (d.row, d.code)).collect();
    (kinds, codes)
}

#[test]
fn users_pushed_after_loading_are_found() {
    assert_eq!(plan(loaded()).0, [OpKind::Modify, OpKind::Add, OpKind::Add]);

    let mut org = loaded();
    org.users.push(OrgUser {
        phone_number: Some("+390212340001".into()),
        ..OrgUser::new("Anna.Bianchi@ACME.example")
    });
    let (kinds, codes) = plan(org);
    assert_eq!(kinds, [OpKind::Modify, OpKind::Modify, OpKind::Rejected]);
    // Anna's number, pushed in code, now blocks Piero's row.
    assert!(codes.contains(&(Some(3), Code::N006)), "{codes:?}");
}

#[test]
fn users_changed_after_loading_are_found_as_they_are_now() {
    let mut org = loaded();
    org.users[0].email = "marco@acme.example".into();
    org.users[0].extension = Some("1002".into());
    let (kinds, codes) = plan(org);
    // Giulia is no longer in the org: her row is an add, and an add with
    // Webex Calling needs a location (P007).
    assert_eq!(kinds, [OpKind::Rejected, OpKind::Add, OpKind::Rejected]);
    assert!(codes.contains(&(Some(1), Code::P007)), "{codes:?}");
    // Marco has extension 1002 now, which Piero's row takes.
    assert!(codes.contains(&(Some(3), Code::N007)), "{codes:?}");

    let mut org = loaded();
    org.locations = Some(vec!["Roma".into()]);
    let (_, codes) = plan(org);
    assert!(codes.contains(&(Some(3), Code::L001)), "{codes:?}");
}

#[test]
fn an_org_read_by_serde_or_the_fast_reader_checks_the_same() {
    // An unknown field: the fast reader leaves the file to serde.
    let odd = ORG.replacen("\"first_name\"", "\"department\": \"Sales\", \"first_name\"", 1);
    let by_serde = OrgState::from_json(odd.as_bytes(), Path::new("org.json")).expect("serde reads it");
    assert_eq!(by_serde.users, loaded().users);
    assert_eq!(plan(by_serde), plan(loaded()));
}

#[test]
fn an_export_of_the_org_is_indexed_like_the_org() {
    let profile = csvcheck::Profile::default();
    let export = loaded().to_export_csv(&profile);
    let from_export = OrgState::from_export_csv(export.as_bytes(), Path::new("export.csv"), &profile)
        .expect("the export reads");
    assert_eq!(from_export.phone_owner("+390212345678"), Some(0));
    assert_eq!(from_export.extension_owner(Some(" milano hq "), "1001"), Some(0));
    assert_eq!(from_export.has_location("MILANO HQ"), Some(true));
    assert_eq!(plan(from_export).0, plan(loaded()).0);
}
