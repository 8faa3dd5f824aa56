//! What the replicas serve: every document fetched, and how two of them
//! differ.

use std::collections::{BTreeMap, BTreeSet};

use super::upstream::title;
use super::{AUTHORS, SOURCES};

/// A replica's response to one document: status, ETag, body.
pub(crate) type Doc = (u16, Option<String>, Vec<u8>);

pub(crate) fn fetch_all(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    root: &str,
    paths: &[String],
) -> BTreeMap<String, Doc> {
    rt.block_on(async {
        let mut out = BTreeMap::new();
        for chunk in paths.chunks(16) {
            let got = futures_util::future::join_all(chunk.iter().map(|p| async move {
                let r = client
                    .get(format!("{root}{p}"))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("GET {root}{p}: {e:?}"));
                let status = r.status().as_u16();
                let etag = r
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = r.bytes().await.expect("body").to_vec();
                (p.clone(), (status, etag, body))
            }))
            .await;
            out.extend(got);
        }
        out
    })
}

/// The documents to compare: the whole feed, every source's feed, and every
/// author or tag feed the OPML lists, in all three formats, and the OPML.
pub(crate) fn documents(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    root: &str,
) -> Vec<String> {
    let opml = fetch_all(rt, client, root, &["/authors.opml".to_owned()]);
    let opml = String::from_utf8_lossy(&opml["/authors.opml"].2).into_owned();
    let mut views: BTreeSet<String> = ["/feed".to_owned()].into();
    for s in 0..SOURCES {
        views.insert(format!("/sources/s{s}"));
    }
    for url in opml.split("xmlUrl=\"").skip(1) {
        let url = &url[..url.find('"').expect("closing quote")];
        let path = url
            .strip_prefix("http://feeds.example")
            .unwrap_or_else(|| panic!("OPML link outside base_url: {url}"));
        let stem = path
            .rsplit_once('.')
            .map_or(path, |(stem, _)| stem)
            .to_owned();
        views.insert(stem);
    }
    let authors = views.iter().filter(|v| v.starts_with("/authors/")).count();
    assert!(
        authors >= AUTHORS.len(),
        "the OPML lists every author's feed:\n{opml}"
    );
    let mut paths = vec!["/authors.opml".to_owned()];
    for v in views {
        for ext in ["atom", "rss", "json"] {
            paths.push(format!("{v}.{ext}"));
        }
    }
    paths
}

/// The titles of a JSON feed's items.
pub(crate) fn titles(doc: &Doc) -> Vec<String> {
    crate::serve::json_feed_titles(&doc.2)
}

/// Every item id of a JSON feed appears once.
pub(crate) fn assert_ids_unique(what: &str, doc: &Doc) {
    let v: serde_json::Value = serde_json::from_slice(&doc.2).expect("JSON Feed");
    let ids: Vec<&str> = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id"))
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{what}: an item twice: {ids:?}");
}

/// Every source's feed on every live replica holds exactly the stories of
/// generations 0..=g: a source that is not there yet, or None.
pub(crate) fn behind(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    roots: &[&str],
    g: usize,
) -> Option<String> {
    let paths: Vec<String> = (0..SOURCES)
        .map(|s| format!("/sources/s{s}.json"))
        .collect();
    for root in roots {
        let docs = fetch_all(rt, client, root, &paths);
        for s in 0..SOURCES {
            let doc = &docs[&format!("/sources/s{s}.json")];
            if doc.0 != 200 {
                return Some(format!("{root}/sources/s{s}.json: {}", doc.0));
            }
            let want: Vec<String> = (0..=g).rev().map(|g| title(s, g)).collect();
            let got = titles(doc);
            if got != want {
                return Some(format!("{root} s{s}: {got:?}"));
            }
        }
    }
    None
}

/// The first difference between two documents, for the failure message.
pub(crate) fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let around = |d: &[u8]| {
        let from = at.saturating_sub(80);
        String::from_utf8_lossy(&d[from..(at + 120).min(d.len())]).into_owned()
    };
    format!(
        "lengths {} and {}, first difference at byte {at}:\n  {:?}\n  {:?}",
        a.len(),
        b.len(),
        around(a),
        around(b)
    )
}
