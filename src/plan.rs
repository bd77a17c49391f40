//! Stage 4: typed rows → the operation Control Hub will perform.
//!
//! Each data row becomes exactly one [`Operation`] (SPEC §5):
//!
//! * **delete** — the file has package columns and every one is `FALSE` on
//!   the row (a delete of an email the org does not have is `unchanged`,
//!   with P011);
//! * **add** — the email is not in the org;
//! * **modify** — a non-empty cell differs from the org's value; the
//!   [`Change`]s say which, from what, to what;
//! * **unchanged** — nothing differs;
//! * **rejected** — the row has an error (decided after the rules ran).
//!
//! The plan also works out each row's *effective* values — the row's cell,
//! else the org's current value — which the rules read instead of deriving
//! them again ([`Effective`]).

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::header::Field;
use crate::options::ImportMode;
use crate::org::{OrgState, OrgUser};
use crate::profile::{BaseLicences, Profile};
use crate::row::{Flag, NumberCell, Row};
use crate::text::{clean, eq_clean, eq_folded};

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

/// The values a row will have after the upload: its cell, else the org's.
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
    pub operation: Operation,
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

/// Plans one row whose key is `key`.
pub fn plan_row<'a>(row: &Row<'a>, key: &str, cx: &PlanContext<'a>) -> Intent<'a> {
    let existing = cx.org.and_then(|org| org.user_index(key).and_then(|i| org.users.get(i)));
    let mut true_packages = row.packages().filter(|(_, _, f)| *f == Flag::True);
    let new_package = match (true_packages.next(), true_packages.next()) {
        (Some((_, column, _)), None) => Some(column.package),
        _ => None,
    };
    let all_packages_false =
        !row.header.packages.is_empty() && row.packages().all(|(_, _, flag)| flag == Flag::False);
    let current_package =
        existing.and_then(|u| u.package.as_deref()).and_then(|id| cx.profile.package_index(id));
    let effective = effective(row, existing, new_package.or(current_package));
    let operation = if key.is_empty() || !row.is_well_formed() {
        Operation::Rejected
    } else if all_packages_false {
        match (cx.org, existing) {
            (Some(_), None) => Operation::Unchanged,
            _ => Operation::Delete,
        }
    } else if let Some(user) = existing {
        modify(row, user, new_package, current_package, cx)
    } else {
        let mut base = match cx.mode {
            ImportMode::AddServices => cx.profile.all_base_licences(),
            ImportMode::AddRemoveServices => BaseLicences::EMPTY,
        };
        for (_, licence, flag) in row.base_licences() {
            if flag == Flag::True {
                base.insert(licence);
            }
        }
        Operation::Add {
            package: new_package.and_then(|p| cx.profile.packages.get(p)).map(|p| p.id.clone()),
            base_licenses: cx.profile.base_licence_ids(base),
        }
    };
    Intent { operation, existing, effective, all_packages_false }
}

fn effective<'a>(row: &Row<'a>, existing: Option<&'a OrgUser>, package: Option<usize>) -> Effective<'a> {
    let current = |f: fn(&OrgUser) -> &Option<String>| existing.and_then(|u| f(u).as_deref());
    let number = |field: Field, cur: Option<&'a str>| match row.number(field) {
        NumberCell::Value(v) => Some(v),
        NumberCell::Remove | NumberCell::RemoveValue(_) => None,
        NumberCell::Empty => cur,
    };
    let location = match row.text(Field::Location) {
        Some(l) if l.eq_ignore_ascii_case("remove") => EffectiveLocation::Default,
        Some(l) => EffectiveLocation::Named(l),
        None => current(|u| &u.location).map_or(EffectiveLocation::None, EffectiveLocation::Named),
    };
    Effective {
        package,
        location,
        phone_number: number(Field::PhoneNumber, current(|u| &u.phone_number)),
        extension: number(Field::Extension, current(|u| &u.extension)),
        site: row.text(Field::Site).or_else(|| current(|u| &u.site)),
    }
}

fn modify(
    row: &Row<'_>,
    user: &OrgUser,
    new_package: Option<usize>,
    current_package: Option<usize>,
    cx: &PlanContext<'_>,
) -> Operation {
    let mut changes = Vec::new();
    let mut text_change = |field: Field, current: &Option<String>, eq: fn(&str, &str) -> bool| {
        if let Some(cell) = row.text(field) {
            if !current.as_deref().is_some_and(|c| eq(c, cell)) {
                changes.push(Change {
                    field: field.id(),
                    from: current.as_deref().into(),
                    to: ChangeValue::Text(clean(cell).into_owned()),
                });
            }
        }
    };
    text_change(Field::FirstName, &user.first_name, eq_clean);
    text_change(Field::LastName, &user.last_name, eq_clean);
    text_change(Field::DisplayName, &user.display_name, eq_clean);
    for (field, current) in [(Field::PhoneNumber, &user.phone_number), (Field::Extension, &user.extension)] {
        let current = current.as_deref().map(str::trim).filter(|c| !c.is_empty());
        let to = match row.number(field) {
            NumberCell::Empty => continue,
            NumberCell::Value(v) => Some(v),
            NumberCell::Remove => None,
            // Removing a number the user does not have changes nothing.
            NumberCell::RemoveValue(v) if current != Some(v) => continue,
            NumberCell::RemoveValue(_) => None,
        };
        if to != current {
            changes.push(Change { field: field.id(), from: current.into(), to: to.into() });
        }
    }
    if let Some(cell) = row.text(Field::Location) {
        let current = user.location.as_deref();
        if cell.eq_ignore_ascii_case("remove") {
            if current.is_some() {
                changes.push(Change { field: "location", from: current.into(), to: ChangeValue::None });
            }
        } else if !current.is_some_and(|c| eq_folded(c, cell)) {
            changes.push(Change {
                field: "location",
                from: current.into(),
                to: ChangeValue::Text(clean(cell).into_owned()),
            });
        }
    }
    if let Some(cell) = row.text(Field::Site) {
        let current = user.site.as_deref();
        if !current.is_some_and(|c| eq_folded(c, cell)) {
            changes.push(Change {
                field: "site",
                from: current.into(),
                to: ChangeValue::Text(clean(cell).into_owned()),
            });
        }
    }
    let package = new_package.or(current_package);
    if new_package.is_some() && new_package != current_package {
        let id = |p: Option<usize>| p.and_then(|p| cx.profile.packages.get(p)).map(|p| p.id.as_str());
        let from = id(current_package).or(user.package.as_deref());
        changes.push(Change { field: "package", from: from.into(), to: id(new_package).into() });
    }
    let mut current_base = BaseLicences::EMPTY;
    for id in user.base_licenses.iter().flatten() {
        if let Some(i) = cx.profile.base_licence_index(id) {
            current_base.insert(i);
        }
    }
    let mut base = current_base;
    for (_, licence, flag) in row.base_licences() {
        match (flag, cx.mode) {
            (Flag::True, _) => base.insert(licence),
            (Flag::False, ImportMode::AddRemoveServices) => base.remove(licence),
            _ => {}
        }
    }
    let base_licenses = cx.profile.base_licence_ids(base);
    if base != current_base {
        changes.push(Change {
            field: "base_licenses",
            from: ChangeValue::List(cx.profile.base_licence_ids(current_base)),
            to: ChangeValue::List(base_licenses.clone()),
        });
    }
    if changes.is_empty() {
        return Operation::Unchanged;
    }
    Operation::Modify {
        package: package.and_then(|p| cx.profile.packages.get(p)).map(|p| p.id.clone()),
        base_licenses,
        changes,
    }
}
