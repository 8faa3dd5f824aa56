//! The text adapter reads a *dump*: a listing page saved as plain text, one
//! visible text run per line (what "select all, copy" or a text-mode browser
//! gives).
//!
//! A dump has no markup, so structure comes from the one line every item has:
//! its *byline*, "Author | Author Month D, YYYY". Each byline closes one item;
//! the lines since the previous byline form that item's *block*. Before the
//! first item sits the page header (site name, navigation, a tagline and the
//! capture date); after the last byline, maybe a footer. Within a block the
//! adapter tells apart, by shape and position only (never by site-specific
//! words):
//!
//! - the *title*, the first line of the item. Layouts that show a card's image
//!   repeat the title as the image's alt text ("title / title / summary /
//!   title"); the copies are one title.
//! - *labels* ("NK PRO"): short lines that are not sentences, either in
//!   capitals only or sitting between the first two title copies.
//! - the author's *avatar* alt text: a line that is just the byline's author.
//! - the *summary*: the remaining distinct line, if any.
//!
//! Where the title is not repeated, what precedes an item (the header, or an
//! ad line between cards) is told apart by the number of lines the page's
//! other items have (see [`Trim`]). Authors are split on "|" (also "," "&"
//! "and"); a byline's author part must look like names, so a summary that
//! ends with a date is not a byline. Text is kept as given (no Unicode
//! normalization), with white space collapsed and trimmed.
//!
//! Dates in bylines and the header are English "Month D, YYYY" ("March 2,
//! 2021", "Sept. 3, 2021", "Sep 3, 2021"), read in the source's time zone.
//! Whatever the adapter cannot place is skipped with a warning naming
//! `file:line`; it never invents a date or a title.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use chrono::NaiveDate;
use encoding_rs::{Encoding, UTF_8};
use regex::Regex;

use super::{AdapterError, Listing, Page};
use crate::config::SourceConfig;
use crate::model::{Item, Person, Published, Tag, collapse_whitespace, normalize_title};

/// Read one dump. Never fails: what cannot be read becomes a warning, so a
/// page with no items (or garbage) gives an empty listing that says why.
pub fn read(
    source: &SourceConfig,
    page: &Page,
    first_position: u32,
) -> Result<Listing, AdapterError> {
    let mut warnings = Vec::new();
    let text = decode(page, &mut warnings);
    let lines = split_lines(&text);
    let mut listing = Listing::default();

    if lines.iter().all(|l| l.kind == Kind::Blank) {
        warnings.push(format!("{}:1: empty page: no items", page.name));
        listing.warnings = warnings;
        return Ok(listing);
    }

    let (blocks, tail) = blocks(&lines);

    // The first block also holds the page header, and any block may start
    // with chrome between items. Where titles are not repeated, the item is
    // told from what precedes it by the shape the other items have.
    let later: Vec<Shape> = blocks.iter().skip(1).map(|b| shape(b, None)).collect();
    let trim = Trim::from_items(&later);
    if blocks.is_empty() {
        // No items: the whole page is header.
        listing.captured = lines.iter().find_map(|l| match &l.kind {
            Kind::Date(Ok(d)) => Some(*d),
            _ => None,
        });
    }

    let mut index: u32 = 0;
    for (i, block) in blocks.iter().enumerate() {
        let shape = shape(block, Some(trim));
        for date in &shape.dates {
            match (&date.kind, i) {
                (Kind::Date(Ok(d)), 0) => {
                    listing.captured.get_or_insert(*d);
                }
                (Kind::Date(Err(why)), 0) => warnings.push(format!(
                    "{}:{}: header date {:?} does not parse ({why}); not used as capture date",
                    page.name, date.no, date.text
                )),
                _ => warnings.push(format!(
                    "{}:{}: date line {:?} inside the listing is not part of an item; skipped",
                    page.name, date.no, date.text
                )),
            }
        }
        // Header lines before the first item are expected; anything else that
        // does not fit an item is worth telling.
        let mut unplaced: Vec<&Line> = shape.extra.clone();
        if i > 0 {
            unplaced.extend(shape.before.iter().copied());
            unplaced.sort_by_key(|l| l.no);
        }
        for l in unplaced {
            warnings.push(format!(
                "{}:{}: line {:?} does not fit the item closed by the byline on line {} \
                 (expected title, label, summary or author); skipped",
                page.name, l.no, l.text, block.byline.line
            ));
        }

        let Some(title) = shape.title else {
            warnings.push(format!(
                "{}:{}: byline {:?} has no title above it; item skipped",
                page.name, block.byline.line, block.byline.text
            ));
            continue;
        };
        let published = match &block.byline.date {
            Ok(d) => Some(Published::Date(*d, source.timezone)),
            Err(why) => {
                warnings.push(format!(
                    "{}:{}: byline date {:?} does not parse ({why}); item kept without a date",
                    page.name, block.byline.line, block.byline.date_text
                ));
                None
            }
        };
        let position = first_position.saturating_add(index);
        index = index.saturating_add(1);
        let mut item = Item::new(&source.name, position, title.text.clone(), None);
        item.summary = shape.summary.map(|l| l.text.clone());
        item.authors = block
            .byline
            .authors
            .iter()
            .map(|a| Person::new(a))
            .collect();
        item.tags = shape.labels.iter().map(|l| Tag::new(&l.text)).collect();
        item.published = published;
        item.refresh_id();
        listing.items.push(item);
    }

    // Lines after the last byline: a footer, or an item cut off before its
    // byline. Either way no item, but worth a word.
    if let Some(first) = tail.iter().find(|l| l.kind != Kind::Blank) {
        let count = tail.iter().filter(|l| l.kind != Kind::Blank).count();
        let message = match blocks.last() {
            Some(b) => format!(
                "{count} line(s) after the last byline (line {}) belong to no item \
                 (page footer, or an item without its \"Author Month D, YYYY\" line); skipped",
                b.byline.line
            ),
            None => format!(
                "no items: none of the {} lines is a byline (\"Author Month D, YYYY\")",
                lines.len()
            ),
        };
        warnings.push(format!("{}:{}: {message}", page.name, first.no));
    }

    listing.warnings = warnings;
    Ok(listing)
}

// ---- lines ---------------------------------------------------------------------

/// One line of the dump, whitespace collapsed, with its 1-based number.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    no: usize,
    text: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Blank,
    /// Only a date: the capture date in the header.
    Date(Result<NaiveDate, String>),
    /// Ends with a date after an author part: closes an item.
    Byline(Box<Byline>),
    /// Anything else: title, label, summary, avatar alt text or page chrome.
    Text,
}

#[derive(Debug, Clone, PartialEq)]
struct Byline {
    line: usize,
    /// The whole line, for messages.
    text: String,
    /// The author part as written ("A | B").
    author_part: String,
    authors: Vec<String>,
    date_text: String,
    date: Result<NaiveDate, String>,
}

/// Text of the page: a BOM picks the encoding (UTF-8 or UTF-16), otherwise
/// UTF-8. Bytes that do not decode are replaced and reported once.
fn decode(page: &Page, warnings: &mut Vec<String>) -> String {
    let (encoding, bom) = Encoding::for_bom(page.bytes).unwrap_or((UTF_8, 0));
    let body = page.bytes.get(bom..).unwrap_or_default();
    let (text, had_errors) = encoding.decode_without_bom_handling(body);
    if had_errors {
        let place = match std::str::from_utf8(body) {
            Err(e) if encoding == UTF_8 => {
                let valid = body.get(..e.valid_up_to()).unwrap_or_default();
                let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
                let byte = body.get(e.valid_up_to()).copied().unwrap_or_default();
                format!("{line}: byte 0x{byte:02x}")
            }
            _ => "1".to_owned(),
        };
        warnings.push(format!(
            "{}:{place}: not valid {} text; undecodable bytes replaced with U+FFFD",
            page.name,
            encoding.name()
        ));
    }
    text.into_owned()
}

/// Split on `\n`, `\r\n` or a lone `\r`, number the lines and classify them.
fn split_lines(text: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut rest = text;
    loop {
        let (raw, next) = match rest.find(['\n', '\r']) {
            Some(at) => {
                let skip = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
                (&rest[..at], Some(&rest[at + skip..]))
            }
            None => (rest, None),
        };
        let no = lines.len() + 1;
        lines.push(classify(no, clean(raw)));
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
    lines
}

/// Collapse white space; control characters count as white space and stray
/// BOMs or zero-width spaces (left by copy and paste) are dropped.
fn clean(raw: &str) -> String {
    let spaced: String = raw
        .chars()
        .filter(|c| !matches!(c, '\u{feff}' | '\u{200b}'))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    collapse_whitespace(&spaced)
}

fn classify(no: usize, text: String) -> Line {
    let kind = if text.is_empty() {
        Kind::Blank
    } else if !text.ends_with(|c: char| c.is_ascii_digit()) {
        // Dates and bylines end with the year; most lines are cheaper to
        // rule out here than with the regex.
        Kind::Text
    } else if let Some(date) = date_only(&text) {
        Kind::Date(date)
    } else if let Some(byline) = byline(no, &text) {
        Kind::Byline(Box::new(byline))
    } else {
        Kind::Text
    };
    Line { no, text, kind }
}

// ---- dates and bylines -----------------------------------------------------------

/// "Month D, YYYY" at the end of a line. The month is any word here so that
/// a misspelt one ("Mayy 40, 2021") still marks a byline and is reported
/// rather than read as a title.
static TRAILING_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?P<head>.*?)\s*(?P<date>(?P<month>[A-Za-z]{3,10}\.?)\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4}))$",
    )
    .expect("static regex")
});

/// A line that is only a date, optionally after a weekday ("Thursday, March 4, 2021").
fn date_only(text: &str) -> Option<Result<NaiveDate, String>> {
    let caps = TRAILING_DATE.captures(text)?;
    let head = caps.name("head").map_or("", |m| m.as_str());
    let head = head.trim_end_matches(',');
    if !head.is_empty() && !is_weekday(head) {
        return None;
    }
    // Only a real month name makes a bare line a date; "Chapter 3, 2021" is text.
    month_number(caps.name("month")?.as_str())?;
    Some(parse_date(&caps))
}

/// A byline: an author part made of names, then a date, maybe with a
/// separator between them.
fn byline(no: usize, text: &str) -> Option<Byline> {
    let caps = TRAILING_DATE.captures(text)?;
    // "By Jane Doe · May 2, 2022" is the same byline as "Jane Doe May 2, 2022".
    let head = caps
        .name("head")?
        .as_str()
        .trim_end_matches(|c: char| c.is_whitespace() || "|·•-–—,".contains(c));
    let author_part = strip_by(head);
    let authors = split_authors(author_part)?;
    let date_text = caps.name("date")?.as_str().to_owned();
    Some(Byline {
        line: no,
        text: text.to_owned(),
        author_part: author_part.to_owned(),
        authors,
        date_text,
        date: parse_date(&caps),
    })
}

fn parse_date(caps: &regex::Captures) -> Result<NaiveDate, String> {
    let month_word = caps.name("month").map_or("", |m| m.as_str());
    let month =
        month_number(month_word).ok_or_else(|| format!("{month_word:?} is not a month name"))?;
    let day: u32 = caps
        .name("day")
        .and_then(|m| m.as_str().parse().ok())
        .ok_or("no day")?;
    let year: i32 = caps
        .name("year")
        .and_then(|m| m.as_str().parse().ok())
        .ok_or("no year")?;
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| format!("{month_word} has no day {day} in {year}"))
}

/// English month names, full or abbreviated, with or without a dot, any case:
/// "March", "Mar", "Mar.", "Sept.", "sep".
fn month_number(word: &str) -> Option<u32> {
    crate::dates::month(&word.trim_end_matches('.').to_ascii_lowercase())
}

fn is_weekday(word: &str) -> bool {
    let word = word.trim_end_matches('.').to_ascii_lowercase();
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .any(|d| word.len() >= 3 && d.starts_with(&word))
}

fn strip_by(text: &str) -> &str {
    text.strip_prefix("By ")
        .or_else(|| text.strip_prefix("by "))
        .unwrap_or(text)
        .trim()
}

/// The names in an author part: "A | B" (the dumps' own separator), and also
/// "A, B and C" or "A & B".
fn names(part: &str) -> impl Iterator<Item = &str> {
    part.split(['|', ',', '&'])
        .flat_map(|p| p.split(" and "))
        .map(str::trim)
        .filter(|n| !n.is_empty())
}

/// Authors of a byline's author part, if every part looks like a person's
/// name. This is what keeps a summary that happens to end with a date ("The
/// summit opens on June 12, 2018") from being read as a byline.
fn split_authors(part: &str) -> Option<Vec<String>> {
    let mut authors: Vec<String> = Vec::new();
    for name in names(part) {
        if !is_name(name) {
            return None;
        }
        if !authors.iter().any(|a| a == name) {
            authors.push(name.to_owned());
        }
    }
    (!authors.is_empty()).then_some(authors)
}

/// Lowercase words that belong inside names ("Ludwig van Beethoven", "Maria
/// de la Cruz", "Omar al-Bashir").
const PARTICLES: &[&str] = &[
    "al", "bin", "binti", "d", "da", "das", "de", "del", "della", "den", "der", "di", "do", "dos",
    "du", "e", "el", "la", "le", "ter", "van", "von", "y", "zu",
];

/// A person's name: one to six words, at most four of them capitalised (or
/// uncased, as in Korean or Chinese names), the others name particles; no
/// digits and no sentence punctuation.
fn is_name(name: &str) -> bool {
    if name.chars().count() > 60
        || name
            .chars()
            .any(|c| c.is_numeric() || ":;!?\"“”«»()[]{}<>/\\@#$%^*=+_~,".contains(c))
    {
        return false;
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    let particle = |w: &str| {
        let stem = w.split(['-', '\'', '’']).next().unwrap_or(w);
        PARTICLES.contains(&stem.trim_end_matches('.'))
    };
    let capital = |w: &str| {
        w.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() && !c.is_lowercase())
    };
    let capitals = words.iter().filter(|w| capital(w)).count();
    !words.is_empty()
        && words.len() <= 6
        && (1..=4).contains(&capitals)
        && words.iter().all(|w| capital(w) || particle(w))
        && words.last().is_some_and(|w| capital(w))
}

// ---- blocks --------------------------------------------------------------------

/// The lines of one item, closed by its byline.
struct Block<'a> {
    lines: &'a [Line],
    byline: &'a Byline,
}

/// Cut the dump at its bylines; the lines after the last byline are the tail.
fn blocks(lines: &[Line]) -> (Vec<Block<'_>>, &[Line]) {
    let mut blocks = Vec::new();
    let mut start = 0;
    for (i, line) in lines.iter().enumerate() {
        if let Kind::Byline(b) = &line.kind {
            blocks.push(Block {
                lines: lines.get(start..i).unwrap_or_default(),
                byline: b,
            });
            start = i + 1;
        }
    }
    (blocks, lines.get(start..).unwrap_or_default())
}

/// What a block's lines turned out to be.
#[derive(Debug, Clone, Default)]
struct Shape<'a> {
    title: Option<&'a Line>,
    summary: Option<&'a Line>,
    labels: Vec<&'a Line>,
    /// Lines before the item (the page header, in the first block).
    before: Vec<&'a Line>,
    /// Lines inside the item that fit no field.
    extra: Vec<&'a Line>,
    /// Date-only lines.
    dates: Vec<&'a Line>,
    /// Whether the title is repeated (card image alt text around the heading).
    repeated: bool,
}

/// Short and not a sentence: at most four words and 30 characters, some
/// letter, no closing punctuation. Labels are badges, not prose.
fn label_shaped(text: &str) -> bool {
    text.chars().count() <= 30
        && text.split_whitespace().count() <= 4
        && text.chars().any(char::is_alphabetic)
        && !text.ends_with(['.', '!', '?', ':', ';', ','])
}

/// A label-shaped line in capitals only ("NK PRO", "ANALYSIS"). Titles and
/// summaries are written in sentence or title case, so such a line is a label
/// wherever it sits in the item. Scripts without case (Korean, Chinese) never
/// shout: there only position tells a label.
fn shouting(text: &str) -> bool {
    label_shaped(text)
        && text.chars().any(char::is_uppercase)
        && !text.chars().any(char::is_lowercase)
}

/// Is this line the byline's author(s) on their own, the alt text of an
/// avatar? Matches the whole author part or any list of the byline's names.
fn is_author_line(text: &str, byline: &Byline) -> bool {
    if text == byline.author_part {
        return true;
    }
    let key = |s: &str| s.to_lowercase();
    let authors: Vec<String> = byline.authors.iter().map(|a| key(a)).collect();
    let mut parts = names(strip_by(text)).map(key).peekable();
    parts.peek().is_some() && parts.all(|p| authors.contains(&p))
}

/// How to find the item in a block whose title is not repeated (the plain
/// layout), learnt from the other items of the page.
#[derive(Debug, Clone, Copy)]
struct Trim {
    /// The item is the block's last `lines` title/summary lines.
    lines: usize,
    /// Whether labels sit above the title in this layout, so shouting lines
    /// right above the item belong to it rather than to the chrome.
    leading_labels: bool,
}

impl Trim {
    /// From the untrimmed shapes of the items after the first: the most
    /// common number of title/summary lines, or 2 (title and summary, the
    /// usual card) if there is nothing to judge by. Ties go to the count
    /// nearest 2, then to the larger: with few items, one ad line above a
    /// card or one item without summary must not set the shape.
    fn from_items(shapes: &[Shape]) -> Trim {
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for s in shapes.iter().filter(|s| !s.repeated && s.title.is_some()) {
            let n = 1 + usize::from(s.summary.is_some()) + s.extra.len();
            *counts.entry(n).or_default() += 1;
        }
        let lines = counts
            .into_iter()
            .max_by_key(|&(n, c)| (c, std::cmp::Reverse(n.abs_diff(2)), n))
            .map_or(2, |(n, _)| n);
        let leading_labels = shapes.iter().any(|s| {
            !s.repeated
                && s.title
                    .zip(s.labels.first())
                    .is_some_and(|(t, l)| l.no < t.no)
        });
        Trim {
            lines,
            leading_labels,
        }
    }
}

/// Work out title, labels and summary of one block; `trim` (see [`Trim`])
/// separates a plain-layout item from the lines above it.
fn shape<'a>(block: &Block<'a>, trim: Option<Trim>) -> Shape<'a> {
    let mut out = Shape::default();
    // Candidates: text lines that are not the author's avatar, with their
    // title keys; punctuation-only lines (separators) carry nothing.
    let mut lines: Vec<(&'a Line, String)> = Vec::new();
    for line in block.lines {
        match &line.kind {
            Kind::Date(_) => out.dates.push(line),
            Kind::Text if is_author_line(&line.text, block.byline) => {}
            Kind::Text => {
                let key = normalize_title(&line.text);
                if !key.is_empty() {
                    lines.push((line, key));
                }
            }
            Kind::Blank | Kind::Byline(_) => {}
        }
    }

    // Layout with repeated titles: the title is the repeated line that
    // appears last (its final copy sits just above the author), and the item
    // starts at its first copy. Anything above belongs to the header or is
    // chrome between items.
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (_, key) in &lines {
        *counts.entry(key.as_str()).or_default() += 1;
    }
    let repeated_title = lines
        .iter()
        .rev()
        .find(|(_, key)| counts.get(key.as_str()).is_some_and(|&c| c >= 2))
        .map(|(_, key)| key.clone());

    let (start, second_copy) = match &repeated_title {
        Some(title_key) => {
            out.repeated = true;
            let mut copies = lines
                .iter()
                .enumerate()
                .filter(|(_, (_, k))| k == title_key)
                .map(|(i, _)| i);
            let first = copies.next().unwrap_or(0);
            (first, copies.next())
        }
        None => {
            // Plain layout: keep the last `trim.lines` non-label lines
            // (labels among them stay labels); lines above are header or chrome.
            let mut start = 0;
            if let Some(trim) = trim {
                let mut seen = 0;
                for (i, (line, _)) in lines.iter().enumerate().rev() {
                    if !shouting(&line.text) {
                        seen += 1;
                        start = i;
                        if seen == trim.lines {
                            break;
                        }
                    }
                }
                if trim.leading_labels {
                    while start > 0 && lines.get(start - 1).is_some_and(|(l, _)| shouting(&l.text))
                    {
                        start -= 1;
                    }
                }
            }
            (start, None)
        }
    };
    out.before = lines.iter().take(start).map(|(l, _)| *l).collect();
    let item = lines.get(start..).unwrap_or_default();

    // Labels: shouting lines anywhere, and in the repeated layout any short
    // line between the first two title copies ("title / Analysis / title").
    // A label needs a title beside it, so an item of shouting lines only
    // keeps its first one as the title.
    let has_plain = item.iter().any(|(l, _)| !shouting(&l.text));
    let mut seen: HashSet<&str> = HashSet::new();
    let mut rest: Vec<&'a Line> = Vec::new();
    let mut soft_labels: Vec<&'a Line> = Vec::new();
    for (i, (line, key)) in item.iter().enumerate() {
        if !seen.insert(key.as_str()) {
            continue; // another copy of the title, or a duplicate line
        }
        let between_copies = second_copy.is_some_and(|s| i > 0 && i + start < s);
        if out.title.is_none() && (!shouting(&line.text) || !has_plain) {
            out.title = Some(line);
        } else if has_plain && shouting(&line.text) {
            out.labels.push(line);
        } else if between_copies && label_shaped(&line.text) {
            soft_labels.push(line);
        } else {
            rest.push(line);
        }
    }
    // A short line between the copies is a label only if something else is
    // left to be the summary; otherwise ("title / summary / title") it is
    // the summary.
    if rest.is_empty() && !soft_labels.is_empty() {
        rest.push(soft_labels.remove(0));
    }
    out.labels.extend(soft_labels);
    out.labels.sort_by_key(|l| l.no);
    let mut rest = rest.into_iter();
    out.summary = rest.next();
    out.extra = rest.collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn months_full_abbreviated_dotted() {
        assert_eq!(month_number("March"), Some(3));
        assert_eq!(month_number("Mar."), Some(3));
        assert_eq!(month_number("Sept."), Some(9));
        assert_eq!(month_number("sep"), Some(9));
        assert_eq!(month_number("Ma"), None);
        assert_eq!(month_number("Mayy"), None);
        assert_eq!(month_number("Marc"), None);
    }

    #[test]
    fn bylines() {
        let b = byline(7, "Jeongmin Kim | Kelly Kasulis March 2, 2021").unwrap();
        assert_eq!(b.authors, ["Jeongmin Kim", "Kelly Kasulis"]);
        assert_eq!(b.date, Ok(d(2021, 3, 2)));
        let b = byline(1, "Chad O'Carroll Sept. 3, 2021").unwrap();
        assert_eq!(b.authors, ["Chad O'Carroll"]);
        assert_eq!(b.date, Ok(d(2021, 9, 3)));
        let b = byline(1, "Ludwig van Beethoven Sep 3, 2021").unwrap();
        assert_eq!(b.authors, ["Ludwig van Beethoven"]);
        let b = byline(1, "Kim Ito Mayy 40, 2021").unwrap();
        assert!(b.date.is_err());
        assert!(byline(1, "March 4, 2021").is_none());
        assert!(byline(1, "The summit opens on June 12, 2018").is_none());
        assert!(byline(1, "Seoul to spend $8 million by March 2, 2021").is_none());
    }

    #[test]
    fn dates_only() {
        assert_eq!(date_only("March 04, 2021"), Some(Ok(d(2021, 3, 4))));
        assert_eq!(
            date_only("Thursday, March 4, 2021"),
            Some(Ok(d(2021, 3, 4)))
        );
        assert!(matches!(date_only("February 30, 2021"), Some(Err(_))));
        assert_eq!(date_only("Chapter 3, 2021"), None);
        assert_eq!(date_only("Colin Zwirko May 21, 2022"), None);
    }

    #[test]
    fn labels() {
        assert!(shouting("NK PRO"));
        assert!(!shouting("Major outage disrupts"));
        assert!(!shouting("A VERY LONG SHOUTING HEADLINE ABOUT THINGS"));
        assert!(label_shaped("Analysis"));
        assert!(!label_shaped("Short sentence here."));
    }
}
