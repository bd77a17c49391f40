//! The strings the cross-row rules keep for a whole file — every email key,
//! phone number, location and extension — stored end to end in one buffer
//! and found again by their hash. One allocation instead of one per string
//! (a million-row file holds a few million), and each string is hashed
//! once.

use hashbrown::hash_table::{Entry, HashTable};

/// A set of strings, each known by a small id in the order first seen,
/// and holding a value (the cross-row rules' state for that key or
/// number, in the table itself: one lookup finds both).
/// Kept as bytes: the strings come from [`SmallString`]s, and reading them
/// back as `str` would check every byte again.
#[derive(Debug)]
pub(crate) struct Interner<V> {
    text: Vec<u8>,
    /// Where each string ends in `text`, by id; it starts where the one
    /// before ends.
    ends: Vec<usize>,
    /// Every string's hash, id and value.
    table: HashTable<Slot<V>>,
    hasher: foldhash::fast::RandomState,
}

#[derive(Debug)]
struct Slot<V> {
    hash: u64,
    id: u32,
    value: V,
}

impl<V> Default for Interner<V> {
    fn default() -> Self {
        Interner {
            text: Vec::new(),
            ends: Vec::new(),
            table: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
        }
    }
}

impl<V: Default> Interner<V> {
    /// The id of `s` and its value, added with the default value if `s` is
    /// new.
    pub(crate) fn intern(&mut self, s: &[u8]) -> (u32, &mut V) {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(s);
        let (text, ends) = (&self.text, &self.ends);
        let eq = |slot: &Slot<V>| slot.hash == hash && get(text, ends, slot.id) == s;
        let slot = match self.table.entry(hash, eq, |slot| slot.hash) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => {
                // More than 4 billion distinct strings would not fit in
                // memory first.
                let id = u32::try_from(self.ends.len()).unwrap_or(u32::MAX);
                self.text.extend_from_slice(s);
                self.ends.push(self.text.len());
                v.insert(Slot { hash, id, value: V::default() }).into_mut()
            }
        };
        (slot.id, &mut slot.value)
    }
}

impl<V> Interner<V> {
    /// The string with id `id`.
    #[cfg(test)]
    pub(crate) fn get(&self, id: u32) -> &[u8] {
        get(&self.text, &self.ends, id)
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

fn get<'a>(text: &'a [u8], ends: &[usize], id: u32) -> &'a [u8] {
    let i = id as usize;
    let end = ends.get(i).copied().unwrap_or(0);
    let start = i.checked_sub(1).and_then(|b| ends.get(b)).copied().unwrap_or(0);
    text.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{Interner, SmallString, INLINE};

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
    fn the_same_string_gets_the_same_id_and_value() {
        let mut interner: Interner<usize> = Interner::default();
        let words = ["giulia", "", "marco", "giulia", "é", "", "marco"];
        let ids: Vec<_> = words
            .iter()
            .map(|w| {
                let (id, seen) = interner.intern(w.as_bytes());
                *seen += 1;
                (id, *seen)
            })
            .collect();
        assert_eq!(ids, [(0, 1), (1, 1), (2, 1), (0, 2), (3, 1), (1, 2), (2, 2)]);
        for (w, (id, _)) in words.iter().zip(ids) {
            assert_eq!(interner.get(id), w.as_bytes());
        }
        for i in 0..10_000 {
            assert_eq!(interner.intern(i.to_string().as_bytes()), (4 + i, &mut 0));
        }
        assert_eq!(interner.get(4 + 9_999), b"9999");
    }
}
