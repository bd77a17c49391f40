//! The current state of the customer organisation (`--org`).
//!
//! Two forms are read: the JSON of SPEC §4, and a Control Hub user export CSV
//! (then only users are known; locations and sites are those the export
//! mentions). An org can also be built in code, so that a service can feed
//! csvcheck from its own data source:
//!
//! ```
//! use csvcheck::{OrgState, OrgUser};
//! let mut org = OrgState::default();
//! org.locations = Some(vec!["Milano HQ".into()]);
//! org.users.push(OrgUser {
//!     package: Some("webex_calling".into()),
//!     phone_number: Some("+390212345678".into()),
//!     ..OrgUser::new("giulia.rossi@acme.example")
//! });
//! let org = org.indexed();
//! assert!(org.user("Giulia.Rossi@ACME.example").is_some());
//! assert_eq!(org.phone_owner("+390212345678"), Some(0));
//! ```
//!
//! [`OrgState::to_export_csv`] writes the export form back out, and
//! [`OrgState::apply`] gives the org as it will be after an upload.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::check::FileReport;
use crate::error::{location_of, Error, Location, Result};
use crate::header::{Field, Header};
use crate::profile::Profile;
use crate::read::Source;
use crate::row::{Flag, Row};
use crate::text::{clean, email_key};

/// The largest org file read: 1 GiB. The org is the administrator's own
/// data and may be large (its JSON takes about 350 bytes a user, so this is
/// some three million users), but it must not be endless.
pub const MAX_ORG_FILE_BYTES: u64 = 1 << 30;

/// One user of the organisation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUser {
    /// The user's email (the key; matched case-insensitively).
    #[serde(deserialize_with = "non_empty")]
    pub email: String,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// User Status (read-only in the CSV).
    #[serde(default)]
    pub status: Option<String>,
    /// The user's package id.
    #[serde(default)]
    pub package: Option<String>,
    /// The user's base licence ids.
    #[serde(default)]
    pub base_licenses: Option<Vec<String>>,
    /// Location name.
    #[serde(default)]
    pub location: Option<String>,
    /// E.164 phone number.
    #[serde(default)]
    pub phone_number: Option<String>,
    /// Extension.
    #[serde(default)]
    pub extension: Option<String>,
    /// Preferred Webex Site.
    #[serde(default)]
    pub site: Option<String>,
    /// Admin role: `full`, another role name, or none.
    #[serde(default)]
    pub admin: Option<String>,
}

/// An email that is not blank: refused while parsing, so that the error
/// carries the line and column of the value.
fn non_empty<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    let email = String::deserialize(d)?;
    if email.trim().is_empty() {
        return Err(serde::de::Error::custom("a user's email is empty"));
    }
    Ok(email)
}

impl OrgUser {
    /// A user with this email and nothing else known.
    pub fn new(email: impl Into<String>) -> OrgUser {
        OrgUser { email: email.into(), ..OrgUser::default() }
    }

    /// Whether the user is a full administrator (P006, P012).
    pub fn is_full_admin(&self) -> bool {
        self.admin.as_deref().is_some_and(|a| a.trim().eq_ignore_ascii_case("full"))
    }

    /// The user's value of a known field, as the org state holds it; `None`
    /// for fields the org state does not keep (caller ID, last access, …).
    ///
    /// ```
    /// use csvcheck::{header::Field, OrgUser};
    /// let user = OrgUser { extension: Some("1001".into()), ..OrgUser::new("a@acme.example") };
    /// assert_eq!(user.value(Field::Extension), Some("1001"));
    /// assert_eq!(user.value(Field::Email), Some("a@acme.example"));
    /// assert_eq!(user.value(Field::CallerIdNumber), None);
    /// ```
    pub fn value(&self, field: Field) -> Option<&str> {
        match field {
            Field::Email => Some(&self.email),
            _ => self.slot(field)?.as_deref(),
        }
    }

    fn slot(&self, field: Field) -> Option<&Option<String>> {
        Some(match field {
            Field::FirstName => &self.first_name,
            Field::LastName => &self.last_name,
            Field::DisplayName => &self.display_name,
            Field::Status => &self.status,
            Field::PhoneNumber => &self.phone_number,
            Field::Extension => &self.extension,
            Field::Location => &self.location,
            Field::Site => &self.site,
            _ => return None,
        })
    }

    /// The optional field the org state keeps for `field`, to set it.
    pub(crate) fn value_mut(&mut self, field: Field) -> Option<&mut Option<String>> {
        Some(match field {
            Field::FirstName => &mut self.first_name,
            Field::LastName => &mut self.last_name,
            Field::DisplayName => &mut self.display_name,
            Field::Status => &mut self.status,
            Field::PhoneNumber => &mut self.phone_number,
            Field::Extension => &mut self.extension,
            Field::Location => &mut self.location,
            Field::Site => &mut self.site,
            _ => return None,
        })
    }
}

/// The known columns of an export, in the order [`OrgState::to_export_csv`]
/// writes them.
const EXPORT_FIELDS: [Field; 9] = [
    Field::Email,
    Field::FirstName,
    Field::LastName,
    Field::DisplayName,
    Field::Status,
    Field::PhoneNumber,
    Field::Extension,
    Field::Location,
    Field::Site,
];

/// The organisation: its subscription, domains, locations, sites and users.
///
/// Fields left `None` are unknown, and the checks that need them are skipped.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct OrgState {
    /// Organisation name.
    #[serde(default)]
    pub name: Option<String>,
    /// The organisation's package level (P006).
    #[serde(default)]
    pub package: Option<String>,
    /// Packages its subscription offers (P004).
    #[serde(default)]
    pub packages: Option<Vec<String>>,
    /// Verified domains (E005).
    #[serde(default)]
    pub domains: Option<Vec<String>>,
    /// Location names (L001).
    #[serde(default)]
    pub locations: Option<Vec<String>>,
    /// Webex Meetings sites (P010).
    #[serde(default)]
    pub sites: Option<Vec<String>>,
    /// Users.
    #[serde(default)]
    pub users: Vec<OrgUser>,
    #[serde(skip)]
    index: Index,
}

#[derive(Clone, Debug, Default)]
struct Index {
    built: bool,
    by_email: HashMap<String, usize>,
    by_phone: HashMap<String, usize>,
    by_extension: HashMap<(String, String), usize>,
    locations: HashSet<String>,
    sites: HashSet<String>,
    domains: HashSet<String>,
}

/// Key of a location name (and of "no location": the default location).
pub(crate) fn location_key(location: Option<&str>) -> String {
    location.map_or_else(String::new, |l| clean(l).to_lowercase())
}

impl OrgState {
    /// Builds the lookup indexes; call after changing fields in code.
    /// (Loading functions return an indexed org.)
    pub fn indexed(mut self) -> OrgState {
        let mut index = Index { built: true, ..Index::default() };
        for (i, user) in self.users.iter().enumerate() {
            index.by_email.entry(email_key(&user.email)).or_insert(i);
            if let Some(phone) = user.phone_number.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                index.by_phone.entry(phone.to_owned()).or_insert(i);
            }
            if let Some(ext) = user.extension.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
                let key = (location_key(user.location.as_deref()), ext.to_owned());
                index.by_extension.entry(key).or_insert(i);
            }
        }
        let lower = |v: &Option<Vec<String>>| -> HashSet<String> {
            v.iter().flatten().map(|s| clean(s).to_lowercase()).collect()
        };
        index.locations = lower(&self.locations);
        index.sites = lower(&self.sites);
        index.domains = lower(&self.domains);
        self.index = index;
        self
    }

    fn ensure_index(&self) -> Option<&Index> {
        self.index.built.then_some(&self.index)
    }

    /// The user with this email (any case, untrimmed).
    pub fn user(&self, email: &str) -> Option<&OrgUser> {
        self.user_index(&email_key(email)).and_then(|i| self.users.get(i))
    }

    /// Index of the user whose key is `key` (already normalised).
    pub fn user_index(&self, key: &str) -> Option<usize> {
        self.ensure_index()?.by_email.get(key).copied()
    }

    /// Index of the user who owns this E.164 number.
    pub fn phone_owner(&self, number: &str) -> Option<usize> {
        self.ensure_index()?.by_phone.get(number.trim()).copied()
    }

    /// Index of the user who has this extension in this location.
    pub fn extension_owner(&self, location: Option<&str>, extension: &str) -> Option<usize> {
        let key = (location_key(location), extension.trim().to_owned());
        self.ensure_index()?.by_extension.get(&key).copied()
    }

    /// Whether the org has this location (`None` when locations are unknown).
    pub fn has_location(&self, name: &str) -> Option<bool> {
        self.locations.as_ref()?;
        Some(self.ensure_index()?.locations.contains(&clean(name).to_lowercase()))
    }

    /// Whether the org has this meetings site (`None` when sites are unknown).
    pub fn has_site(&self, site: &str) -> Option<bool> {
        self.sites.as_ref()?;
        Some(self.ensure_index()?.sites.contains(&clean(site).to_lowercase()))
    }

    /// Whether the domain is one of the org's (`None` when domains are unknown).
    pub fn has_domain(&self, domain: &str) -> Option<bool> {
        self.domains.as_ref()?;
        Some(self.ensure_index()?.domains.contains(&clean(domain).to_lowercase()))
    }

    /// Whether the subscription offers this package (`None` when unknown).
    pub fn offers_package(&self, id: &str) -> Option<bool> {
        Some(self.packages.as_ref()?.iter().any(|p| p.trim().eq_ignore_ascii_case(id)))
    }

    /// The org as it will be after uploading a checked file (see
    /// [`plan::apply`](crate::plan::apply)); `profile` is the one the file
    /// was checked with.
    pub fn apply(&self, report: &FileReport, profile: &Profile) -> OrgState {
        crate::plan::apply(self, report, profile)
    }

    /// Renders the users as a Control Hub user export CSV — what Control
    /// Hub's "Export" gives for this org, and the usual starting point of a
    /// file to upload. [`OrgState::from_export_csv`] reads it back.
    ///
    /// Columns: email, first, last and display name, User Status, Phone
    /// Number, Extension, Location, Preferred Webex Site, then one
    /// `<Title> [Wholesale]` column per package of `profile` and one column per
    /// base licence. A package cell is `TRUE` for the user's package and
    /// `FALSE` for the others; a user whose package is unknown (none, or an id
    /// the profile lacks) gets empty package cells, since all `FALSE` would
    /// delete the user. Base-licence cells are `TRUE`/`FALSE`, or empty when
    /// the org does not say which base licences the user has. Fields are quoted
    /// as RFC 4180 requires; lines end in `\n`.
    ///
    /// ```
    /// use csvcheck::{OrgState, OrgUser, Profile};
    /// let mut org = OrgState::default();
    /// org.users.push(OrgUser {
    ///     display_name: Some("Rossi, Giulia".into()),
    ///     package: Some("webex_meetings".into()),
    ///     ..OrgUser::new("giulia@acme.example")
    /// });
    /// let csv = org.to_export_csv(&Profile::default());
    /// let mut lines = csv.lines();
    /// assert!(lines.next().unwrap().starts_with("User ID/Email (Required),First Name,"));
    /// assert_eq!(
    ///     lines.next(),
    ///     Some(r#"giulia@acme.example,,,"Rossi, Giulia",,,,,,FALSE,FALSE,TRUE,FALSE,FALSE,,,"#)
    /// );
    /// ```
    pub fn to_export_csv(&self, profile: &Profile) -> String {
        let mut out = String::new();
        let mut titles: Vec<String> = EXPORT_FIELDS.iter().map(|f| f.title().to_owned()).collect();
        titles.extend(profile.packages.iter().map(|p| format!("{} [Wholesale]", p.title)));
        titles.extend(profile.base_licences.iter().map(|b| b.title.clone()));
        push_record(&mut out, titles.iter().map(String::as_str));
        let flag = |on: bool| if on { "TRUE" } else { "FALSE" };
        for user in &self.users {
            let package = user.package.as_deref().and_then(|id| profile.package_index(id));
            let cells = EXPORT_FIELDS
                .iter()
                .map(|&f| user.value(f).unwrap_or(""))
                .chain((0..profile.packages.len()).map(|i| package.map_or("", |p| flag(p == i))))
                .chain(profile.base_licences.iter().map(|b| match &user.base_licenses {
                    Some(ids) => flag(ids.iter().any(|id| id.trim().eq_ignore_ascii_case(&b.id))),
                    None => "",
                }));
            push_record(&mut out, cells);
        }
        out
    }

    /// Reads an org file: JSON when it starts with `{`, else an export CSV.
    ///
    /// At most [`MAX_ORG_FILE_BYTES`] are read, so that `--org /dev/zero` is
    /// an error rather than an out-of-memory kill.
    pub fn from_path(path: impl AsRef<Path>, profile: &Profile) -> Result<OrgState> {
        let path = path.as_ref();
        let bytes = crate::limits::Limits::UNLIMITED
            .with_max_file_bytes(MAX_ORG_FILE_BYTES)
            .read_path(path)
            .map_err(|e| match e {
                Error::Limit { path, location, .. } => Error::Limit {
                    path,
                    location,
                    message: format!("more than {} bytes: too large to be an org state", MAX_ORG_FILE_BYTES),
                },
                e => e,
            })?;
        OrgState::from_bytes(&bytes, path, profile)
    }

    /// Parses org bytes; `path` names the file in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path, profile: &Profile) -> Result<OrgState> {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'{') || path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            OrgState::from_json(body, path)
        } else {
            OrgState::from_export_csv(bytes, path, profile)
        }
    }

    /// Parses the JSON form (SPEC §4).
    pub fn from_json(bytes: &[u8], path: &Path) -> Result<OrgState> {
        let org: OrgState = serde_json::from_slice(bytes).map_err(|e| Error::Org {
            path: path.to_owned(),
            location: Location { line: e.line() as u64, column: e.column() as u64 },
            message: e.to_string().split(" at line ").next().unwrap_or_default().to_owned(),
        })?;
        Ok(org.indexed())
    }

    /// Parses a Control Hub user export CSV: one user per row.
    pub fn from_export_csv(bytes: &[u8], path: &Path, profile: &Profile) -> Result<OrgState> {
        let source = Source::decode(bytes.to_vec(), None);
        let org_error =
            |location: Location, message: String| Error::Org { path: path.to_owned(), location, message };
        if let Some(bad) = source.invalid_utf8 {
            return Err(org_error(
                location_of(source.bytes(), bad.byte as usize),
                "the export is not valid UTF-8".into(),
            ));
        }
        let mut records = source.records();
        let header_record = records
            .next()
            .ok_or_else(|| org_error(Location { line: 1, column: 1 }, "the export is empty".into()))?;
        let header =
            Header::parse(&header_record.fields.iter().collect::<Vec<_>>(), header_record.line, profile);
        if header.field(Field::Email).is_none() {
            return Err(org_error(
                Location { line: header.line, column: 1 },
                "the export has no `User ID/Email (Required)` column".into(),
            ));
        }
        let mut org = OrgState::default();
        let (mut locations, mut sites) = (Vec::new(), Vec::new());
        for (i, record) in records.enumerate() {
            let row = Row { line: record.line, row: i as u64 + 1, record: &record, header: &header };
            if !row.is_well_formed() {
                return Err(org_error(
                    Location { line: record.line, column: 1 },
                    format!("{} fields where the header has {}", record.len(), header.len()),
                ));
            }
            let Some(email) = row.text(Field::Email) else {
                let column = header.field(Field::Email).unwrap_or(0) as u64 + 1;
                return Err(org_error(Location { line: record.line, column }, "empty email".into()));
            };
            let text = |f: Field| row.text(f).map(|s| clean(s).into_owned());
            let package = row
                .packages()
                .find(|(_, _, flag)| *flag == Flag::True)
                .and_then(|(_, column, _)| profile.packages.get(column.package))
                .map(|p| p.id.clone());
            let base_licenses = row
                .base_licences()
                .filter(|(_, _, flag)| *flag == Flag::True)
                .filter_map(|(_, b, _)| profile.base_licences.get(b).map(|b| b.id.clone()))
                .collect();
            let location = text(Field::Location);
            if let Some(l) = &location {
                if !locations.iter().any(|k: &String| crate::text::eq_folded(k, l)) {
                    locations.push(l.clone());
                }
            }
            let site = text(Field::Site);
            if let Some(s) = &site {
                if !sites.iter().any(|k: &String| crate::text::eq_folded(k, s)) {
                    sites.push(s.clone());
                }
            }
            org.users.push(OrgUser {
                email: clean(email).into_owned(),
                first_name: text(Field::FirstName),
                last_name: text(Field::LastName),
                display_name: text(Field::DisplayName),
                status: text(Field::Status),
                package,
                base_licenses: Some(base_licenses),
                location,
                phone_number: row.number(Field::PhoneNumber).value().map(str::to_owned),
                extension: row.number(Field::Extension).value().map(str::to_owned),
                site,
                admin: None,
            });
        }
        org.locations = Some(locations);
        org.sites = Some(sites);
        Ok(org.indexed())
    }
}

/// Appends one CSV record, quoting the fields that need it (RFC 4180).
fn push_record<'a>(out: &mut String, fields: impl Iterator<Item = &'a str>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_carry_line_and_column() {
        let err =
            OrgState::from_json(b"{\n  \"users\": [\n    {\"email\": 3}\n  ]\n}", Path::new("org.json"))
                .unwrap_err();
        let loc = err.location().unwrap();
        assert_eq!(loc.line, 3);
        assert!(loc.column > 0);
        assert!(err.to_string().starts_with("org.json:3:"), "{err}");
    }

    #[test]
    fn an_empty_email_is_refused_where_it_is() {
        let err = OrgState::from_json(
            b"{\"users\": [\n {\"email\": \"a@x.example\"},\n {\"email\": \" \"}]}",
            Path::new("o.json"),
        )
        .unwrap_err();
        assert_eq!(err.location().map(|l| l.line), Some(3), "{err}");
        assert!(err.to_string().contains("email is empty"), "{err}");
    }

    #[test]
    fn json_users_are_indexed_by_key_phone_and_extension() {
        let json = br#"{"locations":["Milano HQ"],"users":[
            {"email":"Giulia.Rossi@acme.example","phone_number":"+390212345678","extension":"1001","location":"Milano HQ"}]}"#;
        let org = OrgState::from_json(json, Path::new("o.json")).unwrap();
        assert_eq!(org.user_index("giulia.rossi@acme.example"), Some(0));
        assert_eq!(org.phone_owner("+390212345678"), Some(0));
        assert_eq!(org.extension_owner(Some("milano hq"), "1001"), Some(0));
        assert_eq!(org.extension_owner(Some("Roma"), "1001"), None);
        assert_eq!(
            org.has_location("MILANO  HQ".split_whitespace().collect::<Vec<_>>().join(" ").as_str()),
            Some(true)
        );
        assert_eq!(org.has_site("x"), None);
    }

    #[test]
    fn export_csv_gives_users_locations_and_sites() {
        let csv = "User ID/Email (Required),First Name,Location,Preferred Webex Site,Webex Calling [W],Webex Meetings [W],Basic Calling\n\
                   a@acme.example,Anna,Roma,acme.webex.com,TRUE,FALSE,TRUE\n\
                   b@acme.example,Bruno,roma,,FALSE,TRUE,\n";
        let org = OrgState::from_export_csv(csv.as_bytes(), Path::new("e.csv"), &Profile::default()).unwrap();
        assert_eq!(org.users.len(), 2);
        assert_eq!(org.users[0].package.as_deref(), Some("webex_calling"));
        assert_eq!(org.users[0].base_licenses.as_deref(), Some(&["calling".to_owned()][..]));
        assert_eq!(org.users[1].package.as_deref(), Some("webex_meetings"));
        assert_eq!(org.locations.as_deref(), Some(&["Roma".to_owned()][..]));
        assert_eq!(org.sites.as_deref(), Some(&["acme.webex.com".to_owned()][..]));
    }

    #[test]
    fn export_csv_errors_name_the_line() {
        let csv = "User ID/Email (Required),First Name\na@x.example,A\n,B\n";
        let err =
            OrgState::from_export_csv(csv.as_bytes(), Path::new("e.csv"), &Profile::default()).unwrap_err();
        assert_eq!(err.location().map(|l| l.line), Some(3));
        let err = OrgState::from_export_csv(b"First Name\nA\n", Path::new("e.csv"), &Profile::default())
            .unwrap_err();
        assert!(err.to_string().contains("User ID/Email"), "{err}");
    }
}
