//! Stage 4: typed rows → the operation Control Hub will perform.
//!
//! Each data row becomes exactly one [`Operation`] (SPEC §5):
//!
//! * **delete** — the file has package columns and every one is `FALSE` on
//!   the row (a delete of an email the org does not have is `unchanged`,
//!   with P011; without an org the row is still a delete: the file says so);
//! * **add** — the email is not in the org;
//! * **modify** — a non-empty cell differs from the org's value; the
//!   [`Change`]s say which, from what, to what. Names compare after trimming
//!   and NFC, locations and sites also ignoring case; `REMOVE` in Location is
//!   the default location (no location in the org state); a user whose base
//!   licences the org does not give is not claimed to change them;
//! * **unchanged** — nothing differs;
//! * **rejected** — the row has an error (decided after the rules ran).
//!
//! The plan also works out each row's *effective* values — the row's cell,
//! else the org's current value — which the rules read instead of deriving
//! them again ([`Effective`]).
//!
//! [`apply`] (also [`OrgState::apply`]) plays a checked file's plan onto an
//! org state: the organisation as it will be after the upload.
//!
//! ```
//! use csvcheck::{Checker, OpKind, OrgState, OrgUser};
//!
//! let mut org = OrgState::default();
//! org.users.push(OrgUser { package: Some("webex_meetings".into()), ..OrgUser::new("luca@acme.example") });
//! let checker = Checker::builder().org(org.clone()).build();
//! let csv = "User ID/Email (Required),First Name,Webex Meetings [Wholesale]\n\
//!            anna@acme.example,Anna,TRUE\n\
//!            luca@acme.example,,FALSE\n";
//! let report = checker.check_bytes("users.csv", csv.as_bytes().to_vec());
//! let after = org.apply(&report, checker.profile());
//! assert!(after.user("luca@acme.example").is_none());
//! assert_eq!(after.user("anna@acme.example").unwrap().first_name.as_deref(), Some("Anna"));
//!
//! // The upload is idempotent: planned again, the same file changes nothing.
//! let again = Checker::builder().org(after).build().check_bytes("users.csv", csv.as_bytes().to_vec());
//! assert!(again.operations.iter().all(|o| o.operation.kind() == OpKind::Unchanged));
//! ```

use std::borrow::Cow;
use std::collections::HashMap;

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::check::FileReport;
use crate::header::{Field, Header};
use crate::options::ImportMode;
use crate::org::{OrgState, OrgUser};
use crate::profile::{BaseLicences, Profile};
use crate::row::{LicenceCells, NumberCell, Row};
use crate::text::{clean, email_key, eq_clean, eq_folded};

/// The kind of an operation, as the reports name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    /// A new user.
    Add,
    /// An existing user changes.
    Modify,
    /// An existing user is deleted.
    Delete,
    /// Nothing happens.
    Unchanged,
    /// Control Hub would refuse the row (or the whole file).
    Rejected,
}

impl OpKind {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Modify => "modify",
            OpKind::Delete => "delete",
            OpKind::Unchanged => "unchanged",
            OpKind::Rejected => "rejected",
        }
    }
}

/// A value before or after a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeValue {
    /// No value (the field is cleared, or had none).
    None,
    /// A text value.
    Text(String),
    /// A list (base licences).
    List(Vec<String>),
}

impl Serialize for ChangeValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ChangeValue::None => s.serialize_none(),
            ChangeValue::Text(t) => s.serialize_str(t),
            ChangeValue::List(l) => l.serialize(s),
        }
    }
}

impl From<Option<&str>> for ChangeValue {
    fn from(v: Option<&str>) -> ChangeValue {
        v.map_or(ChangeValue::None, |t| ChangeValue::Text(t.to_owned()))
    }
}

/// One field that a `modify` changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Field id: `first_name`, `phone_number`, `package`, `base_licenses`, …
    pub field: &'static str,
    /// The current value.
    pub from: ChangeValue,
    /// The value after the upload.
    pub to: ChangeValue,
}

/// What Control Hub will do with one row.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// Create the user.
    Add {
        /// The package the user gets.
        package: Option<String>,
        /// The base licences the user gets, sorted.
        base_licenses: Vec<String>,
    },
    /// Change the user.
    Modify {
        /// The user's package after the upload.
        package: Option<String>,
        /// The user's base licences after the upload, sorted.
        base_licenses: Vec<String>,
        /// The fields that change, in export column order.
        changes: Vec<Change>,
    },
    /// Delete the user.
    Delete,
    /// Leave the user alone.
    Unchanged,
    /// Refused: the row (or file) has an error.
    Rejected,
}

impl Operation {
    /// The operation's kind.
    pub fn kind(&self) -> OpKind {
        match self {
            Operation::Add { .. } => OpKind::Add,
            Operation::Modify { .. } => OpKind::Modify,
            Operation::Delete => OpKind::Delete,
            Operation::Unchanged => OpKind::Unchanged,
            Operation::Rejected => OpKind::Rejected,
        }
    }

    /// An operation of this kind with no package, base licence or change:
    /// what the driver keeps of a row whose operation is already
    /// serialised (see [`OperationRef::write_json`]).
    pub(crate) fn of_kind(kind: OpKind) -> Operation {
        match kind {
            OpKind::Add => Operation::Add { package: None, base_licenses: Vec::new() },
            OpKind::Modify => {
                Operation::Modify { package: None, base_licenses: Vec::new(), changes: Vec::new() }
            }
            OpKind::Delete => Operation::Delete,
            OpKind::Unchanged => Operation::Unchanged,
            OpKind::Rejected => Operation::Rejected,
        }
    }

    /// The user's package after the upload, for an add or a modify.
    pub fn package(&self) -> Option<&str> {
        match self {
            Operation::Add { package, .. } | Operation::Modify { package, .. } => package.as_deref(),
            _ => None,
        }
    }

    /// The user's base licences after the upload (sorted), for an add or a
    /// modify; empty otherwise.
    pub fn base_licenses(&self) -> &[String] {
        match self {
            Operation::Add { base_licenses, .. } | Operation::Modify { base_licenses, .. } => base_licenses,
            _ => &[],
        }
    }

    /// The fields a modify changes; empty for every other operation.
    pub fn changes(&self) -> &[Change] {
        match self {
            Operation::Modify { changes, .. } => changes,
            _ => &[],
        }
    }
}

/// What a row does, as planned: an [`Operation`] whose package and base
/// licences are still the profile's — borrowed, and a set — so that
/// planning a row copies no text. [`to_operation`](OperationRef::to_operation)
/// makes the owned one; a report that only serialises the row need not.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OperationRef<'a> {
    /// Create the user.
    Add {
        /// The id of the package the user gets.
        package: Option<&'a str>,
        /// The base licences the user gets.
        base_licences: BaseLicences,
    },
    /// Change the user.
    Modify {
        /// The id of the user's package after the upload.
        package: Option<&'a str>,
        /// The user's base licences after the upload.
        base_licences: BaseLicences,
        /// The fields that change, in export column order.
        changes: Vec<Change>,
    },
    /// Delete the user.
    Delete,
    /// Leave the user alone.
    Unchanged,
    /// Refused: the row (or file) has an error.
    Rejected,
}

impl OperationRef<'_> {
    /// The operation's kind.
    pub fn kind(&self) -> OpKind {
        match self {
            OperationRef::Add { .. } => OpKind::Add,
            OperationRef::Modify { .. } => OpKind::Modify,
            OperationRef::Delete => OpKind::Delete,
            OperationRef::Unchanged => OpKind::Unchanged,
            OperationRef::Rejected => OpKind::Rejected,
        }
    }

    /// The owned operation; `profile` names the base licences (the one the
    /// row was planned with).
    pub fn to_operation(&self, profile: &Profile) -> Operation {
        match self {
            OperationRef::Add { package, base_licences } => Operation::Add {
                package: package.map(str::to_owned),
                base_licenses: profile.base_licence_ids(*base_licences),
            },
            OperationRef::Modify { package, base_licences, changes } => Operation::Modify {
                package: package.map(str::to_owned),
                base_licenses: profile.base_licence_ids(*base_licences),
                changes: changes.clone(),
            },
            OperationRef::Delete => Operation::Delete,
            OperationRef::Unchanged => Operation::Unchanged,
            OperationRef::Rejected => Operation::Rejected,
        }
    }

    /// Appends the row at `line` (data row `row`, key `email`) doing this
    /// as its JSON object: byte for byte what serialising the owned
    /// [`PlannedRow`] writes.
    pub(crate) fn write_json(
        &self,
        out: &mut Vec<u8>,
        line: u64,
        row: u64,
        email: &str,
        profile: &Profile,
        lists: &BaseLicenceLists,
    ) {
        let (package, base_licences, changes) = match self {
            OperationRef::Add { package, base_licences } => (package, base_licences, None),
            OperationRef::Modify { package, base_licences, changes } => {
                (package, base_licences, Some(&changes[..]))
            }
            _ => {
                return write_json(
                    out,
                    line,
                    row,
                    self.kind(),
                    email,
                    None::<Body<'_, std::iter::Empty<&str>>>,
                )
            }
        };
        let base_licenses = match lists.get(*base_licences) {
            Some(json) => BaseLicenceIds::Written(json),
            None => BaseLicenceIds::Ids(profile.sorted_base_licence_ids(*base_licences)),
        };
        write_json(
            out,
            line,
            row,
            self.kind(),
            email,
            Some(Body { package: *package, base_licenses, changes }),
        );
    }
}

/// A row's place in the plan: where it is, whose it is, what happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedRow {
    /// The line the record starts on.
    pub line: u64,
    /// The 1-based index of the data record.
    pub row: u64,
    /// The user's key (trimmed, NFC, lowercased email).
    pub email: String,
    /// What happens.
    pub operation: Operation,
}

impl Serialize for PlannedRow {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let fields = match &self.operation {
            Operation::Add { .. } => 6,
            Operation::Modify { .. } => 7,
            _ => 4,
        };
        let mut st = s.serialize_struct("Operation", fields)?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("row", &self.row)?;
        st.serialize_field("op", &self.operation.kind())?;
        st.serialize_field("email", &self.email)?;
        match &self.operation {
            Operation::Add { package, base_licenses } => {
                st.serialize_field("package", package)?;
                st.serialize_field("base_licenses", base_licenses)?;
            }
            Operation::Modify { package, base_licenses, changes } => {
                st.serialize_field("package", package)?;
                st.serialize_field("base_licenses", base_licenses)?;
                st.serialize_field("changes", &Changes(changes))?;
            }
            _ => {}
        }
        st.end()
    }
}

impl PlannedRow {
    /// No row (line and row 0, rejected): what a driver's slot holds before
    /// a row is checked into it, and once the row is handed over.
    pub(crate) fn none() -> PlannedRow {
        PlannedRow { line: 0, row: 0, email: String::new(), operation: Operation::Rejected }
    }

    /// Appends the row as its JSON object, byte for byte what
    /// `serde_json::to_writer(out, self)` writes, but quicker: every row of
    /// a large file is serialised, and `serde_json` goes through the escape
    /// table byte by byte and through its serializer state for every token.
    /// A string that needs escaping is left to `serde_json`.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        let body = match &self.operation {
            Operation::Add { package, base_licenses } => {
                let base_licenses = BaseLicenceIds::Ids(base_licenses.iter().map(String::as_str));
                Some(Body { package: package.as_deref(), base_licenses, changes: None })
            }
            Operation::Modify { package, base_licenses, changes } => {
                let base_licenses = BaseLicenceIds::Ids(base_licenses.iter().map(String::as_str));
                Some(Body { package: package.as_deref(), base_licenses, changes: Some(changes) })
            }
            _ => None,
        };
        write_json(out, self.line, self.row, self.operation.kind(), &self.email, body);
    }
}

/// What an add or a modify writes after the email.
struct Body<'a, I> {
    package: Option<&'a str>,
    base_licenses: BaseLicenceIds<'a, I>,
    /// A modify's changes.
    changes: Option<&'a [Change]>,
}

/// An operation's base licences.
enum BaseLicenceIds<'a, I> {
    /// The ids, in order.
    Ids(I),
    /// Their JSON array, written already (see [`BaseLicenceLists`]).
    Written(&'a [u8]),
}

/// The JSON array of each set of a profile's base licences, by the set's
/// bits: nearly every row adds or keeps a user with one of a few sets, and
/// writing a set's ids in order, one string at a time, was half the cost of
/// the row's JSON. Made only for a profile of up to
/// [`BaseLicenceLists::MOST`] licences; for more, the ids are written
/// one by one.
#[derive(Clone, Debug, Default)]
pub(crate) struct BaseLicenceLists(Vec<Box<[u8]>>);

impl BaseLicenceLists {
    /// The most licences whose sets are written ahead: 256 short arrays.
    const MOST: usize = 8;

    /// The arrays of `profile`'s sets, empty if it has too many licences.
    pub(crate) fn of(profile: &Profile) -> BaseLicenceLists {
        let licences = profile.base_licences.len();
        if licences > BaseLicenceLists::MOST {
            return BaseLicenceLists::default();
        }
        let list = |bits: u32| {
            let mut set = BaseLicences::EMPTY;
            (0..licences).filter(|i| bits & (1 << i) != 0).for_each(|i| set.insert(i));
            let mut json = Vec::new();
            json_list(&mut json, profile.sorted_base_licence_ids(set));
            json.into_boxed_slice()
        };
        BaseLicenceLists((0..1u32 << licences).map(list).collect())
    }

    /// The array of `set`, if written ahead.
    fn get(&self, set: BaseLicences) -> Option<&[u8]> {
        self.0.get(usize::try_from(set.bits()).ok()?).map(|json| &json[..])
    }
}

/// Appends a row's JSON object, as serde writes a [`PlannedRow`].
fn write_json<'a>(
    out: &mut Vec<u8>,
    line: u64,
    row: u64,
    kind: OpKind,
    email: &str,
    body: Option<Body<'a, impl Iterator<Item = &'a str>>>,
) {
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(b"{\"line\":");
    out.extend_from_slice(digits.format(line).as_bytes());
    out.extend_from_slice(b",\"row\":");
    out.extend_from_slice(digits.format(row).as_bytes());
    out.extend_from_slice(b",\"op\":\"");
    out.extend_from_slice(kind.as_str().as_bytes());
    out.extend_from_slice(b"\",\"email\":");
    json_str(out, email);
    if let Some(Body { package, base_licenses, changes }) = body {
        out.extend_from_slice(b",\"package\":");
        json_opt_str(out, package);
        out.extend_from_slice(b",\"base_licenses\":");
        match base_licenses {
            BaseLicenceIds::Ids(ids) => json_list(out, ids),
            BaseLicenceIds::Written(json) => out.extend_from_slice(json),
        }
        if let Some(changes) = changes {
            out.extend_from_slice(b",\"changes\":{");
            for (i, change) in changes.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_str(out, change.field);
                out.extend_from_slice(b":{\"from\":");
                json_value(out, &change.from);
                out.extend_from_slice(b",\"to\":");
                json_value(out, &change.to);
                out.push(b'}');
            }
            out.push(b'}');
        }
    }
    out.push(b'}');
}

/// Appends a string or `null`.
fn json_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => json_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends an array of strings.
fn json_list<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a str>) {
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_str(out, item);
    }
    out.push(b']');
}

/// Appends a change's value, as its `Serialize` writes it.
fn json_value(out: &mut Vec<u8>, value: &ChangeValue) {
    match value {
        ChangeValue::None => out.extend_from_slice(b"null"),
        ChangeValue::Text(t) => json_str(out, t),
        ChangeValue::List(l) => json_list(out, l.iter().map(String::as_str)),
    }
}

/// Appends `s` as a JSON string: as it is between quotes when nothing in
/// it needs escaping (the common case), else as `serde_json` escapes it.
fn json_str(out: &mut Vec<u8>, s: &str) {
    if crate::org::json::plain_end(s.as_bytes(), 0) == s.len() {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// `changes` as a JSON object keyed by field id.
struct Changes<'a>(&'a [Change]);

impl Serialize for Changes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct FromTo<'a> {
            from: &'a ChangeValue,
            to: &'a ChangeValue,
        }
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for c in self.0 {
            map.serialize_entry(c.field, &FromTo { from: &c.from, to: &c.to })?;
        }
        map.end()
    }
}

/// A row's location after the upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EffectiveLocation<'a> {
    /// No location at all.
    None,
    /// The organisation's default location (`REMOVE`).
    Default,
    /// A named location.
    Named(&'a str),
}

/// The values a row will have after the upload: its cell, else the org's
/// (`REMOVE` clears a number; `REMOVE|<number>` clears it only when it is the
/// user's, and otherwise leaves the user's number in place). The rules that
/// need a value read it here rather than from the cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effective<'a> {
    /// The package (index into the profile).
    pub package: Option<usize>,
    /// The location.
    pub location: EffectiveLocation<'a>,
    /// The phone number.
    pub phone_number: Option<&'a str>,
    /// The extension.
    pub extension: Option<&'a str>,
    /// The Preferred Webex Site.
    pub site: Option<&'a str>,
}

/// The planned operation of one row, with what the rules need to know.
#[derive(Clone, Debug)]
pub struct Intent<'a> {
    /// The operation, before any rejection.
    pub operation: OperationRef<'a>,
    /// The org's user with this key, if any.
    pub existing: Option<&'a OrgUser>,
    /// Values after the upload.
    pub effective: Effective<'a>,
    /// Whether every package cell is FALSE (a delete, or P011).
    pub all_packages_false: bool,
}

/// What planning a row needs besides the row.
#[derive(Clone, Copy, Debug)]
pub struct PlanContext<'a> {
    /// Packages and base licences.
    pub profile: &'a Profile,
    /// The org, if given.
    pub org: Option<&'a OrgState>,
    /// The import mode.
    pub mode: ImportMode,
}

/// The fields of a user that a row's cells set, in export column order.
const USER_FIELDS: [Field; 7] = [
    Field::FirstName,
    Field::LastName,
    Field::DisplayName,
    Field::PhoneNumber,
    Field::Extension,
    Field::Location,
    Field::Site,
];

/// The `changes` key of a package change.
const PACKAGE: &str = "package";
/// The `changes` key of a base-licence change.
const BASE_LICENSES: &str = "base_licenses";

/// Plans one row whose key is `key`.
pub fn plan_row<'a>(row: &Row<'a>, key: &str, cx: &PlanContext<'a>) -> Intent<'a> {
    plan_row_of(row, key, cx, cx.org.and_then(|org| org.user_index(key)), &row.licence_cells())
}

/// [`plan_row`] for a row whose key is that of the org's user `user`
/// (looked up by the caller, who needs it too), and whose licence cells
/// are `licences` (read by the caller, for the rules too).
pub(crate) fn plan_row_of<'a>(
    row: &Row<'a>,
    key: &str,
    cx: &PlanContext<'a>,
    user: Option<usize>,
    licences: &LicenceCells<'a>,
) -> Intent<'a> {
    let existing = cx.org.zip(user).and_then(|(org, i)| org.users.get(i));
    // The package of the one TRUE cell.
    let new_package = licences.first_true.filter(|_| licences.trues == 1).map(|(_, column)| column.package);
    let all_packages_false = licences.all_packages_false;
    let current_package =
        existing.and_then(|u| u.package.as_deref()).and_then(|id| cx.profile.package_index(id));
    let effective = effective(row, existing, new_package.or(current_package));
    let operation = if key.is_empty() || !row.is_well_formed() {
        OperationRef::Rejected
    } else if all_packages_false {
        // Without an org the file alone says "delete": plan it so (and let
        // --max-deletes count it) rather than call it an add.
        match (cx.org, existing) {
            (Some(_), None) => OperationRef::Unchanged,
            _ => OperationRef::Delete,
        }
    } else if let Some(user) = existing {
        modify(row, user, new_package, current_package, licences, cx)
    } else {
        let start = match cx.mode {
            ImportMode::AddServices => cx.profile.all_base_licences(),
            ImportMode::AddRemoveServices => BaseLicences::EMPTY,
        };
        OperationRef::Add {
            package: new_package.and_then(|p| cx.profile.packages.get(p)).map(|p| p.id.as_str()),
            base_licences: licences.base_after(start, cx.mode),
        }
    };
    Intent { operation, existing, effective, all_packages_false }
}

/// Whether a Location cell is the `REMOVE` marker (the default location).
fn is_remove(cell: &str) -> bool {
    crate::text::trim(cell).eq_ignore_ascii_case("remove")
}

/// A current value as the plan compares it: trimmed, empty meaning none.
fn present(value: Option<&str>) -> Option<&str> {
    value.map(crate::text::trim).filter(|v| !v.is_empty())
}

fn effective<'a>(row: &Row<'a>, existing: Option<&'a OrgUser>, package: Option<usize>) -> Effective<'a> {
    let current = |field: Field| present(existing.and_then(|u| u.value(field)));
    let number = |field: Field| {
        let current = current(field);
        match row.number(field) {
            NumberCell::Value(v) => Some(v),
            NumberCell::Remove => None,
            NumberCell::RemoveValue(v) if current == Some(v) => None,
            // Removing a number the user does not have leaves the one it has.
            NumberCell::RemoveValue(_) | NumberCell::Empty => current,
        }
    };
    let location = match row.text(Field::Location) {
        Some(l) if is_remove(l) => EffectiveLocation::Default,
        Some(l) => EffectiveLocation::Named(l),
        None => current(Field::Location).map_or(EffectiveLocation::None, EffectiveLocation::Named),
    };
    Effective {
        package,
        location,
        phone_number: number(Field::PhoneNumber),
        extension: number(Field::Extension),
        site: row.text(Field::Site).or_else(|| current(Field::Site)),
    }
}

/// What the row's cell sets `field` to on a user whose value is `current`:
/// `None` when the cell changes nothing — it is empty, it equals the current
/// value, or it is `REMOVE|<number>` of a number the user does not have.
///
/// Names are compared after trimming and NFC (a stray space is T001's
/// business, not a change), locations and sites also ignoring case, numbers
/// exactly.
fn target(row: &Row<'_>, field: Field, current: Option<&str>) -> Option<ChangeValue> {
    let current = present(current);
    // A name, site or location written as the user has it (most cells of a
    // file made from an export) is equal after cleaning and folding too,
    // without either — unless it is the location marker `REMOVE`.
    let as_is = match field {
        Field::FirstName | Field::LastName | Field::DisplayName | Field::Site => true,
        Field::Location => !current.is_some_and(is_remove),
        _ => false,
    };
    if as_is && current.is_some() && row.text(field) == current {
        return None;
    }
    compared_target(row, field, current)
}

/// [`target`] once the current value (`present`) is not the cell as
/// written.
fn compared_target(row: &Row<'_>, field: Field, current: Option<&str>) -> Option<ChangeValue> {
    // Most cells equal the current value: nothing is copied until one does not.
    let set: Option<Cow<'_, str>> = match field {
        Field::PhoneNumber | Field::Extension => match row.number(field) {
            NumberCell::Empty => return None,
            NumberCell::Value(v) => Some(Cow::Borrowed(v)),
            NumberCell::Remove => None,
            NumberCell::RemoveValue(v) if current == Some(v) => None,
            NumberCell::RemoveValue(_) => return None,
        },
        Field::Location if row.text(field).is_some_and(is_remove) => None,
        _ => Some(clean(row.text(field)?)),
    };
    let same = match (current, set.as_deref()) {
        (None, None) => true,
        (Some(c), Some(s)) => match field {
            Field::Location | Field::Site => eq_folded(c, s),
            Field::PhoneNumber | Field::Extension => c == s,
            _ => eq_clean(c, s),
        },
        _ => false,
    };
    (!same).then(|| set.map_or(ChangeValue::None, |v| ChangeValue::Text(v.into_owned())))
}

fn modify<'a>(
    row: &Row<'_>,
    user: &OrgUser,
    new_package: Option<usize>,
    current_package: Option<usize>,
    licences: &LicenceCells<'_>,
    cx: &PlanContext<'a>,
) -> OperationRef<'a> {
    let mut changes = Vec::new();
    for field in USER_FIELDS {
        let from = present(user.value(field));
        if let Some(to) = target(row, field, from) {
            changes.push(Change { field: field.id(), from: from.into(), to });
        }
    }
    let package = new_package.or(current_package);
    if new_package.is_some() && new_package != current_package {
        let id = |p: Option<usize>| p.and_then(|p| cx.profile.packages.get(p)).map(|p| p.id.as_str());
        // A package id the profile does not know is still shown as it is.
        let from = id(current_package).or(present(user.package.as_deref()));
        changes.push(Change { field: PACKAGE, from: from.into(), to: id(new_package).into() });
    }
    let base_licences = match &user.base_licenses {
        Some(ids) => {
            let mut current = BaseLicences::EMPTY;
            for i in ids.iter().filter_map(|id| cx.profile.base_licence_index(id)) {
                current.insert(i);
            }
            let base = licences.base_after(current, cx.mode);
            if base != current {
                changes.push(Change {
                    field: BASE_LICENSES,
                    from: ChangeValue::List(cx.profile.base_licence_ids(current)),
                    to: ChangeValue::List(cx.profile.base_licence_ids(base)),
                });
            }
            base
        }
        // The org file does not say which base licences the user has: the
        // row's TRUE cells are all that is known, and no change is claimed.
        None => licences.base_after(BaseLicences::EMPTY, cx.mode),
    };
    if changes.is_empty() {
        return OperationRef::Unchanged;
    }
    OperationRef::Modify {
        package: package.and_then(|p| cx.profile.packages.get(p)).map(|p| p.id.as_str()),
        base_licences,
        changes,
    }
}

/// The org as it will be after uploading a checked file: each row's
/// operation applied in input order.
///
/// * `add` creates the user with the row's email (trimmed, NFC), its non-empty
///   names, numbers, location and site, and the operation's `package` and
///   `base_licenses` (an add of an email the org already has replaces that
///   user, as the plan was made without it);
/// * `modify` applies its [`Change`]s (`REMOVE` leaves the field empty: the
///   default location, no number);
/// * `delete` removes the user;
/// * `unchanged` and `rejected` rows change nothing — so a file with a file
///   error (every row rejected) leaves the org as it is.
///
/// The org's name, subscription, domains, locations and sites are kept: an
/// upload does not change them. `profile` must be the one the file was
/// checked with (it tells the file's columns apart). Planning the same file
/// against the result gives only `unchanged` and `rejected` rows.
pub fn apply(org: &OrgState, report: &FileReport, profile: &Profile) -> OrgState {
    let mut next = org.clone();
    let mut users: Vec<Option<OrgUser>> = std::mem::take(&mut next.users).into_iter().map(Some).collect();
    let mut by_key: HashMap<String, usize> = HashMap::with_capacity(users.len());
    for (i, user) in users.iter().enumerate() {
        if let Some(user) = user {
            by_key.entry(email_key(&user.email)).or_insert(i);
        }
    }
    let mut records = report.source().records();
    let header = records.next().map(|h| Header::parse(&h.fields.iter().collect::<Vec<_>>(), h.line, profile));
    if let Some(header) = &header {
        for (planned, record) in report.operations.iter().zip(records) {
            let row = Row { line: record.line, row: planned.row, record: &record, header };
            let slot = by_key.get(&planned.email).and_then(|&i| users.get_mut(i)).and_then(Option::as_mut);
            match (&planned.operation, slot) {
                (Operation::Add { package, base_licenses }, slot) => {
                    let user = added_user(&row, &planned.email, package, base_licenses);
                    match slot {
                        Some(existing) => *existing = user,
                        None => {
                            by_key.insert(planned.email.clone(), users.len());
                            users.push(Some(user));
                        }
                    }
                }
                (Operation::Modify { changes, .. }, Some(user)) => {
                    changes.iter().for_each(|c| apply_change(user, c));
                }
                (Operation::Delete, Some(_)) => {
                    if let Some(i) = by_key.remove(&planned.email) {
                        if let Some(slot) = users.get_mut(i) {
                            *slot = None;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    next.users = users.into_iter().flatten().collect();
    next.indexed()
}

/// The user an `add` row creates.
fn added_user(row: &Row<'_>, key: &str, package: &Option<String>, base_licenses: &[String]) -> OrgUser {
    let email = row.text(Field::Email).map_or_else(|| key.to_owned(), |e| clean(e).into_owned());
    let mut user = OrgUser {
        package: package.as_deref().map(Into::into),
        base_licenses: Some(base_licenses.into()),
        ..OrgUser::new(email)
    };
    for field in USER_FIELDS {
        if let Some(ChangeValue::Text(value)) = target(row, field, None) {
            user.set(field, Some(value));
        }
    }
    user
}

/// Sets the field a change names to the change's `to`.
fn apply_change(user: &mut OrgUser, change: &Change) {
    let text = |v: &ChangeValue| match v {
        ChangeValue::Text(t) => Some(t.clone()),
        ChangeValue::None | ChangeValue::List(_) => None,
    };
    match change.field {
        PACKAGE => user.package = text(&change.to).map(Into::into),
        BASE_LICENSES => {
            user.base_licenses = Some(match &change.to {
                ChangeValue::List(ids) => ids.as_slice().into(),
                other => text(other).into_iter().collect(),
            });
        }
        id => {
            if let Some(field) = Field::ALL.iter().copied().find(|f| f.id() == id) {
                user.set(field, text(&change.to));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn change_value() -> impl Strategy<Value = ChangeValue> {
        let text = "[a-z\"\\\\\u{1}\n é😀]{0,12}";
        prop_oneof![
            Just(ChangeValue::None),
            text.prop_map(ChangeValue::Text),
            proptest::collection::vec(text, 0..3).prop_map(ChangeValue::List),
        ]
    }

    fn operation() -> impl Strategy<Value = Operation> {
        let text = "[a-z\"\\\\\u{1}\n é😀]{0,12}";
        prop_oneof![
            Just(Operation::Delete),
            Just(Operation::Unchanged),
            Just(Operation::Rejected),
            (proptest::option::of(text), proptest::collection::vec(text, 0..4))
                .prop_map(|(package, base_licenses)| Operation::Add { package, base_licenses }),
            (text, text, proptest::collection::vec(change_value(), 0..4)).prop_map(|(from, to, values)| {
                let mut changes = vec![Change {
                    field: "first_name",
                    from: ChangeValue::Text(from.clone()),
                    to: ChangeValue::Text(to.clone()),
                }];
                changes.extend(values.chunks(2).map(|pair| Change {
                    field: "base_licenses",
                    from: pair[0].clone(),
                    to: pair.last().cloned().unwrap_or(ChangeValue::None),
                }));
                Operation::Modify { package: Some(to), base_licenses: vec![from], changes }
            }),
        ]
    }

    proptest! {
        /// The hand-written fast path writes exactly what serde writes.
        #[test]
        fn write_json_is_what_serde_writes(
            line in any::<u64>(),
            row in any::<u64>(),
            email in "[A-Za-z0-9.@\"\\\\\u{0}-\u{1f}\u{7f}é\u{2028}]{0,24}",
            operation in operation(),
        ) {
            let planned = PlannedRow { line, row, email, operation };
            let mut fast = Vec::new();
            planned.write_json(&mut fast);
            prop_assert_eq!(String::from_utf8(fast).unwrap(), serde_json::to_string(&planned).unwrap());
        }

        /// A planned operation, still borrowed, is written as its owned
        /// copy would be serialised.
        #[test]
        fn borrowed_write_json_is_what_serde_writes_of_the_owned(
            line in any::<u64>(),
            email in "[a-z.@\"é]{0,12}",
            kind in 0..5u8,
            package in proptest::option::of("[a-z_\"\\\\\u{1}é]{0,12}"),
            licences in proptest::collection::vec("[a-z\"é]{0,6}", 0..4),
            set in any::<u32>(),
        ) {
            let mut profile = Profile::default();
            let template = profile.base_licences[0].clone();
            profile.base_licences =
                licences.iter().map(|id| crate::profile::BaseLicenceDef { id: id.clone(), ..template.clone() }).collect();
            let mut base_licences = BaseLicences::EMPTY;
            (0..licences.len()).filter(|i| set & (1 << i) != 0).for_each(|i| base_licences.insert(i));
            let package = package.as_deref();
            let change = Change { field: "first_name", from: ChangeValue::None, to: ChangeValue::Text("Ada".into()) };
            let operation = match kind {
                0 => OperationRef::Add { package, base_licences },
                1 => OperationRef::Modify { package, base_licences, changes: vec![change] },
                2 => OperationRef::Delete,
                3 => OperationRef::Unchanged,
                _ => OperationRef::Rejected,
            };
            let (mut fast, mut one_by_one) = (Vec::new(), Vec::new());
            operation.write_json(&mut fast, line, 7, &email, &profile, &BaseLicenceLists::of(&profile));
            operation.write_json(&mut one_by_one, line, 7, &email, &profile, &BaseLicenceLists::default());
            let owned = PlannedRow { line, row: 7, email, operation: operation.to_operation(&profile) };
            prop_assert_eq!(owned.operation.kind(), operation.kind());
            let serde = serde_json::to_string(&owned).unwrap();
            prop_assert_eq!(&String::from_utf8(fast).unwrap(), &serde);
            prop_assert_eq!(String::from_utf8(one_by_one).unwrap(), serde);
        }

        /// The shortcut for a cell written as the user has it finds what
        /// comparing the cleaned (and, for places, folded) values finds.
        #[test]
        fn a_value_written_as_it_is_compares_as_cleaned(
            cell in "[ aAéE\u{301}]{0,3}|(?i:remove)| REMOVE ",
            current in proptest::option::of("[ aAéE\u{301}]{0,3}|(?i:remove)"),
        ) {
            let csv = format!("User ID/Email (Required),First Name,Location,Preferred Webex Site\na@x.example,{cell},{cell},{cell}\n");
            let source = crate::read::Source::decode(csv.into_bytes(), None);
            let mut records = source.records();
            let titles = records.next().unwrap();
            let profile = Profile::default();
            let header = crate::header::Header::parse(&titles.fields.iter().collect::<Vec<_>>(), titles.line, &profile);
            let record = records.next().unwrap();
            let row = Row { line: record.line, row: 1, record: &record, header: &header };
            for field in [Field::FirstName, Field::Location, Field::Site] {
                let current = current.as_deref();
                prop_assert_eq!(target(&row, field, current), compared_target(&row, field, present(current)), "{:?}", field);
            }
        }
    }
}
