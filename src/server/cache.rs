//! The document cache: rendered documents ready to send. An *entry* is one
//! document with its gzip and brotli bytes and validators, made once when it
//! is rendered; the cache keeps entries within a byte budget, dropping the
//! least recently used.

use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use hyper::header::{self, HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

use crate::site::Document;

/// Bodies shorter than this are not worth compressing.
const MIN_COMPRESS: usize = 256;
/// Brotli quality 6: on the bundled site's feeds and pages (3-40 KB) it
/// comes within 1 % of quality 9's size at a tenth of its time (0.1-0.9 ms
/// against 3-12 ms; quality 9 switches to a hasher that fills megabytes of
/// tables per call). Quality 11 is 15 % smaller at 20-40 ms, too dear for
/// documents rendered at every publish or on first request.
const BROTLI_QUALITY: i32 = 6;
const BROTLI_WINDOW: i32 = 22;

/// Rendered documents kept within a byte budget (and an entry count),
/// dropping the least recently used.
pub(crate) struct DocCache {
    /// Keyed by path (and narrowing), hashed with foldhash: SipHash was
    /// two thirds of a cached lookup. Its seed is random per process, so
    /// clients asking for narrowings cannot aim at one bucket.
    pub(crate) map: foldhash::HashMap<Box<str>, (Arc<Entry>, u64)>,
    pub(crate) bytes: usize,
    pub(crate) budget: usize,
    max_entries: usize,
    clock: u64,
}

impl DocCache {
    /// Drop every entry (requests holding one keep it).
    pub(crate) fn clear(&mut self) {
        self.map = foldhash::HashMap::default();
        self.bytes = 0;
    }

    pub(crate) fn new(budget: usize, max_entries: usize) -> Self {
        DocCache {
            map: foldhash::HashMap::default(),
            bytes: 0,
            budget,
            max_entries,
            clock: 0,
        }
    }

    pub(crate) fn get(&mut self, key: &str) -> Option<Arc<Entry>> {
        self.clock += 1;
        let clock = self.clock;
        self.map.get_mut(key).map(|(e, used)| {
            *used = clock;
            e.clone()
        })
    }

    /// Keep `entry` unless it alone is over budget, evicting the least
    /// recently used entries to make room. The scan is linear, but it only
    /// runs on a miss, which renders a document anyway.
    pub(crate) fn insert(&mut self, key: String, entry: Arc<Entry>) {
        if entry.size > self.budget || self.max_entries == 0 {
            return;
        }
        while self.bytes + entry.size > self.budget || self.map.len() >= self.max_entries {
            let Some(oldest) = self
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((e, _)) = self.map.remove(&oldest) {
                self.bytes -= e.size;
            }
        }
        self.clock += 1;
        let size = entry.size;
        if let Some((old, _)) = self.map.insert(key.into(), (entry, self.clock)) {
            self.bytes -= old.size;
        }
        self.bytes += size;
    }
}

/// A content coding the server can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    pub(crate) fn header(self) -> Option<HeaderValue> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some(HeaderValue::from_static("gzip")),
            Coding::Brotli => Some(HeaderValue::from_static("br")),
        }
    }
}

/// One rendered document, ready to send: every encoding and the validators.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) content_type: HeaderValue,
    pub(crate) identity: Bytes,
    pub(crate) gzip: Option<Bytes>,
    pub(crate) brotli: Option<Bytes>,
    /// Hex digest of the identity body: the strong validator all codings share.
    pub(crate) digest: String,
    /// `ETag` per coding: `"<digest>"`, `"<digest>-gz"`, `"<digest>-br"`
    /// (a strong tag names one exact representation).
    etags: [HeaderValue; 3],
    pub(crate) last_modified: Option<DateTime<Utc>>,
    pub(crate) last_modified_header: Option<HeaderValue>,
    /// Bytes held, for the cache budget.
    pub(crate) size: usize,
    /// The response headers of each coding (identity, gzip, brotli), built
    /// on first send and cloned per response: a clone costs less than
    /// inserting (and hashing) every header again.
    heads: OnceLock<Heads>,
}

/// Ready response headers and what they were built with.
#[derive(Debug)]
struct Heads {
    cache_control: HeaderValue,
    vary: &'static str,
    by_coding: [HeaderMap; 3],
}

impl Entry {
    pub(crate) fn new(doc: Document) -> Entry {
        Entry::with_effort(doc, Effort::Best)
    }

    /// An entry whose compressed bytes cost `effort`.
    pub(crate) fn with_effort(doc: Document, effort: Effort) -> Entry {
        // Boxed slices hold exactly their length: a renderer's or encoder's
        // spare capacity would otherwise stay allocated for the entry's life.
        let identity = Bytes::from(doc.body.into_bytes().into_boxed_slice());
        let digest: String = Sha256::digest(&identity)[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let smaller = |c: Option<Vec<u8>>| c.filter(|c| c.len() < identity.len()).map(Bytes::from);
        let (gzip, brotli) = if identity.len() >= MIN_COMPRESS {
            (
                smaller(gzip(&identity, effort)),
                smaller(brotli(&identity, effort)),
            )
        } else {
            (None, None)
        };
        let tag = |suffix: &str| {
            HeaderValue::from_str(&format!("\"{digest}{suffix}\""))
                .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
        };
        let etags = [tag(""), tag("-gz"), tag("-br")];
        let last_modified = doc
            .last_modified
            .and_then(|t| DateTime::from_timestamp(t.timestamp(), 0));
        let size = identity.len()
            + gzip.as_ref().map_or(0, Bytes::len)
            + brotli.as_ref().map_or(0, Bytes::len)
            + doc.path.len()
            + 256;
        Entry {
            content_type: HeaderValue::from_static(doc.content_type),
            identity,
            gzip,
            brotli,
            etags,
            last_modified_header: last_modified
                .and_then(|t| HeaderValue::from_str(&http_date(t)).ok()),
            last_modified,
            digest,
            size,
            heads: OnceLock::new(),
        }
    }

    /// The headers of a `200` in `coding` (as [`Entry::representation`]
    /// resolves it), for documents served with `cache_control` and `vary`.
    pub(crate) fn head(
        &self,
        coding: Coding,
        cache_control: &HeaderValue,
        vary: &'static str,
    ) -> HeaderMap {
        let build = || Heads {
            cache_control: cache_control.clone(),
            vary,
            by_coding: [Coding::Identity, Coding::Gzip, Coding::Brotli]
                .map(|c| self.build_head(c, cache_control, vary, true)),
        };
        let heads = self.heads.get_or_init(build);
        if heads.vary != vary || heads.cache_control != cache_control {
            // Not what this entry was first sent with (never within one
            // snapshot): build, don't cache.
            return self.build_head(coding, cache_control, vary, true);
        }
        let n = match self.representation(coding).0 {
            Coding::Identity => 0,
            Coding::Gzip => 1,
            Coding::Brotli => 2,
        };
        heads.by_coding[n].clone()
    }

    /// The headers of a `304 Not Modified` for `coding`: the validators and
    /// caching headers of the `200`, without those that describe a body.
    pub(crate) fn not_modified_head(
        &self,
        coding: Coding,
        cache_control: &HeaderValue,
        vary: &'static str,
    ) -> HeaderMap {
        self.build_head(coding, cache_control, vary, false)
    }

    fn build_head(
        &self,
        coding: Coding,
        cache_control: &HeaderValue,
        vary: &'static str,
        body: bool,
    ) -> HeaderMap {
        let (coding, _, etag) = self.representation(coding);
        let mut h = HeaderMap::with_capacity(8);
        if body {
            h.insert(header::CONTENT_TYPE, self.content_type.clone());
            if let Some(c) = coding.header() {
                h.insert(header::CONTENT_ENCODING, c);
            }
        }
        h.insert(header::ETAG, etag.clone());
        if let Some(lm) = &self.last_modified_header {
            h.insert(header::LAST_MODIFIED, lm.clone());
        }
        h.insert(header::CACHE_CONTROL, cache_control.clone());
        h.insert(header::VARY, HeaderValue::from_static(vary));
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h
    }

    /// The body and `ETag` for `coding`, falling back to identity when that
    /// coding was not worth storing.
    pub(crate) fn representation(&self, coding: Coding) -> (Coding, &Bytes, &HeaderValue) {
        let [plain, gz, br] = &self.etags;
        match (coding, &self.gzip, &self.brotli) {
            (Coding::Brotli, _, Some(b)) => (Coding::Brotli, b, br),
            (Coding::Gzip, Some(g), _) => (Coding::Gzip, g, gz),
            _ => (Coding::Identity, &self.identity, plain),
        }
    }

    pub(crate) fn has(&self, coding: Coding) -> bool {
        match coding {
            Coding::Identity => true,
            Coding::Gzip => self.gzip.is_some(),
            Coding::Brotli => self.brotli.is_some(),
        }
    }
}

/// How hard to compress: documents every reader fetches are worth the
/// best ratio, once per publish; narrowed variants are made per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effort {
    Best,
    Fast,
}

fn gzip(body: &[u8], effort: Effort) -> Option<Vec<u8>> {
    let level = match effort {
        Effort::Best => flate2::Compression::best(),
        Effort::Fast => flate2::Compression::new(3),
    };
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), level);
    enc.write_all(body).ok()?;
    enc.finish().ok()
}

fn brotli(body: &[u8], effort: Effort) -> Option<Vec<u8>> {
    let (quality, lgwin) = match effort {
        Effort::Best => (BROTLI_QUALITY, BROTLI_WINDOW),
        Effort::Fast => (3, 18),
    };
    let params = brotli::enc::BrotliEncoderParams {
        quality,
        lgwin,
        size_hint: body.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(body.len() / 4);
    brotli::BrotliCompress(&mut &body[..], &mut out, &params).ok()?;
    Some(out)
}

/// An HTTP date, as `Last-Modified` needs it: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}
