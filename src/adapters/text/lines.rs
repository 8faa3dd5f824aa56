//! Lines of a dump: each line numbered, white space collapsed, and
//! classified as blank, a lone date (the capture date), a *byline* ("Author
//! | Author Month D, YYYY", which closes an item) or other text. Author parts
//! are split into names here.

use std::sync::LazyLock;

use chrono::NaiveDate;
use encoding_rs::{Encoding, UTF_8};
use regex::Regex;

use crate::adapters::Page;
use crate::model::collapse_whitespace;

/// One line of the dump, whitespace collapsed, with its 1-based number.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Line {
    pub(super) no: usize,
    pub(super) text: String,
    pub(super) kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    Blank,
    /// Only a date: the capture date in the header.
    Date(Result<NaiveDate, String>),
    /// Ends with a date after an author part: closes an item.
    Byline(Box<Byline>),
    /// Anything else: title, label, summary, avatar alt text or page chrome.
    Text,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Byline {
    pub(super) line: usize,
    /// The whole line, for messages.
    pub(super) text: String,
    /// The author part as written ("A | B").
    pub(super) author_part: String,
    pub(super) authors: Vec<String>,
    pub(super) date_text: String,
    pub(super) date: Result<NaiveDate, String>,
}

/// Text of the page: a BOM picks the encoding (UTF-8 or UTF-16), otherwise
/// UTF-8. Bytes that do not decode are replaced and reported once.
pub(super) fn decode(page: &Page, warnings: &mut Vec<String>) -> String {
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
pub(super) fn split_lines(text: &str) -> Vec<Line> {
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
pub(super) fn clean(raw: &str) -> String {
    let spaced: String = raw
        .chars()
        .filter(|c| !matches!(c, '\u{feff}' | '\u{200b}'))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    collapse_whitespace(&spaced)
}

pub(super) fn classify(no: usize, text: String) -> Line {
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
pub(super) static TRAILING_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?P<head>.*?)\s*(?P<date>(?P<month>[A-Za-z]{3,10}\.?)\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4}))$",
    )
    .expect("static regex")
});

/// A line that is only a date, optionally after a weekday ("Thursday, March 4, 2021").
pub(super) fn date_only(text: &str) -> Option<Result<NaiveDate, String>> {
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
pub(super) fn byline(no: usize, text: &str) -> Option<Byline> {
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

pub(super) fn parse_date(caps: &regex::Captures) -> Result<NaiveDate, String> {
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
pub(super) fn month_number(word: &str) -> Option<u32> {
    crate::dates::month(&word.trim_end_matches('.').to_ascii_lowercase())
}

pub(super) fn is_weekday(word: &str) -> bool {
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

pub(super) fn strip_by(text: &str) -> &str {
    text.strip_prefix("By ")
        .or_else(|| text.strip_prefix("by "))
        .unwrap_or(text)
        .trim()
}

/// The names in an author part: "A | B" (the dumps' own separator), and also
/// "A, B and C" or "A & B".
pub(super) fn names(part: &str) -> impl Iterator<Item = &str> {
    part.split(['|', ',', '&'])
        .flat_map(|p| p.split(" and "))
        .map(str::trim)
        .filter(|n| !n.is_empty())
}

/// Authors of a byline's author part, if every part looks like a person's
/// name. This is what keeps a summary that happens to end with a date ("The
/// summit opens on June 12, 2018") from being read as a byline.
pub(super) fn split_authors(part: &str) -> Option<Vec<String>> {
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
pub(super) const PARTICLES: &[&str] = &[
    "al", "bin", "binti", "d", "da", "das", "de", "del", "della", "den", "der", "di", "do", "dos",
    "du", "e", "el", "la", "le", "ter", "van", "von", "y", "zu",
];

/// A person's name: one to six words, at most four of them capitalised (or
/// uncased, as in Korean or Chinese names), the others name particles; no
/// digits and no sentence punctuation.
pub(super) fn is_name(name: &str) -> bool {
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
