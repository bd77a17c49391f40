//! The strings the cross-row rules keep for a whole file — every email key,
//! phone number, location and extension — stored end to end in one buffer
//! and found again by their hash. One allocation instead of one per string
//! (a million-row file holds a few million), and each string is hashed
//! once.

use hashbrown::hash_table::{Entry, HashTable};

/// A set of strings, each known by a small id in the order first seen.
/// Kept as bytes: the strings come from [`SmallString`]s, and reading them
/// back as `str` would check every byte again.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    text: Vec<u8>,
    /// Where each string ends in `text`, by id; it starts where the one
    /// before ends.
    ends: Vec<usize>,
    /// (hash, id) of every string.
    table: HashTable<(u64, u32)>,
    hasher: foldhash::fast::RandomState,
}

impl Interner {
    /// The id of `s`, added if it is new; and whether it is.
    pub(crate) fn intern(&mut self, s: &[u8]) -> (u32, bool) {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(s);
        let (text, ends) = (&self.text, &self.ends);
        let eq = |&(h, id): &(u64, u32)| h == hash && get(text, ends, id) == s;
        match self.table.entry(hash, eq, |&(h, _)| h) {
            Entry::Occupied(e) => (e.get().1, false),
            Entry::Vacant(v) => {
                // More than 4 billion distinct strings would not fit in
                // memory first.
                let id = u32::try_from(self.ends.len()).unwrap_or(u32::MAX);
                v.insert((hash, id));
                self.text.extend_from_slice(s);
                self.ends.push(self.text.len());
                (id, true)
            }
        }
    }

    /// The string with id `id`.
    #[cfg(test)]
    pub(crate) fn get(&self, id: u32) -> &[u8] {
        get(&self.text, &self.ends, id)
    }
}

/// Elements per page of a [`Paged`] vector.
const PAGE_LEN: usize = 4096;

/// A vector kept in pages that never move, so that growing copies nothing:
/// a `Vec` copies every element each time it doubles, and the cross-row
/// pass adds a few per row for the whole file.
#[derive(Debug)]
pub(crate) struct Paged<T> {
    pages: Vec<Vec<T>>,
}

impl<T> Default for Paged<T> {
    fn default() -> Self {
        Paged { pages: Vec::new() }
    }
}

impl<T: Default> Paged<T> {
    /// Element `i`, after adding default elements up to it if there are
    /// not that many yet.
    pub(crate) fn slot(&mut self, i: usize) -> Option<&mut T> {
        let (page, at) = (i / PAGE_LEN, i % PAGE_LEN);
        if self.pages.get(page).is_some_and(|p| at < p.len()) {
            return self.pages.get_mut(page)?.get_mut(at);
        }
        while self.pages.len() <= page {
            // A page is started once the one before is full, so that an
            // index names one element whatever order slots come in.
            if let Some(last) = self.pages.last_mut() {
                last.resize_with(PAGE_LEN, T::default);
            }
            self.pages.push(Vec::with_capacity(PAGE_LEN));
        }
        let page = self.pages.get_mut(page)?;
        while page.len() <= at {
            page.push(T::default());
        }
        page.get_mut(at)
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

    /// Appends `s` folded as [`crate::text::write_folded`] does; plain
    /// ASCII is lowercased in place.
    pub(crate) fn push_folded(&mut self, s: &str) {
        let s = crate::text::trim(s);
        if !s.is_ascii() {
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

fn get<'a>(text: &'a [u8], ends: &[usize], id: u32) -> &'a [u8] {
    let i = id as usize;
    let end = ends.get(i).copied().unwrap_or(0);
    let start = i.checked_sub(1).and_then(|b| ends.get(b)).copied().unwrap_or(0);
    text.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{Interner, Paged, SmallString, INLINE, PAGE_LEN};

    #[test]
    fn a_paged_vector_keeps_each_slot() {
        let mut paged: Paged<usize> = Paged::default();
        // Slots in order, then one far ahead, then back.
        for i in (0..PAGE_LEN + 10).chain([5 * PAGE_LEN + 3, PAGE_LEN + 20, 7]) {
            let slot = paged.slot(i).unwrap();
            if *slot == 0 {
                *slot = i + 1;
            }
        }
        for i in (0..PAGE_LEN + 10).chain([5 * PAGE_LEN + 3, PAGE_LEN + 20]) {
            assert_eq!(*paged.slot(i).unwrap(), i + 1, "{i}");
        }
        assert_eq!(*paged.slot(3 * PAGE_LEN).unwrap(), 0);
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
        for folded in ["", "Milano HQ", " Bucureşti ", "ΟΔΟΣ", &"X".repeat(INLINE)] {
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

    #[test]
    fn the_same_string_gets_the_same_id() {
        let mut interner = Interner::default();
        let words = ["giulia", "", "marco", "giulia", "é", "", "marco"];
        let ids: Vec<_> = words.iter().map(|w| interner.intern(w.as_bytes())).collect();
        assert_eq!(ids, [(0, true), (1, true), (2, true), (0, false), (3, true), (1, false), (2, false)]);
        for (w, (id, _)) in words.iter().zip(ids) {
            assert_eq!(interner.get(id), w.as_bytes());
        }
        for i in 0..10_000 {
            assert_eq!(interner.intern(i.to_string().as_bytes()), (4 + i, true));
        }
        assert_eq!(interner.get(4 + 9_999), b"9999");
    }
}
