//! The merger: many copies of stories in, one ordered list of stories out.
//!
//! A *copy* is one item as one page, snapshot or source showed it. Copies of
//! the same story are found by canonical url, or — for copies without a url,
//! such as text dumps — by normalized title and day. Each story's copies fold
//! into one item that keeps what every copy adds (tags, the longer summary, a
//! url, a precise time, authors). The result is ordered newest day first and,
//! within a day, in listing order.
//!
//! Everything here is a pure function of the *set* of copies: the same copies
//! in any order give the same items, and merging a merged list changes nothing.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use crate::adapters::article::Article;
use crate::config::{Config, Location, SourceKind};
use crate::model::{Item, Person, Published, item_id, title_key};
use crate::urls::{Canonicalizer, canonicalize};

/// How to merge: which query parameters are tracking noise, and which host each
/// source publishes on (its copies are the originals for urls on that host).
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    pub canonicalizer: Canonicalizer,
    /// Source name -> the hosts it is the origin site of.
    pub origin_hosts: BTreeMap<String, Vec<String>>,
}

/// Dedupe, fold and order `copies`. Output ids are final: the canonical url,
/// or the title-and-day hash for stories no copy gives a url for.
pub fn merge(copies: Vec<Item>, options: &MergeOptions) -> Vec<Item> {
    // 1. Canonical url of every copy.
    let copies: Vec<(Option<String>, Item)> = copies
        .into_iter()
        .map(|item| {
            let canonical = item
                .url
                .as_deref()
                .and_then(|u| canonicalize(u, &options.canonicalizer));
            (canonical, item)
        })
        .collect();

    // 2. Group: by canonical url; url-less copies join the url group whose
    //    title and day they share (the smallest url, if several), else each other.
    let mut by_url: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    let mut urlless: Vec<Item> = Vec::new();
    for (canonical, item) in copies {
        match canonical {
            Some(u) => by_url.entry(u).or_default().push(item),
            None => urlless.push(item),
        }
    }
    let mut url_by_title: BTreeMap<String, String> = BTreeMap::new();
    for (url, group) in &by_url {
        for item in group {
            url_by_title
                .entry(title_key(&item.title, item.day()))
                .or_insert_with(|| url.clone());
        }
    }
    let mut by_title: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    for item in urlless {
        let key = title_key(&item.title, item.day());
        match url_by_title.get(&key) {
            Some(url) => by_url.entry(url.clone()).or_default().push(item),
            None => by_title.entry(key).or_default().push(item),
        }
    }

    // 3. Fold each group into one item.
    let mut merged: Vec<Item> = by_url
        .into_iter()
        .map(|(url, group)| fold(group, Some(url), options))
        .chain(
            by_title
                .into_values()
                .map(|group| fold(group, None, options)),
        )
        .collect();

    // 4. Order.
    merged.sort_by(feed_order);
    merged
}

/// Fold the copies of one story, as the store has grouped them (by canonical
/// url, or title and day), with the same rule [`merge`] applies: the store and
/// an in-memory merge give the same story. `None` for no copies.
pub fn fold_story(copies: Vec<Item>, options: &MergeOptions) -> Option<Item> {
    if copies.is_empty() {
        return None;
    }
    let canonical = copies
        .iter()
        .filter_map(|c| c.url.as_deref())
        .filter_map(|u| canonicalize(u, &options.canonicalizer))
        .min();
    Some(fold(copies, canonical, options))
}

/// The merge options a config implies: its tracking parameters, and each
/// source's origin hosts (its `link`, and its live input urls for page
/// sources; an aggregated feed is not the origin of the stories it links to).
pub fn options(config: &Config) -> MergeOptions {
    let mut options = MergeOptions {
        canonicalizer: Canonicalizer::with_extra(&config.tracking_params),
        ..MergeOptions::default()
    };
    for source in &config.sources {
        let mut hosts: Vec<String> = Vec::new();
        let mut add = |u: &url::Url| {
            if let Some(h) = u.host_str()
                && !hosts.iter().any(|x| x == h)
            {
                hosts.push(h.to_owned());
            }
        };
        if let Some(l) = &source.link {
            add(l);
        }
        if source.kind != SourceKind::Feed {
            for input in &source.inputs {
                if let Some(u) = input.page_url.as_ref().or(match &input.location {
                    Location::Http(u) => Some(u),
                    Location::File(_) => None,
                }) {
                    add(u);
                }
            }
        }
        options.origin_hosts.insert(source.name.clone(), hosts);
    }
    options
}

/// Feed order: newest day first; within a day, listing order (a listing is
/// newest first, and many pages give only a date); then time, source and id so
/// the order is total and never depends on input order. Undated items last.
pub fn feed_order(a: &Item, b: &Item) -> Ordering {
    let day = |i: &Item| i.day();
    match (day(a), day(b)) {
        (Some(x), Some(y)) => y.cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
    .then(a.position.cmp(&b.position))
    .then_with(|| {
        let t = |i: &Item| i.published.as_ref().map(Published::instant);
        t(b).cmp(&t(a))
    })
    .then_with(|| a.source.cmp(&b.source))
    .then_with(|| a.id.cmp(&b.id))
}

/// Fold the copies of one story. The *primary* copy — from the source whose
/// site the url is on, else the most complete — gives title, link and byline
/// (a roundup linking to a story does not make its editor the author); the
/// others fill what it lacks.
fn fold(mut group: Vec<Item>, canonical: Option<String>, options: &MergeOptions) -> Item {
    let host = canonical
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_owned));
    let is_origin = |item: &Item| {
        host.as_ref().is_some_and(|h| {
            options
                .origin_hosts
                .get(&item.source)
                .is_some_and(|hosts| hosts.iter().any(|o| o == h))
        })
    };
    let rank = |item: &Item| {
        (
            !is_origin(item),
            item.url.is_none(),
            !matches!(item.published, Some(Published::DateTime(_))),
            item.authors.is_empty(),
        )
    };
    group.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then_with(|| a.source.cmp(&b.source))
            .then(a.position.cmp(&b.position))
            .then_with(|| content_order(a, b))
    });

    let mut iter = group.into_iter();
    let mut out = iter.next().expect("a group has at least one copy");
    let mut also_in: BTreeSet<String> = out.also_in.drain(..).collect();
    for other in iter {
        also_in.insert(other.source.clone());
        also_in.extend(other.also_in.iter().cloned());
        if out.authors.is_empty() {
            out.authors = other.authors;
        }
        let mut seen: BTreeSet<String> = out.tags.iter().map(|t| t.slug.clone()).collect();
        for tag in other.tags {
            if seen.insert(tag.slug.clone()) {
                out.tags.push(tag);
            }
        }
        out.summary = match (out.summary.take(), other.summary) {
            (Some(a), Some(b)) if b.chars().count() > a.chars().count() => Some(b),
            (Some(a), _) => Some(a),
            (None, b) => b,
        };
        match (&out.published, other.published) {
            (None, p) => out.published = p,
            (Some(Published::Date(d, _)), Some(Published::DateTime(dt)))
                if dt.date_naive() == *d =>
            {
                out.published = Some(Published::DateTime(dt));
            }
            _ => {}
        }
        out.updated = out.updated.max(other.updated);
        if out.image.is_none() {
            out.image = other.image;
        }
    }
    also_in.remove(&out.source);
    out.also_in = also_in.into_iter().collect();
    out.url = canonical.clone().or(out.url);
    out.id = item_id(canonical.as_deref(), &out.title, out.day());
    out
}

/// Fold what the story's article page gave into the story, where it is
/// better than the listings': an exact publication instant beats a date, a
/// relative time or none; a modification time fills a missing one; the
/// article's authors beat none, and a byline that names every listed author
/// and more; its image fills a missing one; its content is the story's full
/// text. Everything else stays the listings'. Pure, and idempotent.
pub fn with_article(story: &mut Item, article: &Article) {
    if let Some(p) = article.published.map(|d| d.value) {
        let better = match (&story.published, p) {
            (None, _) => true,
            (Some(Published::Date(..)), Published::DateTime(_)) => true,
            // A relative time ("3 hours ago") is good to its precision only.
            (Some(Published::DateTime(_)), Published::DateTime(_)) => {
                story.published_precision.is_some()
            }
            _ => false,
        };
        if better {
            story.published = Some(p);
            story.published_precision = None;
        }
    }
    if story.updated.is_none() {
        story.updated = article.updated.map(|d| d.value.instant());
    }
    let listed: BTreeSet<String> = story
        .authors
        .iter()
        .map(|a| a.name.to_lowercase())
        .collect();
    let named: BTreeSet<String> = article.authors.iter().map(|a| a.to_lowercase()).collect();
    if !article.authors.is_empty() && listed.is_subset(&named) && named.len() > listed.len() {
        story.authors = article.authors.iter().map(|a| Person::new(a)).collect();
    }
    if story.image.is_none() {
        story.image.clone_from(&article.image);
    }
    if article.content_html.is_some() {
        story.content.clone_from(&article.content_html);
    }
    if story.summary.is_none() {
        story.summary = article.content_text.as_deref().map(excerpt);
    }
}

/// The first words of a text, about a paragraph's worth, cut at a word.
pub fn excerpt(text: &str) -> String {
    const MAX: usize = 300;
    let first = text.split("\n\n").next().unwrap_or(text).trim();
    if first.chars().count() <= MAX {
        return first.to_owned();
    }
    let cut: String = first.chars().take(MAX).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a);
    format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']))
}

/// A last, total tie-break between copies that rank the same, so the primary
/// never depends on input order.
fn content_order(a: &Item, b: &Item) -> Ordering {
    a.title
        .cmp(&b.title)
        .then_with(|| a.summary.cmp(&b.summary))
        .then_with(|| a.url.cmp(&b.url))
        .then_with(|| {
            let names = |i: &Item| i.authors.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
            names(a).cmp(&names(b))
        })
        .then_with(|| {
            let tags = |i: &Item| i.tags.iter().map(|t| t.slug.clone()).collect::<Vec<_>>();
            tags(a).cmp(&tags(b))
        })
        .then_with(|| {
            a.published
                .map(|p| p.to_display())
                .cmp(&b.published.map(|p| p.to_display()))
        })
        .then_with(|| a.image.cmp(&b.image))
        .then_with(|| a.updated.cmp(&b.updated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Person, Tag};
    use chrono::{DateTime, NaiveDate};

    fn item(source: &str, pos: u32, title: &str, url: Option<&str>, day: (i32, u32, u32)) -> Item {
        let mut i = Item::new(source, pos, title.into(), url.map(Into::into));
        i.published = Some(Published::Date(
            NaiveDate::from_ymd_opt(day.0, day.1, day.2).unwrap(),
            chrono_tz::Asia::Seoul,
        ));
        i.refresh_id();
        i
    }

    #[test]
    fn same_url_after_canonicalization_is_one_item_with_tags_unioned() {
        let mut a = item(
            "site",
            0,
            "Story",
            Some("https://a.example/s/"),
            (2022, 5, 20),
        );
        a.tags.push(Tag::new("NK PRO"));
        a.authors.push(Person::new("Ifang Bremer"));
        let mut b = item(
            "roundup",
            3,
            "Story",
            Some("https://A.example/s/?utm_source=x&utm_medium=rss#c"),
            (2022, 5, 20),
        );
        b.tags.push(Tag::new("Diplomacy"));
        b.authors.push(Person::new("Daniel Reyes"));
        b.summary = Some("A longer summary from the roundup".into());
        let mut options = MergeOptions::default();
        options
            .origin_hosts
            .insert("site".into(), vec!["a.example".into()]);
        let out = merge(vec![b.clone(), a.clone()], &options);
        assert_eq!(out.len(), 1);
        let m = &out[0];
        assert_eq!(m.url.as_deref(), Some("https://a.example/s/"));
        assert_eq!(m.id, "https://a.example/s/");
        assert_eq!(m.source, "site");
        assert_eq!(m.also_in, ["roundup"]);
        assert_eq!(m.authors, vec![Person::new("Ifang Bremer")]);
        assert_eq!(m.tags, vec![Tag::new("NK PRO"), Tag::new("Diplomacy")]);
        assert_eq!(
            m.summary.as_deref(),
            Some("A longer summary from the roundup")
        );
        assert_eq!(merge(vec![a, b], &options), out);
    }

    #[test]
    fn urlless_copy_joins_the_copy_with_a_url_and_gains_precision() {
        let text = item("dump", 2, "Kim’s ‘plan’", None, (2022, 5, 20));
        let mut html = item(
            "page",
            2,
            "Kim's 'plan'",
            Some("https://a.example/k"),
            (2022, 5, 20),
        );
        html.published = Some(Published::DateTime(
            DateTime::parse_from_rfc3339("2022-05-20T17:29:05+09:00").unwrap(),
        ));
        let out = merge(vec![text, html], &MergeOptions::default());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].url.as_deref(), Some("https://a.example/k"));
        assert!(matches!(out[0].published, Some(Published::DateTime(_))));
    }

    #[test]
    fn same_title_on_another_day_is_another_story() {
        let a = item("dump", 0, "Weekly roundup", None, (2022, 5, 20));
        let b = item("dump", 0, "Weekly roundup", None, (2022, 5, 27));
        assert_eq!(merge(vec![a, b], &MergeOptions::default()).len(), 2);
    }

    #[test]
    fn newest_day_first_then_listing_order() {
        let items = vec![
            item("s", 2, "c", None, (2022, 5, 20)),
            item("s", 0, "a", None, (2022, 5, 21)),
            item("s", 1, "b", None, (2022, 5, 20)),
            item("s", 3, "d", None, (2022, 5, 19)),
        ];
        let out = merge(items, &MergeOptions::default());
        let titles: Vec<_> = out.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["a", "b", "c", "d"]);
    }

    #[test]
    fn an_article_overrides_the_listing_only_where_it_is_better() {
        use crate::adapters::article::{Article, DateOrigin, Dated};
        let exact = DateTime::parse_from_rfc3339("2022-05-20T08:29:05Z").unwrap();
        let dated = |value| Dated {
            value,
            origin: DateOrigin::JsonLd,
        };
        let article = Article {
            published: Some(dated(Published::DateTime(exact))),
            updated: Some(dated(Published::DateTime(
                exact + chrono::Duration::hours(2),
            ))),
            authors: vec!["A".into(), "B".into()],
            image: Some("https://x.example/a.jpg".into()),
            content_html: Some("<p>Full</p>".into()),
            content_text: Some("Full".into()),
        };
        // A date-only listing copy with one of the two authors and no image.
        let mut story = item("nk", 0, "T", Some("https://x.example/t"), (2022, 5, 20));
        story.authors = vec![Person::new("A")];
        with_article(&mut story, &article);
        assert_eq!(story.published, Some(Published::DateTime(exact)));
        assert_eq!(story.updated, Some(exact + chrono::Duration::hours(2)));
        let names: Vec<_> = story.authors.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["A", "B"]);
        assert_eq!(story.image.as_deref(), Some("https://x.example/a.jpg"));
        assert_eq!(story.content.as_deref(), Some("<p>Full</p>"));
        let once = story.clone();
        with_article(&mut story, &article);
        assert_eq!(story, once, "idempotent");

        // An exact listing time, other authors and an image stay the listing's.
        let listed = DateTime::parse_from_rfc3339("2022-05-20T17:00:00+09:00").unwrap();
        let mut story = item("nk", 0, "T", Some("https://x.example/t"), (2022, 5, 20));
        story.published = Some(Published::DateTime(listed));
        story.authors = vec![Person::new("C")];
        story.image = Some("https://x.example/listing.jpg".into());
        with_article(&mut story, &article);
        assert_eq!(story.published, Some(Published::DateTime(listed)));
        assert_eq!(story.authors[0].name, "C");
        assert_eq!(
            story.image.as_deref(),
            Some("https://x.example/listing.jpg")
        );
    }

    #[test]
    fn excerpts_cut_at_a_word() {
        assert_eq!(excerpt("Short.\n\nSecond."), "Short.");
        let long = "word ".repeat(100);
        let e = excerpt(&long);
        assert!(e.ends_with('…') && e.chars().count() <= 301, "{e}");
    }
}
