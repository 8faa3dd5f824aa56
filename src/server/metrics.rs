//! Metrics: counters the request path bumps with relaxed atomics (no lock,
//! no allocation), and their Prometheus text rendering together with the
//! snapshot's gauges (items, per-source state, cache).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::status::SourceStatus;

/// What the published snapshot contributes to `/metrics`.
pub(crate) struct Gauges<'a> {
    pub(crate) items: usize,
    pub(crate) store_bytes: usize,
    /// Views by kind: author, tag, source, custom.
    pub(crate) views: [(&'static str, usize); 4],
    pub(crate) published_at: chrono::DateTime<chrono::Utc>,
    /// Rendered documents held, and their bytes.
    pub(crate) cache: (usize, usize),
    pub(crate) sources: &'a [SourceStatus],
}

/// What kind of resource a request was for: the `route` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteClass {
    Index,
    Feed,
    Author,
    Tag,
    Source,
    Custom,
    Opml,
    Health,
    Metrics,
    Other,
}

const CLASSES: [(RouteClass, &str); 10] = [
    (RouteClass::Index, "index"),
    (RouteClass::Feed, "feed"),
    (RouteClass::Author, "author"),
    (RouteClass::Tag, "tag"),
    (RouteClass::Source, "source"),
    (RouteClass::Custom, "custom"),
    (RouteClass::Opml, "opml"),
    (RouteClass::Health, "healthz"),
    (RouteClass::Metrics, "metrics"),
    (RouteClass::Other, "other"),
];

/// Status codes the server sends; anything else is counted as `other`.
const STATUSES: [u16; 11] = [200, 301, 304, 400, 404, 405, 413, 414, 431, 500, 503];

/// Upper bounds (seconds) of the request-duration histogram: time spent in
/// the handler, from routing to a ready response.
const BUCKETS: [f64; 8] = [0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.01, 0.1, 1.0];

pub(crate) struct Metrics {
    requests: [[AtomicU64; STATUSES.len() + 1]; CLASSES.len()],
    bytes: [AtomicU64; CLASSES.len()],
    not_modified: AtomicU64,
    /// Upstream fetches answered "not modified" (no parse, no render).
    pub(crate) upstream_not_modified: AtomicU64,
    duration_buckets: [AtomicU64; BUCKETS.len()],
    duration_count: AtomicU64,
    duration_sum_nanos: AtomicU64,
    pub(crate) connections_open: AtomicI64,
    pub(crate) connections_total: AtomicU64,
    /// Connections closed on a protocol error or timeout (slow headers, bad requests).
    pub(crate) connection_errors: AtomicU64,
    /// Per source, since start-up: what an alert on "it keeps breaking"
    /// (rather than "it is broken now") counts.
    per_source: Mutex<BTreeMap<String, SourceCounts>>,
}

/// One source's counters.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SourceCounts {
    pub(crate) refreshes: u64,
    pub(crate) failures: u64,
    pub(crate) raised: u64,
    pub(crate) cleared: u64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            bytes: std::array::from_fn(|_| AtomicU64::new(0)),
            not_modified: AtomicU64::new(0),
            upstream_not_modified: AtomicU64::new(0),
            duration_buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            duration_count: AtomicU64::new(0),
            duration_sum_nanos: AtomicU64::new(0),
            connections_open: AtomicI64::new(0),
            connections_total: AtomicU64::new(0),
            connection_errors: AtomicU64::new(0),
            per_source: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Metrics {
    /// Count one response: its class, status, body bytes sent and handler time.
    pub(crate) fn record(&self, class: RouteClass, status: u16, bytes: usize, took: Duration) {
        let c = CLASSES.iter().position(|(k, _)| *k == class).unwrap_or(0);
        let s = STATUSES
            .iter()
            .position(|&x| x == status)
            .unwrap_or(STATUSES.len());
        if let Some(counter) = self.requests.get(c).and_then(|row| row.get(s)) {
            counter.fetch_add(1, Relaxed);
        }
        if let Some(counter) = self.bytes.get(c) {
            counter.fetch_add(bytes as u64, Relaxed);
        }
        if status == 304 {
            self.not_modified.fetch_add(1, Relaxed);
        }
        // One bucket per request; the exposition sums them into Prometheus'
        // cumulative `le` buckets.
        let secs = took.as_secs_f64();
        if let Some(counter) = BUCKETS
            .iter()
            .position(|bound| secs <= *bound)
            .and_then(|n| self.duration_buckets.get(n))
        {
            counter.fetch_add(1, Relaxed);
        }
        self.duration_count.fetch_add(1, Relaxed);
        self.duration_sum_nanos
            .fetch_add(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    /// Count one refresh of `source`: whether it failed, and the alarms it
    /// raised and cleared.
    pub(crate) fn count_refresh(&self, source: &str, failed: bool, raised: u64, cleared: u64) {
        let mut all = self
            .per_source
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let c = all.entry(source.to_owned()).or_default();
        c.refreshes += 1;
        c.failures += u64::from(failed);
        c.raised += raised;
        c.cleared += cleared;
    }

    fn source_counters(&self, out: &mut String) -> std::fmt::Result {
        let all = self
            .per_source
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        type Count = fn(&SourceCounts) -> u64;
        let counters: [(&str, &str, Count); 4] = [
            (
                "byline_source_refreshes_total",
                "Refreshes of the source since start-up.",
                |c| c.refreshes,
            ),
            (
                "byline_source_refresh_failures_total",
                "Refreshes of the source that failed, since start-up.",
                |c| c.failures,
            ),
            (
                "byline_source_alarms_raised_total",
                "Alarms raised for the source since start-up.",
                |c| c.raised,
            ),
            (
                "byline_source_alarms_cleared_total",
                "Alarms of the source cleared since start-up.",
                |c| c.cleared,
            ),
        ];
        for (name, help, count) in counters {
            writeln!(out, "# HELP {name} {help}")?;
            writeln!(out, "# TYPE {name} counter")?;
            for (source, c) in &all {
                writeln!(out, "{name}{{source=\"{}\"}} {}", escape(source), count(c))?;
            }
        }
        Ok(())
    }

    pub(crate) fn render(&self, snap: &Gauges) -> String {
        let mut out = String::with_capacity(4096);
        // Writing to a String cannot fail.
        let _ = self.write(&mut out, snap);
        let _ = self.source_counters(&mut out);
        out
    }

    fn write(&self, out: &mut String, snap: &Gauges) -> std::fmt::Result {
        writeln!(
            out,
            "# HELP byline_http_requests_total HTTP responses by route class and status."
        )?;
        writeln!(out, "# TYPE byline_http_requests_total counter")?;
        for ((_, class), row) in CLASSES.iter().zip(&self.requests) {
            for (n, counter) in row.iter().enumerate() {
                let v = counter.load(Relaxed);
                if v == 0 {
                    continue;
                }
                let status = STATUSES
                    .get(n)
                    .map_or_else(|| "other".to_owned(), u16::to_string);
                writeln!(
                    out,
                    "byline_http_requests_total{{route=\"{class}\",status=\"{status}\"}} {v}"
                )?;
            }
        }
        writeln!(
            out,
            "# HELP byline_http_not_modified_total Conditional requests answered with 304."
        )?;
        writeln!(out, "# TYPE byline_http_not_modified_total counter")?;
        writeln!(
            out,
            "byline_http_not_modified_total {}",
            self.not_modified.load(Relaxed)
        )?;
        writeln!(
            out,
            "# HELP byline_upstream_not_modified_total Source fetches answered 304 (or an unchanged file): no parse."
        )?;
        writeln!(out, "# TYPE byline_upstream_not_modified_total counter")?;
        writeln!(
            out,
            "byline_upstream_not_modified_total {}",
            self.upstream_not_modified.load(Relaxed)
        )?;
        writeln!(
            out,
            "# HELP byline_http_response_bytes_total Body bytes sent, by route class."
        )?;
        writeln!(out, "# TYPE byline_http_response_bytes_total counter")?;
        for ((_, class), counter) in CLASSES.iter().zip(&self.bytes) {
            writeln!(
                out,
                "byline_http_response_bytes_total{{route=\"{class}\"}} {}",
                counter.load(Relaxed)
            )?;
        }
        writeln!(
            out,
            "# HELP byline_http_request_duration_seconds Time from routing to a ready response."
        )?;
        writeln!(out, "# TYPE byline_http_request_duration_seconds histogram")?;
        let mut cumulative = 0;
        for (bound, counter) in BUCKETS.iter().zip(&self.duration_buckets) {
            cumulative += counter.load(Relaxed);
            writeln!(
                out,
                "byline_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            )?;
        }
        let count = self.duration_count.load(Relaxed);
        writeln!(
            out,
            "byline_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        )?;
        writeln!(
            out,
            "byline_http_request_duration_seconds_sum {}",
            self.duration_sum_nanos.load(Relaxed) as f64 / 1e9
        )?;
        writeln!(out, "byline_http_request_duration_seconds_count {count}")?;

        gauge(
            out,
            "byline_http_connections_open",
            "Client connections open now.",
            self.connections_open.load(Relaxed),
        )?;
        counter(
            out,
            "byline_http_connections_total",
            "Client connections accepted.",
            self.connections_total.load(Relaxed),
        )?;
        counter(
            out,
            "byline_http_connection_errors_total",
            "Connections closed on a protocol error or a header timeout.",
            self.connection_errors.load(Relaxed),
        )?;

        gauge(
            out,
            "byline_items",
            "Items in the published set.",
            snap.items,
        )?;
        writeln!(out, "# HELP byline_views Views published, by kind.")?;
        writeln!(out, "# TYPE byline_views gauge")?;
        for (kind, n) in snap.views {
            writeln!(out, "byline_views{{kind=\"{kind}\"}} {n}")?;
        }
        gauge(
            out,
            "byline_published_timestamp_seconds",
            "When the current item set was published.",
            snap.published_at.timestamp(),
        )?;
        gauge(
            out,
            "byline_item_store_bytes",
            "Bytes of the packed published items.",
            snap.store_bytes,
        )?;
        let (entries, bytes) = snap.cache;
        gauge(
            out,
            "byline_cache_documents",
            "Rendered documents held in memory.",
            entries,
        )?;
        gauge(
            out,
            "byline_cache_bytes",
            "Bytes of rendered and compressed documents held in memory.",
            bytes,
        )?;

        type Field = fn(&SourceStatus) -> i64;
        let per_source: [(&str, &str, Field); 9] = [
            (
                "byline_source_state",
                "0 ok, 1 degraded (drift: the page reads, not as it used to), 2 failing (a page failed).",
                |s| match s.state {
                    "ok" => 0,
                    "degraded" => 1,
                    _ => 2,
                },
            ),
            (
                "byline_source_alarm_since_timestamp_seconds",
                "When the source's oldest alarm that holds was raised (0: none holds).",
                |s| {
                    s.alarms
                        .iter()
                        .map(|a| a.since.timestamp())
                        .min()
                        .unwrap_or(0)
                },
            ),
            (
                "byline_source_up",
                "1 if the source's last read had no errors.",
                |s| i64::from(s.healthy()),
            ),
            (
                "byline_source_items_read",
                "Items the source's last read gave.",
                |s| s.items_read as i64,
            ),
            (
                "byline_source_items_published",
                "Published items that come from the source.",
                |s| s.items_published as i64,
            ),
            ("byline_source_pages", "Pages the last read got.", |s| {
                i64::from(s.pages)
            }),
            (
                "byline_source_warnings",
                "Warnings of the last read.",
                |s| s.warnings as i64,
            ),
            ("byline_source_errors", "Errors of the last read.", |s| {
                s.errors.len() as i64
            }),
            (
                "byline_source_last_error_timestamp_seconds",
                "When the source last failed (0: never).",
                |s| s.last_error_at.map_or(0, |t| t.timestamp()),
            ),
        ];
        for (name, help, field) in per_source {
            writeln!(out, "# HELP {name} {help}")?;
            writeln!(out, "# TYPE {name} gauge")?;
            for s in snap.sources {
                writeln!(out, "{name}{{source=\"{}\"}} {}", escape(&s.name), field(s))?;
            }
        }
        // One series per alarm that holds: what an alert on drift keys on.
        let name = "byline_source_alarm";
        writeln!(
            out,
            "# HELP {name} 1 for each alarm that holds (kind: cards, field:NAME, pagination, blocked, error_page, empty, fetch, ...)."
        )?;
        writeln!(out, "# TYPE {name} gauge")?;
        for s in snap.sources {
            for a in &s.alarms {
                writeln!(
                    out,
                    "{name}{{source=\"{}\",kind=\"{}\"}} 1",
                    escape(&s.name),
                    escape(&a.kind)
                )?;
            }
        }
        // Which step failed, so an alert can tell a site that is down
        // (fetch) from one whose markup changed (parse, empty).
        let name = "byline_source_failed";
        writeln!(
            out,
            "# HELP {name} 1 for the stage (fetch, decode, parse, empty, blocked, error_page, store) at which the source's last read failed."
        )?;
        writeln!(out, "# TYPE {name} gauge")?;
        for s in snap.sources {
            if let Some(stage) = s.failed_stage {
                writeln!(
                    out,
                    "{name}{{source=\"{}\",stage=\"{stage}\"}} 1",
                    escape(&s.name)
                )?;
            }
        }
        Ok(())
    }
}

fn gauge(out: &mut String, name: &str, help: &str, v: impl std::fmt::Display) -> std::fmt::Result {
    writeln!(out, "# HELP {name} {help}")?;
    writeln!(out, "# TYPE {name} gauge")?;
    writeln!(out, "{name} {v}")
}

fn counter(out: &mut String, name: &str, help: &str, v: u64) -> std::fmt::Result {
    writeln!(out, "# HELP {name} {help}")?;
    writeln!(out, "# TYPE {name} counter")?;
    writeln!(out, "{name} {v}")
}

/// Escape a label value (source names are url-safe already; this is defence).
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        for micros in [10, 80, 80, 700, 5_000_000] {
            m.record(RouteClass::Feed, 200, 1, Duration::from_micros(micros));
        }
        let published = super::super::Published::new(
            crate::config::Config::parse("", "feeds.toml", std::path::Path::new(".")).unwrap(),
        );
        let text = m.render(&published.snapshot().gauges());
        let bucket = |le: &str| -> u64 {
            let prefix = format!("byline_http_request_duration_seconds_bucket{{le=\"{le}\"}} ");
            text.lines()
                .find_map(|l| l.strip_prefix(&prefix))
                .unwrap()
                .parse()
                .unwrap()
        };
        assert_eq!(bucket("0.00005"), 1);
        assert_eq!(bucket("0.0001"), 3);
        assert_eq!(bucket("0.001"), 4);
        assert_eq!(bucket("1"), 4);
        assert_eq!(bucket("+Inf"), 5);
        assert!(text.contains("byline_http_requests_total{route=\"feed\",status=\"200\"} 5"));
    }
}
