//! Number rules (N001–N007): phone numbers, caller-id numbers and
//! extensions — their format, and their uniqueness in the file and the org.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};

use super::email::KeySeen;
use super::intern::{hash_bytes, hash_number, HashedStrings, Hasher, Interner, Probe, Slots};
use super::{shown, Cells, Code, Diagnostic, FactText, RowContext, RowFacts};
use crate::header::Field;
use crate::org::OrgState;
use crate::row::{classify_phone, is_extension, NumberCell, PhoneClass};

/// The valid numbers a row sets, for the cross-row rules.
pub(crate) struct NumberFacts<'a> {
    pub phone: Option<&'a str>,
    pub extension: Option<&'a str>,
}

/// Runs the per-row number rules.
pub(crate) fn check<'a>(
    cx: &RowContext<'_>,
    cells: &Cells<'a>,
    out: &mut Vec<Diagnostic>,
) -> NumberFacts<'a> {
    let mut facts = NumberFacts { phone: None, extension: None };
    if let NumberCell::Value(v) = cells.number(Field::PhoneNumber) {
        if check_phone(cx, Field::PhoneNumber, v, out) {
            facts.phone = Some(v);
        }
    }
    if let Some(v) = cells.text(Field::CallerIdNumber) {
        check_phone(cx, Field::CallerIdNumber, v, out);
    }
    if let NumberCell::Value(v) = cells.number(Field::Extension) {
        if invalid_extension(cx, v, out) {
            facts.extension = Some(v);
        }
    }
    facts
}

/// Classifies a number and reports N001–N003; returns whether it is valid.
fn check_phone(cx: &RowContext<'_>, field: Field, value: &str, out: &mut Vec<Diagnostic>) -> bool {
    match classify_phone(value) {
        PhoneClass::Valid => true,
        PhoneClass::Scientific => {
            phone_scientific(cx, field, value, out);
            false
        }
        PhoneClass::MissingPlus { suggestion } => {
            phone_missing_plus(cx, field, value, suggestion, out);
            false
        }
        PhoneClass::Invalid { suggestion } => {
            invalid_phone(cx, field, value, suggestion, out);
            false
        }
    }
}

/// Documentation of N001: what it checks, why Control Hub cares, how to fix it.
pub(crate) const N001: &str = r#"## What it checks
A `Phone Number` or `Caller ID Number` that is not E.164: `+`, then 8 to 15
digits, the first one 1-9, and nothing else (no spaces, dashes, dots or
brackets). Empty cells, and `REMOVE` or `REMOVE|<value>` in Phone Number,
are accepted; digits that only lack the `+` are N002, scientific notation is
N003. Error: rejects the row.

## Why Control Hub cares
Control Hub asks for external numbers with the leading `+` and no other
characters (help.webex.com article nlkiw8e), and Webex Calling CSVs accept
only E.164 (nu0oia0). Cisco's own column reference shows `123-456-7890` and
`+1 123 456 7890` as examples, so the rule is not stated consistently;
csvcheck takes the strict reading. Control Hub does not normalise numbers it
stores (nvjt3ce), so a formatted number would be kept as typed.

## How to fix
Write `+`, the country code and the national number with no separators:
`02 1234 5678` in Milan becomes `+390212345678` (Italian numbers keep their
leading 0 after +39). Replace a leading `00` with `+`.

## Example

    User ID/Email (Required),Phone Number,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,+39 02 1234 5678,Milano HQ,TRUE
    marco.bianchi@acme.example,(06) 9876 5432,Roma,TRUE

Use instead:

    User ID/Email (Required),Phone Number,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,+390212345678,Milano HQ,TRUE
    marco.bianchi@acme.example,+390698765432,Roma,TRUE
"#;
/// N001: not E.164.
fn invalid_phone(
    cx: &RowContext<'_>,
    field: Field,
    value: &str,
    suggestion: Option<String>,
    out: &mut Vec<Diagnostic>,
) {
    let help = match suggestion {
        Some(s) => format!("write the number without spaces or separators: did you mean {s}?"),
        None => "write the number in E.164: +, the country code, then the number, 8 to 15 digits \
                 in all and nothing else (e.g. +390212345678)"
            .to_owned(),
    };
    out.push(cx.field_diagnostic(Code::N001, field, format!("{value:?} is not an E.164 number")).help(help));
}

/// Documentation of N002: what it checks, why Control Hub cares, how to fix it.
pub(crate) const N002: &str = r#"## What it checks
A `Phone Number` or `Caller ID Number` made only of digits, 8 to 15 of them,
with no `+`: the `+` of an E.164 number was probably stripped by a
spreadsheet. Error: rejects the row.

## Why Control Hub cares
Excel and other spreadsheets read `+390212345678` as a number, drop the `+`
and save `390212345678`; Cisco warns about this on its CSV pages
(help.webex.com article nlkiw8e), and real exports contain numbers such as
`442035978111`. Without the `+` the value is not E.164, which Control Hub
asks for. Longer numbers can also lose digits or turn into scientific
notation (N003).

## How to fix
- If the digits already start with the country code, put the `+` back;
  `csvcheck fix --unsafe-fixes` does this for you (a guess: check it).
- A national number such as `0212345678` needs its country code:
  `+390212345678`. Digits starting with `00` carry an international prefix:
  replace the `00` with `+`.
- To keep the `+`, format the column as Text before typing or pasting, or
  edit the CSV in a text editor.

## Example

    User ID/Email (Required),Phone Number,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,390212345678,Milano HQ,TRUE

Use instead:

    User ID/Email (Required),Phone Number,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,+390212345678,Milano HQ,TRUE
"#;
/// N002: digits only, 8–15 long — the `+` was probably stripped.
fn phone_missing_plus(
    cx: &RowContext<'_>,
    field: Field,
    value: &str,
    suggestion: Option<String>,
    out: &mut Vec<Diagnostic>,
) {
    let help = match suggestion {
        Some(s) => format!("add the leading + (spreadsheets drop it); did you mean {s}?"),
        None => "add the + and the country code (spreadsheets drop the +); a leading 00 is \
                 written + in E.164"
            .to_owned(),
    };
    out.push(cx.field_diagnostic(Code::N002, field, format!("{value:?} has no leading +")).help(help));
}

/// Documentation of N003: what it checks, why Control Hub cares, how to fix it.
pub(crate) const N003: &str = r#"## What it checks
A `Phone Number` or `Caller ID Number` mangled into scientific notation, such
as `3.90212E+11`: digits, a decimal point or comma, `E` and an exponent of
at most two digits, with or without a `+` typed back in front
(`+3.90212E+11`, `3,90212E+11`, `3E11`). Error: rejects the row.

## Why Control Hub cares
Spreadsheets display long numbers in scientific notation and can save them
that way, losing every digit not shown; above 15 digits they lose precision
even in the full value. The value is no phone number at all, and the
original cannot be recovered from the cell, so there is no automatic fix.

## How to fix
Retype the number from a trusted source (a fresh Control Hub export, the
location's number list) as `+390212345678`, and format the column as Text
so the spreadsheet leaves it alone.

## Example

    User ID/Email (Required),Phone Number,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,3.90212E+11,Milano HQ,TRUE

Use instead:

    User ID/Email (Required),Phone Number,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,+390212345678,Milano HQ,TRUE
"#;
/// N003: mangled into scientific notation.
fn phone_scientific(cx: &RowContext<'_>, field: Field, value: &str, out: &mut Vec<Diagnostic>) {
    out.push(
        cx.field_diagnostic(
            Code::N003,
            field,
            format!(
                "{value:?} is a number a spreadsheet turned into scientific notation; its digits are lost"
            ),
        )
        .help(
            "type the full number again as text (+390212345678), and format the column as Text before saving",
        ),
    );
}

/// Documentation of N004: what it checks, why Control Hub cares, how to fix it.
pub(crate) const N004: &str = r#"## What it checks
An `Extension` that is not 2 to 10 digits: a single digit, more than 10
digits, or any letter, space, `+` or dash fires. Empty cells and `REMOVE`
or `REMOVE|<value>` are accepted. Error: rejects the row.

## Why Control Hub cares
Webex Calling extensions are 2-10 digits, within the org's dial plan
(help.webex.com article pxtu15); Calling rejects an extension that is not
digits only or has the wrong length (errors 4910 and WXC-4909). The org's own
setting may be narrower, and an extension may not be an emergency number such
as 112; csvcheck checks neither. A spreadsheet can also drop the leading
zero of `0123`: still valid, but a different extension.

## How to fix
Use digits only, e.g. `1001`. Leave the cell empty for no change, or write
`REMOVE` to remove the extension. Format the column as Text to keep leading
zeros.

## Example

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,int. 1001,Milano HQ,TRUE
    marco.bianchi@acme.example,7,Roma,TRUE

Use instead:

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,1001,Milano HQ,TRUE
    marco.bianchi@acme.example,1007,Roma,TRUE
"#;
/// N004: an extension that is not 2–10 digits. Returns whether it is valid.
fn invalid_extension(cx: &RowContext<'_>, value: &str, out: &mut Vec<Diagnostic>) -> bool {
    if is_extension(value) {
        return true;
    }
    let why = if !value.bytes().all(|b| b.is_ascii_digit()) {
        "it has characters other than digits"
    } else if value.len() < 2 {
        "it is shorter than 2 digits"
    } else {
        "it is longer than 10 digits"
    };
    out.push(
        cx.field_diagnostic(Code::N004, Field::Extension, format!("extension {value:?} is invalid: {why}"))
            .help("write the extension as 2 to 10 digits (e.g. 1001), or REMOVE to remove it"),
    );
    false
}

/// What one row finds about one of its numbers, in each of the two ways
/// things can end for the org user who has that number now.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    /// Nothing.
    Nothing,
    /// A row earlier in the file, on this line, holds it (N005, N007).
    Repeat(u64),
    /// The org user holds it and keeps it (N006, N007).
    Taken(usize),
}

/// A row holding a number: its line and the id of its key.
#[derive(Clone, Copy, Debug)]
struct Holder {
    line: u64,
    key: u32,
}

/// The key of a number of [`NumberTable`] whose value is not packed in it
/// but is the id of its text there.
const TEXT: u64 = 1 << 63;

/// The value of a run of 1 to 18 ASCII digits (below 10^18, so below
/// [`TEXT`]); `None` for anything else.
fn digits_value(digits: &[u8]) -> Option<u64> {
    if !(1..=18).contains(&digits.len()) {
        return None;
    }
    // The digits before the last eights one by one, then eight at a time
    // (a phone number is 8 to 15 digits: one eight).
    let (head, eights) = digits.split_at(digits.len() % 8);
    let mut n = 0u64;
    for &b in head {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n * 10 + u64::from(digit);
    }
    for eight in eights.chunks_exact(8) {
        n = n * 100_000_000 + eight_digits_value(eight.try_into().ok()?)?;
    }
    Some(n)
}

/// The value of eight ASCII digits, if they are, computed in a word at a
/// time (the first digit is the most significant, in the lowest byte).
fn eight_digits_value(eight: [u8; 8]) -> Option<u64> {
    use crate::swar::splat;
    const LOW: u64 = splat(0x0f);
    const ZEROS: u64 = splat(b'0');
    let word = u64::from_le_bytes(eight);
    // Every byte is 0x30 to 0x39: its high half is 3 and stays 3 with 6
    // added (a byte that carries into the next has failed already).
    let high = !LOW;
    if word & high != ZEROS || word.wrapping_add(splat(6)) & high != ZEROS {
        return None;
    }
    let digits = word - ZEROS;
    // Pairs, then fours, then the eight: each step multiplies the more
    // significant half of every lane by 10, 100, 10,000.
    let pairs = (digits * 10 + (digits >> 8)) & 0x00ff_00ff_00ff_00ff;
    let fours = (pairs * 100 + (pairs >> 16)) & 0x0000_ffff_0000_ffff;
    Some((fours * 10_000 + (fours >> 32)) & 0xffff_ffff)
}

/// A phone number as an integer key: `+` and 1 to 18 digits, the first
/// not 0, is the value of its digits — every valid E.164 number (8 to 15
/// digits). The digits, with no leading zero, are the value written in
/// decimal: two numbers get the same key only if they are equal. Never 0.
fn pack_phone(phone: &[u8]) -> Option<u64> {
    match phone.strip_prefix(b"+") {
        Some(digits) if digits.first() != Some(&b'0') => digits_value(digits),
        _ => None,
    }
}

/// Where a packed extension keeps its number of digits and its location.
const EXTENSION_LEN_SHIFT: u32 = 34;
const EXTENSION_LOCATION_SHIFT: u32 = 38;
/// The locations whose extensions pack: their ids fill bits 38 to 62.
const PACKED_LOCATIONS: u32 = 1 << (63 - EXTENSION_LOCATION_SHIFT);
/// The bits of a packed extension below its location.
const EXTENSION_DIGITS: u64 = (1 << EXTENSION_LOCATION_SHIFT) - 1;

/// The digits of an extension of 1 to 10 digits as an integer: their value
/// (below 10^10 < 2^34) and their number (below 16: leading zeros count,
/// `0123` is not `123`), each in bits of its own below bit 38. Never 0.
fn pack_extension_digits(extension: &[u8]) -> Option<u64> {
    if extension.len() > 10 {
        return None;
    }
    let value = digits_value(extension)?;
    Some((extension.len() as u64) << EXTENSION_LEN_SHIFT | value)
}

/// An extension of 1 to 10 digits in location `location` (an id) as an
/// integer key: [`pack_extension_digits`] and the location, in bits of its
/// own below [`TEXT`]. Two extensions get the same key only if they have
/// the same digits in the same location.
#[cfg(test)]
fn pack_extension(extension: &[u8], location: u32) -> Option<u64> {
    if location >= PACKED_LOCATIONS {
        return None;
    }
    Some(u64::from(location) << EXTENSION_LOCATION_SHIFT | pack_extension_digits(extension)?)
}

/// The hash of a phone number's key in [`Numbers::phones`].
fn phone_hash(number: u64) -> u64 {
    hash_number(number, 0)
}

/// The hash of an extension's key in [`Numbers::extensions`]: that of its
/// digits salted with the hash of its location's key (`location_hashes`,
/// by id), so that a row's facts, which know the location by its key and
/// not by its id, tell it beforehand (see [`NumberKeys`]).
fn extension_hash(location_hashes: &[u64], number: u64) -> u64 {
    if number & TEXT != 0 {
        return hash_number(number, 0);
    }
    let location = (number >> EXTENSION_LOCATION_SHIFT) as usize;
    hash_number(number & EXTENSION_DIGITS, location_hashes.get(location).copied().unwrap_or(0))
}

/// What the cross-row tables look a row's numbers up by, worked out with
/// the row's facts, on the threads that check the rows in parallel: the
/// in-order pass then only looks them up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct NumberKeys {
    /// The phone number as [`pack_phone`] packs it (0: none, or it does
    /// not pack).
    phone: u64,
    /// The extension as [`pack_extension_digits`] packs it (0: none, or it
    /// does not pack).
    extension: u64,
    /// The hash of the key of the extension's location, if any (see
    /// [`hash_bytes`]).
    location: u64,
}

impl NumberKeys {
    /// The keys of the numbers in `text`.
    pub(crate) fn of(text: FactText<'_>) -> NumberKeys {
        let mut keys =
            NumberKeys { phone: text.phone.and_then(pack_phone).unwrap_or(0), ..NumberKeys::default() };
        if let Some((extension, location)) = text.extension {
            keys.extension = pack_extension_digits(extension).unwrap_or(0);
            keys.location = hash_bytes(location);
        }
        keys
    }

    /// The hash of the packed extension (see [`extension_hash`]).
    fn extension_hash(&self) -> u64 {
        hash_number(self.extension, self.location)
    }
}

/// The holder in a slot of [`NumberTable::first`] that is kept in
/// [`NumberTable::odd`].
const ODD: u32 = 1 << 31;

/// Set in the holder of a slot of [`NumberTable::first`] when that holder
/// is also the number's owner's first row holding it: the owner's row came
/// first, as an org user keeping their own number does in most files. Such
/// a number has no entry in [`NumberTable::owner_first`].
const OWNS: u32 = 1 << 30;

/// One kind of number of a file — phone numbers, or extensions in their
/// locations — each by its key (see [`Numbers`]), with its first holders.
#[derive(Debug, Default)]
struct NumberTable {
    /// The first row of all holding each number: the holder when the
    /// number is free, or when the org user who has it gives it up
    /// somewhere in the file. Each slot is ten bytes (a million-row file
    /// holds two million numbers): the number, below [`WIDE`] — every
    /// phone number of 14 digits or fewer, every extension in one of a
    /// file's first thousand locations — and its holder, which is the id
    /// of the row's key when the row is the first on which that key is
    /// valid (its line is the key's first line, which
    /// [`Keys`](super::email::Keys) keeps), as in most files every row;
    /// else [`ODD`], and the holder is in `odd`; either with [`OWNS`] set
    /// when the row is its org owner's.
    first: Slots<[u16; 5]>,
    /// The holders of `first` that are not their key's first valid row,
    /// and those of the numbers from [`WIDE`] on.
    odd: HashMap<u64, Holder, Hasher>,
    /// For the numbers an org user has, that user's first row holding
    /// theirs, when another row held the number before it (else [`OWNS`]
    /// in `first` says so): the only holder allowed when the user keeps
    /// it. At most one number per org user, so kept apart, and `first`
    /// stays small.
    owner_first: HashMap<u64, Holder, Hasher>,
    /// The text of the numbers that do not pack, by id: their key is the
    /// id with [`TEXT`] set.
    others: Interner,
}

/// The numbers too wide for a slot of [`NumberTable::first`] (48 bits).
const WIDE: u64 = 1 << 48;

/// A slot of [`NumberTable::first`]: `number` (not 0, below [`WIDE`]) and
/// `holder`, in 16-bit parts.
fn number_slot(number: u64, holder: u32) -> [u16; 5] {
    [number as u16, (number >> 16) as u16, (number >> 32) as u16, holder as u16, (holder >> 16) as u16]
}

/// The number and the holder in a slot of [`NumberTable::first`].
fn slot_number([n0, n1, n2, h0, h1]: [u16; 5]) -> (u64, u32) {
    (u64::from(n0) | u64::from(n1) << 16 | u64::from(n2) << 32, u32::from(h0) | u32::from(h1) << 16)
}

impl NumberTable {
    /// The key of a number that does not pack.
    fn other(&mut self, text: &[u8]) -> u64 {
        TEXT | u64::from(self.others.id(text))
    }

    /// What a row on `line` whose key is `key` (of the org's user `me`)
    /// holding number `number` (of hash `hash`) finds, if the number's
    /// owner `owner` gives it up and if they keep it; records the row as a
    /// holder where it is the first. `first_line` gives the first line of
    /// a key (see [`Keys::first_line`](super::email::Keys::first_line));
    /// `rehash` the hash of a number, when the table grows.
    #[allow(clippy::too_many_arguments)]
    fn claim(
        &mut self,
        number: u64,
        hash: u64,
        line: u64,
        key: KeySeen,
        owner: Option<usize>,
        me: Option<usize>,
        first_line: &dyn Fn(u32) -> Option<u64>,
        rehash: impl Fn(u64) -> u64,
    ) -> (Found, Found) {
        if line == 0 {
            // Records start on line 1 or later.
            return (Found::Nothing, Found::Nothing);
        }
        let found = |held: Holder| if held.key == key.id { Found::Nothing } else { Found::Repeat(held.line) };
        let holds = Holder { line, key: key.id };
        let mine = owner.is_some() && me == owner;
        // What `first` tells of the owner's first row: `Some` when it is
        // known without `owner_first`.
        let (if_free, owners) = if number >= WIDE {
            (self.first_aside(number, holds).map_or(Found::Nothing, found), None)
        } else {
            match self.first.probe(hash, |slot| slot_number(slot).0 == number) {
                Probe::Found(_, slot) => {
                    let (_, holder) = slot_number(slot);
                    let held = self.holder(number, holder & !OWNS, first_line);
                    (found(held), (holder & OWNS != 0).then(|| found(held)))
                }
                Probe::Vacant(at) => {
                    let holder = if key.first_valid && key.id < OWNS {
                        key.id
                    } else {
                        self.odd.insert(number, holds);
                        ODD
                    };
                    let slot = number_slot(number, if mine { holder | OWNS } else { holder });
                    self.first.fill(at, hash, slot, |slot| rehash(slot_number(slot).0));
                    // No row held the number: nor did its owner's.
                    let kept = owner.map(|owner| if mine { Found::Nothing } else { Found::Taken(owner) });
                    (Found::Nothing, kept)
                }
            }
        };
        let Some(owner) = owner else {
            return (if_free, Found::Nothing);
        };
        if let Some(if_kept) = owners {
            return (if_free, if_kept);
        }
        let if_kept = match self.owner_first.get(&number) {
            Some(&held) => found(held),
            None if mine => {
                self.owner_first.insert(number, holds);
                Found::Nothing
            }
            None => Found::Taken(owner),
        };
        (if_free, if_kept)
    }

    /// The first holder of a number from [`WIDE`] on, if any; else makes
    /// `holds` its first holder.
    #[cold]
    #[inline(never)]
    fn first_aside(&mut self, number: u64, holds: Holder) -> Option<Holder> {
        match self.odd.entry(number) {
            Entry::Occupied(held) => Some(*held.get()),
            Entry::Vacant(free) => {
                free.insert(holds);
                None
            }
        }
    }

    /// The holder a slot of `first` for `number` names.
    fn holder(&self, number: u64, holder: u32, first_line: &dyn Fn(u32) -> Option<u64>) -> Holder {
        if holder == ODD {
            // Only `claim` writes `ODD`, and it keeps the holder.
            self.odd.get(&number).copied().unwrap_or(Holder { line: u64::MAX, key: u32::MAX })
        } else {
            // `claim` writes a key's id only once its first line is set.
            Holder { line: first_line(holder).unwrap_or(u64::MAX), key: holder }
        }
    }

    /// Makes room for `numbers` more numbers; `rehash` as for
    /// [`claim`](Self::claim).
    fn reserve(&mut self, numbers: usize, rehash: impl Fn(u64) -> u64) {
        self.first.reserve(numbers, |slot| rehash(slot_number(slot).0));
    }
}

/// Every number of a file, with its first holders. Phone numbers and
/// extensions are kept as integers (see [`pack_phone`], and
/// [`pack_extension_digits`] with the location's id above
/// [`EXTENSION_LOCATION_SHIFT`]) in the slots of their tables, not as text:
/// these are the largest tables of a file's check.
#[derive(Debug, Default)]
struct Numbers {
    phones: NumberTable,
    /// Extensions by place: extension and location.
    extensions: NumberTable,
    /// The locations of the extensions, by id: the key of each (empty for
    /// the default location). A file names a few.
    locations: HashedStrings,
    /// The hash of each location's key, by id (see [`extension_hash`]).
    location_hashes: Vec<u64>,
    /// An extension that does not pack, as kept: its digits, then its
    /// location's id (four bytes).
    scratch: Vec<u8>,
}

impl Numbers {
    /// The key of a phone number in `phones`, and its hash; `keys` are the
    /// row's (see [`NumberKeys`]).
    fn phone(&mut self, phone: &[u8], keys: &NumberKeys) -> (u64, u64) {
        if keys.phone != 0 {
            return (keys.phone, phone_hash(keys.phone));
        }
        let number = self.phones.other(phone);
        (number, phone_hash(number))
    }

    /// The key of an extension in a location (its key) in `extensions`,
    /// and its hash; `keys` are the row's (see [`NumberKeys`]).
    fn extension(&mut self, extension: &[u8], location: &[u8], keys: &NumberKeys) -> (u64, u64) {
        let id = match self.locations.find(keys.location, |l| l == location) {
            Ok(id) => id,
            Err(vacant) => {
                self.location_hashes.push(keys.location);
                self.locations.insert(vacant, keys.location, location, hash_bytes)
            }
        };
        if keys.extension != 0 && id < PACKED_LOCATIONS {
            return (u64::from(id) << EXTENSION_LOCATION_SHIFT | keys.extension, keys.extension_hash());
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(extension);
        self.scratch.extend_from_slice(&id.to_le_bytes());
        let number = self.extensions.other(&self.scratch);
        (number, extension_hash(&self.location_hashes, number))
    }
}

/// A finding that depends on whether an org user gives a number up.
#[derive(Debug)]
struct Pending {
    index: usize,
    if_released: Option<Diagnostic>,
    if_kept: Option<Diagnostic>,
}

/// N005–N007, fed the rows one at a time in input order.
///
/// A number or extension an org user has blocks the other rows only if no
/// row of the file gives it up — a row of that user, without an error, that
/// deletes them or removes or replaces the number — and that row may come
/// later. Until it comes (or the file ends) a row holding such a number has
/// two possible findings; it waits in `pending`. Which row counts as the
/// first holder depends on the same question, so [`NumberTable`] keeps both.
#[derive(Debug)]
pub(crate) struct DuplicateNumbers<'o> {
    org: Option<&'o OrgState>,
    numbers: Numbers,
    /// Org users whose row in this file gives up their number or extension:
    /// their current values no longer block anybody.
    released_phone: HashSet<usize, Hasher>,
    released_extension: HashSet<usize, Hasher>,
    /// Waiting findings, by sequence (so in row order).
    pending: BTreeMap<u64, Pending>,
    /// The waiting findings of each (is a phone, org user).
    waiting_on: HashMap<(bool, usize), Vec<u64>, Hasher>,
    sequence: u64,
    /// Findings of earlier rows settled by a release.
    settled: Vec<(usize, Diagnostic)>,
}

impl<'o> DuplicateNumbers<'o> {
    /// Nothing seen yet.
    pub(crate) fn new(org: Option<&'o OrgState>) -> DuplicateNumbers<'o> {
        DuplicateNumbers {
            org,
            numbers: Numbers::default(),
            released_phone: HashSet::default(),
            released_extension: HashSet::default(),
            pending: BTreeMap::new(),
            waiting_on: HashMap::default(),
            sequence: 0,
            settled: Vec::new(),
        }
    }

    /// Makes room for the numbers of `rows` more rows, judging by the
    /// `seen` rows so far (a few thousand: the share of rows that set a
    /// number varies from file to file, and a table twice too large costs
    /// as much as one that grows).
    pub(crate) fn reserve(&mut self, rows: usize, seen: usize) {
        let Some(seen) = std::num::NonZeroUsize::new(seen) else {
            return;
        };
        // The share seen, no more: a table made room for is 4/5 full once
        // they are in, and grows only past 7/8, which leaves a margin of a
        // tenth (and the rows were estimated with a sixteenth to spare).
        let more = |table: &NumberTable| rows.saturating_mul(table.first.len()) / seen;
        let numbers = &mut self.numbers;
        let (phones, extensions) = (more(&numbers.phones), more(&numbers.extensions));
        numbers.phones.reserve(phones, phone_hash);
        let locations = &numbers.location_hashes;
        numbers.extensions.reserve(extensions, |number| extension_hash(locations, number));
    }

    /// Fetches the slots the lookups of a row's numbers (`keys`) start
    /// with (see [`Slots::touch`]).
    #[inline]
    pub(crate) fn touch(&self, keys: &NumberKeys) {
        if keys.phone != 0 {
            self.numbers.phones.first.touch(phone_hash(keys.phone));
        }
        if keys.extension != 0 {
            self.numbers.extensions.first.touch(keys.extension_hash());
        }
    }

    /// How many phone numbers and extensions the tables hold room for.
    #[cfg(test)]
    pub(crate) fn capacities(&self) -> (usize, usize) {
        (self.numbers.phones.first.capacity(), self.numbers.extensions.first.capacity())
    }

    /// Checks row `index` (0-based), whose key is `key`, against the rows
    /// before it; `keys`: the row's numbers as looked up (computed with
    /// `text`). `has_error`: whether the row has an error so far (then it
    /// gives nothing up). `first_line` gives the first line of a key (see
    /// [`Keys::first_line`](super::email::Keys::first_line)). `fill`
    /// completes each finding while the row's record is at hand, those that
    /// wait included.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check(
        &mut self,
        index: usize,
        key: KeySeen,
        f: &RowFacts,
        text: FactText<'_>,
        keys: &NumberKeys,
        has_error: bool,
        first_line: &dyn Fn(u32) -> Option<u64>,
        fill: &dyn Fn(&mut Diagnostic),
        out: &mut Vec<Diagnostic>,
    ) {
        // Without an org nobody owns a number: only repeats in the file count.
        let org = self.org;
        let me = org.and(f.org_user);
        if let (Some(i), false) = (me, has_error) {
            if f.releases_phone {
                self.release(true, i);
            }
            if f.releases_extension {
                self.release(false, i);
            }
        }
        if let Some(phone) = text.phone {
            let owner = org.and(f.phone_owner);
            let (number, hash) = self.numbers.phone(phone, keys);
            let found =
                self.numbers.phones.claim(number, hash, f.line, key, owner, me, first_line, phone_hash);
            let diagnostic = |found: Found| match found {
                Found::Nothing => None,
                Found::Repeat(line) => Some(duplicate_phone(f, &shown(phone), line)),
                Found::Taken(owner) => org.map(|org| phone_taken(f, &shown(phone), org, owner)),
            };
            self.settle_or_wait(index, true, owner, found, diagnostic, fill, out);
        }
        if let Some((ext, location)) = text.extension {
            let owner = org.and(f.extension_owner);
            let numbers = &mut self.numbers;
            let (number, hash) = numbers.extension(ext, location, keys);
            let locations = &numbers.location_hashes;
            let rehash = |number| extension_hash(locations, number);
            let found = numbers.extensions.claim(number, hash, f.line, key, owner, me, first_line, rehash);
            let diagnostic = |found: Found| match found {
                Found::Nothing => None,
                Found::Repeat(line) => {
                    Some(duplicate_extension(f, &shown(ext), format!("the user on line {line} of this file")))
                }
                Found::Taken(owner) => org.map(|org| {
                    let who = org.users.get(owner).map_or("", |u| u.email.as_str());
                    duplicate_extension(f, &shown(ext), format!("{who}, a user of the org"))
                }),
            };
            self.settle_or_wait(index, false, owner, found, diagnostic, fill, out);
        }
    }

    /// Reports a finding now when the owner's choice is known or does not
    /// matter; otherwise keeps both possible findings until it is.
    #[allow(clippy::too_many_arguments)]
    fn settle_or_wait(
        &mut self,
        index: usize,
        phone: bool,
        owner: Option<usize>,
        (if_released, if_kept): (Found, Found),
        diagnostic: impl Fn(Found) -> Option<Diagnostic>,
        fill: &dyn Fn(&mut Diagnostic),
        out: &mut Vec<Diagnostic>,
    ) {
        let released = owner.is_none_or(|o| self.released(phone, o));
        if released || if_released == if_kept {
            out.extend(diagnostic(if_released));
            return;
        }
        let (mut if_released, mut if_kept) = (diagnostic(if_released), diagnostic(if_kept));
        if_released.iter_mut().chain(if_kept.iter_mut()).for_each(fill);
        self.sequence += 1;
        self.pending.insert(self.sequence, Pending { index, if_released, if_kept });
        if let Some(o) = owner {
            self.waiting_on.entry((phone, o)).or_default().push(self.sequence);
        }
    }

    fn released(&self, phone: bool, owner: usize) -> bool {
        if phone {
            self.released_phone.contains(&owner)
        } else {
            self.released_extension.contains(&owner)
        }
    }

    /// The org user `user` gives up their number (or extension): what waited
    /// on that is settled.
    fn release(&mut self, phone: bool, user: usize) {
        let set = if phone { &mut self.released_phone } else { &mut self.released_extension };
        if !set.insert(user) {
            return;
        }
        for sequence in self.waiting_on.remove(&(phone, user)).unwrap_or_default() {
            if let Some(p) = self.pending.remove(&sequence) {
                self.settled.extend(p.if_released.map(|d| (p.index, d)));
            }
        }
    }

    /// Findings of earlier rows settled since the last call: (row index,
    /// finding).
    pub(crate) fn take_settled(&mut self) -> Vec<(usize, Diagnostic)> {
        std::mem::take(&mut self.settled)
    }

    /// The first row whose findings still wait on rows to come, if any.
    pub(crate) fn first_waiting(&self) -> Option<usize> {
        self.pending.first_key_value().map(|(_, p)| p.index)
    }

    /// Every row has been seen: the numbers not given up stay taken.
    pub(crate) fn finish(mut self) -> Vec<(usize, Diagnostic)> {
        let mut found = self.take_settled();
        found.extend(self.pending.into_values().filter_map(|p| p.if_kept.map(|d| (p.index, d))));
        found
    }
}

fn number_diagnostic(f: &RowFacts, code: Code, column: Option<usize>, message: String) -> Diagnostic {
    Diagnostic { row: Some(f.row), column_index: column, ..Diagnostic::new(code, message).at_line(f.line) }
}

/// Documentation of N005: what it checks, why Control Hub cares, how to fix it.
pub(crate) const N005: &str = r#"## What it checks
The row's `Phone Number` equals that of an earlier row; the message names the
earlier row's line, and the first row is not reported. Only valid E.164
numbers are compared: empty cells, `REMOVE` and cells with N001-N003 take no
part, nor does a row refused the number as another org user's (N006). Two
rows with the same email are one user repeated (E004), not a shared number.
Error: rejects the row.

## Why Control Hub cares
A phone number belongs to one user only; Webex Calling refuses to assign a
number already in use (error WXC-4201), so one of the two rows would fail
after upload. Copy-paste of a row as a template for the next user is the
usual cause.

## How to fix
Give each user their own number from the location's inventory, or give the
second user only an extension.

## Example

    User ID/Email (Required),Phone Number,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,+390212345678,Milano HQ,TRUE
    marco.bianchi@acme.example,+390212345678,Milano HQ,TRUE

Use instead:

    User ID/Email (Required),Phone Number,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,+390212345678,Milano HQ,TRUE
    marco.bianchi@acme.example,+390212345679,Milano HQ,TRUE
"#;
/// N005: the same phone number as an earlier row.
fn duplicate_phone(f: &RowFacts, phone: &str, line: u64) -> Diagnostic {
    number_diagnostic(
        f,
        Code::N005,
        f.phone_column,
        format!("{phone} is already given to the user on line {line}"),
    )
    .help(format!("give each user a number of their own: change this row or line {line}"))
}

/// Documentation of N006: what it checks, why Control Hub cares, how to fix it.
pub(crate) const N006: &str = r#"## What it checks
The row's `Phone Number` is currently assigned to a different user in the
org file; keeping a user's own number does not fire. The owner's number is
free when the owner's own row in this file, without errors, removes or
replaces it or deletes the owner. Only valid E.164 numbers are compared.
Needs `--org`; skipped without it. Error: rejects the row.

## Why Control Hub cares
A number belongs to one user only; Webex Calling rejects a number already in
use (error WXC-4201). Numbers belong to a location's inventory; that the
number must also be unassigned and in the user's location is inferred, not
stated in the CSV documentation.

## How to fix
Choose a free number. To move a number from one user to another, remove
it from the current owner (`REMOVE` in their Phone Number). csvcheck
accepts both rows in one file, but the order in which Control Hub
processes the rows of one file is not documented: if the assignment fails,
upload the removal first, wait for that task to finish, then assign it.

## Example
Org: marco.bianchi@acme.example has +390212345678; giulia.rossi@acme.example
is on Webex Calling at Milano HQ with extension 1001.

    User ID/Email (Required),Phone Number
    giulia.rossi@acme.example,+390212345678

Use instead:

    User ID/Email (Required),Phone Number
    giulia.rossi@acme.example,+390212345679
"#;
/// N006: the number belongs to another user of the org.
fn phone_taken(f: &RowFacts, phone: &str, org: &OrgState, owner: usize) -> Diagnostic {
    let who = org.users.get(owner).map_or("", |u| u.email.as_str());
    number_diagnostic(f, Code::N006, f.phone_column, format!("{phone} already belongs to {who}")).help(
        format!(
            "pick a free number, or to move it, remove it from {who} (REMOVE in their Phone Number), \
         ideally in an earlier upload"
        ),
    )
}

/// Documentation of N007: what it checks, why Control Hub cares, how to fix it.
pub(crate) const N007: &str = r#"## What it checks
The row's `Extension` is already used in the same location, by an earlier
row or by another user in the org file. The location is the row's effective
one (its Location cell, else the user's current location); the same
extension in another location is fine. Only valid extensions in locations
the org has (no L001) are compared; a row refused an org user's extension
does not hold it for later rows, and two rows with the same email (E004)
are not compared. The org part needs `--org`; an org user's extension is
free when their own row, without errors, changes or removes it, moves them
to another location, or deletes them. Error: rejects the row.

## Why Control Hub cares
Extensions are unique within a location; Webex Calling rejects a duplicate
(validation result DUPLICATE, error WXC-4202 "extension in use"). With
location routing prefixes, Milano HQ and Roma can both have extension 1001,
because each location dials it with its own prefix (help.webex.com article
pxtu15).

## How to fix
Pick an extension not yet used in that location.

## Example

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,1001,Milano HQ,TRUE
    marco.bianchi@acme.example,1001,Milano HQ,TRUE
    lucia.ferri@acme.example,1001,Roma,TRUE

Only marco's row fires. Use instead:

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,1001,Milano HQ,TRUE
    marco.bianchi@acme.example,1002,Milano HQ,TRUE
    lucia.ferri@acme.example,1001,Roma,TRUE
"#;
/// N007: the same extension in the same location as an earlier row or
/// another org user.
fn duplicate_extension(f: &RowFacts, ext: &str, other: String) -> Diagnostic {
    number_diagnostic(
        f,
        Code::N007,
        f.extension_column,
        format!("extension {ext} is already used in this location by {other}"),
    )
    .help("extensions must be unique within a location: pick another one")
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::Just;

    use super::super::testing::{check, found, lines, ORG};
    use super::*;

    const H: &str =
        "User ID/Email (Required),Phone Number,Extension,Caller ID Number,Location,Webex Calling\n";

    fn phone_code(value: &str) -> Vec<Code> {
        let csv = format!("{H}anna@acme.example,\"{value}\",1001,,Roma,TRUE\n");
        check(&csv, None)
            .diagnostics
            .iter()
            .filter(|d| d.column.as_deref() == Some("Phone Number") && d.code.as_str().starts_with('N'))
            .map(|d| d.code)
            .collect()
    }

    /// The text `pack_phone` packed.
    fn unpack_phone(key: u64) -> String {
        format!("+{key}")
    }

    /// The extension and location id `pack_extension` packed.
    fn unpack_extension(key: u64) -> (String, u32) {
        let value = key & ((1 << EXTENSION_LEN_SHIFT) - 1);
        let len = ((key >> EXTENSION_LEN_SHIFT) & 0xf) as usize;
        (format!("{value:0len$}"), u32::try_from(key >> EXTENSION_LOCATION_SHIFT).unwrap())
    }

    /// What `Holders::claim` did when every number was kept as text with
    /// both its first holders (lines in full).
    #[derive(Default)]
    struct ModelHolders {
        lines: [Option<u64>; 2],
        keys: [u32; 2],
    }

    impl ModelHolders {
        fn claim(&mut self, line: u64, key: u32, owner: Option<usize>, me: Option<usize>) -> (Found, Found) {
            if line == 0 {
                return (Found::Nothing, Found::Nothing);
            }
            let mut first = |which: usize, may_hold: bool, otherwise: Found| match self.lines[which] {
                Some(_) if self.keys[which] == key => Found::Nothing,
                Some(l) => Found::Repeat(l),
                None if may_hold => {
                    (self.lines[which], self.keys[which]) = (Some(line), key);
                    Found::Nothing
                }
                None => otherwise,
            };
            let if_free = first(0, true, Found::Nothing);
            let if_kept = match owner {
                Some(o) => first(1, me == Some(o), Found::Taken(o)),
                None => Found::Nothing,
            };
            (if_free, if_kept)
        }
    }

    fn line() -> impl proptest::strategy::Strategy<Value = u64> {
        let wide = u64::from(u32::MAX);
        proptest::prop_oneof![1..50u64, wide - 1..=wide + 1, Just(0), Just(u64::MAX)]
    }

    proptest::proptest! {
        /// Every valid E.164 number packs, and unpacks to itself: no two
        /// numbers share a key.
        #[test]
        fn phones_pack_and_unpack(phone in "\\+[1-9][0-9]{0,17}") {
            let key = pack_phone(phone.as_bytes()).unwrap();
            proptest::prop_assert!(key < TEXT);
            proptest::prop_assert_eq!(unpack_phone(key), phone);
        }

        /// What is not `+` and 1 to 18 digits with no leading zero does not
        /// pack (it is kept as text).
        #[test]
        fn other_phones_do_not_pack(phone in "\\+?[0-9a ]{0,20}") {
            let packs = phone.len() >= 2
                && phone.len() <= 19
                && phone.starts_with('+')
                && !phone.starts_with("+0")
                && phone[1..].bytes().all(|b| b.is_ascii_digit());
            proptest::prop_assert_eq!(pack_phone(phone.as_bytes()).is_some(), packs);
        }

        /// Extensions of 1 to 10 digits, leading zeros and all, pack with
        /// their location and unpack to both.
        #[test]
        fn extensions_pack_and_unpack(
            extension in "[0-9]{1,10}",
            location in proptest::prop_oneof![0..1000u32, PACKED_LOCATIONS - 2..PACKED_LOCATIONS],
        ) {
            let key = pack_extension(extension.as_bytes(), location).unwrap();
            proptest::prop_assert!(key < TEXT);
            proptest::prop_assert_eq!(unpack_extension(key), (extension.clone(), location));
            proptest::prop_assert_eq!(pack_extension(extension.as_bytes(), PACKED_LOCATIONS), None);
        }

        /// The packed tables find what a map of the numbers' text finds,
        /// for numbers that pack and numbers that do not, that collide on
        /// their digits (`01` and `1`), lines too wide for four bytes, rows
        /// that are and are not the first valid row of their key, and
        /// tables grown from nothing or made room for too few numbers.
        #[test]
        fn numbers_are_held_as_by_their_text(
            phones in proptest::collection::vec("\\+?[01a]{0,3}|\\+[1-9][0-9]{7,19}", 1..6),
            extensions in proptest::collection::vec("[01x]{0,3}|[0-9]{9,12}", 1..6),
            locations in proptest::collection::vec("|roma|milano hq", 1..4),
            rows in proptest::collection::vec(
                (proptest::bool::ANY, 0..64usize, line(), 0..4u32, proptest::bool::ANY, proptest::option::of(0..3usize), proptest::option::of(0..3usize)),
                0..80,
            ),
            room in proptest::option::of(0..20usize),
        ) {
            let mut numbers = Numbers::default();
            if let Some(room) = room {
                numbers.phones.reserve(room, phone_hash);
                numbers.extensions.reserve(room, |n| extension_hash(&[], n));
            }
            let mut model: HashMap<(bool, &str, &str), ModelHolders> = HashMap::new();
            // The first line of each key, as `Keys` keeps it.
            let mut first_lines: HashMap<u32, u64> = HashMap::new();
            for (phone, pick, line, key, valid, owner, me) in rows {
                let first_valid = valid && !first_lines.contains_key(&key);
                if first_valid && line != 0 {
                    first_lines.insert(key, line);
                }
                let seen = KeySeen { id: key, first_valid };
                let first_line = |id| first_lines.get(&id).copied();
                let (got, text) = if phone {
                    let text = (true, phones[pick % phones.len()].as_str(), "");
                    let fact = FactText { key: b"", phone: Some(text.1.as_bytes()), extension: None };
                    let (number, hash) = numbers.phone(text.1.as_bytes(), &NumberKeys::of(fact));
                    (numbers.phones.claim(number, hash, line, seen, owner, me, &first_line, phone_hash), text)
                } else {
                    let text = (false, extensions[pick % extensions.len()].as_str(), locations[pick / 8 % locations.len()].as_str());
                    let (ext, location) = (text.1.as_bytes(), text.2.as_bytes());
                    let fact = FactText { key: b"", phone: None, extension: Some((ext, location)) };
                    let (number, hash) = numbers.extension(ext, location, &NumberKeys::of(fact));
                    let rehash = |n| extension_hash(&numbers.location_hashes, n);
                    (numbers.extensions.claim(number, hash, line, seen, owner, me, &first_line, rehash), text)
                };
                let expected = model.entry(text).or_default().claim(line, key, owner, me);
                proptest::prop_assert_eq!(got, expected, "{:?}", text);
            }
        }

        /// Digits are read eight at a time as one by one.
        #[test]
        fn digits_are_read_as_one_by_one(digits in "[0-9]{0,20}|[0-9/:]{0,20}|[0-9\\x00-\\xff]{0,20}") {
            let expected = if (1..=18).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
                digits.parse::<u64>().ok()
            } else {
                None
            };
            proptest::prop_assert_eq!(digits_value(digits.as_bytes()), expected);
        }
    }

    #[test]
    fn n001_to_n003_split_the_invalid_numbers() {
        for sci in ["3.90212E+11", "3,90212E+11", "3.90212e11", "+3.90212E+11", "3E11", "4.4203E+11"] {
            assert_eq!(phone_code(sci), [Code::N003], "{sci}");
        }
        for plus in ["390212345678", "0212345678", "00390212345678", "12345678", "123456789012345"] {
            assert_eq!(phone_code(plus), [Code::N002], "{plus}");
        }
        for bad in
            ["+39 02 1234 5678", "1234567", "1234567890123456", "+0212345678", "3.9E+111", "E+11", "n/a"]
        {
            assert_eq!(phone_code(bad), [Code::N001], "{bad}");
        }
        for ok in ["+390212345678", "REMOVE", "remove|+390212345678", "", "  "] {
            assert!(phone_code(ok).is_empty(), "{ok}");
        }
    }

    #[test]
    fn helps_suggest_the_number_when_only_the_form_is_wrong() {
        let csv = format!(
            "{H}anna@acme.example,+39 02 1234 5678,1001,00390212345679,Roma,TRUE\n\
             bruna@acme.example,0212345670,1002,,Roma,TRUE\n"
        );
        let report = check(&csv, None);
        let n001 = found(&report, Code::N001);
        assert!(n001[0].help.ends_with("did you mean +390212345678?"), "{}", n001[0].help);
        let n002 = found(&report, Code::N002);
        assert_eq!(n002[0].column.as_deref(), Some("Caller ID Number"));
        assert!(n002[0].help.ends_with("did you mean +390212345679?"), "{}", n002[0].help);
        // A national number cannot be completed without its country code.
        assert!(!n002[1].help.contains("did you mean"), "{}", n002[1].help);
    }

    #[test]
    fn n004_says_why() {
        let csv = format!("{H}anna@acme.example,,1,,Roma,TRUE\nbruna@acme.example,,12345678901,,Roma,TRUE\ncarla@acme.example,,10 01,,Roma,TRUE\n");
        let report = check(&csv, None);
        let why: Vec<&str> = found(&report, Code::N004).iter().map(|d| d.message.as_str()).collect();
        assert!(why[0].ends_with("shorter than 2 digits"), "{why:?}");
        assert!(why[1].ends_with("longer than 10 digits"), "{why:?}");
        assert!(why[2].ends_with("other than digits"), "{why:?}");
    }

    #[test]
    fn n005_compares_only_valid_phone_numbers_of_different_users() {
        let csv = format!(
            "{H}anna@acme.example,+390212345679,1001,,Roma,TRUE\n\
             bruna@acme.example,390212345679,1002,,Roma,TRUE\n\
             Anna@acme.example,+390212345679,1003,,Roma,TRUE\n\
             carla@acme.example,+390212345679,1004,+390212345679,Roma,TRUE\n"
        );
        let report = check(&csv, None);
        // Bruna's number is N002, the repeated Anna is E004: only Carla
        // shares Anna's number, and her caller ID may be anyone's.
        let n005 = found(&report, Code::N005);
        assert_eq!(n005.iter().map(|d| d.line).collect::<Vec<_>>(), [Some(5)]);
        assert!(n005[0].message.contains("on line 2"));
        assert_eq!(lines(&csv, None, Code::E004), [4]);
    }

    #[test]
    fn n006_frees_a_number_only_when_its_owner_gives_it_up() {
        let h = "User ID/Email (Required),Phone Number,Extension\n";
        let takes = "anna.bianchi@acme.example,+390212345680,1005\n";
        // Marco keeps his number (written again, or not mentioned).
        for marco in ["marco.bianchi@acme.example,+390212345680,\n", ""] {
            let csv = format!("{h}{takes}{marco}");
            assert_eq!(lines(&csv, Some(ORG), Code::N006), [2], "{csv}");
            // The row refused the number does not hold it against its owner.
            assert!(lines(&csv, Some(ORG), Code::N005).is_empty(), "{csv}");
        }
        // Marco gives it up: removed, replaced, or deleted; before or after.
        for marco in [
            "marco.bianchi@acme.example,REMOVE,\n",
            "marco.bianchi@acme.example,REMOVE|+390212345680,\n",
            "marco.bianchi@acme.example,+390212345681,\n",
        ] {
            assert!(lines(&format!("{h}{takes}{marco}"), Some(ORG), Code::N006).is_empty(), "{marco}");
            assert!(lines(&format!("{h}{marco}{takes}"), Some(ORG), Code::N006).is_empty(), "{marco}");
        }
        // Removing a number he does not have frees nothing.
        let csv = format!("{h}{takes}marco.bianchi@acme.example,REMOVE|+390212345699,\n");
        assert_eq!(lines(&csv, Some(ORG), Code::N006), [2]);
        // A row Control Hub refuses gives nothing up.
        let csv = format!("{h}{takes}marco.bianchi@acme.example,+390212345681,1\n");
        assert_eq!(lines(&csv, Some(ORG), Code::N006), [2]);
        // Without the org there is nobody to own it.
        assert!(lines(&format!("{h}{takes}"), None, Code::N006).is_empty());
    }

    #[test]
    fn n007_is_per_location_and_only_in_real_locations() {
        let h = "User ID/Email (Required),Extension,Location,Webex Calling\n";
        let csv = format!(
            "{h}anna@acme.example,1005,Milano HQ,TRUE\n\
             bruna@acme.example,1005,Roma,TRUE\n\
             carla@acme.example,1005,MILANO hq,TRUE\n\
             dario@acme.example,1005,Napoli,TRUE\n\
             elena@acme.example,1005,Napoli,TRUE\n\
             fabio@acme.example,1002,Milano HQ,TRUE\n\
             gino@acme.example,1002,Roma,TRUE\n"
        );
        // Carla repeats Anna; Napoli is not a location (L001), so Dario and
        // Elena are not compared; Fabio takes Marco's extension.
        let report = check(&csv, Some(ORG));
        let n007 = found(&report, Code::N007);
        assert_eq!(n007.iter().map(|d| d.line).collect::<Vec<_>>(), [Some(4), Some(7)]);
        assert!(n007[0].message.contains("line 2"), "{}", n007[0].message);
        assert!(n007[1].message.contains("marco.bianchi@acme.example"), "{}", n007[1].message);
        assert_eq!(lines(&csv, Some(ORG), Code::L001), [5, 6]);
        // Marco's row giving up his extension frees it.
        let csv = format!("{h}fabio@acme.example,1002,Milano HQ,TRUE\nmarco.bianchi@acme.example,REMOVE,,\n");
        assert!(lines(&csv, Some(ORG), Code::N007).is_empty());
        // An org user's row keeping their extension is not a duplicate.
        let csv = format!("{h}giulia.rossi@acme.example,1001,,\n");
        assert!(lines(&csv, Some(ORG), Code::N007).is_empty());
    }
}
