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

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::OnceLock;

use hashbrown::hash_table::{Entry, HashTable};
use serde::{Deserialize, Serialize};

use crate::check::FileReport;
use crate::error::{location_of, Error, Location, Result};
use crate::header::{Field, Header};
use crate::profile::Profile;
use crate::read::{Record, RecordReader, Source};
use crate::row::{Flag, Row};

mod index;
pub(crate) mod json;
mod share;

pub use share::Shared;

use index::*;
use json::*;
use share::*;

/// The largest org file read: 1 GiB. The org is the administrator's own
/// data and may be large (its JSON takes about 350 bytes a user, so this is
/// some three million users), but it must not be endless.
pub const MAX_ORG_FILE_BYTES: u64 = 1 << 30;

/// One user of the organisation.
///
/// The fields whose values repeat from user to user — status, package,
/// base licences, location, site, admin role — are [`Shared`]: the org
/// readers give users with equal values one allocation to share (an org of
/// 100,000 users has a handful of locations, and most users the same three
/// base licences). `.as_deref()` reads any field as an `Option<&str>` (or
/// `Option<&[String]>`); `.into()` makes one from a `&str` or a `String`
/// (or a `Vec<String>`).
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
    pub status: Option<Shared<String>>,
    /// The user's package id.
    #[serde(default)]
    pub package: Option<Shared<String>>,
    /// The user's base licence ids.
    #[serde(default)]
    pub base_licenses: Option<Shared<Vec<String>>>,
    /// Location name.
    #[serde(default)]
    pub location: Option<Shared<String>>,
    /// E.164 phone number.
    #[serde(default)]
    pub phone_number: Option<String>,
    /// Extension.
    #[serde(default)]
    pub extension: Option<String>,
    /// Preferred Webex Site.
    #[serde(default)]
    pub site: Option<Shared<String>>,
    /// Admin role: `full`, another role name, or none.
    #[serde(default)]
    pub admin: Option<Shared<String>>,
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
        self.admin.as_deref().is_some_and(|a| crate::text::trim(a).eq_ignore_ascii_case("full"))
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
            Field::FirstName => self.first_name.as_deref(),
            Field::LastName => self.last_name.as_deref(),
            Field::DisplayName => self.display_name.as_deref(),
            Field::Status => self.status.as_deref(),
            Field::PhoneNumber => self.phone_number.as_deref(),
            Field::Extension => self.extension.as_deref(),
            Field::Location => self.location.as_deref(),
            Field::Site => self.site.as_deref(),
            _ => None,
        }
    }

    /// Sets the user's value of a known field the org state keeps, other
    /// than the email; `false` (and nothing set) for the others.
    pub(crate) fn set(&mut self, field: Field, value: Option<String>) -> bool {
        let shared = |value: Option<String>| value.map(Shared::from);
        match field {
            Field::FirstName => self.first_name = value,
            Field::LastName => self.last_name = value,
            Field::DisplayName => self.display_name = value,
            Field::Status => self.status = shared(value),
            Field::PhoneNumber => self.phone_number = value,
            Field::Extension => self.extension = value,
            Field::Location => self.location = shared(value),
            Field::Site => self.site = shared(value),
            _ => return false,
        }
        true
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
    // First, so that it is dropped first: its few large blocks go back to
    // the allocator before the many small strings of the users, which then
    // need not be sorted through when they do.
    //
    // Built when the org is first looked up (or handed to a checker): a
    // loaded org is indexed once, and never checked against what it was
    // loaded from.
    #[serde(skip)]
    index: OnceLock<Index>,
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
}

impl OrgState {
    /// Builds the lookup indexes now. An org indexes itself when it is
    /// first looked up; call this after changing fields in code once it
    /// has been (a checker does: it indexes a changed org again).
    pub fn indexed(mut self) -> OrgState {
        self.index = OnceLock::from(Index::build(&self));
        self
    }

    /// The org indexed: as it is when its index was built from what it
    /// holds now, else indexed (again) — an org just loaded, built in code,
    /// or changed since it was indexed.
    pub(crate) fn into_indexed(self) -> OrgState {
        match self.index.get() {
            Some(index) if index.matches(&self) => self,
            _ => self.indexed(),
        }
    }

    fn ensure_index(&self) -> &Index {
        self.index.get_or_init(|| Index::build(self))
    }

    /// The user with this email (any case, untrimmed).
    pub fn user(&self, email: &str) -> Option<&OrgUser> {
        let mut key = KeyBuf::new();
        fold_into(email, &mut key);
        self.ensure_index().by_email(self, key.as_bytes()).and_then(|i| self.users.get(i))
    }

    /// Index of the user whose key is `key` (already normalised).
    pub fn user_index(&self, key: &str) -> Option<usize> {
        self.ensure_index().by_email(self, key.as_bytes())
    }

    /// Asks the processor to fetch the text of user `i`'s own fields: the
    /// plan of a row of theirs compares them next. Each is a heap block of
    /// its own, which no cache holds in a large org; fetched together, their
    /// misses overlap, where the plan would meet them one after another, a
    /// field at a time (at a million rows, 2% less CPU time in a plain
    /// release build, 5% in the profile-guided one).
    pub(crate) fn touch_user(&self, i: usize) {
        if let Some(u) = self.users.get(i) {
            let fields = [&u.first_name, &u.last_name, &u.display_name, &u.phone_number, &u.extension];
            fields.into_iter().flatten().for_each(|text| crate::prefetch::line(text.as_ptr()));
        }
    }

    /// Index of the user who owns this E.164 number.
    pub fn phone_owner(&self, number: &str) -> Option<usize> {
        self.ensure_index().by_phone(self, trim(number).as_bytes())
    }

    /// Index of the user who has this extension in this location.
    pub fn extension_owner(&self, location: Option<&str>, extension: &str) -> Option<usize> {
        self.ensure_index().by_extension(self, location.unwrap_or(""), trim(extension).as_bytes())
    }

    /// Whether the org has this location (`None` when locations are unknown).
    pub fn has_location(&self, name: &str) -> Option<bool> {
        self.has(Names::Locations, self.locations.as_deref()?, name)
    }

    /// Whether the org has this meetings site (`None` when sites are unknown).
    pub fn has_site(&self, site: &str) -> Option<bool> {
        self.has(Names::Sites, self.sites.as_deref()?, site)
    }

    /// Whether the domain is one of the org's (`None` when domains are unknown).
    pub fn has_domain(&self, domain: &str) -> Option<bool> {
        self.has(Names::Domains, self.domains.as_deref()?, domain)
    }

    fn has(&self, names: Names, list: &[String], name: &str) -> Option<bool> {
        Some(self.ensure_index().has(names, list, name))
    }

    /// Whether the subscription offers this package (`None` when unknown).
    pub fn offers_package(&self, id: &str) -> Option<bool> {
        let packages = self.packages.as_deref()?;
        // An org writes its package ids as the profile does: equal text
        // answers first (equal ids compare equal once trimmed, when the id
        // has no spaces at its ends to trim).
        if trim(id).len() == id.len() && packages.iter().any(|p| p == id) {
            return Some(true);
        }
        Some(packages.iter().any(|p| trim(p).eq_ignore_ascii_case(id)))
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
    ///
    /// A JSON file is read twice and never held whole: once to count its
    /// users (so that their list is allocated once, at its size), then a
    /// block at a time into the org — a large one in parts, on the threads
    /// of the rayon pool. An org takes about one and a half times its JSON
    /// in memory, so holding the file too would make the peak some two
    /// thirds higher. (A pipe cannot be read twice: it is read whole, once.
    /// An export is read whole.)
    pub fn from_path(path: impl AsRef<Path>, profile: &Profile) -> Result<OrgState> {
        OrgState::read_path(path.as_ref(), profile, PART_BYTES)
    }

    /// [`OrgState::from_path`], a JSON file read in parts of some
    /// `part_bytes` bytes (see [`targets`]).
    ///
    /// The first pass over the file also finds where the parts start, and
    /// how many `{` each holds; the parts are then read in parallel (see
    /// [`read_parallel`]). When a part does not start where a user does,
    /// the file is read again in one piece.
    fn read_path(path: &Path, profile: &Profile, part_bytes: usize) -> Result<OrgState> {
        let limits = crate::limits::Limits::UNLIMITED.with_max_file_bytes(MAX_ORG_FILE_BYTES);
        let file = limits.open_path(path).map_err(too_large)?;
        let size = match file.metadata() {
            Ok(m) if m.is_file() => usize::try_from(m.len()).unwrap_or(usize::MAX),
            _ => {
                let bytes = limits.read(path, file).map_err(too_large)?;
                return OrgState::parse(Cow::Owned(bytes), path, profile);
            }
        };
        let read_error = |e| too_large(crate::limits::Limits::read_error(path, e));
        let bounded = || crate::limits::Bounded::new(&file, MAX_ORG_FILE_BYTES);
        let rewind = || (&file).seek(SeekFrom::Start(0)).map_err(read_error);
        let targets = targets(size, part_bytes);
        let parallel = match targets.is_empty() {
            true => None,
            false => probe_file_in_parts(&file, path, targets.clone()).map_err(read_error)?,
        };
        let probe = match parallel {
            Some(probe) => probe,
            None => Probe::of(bounded(), path, BLOCK, targets).map_err(read_error)?,
        };
        if let Some(parts) = &probe.parts {
            let parallel = match parts.starts.is_empty() {
                true => Parallel::Missed,
                false => read_file_in_parts(&file, parts, probe.len).map_err(read_error)?,
            };
            match parallel {
                Parallel::Read(org) => return Ok(*org),
                // Read serially, it would be odd too.
                Parallel::Odd => {}
                Parallel::Missed => {
                    rewind()?;
                    let users = users_hint(parts.braces(), probe.len);
                    if let Some(org) = Json::read_from(bounded(), users, BLOCK).map_err(read_error)? {
                        return Ok(org);
                    }
                }
            }
        }
        // An export, or JSON the quick reader leaves to serde: read whole,
        // into a buffer of the file's size.
        rewind()?;
        let mut bytes = Vec::new();
        // When memory cannot hold it, reading grows the buffer as it can.
        let _ = bytes.try_reserve_exact(probe.len.saturating_add(1));
        bounded().read_to_end(&mut bytes).map_err(read_error)?;
        drop(file);
        match probe.parts {
            Some(_) => OrgState::serde_json(strip_bom(&bytes), path),
            None => OrgState::parse(Cow::Owned(bytes), path, profile),
        }
    }

    /// Parses org bytes; `path` names the file in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path, profile: &Profile) -> Result<OrgState> {
        OrgState::parse(Cow::Borrowed(bytes), path, profile)
    }

    /// [`OrgState::from_bytes`], without copying bytes it owns already (the
    /// export is decoded in place).
    fn parse(bytes: Cow<'_, [u8]>, path: &Path, profile: &Profile) -> Result<OrgState> {
        let body = strip_bom(&bytes);
        if is_json(body, path) {
            OrgState::from_json(body, path)
        } else {
            OrgState::read_export(Source::decode(bytes.into_owned(), None), path, profile)
        }
    }

    /// Parses the JSON form (SPEC §4).
    pub fn from_json(bytes: &[u8], path: &Path) -> Result<OrgState> {
        match OrgState::read_json(bytes, targets(bytes.len(), PART_BYTES)) {
            Some(org) => Ok(org),
            None => OrgState::serde_json(bytes, path),
        }
    }

    /// The JSON form as the quick reader reads it (`None`: serde must), in
    /// parts when there are `targets` (see [`read_parallel`]).
    fn read_json(bytes: &[u8], targets: Vec<usize>) -> Option<OrgState> {
        // The reader of a part skips a byte order mark: this one must not.
        if targets.is_empty() || bytes.starts_with(b"\xEF\xBB\xBF") {
            return Json::read(bytes);
        }
        let mut parts = Parts::new(targets);
        parts.scan(bytes, 0);
        match read_parallel(bytes, &parts, bytes.len(), PART_BLOCK, u64::MAX) {
            Ok(Parallel::Read(org)) => Some(*org),
            Ok(Parallel::Odd) => None,
            // Reading memory does not fail.
            Ok(Parallel::Missed) | Err(_) => Json::read(bytes),
        }
    }

    /// The JSON form as serde reads it, and its errors with line and column.
    fn serde_json(bytes: &[u8], path: &Path) -> Result<OrgState> {
        let mut org: OrgState = serde_json::from_slice(bytes).map_err(|e| Error::Org {
            path: path.to_owned(),
            location: Location { line: e.line() as u64, column: e.column() as u64 },
            message: e.to_string().split(" at line ").next().unwrap_or_default().to_owned(),
        })?;
        fit(&mut org.users);
        Ok(org)
    }

    /// Parses a Control Hub user export CSV: one user per row.
    pub fn from_export_csv(bytes: &[u8], path: &Path, profile: &Profile) -> Result<OrgState> {
        OrgState::read_export(Source::decode(bytes.to_vec(), None), path, profile)
    }

    fn read_export(source: Source, path: &Path, profile: &Profile) -> Result<OrgState> {
        OrgState::read_export_in(source, path, profile, |rows| targets(rows, PART_BYTES))
    }

    /// [`OrgState::read_export`], its rows read in parts that start after
    /// the `targets` of their length in bytes (see [`targets`]).
    fn read_export_in(
        source: Source,
        path: &Path,
        profile: &Profile,
        targets: impl FnOnce(usize) -> Vec<usize>,
    ) -> Result<OrgState> {
        if let Some(bad) = source.invalid_utf8 {
            return Err(org_error(
                path,
                location_of(source.bytes(), bad.byte as usize),
                "the export is not valid UTF-8".into(),
            ));
        }
        let mut reader = source.record_reader();
        // One record, read into again and again: reading allocates nothing.
        let mut record = Record::default();
        if !next(&mut reader, &mut record) {
            return Err(org_error(path, Location { line: 1, column: 1 }, "the export is empty".into()));
        }
        let header = Header::parse(&record.fields.iter().collect::<Vec<_>>(), record.line, profile);
        let Some(email_column) = header.field(Field::Email) else {
            return Err(org_error(
                path,
                Location { line: header.line, column: 1 },
                "the export has no `User ID/Email (Required)` column".into(),
            ));
        };
        let rows = ExportRows::new(&header, profile, path, email_column);
        let text = source.bytes();
        let after_header = record.span.end;
        let targets = targets(text.len().saturating_sub(after_header));
        if !targets.is_empty() {
            let starts = targets.iter().filter_map(|&t| line_after(text, after_header + t));
            if let Some(org) = read_export_in_parts(&source, rows.clone(), starts.collect()) {
                return Ok(org);
            }
            // A part started inside a quoted cell, or a row is wrong (and
            // its error names its line): read in one piece.
            return OrgState::read_export_whole(&source, rows);
        }
        OrgState::read_export_rows(&source, reader, rows)
    }

    /// [`OrgState::read_export`] in one piece, from the header on.
    fn read_export_whole(source: &Source, rows: ExportRows<'_>) -> Result<OrgState> {
        let mut reader = source.record_reader();
        next(&mut reader, &mut Record::default());
        OrgState::read_export_rows(source, reader, rows)
    }

    /// The rows of `reader`, after the header.
    fn read_export_rows(
        source: &Source,
        mut reader: RecordReader<'_>,
        mut rows: ExportRows<'_>,
    ) -> Result<OrgState> {
        // Room for a user per line, made once: a user is 192 bytes, and a
        // list that doubles holds the old and the new for a while. (Lines
        // end in `\n`, `\r\n` or `\r`; a quoted cell may hold a line break,
        // and then the room is more than the users need.)
        let mut users = Grown::new(lines(source.bytes()));
        rows.read(&mut reader, source.bytes(), 0, None, &mut users)?;
        Ok(OrgState {
            users: users.into_list(),
            locations: Some(rows.locations),
            sites: Some(rows.sites),
            ..OrgState::default()
        })
    }
}

/// An error of the org file at `path`.
fn org_error(path: &Path, location: Location, message: String) -> Error {
    Error::Org { path: path.to_owned(), location, message }
}

/// The next record of an export in memory (reading memory cannot fail).
fn next(reader: &mut RecordReader<'_>, record: &mut Record) -> bool {
    reader.read_record(record).unwrap_or(false)
}

/// How many lines `text` holds, each ended by a `\n`, a `\r\n` or a `\r`
/// (if they are not mixed).
fn lines(text: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', text).count().max(memchr::memchr_iter(b'\r', text).count())
}

/// Where the first line that starts after `at` starts (after a `\n`).
fn line_after(text: &[u8], at: usize) -> Option<usize> {
    memchr::memchr(b'\n', text.get(at..)?).map(|i| at + i + 1)
}

/// The rows of an export made users, and the locations and sites they
/// mention (each once, as the index tells names apart, in order).
#[derive(Clone)]
struct ExportRows<'a> {
    header: &'a Header,
    profile: &'a Profile,
    path: &'a Path,
    email_column: usize,
    locations: Vec<String>,
    sites: Vec<String>,
    distinct_locations: Distinct,
    distinct_sites: Distinct,
    hasher: Hasher,
    /// The values of the users read, to share (see [`Kept`]).
    shared: Kept,
    /// The key of a user's base licences (see [`Recent`]), read into again
    /// and again.
    licences: Vec<u8>,
}

/// How [`ExportRows::read`] ended.
#[derive(Debug, PartialEq, Eq)]
enum RowsEnd {
    /// At the end of the text, or at a row that starts where the part is
    /// to stop.
    Stop,
    /// A row runs over the place the part was to stop at: the part did not
    /// start where a row does.
    Missed,
}

impl<'a> ExportRows<'a> {
    fn new(header: &'a Header, profile: &'a Profile, path: &'a Path, email_column: usize) -> ExportRows<'a> {
        ExportRows {
            header,
            profile,
            path,
            email_column,
            locations: Vec::new(),
            sites: Vec::new(),
            distinct_locations: Distinct::default(),
            distinct_sites: Distinct::default(),
            hasher: Hasher::default(),
            shared: Kept::default(),
            licences: Vec::new(),
        }
    }

    /// Reads the rows of `reader` (whose text starts at byte `base` of the
    /// export, `text`) into `put`, until the end or a row that starts at
    /// `stop` or later. The rows of a part are counted from 1 (an error
    /// names its line in the part: the export is then read again in one
    /// piece).
    fn read(
        &mut self,
        reader: &mut RecordReader<'_>,
        text: &[u8],
        base: usize,
        stop: Option<usize>,
        users: &mut impl Users,
    ) -> Result<RowsEnd> {
        let mut record = Record::default();
        let (mut i, mut rows_end) = (0, base);
        while next(reader, &mut record) {
            let (start, end) = (base + record.span.start, base + record.span.end);
            match stop {
                Some(stop) if start >= stop => break,
                Some(stop) if end > stop => return Ok(RowsEnd::Missed),
                _ => {}
            }
            rows_end = end;
            i += 1;
            if let Some(user) = users.push() {
                self.user(&record, i, user)?;
            }
        }
        // Blank lines between the last row and `stop` are skipped unseen:
        // one with a quote may hold a line break, and run over `stop`.
        match stop {
            Some(stop) if memchr::memchr(b'"', text.get(rows_end..stop).unwrap_or_default()).is_some() => {
                Ok(RowsEnd::Missed)
            }
            _ => Ok(RowsEnd::Stop),
        }
    }

    /// The user of the `i`th row, `record`, read into `user` (empty).
    fn user(&mut self, record: &Record, i: u64, user: &mut OrgUser) -> Result<()> {
        let header = self.header;
        let row = Row { line: record.line, row: i, record, header };
        if !row.is_well_formed() {
            return Err(org_error(
                self.path,
                Location { line: record.line, column: 1 },
                format!("{} fields where the header has {}", record.len(), header.len()),
            ));
        }
        // `Row::text`, then `clean`: trimmed once, the usual way.
        let cell = |f: Field| row.raw(f).map(trim).filter(|s| !s.is_empty());
        let Some(email) = cell(Field::Email) else {
            let column = self.email_column as u64 + 1;
            return Err(org_error(self.path, Location { line: record.line, column }, "empty email".into()));
        };
        let text = |f: Field| cell(f).map(|s| crate::text::nfc(s).into_owned());
        // Shared with the users before (see [`Recent`]): read from a cell
        // only when new; and whether it was.
        let shared = &mut self.shared;
        let mut share = |f: Field, repeated: Repeated| {
            let cell = cell(f)?;
            let mut new = false;
            let value = shared.texts(repeated).share(cell.as_bytes(), || {
                new = true;
                Shared::from(crate::text::nfc(cell).into_owned())
            });
            Some((value, new))
        };
        let status = share(Field::Status, Repeated::Status).map(|(status, _)| status);
        let (location, new_location) = share(Field::Location, Repeated::Location).unzip();
        let (site, new_site) = share(Field::Site, Repeated::Site).unzip();
        let profile = self.profile;
        let package = row
            .packages()
            .find(|(_, _, flag)| *flag == Flag::True)
            .and_then(|(_, column, _)| profile.packages.get(column.package))
            .map(|p| shared.texts(Repeated::Package).share(p.id.as_bytes(), || p.id.as_str().into()));
        // Keyed by the places of the licences in the profile.
        let key = &mut self.licences;
        key.clear();
        for (_, b, flag) in row.base_licences() {
            if flag == Flag::True && b < profile.base_licences.len() {
                key.extend_from_slice(&(b as u64).to_le_bytes());
            }
        }
        let base_licenses = shared.lists.share(key, || {
            let ids = key.chunks_exact(8).filter_map(|b| <[u8; 8]>::try_from(b).ok());
            ids.filter_map(|b| profile.base_licences.get(u64::from_le_bytes(b) as usize))
                .map(|b| b.id.clone())
                .collect::<Vec<_>>()
                .into()
        });
        // A name found kept was made for a user before, and listed then.
        if let (Some(l), Some(true)) = (&location, new_location) {
            if self.distinct_locations.is_new(l, &self.hasher) {
                self.locations.push(l.to_string());
            }
        }
        if let (Some(s), Some(true)) = (&site, new_site) {
            if self.distinct_sites.is_new(s, &self.hasher) {
                self.sites.push(s.to_string());
            }
        }
        // Field by field: a user is 192 bytes to move.
        user.email = crate::text::nfc(email).into_owned();
        user.first_name = text(Field::FirstName);
        user.last_name = text(Field::LastName);
        user.display_name = text(Field::DisplayName);
        user.status = status;
        user.package = package;
        user.base_licenses = Some(base_licenses);
        user.location = location;
        user.phone_number = row.number(Field::PhoneNumber).value().map(str::to_owned);
        user.extension = row.number(Field::Extension).value().map(str::to_owned);
        user.site = site;
        Ok(())
    }

    /// The names of `parts` (rows read in order) as one reader of all the
    /// rows would have listed them: each the first time it comes.
    fn merge(parts: Vec<ExportRows<'a>>) -> (Vec<String>, Vec<String>) {
        let hasher = Hasher::default();
        let (mut locations, mut sites) = (Vec::new(), Vec::new());
        let (mut distinct_locations, mut distinct_sites) = (Distinct::default(), Distinct::default());
        for part in parts {
            locations.extend(part.locations.into_iter().filter(|l| distinct_locations.is_new(l, &hasher)));
            sites.extend(part.sites.into_iter().filter(|s| distinct_sites.is_new(s, &hasher)));
        }
        (locations, sites)
    }
}

/// The rows of an export read in parts on the rayon pool, each other than
/// the first from one of `starts` (where a line starts) with a reader of
/// its own; `None` when a part did not start where a row does (a row runs
/// over it: a quoted cell holds a line break), or a row is wrong. A part
/// used starts where the part before it stopped, between two rows: a
/// reader of all the rows reads the same rows there.
fn read_export_in_parts<'a>(
    source: &'a Source,
    rows: ExportRows<'a>,
    mut starts: Vec<usize>,
) -> Option<OrgState> {
    use rayon::prelude::*;
    let text = source.bytes();
    starts.dedup();
    let ends: Vec<usize> = starts.iter().copied().chain(std::iter::once(text.len())).collect();
    let begins: Vec<usize> = std::iter::once(0).chain(starts.iter().copied()).collect();
    let last = begins.len() - 1;
    let rooms: Vec<usize> = begins
        .par_iter()
        .zip(&ends)
        .with_max_len(1)
        .enumerate()
        .map(|(i, (&begin, &end))| {
            // Not the header; and the last line may have no line break.
            let lines = lines(text.get(begin..end).unwrap_or_default());
            (lines + usize::from(i == last)).saturating_sub(usize::from(i == 0))
        })
        .collect();
    let mut users = Vec::new();
    let slots = part_slots(&mut users, &rooms)?;
    let read: Vec<(Result<RowsEnd>, ExportRows<'a>, usize)> = slots
        .into_par_iter()
        .zip(begins.par_iter())
        .zip(ends.par_iter())
        .with_max_len(1)
        .enumerate()
        .map(|(i, ((slots, &base), &end))| {
            // The first part reads on from the header, as a reader of all
            // the rows does.
            let mut reader = match i {
                0 => source.record_reader(),
                _ => RecordReader::from_slice(text.get(base..).unwrap_or_default(), source.delimiter),
            };
            if i == 0 {
                next(&mut reader, &mut Record::default());
            }
            let mut rows = rows.clone();
            let stop = (i < last).then_some(end);
            let mut users = Slots::new(slots);
            let ended = rows.read(&mut reader, text, base, stop, &mut users);
            // More rows than lines: the part was not where it was thought.
            match users.filled() {
                Some(filled) => (ended, rows, filled),
                None => (Ok(RowsEnd::Missed), rows, 0),
            }
        })
        .collect();
    let mut counts = Vec::with_capacity(read.len());
    let mut parts = Vec::with_capacity(read.len());
    for (ended, rows, filled) in read {
        if ended.ok()? != RowsEnd::Stop {
            return None;
        }
        counts.push(filled);
        parts.push(rows);
    }
    gather(&mut users, &rooms, &counts);
    let (locations, sites) = ExportRows::merge(parts);
    Some(OrgState { users, locations: Some(locations), sites: Some(sites), ..OrgState::default() })
}

/// [`Probe::in_parts`] of an org file (`None` where a file cannot be read
/// at a place by several threads at once).
fn probe_file_in_parts(
    file: &std::fs::File,
    path: &Path,
    targets: Vec<usize>,
) -> std::io::Result<Option<Probe>> {
    #[cfg(unix)]
    return Probe::in_parts(file, path, PART_BLOCK, targets);
    #[cfg(not(unix))]
    {
        let _ = (file, path, targets);
        Ok(None)
    }
}

/// [`read_parallel`] on an org file of `len` bytes ([`Parallel::Missed`]
/// where a file cannot be read at a place by several threads at once).
fn read_file_in_parts(file: &std::fs::File, parts: &Parts, len: usize) -> std::io::Result<Parallel> {
    #[cfg(unix)]
    return read_parallel(file, parts, len, PART_BLOCK, MAX_ORG_FILE_BYTES);
    #[cfg(not(unix))]
    {
        let _ = (file, parts, len);
        Ok(Parallel::Missed)
    }
}

/// The message of a file over [`MAX_ORG_FILE_BYTES`]: what it is too large
/// to be.
fn too_large(e: Error) -> Error {
    match e {
        Error::Limit { path, location, .. } => Error::Limit {
            path,
            location,
            message: format!("more than {} bytes: too large to be an org state", MAX_ORG_FILE_BYTES),
        },
        e => e,
    }
}

/// Gives back the room of a list of users grown past what it holds by more
/// than an eighth (a user is 192 bytes, and a list that doubled may have
/// twice the room it needs).
fn fit(users: &mut Vec<OrgUser>) {
    if users.capacity() - users.len() > users.len() / 8 {
        users.shrink_to_fit();
    }
}

/// Keeps, of a list of users made in parts of `rooms` slots each, the
/// first `counts` of each part (in one pass), and fits the list.
fn gather(users: &mut Vec<OrgUser>, rooms: &[usize], counts: &[usize]) {
    if counts.iter().sum::<usize>() < users.len() {
        let room_of = |part: usize| rooms.get(part).copied().unwrap_or(0);
        // The slot looked at, its part, and where that part's slots start.
        let (mut at, mut part, mut first) = (0, 0, 0);
        users.retain(|_| {
            while part < rooms.len() && at >= first + room_of(part) {
                first += room_of(part);
                part += 1;
            }
            let keep = at < first + counts.get(part).copied().unwrap_or(0);
            at += 1;
            keep
        });
    }
    fit(users);
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Whether an org file (without its byte order mark) is JSON: it starts
/// with `{`, or its name says so.
fn is_json(body: &[u8], path: &Path) -> bool {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    first == Some(&b'{') || path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// What a first pass over an org file finds.
struct Probe {
    /// When it is JSON ([`is_json`]): where the parts it is read in start,
    /// and how many `{` each holds.
    parts: Option<Parts>,
    /// Its length in bytes.
    len: usize,
}

impl Probe {
    /// Reads `input` a block of `block` bytes at a time; an export is known
    /// from its first block that is not all whitespace, and not read further.
    /// Parts start after `targets` (see [`Parts`]).
    fn of(mut input: impl Read, path: &Path, block: usize, targets: Vec<usize>) -> std::io::Result<Probe> {
        // At least three bytes: the first block holds the byte order mark.
        let mut buf = vec![0; block.max(3)];
        let mut parts = Parts::new(targets);
        let mut len = 0;
        let mut first: Option<bool> = None;
        loop {
            let n = read_full(&mut input, &mut buf)?;
            let block = buf.get(..n).unwrap_or_default();
            let body = if len == 0 { strip_bom(block) } else { block };
            if first.is_none() && (n < buf.len() || body.iter().any(|b| !b.is_ascii_whitespace())) {
                first = Some(is_json(body, path));
                if first == Some(false) {
                    return Ok(Probe { parts: None, len: len + n });
                }
            }
            parts.scan(block, len);
            len += n;
            if n < buf.len() {
                return Ok(Probe { parts: Some(parts), len });
            }
        }
    }
}

impl Probe {
    /// [`Probe::of`] for a file read in parts after `targets`, its bytes
    /// scanned on the rayon pool (see [`Parts::scan_parallel`]); `None` (for
    /// [`Probe::of`] to tell) unless its first block shows JSON.
    fn in_parts<S: json::At + ?Sized>(
        source: &S,
        path: &Path,
        block: usize,
        targets: Vec<usize>,
    ) -> std::io::Result<Option<Probe>> {
        let mut buf = vec![0; block.max(3)];
        let n = read_full(&mut ReadAt::new(source, 0, MAX_ORG_FILE_BYTES), &mut buf)?;
        let body = strip_bom(buf.get(..n).unwrap_or_default());
        if !body.iter().any(|b| !b.is_ascii_whitespace()) || !is_json(body, path) {
            return Ok(None);
        }
        let (parts, len) = Parts::scan_parallel(source, targets, block, MAX_ORG_FILE_BYTES)?;
        Ok(Some(Probe { parts: Some(parts), len }))
    }
}

/// The least a part of an org JSON read in parallel holds: a part costs a
/// task, a block's buffer and a look for where it starts, and an org this
/// small is read in a few milliseconds anyway.
const PART_BYTES: usize = 256 << 10;

/// How much of a part is read at a time: less than [`BLOCK`], as a buffer
/// of more than 64 KiB made on a thread of the pool costs it some 2 MB of
/// memory that stays (measured: 4 MB more at the peak of the 100k-user org
/// with buffers of 128 KiB, none with 64 KiB, and no slower).
const PART_BLOCK: usize = 64 << 10;

/// Parts per thread of the pool: more parts than threads, so that a thread
/// that falls behind (the machine is shared) leaves parts to the others.
const PARTS_PER_THREAD: usize = 4;

/// Where to look for the starts of the parts of an org JSON of `len` bytes
/// (see [`Parts`]): none, so that it is read in one piece, when it is less
/// than two parts of `part_bytes`, or the pool has one thread.
fn targets(len: usize, part_bytes: usize) -> Vec<usize> {
    let part_bytes = part_bytes.max(1);
    if len / part_bytes < 2 {
        return Vec::new();
    }
    let threads = rayon::current_num_threads();
    if threads < 2 {
        return Vec::new();
    }
    let parts = (len / part_bytes).min(threads * PARTS_PER_THREAD);
    (1..parts).map(|i| len / parts * i).collect()
}

/// Fills `buf` unless the input ends first; how much it read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while let Some(free) = buf.get_mut(filled..).filter(|free| !free.is_empty()) {
        match input.read(free) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
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

/// Fills `users` (empty) with as many default users as `rooms` add up to,
/// and cuts it into one slice per room, in order, for the parts of a file
/// read in parallel to fill; `None` when that much memory is not to be had.
/// Made on the pool: the pages of a large list are touched by both threads.
fn part_slots<'u>(users: &'u mut Vec<OrgUser>, rooms: &[usize]) -> Option<Vec<&'u mut [OrgUser]>> {
    use rayon::prelude::*;
    let room = rooms.iter().sum();
    users.try_reserve_exact(room).ok()?;
    users.par_extend((0..room).into_par_iter().map(|_| OrgUser::default()));
    let mut slots = Vec::with_capacity(rooms.len());
    let mut rest = users.as_mut_slice();
    for &room in rooms {
        let n = room.min(rest.len());
        let (part, after) = std::mem::take(&mut rest).split_at_mut(n);
        slots.push(part);
        rest = after;
    }
    Some(slots)
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

    /// Users with equal values (byte for byte) share one allocation of it,
    /// from JSON (in one piece, in blocks, in parts) and from an export; and
    /// only equal values do.
    #[test]
    fn equal_values_share_one_allocation() {
        let locations = ["Roma", "roma", "Milano HQ", "Bucure\u{15f}ti", "ROMA"];
        let statuses = ["Active", "Inactive"];
        let (mut json, mut csv) = (String::from(r#"{"users": ["#), String::new());
        csv.push_str("User ID/Email (Required),User Status,Location,Preferred Webex Site,");
        csv.push_str("Webex Calling [W],Webex Meetings [W],Basic Messaging,Basic Calling\n");
        for i in 0..300 {
            let (location, status) = (locations[i % 5], statuses[i % 7 % 2]);
            let site = (i % 3 != 0).then(|| format!("s{}.webex.com", i % 2));
            let licences = ["[]", r#"["messaging"]"#, r#"["messaging", "calling"]"#, r#"["calling"]"#][i % 4];
            let package = ["webex_calling", "webex_meetings"][i % 2];
            json.push_str(&format!(
                r#"{}{{"email": "u{i}@x", "status": "{status}", "package": "{package}", "base_licenses": {licences}, "location": "{location}", "site": {}, "admin": "full"}}"#,
                if i == 0 { "" } else { ", " },
                site.as_ref().map_or("null".to_owned(), |s| format!("\"{s}\"")),
            ));
            let flag = |on: bool| if on { "TRUE" } else { "FALSE" };
            csv.push_str(&format!(
                "u{i}@x,{status},{location},{},{},{},{},{}\n",
                site.unwrap_or_default(),
                flag(i % 2 == 0),
                flag(i % 2 == 1),
                flag(licences.contains("messaging")),
                flag(licences.contains("calling")),
            ));
        }
        json.push_str("]}");
        let profile = Profile::default();
        let from_json = OrgState::from_json(json.as_bytes(), Path::new("o.json")).unwrap();
        let in_parts =
            OrgState::read_json(json.as_bytes(), (1..6).map(|i| i * json.len() / 6).collect()).unwrap();
        let in_blocks = Json::read_from(json.as_bytes(), 300, 100).unwrap().unwrap();
        let export = OrgState::from_export_csv(csv.as_bytes(), Path::new("e.csv"), &profile).unwrap();
        assert!(in_parts.users == from_json.users && in_blocks.users == from_json.users);
        // The export has no admin column: its admin roles are unknown.
        let mut unknown_admins = from_json.users.clone();
        unknown_admins.iter_mut().for_each(|u| u.admin = None);
        assert_eq!(export.users, unknown_admins);
        let orgs = [from_json, in_parts, in_blocks, export];
        /// How many values, and how many allocations of them, `shared` holds.
        fn counts<T: Eq + std::hash::Hash>(shared: Vec<&Shared<T>>) -> (usize, usize) {
            let values: std::collections::HashSet<&Shared<T>> = shared.iter().copied().collect();
            let mut places: Vec<&Shared<T>> = Vec::new();
            for s in shared {
                if !places.iter().any(|p| Shared::ptr_eq(p, s)) {
                    places.push(s);
                }
            }
            (values.len(), places.len())
        }
        type Get = fn(&OrgUser) -> Option<&Shared<String>>;
        let fields: [Get; 5] = [
            |u| u.status.as_ref(),
            |u| u.package.as_ref(),
            |u| u.location.as_ref(),
            |u| u.site.as_ref(),
            |u| u.admin.as_ref(),
        ];
        for org in &orgs {
            // As many allocations as values (a part shares nothing with the
            // others: up to as many times over as parts).
            for field in fields {
                let (values, places) = counts(org.users.iter().filter_map(field).collect());
                assert!(places >= values && places <= values * 6, "{places} {values}");
            }
            let (values, places) =
                counts(org.users.iter().filter_map(|u| u.base_licenses.as_ref()).collect());
            assert!(places >= values && places <= values * 6, "{places} {values}");
        }
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

    /// Strings where folding is not plain ASCII lowercasing.
    const TRICKY: [&str; 14] = [
        "",
        "  Giulia.Rossi@ACME.example ",
        "\tRoma\n",
        "Bucureşti",
        "BUCUREŞTI",
        "Cafe\u{301}",
        "ΟΔΟΣ",
        "Σ",
        "İstanbul",
        "\u{a0}Milano\u{2003}",
        "ǅungla",
        "ẞ",
        "a\u{0}b",
        "ﬀ Ⅻ",
    ];

    fn folded(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        fold_into(s, &mut out);
        out
    }

    fn folded_on_stack(s: &str) -> Vec<u8> {
        let mut out = KeyBuf::new();
        fold_into(s, &mut out);
        out.as_bytes().to_vec()
    }

    #[test]
    fn folding_is_email_key_and_location_key() {
        let long = "Ä".repeat(100);
        for s in TRICKY.iter().copied().chain([long.as_str()]) {
            assert_eq!(folded(s), crate::text::email_key(s).as_bytes(), "{s:?}");
            assert_eq!(folded(s), location_key(Some(s)).as_bytes(), "{s:?}");
            assert_eq!(folded_on_stack(s), folded(s), "{s:?}");
            assert!(folds_to(s, &folded(s)), "{s:?}");
            assert!(!folds_to(s, b"x"), "{s:?}");
            // Twice each: folded, then remembered.
            let (mut folds, hasher) = (Folds::default(), Hasher::default());
            for _ in 0..2 {
                let mut out = b"a".to_vec();
                folds.fold_into(s, &mut out, &hasher);
                assert_eq!(out[1..], folded(s), "{s:?}");
            }
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn ascii_lowercase_is_compares_every_byte() {
        let all: Vec<u8> = (0..128).collect();
        for start in 0..all.len() {
            for len in 0..=20.min(all.len() - start) {
                let s = &all[start..start + len];
                let lower = s.to_ascii_lowercase();
                assert_eq!(ascii_lowercase_is(s, &lower), Some(true));
                assert_eq!(ascii_lowercase_is(s, s), Some(s == lower.as_slice()));
                for i in 0..len {
                    let mut other = lower.clone();
                    other[i] ^= 0x01;
                    assert_eq!(ascii_lowercase_is(s, &other), Some(false), "{s:?} {i}");
                    // A byte above ASCII anywhere: not for this function.
                    let mut high = s.to_vec();
                    high[i] |= 0x80;
                    assert_eq!(ascii_lowercase_is(&high, &lower), None, "{high:?}");
                    assert_eq!(ascii_lowercase_is(&high, &high), None, "{high:?}");
                    assert_eq!(ascii_lowercase_is(&high, &other[1..]), None, "{high:?}");
                }
                assert_eq!(ascii_lowercase_is(s, &[&lower[..], b"x"].concat()), Some(false));
            }
        }
    }

    /// ASCII is appended as std lowercases it; anything else, not at all.
    #[test]
    fn ascii_is_lowercased_as_std_does() {
        let all: Vec<u8> = (0..=255).collect();
        for start in 0..all.len() {
            for len in 0..=20.min(all.len() - start) {
                let bytes = &all[start..start + len];
                let mut out = b"Ab".to_vec();
                let ascii = extend_ascii_lowercase(&mut out, bytes);
                assert_eq!(ascii, bytes.is_ascii(), "{bytes:?}");
                match ascii {
                    true => assert_eq!(out[2..], bytes.to_ascii_lowercase()),
                    false => assert_eq!(out, b"Ab"),
                }
            }
        }
    }

    #[test]
    fn has_prefix_is_starts_with() {
        let text: Vec<u8> = (0..40).map(|i| b'a' + i).collect();
        for len in 0..text.len() {
            for n in 0..=36 {
                let bytes = &text[..len];
                let prefix = &text[..n.min(text.len())];
                assert_eq!(has_prefix(bytes, prefix), bytes.starts_with(prefix), "{len} {n}");
                for i in 0..prefix.len() {
                    let mut other = prefix.to_vec();
                    other[i] ^= 0x20;
                    assert_eq!(has_prefix(bytes, &other), bytes.starts_with(&other), "{len} {n} {i}");
                }
            }
        }
    }

    #[test]
    fn plain_end_stops_at_quotes_backslashes_and_controls() {
        for len in 0..40 {
            for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                for at in 0..=len {
                    let mut bytes: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                    bytes.extend_from_slice("é ~\u{7f}".as_bytes());
                    if at < len {
                        bytes[at] = special;
                    }
                    let naive = |start: usize| {
                        (start..bytes.len())
                            .find(|&i| bytes[i] == b'"' || bytes[i] == b'\\' || bytes[i] < 0x20)
                            .unwrap_or(bytes.len())
                    };
                    for start in [0, 1, 3, len] {
                        assert_eq!(plain_end(&bytes, start), naive(start), "{bytes:?} from {start}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_field_lists_are_the_structs() {
        let user = serde_json::to_value(OrgUser::default()).unwrap();
        let keys: Vec<&str> = user.as_object().unwrap().keys().map(String::as_str).collect();
        let mut fields = USER_FIELDS.to_vec();
        fields.sort_unstable();
        let mut keys = keys.clone();
        keys.sort_unstable();
        assert_eq!(fields, keys);
        for ((name, written), spaced) in USER_FIELDS.iter().zip(USER_KEYS_WRITTEN).zip(USER_KEYS_SPACED) {
            assert_eq!(format!("\"{name}\":").as_bytes(), written);
            assert_eq!(format!(", \"{name}\": ").as_bytes(), spaced);
        }
        let org = serde_json::to_value(OrgState::default()).unwrap();
        let mut keys: Vec<&str> = org.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut fields = ORG_FIELDS.to_vec();
        fields.sort_unstable();
        assert_eq!(fields, keys);
    }

    fn same_org(a: &OrgState, b: &OrgState) -> bool {
        (&a.name, &a.package, &a.packages, &a.domains, &a.locations, &a.sites, &a.users)
            == (&b.name, &b.package, &b.packages, &b.domains, &b.locations, &b.sites, &b.users)
    }

    /// What serde makes of `json`, and whether the fast reader agrees:
    /// it reads only what serde reads, and reads it the same.
    fn assert_reads_like_serde(json: &str) {
        let serde: std::result::Result<OrgState, _> = serde_json::from_str(json);
        match (Json::read(json.as_bytes()), serde) {
            (Some(fast), Ok(serde)) => assert!(same_org(&fast, &serde), "{json}\n{fast:?}\n{serde:?}"),
            (Some(fast), Err(e)) => panic!("serde refuses what the fast reader reads: {e}\n{json}\n{fast:?}"),
            (None, _) => {}
        }
        for block in [1, 2, 3, 5, 8, 13, 64, 100, 1 << 10] {
            for users in [0, 1, 2, 1000] {
                assert_reads_in_blocks_alike(json.as_bytes(), block, users, block % 4 + 1);
            }
        }
        assert_read_in_any_parts_alike(json.as_bytes());
    }

    /// Input that comes `step` bytes at a time, and is interrupted now and
    /// then, as a pipe may be.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
        calls: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls % 3 == 0 {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = self.step.min(buf.len()).min(self.bytes.len());
            let (now, later) = self.bytes.split_at(n);
            buf[..n].copy_from_slice(now);
            self.bytes = later;
            Ok(n)
        }
    }

    /// The org read a block at a time (of `block` bytes, arriving `step`
    /// at a time, with room made for `users` users) is the org read whole:
    /// no user lost, none twice, the list no larger than it needs; and a
    /// byte order mark is skipped.
    fn assert_reads_in_blocks_alike(json: &[u8], block: usize, users: usize, step: usize) {
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), json].concat();
        for bytes in [json, &with_bom] {
            let whole = Json::read(strip_bom(bytes));
            let input = Trickle { bytes, step, calls: 0 };
            let blocks = Json::read_from(input, users, block).unwrap();
            let text = String::from_utf8_lossy(json);
            match (&whole, &blocks) {
                (Some(whole), Some(blocks)) => {
                    assert!(same_org(whole, blocks), "{text}\nblock {block}, hint {users}\n{blocks:?}");
                    let spare = blocks.users.capacity() - blocks.users.len();
                    assert!(spare <= blocks.users.len() / 8, "{spare} spare for {}", blocks.users.len());
                }
                (None, None) => {}
                _ => panic!("{text}\nblock {block}, hint {users}\nwhole: {whole:?}\nblocks: {blocks:?}"),
            }
        }
    }

    /// The org read in parts that start after `targets` (found in blocks
    /// of `block`) is what the serial reader makes of it: the same org, or
    /// serde's turn. A part that starts where no user does is seen, and the
    /// serial reader reads the file: in a file the quick reader reads, that
    /// happens only when a string has a `}`, a `,` and a `{` (the generated
    /// ones have a `~` too).
    fn assert_parts_read_alike(json: &[u8], targets: &[usize], block: usize) {
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), json].concat();
        let text = String::from_utf8_lossy(json);
        for (bytes, scan) in [(json, false), (&with_bom, false), (json, true)] {
            let serial = Json::read_from(bytes, 0, block).unwrap();
            let parts = match scan {
                false => {
                    Probe::of(bytes, Path::new("org.json"), block, targets.to_vec()).unwrap().parts.unwrap()
                }
                true => Parts::scan_parallel(bytes, targets.to_vec(), block, u64::MAX).unwrap().0,
            };
            let parallel = read_parallel(bytes, &parts, bytes.len(), block, u64::MAX).unwrap();
            match (&serial, &parallel) {
                (Some(serial), Parallel::Read(parallel)) => {
                    assert!(same_org(serial, parallel), "{text}\n{targets:?} {parts:?}\n{parallel:?}");
                    let spare = parallel.users.capacity() - parallel.users.len();
                    assert!(spare <= parallel.users.len() / 8, "{spare} spare for {}", parallel.users.len());
                }
                (None, Parallel::Odd) => {}
                (_, Parallel::Missed) => assert!(json.contains(&b'~'), "{text}\n{parts:?}"),
                _ => panic!(
                    "{text}\n{targets:?} block {block} {parts:?}\nserial: {serial:?}\nparallel: {parallel:?}"
                ),
            }
        }
        // Held in memory, a wrong guess falls back on the serial reader.
        let whole = Json::read(json);
        match (OrgState::read_json(json, targets.to_vec()), whole) {
            (Some(parts), Some(whole)) => assert!(same_org(&parts, &whole), "{text}\n{targets:?}"),
            (None, None) => {}
            (parts, whole) => panic!("{text}\n{targets:?}\nparts: {parts:?}\nwhole: {whole:?}"),
        }
    }

    /// The export `csv` read in parts that start after `targets` is the
    /// export read in one piece; and the parts are used (not read again in
    /// one piece) unless a cell holds a line break or a row is wrong.
    fn assert_export_parts_read_alike(csv: &[u8], targets: &[usize]) {
        let (profile, path) = (Profile::default(), Path::new("e.csv"));
        let text = String::from_utf8_lossy(csv);
        let whole =
            OrgState::read_export_in(Source::decode(csv.to_vec(), None), path, &profile, |_| Vec::new());
        let after_header = memchr::memchr(b'\n', csv).map_or(csv.len(), |i| i + 1);
        let relative = targets.iter().map(|&t| t.saturating_sub(after_header)).collect();
        let parts =
            OrgState::read_export_in(Source::decode(csv.to_vec(), None), path, &profile, |_| relative);
        match (&parts, &whole) {
            (Ok(parts), Ok(whole)) => {
                assert!(same_org(parts, whole), "{text}\n{targets:?}\n{parts:?}\n{whole:?}");
                let spare = parts.users.capacity() - parts.users.len();
                assert!(spare <= parts.users.len() / 8, "{spare} spare for {}", parts.users.len());
            }
            (Err(parts), Err(whole)) => assert_eq!(parts.to_string(), whole.to_string(), "{text}"),
            _ => panic!("{text}\n{targets:?}\nparts: {parts:?}\nwhole: {whole:?}"),
        }
        let source = Source::decode(csv.to_vec(), None);
        let mut reader = source.record_reader();
        let mut record = Record::default();
        if !next(&mut reader, &mut record) {
            return;
        }
        let header = Header::parse(&record.fields.iter().collect::<Vec<_>>(), record.line, &profile);
        let Some(email_column) = header.field(Field::Email) else { return };
        let rows = ExportRows::new(&header, &profile, path, email_column);
        let starts: Vec<usize> =
            targets.iter().filter_map(|&t| line_after(csv, t.max(record.span.end))).collect();
        // The cells that hold a line break (see `export_user`).
        let broken = ["two\n", "two\r", "cr\r", "\" \n", "\" \r"].iter().any(|cell| text.contains(cell));
        match read_export_in_parts(&source, rows, starts) {
            Some(parts) => assert!(same_org(&parts, whole.as_ref().unwrap()), "{text}"),
            None => assert!(broken || whole.is_err(), "{text}\n{targets:?}"),
        }
    }

    /// A part may start in a blank line that a quoted line break makes of
    /// two lines (a reader of all the rows skips it): read again in one
    /// piece, it gives no user `"`.
    #[test]
    fn an_export_part_that_starts_in_a_quoted_blank_line_is_not_used() {
        let csv = b"User ID/Email (Required)\na@x\n\" \n \"\nc@x\n";
        for at in 0..csv.len() {
            assert_export_parts_read_alike(csv, &[at]);
        }
        let org = OrgState::from_export_csv(csv, Path::new("e.csv"), &Profile::default()).unwrap();
        assert_eq!(org.users.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(), ["a@x", "c@x"]);
    }

    /// [`assert_parts_read_alike`] with a part after each `{` in turn, and
    /// after every one of them.
    fn assert_read_in_any_parts_alike(json: &[u8]) {
        let opening: Vec<usize> = memchr::memchr_iter(b'{', json).collect();
        for block in [1, 7, 64, 1 << 10] {
            for &at in &opening {
                assert_parts_read_alike(json, &[at], block);
            }
            assert_parts_read_alike(json, &opening, block);
        }
    }

    #[test]
    fn the_fast_reader_reads_the_usual_file_and_leaves_the_rest_to_serde() {
        let usual = r#"{
  "name": "Acme", "package": "webex_calling", "packages": ["webex_calling"],
  "domains": ["acme.example"], "locations": ["Milano HQ", "Bucureşti"], "sites": [],
  "users": [
    {"email": "a@acme.example", "first_name": "Anna", "last_name": null, "display_name": "A \"B\" \\ \/ \u00e9\u20AC\n\t\b\f\r",
     "status": "Active", "package": "webex_calling", "base_licenses": ["calling"], "location": "Roma",
     "phone_number": "+390212345678", "extension": "1001", "site": null, "admin": "full"},
    {"admin": null, "email": " b@acme.example\t", "base_licenses": null},
    {"em\u0061il": "c@acme.example", "location": ""}
  ]
}"#;
        assert!(Json::read(usual.as_bytes()).is_some());
        assert_reads_like_serde(usual);
        for json in [
            r#"{}"#,
            " \n{ } \r\n",
            r#"{"users": []}"#,
            r#"{"name": null, "packages": null, "users": [{"email": "a@x"}]}"#,
            r#"{"users": [{"email" : "a@x", "site"  :null, "admin":"full"}]}"#,
            r#"{"users": [{"email": "a@x", "email": "b@x"}]}"#,
            r#"{"users": [{"email": "a@x"}], "users": []}"#,
            r#"{"users": [{"email": " "}]}"#,
            r#"{"users": [{"first_name": "A"}]}"#,
            r#"{"users": [{"email": null}]}"#,
            r#"{"users": [{"email": "a@x", "extension": 1001}]}"#,
            r#"{"users": [{"email": "a@x", "department": "Sales"}]}"#,
            r#"{"users": [{"email": "a@x", "base_licenses": [null]}]}"#,
            r#"{"users": [{"email": "a@x", "base_licenses": "calling"}]}"#,
            r#"{"users": null}"#,
            r#"{"users": [["a@x"]]}"#,
            r#"{"users": [{"email": "a@x",}]}"#,
            r#"{"users": [{"email": "a@x"},]}"#,
            r#"{"users": [{"email": "a@x"}]} x"#,
            r#"{"users": [{"email": "a@x"}]}}"#,
            r#"{"users": [{"email": "a\ud83d\ude00@x"}]}"#,
            r#"{"users": [{"email": "a\ud83d@x"}]}"#,
            r#"{"users": [{"email": "a\u00g1@x"}]}"#,
            r#"{"users": [{"email": "a\u+0e9@x"}]}"#,
            r#"{"users": [{"email": "a\x@x"}]}"#,
            "{\"users\": [{\"email\": \"a\tb@x\"}]}",
            r#"{"users": [{"email": "a@x", "site": nul}]}"#,
            r#"{"users": [{"email": "a@x", "site": nullx}]}"#,
            r#"{"name": "Acme""#,
            r#"{"name" "Acme"}"#,
            "\u{feff}{}",
            r#"{"index": {}}"#,
        ] {
            assert_reads_like_serde(json);
        }
        let bad_utf8 = b"{\"name\": \"\xff\"}";
        assert!(Json::read(bad_utf8).is_none());
    }

    mod generated {
        use super::*;
        use proptest::prelude::*;

        /// A string as JSON writes it: plain, with escapes, non-ASCII.
        fn string() -> impl Strategy<Value = String> {
            prop_oneof![
                8 => "[a-zA-Z0-9 .@+éş]{0,14}".prop_map(|s| format!("\"{s}\"")),
                1 => Just(r#""G\u00e9 \"q\" \\ \/ \n\t\u20ac""#.to_owned()),
                1 => Just(r#""  ""#.to_owned()),
                1 => prop::sample::select(TRICKY_STRINGS.to_vec()).prop_map(str::to_owned),
            ]
        }

        /// Strings where a user seems to start, to a first pass that does
        /// not read strings.
        const TRICKY_STRINGS: [&str; 2] = [r#""}, {~""#, r#""\"} ,{~\\""#];

        fn value(field: &'static str) -> BoxedStrategy<String> {
            let null = Just("null".to_owned());
            if field == "base_licenses" {
                let list = prop::collection::vec(string(), 0..4).prop_map(|v| format!("[{}]", v.join(", ")));
                prop_oneof![4 => list, 1 => null].boxed()
            } else {
                prop_oneof![4 => string(), 1 => null].boxed()
            }
        }

        /// Something serde may refuse, or read in a way the fast reader
        /// leaves to it.
        const ODD: [&str; 12] = [
            r#""department": "Sales""#,
            r#""email": "dup@acme.example""#,
            r#""extension": 1001"#,
            r#""site": "\ud800""#,
            r#""site": "\ud83d\ude00""#,
            r#""base_licenses": [null]"#,
            r#""base_licenses": "calling""#,
            "\"first_name\": \"a\tb\"",
            r#""em\u0061il": "x@acme.example""#,
            r#""admin": nul"#,
            r#""admin": true"#,
            r#""status": "x","#,
        ];

        /// Up to `most` fields of the org (not the users), each with a value.
        fn org_fields(most: usize) -> impl Strategy<Value = Vec<String>> {
            prop::sample::subsequence(ORG_FIELDS[..6].to_vec(), 0..=most)
                .prop_flat_map(|fields| {
                    let list = |f: &str| ["packages", "domains", "locations", "sites"].contains(&f);
                    fields
                        .into_iter()
                        .map(|f| {
                            value(if list(f) { "base_licenses" } else { "name" })
                                .prop_map(move |v| format!("\"{f}\": {v}"))
                        })
                        .collect::<Vec<_>>()
                })
                .prop_shuffle()
        }

        fn user() -> impl Strategy<Value = String> {
            user_with(0.2)
        }

        /// A user, odd (see [`ODD`]) at the rate `odd`.
        fn user_with(odd: f64) -> impl Strategy<Value = String> {
            let fields = prop::sample::subsequence(USER_FIELDS[1..].to_vec(), 0..=11)
                .prop_flat_map(|fields| {
                    fields.into_iter().map(|f| value(f).prop_map(move |v| (f, v))).collect::<Vec<_>>()
                })
                .prop_shuffle();
            let order = prop_oneof![3 => Just(false), 1 => Just(true)];
            let odd = prop::option::weighted(
                odd,
                (prop::sample::select(ODD.to_vec()), any::<prop::sample::Index>()),
            );
            (fields, order, "[a-z]{1,6}", any::<bool>(), odd, prop::sample::select(vec!["", " ", "\n  "]))
                .prop_map(|(mut fields, shuffled, email, email_first, odd, ws)| {
                    if !shuffled {
                        fields.sort_by_key(|(f, _)| USER_FIELDS.iter().position(|u| u == f));
                    }
                    let mut parts: Vec<String> =
                        fields.iter().map(|(k, v)| format!("\"{k}\":{ws}{v}")).collect();
                    let email = format!("\"email\": \"{email}@acme.example\"");
                    if email_first {
                        parts.insert(0, email);
                    } else {
                        parts.push(email);
                    }
                    if let Some((odd, at)) = odd {
                        parts.insert(at.index(parts.len() + 1), odd.to_owned());
                    }
                    format!("{{{ws}{}{ws}}}", parts.join(&format!(",{ws}")))
                })
        }

        /// A user of an export: names spelled many ways, cells that need
        /// quotes.
        fn export_user() -> impl Strategy<Value = OrgUser> {
            let name = prop::option::of(prop::sample::select(vec![
                "Roma",
                "roma",
                " ROMA",
                "Bucureşti",
                "BUCUREŞTI",
                "a,b",
                "say \"hi\"",
                "two\nlines",
                "cr\r\nlf",
            ]));
            let package =
                prop::option::of(prop::sample::select(vec!["webex_calling", "webex_meetings", "nope"]));
            ("[a-c]{1,3}", name.clone(), name.clone(), name, package, prop::option::of("[+]?[0-9]{1,4}"))
                .prop_map(|(email, display_name, location, site, package, phone_number)| OrgUser {
                    display_name: display_name.map(str::to_owned),
                    location: location.map(Into::into),
                    site: site.map(Into::into),
                    package: package.map(Into::into),
                    base_licenses: Some(vec!["calling".to_owned()].into()),
                    phone_number,
                    ..OrgUser::new(format!("{email}@acme.example"))
                })
        }

        /// A user with keys from a few values, so that they meet.
        fn small_user() -> impl Strategy<Value = OrgUser> {
            let key = || prop::option::of(prop::sample::select(vec!["1", " 1", "2", "X", "x ", "ş", "Ş"]));
            (prop::sample::select(vec!["a@x", "A@X ", "b@x", "ı@x"]), key(), key(), key()).prop_map(
                |(email, phone, location, extension)| OrgUser {
                    phone_number: phone.map(str::to_owned),
                    location: location.map(Into::into),
                    extension: extension.map(str::to_owned),
                    ..OrgUser::new(email)
                },
            )
        }

        proptest! {
            #[test]
            fn the_fast_reader_agrees_with_serde(
                users in prop::collection::vec(user(), 0..6),
                locations in value("base_licenses"),
                tail in prop::sample::select(vec!["", "", "", "\n", " x", ","]),
            ) {
                let json = format!("{{\"locations\": {locations}, \"users\": [{}]}}{tail}", users.join(",\n"));
                assert_reads_like_serde(&json);
            }

            /// An index that says it still fits an org changed after it was
            /// built finds in it what a new index finds; one that does not
            /// fit says so.
            #[test]
            fn an_index_that_matches_a_changed_org_finds_what_a_new_one_does(
                users in prop::collection::vec(small_user(), 0..10),
                changes in prop::collection::vec((any::<prop::sample::Index>(), 0..5usize, small_user()), 0..4),
                queries in prop::collection::vec(small_user(), 1..8),
            ) {
                let indexed = OrgState { users, ..OrgState::default() }.indexed();
                let mut changed = indexed.clone();
                for (at, field, from) in changes {
                    match (field, changed.users.len()) {
                        (_, 0) | (4, _) => changed.users.push(from),
                        (field, len) => {
                            let user = &mut changed.users[at.index(len)];
                            match field {
                                0 => user.email = from.email,
                                1 => user.phone_number = from.phone_number,
                                2 => user.location = from.location,
                                _ => user.extension = from.extension,
                            }
                        }
                    }
                }
                let index = changed.index.get().unwrap();
                if !index.matches(&changed) {
                    prop_assert!(changed.users != indexed.users);
                    return Ok(());
                }
                let fresh = changed.clone().indexed();
                for q in &queries {
                    let number = q.phone_number.as_deref().unwrap_or("");
                    let ext = q.extension.as_deref().unwrap_or("");
                    prop_assert_eq!(changed.user(&q.email), fresh.user(&q.email));
                    prop_assert_eq!(changed.phone_owner(number), fresh.phone_owner(number));
                    prop_assert_eq!(
                        changed.extension_owner(q.location.as_deref(), ext),
                        fresh.extension_owner(q.location.as_deref(), ext)
                    );
                }
            }

            #[test]
            fn an_org_read_in_blocks_is_the_org_read_whole(
                users in prop::collection::vec(user(), 0..8),
                name in value("name"),
                ws in prop::sample::select(vec!["", " ", "\n", "\r\n  "]),
                tail in prop::sample::select(vec!["", "\n", "\n\n   \n", " x", "é"]),
                block in 1..300usize,
                hint in 0..16usize,
                step in 1..64usize,
            ) {
                let json = format!(
                    "{ws}{{{ws}\"users\":{ws}[{ws}{}{ws}],{ws}\"name\": {name}{ws}}}{tail}",
                    users.join(&format!(",{ws}"))
                );
                assert_reads_in_blocks_alike(json.as_bytes(), block, hint, step);
            }

            /// The org read in parts, the first pass in blocks of any size,
            /// is the org read in one piece: fields of the org before and
            /// after the users (the same field in both is a duplicate),
            /// strings that look like the start of a user.
            #[test]
            fn an_org_read_in_parts_is_the_org_read_in_one(
                users in prop::collection::vec(user_with(0.02), 0..12),
                before in org_fields(3),
                after in org_fields(1),
                ws in prop::sample::select(vec!["", " ", "\n", "\r\n  "]),
                tail in prop::sample::select(vec!["", "", "", "", "", "", "\n", " x", "]}"]),
                targets in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
                block in 1..300usize,
                tricky in prop::bool::weighted(0.25),
            ) {
                let fields = |fields: Vec<String>| fields.iter().map(|f| format!("{f},{ws}")).collect::<String>();
                let after: String = after.iter().map(|f| format!(",{ws}{f}")).collect();
                let mut json = format!(
                    "{ws}{{{ws}{}\"users\":{ws}[{ws}{}{ws}]{after}{ws}}}{tail}",
                    fields(before),
                    users.join(&format!(",{ws}"))
                );
                if !tricky {
                    // Most files are read in parts at once.
                    json = json.replace(TRICKY_STRINGS[0], "\"x\"").replace(TRICKY_STRINGS[1], "\"x\"");
                }
                let mut targets: Vec<usize> = targets.iter().map(|t| t.index(json.len())).collect();
                targets.sort_unstable();
                assert_parts_read_alike(json.as_bytes(), &targets, block);
            }

            /// An export read in parts (after any targets) is the export
            /// read in one piece: cells with commas, quotes and line breaks,
            /// `\r\n`, blank lines, names spelled many ways, a wrong row.
            #[test]
            fn an_export_read_in_parts_is_the_export_read_in_one(
                users in prop::collection::vec(export_user(), 0..14),
                crlf in any::<bool>(),
                blank in prop::collection::vec(
                    (any::<prop::sample::Index>(), prop::sample::select(vec!["\n", " \n", "\" \n \"\n"])),
                    0..3,
                ),
                wrong in prop::option::weighted(0.15, (any::<prop::sample::Index>(), prop::sample::select(vec![",", "\n,,\n"]))),
                targets in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
            ) {
                let org = OrgState { users, ..OrgState::default() };
                let profile = Profile::default();
                let mut lines: Vec<String> = org.to_export_csv(&profile).split_inclusive('\n').map(str::to_owned).collect();
                for (at, line) in &blank {
                    let at = at.index(lines.len() + 1);
                    lines.insert(at, line.to_string());
                }
                if let Some((at, what)) = wrong {
                    let at = at.index(lines.len());
                    lines[at] = format!("{what}{}", lines[at]);
                }
                let mut csv = lines.concat();
                if crlf {
                    csv = csv.replace('\n', "\r\n");
                }
                let mut targets: Vec<usize> = targets.iter().map(|t| t.index(csv.len())).collect();
                targets.sort_unstable();
                assert_export_parts_read_alike(csv.as_bytes(), &targets);
            }

            #[test]
            fn lookups_agree_with_maps_of_normalised_keys(
                users in prop::collection::vec(
                    ("[a-cA-C]{1,2}", prop::option::of("[12]"), prop::option::of("[xX ]{0,2}|Ş|ş"), prop::option::of("[12]")),
                    0..12,
                ),
                queries in prop::collection::vec(("[a-cA-C ]{1,3}", prop::option::of("[xX ]{0,2}|ş|Ş"), "[12 ]{1,2}"), 1..12),
                max in 0..60usize,
            ) {
                let mut org = OrgState {
                    locations: Some(vec!["X".into(), "Ş".into()]),
                    domains: Some(vec![" x".into()]),
                    ..OrgState::default()
                };
                for (email, phone, location, extension) in &users {
                    org.users.push(OrgUser {
                        phone_number: phone.clone(),
                        location: location.as_deref().map(Into::into),
                        extension: extension.clone(),
                        ..OrgUser::new(email.clone())
                    });
                }
                // Indexed with tables, and (when a position would be over
                // `max`) without.
                let within = OrgState { index: OnceLock::from(Index::build_within(&org, max)), ..org.clone() };
                prop_assert!(within.ensure_index().matches(&within));
                for org in [org.clone(), org.indexed(), within] {
                    let first = |f: &dyn Fn(&OrgUser) -> bool| org.users.iter().position(f);
                    for (email, location, number) in &queries {
                        let key = crate::text::email_key(email);
                        prop_assert_eq!(org.user_index(&key), first(&|u| crate::text::email_key(&u.email) == key));
                        prop_assert_eq!(org.user(email), org.user_index(&key).map(|i| &org.users[i]));
                        let number = number.trim();
                        let phone = |u: &OrgUser| u.phone_number.as_deref().map(str::trim) == Some(number);
                        prop_assert_eq!(org.phone_owner(number), first(&|u| !number.is_empty() && phone(u)));
                        let loc = location_key(location.as_deref());
                        let extension = |u: &OrgUser| {
                            u.extension.as_deref().map(str::trim) == Some(number)
                                && location_key(u.location.as_deref()) == loc
                        };
                        prop_assert_eq!(
                            org.extension_owner(location.as_deref(), number),
                            first(&|u| !number.is_empty() && extension(u))
                        );
                        let known = ["x", "ş"].contains(&loc.as_str());
                        prop_assert_eq!(org.has_location(location.as_deref().unwrap_or("")), Some(known));
                        prop_assert_eq!(org.has_domain(location.as_deref().unwrap_or("")), Some(loc == "x"));
                        prop_assert_eq!(org.has_site("x"), None);
                    }
                }
            }

            /// A table of positions finds, for each key, the first position
            /// added with it, whatever the hashes of keys share: the bucket,
            /// the tag, the bits kept beside a position, or all of them.
            #[test]
            fn positions_find_the_first_position_of_each_key(
                keys in prop::collection::vec(0..24usize, 0..60),
                hashes in prop::collection::vec(prop::sample::select(HASHES.to_vec()), 24),
                users in prop::sample::select(vec![0, 60, 1 << 20, u32::MAX as usize]),
            ) {
                let users = users.max(keys.len());
                // Room for a few: the table grows, rehashing by `hash_of`.
                let mut table = index::Positions::with_capacity(keys.len().min(3), users);
                for (i, &key) in keys.iter().enumerate() {
                    let eq = |j: u32| keys.get(j as usize) == Some(&key);
                    let hash_of = |j: u32| keys.get(j as usize).map_or(0, |&k| hashes[k]);
                    prop_assert!(table.insert_first(hashes[key], i as u32, eq, hash_of));
                }
                for (key, &hash) in hashes.iter().enumerate() {
                    let first = keys.iter().position(|&k| k == key).map(|i| i as u32);
                    prop_assert_eq!(table.find(hash, |j| keys.get(j as usize) == Some(&key)), first);
                }
            }

            /// An org's names (of a list, and of its users' locations) are
            /// found whether a text is spelled as the org spells a name or
            /// otherwise: where the first name with its key is.
            #[test]
            fn names_are_found_however_they_are_spelled(
                list in prop::collection::vec(name(), 0..24),
                located in prop::collection::vec(name(), 0..24),
                queries in prop::collection::vec(name(), 1..12),
            ) {
                let mut org = OrgState { locations: Some(list.clone()), ..OrgState::default() };
                for (i, location) in located.iter().enumerate() {
                    org.users.push(OrgUser {
                        location: Some(location.as_str().into()),
                        extension: Some("1".into()),
                        ..OrgUser::new(format!("{i}@x"))
                    });
                }
                let org = org.indexed();
                for q in &queries {
                    let key = location_key(Some(q));
                    let known = list.iter().any(|name| location_key(Some(name)) == key);
                    prop_assert_eq!(org.has_location(q), Some(known), "{:?}", q);
                    let owner = located.iter().position(|l| location_key(Some(l)) == key);
                    prop_assert_eq!(org.extension_owner(Some(q), "1"), owner, "{:?}", q);
                    // As the rules look a name up: by its key.
                    prop_assert_eq!(org.extension_owner(Some(&key), "1"), owner, "{:?}", key);
                }
            }

            /// The answer of the list of packages, compared trimmed and in
            /// any case.
            #[test]
            fn an_org_offers_the_packages_it_lists_in_any_case(
                packages in prop::option::of(prop::collection::vec(prop::sample::select(IDS.to_vec()), 0..4)),
                id in prop::sample::select(IDS.to_vec()),
            ) {
                let packages = packages.map(|p| p.into_iter().map(str::to_owned).collect::<Vec<_>>());
                let offered = packages.as_ref().map(|p| p.iter().any(|p| p.trim().eq_ignore_ascii_case(id)));
                let org = OrgState { packages, ..OrgState::default() };
                prop_assert_eq!(org.offers_package(id), offered);
            }
        }

        /// Hashes that share parts: the top bits (the slot a probe starts
        /// at; all ones, the last slot, from which a probe goes on at the
        /// first), the low bits (kept beside a position), the bits of the
        /// filter in front of the table, or all of them.
        const HASHES: [u64; 14] = [
            0,
            1,
            7,
            0x0000_7F80_0000_0000,
            u64::MAX,
            0xFF00_0000_0000_0000,
            0x0100_0000_0000_0000,
            0x00FF_FFFF_0000_0000,
            0x8000_0000_0000_0003,
            0x8000_0001_0000_0003,
            0x8000_0000_0100_0003,
            0x8000_0000_0000_0013,
            0x1234_5678_9ABC_DEF0,
            0x0000_0000_0000_FFFF,
        ];

        /// Package ids, spelled several ways.
        const IDS: [&str; 11] = [
            "webex_calling",
            "Webex_Calling",
            " webex_calling",
            "webex_calling ",
            " x",
            "x",
            "X ",
            "",
            " ",
            "é",
            "É",
        ];

        /// A name, spelled several ways: in other cases, with spaces,
        /// decomposed, of every length the comparison of spellings tells
        /// apart (up to 16 bytes as words, then whole), or one of many (an
        /// org of more names than a small set holds).
        fn name() -> impl Strategy<Value = String> {
            let spelled = prop::sample::select(vec![
                "Roma",
                "roma",
                " ROMA ",
                "Bucureşti",
                "bucureşti",
                "BUCUREŞTI",
                "Bucures\u{327}ti",
                "İstanbul",
                "i\u{307}stanbul",
                "Madrid Centro Nord Est",
                "madrid centro nord est",
                "Madrid Centro Nord Esx",
                "Xadrid Centro Nord Est",
                "Madrid Cenxro Nord Est",
                "Madrid Centro Nord Est Sud",
                "",
                " ",
                "a",
                "A",
                "ab",
                "abc",
                "abcd",
                "abcdefg",
                "abcdefgh",
                "abcdefghi",
                "Abcdefghijklmnop",
                "abcdefghijklmnoq",
                "Σίσυφος",
                "ΣΊΣΥΦΟΣ",
            ]);
            prop_oneof![
                3 => spelled.prop_map(str::to_owned),
                1 => (0..24u8).prop_map(|n| format!("Loc {n}")),
            ]
        }
    }

    /// Org files of every kind, read from a path as from memory.
    #[test]
    fn a_file_is_read_as_its_bytes_are() {
        let mut org = OrgState { locations: Some(vec!["Roma".into()]), ..OrgState::default() };
        for i in 0..1500 {
            org.users.push(OrgUser {
                display_name: Some(format!("Ünal \"{i}\"")),
                base_licenses: Some(vec!["calling".to_owned(); i % 3].into()),
                phone_number: (i % 2 == 0).then(|| format!("+3902{i:08}")),
                ..OrgUser::new(format!("user.{i}@acme.example"))
            });
        }
        // Some 200 KB: more than one block.
        let big = serde_json::to_string_pretty(&org).unwrap();
        assert!(big.len() > BLOCK, "{}", big.len());
        let export = org.to_export_csv(&Profile::default());
        let near_the_end = format!("{}, \"x\": 1}}", big.trim_end().trim_end_matches('}'));
        let files: Vec<(&str, Vec<u8>)> = vec![
            ("org.json", big.clone().into_bytes()),
            ("org.json", [b"\xEF\xBB\xBF".as_slice(), big.as_bytes()].concat()),
            ("org", format!("\n\n  {big}\n\n").into_bytes()),
            ("org.json", big.replacen("\"email\"", "\"department\": \"Sales\", \"email\"", 1).into_bytes()),
            ("org.json", near_the_end.into_bytes()),
            ("org.json", big.replacen("Roma", "Ro\u{0}ma", 1).into_bytes()),
            // Odd near the end: the last part fails.
            ("org.json", big.replacen("user.1400@", "user.1400@\u{0}", 1).into_bytes()),
            ("org.json", big.replacen("\"user.1490@acme.example\"", "\" \"", 1).into_bytes()),
            // Names where a user seems to start: a part starts there.
            ("org.json", big.replace("\\\"7", "\\\"}, {\\\"7").into_bytes()),
            ("org.json", big.replace("\\\"7", "\\\"}, {\\\"7").replacen("Roma", "Ro\u{0}ma", 1).into_bytes()),
            ("org.json", br#"{"users": [{"email": "a@x", "email": "b@x"}]}"#.to_vec()),
            ("org.json", b"{\"users\": [{\"email\": \"\xff\"}]}".to_vec()),
            ("org.json", Vec::new()),
            ("org.json", b"   \n ".to_vec()),
            ("org.csv", Vec::new()),
            ("org.csv", b"   \n ".to_vec()),
            ("org.csv", export.clone().into_bytes()),
            ("org.csv", [b"\xEF\xBB\xBF".as_slice(), export.as_bytes()].concat()),
            ("org.csv", b"User ID/Email (Required)\r\na@x\r\n\"b\n@x\"\r\n".to_vec()),
            ("org.txt", b"{\"users\": []}".to_vec()),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).unwrap();
            let profile = Profile::default();
            let text = String::from_utf8_lossy(&bytes);
            let text = text.get(..200).unwrap_or(&text);
            // In one piece, and in parts (of 4 KiB, of 100 bytes).
            for part_bytes in [PART_BYTES, 4 << 10, 100] {
                let read = OrgState::read_path(&path, &profile, part_bytes);
                match (read, OrgState::from_bytes(&bytes, &path, &profile)) {
                    (Ok(read), Ok(parsed)) => {
                        assert!(same_org(&read, &parsed), "{name}: {text}");
                        assert!(read.ensure_index().matches(&read));
                        let spare = read.users.capacity() - read.users.len();
                        assert!(spare <= read.users.len() / 8, "{name}: {spare} spare");
                    }
                    (Err(read), Err(parsed)) => {
                        assert_eq!(read.to_string(), parsed.to_string(), "{name}: {text}")
                    }
                    (read, parsed) => panic!("{name} {part_bytes}: {text}\n{read:?}\n{parsed:?}"),
                }
            }
        }
    }

    #[test]
    fn a_probe_tells_json_and_counts_its_braces_in_blocks_of_any_size() {
        let files: [&[u8]; 11] = [
            b"",
            b"  \n\t ",
            b"\xEF\xBB\xBF  {\"users\": [{}, {\"a\": \"{\"}]}",
            b"\xEF\xBB\xBF",
            b"\xEF\xBBx{",
            b"\n\n\n\n\n\n\n\n\n{",
            b"\n\n\n\n\n\n\n\n\nUser ID/Email (Required)\n{a@x}",
            b"User ID/Email (Required)\n{a@x}",
            b"\x0c{}",
            b"{\"users\": [{}, {},{},\n{\"a\": \"}, {\"}\t,\r {}]}",
            b"{\"users\": [{},,{} , , {}]} ,{",
        ];
        for bytes in files {
            for name in ["org.json", "org.csv"] {
                let path = Path::new(name);
                let json = is_json(strip_bom(bytes), path);
                for block in 1..12 {
                    for targets in [vec![], vec![0], vec![1, 2, 3], (0..bytes.len()).step_by(3).collect()] {
                        let probe = Probe::of(bytes, path, block, targets.clone()).unwrap();
                        assert_eq!(probe.parts.is_some(), json, "{bytes:?} {name} {block}");
                        let Some(parts) = probe.parts else { continue };
                        assert_eq!(probe.len, bytes.len());
                        assert_parts_fit(bytes, &parts, &targets);
                        let (parts, len) =
                            Parts::scan_parallel(bytes, targets.clone(), block, u64::MAX).unwrap();
                        assert_eq!(len, bytes.len());
                        assert_parts_fit(bytes, &parts, &targets);
                    }
                }
            }
        }
    }

    /// Each part starts at a `{` after a `}` and a `,`, after a target,
    /// and each part's braces are counted.
    fn assert_parts_fit(bytes: &[u8], parts: &Parts, targets: &[usize]) {
        assert_eq!(parts.braces(), braces(bytes));
        assert_eq!(parts.braces.len(), parts.starts.len() + 1);
        assert!(parts.starts.len() <= targets.len());
        let mut ends = parts.starts.clone();
        ends.push(bytes.len());
        let mut start = 0;
        for (i, (&end, &n)) in ends.iter().zip(&parts.braces).enumerate() {
            assert!(end > start || (i == 0 && end == 0), "{targets:?} {ends:?}");
            assert_eq!(n, braces(&bytes[start..end]), "{bytes:?} {targets:?}");
            start = end;
        }
        for &start in &parts.starts {
            assert!(targets.iter().any(|&t| t <= start));
            let before: Vec<u8> =
                bytes[..start].iter().copied().filter(|b| !b" \n\t\r".contains(b)).collect();
            assert!(bytes[start] == b'{' && before.ends_with(b"},"), "{bytes:?} {start}");
        }
    }

    /// Users whose keys meet often, and an org of more of them than one
    /// thread indexes: lookups find the first user with each key.
    #[test]
    fn a_large_org_is_indexed_on_threads_alike() {
        let mut org = OrgState { locations: Some(vec!["Roma".into()]), ..OrgState::default() };
        let locations = [None, Some("Roma"), Some(" roma"), Some("Bucureşti"), Some("BUCUREŞTI")];
        // Most users share one allocation of their location, as users read
        // from a file do; some have one of their own.
        let shared: Vec<Option<Shared<String>>> = locations.iter().map(|l| l.map(Into::into)).collect();
        for i in 0..(index::PARALLEL_USERS + 500) {
            let location = match i % 7 {
                0 => locations[i % locations.len()].map(Into::into),
                _ => shared[i % locations.len()].clone(),
            };
            org.users.push(OrgUser {
                phone_number: (i % 3 != 0).then(|| format!("+39{}", i % 4000)),
                extension: (i % 5 != 0).then(|| format!(" {}", i % 700)),
                location,
                ..OrgUser::new(format!("User.{}@Acme.example", i % 4500))
            });
        }
        let indexed = org.clone().indexed();
        assert!(indexed.ensure_index().matches(&indexed));
        let first = |f: &dyn Fn(&OrgUser) -> bool| org.users.iter().position(f);
        for (i, user) in org.users.iter().enumerate().step_by(7) {
            let key = crate::text::email_key(&user.email);
            assert_eq!(indexed.user_index(&key), first(&|u| crate::text::email_key(&u.email) == key), "{i}");
            if let Some(number) = &user.phone_number {
                assert_eq!(indexed.phone_owner(number), first(&|u| u.phone_number == user.phone_number));
            }
            if let Some(ext) = &user.extension {
                let loc = location_key(user.location.as_deref());
                let owner =
                    first(&|u| u.extension == user.extension && location_key(u.location.as_deref()) == loc);
                assert_eq!(indexed.extension_owner(user.location.as_deref(), ext), owner, "{i}");
            }
        }
    }

    #[test]
    fn an_org_changed_after_indexing_is_indexed_again() {
        let json = br#"{"locations": ["Roma"], "users": [{"email": "a@x.example", "phone_number": "+390212345678"}]}"#;
        let loaded = OrgState::from_json(json, Path::new("o.json")).unwrap();
        // Indexed when first looked up.
        assert!(loaded.index.get().is_none());
        assert_eq!(loaded.user_index("a@x.example"), Some(0));
        assert!(loaded.index.get().is_some_and(|index| index.matches(&loaded)));
        let kept = loaded.clone().into_indexed();
        assert_eq!(kept.user_index("a@x.example"), Some(0));

        let changes: [fn(&mut OrgState); 6] = [
            |o| o.users.push(OrgUser::new("b@x.example")),
            |o| o.users[0].email = "A@Y.example".into(),
            |o| o.users[0].extension = Some("10".into()),
            |o| o.users[0].location = Some("Roma".into()),
            |o| o.locations = Some(vec!["Roma".into(), "Torino".into()]),
            |o| o.domains = Some(vec!["x.example".into()]),
        ];
        for change in changes {
            let mut org = loaded.clone();
            change(&mut org);
            assert!(!org.ensure_index().matches(&org));
            let org = org.into_indexed();
            assert!(org.ensure_index().matches(&org));
        }
        // Changes after which every key still finds its user keep the
        // index: a key spelled otherwise, a field no key depends on, a
        // number that goes (it is found in nobody).
        let mut org = loaded.clone();
        org.users[0].email = " A@X.example ".into();
        org.users[0].first_name = Some("Anna".into());
        org.users[0].phone_number = None;
        assert!(org.ensure_index().matches(&org));
        assert_eq!(org.phone_owner("+390212345678"), None);
        // Built in code: indexed when first looked up, or handed on.
        let mut fresh = OrgState::default();
        fresh.users.push(OrgUser::new("c@x.example"));
        assert!(fresh.clone().into_indexed().index.get().is_some());
        assert!(fresh.user("C@x.example").is_some());
    }
}
