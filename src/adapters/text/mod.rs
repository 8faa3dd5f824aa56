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

mod lines;

use lines::{Byline, Kind, Line, decode, names, split_lines, strip_by};

use super::{AdapterError, Listing, Page};
use crate::config::SourceConfig;
use crate::model::{Item, Person, Published, Tag, normalize_title};

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
mod tests;
