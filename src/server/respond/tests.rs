//! Codings, validators, proxies and the client address of the access log.

use super::*;
use crate::server::cache::Coding;
use crate::site::Document;

fn entry(body: &str) -> Entry {
    Entry::new(Document {
        path: "authors/a.atom".into(),
        content_type: "application/atom+xml; charset=utf-8",
        body: body.to_owned(),
        last_modified: DateTime::parse_from_rfc3339("2022-05-21T11:43:21+09:00")
            .ok()
            .map(|t| t.with_timezone(&Utc)),
    })
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            HeaderName::from_static(k),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

#[test]
fn one_pass_counts_hosts_and_keeps_first_values() {
    let mut h = HeaderMap::new();
    assert_eq!(Asked::read(&h).hosts, 0);
    h.append(header::HOST, HeaderValue::from_static("a"));
    h.append(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    h.append(header::ACCEPT_ENCODING, HeaderValue::from_static("br"));
    assert_eq!(Asked::read(&h).hosts, 1);
    h.append(header::HOST, HeaderValue::from_static("b"));
    assert_eq!(Asked::read(&h).hosts, 2);
    let e = entry(&"<entry>repeated text</entry>".repeat(100));
    // The first Accept-Encoding line, as HeaderMap::get reads it.
    assert_eq!(Asked::read(&h).coding(&e), Coding::Gzip);
}

#[test]
fn negotiates_q_values() {
    let e = entry(&"<entry>repeated text</entry>".repeat(100));
    let pick = |ae: &str| Asked::read(&headers(&[("accept-encoding", ae)])).coding(&e);
    assert_eq!(Asked::read(&HeaderMap::new()).coding(&e), Coding::Identity);
    assert_eq!(pick("gzip, deflate, br"), Coding::Brotli);
    assert_eq!(pick("gzip"), Coding::Gzip);
    assert_eq!(pick("br;q=0.5, gzip"), Coding::Gzip);
    assert_eq!(pick("br;q=0, gzip;q=0"), Coding::Identity);
    assert_eq!(pick("*"), Coding::Brotli);
    assert_eq!(pick("deflate"), Coding::Identity);
    assert_eq!(pick("GZIP;q=0.8, identity;q=0.5"), Coding::Gzip);
    // Nothing worth compressing: identity whatever is asked.
    let tiny = entry("<x/>");
    assert_eq!(
        Asked::read(&headers(&[("accept-encoding", "br")])).coding(&tiny),
        Coding::Identity
    );
}

#[test]
fn conditional_requests() {
    let e = entry(&"<entry>repeated text</entry>".repeat(100));
    let tag = format!("\"{}\"", e.digest);
    let check = |pairs: &[(&'static str, &str)]| Asked::read(&headers(pairs)).not_modified(&e);
    assert!(check(&[("if-none-match", &tag)]));
    assert!(check(&[("if-none-match", &format!("\"x\", W/{tag}"))]));
    assert!(check(&[("if-none-match", &format!("\"{}-gz\"", e.digest))]));
    assert!(check(&[("if-none-match", "*")]));
    assert!(!check(&[("if-none-match", "\"0123\"")]));
    let lm = e.last_modified_header.as_ref().unwrap().to_str().unwrap();
    assert_eq!(lm, "Sat, 21 May 2022 02:43:21 GMT");
    assert!(check(&[("if-modified-since", lm)]));
    assert!(check(&[(
        "if-modified-since",
        "Sun, 22 May 2022 00:00:00 GMT"
    )]));
    assert!(!check(&[(
        "if-modified-since",
        "Sat, 21 May 2022 02:43:20 GMT"
    )]));
    assert!(!check(&[("if-modified-since", "yesterday")]));
    // If-None-Match wins over If-Modified-Since.
    assert!(!check(&[
        ("if-none-match", "\"other\""),
        ("if-modified-since", lm)
    ]));
}

#[test]
fn codings_round_trip_and_tags_differ() {
    use std::io::Read;
    let body = "<feed>ünïcode &amp; text</feed>".repeat(200);
    let e = entry(&body);
    let (c, gz, gz_tag) = e.representation(Coding::Gzip);
    assert_eq!(c, Coding::Gzip);
    let mut out = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, body);
    let (c, br, br_tag) = e.representation(Coding::Brotli);
    assert_eq!(c, Coding::Brotli);
    let mut out = String::new();
    brotli::Decompressor::new(&br[..], 4096)
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, body);
    let (_, id, id_tag) = e.representation(Coding::Identity);
    assert_eq!(&id[..], body.as_bytes());
    assert!(gz.len() < id.len() && br.len() < id.len());
    assert_ne!(gz_tag, br_tag);
    assert_ne!(gz_tag, id_tag);
    // The tag depends on the content only: the same body gives the same tag.
    assert_eq!(entry(&body).digest, e.digest);
    assert_ne!(entry(&format!("{body} ")).digest, e.digest);
}
