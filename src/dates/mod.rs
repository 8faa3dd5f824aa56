//! Dates as pages write them.
//!
//! A *date format* is one way a page may say when a story was published:
//! ISO 8601, RFC 2822, "May 20, 2022", "2022.05.20", "3 hours ago", or a
//! strftime pattern from the config. A source accepts a list of formats (the
//! defaults cover the common ones) and [`parse`] tries them in order.
//!
//! The result keeps what the page said and no more: a value with a time of day
//! becomes a [`Published::DateTime`] (in the page's offset, or in the source's
//! zone when the page gives none), a bare day becomes a [`Published::Date`].
//! Relative dates resolve against an [`Anchor`]: the fetch time, or the capture
//! day of a saved page. Text that fits no format is `None`; it is never "now".

use std::fmt;
use std::str::FromStr;

use chrono::format::{Item as FmtItem, StrftimeItems};
use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    Offset, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

use crate::model::Published;

/// Longer text is not a date; refusing it early keeps the parsers cheap.
const MAX_LEN: usize = 120;

/// One accepted way of writing a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateFormat {
    /// ISO 8601 / RFC 3339: `2022-05-21T11:43:21+09:00`, `2022-05-21 11:43Z`,
    /// `2022-05-21T11:43:21` (source zone), `2022-05-21` (a day).
    Iso8601,
    /// RFC 2822 as feeds write it: `Sat, 21 May 2022 11:43:21 +0900`.
    Rfc2822,
    /// English month names in either order, optional weekday and time:
    /// "May 20, 2022", "Sept. 3, 2021", "20 May 2022", "Friday, May 20, 2022 at 3:02 pm".
    /// Without a year ("May 20") the latest such day not after the anchor.
    Human,
    /// Year first, numeric: `2022.05.20`, `2022-05-20`, `2022/5/20`, `2022. 5. 20.`,
    /// optionally followed by `HH:MM[:SS]`.
    Ymd,
    /// "3 hours ago", "an hour ago", "2 days ago", "1 week ago", "yesterday",
    /// "today", "just now". Months and years ago are too vague to date.
    Relative,
    /// A chrono strftime pattern such as `%d/%m/%Y` or `%d.%m.%Y %H:%M`.
    Pattern(String),
}

impl FromStr for DateFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let named = match s.trim().to_ascii_lowercase().as_str() {
            "iso8601" | "iso-8601" | "iso" | "rfc3339" | "rfc-3339" => Some(DateFormat::Iso8601),
            "rfc2822" | "rfc-2822" | "rfc822" => Some(DateFormat::Rfc2822),
            "human" => Some(DateFormat::Human),
            "ymd" => Some(DateFormat::Ymd),
            "relative" => Some(DateFormat::Relative),
            _ => None,
        };
        if let Some(f) = named {
            return Ok(f);
        }
        if !s.contains('%') {
            return Err(format!(
                "unknown date format {s:?}: expected \"iso8601\", \"rfc2822\", \"human\", \"ymd\", \
                 \"relative\" or a strftime pattern such as \"%d/%m/%Y\""
            ));
        }
        if StrftimeItems::new(s).any(|i| matches!(i, FmtItem::Error)) {
            return Err(format!("invalid strftime pattern {s:?}"));
        }
        Ok(DateFormat::Pattern(s.to_owned()))
    }
}

impl fmt::Display for DateFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateFormat::Iso8601 => f.write_str("iso8601"),
            DateFormat::Rfc2822 => f.write_str("rfc2822"),
            DateFormat::Human => f.write_str("human"),
            DateFormat::Ymd => f.write_str("ymd"),
            DateFormat::Relative => f.write_str("relative"),
            DateFormat::Pattern(p) => f.write_str(p),
        }
    }
}

/// The formats a source accepts, tried in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormats(Vec<DateFormat>);

impl Default for DateFormats {
    /// Every built-in format; none of them is ambiguous ("03/04/2021" is not
    /// accepted unless a pattern says which number is the day).
    fn default() -> Self {
        DateFormats(vec![
            DateFormat::Iso8601,
            DateFormat::Rfc2822,
            DateFormat::Human,
            DateFormat::Ymd,
            DateFormat::Relative,
        ])
    }
}

impl DateFormats {
    /// Formats from their config names; an error names the bad one.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let formats = names
            .iter()
            .map(|n| n.as_ref().parse())
            .collect::<Result<Vec<_>, _>>()?;
        if formats.is_empty() {
            return Err("date_formats: expected at least one format".to_owned());
        }
        Ok(DateFormats(formats))
    }

    pub fn formats(&self) -> &[DateFormat] {
        &self.0
    }
}

/// What relative dates ("3 hours ago") count back from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// When the page was fetched.
    Instant(DateTime<Utc>),
    /// The day a saved page was captured; the time of day is unknown, so
    /// "3 hours ago" means that day.
    Day(NaiveDate),
}

impl Anchor {
    /// The anchor's calendar day in `tz`.
    fn day(&self, tz: Tz) -> NaiveDate {
        match self {
            Anchor::Instant(t) => t.with_timezone(&tz).date_naive(),
            Anchor::Day(d) => *d,
        }
    }
}

/// Read `text` with the first of `formats` that accepts it. Dates without a
/// zone are meant in `tz`; relative ones count back from `anchor`.
pub fn parse(text: &str, formats: &DateFormats, tz: Tz, anchor: Anchor) -> Option<Published> {
    parse_precise(text, formats, tz, anchor).map(|(p, _)| p)
}

/// [`parse`], with how many seconds the result may be off when the text
/// is relative ("3 hours ago": 3600), so a later re-read within that is
/// known to be the same time.
pub fn parse_precise(
    text: &str,
    formats: &DateFormats,
    tz: Tz,
    anchor: Anchor,
) -> Option<(Published, Option<u32>)> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_LEN {
        return None;
    }
    let exact = |p: Option<Published>| p.map(|p| (p, None));
    formats.0.iter().find_map(|f| match f {
        DateFormat::Iso8601 => exact(iso8601(text, tz)),
        DateFormat::Rfc2822 => exact(
            DateTime::parse_from_rfc2822(text)
                .ok()
                .map(Published::DateTime),
        ),
        DateFormat::Human => exact(human(text, tz, anchor)),
        DateFormat::Ymd => exact(ymd(text, tz)),
        DateFormat::Relative => relative(text, tz, anchor),
        DateFormat::Pattern(p) => exact(pattern(text, p, tz)),
    })
}

/// A local date-time in `tz`. In a DST gap the offset in force at that instant
/// read as UTC is used: off by at most the gap, never a panic.
fn localize(ndt: NaiveDateTime, tz: Tz) -> DateTime<FixedOffset> {
    match tz.from_local_datetime(&ndt) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.fixed_offset(),
        LocalResult::None => {
            let offset = tz.offset_from_utc_datetime(&ndt).fix();
            DateTime::from_naive_utc_and_offset(ndt - offset, offset)
        }
    }
}

fn with_offset(ndt: NaiveDateTime, offset: Option<FixedOffset>, tz: Tz) -> Published {
    Published::DateTime(match offset {
        Some(off) => DateTime::from_naive_utc_and_offset(ndt - off, off),
        None => localize(ndt, tz),
    })
}

// ---- ISO 8601 ---------------------------------------------------------------------

fn iso8601(text: &str, tz: Tz) -> Option<Published> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(Published::DateTime(dt));
    }
    let (date, rest) = match text.find(['T', 't', ' ']) {
        Some(i) => (text.get(..i)?, Some(text.get(i + 1..)?)),
        None => (text, None),
    };
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let Some(rest) = rest else {
        return Some(Published::Date(day, tz));
    };
    let rest = rest.trim();
    // Split the offset off the time: `Z`, `+09:00`, `+0900`, `+09`, `-05:00`.
    let (time, offset) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        (t, Some(FixedOffset::east_opt(0)?))
    } else if let Some(i) = rest.rfind(['+', '-']) {
        (
            rest.get(..i)?.trim_end(),
            Some(parse_offset(rest.get(i..)?)?),
        )
    } else {
        (rest, None)
    };
    let time = parse_time(time)?;
    Some(with_offset(day.and_time(time), offset, tz))
}

/// `HH:MM`, `HH:MM:SS`, `HH:MM:SS.fff`.
fn parse_time(s: &str) -> Option<NaiveTime> {
    ["%H:%M:%S%.f", "%H:%M"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(s, f).ok())
}

/// `+09:00`, `+0900`, `+09`, `-05:00`.
fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, s.get(1..)?),
        b'-' => (-1, s.get(1..)?),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits.get(..2)?.parse::<i32>().ok()?,
            digits.get(2..)?.parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

// ---- year first, numeric ------------------------------------------------------------

fn ymd(text: &str, tz: Tz) -> Option<Published> {
    // Split off a time: the first space after which a `:` follows.
    let (date, time) = match text.rfind(' ') {
        Some(i) if text.get(i..)?.contains(':') => (text.get(..i)?, Some(text.get(i + 1..)?)),
        _ => (text, None),
    };
    let sep = date.chars().find(|c| matches!(c, '.' | '-' | '/'))?;
    let parts: Vec<&str> = date
        .split(sep)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    if y.len() != 4 || m.len() > 2 || d.len() > 2 {
        return None;
    }
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(y) && all_digits(m) && all_digits(d)) {
        return None;
    }
    let day = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    match time {
        None => Some(Published::Date(day, tz)),
        Some(t) => Some(with_offset(day.and_time(parse_time(t.trim())?), None, tz)),
    }
}

// ---- custom patterns ------------------------------------------------------------------

fn pattern(text: &str, p: &str, tz: Tz) -> Option<Published> {
    if let Ok(dt) = DateTime::parse_from_str(text, p) {
        return Some(Published::DateTime(dt));
    }
    if let Ok(ndt) = NaiveDateTime::parse_from_str(text, p) {
        return Some(Published::DateTime(localize(ndt, tz)));
    }
    NaiveDate::parse_from_str(text, p)
        .ok()
        .map(|d| Published::Date(d, tz))
}

// ---- English month names --------------------------------------------------------------

#[derive(Debug, PartialEq)]
enum Token<'a> {
    Word(&'a str),
    Number(&'a str),
    Time(&'a str),
    Offset(&'a str),
}

/// Words, numbers, `h:mm[:ss]` times and `+hh[:mm]` offsets; everything else
/// (spaces, commas, dots, slashes, dashes between words) separates.
fn tokens(s: &str) -> Vec<Token<'_>> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        if b.is_ascii_alphabetic() {
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(Token::Word(&s[start..i]));
        } else if b.is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b':') {
                i += 1;
            }
            let t = &s[start..i];
            out.push(if t.contains(':') {
                Token::Time(t)
            } else {
                Token::Number(t)
            });
        } else if (b == b'+' || b == b'-')
            && matches!(
                out.last(),
                Some(Token::Time(_) | Token::Word("utc" | "gmt"))
            )
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b':') {
                i += 1;
            }
            out.push(Token::Offset(&s[start..i]));
        } else if b.is_ascii() {
            i += 1;
        } else {
            // A non-ASCII letter is not part of any English date.
            return Vec::new();
        }
    }
    out
}

/// The number of an English month name, full or three-letter ("sept" too),
/// given lowercase and without a trailing dot.
pub(crate) fn month(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if word == "sept" {
        return Some(9);
    }
    MONTHS
        .iter()
        .position(|m| *m == word || (word.len() == 3 && m.starts_with(word)))
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn is_weekday(word: &str) -> bool {
    matches!(
        word,
        "mon"
            | "monday"
            | "tue"
            | "tues"
            | "tuesday"
            | "wed"
            | "wednesday"
            | "thu"
            | "thur"
            | "thurs"
            | "thursday"
            | "fri"
            | "friday"
            | "sat"
            | "saturday"
            | "sun"
            | "sunday"
    )
}

fn human(text: &str, tz: Tz, anchor: Anchor) -> Option<Published> {
    let lower = text
        .to_ascii_lowercase()
        .replace("a.m.", "am")
        .replace("p.m.", "pm");
    let toks = tokens(&lower);
    let (mut mon, mut day, mut year) = (None, None, None);
    let (mut time, mut meridiem, mut offset) = (None, None, None);
    let mut prev_number = false;
    for t in &toks {
        let was_number = std::mem::replace(&mut prev_number, false);
        match *t {
            Token::Word(w) => {
                if let Some(m) = month(w) {
                    if mon.replace(m).is_some() {
                        return None;
                    }
                } else if w == "am" || w == "pm" {
                    meridiem = Some(w == "pm");
                } else if matches!(w, "utc" | "gmt" | "z") {
                    offset = Some(FixedOffset::east_opt(0)?);
                } else if was_number && matches!(w, "st" | "nd" | "rd" | "th") {
                    // "3rd": the ordinal suffix of the number before.
                } else if !(is_weekday(w)
                    || matches!(
                        w,
                        "at" | "on" | "of" | "the" | "published" | "posted" | "updated"
                    ))
                {
                    return None;
                }
            }
            Token::Number(n) => {
                prev_number = true;
                match n.len() {
                    4 if year.is_none() => year = Some(n.parse::<i32>().ok()?),
                    1 | 2 if day.is_none() => day = Some(n.parse::<u32>().ok()?),
                    _ => return None,
                }
            }
            Token::Time(s) => {
                if time.is_some() {
                    return None;
                }
                time = Some(s);
            }
            Token::Offset(s) => offset = Some(parse_offset(s)?),
        }
    }
    let (mon, day) = (mon?, day?);
    let date = match year {
        Some(y) => NaiveDate::from_ymd_opt(y, mon, day)?,
        None => {
            // "May 20" on a listing: the latest May 20 not after the anchor day.
            let today = anchor.day(tz);
            let this_year = NaiveDate::from_ymd_opt(today.year(), mon, day);
            match this_year {
                Some(d) if d <= today => d,
                _ => NaiveDate::from_ymd_opt(today.year() - 1, mon, day)?,
            }
        }
    };
    let Some(time) = time else {
        return (meridiem.is_none() && offset.is_none()).then_some(Published::Date(date, tz));
    };
    let mut t = parse_time(time)?;
    if let Some(pm) = meridiem {
        let h = chrono::Timelike::hour(&t);
        if !(1..=12).contains(&h) {
            return None;
        }
        let h24 = match (pm, h) {
            (false, 12) => 0,
            (true, 12) => 12,
            (true, h) => h + 12,
            (false, h) => h,
        };
        t = chrono::Timelike::with_hour(&t, h24)?;
    }
    Some(with_offset(date.and_time(t), offset, tz))
}

// ---- relative -------------------------------------------------------------------------

fn relative(text: &str, tz: Tz, anchor: Anchor) -> Option<(Published, Option<u32>)> {
    let lower = text.trim_end_matches('.').to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let today = anchor.day(tz);
    match words.as_slice() {
        ["today"] => return Some((Published::Date(today, tz), None)),
        ["yesterday"] => return Some((Published::Date(today.pred_opt()?, tz), None)),
        ["just", "now"] | ["now"] | ["moments", "ago"] | ["a", "moment", "ago"] => {
            return Some((at_offset(anchor, Duration::zero(), tz), Some(60)));
        }
        _ => {}
    }
    // "[about] N unit ago", "Nunit ago", "a/an unit ago".
    let words = match words.as_slice() {
        ["about" | "around" | "over" | "almost", rest @ ..] => rest,
        all => all,
    };
    let (count, unit) = match words {
        [n, unit, "ago"] => (count(n)?, *unit),
        [nu, "ago"] => {
            let split = nu.find(|c: char| !c.is_ascii_digit())?;
            (nu.get(..split)?.parse::<i64>().ok()?, nu.get(split..)?)
        }
        _ => return None,
    };
    let (per, precision) = match unit {
        "s" | "sec" | "secs" | "second" | "seconds" => (Duration::try_seconds(1)?, 1),
        "m" | "min" | "mins" | "minute" | "minutes" => (Duration::try_minutes(1)?, 60),
        "h" | "hr" | "hrs" | "hour" | "hours" => (Duration::try_hours(1)?, 3600),
        "d" | "day" | "days" => return days_back(today, count, tz).map(|p| (p, None)),
        "w" | "wk" | "wks" | "week" | "weeks" => {
            return days_back(today, count.checked_mul(7)?, tz).map(|p| (p, None));
        }
        _ => return None,
    };
    let back = per.checked_mul(i32::try_from(count).ok()?)?;
    (back <= max_back()).then(|| (at_offset(anchor, back, tz), Some(precision)))
}

fn count(word: &str) -> Option<i64> {
    match word {
        "a" | "an" | "one" => Some(1),
        n => n.parse::<i64>().ok().filter(|n| *n >= 0),
    }
}

/// A listing that says "40000 days ago" is not dating a story.
fn max_back() -> Duration {
    Duration::try_days(366 * 100).unwrap_or(Duration::MAX)
}

fn days_back(today: NaiveDate, n: i64, tz: Tz) -> Option<Published> {
    let back = Duration::try_days(n).filter(|b| *b <= max_back())?;
    Some(Published::Date(today.checked_sub_signed(back)?, tz))
}

/// `back` before the anchor: a date-time for a fetch time, the day for a capture day.
fn at_offset(anchor: Anchor, back: Duration, tz: Tz) -> Published {
    match anchor {
        // Whole seconds: the fetch's nanoseconds say nothing about the story.
        Anchor::Instant(t) => match t.checked_sub_signed(back) {
            Some(when) => Published::DateTime(
                when.with_timezone(&tz)
                    .fixed_offset()
                    .with_nanosecond(0)
                    .unwrap_or(when.fixed_offset()),
            ),
            None => Published::Date(anchor.day(tz), tz),
        },
        Anchor::Day(d) => Published::Date(d, tz),
    }
}

#[cfg(test)]
mod tests;
