//! The lookup indexes of an org: tables of user positions, found by hash,
//! compared with the users as they are.

use super::*;
use crate::rules::intern::{Probe, Slots};
use crate::swar;

/// The lookup indexes of an org, built by [`OrgState::indexed`].
///
/// The tables hold 32-bit user positions (see [`Positions`]), found by the
/// hash of a key and confirmed by comparing the key with the user's field
/// as it is now: the keys themselves are not kept (the users hold them),
/// only each user's location among the few the users have, and how the org
/// spells its few names. Building costs one pass and a handful of
/// allocations; a lookup folds its query on the stack (when it must: see
/// [`KeySet::find_text`]) and allocates nothing.
#[derive(Clone)]
pub(super) struct Index {
    pub(super) hasher: Hasher,
    /// `None` when the org is too large for 32-bit positions (some four
    /// billion users, or 4 GiB of keys): lookups then go through the org one
    /// user at a time. Slow, but right, for an org no memory holds today.
    pub(super) tables: Option<Tables>,
}

/// The tables of an index.
#[derive(Clone, Default)]
pub(super) struct Tables {
    /// Each table holds the first user with a key (users by index): the
    /// email key, the trimmed phone number, and the location with the
    /// trimmed extension.
    pub(super) by_email: Positions,
    pub(super) by_phone: Positions,
    pub(super) by_extension: Positions,
    /// Per user, where its location's key is in `user_locations`.
    pub(super) location_of: Vec<u32>,
    /// The keys of the users' locations (the empty key for none), each once.
    pub(super) user_locations: KeySet,
    pub(super) locations: KeySet,
    pub(super) sites: KeySet,
    pub(super) domains: KeySet,
}

pub(super) type Hasher = foldhash::fast::RandomState;

/// The lists of names an org may have.
#[derive(Clone, Copy, Debug)]
pub(super) enum Names {
    Locations,
    Sites,
    Domains,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The tables are hashes and positions: what they were built from is
        // the org itself.
        f.debug_struct("Index")
            .field("users", &self.tables.as_ref().map(|t| t.location_of.len()))
            .finish_non_exhaustive()
    }
}

/// A user's trimmed phone number and extension.
fn phone(user: &OrgUser) -> &[u8] {
    trim(user.phone_number.as_deref().unwrap_or("")).as_bytes()
}

fn extension(user: &OrgUser) -> &[u8] {
    trim(user.extension.as_deref().unwrap_or("")).as_bytes()
}

/// Whether user `j` of `users` has the email key `key`.
fn email_is(users: &[OrgUser], j: u32, key: &[u8]) -> bool {
    users.get(j as usize).is_some_and(|u| folds_to(&u.email, key))
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

    /// Whether the index finds in `org` what an index built from it now
    /// would: an embedder may push users, or change them, after indexing.
    ///
    /// Lookups compare keys with the users as they are, so the index is
    /// right when each user's key finds that user or an earlier one (then
    /// one with the same key, by the comparison): by induction, every key
    /// finds the first user with it, and a key no user has finds nobody.
    /// One pass of lookups; no key is trusted for its hash alone.
    pub(super) fn matches(&self, org: &OrgState) -> bool {
        // Without tables nothing was kept: lookups read the org as it is.
        let Some(t) = &self.tables else { return true };
        let (users, hasher) = (&org.users, &self.hasher);
        let earlier = |found: Option<u32>, i: usize| found.is_some_and(|j| j as usize <= i);
        let mut folds = Folds::default();
        let mut key = Vec::new();
        t.location_of.len() == users.len()
            && users.iter().zip(&t.location_of).enumerate().all(|(i, (user, &location))| {
                key.clear();
                folds.fold_into(&user.email, &mut key, hasher);
                if !earlier(t.by_email.find(hasher.hash_one(&key[..]), |j| email_is(users, j, &key)), i) {
                    return false;
                }
                let number = phone(user);
                let by_phone = |j: u32| users.get(j as usize).is_some_and(|u| phone(u) == number);
                if !number.is_empty() && !earlier(t.by_phone.find(hasher.hash_one(number), by_phone), i) {
                    return false;
                }
                key.clear();
                folds.fold_into(user.location.as_deref().unwrap_or(""), &mut key, hasher);
                if t.user_locations.find(&key, hasher) != Some(location) {
                    return false;
                }
                let ext = extension(user);
                ext.is_empty()
                    || earlier(
                        t.by_extension
                            .find(hasher.hash_one((location, ext)), t.has_extension(users, location, ext)),
                        i,
                    )
            })
            && t.locations.matches(org.locations.as_deref())
            && t.sites.matches(org.sites.as_deref())
            && t.domains.matches(org.domains.as_deref())
    }

    /// The first user whose email key is `key`.
    pub(super) fn by_email(&self, org: &OrgState, key: &[u8]) -> Option<usize> {
        match &self.tables {
            Some(t) => t
                .by_email
                .find(self.hasher.hash_one(key), |j| email_is(&org.users, j, key))
                .map(|j| j as usize),
            None => org.users.iter().position(|u| folds_to(&u.email, key)),
        }
    }

    /// The first user whose trimmed phone number is `number` (not empty).
    pub(super) fn by_phone(&self, org: &OrgState, number: &[u8]) -> Option<usize> {
        if number.is_empty() {
            return None;
        }
        match &self.tables {
            Some(t) => {
                let eq = |j: u32| org.users.get(j as usize).is_some_and(|u| phone(u) == number);
                t.by_phone.find(self.hasher.hash_one(number), eq).map(|j| j as usize)
            }
            None => org.users.iter().position(|u| phone(u) == number),
        }
    }

    /// The first user with the extension `ext` (trimmed, not empty) in the
    /// location `location` (by name, any case, untrimmed).
    pub(super) fn by_extension(&self, org: &OrgState, location: &str, ext: &[u8]) -> Option<usize> {
        if ext.is_empty() {
            return None;
        }
        match &self.tables {
            Some(t) => {
                // A location no user has: nobody has the extension there.
                let location = t.user_locations.find_text(location, &self.hasher)?;
                let hash = self.hasher.hash_one((location, ext));
                t.by_extension.find(hash, t.has_extension(&org.users, location, ext)).map(|j| j as usize)
            }
            None => {
                let mut key = KeyBuf::new();
                fold_into(location, &mut key);
                let location = key.as_bytes();
                org.users.iter().position(|u| {
                    extension(u) == ext && folds_to(u.location.as_deref().unwrap_or(""), location)
                })
            }
        }
    }

    /// Whether `list` (the org's list of `names`) has `name` (any case,
    /// untrimmed).
    pub(super) fn has(&self, names: Names, list: &[String], name: &str) -> bool {
        match &self.tables {
            Some(t) => {
                let set = match names {
                    Names::Locations => &t.locations,
                    Names::Sites => &t.sites,
                    Names::Domains => &t.domains,
                };
                set.find_text(name, &self.hasher).is_some()
            }
            None => {
                let mut key = KeyBuf::new();
                fold_into(name, &mut key);
                list.iter().any(|other| folds_to(other, key.as_bytes()))
            }
        }
    }
}

impl Tables {
    fn build(org: &OrgState, hasher: &Hasher, max: usize) -> Option<Tables> {
        let users = &org.users;
        if users.len() > max {
            return None;
        }
        // The tables do not depend on each other: a large org builds them
        // on two threads.
        let parallel = users.len() >= PARALLEL_USERS;
        let ((by_email, by_phone), located) = join(
            parallel,
            || join(parallel, || email_table(users, hasher), || phone_table(users, hasher)),
            || Located::build(users, hasher, max),
        );
        let Located { location_of, user_locations, by_extension } = located?;
        Some(Tables {
            by_email: by_email?,
            by_phone: by_phone?,
            by_extension,
            location_of,
            user_locations,
            locations: KeySet::of(org.locations.as_deref(), hasher, max)?,
            sites: KeySet::of(org.sites.as_deref(), hasher, max)?,
            domains: KeySet::of(org.domains.as_deref(), hasher, max)?,
        })
    }

    /// Whether user `j` has the extension `ext` in the location `location`.
    fn has_extension<'a>(
        &'a self,
        users: &'a [OrgUser],
        location: u32,
        ext: &'a [u8],
    ) -> impl Fn(u32) -> bool + 'a {
        move |j| has_extension(&self.location_of, users, j, location, ext)
    }
}

/// An org with fewer users builds its index on one thread: handing work
/// to the pool costs more than the tables of a few thousand users.
pub(super) const PARALLEL_USERS: usize = 4096;

/// `(a(), b())`, on two threads of the pool when `parallel`.
fn join<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if parallel {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}

/// The first user with each email key; `None` past 32-bit positions.
fn email_table(users: &[OrgUser], hasher: &Hasher) -> Option<Positions> {
    let mut table = Positions::with_capacity(users.len(), users.len());
    let mut folds = Folds::default();
    let mut key = Vec::new();
    // The hash of a user's key, should the table grow after all.
    let hash_of = |j: u32| {
        let mut key = KeyBuf::new();
        fold_into(users.get(j as usize).map_or("", |u| &u.email), &mut key);
        hasher.hash_one(key.as_bytes())
    };
    for (i, user) in users.iter().enumerate() {
        let i = u32::try_from(i).ok()?;
        key.clear();
        folds.fold_into(&user.email, &mut key, hasher);
        if !table.insert_first(hasher.hash_one(&key[..]), i, |j| email_is(users, j, &key), hash_of) {
            return None;
        }
    }
    Some(table)
}

/// The first user with each phone number.
fn phone_table(users: &[OrgUser], hasher: &Hasher) -> Option<Positions> {
    let numbers = users.iter().filter(|u| u.phone_number.is_some()).count();
    let mut table = Positions::with_capacity(numbers, users.len());
    let hash_of = |j: u32| hasher.hash_one(users.get(j as usize).map_or(&[][..], phone));
    for (i, user) in users.iter().enumerate() {
        let i = u32::try_from(i).ok()?;
        let number = phone(user);
        let eq = |j: u32| users.get(j as usize).is_some_and(|u| phone(u) == number);
        if !number.is_empty() && !table.insert_first(hasher.hash_one(number), i, eq, hash_of) {
            return None;
        }
    }
    Some(table)
}

/// Whether user `j` has the extension `ext` in the location `location`.
fn has_extension(location_of: &[u32], users: &[OrgUser], j: u32, location: u32, ext: &[u8]) -> bool {
    location_of.get(j as usize) == Some(&location)
        && users.get(j as usize).is_some_and(|u| extension(u) == ext)
}

/// The users' locations, and the first user with each extension in each.
struct Located {
    location_of: Vec<u32>,
    user_locations: KeySet,
    by_extension: Positions,
}

impl Located {
    fn build(users: &[OrgUser], hasher: &Hasher, max: usize) -> Option<Located> {
        let extensions = users.iter().filter(|u| u.extension.is_some()).count();
        let mut by_extension = Positions::with_capacity(extensions, users.len());
        let mut location_of = Vec::with_capacity(users.len());
        let mut user_locations = KeySet::default();
        let mut folds = Folds::default();
        let mut key = Vec::new();
        let mut seen = SeenLocations::default();
        for (i, user) in users.iter().enumerate() {
            let i = u32::try_from(i).ok()?;
            let location = match seen.get(user.location.as_ref()) {
                Some(id) => id,
                None => {
                    // Most users spell their location as others do.
                    let text = trim(user.location.as_deref().unwrap_or(""));
                    let id = match user_locations.spelled(text) {
                        Some(id) => id,
                        None => {
                            key.clear();
                            folds.fold_into(text, &mut key, hasher);
                            let id = user_locations.intern(&key, hasher, max)?;
                            user_locations.spell(text, id);
                            id
                        }
                    };
                    seen.put(user.location.as_ref(), id);
                    id
                }
            };
            location_of.push(location);
            let ext = extension(user);
            let location_of = &location_of;
            let eq = |j: u32| has_extension(location_of, users, j, location, ext);
            let hash_of = |j: u32| {
                let location = location_of.get(j as usize).copied().unwrap_or(u32::MAX);
                hasher.hash_one((location, users.get(j as usize).map_or(&[][..], extension)))
            };
            if !ext.is_empty() && !by_extension.insert_first(hasher.hash_one((location, ext)), i, eq, hash_of)
            {
                return None;
            }
        }
        Some(Located { location_of, user_locations, by_extension })
    }
}

/// The locations of the users indexed last, by the place of their value
/// in memory: users read from an org share a handful of allocations of
/// their few locations (see [`Shared`]), and one seen before is known by
/// one comparison. (A slot holds the last allocation that fell in it: a
/// miss only costs a lookup by name.)
struct SeenLocations {
    slots: [(usize, u32); SeenLocations::SLOTS],
    /// Users with no location.
    none: Option<u32>,
}

impl Default for SeenLocations {
    fn default() -> SeenLocations {
        // No allocation is at 0.
        SeenLocations { slots: [(0, 0); SeenLocations::SLOTS], none: None }
    }
}

impl SeenLocations {
    /// Enough for a few locations in each part of a file read in parts.
    const SLOTS: usize = 64;

    fn slot(addr: usize) -> usize {
        // Allocations are 8 bytes apart at least, and a few apart at most.
        (addr >> 3 ^ addr >> 9) % SeenLocations::SLOTS
    }

    /// The location of a user whose value is `location`, if seen.
    #[inline]
    fn get(&self, location: Option<&Shared<String>>) -> Option<u32> {
        let Some(location) = location else { return self.none };
        let addr = location.addr();
        match self.slots.get(SeenLocations::slot(addr)) {
            Some(&(seen, id)) if seen == addr => Some(id),
            _ => None,
        }
    }

    fn put(&mut self, location: Option<&Shared<String>>, id: u32) {
        match location {
            None => self.none = Some(id),
            Some(location) => {
                let addr = location.addr();
                if let Some(slot) = self.slots.get_mut(SeenLocations::slot(addr)) {
                    *slot = (addr, id);
                }
            }
        }
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

/// A table of user positions found by hash, for keys the users hold.
///
/// The slots are the cross-row tables' ([`Slots`]): open addressing with
/// linear probing over one array of 32-bit slots, so that a lookup reads
/// one line of memory where hashbrown's read two (its control bytes, then
/// its slots).
///
/// Each slot is a position and, in the bits a position does not need, more
/// of its key's hash: a slot whose bits match a key's is told apart from
/// it by those bits, without reading the user — a user with another key,
/// and the heap block of its key, are two reads of memory that no cache
/// holds in a large org. Only the first user with the key is read (nearly
/// always).
#[derive(Clone, Default)]
pub(super) struct Positions {
    /// Each position with its hash bits, plus 1: the empty slot is 0 (see
    /// [`Positions::insert_first`]).
    slots: Slots<u32>,
    /// The bits of a slot that hold hash, not position.
    high: u32,
    /// One bit for some bits of each hash added (a Bloom filter of one
    /// hash): most keys looked up in a large org belong to nobody (the new
    /// users of a file, their numbers), and a clear bit says so from a few
    /// dozen kilobytes that stay in the cache, where the table's slots
    /// (650 KB for 100,000 users, with the cross-row tables pressing on
    /// them) miss it. Empty: no filter.
    filter: Vec<u64>,
}

/// The most bits a [`Positions`] filter has: 64 KiB, a sixth of them set
/// for 100,000 keys. (At a million rows, 16 KiB and 128 KiB measured the
/// same as this, within the noise; each saved 4 to 8% of the CPU time.)
const MOST_FILTER_BITS: usize = 1 << 19;

/// Where a filter's bits are taken from in a hash: above those a slot
/// keeps (the low 32).
const FILTER_SHIFT: u32 = 39;

impl Positions {
    /// A table with room for `n` positions below `users`.
    pub(super) fn with_capacity(n: usize, users: usize) -> Positions {
        let position_bits = usize::BITS - users.leading_zeros();
        let high = u32::MAX.checked_shl(position_bits).unwrap_or(0);
        let filter_bits = n.saturating_mul(4).checked_next_power_of_two().unwrap_or(MOST_FILTER_BITS);
        let filter = vec![0; filter_bits.clamp(64, MOST_FILTER_BITS) / 64];
        let mut slots = Slots::default();
        // Room for a third more than `n`, the table 3/5 full: its lookups
        // for keys nobody has (most of a large file's) walk 3.6 slots on
        // average rather than 13 at the cross-row tables' 4/5. Empty:
        // nothing to place again.
        slots.reserve(n.saturating_add(n / 3), |_| 0);
        Positions { slots, high, filter }
    }

    /// The word of the filter that holds `hash`'s bit, and the bit.
    fn filter_bit(&self, hash: u64) -> (usize, u64) {
        // The filter's length is a power of two words (or none: then no
        // word is there, and nothing is filtered).
        let at = (hash >> FILTER_SHIFT) as usize & (self.filter.len() * 64).wrapping_sub(1);
        (at / 64, 1 << (at % 64))
    }

    /// The bits of `hash` a slot keeps: low bits, where the slot a probe
    /// starts at is chosen by the high ones.
    fn high(&self, hash: u64) -> u32 {
        hash as u32 & self.high
    }

    /// The walk for `hash`: its first slot for which `eq` holds of a
    /// position whose bits match, or where it would go.
    fn probe(&self, hash: u64, mut eq: impl FnMut(u32) -> bool) -> Probe<u32> {
        let (high, position) = (self.high(hash), !self.high);
        self.slots.probe(hash, |slot| {
            let slot = slot.wrapping_sub(1);
            slot & self.high == high && eq(slot & position)
        })
    }

    /// The position with the hash `hash` for which `eq` holds, if any.
    pub(super) fn find(&self, hash: u64, eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let (word, bit) = self.filter_bit(hash);
        if self.filter.get(word).is_some_and(|w| w & bit == 0) {
            return None;
        }
        match self.probe(hash, eq) {
            Probe::Found(_, slot) => Some(slot.wrapping_sub(1) & !self.high),
            Probe::Vacant(_) => None,
        }
    }

    /// Adds `i` with the hash `hash` unless a position there already has
    /// its key (`eq`: the first user with a key keeps it); `hash_of` is the
    /// hash of a position's key, should the table grow. `false` when `i` is
    /// not below the number of users the table was made for.
    pub(super) fn insert_first(
        &mut self,
        hash: u64,
        i: u32,
        eq: impl FnMut(u32) -> bool,
        hash_of: impl Fn(u32) -> u64,
    ) -> bool {
        // Below the number of users, which fits in the position bits, a
        // position is never all ones there, and its slot never `u32::MAX`.
        let Some(slot) = (i | self.high(hash)).checked_add(1).filter(|_| i & self.high == 0) else {
            return false;
        };
        let (word, bit) = self.filter_bit(hash);
        if let Some(w) = self.filter.get_mut(word) {
            *w |= bit;
        }
        if let Probe::Vacant(at) = self.probe(hash, eq) {
            let position = !self.high;
            self.slots.fill(at, hash, slot, |slot| hash_of(slot.wrapping_sub(1) & position));
        }
        true
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

    /// Ends the string written last: its position, `None` once the bytes
    /// or the strings are over `max`.
    fn end(&mut self, max: usize) -> Option<u32> {
        let (end, id) = (self.bytes.len(), self.ends.len());
        self.ends.push(u32::try_from(end).ok().filter(|_| end <= max)?);
        u32::try_from(id).ok().filter(|_| id <= max)
    }
}

/// A set of folded names. A list (locations, sites, domains) keeps every
/// name, in order, so that the set can be checked against the list it was
/// built from, and the table holds the first of equal ones; the users'
/// locations are kept once each.
#[derive(Clone, Debug, Default)]
pub(super) struct KeySet {
    pub(super) keys: Keys,
    pub(super) table: HashTable<u32>,
    /// Of a small set, the names as the org writes them (trimmed).
    pub(super) spellings: Spellings,
}

impl KeySet {
    /// The set of `list`; `None` when a position would be over `max`.
    pub(super) fn of(list: Option<&[String]>, hasher: &Hasher, max: usize) -> Option<KeySet> {
        let list = list.unwrap_or_default();
        let bytes = list.iter().map(String::len).sum();
        let KeySet { mut keys, mut table, .. } = KeySet {
            keys: Keys::with_capacity(list.len(), bytes),
            table: HashTable::with_capacity(list.len()),
            spellings: Spellings::default(),
        };
        let mut folds = Folds::default();
        for name in list {
            folds.fold_into(name, &mut keys.bytes, hasher);
            let id = keys.end(max)?;
            let key = keys.get(id as usize);
            let hash_of = |j: u32| hasher.hash_one(keys.get(j as usize));
            insert_first(&mut table, hasher.hash_one(key), id, |j| keys.get(j as usize) == key, hash_of);
        }
        let mut set = KeySet { keys, table, spellings: Spellings::default() };
        for name in list.iter().take_while(|_| list.len() <= KeySet::SMALL) {
            // The first name with this one's key: the one the set finds.
            if let Some(first) = set.first(|k| folds_to(name, k)) {
                set.spell(trim(name), first);
            }
        }
        Some(set)
    }

    /// A set this small is searched in order: comparing a few keys costs
    /// less than hashing one (an org has a handful of locations, sites and
    /// domains).
    const SMALL: usize = 16;

    /// Where the (first) name whose key is `key` is.
    pub(super) fn find(&self, key: &[u8], hasher: &Hasher) -> Option<u32> {
        if self.keys.len() <= KeySet::SMALL {
            return self.first(|k| k == key);
        }
        self.table.find(hasher.hash_one(key), |&j| self.keys.get(j as usize) == key).copied()
    }

    /// [`KeySet::find`] for the key of `text` (see [`fold_into`]): ASCII text
    /// is compared with a small set's keys as it is, not folded first.
    ///
    /// A name the org writes as `text` is written is found first, compared
    /// as it is: that is most names of most files, and equal text has equal
    /// keys.
    pub(super) fn find_text(&self, text: &str, hasher: &Hasher) -> Option<u32> {
        let text = trim(text);
        if let Some(id) = self.spelled(text) {
            return Some(id);
        }
        if self.keys.len() <= KeySet::SMALL && text.is_ascii() {
            let text = text.as_bytes();
            return self.first(|k| k.len() == text.len() && ascii_lowercase_is(text, k) == Some(true));
        }
        let mut key = KeyBuf::new();
        fold_into(text, &mut key);
        self.find(key.as_bytes(), hasher)
    }

    /// Where the name spelled `text` (trimmed) is, if a small set knows
    /// that spelling.
    pub(super) fn spelled(&self, text: &str) -> Option<u32> {
        if self.keys.len() > KeySet::SMALL {
            return None;
        }
        self.spellings.find(text.as_bytes())
    }

    /// Notes that `text` (trimmed) is a spelling of the name at `id`,
    /// while the set is small; and so is its key, when the text is not
    /// ASCII (a caller may look up a key it folded itself: ASCII text in any
    /// case is found by comparing it with the keys) and the key is its own.
    pub(super) fn spell(&mut self, text: &str, id: u32) {
        if self.keys.len() <= KeySet::SMALL {
            self.spellings.add(text.as_bytes(), id);
            let key = self.keys.get(id as usize);
            if !text.is_ascii() && std::str::from_utf8(key).is_ok_and(|key| folds_to(key, key.as_bytes())) {
                self.spellings.add(key, id);
            }
        } else {
            self.spellings = Spellings::default();
        }
    }

    fn first(&self, mut is: impl FnMut(&[u8]) -> bool) -> Option<u32> {
        (0..self.keys.len()).find(|&i| is(self.keys.get(i))).and_then(|i| u32::try_from(i).ok())
    }

    /// Where `key` is, added if it is not there yet; `None` when a position
    /// would be over `max`.
    pub(super) fn intern(&mut self, key: &[u8], hasher: &Hasher, max: usize) -> Option<u32> {
        if let Some(id) = self.find(key, hasher) {
            return Some(id);
        }
        let KeySet { keys, table, .. } = self;
        keys.bytes.extend_from_slice(key);
        let id = keys.end(max)?;
        table.insert_unique(hasher.hash_one(key), id, |&j| hasher.hash_one(keys.get(j as usize)));
        Some(id)
    }

    pub(super) fn matches(&self, list: Option<&[String]>) -> bool {
        let list = list.unwrap_or_default();
        list.len() == self.keys.len()
            && list.iter().enumerate().all(|(i, name)| folds_to(name, self.keys.get(i)))
    }
}

/// Names as written, each with the position of its key in a set: a lookup
/// compares them with its text as it is, before it folds it.
#[derive(Clone, Debug, Default)]
pub(super) struct Spellings {
    /// Each spelling's length, words (see [`Spellings::words`]) and key.
    entries: Vec<Spelling>,
    /// The spellings themselves (one for each entry), for those longer
    /// than their words.
    texts: Vec<Box<[u8]>>,
}

#[derive(Clone, Copy, Debug)]
struct Spelling {
    len: usize,
    words: [u64; 2],
    id: u32,
}

impl Spellings {
    /// Spellings kept at most: those of a few names, in a few cases.
    const MAX: usize = 32;

    /// Two words that tell apart texts of the same length up to 16 bytes
    /// (each byte of the text is in one of them), read without a loop.
    fn words(text: &[u8]) -> [u64; 2] {
        let len = text.len();
        let at = |i: usize| u64::from(text.get(i).copied().unwrap_or(0));
        let word = |i: usize| swar::word(text, i).unwrap_or(0);
        let half = |i: usize| {
            text.get(i..i + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()).map_or(0, u32::from_le_bytes)
        };
        match len {
            0 => [0, 0],
            1..=3 => [at(0) | at(len / 2) << 8 | at(len - 1) << 16, 0],
            4..=7 => [u64::from(half(0)) | u64::from(half(len - 4)) << 32, 0],
            _ => [word(0), word(len - 8)],
        }
    }

    /// Where the text spelled `text` is.
    #[inline]
    fn find(&self, text: &[u8]) -> Option<u32> {
        let (len, words) = (text.len(), Spellings::words(text));
        let mut entries = self.entries.iter().enumerate();
        entries
            .find(|&(i, s)| s.len == len && s.words == words && (len <= 16 || self.is(i, text)))
            .map(|(_, s)| s.id)
    }

    /// Whether spelling `i` is `text` (one longer than its words; out of
    /// line, so that a lookup of a short one saves no registers for it).
    #[inline(never)]
    fn is(&self, i: usize, text: &[u8]) -> bool {
        self.texts.get(i).is_some_and(|t| **t == *text)
    }

    /// Adds `text`, spelled at `id`, unless it is known or there are
    /// enough.
    fn add(&mut self, text: &[u8], id: u32) {
        if self.entries.len() >= Spellings::MAX || self.find(text).is_some() {
            return;
        }
        self.entries.push(Spelling { len: text.len(), words: Spellings::words(text), id });
        self.texts.push(text.into());
    }
}

/// The names an export mentions, told apart as the index will (folded).
/// An export names the same few locations and sites again and again,
/// spelled the same: a name met before, byte for byte, is known without
/// folding it again.
#[derive(Clone, Default)]
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
        if !extend_ascii_lowercase(out, s.as_bytes()) {
            self.with_key(s, hasher, |key| out.extend_from_slice(key));
        }
    }
}

/// Whether the text `s`, lowercased, is `key`, when `s` is ASCII (`None`
/// when it is not: its key then takes more than lowercasing). Eight bytes
/// at a time, in one pass that looks for bytes above ASCII as it compares.
pub(super) fn ascii_lowercase_is(s: &[u8], key: &[u8]) -> Option<bool> {
    // (Above 0x80, `lower` may carry: the answer is then `None`, whatever
    // the comparison says.)
    let lower = lower_word;
    if s.len() != key.len() {
        return s.is_ascii().then_some(false);
    }
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
        let (a, b) = (swar::word(s, at).unwrap_or(0), swar::word(key, at).unwrap_or(0));
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
    (high & swar::HIGH == 0).then_some(diff == 0)
}

/// The eight bytes of `w` lowercased, when they are ASCII: the high bit of
/// each capital, moved down to 0x20.
#[inline]
fn lower_word(w: u64) -> u64 {
    w | (swar::within(w, b'A', b'Z') >> 2)
}

/// Appends `s` lowercased when it is ASCII (`true`), else nothing
/// (`false`): a key is folded for each user of an org, and this checks and
/// lowercases eight bytes at a time, in one pass, where `is_ascii` then
/// `make_ascii_lowercase` take two, the second a byte at a time. The last
/// few bytes are written as the last eight of `s` (some of them again).
pub(super) fn extend_ascii_lowercase(out: &mut Vec<u8>, s: &[u8]) -> bool {
    if s.len() < 8 {
        if !s.is_ascii() {
            return false;
        }
        out.extend(s.iter().map(u8::to_ascii_lowercase));
        return true;
    }
    let word = |at: usize| swar::word(s, at).unwrap_or(0);
    let start = out.len();
    out.reserve(s.len());
    let (mut high, mut at) = (0, 0);
    while at + 8 <= s.len() {
        let w = word(at);
        high |= w;
        out.extend_from_slice(&lower_word(w).to_le_bytes());
        at += 8;
    }
    if at < s.len() {
        let w = word(s.len() - 8);
        high |= w;
        out.truncate(start + s.len() - 8);
        out.extend_from_slice(&lower_word(w).to_le_bytes());
    }
    if high & swar::HIGH != 0 {
        out.truncate(start);
        return false;
    }
    true
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
