//! Every accepted date format, relative dates against their anchor, zones.

use super::*;
use chrono_tz::Asia::Seoul;

fn anchor() -> Anchor {
    // 2022-05-21 12:00 in Seoul.
    Anchor::Instant(Utc.with_ymd_and_hms(2022, 5, 21, 3, 0, 0).unwrap())
}

fn show(text: &str) -> Option<String> {
    parse(text, &DateFormats::default(), Seoul, anchor()).map(|p| match p {
        Published::DateTime(dt) => dt.to_rfc3339(),
        Published::Date(d, tz) => format!("{d} {tz}"),
    })
}

#[test]
fn iso_keeps_offset_and_localizes_without_one() {
    assert_eq!(
        show("2022-05-21T11:43:21+09:00").as_deref(),
        Some("2022-05-21T11:43:21+09:00")
    );
    assert_eq!(
        show("2022-05-21T02:43:21Z").as_deref(),
        Some("2022-05-21T02:43:21+00:00")
    );
    assert_eq!(
        show("2022-05-21 11:43+0900").as_deref(),
        Some("2022-05-21T11:43:00+09:00")
    );
    assert_eq!(
        show("2022-05-21T11:43:21").as_deref(),
        Some("2022-05-21T11:43:21+09:00")
    );
    assert_eq!(
        show("2022-05-18T08:00:00.250-05:00").as_deref(),
        Some("2022-05-18T08:00:00.250-05:00")
    );
    assert_eq!(show("2022-05-20").as_deref(), Some("2022-05-20 Asia/Seoul"));
}

#[test]
fn rfc2822() {
    assert_eq!(
        show("Wed, 18 May 2022 08:00:00 GMT").as_deref(),
        Some("2022-05-18T08:00:00+00:00")
    );
    assert_eq!(
        show("Sat, 21 May 2022 09:00:00 +0900").as_deref(),
        Some("2022-05-21T09:00:00+09:00")
    );
}

#[test]
fn human_dates() {
    for (text, want) in [
        ("May 20, 2022", "2022-05-20"),
        ("Sept. 3, 2021", "2021-09-03"),
        ("Sep 3 2021", "2021-09-03"),
        ("March 04, 2021", "2021-03-04"),
        ("20 May 2022", "2022-05-20"),
        ("Friday, May 20, 2022", "2022-05-20"),
        ("May 3rd, 2022", "2022-05-03"),
        ("20-May-2022", "2022-05-20"),
        ("  February   26,\n 2021 ", "2021-02-26"),
        // No year: the latest such day not after the anchor (2022-05-21).
        ("May 20", "2022-05-20"),
        ("Dec 31", "2021-12-31"),
    ] {
        assert_eq!(show(text), Some(format!("{want} Asia/Seoul")), "{text:?}");
    }
    assert_eq!(
        show("May 20, 2022 at 3:02 p.m.").as_deref(),
        Some("2022-05-20T15:02:00+09:00")
    );
    assert_eq!(
        show("20 May 2022 12:05 am UTC").as_deref(),
        Some("2022-05-20T00:05:00+00:00")
    );
    assert_eq!(
        show("May 20, 2022 15:02 +01:00").as_deref(),
        Some("2022-05-20T15:02:00+01:00")
    );
}

#[test]
fn ymd_dates() {
    assert_eq!(show("2022.05.20").as_deref(), Some("2022-05-20 Asia/Seoul"));
    assert_eq!(show("2022/5/20").as_deref(), Some("2022-05-20 Asia/Seoul"));
    assert_eq!(
        show("2022. 5. 20.").as_deref(),
        Some("2022-05-20 Asia/Seoul")
    );
    assert_eq!(
        show("2022.05.20 15:02").as_deref(),
        Some("2022-05-20T15:02:00+09:00")
    );
}

#[test]
fn relative_dates_count_back_from_the_anchor() {
    assert_eq!(
        show("3 hours ago").as_deref(),
        Some("2022-05-21T09:00:00+09:00")
    );
    assert_eq!(
        show("an hour ago").as_deref(),
        Some("2022-05-21T11:00:00+09:00")
    );
    assert_eq!(
        show("5 mins ago").as_deref(),
        Some("2022-05-21T11:55:00+09:00")
    );
    assert_eq!(show("2h ago").as_deref(), Some("2022-05-21T10:00:00+09:00"));
    assert_eq!(show("yesterday").as_deref(), Some("2022-05-20 Asia/Seoul"));
    assert_eq!(show("Today").as_deref(), Some("2022-05-21 Asia/Seoul"));
    assert_eq!(show("2 days ago").as_deref(), Some("2022-05-19 Asia/Seoul"));
    assert_eq!(show("1 week ago").as_deref(), Some("2022-05-14 Asia/Seoul"));
    assert_eq!(
        show("about 3 days ago").as_deref(),
        Some("2022-05-18 Asia/Seoul")
    );
    // A capture day anchors to that day; hours cannot be placed finer.
    let day = Anchor::Day(NaiveDate::from_ymd_opt(2021, 3, 4).unwrap());
    let f = DateFormats::default();
    assert_eq!(
        parse("3 hours ago", &f, Seoul, day).map(|p| p.day().to_string()),
        Some("2021-03-04".into())
    );
    assert_eq!(
        parse("yesterday", &f, Seoul, day).map(|p| p.day().to_string()),
        Some("2021-03-03".into())
    );
}

#[test]
fn relative_day_is_the_day_in_the_source_zone() {
    // 23:30 UTC on May 20 is already May 21 in Seoul.
    let late = Anchor::Instant(Utc.with_ymd_and_hms(2022, 5, 20, 23, 30, 0).unwrap());
    let f = DateFormats::default();
    assert_eq!(
        parse("yesterday", &f, Seoul, late).map(|p| p.day().to_string()),
        Some("2022-05-20".into())
    );
    assert_eq!(
        parse("yesterday", &f, Tz::UTC, late).map(|p| p.day().to_string()),
        Some("2022-05-19".into())
    );
}

#[test]
fn unparseable_is_none_never_now() {
    for text in [
        "",
        "May 32, 2022",
        "February 30, 2021",
        "32 May 2022",
        "Updated recently",
        "3 months ago",
        "2 years ago",
        "03/04/2021",
        "May 2022",
        "May 20, 2022 EST",
        "13:00",
        "99999999999999999999 days ago",
        "9999999 weeks ago",
        "2022-13-01",
        "2022-05-20T25:00:00+09:00",
        "2022-05-20T10:00:00+99:00",
        "2022.05.20.01",
        "May 20, 2022 13:00 pm",
        "김정민 2022",
    ] {
        assert_eq!(show(text), None, "{text:?}");
    }
    assert_eq!(show(&"May 20, 2022 ".repeat(20)), None);
}

#[test]
fn configured_formats_and_patterns() {
    let f = DateFormats::from_names(&["%d/%m/%Y", "%d.%m.%Y %H:%M"]).unwrap();
    let p = |t: &str| parse(t, &f, Seoul, anchor()).map(|p| p.to_display());
    assert_eq!(p("03/04/2021").as_deref(), Some("2021-04-03"));
    assert_eq!(
        p("03.04.2021 15:30").as_deref(),
        Some("2021-04-03T15:30:00+09:00")
    );
    // Only the listed formats are tried.
    assert_eq!(p("May 20, 2022"), None);

    let f = DateFormats::from_names(&["human"]).unwrap();
    assert_eq!(parse("3 hours ago", &f, Seoul, anchor()), None);

    assert!(
        DateFormats::from_names(&["isoo"])
            .unwrap_err()
            .contains("isoo")
    );
    assert!(DateFormats::from_names(&["%Q"]).is_err());
    assert!(DateFormats::from_names::<&str>(&[]).is_err());
}
