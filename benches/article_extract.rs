//! Article extraction speed on a 200 KB article page.
//!
//! Run: `cargo bench --bench article_extract` (optionally `-- REPS`, default
//! 50). The page is the NK News fixture with the long tweet, related list and
//! ads (tests/fixtures/articles/html/north-korea-high-on-agenda-...html),
//! its body repeated until the page is about 200 KB, as long reads with many
//! figures and inline ads are. Prints the median and the throughput of the
//! whole `adapters::article::extract` (DOM parse, metadata, scoring, text,
//! sanitizing) with the generic extractor, and with a configured selector.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use byline::adapters::article::{ArticleRules, extract};
use url::Url;

fn page() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "tests/fixtures/articles/html/north-korea-high-on-agenda-as-biden-arrives-in-south-korea-for-summit-with-yoon.html",
    );
    let html = std::fs::read_to_string(&path).expect("fixture");
    let start = html.find("<div class=\"entry-content").expect("body");
    let body_start = html[start..]
        .find('>')
        .map(|i| start + i + 1)
        .expect("body tag");
    let body_end = html[body_start..]
        .find("<div class=\"sharedaddy")
        .map(|i| body_start + i)
        .expect("body end");
    let body = &html[body_start..body_end];
    let mut out = html[..body_end].to_owned();
    while out.len() + (html.len() - body_end) < 200 * 1024 {
        out.push_str(body);
    }
    out.push_str(&html[body_end..]);
    out
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let reps: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50);
    let html = page();
    let url =
        Url::parse("https://www.nknews.org/2022/05/north-korea-high-on-agenda/").expect("url");
    let generic = ArticleRules::default();
    let configured = ArticleRules {
        content: Some("div.entry-content".into()),
        remove: vec![
            ".nk-ad".into(),
            ".sharedaddy".into(),
            "aside".into(),
            ".jp-relatedposts".into(),
        ],
    };
    for (name, rules) in [
        ("generic (scored)", &generic),
        ("configured selector", &configured),
    ] {
        let mut times = Vec::with_capacity(reps);
        let mut words = 0;
        for _ in 0..reps {
            let t = Instant::now();
            let a = extract(black_box(&html), &url, rules, chrono_tz::UTC).expect("extracts");
            times.push(t.elapsed());
            words = a
                .content_text
                .as_deref()
                .map_or(0, |t| t.split_whitespace().count());
        }
        let m = median(times);
        println!(
            "{name:20} page {:.0} KB, {words} words: median {:.2} ms, {:.1} MB/s ({reps} runs)",
            html.len() as f64 / 1024.0,
            m.as_secs_f64() * 1e3,
            html.len() as f64 / m.as_secs_f64() / 1e6
        );
    }
}
