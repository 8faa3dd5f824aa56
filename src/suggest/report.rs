//! The *report*: what a suggestion prints besides its block - the yield
//! (item count, per-field fill counts, samples, warnings) and, with `--all`,
//! the ranked candidates with why each scored as it did. All of it is TOML
//! comments, so the whole output is a config that loads.

use std::fmt::Write as _;

use super::rank::Candidate;
use crate::adapters::Listing;

/// Per-field fill counts of what the block yields, as comments.
pub(crate) fn write_yield(out: &mut String, l: &Listing) {
    let n = l.items.len();
    let c = |p: &dyn Fn(&crate::model::Item) -> bool| l.items.iter().filter(|i| p(i)).count();
    let _ = writeln!(out, "# yields {n} items");
    let _ = writeln!(
        out,
        "#   title {n}/{n}, url {}/{n}, summary {}/{n}, authors {}/{n}, published {}/{n}, image {}/{n}, tags {}/{n}",
        c(&|i| i.url.is_some()),
        c(&|i| i.summary.is_some()),
        c(&|i| !i.authors.is_empty()),
        c(&|i| i.published.is_some()),
        c(&|i| i.image.is_some()),
        c(&|i| !i.tags.is_empty()),
    );
    if let Some(next) = &l.next_page {
        let _ = writeln!(out, "#   next page: {next}");
    }
    for item in l.items.iter().take(3) {
        let authors: Vec<&str> = item.authors.iter().map(|a| a.name.as_str()).collect();
        let date = item.published.map(|p| p.to_display()).unwrap_or_default();
        let _ = writeln!(
            out,
            "#   - {} | {} | {} | {}",
            item.title,
            authors.join(", "),
            date,
            item.url.as_deref().unwrap_or("")
        );
    }
    for w in &l.warnings {
        let _ = writeln!(out, "#   warning: {w}");
    }
}

/// The ranked candidates with why each scored as it did, as comments.
pub(crate) fn write_alternatives(out: &mut String, ranked: &[Candidate]) {
    let _ = writeln!(out, "#\n# candidates, best first:");
    for (i, c) in ranked.iter().enumerate() {
        let state = match &c.rejected {
            Some(why) => format!("rejected: {why}"),
            None => format!("{} items", c.listing.items.len()),
        };
        let _ = writeln!(
            out,
            "# {:>2}. {} (score {:.2}): {state}",
            i + 1,
            c.label,
            c.score
        );
        if !c.reasons.is_empty() {
            let _ = writeln!(out, "#     {}", c.reasons.join("; "));
        }
    }
}
