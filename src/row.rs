//! Stage 3: records → typed rows.
//!
//! A [`Row`] is a view over one data record and the header: it hands out
//! cells by [`Field`], package and base-licence flags, and typed values
//! ([`Flag`], [`NumberCell`], [`PhoneClass`]) without copying the record.
//! Nothing here emits diagnostics; rules turn these typed facts into codes.

use crate::header::{Field, Header, PackageColumn};
use crate::options::ImportMode;
use crate::profile::BaseLicences;
use crate::read::Record;

/// A package or base-licence cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// Empty: no change.
    Empty,
    /// `TRUE` (any case, surrounding spaces ignored).
    True,
    /// `FALSE` (any case, surrounding spaces ignored).
    False,
    /// Anything else (P001).
    Invalid,
}

impl Flag {
    /// Parses a flag cell.
    ///
    /// ```
    /// use csvcheck::row::Flag;
    /// assert_eq!(Flag::parse(" true "), Flag::True);
    /// assert_eq!(Flag::parse("yes"), Flag::Invalid);
    /// assert_eq!(Flag::parse(""), Flag::Empty);
    /// ```
    pub fn parse(cell: &str) -> Flag {
        // What exports and spreadsheets write, without the trim (byte by
        // byte: matching whole byte strings calls `memcmp`).
        match cell.as_bytes() {
            [] => return Flag::Empty,
            [b'T', b'R', b'U', b'E'] => return Flag::True,
            [b'F', b'A', b'L', b'S', b'E'] => return Flag::False,
            _ => {}
        }
        let cell = crate::text::trim(cell);
        if cell.is_empty() {
            Flag::Empty
        } else if cell.eq_ignore_ascii_case("true") {
            Flag::True
        } else if cell.eq_ignore_ascii_case("false") {
            Flag::False
        } else {
            Flag::Invalid
        }
    }
}

/// A Phone Number or Extension cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberCell<'a> {
    /// Empty: no change.
    Empty,
    /// `REMOVE`: remove the number.
    Remove,
    /// `REMOVE|<value>`: remove this number.
    RemoveValue(&'a str),
    /// A number to set (trimmed, not yet validated).
    Value(&'a str),
}

impl<'a> NumberCell<'a> {
    /// Parses a number cell.
    pub fn parse(cell: &'a str) -> NumberCell<'a> {
        let cell = crate::text::trim(cell);
        if cell.is_empty() {
            return NumberCell::Empty;
        }
        let upper = cell.get(..6).filter(|p| p.eq_ignore_ascii_case("remove"));
        match (upper, cell.get(6..)) {
            (Some(_), Some("")) => NumberCell::Remove,
            (Some(_), Some(rest)) if rest.starts_with('|') => {
                NumberCell::RemoveValue(crate::text::trim(rest.get(1..).unwrap_or_default()))
            }
            _ => NumberCell::Value(cell),
        }
    }

    /// The number this cell sets, if it sets one.
    pub fn value(self) -> Option<&'a str> {
        match self {
            NumberCell::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// What a phone number cell holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PhoneClass {
    /// E.164: `+`, then 8–15 digits, the first 1–9.
    Valid,
    /// 8–15 digits without `+` (N002).
    MissingPlus {
        /// The number with `+` restored, when that is valid E.164 (a leading
        /// `00` is the international prefix and becomes `+`).
        suggestion: Option<String>,
    },
    /// Mangled into scientific notation by a spreadsheet (N003).
    Scientific,
    /// Anything else (N001); a suggestion when only separators are wrong.
    Invalid {
        /// The number with spaces, dashes, dots and brackets removed, when
        /// that makes it valid E.164.
        suggestion: Option<String>,
    },
}

/// Whether `s` is E.164 as Control Hub wants it.
pub fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// Classifies a phone or caller-id number cell (already trimmed).
///
/// ```
/// use csvcheck::row::{classify_phone, PhoneClass};
/// assert_eq!(classify_phone("+390212345678"), PhoneClass::Valid);
/// assert_eq!(classify_phone("3.90212E+11"), PhoneClass::Scientific);
/// assert_eq!(
///     classify_phone("390212345678"),
///     PhoneClass::MissingPlus { suggestion: Some("+390212345678".into()) }
/// );
/// ```
pub fn classify_phone(s: &str) -> PhoneClass {
    if is_e164(s) {
        return PhoneClass::Valid;
    }
    if is_scientific(s) {
        return PhoneClass::Scientific;
    }
    if (8..=15).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        let restored = match s.strip_prefix("00") {
            Some(rest) => format!("+{rest}"),
            None => format!("+{s}"),
        };
        return PhoneClass::MissingPlus { suggestion: is_e164(&restored).then_some(restored) };
    }
    let compact: String =
        s.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}')).collect();
    let suggestion = (compact != s && is_e164(&compact)).then_some(compact);
    PhoneClass::Invalid { suggestion }
}

/// `3.90212E+11`, `3,9E11`, `4.4203E+11`: what a spreadsheet makes of a long
/// number it thinks is numeric; also with the `+` typed back in front
/// (`+3.90212E+11`), which does not bring the lost digits back.
fn is_scientific(s: &str) -> bool {
    let s = s.strip_prefix('+').unwrap_or(s);
    let Some(e) = s.find(['e', 'E']) else {
        return false;
    };
    let (mantissa, exponent) = s.split_at(e);
    let exponent = exponent.get(1..).unwrap_or_default();
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let mut parts = mantissa.splitn(2, ['.', ',']);
    let int = parts.next().unwrap_or_default();
    let frac = parts.next().unwrap_or("0");
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !exponent.is_empty()
        && exponent.len() <= 2
        && exponent.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` is a valid extension: 2–10 ASCII digits.
pub fn is_extension(s: &str) -> bool {
    (2..=10).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// One data record seen through the header.
#[derive(Clone, Copy, Debug)]
pub struct Row<'r> {
    /// The 1-based line the record starts on.
    pub line: u64,
    /// The 1-based index of the data record.
    pub row: u64,
    /// The record.
    pub record: &'r Record,
    /// The header it is read with.
    pub header: &'r Header,
}

impl<'r> Row<'r> {
    /// Cell `index` as written (untrimmed).
    pub fn cell(&self, index: usize) -> Option<&'r str> {
        self.record.field(index)
    }

    /// The cell of a known field as written, if the column exists.
    pub fn raw(&self, field: Field) -> Option<&'r str> {
        self.cell(self.header.field(field)?)
    }

    /// The trimmed cell of a known field; `None` when absent or empty.
    pub fn text(&self, field: Field) -> Option<&'r str> {
        self.raw(field).map(crate::text::trim).filter(|s| !s.is_empty())
    }

    /// Whether the record has as many fields as the header (else R001).
    pub fn is_well_formed(&self) -> bool {
        self.record.len() == self.header.len()
    }

    /// The package cells: (column index, column, flag).
    pub fn packages(&self) -> impl Iterator<Item = (usize, &'r PackageColumn, Flag)> + 'r {
        let (header, record) = (self.header, self.record);
        header.packages.iter().filter_map(move |&i| {
            let column = header.package_column(i)?;
            Some((i, column, Flag::parse(record.field(i).unwrap_or(""))))
        })
    }

    /// The base-licence cells: (column index, licence index, flag).
    pub fn base_licences(&self) -> impl Iterator<Item = (usize, usize, Flag)> + 'r {
        let (header, record) = (self.header, self.record);
        header.base_licences.iter().filter_map(move |&i| {
            let licence = header.base_licence_column(i)?;
            Some((i, licence, Flag::parse(record.field(i).unwrap_or(""))))
        })
    }

    /// A Phone Number / Extension cell, typed.
    pub fn number(&self, field: Field) -> NumberCell<'r> {
        NumberCell::parse(self.raw(field).unwrap_or(""))
    }

    /// The package and base-licence cells, each read once, as the plan
    /// and the rules ask about them.
    pub(crate) fn licence_cells(&self) -> LicenceCells<'r> {
        let mut cells = LicenceCells::new(!self.header.packages.is_empty());
        for (index, column, flag) in self.packages() {
            cells.add_package(index, column, flag);
        }
        for (_, licence, flag) in self.base_licences() {
            cells.add_base(licence, flag);
        }
        cells
    }
}

/// What the plan and the rules ask about a row's package and base-licence
/// cells ([`Row::licence_cells`]), read in one pass: most rows have one
/// TRUE and nothing to report, and a rule goes back to the cells only when
/// these say it may fire.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LicenceCells<'r> {
    /// How many package cells are TRUE.
    pub trues: usize,
    /// The first TRUE package cell: (column index, column).
    pub first_true: Option<(usize, &'r PackageColumn)>,
    /// Whether a TRUE is in a `(Suspended)` column.
    pub suspended_true: bool,
    /// Whether there are package cells and every one is FALSE: a delete.
    pub all_packages_false: bool,
    /// Whether a package cell is neither TRUE, FALSE nor empty.
    pub invalid_package: bool,
    /// Whether a base-licence cell is neither TRUE, FALSE nor empty.
    pub invalid_base: bool,
    /// Whether a base-licence cell is FALSE (B001).
    pub false_base: bool,
    /// The base licences with a TRUE cell (what "Add services only" adds).
    pub base_true: BaseLicences,
    /// The base licences whose last TRUE or FALSE cell is TRUE, and those
    /// whose last is FALSE ("Add and remove services" applies the cells in
    /// turn: the last one of a licence wins).
    pub base_last_true: BaseLicences,
    /// See [`base_last_true`](LicenceCells::base_last_true).
    pub base_last_false: BaseLicences,
}

impl<'r> LicenceCells<'r> {
    /// Before any cell is read; `has_packages`: whether the row has package
    /// cells (every one is FALSE until one is not).
    fn new(has_packages: bool) -> LicenceCells<'r> {
        LicenceCells {
            trues: 0,
            first_true: None,
            suspended_true: false,
            all_packages_false: has_packages,
            invalid_package: false,
            invalid_base: false,
            false_base: false,
            base_true: BaseLicences::EMPTY,
            base_last_true: BaseLicences::EMPTY,
            base_last_false: BaseLicences::EMPTY,
        }
    }

    /// Counts package cell `index` of `column`, the cells in file order.
    fn add_package(&mut self, index: usize, column: &'r PackageColumn, flag: Flag) {
        self.all_packages_false &= flag == Flag::False;
        match flag {
            Flag::True => {
                self.trues += 1;
                self.first_true = self.first_true.or(Some((index, column)));
                self.suspended_true |= column.suspended;
            }
            Flag::Invalid => self.invalid_package = true,
            Flag::Empty | Flag::False => {}
        }
    }

    /// Counts a cell of base licence `licence`, the cells in file order.
    fn add_base(&mut self, licence: usize, flag: Flag) {
        match flag {
            Flag::True => {
                self.base_true.insert(licence);
                self.base_last_true.insert(licence);
                self.base_last_false.remove(licence);
            }
            Flag::False => {
                self.false_base = true;
                self.base_last_false.insert(licence);
                self.base_last_true.remove(licence);
            }
            Flag::Invalid => self.invalid_base = true,
            Flag::Empty => {}
        }
    }

    /// `start` with the row's base-licence cells applied: `TRUE` adds;
    /// `FALSE` removes only in "Add and remove services" mode ("Add
    /// services only" ignores it, B001); the cells in turn, so that a
    /// licence's last cell wins.
    pub(crate) fn base_after(&self, start: BaseLicences, mode: ImportMode) -> BaseLicences {
        match mode {
            ImportMode::AddServices => start.union(self.base_true),
            ImportMode::AddRemoveServices => start.union(self.base_last_true).without(self.base_last_false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_markers() {
        assert_eq!(NumberCell::parse("REMOVE"), NumberCell::Remove);
        assert_eq!(NumberCell::parse(" remove "), NumberCell::Remove);
        assert_eq!(NumberCell::parse("REMOVE|+39021"), NumberCell::RemoveValue("+39021"));
        assert_eq!(NumberCell::parse("REMOVED"), NumberCell::Value("REMOVED"));
        assert_eq!(NumberCell::parse("1001"), NumberCell::Value("1001"));
        assert_eq!(NumberCell::parse("ré"), NumberCell::Value("ré"));
    }

    #[test]
    fn e164_bounds() {
        assert!(is_e164("+12345678"));
        assert!(is_e164("+123456789012345"));
        assert!(!is_e164("+1234567"));
        assert!(!is_e164("+1234567890123456"));
        assert!(!is_e164("+0212345678"));
        assert!(!is_e164("+39 02 1234"));
    }

    #[test]
    fn phone_classes() {
        assert_eq!(classify_phone("4.4203E+11"), PhoneClass::Scientific);
        assert_eq!(classify_phone("3,90212E11"), PhoneClass::Scientific);
        assert_eq!(classify_phone("+3.90212E+11"), PhoneClass::Scientific);
        assert_eq!(classify_phone("3E+11"), PhoneClass::Scientific);
        assert_eq!(classify_phone("3.9E+111"), PhoneClass::Invalid { suggestion: None });
        assert_eq!(
            classify_phone("+39 02 1234 5678"),
            PhoneClass::Invalid { suggestion: Some("+390212345678".into()) }
        );
        assert_eq!(classify_phone("123-456"), PhoneClass::Invalid { suggestion: None });
        assert_eq!(classify_phone("0212345678"), PhoneClass::MissingPlus { suggestion: None });
        assert_eq!(
            classify_phone("00390212345678"),
            PhoneClass::MissingPlus { suggestion: Some("+390212345678".into()) }
        );
        assert_eq!(classify_phone("E+11"), PhoneClass::Invalid { suggestion: None });
    }

    proptest::proptest! {
        /// The summary of the base-licence cells applies as the cells do,
        /// one after the other, in either mode, whichever licence repeats.
        #[test]
        fn base_licences_apply_as_the_cells_in_turn(
            cells in proptest::collection::vec((0..4usize, 0..4usize), 0..8),
            start in 0..16u32,
        ) {
            let flag = |f: usize| [Flag::Empty, Flag::True, Flag::False, Flag::Invalid][f];
            let mut summary = LicenceCells::new(false);
            for &(licence, f) in &cells {
                summary.add_base(licence, flag(f));
            }
            let mut start_set = BaseLicences::EMPTY;
            (0..4).filter(|i| start & 1 << i != 0).for_each(|i| start_set.insert(i));
            for mode in [ImportMode::AddServices, ImportMode::AddRemoveServices] {
                let mut expected = start_set;
                for &(licence, f) in &cells {
                    match (flag(f), mode) {
                        (Flag::True, _) => expected.insert(licence),
                        (Flag::False, ImportMode::AddRemoveServices) => expected.remove(licence),
                        _ => {}
                    }
                }
                proptest::prop_assert_eq!(summary.base_after(start_set, mode), expected);
            }
        }
    }

    #[test]
    fn extensions() {
        assert!(is_extension("10"));
        assert!(is_extension("1234567890"));
        assert!(!is_extension("1"));
        assert!(!is_extension("12a"));
        assert!(!is_extension("12345678901"));
    }
}
