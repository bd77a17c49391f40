//! The plan (SPEC §5) through the library: one operation per row, what each
//! `changes`, the import modes, and `OrgState::apply`.

use std::path::Path;

use csvcheck::header::{Field, Header};
use csvcheck::plan::{plan_row, OperationRef, PlanContext};
use csvcheck::read::Source;
use csvcheck::row::Row;
use csvcheck::text::email_key;
use csvcheck::{Checker, FileReport, ImportMode, OpKind, Operation, OrgState, Profile};
use serde_json::{json, Value};

use crate::util::check;

/// A small org: a calling user with number and extension, a meetings user, a
/// calling user with a phone number only, a user with an accented name, and
/// one whose base licences the org file does not give.
const ORG: &str = r#"{
  "name": "Acme Srl",
  "package": "webex_calling",
  "packages": ["webex_voice", "webex_meetings", "webex_calling", "webex_suite"],
  "domains": ["acme.example"],
  "locations": ["Milano HQ", "Roma"],
  "sites": ["acme.webex.com", "acme-eu.webex.com"],
  "users": [
    {"email": "giulia.rossi@acme.example", "first_name": "Giulia", "last_name": "Rossi",
     "display_name": "Giulia Rossi", "status": "Active", "package": "webex_calling",
     "base_licenses": ["messaging", "meetings", "calling"], "location": "Milano HQ",
     "phone_number": "+390212345678", "extension": "1001", "site": null, "admin": null},
    {"email": "luca.verdi@acme.example", "first_name": "Luca", "last_name": "Verdi",
     "package": "webex_meetings", "base_licenses": ["messaging", "meetings"],
     "location": "Roma", "site": "acme.webex.com"},
    {"email": "marco.neri@acme.example", "package": "webex_voice", "base_licenses": ["calling"],
     "location": "Roma", "phone_number": "+390612340000"},
    {"email": "Élise.Martin@acme.example", "first_name": "Nicolò", "package": "webex_meetings",
     "base_licenses": ["messaging"], "site": "acme.webex.com"},
    {"email": "anon@acme.example", "package": "webex_meetings", "site": "acme.webex.com"}
  ]
}"#;

fn org() -> OrgState {
    OrgState::from_json(ORG.as_bytes(), Path::new("org.json")).unwrap()
}

fn check_mode(csv: &str, mode: ImportMode) -> FileReport {
    Checker::builder().org(org()).mode(mode).build().check_bytes("test.csv", csv.as_bytes().to_vec())
}

/// The JSON of every operation (SPEC §8).
fn operations(report: &FileReport) -> Vec<Value> {
    report.operations.iter().map(|o| serde_json::to_value(o).unwrap()).collect()
}

/// The JSON of the only operation.
fn only_op(report: &FileReport) -> Value {
    let ops = operations(report);
    assert_eq!(ops.len(), 1, "{ops:?}");
    ops.into_iter().next().unwrap()
}

fn kinds(report: &FileReport) -> Vec<OpKind> {
    report.operations.iter().map(|o| o.operation.kind()).collect()
}

/// The codes reported on data row `row`.
fn codes(report: &FileReport, row: u64) -> Vec<&str> {
    report.diagnostics.iter().filter(|d| d.row == Some(row)).map(|d| d.code.as_str()).collect()
}

/// The `changes` of the only operation, which must be a modify.
fn changes(report: &FileReport) -> Value {
    let op = only_op(report);
    assert_eq!(op["op"], "modify", "{op}");
    op["changes"].clone()
}

#[test]
fn an_email_the_org_lacks_is_an_add_with_package_and_every_base_licence() {
    let csv = "User ID/Email (Required),First Name,Webex Meetings [Wholesale],Site X\n\
               anna.bianchi@acme.example,Anna,TRUE,\n";
    let r = check(csv, Some(ORG));
    let op = only_op(&r);
    assert_eq!(
        op,
        json!({"line": 2, "row": 1, "op": "add", "email": "anna.bianchi@acme.example",
               "package": "webex_meetings", "base_licenses": ["calling", "meetings", "messaging"]})
    );
    let typed = &r.operations[0].operation;
    assert_eq!(
        (typed.package(), typed.base_licenses().len(), typed.changes()),
        (Some("webex_meetings"), 3, &[][..])
    );
    // Without an org every row that is not a delete is an add, too.
    assert_eq!(only_op(&check(csv, None))["op"], "add");
}

#[test]
fn add_services_ignores_base_licence_false_with_b001() {
    let csv = "User ID/Email (Required),Preferred Webex Site,Webex Meetings [Wholesale],Basic Messaging,Basic Calling\n\
               anna@acme.example,acme.webex.com,TRUE,FALSE,\n";
    let r = check_mode(csv, ImportMode::AddServices);
    assert_eq!(only_op(&r)["base_licenses"], json!(["calling", "meetings", "messaging"]));
    assert_eq!(codes(&r, 1), ["B001"]);
}

#[test]
fn add_remove_services_gives_an_added_user_only_what_its_row_says_sorted() {
    let csv = "User ID/Email (Required),Preferred Webex Site,Webex Meetings [Wholesale],Basic Messaging,Basic Meetings,Basic Calling\n\
               anna@acme.example,acme.webex.com,TRUE,TRUE,FALSE,true\n\
               bruno@acme.example,acme.webex.com,TRUE,,,\n";
    let r = check_mode(csv, ImportMode::AddRemoveServices);
    let ops = operations(&r);
    assert_eq!(ops[0]["op"], "add");
    assert_eq!(ops[0]["base_licenses"], json!(["calling", "messaging"]));
    assert_eq!(ops[1]["base_licenses"], json!([]));
    assert!(codes(&r, 1).is_empty(), "{:?}", codes(&r, 1));
}

#[test]
fn a_differing_cell_is_a_modify_with_from_and_to() {
    let r = check("User ID/Email (Required),Extension\ngiulia.rossi@acme.example,1002\n", Some(ORG));
    assert_eq!(
        only_op(&r),
        json!({"line": 2, "row": 1, "op": "modify", "email": "giulia.rossi@acme.example",
               "package": "webex_calling", "base_licenses": ["calling", "meetings", "messaging"],
               "changes": {"extension": {"from": "1001", "to": "1002"}}})
    );
}

#[test]
fn every_changing_field_is_keyed_by_its_id_in_export_order() {
    let csv = "User ID/Email (Required),Preferred Webex Site,Location,Display Name,Last Name,First Name\n\
               luca.verdi@acme.example,acme-eu.webex.com,Milano HQ,L. Verdi,Verdi,Luka\n";
    let r = check(csv, Some(ORG));
    let keys: Vec<&str> = r.operations[0].operation.changes().iter().map(|c| c.field).collect();
    assert_eq!(keys, ["first_name", "display_name", "location", "site"]);
    // The JSON object keeps that order.
    let text = serde_json::to_string(&r.operations[0]).unwrap();
    let at = |k: &str| text.find(&format!("\"{k}\":{{")).unwrap();
    assert!(at("first_name") < at("display_name") && at("location") < at("site"), "{text}");
    let changes = changes(&r);
    assert_eq!(changes["first_name"], json!({"from": "Luca", "to": "Luka"}));
    assert_eq!(changes["display_name"], json!({"from": null, "to": "L. Verdi"}));
    assert_eq!(changes["location"], json!({"from": "Roma", "to": "Milano HQ"}));
    assert_eq!(changes["site"], json!({"from": "acme.webex.com", "to": "acme-eu.webex.com"}));
}

#[test]
fn a_package_change_carries_the_new_package_and_its_ids() {
    let csv = "User ID/Email (Required),Webex Calling [Wholesale],Webex Suite [Wholesale]\n\
               giulia.rossi@acme.example,FALSE,TRUE\n";
    let op = only_op(&check(csv, Some(ORG)));
    assert_eq!(op["package"], "webex_suite");
    assert_eq!(op["changes"], json!({"package": {"from": "webex_calling", "to": "webex_suite"}}));
}

#[test]
fn base_licence_changes_are_sorted_lists_and_depend_on_the_mode() {
    let csv = "User ID/Email (Required),Basic Messaging,Basic Calling\nluca.verdi@acme.example,FALSE,TRUE\n";
    let add_only = check_mode(csv, ImportMode::AddServices);
    assert_eq!(
        changes(&add_only),
        json!({"base_licenses": {"from": ["meetings", "messaging"], "to": ["calling", "meetings", "messaging"]}})
    );
    assert_eq!(codes(&add_only, 1), ["B001"]);
    let add_remove = check_mode(csv, ImportMode::AddRemoveServices);
    assert_eq!(only_op(&add_remove)["base_licenses"], json!(["calling", "meetings"]));
    assert_eq!(
        changes(&add_remove),
        json!({"base_licenses": {"from": ["meetings", "messaging"], "to": ["calling", "meetings"]}})
    );
    // TRUE for a licence the user has is no change in either mode.
    let csv = "User ID/Email (Required),Basic Messaging\nluca.verdi@acme.example,TRUE\n";
    assert_eq!(kinds(&check_mode(csv, ImportMode::AddRemoveServices)), [OpKind::Unchanged]);
}

#[test]
fn base_licences_the_org_does_not_give_are_not_claimed_to_change() {
    let csv = "User ID/Email (Required),Basic Calling\nanon@acme.example,TRUE\n";
    assert_eq!(kinds(&check_mode(csv, ImportMode::AddRemoveServices)), [OpKind::Unchanged]);
}

#[test]
fn equal_or_blank_cells_are_unchanged() {
    let csv = "User ID/Email (Required),First Name,Last Name,Display Name,Phone Number,Extension,Location,Preferred Webex Site,Webex Calling [Wholesale],Basic Calling\n\
               giulia.rossi@acme.example,Giulia,Rossi,Giulia Rossi,+390212345678,1001,Milano HQ,,TRUE,TRUE\n\
               luca.verdi@acme.example,,,,,,,,,\n";
    let r = check(csv, Some(ORG));
    assert_eq!(kinds(&r), [OpKind::Unchanged, OpKind::Unchanged]);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
}

#[test]
fn names_are_compared_after_trimming_and_nfc() {
    let csv = "User ID/Email (Required),First Name\n\
               giulia.rossi@acme.example,Giulia \n\
               élise.martin@acme.example,Nicolo\u{300}\n";
    let r = check(csv, Some(ORG));
    assert_eq!(kinds(&r), [OpKind::Unchanged, OpKind::Unchanged]);
    assert_eq!(codes(&r, 1), ["T001"]);
    assert_eq!(codes(&r, 2), ["T002"]);
    // Case is part of a name.
    let r = check("User ID/Email (Required),First Name\ngiulia.rossi@acme.example,GIULIA\n", Some(ORG));
    assert_eq!(changes(&r), json!({"first_name": {"from": "Giulia", "to": "GIULIA"}}));
}

#[test]
fn locations_and_sites_are_compared_ignoring_case() {
    let csv = "User ID/Email (Required),Location,Preferred Webex Site\n\
               giulia.rossi@acme.example,milano hq,\n\
               luca.verdi@acme.example,ROMA,ACME.webex.com\n";
    let r = check(csv, Some(ORG));
    assert_eq!(kinds(&r), [OpKind::Unchanged, OpKind::Unchanged]);
}

#[test]
fn case_whitespace_and_nfd_variants_of_an_email_are_the_same_user() {
    let csv = "User ID/Email (Required),First Name\n\
               GIULIA.Rossi@Acme.Example,Giulia\n\
               \u{20}luca.verdi@acme.example ,Luca\n\
               ÉLISE.martin@ACME.example,Nicolò\n";
    let r = check(csv, Some(ORG));
    assert_eq!(kinds(&r), [OpKind::Unchanged; 3], "{:?}", r.diagnostics);
    let emails: Vec<&str> = r.operations.iter().map(|o| o.email.as_str()).collect();
    assert_eq!(emails, ["giulia.rossi@acme.example", "luca.verdi@acme.example", "élise.martin@acme.example"]);
}

#[test]
fn an_nfd_email_is_planned_against_the_same_user() {
    // Through the whole checker the decomposed address is refused (E002) —
    // that is the email rule's call — so look at the plan itself.
    let profile = Profile::default();
    let org = org();
    let source = Source::decode(
        b"User ID/Email (Required),First Name\nE\xcc\x81lise.martin@ACME.example,Nicolo\xcc\x80\n".to_vec(),
        None,
    );
    let records: Vec<_> = source.records().collect();
    let header = Header::parse(&records[0].fields.iter().collect::<Vec<_>>(), 1, &profile);
    let row = Row { line: 2, row: 1, record: &records[1], header: &header };
    let key = email_key(row.raw(Field::Email).unwrap());
    let cx = PlanContext { profile: &profile, org: Some(&org), mode: ImportMode::AddServices };
    let intent = plan_row(&row, &key, &cx);
    assert_eq!(key, "élise.martin@acme.example");
    assert_eq!(intent.existing.map(|u| u.email.as_str()), Some("Élise.Martin@acme.example"));
    assert_eq!(intent.operation, OperationRef::Unchanged);
}

#[test]
fn a_changed_email_is_an_add_and_the_old_user_stays() {
    let csv = "User ID/Email (Required),First Name,Webex Calling [Wholesale],Extension,Location\n\
               giulia.bianchi@acme.example,Giulia,TRUE,1009,Milano HQ\n";
    let r = check(csv, Some(ORG));
    assert_eq!(only_op(&r)["op"], "add");
    let after = org().apply(&r, &Profile::default());
    assert!(after.user("giulia.rossi@acme.example").is_some());
    assert!(after.user("giulia.bianchi@acme.example").is_some());
    assert_eq!(after.users.len(), org().users.len() + 1);
}

#[test]
fn remove_in_location_sets_the_default_location() {
    let csv = "User ID/Email (Required),Location\nluca.verdi@acme.example,REMOVE\nanon@acme.example,remove\n";
    let r = check(csv, Some(ORG));
    let ops = operations(&r);
    assert_eq!(ops[0]["changes"], json!({"location": {"from": "Roma", "to": null}}));
    // Already in the default location: nothing to do.
    assert_eq!(ops[1]["op"], "unchanged");
}

#[test]
fn remove_in_phone_number_or_extension_removes_it() {
    let csv = "User ID/Email (Required),Phone Number,Extension\n\
               giulia.rossi@acme.example,REMOVE,\n\
               giulia.rossi@acme.example,,Remove\n";
    let r = check(csv, Some(ORG));
    let ops = operations(&r);
    assert_eq!(ops[0]["changes"], json!({"phone_number": {"from": "+390212345678", "to": null}}));
    // (The second row repeats the email: E004 rejects it; check it alone.)
    let r = check("User ID/Email (Required),Extension\ngiulia.rossi@acme.example,Remove\n", Some(ORG));
    assert_eq!(changes(&r), json!({"extension": {"from": "1001", "to": null}}));
}

#[test]
fn remove_value_removes_only_the_number_the_user_has() {
    let r = check(
        "User ID/Email (Required),Phone Number\ngiulia.rossi@acme.example,REMOVE|+390212345678\n",
        Some(ORG),
    );
    assert_eq!(changes(&r), json!({"phone_number": {"from": "+390212345678", "to": null}}));
    let r = check("User ID/Email (Required),Extension\ngiulia.rossi@acme.example,remove| 1001\n", Some(ORG));
    assert_eq!(changes(&r), json!({"extension": {"from": "1001", "to": null}}));
    // Both: Giulia's calling package is left without a number (P008).
    let csv = "User ID/Email (Required),Phone Number,Extension\n\
               giulia.rossi@acme.example,REMOVE|+390212345678,REMOVE|1001\n";
    assert_eq!(codes(&check(csv, Some(ORG)), 1), ["P008"]);
    // Marco has only a phone number: removing another number changes nothing,
    // and his number still counts for P008.
    let csv = "User ID/Email (Required),Phone Number,Extension\n\
               marco.neri@acme.example,REMOVE|+390699999999,REMOVE|1001\n";
    let r = check(csv, Some(ORG));
    assert_eq!(kinds(&r), [OpKind::Unchanged]);
    assert!(!codes(&r, 1).contains(&"P008"), "{:?}", r.diagnostics);
}

#[test]
fn effective_values_come_from_the_org_when_the_cell_is_empty() {
    // Luca moves to Webex Calling: his Roma location comes from the org; he
    // has no number, so P008, but not P007.
    let csv = "User ID/Email (Required),Webex Calling [Wholesale],Webex Meetings [Wholesale]\n\
               luca.verdi@acme.example,TRUE,FALSE\n";
    let r = check(csv, Some(ORG));
    assert_eq!(codes(&r, 1), ["P008"]);
    // Removing Marco's only number leaves his calling package without one.
    let r = check("User ID/Email (Required),Phone Number\nmarco.neri@acme.example,REMOVE\n", Some(ORG));
    assert_eq!(codes(&r, 1), ["P008"]);
    assert_eq!(kinds(&r), [OpKind::Rejected]);
}

#[test]
fn every_package_false_is_a_delete() {
    let csv = "User ID/Email (Required),First Name,Webex Calling [Wholesale],Webex Meetings [Wholesale]\n\
               luca.verdi@acme.example,Luca,FALSE,false\n\
               giulia.rossi@acme.example,Giulia,FALSE,\n";
    let r = check(csv, Some(ORG));
    let ops = operations(&r);
    assert_eq!(ops[0], json!({"line": 2, "row": 1, "op": "delete", "email": "luca.verdi@acme.example"}));
    // One cell empty: not a delete (nor a change: FALSE of another package).
    assert_eq!(ops[1]["op"], "unchanged");
}

#[test]
fn a_delete_of_an_email_the_org_lacks_is_unchanged_with_p011() {
    let csv = "User ID/Email (Required),Webex Calling [Wholesale]\nnobody@acme.example,FALSE\n";
    let r = check(csv, Some(ORG));
    assert_eq!(kinds(&r), [OpKind::Unchanged]);
    assert_eq!(codes(&r, 1), ["P011"]);
}

#[test]
fn without_an_org_every_package_false_is_still_a_delete() {
    // SPEC §4 says rows are adds without --org; the file alone says "delete",
    // so the project plans it as one (and --max-deletes can count it).
    let csv = "User ID/Email (Required),Preferred Webex Site,Webex Calling [Wholesale],Webex Meetings [Wholesale]\n\
               luca.verdi@acme.example,,FALSE,FALSE\n\
               anna@acme.example,acme.webex.com,,TRUE\n";
    let r = check(csv, None);
    assert_eq!(kinds(&r), [OpKind::Delete, OpKind::Add]);
    assert!(codes(&r, 1).is_empty(), "{:?}", r.diagnostics);
}

#[test]
fn a_file_without_package_columns_deletes_nobody() {
    let r = check("User ID/Email (Required),First Name\nnew@acme.example,New\n", Some(ORG));
    assert_eq!(kinds(&r), [OpKind::Rejected]);
    assert_eq!(codes(&r, 1), ["P005"]);
}

#[test]
fn a_row_with_an_error_is_rejected_and_keeps_only_line_row_op_email() {
    let csv = "User ID/Email (Required),Extension\nmario.rossi@,1004\ngiulia.rossi@acme.example,1\n";
    let r = check(csv, Some(ORG));
    let ops = operations(&r);
    assert_eq!(ops[0], json!({"line": 2, "row": 1, "op": "rejected", "email": "mario.rossi@"}));
    assert_eq!(ops[1], json!({"line": 3, "row": 2, "op": "rejected", "email": "giulia.rossi@acme.example"}));
    assert!(matches!(r.operations[1].operation, Operation::Rejected));
}

#[test]
fn a_file_error_rejects_every_row() {
    let csv = "User ID/Email (Required);Extension\ngiulia.rossi@acme.example;1002\n";
    let r = check(csv, Some(ORG));
    assert_eq!(kinds(&r), [OpKind::Rejected]);
    // … and applying it changes nothing.
    let after = org().apply(&r, &Profile::default());
    assert_eq!(after.users, org().users);
}

#[test]
fn apply_adds_modifies_and_deletes_in_row_order() {
    let csv = "User ID/Email (Required),First Name,Display Name,Phone Number,Extension,Location,Preferred Webex Site,Webex Calling [Wholesale],Webex Meetings [Wholesale],Basic Messaging\n\
               \u{20}Anna.Bianchi@acme.example ,Anna, Anna B. ,+390212340001,REMOVE|1005,Roma,,TRUE,FALSE,FALSE\n\
               giulia.rossi@acme.example,,,REMOVE,1002,,,,,\n\
               luca.verdi@acme.example,,,,,,,FALSE,FALSE,\n\
               mario@,Mario,,,,,,TRUE,FALSE,\n";
    let r = check(csv, Some(ORG));
    assert_eq!(kinds(&r), [OpKind::Add, OpKind::Modify, OpKind::Delete, OpKind::Rejected]);
    let after = org().apply(&r, &Profile::default());
    let anna = after.user("anna.bianchi@acme.example").expect("added");
    assert_eq!(anna.email, "Anna.Bianchi@acme.example");
    assert_eq!(anna.first_name.as_deref(), Some("Anna"));
    assert_eq!(anna.display_name.as_deref(), Some("Anna B."));
    assert_eq!(anna.phone_number.as_deref(), Some("+390212340001"));
    assert_eq!(anna.extension, None);
    assert_eq!(anna.location.as_deref(), Some("Roma"));
    assert_eq!(anna.package.as_deref(), Some("webex_calling"));
    assert_eq!(
        anna.base_licenses.as_deref(),
        Some(&["calling", "meetings", "messaging"].map(String::from)[..])
    );
    let giulia = after.user("giulia.rossi@acme.example").unwrap();
    assert_eq!((giulia.phone_number.as_deref(), giulia.extension.as_deref()), (None, Some("1002")));
    assert_eq!(giulia.first_name.as_deref(), Some("Giulia"));
    assert!(after.user("luca.verdi@acme.example").is_none());
    assert!(after.user("mario@").is_none());
    // The org's own lists are what they were; the indexes are rebuilt.
    assert_eq!(after.locations, org().locations);
    assert_eq!(after.phone_owner("+390212340001").and_then(|i| after.users.get(i)), Some(anna));
    assert_eq!(after.phone_owner("+390212345678"), None);
    // Planned again, the same file changes nothing.
    let again = Checker::builder().org(after).build().check_bytes("t.csv", csv.as_bytes().to_vec());
    assert_eq!(kinds(&again), [OpKind::Unchanged, OpKind::Unchanged, OpKind::Unchanged, OpKind::Rejected]);
}

#[test]
fn apply_of_package_and_base_licence_changes() {
    let csv = "User ID/Email (Required),Extension,Webex Suite [Wholesale],Basic Messaging,Basic Calling\n\
               luca.verdi@acme.example,1009,TRUE,FALSE,TRUE\n";
    let r = Checker::builder()
        .org(org())
        .mode(ImportMode::AddRemoveServices)
        .build()
        .check_bytes("t.csv", csv.as_bytes().to_vec());
    let after = org().apply(&r, &Profile::default());
    let luca = after.user("luca.verdi@acme.example").unwrap();
    assert_eq!(luca.extension.as_deref(), Some("1009"));
    assert_eq!(luca.package.as_deref(), Some("webex_suite"));
    assert_eq!(luca.base_licenses.as_deref(), Some(&["calling", "meetings"].map(String::from)[..]));
}

#[test]
fn the_export_of_an_org_reads_back_and_plans_unchanged() {
    let profile = Profile::default();
    let mut org = org();
    org.users[0].display_name = Some("Rossi, \"Giulia\"".into());
    let org = org.indexed();
    let csv = org.to_export_csv(&profile);
    let back = OrgState::from_export_csv(csv.as_bytes(), Path::new("export.csv"), &profile).unwrap();
    assert_eq!(back.users.len(), org.users.len());
    for (a, b) in org.users.iter().zip(&back.users) {
        assert_eq!(
            (&a.email, &a.display_name, &a.package, &a.extension),
            (&b.email, &b.display_name, &b.package, &b.extension)
        );
    }
    let r = Checker::builder().org(org).build().check_bytes("export.csv", csv.into_bytes());
    assert!(kinds(&r).iter().all(|k| *k == OpKind::Unchanged), "{:?}\n{:?}", operations(&r), r.diagnostics);
}
