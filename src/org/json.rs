//! A quick reader of the usual org JSON; serde reads everything else.

use super::*;

/// A reader of the org JSON as SPEC §4 gives it, in some 40% fewer
/// instructions than serde (most of what is left is allocating the
/// `String`s of [`OrgUser`]): the text is checked as UTF-8 a block at a time
/// rather than string by string, a string is scanned a word at a time, and a
/// user's keys are expected in the order serde writes them.
///
/// It reads the usual file only: anything else — an unknown field, a
/// duplicate, a value of the wrong type, a surrogate escape, an empty email,
/// a syntax error — gives `None`, and serde reads the file instead: what it
/// accepts, and the error it reports with line and column, stay serde's.
/// What this reader accepts, serde reads the same way (a test compares them).
///
/// The file may come in blocks (see [`OrgReader`]), so that it is never
/// held whole.
pub(super) struct Json<'a> {
    pub(super) text: &'a str,
    pub(super) pos: usize,
    scratch: Scratch,
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

/// What comes next in the text of an org.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Next {
    /// The `{` of the org.
    Open,
    /// A field of the org: `"key": value` and the `,` or `}` after it.
    Field,
    /// A user and the `,` or `]` after it (after a `]`, also the `,` or
    /// `}` after the list).
    User,
    /// Whitespace to the end of the file.
    Tail,
}

/// Where [`OrgReader::advance`] stopped.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Halt {
    /// The org is read, and whitespace follows it to the end of the text.
    End,
    /// The unit (a field, a user) that starts at this position did not
    /// parse, and failed near the end of the text: more text may complete it.
    Short(usize),
    /// Not the usual file: serde reads it.
    Odd,
}

/// A unit that fails for want of text fails within this many bytes of the
/// end of the text (the longest look-ahead is a key, `"base_licenses":`);
/// one that fails earlier fails for good. Only speed depends on it: a unit
/// read again with more text fails again if it must, and serde reads a file
/// that fails.
const LOOK_AHEAD: usize = 64;

/// How much of the file is read at a time when it is read in blocks; a unit
/// (a user) longer than that makes room for itself.
pub(super) const BLOCK: usize = 128 << 10;

/// The org JSON read one unit at a time — the org's `{`, one field, one
/// user — so that the text can come in blocks: a unit cut short by the end
/// of a block is read again once the next block is there.
pub(super) struct OrgReader {
    org: OrgState,
    seen: Seen,
    next: Next,
    /// How many users the file is expected to hold: room is made for them
    /// all at the first, rather than doubling as they come (a user is 288
    /// bytes, and while a list doubles the old and the new are alive).
    users: usize,
    /// Lent to each [`Json`] of the reader.
    scratch: Scratch,
}

impl OrgReader {
    pub(super) fn new(users: usize) -> OrgReader {
        OrgReader { org: OrgState::default(), seen: 0, next: Next::Open, users, scratch: Scratch::default() }
    }

    /// A reader of `text` from `pos` on, with this reader's buffers.
    pub(super) fn json<'a>(&mut self, text: &'a str, pos: usize) -> Json<'a> {
        Json { text, pos, scratch: std::mem::take(&mut self.scratch) }
    }

    /// Reads units from `json` until the org ends or a unit fails (a
    /// half-read user is dropped); takes the buffers back.
    pub(super) fn advance(&mut self, json: &mut Json<'_>) -> Halt {
        let halt = loop {
            if self.next == Next::Tail {
                json.skip_whitespace();
                break if json.pos == json.text.len() { Halt::End } else { Halt::Odd };
            }
            let (start, users) = (json.pos, self.org.users.len());
            if self.unit(json).is_none() {
                self.org.users.truncate(users);
                break if json.text.len().saturating_sub(json.pos) <= LOOK_AHEAD {
                    Halt::Short(start)
                } else {
                    Halt::Odd
                };
            }
        };
        self.scratch = std::mem::take(&mut json.scratch);
        halt
    }

    /// One unit. When it fails, what it read is read again with it (the
    /// fields it set are set again, the user it pushed is dropped).
    fn unit(&mut self, json: &mut Json<'_>) -> Option<()> {
        match self.next {
            Next::Open => {
                json.expect(b'{')?;
                self.next = if json.next_is_there(b'}')? { Next::Tail } else { Next::Field };
            }
            Next::Field => {
                let key = json.string()?;
                json.expect(b':')?;
                let field = ORG_FIELDS.iter().position(|&f| f == key)?;
                let mut seen = self.seen;
                json.first_time(&mut seen, field)?;
                let org = &mut self.org;
                match field {
                    0 => org.name = json.opt_string()?,
                    1 => org.package = json.opt_string()?,
                    2 => org.packages = json.opt_strings()?,
                    3 => org.domains = json.opt_strings()?,
                    4 => org.locations = json.opt_strings()?,
                    5 => org.sites = json.opt_strings()?,
                    _ => {
                        json.expect(b'[')?;
                        if !json.next_is_there(b']')? {
                            self.seen = seen;
                            self.next = Next::User;
                            return Some(());
                        }
                    }
                }
                self.next = json.after_field()?;
                self.seen = seen;
            }
            Next::User => {
                let users = &mut self.org.users;
                if users.capacity() == 0 {
                    // When the hint is more than memory allows, the list
                    // grows as it would have.
                    let _ = users.try_reserve_exact(self.users);
                }
                // Read in place: a user is 288 bytes to move.
                users.push(OrgUser::default());
                json.user(users.last_mut()?)?;
                if !json.next_is(b',') {
                    json.expect(b']')?;
                    self.next = json.after_field()?;
                }
            }
            Next::Tail => return None,
        }
        Some(())
    }

    /// The org read, its list of users no larger than it needs (the hint
    /// counts every `{` of the file, and strings may hold some).
    pub(super) fn finish(mut self) -> OrgState {
        fit(&mut self.org.users);
        self.org
    }
}

/// How many users a JSON org of `len` bytes with `braces` `{` holds at most:
/// every user opens with a `{`, and so does the org (strings may hold some
/// more). The shortest user, `{"email":"a"},`, is 14 bytes.
pub(super) fn users_hint(braces: usize, len: usize) -> usize {
    braces.saturating_sub(1).min(len / 14)
}

/// How many `{` `bytes` holds.
pub(super) fn braces(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'{', bytes).count()
}

/// The buffers a [`Json`] reuses from string to string.
#[derive(Default)]
pub(super) struct Scratch {
    /// The strings of a list as they are read: the list is then allocated
    /// at its length.
    list: Vec<String>,
    /// A string with escapes, as it is unescaped: it is then allocated at
    /// its length.
    text: String,
}

/// The file read a block at a time into one buffer: what a unit cut short
/// needs is moved to the front, and the rest of the buffer filled again.
struct Blocks<R> {
    input: R,
    buf: Vec<u8>,
    /// How much of `buf` holds text.
    filled: usize,
    eof: bool,
}

impl<R: std::io::Read> Blocks<R> {
    fn text(&self) -> &[u8] {
        self.buf.get(..self.filled).unwrap_or_default()
    }

    /// Keeps the text from `keep` on, at the front, and reads until the
    /// buffer is full or the input ends. A buffer full of what is kept
    /// grows: every call reads something, or finds the end.
    fn refill(&mut self, keep: usize) -> std::io::Result<()> {
        let keep = keep.min(self.filled);
        self.buf.copy_within(keep..self.filled, 0);
        self.filled -= keep;
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        while let Some(free) = self.buf.get_mut(self.filled..).filter(|free| !free.is_empty()) {
            match self.input.read(free) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl<'a> Json<'a> {
    /// Reads an org held whole in memory (without a byte order mark).
    pub(super) fn read(bytes: &'a [u8]) -> Option<OrgState> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut reader = OrgReader::new(users_hint(braces(bytes), bytes.len()));
        let mut json = reader.json(text, 0);
        (reader.advance(&mut json) == Halt::End).then(|| reader.finish())
    }

    /// Reads an org from `input` a block of `block` bytes at a time, never
    /// holding the whole file; `Ok(None)` when serde must read it. `users`
    /// is the hint of [`OrgReader`]. A byte order mark is skipped.
    pub(super) fn read_from(
        input: impl std::io::Read,
        users: usize,
        block: usize,
    ) -> std::io::Result<Option<OrgState>> {
        let mut reader = OrgReader::new(users);
        // At least three bytes: the first block holds the byte order mark.
        let mut blocks = Blocks { input, buf: vec![0; block.max(3)], filled: 0, eof: false };
        blocks.refill(0)?;
        let mut start = if blocks.text().starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        loop {
            // A block may end inside a character: the text stops before
            // it, and the next block completes it.
            let text = match std::str::from_utf8(blocks.text()) {
                Ok(text) => text,
                Err(e) if e.error_len().is_none() && !blocks.eof => {
                    match std::str::from_utf8(blocks.text().get(..e.valid_up_to()).unwrap_or_default()) {
                        Ok(text) => text,
                        Err(_) => return Ok(None),
                    }
                }
                Err(_) => return Ok(None),
            };
            let mut json = reader.json(text, start);
            start = match reader.advance(&mut json) {
                Halt::End if blocks.eof => return Ok(Some(reader.finish())),
                Halt::End => text.len(),
                Halt::Short(unit) if !blocks.eof => unit,
                Halt::Short(_) | Halt::Odd => return Ok(None),
            };
            blocks.refill(start)?;
            start = 0;
        }
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
        let found = has_prefix(self.rest(), written);
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
        let mut list = std::mem::take(&mut self.scratch.list);
        list.clear();
        self.array(|json| {
            list.push(json.string()?.into_owned());
            Some(())
        })?;
        // Allocated at its length (and not at all when empty): a user's
        // three base licences take 72 bytes, not the 96 of a list grown.
        let mut strings = Vec::with_capacity(list.len());
        strings.append(&mut list);
        self.scratch.list = list;
        Some(Some(strings))
    }

    /// After a field of the org: `,` and another field, or `}` and the end.
    pub(super) fn after_field(&mut self) -> Option<Next> {
        if self.next_is(b',') {
            return Some(Next::Field);
        }
        self.expect(b'}')?;
        Some(Next::Tail)
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
        let mut out = std::mem::take(&mut self.scratch.text);
        out.clear();
        out.push_str(self.text.get(start..self.pos)?);
        loop {
            match self.next_byte()? {
                b'"' => {
                    // At its length, rather than as it grew.
                    let string = out.as_str().to_owned();
                    self.scratch.text = out;
                    return Some(Cow::Owned(string));
                }
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

    /// [`Json::next_is`], but `None` at the end of the text: what comes
    /// next decides what the unit is, and the text may go on in a block
    /// not read yet.
    pub(super) fn next_is_there(&mut self, b: u8) -> Option<bool> {
        self.peek()?;
        Some(self.next_is(b))
    }

    pub(super) fn expect(&mut self, b: u8) -> Option<()> {
        self.next_is(b).then_some(())
    }
}

/// `bytes.starts_with(prefix)`, for a prefix as short as a key: a key of 8
/// to 16 bytes is two words, which overlap (`starts_with` calls `memcmp`,
/// which costs more than the comparing).
pub(super) fn has_prefix(bytes: &[u8], prefix: &[u8]) -> bool {
    let n = prefix.len();
    let Some(head) = bytes.get(..n) else { return false };
    let word = |b: &[u8], at: usize| b.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok());
    if (8..=16).contains(&n) {
        word(head, 0) == word(prefix, 0) && word(head, n - 8) == word(prefix, n - 8)
    } else {
        head == prefix
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
