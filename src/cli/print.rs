//! What commands print on stdout: a read as a table of items and fields,
//! what an article page gave, a refresh as one line of counts and its
//! warnings and errors.

use std::io::Write;

use crate::adapters::article::{Article, Dated};
use crate::merge::excerpt;

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

fn dated(d: Option<&Dated>) -> String {
    d.map_or("-".to_owned(), |d| {
        format!("{} ({})", d.value.to_display(), d.origin.as_str())
    })
}

/// What the article page at `url` gave: times with their origin, authors,
/// image and the first words of the content; or why it gave nothing.
pub(super) fn print_article(
    out: &mut impl Write,
    url: &str,
    got: &Result<Article, String>,
) -> std::io::Result<()> {
    writeln!(out, "  article {url}")?;
    let a = match got {
        Ok(a) => a,
        Err(e) => return writeln!(out, "     error:     {e}"),
    };
    writeln!(out, "     published: {}", dated(a.published.as_ref()))?;
    writeln!(out, "     updated:   {}", dated(a.updated.as_ref()))?;
    let authors = if a.authors.is_empty() {
        "-".to_owned()
    } else {
        a.authors.join(", ")
    };
    writeln!(out, "     authors:   {authors}")?;
    writeln!(out, "     image:     {}", a.image.as_deref().unwrap_or("-"))?;
    let text = a.content_text.as_deref().unwrap_or_default();
    let words = text.split_whitespace().count();
    let first: Vec<&str> = text.split_whitespace().take(24).collect();
    let first = if first.is_empty() {
        "- (no content found)".to_owned()
    } else {
        format!("{} ... ({words} words)", excerpt(&first.join(" ")))
    };
    writeln!(out, "     content:   {first}")
}

/// [`print_article`] as JSON, for `check --json`.
pub(super) fn article_json(url: &str, got: &Result<Article, String>) -> serde_json::Value {
    let dated = |d: Option<&Dated>| {
        d.map(|d| serde_json::json!({"value": d.value.to_display(), "from": d.origin.as_str()}))
    };
    match got {
        Ok(a) => serde_json::json!({
            "url": url,
            "published": dated(a.published.as_ref()),
            "updated": dated(a.updated.as_ref()),
            "authors": a.authors,
            "image": a.image,
            "content_text": a.content_text,
        }),
        Err(e) => serde_json::json!({"url": url, "error": e}),
    }
}
