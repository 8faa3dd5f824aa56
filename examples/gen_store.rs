//! Writes a large store for benchmarking what `byline serve` holds in memory:
//! STORIES stories by AUTHORS authors (plus tags), stored as listings of one
//! source through the same `Store::store_listing` a refresh uses, and a
//! `feeds.toml` beside it whose one source reads a small saved page (so a
//! start-up refresh is cheap and the store's history is what is served).
//!
//!     cargo run --release --example gen_store -- OUT_DIR [AUTHORS] [STORIES]
//!
//! Deterministic: no clock, no randomness.

use std::path::PathBuf;

use byline::merge::MergeOptions;
use byline::model::{Item, Person, Published, Tag};
use byline::store::Store;
use chrono::{DateTime, Duration, Utc};

const TAGS: [&str; 20] = [
    "Politics",
    "Economy",
    "Diplomacy",
    "Military",
    "Society",
    "Culture",
    "Sports",
    "Health",
    "Energy",
    "Trade",
    "Tech",
    "Media",
    "Law",
    "Labour",
    "Climate",
    "Science",
    "Travel",
    "Food",
    "History",
    "Opinion",
];
/// Stories per listing (one refresh's worth).
const LISTING: usize = 1_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .expect("usage: gen_store OUT_DIR [AUTHORS] [STORIES]"),
    );
    let authors: usize = args.next().map_or(1_000, |a| a.parse().expect("AUTHORS"));
    let stories: usize = args
        .next()
        .map_or(1_000_000, |a| a.parse().expect("STORIES"));
    std::fs::create_dir_all(&out).expect("out dir");
    let store = Store::open(out.join("bench.db")).expect("store");
    let start: DateTime<Utc> = DateTime::parse_from_rfc3339("2020-01-01T00:00:00Z")
        .expect("start")
        .to_utc();
    let options = MergeOptions::default();
    let people: Vec<Person> = (0..authors)
        .map(|n| Person::new(&format!("Writer {n:04}")))
        .collect();
    let mut made = 0;
    let mut listing_no: i64 = 0;
    while made < stories {
        let n = LISTING.min(stories - made);
        let batch: Vec<Item> = (0..n)
            .map(|k| {
                let i = made + k;
                let mut item = Item::new(
                    "bench",
                    u32::try_from(n - k).unwrap_or(0),
                    format!("Story {i}: a headline of ordinary length for a feed"),
                    Some(format!("https://news.example/{}/story-{i}/", i / 1_000)),
                );
                let at = start + Duration::minutes(i64::try_from(i).unwrap_or(0) * 3);
                item.published = Some(Published::DateTime(at.fixed_offset()));
                item.summary = Some(format!(
                    "Summary of story {i}, two sentences long, as listing pages show. It says a little more."
                ));
                item.authors = vec![people[i % authors].clone()];
                item.tags = vec![Tag::new(TAGS[i % TAGS.len()])];
                item.refresh_id();
                item
            })
            .collect();
        let seen = start + Duration::hours(listing_no);
        store
            .store_listing("bench", &batch, &options, seen)
            .expect("store listing");
        made += n;
        listing_no += 1;
        if listing_no % 100 == 0 {
            eprintln!("gen_store: {made}/{stories} stories");
        }
    }
    std::fs::write(
        out.join("page.txt"),
        "May 21, 2022\n\n\nLatest news\n\nA small saved page of one story\n\nIts summary, in a sentence.\n\nMina Park May 20, 2022\n",
    )
    .expect("page");
    std::fs::write(
        out.join("feeds.toml"),
        "title = \"bench\"\nbase_url = \"http://127.0.0.1:8080/\"\n[store]\npath = \"bench.db\"\n\
         [server]\nrefresh_interval_secs = 0\ncache_mb = 16\n\
         [[source]]\nname = \"bench\"\nkind = \"text\"\ninputs = [\"page.txt\"]\n",
    )
    .expect("config");
    eprintln!(
        "gen_store: {made} stories by {authors} authors in {}",
        out.display()
    );
}
