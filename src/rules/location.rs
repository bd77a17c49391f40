//! Location rules (L001–L002): the `Location` cell.

use super::{Cells, Code, Diagnostic, RowContext};
use crate::header::Field;
use crate::plan::OpKind;
use crate::text::eq_folded;

/// Runs the location rules on one row; returns whether the row's location
/// is one the org has (or cannot be checked), so that the extension
/// uniqueness check (N007) compares only extensions in real locations.
pub(crate) fn check(cx: &RowContext<'_>, cells: &Cells<'_>, out: &mut Vec<Diagnostic>) -> bool {
    let Some(location) = cells.text(Field::Location) else {
        return true;
    };
    let remove = location.eq_ignore_ascii_case("remove");
    if !remove && unknown_location(cx, location, out) {
        // Moving to a location that does not exist is one mistake: L001
        // reports it, and L002 would only echo it.
        return false;
    }
    calling_location_change(cx, location, remove, out);
    true
}

/// Documentation of L001: what it checks, why Control Hub cares, how to fix it.
pub(crate) const L001: &str = r#"## What it checks
A `Location` that is not one of the org's `locations`. Empty cells and
`REMOVE` (move to the default location) are accepted. Needs `--org`;
skipped without it; when the org is given as a user export CSV, the only
known locations are those some user in the export already has.
Error: rejects the row.

## Why Control Hub cares
The Location column takes the name of an existing location (help.webex.com
article afv3q8); the user CSV assigns users to locations, it does not
create them (inferred). A near miss such as `Milano` for `Milano HQ` fails
the row, and for a calling user the number and extension cannot be set up
without a valid location.

## How to fix
Use the location's exact name as shown in Control Hub (Management >
Locations). If the location does not exist yet, create it there first.

## Example
Org: locations Milano HQ and Roma; marco.bianchi@acme.example is not a user
yet.

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    marco.bianchi@acme.example,1002,Milano,TRUE

Use instead:

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    marco.bianchi@acme.example,1002,Milano HQ,TRUE
"#;
/// L001: a Location the org does not have. Returns whether it fired.
fn unknown_location(cx: &RowContext<'_>, location: &str, out: &mut Vec<Diagnostic>) -> bool {
    let Some(org) = cx.org else {
        return false;
    };
    if org.has_location(location) != Some(false) {
        return false;
    }
    let known = org.locations.as_deref().unwrap_or_default();
    // Bounded distance: a hostile 128 KiB cell must not cost a quadratic
    // comparison with every location.
    let wanted = location.to_lowercase();
    let closest = known
        .iter()
        .filter_map(|k| crate::text::levenshtein_within(&k.to_lowercase(), &wanted, 3).map(|d| (d, k)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k);
    let help = match closest {
        Some(k) => format!(
            "did you mean {k:?}? Locations must be created in Control Hub before users are moved there"
        ),
        None => format!("use one of the org's locations: {}", known.join(", ")),
    };
    out.push(
        cx.field_diagnostic(
            Code::L001,
            Field::Location,
            format!("{location:?} is not a location of the org"),
        )
        .help(help),
    );
    true
}

/// Documentation of L002: what it checks, why Control Hub cares, how to fix it.
pub(crate) const L002: &str = r#"## What it checks
The row changes the Location of a user who has a calling package now (Common
Area Calling, Webex Voice, Webex Calling or Webex Suite, per the org file).
An empty cell, or the user's current location, is no change; `REMOVE`
(the default location) is a change. A location the org does not have is
reported as L001 only. Needs `--org`; skipped without it.
Error: rejects the row.

## Why Control Hub cares
The user CSV cannot change the location of a Webex Calling user
(help.webex.com articles ih07j, e2okky): the user's number and extension
belong to the old location's number inventory and dial plan. Such rows
usually come from recording an office move in the CSV.

## How to fix
Leave Location empty or as exported, and move calling users between
locations with Control Hub's calling tools, outside the user CSV.

## Example
Org: marco.bianchi@acme.example is on Webex Calling at Milano HQ; the org
has locations Milano HQ and Roma.

    User ID/Email (Required),Location
    marco.bianchi@acme.example,Roma

Use instead (no location change in this file):

    User ID/Email (Required),Location
    marco.bianchi@acme.example,Milano HQ
"#;
/// L002: a change of Location for a user who has a calling package now.
fn calling_location_change(cx: &RowContext<'_>, location: &str, remove: bool, out: &mut Vec<Diagnostic>) {
    let Some(user) = cx.intent.existing else {
        return;
    };
    if cx.intent.operation.kind() == OpKind::Delete {
        return;
    }
    let has_calling =
        user.package.as_deref().and_then(|id| cx.profile.package_by_id(id)).is_some_and(|p| p.calling);
    if !has_calling {
        return;
    }
    let current = user.location.as_deref();
    let changes = if remove { current.is_some() } else { !current.is_some_and(|c| eq_folded(c, location)) };
    if !changes {
        return;
    }
    let target =
        if remove { format!("{location:?} (the default location)") } else { format!("{location:?}") };
    out.push(
        cx.field_diagnostic(
            Code::L002,
            Field::Location,
            format!(
                "{} has calling in location {:?}; the CSV cannot move a calling user to {target}",
                cx.key,
                current.unwrap_or("(none)"),
            ),
        )
        .help("leave Location as it is (or empty); move calling users between locations in Control Hub's calling settings"),
    );
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, found, lines, ORG};
    use super::*;

    const H: &str = "User ID/Email (Required),Location\n";

    #[test]
    fn l001_suggests_the_closest_location() {
        let report = check(&format!("{H}anna@acme.example,Milano\nbruna@acme.example,Torino\n"), Some(ORG));
        let l001 = found(&report, Code::L001);
        assert!(l001[0].help.starts_with("did you mean \"Milano HQ\"?"), "{}", l001[0].help);
        assert_eq!(l001[1].help, "use one of the org's locations: Milano HQ, Roma");
        assert!(lines(&format!("{H}anna@acme.example,Milano\n"), None, Code::L001).is_empty());
    }

    #[test]
    fn l002_is_only_for_calling_users_and_not_an_echo_of_l001() {
        let csv = format!(
            "{H}marco.bianchi@acme.example,Roma\nmarco.bianchi@acme.example,Napoli\nmarco.bianchi@acme.example, MILANO HQ\nlucia.ferri@acme.example,REMOVE\ngiulia.rossi@acme.example,remove\n"
        );
        assert_eq!(lines(&csv, Some(ORG), Code::L002), [2, 6]);
        assert_eq!(lines(&csv, Some(ORG), Code::L001), [3]);
        // A delete does not move anybody.
        let csv = "User ID/Email (Required),Location,Webex Calling\nmarco.bianchi@acme.example,Roma,FALSE\n";
        assert!(lines(csv, Some(ORG), Code::L002).is_empty());
    }
}
