//! The strings the cross-row rules keep for a whole file — every email key,
//! and the locations and the few numbers that do not pack into an integer
//! — stored end to end in one buffer and found again by their hash. One
//! allocation instead of one per string (a million-row file holds a few
//! million), and no hash kept per string: the tables are most of what a
//! large file's check holds, so every byte of a slot counts, and a string
//! is hashed again from the buffer only when its table grows (never, when
//! the table was reserved).
//!
//! Also the lines those tables keep, in four bytes each ([`Line`]).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

use hashbrown::hash_table::{Entry, HashTable};

/// The hasher of the cross-row tables: fast, seeded.
pub(crate) type Hasher = foldhash::fast::RandomState;

/// The hasher of the hashes a row's facts carry to the cross-row pass
/// ([`hash_bytes`], [`hash_number`]): they are computed on the threads that
/// check the rows, in parallel, and the in-order pass only looks them up.
/// One per process, randomly seeded: the files are untrusted, and a file
/// made to collide would make every lookup a long walk.
fn shared_hasher() -> &'static (Hasher, [u64; 2]) {
    static HASHER: std::sync::LazyLock<(Hasher, [u64; 2])> = std::sync::LazyLock::new(|| {
        let hasher = Hasher::default();
        // Odd: not 0, the multiplier of the numbers hashed without salt.
        let seeds = [hasher.hash_one(0u8), hasher.hash_one(1u8) | 1];
        (hasher, seeds)
    });
    &HASHER
}

/// The hash of a string for the cross-row tables.
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    shared_hasher().0.hash_one(bytes)
}

/// The hash of a number for the cross-row tables, with a salt (the hash of
/// its location, for an extension): one multiplication, as `foldhash` hashes
/// an integer, with seeds of its own.
pub(crate) fn hash_number(number: u64, salt: u64) -> u64 {
    let [a, b] = shared_hasher().1;
    let product = u128::from(number ^ a) * u128::from(salt ^ b);
    (product as u64) ^ (product >> 64) as u64
}

/// The slots of an open-addressing table, probed linearly from the slot a
/// hash maps to.
///
/// The largest tables of a file's check (a million-row file's keys and
/// numbers) are far larger than the caches, and each lookup misses: here a
/// lookup and the insert after it touch one slot, or a few next to each
/// other, in one cache line, where a `hashbrown` table reads its control
/// bytes and then its slots, two lines apart. A slot holds the whole entry
/// (no hash: a table that grows hashes its entries again), and the all-zero
/// slot is empty. The number of slots is not a power of two: a hash is
/// mapped onto them by multiplying, so a table sized to the entries
/// expected is not twice too large.
#[derive(Clone, Debug, Default)]
pub(crate) struct Slots<S> {
    slots: Vec<S>,
    /// How many slots are full.
    len: usize,
}

/// What [`Slots::probe`] finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Probe<S> {
    /// The slot at this index, which matched.
    Found(usize, S),
    /// No slot matched: the first empty slot on the way, where the entry
    /// would go.
    Vacant(usize),
}

/// The share of slots full that a table is given when made room for:
/// a lookup for an entry that is not there walks about 13 slots at 4/5
/// full (8.5 at 3/4, 6 at 7/10), most of them in the cache line of the
/// first. The rows a driver makes room for are an estimate with a
/// sixteenth to spare: a file's tables end about 3/4 full.
const FILL_NUM: usize = 4;
const FILL_DEN: usize = 5;
/// The share of slots full beyond which a table grows (twice as large):
/// a reservation that was a little short costs longer walks, not a copy.
const MAX_FILL_NUM: usize = 7;
const MAX_FILL_DEN: usize = 8;
/// The fewest slots a table that holds anything has.
const MIN_SLOTS: usize = 16;

impl<S: Copy + Default + PartialEq + Send> Slots<S> {
    /// Where the walk for `hash` starts: its high bits, scaled to the
    /// number of slots.
    fn home(&self, hash: u64) -> usize {
        // Below `slots.len()`, since `hash < 2^64`.
        ((u128::from(hash) * self.slots.len() as u128) >> 64) as usize
    }

    /// Has the processor fetch the slots the walk for `hash` starts with:
    /// a caller touches the slots of many entries before looking any of
    /// them up, so that their cache misses are served together, not one
    /// after the other. Two lines of memory: a walk for an entry that is
    /// not there goes on past its first slot, and at the fill of a large
    /// table (3/4) often into the next line (fetching one line took 3.5%
    /// more wall time at a million rows than two, and three no less).
    /// Where the processor cannot be asked, the first slot is read.
    pub(crate) fn touch(&self, hash: u64) {
        let home = self.home(hash);
        if crate::prefetch::FETCHES {
            let at = self.slots.as_ptr().wrapping_add(home);
            crate::prefetch::line(at);
            crate::prefetch::line(at.cast::<u8>().wrapping_add(64));
        } else {
            std::hint::black_box(self.slots.get(home).copied());
        }
    }

    /// Walks from the slot of `hash` to the first slot that is empty or
    /// for which `is` holds.
    pub(crate) fn probe(&self, hash: u64, mut is: impl FnMut(S) -> bool) -> Probe<S> {
        let empty = S::default();
        let mut at = self.home(hash);
        // Never full (see `make_room`), so the walk ends at an empty slot
        // before it comes round again.
        for _ in 0..self.slots.len() {
            let Some(&slot) = self.slots.get(at) else { break };
            if slot == empty {
                return Probe::Vacant(at);
            }
            if is(slot) {
                return Probe::Found(at, slot);
            }
            at += 1;
            if at == self.slots.len() {
                at = 0;
            }
        }
        // No slot at all.
        Probe::Vacant(at)
    }

    /// Fills the empty slot at `at` with `slot` (not empty).
    fn occupy(&mut self, at: usize, slot: S) {
        if let Some(s) = self.slots.get_mut(at) {
            *s = slot;
            self.len += 1;
        }
    }

    /// Puts `slot` (not empty) in the vacant slot at `at`, which
    /// [`probe`](Self::probe) found for `hash`; makes room first (and then
    /// finds its place again) when the table is full.
    pub(crate) fn fill(&mut self, at: usize, hash: u64, slot: S, rehash: impl FnMut(S) -> u64) {
        if self.needs_room(1) {
            self.insert(hash, slot, rehash);
        } else {
            self.occupy(at, slot);
        }
    }

    /// Adds `slot` (not empty), which no slot holds yet, for `hash`;
    /// makes room first. `rehash` gives the hash of each entry when the
    /// table grows.
    pub(crate) fn insert(&mut self, hash: u64, slot: S, rehash: impl FnMut(S) -> u64) {
        self.make_room(1, rehash);
        if let Probe::Vacant(at) = self.probe(hash, |_| false) {
            self.occupy(at, slot);
        }
    }

    /// How many entries it holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// How many entries it holds room for without growing.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len() * MAX_FILL_NUM / MAX_FILL_DEN
    }

    /// Makes room for `more` entries: grows (twice as large) when they
    /// would fill more than 7/8 of the slots.
    pub(crate) fn make_room(&mut self, more: usize, rehash: impl FnMut(S) -> u64) {
        if self.needs_room(more) {
            let wanted = self.len.saturating_add(more);
            let slots = self.slots.len().saturating_mul(2).max(wanted.saturating_mul(2)).max(MIN_SLOTS);
            self.resize(slots, rehash);
        }
    }

    /// Whether `more` entries would fill more than 7/8 of the slots.
    fn needs_room(&self, more: usize) -> bool {
        let wanted = self.len.saturating_add(more);
        wanted.saturating_mul(MAX_FILL_DEN) > self.slots.len().saturating_mul(MAX_FILL_NUM)
    }

    /// Makes room for `more` entries, the table 4/5 full once they are in,
    /// unless it already has room for them.
    pub(crate) fn reserve(&mut self, more: usize, rehash: impl FnMut(S) -> u64) {
        let wanted = self.len.saturating_add(more);
        let slots = (wanted.saturating_mul(FILL_DEN) / FILL_NUM).max(MIN_SLOTS);
        if slots > self.slots.len() {
            self.resize(slots, rehash);
        }
    }

    /// Moves the entries to a table of `slots` slots.
    fn resize(&mut self, slots: usize, mut rehash: impl FnMut(S) -> u64) {
        let empty = S::default();
        // Zeroed memory, for the slot types used (integers), its pages
        // written at once when many (a table's entries fall on every page).
        let old = std::mem::replace(&mut self.slots, vec![empty; slots]);
        prefault(&mut self.slots);
        self.len = 0;
        for slot in old.into_iter().filter(|&s| s != empty) {
            if let Probe::Vacant(at) = self.probe(rehash(slot), |_| false) {
                self.occupy(at, slot);
            }
        }
    }
}

/// Writes a slot in every page of a large table of zeroed slots, so that
/// each page faults once, as it is written. Otherwise a lookup reads it
/// first, which maps the system's zero page, and the first write after
/// that faults again and has the other processors drop the old mapping: at
/// a million rows, 34,600 faults down to 29,900 and 2% less CPU time.
///
/// The pages are written by whichever threads of the pool are free, a
/// stretch of [`PREFAULT_PAGES`] each: the table is made on the thread that
/// hands rows over, and the others would wait for its thousands of faults
/// (some 10 ms of one core at a million rows, twice).
fn prefault<S: Copy + Default + Send>(slots: &mut [S]) {
    use rayon::prelude::*;
    let step = (4096 / std::mem::size_of::<S>().max(1)).max(1);
    if std::mem::size_of_val(slots) < PREFAULT_BYTES {
        return;
    }
    slots.par_chunks_mut(step * PREFAULT_PAGES).for_each(|stretch| {
        for slot in stretch.iter_mut().step_by(step) {
            // Written without being read (a read would map the zero page),
            // and not known to be zero already, so the write stays.
            *slot = std::hint::black_box(S::default());
        }
    });
}

/// Pages written by one task of [`prefault`]: 256 KiB, a few hundred
/// microseconds of faults.
const PREFAULT_PAGES: usize = 64;

/// The size from which a table's pages are written as it is made: the
/// tables of a file within the upload limit are smaller (20,000 rows,
/// some 250 KB). A large table is one made room for as the first rows of a
/// large file asked, or grown full: its pages all get entries.
const PREFAULT_BYTES: usize = 1 << 20;

/// Where [`HashedStrings::find`] would have put a string it did not find.
#[derive(Debug)]
pub(crate) struct Vacant(usize);

/// Byte strings, each known by a small id in the order added, found by a
/// hash their caller computes and compared by their caller (a string may
/// be kept encoded, and looked up as text): [`Keys`](super::email::Keys)
/// holds a file's email keys here. A slot is six bytes: the string's id
/// (plus 1: the empty slot is zero) and 16 bits of its hash, so that a
/// lookup reads a string that is not the one about once in 65,536 slots
/// it passes.
#[derive(Debug, Default)]
pub(crate) struct HashedStrings {
    arena: Arena,
    /// `[low 16 bits of the hash, low and high halves of id + 1]` of each
    /// string.
    slots: Slots<[u16; 3]>,
}

/// A slot of [`HashedStrings`]: `hash`'s tag and `id` (not `u32::MAX`).
fn string_slot(hash: u64, id: u32) -> [u16; 3] {
    let stored = id.saturating_add(1);
    [hash as u16, stored as u16, (stored >> 16) as u16]
}

/// The tag of a slot of [`HashedStrings`], and the id it holds (`u32::MAX`
/// for none).
fn slot_string([tag, low, high]: [u16; 3]) -> (u16, u32) {
    (tag, (u32::from(low) | u32::from(high) << 16).wrapping_sub(1))
}

impl HashedStrings {
    /// The id of the string of hash `hash` for which `is` holds; else
    /// where it goes, for [`insert`](Self::insert).
    pub(crate) fn find(&self, hash: u64, mut is: impl FnMut(&[u8]) -> bool) -> Result<u32, Vacant> {
        let tag = hash as u16;
        let arena = &self.arena;
        let matches = |slot| {
            let (t, id) = slot_string(slot);
            t == tag && is(arena.get(id))
        };
        match self.slots.probe(hash, matches) {
            Probe::Found(_, slot) => Ok(slot_string(slot).1),
            Probe::Vacant(at) => Err(Vacant(at)),
        }
    }

    /// Adds `s`, whose hash is `hash` and which [`find`](Self::find) did not
    /// find, where it said; returns its id. `rehash` gives the hash of a
    /// string as stored, when the table grows.
    pub(crate) fn insert(
        &mut self,
        vacant: Vacant,
        hash: u64,
        s: &[u8],
        rehash: impl FnMut(&[u8]) -> u64,
    ) -> u32 {
        self.insert_with(vacant, hash, |text| text.extend_from_slice(s), rehash)
    }

    /// Adds the string `write` appends to a buffer, as
    /// [`insert`](Self::insert) adds one.
    pub(crate) fn insert_with(
        &mut self,
        Vacant(at): Vacant,
        hash: u64,
        write: impl FnOnce(&mut Vec<u8>),
        mut rehash: impl FnMut(&[u8]) -> u64,
    ) -> u32 {
        let id = self.arena.push_with(write);
        let arena = &self.arena;
        // Ids past `u32::MAX - 1` would not fit in memory first.
        let slot = string_slot(hash, id);
        self.slots.fill(at, hash, slot, |slot| rehash(arena.get(slot_string(slot).1)));
        id
    }

    /// Fetches the slots a lookup of `hash` starts with (see
    /// [`Slots::touch`]).
    pub(crate) fn touch(&self, hash: u64) {
        self.slots.touch(hash);
    }

    /// The string with id `id`.
    #[cfg(test)]
    pub(crate) fn get(&self, id: u32) -> &[u8] {
        self.arena.get(id)
    }

    /// How many strings it holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.arena.len()
    }

    /// Makes room for `strings` more strings of `bytes` in all, so that
    /// neither the table nor the buffer grows (and, growing, holds its old
    /// and its new storage at once) while they come.
    pub(crate) fn reserve(&mut self, strings: usize, bytes: usize, mut rehash: impl FnMut(&[u8]) -> u64) {
        let arena = &self.arena;
        self.slots.reserve(strings, |slot| rehash(arena.get(slot_string(slot).1)));
        self.arena.text.reserve(bytes);
        if self.arena.wide_ends.is_empty() {
            self.arena.ends.reserve(strings);
        }
    }

    /// How many strings the table holds room for without growing.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.slots.capacity()
    }

    /// How many bytes the strings take, on average (0 when there are none).
    pub(crate) fn average_len(&self) -> usize {
        self.arena.text.len().checked_div(self.arena.len()).unwrap_or(0)
    }
}

/// Byte strings end to end in one buffer, each known by its id, in the
/// order pushed.
#[derive(Debug, Default)]
struct Arena {
    text: Vec<u8>,
    /// Where each string ends in `text`, by id (it starts where the one
    /// before ends), while `text` is shorter than 4 GiB: four bytes each.
    ends: Vec<u32>,
    /// The ends of the strings pushed after `text` outgrew `ends`, by id
    /// from `ends.len()` on.
    wide_ends: Vec<usize>,
}

impl Arena {
    /// How many strings it holds.
    fn len(&self) -> usize {
        self.ends.len() + self.wide_ends.len()
    }

    /// Where string `i` ends (0 for no string).
    fn end(&self, i: usize) -> usize {
        match self.ends.get(i) {
            Some(&end) => end as usize,
            None => i.checked_sub(self.ends.len()).and_then(|w| self.wide_ends.get(w)).copied().unwrap_or(0),
        }
    }

    /// The string with id `id`.
    fn get(&self, id: u32) -> &[u8] {
        let i = id as usize;
        let start = i.checked_sub(1).map_or(0, |before| self.end(before));
        self.text.get(start..self.end(i)).unwrap_or_default()
    }

    /// The id of `s` when the arena holds at most [`SCANNED`] strings and
    /// `s` is one of them: a few comparisons of lengths cost less than a
    /// hash.
    fn scan(&self, s: &[u8]) -> Option<u32> {
        if self.len() > SCANNED {
            return None;
        }
        let mut start = 0;
        for (id, &end) in (0u32..).zip(&self.ends) {
            let end = end as usize;
            if end - start == s.len() && self.text.get(start..end) == Some(s) {
                return Some(id);
            }
            start = end;
        }
        None
    }

    /// Adds `s`; returns its id.
    fn push(&mut self, s: &[u8]) -> u32 {
        self.push_with(|text| text.extend_from_slice(s))
    }

    /// Adds the string `write` appends to the text; returns its id.
    fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> u32 {
        // More than 4 billion distinct strings would not fit in memory
        // first.
        let id = u32::try_from(self.len()).unwrap_or(u32::MAX);
        write(&mut self.text);
        let end = self.text.len();
        match u32::try_from(end) {
            Ok(narrow) if self.wide_ends.is_empty() => self.ends.push(narrow),
            _ => self.wide_ends.push(end),
        }
        id
    }
}

/// A set of strings, each known by a small id in the order first seen: the
/// cross-row rules keep what they know of each string in a `Vec` by id,
/// four bytes or so a string, not in the table's slots, which are often
/// half empty (a table has a power of two of them).
/// Kept as bytes: the strings come from [`SmallString`]s, and reading them
/// back as `str` would check every byte again.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    arena: Arena,
    /// Every string's id, found by the string's hash.
    table: HashTable<u32>,
    hasher: Hasher,
}

/// The most strings an interner looks through one by one before it hashes:
/// the domains of a file's emails, or the locations of its extensions, are
/// usually that few, and found on every row.
const SCANNED: usize = 16;

impl Interner {
    /// The id of `s`, added if it is new (its id is then [`len`](Self::len)
    /// before).
    pub(crate) fn id(&mut self, s: &[u8]) -> u32 {
        if let Some(id) = self.arena.scan(s) {
            return id;
        }
        let hash = self.hasher.hash_one(s);
        let (arena, hasher) = (&self.arena, &self.hasher);
        let eq = |&id: &u32| arena.get(id) == s;
        let rehash = |&id: &u32| hasher.hash_one(arena.get(id));
        match self.table.entry(hash, eq, rehash) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(v) => *v.insert(self.arena.push(s)).get(),
        }
    }

    /// The id of `s`, if it was interned.
    pub(crate) fn find(&self, s: &[u8]) -> Option<u32> {
        if self.arena.len() <= SCANNED {
            return self.arena.scan(s);
        }
        let arena = &self.arena;
        self.table.find(self.hasher.hash_one(s), |&id| arena.get(id) == s).copied()
    }

    /// How many strings it holds.
    pub(crate) fn len(&self) -> usize {
        self.arena.len()
    }

    /// The string with id `id`.
    pub(crate) fn get(&self, id: u32) -> &[u8] {
        self.arena.get(id)
    }
}

/// A line number in four bytes, for the tables that keep one per key or
/// number of a file: `NONE`, a line below `u32::MAX` itself, or `WIDE`,
/// whose line [`WideLines`] keeps. A file would need four billion lines
/// before the first wide one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Line(u32);

impl Line {
    /// No line (records start on line 1).
    pub(crate) const NONE: Line = Line(0);
    const WIDE: Line = Line(u32::MAX);

    /// Whether this is a line.
    pub(crate) fn is_some(self) -> bool {
        self != Line::NONE
    }
}

/// The lines too wide for a [`Line`], by what they are the line of.
#[derive(Debug)]
pub(crate) struct WideLines<K> {
    lines: HashMap<K, u64, Hasher>,
}

impl<K> Default for WideLines<K> {
    fn default() -> Self {
        WideLines { lines: HashMap::default() }
    }
}

impl<K: Hash + Eq> WideLines<K> {
    /// `line` as a [`Line`], for `owner` (a key or number); line 0 is
    /// [`Line::NONE`].
    pub(crate) fn narrow(&mut self, owner: K, line: u64) -> Line {
        match u32::try_from(line) {
            Ok(narrow) if Line(narrow) != Line::WIDE => Line(narrow),
            _ => {
                self.lines.insert(owner, line);
                Line::WIDE
            }
        }
    }

    /// The line `line` of `owner` stands for.
    pub(crate) fn wide(&self, owner: &K, line: Line) -> u64 {
        if line == Line::WIDE {
            // Only `narrow` makes a wide line, and it keeps the line.
            self.lines.get(owner).copied().unwrap_or(u64::MAX)
        } else {
            u64::from(line.0)
        }
    }
}

/// Bytes a [`SmallString`] holds without allocating.
const INLINE: usize = 80;

/// A string kept inline while it is short, on the heap once it is not.
///
/// Each row's facts hold its key, phone number and extension until the
/// cross-row pass has seen them; they fit in a few dozen bytes, and a heap
/// string per row cost as much as the cross-row rules themselves.
#[derive(Clone, Debug)]
pub(crate) enum SmallString {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(String),
}

impl Default for SmallString {
    fn default() -> Self {
        SmallString::Inline { len: 0, bytes: [0; INLINE] }
    }
}

impl SmallString {
    /// The text as bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            SmallString::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            SmallString::Heap(s) => s.as_bytes(),
        }
    }

    /// The text.
    #[cfg(test)]
    pub(crate) fn as_str(&self) -> &str {
        match self {
            // Only whole strings are pushed, so the bytes are UTF-8.
            SmallString::Inline { len, bytes } => {
                bytes.get(..usize::from(*len)).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default()
            }
            SmallString::Heap(s) => s,
        }
    }

    /// The length in bytes.
    pub(crate) fn len(&self) -> usize {
        match self {
            SmallString::Inline { len, .. } => usize::from(*len),
            SmallString::Heap(s) => s.len(),
        }
    }

    /// The text from byte `start`, which must be where a pushed string
    /// began (else empty). Checks only those bytes are UTF-8, not all.
    pub(crate) fn tail(&self, start: usize) -> &str {
        match self {
            SmallString::Inline { len, bytes } => bytes
                .get(start..usize::from(*len))
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
            SmallString::Heap(s) => s.get(start..).unwrap_or_default(),
        }
    }

    /// Appends `s` folded as [`crate::text::write_folded`] does; text whose
    /// capitals are all ASCII is lowercased in place.
    pub(crate) fn push_folded(&mut self, s: &str) {
        let s = crate::text::trim(s);
        // Text whose only capitals are ASCII — a capitalised name with
        // accents further on, `Bucureşti` — folds like ASCII, if it is NFC
        // and has no capital sigma (whose lowercase depends on the letters
        // around it): every other character is its own lowercase.
        let own_lowercase = |c: char| {
            let mut lower = c.to_lowercase();
            lower.next() == Some(c) && lower.next().is_none()
        };
        let like_ascii =
            s.is_ascii() || (crate::text::is_nfc(s) && s.chars().all(|c| c.is_ascii() || own_lowercase(c)));
        if !like_ascii {
            // Writing to a SmallString cannot fail.
            let _ = crate::text::write_folded(s, self);
            return;
        }
        let start = self.len();
        self.push_str(s);
        match self {
            SmallString::Inline { bytes, len } => {
                if let Some(pushed) = bytes.get_mut(start..usize::from(*len)) {
                    pushed.make_ascii_lowercase();
                }
            }
            SmallString::Heap(h) => {
                if let Some(pushed) = h.get_mut(start..) {
                    pushed.make_ascii_lowercase();
                }
            }
        }
    }

    /// Appends `s`.
    pub(crate) fn push_str(&mut self, s: &str) {
        match self {
            SmallString::Inline { len, bytes } => {
                let start = usize::from(*len);
                let end = start + s.len();
                if let (Some(to), Ok(new_len)) = (bytes.get_mut(start..end), u8::try_from(end)) {
                    to.copy_from_slice(s.as_bytes());
                    *len = new_len;
                    return;
                }
                let mut heap = String::with_capacity(end.max(2 * INLINE));
                // Whole strings were pushed, so the bytes so far are UTF-8.
                heap.push_str(
                    bytes.get(..start).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default(),
                );
                heap.push_str(s);
                *self = SmallString::Heap(heap);
            }
            SmallString::Heap(h) => h.push_str(s),
        }
    }
}

impl std::fmt::Write for SmallString {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::{
        hash_bytes, Arena, HashedStrings, Interner, Line, Probe, Slots, SmallString, WideLines, INLINE,
        PREFAULT_BYTES, SCANNED,
    };

    /// A table large enough to have its pages written as it is made (see
    /// `prefault`) starts empty and holds what is put in it, through a
    /// growth as well.
    #[test]
    fn a_large_table_starts_empty_and_keeps_its_entries() {
        let rows = PREFAULT_BYTES / std::mem::size_of::<[u64; 2]>();
        let mut slots: Slots<[u64; 2]> = Slots::default();
        slots.reserve(rows, |[k, _]| hash_bytes(&k.to_le_bytes()));
        assert!(slots.slots.len() * std::mem::size_of::<[u64; 2]>() >= PREFAULT_BYTES);
        assert!(slots.slots.iter().all(|&s| s == [0, 0]));
        for key in 1..=2 * rows as u64 {
            let hash = hash_bytes(&key.to_le_bytes());
            let Probe::Vacant(at) = slots.probe(hash, |[k, _]| k == key) else { panic!("{key} found") };
            slots.fill(at, hash, [key, key * 3], |[k, _]| hash_bytes(&k.to_le_bytes()));
        }
        assert_eq!(slots.len(), 2 * rows);
        for key in 1..=2 * rows as u64 {
            let found = slots.probe(hash_bytes(&key.to_le_bytes()), |[k, _]| k == key);
            assert!(matches!(found, Probe::Found(_, [_, v]) if v == key * 3), "{key}");
        }
    }

    #[test]
    fn a_small_string_moves_to_the_heap_when_full_and_keeps_its_text() {
        let mut s = SmallString::default();
        let mut expected = String::new();
        for word in
            ["giulia.rossi@acme.example", "+390212345678", "1001:", "bucureşti", &"x".repeat(INLINE), "é"]
        {
            s.push_str(word);
            expected.push_str(word);
            assert_eq!(s.as_str(), expected);
            assert_eq!(s.len(), expected.len());
            assert_eq!(matches!(s, SmallString::Inline { .. }), expected.len() <= INLINE, "{expected}");
        }
        for folded in
            ["", "Milano HQ", " Bucureşti ", "ΟΔΟΣ", "Élise", "Σ", "aΣ b", "e\u{301}", &"X".repeat(INLINE)]
        {
            for start in ["", "1001:"] {
                let mut s = SmallString::default();
                s.push_str(start);
                s.push_folded(folded);
                let mut expected = String::from(start);
                crate::text::write_folded(folded, &mut expected).unwrap();
                assert_eq!(s.as_str(), expected);
                assert_eq!(s.tail(start.len()), &expected[start.len()..]);
            }
        }
        let mut exact = SmallString::default();
        exact.push_str(&"y".repeat(INLINE));
        assert!(matches!(exact, SmallString::Inline { .. }));
        exact.push_str("");
        assert_eq!(exact.as_str(), "y".repeat(INLINE));
    }

    proptest::proptest! {
        /// Folding in place gives what folding character by character gives.
        #[test]
        fn push_folded_is_write_folded(
            start in "[a-z:]{0,4}",
            s in "[ a-zA-Z\u{a0}\u{c0}-\u{17f}\u{300}\u{301}\u{391}-\u{3c9}\u{130}\u{10400}\u{2160}]{0,30}",
        ) {
            let mut small = SmallString::default();
            small.push_str(&start);
            small.push_folded(&s);
            let mut expected = start.clone();
            crate::text::write_folded(&s, &mut expected).unwrap();
            proptest::prop_assert_eq!(small.as_str(), expected);
        }
    }

    #[test]
    fn the_same_string_gets_the_same_id() {
        let mut interner = Interner::default();
        let words = ["giulia", "", "marco", "giulia", "é", "", "marco"];
        let ids: Vec<_> = words.iter().map(|w| interner.id(w.as_bytes())).collect();
        assert_eq!(ids, [0, 1, 2, 0, 3, 1, 2]);
        for (w, id) in words.iter().zip(ids) {
            assert_eq!(interner.get(id), w.as_bytes());
        }
        for i in 0..10_000 {
            assert_eq!(interner.id(i.to_string().as_bytes()), 4 + i);
        }
        assert_eq!(interner.get(4 + 9_999), b"9999");
        assert_eq!(interner.find(b"9999"), Some(4 + 9_999));
        assert_eq!(interner.find(b"10000"), None);
    }

    #[test]
    fn the_ends_past_4_gib_are_kept_wide() {
        // Text past 4 GiB is too much for a test: an arena that switched
        // after its first string, as one that outgrew `u32` does.
        let mut arena = Arena { text: b"abcdefghi".to_vec(), ends: vec![3], wide_ends: vec![5, 9] };
        assert_eq!(arena.push(b"xy"), 3);
        assert_eq!(arena.push(b""), 4);
        let strings: Vec<&[u8]> = (0..5).map(|id| arena.get(id)).collect();
        assert_eq!(strings, [&b"abc"[..], b"de", b"fghi", b"xy", b""]);
        assert_eq!((arena.ends.len(), arena.wide_ends.len()), (1, 4));
        assert_eq!(arena.get(5), b"");
    }

    proptest::proptest! {
        /// Ids are given in the order strings are first seen, whichever way
        /// they are found: one by one while the set is small, by hash after.
        #[test]
        fn ids_are_those_of_a_map(words in proptest::collection::vec("[ab\u{e9}]{0,3}", 0..80)) {
            let mut model: HashMap<&[u8], u32> = HashMap::new();
            let mut interner = Interner::default();
            for w in &words {
                let w = w.as_bytes();
                let known = model.get(w).copied();
                proptest::prop_assert_eq!(interner.find(w), known);
                let next = u32::try_from(model.len()).unwrap();
                let id = *model.entry(w).or_insert(next);
                proptest::prop_assert_eq!(interner.id(w), id);
                proptest::prop_assert_eq!(interner.get(id), w);
            }
            proptest::prop_assert_eq!(interner.len(), model.len());
            if model.len() > SCANNED {
                // Past the few it looks through, the set hashes.
                proptest::prop_assert_eq!(interner.arena.scan(b""), None);
            }
        }

        /// A table of slots finds what a map finds, whatever the hashes:
        /// all alike (one long walk), a few (collisions), or spread; grown
        /// from nothing, or made room for, for too few or enough.
        #[test]
        fn slots_hold_what_a_map_holds(
            keys in proptest::collection::vec(1..200u64, 0..300),
            spread in 0..3u32,
            room in proptest::option::of(0..150usize),
        ) {
            let hash = |key: u64| match spread {
                0 => 7,
                1 => (key % 5) << 61,
                _ => hash_bytes(&key.to_le_bytes()),
            };
            let mut slots: Slots<[u64; 2]> = Slots::default();
            if let Some(room) = room {
                slots.reserve(room, |[k, _]| hash(k));
            }
            let mut model = HashMap::new();
            for (i, &key) in (0u64..).zip(&keys) {
                match slots.probe(hash(key), |[k, _]| k == key) {
                    Probe::Found(_, [_, value]) => proptest::prop_assert_eq!(model.get(&key), Some(&value)),
                    Probe::Vacant(at) => {
                        proptest::prop_assert_eq!(model.get(&key), None);
                        model.insert(key, i);
                        slots.fill(at, hash(key), [key, i], |[k, _]| hash(k));
                    }
                }
                proptest::prop_assert_eq!(slots.len(), model.len());
                // Never more than 7/8 full: every walk ends.
                proptest::prop_assert!(slots.len() * 8 <= slots.slots.len() * 7);
            }
            for (&key, &value) in &model {
                let found = slots.probe(hash(key), |[k, _]| k == key);
                proptest::prop_assert!(matches!(found, Probe::Found(_, [_, v]) if v == value));
            }
            // Touching, near the end of the slots or anywhere, changes nothing.
            let before = slots.slots.clone();
            for key in [0, 1, u64::MAX] {
                slots.touch(hash(key));
            }
            proptest::prop_assert_eq!(&slots.slots, &before);
        }

        /// Strings found by a hash and compared by their caller get their
        /// ids in the order first seen, as from a map, whether their hashes
        /// tell them apart or not (the slots keep 32 bits of a hash).
        #[test]
        fn hashed_strings_are_those_of_a_map(
            words in proptest::collection::vec("[ab\u{e9}]{0,4}", 0..120),
            weak in proptest::bool::ANY,
            room in proptest::option::of(0..60usize),
        ) {
            // A weak hash: equal for all strings of a length.
            let hash = |w: &[u8]| if weak { (w.len() as u64) << 60 } else { hash_bytes(w) };
            let mut strings = HashedStrings::default();
            if let Some(room) = room {
                strings.reserve(room, room * 4, hash);
            }
            let mut model: HashMap<&[u8], u32> = HashMap::new();
            for w in &words {
                let w = w.as_bytes();
                let id = match strings.find(hash(w), |s| s == w) {
                    Ok(id) => id,
                    Err(vacant) => {
                        proptest::prop_assert_eq!(model.get(w), None);
                        strings.insert(vacant, hash(w), w, hash)
                    }
                };
                let next = u32::try_from(model.len()).unwrap();
                proptest::prop_assert_eq!(*model.entry(w).or_insert(next), id);
                proptest::prop_assert_eq!(strings.get(id), w);
                proptest::prop_assert_eq!(strings.len(), model.len());
            }
            if !model.is_empty() {
                let average = model.keys().map(|w| w.len()).sum::<usize>() / model.len();
                proptest::prop_assert_eq!(strings.average_len(), average);
            }
        }

        /// A line is kept in four bytes, or aside: either way it is the
        /// same line again.
        #[test]
        fn lines_round_trip(line in proptest::prop_oneof![
            0..=u64::from(u32::MAX) + 2,
            u64::from(u32::MAX) - 2..=u64::from(u32::MAX) + 2,
            proptest::num::u64::ANY,
        ]) {
            let mut wide = WideLines::default();
            let narrow = wide.narrow(7u32, line);
            proptest::prop_assert_eq!(narrow.is_some(), line != 0);
            proptest::prop_assert_eq!(narrow == Line::NONE, line == 0);
            proptest::prop_assert_eq!(wide.wide(&7, narrow), line);
            // Another owner's wide line is kept apart.
            let other = wide.narrow(8, u64::MAX);
            proptest::prop_assert_eq!(wide.wide(&7, narrow), line);
            proptest::prop_assert_eq!(wide.wide(&8, other), u64::MAX);
        }
    }
}
