//! `byline suggest` speed on a generated ~1 MB listing page.
//!
//! Run: `cargo bench --bench suggest [-- REPS]` (default 5). The page has a
//! `<head>` with styles and scripts, a nav menu, 1,050 story cards (lazy
//! images, text and `datetime` dates, one or two authors, labels, excerpts,
//! share buttons), ads between them, a "most read" rail, a tag cloud and a
//! footer: every kind of furniture suggest has to reject. One repetition is
//! the whole suggestion: parse, find and score the candidates, write their
//! blocks and read each back through the adapters. Prints the median wall time.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use url::Url;

fn page(cards: usize) -> String {
    let mut s = String::with_capacity(cards * 1800);
    s.push_str("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>News</title>");
    let _ = write!(s, "<style>{}</style>", ".card{margin:0 0 1em}".repeat(200));
    s.push_str("<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}</script></head><body>");
    s.push_str("<header class=\"site-header\"><nav class=\"menu\"><ul>");
    for c in ["News", "World", "Business", "Sport", "Culture", "Opinion"] {
        let _ = write!(s, "<li><a href=\"/{}/\">{c}</a></li>", c.to_lowercase());
    }
    s.push_str("</ul></nav></header><main class=\"listing\">");
    for i in 0..cards {
        let day = 1 + i % 28;
        let date = if i % 3 == 0 {
            format!(
                "<time class=\"card__date\" datetime=\"2024-05-{day:02}T{:02}:15:00+09:00\">May {day}, 2024</time>",
                i % 24
            )
        } else {
            format!("<span class=\"card__date\">May {day}, 2024</span>")
        };
        let authors = if i % 5 == 0 {
            "<a rel=\"author\" href=\"/author/ann-lee/\">Ann Lee</a> | <a rel=\"author\" href=\"/author/bo-kim/\">Bo Kim</a>".to_owned()
        } else {
            format!(
                "<a rel=\"author\" href=\"/author/writer-{}/\">Writer {}</a>",
                i % 17,
                i % 17
            )
        };
        let _ = write!(
            s,
            "<article class=\"card post-{i}\"><div class=\"card__thumb\"><a href=\"/2024/05/story-{i}/\"><img src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\" data-src=\"https://cdn.example/img/{i}.jpg\" alt=\"\"></a></div>\
             <div class=\"card__body\"><a class=\"card__label\" href=\"/pro/\">PRO</a><h3 class=\"card__title\"><a href=\"/2024/05/story-{i}/\">Story number {i} about the harbour, the council and the weather</a></h3>\
             <p class=\"card__excerpt\">An excerpt of story {i}: what happened, who said what, and what comes next for the people involved.</p>\
             <div class=\"byline\"><span class=\"byline__authors\">{authors}</span> {date}</div>\
             <div class=\"share\"><a href=\"https://twitter.com/intent/tweet?url=/2024/05/story-{i}/\">Share on Twitter</a> <a href=\"https://www.facebook.com/sharer/sharer.php?u=/2024/05/story-{i}/\">Share on Facebook</a></div></div></article>"
        );
        if i % 10 == 9 {
            s.push_str("<div class=\"ad\"><ins class=\"adsbygoogle\" data-ad-slot=\"123\"></ins><p>Advertisement</p></div>");
        }
    }
    s.push_str(
        "</main><aside class=\"sidebar\"><section class=\"most-read\"><h2>Most read</h2><ol>",
    );
    for i in 0..5 {
        let _ = write!(
            s,
            "<li><a href=\"/2024/05/story-{i}/\">Story number {i} about the harbour, the council and the weather</a></li>"
        );
    }
    s.push_str("</ol></section><div class=\"tagcloud\">");
    for t in 0..40 {
        let _ = write!(s, "<a href=\"/tag/t{t}/\">Topic{t}</a> ");
    }
    s.push_str("</div></aside><nav class=\"pagination\"><a class=\"next\" rel=\"next\" href=\"/page/2/\">Next</a></nav>");
    s.push_str("<footer class=\"site-footer\"><ul><li><a href=\"/privacy/\">Privacy policy and cookies</a></li><li><a href=\"/terms/\">Terms of use</a></li></ul></footer></body></html>");
    s
}

/// Cards on the page: about 1 MB of HTML.
const CARDS: usize = 1050;

fn main() {
    let reps: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let html = page(CARDS);
    let url = Url::parse("https://news.example/").expect("url");
    let first = byline::suggest::suggest_bytes(html.as_bytes(), &url, false).expect("a suggestion");
    // The work is real: every card is an item of the suggested block.
    assert_eq!(first.items.len(), CARDS, "{}", first.text);
    let mut times: Vec<Duration> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            black_box(byline::suggest::suggest_bytes(black_box(html.as_bytes()), &url, false).ok());
            t.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "suggest on a {:.2} MB page ({CARDS} cards): median {:.1} ms over {reps} runs (min {:.1} ms, max {:.1} ms); goal < 200 ms",
        html.len() as f64 / 1e6,
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    );
    println!(
        "suggested item selector: {:?}",
        first.block.lines().find(|l| l.starts_with("item ="))
    );
}
