//! A quick reader of the usual org JSON; serde reads everything else.

use super::*;

/// A reader of the org JSON as SPEC §4 gives it, in under a quarter of
/// serde's instructions (measured on an org of 10,000 users; much of what
/// is left is allocating the `String`s of [`OrgUser`]): the text is checked
/// as UTF-8 a block at a time rather than string by string, a string is
/// scanned a word at a time, and a user's keys are expected in the order
/// serde writes them, with the separators Python's `json.dumps` puts
/// around them (other layouts are read a step at a time).
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

/// [`USER_FIELDS`] as keys as Python's `json.dumps` writes them, after
/// the value before: a comma, a space, the quoted key, a colon and a space.
pub(super) const USER_KEYS_SPACED: [&[u8]; 12] = [
    b", \"email\": ",
    b", \"first_name\": ",
    b", \"last_name\": ",
    b", \"display_name\": ",
    b", \"status\": ",
    b", \"package\": ",
    b", \"base_licenses\": ",
    b", \"location\": ",
    b", \"phone_number\": ",
    b", \"extension\": ",
    b", \"site\": ",
    b", \"admin\": ",
];

/// Where [`Json::fields_in_order`] is in a user's object.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Where a key may start (after the `{`, or a `,`): the field's key is
    /// to be tried.
    Key,
    /// The field's key is read, with the colon after it: its value is next.
    Value,
    /// The object has ended.
    End,
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
    /// A part of the file is read: the next user starts where the part was
    /// to stop (see [`OrgReader::stop`]).
    Stop,
    /// A part of the file went past the place it was to stop at, not
    /// between two users: the guess of where parts start was wrong, not
    /// the file.
    Missed,
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

/// The bit of the users list in a [`Seen`] of the org's fields.
const USERS: Seen = 1 << 6;

/// Where an [`OrgReader`] puts the users it reads.
pub(super) trait Users {
    /// How many it holds.
    fn len(&self) -> usize;
    /// A new user, empty, at the end.
    fn push(&mut self) -> Option<&mut OrgUser>;
    /// Drops the users from `len` on (a unit that failed is read again).
    fn truncate(&mut self, len: usize);
}

/// The users of a file read in one piece: a list that grows.
pub(super) struct Grown {
    list: Vec<OrgUser>,
    /// How many users the file is expected to hold: room is made for them
    /// all at the first, rather than doubling as they come (a user is 192
    /// bytes, and while a list doubles the old and the new are alive).
    hint: usize,
}

impl Grown {
    pub(super) fn new(hint: usize) -> Grown {
        Grown { list: Vec::new(), hint }
    }

    /// The users, in a list no larger than it needs.
    pub(super) fn into_list(self) -> Vec<OrgUser> {
        let mut list = self.list;
        fit(&mut list);
        list
    }
}

impl Users for Grown {
    fn len(&self) -> usize {
        self.list.len()
    }

    fn push(&mut self) -> Option<&mut OrgUser> {
        if self.list.capacity() == 0 {
            // When the hint is more than memory allows, the list grows as
            // it would have.
            let _ = self.list.try_reserve_exact(self.hint);
        }
        // Read in place: a user is 192 bytes to move.
        self.list.push(OrgUser::default());
        self.list.last_mut()
    }

    fn truncate(&mut self, len: usize) {
        self.list.truncate(len);
    }
}

/// The users of one part of a file read in parts: the part's slots of the
/// org's list, made empty before the parts are read, filled from the
/// first. Users past the slots (the part was not where it was thought to
/// be: it does not count) go to a list of their own, so that the part is
/// read as the serial reader reads it.
pub(super) struct Slots<'s> {
    slots: &'s mut [OrgUser],
    len: usize,
    more: Vec<OrgUser>,
}

impl<'s> Slots<'s> {
    pub(super) fn new(slots: &'s mut [OrgUser]) -> Slots<'s> {
        Slots { slots, len: 0, more: Vec::new() }
    }

    /// How many slots are filled; `None` when the users did not fit.
    pub(super) fn filled(&self) -> Option<usize> {
        self.more.is_empty().then_some(self.len)
    }
}

impl Users for Slots<'_> {
    fn len(&self) -> usize {
        self.len + self.more.len()
    }

    fn push(&mut self) -> Option<&mut OrgUser> {
        match self.slots.get_mut(self.len) {
            Some(slot) => {
                self.len += 1;
                Some(slot)
            }
            None => {
                self.more.push(OrgUser::default());
                self.more.last_mut()
            }
        }
    }

    /// The slots dropped are emptied, to be filled again.
    fn truncate(&mut self, len: usize) {
        self.more.truncate(len.saturating_sub(self.slots.len()));
        for slot in self.slots.get_mut(len..self.len).unwrap_or_default() {
            *slot = OrgUser::default();
        }
        self.len = self.len.min(len);
    }
}

/// The org JSON read one unit at a time — the org's `{`, one field, one
/// user — so that the text can come in blocks: a unit cut short by the end
/// of a block is read again once the next block is there.
pub(super) struct OrgReader<U> {
    org: OrgState,
    seen: Seen,
    next: Next,
    users: U,
    /// Where the reader of a part stops: at the first user that starts
    /// there (or [`Halt::Missed`] past it). `None`: at the end of the org.
    stop: Option<usize>,
    /// Lent to each [`Json`] of the reader.
    scratch: Scratch,
}

impl OrgReader<Grown> {
    pub(super) fn new(users: usize) -> OrgReader<Grown> {
        let users = Grown::new(users);
        OrgReader {
            org: OrgState::default(),
            seen: 0,
            next: Next::Open,
            users,
            stop: None,
            scratch: Scratch::default(),
        }
    }

    /// The org read, its list of users no larger than it needs (the hint
    /// counts every `{` of the file, and strings may hold some).
    pub(super) fn finish(mut self) -> OrgState {
        self.org.users = self.users.into_list();
        self.org
    }
}

impl<U: Users> OrgReader<U> {
    /// A reader of `text` from `pos` on, with this reader's buffers.
    pub(super) fn json<'a>(&mut self, text: &'a str, pos: usize) -> Json<'a> {
        Json { text, pos, scratch: std::mem::take(&mut self.scratch) }
    }

    /// Reads units from `json` (whose text is at `base` in the file) until
    /// the org ends, the part stops, or a unit fails (a half-read user is
    /// dropped); takes the buffers back.
    pub(super) fn advance(&mut self, json: &mut Json<'_>, base: usize) -> Halt {
        let halt = loop {
            match (self.next, self.stop) {
                (Next::Tail, _) => {
                    json.skip_whitespace();
                    break if json.pos == json.text.len() { Halt::End } else { Halt::Odd };
                }
                // Between two users, where the serial reader would be too:
                // the next part reads on from here.
                (Next::User, Some(stop)) => {
                    json.skip_whitespace();
                    let at = base + json.pos;
                    if at >= stop {
                        break if at == stop { Halt::Stop } else { Halt::Missed };
                    }
                }
                _ => {}
            }
            let (start, users) = (json.pos, self.users.len());
            if self.unit(json).is_none() {
                self.users.truncate(users);
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
                json.user(self.users.push()?)?;
                if !json.next_is(b',') {
                    json.expect(b']')?;
                    self.next = json.after_field()?;
                }
            }
            Next::Tail => return None,
        }
        Some(())
    }
}

/// Reads units into `reader` from `input`, which starts at byte `start` of
/// the file, a block of `block` bytes at a time, until the org ends or the
/// part stops (see [`Halt`]; never [`Halt::Short`]). A byte order mark at
/// the start of the file is skipped. Blocks are filled up to `soft_end` at
/// first (where a part should stop: the rest is the next part's), and past
/// it only when a unit needs more.
fn read_blocks<U: Users>(
    reader: &mut OrgReader<U>,
    input: impl std::io::Read,
    start: usize,
    block: usize,
    soft_end: Option<usize>,
) -> std::io::Result<Halt> {
    // At least three bytes: the first block holds the byte order mark.
    let mut blocks =
        Blocks { input, buf: vec![0; block.max(3)], filled: 0, eof: false, offset: start, soft_end };
    blocks.refill(0)?;
    let mut from = if start == 0 && blocks.text().starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    loop {
        // A block may end inside a character: the text stops before it,
        // and the next block completes it.
        // simdutf8 checks a block several times faster than std.
        let text = match simdutf8::compat::from_utf8(blocks.text()) {
            Ok(text) => text,
            Err(e) if e.error_len().is_none() && !blocks.eof => {
                match simdutf8::compat::from_utf8(blocks.text().get(..e.valid_up_to()).unwrap_or_default()) {
                    Ok(text) => text,
                    Err(_) => return Ok(Halt::Odd),
                }
            }
            Err(_) => return Ok(Halt::Odd),
        };
        let mut json = reader.json(text, from);
        from = match reader.advance(&mut json, blocks.offset) {
            Halt::End if blocks.eof => return Ok(Halt::End),
            Halt::End => text.len(),
            Halt::Short(unit) if !blocks.eof => unit,
            Halt::Short(_) | Halt::Odd => return Ok(Halt::Odd),
            halt @ (Halt::Stop | Halt::Missed) => return Ok(halt),
        };
        blocks.refill(from)?;
        from = 0;
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
    /// The values of the users read, to share.
    shared: Kept,
}

/// The file read a block at a time into one buffer: what a unit cut short
/// needs is moved to the front, and the rest of the buffer filled again.
struct Blocks<R> {
    input: R,
    buf: Vec<u8>,
    /// How much of `buf` holds text.
    filled: usize,
    eof: bool,
    /// Where `buf` starts in the file.
    offset: usize,
    /// Where in the file the buffer is filled up to, until the text
    /// reaches it (see [`read_blocks`]).
    soft_end: Option<usize>,
}

impl<R: std::io::Read> Blocks<R> {
    fn text(&self) -> &[u8] {
        self.buf.get(..self.filled).unwrap_or_default()
    }

    /// Keeps the text from `keep` on, at the front, and reads until the
    /// buffer is full (or holds the text up to the soft end) or the input
    /// ends. A buffer full of what is kept grows: every call reads
    /// something, or finds the end.
    fn refill(&mut self, keep: usize) -> std::io::Result<()> {
        let keep = keep.min(self.filled);
        self.buf.copy_within(keep..self.filled, 0);
        self.filled -= keep;
        self.offset += keep;
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let end = match self.soft_end {
            Some(end) if self.offset + self.filled < end => (end - self.offset).min(self.buf.len()),
            _ => self.buf.len(),
        };
        while let Some(free) = self.buf.get_mut(self.filled..end).filter(|free| !free.is_empty()) {
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

/// Input read at any place, by many threads at once: a file, or bytes in
/// memory.
pub(super) trait At: Sync {
    /// Reads into `buf` from byte `offset` on; 0 at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize>;
}

impl At for [u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let rest = usize::try_from(offset).ok().and_then(|at| self.get(at..)).unwrap_or_default();
        let n = rest.len().min(buf.len());
        if let (Some(to), Some(from)) = (buf.get_mut(..n), rest.get(..n)) {
            to.copy_from_slice(from);
        }
        Ok(n)
    }
}

#[cfg(unix)]
impl At for std::fs::File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }
}

/// An [`At`] read in order from `offset` on, failing as
/// [`Bounded`](crate::limits::Bounded) does once more than `left` bytes
/// would be read (`max` is the file limit, for the message).
pub(super) struct ReadAt<'a, S: ?Sized> {
    source: &'a S,
    offset: u64,
    left: u64,
    max: u64,
}

impl<'a, S: ?Sized> ReadAt<'a, S> {
    /// Reads from byte `offset` on, up to byte `max` of the file.
    pub(super) fn new(source: &'a S, offset: usize, max: u64) -> ReadAt<'a, S> {
        let offset = offset as u64;
        ReadAt { source, offset, left: max.saturating_sub(offset), max }
    }
}

impl<S: At + ?Sized> std::io::Read for ReadAt<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.source.read_at(buf, self.offset)?;
        self.left = self
            .left
            .checked_sub(n as u64)
            .ok_or_else(|| std::io::Error::other(crate::limits::TooLong(self.max)))?;
        self.offset += n as u64;
        Ok(n)
    }
}

/// Where the parts of an org JSON read in parallel start, and how many `{`
/// each holds: found by a first pass over the file, a block at a time.
///
/// A part (after the first) starts at a `{` that follows a `}` and a `,`
/// (whitespace between): where a user starts, when it is not inside a
/// string. The guess is checked as the parts are read: a part is used only
/// when the part before it stops, between two users, exactly where it
/// starts (see [`read_parallel`]).
#[derive(Debug, Default)]
pub(super) struct Parts {
    /// Where to start looking for each part after the first, in order.
    targets: Vec<usize>,
    /// Where each part after the first starts.
    pub(super) starts: Vec<usize>,
    /// How many `{` each part holds.
    pub(super) braces: Vec<usize>,
}

impl Parts {
    pub(super) fn new(targets: Vec<usize>) -> Parts {
        Parts { targets, starts: Vec::new(), braces: vec![0] }
    }

    /// How many `{` the file holds.
    pub(super) fn braces(&self) -> usize {
        self.braces.iter().sum()
    }

    /// Counts the `{` of `block`, the file's bytes from `at`, and finds the
    /// parts that start in it. (A start cut by the end of a block is
    /// missed: the next one is taken.)
    pub(super) fn scan(&mut self, block: &[u8], at: usize) {
        let mut counted = 0;
        while let Some(&target) = self.targets.get(self.starts.len()) {
            let after = self.starts.last().map_or(0, |&s| s + 1).max(target);
            let from = after.saturating_sub(at);
            if from >= block.len() {
                break;
            }
            let Some(start) = user_start(block, from) else { break };
            if let Some(braces) = self.braces.last_mut() {
                *braces += json::braces(block.get(counted..start).unwrap_or_default());
            }
            self.starts.push(at + start);
            self.braces.push(0);
            counted = start;
        }
        if let Some(braces) = self.braces.last_mut() {
            *braces += json::braces(block.get(counted..).unwrap_or_default());
        }
    }
}

impl Parts {
    /// [`Parts::scan`] of a whole file, on the rayon pool: the bytes from
    /// each target to the next (from the start to the first, from the last
    /// to the end) are scanned by a task, for the first part that starts
    /// in them and the `{` before and after it. (A stretch where no part
    /// starts adds to the part before.) Also gives the file's length; `max`
    /// is the file limit, as in [`read_parallel`].
    pub(super) fn scan_parallel<S: At + ?Sized>(
        source: &S,
        targets: Vec<usize>,
        block: usize,
        max: u64,
    ) -> std::io::Result<(Parts, usize)> {
        use rayon::prelude::*;
        let stretches: Vec<(usize, Option<usize>)> = std::iter::once(0)
            .chain(targets.iter().copied())
            .zip(targets.iter().copied().map(Some).chain(std::iter::once(None)))
            .collect();
        let scanned: Vec<std::io::Result<Stretch>> = stretches
            .into_par_iter()
            .with_max_len(1)
            .map(|(from, to)| Stretch::scan(source, from, to, from > 0, block, max))
            .collect();
        let mut parts = Parts::new(targets);
        let mut len = None;
        for stretch in scanned {
            let stretch = stretch?;
            if let Some(braces) = parts.braces.last_mut() {
                *braces += stretch.before;
            }
            if let Some(start) = stretch.start {
                parts.starts.push(start);
                parts.braces.push(stretch.after);
            }
            // The file ends where the first stretch that reaches its end
            // ends (the next start past it).
            if stretch.eof {
                len = len.or(Some(stretch.end));
            }
        }
        Ok((parts, len.unwrap_or(0)))
    }
}

/// What a task of [`Parts::scan_parallel`] finds in its bytes.
#[derive(Default)]
struct Stretch {
    /// Where the first part that starts in them starts.
    start: Option<usize>,
    /// How many `{` come before it (all, when none starts), and from it on.
    before: usize,
    after: usize,
    /// Where the bytes end, and whether the file ends there.
    end: usize,
    eof: bool,
}

impl Stretch {
    /// Scans the bytes of `source` from `from` to `to` (to the end: `None`),
    /// a block at a time, for a part's start when `find`.
    fn scan<S: At + ?Sized>(
        source: &S,
        from: usize,
        to: Option<usize>,
        find: bool,
        block: usize,
        max: u64,
    ) -> std::io::Result<Stretch> {
        let mut input = ReadAt::new(source, from, max);
        let mut buf = vec![0; block.max(1)];
        let mut stretch = Stretch { end: from, ..Stretch::default() };
        loop {
            let want = to.map_or(buf.len(), |to| to.saturating_sub(stretch.end).min(buf.len()));
            let Some(buf) = buf.get_mut(..want).filter(|buf| !buf.is_empty()) else { break };
            let n = read_full(&mut input, buf)?;
            let bytes = buf.get(..n).unwrap_or_default();
            let start = if find && stretch.start.is_none() { user_start(bytes, 0) } else { None };
            match (start, stretch.start) {
                (Some(start), _) => {
                    stretch.before += json::braces(bytes.get(..start).unwrap_or_default());
                    stretch.after += json::braces(bytes.get(start..).unwrap_or_default());
                    stretch.start = Some(stretch.end + start);
                }
                (None, Some(_)) => stretch.after += json::braces(bytes),
                (None, None) => stretch.before += json::braces(bytes),
            }
            stretch.end += n;
            if n < want {
                stretch.eof = true;
                break;
            }
        }
        Ok(stretch)
    }
}

/// The first `{` of `block` from `from` on that follows a `}` and a `,`,
/// whitespace between, all in `block`.
fn user_start(block: &[u8], from: usize) -> Option<usize> {
    let ws = |b: &u8| matches!(b, b' ' | b'\n' | b'\t' | b'\r');
    let before = |end: usize, b: u8| {
        let i = block.get(..end)?.iter().rposition(|c| !ws(c))?;
        (block.get(i) == Some(&b)).then_some(i)
    };
    let rest = block.get(from..)?;
    memchr::memchr_iter(b'{', rest)
        .map(|i| from + i)
        .find(|&i| before(i, b',').and_then(|comma| before(comma, b'}')).is_some())
}

/// What reading an org JSON in parts gave.
#[derive(Debug)]
pub(super) enum Parallel {
    /// The org, as the serial reader reads it (boxed: an org is some 600
    /// bytes, with room for its index).
    Read(Box<OrgState>),
    /// Not the usual file: serde reads it (so the serial reader would say).
    Odd,
    /// A part did not start where a user does: the serial reader decides.
    Missed,
}

/// What a part gave.
struct Part {
    halt: Halt,
    /// The org's fields the part read (before the users for the first,
    /// after them for the last), and which.
    org: OrgState,
    seen: Seen,
    users: usize,
}

/// Reads the org JSON of `source` (`len` bytes) in the parts of `parts`, in
/// parallel on the rayon pool, into one list of users made first.
///
/// The result is the serial reader's (`read_from`), or [`Parallel::Missed`]:
/// the first part is read from the start of the file; a later part is used
/// only when the part before it stopped between two users exactly where it
/// starts, and it starts in the state the serial reader is in there (a
/// user comes next, and the users list is a field seen; the fields the
/// last part reads after the list must be others than the first read
/// before it). A part that fails where it is used fails the serial reader
/// there too. Each part has room for as many users as it holds `{`, and
/// for as many as its bytes can hold (14 or more a user): needing more is
/// a wrong guess of where parts start.
pub(super) fn read_parallel<S: At + ?Sized>(
    source: &S,
    parts: &Parts,
    len: usize,
    block: usize,
    max: u64,
) -> std::io::Result<Parallel> {
    use rayon::prelude::*;
    let starts: Vec<usize> = std::iter::once(0).chain(parts.starts.iter().copied()).collect();
    let ends = parts.starts.iter().copied().chain(std::iter::once(len));
    let rooms: Vec<usize> = starts
        .iter()
        .zip(ends)
        .zip(&parts.braces)
        .enumerate()
        .map(|(i, ((&start, end), &braces))| {
            // The first part holds the org's `{`.
            braces.saturating_sub(usize::from(i == 0)).min(end.saturating_sub(start) / 14)
        })
        .collect();
    let mut users = Vec::new();
    let Some(slots) = super::part_slots(&mut users, &rooms) else {
        return Ok(Parallel::Missed);
    };
    let last = starts.len() - 1;
    let read: Vec<std::io::Result<Part>> = slots
        .into_par_iter()
        .with_max_len(1)
        .enumerate()
        .map(|(i, slots)| {
            let start = starts.get(i).copied().unwrap_or(len);
            let stop = starts.get(i + 1).copied();
            let users = Slots::new(slots);
            let (seen, next) = if i == 0 { (0, Next::Open) } else { (USERS, Next::User) };
            let mut reader =
                OrgReader { org: OrgState::default(), seen, next, users, stop, scratch: Scratch::default() };
            let input = ReadAt::new(source, start, max);
            let halt = read_blocks(&mut reader, input, start, block, stop)?;
            // More users than slots: the part was not where it was thought
            // (it failing is still the serial reader failing).
            let halt = match halt {
                Halt::Stop | Halt::End if !reader.users.more.is_empty() => Halt::Missed,
                halt => halt,
            };
            Ok(Part { halt, org: reader.org, seen: reader.seen, users: reader.users.len })
        })
        .collect();
    let mut counts = Vec::with_capacity(read.len());
    let (mut org, mut first_seen) = (OrgState::default(), 0);
    for (i, part) in read.into_iter().enumerate() {
        let part = part?;
        match (part.halt, i == last) {
            (Halt::Stop, false) | (Halt::End, true) => {}
            (Halt::Odd, _) => return Ok(Parallel::Odd),
            _ => return Ok(Parallel::Missed),
        }
        if i == 0 {
            (org, first_seen) = (part.org, part.seen);
        } else if i == last {
            // A field of the org both before and after the users: serde
            // says it is a duplicate.
            if part.seen & first_seen & !USERS != 0 {
                return Ok(Parallel::Odd);
            }
            take_fields(&mut org, part.org, part.seen);
        }
        counts.push(part.users);
    }
    // (The slots no part filled go: none, unless strings hold braces.)
    gather(&mut users, &rooms, &counts);
    org.users = users;
    Ok(Parallel::Read(Box::new(org)))
}

/// Sets the fields of the org `seen` says `from` read.
fn take_fields(to: &mut OrgState, from: OrgState, seen: Seen) {
    let has = |field: usize| seen & (1 << field) != 0;
    let OrgState { name, package, packages, domains, locations, sites, .. } = from;
    if has(0) {
        to.name = name;
    }
    if has(1) {
        to.package = package;
    }
    if has(2) {
        to.packages = packages;
    }
    if has(3) {
        to.domains = domains;
    }
    if has(4) {
        to.locations = locations;
    }
    if has(5) {
        to.sites = sites;
    }
}

impl<'a> Json<'a> {
    /// Reads an org held whole in memory (without a byte order mark).
    pub(super) fn read(bytes: &'a [u8]) -> Option<OrgState> {
        let text = simdutf8::basic::from_utf8(bytes).ok()?;
        let mut reader = OrgReader::new(users_hint(braces(bytes), bytes.len()));
        let mut json = reader.json(text, 0);
        (reader.advance(&mut json, 0) == Halt::End).then(|| reader.finish())
    }

    /// Reads an org from `input` a block of `block` bytes at a time, never
    /// holding the whole file; `Ok(None)` when serde must read it. `users`
    /// is the hint of [`Grown`]. A byte order mark is skipped.
    pub(super) fn read_from(
        input: impl std::io::Read,
        users: usize,
        block: usize,
    ) -> std::io::Result<Option<OrgState>> {
        let mut reader = OrgReader::new(users);
        Ok((read_blocks(&mut reader, input, 0, block, None)? == Halt::End).then(|| reader.finish()))
    }

    pub(super) fn user(&mut self, user: &mut OrgUser) -> Option<()> {
        self.expect(b'{')?;
        let mut seen: Seen = 0;
        if self.fields_in_order(user, &mut seen)? {
            // A key out of order, unknown or written another way (with an
            // escape, a space before the colon): read in full.
            loop {
                let key = self.string()?;
                self.expect(b':')?;
                let field = USER_FIELDS.iter().position(|&f| f == key)?;
                self.first_time(&mut seen, field)?;
                self.user_value(user, field)?;
                if !self.after_member()? {
                    break;
                }
            }
        }
        // The email is required.
        (seen & 1 == 1).then_some(())
    }

    /// The fields of a user that come in the order of [`USER_FIELDS`]
    /// (serde's: files list them so), any of them missing, from the start
    /// of the object: each key is tried in turn where the next one starts,
    /// as it is written ([`USER_KEYS_WRITTEN`]), without reading it in full.
    /// Unrolled, one field after another, so that each key's comparison and
    /// value are the field's own code. `Some(true)` when a key that is not
    /// next in that order comes next, `Some(false)` when the object ended.
    #[inline(always)]
    fn fields_in_order(&mut self, user: &mut OrgUser, seen: &mut Seen) -> Option<bool> {
        let step = self.field_in_order::<0>(user, seen, Step::Key)?;
        let step = self.field_in_order::<1>(user, seen, step)?;
        let step = self.field_in_order::<2>(user, seen, step)?;
        let step = self.field_in_order::<3>(user, seen, step)?;
        let step = self.field_in_order::<4>(user, seen, step)?;
        let step = self.field_in_order::<5>(user, seen, step)?;
        let step = self.field_in_order::<6>(user, seen, step)?;
        let step = self.field_in_order::<7>(user, seen, step)?;
        let step = self.field_in_order::<8>(user, seen, step)?;
        let step = self.field_in_order::<9>(user, seen, step)?;
        let step = self.field_in_order::<10>(user, seen, step)?;
        let step = self.field_in_order::<11>(user, seen, step)?;
        Some(step != Step::End)
    }

    /// Field `F` of a user when it comes next (else nothing is read), and
    /// where that leaves the object (see [`Json::fields_in_order`]).
    #[inline(always)]
    fn field_in_order<const F: usize>(
        &mut self,
        user: &mut OrgUser,
        seen: &mut Seen,
        step: Step,
    ) -> Option<Step> {
        match step {
            Step::End => return Some(Step::End),
            Step::Key => {
                if !USER_KEYS_WRITTEN.get(F).is_some_and(|written| self.key_is(written)) {
                    return Some(Step::Key);
                }
            }
            Step::Value => {}
        }
        // The first of the object's keys that are tried: the fields read
        // before are others.
        *seen |= 1 << F;
        self.user_value(user, F)?;
        // The next key as `json.dumps` writes it, with the separators
        // before and after it: the usual file, in one comparison.
        if let Some(next) = USER_KEYS_SPACED.get(F + 1) {
            if self.at_literal(next) {
                self.pos += next.len();
                return Some(Step::Value);
            }
        }
        Some(if self.after_member()? { Step::Key } else { Step::End })
    }

    /// The value of a user's field (by its place in [`USER_FIELDS`]) into
    /// `user`.
    #[inline(always)]
    fn user_value(&mut self, user: &mut OrgUser, field: usize) -> Option<()> {
        match field {
            0 => {
                user.email = self.string()?.into_owned();
                // Not blank: else serde reports it.
                return (!trim(&user.email).is_empty()).then_some(());
            }
            1 => self.opt_string_to(&mut user.first_name)?,
            2 => self.opt_string_to(&mut user.last_name)?,
            3 => self.opt_string_to(&mut user.display_name)?,
            4 => user.status = self.opt_shared(Repeated::Status)?,
            5 => user.package = self.opt_shared(Repeated::Package)?,
            6 => user.base_licenses = self.opt_shared_list()?,
            7 => user.location = self.opt_shared(Repeated::Location)?,
            8 => self.opt_string_to(&mut user.phone_number)?,
            9 => self.opt_string_to(&mut user.extension)?,
            10 => user.site = self.opt_shared(Repeated::Site)?,
            11 => user.admin = self.opt_shared(Repeated::Admin)?,
            _ => return None,
        }
        Some(())
    }

    /// After a member of an object: `,` and whether another follows, or
    /// `}` and the end.
    #[inline]
    pub(super) fn after_member(&mut self) -> Option<bool> {
        let more = match self.peek()? {
            b',' => true,
            b'}' => false,
            _ => return None,
        };
        self.pos += 1;
        Some(more)
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
    #[inline(always)]
    pub(super) fn key_is(&mut self, written: &[u8]) -> bool {
        self.skip_whitespace();
        let found = self.at_literal(written);
        if found {
            self.pos += written.len();
        }
        found
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

    /// A string or `null`, into `slot` (a user's field): the string is
    /// written where it goes, not returned through the stack.
    #[inline(never)]
    fn opt_string_to(&mut self, slot: &mut Option<String>) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.pos += 1;
                *slot = Some(self.string_rest()?.into_owned());
                Some(())
            }
            _ => self.null().then(|| *slot = None),
        }
    }

    /// A string or `null` (the org's own fields, read once a file).
    pub(super) fn opt_string(&mut self) -> Option<Option<String>> {
        let mut value = None;
        self.opt_string_to(&mut value)?;
        Some(value)
    }

    /// [`Json::opt_string`] of a `field` whose values users share, shared
    /// with the users before it (see [`Recent`]): a value whose text is one
    /// kept is not read again.
    #[inline(always)]
    pub(super) fn opt_shared(&mut self, field: Repeated) -> Option<Option<Shared<String>>> {
        if self.peek()? == b'n' {
            return self.null().then_some(None);
        }
        let rest = self.rest();
        if let Some((len, value)) = self.scratch.shared.texts(field).at(rest) {
            self.pos += len;
            return Some(Some(value));
        }
        self.new_shared(field).map(Some)
    }

    /// A value of `field` not kept yet, read and kept (out of line: most
    /// values are kept).
    #[inline(never)]
    fn new_shared(&mut self, field: Repeated) -> Option<Shared<String>> {
        let start = self.pos;
        let value = Shared::from(self.string()?.into_owned());
        let key = self.text.as_bytes().get(start..self.pos)?;
        Some(self.scratch.shared.texts(field).keep(key, value))
    }

    /// [`Json::opt_strings`] of a user's base licences, shared with the
    /// users before it (see [`Recent`]): a list whose text is one kept is
    /// not read again.
    pub(super) fn opt_shared_list(&mut self) -> Option<Option<Shared<Vec<String>>>> {
        if self.peek()? == b'n' {
            return self.null().then_some(None);
        }
        let (start, rest) = (self.pos, self.rest());
        if let Some((len, list)) = self.scratch.shared.lists.at(rest) {
            self.pos += len;
            return Some(Some(list));
        }
        let list = Shared::from(self.opt_strings()??);
        let key = self.text.as_bytes().get(start..self.pos)?;
        Some(Some(self.scratch.shared.lists.keep(key, list)))
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
    #[inline]
    pub(super) fn null(&mut self) -> bool {
        let null = self.text.as_bytes().get(self.pos..self.pos + 4) == Some(b"null");
        if null {
            self.pos += 4;
        }
        null
    }

    /// A string, after whitespace; borrowed unless it has escapes.
    #[inline]
    pub(super) fn string(&mut self) -> Option<Cow<'a, str>> {
        self.expect(b'"')?;
        self.string_rest()
    }

    /// A string after its opening quote; borrowed unless it has escapes.
    #[inline(always)]
    pub(super) fn string_rest(&mut self) -> Option<Cow<'a, str>> {
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

    /// Whether `literal` comes next (not read): the bytes of its length
    /// there, compared a word at a time.
    #[inline(always)]
    pub(super) fn at_literal(&self, literal: &[u8]) -> bool {
        let end = self.pos.saturating_add(literal.len());
        self.text.as_bytes().get(self.pos..end).is_some_and(|next| has_prefix(next, literal))
    }

    pub(super) fn rest(&self) -> &'a [u8] {
        self.text.as_bytes().get(self.pos..).unwrap_or_default()
    }

    pub(super) fn next_byte(&mut self) -> Option<u8> {
        let b = *self.text.as_bytes().get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    #[inline]
    pub(super) fn skip_whitespace(&mut self) {
        let _ = self.peek();
    }

    /// The next byte after whitespace, not read.
    ///
    /// Whitespace is below `!`, and where there is any, it is mostly one
    /// space (`", "`, `": "`): those two cases are told at once, with a
    /// comparison or two, and only longer whitespace takes a loop.
    #[inline(always)]
    pub(super) fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        let b = *bytes.get(self.pos)?;
        if b > b' ' {
            return Some(b);
        }
        if b == b' ' {
            if let Some(&next) = bytes.get(self.pos + 1) {
                if next > b' ' {
                    self.pos += 1;
                    return Some(next);
                }
            }
        }
        self.peek_past_whitespace()
    }

    /// [`Json::peek`] where whitespace is more than a space.
    #[inline(never)]
    fn peek_past_whitespace(&mut self) -> Option<u8> {
        let rest = self.rest();
        let n = rest.iter().position(|b| !matches!(b, b' ' | b'\n' | b'\t' | b'\r')).unwrap_or(rest.len());
        self.pos += n;
        rest.get(n).copied()
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

/// `bytes.starts_with(prefix)`, for a prefix as short as a key or a shared
/// value's text, a word at a time: whole words from the start, then the
/// last eight bytes, which may overlap the word before (a key of 8 to 16
/// bytes is two words). `starts_with` calls `memcmp`, which costs more than
/// the comparing.
#[inline(always)]
pub(super) fn has_prefix(bytes: &[u8], prefix: &[u8]) -> bool {
    let n = prefix.len();
    let Some(head) = bytes.get(..n) else { return false };
    if n < 8 {
        return head == prefix;
    }
    let word = |b: &[u8], at: usize| b.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok());
    let mut at = 0;
    while at < n - 8 {
        if word(head, at) != word(prefix, at) {
            return false;
        }
        at += 8;
    }
    word(head, n - 8) == word(prefix, n - 8)
}

/// Where the plain run of a JSON string that starts at `i` ends: at its
/// closing quote, a backslash or a control character. Eight bytes at a time,
/// with the usual bit trick: `(x - 0x01…) & !x & 0x80…` flags the bytes of
/// `x` that are zero (and `0x20…` those below 0x20). Bytes above a flagged
/// one may be flagged wrongly (a borrow), never those below it: the lowest
/// flag is the first special byte.
pub(crate) fn plain_end(bytes: &[u8], start: usize) -> usize {
    use crate::swar::{first_below, splat};
    let rest = bytes.get(start..).unwrap_or_default();
    let mut words = rest.chunks_exact(8);
    let mut i = start;
    for word in &mut words {
        let Ok(word) = <[u8; 8]>::try_from(word) else { break };
        let w = u64::from_le_bytes(word);
        let special =
            first_below(w ^ splat(b'"'), 1) | first_below(w ^ splat(b'\\'), 1) | first_below(w, 0x20);
        if special != 0 {
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + words.remainder().iter().take_while(|&&b| b != b'"' && b != b'\\' && b >= 0x20).count()
}
