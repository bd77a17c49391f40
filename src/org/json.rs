//! A quick reader of the usual org JSON; serde reads everything else.

use super::*;

/// A reader of the org JSON as SPEC §4 gives it, in some 40% fewer
/// instructions than serde (most of what is left is allocating the
/// `String`s of [`OrgUser`]): the file is checked as UTF-8 once rather than
/// string by string, a string is scanned a word at a time, and a user's keys
/// are expected in the order serde writes them.
///
/// It reads the usual file only: anything else — an unknown field, a
/// duplicate, a value of the wrong type, a surrogate escape, an empty email,
/// a syntax error — gives `None`, and serde reads the file instead: what it
/// accepts, and the error it reports with line and column, stay serde's.
/// What this reader accepts, serde reads the same way (a test compares them).
pub(super) struct Json<'a> {
    pub(super) text: &'a str,
    pub(super) pos: usize,
}

/// The fields of the org, in the order of [`OrgState`].
pub(super) const ORG_FIELDS: [&str; 7] =
    ["name", "package", "packages", "domains", "locations", "sites", "users"];

/// The fields of a user, in the order of [`OrgUser`] (serde writes them so).
pub(super) const USER_FIELDS: [&str; 12] = [
    "email",
    "first_name",
    "last_name",
    "display_name",
    "status",
    "package",
    "base_licenses",
    "location",
    "phone_number",
    "extension",
    "site",
    "admin",
];

/// [`USER_FIELDS`] as keys as JSON writes them: quoted, without escapes,
/// the colon right after.
pub(super) const USER_KEYS_WRITTEN: [&[u8]; 12] = [
    b"\"email\":",
    b"\"first_name\":",
    b"\"last_name\":",
    b"\"display_name\":",
    b"\"status\":",
    b"\"package\":",
    b"\"base_licenses\":",
    b"\"location\":",
    b"\"phone_number\":",
    b"\"extension\":",
    b"\"site\":",
    b"\"admin\":",
];

/// The optional text field of a user by its place in [`USER_FIELDS`].
pub(super) fn user_slot(user: &mut OrgUser, field: usize) -> Option<&mut Option<String>> {
    Some(match field {
        1 => &mut user.first_name,
        2 => &mut user.last_name,
        3 => &mut user.display_name,
        4 => &mut user.status,
        5 => &mut user.package,
        7 => &mut user.location,
        8 => &mut user.phone_number,
        9 => &mut user.extension,
        10 => &mut user.site,
        11 => &mut user.admin,
        _ => return None,
    })
}

/// One bit per field, to refuse duplicates as serde does.
pub(super) type Seen = u16;

impl<'a> Json<'a> {
    pub(super) fn read(bytes: &'a [u8]) -> Option<OrgState> {
        let mut json = Json { text: std::str::from_utf8(bytes).ok()?, pos: 0 };
        let org = json.org()?;
        json.skip_whitespace();
        (json.pos == json.text.len()).then_some(org)
    }

    pub(super) fn org(&mut self) -> Option<OrgState> {
        let mut org = OrgState::default();
        let mut seen: Seen = 0;
        self.object(|json| {
            let key = json.string()?;
            json.expect(b':')?;
            let field = ORG_FIELDS.iter().position(|&f| f == key)?;
            json.first_time(&mut seen, field)?;
            match field {
                0 => org.name = json.opt_string()?,
                1 => org.package = json.opt_string()?,
                2 => org.packages = json.opt_strings()?,
                3 => org.domains = json.opt_strings()?,
                4 => org.locations = json.opt_strings()?,
                5 => org.sites = json.opt_strings()?,
                _ => json.array(|json| {
                    // Read in place: a user is some 300 bytes to move.
                    org.users.push(OrgUser::default());
                    json.user(org.users.last_mut()?)
                })?,
            }
            Some(())
        })?;
        Some(org)
    }

    pub(super) fn user(&mut self, user: &mut OrgUser) -> Option<()> {
        let mut seen: Seen = 0;
        let mut expected = 0;
        self.object(|json| {
            // Files list the fields in one order (serde's): the key that
            // comes next in it is tried before the key is read in full.
            let field = match USER_KEYS_WRITTEN.get(expected) {
                Some(written) if json.key_is(written) => expected,
                _ => {
                    let key = json.string()?;
                    json.expect(b':')?;
                    USER_FIELDS.iter().position(|&f| f == key)?
                }
            };
            expected = field + 1;
            json.first_time(&mut seen, field)?;
            match field {
                0 => {
                    user.email = json.string()?.into_owned();
                    // Not blank: else serde reports it.
                    (!trim(&user.email).is_empty()).then_some(())
                }
                6 => {
                    user.base_licenses = json.opt_strings()?;
                    Some(())
                }
                _ => {
                    let value = json.opt_string()?;
                    *user_slot(user, field)? = value;
                    Some(())
                }
            }
        })?;
        // The email is required.
        (seen & 1 == 1).then_some(())
    }

    pub(super) fn first_time(&self, seen: &mut Seen, field: usize) -> Option<()> {
        let mask = 1 << field;
        let first = *seen & mask == 0;
        *seen |= mask;
        first.then_some(())
    }

    /// Whether the key `written` (`"name":`) comes next (after
    /// whitespace); if so, it is read. (Written any other way — with an
    /// escape, a space before the colon — it is read by [`Json::string`].)
    pub(super) fn key_is(&mut self, written: &[u8]) -> bool {
        self.skip_whitespace();
        let found = self.rest().starts_with(written);
        if found {
            self.pos += written.len();
        }
        found
    }

    /// `{ "key": value, … }`, each key and value read by `field`.
    pub(super) fn object(&mut self, mut field: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.expect(b'{')?;
        if self.next_is(b'}') {
            return Some(());
        }
        loop {
            field(self)?;
            if !self.next_is(b',') {
                return self.expect(b'}');
            }
        }
    }

    /// `[ value, … ]`, each value read by `item`.
    pub(super) fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.expect(b'[')?;
        if self.next_is(b']') {
            return Some(());
        }
        loop {
            item(self)?;
            if !self.next_is(b',') {
                return self.expect(b']');
            }
        }
    }

    pub(super) fn opt_string(&mut self) -> Option<Option<String>> {
        match self.peek()? {
            b'n' => self.null().then_some(None),
            _ => Some(Some(self.string()?.into_owned())),
        }
    }

    pub(super) fn opt_strings(&mut self) -> Option<Option<Vec<String>>> {
        if self.peek()? == b'n' {
            return self.null().then_some(None);
        }
        let mut strings = Vec::new();
        self.array(|json| {
            let string = json.string()?.into_owned();
            if strings.capacity() == 0 {
                // Room for four, as a first push makes, without the growth
                // path; and nothing for an empty list.
                strings = Vec::with_capacity(4);
            }
            strings.push(string);
            Some(())
        })?;
        Some(Some(strings))
    }

    /// `null`, after whitespace.
    pub(super) fn null(&mut self) -> bool {
        let null = self.rest().starts_with(b"null");
        if null {
            self.pos += 4;
        }
        null
    }

    /// A string, after whitespace; borrowed unless it has escapes.
    #[inline]
    pub(super) fn string(&mut self) -> Option<Cow<'a, str>> {
        self.expect(b'"')?;
        let start = self.pos;
        let end = plain_end(self.text.as_bytes(), start);
        if self.text.as_bytes().get(end) == Some(&b'"') {
            self.pos = end + 1;
            return self.text.get(start..end).map(Cow::Borrowed);
        }
        self.pos = end;
        self.escaped(start)
    }

    /// The rest of a string that has escapes (or a control character).
    #[cold]
    #[inline(never)]
    pub(super) fn escaped(&mut self, start: usize) -> Option<Cow<'a, str>> {
        let mut out = self.text.get(start..self.pos)?.to_owned();
        loop {
            match self.next_byte()? {
                b'"' => return Some(Cow::Owned(out)),
                b'\\' => out.push(self.escape()?),
                // A control character, which JSON wants escaped.
                _ => return None,
            }
            let start = self.pos;
            let end = plain_end(self.text.as_bytes(), start);
            out.push_str(self.text.get(start..end)?);
            self.pos = end;
        }
    }

    /// The character of the escape after a backslash (surrogates are left
    /// to serde).
    pub(super) fn escape(&mut self) -> Option<char> {
        Some(match self.next_byte()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hex = self.text.get(self.pos..self.pos + 4)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                self.pos += 4;
                char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
            }
            _ => return None,
        })
    }

    pub(super) fn rest(&self) -> &'a [u8] {
        self.text.as_bytes().get(self.pos..).unwrap_or_default()
    }

    pub(super) fn next_byte(&mut self) -> Option<u8> {
        let b = *self.text.as_bytes().get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    pub(super) fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.text.as_bytes().get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte after whitespace, not read.
    pub(super) fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.rest().first().copied()
    }

    /// Whether `b` comes next (after whitespace); if so, it is read.
    pub(super) fn next_is(&mut self, b: u8) -> bool {
        let found = self.peek() == Some(b);
        if found {
            self.pos += 1;
        }
        found
    }

    pub(super) fn expect(&mut self, b: u8) -> Option<()> {
        self.next_is(b).then_some(())
    }
}

/// Where the plain run of a JSON string that starts at `i` ends: at its
/// closing quote, a backslash or a control character. Eight bytes at a time,
/// with the usual bit trick: `(x - 0x01…) & !x & 0x80…` flags the bytes of
/// `x` that are zero (and `0x20…` those below 0x20). Bytes above a flagged
/// one may be flagged wrongly (a borrow), never those below it: the lowest
/// flag is the first special byte.
pub(crate) fn plain_end(bytes: &[u8], start: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let rest = bytes.get(start..).unwrap_or_default();
    let mut words = rest.chunks_exact(8);
    let mut i = start;
    for word in &mut words {
        let Ok(word) = <[u8; 8]>::try_from(word) else { break };
        let w = u64::from_le_bytes(word);
        let special =
            below(w ^ (ONES * u64::from(b'"')), 1) | below(w ^ (ONES * u64::from(b'\\')), 1) | below(w, 0x20);
        if special != 0 {
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + words.remainder().iter().take_while(|&&b| b != b'"' && b != b'\\' && b >= 0x20).count()
}
