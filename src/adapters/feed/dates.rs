//! Feed *dates*: RFC 822 in RSS `pubDate`, W3C-DTF / RFC 3339 in `dc:date`,
//! Atom and JSON Feed, read into a [`Published`] that keeps the offset the
//! feed gave. A date that names no zone is meant in the source's zone.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::model::Published;

/// An RSS `pubDate`: RFC 822/2822, with the usual deviations (a weekday that
/// does not match the date, no zone, an ISO date where RFC 822 belongs).
pub(crate) fn rfc822(text: &str, tz: Tz) -> Option<Published> {
    let text = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc2822(text) {
        return Some(Published::DateTime(dt));
    }
    // "Sun, 21 May 2022 ..." where the 21st was a Saturday: the date is what counts.
    let no_weekday = text
        .split_once(',')
        .filter(|(day, _)| day.trim().chars().all(char::is_alphabetic))
        .map_or(text, |(_, rest)| rest.trim());
    if let Ok(dt) = DateTime::parse_from_rfc2822(no_weekday) {
        return Some(Published::DateTime(dt));
    }
    for format in ["%d %b %Y %H:%M:%S", "%d %b %Y %H:%M", "%d %B %Y %H:%M:%S"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(no_weekday, format) {
            return local(naive, tz);
        }
    }
    w3c(text, tz)
}

/// A W3C-DTF / RFC 3339 date-time (`dc:date`, Atom, JSON Feed), or a bare
/// date, which stays a date.
pub(crate) fn w3c(text: &str, tz: Tz) -> Option<Published> {
    let text = text.trim();
    if let Some(dt) = w3c_datetime(text) {
        return Some(Published::DateTime(dt));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return local(naive, tz);
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .map(|d| Published::Date(d, tz))
}

/// A W3C-DTF date-time with its offset (`2022-05-20T18:00:00+09:00`,
/// `2022-05-20T09:00Z`, a space for the `T`).
pub(crate) fn w3c_datetime(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M%#z"))
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%#z"))
        .ok()
}

/// A zone-less time of day, placed in the source's zone.
fn local(naive: NaiveDateTime, tz: Tz) -> Option<Published> {
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| Published::DateTime(t.fixed_offset()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(p: Option<Published>) -> Option<String> {
        p.map(|p| p.to_display())
    }

    #[test]
    fn rfc822_keeps_offsets() {
        let utc = Tz::UTC;
        assert_eq!(
            show(rfc822("Sat, 21 May 2022 09:00:00 +0900", utc)).as_deref(),
            Some("2022-05-21T09:00:00+09:00")
        );
        assert_eq!(
            show(rfc822("Wed, 18 May 2022 08:00:00 GMT", utc)).as_deref(),
            Some("2022-05-18T08:00:00+00:00")
        );
        assert_eq!(
            show(rfc822("Sun, 21 May 2022 09:00:00 +0900", utc)).as_deref(),
            Some("2022-05-21T09:00:00+09:00"),
            "a wrong weekday is ignored"
        );
        assert_eq!(
            show(rfc822("21 May 2022 09:00:00", chrono_tz::Asia::Seoul)).as_deref(),
            Some("2022-05-21T09:00:00+09:00")
        );
        assert_eq!(
            show(rfc822("2022-05-21T09:00:00Z", utc)).as_deref(),
            Some("2022-05-21T09:00:00+00:00")
        );
        assert_eq!(rfc822("May 32, 2022", utc), None);
        assert_eq!(rfc822("", utc), None);
    }

    #[test]
    fn w3c_forms() {
        let utc = Tz::UTC;
        assert_eq!(
            show(w3c("2022-05-20T18:00+09:00", utc)).as_deref(),
            Some("2022-05-20T18:00:00+09:00")
        );
        assert_eq!(show(w3c("2022-05-20", utc)).as_deref(), Some("2022-05-20"));
        assert!(matches!(w3c("2022-05-20", utc), Some(Published::Date(..))));
        assert_eq!(w3c("yesterday", utc), None);
    }
}
