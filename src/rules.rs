//! Rules give one identity to each person and topic, however sources spell
//! them, and add tags the config asks for.
//!
//! An *identity* is the name and slug a person or tag is published under.
//! Names are matched by a key that ignores case, spacing, diacritics and the
//! "Last, First" order, so "KIM, Jeongmin" and "Jeongmin Kim" are one person;
//! `[[author]]` and `[[tag]]` add aliases, display names and profile urls.
//! Rules run on every copy before the merger, so the merger sees one slug per
//! person and per tag.

use std::collections::HashMap;

use crate::config::{Config, CustomFeed, TagRule};
use crate::model::{Item, Person, Tag, collapse_whitespace, slugify};

/// The checked rules of one config, indexed for lookups.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    authors: HashMap<String, Person>,
    tags: HashMap<String, Tag>,
    tag_rules: Vec<TagRule>,
    default_tags: HashMap<String, Vec<String>>,
}

/// Suffixes that follow a comma without meaning "Last, First".
const NAME_SUFFIXES: &[&str] = &[
    "jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "ph.d.", "md",
];

/// "Kim, Jeongmin" -> "Jeongmin Kim"; names without exactly one comma, or
/// with a suffix after it ("Martin Luther King, Jr."), are kept.
pub fn display_order(name: &str) -> String {
    let name = collapse_whitespace(name);
    let mut parts = name.splitn(3, ',');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(last), Some(first), None) => {
            let (last, first) = (last.trim(), first.trim());
            if first.is_empty()
                || last.is_empty()
                || NAME_SUFFIXES.contains(&first.to_lowercase().as_str())
            {
                name
            } else {
                format!("{first} {last}")
            }
        }
        _ => name,
    }
}

/// The key two spellings of one name share.
pub fn match_key(name: &str) -> String {
    slugify(&display_order(name))
}

impl Rules {
    pub fn from_config(config: &Config) -> Self {
        let mut rules = Rules {
            tag_rules: config.tag_rules.clone(),
            ..Rules::default()
        };
        for a in &config.authors {
            let person = Person {
                name: a.name.clone(),
                slug: a.slug.clone(),
                url: a.url.clone(),
            };
            for spelling in std::iter::once(&a.name)
                .chain(&a.aliases)
                .chain(std::iter::once(&a.slug))
            {
                rules.authors.insert(match_key(spelling), person.clone());
            }
        }
        for t in &config.tags {
            let tag = Tag {
                name: t.name.clone(),
                slug: t.slug.clone(),
            };
            for spelling in std::iter::once(&t.name)
                .chain(&t.aliases)
                .chain(std::iter::once(&t.slug))
            {
                rules.tags.insert(slugify(spelling), tag.clone());
            }
        }
        for s in &config.sources {
            if !s.default_tags.is_empty() {
                rules
                    .default_tags
                    .insert(s.name.clone(), s.default_tags.clone());
            }
        }
        rules
    }

    /// The identity a byline name stands for.
    pub fn person(&self, name: &str, url: Option<&str>) -> Person {
        let key = match_key(name);
        match self.authors.get(&key) {
            Some(p) => Person {
                url: p.url.clone().or_else(|| url.map(str::to_owned)),
                ..p.clone()
            },
            None => Person {
                name: display_order(name),
                slug: key,
                url: url.map(str::to_owned),
            },
        }
    }

    /// The identity a label or category stands for.
    pub fn tag(&self, label: &str) -> Tag {
        self.tags
            .get(&slugify(label))
            .cloned()
            .unwrap_or_else(|| Tag::new(label))
    }

    /// Unify the item's authors and tags, then add rule and default tags.
    pub fn apply(&self, item: &mut Item) {
        let mut authors: Vec<Person> = Vec::with_capacity(item.authors.len());
        for a in &item.authors {
            let p = self.person(&a.name, a.url.as_deref());
            if !authors.iter().any(|x| x.slug == p.slug) {
                authors.push(p);
            }
        }
        item.authors = authors;

        let mut labels: Vec<String> = item.tags.iter().map(|t| t.name.clone()).collect();
        if let Some(defaults) = self.default_tags.get(&item.source) {
            labels.extend(defaults.iter().cloned());
        }
        for rule in &self.tag_rules {
            if !rule.sources.is_empty() && !rule.sources.contains(&item.source) {
                continue;
            }
            let hit = rule.pattern.is_match(&item.title)
                || item
                    .summary
                    .as_deref()
                    .is_some_and(|s| rule.pattern.is_match(s));
            if hit {
                labels.push(rule.tag.clone());
            }
        }
        let mut tags: Vec<Tag> = Vec::with_capacity(labels.len());
        for label in labels {
            let t = self.tag(&label);
            if !tags.iter().any(|x| x.slug == t.slug) {
                tags.push(t);
            }
        }
        item.tags = tags;
    }

    /// Does `item` belong in the custom feed? Each non-empty include list must
    /// match (authors and tags by any spelling, sources by name); no exclude
    /// list may match.
    pub fn feed_matches(&self, feed: &CustomFeed, item: &Item) -> bool {
        let author_hit = |names: &[String]| {
            names.iter().any(|n| {
                item.authors
                    .iter()
                    .any(|a| a.slug == self.person(n, None).slug)
            })
        };
        let tag_hit = |names: &[String]| {
            names
                .iter()
                .any(|n| item.tags.iter().any(|t| t.slug == self.tag(n).slug))
        };
        let source_hit = |names: &[String]| {
            names
                .iter()
                .any(|n| n == &item.source || item.also_in.contains(n))
        };
        (feed.authors.is_empty() || author_hit(&feed.authors))
            && (feed.tags.is_empty() || tag_hit(&feed.tags))
            && (feed.sources.is_empty() || source_hit(&feed.sources))
            && !author_hit(&feed.exclude_authors)
            && !tag_hit(&feed.exclude_tags)
            && !source_hit(&feed.exclude_sources)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(extra: &str) -> Config {
        let text = format!(
            "[[source]]\nname = \"s\"\nkind = \"text\"\ninputs = [\"a\"]\ntags = [\"Korea\"]\n{extra}"
        );
        Config::parse(&text, "t.toml", Path::new(".")).expect("config")
    }

    #[test]
    fn one_person_however_spelled() {
        let rules = Rules::from_config(&config(""));
        for spelling in [
            "Jeongmin Kim",
            "KIM, Jeongmin",
            "  jeongmin   kim ",
            "Jeongmin Kím",
        ] {
            assert_eq!(
                rules.person(spelling, None).slug,
                "jeongmin-kim",
                "{spelling}"
            );
        }
        assert_eq!(rules.person("Kim, Jeongmin", None).name, "Jeongmin Kim");
        assert_eq!(
            display_order("Martin Luther King, Jr."),
            "Martin Luther King, Jr."
        );
    }

    #[test]
    fn aliases_display_names_and_urls_from_config() {
        let rules = Rules::from_config(&config(
            "[[author]]\nname = \"Chad O'Carroll\"\naliases = [\"C. O'Carroll\"]\nurl = \"https://a.example/chad\"\n\
             [[tag]]\nname = \"NK PRO\"\naliases = [\"PRO\"]\n",
        ));
        let p = rules.person("C. O’Carroll", None);
        assert_eq!(
            (p.name.as_str(), p.slug.as_str()),
            ("Chad O'Carroll", "chad-ocarroll")
        );
        assert_eq!(p.url.as_deref(), Some("https://a.example/chad"));
        assert_eq!(rules.tag("PRO"), Tag::new("NK PRO"));
        assert_eq!(rules.tag("nk pro").slug, "nk-pro");
    }

    #[test]
    fn tag_rules_and_source_defaults() {
        let rules = Rules::from_config(&config(
            "[[tag_rule]]\ntag = \"covid\"\npattern = \"COVID|omicron\"\n\
             [[tag_rule]]\ntag = \"Trade\"\nkeywords = [\"imports\"]\n",
        ));
        let mut item = Item::new("s", 0, "Spread of Omicron slows imports".into(), None);
        item.authors.push(Person::new("KIM, Jeongmin"));
        item.authors.push(Person::new("Jeongmin Kim"));
        rules.apply(&mut item);
        let slugs: Vec<_> = item.tags.iter().map(|t| t.slug.as_str()).collect();
        assert_eq!(slugs, ["korea", "covid", "trade"]);
        assert_eq!(item.authors.len(), 1, "the same person twice is one author");
        let mut other = Item::new("s", 1, "Importsy news".into(), None);
        rules.apply(&mut other);
        assert!(
            !other.tags.iter().any(|t| t.slug == "trade"),
            "keywords match whole words"
        );
    }

    #[test]
    fn custom_feed_selection() {
        let cfg = config(
            "[[feed]]\nname = \"kim-pro\"\nauthors = [\"Kim, Jeongmin\"]\ntags = [\"NK PRO\"]\nexclude_sources = [\"x\"]\n",
        );
        let rules = Rules::from_config(&cfg);
        let feed = &cfg.feeds[0];
        let mut item = Item::new("s", 0, "t".into(), None);
        item.authors.push(Person::new("Jeongmin Kim"));
        item.tags.push(Tag::new("NK PRO"));
        assert!(rules.feed_matches(feed, &item));
        item.source = "x".into();
        assert!(!rules.feed_matches(feed, &item));
        item.source = "s".into();
        item.tags.clear();
        assert!(!rules.feed_matches(feed, &item));
    }
}
