//! Package rules (P001–P012): the Wholesale package and base-licence cells,
//! what a package requires, and deletes.

use super::{Cells, Code, Diagnostic, RowContext};
use crate::header::{Field, PackageColumn};
use crate::plan::{EffectiveLocation, OpKind};
use crate::profile::PackageDef;
use crate::row::{Flag, LicenceCells, NumberCell};

/// Runs every package rule on one row; `email_ok` says whether the row's
/// email is valid (an invalid one is not also reported as unknown, P011).
pub(crate) fn check(cx: &RowContext<'_>, email_ok: bool, row: &Cells<'_>, out: &mut Vec<Diagnostic>) {
    let cells = &cx.licences;
    let invalid_package_cell = invalid_boolean(cx, cells, out);
    several_packages(cx, cells, out);
    suspended_package(cx, cells, out);
    package_not_subscribed(cx, cells, out);
    if !invalid_package_cell {
        add_without_package(cx, cells, out);
    }
    admin_downgrade(cx, cells, out);
    calling_needs_location(cx, out);
    calling_needs_number(cx, out);
    meetings_needs_site(cx, out);
    unknown_site(cx, row, out);
    if email_ok {
        delete_unknown_user(cx, out);
    }
    delete_admin(cx, out);
}

/// Documentation of P001: what it checks, why Control Hub cares, how to fix it.
pub(crate) const P001: &str = r#"## What it checks
A package or base-licence cell that is not `TRUE`, `FALSE` or empty. Case
and surrounding spaces do not matter (` true ` is accepted), but `T`, `F`,
`yes`, `no`, `1`, `0`, `x` and localised words such as `VERO` or `FALSO`
fire. Error: rejects the row.

## Why Control Hub cares
Control Hub reads licence cells as TRUE (assign), FALSE (remove) or blank (no
change) (help.webex.com article nlkiw8e); the old client failed any other
value with "License fields contain invalid data". That client also took `T`
and `F`; whether today's importer does is not documented, so csvcheck asks
for the full words. A spreadsheet set to Italian or Spanish may write
booleans as `VERO`/`FALSO` or `VERDADERO`/`FALSO`.

## How to fix
Write `TRUE` or `FALSE`, or leave the cell empty for no change.
`csvcheck fix` writes accepted values in capitals (`true` -> `TRUE`);
`csvcheck fix --unsafe-fixes` also turns yes/no into TRUE/FALSE, a guess to
check. Other values need editing by hand.

## Example

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,1001,Milano HQ,yes
    marco.bianchi@acme.example,1002,Roma,VERO

Use instead:

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,1001,Milano HQ,TRUE
    marco.bianchi@acme.example,1002,Roma,TRUE
"#;
/// P001: a package or base-licence cell that is not TRUE, FALSE or empty.
/// Returns whether a *package* cell was invalid (P005 is then not reported).
fn invalid_boolean(cx: &RowContext<'_>, cells: &LicenceCells<'_>, out: &mut Vec<Diagnostic>) -> bool {
    if !cells.invalid_package && !cells.invalid_base {
        return false;
    }
    let mut package_cell = false;
    let packages = cx.row.packages().map(|(i, _, f)| (i, f, true));
    let bases = cx.row.base_licences().map(|(i, _, f)| (i, f, false));
    for (index, flag, is_package) in packages.chain(bases) {
        if flag != Flag::Invalid {
            continue;
        }
        package_cell |= is_package;
        let value = crate::text::trim(cx.row.cell(index).unwrap_or_default());
        let help = match value.to_ascii_lowercase().as_str() {
            "yes" | "y" | "1" | "x" | "t" | "on" | "si" | "sì" | "oui" | "ja" => {
                format!("write TRUE (Control Hub reads only TRUE, FALSE or empty); did you mean TRUE for {value:?}?")
            }
            "no" | "n" | "0" | "f" | "off" => {
                format!("write FALSE (Control Hub reads only TRUE, FALSE or empty); did you mean FALSE for {value:?}?")
            }
            _ => "write TRUE to assign, FALSE to remove, or leave the cell empty for no change".to_owned(),
        };
        out.push(
            cx.cell_diagnostic(Code::P001, index, format!("{value:?} is not TRUE, FALSE or empty"))
                .help(help),
        );
    }
    package_cell
}

/// Documentation of P002: what it checks, why Control Hub cares, how to fix it.
pub(crate) const P002: &str = r#"## What it checks
More than one package cell of the row is `TRUE`. Tiers do not matter: Webex
Suite already includes calling and meetings, but Suite plus Meetings is
still two packages. Base-licence columns are not packages and do not count.
Error: rejects the row.

## Why Control Hub cares
A Wholesale user has one and only one package (help.webex.com article
ny0fr7x), and the subscriber API accepts only one. Control Hub also allows
only one calling licence per user (9dmqgv). A row with two TRUE cells is
usually a package change where the old package was left TRUE.

## How to fix
Keep exactly one package TRUE. To change a user's package, set the new one
TRUE and the old one FALSE or empty.

## Example
Org: giulia.rossi@acme.example is on Webex Calling (Milano HQ, extension
1001, site acme.webex.com); the org offers Webex Calling and Webex Suite.

    User ID/Email (Required),Webex Calling [Wholesale],Webex Suite [Wholesale]
    giulia.rossi@acme.example,TRUE,TRUE

Use instead:

    User ID/Email (Required),Webex Calling [Wholesale],Webex Suite [Wholesale]
    giulia.rossi@acme.example,FALSE,TRUE
"#;
/// P002: more than one package TRUE.
fn several_packages(cx: &RowContext<'_>, cells: &LicenceCells<'_>, out: &mut Vec<Diagnostic>) {
    if cells.trues < 2 {
        return;
    }
    let trues: Vec<usize> =
        cx.row.packages().filter(|(_, _, f)| *f == Flag::True).map(|(i, _, _)| i).collect();
    let [_, second, ..] = trues[..] else {
        return;
    };
    let titles: Vec<&str> = trues.iter().map(|&i| cx.row.header.title(i)).collect();
    out.push(
        cx.cell_diagnostic(
            Code::P002,
            second,
            format!("{} packages are TRUE ({}); a user has exactly one", trues.len(), titles.join(", ")),
        )
        .help("keep TRUE in the one package the user should have and set the others to FALSE or empty"),
    );
}

/// Documentation of P003: what it checks, why Control Hub cares, how to fix it.
pub(crate) const P003: &str = r#"## What it checks
A `TRUE` in a package column whose title ends with `(Suspended)`, such as
`Webex Meetings [Wholesale] (Suspended)`. `FALSE` and empty cells in such a
column are accepted. Error: rejects the row.

## Why Control Hub cares
Control Hub marks the columns of a suspended subscription with
`(Suspended)`, and its help says it will not accept a file with TRUE in
such a column (help.webex.com article nlkiw8e): the whole upload is
refused, not just this row, so one such cell blocks everyone's changes.
Where the suffix sits relative to the brackets is not documented; csvcheck
expects it after them.

## How to fix
Clear the cell, or assign a package from an active subscription's column
instead. If the user needs that package, have the subscription reactivated
first.

## Example
Org: lucia.ferri@acme.example exists on Webex Calling; the Webex Meetings
subscription is suspended.

    User ID/Email (Required),Webex Meetings [Wholesale] (Suspended)
    lucia.ferri@acme.example,TRUE

Use instead (she keeps Webex Calling):

    User ID/Email (Required),Webex Meetings [Wholesale] (Suspended)
    lucia.ferri@acme.example,
"#;
/// P003: TRUE in a `(Suspended)` column.
fn suspended_package(cx: &RowContext<'_>, cells: &LicenceCells<'_>, out: &mut Vec<Diagnostic>) {
    if !cells.suspended_true {
        return;
    }
    for (index, column, flag) in cx.row.packages() {
        if column.suspended && flag == Flag::True {
            out.push(
                cx.cell_diagnostic(
                    Code::P003,
                    index,
                    format!("TRUE in {:?}, a suspended subscription", cx.row.header.title(index)),
                )
                .help(
                    "assign a package of an active subscription instead, or leave the suspended column empty",
                ),
            );
        }
    }
}

/// Documentation of P004: what it checks, why Control Hub cares, how to fix it.
pub(crate) const P004: &str = r#"## What it checks
A `TRUE` for a package that is not among the org's `packages`, the packages
its subscription offers. Needs `--org` with `packages`; skipped otherwise.
Error: rejects the row.

## Why Control Hub cares
A Wholesale customer is provisioned with a set of packages, and its users
can only be given those; Control Hub's export has columns only for the
subscriptions the customer has. A column for another package usually comes
from another customer's file or an old template (inferred: the exact
Control Hub error is not documented).

## How to fix
Choose a package the customer has, or add the package to the customer in
Partner Hub before uploading.

## Example
Org: offers Webex Calling and Webex Meetings; giulia.rossi@acme.example is
on Webex Calling (Milano HQ, extension 1001).

    User ID/Email (Required),Webex Calling [Wholesale],Webex Suite [Wholesale]
    giulia.rossi@acme.example,FALSE,TRUE

Use instead (she stays on Webex Calling):

    User ID/Email (Required),Webex Calling [Wholesale],Webex Suite [Wholesale]
    giulia.rossi@acme.example,TRUE,
"#;
/// P004: TRUE for a package the org's subscription does not offer.
fn package_not_subscribed(cx: &RowContext<'_>, cells: &LicenceCells<'_>, out: &mut Vec<Diagnostic>) {
    let Some(org) = cx.org else {
        return;
    };
    let check = |index: usize, column: &PackageColumn, out: &mut Vec<Diagnostic>| {
        let Some(package) = cx.profile.packages.get(column.package) else {
            return;
        };
        if org.offers_package(&package.id) == Some(false) {
            let offered = org.packages.as_deref().unwrap_or_default().join(", ");
            out.push(
                cx.cell_diagnostic(
                    Code::P004,
                    index,
                    format!(
                        "TRUE in {:?}, but the org's subscription does not offer {} (it offers: {offered})",
                        cx.row.header.title(index),
                        package.title
                    ),
                )
                .help("pick one of the packages the org offers, or have the partner add this package to the subscription"),
            );
        }
    };
    match (cells.trues, cells.first_true) {
        (0, _) => {}
        (1, Some((index, column))) => check(index, column, out),
        _ => {
            for (index, column, flag) in cx.row.packages() {
                if flag == Flag::True {
                    check(index, column, out);
                }
            }
        }
    }
}

/// Documentation of P005: what it checks, why Control Hub cares, how to fix it.
pub(crate) const P005: &str = r#"## What it checks
A row planned as an add (its email is not in the org) with no package cell
`TRUE`. Without `--org` every row is planned as an add, so every row needs a
package. Not reported when the row's package cells already have P001.
Error: rejects the row.

## Why Control Hub cares
Every Wholesale user has exactly one package, which carries their
messaging, meetings and calling entitlements (help.webex.com article
ny0fr7x); a new user without one cannot be provisioned. Often the user is
not really new: the email has a typo, or was edited in an existing row, and
Control Hub does not rename, it creates a separate user (afv3q8).

## How to fix
Set exactly one package TRUE for the new user. If the user should already
exist, correct the email to match Control Hub and check with `--org`.

## Example
Org: locations Milano HQ and Roma; marco.bianchi@acme.example is not a user
yet.

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    marco.bianchi@acme.example,1002,Roma,

Use instead:

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    marco.bianchi@acme.example,1002,Roma,TRUE
"#;
/// P005: a new user with no package TRUE.
fn add_without_package(cx: &RowContext<'_>, cells: &LicenceCells<'_>, out: &mut Vec<Diagnostic>) {
    if cx.intent.operation.kind() != OpKind::Add || cells.trues > 0 {
        return;
    }
    let message = if cx.row.header.packages.is_empty() {
        format!("{} is a new user, but the file has no package column", cx.key)
    } else {
        format!("{} is a new user, but no package is TRUE", cx.key)
    };
    out.push(
        cx.field_diagnostic(Code::P005, Field::Email, message)
            .help("set TRUE in exactly one package column; if the user should exist already, check the email for a typo"),
    );
}

/// Documentation of P006: what it checks, why Control Hub cares, how to fix it.
pub(crate) const P006: &str = r#"## What it checks
A user whose `admin` is `full` in the org file is given a package of a lower
tier than the org's `package`. Tiers, low to high: Common Area Calling,
Webex Voice, Webex Meetings, Webex Calling, Webex Suite. Needs `--org` (the
user's `admin` and the org's `package`); skipped otherwise.
Error: rejects the row.

## Why Control Hub cares
In Wholesale, administrators must hold the package level the organisation
was created with, and downgrading the customer's full administrator is not
supported (help.webex.com article ny0fr7x). A bulk downgrade, such as moving
everyone to Webex Voice, easily catches the admin.

## How to fix
Keep the full admin on the org's package: clear their package cells in this
file. To downgrade that person, first give the full admin role to someone
else in Control Hub.

## Example
Org: package Webex Calling; giulia.rossi@acme.example is a full admin on
Webex Calling.

    User ID/Email (Required),Webex Voice [Wholesale],Webex Calling [Wholesale]
    giulia.rossi@acme.example,TRUE,FALSE

Use instead:

    User ID/Email (Required),Webex Voice [Wholesale],Webex Calling [Wholesale]
    giulia.rossi@acme.example,,
"#;
/// P006: a full admin moved to a package below the org's package tier.
fn admin_downgrade(cx: &RowContext<'_>, cells: &LicenceCells<'_>, out: &mut Vec<Diagnostic>) {
    let (Some(org), Some(user)) = (cx.org, cx.intent.existing) else {
        return;
    };
    if !user.is_full_admin() || cx.intent.operation.kind() == OpKind::Delete {
        return;
    }
    let Some(org_package) = org.package.as_deref().and_then(|id| cx.profile.package_by_id(id)) else {
        return;
    };
    let Some((index, new)) =
        cells.first_true.and_then(|(i, c)| Some((i, cx.profile.packages.get(c.package)?)))
    else {
        return;
    };
    let current = user.package.as_deref();
    if new.tier < org_package.tier && current != Some(new.id.as_str()) {
        out.push(
            cx.cell_diagnostic(
                Code::P006,
                index,
                format!(
                    "TRUE in {:?} moves {}, a full administrator, to {}, below the org's package {}",
                    cx.row.header.title(index),
                    cx.key,
                    new.title,
                    org_package.title
                ),
            )
            .help(format!("keep the administrator on {} or higher", org_package.title)),
        );
    }
}

/// The package the row's user will have, when it includes what `includes`
/// asks for and the row adds or modifies the user: the requirements of
/// P007-P009 apply to what the upload changes, not to users left alone.
fn package_requiring<'a>(
    cx: &'a RowContext<'_>,
    includes: fn(&PackageDef) -> bool,
) -> Option<&'a PackageDef> {
    cx.effective_package().filter(|p| includes(p) && cx.adds_or_modifies())
}

/// Documentation of P007: what it checks, why Control Hub cares, how to fix it.
pub(crate) const P007: &str = r#"## What it checks
A row whose package includes calling (Common Area Calling, Webex Voice,
Webex Calling, Webex Suite) has no effective location: the Location cell is
empty and the org file gives the user no current location, which is always
the case for a new user or without `--org`. Error: rejects the row.

## Why Control Hub cares
Control Hub expects a Location on every Webex Calling user row, together
with the licence and a number or extension (help.webex.com article ih07j);
numbers and extensions belong to a location. One Cisco text says a blank
Location gives the default location, a newer one that onboarding fails
without it; csvcheck takes the stricter reading for calling packages.

## How to fix
Fill Location with the exact name of one of the org's locations, e.g.
`Roma`.

## Example

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    marco.bianchi@acme.example,1002,,TRUE

Use instead:

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    marco.bianchi@acme.example,1002,Roma,TRUE
"#;
/// P007: a calling package without an effective location.
fn calling_needs_location(cx: &RowContext<'_>, out: &mut Vec<Diagnostic>) {
    let Some(package) = package_requiring(cx, |p| p.calling) else {
        return;
    };
    if cx.intent.effective.location != EffectiveLocation::None {
        return;
    }
    out.push(
        cx.field_diagnostic(
            Code::P007,
            Field::Location,
            format!("{} includes calling, but the user has no location", package.title),
        )
        .help("fill in Location with one of the org's locations"),
    );
}

/// Documentation of P008: what it checks, why Control Hub cares, how to fix it.
pub(crate) const P008: &str = r#"## What it checks
A row whose package includes calling (Common Area Calling, Webex Voice,
Webex Calling, Webex Suite) has neither an effective Phone Number nor an
effective Extension: each is the row's cell, else the user's current value
in the org file. `REMOVE` counts as no number. Error: rejects the row.

## Why Control Hub cares
Calling packages need a primary phone number and/or an extension unless the
user is already a Webex Calling user (Wholesale provisioning API). The user
CSV lists the same requirement, and without it "changes made to the other
columns may not be reflected" (help.webex.com article ih07j); Cisco's table
of mandatory fields per package starts with "Extension or phone number"
(nil4lpeb).

## How to fix
Add an extension (`1002`), an E.164 number from the location's inventory
(`+390698765432`), or both.

## Example

    User ID/Email (Required),Extension,Location,Webex Voice [Wholesale]
    marco.bianchi@acme.example,,Roma,TRUE

Use instead:

    User ID/Email (Required),Extension,Location,Webex Voice [Wholesale]
    marco.bianchi@acme.example,1002,Roma,TRUE
"#;
/// P008: a calling package without an effective phone number or extension.
fn calling_needs_number(cx: &RowContext<'_>, out: &mut Vec<Diagnostic>) {
    let Some(package) = package_requiring(cx, |p| p.calling) else {
        return;
    };
    let effective = &cx.intent.effective;
    if effective.phone_number.is_some() || effective.extension.is_some() {
        return;
    }
    let field =
        if cx.row.header.field(Field::PhoneNumber).is_some() { Field::PhoneNumber } else { Field::Extension };
    let removed: Vec<&str> = [Field::PhoneNumber, Field::Extension]
        .into_iter()
        .filter(|&f| matches!(cx.row.number(f), NumberCell::Remove | NumberCell::RemoveValue(_)))
        .filter_map(|f| cx.row.raw(f).map(str::trim))
        .collect();
    let why = if removed.is_empty() {
        String::new()
    } else {
        format!(" after {}", removed.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>().join(" and "))
    };
    out.push(
        cx.field_diagnostic(
            Code::P008,
            field,
            format!(
                "{} includes calling, but the user has neither a phone number nor an extension{why}",
                package.title
            ),
        )
        .help("fill in Phone Number (E.164) or Extension (2-10 digits), or both"),
    );
}

/// Documentation of P009: what it checks, why Control Hub cares, how to fix it.
pub(crate) const P009: &str = r#"## What it checks
A row whose package includes meetings (Webex Meetings, Webex Suite) has no
effective `Preferred Webex Site`: the cell is empty and the org file gives
the user no current site. Warning: rejects nothing.

## Why Control Hub cares
The Wholesale CSV procedure asks for a Preferred Webex Site for packages
that include meetings: leaving it empty raises no error at upload but causes
meeting-site problems later (help.webex.com article nil4lpeb). The upload
succeeds, which is why this is only a warning.

## How to fix
Fill `Preferred Webex Site` with the org's meetings site, e.g.
`acme.webex.com`.

## Example

    User ID/Email (Required),Preferred Webex Site,Webex Meetings [Wholesale]
    lucia.ferri@acme.example,,TRUE

Use instead:

    User ID/Email (Required),Preferred Webex Site,Webex Meetings [Wholesale]
    lucia.ferri@acme.example,acme.webex.com,TRUE
"#;
/// P009: a meetings package without an effective Preferred Webex Site.
fn meetings_needs_site(cx: &RowContext<'_>, out: &mut Vec<Diagnostic>) {
    let Some(package) = package_requiring(cx, |p| p.meetings) else {
        return;
    };
    if cx.intent.effective.site.is_some() {
        return;
    }
    out.push(
        cx.field_diagnostic(
            Code::P009,
            Field::Site,
            format!("{} includes meetings, but the user has no Preferred Webex Site", package.title),
        )
        .help("fill in Preferred Webex Site, e.g. acme.webex.com, so the user's meetings have a home"),
    );
}

/// Documentation of P010: what it checks, why Control Hub cares, how to fix it.
pub(crate) const P010: &str = r#"## What it checks
A `Preferred Webex Site` that is not one of the org's `sites`. Needs
`--org`; skipped without it. When the org is given as a user export CSV,
the only known sites are those some user in the export already has.
Error: rejects the row.

## Why Control Hub cares
The preferred site must be a Webex Meetings site of the customer
organisation; a site of another customer, or a typo such as
`acme.webex.it`, cannot be assigned (inferred: the exact Control Hub error
is not documented).

## How to fix
Use the site's exact host name as shown in Control Hub, e.g.
`acme.webex.com`. If it is a real site that no user has yet, list it under
`sites` in a JSON org file.

## Example
Org: sites acme.webex.com; lucia.ferri@acme.example is on Webex Meetings.

    User ID/Email (Required),Preferred Webex Site
    lucia.ferri@acme.example,acme.webex.it

Use instead:

    User ID/Email (Required),Preferred Webex Site
    lucia.ferri@acme.example,acme.webex.com
"#;
/// P010: a Preferred Webex Site the org does not have.
fn unknown_site(cx: &RowContext<'_>, cells: &Cells<'_>, out: &mut Vec<Diagnostic>) {
    let (Some(org), Some(site)) = (cx.org, cells.text(Field::Site)) else {
        return;
    };
    if org.has_site(site) != Some(false) {
        return;
    }
    let sites = org.sites.as_deref().unwrap_or_default().join(", ");
    out.push(
        cx.field_diagnostic(Code::P010, Field::Site, format!("{site:?} is not a Webex site of the org"))
            .help(format!("use one of the org's sites: {sites}")),
    );
}

/// Documentation of P011: what it checks, why Control Hub cares, how to fix it.
pub(crate) const P011: &str = r#"## What it checks
Every package cell of the row is `FALSE` (a delete), but the org file has no
user with that email; the row is planned `unchanged`. An empty or invalid
email (E001-E003) is reported by those rules only. Needs `--org`; skipped
without it. Warning: rejects nothing.

## Why Control Hub cares
Deleting an unknown user does nothing, which usually means the email is
misspelt or the user was already removed, and the user you meant to delete
is still there and still holds a package. That all-FALSE deletes a user is
csvcheck's reading of the Wholesale "add, modify, or delete users through
CSV" procedure (help.webex.com article nil4lpeb); Cisco's text stating the
rule was not found.

## How to fix
Correct the email to the user's exact address in Control Hub, or drop the
row if the user is already gone.

## Example
Org: marco.bianchi@acme.example exists on Webex Calling.

    User ID/Email (Required),Webex Calling [Wholesale]
    marco.bianci@acme.example,FALSE

Use instead:

    User ID/Email (Required),Webex Calling [Wholesale]
    marco.bianchi@acme.example,FALSE
"#;
/// P011: every package FALSE for an email the org does not have.
fn delete_unknown_user(cx: &RowContext<'_>, out: &mut Vec<Diagnostic>) {
    if cx.org.is_none() || !cx.intent.all_packages_false || cx.intent.existing.is_some() || cx.key.is_empty()
    {
        return;
    }
    out.push(
        cx.field_diagnostic(
            Code::P011,
            Field::Email,
            format!("every package is FALSE, but {} is not a user of the org: nothing to delete", cx.key),
        )
        .help("check the email for a typo; if the user is already gone, delete the row"),
    );
}

/// Documentation of P012: what it checks, why Control Hub cares, how to fix it.
pub(crate) const P012: &str = r#"## What it checks
A row planned as a delete (every package cell `FALSE`) for a user whose
`admin` is `full` in the org file. Needs `--org`; skipped without it.
Warning: rejects nothing.

## Why Control Hub cares
Downgrading the customer's full administrator is not supported in Wholesale
(help.webex.com article ny0fr7x), and deleting them can leave the customer
with nobody able to manage the organisation (inferred). That all-FALSE
deletes a user is itself not confirmed by Cisco's text, so confirm such a
delete before uploading.

## How to fix
If the delete is intended, first give the full administrator role to
another user in Control Hub, then delete. Otherwise empty the package cells
(empty = no change).

## Example
Org: giulia.rossi@acme.example is a full admin on Webex Calling.

    User ID/Email (Required),Webex Calling [Wholesale],Webex Suite [Wholesale]
    giulia.rossi@acme.example,FALSE,FALSE

Use instead (she stays):

    User ID/Email (Required),Webex Calling [Wholesale],Webex Suite [Wholesale]
    giulia.rossi@acme.example,,
"#;
/// P012: a delete of a full administrator.
fn delete_admin(cx: &RowContext<'_>, out: &mut Vec<Diagnostic>) {
    if cx.intent.operation.kind() != OpKind::Delete || !cx.intent.existing.is_some_and(|u| u.is_full_admin())
    {
        return;
    }
    out.push(
        cx.field_diagnostic(Code::P012, Field::Email, format!("this row deletes {}, a full administrator", cx.key))
            .help("make sure another full administrator remains; if the delete is a mistake, set the user's package TRUE"),
    );
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, found, lines, ORG};
    use super::*;

    #[test]
    fn p001_accepts_any_case_and_spaces_and_guesses_yes_and_no() {
        let h = "User ID/Email (Required),Extension,Location,Webex Calling,Basic Calling\n";
        let csv = format!(
            "{h}anna@acme.example,1001,Roma, True ,true\nbruna@acme.example,1002,Roma,yes,0\ncarla@acme.example,1003,Roma,VERO,\n"
        );
        let report = check(&csv, None);
        let p001 = found(&report, Code::P001);
        let at: Vec<_> = p001.iter().map(|d| (d.line, d.column.as_deref())).collect();
        assert_eq!(
            at,
            [
                (Some(3), Some("Webex Calling")),
                (Some(3), Some("Basic Calling")),
                (Some(4), Some("Webex Calling"))
            ]
        );
        assert!(p001[0].help.contains("did you mean TRUE"), "{}", p001[0].help);
        assert!(p001[1].help.contains("did you mean FALSE"), "{}", p001[1].help);
        assert!(!p001[2].help.contains("did you mean"), "{}", p001[2].help);
        // Causes, not echoes: no P005 where the package cell is P001.
        assert!(found(&report, Code::P005).is_empty());
    }

    #[test]
    fn p002_points_at_the_second_true_package_only() {
        let h = "User ID/Email (Required),Webex Meetings,Basic Meetings,Webex Suite,Webex Calling\n";
        let csv = format!("{h}anna@acme.example,TRUE,TRUE,TRUE,\nbruna@acme.example,,TRUE,TRUE,FALSE\n");
        let report = check(&csv, None);
        let p002 = found(&report, Code::P002);
        assert_eq!(p002.len(), 1);
        assert_eq!((p002[0].line, p002[0].column.as_deref()), (Some(2), Some("Webex Suite")));
        assert!(p002[0].message.starts_with("2 packages are TRUE (Webex Meetings, Webex Suite)"));
    }

    #[test]
    fn p004_checks_every_true_package_column_even_suspended_ones() {
        let h = "User ID/Email (Required),Webex Voice [W] (Suspended),Webex Calling [W]\n";
        let csv = format!("{h}giulia.rossi@acme.example,TRUE,\nmarco.bianchi@acme.example,FALSE,TRUE\n");
        assert_eq!(lines(&csv, Some(ORG), Code::P004), [2]);
        assert_eq!(lines(&csv, Some(ORG), Code::P003), [2]);
        assert!(lines(&csv, None, Code::P004).is_empty());
    }

    #[test]
    fn p005_reads_the_plan() {
        let h = "User ID/Email (Required),Extension,Location,Webex Calling\n";
        // An org user, a delete, and an add without a package.
        let csv = format!("{h}giulia.rossi@acme.example,,,\nmarco.bianchi@acme.example,,,FALSE\nanna@acme.example,1005,Roma,\n");
        assert_eq!(lines(&csv, Some(ORG), Code::P005), [4]);
        // Without the org every row is an add (or a delete).
        assert_eq!(lines(&csv, None, Code::P005), [2, 4]);
        let report = check("User ID/Email (Required),First Name\nanna@acme.example,Anna\n", None);
        assert!(found(&report, Code::P005)[0].message.ends_with("the file has no package column"));
    }

    #[test]
    fn p006_only_when_a_full_admin_goes_below_the_org_tier() {
        let h = "User ID/Email (Required),Webex Meetings,Webex Suite,Webex Calling\n";
        let csv = format!(
            "{h}giulia.rossi@acme.example,TRUE,,\nmarco.bianchi@acme.example,TRUE,,\ngiulia.rossi@acme.example,,TRUE,\n"
        );
        assert_eq!(lines(&csv, Some(ORG), Code::P006), [2]);
        // An admin already on the low package is not moved.
        let org = ORG.replace(
            r#""package": "webex_calling",
           "location": "Milano HQ", "phone_number": "+390212345678""#,
            r#""package": "webex_meetings",
           "location": "Milano HQ", "phone_number": "+390212345678""#,
        );
        assert_ne!(org, ORG);
        assert!(lines(&csv, Some(&org), Code::P006).is_empty());
    }

    #[test]
    fn p007_and_p008_use_the_org_values_of_existing_users() {
        let h = "User ID/Email (Required),Phone Number,Extension,Location,Webex Suite\n";
        // Giulia keeps her location and numbers; Lucia (no number) moves up
        // to a calling package; Anna is new and has nothing.
        let csv = format!(
            "{h}giulia.rossi@acme.example,,,,TRUE\nlucia.ferri@acme.example,,,,TRUE\nanna@acme.example,,,,TRUE\n"
        );
        assert_eq!(lines(&csv, Some(ORG), Code::P007), [4]);
        assert_eq!(lines(&csv, Some(ORG), Code::P008), [3, 4]);
        // Unchanged and deleted users are not provisioned, so not checked.
        let csv =
            format!("{h}lucia.ferri@acme.example,,,,\nmarco.bianchi@acme.example,REMOVE,REMOVE,,FALSE\n");
        assert!(lines(&csv, Some(ORG), Code::P008).is_empty());
    }

    #[test]
    fn p009_wants_a_site_for_meetings_packages() {
        let h = "User ID/Email (Required),Preferred Webex Site,Webex Meetings,Webex Calling\n";
        let csv = format!(
            "{h}anna@acme.example,,TRUE,\nlucia.ferri@acme.example,,TRUE,\nbruna@acme.example,,,TRUE\n"
        );
        // Lucia has a site in the org; Bruna's package has no meetings.
        assert_eq!(lines(&csv, Some(ORG), Code::P009), [2]);
    }

    #[test]
    fn p011_and_p012_need_the_org_and_a_valid_email() {
        let h = "User ID/Email (Required),Webex Calling,Webex Meetings\n";
        let csv = format!(
            "{h}nobody@acme.example,FALSE,FALSE\nnobody@,FALSE,FALSE\ngiulia.rossi@acme.example,FALSE,FALSE\nmarco.bianchi@acme.example,FALSE,FALSE\nlucia.ferri@acme.example,FALSE,\n"
        );
        assert_eq!(lines(&csv, Some(ORG), Code::P011), [2]);
        assert_eq!(lines(&csv, Some(ORG), Code::P012), [4]);
        assert!(lines(&csv, None, Code::P011).is_empty());
        assert!(lines(&csv, None, Code::P012).is_empty());
    }
}
