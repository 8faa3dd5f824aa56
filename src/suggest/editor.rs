//! The *editor*: `byline suggest --editor ADDR` serves a page on loopback
//! where a person pastes a url, sees the ranked candidates (item count, filled
//! fields, three samples), picks one, edits its selectors and sees the items
//! and per-field counts change, then copies the block - the same text
//! `suggest` prints for those choices. Plain GET forms, no JavaScript; the
//! fetched page is never shown or run, only what the adapters read from it,
//! escaped, under a Content-Security-Policy that allows no scripts at all.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use url::Url;

use super::block::{self, Head, Input, Plan, Sel};
use super::fetch::{Guard, GuardError, GuardOptions};
use super::rank::{self, Candidate};
use super::{Target, yield_of};
use crate::adapters::Listing;

/// The `[source.html]` fields a person can edit, in form order.
const FIELDS: &[&str] = &[
    "item",
    "title",
    "url",
    "summary",
    "authors",
    "published",
    "tags",
    "image",
    "next_page",
];

/// Serve the editor on `listener` until the future is dropped.
pub async fn serve(listener: TcpListener, options: GuardOptions) -> Result<(), GuardError> {
    let guard = Arc::new(Guard::new(options)?);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors and the like: wait rather than spin.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        };
        let guard = guard.clone();
        let service = service_fn(move |req| {
            let guard = guard.clone();
            async move { Ok::<_, Infallible>(handle(req, &guard).await) }
        });
        tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
    }
}

fn respond(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    let set = |h: &mut hyper::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, hyper::header::HeaderValue::from_static(v));
    };
    set(h, "content-type", "text/html; charset=utf-8");
    // Nothing from the fetched page may run here: no scripts, no frames, no fetches.
    let policy = format!(
        "default-src 'none'; script-src {}; style-src 'unsafe-inline'; img-src https: http:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        script_hash()
    );
    if let Ok(v) = hyper::header::HeaderValue::from_str(&policy) {
        h.insert("content-security-policy", v);
    }
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cache-control", "no-store");
    r
}

async fn handle(req: Request<hyper::body::Incoming>, guard: &Guard) -> Response<Full<Bytes>> {
    if req.method() != Method::GET {
        return respond(
            StatusCode::METHOD_NOT_ALLOWED,
            page("only GET", "<p>Only GET.</p>"),
        );
    }
    // A page elsewhere could point a name of its own at 127.0.0.1 (DNS
    // rebinding) and read the editor's answers; only loopback names are served.
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !loopback_host(host) {
        return respond(
            StatusCode::FORBIDDEN,
            page(
                "forbidden",
                "<p>The editor answers only to a loopback Host.</p>",
            ),
        );
    }
    if req.uri().path() != "/" {
        return respond(
            StatusCode::NOT_FOUND,
            page("not found", "<p>Not found.</p>"),
        );
    }
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let body = editor(&query, guard).await;
    respond(StatusCode::OK, page("byline suggest", &body))
}

/// `127.0.0.1:8081`, `localhost:8081`, `[::1]:8081`: a Host header naming loopback.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

/// Text for HTML: `&`, `<`, `>` and quotes escaped.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The editor's one script, for a browser with JavaScript: a button that
/// copies the block to the clipboard. The page works the same without it; the CSP allows this
/// script alone, by its hash, and nothing from the fetched page.
const SCRIPT: &str = "var b=document.getElementById('block');if(b&&navigator.clipboard){\
var c=document.createElement('button');c.type='button';c.id='copy';c.textContent='Copy the block';\
c.addEventListener('click',function(){navigator.clipboard.writeText(b.value).then(function(){\
c.textContent='Copied';});});b.after(c);}";

/// `'sha256-...'` of [`SCRIPT`], for the Content-Security-Policy.
fn script_hash() -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(SCRIPT.as_bytes());
    let mut out = String::with_capacity(44);
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in digest.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (k, b)| n | u32::from(*b) << (16 - 8 * k));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    format!("'sha256-{out}'")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem}}\
         td,th{{border-bottom:1px solid #ccc;padding:.2rem .4rem;text-align:left;vertical-align:top}}\
         .rejected{{color:#777}} .error{{color:#a00}} input[type=text]{{width:28rem}}</style></head><body>\
         <h1>byline suggest</h1>{body}<script>{SCRIPT}</script></body></html>",
        esc(title)
    )
}

fn link(query: &[(&str, &str)]) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!("?{q}")
}

async fn editor(q: &HashMap<String, String>, guard: &Guard) -> String {
    let given = q.get("url").map(|s| s.trim()).unwrap_or("");
    let mut out = format!(
        "<form method=\"get\" action=\"/\"><label>Page url <input type=\"text\" name=\"url\" id=\"page-url\" value=\"{}\"></label> <button type=\"submit\">Find listings</button></form>",
        esc(given)
    );
    if given.is_empty() {
        return out;
    }
    let fetched = match Url::parse(given) {
        Ok(u) => guard.get(&u).await.map_err(|e| e.to_string()),
        Err(e) => Err(format!("{given}: not a url ({e})")),
    };
    let fetched = match fetched {
        Ok(f) => f,
        Err(e) => {
            let _ = write!(out, "<p class=\"error\" id=\"error\">{}</p>", esc(&e));
            return out;
        }
    };
    let target = Target {
        bytes: &fetched.bytes,
        content_type: fetched.content_type.as_deref(),
        input: Input::Url(fetched.url.clone()),
        feeds: Vec::new(),
    };
    let now = Utc::now();
    let ranked = match rank::rank(&target, now) {
        Ok(r) => r,
        Err(e) => {
            let _ = write!(out, "<p class=\"error\" id=\"error\">{}</p>", esc(&e));
            return out;
        }
    };
    match q.get("pick").and_then(|p| p.parse::<usize>().ok()) {
        None => candidates(&mut out, given, &ranked),
        Some(i) => match ranked.get(i) {
            Some(c) => detail(&mut out, given, i, c, q, &target, now),
            None => {
                let _ = write!(out, "<p class=\"error\" id=\"error\">no candidate {i}</p>");
            }
        },
    }
    out
}

fn fills(l: &Listing) -> Vec<(&'static str, usize)> {
    let c = |p: &dyn Fn(&crate::model::Item) -> bool| l.items.iter().filter(|i| p(i)).count();
    vec![
        ("title", l.items.len()),
        ("url", c(&|i| i.url.is_some())),
        ("summary", c(&|i| i.summary.is_some())),
        ("authors", c(&|i| !i.authors.is_empty())),
        ("published", c(&|i| i.published.is_some())),
        ("tags", c(&|i| !i.tags.is_empty())),
        ("image", c(&|i| i.image.is_some())),
    ]
}

fn candidates(out: &mut String, url: &str, ranked: &[Candidate]) {
    out.push_str("<h2>Candidates, best first</h2><ol id=\"candidates\">");
    for (i, c) in ranked.iter().enumerate() {
        let n = c.listing.items.len();
        match &c.rejected {
            Some(why) => {
                let _ = write!(
                    out,
                    "<li class=\"rejected\">{} - rejected: {}</li>",
                    esc(&c.label),
                    esc(why)
                );
            }
            None => {
                let filled: Vec<String> = fills(&c.listing)
                    .iter()
                    .map(|(k, v)| format!("{k} {v}/{n}"))
                    .collect();
                let _ = write!(
                    out,
                    "<li class=\"candidate\"><a class=\"pick\" href=\"{}\">{}</a>: {n} items ({}); score {:.2}<ul>",
                    esc(&link(&[("url", url), ("pick", &i.to_string())])),
                    esc(&c.label),
                    esc(&filled.join(", ")),
                    c.score
                );
                for item in c.listing.items.iter().take(3) {
                    let _ = write!(out, "<li>{}</li>", esc(&item.title));
                }
                out.push_str("</ul></li>");
            }
        }
    }
    out.push_str("</ol>");
}

/// The plan with the person's selectors: an empty box removes an optional field.
fn edited(plan: &Plan, q: &HashMap<String, String>) -> Plan {
    let Plan::Html(h) = plan else {
        return plan.clone();
    };
    let mut h = h.clone();
    // Field boxes are `sel_KEY`: `url` is the page's url.
    let get = |key: &str| q.get(&format!("sel_{key}")).map(|v| v.trim());
    let set = |field: &mut Option<Sel>, key: &str| {
        if let Some(v) = get(key) {
            *field = match (v.is_empty(), field.take()) {
                (true, _) => None,
                (false, Some(old)) => Some(Sel {
                    css: v.to_owned(),
                    ..old
                }),
                (false, None) => Some(Sel::css(v)),
            };
        }
    };
    if let Some(v) = get("item").filter(|v| !v.is_empty()) {
        h.item = v.to_owned();
    }
    set(&mut h.title, "title");
    set(&mut h.url, "url");
    set(&mut h.summary, "summary");
    set(&mut h.authors, "authors");
    set(&mut h.published, "published");
    set(&mut h.tags, "tags");
    set(&mut h.image, "image");
    set(&mut h.next_page, "next_page");
    Plan::Html(h)
}

fn current(plan: &Plan, key: &str) -> String {
    let Plan::Html(h) = plan else {
        return String::new();
    };
    let sel = match key {
        "item" => return h.item.clone(),
        "title" => &h.title,
        "url" => &h.url,
        "summary" => &h.summary,
        "authors" => &h.authors,
        "published" => &h.published,
        "tags" => &h.tags,
        "image" => &h.image,
        _ => &h.next_page,
    };
    sel.as_ref().map(|s| s.css.clone()).unwrap_or_default()
}

fn detail(
    out: &mut String,
    url: &str,
    pick: usize,
    c: &Candidate,
    q: &HashMap<String, String>,
    target: &Target<'_>,
    now: chrono::DateTime<Utc>,
) {
    let Some(plan) = &c.plan else {
        let _ = write!(
            out,
            "<p class=\"error\" id=\"error\">{} has no block</p>",
            esc(&c.label)
        );
        return;
    };
    let plan = edited(plan, q);
    let name = block::source_name(&target.input);
    let head = Head {
        name: &name,
        input: &target.input,
        timezone: c.timezone.clone(),
        notes: &[],
    };
    let text = block::write(&head, &plan);
    let _ = write!(out, "<h2 id=\"picked\">{}</h2>", esc(&c.label));
    if let Plan::Html(_) = plan {
        let _ = write!(
            out,
            "<form method=\"get\" action=\"/\" id=\"selectors\"><input type=\"hidden\" name=\"url\" value=\"{}\"><input type=\"hidden\" name=\"pick\" value=\"{pick}\"><table>",
            esc(url)
        );
        for key in FIELDS {
            let _ = write!(
                out,
                "<tr><th><label for=\"f-{key}\">{key}</label></th><td><input type=\"text\" id=\"f-{key}\" name=\"sel_{key}\" value=\"{}\"></td></tr>",
                esc(&current(&plan, key))
            );
        }
        out.push_str("</table><button type=\"submit\" id=\"apply\">Apply</button></form>");
    }
    let page_url = target.input.page_url();
    let got = yield_of(
        &text,
        target.bytes,
        target.content_type,
        &target.input,
        page_url,
        now,
    );
    match got {
        Err(e) => {
            let _ = write!(out, "<p class=\"error\" id=\"error\">{}</p>", esc(&e));
        }
        Ok(y) => {
            let l = &y.listing;
            let n = l.items.len();
            out.push_str("<ul id=\"counts\">");
            for (k, v) in fills(l) {
                let what = match k {
                    "published" => "a date",
                    "authors" => "authors",
                    "tags" => "tags",
                    "image" => "an image",
                    "url" => "a url",
                    "summary" => "a summary",
                    _ => "a title",
                };
                let _ = write!(
                    out,
                    "<li id=\"count-{k}\">{v} of {n} items have {what}</li>"
                );
            }
            out.push_str("</ul><table id=\"items\"><tr><th>title</th><th>url</th><th>authors</th><th>published</th><th>tags</th><th>image</th><th>summary</th></tr>");
            for i in &l.items {
                let authors: Vec<&str> = i.authors.iter().map(|a| a.name.as_str()).collect();
                let tags: Vec<&str> = i.tags.iter().map(|t| t.name.as_str()).collect();
                let _ = write!(
                    out,
                    "<tr class=\"item\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&i.title),
                    esc(i.url.as_deref().unwrap_or("")),
                    esc(&authors.join(", ")),
                    esc(&i.published.map(|p| p.to_display()).unwrap_or_default()),
                    esc(&tags.join(", ")),
                    esc(i.image.as_deref().unwrap_or("")),
                    esc(i.summary.as_deref().unwrap_or("")),
                );
            }
            out.push_str("</table>");
            for w in &l.warnings {
                let _ = write!(out, "<p class=\"warning\">{}</p>", esc(w));
            }
        }
    }
    let rows = text.lines().count() + 1;
    let _ = write!(
        out,
        "<h2>The block</h2><p>Copy it into <code>feeds.toml</code>; <code>byline check</code> shows these items.</p><textarea id=\"block\" readonly rows=\"{rows}\" cols=\"100\">{}</textarea>",
        esc(&text)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_are_served() {
        for ok in [
            "127.0.0.1:8081",
            "localhost:8081",
            "[::1]:8081",
            "127.0.0.2",
            "LOCALHOST",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for no in [
            "evil.example:8081",
            "10.0.0.1:8081",
            "",
            "[fe80::1]:80",
            "127.0.0.1.evil.example",
        ] {
            assert!(!loopback_host(no), "{no}");
        }
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
