//! The text adapter against the seed dumps, dumps written for these tests,
//! malformed input and arbitrary bytes.

mod common;

use std::path::Path;

use byline::adapters::{Listing, Page, text};
use byline::config::{Config, SourceConfig};
use byline::model::Published;
use chrono::NaiveDate;
use proptest::prelude::*;

fn source() -> SourceConfig {
    let toml = "[[source]]\nname = \"nk\"\nkind = \"text\"\ninputs = [\"x.txt\"]\ntimezone = \"Asia/Seoul\"\n";
    let config = Config::parse(toml, "test.toml", Path::new(".")).expect("test config");
    config.sources.into_iter().next().expect("one source")
}

fn read_bytes(bytes: &[u8], name: &str, first_position: u32) -> Listing {
    let page = Page {
        bytes,
        name,
        url: None,
        content_type: None,
        captured: None,
        fetched_at: chrono::Utc::now(),
    };
    text::read(&source(), &page, first_position).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = common::fixtures().join("text").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_fixture(name: &str) -> Listing {
    read_bytes(&fixture_bytes(name), name, 0)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

/// What the tests compare: title, summary, authors, tags and day of each item.
type Row = (
    String,
    Option<String>,
    Vec<String>,
    Vec<String>,
    Option<NaiveDate>,
);

fn rows(listing: &Listing) -> Vec<Row> {
    listing
        .items
        .iter()
        .map(|i| {
            (
                i.title.clone(),
                i.summary.clone(),
                i.authors.iter().map(|a| a.name.clone()).collect(),
                i.tags.iter().map(|t| t.name.clone()).collect(),
                i.day(),
            )
        })
        .collect()
}

fn row(
    title: &str,
    summary: Option<&str>,
    authors: &[&str],
    tags: &[&str],
    day: Option<NaiveDate>,
) -> Row {
    (
        title.to_owned(),
        summary.map(str::to_owned),
        authors.iter().map(|s| s.to_string()).collect(),
        tags.iter().map(|s| s.to_string()).collect(),
        day,
    )
}

#[test]
fn seed_2021_layout_matches_expected() {
    let listing = read_fixture("nknews-2021-03-04.txt");
    common::assert_matches_expected(&listing, "nknews-2021-03-04.json");
    assert_eq!(listing.captured, Some(date(2021, 3, 4)));
    assert_eq!(listing.warnings, Vec::<String>::new());
}

#[test]
fn seed_2022_layout_matches_expected() {
    let listing = read_fixture("nknews-2022-05-21.txt");
    common::assert_matches_expected(&listing, "nknews-2022-05-21.json");
    assert_eq!(listing.captured, Some(date(2025, 1, 19)));
    assert_eq!(listing.warnings, Vec::<String>::new());
}

#[test]
fn items_carry_source_zone_positions_and_slugs() {
    let listing = read_bytes(
        &fixture_bytes("nknews-2022-05-21.txt"),
        "nknews-2022-05-21.txt",
        20,
    );
    let positions: Vec<u32> = listing.items.iter().map(|i| i.position).collect();
    assert_eq!(positions, (20..30).collect::<Vec<_>>());
    let first = &listing.items[0];
    assert_eq!(first.source, "nk");
    assert_eq!(
        first.published,
        Some(Published::Date(date(2022, 5, 21), chrono_tz::Asia::Seoul))
    );
    assert_eq!(first.url, None);
    assert_eq!(first.image, None);
    assert_eq!(first.authors[0].slug, "colin-zwirko");
    let pro = &listing.items[1];
    assert_eq!(pro.tags[0].name, "NK PRO");
    assert_eq!(pro.tags[0].slug, "nk-pro");
}

/// CRLF line ends, a UTF-8 BOM and trailing blank lines change nothing.
#[test]
fn crlf_bom_and_trailing_blanks_read_the_same() {
    for name in ["nknews-2021-03-04.txt", "nknews-2022-05-21.txt"] {
        let plain = read_fixture(name);
        let text = String::from_utf8(fixture_bytes(name)).expect("utf-8 fixture");
        let mut windows = b"\xEF\xBB\xBF".to_vec();
        windows.extend(text.replace('\n', "\r\n").as_bytes());
        windows.extend(b"  \r\n\r\n\t\r\n\r\n");
        let crlf = read_bytes(&windows, name, 0);
        assert_eq!(rows(&crlf), rows(&plain), "{name}");
        assert_eq!(crlf.captured, plain.captured, "{name}");
        assert_eq!(crlf.warnings, Vec::<String>::new(), "{name}");
        let ids = |l: &Listing| l.items.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&crlf), ids(&plain), "{name}");
    }
}

/// Extra blank lines, ragged spaces and old-Mac CR line ends change nothing.
#[test]
fn extra_blank_lines_and_spaces_read_the_same() {
    let name = "nknews-2021-03-04.txt";
    let plain = read_fixture(name);
    let text = String::from_utf8(fixture_bytes(name)).expect("utf-8 fixture");
    let loose = text.replace('\n', " \n\n\n  ").replace(' ', "  ");
    assert_eq!(rows(&read_bytes(loose.as_bytes(), name, 0)), rows(&plain));
    let mac = text.replace('\n', "\r");
    assert_eq!(rows(&read_bytes(mac.as_bytes(), name, 0)), rows(&plain));
}

#[test]
fn synthetic_dump_in_the_2022_layout() {
    let listing = read_fixture("synthetic-2023-09.txt");
    assert_eq!(listing.captured, Some(date(2023, 9, 14)));
    assert_eq!(
        rows(&listing),
        vec![
            row(
                "Rail link talks stall as Pyongyang demands new ‘guarantees’",
                Some(
                    "Negotiators left Dandong without a date for the next round, according to two officials"
                ),
                &["Jiyoung Seo", "José Müller"],
                &["Analysis"],
                Some(date(2023, 9, 12)),
            ),
            row(
                "Fishing fleet returns early amid typhoon warnings",
                Some("Coastal provinces ordered boats back to port two days ahead of schedule"),
                &["Minji Park"],
                &[],
                Some(date(2023, 9, 11)),
            ),
            row(
                "Customs data show a jump in fertilizer shipments",
                None,
                &["Hana Lee"],
                &["NK PRO"],
                Some(date(2023, 8, 31)),
            ),
            row(
                "Film festival opens with a record number of entries",
                Some("Organizers counted 212 submissions, most of them documentaries"),
                &["Kim Ito"],
                &[],
                Some(date(2023, 8, 30)),
            ),
        ]
    );
    assert_eq!(listing.items[0].authors[1].slug, "jose-muller");
    assert_eq!(listing.items[0].tags[0].slug, "analysis");
    // The "Load more" footer is reported, with its line.
    assert_eq!(listing.warnings.len(), 1, "{:#?}", listing.warnings);
    assert!(
        listing.warnings[0].starts_with("synthetic-2023-09.txt:45:"),
        "{}",
        listing.warnings[0]
    );
}

#[test]
fn synthetic_dump_in_the_2021_layout() {
    let listing = read_fixture("synthetic-2021-layout.txt");
    assert_eq!(listing.captured, Some(date(2023, 6, 6)));
    assert_eq!(
        rows(&listing),
        vec![
            row(
                "New ferry route links two island counties",
                Some("The service runs twice a week and carries up to 300 passengers"),
                &["Jiyoung Seo", "José Müller"],
                &[],
                Some(date(2023, 6, 5)),
            ),
            row(
                "Farmers report an early start to the rice harvest",
                Some("Warm spring weather moved planting forward by about ten days"),
                &["Kim Ito"],
                &[],
                Some(date(2023, 6, 2)),
            ),
            row(
                "What the new trade figures do and don’t tell us",
                Some("Three caveats about the customs numbers released this week"),
                &["Ludwig van Beethoven"],
                &["ANALYSIS"],
                Some(date(2023, 5, 31)),
            ),
            row(
                "Museum reopens after a two-year renovation",
                None,
                &["Hana Lee"],
                &[],
                Some(date(2023, 5, 30)),
            ),
        ]
    );
    assert_eq!(listing.warnings, Vec::<String>::new());
}

/// A header with other navigation words, an abbreviated capture date and no
/// tagline: the header is still told from the first item.
#[test]
fn header_with_other_navigation_words() {
    let dump = "Home | World | Politics\nSUBSCRIBE\nSep 3, 2021\n\nFirst story title\n\nFirst summary here\n\nA. Writer Sept. 2, 2021\n\nSecond story title\n\nSecond summary here\n\nB. Writer Sep 1, 2021";
    let listing = read_bytes(dump.as_bytes(), "nav.txt", 0);
    assert_eq!(listing.captured, Some(date(2021, 9, 3)));
    assert_eq!(
        rows(&listing),
        vec![
            row(
                "First story title",
                Some("First summary here"),
                &["A. Writer"],
                &[],
                Some(date(2021, 9, 2))
            ),
            row(
                "Second story title",
                Some("Second summary here"),
                &["B. Writer"],
                &[],
                Some(date(2021, 9, 1))
            ),
        ]
    );
}

/// An ad line between cards is chrome, reported and skipped; bylines may
/// list authors with commas and "and" and put a separator before the date.
#[test]
fn chrome_between_items_and_other_byline_forms() {
    let dump = "March 04, 2021\nTagline of the site\n\nFirst title\n\nFirst summary\n\nBy Jane Roe, John Doe and Ann Lee · March 2, 2021\nAdvertisement\n\nSecond title\n\nSecond summary\n\nJo Bloggs - March 2, 2021\nThird title\nThird summary\nJo Bloggs March 1, 2021\n";
    let listing = read_bytes(dump.as_bytes(), "ads.txt", 0);
    assert_eq!(
        rows(&listing),
        vec![
            row(
                "First title",
                Some("First summary"),
                &["Jane Roe", "John Doe", "Ann Lee"],
                &[],
                Some(date(2021, 3, 2))
            ),
            row(
                "Second title",
                Some("Second summary"),
                &["Jo Bloggs"],
                &[],
                Some(date(2021, 3, 2))
            ),
            row(
                "Third title",
                Some("Third summary"),
                &["Jo Bloggs"],
                &[],
                Some(date(2021, 3, 1))
            ),
        ]
    );
    assert_eq!(listing.warnings.len(), 1, "{:?}", listing.warnings);
    assert!(
        listing.warnings[0].starts_with("ads.txt:9:")
            && listing.warnings[0].contains("Advertisement"),
        "{:?}",
        listing.warnings
    );
}

/// Scripts without case: a short line is a label only by its place between
/// title copies, never because it "shouts".
#[test]
fn uncased_scripts() {
    let dump = "머리말\n제목입니다\n프로\n제목입니다\n요약입니다 더 긴 문장입니다\n제목입니다\n김정민\n김정민 March 2, 2021\n두 번째 제목\n두 번째 요약은 조금 더 긴 문장입니다\n김정민 March 1, 2021\n";
    let listing = read_bytes(dump.as_bytes(), "ko.txt", 0);
    assert_eq!(
        rows(&listing),
        vec![
            row(
                "제목입니다",
                Some("요약입니다 더 긴 문장입니다"),
                &["김정민"],
                &["프로"],
                Some(date(2021, 3, 2))
            ),
            row(
                "두 번째 제목",
                Some("두 번째 요약은 조금 더 긴 문장입니다"),
                &["김정민"],
                &[],
                Some(date(2021, 3, 1))
            ),
        ]
    );
    assert!(listing.items[0].authors[0].slug.is_ascii());
}

#[test]
fn malformed_bylines_are_reported_with_file_and_line() {
    let listing = read_fixture("malformed.txt");
    assert_eq!(listing.captured, Some(date(2021, 3, 3)));
    assert_eq!(
        rows(&listing),
        vec![
            row(
                "A story with a byline that cannot be dated",
                Some("Its summary"),
                &["Kim Ito"],
                &[],
                None
            ),
            row(
                "A story that is fine",
                Some("Its summary too"),
                &["Jeongmin Kim"],
                &[],
                None
            ),
            row(
                "Still fine",
                Some("Summary"),
                &["Colin Zwirko"],
                &[],
                Some(date(2021, 3, 1))
            ),
        ]
    );
    let w = &listing.warnings;
    assert_eq!(w.len(), 4, "{w:#?}");
    // In line order, each naming the file, the line and what is wrong.
    let want = [
        ("malformed.txt:8:", "Mayy 40, 2021"),
        ("malformed.txt:9:", "no title"),
        ("malformed.txt:15:", "February 30, 2021"),
        ("malformed.txt:20:", "no item"),
    ];
    for (got, (place, what)) in w.iter().zip(want) {
        assert!(got.starts_with(place) && got.contains(what), "{got}");
    }
    // Undated items still get distinct, stable ids.
    assert_ne!(listing.items[0].id, listing.items[1].id);
}

#[test]
fn empty_and_itemless_pages_say_why() {
    for (bytes, name) in [
        (&b""[..], "empty.txt"),
        (&b"\xEF\xBB\xBF\r\n  \r\n"[..], "blank.txt"),
    ] {
        let listing = read_bytes(bytes, name, 0);
        assert!(listing.items.is_empty(), "{name}");
        assert_eq!(listing.warnings.len(), 1, "{name}: {:?}", listing.warnings);
        assert!(
            listing.warnings[0].starts_with(&format!("{name}:1: empty")),
            "{:?}",
            listing.warnings
        );
    }

    let header_only = "News | Example\nMarch 04, 2021\n\nNothing found\n";
    let listing = read_bytes(header_only.as_bytes(), "none.txt", 0);
    assert!(listing.items.is_empty());
    assert_eq!(listing.captured, Some(date(2021, 3, 4)));
    assert_eq!(listing.warnings.len(), 1, "{:?}", listing.warnings);
    assert!(
        listing.warnings[0].starts_with("none.txt:1: no items"),
        "{:?}",
        listing.warnings
    );
}

#[test]
fn garbage_gives_warnings_not_panics() {
    let garbage: &[u8] =
        b"\x00\xff\xfe\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xc3\x28 May 2, 2022\n| | May 3, 2022\n";
    let listing = read_bytes(garbage, "garbage.bin", 0);
    assert!(listing.items.is_empty());
    assert!(!listing.warnings.is_empty());
    assert!(
        listing
            .warnings
            .iter()
            .all(|w| w.starts_with("garbage.bin:")),
        "{:?}",
        listing.warnings
    );

    // Invalid UTF-8 inside an otherwise good dump: the items survive and the
    // bad byte's line is named.
    let mut bytes = fixture_bytes("nknews-2021-03-04.txt");
    let at = bytes
        .iter()
        .position(|&b| b == b'$')
        .expect("a $ in the seed");
    bytes[at] = 0xA4;
    let listing = read_bytes(&bytes, "latin.txt", 0);
    assert_eq!(listing.items.len(), 10);
    assert_eq!(listing.warnings.len(), 1, "{:?}", listing.warnings);
    assert!(
        listing.warnings[0].starts_with("latin.txt:6:"),
        "{:?}",
        listing.warnings
    );
    assert!(listing.items[0].title.contains('\u{FFFD}'));
}

#[test]
fn a_summary_ending_in_a_date_is_not_a_byline() {
    let dump = "Summit set for June\n\nThe leaders will meet in Singapore on June 12, 2018\n\nJane Roe June 1, 2018\n";
    let listing = read_bytes(dump.as_bytes(), "summit.txt", 0);
    assert_eq!(
        rows(&listing),
        vec![row(
            "Summit set for June",
            Some("The leaders will meet in Singapore on June 12, 2018"),
            &["Jane Roe"],
            &[],
            Some(date(2018, 6, 1))
        )]
    );
}

#[test]
fn ids_are_stable_across_reads_positions_and_dumps() {
    for name in ["nknews-2021-03-04.txt", "nknews-2022-05-21.txt"] {
        let a = read_fixture(name);
        let b = read_bytes(&fixture_bytes(name), name, 50);
        let ids = |l: &Listing| l.items.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b), "{name}");
        let mut unique = ids(&a);
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), a.items.len(), "{name}: ids are distinct");
        assert!(a.items.iter().all(|i| i.id.starts_with("urn:byline:")));
    }

    // The same story in another dump, in the other layout, with other
    // summary and quotes: same title and day, same id.
    let seed = read_fixture("nknews-2022-05-21.txt");
    let other = "Captured May 30, 2022\n\nNorth Korean hackers weaponize COVID outbreak in latest cyber attack\n\nA different summary\n\nEthan Jewell May 19, 2022\n\nUS, ROK defense chiefs 'strongly condemn' North Korean nuclear test preparations\n\nJeongmin Kim May 19, 2022\n";
    let other = read_bytes(other.as_bytes(), "other.txt", 0);
    assert_eq!(other.items.len(), 2);
    assert_eq!(other.items[0].id, seed.items[5].id);
    assert_eq!(other.items[1].id, seed.items[7].id);
    // A different day is a different story.
    let moved = "T\n\nNorth Korean hackers weaponize COVID outbreak in latest cyber attack\n\nEthan Jewell May 20, 2022\n";
    let moved = read_bytes(moved.as_bytes(), "moved.txt", 0);
    assert_ne!(moved.items[0].id, seed.items[5].id);
}

fn check_invariants(listing: &Listing, name: &str, first_position: u32) {
    for (i, item) in listing.items.iter().enumerate() {
        assert!(!item.title.is_empty());
        assert_eq!(item.title.trim(), item.title);
        assert_eq!(item.position, first_position + i as u32);
        assert!(!item.authors.is_empty());
    }
    for w in &listing.warnings {
        assert!(w.starts_with(&format!("{name}:")), "{w}");
    }
}

/// Lines a dump is made of, to build random dumps that reach every branch.
fn dump_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("NK PRO".to_owned()),
        Just("Analysis".to_owned()),
        Just("March 04, 2021".to_owned()),
        Just("Mayy 40, 2021".to_owned()),
        Just("Jeongmin Kim".to_owned()),
        Just("Jeongmin Kim | Kelly Kasulis March 2, 2021".to_owned()),
        Just("Kim Ito Mayy 40, 2021".to_owned()),
        Just("José Müller Sept. 31, 2021".to_owned()),
        Just("A title about something".to_owned()),
        Just("A title about something".to_owned()),
        Just("A summary that says more about it.".to_owned()),
        "[A-Za-z |.,'’\u{FEFF}\r\t]{0,40}",
        "[A-Z][a-z]{1,8} [A-Z][a-z]{1,8} [A-Za-z]{3,9}\\.? [0-9]{1,2}, [0-9]{4}",
    ]
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC*", first in 0u32..1000) {
        let listing = read_bytes(s.as_bytes(), "prop.txt", first);
        check_invariants(&listing, "prop.txt", first);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let listing = read_bytes(&bytes, "prop.bin", 0);
        check_invariants(&listing, "prop.bin", 0);
    }

    #[test]
    fn random_dumps_never_panic(lines in proptest::collection::vec(dump_line(), 0..60), crlf in any::<bool>()) {
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        let listing = read_bytes(text.as_bytes(), "dump.txt", 3);
        check_invariants(&listing, "dump.txt", 3);
        // Reading is deterministic.
        let again = read_bytes(text.as_bytes(), "dump.txt", 3);
        prop_assert_eq!(listing, again);
    }
}
