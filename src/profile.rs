//! The profile: which packages and base licences exist, their column titles
//! and tiers.
//!
//! Packages change with Cisco's price list, not with csvcheck's code, so they
//! are data. The built-in profile ([`Profile::default`]) is
//! `src/default_profile.toml`; `--profile FILE` or [`Profile::from_toml`]
//! replaces it.
//!
//! ```
//! let profile = csvcheck::Profile::default();
//! let suite = profile.package_by_id("webex_suite").unwrap();
//! assert!(suite.calling && suite.meetings);
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{location_of, Error, Location, Result};
use crate::text::title_key;

const DEFAULT_PROFILE: &str = include_str!("default_profile.toml");

/// The largest profile file read: 1 MiB (the built-in one is 2 KB).
pub const MAX_PROFILE_BYTES: u64 = 1 << 20;

/// The most base licences a profile may define (they are kept as a bit set).
pub const MAX_BASE_LICENCES: usize = 16;

/// A Wholesale package: one column per subscription, one per user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageDef {
    /// Stable id used in the org state and reports, e.g. `webex_calling`.
    pub id: String,
    /// Column title before any `[subscription]`, e.g. `Webex Calling`.
    pub title: String,
    /// Rank from low to high; an admin may not go below the org's tier (P006).
    pub tier: u32,
    /// Whether the package includes calling (P007, P008, L002).
    #[serde(default)]
    pub calling: bool,
    /// Whether the package includes meetings (P009).
    #[serde(default)]
    pub meetings: bool,
}

/// A base licence column, e.g. `Basic Messaging`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseLicenceDef {
    /// Stable id used in the org state and reports, e.g. `messaging`.
    pub id: String,
    /// Column title, e.g. `Basic Messaging`.
    pub title: String,
}

/// Packages, base licences and extra text columns known to csvcheck.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Packages, lowest tier first.
    pub packages: Vec<PackageDef>,
    /// Base licences.
    #[serde(default)]
    pub base_licences: Vec<BaseLicenceDef>,
    /// Titles of further columns carried as free text.
    #[serde(default)]
    pub text_columns: Vec<String>,
}

impl Default for Profile {
    /// The built-in profile. It is parsed once per process and copied after
    /// that: the command line makes one for the default checker and one for
    /// its own options, and parsing TOML costs more than the rest of
    /// starting up a check.
    fn default() -> Self {
        static BUILT_IN: std::sync::OnceLock<Profile> = std::sync::OnceLock::new();
        BUILT_IN
            .get_or_init(|| {
                // The embedded profile is validated by a unit test, so this
                // cannot fail at run time; fall back to an empty profile rather
                // than panic anyway.
                Profile::from_toml(DEFAULT_PROFILE, Path::new("<built-in profile>")).unwrap_or(Profile {
                    packages: Vec::new(),
                    base_licences: Vec::new(),
                    text_columns: Vec::new(),
                })
            })
            .clone()
    }
}

impl Profile {
    /// Parses and validates a profile from TOML text; `path` names it in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Profile> {
        let profile: Profile = toml::from_str(text).map_err(|e| Error::Profile {
            path: path.to_owned(),
            location: e.span().map(|s| location_of(text.as_bytes(), s.start)).unwrap_or_default(),
            message: e.message().to_owned(),
        })?;
        profile.validate().map_err(|message| Error::Profile {
            path: path.to_owned(),
            location: Location::default(),
            message,
        })?;
        Ok(profile)
    }

    /// Reads a profile from a TOML file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Profile> {
        let path = path.as_ref();
        let bytes = crate::limits::Limits::UNLIMITED
            .with_max_file_bytes(MAX_PROFILE_BYTES)
            .read_path(path)
            .map_err(|e| match e {
            Error::Limit { path, location, .. } => Error::Limit {
                path,
                location,
                message: format!("more than {} bytes: too large to be a profile", MAX_PROFILE_BYTES),
            },
            e => e,
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|e| Error::Profile {
            path: path.to_owned(),
            location: location_of(&bytes, e.valid_up_to()),
            message: "not valid UTF-8".into(),
        })?;
        Profile::from_toml(text, path)
    }

    /// Checks the invariants the rest of csvcheck relies on.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.packages.is_empty() {
            return Err("a profile needs at least one package".into());
        }
        if self.packages.len() > usize::from(u8::MAX) {
            return Err("a profile may define at most 255 packages".into());
        }
        if self.base_licences.len() > MAX_BASE_LICENCES {
            return Err(format!("a profile may define at most {MAX_BASE_LICENCES} base licences"));
        }
        let mut ids = std::collections::HashSet::new();
        let mut titles = std::collections::HashSet::new();
        let entries = self
            .packages
            .iter()
            .map(|p| (&p.id, &p.title))
            .chain(self.base_licences.iter().map(|b| (&b.id, &b.title)));
        for (id, title) in entries {
            if id.trim().is_empty() || title.trim().is_empty() {
                return Err("every package and base licence needs an id and a title".into());
            }
            if title.contains('[') || title.contains(']') {
                return Err(format!("title {title:?} may not contain brackets"));
            }
            // Org files' ids are matched in any case: two ids that differ
            // only in case could not be told apart.
            if !ids.insert(id.to_ascii_lowercase()) {
                return Err(format!("id {id:?} is defined twice"));
            }
            let key = title_key(title);
            if key.ends_with("(suspended)") {
                return Err(format!(
                    "title {title:?} may not end in (Suspended): that suffix marks suspended columns"
                ));
            }
            if let Some(field) = field_with_title(&key) {
                return Err(format!("title {title:?} is the title of the {} column", field.id()));
            }
            if !titles.insert(key) {
                return Err(format!("title {title:?} is defined twice"));
            }
        }
        for title in &self.text_columns {
            let key = title_key(title);
            if key.is_empty() {
                return Err("a text column needs a title".into());
            }
            if titles.contains(&key) {
                return Err(format!("text column {title:?} is also a package or base licence title"));
            }
            if let Some(field) = field_with_title(&key) {
                return Err(format!("text column {title:?} is the title of the {} column", field.id()));
            }
        }
        Ok(())
    }

    /// The package with this id.
    pub fn package_by_id(&self, id: &str) -> Option<&PackageDef> {
        self.packages.iter().find(|p| p.id == id)
    }

    /// Index of the package with this id (ids in org files are matched exactly,
    /// then case-insensitively).
    pub fn package_index(&self, id: &str) -> Option<usize> {
        id_index(&self.packages, |p| &p.id, id)
    }

    /// Index of the base licence with this id (matched exactly, then
    /// case-insensitively).
    pub fn base_licence_index(&self, id: &str) -> Option<usize> {
        id_index(&self.base_licences, |b| &b.id, id)
    }

    /// The set of every base licence (what add-services mode gives a new user).
    pub fn all_base_licences(&self) -> BaseLicences {
        // At most 16 licences pass `validate`, but a profile built in code
        // is not validated: never shift past the set's 32 bits.
        BaseLicences((0..self.base_licences.len().min(32)).fold(0, |set, i| set | 1 << i))
    }

    /// The ids of a base-licence set, sorted alphabetically (the report order).
    pub fn base_licence_ids(&self, set: BaseLicences) -> Vec<String> {
        self.sorted_base_licence_ids(set).map(str::to_owned).collect()
    }

    /// The ids of a base-licence set in alphabetical order, borrowed: what
    /// [`base_licence_ids`](Profile::base_licence_ids) copies. Each step
    /// takes the least id of those left: a set holds usually three
    /// licences, and this runs for every row of a report, where sorting
    /// into a buffer cost more than the few comparisons.
    pub fn sorted_base_licence_ids(&self, set: BaseLicences) -> impl Iterator<Item = &str> + '_ {
        let mut left = set.0;
        std::iter::from_fn(move || {
            let mut least: Option<(u32, &str)> = None;
            let mut members = left;
            while members != 0 {
                let i = members.trailing_zeros();
                members &= members - 1;
                match self.base_licences.get(i as usize) {
                    Some(licence) if least.is_none_or(|(_, id)| licence.id.as_str() < id) => {
                        least = Some((i, licence.id.as_str()));
                    }
                    Some(_) => {}
                    // Not a licence of this profile: never listed.
                    None => left &= !(1 << i),
                }
            }
            let (i, id) = least?;
            left &= !(1 << i);
            Some(id)
        })
    }
}

/// The known field one of whose titles has this key.
fn field_with_title(key: &str) -> Option<crate::header::Field> {
    crate::header::Field::ALL.iter().copied().find(|f| f.titles().iter().any(|t| title_key(t) == key))
}

/// Where `id` (trimmed) is among the ids of `items`: equal bytes first — org files write
/// the ids as the profile does, and comparing them costs no folding of each
/// byte — then in any case.
fn id_index<T>(items: &[T], id_of: impl Fn(&T) -> &str, id: &str) -> Option<usize> {
    let id = crate::text::trim(id);
    items
        .iter()
        .position(|t| id_of(t) == id)
        .or_else(|| items.iter().position(|t| id_of(t).eq_ignore_ascii_case(id)))
}

/// A set of base licences, by index into [`Profile::base_licences`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BaseLicences(u32);

impl BaseLicences {
    /// The empty set.
    pub const EMPTY: BaseLicences = BaseLicences(0);

    /// Whether licence `index` is in the set.
    pub fn contains(self, index: usize) -> bool {
        index < 32 && self.0 & (1 << index) != 0
    }

    /// Adds licence `index`.
    pub fn insert(&mut self, index: usize) {
        if index < 32 {
            self.0 |= 1 << index;
        }
    }

    /// Removes licence `index`.
    pub fn remove(&mut self, index: usize) {
        if index < 32 {
            self.0 &= !(1 << index);
        }
    }

    /// The set as bits, licence `i` the bit `1 << i`.
    pub(crate) fn bits(self) -> u32 {
        self.0
    }

    /// The licences of either set.
    pub(crate) fn union(self, other: BaseLicences) -> BaseLicences {
        BaseLicences(self.0 | other.0)
    }

    /// The licences of this set not in `other`.
    pub(crate) fn without(self, other: BaseLicences) -> BaseLicences {
        BaseLicences(self.0 & !other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profile_is_valid_and_ordered_by_tier() {
        let p = Profile::from_toml(DEFAULT_PROFILE, Path::new("default")).unwrap();
        let ids: Vec<_> = p.packages.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            ["common_area_calling", "webex_voice", "webex_meetings", "webex_calling", "webex_suite"]
        );
        assert!(p.packages.windows(2).all(|w| w[0].tier < w[1].tier));
        assert_eq!(p.base_licences.len(), 3);
        assert_eq!(Profile::default(), p);
    }

    #[test]
    fn malformed_profile_names_line_and_column() {
        let err =
            Profile::from_toml("[[packages]]\nid = \"x\"\ntitle = 3\n", Path::new("p.toml")).unwrap_err();
        let loc = err.location().unwrap();
        assert_eq!(loc.line, 3);
        assert!(err.to_string().starts_with("p.toml:3:"), "{err}");
    }

    #[test]
    fn duplicate_ids_are_refused() {
        for second in ["a", "A"] {
            let text = format!(
                "[[packages]]\nid='a'\ntitle='A'\ntier=1\n[[packages]]\nid='{second}'\ntitle='B'\ntier=2\n"
            );
            let err = Profile::from_toml(&text, Path::new("p.toml")).unwrap_err();
            assert!(err.to_string().contains("defined twice"), "{err}");
        }
    }

    #[test]
    fn titles_that_would_be_read_as_something_else_are_refused() {
        let package = |title: &str| format!("[[packages]]\nid='a'\ntitle='{title}'\ntier=1\n");
        for (text, why) in [
            (package("Location"), "location column"),
            (package("Webex X (Suspended)"), "(Suspended)"),
            ("text_columns = ['webex  x']\n".to_owned() + &package("Webex X"), "also a package"),
            ("text_columns = [' ']\n".to_owned() + &package("Webex X"), "needs a title"),
            ("text_columns = ['location']\n".to_owned() + &package("Webex X"), "location column"),
        ] {
            let err = Profile::from_toml(&text, Path::new("p.toml")).unwrap_err();
            assert!(err.to_string().contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn the_set_of_all_licences_never_overflows() {
        let licence = |i: usize| BaseLicenceDef { id: format!("b{i}"), title: format!("B {i}") };
        let mut p = Profile { base_licences: (0..40).map(licence).collect(), ..Profile::default() };
        let all = p.all_base_licences();
        assert!((0..32).all(|i| all.contains(i)));
        p.base_licences.clear();
        assert!(p.all_base_licences().is_empty());
    }

    proptest::proptest! {
        /// The borrowed ids in order are the sorted copy, duplicates kept.
        #[test]
        fn sorted_ids_are_the_sorted_set(ids in proptest::collection::vec("[a-c]{0,2}", 0..8), bits in proptest::prelude::any::<u32>()) {
            let mut p = Profile::default();
            p.base_licences = ids.iter().map(|id| BaseLicenceDef { id: id.clone(), ..p.base_licences[0].clone() }).collect();
            let set = BaseLicences(bits);
            let mut expected: Vec<&str> =
                ids.iter().enumerate().filter(|(i, _)| set.contains(*i)).map(|(_, id)| id.as_str()).collect();
            expected.sort_unstable();
            proptest::prop_assert_eq!(p.sorted_base_licence_ids(set).collect::<Vec<_>>(), expected);
        }
    }

    #[test]
    fn base_licence_ids_are_sorted() {
        let p = Profile::default();
        assert_eq!(p.base_licence_ids(p.all_base_licences()), ["calling", "meetings", "messaging"]);
        let mut set = BaseLicences::EMPTY;
        set.insert(p.base_licence_index("calling").unwrap());
        assert_eq!(p.base_licence_ids(set), ["calling"]);
    }
}
