//! The date parser on arbitrary text, with the default formats and with
//! strftime patterns, anchored to an instant and to a capture day: it may
//! return None, never panic, and never a date it was not given.
#![no_main]

use byline::dates::{self, Anchor, DateFormats};
use chrono::{NaiveDate, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let defaults = DateFormats::default();
    let patterns = DateFormats::from_names(&["%d/%m/%Y", "%d.%m.%Y %H:%M", "%B %e, %Y %I:%M %p %z"])
        .expect("patterns");
    let anchors = [
        Anchor::Instant(Utc.with_ymd_and_hms(2022, 5, 21, 3, 0, 0).unwrap()),
        Anchor::Day(NaiveDate::from_ymd_opt(2021, 3, 4).unwrap()),
    ];
    for tz in [chrono_tz::Asia::Seoul, chrono_tz::America::New_York, chrono_tz::UTC] {
        for anchor in anchors {
            for formats in [&defaults, &patterns] {
                if let Some(p) = dates::parse(&text, formats, tz, anchor) {
                    let _ = p.instant();
                    let _ = p.to_display();
                }
            }
        }
    }
    // A config's format list is text too.
    let _ = DateFormats::from_names(&[text.as_ref()]);
});
