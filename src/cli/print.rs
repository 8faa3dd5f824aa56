//! What commands print on stdout: a read as a table of items and fields,
//! a refresh as one line of counts and its warnings and errors.

use std::io::Write;

use crate::read::Read;
use crate::refresh::RefreshOutcome;

pub(super) fn print_table(
    out: &mut impl Write,
    read: &Read,
    problems: &[String],
) -> std::io::Result<()> {
    writeln!(
        out,
        "== source {} — {} items from {} page(s)",
        read.source,
        read.items.len(),
        read.pages_read()
    )?;
    for (n, item) in read.items.iter().enumerate() {
        let names = |v: Vec<&str>| {
            if v.is_empty() {
                "-".to_owned()
            } else {
                v.join(", ")
            }
        };
        writeln!(out, "{:>3}. {}", n + 1, item.title)?;
        writeln!(
            out,
            "     url:       {}",
            item.url.as_deref().unwrap_or("-")
        )?;
        writeln!(
            out,
            "     published: {}",
            item.published
                .map_or("- (no date)".to_owned(), |p| p.to_display())
        )?;
        writeln!(
            out,
            "     authors:   {}",
            names(item.authors.iter().map(|a| a.name.as_str()).collect())
        )?;
        writeln!(
            out,
            "     tags:      {}",
            names(item.tags.iter().map(|t| t.name.as_str()).collect())
        )?;
        writeln!(
            out,
            "     image:     {}",
            item.image.as_deref().unwrap_or("-")
        )?;
        writeln!(
            out,
            "     summary:   {}",
            item.summary.as_deref().unwrap_or("-")
        )?;
    }
    if read.items.is_empty() {
        writeln!(out, "     (no items)")?;
    }
    for w in &read.warnings {
        writeln!(out, "  warning: {w}")?;
    }
    for e in read.errors() {
        writeln!(out, "  error ({}): {e}", e.stage.name())?;
    }
    for p in problems {
        writeln!(out, "  error: {p}")?;
    }
    writeln!(out)
}

pub(super) fn print_outcome(out: &mut impl Write, o: &RefreshOutcome) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {} page(s) read, {} not modified; {} new, {} updated, {} unchanged, {} removed; {} warning(s), {} error(s)",
        o.source,
        o.pages,
        o.not_modified,
        o.stats.new,
        o.stats.updated,
        o.stats.unchanged,
        o.removed,
        o.warnings.len(),
        o.errors.len()
    )?;
    for w in &o.warnings {
        writeln!(out, "  warning: {w}")?;
    }
    for e in &o.errors {
        writeln!(out, "  error: {e}")?;
    }
    Ok(())
}
