//! HTML listing pages read with the CSS selectors of `[source.html]`.
//!
//! A *card* is one element matching the `item` selector: the block a listing
//! shows for one story. Each field of a card is read from the first element
//! inside it that matches the field's selector and yields a value (every match
//! for authors and tags); a field element belongs to its nearest enclosing card.
//! Blocks between the cards (ads, newsletter boxes, "related" widgets) are not
//! cards, and a card without a title or a url is skipped with a warning.
//!
//! Two engines find the cards (see [`crate::config::HtmlConfig`]): `stream`
//! reads the page in one pass with `lol_html`, `dom` parses it with `scraper`.
//! Both produce the same [`RawCard`]s (text decoded and collapsed, attribute
//! values unescaped); turning them into items (urls, dates, people) is shared.

mod dom;
mod stream;

use url::Url;

pub(crate) use super::card::RawCard;
use super::decode::decode_html;
pub(crate) use super::layout::{is_block, is_hidden_text};
use super::{AdapterError, Listing, Page, jsonld};
use crate::config::{Engine, FieldSpec, HtmlConfig, JsonLd, SourceConfig};
use crate::dates::{self, Anchor};
use crate::model::{Item, Person, Tag};
use crate::urls;

/// The selector of JSON-LD blocks, for both engines.
const JSONLD_SELECTOR: &str = r#"script[type="application/ld+json" i]"#;

/// What an engine found on a page.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Extract {
    /// One per card, in page order.
    pub(crate) cards: Vec<RawCard>,
    pub(crate) next_page: Option<String>,
    pub(crate) captured: Option<String>,
    /// The text of each JSON-LD block, when the config reads them.
    pub(crate) scripts: Vec<String>,
}

/// A field of a card, for both engines: what it is called and how it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Title,
    Url,
    Summary,
    Authors,
    Published,
    Tags,
    Image,
    NextPage,
    Captured,
}

impl Field {
    pub(crate) const ALL: [Field; 9] = [
        Field::Title,
        Field::Url,
        Field::Summary,
        Field::Authors,
        Field::Published,
        Field::Tags,
        Field::Image,
        Field::NextPage,
        Field::Captured,
    ];

    pub(crate) fn key(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Url => "url",
            Field::Summary => "summary",
            Field::Authors => "authors",
            Field::Published => "published",
            Field::Tags => "tags",
            Field::Image => "image",
            Field::NextPage => "next_page",
            Field::Captured => "captured",
        }
    }

    pub(crate) fn spec(self, cfg: &HtmlConfig) -> Option<&FieldSpec> {
        match self {
            Field::Title => Some(&cfg.title),
            Field::Url => cfg.url.as_ref(),
            Field::Summary => cfg.summary.as_ref(),
            Field::Authors => cfg.authors.as_ref(),
            Field::Published => cfg.published.as_ref(),
            Field::Tags => cfg.tags.as_ref(),
            Field::Image => cfg.image.as_ref(),
            Field::NextPage => cfg.next_page.as_ref(),
            Field::Captured => cfg.captured.as_ref(),
        }
    }

    /// Every match is a value (authors, tags), not just the first.
    pub(crate) fn multi(self) -> bool {
        matches!(self, Field::Authors | Field::Tags)
    }

    /// Read from the page, not from a card.
    pub(crate) fn page_level(self) -> bool {
        matches!(self, Field::NextPage | Field::Captured)
    }

    /// When none of the attributes is present the text is read instead
    /// (`<time datetime>` or a plain "May 20, 2022").
    pub(crate) fn text_fallback(self, spec: &FieldSpec) -> bool {
        spec.attrs.is_empty() || matches!(self, Field::Published | Field::Captured)
    }

    /// Store a value read from a card (appended for authors and tags).
    pub(crate) fn set(self, card: &mut RawCard, value: String) {
        match self {
            Field::Title => card.title = Some(value),
            Field::Url => card.url = Some(value),
            Field::Summary => card.summary = Some(value),
            Field::Authors => card.authors.push(value),
            Field::Published => card.published = Some(value),
            Field::Tags => card.tags.push(value),
            Field::Image => card.image = Some(value),
            Field::NextPage | Field::Captured => {}
        }
    }

    /// A single-valued field that already has its value.
    pub(crate) fn is_set(self, card: &RawCard) -> bool {
        match self {
            Field::Title => card.title.is_some(),
            Field::Url => card.url.is_some(),
            Field::Summary => card.summary.is_some(),
            Field::Published => card.published.is_some(),
            Field::Image => card.image.is_some(),
            Field::Authors | Field::Tags | Field::NextPage | Field::Captured => false,
        }
    }
}

/// Trim and fold runs of white space: the model's one implementation.
pub(crate) use crate::model::collapse_whitespace as collapse;

/// An attribute value that can stand for a field: present, not blank, and not
/// a `data:` placeholder (lazy images put a 1x1 GIF in `src`).
pub(crate) fn usable_attr(value: &str) -> Option<&str> {
    let v = value.trim();
    let is_data = v.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("data:"));
    (!v.is_empty() && !is_data).then_some(v)
}

/// Read one HTML listing page of `source`.
pub fn read(
    source: &SourceConfig,
    page: &Page,
    first_position: u32,
) -> Result<Listing, AdapterError> {
    let name = &source.name;
    let cfg = source.html.as_ref().ok_or_else(|| {
        AdapterError::new(
            page.name,
            format!("source {name:?}: kind = \"html\" needs an [source.html] table"),
        )
    })?;
    let mut out = Reader {
        source,
        cfg,
        page,
        listing: Listing::default(),
    };
    if page.bytes.iter().all(u8::is_ascii_whitespace) {
        out.warn("the page is empty; no items".to_owned());
        return Ok(out.listing);
    }
    let decoded = decode_html(page.bytes, page.content_type);
    if decoded.had_errors {
        out.warn(format!(
            "some bytes are not valid {} and were replaced with U+FFFD",
            decoded.encoding.name()
        ));
    }
    let extract = run_engine(cfg, &decoded.text, cfg.engine)
        .map_err(|e| AdapterError::new(page.name, format!("source {name:?}: {e}")))?;
    out.finish(extract, first_position);
    Ok(out.listing)
}

/// The cards of `text` with `engine` (`Auto`: streaming when every selector
/// allows it), before they become items.
fn run_engine(cfg: &HtmlConfig, text: &str, engine: Engine) -> Result<Extract, String> {
    match engine {
        Engine::Dom => {
            super::layout::dom_depth_ok(text)?;
            dom::extract(cfg, text)
        }
        Engine::Streaming => stream::extract(cfg, text),
        Engine::Auto => {
            let streamable = std::iter::once(cfg.item.as_str())
                .chain(
                    Field::ALL
                        .iter()
                        .filter_map(|f| f.spec(cfg))
                        .filter(|s| !s.is_scope())
                        .map(|s| s.css.as_str()),
                )
                .all(|css| css.parse::<lol_html::Selector>().is_ok());
            let engine = if streamable {
                Engine::Streaming
            } else {
                Engine::Dom
            };
            run_engine(cfg, text, engine)
        }
    }
}

/// How many cards `engine` finds in `text`: the extraction alone, for the benchmark.
#[doc(hidden)]
pub fn count_cards(cfg: &HtmlConfig, text: &str, engine: Engine) -> Result<usize, String> {
    run_engine(cfg, text, engine).map(|e| e.cards.len())
}

struct Reader<'a> {
    source: &'a SourceConfig,
    cfg: &'a HtmlConfig,
    page: &'a Page<'a>,
    listing: Listing,
}

impl Reader<'_> {
    fn warn(&mut self, message: String) {
        self.listing.warnings.push(format!(
            "source {:?}: {}: {message}",
            self.source.name, self.page.name
        ));
    }

    fn base(&self) -> Option<&Url> {
        self.cfg.base_url.as_ref().or(self.page.url)
    }

    fn finish(&mut self, extract: Extract, first_position: u32) {
        let cfg = self.cfg;
        let tz = self.source.timezone;

        // The page's own date anchors relative dates of a saved page; a
        // date-time anchors them at that instant.
        let mut captured_at = None;
        if let (Some(spec), Some(raw)) = (&cfg.captured, &extract.captured) {
            match dates::parse(
                raw,
                &cfg.date_formats,
                tz,
                Anchor::Instant(self.page.fetched_at),
            ) {
                Some(p) => {
                    self.listing.captured = Some(p.day());
                    if let crate::model::Published::DateTime(at) = p {
                        captured_at = Some(at.to_utc());
                    }
                }
                None => self.warn(format!(
                    "html.captured {:?} found {raw:?}, which is not a date in any accepted format",
                    spec.css
                )),
            }
        }
        let anchor = match (self.page.captured, captured_at, self.listing.captured) {
            (Some(day), _, _) => Anchor::Day(day),
            (None, Some(at), _) => Anchor::Instant(at),
            (None, None, Some(day)) => Anchor::Day(day),
            (None, None, None) => Anchor::Instant(self.page.fetched_at),
        };

        let card_count = extract.cards.len();
        let matched = Matched::of(&extract.cards);
        let first = first_position;
        let (items, origin) = match cfg.jsonld {
            JsonLd::Never => (
                self.build(extract.cards, Origin::Cards, first, anchor),
                Origin::Cards,
            ),
            JsonLd::Auto => {
                let items = self.build(extract.cards, Origin::Cards, first, anchor);
                if items.is_empty() && !extract.scripts.is_empty() {
                    (
                        self.read_jsonld(&extract.scripts, first, anchor),
                        Origin::JsonLd,
                    )
                } else {
                    (items, Origin::Cards)
                }
            }
            JsonLd::Always => {
                let items = self.read_jsonld(&extract.scripts, first, anchor);
                if items.is_empty() {
                    (
                        self.build(extract.cards, Origin::Cards, first, anchor),
                        Origin::Cards,
                    )
                } else {
                    (items, Origin::JsonLd)
                }
            }
        };
        if card_count == 0 && items.is_empty() {
            let jsonld = match cfg.jsonld {
                JsonLd::Never => "",
                _ => " and the page has no JSON-LD articles",
            };
            self.warn(format!(
                "no element matches html.item {:?}{jsonld}; no items",
                cfg.item
            ));
        }
        if card_count > 0 && origin == Origin::Cards {
            self.warn_unmatched_fields(&matched);
        }
        self.listing.items = items;

        if let Some(raw) = &extract.next_page {
            match urls::resolve(self.base(), raw) {
                Some(next) if Some(next.as_str()) != self.page.url.map(Url::as_str) => {
                    self.listing.next_page = Some(next);
                }
                Some(_) => {}
                None => self.warn(format!(
                    "html.next_page found {raw:?}, which is not a link that can be followed"
                )),
            }
        }
    }

    fn read_jsonld(&mut self, scripts: &[String], first: u32, anchor: Anchor) -> Vec<Item> {
        let mut notes = Vec::new();
        let cards = jsonld::cards(scripts, &mut notes);
        for n in notes {
            self.warn(n);
        }
        self.build(cards, Origin::JsonLd, first, anchor)
    }

    /// Items from cards in page order; cards without a title or url are
    /// skipped and counted in one warning.
    fn build(
        &mut self,
        cards: Vec<RawCard>,
        origin: Origin,
        first: u32,
        anchor: Anchor,
    ) -> Vec<Item> {
        let what = origin.noun();
        let cfg = self.cfg;
        let base = self.base().cloned();
        let total = cards.len();
        let mut items = Vec::with_capacity(total);
        let mut skipped: Vec<(usize, &'static str)> = Vec::new();
        let mut relative_without_base = false;
        for (n, card) in cards.into_iter().enumerate() {
            let Some(title) = card.title.filter(|t| !t.is_empty()) else {
                skipped.push((n + 1, "no title"));
                continue;
            };
            let href = match (&cfg.url, origin) {
                (None, Origin::Cards) => card.url.or(card.title_href),
                _ => card.url,
            };
            let Some(href) = href else {
                skipped.push((n + 1, "no url"));
                continue;
            };
            let Some(url) = urls::resolve(base.as_ref(), &href) else {
                if base.is_none() && Url::parse(&href).is_err() {
                    relative_without_base = true;
                }
                skipped.push((n + 1, "no http(s) url"));
                continue;
            };
            let position = first.saturating_add(u32::try_from(items.len()).unwrap_or(u32::MAX));
            let mut item = Item::new(&self.source.name, position, title, Some(url));
            item.summary = card.summary.filter(|s| !s.is_empty());
            let names = card
                .authors
                .iter()
                .flat_map(|a| super::byline::split(a, &cfg.author_separators));
            for a in names {
                let p = Person::new(&a);
                if !p.name.is_empty() && !item.authors.iter().any(|q| q.slug == p.slug) {
                    item.authors.push(p);
                }
            }
            for t in &card.tags {
                let t = Tag::new(t);
                if !t.name.is_empty() && !item.tags.iter().any(|u| u.slug == t.slug) {
                    item.tags.push(t);
                }
            }
            item.image = card
                .image
                .as_deref()
                .and_then(|i| urls::resolve(base.as_ref(), i));
            if let Some(raw) = &card.published {
                let parsed =
                    dates::parse_precise(raw, &cfg.date_formats, self.source.timezone, anchor);
                item.published = parsed.map(|(p, _)| p);
                item.published_precision = parsed.and_then(|(_, precision)| precision);
                if item.published.is_none() {
                    let formats: Vec<String> = cfg
                        .date_formats
                        .formats()
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                    self.warn(format!(
                        "{what} {} ({:?}): published {raw:?} is not a date in any accepted format ({}); left undated",
                        n + 1,
                        item.title,
                        formats.join(", ")
                    ));
                }
            }
            // `Item::new` derived the id from the url; the date only keys url-less
            // items (`model::item_id`), and every item here has a url. Recomputing
            // would parse each url once more, ~4% of a page's extraction.
            if item.url.is_none() {
                item.refresh_id();
            }
            items.push(item);
        }
        if relative_without_base {
            self.warn("relative links cannot be resolved: the page has no url (give the input a `url`, or set html.base_url)".to_owned());
        }
        if !skipped.is_empty() {
            let list: Vec<String> = skipped
                .iter()
                .take(10)
                .map(|(n, why)| format!("#{n} ({why})"))
                .collect();
            let more = if skipped.len() > 10 { ", ..." } else { "" };
            let selector = if origin == Origin::Cards {
                format!(" matching html.item {:?}", cfg.item)
            } else {
                String::new()
            };
            self.warn(format!(
                "skipped {} of {total} {what}s{selector} without a title or url: {}{more}",
                skipped.len(),
                list.join(", ")
            ));
        }
        items
    }

    /// A configured field that no card has is most likely a wrong selector.
    fn warn_unmatched_fields(&mut self, matched: &Matched) {
        let cfg = self.cfg;
        for (field, found) in matched.fields {
            if let (Some(spec), false) = (field.spec(cfg), found) {
                self.warn(format!(
                    "html.{} {:?} matched nothing in any of the {} cards",
                    field.key(),
                    spec.css,
                    matched.cards
                ));
            }
        }
    }
}

/// Where items came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Elements matching the selectors.
    Cards,
    /// The page's JSON-LD.
    JsonLd,
}

impl Origin {
    fn noun(self) -> &'static str {
        match self {
            Origin::Cards => "card",
            Origin::JsonLd => "JSON-LD article",
        }
    }
}

/// Which optional fields any card had a value for.
struct Matched {
    cards: usize,
    fields: [(Field, bool); 5],
}

impl Matched {
    fn of(cards: &[RawCard]) -> Matched {
        Matched {
            cards: cards.len(),
            fields: [
                (Field::Summary, cards.iter().any(|c| c.summary.is_some())),
                (Field::Authors, cards.iter().any(|c| !c.authors.is_empty())),
                (
                    Field::Published,
                    cards.iter().any(|c| c.published.is_some()),
                ),
                (Field::Tags, cards.iter().any(|c| !c.tags.is_empty())),
                (Field::Image, cards.iter().any(|c| c.image.is_some())),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapse_folds_every_kind_of_white_space() {
        for (input, want) in [
            ("", ""),
            ("  ", ""),
            ("a", "a"),
            ("  a  ", "a"),
            (
                "\n  North Korea\t making\u{a0}progress \r\n",
                "North Korea making progress",
            ),
            ("a\u{2003}\u{2003}b", "a b"),
            ("‘x’ y", "‘x’ y"),
        ] {
            assert_eq!(collapse(input), want, "{input:?}");
            assert_eq!(
                collapse(input),
                input.split_whitespace().collect::<Vec<_>>().join(" ")
            );
        }
    }
}
