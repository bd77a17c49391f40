//! Email rules (E001–E005): the `User ID/Email (Required)` cell, the key of
//! every row.

use email_address::{EmailAddress, Options as EmailOptions};

use super::intern::{hash_bytes, HashedStrings, Interner, Line, Vacant, WideLines};
use super::{Cells, Code, Diagnostic, RowContext, RowFacts};
use crate::header::Field;
use crate::plan::OpKind;

/// Runs the per-row email rules; returns whether the email is valid.
pub(crate) fn check(cx: &RowContext<'_>, cells: &Cells<'_>, out: &mut Vec<Diagnostic>) -> bool {
    let Some(index) = cx.row.header.field(Field::Email) else {
        return false; // H001 covers the whole file.
    };
    let cell = cells.raw(Field::Email).unwrap_or_default();
    // A plain address (nearly every row's) is valid, and its local part is
    // at most 64 ASCII characters: E001-E003 cannot fire. (Surrounding
    // spaces are not plain: such a cell goes the general way, trimmed.)
    let email = if is_plain_address(cell) {
        cell
    } else {
        let email = cell.trim();
        if email.is_empty() {
            missing_email(cx, index, out);
            return false;
        }
        if email_local_too_long(cx, index, email, out) || invalid_email(cx, index, email, out) {
            return false;
        }
        email
    };
    foreign_domain(cx, email, out);
    true
}

/// Documentation of E001: what it checks, why Control Hub cares, how to fix it.
pub(crate) const E001: &str = r#"## What it checks
The `User ID/Email (Required)` cell is empty or holds only whitespace. A line
of nothing but commas (a spreadsheet's leftover empty row) is not a blank
line, so it fires too. Error: rejects the row.

## Why Control Hub cares
The email is the row's key: without it Control Hub cannot tell which user to
add or change, and it is the one column every row must fill (help.webex.com
article afv3q8). The old Control Hub client failed such rows with a "required
email" error.

## How to fix
Fill in the user's email, or delete the row, including rows of only commas
left at the end of a spreadsheet export.

## Example

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    ,1002,Roma,TRUE
    ,,,

Use instead:

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    marco.bianchi@acme.example,1002,Roma,TRUE
"#;
/// E001: the email cell is empty.
fn missing_email(cx: &RowContext<'_>, index: usize, out: &mut Vec<Diagnostic>) {
    out.push(
        cx.cell_diagnostic(Code::E001, index, "the email is empty: every row needs one")
            .help("fill in the user's email; it is how Control Hub finds the user"),
    );
}

/// Documentation of E002: what it checks, why Control Hub cares, how to fix it.
pub(crate) const E002: &str = r#"## What it checks
The email is not a valid address: it fails the `email_address` syntax rules
(e.g. no `@`, two `@`, a space, nothing after `@`), or its domain has no
dot, as in `lucia.ferri@acme`. The value is checked after trimming and NFC
normalisation (an accent typed as a combining mark is T002); an empty cell
is E001 and a local part over 64 characters is E003. The `email_address`
rules are looser than Webex Calling's character lists: a quoted local part
such as `"giulia rossi"@acme.example` passes.
Error: rejects the row.

## Why Control Hub cares
Control Hub needs the user ID to be a valid email address; the old client
checked this per row. Webex Calling provisioning also wants the `user@domain`
form with exactly one `@` and a limited character set (errors WXC-4901 and
WXC-4801, whose two character lists differ). Typical causes: a truncated
address, a missing domain suffix, a comma typed for a dot, or curly quotes
(`“mario.rossi@acme.example”`) a word processor put around a pasted
address, which are characters of the cell, not CSV quoting.

## How to fix
Correct the value to the user's real sign-in address, e.g.
`mario.rossi@acme.example`.

## Example

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    mario.rossi@,1003,Roma,TRUE
    lucia.ferri@acme,1004,Roma,TRUE

Use instead:

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    mario.rossi@acme.example,1003,Roma,TRUE
    lucia.ferri@acme.example,1004,Roma,TRUE
"#;
/// E002: not a valid address, or a domain without a dot.
fn invalid_email(cx: &RowContext<'_>, index: usize, email: &str, out: &mut Vec<Diagnostic>) -> bool {
    let problem = match parse_address(email) {
        Ok(()) => return false,
        Err(e) => describe(e, email),
    };
    out.push(
        cx.cell_diagnostic(Code::E002, index, format!("{email:?} is not a valid email address: {problem}"))
            .help(email_help(email)),
    );
    true
}

/// Whether `email` is a valid address to Control Hub, or why not.
fn parse_address(email: &str) -> Result<(), email_address::Error> {
    if is_plain_address(email) {
        return Ok(());
    }
    let options = EmailOptions::default().with_required_tld().without_display_text().without_domain_literal();
    // The address is compared in NFC (the key), so it is checked in NFC:
    // an accent typed as a combining mark is T002's warning, not a bad address.
    EmailAddress::parse_with_options(&crate::text::nfc(email), options).map(|_| ())
}

/// Whether `email` is an ASCII `dot-atom@label.label…` address that
/// `email_address` accepts with csvcheck's options (a TLD required, no
/// display text, no domain literal), checked without the general parser.
///
/// Nearly every row of a real file holds such an address, and the parser
/// costs more than the rest of the email rules together. This mirrors its
/// rules for the ASCII subset only — atext and dots in the local part
/// (1–64 bytes, no leading, trailing or double dot), and at least two labels
/// of letters, digits and `-` (1–63 bytes, starting and ending with a letter
/// or digit; 254 bytes in all) — so anything else still goes to the parser;
/// a property test checks that whatever this accepts, the parser accepts.
fn is_plain_address(email: &str) -> bool {
    match lowercase_address(email.as_bytes()) {
        Some(plain) => plain,
        None => any_plain_address(email),
    }
}

/// [`is_plain_address`] for an address made of lowercase letters, digits,
/// `.`, `-` and `@` only, as nearly every one is; `None` for any other.
///
/// Eight bytes at a time tell whether the address is made of those only and
/// where its punctuation is; the rules are then checked at the few `.`,
/// `-` and `@`, each against its neighbours.
fn lowercase_address(bytes: &[u8]) -> Option<bool> {
    use crate::swar::{within, HIGH};
    // Byte `i`, 0 (no byte of such an address) past either end.
    let byte = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let is_punct = |b: u8| matches!(b, b'.' | b'-' | b'@');
    let (mut at, mut domain_dots) = (None, 0);
    let words = bytes.chunks_exact(8);
    // The bytes after the last whole word, filled up with letters.
    let mut last = [b'a'; 8];
    if let Some(start) = last.get_mut(..words.remainder().len()) {
        start.copy_from_slice(words.remainder());
    }
    let words = words.map(|w| w.try_into().unwrap_or([0x80; 8])).chain(std::iter::once(last));
    for (word, x) in words.map(u64::from_le_bytes).enumerate() {
        if x & HIGH != 0 {
            return None;
        }
        let mut punct = within(x, b'-', b'.') | within(x, b'@', b'@');
        if within(x, b'a', b'z') | within(x, b'0', b'9') | punct != HIGH {
            return None;
        }
        while punct != 0 {
            let i = word * 8 + punct.trailing_zeros() as usize / 8;
            punct &= punct - 1;
            let (before, next) = (byte(i.wrapping_sub(1)), byte(i + 1));
            let ok = match (byte(i), at) {
                // The only `@`, after 1-64 bytes, before a letter or digit.
                (b'@', None) => {
                    at = Some(i);
                    (1..=64).contains(&i) && next != 0 && !is_punct(next)
                }
                (b'@', Some(_)) => false,
                // In the local part: a dot neither first nor last, nor
                // before another; `-` is like a letter.
                (b'.', None) => i > 0 && next != b'.' && next != b'@',
                (b'-', None) => true,
                // In the domain: between letters or digits, or a `-`
                // inside a label.
                (b'.', Some(_)) => {
                    domain_dots += 1;
                    before != 0 && !is_punct(before) && next != 0 && !is_punct(next)
                }
                (b'-', Some(_)) => before != b'.' && before != b'@' && next != 0 && next != b'.',
                _ => false,
            };
            if !ok {
                return Some(false);
            }
        }
    }
    let Some(at) = at else {
        return Some(false);
    };
    let domain = bytes.get(at + 1..).unwrap_or_default();
    Some(
        domain_dots > 0
            && domain.len() <= 254
            && (domain.len() <= 63 || domain.split(|&b| b == b'.').all(|label| label.len() <= 63)),
    )
}

/// [`is_plain_address`] for any address.
fn any_plain_address(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let (local, domain) = (local.as_bytes(), domain.as_bytes());
    // Branch-free passes, read to the end: a plain address is the common case.
    let all = |part: &[u8], classes: u8| part.iter().fold(true, |ok, &b| ok & (byte_class(b) & classes != 0));
    // Whether two neighbours are a pair `wrong` refuses.
    let any_pair = |part: &[u8], wrong: fn(u8, u8) -> bool| {
        let next = part.get(1..).unwrap_or_default();
        part.iter().zip(next).fold(false, |found, (&a, &b)| found | wrong(a, b))
    };
    // Dot-atoms: atext, and no dot first, last or after another.
    let local_ok = (1..=64).contains(&local.len())
        && all(local, ATEXT | DOT)
        && local.first() != Some(&b'.')
        && local.last() != Some(&b'.')
        && !any_pair(local, |a, b| (a == b'.') & (b == b'.'));
    // Labels: letters, digits and `-`, at least two, none empty, none
    // starting or ending with `-`, each of 1-63 bytes.
    let domain_ok = domain.len() <= 254
        && all(domain, LABEL | DOT)
        && domain.first().is_some_and(u8::is_ascii_alphanumeric)
        && domain.last().is_some_and(u8::is_ascii_alphanumeric)
        && domain.contains(&b'.')
        && !any_pair(domain, |a, b| {
            ((a == b'.') & ((b == b'.') | (b == b'-'))) | ((a == b'-') & (b == b'.'))
        })
        && (domain.len() <= 63 || domain.split(|&b| b == b'.').all(|label| label.len() <= 63));
    local_ok && domain_ok
}

/// Byte classes of plain addresses: see [`BYTE_CLASSES`].
const ATEXT: u8 = 1;
const LABEL: u8 = 2;
const DOT: u8 = 4;

/// The classes of each byte: `atext` (RFC 5322: letters, digits and
/// ``!#$%&'*+-/=?^_`{|}~``), label (letters, digits, `-`), dot. A table,
/// as the matches it replaces cost a quarter more.
// Indexing a 256-array by every byte value: evaluated at compile time,
// where a bad index would fail the build rather than panic.
#[allow(clippy::indexing_slicing)]
const BYTE_CLASSES: [u8; 256] = {
    let mut classes = [0; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        classes[b] = if c.is_ascii_alphanumeric() || c == b'-' {
            ATEXT | LABEL
        } else if c == b'.' {
            DOT
        } else if matches!(
            c,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'/'
                | b'='
                | b'?'
                | b'^'
                | b'_'
                | b'`'
                | b'{'
                | b'|'
                | b'}'
                | b'~'
        ) {
            ATEXT
        } else {
            0
        };
        b += 1;
    }
    classes
};

fn byte_class(b: u8) -> u8 {
    BYTE_CLASSES.get(usize::from(b)).copied().unwrap_or(0)
}

fn describe(e: email_address::Error, email: &str) -> String {
    use email_address::Error as E;
    match e {
        E::MissingSeparator => "it has no @".into(),
        E::LocalPartEmpty => "nothing before the @".into(),
        E::DomainEmpty => "nothing after the @".into(),
        E::DomainTooFew => "the domain has no dot".into(),
        E::InvalidCharacter if email.matches('@').count() > 1 => "it has more than one @".into(),
        E::InvalidCharacter => "it contains a character an address may not hold".into(),
        E::SubDomainEmpty | E::DomainInvalidSeparator => {
            "the domain has an empty part (two dots, or a dot at an end)".into()
        }
        E::UnsupportedDisplayName | E::MissingDisplayName | E::MissingEndBracket => {
            "it holds a display name or angle brackets, not just the address".into()
        }
        other => other.to_string(),
    }
}

/// Quotation marks a word processor or a spreadsheet may leave around a
/// value: curly ones are characters of the cell, not CSV quoting.
const QUOTES: [char; 9] =
    ['"', '\'', '\u{201C}', '\u{201D}', '\u{2018}', '\u{2019}', '\u{201E}', '\u{AB}', '\u{BB}'];

fn email_help(email: &str) -> String {
    let unquoted = email.trim_matches(QUOTES);
    if unquoted.len() < email.len() && parse_address(unquoted).is_ok() {
        format!(
            "remove the quotation marks around the address (smart quotes are part of the cell): {unquoted}"
        )
    } else if email.contains(['<', '>']) {
        "keep only the address itself, e.g. giulia.rossi@acme.example".into()
    } else if email.contains(char::is_whitespace) {
        "remove the spaces inside the address".into()
    } else {
        "write the address as name@domain.tld, e.g. giulia.rossi@acme.example".into()
    }
}

/// Documentation of E003: what it checks, why Control Hub cares, how to fix it.
pub(crate) const E003: &str = r#"## What it checks
The part of the email before `@` is longer than 64 characters (counted after
trimming and NFC normalisation, so an accented letter counts once; the
domain does not count). Error: rejects the row.

## Why Control Hub cares
Control Hub's CSV reference limits the user ID to 64 characters before
`@domain` (help.webex.com article afv3q8, newer copies), the same limit as
the email standards. Such long local parts usually come from several cells
concatenated into one: name, department and office.

## How to fix
Use the user's real mailbox address, which is shorter; put the department or
office in their own columns.

## Example
Org: giulia.rossi@acme.example exists.

    User ID/Email (Required),Department
    giulia.rossi.amministrazione.contabilita.fornitori.esteri.milanohq@acme.example,

Use instead:

    User ID/Email (Required),Department
    giulia.rossi@acme.example,Contabilità fornitori esteri
"#;
/// E003: more than 64 characters before the `@`.
fn email_local_too_long(cx: &RowContext<'_>, index: usize, email: &str, out: &mut Vec<Diagnostic>) -> bool {
    let Some((local, _)) = email.rsplit_once('@') else {
        return false;
    };
    let len = crate::text::nfc(local).chars().count();
    if len <= 64 {
        return false;
    }
    out.push(
        cx.cell_diagnostic(
            Code::E003,
            index,
            format!("the part of {email:?} before the @ is {len} characters long; Control Hub allows 64"),
        )
        .help("shorten the user name, or use an alias address of the user"),
    );
    true
}

/// Documentation of E004: what it checks, why Control Hub cares, how to fix it.
pub(crate) const E004: &str = r#"## What it checks
The row's email key (trimmed, NFC-normalised, lowercased) equals that of an
earlier row; the message names the earlier row's line, and the first row is
not reported. Only valid emails are compared: cells with E001, E002 or E003
take no part. Error: rejects the row.

## Why Control Hub cares
Control Hub matches users by email without regard to case, so
`Giulia.Rossi@acme.example` and `giulia.rossi@acme.example` are the same
user; two rows give two conflicting instructions and which one lands is not
defined (inferred). The old client flagged duplicates ("duplicate email
address in the CSV file") but compared case-sensitively, so case-only
duplicates slipped through.

## How to fix
Keep one row per user: merge the values you want into one row and delete the
other.

## Example

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,1001,Milano HQ,TRUE
    Giulia.Rossi@acme.example,1005,Milano HQ,TRUE

Use instead:

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,1005,Milano HQ,TRUE
"#;
/// Every key of a file (valid or not: the number rules tell users apart by
/// it), each with the first line on which it was valid, for E004.
///
/// A key is kept as the id of its domain and its local part: the emails of
/// a file share a handful of domains, which would otherwise be some 40% of
/// the bytes kept. A key with no `@`, or whose domain came after
/// [`MAX_DOMAINS`] others, is kept whole. Keys are found by the hash of
/// their text ([`hash_bytes`], computed with the row's facts, in parallel)
/// and compared as text with what is kept: which domains have ids depends
/// on the rows before, the text does not.
#[derive(Debug, Default)]
pub(crate) struct Keys {
    domains: Interner,
    /// Each key as `encode` makes it.
    keys: HashedStrings,
    /// The first line on which each key was valid, by id.
    first_lines: Vec<Line>,
    wide: WideLines<u32>,
    /// A key being hashed again, as text.
    text: Vec<u8>,
}

/// The most domains kept apart from their keys (their ids then take one or
/// two bytes); a file with more distinct domains than this keeps the
/// others' keys whole.
const MAX_DOMAINS: usize = 1 << 14;

/// What [`Keys::check`] finds of a row's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeySeen {
    /// The key's id.
    pub id: u32,
    /// Whether the key is valid on this row and on no row before: this
    /// row's line is the key's first line (see [`Keys::first_line`]).
    pub first_valid: bool,
}

impl Keys {
    /// Checks a row's key, whose hash is `hash` (see [`hash_bytes`]),
    /// against the rows before it (E004).
    pub(crate) fn check(
        &mut self,
        key: &[u8],
        hash: u64,
        fact: &RowFacts,
        out: &mut Vec<Diagnostic>,
    ) -> KeySeen {
        let domains = &self.domains;
        let id = match self.keys.find(hash, |kept| decodes_to(domains, kept, key)) {
            Ok(id) => id,
            Err(vacant) => self.add(key, hash, vacant),
        };
        let mut first_valid = false;
        if let (Some(first), true) = (self.first_lines.get_mut(id as usize), fact.key_valid) {
            if first.is_some() {
                duplicate_email(self.wide.wide(&id, *first), key, fact, out);
            } else {
                *first = self.wide.narrow(id, fact.line);
                first_valid = true;
            }
        }
        KeySeen { id, first_valid }
    }

    /// Adds a key not seen before, where the lookup left it; returns its id.
    fn add(&mut self, key: &[u8], hash: u64, vacant: Vacant) -> u32 {
        let (code, rest) = domain_code(&mut self.domains, MAX_DOMAINS, key);
        let (domains, text) = (&self.domains, &mut self.text);
        let write = |kept: &mut Vec<u8>| write_encoded(code, rest, kept);
        let id = self.keys.insert_with(vacant, hash, write, |kept| hash_bytes(decode(domains, kept, text)));
        self.first_lines.push(Line::NONE);
        id
    }

    /// The first line on which the key with id `id` was valid.
    pub(crate) fn first_line(&self, id: u32) -> Option<u64> {
        let first = *self.first_lines.get(id as usize)?;
        first.is_some().then(|| self.wide.wide(&id, first))
    }

    /// Fetches the slots a lookup of `hash` starts with (see
    /// [`Slots::touch`](super::intern::Slots::touch)).
    pub(crate) fn touch(&self, hash: u64) {
        self.keys.touch(hash);
    }

    /// How many keys the table holds room for.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.keys.capacity()
    }

    /// Makes room for `rows` more rows' keys.
    pub(crate) fn reserve(&mut self, rows: usize) {
        // Room for the text costs nothing until it is written; the default
        // length is a generous local part, plus its domain's id.
        let len = match self.keys.average_len() {
            0 => 32,
            n => n + n / 4,
        };
        let (domains, text) = (&self.domains, &mut self.text);
        self.keys.reserve(rows, rows.saturating_mul(len), |kept| hash_bytes(decode(domains, kept, text)));
        self.first_lines.reserve(rows);
    }
}

/// `key` as [`Keys`] keeps it, in `out` (cleared first): the id of its
/// domain plus 1 (0 for none) as LEB128, then its local part, or the whole
/// key. LEB128 is a prefix code, so the code and the rest are read back
/// unambiguously: two keys encode alike only if they are equal. `domains`
/// takes up to `max_domains`.
#[cfg(test)]
fn encode(domains: &mut Interner, max_domains: usize, key: &[u8], mut out: Vec<u8>) -> Vec<u8> {
    out.clear();
    let (code, rest) = domain_code(domains, max_domains, key);
    write_encoded(code, rest, &mut out);
    out
}

/// The code `encode` writes for `key` (its domain's id plus 1, or 0), and
/// the rest of the key it writes after.
fn domain_code<'k>(domains: &mut Interner, max_domains: usize, key: &'k [u8]) -> (u32, &'k [u8]) {
    let split = memchr::memrchr(b'@', key).and_then(|at| Some((key.get(..at)?, key.get(at + 1..)?)));
    let coded = split.and_then(|(local, domain)| {
        let id = match domains.find(domain) {
            Some(id) => id,
            // Once the table is full, a new domain never joins it: its keys
            // are always kept whole.
            None if domains.len() < max_domains => domains.id(domain),
            None => return None,
        };
        Some((id + 1, local))
    });
    coded.unwrap_or((0, key))
}

/// Appends `code` as LEB128, then `rest`, to `out`.
fn write_encoded(mut code: u32, rest: &[u8], out: &mut Vec<u8>) {
    while code >= 0x80 {
        out.push((code & 0x7f) as u8 | 0x80);
        code >>= 7;
    }
    out.push(code as u8);
    out.extend_from_slice(rest);
}

/// A key as `encode` kept it, split: the domain it names, if any (else the
/// rest is the whole key), and the rest.
fn split_encoded<'d, 'k>(domains: &'d Interner, kept: &'k [u8]) -> (Option<&'d [u8]>, &'k [u8]) {
    let mut code = 0u64;
    for (i, &b) in kept.iter().enumerate() {
        // `encode` writes at most five bytes of code (ids are `u32`).
        code |= u64::from(b & 0x7f) << (7 * i.min(9));
        if b < 0x80 {
            let rest = kept.get(i + 1..).unwrap_or_default();
            let domain = code.checked_sub(1).and_then(|id| u32::try_from(id).ok()).map(|id| domains.get(id));
            return (domain, rest);
        }
    }
    (None, kept)
}

/// Whether `kept` (as `encode` made it) is the key `key`.
fn decodes_to(domains: &Interner, kept: &[u8], key: &[u8]) -> bool {
    match split_encoded(domains, kept) {
        (None, whole) => whole == key,
        (Some(domain), local) => {
            key.len() == local.len() + 1 + domain.len()
                && key.starts_with(local)
                && key.get(local.len()) == Some(&b'@')
                && key.ends_with(domain)
        }
    }
}

/// The key `kept` (as `encode` made it) is, written in `text`.
fn decode<'t>(domains: &Interner, kept: &[u8], text: &'t mut Vec<u8>) -> &'t [u8] {
    text.clear();
    let (domain, rest) = split_encoded(domains, kept);
    text.extend_from_slice(rest);
    if let Some(domain) = domain {
        text.push(b'@');
        text.extend_from_slice(domain);
    }
    text
}

/// E004: the same key as an earlier row, first valid on line `line`.
fn duplicate_email(line: u64, key: &[u8], fact: &RowFacts, out: &mut Vec<Diagnostic>) {
    out.push(
        Diagnostic {
            row: Some(fact.row),
            column_index: fact.email_column,
            ..Diagnostic::new(
                Code::E004,
                format!(
                    "{} is already in the file on line {line} (emails match whatever their case)",
                    super::shown(key)
                ),
            )
        }
        .at_line(fact.line)
        .help(format!("keep one row per user: merge this row into line {line}, or delete one of the two")),
    );
}

/// Documentation of E005: what it checks, why Control Hub cares, how to fix it.
pub(crate) const E005: &str = r#"## What it checks
A row planned as an add (its email is not in the org) has an email domain
that is not among the org's `domains`. Needs `--org`; skipped without it and
when the org file lists no domains. Warning: rejects nothing.

## Why Control Hub cares
A user whose domain the organisation has not verified is an external user,
and Wholesale packages cannot be given to external users (help.webex.com
article nil4lpeb). More often the domain is mistyped (`acme.exmaple`), which
adds a new, wrong user while the intended one stays unchanged.

## How to fix
Correct the domain. If the domain really belongs to the customer, verify it
in Control Hub first and add it to `domains` in the org file.

## Example
Org: domains acme.example; locations Milano HQ and Roma;
marco.bianchi@acme.example is not a user yet.

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    marco.bianchi@acme.exmaple,1002,Roma,TRUE

Use instead:

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    marco.bianchi@acme.example,1002,Roma,TRUE
"#;
/// E005: an added user's domain is not one of the org's domains.
fn foreign_domain(cx: &RowContext<'_>, email: &str, out: &mut Vec<Diagnostic>) {
    if cx.intent.operation.kind() != OpKind::Add {
        return;
    }
    let Some(org) = cx.org else {
        return;
    };
    // `memchr`'s search, not `rsplit_once`'s byte-by-byte one: this runs on
    // every added row of a file checked against an org.
    let Some(domain) = memchr::memrchr(b'@', email.as_bytes()).and_then(|at| email.get(at + 1..)) else {
        return;
    };
    if org.has_domain(domain) != Some(false) {
        return;
    }
    let domains = org.domains.as_deref().unwrap_or_default().join(", ");
    out.push(
        cx.field_diagnostic(
            Code::E005,
            Field::Email,
            format!("{email:?} adds a user in {domain}, which is not one of the org's domains ({domains})"),
        )
        .help("check for a typo in the domain; an external user cannot be given a Wholesale package"),
    );
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    fn parser_accepts(email: &str) -> bool {
        let options =
            EmailOptions::default().with_required_tld().without_display_text().without_domain_literal();
        EmailAddress::parse_with_options(email, options).is_ok()
    }

    #[test]
    fn plain_addresses_are_recognised_and_others_left_to_the_parser() {
        for ok in ["giulia.rossi@acme.example", "a+b@x-y.example", "o'neil@acme.co.uk", "1@2.3"] {
            assert!(is_plain_address(ok), "{ok}");
            assert!(parser_accepts(ok), "{ok}");
        }
        for other in [
            "mario.rossi@",
            "@acme.example",
            "a@localhost",
            ".a@x.example",
            "a.@x.example",
            "a..b@x.example",
            "a@-x.example",
            "a@x-.example",
            "a@x..example",
            "\"q\"@x.example",
            "a@[1.2.3.4]",
            "a@b@c.example",
            "Anna <a@x.example>",
            "niccolò@x.example",
            "a b@x.example",
        ] {
            assert!(!is_plain_address(other), "{other}");
        }
    }

    /// The rules of [`is_plain_address`] as first written, split by split:
    /// the one-pass version must agree with it.
    fn plain_by_splits(email: &str) -> bool {
        let Some((local, domain)) = email.split_once('@') else {
            return false;
        };
        let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b);
        let local_ok = (1..=64).contains(&local.len())
            && local.split('.').all(|atom| !atom.is_empty() && atom.bytes().all(atext));
        let label_ok = |label: &str| {
            (1..=63).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && label.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && label.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
        };
        local_ok && domain.len() <= 254 && domain.split('.').count() >= 2 && domain.split('.').all(label_ok)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn one_pass_agrees_with_the_splits(
            email in "[a-z0-9.!#'*+_@<>\"\\[\\] -]{0,8}(@|)[a-z0-9.-]{0,10}(@|)[a-z.-]{0,4}"
        ) {
            prop_assert_eq!(is_plain_address(&email), plain_by_splits(&email), "{:?}", email);
        }

        #[test]
        fn lowercase_addresses_agree_with_the_splits(
            email in "[a-c0-9.@-]{0,30}|[a-z]{1,6}(\\.[a-z-]{0,4}){0,3}@[a-z0-9-]{0,8}(\\.[a-z0-9-]{0,6}){0,4}"
        ) {
            prop_assert_eq!(lowercase_address(email.as_bytes()), Some(plain_by_splits(&email)), "{:?}", email);
        }

        #[test]
        fn other_addresses_are_left_to_the_general_check(
            before in "[a-z0-9.@-]{0,12}", other in "[A-Z_+!é\u{0} ]", after in "[a-z0-9.@-]{0,12}"
        ) {
            // An early `false` is still the answer; otherwise it is not
            // this function's to give.
            let email = format!("{before}{other}{after}");
            let expected = plain_by_splits(&email);
            prop_assert!(matches!(lowercase_address(email.as_bytes()), None | Some(false)), "{:?}", email);
            prop_assert_eq!(is_plain_address(&email), expected, "{:?}", email);
        }

        #[test]
        fn one_pass_agrees_on_lengths(local in 0usize..70, labels in proptest::collection::vec(0usize..70, 0..6)) {
            let domain: Vec<String> = labels.iter().map(|&n| "b".repeat(n)).collect();
            let email = format!("{}@{}", "a".repeat(local), domain.join("."));
            prop_assert_eq!(is_plain_address(&email), plain_by_splits(&email), "{:?}", email);
        }

        // The fast path never accepts what the parser would refuse.
        #[test]
        fn the_fast_path_accepts_only_what_the_parser_accepts(
            email in "[a-zA-Z0-9.!#'*+_@<>\\[\\]\" -]{0,12}@[a-zA-Z0-9.-]{0,12}"
        ) {
            if is_plain_address(&email) {
                prop_assert!(parser_accepts(&email), "{email:?}");
            }
        }

        /// Keys are kept apart whatever their domains, kept apart or not.
        #[test]
        fn keys_encode_alike_only_if_equal(
            keys in proptest::collection::vec("[a@\u{e9}]{0,5}", 0..60),
            max_domains in 0usize..4,
        ) {
            let mut domains = Interner::default();
            let mut by_key: std::collections::HashMap<&str, Vec<u8>> = std::collections::HashMap::new();
            let mut by_encoded: std::collections::HashMap<Vec<u8>, &str> = std::collections::HashMap::new();
            for key in &keys {
                let encoded = encode(&mut domains, max_domains, key.as_bytes(), Vec::new());
                // What is kept is read back as the key, and as no other.
                let mut text = Vec::new();
                prop_assert_eq!(decode(&domains, &encoded, &mut text), key.as_bytes());
                prop_assert!(decodes_to(&domains, &encoded, key.as_bytes()));
                for other in &keys {
                    prop_assert_eq!(decodes_to(&domains, &encoded, other.as_bytes()), other == key);
                }
                prop_assert_eq!(by_key.entry(key).or_insert_with(|| encoded.clone()), &encoded, "{:?}", key);
                prop_assert_eq!(*by_encoded.entry(encoded).or_insert(key), key.as_str());
            }
            prop_assert!(domains.len() <= max_domains);
        }

        /// E004 names the first line on which a key was valid, as a map of
        /// the keys would; ids are given in the order keys are first seen.
        #[test]
        fn keys_are_found_as_by_a_map(
            rows in proptest::collection::vec(
                ("[ab]{0,2}(@(x|y\\.example))?", any::<bool>(), proptest::prop_oneof![
                    1..1000u64, u64::from(u32::MAX) - 1..=u64::from(u32::MAX) + 1, Just(u64::MAX)
                ]),
                0..60,
            ),
        ) {
            let mut keys = Keys::default();
            let mut model: std::collections::HashMap<&str, (u32, Option<u64>)> = std::collections::HashMap::new();
            for (key, valid, line) in &rows {
                let fact = RowFacts { line: *line, key_valid: *valid, ..RowFacts::default() };
                let mut out = Vec::new();
                let seen = keys.check(key.as_bytes(), hash_bytes(key.as_bytes()), &fact, &mut out);
                let next = u32::try_from(model.len()).unwrap();
                let (expected_id, first) = model.entry(key).or_insert((next, None));
                prop_assert_eq!(seen.id, *expected_id);
                prop_assert_eq!(seen.first_valid, *valid && first.is_none());
                let expected = match (*valid, *first) {
                    (false, _) => None,
                    // Line 0 is no line: the key stays without one.
                    (true, None) => {
                        *first = Some(*line).filter(|&l| l != 0);
                        None
                    }
                    (true, Some(first)) => Some(format!("on line {first} ")),
                };
                prop_assert_eq!(keys.first_line(seen.id), *first);
                prop_assert_eq!(out.len(), usize::from(expected.is_some()));
                if let (Some(d), Some(on)) = (out.first(), expected) {
                    prop_assert!(d.message.contains(&on), "{} {}", d.message, on);
                }
            }
        }

        #[test]
        fn long_parts_are_bounded_like_the_parser(local in 60usize..70, label in 60usize..70) {
            let email = format!("{}@{}.example", "a".repeat(local), "b".repeat(label));
            if is_plain_address(&email) {
                prop_assert!(parser_accepts(&email), "{email:?}");
            }
        }
    }

    use super::super::testing::{check, found, lines, ORG};
    use super::*;

    const H: &str = "User ID/Email (Required),Webex Meetings\n";

    fn e002(email: &str) -> Option<Diagnostic> {
        let csv = format!("{H}\"{email}\",TRUE\n");
        found(&check(&csv, None), Code::E002).first().map(|d| (*d).clone())
    }

    #[test]
    fn e002_says_what_is_wrong_and_what_to_do() {
        let d = e002("Giulia Rossi <giulia.rossi@acme.example>").unwrap();
        assert!(d.message.contains("display name"), "{}", d.message);
        assert!(d.help.starts_with("keep only the address"), "{}", d.help);
        let d = e002("giulia rossi@acme.example").unwrap();
        assert_eq!(d.help, "remove the spaces inside the address");
        assert!(e002("giulia.rossi@acme").unwrap().message.ends_with("the domain has no dot"));
        assert!(e002("mario.rossi@").unwrap().message.ends_with("nothing after the @"));
        assert!(e002("@acme.example").unwrap().message.ends_with("nothing before the @"));
        assert!(e002("giulia.rossi.acme.example").unwrap().message.ends_with("it has no @"));
        assert!(e002("giulia@rossi@acme.example").unwrap().message.ends_with("more than one @"));
        assert!(e002("giulia@acme..example").unwrap().message.contains("empty part"));
        assert!(e002("giulia..rossi@acme.example").is_some());
        // Curly quotes (a word processor's) are characters of the cell.
        let d = e002("\u{201C}giulia.rossi@acme.example\u{201D}").unwrap();
        assert!(d.help.starts_with("remove the quotation marks"), "{}", d.help);
        assert!(d.help.ends_with(": giulia.rossi@acme.example"), "{}", d.help);
        let d = e002("\u{AB}giulia.rossi@acme.example\u{BB}").unwrap();
        assert!(d.help.ends_with(": giulia.rossi@acme.example"), "{}", d.help);
        // Without them it must be an address, for the help to show it.
        for email in
            ["\u{201C}giulia\u{201D}.rossi@acme.example", "\u{201C}giulia rossi@acme.example\u{201D}"]
        {
            let d = e002(email).unwrap();
            assert!(!d.help.contains("quotation marks"), "{}", d.help);
        }
    }

    #[test]
    fn e002_accepts_what_the_email_address_rules_accept() {
        // Surrounding spaces are T001's business, plus tags and non-ASCII.
        for ok in [" giulia.rossi@acme.example ", "giulia+fax@acme.example", "niccolò@acme.example"] {
            assert!(e002(ok).is_none(), "{ok}");
        }
        // Looser than Webex Calling, whose character lists (WXC-4901,
        // WXC-4801) have no quote or space: SPEC §6 fixes the rules.
        assert!(e002("\"\"giulia rossi\"\"@acme.example").is_none());
    }

    #[test]
    fn e003_counts_characters_and_takes_the_place_of_e002() {
        let row = |local: &str| format!("{H}{local}@acme.example,TRUE\n");
        // 64 two-byte letters: 128 bytes, 64 characters.
        assert!(lines(&row(&"è".repeat(64)), None, Code::E003).is_empty());
        assert!(lines(&row(&"e\u{300}".repeat(64)), None, Code::E003).is_empty());
        let report = check(&row(&"è".repeat(65)), None);
        assert_eq!(found(&report, Code::E003).len(), 1);
        assert!(found(&report, Code::E003)[0].message.contains("65 characters"));
        assert!(found(&report, Code::E002).is_empty());
    }

    #[test]
    fn e004_names_the_first_row_and_folds_case_and_form() {
        let csv = format!(
            "{H}élise@acme.example,TRUE\nE\u{301}LISE@acme.example,TRUE\n,TRUE\n,TRUE\n Élise@ACME.example,TRUE\n"
        );
        let report = check(&csv, None);
        let e004 = found(&report, Code::E004);
        assert_eq!(e004.iter().map(|d| d.line).collect::<Vec<_>>(), [Some(3), Some(6)]);
        assert!(e004.iter().all(|d| d.message.contains("on line 2")), "{e004:?}");
        assert!(e004.iter().all(|d| d.help.contains("line 2")), "{e004:?}");
        // Empty emails (E001) are not duplicates of each other.
        assert_eq!(found(&report, Code::E001).len(), 2);
    }

    #[test]
    fn e005_is_for_adds_in_an_org_with_domains() {
        let csv = format!("{H}anna@other.example,TRUE\ngiulia.rossi@acme.example,\n");
        assert_eq!(lines(&csv, Some(ORG), Code::E005), [2]);
        assert!(lines(&csv, None, Code::E005).is_empty());
        assert!(lines(&csv, Some(r#"{"users": []}"#), Code::E005).is_empty());
        let org_user_elsewhere =
            r#"{"domains": ["acme.example"], "users": [{"email": "anna@other.example"}]}"#;
        assert!(lines(&csv, Some(org_user_elsewhere), Code::E005).is_empty());
    }
}
