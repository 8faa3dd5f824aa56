//! A *candidate* is one way to read a page's listing, written as a block and
//! read back through the adapters; ranking orders them by trust (a linked
//! feed, JSON-LD, microformats, framework JSON, then cards) among those that
//! yield about as many stories as the best cards do, and by score within a
//! kind. Two card lists that are both stories become one block.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use scraper::{Html, Selector};
use url::Url;

use super::block::{self, Head, HtmlPlan, Input, Plan, Sel};
use super::fields::{self, Finding};
use super::plan::{microformats, plan_for, timezone_hint, union};
use super::{Target, cards, framework, score, yield_of};
use crate::adapters::Listing;

/// Kinds of candidates, most trusted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Family {
    Feed,
    JsonLd,
    Microformats,
    Framework,
    Cards,
}

#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) family: Family,
    pub(crate) label: String,
    pub(crate) score: f64,
    pub(crate) reasons: Vec<String>,
    /// Why it cannot be the suggestion.
    pub(crate) rejected: Option<String>,
    pub(crate) block: String,
    pub(crate) listing: Listing,
    /// What the block was written from, and its time zone line, for the editor.
    pub(crate) plan: Option<Plan>,
    pub(crate) timezone: Option<(String, String)>,
}

impl Candidate {
    pub(crate) fn usable(&self) -> bool {
        self.rejected.is_none() && !self.listing.items.is_empty()
    }
}

/// Card groups read through the adapter at most: reading is the costly part.
const MAX_READ_GROUPS: usize = 4;
/// Card groups whose fields are looked for, by a cheap first count.
const MAX_SCORED_GROUPS: usize = 16;

fn parse(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

/// Feeds the page links (`<link rel="alternate">`), the listing's own first:
/// comment feeds are left out.
pub(crate) fn linked_feeds(
    bytes: &[u8],
    content_type: Option<&str>,
    base: Option<&Url>,
) -> Vec<Url> {
    let text = crate::adapters::decode::decode_html(bytes, content_type).text;
    feeds_in(&Html::parse_document(&text), base)
}

fn feeds_in(doc: &Html, base: Option<&Url>) -> Vec<Url> {
    let Some(sel) = parse("link[rel~=\"alternate\"][href]") else {
        return Vec::new();
    };
    let mut out: Vec<Url> = Vec::new();
    for l in doc.select(&sel) {
        let ty = l.value().attr("type").unwrap_or("").to_ascii_lowercase();
        let title = l.value().attr("title").unwrap_or("").to_ascii_lowercase();
        let is_feed = ["rss+xml", "atom+xml", "feed+json"]
            .iter()
            .any(|t| ty.contains(t));
        if !is_feed || title.contains("comment") {
            continue;
        }
        let url = l
            .value()
            .attr("href")
            .and_then(|h| crate::urls::resolve(base, h))
            .and_then(|u| Url::parse(&u).ok());
        if let Some(u) = url.filter(|u| !out.contains(u)) {
            out.push(u);
        }
    }
    // The feed under the page's own path (a category's feed) before the site's.
    let path = base.map_or("", Url::path);
    out.sort_by_key(|u| std::cmp::Reverse(common_prefix(u.path(), path)));
    out
}

/// The url a saved page names for itself: `<link rel="canonical">`, else `og:url`.
pub(crate) fn own_url(bytes: &[u8]) -> Option<Url> {
    let text = crate::adapters::decode::decode_html(bytes, None).text;
    let doc = Html::parse_document(&text);
    [
        ("link[rel~=\"canonical\"][href]", "href"),
        ("meta[property=\"og:url\"][content]", "content"),
    ]
    .iter()
    .find_map(|(css, attr)| {
        let sel = parse(css)?;
        let found = doc.select(&sel).find_map(|e| e.value().attr(attr))?;
        Url::parse(found.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
    })
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

/// Every candidate for `target`, best first; `Err` for a page too deeply
/// nested to parse (a hostile page must not stall the editor).
pub(crate) fn rank(target: &Target<'_>, now: DateTime<Utc>) -> Result<Vec<Candidate>, String> {
    let text = crate::adapters::decode::decode_html(target.bytes, target.content_type).text;
    crate::adapters::layout::dom_depth_ok(&text)?;
    let doc = Html::parse_document(&text);
    let base = target.input.page_url();
    let name = block::source_name(&target.input);
    let read =
        |plan: &Plan, timezone: Option<(String, String)>| -> (String, Result<Listing, String>) {
            let head = Head {
                name: &name,
                input: &target.input,
                timezone,
                notes: &[],
            };
            let text = block::write(&head, plan);
            let got = yield_of(
                &text,
                target.bytes,
                target.content_type,
                &target.input,
                base,
                now,
            );
            (text, got.map(|y| y.listing))
        };
    let mut out = Vec::new();
    // A JSON body is an API: its arrays are the only candidates.
    if text.trim_start().starts_with(['{', '[']) {
        for f in framework::find_in_body(&text).into_iter().take(3) {
            let plan = Plan::Json(f.plan);
            let (block, got) = read(&plan, None);
            let label = format!("JSON API: {}", f.label);
            let c = candidate(Family::Framework, label, f.reasons, block, got);
            out.push(with_plan(c, plan, None));
        }
        out.sort_by(|a, b| {
            (!a.usable())
                .cmp(&!b.usable())
                .then(b.score.total_cmp(&a.score))
        });
        return Ok(out);
    }
    feed_candidates(target, &doc, base, &name, now, &mut out);

    let (cards, card_plans) = card_candidates(&doc, base, &read);
    let best_cards = card_plans.first().cloned();

    // JSON-LD: the html adapter reads it first; the best cards are its fallback.
    if let Some(sel) = parse(r#"script[type="application/ld+json" i]"#) {
        let scripts: Vec<String> = doc.select(&sel).map(|s| s.text().collect()).collect();
        let mut notes = Vec::new();
        let n = crate::adapters::jsonld::cards(&scripts, &mut notes)
            .iter()
            .filter(|c| c.title.is_some() && c.url.is_some())
            .count();
        if n >= 2 {
            let mut plan = best_cards.clone().unwrap_or_else(|| HtmlPlan {
                item: "article".to_owned(),
                title: Some(Sel::css("h1, h2, h3")),
                ..HtmlPlan::default()
            });
            plan.jsonld_first = true;
            let plan = Plan::Html(plan);
            let (block, got) = read(&plan, None);
            let c = candidate(
                Family::JsonLd,
                "schema.org JSON-LD articles".to_owned(),
                vec![format!("{n} articles in the page's JSON-LD")],
                block,
                got,
            );
            out.push(with_plan(c, plan, None));
        }
    }
    if let Some(plan) = microformats(&doc) {
        let plan = Plan::Html(plan);
        let (block, got) = read(&plan, None);
        let c = candidate(
            Family::Microformats,
            "microformats2 h-entry".to_owned(),
            vec!["h-entry elements with p-name / u-url".to_owned()],
            block,
            got,
        );
        out.push(with_plan(c, plan, None));
    }
    for f in framework::find(&doc, base).into_iter().take(3) {
        let plan = Plan::Json(f.plan);
        let (block, got) = read(&plan, None);
        let c = candidate(
            Family::Framework,
            format!("framework JSON {}", f.label),
            f.reasons,
            block,
            got,
        );
        out.push(with_plan(c, plan, None));
    }
    out.extend(cards);

    let most_cards = out
        .iter()
        .filter(|c| c.family == Family::Cards && c.usable())
        .map(|c| c.listing.items.len())
        .max()
        .unwrap_or(0);
    // Trusted kinds lead only if they hold about as many stories as the cards.
    let covers = |c: &Candidate| c.listing.items.len() * 5 >= most_cards * 4;
    out.sort_by(|a, b| {
        let key = |c: &Candidate| (!c.usable(), !covers(c), c.family);
        key(a).cmp(&key(b)).then(b.score.total_cmp(&a.score))
    });
    Ok(out)
}

fn candidate(
    family: Family,
    label: String,
    reasons: Vec<String>,
    block: String,
    got: Result<Listing, String>,
) -> Candidate {
    let (listing, rejected) = match got {
        Ok(l) if l.items.is_empty() => (l, Some("the block yields no items".to_owned())),
        Ok(l) => (l, None),
        Err(e) => (Listing::default(), Some(e)),
    };
    let score = fill_score(&listing);
    Candidate {
        family,
        label,
        score,
        reasons,
        rejected,
        block,
        listing,
        plan: None,
        timezone: None,
    }
}

fn with_plan(c: Candidate, plan: Plan, timezone: Option<(String, String)>) -> Candidate {
    Candidate {
        plan: Some(plan),
        timezone,
        ..c
    }
}

/// How fully a listing's items are filled, on the cards' scale.
fn fill_score(l: &Listing) -> f64 {
    let n = l.items.len().max(1) as f64;
    let c = |p: &dyn Fn(&crate::model::Item) -> bool| {
        l.items.iter().filter(|i| p(i)).count() as f64 / n
    };
    3.0 + 1.5 * c(&|i| i.published.is_some())
        + c(&|i| !i.authors.is_empty())
        + c(&|i| i.image.is_some())
        + c(&|i| i.summary.is_some())
}

fn feed_candidates(
    target: &Target<'_>,
    doc: &Html,
    base: Option<&Url>,
    name: &str,
    now: DateTime<Utc>,
    out: &mut Vec<Candidate>,
) {
    for url in feeds_in(doc, base) {
        let input = Input::Url(url.clone());
        let head = Head {
            name,
            input: &input,
            timezone: None,
            notes: &[],
        };
        let text = block::write(&head, &Plan::Feed(url.clone()));
        let label = format!("linked feed {url}");
        match target.feeds.iter().find(|(u, _)| *u == url) {
            Some((_, body)) => {
                let got = yield_of(&text, body, None, &input, Some(&url), now).map(|y| y.listing);
                let c = candidate(
                    Family::Feed,
                    label,
                    vec!["the page links it as rel=alternate".to_owned()],
                    text,
                    got,
                );
                out.push(with_plan(c, Plan::Feed(url.clone()), None));
            }
            None => out.push(Candidate {
                family: Family::Feed,
                label,
                score: 0.0,
                reasons: vec!["the page links it as rel=alternate".to_owned()],
                rejected: Some(
                    "not checked: linked feeds are fetched only when suggest is given a url"
                        .to_owned(),
                ),
                block: text,
                listing: Listing::default(),
                plan: Some(Plan::Feed(url.clone())),
                timezone: None,
            }),
        }
    }
}

/// How many headline links (3+ words, not share buttons) each element holds.
fn headline_counts(doc: &Html) -> std::collections::HashMap<ego_tree::NodeId, usize> {
    let mut counts = std::collections::HashMap::new();
    let Some(sel) = parse("a[href]") else {
        return counts;
    };
    let headings = parse("h1, h2, h3, h4, h5, h6");
    // A heading without a link of its own counts too (an overlay link carries the url).
    let bare_headings = headings
        .iter()
        .flat_map(|h| doc.select(h))
        .filter(|h| h.select(&sel).next().is_none());
    for a in doc.select(&sel).chain(bare_headings) {
        let dead =
            a.value().name() == "a" && a.value().attr("href").is_some_and(fields::is_share_or_dead);
        if dead || fields::text(a).split_whitespace().count() < 3 {
            continue;
        }
        for id in std::iter::once(a.id()).chain(a.ancestors().map(|n| n.id())) {
            *counts.entry(id).or_insert(0) += 1;
        }
    }
    counts
}

/// A scored group's members and findings.
type Part<'p, 'a> = (&'p [scraper::ElementRef<'a>], &'p [Finding<'a>]);

type Reader<'r> = dyn Fn(&Plan, Option<(String, String)>) -> (String, Result<Listing, String>) + 'r;

/// Card groups as candidates, best first, with the plans of the accepted ones.
fn card_candidates(
    doc: &Html,
    base: Option<&Url>,
    read: &Reader<'_>,
) -> (Vec<Candidate>, Vec<HtmlPlan>) {
    let counts = headline_counts(doc);
    let mut groups: Vec<(f64, cards::Group)> = cards::groups(doc)
        .into_iter()
        .filter_map(|g| {
            let n = g.members.len();
            let per: Vec<usize> = g
                .members
                .iter()
                .map(|m| counts.get(&m.id()).copied().unwrap_or(0))
                .collect();
            let with = per.iter().filter(|c| **c > 0).count();
            let mut sorted = per.clone();
            sorted.sort_unstable();
            // One story per card: a container of many cards is not a card.
            (with * 2 >= n && sorted.get(n / 2).is_some_and(|m| *m <= 3))
                .then(|| (with as f64 * (with as f64 / n as f64), g))
        })
        .collect();
    groups.sort_by(|a, b| b.0.total_cmp(&a.0));
    groups.truncate(MAX_SCORED_GROUPS);
    let menu = score::menu_depth(doc, base);

    struct Scored<'a> {
        group: cards::Group<'a>,
        found: Vec<Finding<'a>>,
        score: score::Score,
    }
    let mut scored: Vec<Scored> = groups
        .into_iter()
        .map(|(_, group)| {
            let found: Vec<Finding> = group.members.iter().map(|m| fields::find(*m)).collect();
            let mut score = score::score(&group, &found, base, menu);
            if cards::words(&group.selector).any(|w| {
                ["post", "card", "entry", "story", "article", "teaser"].contains(&w.as_str())
            }) {
                score.value += 0.05;
            }
            Scored {
                group,
                found,
                score,
            }
        })
        .collect();
    scored.sort_by(|a, b| b.score.value.total_cmp(&a.score.value));

    let mut out = Vec::new();
    let mut plans: Vec<(HtmlPlan, usize, usize)> = Vec::new();
    let mut accepted: Vec<(usize, HashSet<String>)> = Vec::new();
    for (i, s) in scored.iter().enumerate() {
        let urls: HashSet<String> = score::urls(&s.found, base).into_iter().collect();
        let mut rejected = s.score.rejected.clone();
        if rejected.is_none() {
            for (j, their) in &accepted {
                let other = &scored[*j];
                if score::overlaps(&s.group.members, &other.group.members) {
                    rejected = Some(format!(
                        "the same cards as {:?}, which scores higher",
                        other.group.selector
                    ));
                } else if !urls.is_empty() && urls.is_subset(their) {
                    rejected = Some(format!(
                        "repeats stories of {:?} (a rail such as \"most read\")",
                        other.group.selector
                    ));
                }
                if rejected.is_some() {
                    break;
                }
            }
        }
        if rejected.is_none() && accepted.len() >= MAX_READ_GROUPS {
            rejected = Some(format!("not read: scored below the best {MAX_READ_GROUPS}"));
        }
        let label = format!("repeated cards {:?}", s.group.selector);
        let Some(why) = rejected else {
            let plan = plan_for(&s.group, &s.found, doc);
            let tz = timezone_hint(&s.found);
            let (block, got) = read(&Plan::Html(plan.clone()), tz.clone());
            let c = Candidate {
                score: s.score.value,
                ..candidate(Family::Cards, label, s.score.reasons.clone(), block, got)
            };
            let c = with_plan(c, Plan::Html(plan.clone()), tz);
            if c.usable() {
                accepted.push((i, urls));
                plans.push((plan, out.len(), i));
            }
            out.push(c);
            continue;
        };
        out.push(Candidate {
            family: Family::Cards,
            label,
            score: s.score.value,
            reasons: s.score.reasons.clone(),
            rejected: Some(why),
            block: String::new(),
            listing: Listing::default(),
            plan: None,
            timezone: None,
        });
    }
    let parts: Vec<Part> = scored
        .iter()
        .map(|s| (s.group.members.as_slice(), s.found.as_slice()))
        .collect();
    if let Some(both) = two_lists(&plans, &out, &parts, read) {
        out.insert(0, both);
    }
    (out, plans.into_iter().map(|(p, _, _)| p).collect())
}

/// The first two accepted card lists as one block, if the second is nearly as
/// story-like and the joined block yields exactly both lists.
fn two_lists(
    plans: &[(HtmlPlan, usize, usize)],
    out: &[Candidate],
    parts: &[Part<'_, '_>],
    read: &Reader<'_>,
) -> Option<Candidate> {
    let [(a, ia, ga), (b, ib, gb), ..] = plans else {
        return None;
    };
    let ((ma, fa), (mb, fb)) = (parts.get(*ga)?, parts.get(*gb)?);
    let (ca, cb) = (&out[*ia], &out[*ib]);
    // Rows of one card split in two (a title row, a details row) share parents.
    let shared_parent = ma.iter().any(|x| {
        mb.iter()
            .any(|y| x.parent().map(|p| p.id()) == y.parent().map(|p| p.id()))
    });
    if cb.score < ca.score * 0.6 || shared_parent {
        return None;
    }
    let join = |x: &Option<Sel>, y: &Option<Sel>| match (x, y) {
        (Some(x), Some(y)) if x.css != y.css && x.attrs == y.attrs => Some(Sel {
            css: format!("{}, {}", x.css, y.css),
            attrs: x.attrs.clone(),
        }),
        (Some(x), Some(y)) if x.css != y.css => None,
        (x, y) => x.clone().or(y.clone()),
    };
    let plan = HtmlPlan {
        item: format!("{}, {}", a.item, b.item),
        title: join(&a.title, &b.title),
        url: join(&a.url, &b.url),
        summary: join(&a.summary, &b.summary),
        authors: join(&a.authors, &b.authors),
        split_authors: a.split_authors || b.split_authors,
        published: join(&a.published, &b.published),
        tags: join(&a.tags, &b.tags),
        image: join(&a.image, &b.image),
        next_page: a.next_page.clone(),
        date_formats: union(&a.date_formats, &b.date_formats),
        jsonld_first: false,
    };
    let all: Vec<Finding> = fa.iter().chain(fb.iter()).cloned().collect();
    let tz = timezone_hint(&all);
    let plan = Plan::Html(plan);
    let (block, got) = read(&plan, tz.clone());
    let listing = got.ok()?;
    let want: HashSet<&str> = ca
        .listing
        .items
        .iter()
        .chain(&cb.listing.items)
        .filter_map(|i| i.url.as_deref())
        .collect();
    let have: HashSet<&str> = listing
        .items
        .iter()
        .filter_map(|i| i.url.as_deref())
        .collect();
    if listing.items.len() != ca.listing.items.len() + cb.listing.items.len() || want != have {
        return None;
    }
    let reasons = vec![format!(
        "{} and {}, both story cards, in page order",
        ca.label, cb.label
    )];
    let c = Candidate {
        score: ca.score + cb.score / 2.0,
        ..candidate(
            Family::Cards,
            "two kinds of story cards".to_owned(),
            reasons,
            block,
            Ok(listing),
        )
    };
    Some(with_plan(c, plan, tz))
}
