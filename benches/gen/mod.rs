//! Deterministic generator of large, realistic Webex Control Hub user CSV files.
//!
//! Shared by `examples/gen.rs` and the benches (`#[path = "gen/mod.rs"] mod gen;`).
//! Standard library only. The same [`GenConfig`] always yields the same bytes.
//!
//! A generated data set is an organisation ([`Generated::org_json`] in the
//! shape of SPEC §4, and the same state as a Control Hub export in
//! [`Generated::org_export_csv`]) and a users file ([`Generated::csv`]) whose
//! rows are a shuffled mix of adds (~60%), unchanged (~25%), modified (~10%)
//! and deleted (~5%) users, the last three limited by the size of the org.
//! Each row independently carries one [`Fault`] with probability
//! `error_pct / 100`.
#![allow(dead_code)]

/// Header of the users file and of the org export (exact Control Hub titles).
pub const HEADER: &str = "User ID/Email (Required),First Name,Last Name,Display Name,\
User Status,Phone Number,Extension,Caller ID Number,Location,Preferred Webex Site,\
Department,Common Area Calling [Wholesale],Webex Voice [Wholesale],\
Webex Meetings [Wholesale],Webex Calling [Wholesale],Webex Suite [Wholesale],\
Basic Messaging,Basic Meetings,Basic Calling";

/// Number of fields of every record (header and rows).
pub const FIELDS: usize = 19;

/// Package ids in header column order (lowest tier first).
pub const PACKAGE_IDS: [&str; 5] =
    ["common_area_calling", "webex_voice", "webex_meetings", "webex_calling", "webex_suite"];

/// Base-licence ids in header column order.
pub const BASE_IDS: [&str; 3] = ["messaging", "meetings", "calling"];

/// Name of the generated organisation.
pub const ORG_NAME: &str = "Acme Srl";

/// Package level of the generated organisation.
pub const ORG_PACKAGE: &str = "webex_calling";

/// Packages the generated organisation's subscription offers.
pub const ORG_PACKAGES: [&str; 5] =
    ["webex_calling", "webex_suite", "webex_meetings", "webex_voice", "common_area_calling"];

/// E-mail domains of the generated organisation.
pub const DOMAINS: [&str; 2] = ["acme.example", "acme-group.example"];

/// Webex Meetings sites of the generated organisation.
pub const SITES: [&str; 2] = ["acme.webex.com", "acme-eu.webex.com"];

/// Locations of the generated organisation.
pub const LOCATION_NAMES: [&str; 8] =
    ["Milano HQ", "Roma", "Torino", "Napoli", "Bucureşti", "Cluj-Napoca", "Madrid Centro", "Barcelona"];

/// Country and area code of each location's numbers (digits after `+`).
const PHONE_PREFIX: [u64; 8] = [3902, 3906, 39011, 39081, 4021, 40264, 3491, 3493];
/// Subscriber digits after the prefix, per location.
const PHONE_WIDTH: [u32; 8] = [8, 8, 7, 7, 7, 7, 7, 7];
/// Relative share of users per location.
const LOCATION_WEIGHT: [u32; 8] = [30, 18, 12, 8, 10, 5, 10, 7];
/// Multiplier that scatters allocated subscriber numbers (coprime with 10).
const PHONE_MUL: u64 = 6_180_339;
/// Offset added to scattered subscriber numbers (times location + 1).
const PHONE_ADD: u64 = 2_718_281;
/// Multiplier that scatters extensions (coprime with 9·10^k).
const EXT_MUL: u64 = 7919;
/// Offset added to scattered extensions (times location).
const EXT_ADD: u64 = 1237;

const P_CAC: usize = 0;
const P_VOICE: usize = 1;
const P_MEETINGS: usize = 2;
const P_CALLING: usize = 3;
const P_SUITE: usize = 4;
/// Whether the package (header order) includes calling.
const CALLING: [bool; 5] = [true, true, false, true, true];
/// Whether the package (header order) includes meetings.
const MEETINGS: [bool; 5] = [false, false, true, false, true];
/// Package mix of the org's users (header order).
const ORG_PACKAGE_WEIGHT: [u32; 5] = [5, 10, 10, 55, 20];
/// Package mix of added users (header order).
const ADD_PACKAGE_WEIGHT: [u32; 5] = [6, 12, 12, 50, 20];

/// First names (NFC): Italian, Romanian, Spanish and a few others.
const FIRST_NAMES: &[&str] = &[
    "Giulia",
    "Nicolò",
    "Niccolò",
    "Luca",
    "Marco",
    "Francesca",
    "Chiara",
    "Andrea",
    "Matteo",
    "Alessandro",
    "Sofia",
    "Martina",
    "Lorenzo",
    "Federica",
    "Gabriele",
    "Mattia",
    "Ilaria",
    "Beatrice",
    "Tommaso",
    "Noemi",
    "Raffaele",
    "Gioele",
    "Aurora",
    "Ștefan",
    "Ioana",
    "Andreea",
    "Mihai",
    "Răzvan",
    "Bogdan",
    "Cătălina",
    "Ionuț",
    "Mădălina",
    "Alexandru",
    "Elena",
    "Florin",
    "Irina",
    "Tudor",
    "Ștefania",
    "Gheorghe",
    "Oana",
    "Vlad",
    "Iñigo",
    "José",
    "María",
    "Lucía",
    "Sofía",
    "Martín",
    "Álvaro",
    "Begoña",
    "Jesús",
    "Nuria",
    "Raúl",
    "Inés",
    "Ramón",
    "Íñigo",
    "Mónica",
    "Andrés",
    "Joaquín",
    "Adrián",
    "Jürgen",
    "Jörg",
    "Lukas",
    "Anna",
    "François",
    "Hélène",
    "Zoé",
    "Chloé",
];

/// Last names (NFC): Italian, Romanian, Spanish and a few others.
const LAST_NAMES: &[&str] = &[
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
    "Conti",
    "De Luca",
    "Mancini",
    "Costa",
    "Giordano",
    "Rizzo",
    "Lombardi",
    "Moretti",
    "D'Amico",
    "Dell'Acqua",
    "Caruso",
    "Cantù",
    "Mazzà",
    "Sciarrà",
    "Pirrò",
    "Calì",
    "Lo Russo",
    "Santoro",
    "Popescu",
    "Ionescu",
    "Bărbulescu",
    "Popa",
    "Rădulescu",
    "Dumitrescu",
    "Stănescu",
    "Constantinescu",
    "Munteanu",
    "Mureșan",
    "Țurcanu",
    "Stoica",
    "Gheorghiu",
    "Dragomir",
    "Căpraru",
    "Vlădescu",
    "Nistor",
    "Șerban",
    "Bălan",
    "Pîrvu",
    "Ștefănescu",
    "García",
    "Fernández",
    "González",
    "Rodríguez",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Jiménez",
    "Hernández",
    "Díaz",
    "Muñoz",
    "Álvarez",
    "Gutiérrez",
    "Navarro",
    "Añón",
    "Ibáñez",
    "Peña",
    "Castaño",
    "Núñez",
    "Ordóñez",
    "García Márquez",
    "Müller",
    "Schäfer",
    "Weiß",
    "Köhler",
    "Böhm",
];

/// Departments; some need RFC 4180 quoting (comma or quote).
const DEPARTMENTS: &[&str] = &[
    "Sales",
    "Sales, South",
    "Sales, North",
    "Marketing",
    "Research & Development",
    "Finance",
    "Human Resources",
    "IT",
    "Customer Care",
    "Operations",
    "Legal",
    "Logistică",
    "Atención al Cliente",
    "Amministrazione",
    "Project \"Orione\"",
    "Procurement, EMEA",
];

/// Configuration of one generated data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenConfig {
    /// Number of data rows of the users file.
    pub rows: usize,
    /// Number of users of the organisation (org JSON and org export).
    pub org_users: usize,
    /// Percentage (0–100) of rows that carry one injected fault.
    pub error_pct: f64,
    /// Seed of the generator; the same config always yields the same bytes.
    pub seed: u64,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig { rows: 20_000, org_users: 10_000, error_pct: 2.0, seed: 42 }
    }
}

/// The generated files.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The users file to check (UTF-8, `\n` line endings, header first).
    pub csv: Vec<u8>,
    /// The organisation state as JSON (SPEC §4).
    pub org_json: String,
    /// The organisation's users as a Control Hub export (same header as `csv`).
    pub org_export_csv: Vec<u8>,
    /// What was generated: intended operations and injected faults.
    pub stats: GenStats,
}

/// Counts of what the users file contains, by intended operation and fault.
///
/// A row with a fault is counted under the operation it was generated as;
/// a checker will normally reject it instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenStats {
    /// Rows adding a user the org does not have.
    pub adds: usize,
    /// Rows of org users whose cells equal the org's values.
    pub unchanged: usize,
    /// Rows of org users with one changed field.
    pub modified: usize,
    /// Rows of org users with every package `FALSE`.
    pub deleted: usize,
    /// Injected faults, indexed by `Fault as usize` (see [`Fault::ALL`]).
    pub faults: [usize; 9],
}

impl GenStats {
    /// Number of rows that carry a fault.
    pub fn faulty_rows(&self) -> usize {
        self.faults.iter().sum()
    }
}

/// A fault injected into a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Phone Number without its `+`, e.g. `390212345678`.
    StrippedPlus,
    /// Phone Number in scientific notation, e.g. `3.90212E+11`.
    Scientific,
    /// The e-mail of an earlier row, in another letter case.
    DuplicateEmail,
    /// A second package column `TRUE`.
    TwoPackages,
    /// `yes` instead of `TRUE` in the package column.
    YesInsteadOfTrue,
    /// Empty e-mail cell.
    BlankEmail,
    /// An added user with a calling package and an empty Location.
    CallingWithoutLocation,
    /// An Extension that is not digits only, e.g. `12a`.
    InvalidExtension,
    /// A First Name with a trailing space.
    TrailingSpace,
}

impl Fault {
    /// Every fault, in `Fault as usize` order.
    pub const ALL: [Fault; 9] = [
        Fault::StrippedPlus,
        Fault::Scientific,
        Fault::DuplicateEmail,
        Fault::TwoPackages,
        Fault::YesInsteadOfTrue,
        Fault::BlankEmail,
        Fault::CallingWithoutLocation,
        Fault::InvalidExtension,
        Fault::TrailingSpace,
    ];

    /// Short kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Fault::StrippedPlus => "stripped-plus",
            Fault::Scientific => "scientific",
            Fault::DuplicateEmail => "duplicate-email",
            Fault::TwoPackages => "two-packages",
            Fault::YesInsteadOfTrue => "yes-instead-of-true",
            Fault::BlankEmail => "blank-email",
            Fault::CallingWithoutLocation => "calling-without-location",
            Fault::InvalidExtension => "invalid-extension",
            Fault::TrailingSpace => "trailing-space",
        }
    }

    /// The rule code (SPEC §6) a checker is expected to report for it.
    pub fn code(self) -> &'static str {
        match self {
            Fault::StrippedPlus => "N002",
            Fault::Scientific => "N003",
            Fault::DuplicateEmail => "E004",
            Fault::TwoPackages => "P002",
            Fault::YesInsteadOfTrue => "P001",
            Fault::BlankEmail => "E001",
            Fault::CallingWithoutLocation => "P007",
            Fault::InvalidExtension => "N004",
            Fault::TrailingSpace => "T001",
        }
    }
}

/// SplitMix64: a small, fast, seeded PRNG (deterministic for a seed).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64) * (1.0 / (1u64 << 53) as f64) < p
    }

    /// An index into `weights`, chosen in proportion to the weights.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(total as usize) as u32;
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// Generates the users file, the org JSON and the org export for `cfg`.
///
/// The org JSON and export are written on two scoped threads while the
/// users file is generated; the output does not depend on scheduling.
pub fn generate(cfg: &GenConfig) -> Generated {
    let names = Names::new();
    let mut alloc = Alloc::default();
    let org = Org::generate(cfg, &mut alloc);
    std::thread::scope(|scope| {
        let json = scope.spawn(|| org.json(&names));
        let export = scope.spawn(|| org.export_csv(&names));
        let (csv, stats) = Rows::new(cfg, &names, &org, alloc).generate();
        Generated {
            csv,
            org_json: json.join().expect("org.json writer panicked"),
            org_export_csv: export.join().expect("org export writer panicked"),
            stats,
        }
    })
}

/// Planned operation of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Add,
    Unchanged,
    Modified,
    Deleted,
}

/// A person: the names and address of an org user or an added user.
/// The e-mail is `first.last.N@domain`; N is unique, hence so is the e-mail.
#[derive(Debug, Clone, Copy)]
struct Person {
    first: u16,
    last: u16,
    domain: u8,
    n: u32,
}

impl Person {
    fn random(n: u32, rng: &mut Rng) -> Person {
        Person {
            first: rng.below(FIRST_NAMES.len()) as u16,
            last: rng.below(LAST_NAMES.len()) as u16,
            domain: u8::from(!rng.chance(0.85)),
            n,
        }
    }

    fn first(self) -> &'static str {
        FIRST_NAMES[usize::from(self.first)]
    }

    fn last(self) -> &'static str {
        LAST_NAMES[usize::from(self.last)]
    }
}

/// Name pools prepared for output: ASCII-folded for e-mails, JSON-escaped.
struct Names {
    folded_first: Vec<String>,
    folded_last: Vec<String>,
    json_first: Vec<Vec<u8>>,
    json_last: Vec<Vec<u8>>,
}

impl Names {
    fn new() -> Names {
        Names {
            folded_first: FIRST_NAMES.iter().map(|n| fold(n)).collect(),
            folded_last: LAST_NAMES.iter().map(|n| fold(n)).collect(),
            json_first: FIRST_NAMES.iter().map(|n| json_escaped(n)).collect(),
            json_last: LAST_NAMES.iter().map(|n| json_escaped(n)).collect(),
        }
    }

    fn push_email(&self, out: &mut Vec<u8>, person: Person) {
        out.extend_from_slice(self.folded_first[usize::from(person.first)].as_bytes());
        out.push(b'.');
        out.extend_from_slice(self.folded_last[usize::from(person.last)].as_bytes());
        out.push(b'.');
        push_u64(out, u64::from(person.n));
        out.push(b'@');
        out.extend_from_slice(DOMAINS[usize::from(person.domain)].as_bytes());
    }

    /// Appends `row` as one CSV record.
    fn write_row(&self, out: &mut Vec<u8>, row: &Row) {
        match row.email {
            EmailCell::Blank => {}
            EmailCell::Of(person) => self.push_email(out, person),
            EmailCell::CaseVariant(person, variant) => {
                let start = out.len();
                self.push_email(out, person);
                let email = &mut out[start..];
                let at = email.iter().position(|&b| b == b'@').unwrap_or(email.len());
                match variant {
                    // GIULIA.ROSSI.12@ACME.EXAMPLE
                    0 => email.make_ascii_uppercase(),
                    // Giulia.Rossi.12@acme.example
                    1 => {
                        let mut word_start = true;
                        for b in &mut email[..at] {
                            if word_start {
                                b.make_ascii_uppercase();
                            }
                            word_start = *b == b'.';
                        }
                    }
                    // Giulia.rossi.12@ACME.EXAMPLE
                    _ => {
                        email[0].make_ascii_uppercase();
                        email[at..].make_ascii_uppercase();
                    }
                }
            }
        }
        out.push(b',');
        if let Some(person) = row.names {
            let first = person.first().as_bytes();
            let last = person.last();
            out.extend_from_slice(first);
            if row.trailing_space {
                out.push(b' ');
            }
            out.push(b',');
            out.extend_from_slice(last.as_bytes());
            out.push(b',');
            match row.display {
                DisplayCell::Blank => {}
                DisplayCell::FirstLast => {
                    out.extend_from_slice(first);
                    out.push(b' ');
                    out.extend_from_slice(last.as_bytes());
                }
                DisplayCell::LastCommaFirst => {
                    out.push(b'"');
                    out.extend_from_slice(last.as_bytes());
                    out.extend_from_slice(b", ");
                    out.extend_from_slice(first);
                    out.push(b'"');
                }
                DisplayCell::FirstInitial => {
                    out.extend_from_slice(first);
                    out.push(b' ');
                    let initial = last.chars().next().unwrap_or('X');
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(initial.encode_utf8(&mut buf).as_bytes());
                    out.push(b'.');
                }
            }
        } else {
            out.extend_from_slice(b",,");
        }
        out.push(b',');
        if row.active {
            out.extend_from_slice(b"Active");
        }
        out.push(b',');
        match row.phone {
            PhoneCell::Blank => {}
            PhoneCell::E164(n) => {
                out.push(b'+');
                push_u64(out, n);
            }
            PhoneCell::NoPlus(n) => push_u64(out, n),
            PhoneCell::Scientific(n) => push_scientific(out, n),
        }
        out.push(b',');
        match row.ext {
            ExtCell::Blank => {}
            ExtCell::Value(e) => push_u64(out, e),
            ExtCell::Invalid(e) => {
                // The first two digits and a letter, e.g. `12a`.
                let mut e = e;
                while e >= 100 {
                    e /= 10;
                }
                push_u64(out, e);
                out.push(b'a');
            }
        }
        // Caller ID Number: always empty.
        out.extend_from_slice(b",,");
        if let Some(l) = row.location {
            out.extend_from_slice(LOCATION_NAMES[usize::from(l)].as_bytes());
        }
        out.push(b',');
        if let Some(s) = row.site {
            out.extend_from_slice(SITES[usize::from(s)].as_bytes());
        }
        out.push(b',');
        if let Some(d) = row.dept {
            push_field(out, DEPARTMENTS[usize::from(d)]);
        }
        for cell in row.pkgs.iter().chain(row.base.iter()) {
            out.push(b',');
            out.extend_from_slice(cell.text());
        }
        out.push(b'\n');
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Empty,
    True,
    False,
    Yes,
}

impl Cell {
    fn text(self) -> &'static [u8] {
        match self {
            Cell::Empty => b"",
            Cell::True => b"TRUE",
            Cell::False => b"FALSE",
            Cell::Yes => b"yes",
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum EmailCell {
    Blank,
    Of(Person),
    /// The person's e-mail in another letter case (variant 0..3).
    CaseVariant(Person, u8),
}

#[derive(Debug, Clone, Copy)]
enum DisplayCell {
    Blank,
    FirstLast,
    LastCommaFirst,
    FirstInitial,
}

#[derive(Debug, Clone, Copy)]
enum PhoneCell {
    Blank,
    E164(u64),
    NoPlus(u64),
    Scientific(u64),
}

#[derive(Debug, Clone, Copy)]
enum ExtCell {
    Blank,
    Value(u64),
    Invalid(u64),
}

/// One record, as cheap values; written by `Names::write_row`.
#[derive(Debug, Clone, Copy)]
struct Row {
    email: EmailCell,
    /// Whose names fill First/Last/Display Name.
    names: Option<Person>,
    trailing_space: bool,
    display: DisplayCell,
    active: bool,
    phone: PhoneCell,
    ext: ExtCell,
    location: Option<u8>,
    site: Option<u8>,
    dept: Option<u8>,
    pkgs: [Cell; 5],
    base: [Cell; 3],
}

impl Row {
    fn blank() -> Row {
        Row {
            email: EmailCell::Blank,
            names: None,
            trailing_space: false,
            display: DisplayCell::Blank,
            active: false,
            phone: PhoneCell::Blank,
            ext: ExtCell::Blank,
            location: None,
            site: None,
            dept: None,
            pkgs: [Cell::Empty; 5],
            base: [Cell::Empty; 3],
        }
    }

    /// `user`'s current values; package, base-licence and status cells empty.
    fn current(user: &OrgUser) -> Row {
        Row {
            email: EmailCell::Of(user.person),
            names: Some(user.person),
            display: DisplayCell::FirstLast,
            phone: user.phone.map_or(PhoneCell::Blank, PhoneCell::E164),
            ext: user.ext.map_or(ExtCell::Blank, ExtCell::Value),
            location: Some(user.location),
            site: user.site,
            dept: user.dept,
            ..Row::blank()
        }
    }

    /// A row deleting `person`: every package `FALSE`, other cells blank.
    fn delete(person: Person) -> Row {
        Row { email: EmailCell::Of(person), pkgs: [Cell::False; 5], ..Row::blank() }
    }
}

/// Allocator of unique phone numbers (per org and file) and extensions
/// (per location).
#[derive(Debug, Default)]
struct Alloc {
    phone_next: [u64; 8],
    ext_next: [u64; 8],
}

impl Alloc {
    /// A new phone number of location `loc`, as the digits after `+`.
    fn phone(&mut self, loc: u8) -> u64 {
        let l = usize::from(loc);
        let cap = 10u64.pow(PHONE_WIDTH[l]);
        let c = self.phone_next[l];
        assert!(c < cap, "phone numbers of {} exhausted", LOCATION_NAMES[l]);
        self.phone_next[l] += 1;
        PHONE_PREFIX[l] * cap + (c * PHONE_MUL + PHONE_ADD * (l as u64 + 1)) % cap
    }

    /// A new extension of location `loc`: 4 digits while they last
    /// (9,000 per location), then 5, 6…
    fn ext(&mut self, loc: u8) -> u64 {
        let l = usize::from(loc);
        let mut k = self.ext_next[l];
        self.ext_next[l] += 1;
        let mut base = 1000u64;
        loop {
            let size = base * 9;
            if k < size {
                return base + (k * EXT_MUL + EXT_ADD * l as u64) % size;
            }
            k -= size;
            base *= 10;
        }
    }
}

/// An org user's current state.
#[derive(Debug, Clone, Copy)]
struct OrgUser {
    person: Person,
    /// Index into `PACKAGE_IDS`.
    package: usize,
    /// Bit i set: base licence `BASE_IDS[i]`.
    base: u8,
    location: u8,
    phone: Option<u64>,
    ext: Option<u64>,
    site: Option<u8>,
    admin: bool,
    dept: Option<u8>,
}

/// The organisation's users.
struct Org {
    users: Vec<OrgUser>,
}

impl Org {
    /// `cfg.org_users` users with e-mail numbers 1..=M; draws numbers from `alloc`.
    fn generate(cfg: &GenConfig, alloc: &mut Alloc) -> Org {
        let mut rng = Rng::new(cfg.seed ^ 0x6f72_675f_7573_6572);
        let mut users = Vec::with_capacity(cfg.org_users);
        for i in 0..cfg.org_users {
            let person = Person::random(i as u32 + 1, &mut rng);
            let admin = rng.chance(0.001);
            let package = if admin {
                if rng.chance(0.5) {
                    P_CALLING
                } else {
                    P_SUITE
                }
            } else {
                rng.weighted(&ORG_PACKAGE_WEIGHT)
            };
            let base = if rng.chance(0.9) { 0b111 } else { rng.below(8) as u8 };
            let location = pick_location(&mut rng);
            let (mut phone, mut ext) = (None, None);
            if CALLING[package] {
                if rng.chance(0.9) {
                    phone = Some(alloc.phone(location));
                }
                ext = Some(alloc.ext(location));
            }
            let site = MEETINGS[package].then(|| pick_site(location, &mut rng));
            users.push(OrgUser {
                person,
                package,
                base,
                location,
                phone,
                ext,
                site,
                admin,
                dept: pick_dept(&mut rng),
            });
        }
        Org { users }
    }

    /// The org state as JSON (SPEC §4), one user per line.
    fn json(&self, names: &Names) -> String {
        let mut out = Vec::with_capacity(1024 + self.users.len() * 400);
        out.extend_from_slice(b"{\n  \"name\": ");
        push_json_str(&mut out, ORG_NAME);
        out.extend_from_slice(b",\n  \"package\": ");
        push_json_str(&mut out, ORG_PACKAGE);
        out.extend_from_slice(b",\n  \"packages\": ");
        push_json_list(&mut out, ORG_PACKAGES.iter().copied());
        out.extend_from_slice(b",\n  \"domains\": ");
        push_json_list(&mut out, DOMAINS.iter().copied());
        out.extend_from_slice(b",\n  \"locations\": ");
        push_json_list(&mut out, LOCATION_NAMES.iter().copied());
        out.extend_from_slice(b",\n  \"sites\": ");
        push_json_list(&mut out, SITES.iter().copied());
        out.extend_from_slice(b",\n  \"users\": [");
        for (i, user) in self.users.iter().enumerate() {
            let first = &names.json_first[usize::from(user.person.first)];
            let last = &names.json_last[usize::from(user.person.last)];
            out.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
            out.extend_from_slice(b"{\"email\": \"");
            names.push_email(&mut out, user.person);
            out.extend_from_slice(b"\", \"first_name\": \"");
            out.extend_from_slice(first);
            out.extend_from_slice(b"\", \"last_name\": \"");
            out.extend_from_slice(last);
            out.extend_from_slice(b"\", \"display_name\": \"");
            out.extend_from_slice(first);
            out.push(b' ');
            out.extend_from_slice(last);
            out.extend_from_slice(b"\", \"status\": \"Active\", \"package\": ");
            push_json_str(&mut out, PACKAGE_IDS[user.package]);
            out.extend_from_slice(b", \"base_licenses\": ");
            push_json_list(&mut out, (0..3).filter(|b| user.base & (1 << b) != 0).map(|b| BASE_IDS[b]));
            out.extend_from_slice(b", \"location\": ");
            push_json_str(&mut out, LOCATION_NAMES[usize::from(user.location)]);
            out.extend_from_slice(b", \"phone_number\": ");
            match user.phone {
                Some(n) => {
                    out.extend_from_slice(b"\"+");
                    push_u64(&mut out, n);
                    out.push(b'"');
                }
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b", \"extension\": ");
            match user.ext {
                Some(e) => {
                    out.push(b'"');
                    push_u64(&mut out, e);
                    out.push(b'"');
                }
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b", \"site\": ");
            match user.site {
                Some(s) => push_json_str(&mut out, SITES[usize::from(s)]),
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(if user.admin { b", \"admin\": \"full\"}" } else { b", \"admin\": null}" });
        }
        out.extend_from_slice(b"\n  ]\n}\n");
        String::from_utf8(out).expect("the generator writes UTF-8")
    }

    /// The org's users as a Control Hub export.
    fn export_csv(&self, names: &Names) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER.len() + 1 + self.users.len() * 192);
        out.extend_from_slice(HEADER.as_bytes());
        out.push(b'\n');
        for user in &self.users {
            let mut row = Row::current(user);
            row.active = true;
            row.pkgs = [Cell::False; 5];
            row.pkgs[user.package] = Cell::True;
            for (b, cell) in row.base.iter_mut().enumerate() {
                *cell = if user.base & (1 << b) != 0 { Cell::True } else { Cell::False };
            }
            names.write_row(&mut out, &row);
        }
        out
    }
}

/// Generator of the users file.
struct Rows<'a> {
    cfg: &'a GenConfig,
    names: &'a Names,
    org: &'a Org,
    alloc: Alloc,
    rng: Rng,
    /// E-mail number of the next added user.
    next_n: u32,
}

impl<'a> Rows<'a> {
    fn new(cfg: &'a GenConfig, names: &'a Names, org: &'a Org, alloc: Alloc) -> Self {
        Rows {
            cfg,
            names,
            org,
            alloc,
            rng: Rng::new(cfg.seed ^ 0x726f_7773_5f63_7376),
            next_n: org.users.len() as u32 + 1,
        }
    }

    fn generate(mut self) -> (Vec<u8>, GenStats) {
        let cfg = self.cfg;
        let org_users = self.org.users.len();
        // Row mix: 40% of the rows overlap the org (25:10:5), as far as it allows.
        let overlap = ((cfg.rows as f64 * 0.4).round() as usize).min(org_users);
        let n_mod = overlap / 4;
        let n_del = overlap / 8;
        let n_unch = overlap - n_mod - n_del;
        let mut kinds = Vec::with_capacity(cfg.rows);
        kinds.resize(n_unch, Kind::Unchanged);
        kinds.resize(n_unch + n_mod, Kind::Modified);
        kinds.resize(overlap, Kind::Deleted);
        kinds.resize(cfg.rows, Kind::Add);
        shuffle(&mut kinds, &mut self.rng);
        // Which org users the overlapping rows are about: a partial shuffle.
        let mut users: Vec<u32> = (0..org_users as u32).collect();
        for i in 0..overlap {
            let j = i + self.rng.below(users.len() - i);
            users.swap(i, j);
        }
        users.truncate(overlap);

        let p_fault = (cfg.error_pct / 100.0).clamp(0.0, 1.0);
        let mut stats = GenStats::default();
        let mut csv = Vec::with_capacity(HEADER.len() + 1 + cfg.rows * 168);
        csv.extend_from_slice(HEADER.as_bytes());
        csv.push(b'\n');
        // Persons whose e-mail appears intact in an earlier row.
        let mut earlier: Vec<Person> = Vec::with_capacity(cfg.rows);
        let mut next_user = users.into_iter().map(|u| &self.org.users[u as usize]);
        for kind in kinds {
            let (mut row, kind) = match kind {
                Kind::Add => (self.add_row(), Kind::Add),
                Kind::Unchanged => {
                    let user = next_user.next().expect("overlap user");
                    (self.unchanged_row(user), Kind::Unchanged)
                }
                Kind::Modified => {
                    let user = next_user.next().expect("overlap user");
                    (self.modified_row(user), Kind::Modified)
                }
                Kind::Deleted => {
                    let user = next_user.next().expect("overlap user");
                    if user.admin {
                        // Deleting a full admin is a warning (P012): keep it clean.
                        (self.unchanged_row(user), Kind::Unchanged)
                    } else {
                        (Row::delete(user.person), Kind::Deleted)
                    }
                }
            };
            match kind {
                Kind::Add => stats.adds += 1,
                Kind::Unchanged => stats.unchanged += 1,
                Kind::Modified => stats.modified += 1,
                Kind::Deleted => stats.deleted += 1,
            }
            if p_fault > 0.0 && self.rng.chance(p_fault) {
                let fault = inject(&mut row, kind == Kind::Add, &earlier, &mut self.rng);
                stats.faults[fault as usize] += 1;
            }
            if let EmailCell::Of(person) = row.email {
                earlier.push(person);
            }
            self.names.write_row(&mut csv, &row);
        }
        (csv, stats)
    }

    fn add_row(&mut self) -> Row {
        let rng = &mut self.rng;
        let person = Person::random(self.next_n, rng);
        self.next_n += 1;
        let package = rng.weighted(&ADD_PACKAGE_WEIGHT);
        let mut row = Row::blank();
        row.email = EmailCell::Of(person);
        row.names = Some(person);
        row.display = DisplayCell::FirstLast;
        let others = if rng.chance(0.5) { Cell::False } else { Cell::Empty };
        row.pkgs = [others; 5];
        row.pkgs[package] = Cell::True;
        let loc = pick_location(rng);
        if CALLING[package] {
            row.location = Some(loc);
            if rng.chance(0.9) {
                row.phone = PhoneCell::E164(self.alloc.phone(loc));
            }
            row.ext = ExtCell::Value(self.alloc.ext(loc));
        }
        if MEETINGS[package] {
            row.site = Some(pick_site(loc, rng));
        }
        row.dept = pick_dept(rng);
        if rng.chance(0.2) {
            for cell in &mut row.base {
                if rng.chance(0.7) {
                    *cell = Cell::True;
                }
            }
        }
        row
    }

    /// A row of `user` whose cells equal the org's values.
    fn unchanged_row(&mut self, user: &OrgUser) -> Row {
        let rng = &mut self.rng;
        let mut row = Row::current(user);
        row.active = rng.chance(0.7);
        let others = if rng.chance(0.8) { Cell::False } else { Cell::Empty };
        row.pkgs = [others; 5];
        row.pkgs[user.package] = Cell::True;
        if rng.chance(0.4) {
            for (i, cell) in row.base.iter_mut().enumerate() {
                if user.base & (1 << i) != 0 {
                    *cell = Cell::True;
                }
            }
        }
        row
    }

    /// A row of `user` that changes one thing: extension, phone number,
    /// display name or package (never its location, never a full admin
    /// below the org's package).
    fn modified_row(&mut self, user: &OrgUser) -> Row {
        let mut row = self.unchanged_row(user);
        let new_package = match (user.package, user.admin) {
            (P_CALLING, _) => Some(P_SUITE),
            (P_CAC, false) => Some(P_VOICE),
            (P_VOICE, false) => Some(P_CALLING),
            (P_MEETINGS, false) => Some(P_SUITE),
            (P_SUITE, false) => Some(P_CALLING),
            _ => None,
        };
        // 0: extension, 1: phone number, 2: display name, 3: package.
        let ok = [user.ext.is_some(), user.phone.is_some(), true, new_package.is_some()];
        let n = ok.iter().filter(|b| **b).count();
        let pick = (0..4).filter(|&i| ok[i]).nth(self.rng.below(n)).unwrap_or(2);
        match (pick, new_package) {
            (0, _) => row.ext = ExtCell::Value(self.alloc.ext(user.location)),
            (1, _) => row.phone = PhoneCell::E164(self.alloc.phone(user.location)),
            (3, Some(package)) => {
                row.pkgs[user.package] = Cell::False;
                row.pkgs[package] = Cell::True;
                if CALLING[package] && user.ext.is_none() {
                    if self.rng.chance(0.9) {
                        row.phone = PhoneCell::E164(self.alloc.phone(user.location));
                    }
                    row.ext = ExtCell::Value(self.alloc.ext(user.location));
                }
                if !MEETINGS[package] {
                    row.site = None;
                } else if user.site.is_none() {
                    row.site = Some(pick_site(user.location, &mut self.rng));
                }
            }
            _ => {
                row.display =
                    if self.rng.chance(0.5) { DisplayCell::LastCommaFirst } else { DisplayCell::FirstInitial }
            }
        }
        row
    }
}

/// Injects one fault applicable to `row`, chosen uniformly, and returns it.
/// `earlier` holds the persons whose e-mail appears intact in earlier rows.
///
/// Applicability keeps each fault to its one diagnostic: e-mail faults only
/// where no number of an org user is left on a row without its owner, a
/// second package only one whose needs the row already meets, an invalid
/// extension only next to a valid phone number.
fn inject(row: &mut Row, is_add: bool, earlier: &[Person], rng: &mut Rng) -> Fault {
    let true_pkg = row.pkgs.iter().position(|c| *c == Cell::True);
    let phone = match row.phone {
        PhoneCell::E164(n) => Some(n),
        _ => None,
    };
    let has_ext = matches!(row.ext, ExtCell::Value(_));
    let has_number = phone.is_some() || has_ext;
    let meets = |p: usize| {
        (!CALLING[p] || (row.location.is_some() && has_number)) && (!MEETINGS[p] || row.site.is_some())
    };
    let second = |t: usize| (0..5).filter(move |&p| p != t && meets(p));
    let email_ok = is_add || !has_number;
    let ok = |fault: Fault| match fault {
        Fault::StrippedPlus | Fault::Scientific => phone.is_some(),
        Fault::DuplicateEmail => email_ok && !earlier.is_empty(),
        Fault::BlankEmail => email_ok,
        Fault::TwoPackages => true_pkg.is_some_and(|t| second(t).next().is_some()),
        Fault::YesInsteadOfTrue => true_pkg.is_some(),
        Fault::CallingWithoutLocation => {
            is_add && row.location.is_some() && true_pkg.is_some_and(|p| CALLING[p])
        }
        Fault::InvalidExtension => has_ext && phone.is_some(),
        Fault::TrailingSpace => row.names.is_some(),
    };
    let n = Fault::ALL.iter().filter(|f| ok(**f)).count();
    // Every row can take one: an added or deleted row a blank e-mail, any
    // other row a trailing space.
    let fault = Fault::ALL.iter().copied().filter(|f| ok(*f)).nth(rng.below(n)).expect("an applicable fault");
    match fault {
        Fault::StrippedPlus => row.phone = PhoneCell::NoPlus(phone.unwrap_or_default()),
        Fault::Scientific => row.phone = PhoneCell::Scientific(phone.unwrap_or_default()),
        Fault::DuplicateEmail => {
            let person = earlier[rng.below(earlier.len())];
            row.email = EmailCell::CaseVariant(person, rng.below(3) as u8);
        }
        Fault::TwoPackages => {
            let t = true_pkg.unwrap_or_default();
            let n = second(t).count();
            let other = second(t).nth(rng.below(n)).unwrap_or(t);
            row.pkgs[other] = Cell::True;
        }
        Fault::YesInsteadOfTrue => row.pkgs[true_pkg.unwrap_or_default()] = Cell::Yes,
        Fault::BlankEmail => row.email = EmailCell::Blank,
        Fault::CallingWithoutLocation => row.location = None,
        Fault::InvalidExtension => {
            if let ExtCell::Value(e) = row.ext {
                row.ext = ExtCell::Invalid(e);
            }
        }
        Fault::TrailingSpace => row.trailing_space = true,
    }
    fault
}

fn pick_location(rng: &mut Rng) -> u8 {
    rng.weighted(&LOCATION_WEIGHT) as u8
}

/// Mostly the site of the location's region (Italy or elsewhere in the EU).
fn pick_site(location: u8, rng: &mut Rng) -> u8 {
    let eu = location >= 4;
    u8::from(eu != rng.chance(0.1))
}

fn pick_dept(rng: &mut Rng) -> Option<u8> {
    rng.chance(0.85).then(|| rng.below(DEPARTMENTS.len()) as u8)
}

fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

/// The ASCII e-mail form of a name: accents folded, lowercase, letters and
/// digits only (`Ștefănescu` → `stefanescu`, `D'Amico` → `damico`).
fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        out.push_str(match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' | 'ă' | 'À' | 'Á' | 'Â' | 'Ä' | 'Ã' | 'Å' | 'Ă' => {
                "a"
            }
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'Ò' | 'Ó' | 'Ô' | 'Ö' | 'Õ' => "o",
            'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
            'ñ' | 'Ñ' => "n",
            'ç' | 'Ç' => "c",
            'ș' | 'ş' | 'Ș' | 'Ş' => "s",
            'ț' | 'ţ' | 'Ț' | 'Ţ' => "t",
            'ß' => "ss",
            _ => "",
        });
    }
    out
}

fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// `n` as a spreadsheet shows a long number: `390212345678` → `3.90212E+11`.
fn push_scientific(out: &mut Vec<u8>, n: u64) {
    let mut digits = Vec::with_capacity(20);
    push_u64(&mut digits, n);
    out.push(digits[0]);
    let mut mantissa = &digits[1..digits.len().min(6)];
    while let [rest @ .., b'0'] = mantissa {
        mantissa = rest;
    }
    if !mantissa.is_empty() {
        out.push(b'.');
        out.extend_from_slice(mantissa);
    }
    out.extend_from_slice(b"E+");
    push_u64(out, (digits.len() - 1) as u64);
}

/// A CSV field, quoted per RFC 4180 when it holds a comma, quote or newline.
fn push_field(out: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// `s` escaped for the inside of a JSON string.
fn json_escaped(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    push_json_escaped(&mut out, s);
    out
}

/// Appends `s` escaped for the inside of a JSON string.
fn push_json_escaped(out: &mut Vec<u8>, s: &str) {
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    for b in s.bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            _ => out.push(b),
        }
    }
}

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    push_json_escaped(out, s);
    out.push(b'"');
}

fn push_json_list<'s>(out: &mut Vec<u8>, items: impl Iterator<Item = &'s str>) {
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        push_json_str(out, item);
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(error_pct: f64) -> Generated {
        generate(&GenConfig { rows: 5_000, org_users: 3_000, error_pct, seed: 7 })
    }

    #[test]
    fn deterministic() {
        let (a, b) = (small(5.0), small(5.0));
        assert_eq!(a.csv, b.csv);
        assert_eq!(a.org_json, b.org_json);
        assert_eq!(a.org_export_csv, b.org_export_csv);
        assert_eq!(a.stats, b.stats);
    }

    #[test]
    fn names_need_no_quoting_and_fold_to_letters() {
        for name in FIRST_NAMES.iter().chain(LAST_NAMES) {
            assert!(!name.contains([',', '"', '\n', '\r']), "{name}");
            let folded = fold(name);
            assert!(folded.starts_with(|c: char| c.is_ascii_lowercase()), "{name}");
        }
    }

    #[test]
    fn emails_unique_without_faults() {
        let g = small(0.0);
        let text = std::str::from_utf8(&g.csv).unwrap();
        let mut seen = std::collections::HashSet::new();
        for line in text.lines().skip(1) {
            let email = line.split(',').next().unwrap().to_ascii_lowercase();
            assert!(seen.insert(email), "{line}");
        }
        assert_eq!(seen.len(), 5_000);
        assert_eq!(g.stats.faulty_rows(), 0);
    }

    #[test]
    fn scientific() {
        let mut out = Vec::new();
        push_scientific(&mut out, 390_212_345_678);
        assert_eq!(out, b"3.90212E+11");
        out.clear();
        push_scientific(&mut out, 340_000_000_000);
        assert_eq!(out, b"3.4E+11");
    }
}
