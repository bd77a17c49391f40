//! The lookup indexes of an org: every key folded once, found by hash.

use super::*;

/// The lookup indexes of an org, built by [`OrgState::indexed`].
///
/// Every key is folded once and stored end to end in one buffer; the tables
/// hold 32-bit positions (users by index into `users`), found by hash and
/// compared on the fly. Building costs one pass and a handful of
/// allocations; a lookup folds its query on the stack and allocates nothing.
#[derive(Clone)]
pub(super) struct Index {
    pub(super) hasher: Hasher,
    /// `None` when the org is too large for 32-bit positions (some four
    /// billion users, or 4 GiB of keys): lookups then go through the org one
    /// user at a time. Slow, but right, for an org no memory holds today.
    pub(super) tables: Option<Tables>,
}

/// The keys of an org and the tables that find them.
#[derive(Clone, Default)]
pub(super) struct Tables {
    /// Per user, [`USER_KEYS`] keys in a row: the email key, the trimmed
    /// phone number, the location key and the trimmed extension.
    pub(super) users: Keys,
    /// Each table holds the first user with a key (users by index).
    pub(super) by_email: HashTable<u32>,
    pub(super) by_phone: HashTable<u32>,
    pub(super) by_extension: HashTable<u32>,
    pub(super) locations: KeySet,
    pub(super) sites: KeySet,
    pub(super) domains: KeySet,
}

pub(super) type Hasher = foldhash::fast::RandomState;

/// How many keys [`Tables::users`] keeps per user, and which is which.
pub(super) const USER_KEYS: usize = 4;
pub(super) const EMAIL: usize = 0;
pub(super) const PHONE: usize = 1;
pub(super) const LOCATION: usize = 2;
pub(super) const EXTENSION: usize = 3;

/// The lists of names an org may have.
#[derive(Clone, Copy, Debug)]
pub(super) enum Names {
    Locations,
    Sites,
    Domains,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The tables are hashes and offsets: what they were built from is
        // the org itself.
        f.debug_struct("Index")
            .field("users", &self.tables.as_ref().map(|t| t.users.len() / USER_KEYS))
            .finish_non_exhaustive()
    }
}

impl Index {
    pub(super) fn build(org: &OrgState) -> Index {
        Index::build_within(org, u32::MAX as usize)
    }

    /// The index, with tables if no position in them is over `max` (tests
    /// make it small, to try lookups without tables).
    pub(super) fn build_within(org: &OrgState, max: usize) -> Index {
        let hasher = Hasher::default();
        let tables = Tables::build(org, &hasher, max);
        Index { hasher, tables }
    }

    /// Whether the index was built from what `org` holds now: an embedder
    /// may push users, or change them, after loading. One pass of cheap
    /// comparisons (no hashing, no allocation for ASCII keys).
    pub(super) fn matches(&self, org: &OrgState) -> bool {
        // Without tables nothing was kept: lookups read the org as it is.
        let Some(tables) = &self.tables else { return true };
        let users = &tables.users;
        let mut folds = Folds::default();
        let mut folds_to = |s: &str, key: &[u8]| folds.folds_to(s, key, &self.hasher);
        users.len() == org.users.len() * USER_KEYS
            && org.users.iter().enumerate().all(|(i, user)| {
                let key = |slot: usize| users.get(i * USER_KEYS + slot);
                folds_to(&user.email, key(EMAIL))
                    && trim(user.phone_number.as_deref().unwrap_or("")).as_bytes() == key(PHONE)
                    && folds_to(user.location.as_deref().unwrap_or(""), key(LOCATION))
                    && trim(user.extension.as_deref().unwrap_or("")).as_bytes() == key(EXTENSION)
            })
            && tables.locations.matches(org.locations.as_deref())
            && tables.sites.matches(org.sites.as_deref())
            && tables.domains.matches(org.domains.as_deref())
    }

    /// The first user whose email key is `key`.
    pub(super) fn by_email(&self, org: &OrgState, key: &[u8]) -> Option<usize> {
        match &self.tables {
            Some(t) => t
                .by_email
                .find(self.hasher.hash_one(key), |&j| t.user_key(j, EMAIL) == key)
                .map(|&j| j as usize),
            None => org.users.iter().position(|u| folds_to(&u.email, key)),
        }
    }

    /// The first user whose trimmed phone number is `number` (not empty).
    pub(super) fn by_phone(&self, org: &OrgState, number: &[u8]) -> Option<usize> {
        match &self.tables {
            Some(t) => t
                .by_phone
                .find(self.hasher.hash_one(number), |&j| t.user_key(j, PHONE) == number)
                .map(|&j| j as usize),
            None if number.is_empty() => None,
            None => org
                .users
                .iter()
                .position(|u| trim(u.phone_number.as_deref().unwrap_or("")).as_bytes() == number),
        }
    }

    /// The first user with the extension `extension` (trimmed, not empty)
    /// in the location whose key is `location`.
    pub(super) fn by_extension(&self, org: &OrgState, location: &[u8], extension: &[u8]) -> Option<usize> {
        match &self.tables {
            Some(t) => {
                let hash = self.hasher.hash_one((location, extension));
                let eq =
                    |&j: &u32| t.user_key(j, EXTENSION) == extension && t.user_key(j, LOCATION) == location;
                t.by_extension.find(hash, eq).map(|&j| j as usize)
            }
            None if extension.is_empty() => None,
            None => org.users.iter().position(|u| {
                trim(u.extension.as_deref().unwrap_or("")).as_bytes() == extension
                    && folds_to(u.location.as_deref().unwrap_or(""), location)
            }),
        }
    }

    /// Whether `list` (the org's list of `names`) has a name whose key is
    /// `key`.
    pub(super) fn has(&self, names: Names, list: &[String], key: &[u8]) -> bool {
        match &self.tables {
            Some(t) => {
                let set = match names {
                    Names::Locations => &t.locations,
                    Names::Sites => &t.sites,
                    Names::Domains => &t.domains,
                };
                set.contains(key, &self.hasher)
            }
            None => list.iter().any(|name| folds_to(name, key)),
        }
    }
}

impl Tables {
    fn build(org: &OrgState, hasher: &Hasher, max: usize) -> Option<Tables> {
        let n = org.users.len();
        if n > max {
            return None;
        }
        // Sized first, so that nothing grows (a table that grows holds the
        // old and the new while it does): how many phone numbers and
        // extensions, and a bound on the bytes of the keys (folding ASCII
        // keeps the length, trimming shortens).
        let (mut phones, mut extensions, mut bytes) = (0, 0, 0);
        for user in &org.users {
            let len = |s: &Option<String>| s.as_ref().map_or(0, String::len);
            phones += usize::from(user.phone_number.is_some());
            extensions += usize::from(user.extension.is_some());
            bytes += user.email.len() + len(&user.phone_number) + len(&user.location) + len(&user.extension);
        }
        let mut users = Keys::with_capacity(n * USER_KEYS, bytes);
        let mut by_email = HashTable::with_capacity(n);
        let mut by_phone = HashTable::with_capacity(phones);
        let mut by_extension = HashTable::with_capacity(extensions);
        let mut folds = Folds::default();
        for (i, user) in org.users.iter().enumerate() {
            users.push_folded(&user.email, &mut folds, hasher, max)?;
            users.push_trimmed(user.phone_number.as_deref(), max)?;
            users.push_folded(user.location.as_deref().unwrap_or(""), &mut folds, hasher, max)?;
            users.push_trimmed(user.extension.as_deref(), max)?;
            let i = u32::try_from(i).ok()?;
            let key = |j: u32, slot: usize| users.get(j as usize * USER_KEYS + slot);
            let email = key(i, EMAIL);
            insert_first(
                &mut by_email,
                hasher.hash_one(email),
                i,
                |j| key(j, EMAIL) == email,
                |j| hasher.hash_one(key(j, EMAIL)),
            );
            let phone = key(i, PHONE);
            if !phone.is_empty() {
                insert_first(
                    &mut by_phone,
                    hasher.hash_one(phone),
                    i,
                    |j| key(j, PHONE) == phone,
                    |j| hasher.hash_one(key(j, PHONE)),
                );
            }
            let (location, extension) = (key(i, LOCATION), key(i, EXTENSION));
            if !extension.is_empty() {
                let hash_of = |j: u32| hasher.hash_one((key(j, LOCATION), key(j, EXTENSION)));
                let eq = |j: u32| key(j, EXTENSION) == extension && key(j, LOCATION) == location;
                insert_first(&mut by_extension, hasher.hash_one((location, extension)), i, eq, hash_of);
            }
        }
        Some(Tables {
            locations: KeySet::of(org.locations.as_deref(), hasher, max)?,
            sites: KeySet::of(org.sites.as_deref(), hasher, max)?,
            domains: KeySet::of(org.domains.as_deref(), hasher, max)?,
            users,
            by_email,
            by_phone,
            by_extension,
        })
    }

    pub(super) fn user_key(&self, user: u32, slot: usize) -> &[u8] {
        self.users.get(user as usize * USER_KEYS + slot)
    }
}

/// Inserts `i` unless the table has an entry equal to it (the first user
/// with a key keeps it).
pub(super) fn insert_first(
    table: &mut HashTable<u32>,
    hash: u64,
    i: u32,
    eq: impl Fn(u32) -> bool,
    hash_of: impl Fn(u32) -> u64,
) {
    if let Entry::Vacant(slot) = table.entry(hash, |&j| eq(j), |&j| hash_of(j)) {
        slot.insert(i);
    }
}

/// Byte strings stored end to end in one buffer, by position.
#[derive(Clone, Debug, Default)]
pub(super) struct Keys {
    pub(super) bytes: Vec<u8>,
    /// Where each string ends in `bytes`; it starts where the one before
    /// ends.
    pub(super) ends: Vec<u32>,
}

impl Keys {
    pub(super) fn with_capacity(keys: usize, bytes: usize) -> Keys {
        Keys { bytes: Vec::with_capacity(bytes), ends: Vec::with_capacity(keys) }
    }

    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(super) fn get(&self, id: usize) -> &[u8] {
        let start = id.checked_sub(1).and_then(|before| self.ends.get(before)).map_or(0, |&end| end as usize);
        let end = self.ends.get(id).map_or(start, |&end| end as usize);
        self.bytes.get(start..end).unwrap_or_default()
    }

    /// Ends the string written last; `None` once the bytes are over `max`.
    fn end(&mut self, max: usize) -> Option<()> {
        let end = self.bytes.len();
        self.ends.push(u32::try_from(end).ok().filter(|_| end <= max)?);
        Some(())
    }

    pub(super) fn push_folded(
        &mut self,
        s: &str,
        folds: &mut Folds,
        hasher: &Hasher,
        max: usize,
    ) -> Option<()> {
        folds.fold_into(s, &mut self.bytes, hasher);
        self.end(max)
    }

    pub(super) fn push_trimmed(&mut self, s: Option<&str>, max: usize) -> Option<()> {
        self.bytes.extend_from_slice(trim(s.unwrap_or("")).as_bytes());
        self.end(max)
    }
}

/// A set of folded names (locations, sites, domains). Every name is kept,
/// in order, so that the set can be checked against the list it was built
/// from; the table holds the first of equal ones.
#[derive(Clone, Debug, Default)]
pub(super) struct KeySet {
    pub(super) keys: Keys,
    pub(super) table: HashTable<u32>,
}

impl KeySet {
    /// The set of `list`; `None` when a position would be over `max`.
    pub(super) fn of(list: Option<&[String]>, hasher: &Hasher, max: usize) -> Option<KeySet> {
        let list = list.unwrap_or_default();
        if list.len() > max {
            return None;
        }
        let bytes = list.iter().map(String::len).sum();
        let KeySet { mut keys, mut table } = KeySet {
            keys: Keys::with_capacity(list.len(), bytes),
            table: HashTable::with_capacity(list.len()),
        };
        let mut folds = Folds::default();
        for (id, name) in list.iter().enumerate() {
            keys.push_folded(name, &mut folds, hasher, max)?;
            let id = u32::try_from(id).ok()?;
            let key = keys.get(id as usize);
            let hash_of = |j: u32| hasher.hash_one(keys.get(j as usize));
            insert_first(&mut table, hasher.hash_one(key), id, |j| keys.get(j as usize) == key, hash_of);
        }
        Some(KeySet { keys, table })
    }

    /// Whether a name's key is `key`.
    pub(super) fn contains(&self, key: &[u8], hasher: &Hasher) -> bool {
        self.table.find(hasher.hash_one(key), |&j| self.keys.get(j as usize) == key).is_some()
    }

    pub(super) fn matches(&self, list: Option<&[String]>) -> bool {
        let list = list.unwrap_or_default();
        list.len() == self.keys.len()
            && list.iter().enumerate().all(|(i, name)| folds_to(name, self.keys.get(i)))
    }
}

/// The names an export mentions, told apart as the index will (folded).
/// An export names the same few locations and sites again and again,
/// spelled the same: a name met before, byte for byte, is known without
/// folding it again.
#[derive(Default)]
pub(super) struct Distinct {
    pub(super) spellings: HashTable<String>,
    pub(super) folded: HashTable<Vec<u8>>,
}

impl Distinct {
    /// Whether no name equal to `name` came before.
    pub(super) fn is_new(&mut self, name: &str, hasher: &Hasher) -> bool {
        let hash = hasher.hash_one(name.as_bytes());
        if self.spellings.find(hash, |s| s == name).is_some() {
            return false;
        }
        self.spellings.insert_unique(hash, name.to_owned(), |s| hasher.hash_one(s.as_bytes()));
        let mut key = Vec::new();
        fold_into(name, &mut key);
        let hash = hasher.hash_one(key.as_slice());
        match self.folded.entry(hash, |k| *k == key, |k| hasher.hash_one(k.as_slice())) {
            Entry::Occupied(_) => false,
            Entry::Vacant(slot) => {
                slot.insert(key);
                true
            }
        }
    }
}

/// Where folded text is written: the key buffer of an index, or a
/// [`KeyBuf`] on the stack.
pub(super) trait Sink {
    /// Appends `bytes`; returns them as appended, to change them in place.
    fn append(&mut self, bytes: &[u8]) -> &mut [u8];
}

impl Sink for Vec<u8> {
    fn append(&mut self, bytes: &[u8]) -> &mut [u8] {
        let start = self.len();
        self.extend_from_slice(bytes);
        self.get_mut(start..).unwrap_or_default()
    }
}

/// A key folded for a lookup: on the stack unless it is long.
pub(super) struct KeyBuf {
    pub(super) inline: [u8; 128],
    pub(super) len: usize,
    /// The whole key once it outgrew `inline`.
    pub(super) heap: Vec<u8>,
}

impl KeyBuf {
    pub(super) fn new() -> KeyBuf {
        KeyBuf { inline: [0; 128], len: 0, heap: Vec::new() }
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        if self.heap.is_empty() {
            self.inline.get(..self.len).unwrap_or_default()
        } else {
            &self.heap
        }
    }
}

impl Sink for KeyBuf {
    fn append(&mut self, bytes: &[u8]) -> &mut [u8] {
        let (start, end) = (self.len, self.len + bytes.len());
        if self.heap.is_empty() && end <= self.inline.len() {
            self.len = end;
            let out = self.inline.get_mut(start..end).unwrap_or_default();
            out.copy_from_slice(bytes);
            return out;
        }
        if self.heap.is_empty() {
            self.heap.extend_from_slice(self.inline.get(..start).unwrap_or_default());
        }
        Sink::append(&mut self.heap, bytes)
    }
}

/// Writes the key of `s` — trimmed, NFC, lowercased: what
/// [`email_key`](crate::text::email_key) and `location_key` (the tests' oracle) give. Allocates
/// only for text that is not NFC, or holds a capital sigma.
pub(super) fn fold_into(s: &str, out: &mut impl Sink) {
    let s = trim(s);
    if s.is_ascii() {
        out.append(s.as_bytes()).make_ascii_lowercase();
        return;
    }
    let s = crate::text::nfc(s);
    if s.contains('Σ') {
        // The one letter whose lowercase depends on its neighbours: leave
        // it to `str::to_lowercase`.
        out.append(s.to_lowercase().as_bytes());
        return;
    }
    // ASCII runs are copied and lowercased whole; other characters one by
    // one.
    let mut utf8 = [0; 4];
    let mut run = 0;
    for (i, c) in s.char_indices() {
        if c.is_ascii() {
            continue;
        }
        out.append(s.as_bytes().get(run..i).unwrap_or_default()).make_ascii_lowercase();
        for lower in c.to_lowercase() {
            out.append(lower.encode_utf8(&mut utf8).as_bytes());
        }
        run = i + c.len_utf8();
    }
    out.append(s.as_bytes().get(run..).unwrap_or_default()).make_ascii_lowercase();
}

/// Whether `s` folds to `key` (see [`fold_into`]).
pub(super) fn folds_to(s: &str, key: &[u8]) -> bool {
    let trimmed = trim(s);
    if let Some(is) = ascii_lowercase_is(trimmed.as_bytes(), key) {
        return is;
    }
    let mut folded = KeyBuf::new();
    fold_into(trimmed, &mut folded);
    folded.as_bytes() == key
}

/// Keys of text that is not ASCII, folded once: an org names the same few
/// locations again and again, and folding such a name (NFC, Unicode
/// lowercase) takes some 700 instructions where finding it takes 50.
#[derive(Default)]
pub(super) struct Folds {
    seen: HashTable<(Box<str>, Box<[u8]>)>,
}

impl Folds {
    /// Names kept at most: a list of distinct names is not worth keeping.
    const MAX: usize = 256;

    /// Calls `f` with the key of `s`, trimmed and not ASCII.
    fn with_key<R>(&mut self, s: &str, hasher: &Hasher, f: impl FnOnce(&[u8]) -> R) -> R {
        let hash = hasher.hash_one(s.as_bytes());
        if let Some((_, key)) = self.seen.find(hash, |(seen, _)| **seen == *s) {
            return f(key);
        }
        let mut key = Vec::new();
        fold_into(s, &mut key);
        let answer = f(&key);
        if self.seen.len() < Folds::MAX {
            self.seen
                .insert_unique(hash, (s.into(), key.into()), |(seen, _)| hasher.hash_one(seen.as_bytes()));
        }
        answer
    }

    /// Appends the key of `s` (see [`fold_into`]).
    pub(super) fn fold_into(&mut self, s: &str, out: &mut Vec<u8>, hasher: &Hasher) {
        let s = trim(s);
        if s.is_ascii() {
            Sink::append(out, s.as_bytes()).make_ascii_lowercase();
        } else {
            self.with_key(s, hasher, |key| out.extend_from_slice(key));
        }
    }

    /// Whether `s` folds to `key` (see [`folds_to`]).
    pub(super) fn folds_to(&mut self, s: &str, key: &[u8], hasher: &Hasher) -> bool {
        let s = trim(s);
        match ascii_lowercase_is(s.as_bytes(), key) {
            Some(is) => is,
            None => self.with_key(s, hasher, |folded| folded == key),
        }
    }
}

/// Whether the text `s`, lowercased, is `key`, when `s` is ASCII (`None`
/// when it is not: its key then takes more than lowercasing). Eight bytes
/// at a time, in one pass that looks for bytes above ASCII as it compares.
pub(super) fn ascii_lowercase_is(s: &[u8], key: &[u8]) -> Option<bool> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // For bytes below 0x80 the sums carry into no other byte: the high bit
    // of a byte of `w + (0x80 - b'A')…` is set when it is `A` or above, and
    // of `w + (0x7F - b'Z')…` when it is above `Z`. (Above 0x80 they may
    // carry: the answer is then `None`, whatever the comparison says.)
    let lower = |w: u64| {
        let upper =
            w.wrapping_add(ONES * u64::from(0x80 - b'A')) & !w.wrapping_add(ONES * u64::from(0x7F - b'Z'));
        w | ((upper & HIGH) >> 2)
    };
    if s.len() != key.len() {
        return s.is_ascii().then_some(false);
    }
    let word = |bytes: &[u8]| <[u8; 8]>::try_from(bytes).map_or(0, u64::from_le_bytes);
    if s.len() < 8 {
        let (mut high, mut diff) = (0, 0);
        for (&a, &b) in s.iter().zip(key) {
            high |= a;
            diff |= a.to_ascii_lowercase() ^ b;
        }
        return (high < 0x80).then_some(diff == 0);
    }
    let (mut high, mut diff) = (0, 0);
    let mut compare = |at: usize| {
        let (a, b) = (s.get(at..at + 8).map_or(0, word), key.get(at..at + 8).map_or(0, word));
        high |= a;
        diff |= lower(a) ^ b;
    };
    let mut at = 0;
    while at + 8 < s.len() {
        compare(at);
        at += 8;
    }
    // The last eight bytes, some of them again.
    compare(s.len() - 8);
    (high & HIGH == 0).then_some(diff == 0)
}

/// `s.trim()`, with a shortcut for the usual value that starts and ends with
/// a visible ASCII character (`str::trim` decodes a character at each end
/// and looks it up in the Unicode tables).
pub(super) fn trim(s: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x80);
    if s.is_empty() || visible(s.as_bytes().first()) && visible(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// Key of a location name (and of "no location": the default location), as
/// a string: the plain form of what [`fold_into`] writes, kept as the tests'
/// oracle.
#[cfg(test)]
pub(super) fn location_key(location: Option<&str>) -> String {
    location.map_or_else(String::new, |l| match trim(l) {
        ascii if ascii.is_ascii() => ascii.to_ascii_lowercase(),
        _ => crate::text::clean(l).to_lowercase(),
    })
}
