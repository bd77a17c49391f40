//! Stage 2: the header record → what each column means.
//!
//! Titles are matched case-insensitively after trimming, NFC and collapsing
//! inner whitespace ([`crate::text::title_key`]). A column is a known
//! [`Field`], a package column (`Webex Calling [Sub-100234] (Suspended)`), a
//! base-licence column, a free-text column from the profile, or unknown. The
//! header records facts — duplicates, a missing email column, unknown titles
//! with the closest known one — and the H rules report them.
//!
//! ```
//! use csvcheck::{header::{Header, ColumnKind, Field}, Profile};
//! let profile = Profile::default();
//! let h = Header::parse(&["user id/email (required)", "Webex Suite [Sub-1] (Suspended)"], 1, &profile);
//! assert_eq!(h.field(Field::Email), Some(0));
//! let ColumnKind::Package(p) = &h.columns[1].kind else { panic!() };
//! assert!(p.suspended);
//! assert_eq!(p.subscription, "[sub-1]");
//! ```

use std::collections::HashMap;

use crate::profile::Profile;
use crate::text::{levenshtein_within, title_key};

macro_rules! fields {
    ($($variant:ident => $id:literal, [$($title:literal),+], $read_only:literal;)+) => {
        /// A column csvcheck knows by its title (SPEC §3).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Field {
            $(
                #[doc = concat!("`", $($title, "` `",)+ "` (id `", $id, "`)")]
                $variant,
            )+
        }

        impl Field {
            /// Every known field, in export order.
            pub const ALL: &'static [Field] = &[$(Field::$variant),+];

            /// The field id used in reports (`changes` keys).
            pub fn id(self) -> &'static str {
                match self { $(Field::$variant => $id),+ }
            }

            /// Titles this field is known by; the first is the export's.
            pub fn titles(self) -> &'static [&'static str] {
                match self { $(Field::$variant => &[$($title),+]),+ }
            }

            /// Whether Control Hub ignores or refuses edits to this column.
            pub fn is_read_only(self) -> bool {
                match self { $(Field::$variant => $read_only),+ }
            }
        }
    };
}

fields! {
    Email => "email", ["User ID/Email (Required)"], false;
    FirstName => "first_name", ["First Name"], false;
    LastName => "last_name", ["Last Name"], false;
    DisplayName => "display_name", ["Display Name"], false;
    Status => "status", ["User Status"], true;
    LastAccessTime => "last_service_accessed_time", ["Last Service Accessed Time"], true;
    DaysSinceLastAccess => "days_since_last_service_accessed", ["Days since Last Service Accessed"], true;
    PhoneNumber => "phone_number", ["Phone Number"], false;
    Extension => "extension", ["Extension"], false;
    CallerIdNumber => "caller_id_number", ["Caller ID Number"], false;
    CallerIdFirstName => "caller_id_first_name", ["Caller ID First Name"], false;
    CallerIdLastName => "caller_id_last_name", ["Caller ID Last Name"], false;
    Location => "location", ["Location"], false;
    Site => "site", ["Preferred Webex Site", "preferredWebExSite"], false;
}

impl Field {
    /// The title as it appears in a Control Hub export.
    pub fn title(self) -> &'static str {
        self.titles().first().copied().unwrap_or("")
    }

    /// Whether the field is a person's name (T004, T005 apply).
    pub fn is_name(self) -> bool {
        matches!(
            self,
            Field::FirstName
                | Field::LastName
                | Field::DisplayName
                | Field::CallerIdFirstName
                | Field::CallerIdLastName
        )
    }
}

/// A package column: `<package title> [<subscription>]… (Suspended)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageColumn {
    /// Index of the package in [`Profile::packages`].
    pub package: usize,
    /// The bracketed part(s), normalised (`""` when there is none).
    pub subscription: String,
    /// Whether the title ends in `(Suspended)`.
    pub suspended: bool,
}

/// What a column means.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnKind {
    /// A known field.
    Field(Field),
    /// A Wholesale package column.
    Package(PackageColumn),
    /// A base-licence column; the index is into [`Profile::base_licences`].
    BaseLicence(usize),
    /// A free-text column the profile lists (Title, Department, …).
    Text,
    /// A title the profile does not know.
    Unknown {
        /// The closest known title, when one is close enough to be a typo.
        suggestion: Option<String>,
    },
}

/// One column of the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The title exactly as written in the file.
    pub title: String,
    /// What the column means.
    pub kind: ColumnKind,
    /// For a repeated title: the index of the column it repeats (H002).
    pub duplicate_of: Option<usize>,
}

/// The parsed header record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The 1-based line of the header record.
    pub line: u64,
    /// Every column, in file order.
    pub columns: Vec<Column>,
    /// The column of each field, by `Field as usize` (rows look fields up
    /// dozens of times each).
    fields: [Option<usize>; Field::ALL.len()],
    /// Indexes of the package columns (not repeats), in file order.
    pub packages: Vec<usize>,
    /// Indexes of the base-licence columns (not repeats), in file order.
    pub base_licences: Vec<usize>,
    /// What each column is to the rules, worked out once rather than for
    /// every cell.
    roles: Vec<Role>,
}

/// What a column is to the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Role {
    /// What the text rules check in it.
    pub text: TextRole,
    /// What the other rules read from it.
    pub cell: CellRole,
}

/// What the rules other than the text rules read from a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CellRole {
    /// The value of a known field: the first column with its title.
    Field(Field),
    /// A package cell (one of [`Header::packages`]).
    Package,
    /// A base-licence cell (one of [`Header::base_licences`]).
    BaseLicence,
    /// Nothing: a repeated, free-text or unknown column.
    Other,
}

/// What a column is to the text rules (T004 on names and free text, T005
/// on names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextRole {
    /// A person's name ([`Field::is_name`]).
    Name(Field),
    /// Free text from the profile (Title, Department, …).
    Text,
    /// Anything else: email, numbers, licences, unknown columns.
    Other,
}

impl Header {
    /// Classifies the titles of a header record found on `line`.
    pub fn parse<S: AsRef<str>>(titles: &[S], line: u64, profile: &Profile) -> Header {
        let catalogue = Catalogue::new(profile);
        let mut columns = Vec::with_capacity(titles.len());
        let mut fields = [None; Field::ALL.len()];
        let mut seen: HashMap<String, usize> = HashMap::new();
        let (mut packages, mut base_licences) = (Vec::new(), Vec::new());
        for (index, title) in titles.iter().enumerate() {
            let title = title.as_ref();
            let (kind, identity) = catalogue.classify(title);
            let duplicate_of = seen.get(&identity).copied();
            if duplicate_of.is_none() {
                seen.insert(identity, index);
                match &kind {
                    ColumnKind::Field(f) => {
                        if let Some(slot) = fields.get_mut(*f as usize) {
                            *slot = Some(index);
                        }
                    }
                    ColumnKind::Package(_) => packages.push(index),
                    ColumnKind::BaseLicence(_) => base_licences.push(index),
                    ColumnKind::Text | ColumnKind::Unknown { .. } => {}
                }
            }
            columns.push(Column { title: title.to_owned(), kind, duplicate_of });
        }
        let roles = columns
            .iter()
            .enumerate()
            .map(|(index, c)| {
                let text = match c.kind {
                    ColumnKind::Field(f) if f.is_name() => TextRole::Name(f),
                    ColumnKind::Text => TextRole::Text,
                    _ => TextRole::Other,
                };
                let first = c.duplicate_of.is_none();
                let cell = match c.kind {
                    ColumnKind::Field(f) if fields.get(f as usize) == Some(&Some(index)) => {
                        CellRole::Field(f)
                    }
                    ColumnKind::Package(_) if first => CellRole::Package,
                    ColumnKind::BaseLicence(_) if first => CellRole::BaseLicence,
                    _ => CellRole::Other,
                };
                Role { text, cell }
            })
            .collect();
        Header { line, columns, fields, packages, base_licences, roles }
    }

    /// What each column is to the rules, in column order.
    pub(crate) fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// The index of the (first) column holding `field`.
    pub fn field(&self, field: Field) -> Option<usize> {
        self.fields.get(field as usize).copied().flatten()
    }

    /// The title of column `index` as written.
    pub fn title(&self, index: usize) -> &str {
        self.columns.get(index).map_or("", |c| c.title.as_str())
    }

    /// Whether this "header" is a `sep=;` line (see [`is_separator_line`]).
    pub(crate) fn is_separator_line(&self) -> bool {
        is_separator_line((0..self.len()).map(|i| self.title(i)))
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Whether the header has no columns.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The package column at `index`, if it is one.
    pub fn package_column(&self, index: usize) -> Option<&PackageColumn> {
        match self.columns.get(index).map(|c| &c.kind) {
            Some(ColumnKind::Package(p)) => Some(p),
            _ => None,
        }
    }

    /// The base licence at column `index`, if it is one.
    pub fn base_licence_column(&self, index: usize) -> Option<usize> {
        match self.columns.get(index).map(|c| &c.kind) {
            Some(ColumnKind::BaseLicence(b)) => Some(*b),
            _ => None,
        }
    }
}

/// Every title the profile knows, keyed for matching.
struct Catalogue {
    exact: HashMap<String, ColumnKind>,
    packages: HashMap<String, usize>,
    base_licences: HashMap<String, usize>,
    /// (key, title as exported) for suggestions.
    known: Vec<(String, String)>,
}

impl Catalogue {
    fn new(profile: &Profile) -> Catalogue {
        let mut exact = HashMap::new();
        let mut known = Vec::new();
        for &field in Field::ALL {
            for title in field.titles() {
                exact.insert(title_key(title), ColumnKind::Field(field));
            }
            known.push((title_key(field.title()), field.title().to_owned()));
        }
        for title in &profile.text_columns {
            exact.entry(title_key(title)).or_insert(ColumnKind::Text);
            known.push((title_key(title), title.clone()));
        }
        let packages = profile.packages.iter().enumerate().map(|(i, p)| (title_key(&p.title), i)).collect();
        let base_licences =
            profile.base_licences.iter().enumerate().map(|(i, b)| (title_key(&b.title), i)).collect();
        known.extend(profile.packages.iter().map(|p| (title_key(&p.title), p.title.clone())));
        known.extend(profile.base_licences.iter().map(|b| (title_key(&b.title), b.title.clone())));
        Catalogue { exact, packages, base_licences, known }
    }

    /// The column's kind and its identity for duplicate detection.
    fn classify(&self, title: &str) -> (ColumnKind, String) {
        let key = title_key(title);
        if let Some(kind) = self.exact.get(&key) {
            let identity = match kind {
                ColumnKind::Field(f) => format!("field:{}", f.id()),
                _ => format!("text:{key}"),
            };
            return (kind.clone(), identity);
        }
        let (name, subscription, suspended) = split_licence_title(&key);
        if let Some(&package) = self.packages.get(name) {
            let identity = format!("package:{package}:{subscription}");
            let column = PackageColumn { package, subscription: subscription.to_owned(), suspended };
            return (ColumnKind::Package(column), identity);
        }
        if let Some(&base) = self.base_licences.get(name) {
            return (ColumnKind::BaseLicence(base), format!("base:{base}:{subscription}"));
        }
        let suggestion = self.suggest(&key);
        (ColumnKind::Unknown { suggestion }, format!("unknown:{key}"))
    }

    /// The known title closest to `key`, if within a typo's distance.
    fn suggest(&self, key: &str) -> Option<String> {
        let (name, _, _) = split_licence_title(key);
        let allowed = (key.chars().count() / 3).clamp(2, 6);
        // Bounded comparisons: a hostile title of any length costs a length
        // check per known title, not a quadratic edit-distance table.
        let (_, title) = self
            .known
            .iter()
            .filter_map(|(k, title)| {
                let d = match (levenshtein_within(name, k, allowed), levenshtein_within(key, k, allowed)) {
                    (Some(a), Some(b)) => a.min(b),
                    (Some(d), None) | (None, Some(d)) => d,
                    (None, None) => return None,
                };
                Some((d, title))
            })
            .min_by_key(|(d, _)| *d)?;
        Some(title.clone())
    }
}

/// Whether a first line whose cells are `titles` is a `sep=;` line (any
/// delimiter after `=`, any case). Excel reads it as the delimiter to split
/// the file by, and some tools write it first for Excel's sake; to Control
/// Hub it is the header.
pub(crate) fn is_separator_line<'t>(titles: impl IntoIterator<Item = &'t str>) -> bool {
    let mut titles = titles.into_iter().map(str::trim);
    let first = titles.next().unwrap_or_default();
    first.len() <= 5
        && first.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("sep="))
        && titles.all(str::is_empty)
}

/// Splits a normalised licence title into (name, bracketed parts, suspended).
fn split_licence_title(key: &str) -> (&str, &str, bool) {
    let (rest, suspended) = match key.strip_suffix("(suspended)") {
        Some(rest) => (rest.trim_end(), true),
        None => (key, false),
    };
    match rest.find('[') {
        Some(at) if rest.ends_with(']') => {
            let (name, brackets) = rest.split_at(at);
            (name.trim_end(), brackets, suspended)
        }
        _ => (rest, "", suspended),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(titles: &[&str]) -> Header {
        Header::parse(titles, 1, &Profile::default())
    }

    #[test]
    fn known_fields_match_loosely() {
        let h = parse(&["  USER ID/Email  (Required)", "first\u{a0}name", "preferredWebExSite"]);
        assert_eq!(h.field(Field::Email), Some(0));
        assert_eq!(h.field(Field::FirstName), Some(1));
        assert_eq!(h.field(Field::Site), Some(2));
    }

    #[test]
    fn package_titles_carry_subscription_and_suspension() {
        let h = parse(&[
            "Webex Calling [Wholesale]",
            "Webex Calling[Sub-2]",
            "Webex Meetings [Wholesale] (Suspended)",
            "Webex Suite",
        ]);
        let p: Vec<_> = (0..4).map(|i| h.package_column(i).cloned().unwrap()).collect();
        assert_eq!((p[0].package, p[0].subscription.as_str(), p[0].suspended), (3, "[wholesale]", false));
        assert_eq!(p[1].subscription, "[sub-2]");
        assert_eq!((p[2].package, p[2].suspended), (2, true));
        assert_eq!((p[3].package, p[3].subscription.as_str()), (4, ""));
        assert_eq!(h.packages, [0, 1, 2, 3]);
    }

    #[test]
    fn same_package_and_subscription_is_a_duplicate() {
        let h = parse(&["Webex Calling [W]", "webex calling [w] (Suspended)", "First Name", "FIRST NAME"]);
        assert_eq!(h.columns[1].duplicate_of, Some(0));
        assert_eq!(h.columns[3].duplicate_of, Some(2));
        assert_eq!(h.packages, [0]);
    }

    #[test]
    fn unknown_titles_get_the_closest_known_title() {
        let h =
            parse(&["UserID/Email (Required)", "Frist Name", "Favourite Colour", "Webex Calling Pro [X]"]);
        let suggestion = |i: usize| match &h.columns[i].kind {
            ColumnKind::Unknown { suggestion } => suggestion.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(suggestion(0).as_deref(), Some("User ID/Email (Required)"));
        assert_eq!(suggestion(1).as_deref(), Some("First Name"));
        assert_eq!(suggestion(2), None);
        assert_eq!(suggestion(3).as_deref(), Some("Webex Calling"));
        assert_eq!(h.field(Field::Email), None);
    }

    #[test]
    fn roles_name_the_cells_rows_read() {
        let h =
            parse(&["First Name", "Webex Suite", "first name", "Basic Calling", "Department", "Webex Suite"]);
        let roles: Vec<_> = h.roles().iter().map(|r| (r.text, r.cell)).collect();
        assert_eq!(
            roles,
            [
                (TextRole::Name(Field::FirstName), CellRole::Field(Field::FirstName)),
                (TextRole::Other, CellRole::Package),
                (TextRole::Name(Field::FirstName), CellRole::Other),
                (TextRole::Other, CellRole::BaseLicence),
                (TextRole::Text, CellRole::Other),
                (TextRole::Other, CellRole::Other),
            ]
        );
        // Every package and base-licence column of the header, and only those.
        let cells = |role: CellRole| {
            h.roles().iter().enumerate().filter(move |(_, r)| r.cell == role).map(|(i, _)| i)
        };
        assert_eq!(cells(CellRole::Package).collect::<Vec<_>>(), h.packages);
        assert_eq!(cells(CellRole::BaseLicence).collect::<Vec<_>>(), h.base_licences);
    }

    #[test]
    fn text_and_base_licence_columns() {
        let h = parse(&["Department", "Basic Calling", "Time  Zone"]);
        assert_eq!(h.columns[0].kind, ColumnKind::Text);
        assert_eq!(h.base_licence_column(1), Some(2));
        assert_eq!(h.columns[2].kind, ColumnKind::Text);
    }
}
