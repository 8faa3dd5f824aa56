//! What a request *asks*: the few request headers a response depends on
//! (the Host count, the codings accepted, the client's validators), read in
//! one pass over the header map, and the two decisions made from them: the
//! coding to send and whether the client's copy is current.

use chrono::DateTime;
use hyper::header::{self, HeaderMap, HeaderValue};

use super::super::cache::{Coding, Entry};

/// The request headers answering depends on. A repeated header counts by
/// its first value, as `HeaderMap::get` reads it.
#[derive(Default)]
pub(super) struct Asked<'h> {
    pub(super) hosts: usize,
    accept_encoding: Option<&'h HeaderValue>,
    if_none_match: Option<&'h HeaderValue>,
    if_modified_since: Option<&'h HeaderValue>,
}

impl<'h> Asked<'h> {
    /// One pass over `headers` (a lookup per name hashes it: four lookups
    /// cost more than reading the two or three headers a client sends).
    pub(super) fn read(headers: &'h HeaderMap) -> Self {
        let mut asked = Asked::default();
        for (name, value) in headers {
            if name == header::HOST {
                asked.hosts += 1;
            } else if name == header::ACCEPT_ENCODING {
                asked.accept_encoding.get_or_insert(value);
            } else if name == header::IF_NONE_MATCH {
                asked.if_none_match.get_or_insert(value);
            } else if name == header::IF_MODIFIED_SINCE {
                asked.if_modified_since.get_or_insert(value);
            }
        }
        asked
    }

    /// Is the client's copy current? `If-None-Match` decides when present
    /// (any coding's tag of the same content matches; weak tags compare by
    /// value, as RFC 9110 asks for this header); otherwise
    /// `If-Modified-Since` against the newest item's time.
    pub(super) fn not_modified(&self, entry: &Entry) -> bool {
        if let Some(inm) = self.if_none_match {
            let Ok(inm) = inm.to_str() else { return false };
            return inm.split(',').map(str::trim).any(|tag| {
                if tag == "*" {
                    return true;
                }
                let tag = tag.strip_prefix("W/").unwrap_or(tag);
                let tag = tag.trim_matches('"');
                let tag = tag
                    .strip_suffix("-gz")
                    .or_else(|| tag.strip_suffix("-br"))
                    .unwrap_or(tag);
                tag == entry.digest
            });
        }
        let since = self
            .if_modified_since
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v.trim()).ok());
        match (since, entry.last_modified) {
            (Some(since), Some(modified)) => modified.timestamp() <= since.timestamp(),
            _ => false,
        }
    }

    /// A coding from `Accept-Encoding` (with q-values and `*`): the highest
    /// q among those the entry has, brotli before gzip before identity on a
    /// tie.
    pub(super) fn coding(&self, entry: &Entry) -> Coding {
        let Some(accept) = self.accept_encoding else {
            return Coding::Identity;
        };
        // On bytes: the str splits and Unicode trims cost 440 instructions
        // of a cached request for a lone `gzip`.
        let (mut br, mut gz, mut id, mut star) = (None, None, None, None);
        for part in accept.as_bytes().split(|&b| b == b',') {
            let mut params = part.split(|&b| b == b';');
            let name = params.next().unwrap_or_default().trim_ascii();
            let q = params
                .filter_map(|p| p.trim_ascii().strip_prefix(b"q="))
                .find_map(|q| {
                    std::str::from_utf8(q.trim_ascii())
                        .ok()?
                        .parse::<f32>()
                        .ok()
                })
                .unwrap_or(1.0);
            if name.eq_ignore_ascii_case(b"br") {
                br = Some(q);
            } else if name.eq_ignore_ascii_case(b"gzip") || name.eq_ignore_ascii_case(b"x-gzip") {
                gz = Some(q);
            } else if name.eq_ignore_ascii_case(b"identity") {
                id = Some(q);
            } else if name == b"*" {
                star = Some(q);
            }
        }
        let mut best = (
            id.or(star.filter(|q| *q <= 0.0)).unwrap_or(1.0),
            Coding::Identity,
        );
        for (q, coding) in [(gz.or(star), Coding::Gzip), (br.or(star), Coding::Brotli)] {
            if let Some(q) = q
                && q > 0.0
                && q >= best.0
                && entry.has(coding)
            {
                best = (q, coding);
            }
        }
        best.1
    }
}
