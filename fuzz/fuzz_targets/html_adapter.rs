//! The HTML adapter on arbitrary bytes, with both engines, every JSON-LD mode
//! and a charset from "HTTP": it may warn or return an error, never panic.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use byline::adapters::{self, Page};
use byline::config::{Config, Engine, JsonLd, SourceConfig};
use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use url::Url;

const FEEDS: &str = r#"
[[source]]
name = "fuzz"
kind = "html"
timezone = "Asia/Seoul"
inputs = [{ file = "x.html", url = "https://www.nknews.org/category/news/" }]

[source.html]
item = "article.nk-card, li"
title = ".nk-card__title a, h3"
summary = ".nk-card__excerpt"
authors = ".byline__authors a"
published = ".byline__date"
tags = ".nk-label"
image = { css = ".nk-card__thumb img", attrs = ["data-src", "src"] }
next_page = "a.next.page-numbers"
captured = ".site-header__date"

[[source]]
name = "fuzz-scope"
kind = "html"
inputs = ["x.html"]

[source.html]
item = "a.card"
title = "h3"
url = { css = ":scope", attr = "href" }
published = "time"
"#;

fn sources() -> &'static [SourceConfig] {
    static SOURCES: OnceLock<Vec<SourceConfig>> = OnceLock::new();
    SOURCES.get_or_init(|| {
        let config = Config::parse(FEEDS, "fuzz.toml", Path::new(".")).expect("fuzz config");
        let mut out = Vec::new();
        for s in config.sources {
            for engine in [Engine::Streaming, Engine::Dom] {
                for jsonld in [JsonLd::Auto, JsonLd::Always, JsonLd::Never] {
                    let mut v = s.clone();
                    if let Some(h) = v.html.as_mut() {
                        h.engine = engine;
                        h.jsonld = jsonld;
                    }
                    out.push(v);
                }
            }
        }
        out
    })
}

const CONTENT_TYPES: [Option<&str>; 4] = [
    None,
    Some("text/html; charset=windows-1252"),
    Some("text/html; charset=\"shift_jis\""),
    Some("text/html"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&choice, page)) = data.split_first() else {
        return;
    };
    let sources = sources();
    let source = &sources[usize::from(choice) % sources.len()];
    let url = Url::parse("https://www.nknews.org/category/news/").ok();
    let page = Page {
        bytes: page,
        name: "fuzz.html",
        url: if choice & 0x80 == 0 { url.as_ref() } else { None },
        content_type: CONTENT_TYPES[usize::from(choice >> 5) % CONTENT_TYPES.len()],
        captured: None,
        fetched_at: Utc.with_ymd_and_hms(2022, 5, 21, 3, 0, 0).unwrap(),
    };
    if let Ok(listing) = adapters::read(source, &page, 0) {
        for item in &listing.items {
            // Every emitted link is absolute http(s).
            assert!(item.url.as_deref().is_some_and(|u| u.starts_with("http")));
            if let Some(p) = item.published {
                let _ = p.instant();
            }
        }
    }
});
