//! Loading and checking feeds.toml: defaults, every error with its place.

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, "feeds.toml", Path::new("/etc/byline"))
}

#[test]
fn minimal_source_with_defaults() {
    let c = parse(
        r#"
[[source]]
name = "nk"
kind = "text"
inputs = ["dumps/a.txt", { file = "b.txt", url = "https://x.example/news/", captured = "2021-03-04" }]
"#,
    )
    .unwrap();
    assert_eq!(c.base_url.as_str(), "http://127.0.0.1:8080/");
    assert_eq!(c.server.listen, "127.0.0.1:8080");
    let s = &c.sources[0];
    assert_eq!(s.timezone, Tz::UTC);
    assert_eq!(
        s.inputs[0].location,
        Location::File("/etc/byline/dumps/a.txt".into())
    );
    assert_eq!(
        s.inputs[1].page_url.as_ref().unwrap().as_str(),
        "https://x.example/news/"
    );
    assert_eq!(s.inputs[1].captured, NaiveDate::from_ymd_opt(2021, 3, 4));
    assert_eq!(s.inputs[1].captured_at, None);
}

#[test]
fn captured_takes_a_date_time_with_offset() {
    let c = parse(
        "[[source]]\nname = \"nk\"\nkind = \"text\"\ninputs = [{ file = \"a\", captured = \"2022-05-21T09:40:00+09:00\" }]\n",
    )
    .unwrap();
    let input = &c.sources[0].inputs[0];
    assert_eq!(input.captured, NaiveDate::from_ymd_opt(2022, 5, 21));
    assert_eq!(
        input.captured_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2022-05-21T09:40:00+09:00")
    );
    let e = parse("[[source]]\nname = \"nk\"\nkind = \"text\"\ninputs = [{ file = \"a\", captured = \"2022-05-21 09:40\" }]\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("date-time with offset"), "{e}");
}

#[test]
fn store_retention_and_user_agent() {
    let c = parse("[[source]]\nname = \"nk\"\nkind = \"text\"\ninputs = [\"a\"]\n").unwrap();
    assert_eq!(
        c.store.location,
        StoreLocation::Sqlite("/etc/byline/byline.db".into())
    );
    assert_eq!(c.store.lease, std::time::Duration::from_secs(30));
    assert_eq!(c.user_agent, None);
    assert_eq!(c.sources[0].retention, Retention::default());

    let c = parse(
        "user_agent = \"me/1.0 (+mailto:me@example.org)\"\n[store]\npath = \"/var/lib/byline/x.db\"\n\
         [[source]]\nname = \"nk\"\nkind = \"text\"\ninputs = [\"a\"]\n\
         retention_max_items = 500\nretention_max_age_days = 30\n",
    )
    .unwrap();
    assert_eq!(
        c.store.location,
        StoreLocation::Sqlite("/var/lib/byline/x.db".into())
    );
    assert_eq!(
        c.user_agent.as_deref(),
        Some("me/1.0 (+mailto:me@example.org)")
    );
    assert_eq!(
        c.sources[0].retention,
        Retention {
            max_items: Some(500),
            max_age_days: Some(30)
        }
    );

    let e = parse(
        "[[source]]\nname = \"nk\"\nkind = \"text\"\ninputs = [\"a\"]\nretention_max_items = 0\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("feeds.toml:5:") && e.contains("retention_max_items"),
        "{e}"
    );
    let e = parse("user_agent = \"caf\u{e9}\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("feeds.toml:1:") && e.contains("user_agent"),
        "{e}"
    );
    let e = parse("[store]\nfile = \"x\"\n").unwrap_err().to_string();
    assert!(e.starts_with("feeds.toml:2:") && e.contains("file"), "{e}");
}

#[test]
fn a_postgres_store_is_a_url_and_never_a_path_too() {
    let c =
        parse("[store]\nurl = \"postgres://byline@db.internal/byline\"\nlease_secs = 5\n").unwrap();
    assert_eq!(
        c.store.location,
        StoreLocation::Postgres("postgres://byline@db.internal/byline".into())
    );
    assert_eq!(c.store.lease, std::time::Duration::from_secs(5));
    let e = parse("[store]\npath = \"x.db\"\nurl = \"postgres://h/b\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("feeds.toml:3:") && e.contains("not both"),
        "{e}"
    );
    let e = parse("[store]\nurl = \"mysql://h/b\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("feeds.toml:2:") && e.contains("postgres://"),
        "{e}"
    );
    let e = parse("[store]\nlease_secs = 1\n").unwrap_err().to_string();
    assert!(
        e.starts_with("feeds.toml:2:") && e.contains("lease_secs"),
        "{e}"
    );
    // A password never shows where the store is named.
    let named = StoreLocation::parse("postgres://byline:s3cret@db/byline").name();
    assert!(
        !named.contains("s3cret") && named.contains("db/byline"),
        "{named}"
    );
}

#[test]
fn trusted_proxy_ranges() {
    let c = parse("[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"fd00::/8\"]\n")
        .unwrap();
    assert!(c.suggest_allow.is_empty());
    let s = parse("[suggest]\nallow = [\"127.0.0.1\", \"10.0.0.0/8\"]\n").unwrap();
    assert!(s.suggest_allow[1].contains("10.9.8.7".parse().unwrap()));
    let e = parse("[suggest]\nallow = [\"10.0.0.0/40\"]\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("feeds.toml:2:") && e.contains("suggest.allow"),
        "{e}"
    );
    let r = &c.server.trusted_proxies;
    let has = |a: &str| r.iter().any(|p| p.contains(a.parse().unwrap()));
    assert!(has("127.0.0.1") && has("::ffff:127.0.0.1") && has("10.200.0.1") && has("fd12::1"));
    assert!(!has("127.0.0.2") && !has("11.0.0.1") && !has("::1"));
    assert_eq!(c.server.max_items, 50);
    assert_eq!(c.server.refresh_interval_secs, 1800);
}

#[test]
fn errors_name_line_and_key() {
    let e = parse("title = \"x\"\n[[source]]\nname = \"nk\"\nkind = \"text\"\ninputs = [\"a\"]\ntimezone = \"Mars/Olympus\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("feeds.toml:6:"), "{e}");
    assert!(e.contains("timezone") && e.contains("Mars/Olympus"), "{e}");

    let e = parse("[[source]]\nname = \"nk\"\nkind = \"txt\"\ninputs = [\"a\"]\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("feeds.toml:3:"), "{e}");
    assert!(e.contains("text"), "{e}");

    let e = parse("[[source]]\nname = \"nk\"\nkind = \"text\"\ninputs = [\"a\"]\ncolour = 1\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("feeds.toml:5:") && e.contains("colour"),
        "{e}"
    );

    let e = parse("[[source]]\nname = \"N K\"\nkind = \"text\"\ninputs = [\"a\"]\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("feeds.toml:2:") && e.contains("name"), "{e}");

    let e = parse("base_url = \"feeds/\"\n").unwrap_err().to_string();
    assert!(
        e.starts_with("feeds.toml:1:") && e.contains("base_url"),
        "{e}"
    );

    let e = parse("[server]\nlisten = \"localhost\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("feeds.toml:2:") && e.contains("listen"),
        "{e}"
    );
    let e = parse("[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/33\"]\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("feeds.toml:2:") && e.contains("10.0.0.0/33"),
        "{e}"
    );
    let e = parse("[server]\nmax_connections = 0\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("feeds.toml:2:") && e.contains("max_connections"),
        "{e}"
    );

    let e = parse("[[source]]\nname = \"a\"\nkind = \"text\"\ninputs = [\"a\"]\n[[source]]\nname = \"a\"\nkind = \"text\"\ninputs = [\"b\"]\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("used twice"), "{e}");
}

#[test]
fn alarms_default_and_a_source_overrides_single_keys() {
    let c = parse(
        r#"
[alarms]
card_drop = 0.4
webhook = "http://127.0.0.1:9000/hook"

[[source]]
name = "a"
kind = "text"
inputs = ["a.txt"]

[[source]]
name = "b"
kind = "text"
inputs = ["b.txt"]
[source.alarms]
min_reads = 5
pagination = false
"#,
    )
    .unwrap();
    let (a, b) = (&c.sources[0].alarms, &c.sources[1].alarms);
    assert_eq!(a.card_drop, 0.4);
    assert_eq!(a.min_reads, Alarms::default().min_reads);
    assert_eq!((b.card_drop, b.min_reads, b.pagination), (0.4, 5, false));
    assert_eq!(b.history, Alarms::default().history);
    assert_eq!(
        c.alarm_webhook.as_ref().map(Url::as_str),
        Some("http://127.0.0.1:9000/hook")
    );
}

#[test]
fn alarm_mistakes_name_their_key_and_place() {
    let source = "[[source]]\nname = \"a\"\nkind = \"text\"\ninputs = [\"a.txt\"]\n";
    let cases = [
        (
            "[alarms]\ncard_drop = 1.5\n",
            "feeds.toml:2:",
            "alarms.card_drop: expected a share",
        ),
        (
            "[alarms]\nhistory = 2\nmin_reads = 3\n",
            "feeds.toml:3:",
            "more than history",
        ),
        (
            "[alarms]\nwebhook = \"ftp://x/\"\n",
            "feeds.toml:2:",
            "alarms.webhook",
        ),
    ];
    for (table, place, want) in cases {
        let e = parse(&format!("{table}{source}")).unwrap_err().to_string();
        assert!(e.contains(want), "{table}: {e}");
        assert!(e.starts_with(place), "{e}");
    }
    let e = parse(&format!(
        "{source}[source.alarms]\nwebhook = \"http://x/\"\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("top-level [alarms]"), "{e}");
    assert!(e.starts_with("feeds.toml:6:"), "{e}");
}

#[test]
fn an_unknown_key_names_the_nearest_known_one() {
    let e = parse("[server]\nlisen = \"127.0.0.1:9000\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("feeds.toml:2:1: unknown field `lisen`"),
        "{e}"
    );
    assert!(e.ends_with("did you mean `listen`?"), "{e}");
    // Nothing close: no guess.
    let e = parse("[server]\nzzzz = 1\n").unwrap_err().to_string();
    assert!(!e.contains("did you mean"), "{e}");
}

#[test]
fn article_reading_is_off_unless_asked_and_checked_with_its_place() {
    let base =
        "[[source]]\nname = \"nk\"\nkind = \"feed\"\ninputs = [\"https://x.example/feed\"]\n";
    assert_eq!(parse(base).unwrap().sources[0].article, None);
    let on = parse(&format!("{base}[source.article]\n")).unwrap();
    assert_eq!(on.sources[0].article, Some(ArticleConfig::default()));
    let off = parse(&format!("{base}[source.article]\nenabled = false\n")).unwrap();
    assert_eq!(off.sources[0].article, None);
    let full = parse(&format!(
        "{base}[source.article]\ncontent = \"div.entry-content\"\nremove = [\".ad\", \"aside\"]\n\
         max_per_refresh = 3\ndelay_ms = 250\nmax_attempts = 2\ndir = \"articles\"\n"
    ))
    .unwrap();
    let a = full.sources[0].article.clone().unwrap();
    assert_eq!(a.content.as_deref(), Some("div.entry-content"));
    assert_eq!(a.remove, [".ad", "aside"]);
    assert_eq!((a.max_per_refresh, a.delay_ms, a.max_attempts), (3, 250, 2));
    assert_eq!(a.dir, Some("/etc/byline/articles".into()));

    let err = |extra: &str| {
        parse(&format!("{base}[source.article]\n{extra}\n"))
            .unwrap_err()
            .to_string()
    };
    let e = err("remove = [\"div[\"]");
    assert!(
        e.starts_with("feeds.toml:6:11: source \"nk\": article.remove: invalid CSS selector"),
        "{e}"
    );
    let e = err("max_per_refresh = 0");
    assert!(
        e.starts_with(
            "feeds.toml:6:19: source \"nk\": article.max_per_refresh: expected a number from 1"
        ),
        "{e}"
    );
    let e = err("contents = \"p\"");
    assert!(e.contains("unknown field `contents`"), "{e}");
}
