//! HTML extraction speed and memory on a generated 1,000-card listing page.
//!
//! Run: `CARGO_TARGET_DIR=/work/target cargo bench --bench html_extract`
//! (optionally `-- REPS`, default 40; with `HTML_EXTRACT_PROFILE=1` it only
//! runs (b) 200 times, for `perf record`). Side by side in one run, on the same
//! bytes: (a) a bare `scraper::Html::parse_document` (html5ever builds the
//! tree, nothing is selected), (b) full extraction with the streaming engine
//! through `byline::adapters::read` (decode, every field, entities decoded,
//! urls resolved, dates parsed, items built), (c) the same with the DOM engine.
//! Prints medians, MB/s, items/s, the ratio (a)/(b) and the peak heap each
//! one allocates, measured with a counting global allocator.
//!
//! The page is modelled on tests/fixtures/html/nknews-latest-p1.html: a real
//! `<head>` with styles, scripts and JSON-LD, a nav, cards with lazy images,
//! labels, one or two authors, `<time datetime>` or text dates and entities in
//! titles; ads, newsletter boxes and promos between the cards; a sidebar, a
//! footer and inline scripts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use byline::adapters::{self, Page};
use byline::config::{Config, Engine, SourceConfig};
use chrono::{TimeZone, Utc};
use url::Url;

// ---- a counting allocator -----------------------------------------------------------

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Counting is off while timing, so its atomics do not tax the allocation-heavy side.
static COUNTING: AtomicBool = AtomicBool::new(false);

fn grow(by: usize) {
    if !COUNTING.load(Ordering::Relaxed) {
        return;
    }
    let now = CURRENT.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrink(by: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        CURRENT.fetch_sub(by, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grow(new_size - layout.size());
            } else {
                shrink(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Bytes allocated at the peak of `f`, above what was live before it. Only
/// allocations made inside `f` are counted; frees of older blocks may make the
/// running count dip below zero, which saturates (so the figure is an upper bound).
fn peak_heap<T>(f: impl FnOnce() -> T) -> (T, usize) {
    CURRENT.store(1 << 40, Ordering::Relaxed);
    PEAK.store(1 << 40, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let out = f();
    COUNTING.store(false, Ordering::Relaxed);
    let peak = PEAK.load(Ordering::Relaxed);
    (out, peak.saturating_sub(1 << 40))
}

/// CPU time of this thread: on a shared machine wall time mostly measures
/// the other tenants. `CLOCK_THREAD_CPUTIME_ID` is exact (not tick-based).
fn cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return START.elapsed();
    }
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

static START: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);

/// Time one call of `f`: (thread CPU time, wall time).
fn timed<T>(f: impl FnOnce() -> T) -> (Duration, Duration) {
    let (t, w) = (cpu_now(), Instant::now());
    black_box(f());
    (cpu_now().saturating_sub(t), w.elapsed())
}

// ---- the page -------------------------------------------------------------------------

const AUTHORS: [(&str, &str); 6] = [
    ("Colin Zwirko", "colin-zwirko"),
    ("Jeongmin Kim", "jeongmin-kim"),
    ("Ifang Bremer", "ifang-bremer"),
    ("Ethan Jewell", "ethan-jewell"),
    ("Nils Weisensee", "nils-weisensee"),
    ("Chaewon Chung", "chaewon-chung"),
];

const TITLES: [&str; 6] = [
    "North Korea making &#8216;progress&#8217; in COVID-19 fight but issues remain",
    "Major outage disrupts North Korean websites and email delivery",
    "Seoul investigating reported defection of COVID-positive North Koreans",
    "North Korea&rsquo;s fertilizer imports remain unusually low ahead of planting",
    "US, ROK defense chiefs &#x2019;strongly condemn&#8217; nuclear test preparations",
    "North Korean imports hit COVID-era high, but reversal could be soon to follow",
];

const GIF: &str = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";

fn card(out: &mut String, n: usize) {
    let title = TITLES[n % TITLES.len()];
    let (name, slug) = AUTHORS[n % AUTHORS.len()];
    let (name2, slug2) = AUTHORS[(n + 2) % AUTHORS.len()];
    let pro = n % 4 == 1;
    let day = 28 - (n / 40) % 27;
    let href = match n % 3 {
        0 => format!("https://www.nknews.org/2022/05/story-{n}-north-korea/"),
        1 => format!(
            "/{}/story-{n}-north-korea/",
            if pro { "pro" } else { "2022/05" }
        ),
        _ => format!("//www.nknews.org/2022/05/story-{n}-north-korea/"),
    };
    let _ = write!(
        out,
        r#"
<article id="post-{id}" class="nk-card post-{id} type-post has-post-thumbnail{pro_class}">
  <a class="nk-card__thumb" href="{href}" tabindex="-1"><img src="{GIF}" data-src="https://i0.wp.com/www.nknews.org/wp-content/uploads/2022/05/story-{n}.jpg?resize=400%2C225&amp;ssl=1" class="attachment-nk-card size-nk-card wp-post-image lazyload" alt="" decoding="async" /></a>
  {label}<div class="nk-card__body">
    <h3 class="nk-card__title"><a href="{href}" rel="bookmark">{title} ({n})</a></h3>
    <div class="nk-card__excerpt"><p>Authorities report new figures as officials convene another meeting&#8230; story {n}</p></div>
  </div>
  <div class="nk-card__byline byline">
    <span class="byline__avatars"><img class="avatar photo" src="/wp-content/uploads/2021/08/{slug}-avatar-96x96.jpg" width="32" height="32" alt="{name}" /></span>
    <span class="byline__authors"><a class="byline__author" href="https://www.nknews.org/content_author/{slug}/" rel="author">{name}</a>{second}</span>
    {date}
  </div>
</article>
"#,
        id = 1_190_370 - n,
        pro_class = if pro {
            " nk-card--pro category-nk-pro"
        } else {
            ""
        },
        label = if pro {
            r#"<a class="nk-label nk-label--pro" href="https://www.nknews.org/pro/" title="NK PRO members only">NK PRO</a>
  "#
        } else {
            ""
        },
        second = if n % 5 == 4 {
            format!(
                r#"<span class="byline__sep"> | </span><a class="byline__author" href="https://www.nknews.org/content_author/{slug2}/" rel="author">{name2}</a>"#
            )
        } else {
            String::new()
        },
        date = if n.is_multiple_of(2) {
            format!(
                r#"<time class="byline__date entry-date published" datetime="2022-05-{day:02}T11:43:21+09:00">May {day}, 2022</time>"#
            )
        } else {
            format!(r#"<span class="byline__date">May {day}, 2022</span>"#)
        },
    );
}

fn between(out: &mut String, n: usize) {
    match n % 15 {
        4 => out.push_str(
            r#"
<div class="nk-ad nk-ad--inline" data-slot="category-inline">
  <span class="nk-ad__label">Advertisement</span>
  <ins class="adsbygoogle" style="display:block" data-ad-client="ca-pub-0000000000000000" data-ad-slot="000000001" data-ad-format="auto"></ins>
  <script>(adsbygoogle = window.adsbygoogle || []).push({});</script>
</div>
"#,
        ),
        9 => out.push_str(
            r#"
<div class="nk-newsletter-cta">
  <h3 class="nk-newsletter-cta__title">Get the NK News Daily Update</h3>
  <p>The day&#8217;s top North Korea stories, delivered to your inbox every weekday morning.</p>
  <form class="nk-newsletter-cta__form" action="https://www.nknews.org/newsletter/subscribe/" method="post">
    <input type="email" name="email" placeholder="Email address" required><button type="submit">Sign up</button>
  </form>
</div>
"#,
        ),
        14 => out.push_str(
            r#"
<aside class="nk-pro-promo">
  <span class="nk-label nk-label--pro">NK PRO</span>
  <h3 class="nk-pro-promo__title"><a href="https://www.nknews.org/pro/subscribe/?utm_source=category&amp;utm_medium=promo">Unlock NK PRO analysis, data tools and the KCNA Watch archive</a></h3>
  <a class="button" href="https://www.nknews.org/pro/subscribe/">Start your free trial &rarr;</a>
</aside>
"#,
        ),
        _ => {}
    }
}

fn page(cards: usize) -> String {
    let mut out = String::with_capacity(cards * 1400 + 40_000);
    out.push_str(
        r#"<!DOCTYPE html>
<html lang="en-US" class="no-js">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>News | NK News</title>
<link rel="canonical" href="https://www.nknews.org/category/news/" />
<link rel="next" href="https://www.nknews.org/category/news/page/2/" />
<meta property="og:type" content="website" /><meta property="og:title" content="News | NK News" />
<link rel="stylesheet" id="nk-theme-css" href="https://www.nknews.org/wp-content/themes/nknews-2021/dist/css/main.min.css?ver=3.4.12" media="all" />
<style id="critical-css">"#,
    );
    for i in 0..60 {
        let _ = write!(
            out,
            ".nk-card--v{i} .nk-card__title a{{color:#1a1a1a;font:600 1.1rem/1.3 Georgia,serif}} "
        );
    }
    out.push_str("</style>\n<script>window.dataLayer=window.dataLayer||[];");
    for i in 0..40 {
        let _ = write!(
            out,
            "function gtag{i}(){{dataLayer.push(arguments)}}gtag{i}('js',new Date());"
        );
    }
    out.push_str(
        r#"</script>
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"CollectionPage","@id":"https://www.nknews.org/category/news/","name":"News"},{"@type":"WebSite","@id":"https://www.nknews.org/#website","name":"NK News"}]}</script>
</head>
<body class="archive category category-news category-1 wp-embed-responsive nk-theme">
<header class="site-header" role="banner">
  <div class="site-header__top">
    <a class="site-header__logo" href="https://www.nknews.org/"><img src="https://www.nknews.org/wp-content/themes/nknews-2021/dist/img/nknews-logo.svg" alt="NK News Logo" width="160" height="40"></a>
    <div class="site-header__date">May 21, 2022</div>
  </div>
  <nav class="site-nav" aria-label="Main menu"><ul id="menu-main" class="menu">
"#,
    );
    for item in [
        "News",
        "Analysis",
        "Opinion",
        "Features",
        "NK PRO",
        "KCNA Watch",
        "Podcast",
        "Events",
    ] {
        let _ = writeln!(
            out,
            r#"    <li class="menu-item"><a href="/category/{}/">{item}</a></li>"#,
            item.to_lowercase().replace(' ', "-")
        );
    }
    out.push_str(
        r#"  </ul></nav>
</header>
<main id="main" class="site-main">
  <header class="archive-header"><h1 class="archive-title">News</h1></header>
  <div class="archive-layout">
  <section class="nk-card-list" aria-label="Articles">
"#,
    );
    for n in 0..cards {
        card(&mut out, n);
        between(&mut out, n);
    }
    out.push_str(
        r#"  </section>
  <div class="sidebar" role="complementary">
  <aside class="widget widget_nk_trending"><h2 class="widget-title">Trending</h2><ol class="nk-trending">
"#,
    );
    for n in 0..10 {
        let _ = writeln!(
            out,
            r#"    <li><a href="https://www.nknews.org/2022/05/story-{n}-north-korea/">{}</a> <span class="widget-date">May 21, 2022</span></li>"#,
            TITLES[n % TITLES.len()]
        );
    }
    out.push_str(
        r#"  </ol></aside>
  </div>
  </div>
  <nav class="navigation pagination" aria-label="Posts"><div class="nav-links">
    <span aria-current="page" class="page-numbers current">1</span>
    <a class="page-numbers" href="https://www.nknews.org/category/news/page/2/">2</a>
    <a class="next page-numbers" href="https://www.nknews.org/category/news/page/2/">Next &raquo;</a>
  </div></nav>
</main>
<footer class="site-footer" role="contentinfo"><div class="site-footer__inner">
  <p>&copy; 2022 Korea Risk Group. All rights reserved.</p>
  <ul class="site-footer__links"><li><a href="/about/">About</a></li><li><a href="/contact/">Contact</a></li><li><a href="/privacy-policy/">Privacy policy</a></li></ul>
</div></footer>
<script id="nk-main-js" src="https://www.nknews.org/wp-content/themes/nknews-2021/dist/js/main.min.js?ver=3.4.12"></script>
<script>document.querySelectorAll('img.lazyload').forEach(function(i){if(i.dataset.src){i.src=i.dataset.src}});</script>
</body>
</html>
"#,
    );
    out
}

// ---- the run --------------------------------------------------------------------------

const FEEDS: &str = r#"
[[source]]
name = "bench"
kind = "html"
timezone = "Asia/Seoul"
inputs = [{ file = "bench.html", url = "https://www.nknews.org/category/news/" }]

[source.html]
item = "article.nk-card"
title = ".nk-card__title a"
url = { css = ".nk-card__title a", attr = "href" }
summary = ".nk-card__excerpt"
authors = ".byline__authors a"
published = ".byline__date"
tags = ".nk-label"
image = { css = ".nk-card__thumb img", attrs = ["data-src", "src"] }
next_page = "a.next.page-numbers"
captured = ".site-header__date"
"#;

/// lol_html reading the page with no selectors at all.
fn bare_lol_html(bytes: &[u8]) {
    let mut rw =
        lol_html::HtmlRewriter::new(lol_html::Settings::new().with_strict(false), |_: &[u8]| {});
    let _ = rw.write(bytes);
    let _ = rw.end();
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn extract(source: &SourceConfig, bytes: &[u8], url: &Url) -> usize {
    let page = Page {
        bytes,
        name: "bench.html",
        url: Some(url),
        content_type: Some("text/html; charset=UTF-8"),
        captured: None,
        fetched_at: Utc.with_ymd_and_hms(2022, 5, 21, 3, 0, 0).unwrap(),
    };
    let listing = adapters::read(source, &page, 0).expect("the bench page reads");
    listing.items.len()
}

fn main() {
    if std::env::var_os("HTML_EXTRACT_PROFILE").is_some() {
        // A long run of (b) alone, for `perf record`.
        let html = page(1000);
        let config = Config::parse(FEEDS, "bench-feeds.toml", Path::new(".")).expect("config");
        let url = Url::parse("https://www.nknews.org/category/news/").expect("url");
        for _ in 0..200 {
            black_box(extract(&config.sources[0], html.as_bytes(), &url));
        }
        return;
    }
    let reps: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(40);
    const CARDS: usize = 1000;
    let html = page(CARDS);
    let bytes = html.as_bytes();
    let mb = bytes.len() as f64 / 1e6;
    let config = Config::parse(FEEDS, "bench-feeds.toml", Path::new(".")).expect("bench config");
    let streaming = config.sources[0].clone();
    assert_eq!(
        streaming.html.as_ref().map(|h| h.engine),
        Some(Engine::Streaming)
    );
    let mut dom = streaming.clone();
    if let Some(h) = dom.html.as_mut() {
        h.engine = Engine::Dom;
    }
    let url = Url::parse("https://www.nknews.org/category/news/").expect("url");

    // Check the work is real before timing it.
    let items = extract(&streaming, bytes, &url);
    assert_eq!(items, CARDS, "every card becomes an item");
    assert_eq!(extract(&dom, bytes, &url), CARDS);

    // Peak heap of one run each (after a warm-up, so lazy statics are not counted).
    let ((), parse_peak) = peak_heap(|| drop(black_box(scraper::Html::parse_document(&html))));
    let (_, stream_peak) = peak_heap(|| black_box(extract(&streaming, bytes, &url)));
    let (_, dom_peak) = peak_heap(|| black_box(extract(&dom, bytes, &url)));

    // Interleaved so that drift in machine load hits all of them alike.
    let cfg = streaming.html.as_ref().expect("html config");
    let mut t: [Vec<Duration>; 5] = Default::default();
    let mut wall: [Vec<Duration>; 5] = Default::default();
    for _ in 0..reps {
        let runs = [
            timed(|| drop(scraper::Html::parse_document(black_box(&html)))),
            timed(|| extract(&streaming, black_box(bytes), &url)),
            timed(|| extract(&dom, black_box(bytes), &url)),
            timed(|| bare_lol_html(black_box(bytes))),
            timed(|| byline::adapters::html::count_cards(cfg, black_box(&html), Engine::Streaming)),
        ];
        for (i, (cpu, w)) in runs.into_iter().enumerate() {
            t[i].push(cpu);
            wall[i].push(w);
        }
    }
    let [wall_parse, wall_stream, ..] = wall;
    let (wp, ws) = (median(wall_parse), median(wall_stream));
    let [t_parse, t_stream, t_dom, t_bare, t_cards] = t;
    let (p, s, d) = (median(t_parse), median(t_stream), median(t_dom));
    let (b, c) = (median(t_bare), median(t_cards));
    let secs = |t: Duration| t.as_secs_f64().max(1e-9);
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);

    println!(
        "html_extract: {CARDS}-card listing page, {:.2} MB, {reps} reps, medians of thread CPU time",
        mb
    );
    println!(
        "  (a) scraper parse only      {:>8.2} ms  {:>7.1} MB/s                       peak heap {:>6.1} MiB",
        secs(p) * 1e3,
        mb / secs(p),
        mib(parse_peak)
    );
    println!(
        "  (b) extract, streaming      {:>8.2} ms  {:>7.1} MB/s  {:>9.0} items/s  peak heap {:>6.1} MiB",
        secs(s) * 1e3,
        mb / secs(s),
        CARDS as f64 / secs(s),
        mib(stream_peak)
    );
    println!(
        "  (c) extract, DOM engine     {:>8.2} ms  {:>7.1} MB/s  {:>9.0} items/s  peak heap {:>6.1} MiB",
        secs(d) * 1e3,
        mb / secs(d),
        CARDS as f64 / secs(d),
        mib(dom_peak)
    );
    println!(
        "  (d) lol_html, no handlers   {:>8.2} ms  {:>7.1} MB/s   (the floor of (b))",
        secs(b) * 1e3,
        mb / secs(b)
    );
    println!(
        "  (e) streaming cards only    {:>8.2} ms  {:>7.1} MB/s   ((b) without decoding, urls, dates, items)",
        secs(c) * 1e3,
        mb / secs(c)
    );
    println!(
        "  ratio (a)/(b): {:.2}x in CPU time, {:.2}x in wall time ({:.2} / {:.2} ms)  (goal >= 1.5x, floor 1.0x); peak heap goal < 30 MB",
        secs(p) / secs(s),
        secs(wp) / secs(ws),
        secs(wp) * 1e3,
        secs(ws) * 1e3
    );
}
