//! Drift: a read that departs from its source's own history.
//!
//! *Drift* is what a changed site does to a scraper that still "works": the
//! card selector matches half as many stories, the date selector matches
//! none, the next-page link is gone, the page yields nothing, or a bot wall
//! answers instead. Each read of a source leaves its [`ReadStats`] (cards,
//! how many items filled each field, whether a next page was found) in the
//! store; [`judge`] compares the newest with the recent ones and names every
//! *alarm* that holds. Pure functions: the store keeps the history and the
//! alarms raised, `refresh` wires them. While a drift alarm holds, the
//! read's items are not stored, so stories missing from a broken read are
//! never taken as rolled off; the stored ones stay served.

use serde::Serialize;

use crate::config::Alarms;
use crate::model::Item;
use crate::read::{Read, ReadError};

/// The fields whose fill is counted, in the order [`ReadStats::fields`] keeps them.
pub const FIELDS: [&str; 7] = [
    "title",
    "url",
    "summary",
    "authors",
    "published",
    "tags",
    "image",
];

/// What one read of a source gave, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReadStats {
    /// Cards (items before merging) of every page read.
    pub cards: u32,
    /// How many of them filled each of [`FIELDS`].
    pub fields: [u32; 7],
    /// Did a page link a next page?
    pub pagination: bool,
}

impl ReadStats {
    /// Count what `read` gave.
    pub fn of(read: &Read) -> ReadStats {
        let mut stats = ReadStats {
            cards: u32::try_from(read.items.len()).unwrap_or(u32::MAX),
            pagination: read.pagination,
            ..ReadStats::default()
        };
        for item in &read.items {
            for (n, filled) in filled(item).into_iter().enumerate() {
                stats.fields[n] += u32::from(filled);
            }
        }
        stats
    }

    /// The share of cards that filled field `n` (0 for no cards).
    pub fn share(&self, n: usize) -> f64 {
        if self.cards == 0 {
            return 0.0;
        }
        f64::from(self.fields.get(n).copied().unwrap_or(0)) / f64::from(self.cards)
    }
}

fn filled(item: &Item) -> [bool; 7] {
    [
        !item.title.trim().is_empty(),
        item.url.is_some(),
        item.summary
            .as_deref()
            .is_some_and(|s| !s.trim().is_empty()),
        !item.authors.is_empty(),
        item.published.is_some(),
        !item.tags.is_empty(),
        item.image.is_some(),
    ]
}

/// One condition that holds for a source: `kind` is its key (`cards`,
/// `field:NAME`, `pagination`, or a failed read's stage such as `blocked`,
/// `error_page`, `empty`, `fetch`), `message` says what was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alarm {
    pub kind: String,
    pub message: String,
}

impl Alarm {
    /// Is this drift in a read that gave items? Such a read's items are held
    /// back: storing them would take the missing stories as rolled off (or
    /// store stories without the fields that stopped filling).
    pub fn holds_items(&self) -> bool {
        self.kind == "cards" || self.kind == "pagination" || self.kind.starts_with("field:")
    }

    /// Does the source still serve (degraded) or not (failing)? Drift is
    /// degraded: the read worked, the page changed; a failed page is failing.
    pub fn failing(&self) -> bool {
        !self.holds_items()
    }
}

/// Every alarm that holds for the read `now` (with the pages that failed in
/// it), against `history`: the source's earlier reads that gave cards, oldest
/// first. Drift needs `min_reads` of history; a failed page needs none.
pub fn judge<'a>(
    now: &ReadStats,
    failures: impl IntoIterator<Item = &'a ReadError>,
    history: &[ReadStats],
    t: &Alarms,
) -> Vec<Alarm> {
    let mut out: Vec<Alarm> = Vec::new();
    for e in failures {
        let kind = e.stage.name();
        if !out.iter().any(|a| a.kind == kind) {
            out.push(Alarm {
                kind: kind.to_owned(),
                message: e.message.clone(),
            });
        }
    }
    let recent = &history[history.len().saturating_sub(t.history)..];
    if now.cards == 0 || recent.len() < t.min_reads {
        return out;
    }
    let median_cards = median(recent.iter().map(|r| f64::from(r.cards)));
    if f64::from(now.cards) < median_cards * t.card_drop {
        out.push(Alarm {
            kind: "cards".to_owned(),
            message: format!(
                "the page gave {} cards, against a median of {median_cards} over the last {} reads (do the card selectors still match?)",
                now.cards,
                recent.len()
            ),
        });
    }
    for (n, name) in FIELDS.iter().enumerate() {
        let usual = median(recent.iter().map(|r| r.share(n)));
        let share = now.share(n);
        if usual >= t.field_was && share < t.field_now {
            out.push(Alarm {
                kind: format!("field:{name}"),
                message: format!(
                    "field {name} filled for {} of {} items, usually for {:.0}% (does its selector still match?)",
                    now.fields[n],
                    now.cards,
                    usual * 100.0
                ),
            });
        }
    }
    let last = &recent[recent.len().saturating_sub(t.min_reads)..];
    if t.pagination && !now.pagination && last.iter().all(|r| r.pagination) {
        out.push(Alarm {
            kind: "pagination".to_owned(),
            message: format!(
                "no next page was found, though each of the last {} reads found one (does the next-page selector still match?)",
                last.len()
            ),
        });
    }
    out
}

/// The median of `values` (0 for none).
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Stage;

    fn stats(cards: u32, published: u32, pagination: bool) -> ReadStats {
        ReadStats {
            cards,
            fields: [cards, cards, 0, 0, published, 0, 0],
            pagination,
        }
    }

    fn kinds(alarms: &[Alarm]) -> Vec<&str> {
        alarms.iter().map(|a| a.kind.as_str()).collect()
    }

    #[test]
    fn a_steady_read_raises_nothing() {
        let history = vec![stats(20, 20, true); 5];
        let t = Alarms::default();
        assert!(judge(&stats(19, 19, true), [], &history, &t).is_empty());
    }

    #[test]
    fn fewer_cards_fields_that_stop_filling_and_lost_pagination_are_named() {
        let history = vec![stats(20, 20, true); 5];
        let t = Alarms::default();
        let found = judge(&stats(9, 2, false), [], &history, &t);
        assert_eq!(kinds(&found), ["cards", "field:published", "pagination"]);
        assert!(
            found[0].message.contains("median of 20"),
            "{}",
            found[0].message
        );
        // Exactly half is not "more than half".
        assert!(kinds(&judge(&stats(10, 10, true), [], &history, &t)).is_empty());
    }

    #[test]
    fn drift_waits_for_history_but_failures_do_not() {
        let t = Alarms::default();
        let short = vec![stats(20, 20, true); 2];
        assert!(judge(&stats(1, 0, false), [], &short, &t).is_empty());
        let wall = ReadError {
            source_name: "s".into(),
            stage: Stage::Blocked,
            message: "blocked by a bot wall at http://x/".into(),
            retry_after: None,
        };
        let found = judge(&ReadStats::default(), [&wall], &[], &t);
        assert_eq!(kinds(&found), ["blocked"]);
        assert!(found[0].failing());
    }

    #[test]
    fn thresholds_come_from_the_config() {
        let history = vec![stats(20, 20, false); 5];
        let t = Alarms {
            card_drop: 0.9,
            ..Alarms::default()
        };
        assert_eq!(
            kinds(&judge(&stats(17, 17, false), [], &history, &t)),
            ["cards"]
        );
    }
}
