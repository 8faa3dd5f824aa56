//! Print what byline's article extractor gives for saved pages, one JSON
//! object per line: `cargo run --example extract_article -- URL FILE [URL FILE ...]`.
//! For side-by-side comparisons (scripts/compare_trafilatura.py) and for
//! trying a page; it uses the generic extractor (no selectors).

use byline::adapters::article::{self, ArticleRules};
use byline::adapters::decode::decode_html;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let [url, file] = pair else {
            eprintln!("usage: extract_article URL FILE [URL FILE ...]");
            std::process::exit(2);
        };
        let Ok(base) = url::Url::parse(url) else {
            eprintln!("{url}: not a url");
            std::process::exit(2);
        };
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{file}: {e}");
                std::process::exit(2);
            }
        };
        let text = decode_html(&bytes, None).text;
        let started = std::time::Instant::now();
        let got = article::extract(&text, &base, &ArticleRules::default(), chrono_tz::UTC);
        let micros = started.elapsed().as_micros();
        let dated = |d: Option<article::Dated>| {
            d.map(|d| serde_json::json!({"value": d.value.instant().to_rfc3339(), "date_only": matches!(d.value, byline::model::Published::Date(..)), "from": d.origin.as_str()}))
        };
        let line = match got {
            Ok(a) => serde_json::json!({
                "url": url, "file": file, "micros": micros,
                "published": dated(a.published), "updated": dated(a.updated),
                "authors": a.authors, "image": a.image, "content_text": a.content_text,
            }),
            Err(e) => serde_json::json!({"url": url, "file": file, "error": e.to_string()}),
        };
        println!("{line}");
    }
}
