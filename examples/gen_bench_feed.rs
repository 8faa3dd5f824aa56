//! Writes a large, store-less site for benchmarking `byline serve`: JSON Feed
//! files holding ITEMS stories by AUTHORS authors (plus tags), and a
//! `feeds.toml` that reads them as one `kind = "feed"` source.
//!
//! One author, `Bench Target` (`/authors/bench-target.atom`), has exactly 50
//! stories: the per-author feed the benchmark requests. The output is
//! deterministic (no clock, no randomness), so runs are comparable.
//!
//!     cargo run --release --example gen_bench_feed -- OUT_DIR [AUTHORS] [ITEMS]
//!
//! Files stay under the fetcher's 10 MiB input limit by splitting the items.

use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

const FIRST: [&str; 40] = [
    "Ada", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kira",
    "Liam", "Mina", "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
    "Wen", "Xavi", "Yara", "Zane", "Aiko", "Bruno", "Carla", "Dae", "Emil", "Fatima", "Goran",
    "Hana", "Ivan", "Jae", "Kofi", "Lena", "Marco", "Nadia",
];
const LAST: [&str; 25] = [
    "Park", "Silva", "Novak", "Okafor", "Haddad", "Larsen", "Moreau", "Tanaka", "Rossi",
    "Kowalski", "Nguyen", "Costa", "Fischer", "Ibrahim", "Jensen", "Kim", "Lopez", "Meyer",
    "Nakamura", "Oliveira", "Petrov", "Quint", "Reyes", "Sato", "Weber",
];
const TAGS: [&str; 20] = [
    "Politics",
    "Economy",
    "Diplomacy",
    "Military",
    "Technology",
    "Health",
    "Energy",
    "Trade",
    "Culture",
    "Sports",
    "Science",
    "Climate",
    "Media",
    "Security",
    "Agriculture",
    "Transport",
    "Education",
    "Law",
    "Finance",
    "Analysis",
];
const WORDS: [&str; 24] = [
    "talks",
    "resume",
    "after",
    "months",
    "of",
    "tension",
    "over",
    "border",
    "plans",
    "officials",
    "say",
    "new",
    "report",
    "shows",
    "rising",
    "costs",
    "for",
    "households",
    "and",
    "firms",
    "across",
    "the",
    "region",
    "amid",
];
/// Every this-many'th story is the benchmark target's: 100,000 / 2,000 = 50.
const TARGET_EVERY: usize = 2000;
const PER_FILE: usize = 10_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: gen_bench_feed OUT_DIR [AUTHORS=1000] [ITEMS=100000]");
        std::process::exit(2);
    };
    let authors: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let items: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    if let Err(e) = generate(&out, authors.clamp(2, FIRST.len() * LAST.len()), items) {
        eprintln!("gen_bench_feed: {}: {e}", out.display());
        std::process::exit(1);
    }
}

fn author_name(n: usize) -> String {
    if n == 0 {
        return "Bench Target".to_owned();
    }
    let n = n - 1;
    format!(
        "{} {}",
        FIRST[n % FIRST.len()],
        LAST[(n / FIRST.len()) % LAST.len()]
    )
}

fn sentence(seed: usize, words: usize) -> String {
    let mut s = String::new();
    for w in 0..words {
        if w > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[(seed.wrapping_mul(31) + w * 7 + seed / 3) % WORDS.len()]);
    }
    s
}

fn generate(out: &std::path::Path, authors: usize, items: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    let start: DateTime<Utc> = DateTime::from_timestamp(1_735_646_400, 0).unwrap_or_default();
    let mut files = Vec::new();
    let mut page = Vec::with_capacity(PER_FILE);
    let flush = |page: &mut Vec<serde_json::Value>, files: &mut Vec<String>| {
        if page.is_empty() {
            return Ok(());
        }
        let name = format!("bench-{:03}.json", files.len());
        let feed = json!({
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Bench wire",
            "home_page_url": "https://news.example/",
            "items": std::mem::take(page),
        });
        std::fs::write(out.join(&name), serde_json::to_vec(&feed)?)?;
        files.push(name);
        Ok::<(), std::io::Error>(())
    };
    for i in 0..items {
        let author = if i % TARGET_EVERY == 0 {
            0
        } else {
            1 + i % (authors - 1)
        };
        let mut names = vec![json!({ "name": author_name(author) })];
        if i % 7 == 3 {
            names.push(json!({ "name": author_name(1 + (i / 7) % (authors - 1)) }));
        }
        let tags: Vec<&str> = match i % 4 {
            0 => vec![],
            1 => vec![TAGS[i % TAGS.len()]],
            _ => vec![TAGS[i % TAGS.len()], TAGS[(i / 3) % TAGS.len()]],
        };
        let title = {
            let mut t = sentence(i, 9);
            if let Some(first) = t.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            let _ = write!(t, " ({i})");
            t
        };
        let url = format!("https://news.example/{}/story-{i}/", 2024 - (i / 40_000));
        let summary = sentence(i + 11, 30);
        let published = start - Duration::minutes(5 * i as i64);
        page.push(json!({
            "id": url,
            "url": url,
            "title": title,
            "summary": summary,
            "content_text": summary,
            "date_published": published.to_rfc3339(),
            "authors": names,
            "tags": tags,
        }));
        if page.len() == PER_FILE {
            flush(&mut page, &mut files)?;
        }
    }
    flush(&mut page, &mut files)?;
    let inputs: Vec<String> = files.iter().map(|f| format!("  \"{f}\",")).collect();
    let config = format!(
        "# Generated by examples/gen_bench_feed.rs: {items} items by {authors} authors.\n\
         title = \"Bench\"\n\
         base_url = \"http://127.0.0.1:8080/\"\n\n\
         [server]\n\
         max_connections = 1024\n\n\
         [[source]]\n\
         name = \"bench\"\n\
         kind = \"feed\"\n\
         link = \"https://news.example/\"\n\
         inputs = [\n{}\n]\n",
        inputs.join("\n")
    );
    std::fs::write(out.join("feeds.toml"), config)?;
    println!(
        "{}: {items} items by {authors} authors in {} files; target: /authors/bench-target.atom",
        out.display(),
        files.len()
    );
    Ok(())
}
