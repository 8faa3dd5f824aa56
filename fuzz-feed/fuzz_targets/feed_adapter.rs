//! Fuzz the feed adapter: any bytes, read as a feed source, give items or an
//! error, never a panic, a hang or a stack overflow.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use byline::adapters::{Page, feed};
use byline::config::{Config, SourceConfig};
use libfuzzer_sys::fuzz_target;
use url::Url;

fn source() -> &'static (SourceConfig, Url) {
    static SOURCE: OnceLock<(SourceConfig, Url)> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let toml = "[[source]]\nname = \"fuzz\"\nkind = \"feed\"\ninputs = [\"a\"]\ntimezone = \"Asia/Seoul\"\n";
        let config = Config::parse(toml, "fuzz.toml", Path::new(".")).expect("static config");
        let source = config.sources.into_iter().next().expect("one source");
        let url = Url::parse("https://feeds.example/news/feed.xml").expect("static url");
        (source, url)
    })
}

fuzz_target!(|bytes: &[u8]| {
    let (source, url) = source();
    let page = Page {
        bytes,
        name: "fuzz-input",
        url: Some(url),
        content_type: None,
        captured: None,
        fetched_at: chrono::Utc::now(),
    };
    if let Ok(listing) = feed::read(source, &page, 0) {
        for item in &listing.items {
            // What the adapter promises every later stage.
            assert!(!item.title.is_empty());
            if let Some(u) = &item.url {
                assert!(u.starts_with("http://") || u.starts_with("https://"), "{u}");
            }
        }
    }
});
