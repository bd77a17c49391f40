//! Properties of the plan (SPEC §5), checked on generated orgs and files:
//!
//! 1. an org's own export, planned against that org, is all `unchanged`;
//! 2. applying a plan and planning the same file again gives only
//!    `unchanged` (and the rows rejected the first time): uploads are
//!    idempotent;
//! 3. there is exactly one operation per data row, in input order, whatever
//!    the file holds;
//! 4. shuffling rows with distinct keys (and no shared numbers) changes no
//!    row's operation.

use std::collections::HashMap;
use std::path::Path;

use csvcheck::text::email_key;
use csvcheck::{Checker, FileReport, ImportMode, OpKind, Operation, OrgState, OrgUser, Profile};
use proptest::prelude::*;
use proptest::sample::select;

/// Cases per property: enough to cover the combinations, few enough to keep
/// `cargo test` quick.
const CASES: u32 = 64;

const LOCATIONS: [&str; 4] = ["Milano HQ", "Roma", "Torino, Lingotto", "Zürich"];
const SITES: [&str; 2] = ["acme.webex.com", "acme-eu.webex.com"];
const STATUSES: [&str; 2] = ["Active", "Invite pending"];
/// Names with the awkward bits of real ones: accents (one decomposed),
/// commas and quotes that need CSV quoting, inner spaces.
const FIRST_NAMES: [&str; 7] =
    ["Giulia", "Luca", "Nicolò", "Nicolo\u{300}", "Zoë", "Anna Maria", "Jo \"JJ\""];
const LAST_NAMES: [&str; 6] = ["Rossi", "De Luca", "van der Berg", "Ærø", "Smith-Jones", "Bianchi, jr."];
const LOCALS: [&str; 5] = ["giulia", "luca.verdi", "nicolo", "zoe", "anna-maria"];

// ---------------------------------------------------------------- the org

/// One generated org user; numbers are made unique from its position.
#[derive(Clone, Debug)]
struct UserSpec {
    local: usize,
    upper: bool,
    first: Option<usize>,
    last: Option<usize>,
    display: Option<usize>,
    status: Option<usize>,
    package: Option<usize>,
    base: Option<u8>,
    location: Option<usize>,
    phone: bool,
    extension: bool,
    site: Option<usize>,
    admin: bool,
}

fn user_spec() -> impl Strategy<Value = UserSpec> {
    (
        (0..LOCALS.len(), any::<bool>(), prop::option::of(0..FIRST_NAMES.len())),
        (prop::option::of(0..LAST_NAMES.len()), prop::option::of(0..FIRST_NAMES.len())),
        (prop::option::of(0..STATUSES.len()), prop::option::weighted(0.9, 0..5usize)),
        (prop::option::weighted(0.9, 0..8u8), prop::option::of(0..LOCATIONS.len())),
        (any::<bool>(), any::<bool>(), prop::option::of(0..SITES.len()), prop::bool::weighted(0.2)),
    )
        .prop_map(
            |((local, upper, first), (last, display), (status, package), (base, location), rest)| {
                let (phone, extension, site, admin) = rest;
                UserSpec {
                    local,
                    upper,
                    first,
                    last,
                    display,
                    status,
                    package,
                    base,
                    location,
                    phone,
                    extension,
                    site,
                    admin,
                }
            },
        )
}

fn phone_of(i: usize) -> String {
    format!("+3902{:08}", 10_000_000 + i)
}

fn extension_of(i: usize) -> String {
    (1000 + i).to_string()
}

/// An org as Control Hub would have it: distinct emails, unique numbers and
/// extensions, every calling user with a location and a number, every value
/// one the org knows.
fn build_org(specs: &[UserSpec], profile: &Profile) -> OrgState {
    let mut org = OrgState::default();
    org.name = Some("Acme Srl".into());
    org.package = Some("webex_calling".into());
    org.packages = Some(profile.packages.iter().map(|p| p.id.clone()).collect());
    org.domains = Some(vec!["acme.example".into()]);
    org.locations = Some(LOCATIONS.iter().map(|l| l.to_string()).collect());
    org.sites = Some(SITES.iter().map(|s| s.to_string()).collect());
    for (i, s) in specs.iter().enumerate() {
        let local = LOCALS[s.local];
        let local = if s.upper { local.to_uppercase() } else { local.to_owned() };
        let package = s.package.map(|p| &profile.packages[p]);
        let calling = package.is_some_and(|p| p.calling);
        let base = s.base.map(|bits| {
            profile
                .base_licences
                .iter()
                .enumerate()
                .filter(|(b, _)| bits & (1 << b) != 0)
                .map(|(_, b)| b.id.clone())
                .collect()
        });
        org.users.push(OrgUser {
            first_name: s.first.map(|f| FIRST_NAMES[f].to_owned()),
            last_name: s.last.map(|l| LAST_NAMES[l].to_owned()),
            display_name: s
                .display
                .map(|d| format!("{} {}", FIRST_NAMES[d], LAST_NAMES[d % LAST_NAMES.len()])),
            status: s.status.map(|st| STATUSES[st].into()),
            package: package.map(|p| p.id.as_str().into()),
            base_licenses: base,
            location: match (s.location, calling) {
                (Some(l), _) => Some(LOCATIONS[l].into()),
                (None, true) => Some(LOCATIONS[i % LOCATIONS.len()].into()),
                (None, false) => None,
            },
            phone_number: s.phone.then(|| phone_of(i)),
            extension: (s.extension || (calling && !s.phone)).then(|| extension_of(i)),
            site: s.site.map(|x| SITES[x].into()),
            admin: s.admin.then(|| "full".into()),
            ..OrgUser::new(format!("{local}.{i}@acme.example"))
        });
    }
    org.indexed()
}

fn org_specs() -> impl Strategy<Value = Vec<UserSpec>> {
    prop::collection::vec(user_spec(), 0..16)
}

// ---------------------------------------------------------------- files

/// A name cell.
#[derive(Clone, Debug)]
enum Name {
    Blank,
    Same,
    New(usize),
}

/// A Phone Number or Extension cell.
#[derive(Clone, Debug)]
enum Number {
    Blank,
    Same,
    /// A number nobody has.
    Fresh,
    Remove,
    /// `REMOVE|` the user's own number.
    RemoveSame,
    /// `REMOVE|` a number nobody has.
    RemoveOther,
}

/// A Location cell.
#[derive(Clone, Debug)]
enum Place {
    Blank,
    Same,
    /// The current location, in lower case.
    SameLower,
    Other(usize),
    Remove,
}

/// The package cells.
#[derive(Clone, Debug)]
enum Package {
    /// All empty.
    Blank,
    /// TRUE in the user's current package column, FALSE elsewhere.
    Same,
    /// TRUE in this package's column, FALSE elsewhere.
    Other(usize),
    /// FALSE everywhere: a delete.
    AllFalse,
}

/// Whose row it is.
#[derive(Clone, Debug)]
enum Who {
    /// Org user `n % users`, its email written as-is, upper-cased or padded.
    Existing(usize, u8),
    /// `new.<n>@acme.example`, not in the org.
    New(usize),
}

#[derive(Clone, Debug)]
struct RowSpec {
    who: Who,
    first: Name,
    last: Name,
    display: Name,
    status: Name,
    phone: Number,
    extension: Number,
    location: Place,
    site: Name,
    package: Package,
    /// Per base licence: 0 empty, 1 TRUE, 2 FALSE.
    base: [u8; 3],
}

fn name() -> impl Strategy<Value = Name> {
    prop_oneof![3 => Just(Name::Blank), 3 => Just(Name::Same), 1 => (0..FIRST_NAMES.len()).prop_map(Name::New)]
}

fn number() -> impl Strategy<Value = Number> {
    select(vec![
        Number::Blank,
        Number::Blank,
        Number::Same,
        Number::Same,
        Number::Fresh,
        Number::Remove,
        Number::RemoveSame,
        Number::RemoveOther,
    ])
}

fn place() -> impl Strategy<Value = Place> {
    prop_oneof![
        3 => Just(Place::Blank),
        3 => Just(Place::Same),
        1 => Just(Place::SameLower),
        1 => (0..LOCATIONS.len()).prop_map(Place::Other),
        1 => Just(Place::Remove),
    ]
}

fn package() -> impl Strategy<Value = Package> {
    prop_oneof![
        2 => Just(Package::Blank),
        3 => Just(Package::Same),
        2 => (0..5usize).prop_map(Package::Other),
        1 => Just(Package::AllFalse),
    ]
}

fn row_spec() -> impl Strategy<Value = RowSpec> {
    (
        prop_oneof![3 => (0..64usize, 0..3u8).prop_map(|(n, v)| Who::Existing(n, v)), 1 => (0..12usize).prop_map(Who::New)],
        (name(), name(), name(), prop::bool::weighted(0.1)),
        (number(), number(), place(), name()),
        (package(), prop::array::uniform3(0..3u8)),
    )
        .prop_map(|(who, (first, last, display, status_changes), (phone, extension, location, site), (package, base))| {
            // The status is read-only: mostly written back as it is.
            let status = if status_changes { Name::New(0) } else { Name::Same };
            RowSpec { who, first, last, display, status, phone, extension, location, site, package, base }
        })
}

/// Columns of a generated file: every known field, every package, every
/// base licence.
fn header(profile: &Profile) -> Vec<String> {
    let mut titles: Vec<String> = [
        "User ID/Email (Required)",
        "First Name",
        "Last Name",
        "Display Name",
        "User Status",
        "Phone Number",
        "Extension",
        "Location",
        "Preferred Webex Site",
    ]
    .iter()
    .map(|t| t.to_string())
    .collect();
    titles.extend(profile.packages.iter().map(|p| format!("{} [Wholesale]", p.title)));
    titles.extend(profile.base_licences.iter().map(|b| b.title.clone()));
    titles
}

/// Turns row specs into cells; fresh numbers are unique across the file.
fn render_rows(org: &OrgState, rows: &[RowSpec], profile: &Profile) -> Vec<Vec<String>> {
    let mut fresh = 0;
    let mut out = Vec::new();
    for spec in rows {
        let (email, user) = match spec.who {
            Who::Existing(n, variant) if !org.users.is_empty() => {
                let user = &org.users[n % org.users.len()];
                let email = match variant {
                    0 => user.email.clone(),
                    1 => user.email.to_uppercase(),
                    _ => format!("  {} ", user.email),
                };
                (email, Some(user))
            }
            Who::Existing(n, _) | Who::New(n) => (format!("new.{n}@acme.example"), None),
        };
        // For a new user "the same" means a plausible value: a name, a fresh
        // number, a location, a site — what an administrator would fill in.
        let new = user.is_none();
        let name = |cell: &Name, current: Option<&String>, pool: &[&str]| match cell {
            Name::Blank => String::new(),
            Name::Same if new => pool[0].to_owned(),
            Name::Same => current.cloned().unwrap_or_default(),
            Name::New(i) => pool[i % pool.len()].to_owned(),
        };
        let mut number = |cell: &Number, current: Option<&String>, phone: bool| {
            fresh += 1;
            let made =
                if phone { format!("+3906{:08}", 20_000_000 + fresh) } else { (5000 + fresh).to_string() };
            let other = if phone { "+390699999999" } else { "99" };
            match cell {
                Number::Blank => String::new(),
                Number::Same => current.cloned().unwrap_or(if new { made } else { String::new() }),
                Number::Fresh => made,
                Number::Remove => "REMOVE".into(),
                Number::RemoveSame => current.map_or_else(String::new, |c| format!("REMOVE|{c}")),
                Number::RemoveOther => format!("REMOVE|{other}"),
            }
        };
        let current_location = user.and_then(|u| u.location.as_ref());
        let location = match &spec.location {
            Place::Blank => String::new(),
            Place::Same if new => LOCATIONS[out.len() % LOCATIONS.len()].to_owned(),
            Place::Same => current_location.map(|l| l.to_string()).unwrap_or_default(),
            Place::SameLower => current_location.map(|l| l.to_lowercase()).unwrap_or_default(),
            Place::Other(i) => LOCATIONS[*i].to_owned(),
            Place::Remove => "REMOVE".into(),
        };
        let current_package =
            user.and_then(|u| u.package.as_deref()).and_then(|id| profile.package_index(id));
        let packages: Vec<String> = (0..profile.packages.len())
            .map(|i| {
                let on = match spec.package {
                    Package::Blank => return String::new(),
                    Package::Same if current_package.is_none() && user.is_some() => return String::new(),
                    // A new user has no current package: give it the first.
                    Package::Same => current_package.unwrap_or(0) == i,
                    Package::Other(p) => p == i,
                    Package::AllFalse => false,
                };
                if on { "TRUE" } else { "FALSE" }.to_owned()
            })
            .collect();
        let mut cells = vec![
            email,
            name(&spec.first, user.and_then(|u| u.first_name.as_ref()), &FIRST_NAMES),
            name(&spec.last, user.and_then(|u| u.last_name.as_ref()), &LAST_NAMES),
            name(&spec.display, user.and_then(|u| u.display_name.as_ref()), &FIRST_NAMES),
            match (&spec.status, user) {
                (Name::Same, Some(u)) => u.status.as_deref().unwrap_or_default().to_owned(),
                (Name::New(_), Some(_)) => "Deactivated".into(),
                _ => String::new(),
            },
            number(&spec.phone, user.and_then(|u| u.phone_number.as_ref()), true),
            number(&spec.extension, user.and_then(|u| u.extension.as_ref()), false),
            location,
            match &spec.site {
                Name::Blank => String::new(),
                Name::Same if new => SITES[0].to_owned(),
                Name::Same => user.and_then(|u| u.site.as_deref()).unwrap_or_default().to_owned(),
                Name::New(i) => SITES[i % SITES.len()].to_owned(),
            },
        ];
        cells.extend(packages);
        cells.extend(spec.base.iter().map(|b| ["", "TRUE", "FALSE"][*b as usize].to_owned()));
        out.push(cells);
    }
    out
}

/// RFC 4180 text of a file.
fn to_csv(records: &[Vec<String>]) -> String {
    let mut out = String::new();
    for record in records {
        let fields: Vec<String> = record
            .iter()
            .map(|f| {
                if f.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", f.replace('"', "\"\""))
                } else {
                    f.clone()
                }
            })
            .collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

fn check(org: &OrgState, mode: ImportMode, csv: &str) -> FileReport {
    Checker::builder().org(org.clone()).mode(mode).build().check_bytes("t.csv", csv.as_bytes().to_vec())
}

fn mode(add_remove: bool) -> ImportMode {
    if add_remove {
        ImportMode::AddRemoveServices
    } else {
        ImportMode::AddServices
    }
}

/// What went wrong, for a failing case.
fn explain(report: &FileReport) -> String {
    let ops: Vec<String> = report.operations.iter().map(|o| serde_json::to_string(o).unwrap()).collect();
    format!("operations:\n{}\ndiagnostics:\n{:#?}", ops.join("\n"), report.diagnostics)
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// (1) An org's export, planned against the org — as given, through its
    /// JSON, and as read back from the export — is all `unchanged`.
    #[test]
    fn an_orgs_export_planned_against_it_is_all_unchanged(specs in org_specs(), add_remove in any::<bool>()) {
        let profile = Profile::default();
        let org = build_org(&specs, &profile);
        let csv = org.to_export_csv(&profile);
        let json = serde_json::to_vec(&org).unwrap();
        let from_json = OrgState::from_json(&json, Path::new("org.json")).unwrap();
        let from_export = OrgState::from_export_csv(csv.as_bytes(), Path::new("export.csv"), &profile).unwrap();
        for against in [&org, &from_json, &from_export] {
            let report = check(against, mode(add_remove), &csv);
            prop_assert_eq!(report.operations.len(), org.users.len());
            prop_assert!(
                report.operations.iter().all(|o| o.operation == Operation::Unchanged),
                "{}\n{}", csv, explain(&report)
            );
        }
    }

    /// The export writer and reader agree on every field an export holds.
    #[test]
    fn an_export_reads_back_as_the_same_users(specs in org_specs()) {
        let profile = Profile::default();
        let org = build_org(&specs, &profile);
        let csv = org.to_export_csv(&profile);
        let back = OrgState::from_export_csv(csv.as_bytes(), Path::new("export.csv"), &profile).unwrap();
        prop_assert_eq!(back.users.len(), org.users.len());
        let nfc = |v: &Option<String>| v.as_deref().map(|s| csvcheck::text::clean(s).into_owned());
        for (a, b) in org.users.iter().zip(&back.users) {
            prop_assert_eq!(&a.email, &b.email);
            prop_assert_eq!(nfc(&a.first_name), b.first_name.clone());
            prop_assert_eq!(nfc(&a.last_name), b.last_name.clone());
            prop_assert_eq!(nfc(&a.display_name), b.display_name.clone());
            prop_assert_eq!((&a.status, &a.package, &a.location), (&b.status, &b.package, &b.location));
            prop_assert_eq!((&a.phone_number, &a.extension, &a.site), (&b.phone_number, &b.extension, &b.site));
            let mut base = a.base_licenses.as_deref().unwrap_or_default().to_vec();
            base.sort();
            let mut back_base = b.base_licenses.as_deref().unwrap_or_default().to_vec();
            back_base.sort();
            prop_assert_eq!(base, back_base);
        }
    }

    /// (2) Applying a plan and planning the same file again: every row that
    /// was not rejected is now `unchanged`, and nothing is left to do.
    #[test]
    fn applying_a_plan_then_planning_again_changes_nothing(
        specs in org_specs(),
        rows in prop::collection::vec(row_spec(), 1..24),
        add_remove in any::<bool>(),
        duplicates in prop::bool::weighted(0.25),
    ) {
        let profile = Profile::default();
        let org = build_org(&specs, &profile);
        let mut records = vec![header(&profile)];
        let mut seen = std::collections::HashSet::new();
        records.extend(
            render_rows(&org, &rows, &profile)
                .into_iter()
                .filter(|cells| duplicates || seen.insert(email_key(&cells[0]))),
        );
        let csv = to_csv(&records);
        let first = check(&org, mode(add_remove), &csv);
        let after = org.apply(&first, &profile);
        let second = check(&after, mode(add_remove), &csv);
        prop_assert_eq!(second.operations.len(), first.operations.len());
        for (a, b) in first.operations.iter().zip(&second.operations) {
            let kind = b.operation.kind();
            prop_assert!(
                kind == OpKind::Unchanged || (kind == OpKind::Rejected && a.operation == Operation::Rejected),
                "line {}: {:?} then {:?}\n{}\nfirst:\n{}\nsecond:\n{}",
                a.line, a.operation, b.operation, csv, explain(&first), explain(&second)
            );
        }
        // The users the file did not touch are as they were.
        let touched: Vec<&str> = first.operations.iter().map(|o| o.email.as_str()).collect();
        for user in &org.users {
            if !touched.contains(&email_key(&user.email).as_str()) {
                prop_assert_eq!(after.user(&user.email), Some(user));
            }
        }
    }

    /// (3) One operation per data row, in input order, with the row's line
    /// and key — whatever the cells hold, ragged records and blank lines too.
    #[test]
    fn there_is_one_operation_per_row_in_order(
        extra in prop::collection::vec(select(vec![
            "First Name", "Phone Number", "Extension", "Location", "Webex Calling [Wholesale]",
            "Webex Meetings [Wholesale] (Suspended)", "Basic Calling", "Colour", "User Status",
        ]), 1..6),
        email_at in 0..6usize,
        rows in prop::collection::vec(
            (prop::collection::vec("[a-zA-Z0-9@. ,\"\n;\té-]{0,12}", 2..8), any::<bool>()),
            0..20,
        ),
        crlf in any::<bool>(),
    ) {
        let mut titles: Vec<String> = extra.iter().map(|t| t.to_string()).collect();
        titles.insert(email_at.min(titles.len()), "User ID/Email (Required)".into());
        let email_at = email_at.min(titles.len() - 1);
        let mut csv = to_csv(&[titles]);
        let mut expected = Vec::new();
        let mut line = 2u64;
        for (cells, blank_before) in &rows {
            if *blank_before {
                csv.push('\n');
                line += 1;
            }
            let text = to_csv(std::slice::from_ref(cells));
            expected.push((line, email_key(cells.get(email_at).map_or("", String::as_str))));
            line += text.matches('\n').count() as u64;
            csv.push_str(&text);
        }
        if crlf {
            // Record ends only: fields hold no CR, so every "\n" that ends a
            // record is the one after a field that is not quoted-open.
            csv = to_crlf(&csv);
        }
        let report = Checker::builder().build().check_bytes("t.csv", csv.clone().into_bytes());
        prop_assert_eq!(report.rows, rows.len() as u64);
        prop_assert_eq!(report.operations.len(), rows.len(), "{}", csv);
        for (i, (op, (line, key))) in report.operations.iter().zip(&expected).enumerate() {
            prop_assert_eq!(op.row, i as u64 + 1);
            prop_assert_eq!(op.line, *line, "{}", csv);
            prop_assert_eq!(&op.email, key);
        }
    }

    /// (4) Rows with distinct keys and no shared numbers plan the same in any
    /// order.
    #[test]
    fn shuffling_rows_with_distinct_keys_changes_no_operation(
        specs in org_specs(),
        rows in prop::collection::vec((row_spec(), any::<u32>()), 1..24),
        add_remove in any::<bool>(),
    ) {
        let profile = Profile::default();
        let org = build_org(&specs, &profile);
        let (specs_only, order): (Vec<RowSpec>, Vec<u32>) = rows.into_iter().unzip();
        let rendered = render_rows(&org, &specs_only, &profile);
        let mut seen = std::collections::HashSet::new();
        let distinct: Vec<(u32, Vec<String>)> = rendered
            .into_iter()
            .zip(order)
            .filter(|(cells, _)| seen.insert(email_key(&cells[0])))
            .map(|(cells, k)| (k, cells))
            .collect();
        let mut shuffled = distinct.clone();
        shuffled.sort_by_key(|(k, _)| *k);
        let plan = |rows: &[(u32, Vec<String>)]| {
            let mut records = vec![header(&profile)];
            records.extend(rows.iter().map(|(_, cells)| cells.clone()));
            let report = check(&org, mode(add_remove), &to_csv(&records));
            let by_key: HashMap<String, Operation> =
                report.operations.iter().map(|o| (o.email.clone(), o.operation.clone())).collect();
            (by_key, report)
        };
        let (before, first) = plan(&distinct);
        let (after, second) = plan(&shuffled);
        prop_assert_eq!(before.len(), distinct.len());
        for (key, op) in &before {
            prop_assert_eq!(Some(op), after.get(key), "{}\nfirst:\n{}\nshuffled:\n{}", key, explain(&first), explain(&second));
        }
    }
}

/// `s` with every record-ending `\n` (outside quotes) made `\r\n`.
fn to_crlf(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => out.push('\r'),
            _ => {}
        }
        out.push(c);
    }
    out
}
