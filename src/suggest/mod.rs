//! `byline suggest`: a *suggestion* is a complete `[[source]]` block for a
//! page nobody wrote selectors for, plus what that block yields.
//!
//! The page is searched for every kind of listing it may hold, in order of
//! trust: a feed it links, schema.org JSON-LD, microformats2 `h-entry`s,
//! framework state JSON, then repeated card structures scored on how much they
//! look like stories ([`score`]). Every candidate is written as a block,
//! parsed back with `Config::parse` and read through `adapters::read`: the
//! block is the truth, so what is reported is what `byline check` will show.

mod block;
mod cards;
pub mod editor;
pub mod fetch;
mod fields;
mod framework;
mod plan;
mod rank;
mod report;
mod score;
mod select;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use url::Url;

use crate::adapters::{self, Listing, Page};
use crate::config::Config;
use crate::model::Item;

pub(crate) use block::Input;

/// What `byline suggest` was asked.
#[derive(Debug, Clone)]
pub struct Request {
    /// A url, or a saved page's path.
    pub target: String,
    /// For a saved page: the url it was saved from.
    pub url: Option<Url>,
    /// Also list the ranked alternatives and why each scored as it did.
    pub all: bool,
    /// Addresses the fetch may reach although they are not public.
    pub allow: Vec<crate::config::IpRange>,
    /// A config whose `[suggest] allow` and `user_agent` apply.
    pub config: Option<PathBuf>,
    /// Serve the editor page on this loopback address instead of printing.
    pub editor: Option<std::net::SocketAddr>,
}

/// Why no suggestion could be made.
#[derive(Debug, thiserror::Error)]
pub enum SuggestError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Fetch(#[from] fetch::GuardError),
    #[error("{0}: expected an http(s) url or the path of a saved page")]
    Target(String),
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    /// A page that cannot be read safely (nested too deep for the DOM).
    #[error("{0}")]
    Page(String),
    #[error(
        "{0}: no listing found: no linked feed, JSON-LD, microformats, framework JSON or repeated story cards (run with --all to see what was considered)"
    )]
    Nothing(String),
}

/// A suggestion: the block, what it yields, and every candidate considered.
#[derive(Debug, Clone)]
pub struct Suggestion {
    /// The whole output: comments, the block and the yield, valid TOML.
    pub text: String,
    /// Just the `[[source]]` block.
    pub block: String,
    /// What the block yields through the adapters.
    pub items: Vec<Item>,
    pub next_page: Option<String>,
}

/// A page to suggest for.
#[derive(Debug, Clone)]
pub(crate) struct Target<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) content_type: Option<&'a str>,
    pub(crate) input: Input,
    /// Linked feeds already fetched (only for a live page), as (url, body).
    pub(crate) feeds: Vec<(Url, Vec<u8>)>,
}

impl Input {
    fn page_url(&self) -> Option<&Url> {
        match self {
            Input::Url(u) => Some(u),
            Input::File { url, .. } => url.as_ref(),
        }
    }

    /// How the pipeline names this input (`Location::display`).
    fn display(&self) -> String {
        match self {
            Input::Url(u) => u.to_string(),
            Input::File { path, .. } => path.clone(),
        }
    }
}

/// `--allow`'s value: an address or a CIDR block.
pub fn allow_arg(s: &str) -> Result<crate::config::IpRange, String> {
    crate::config::IpRange::parse(s)
        .ok_or_else(|| format!("expected an address or a CIDR block, got {s:?}"))
}

/// Run `byline suggest`: print the suggestion on stdout, or serve the editor.
pub async fn run(req: Request) -> Result<ExitCode, String> {
    if let Some(addr) = req.editor {
        return run_editor(&req, addr).await;
    }
    if req.target.is_empty() {
        return Err("suggest: give a url or a saved page (or --editor ADDR)".to_owned());
    }
    let s = suggest(&req).await.map_err(|e| e.to_string())?;
    print!("{}", s.text);
    Ok(if s.items.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The fetch limits of `req`: `--allow`, then a config's `[suggest] allow` and `user_agent`.
fn guard_options(req: &Request) -> Result<fetch::GuardOptions, SuggestError> {
    let mut options = fetch::GuardOptions {
        allow: req.allow.clone(),
        ..fetch::GuardOptions::default()
    };
    if let Some(path) = &req.config {
        let config = Config::load(path)?;
        options.allow.extend(config.suggest_allow);
        if let Some(ua) = config.user_agent {
            options.user_agent = ua;
        }
    }
    Ok(options)
}

/// The editor of a running `byline serve` (`[editor] listen`), with the
/// config's `[suggest] allow` and `user_agent`; logs where it listens.
pub async fn serve_editor(config: &Config, addr: std::net::SocketAddr) -> Result<(), String> {
    let mut options = fetch::GuardOptions {
        allow: config.suggest_allow.clone(),
        ..fetch::GuardOptions::default()
    };
    if let Some(ua) = &config.user_agent {
        options.user_agent = ua.clone();
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("editor: cannot listen on {addr}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!("editor on http://{bound}/");
    editor::serve(listener, options)
        .await
        .map_err(|e| e.to_string())
}

/// Serve the editor on `addr`, which must be a loopback address: the page
/// fetches what it is told to, so only this machine may tell it.
async fn run_editor(req: &Request, addr: std::net::SocketAddr) -> Result<ExitCode, String> {
    if !addr.ip().is_loopback() {
        return Err(format!(
            "suggest --editor {addr}: the editor listens only on a loopback address such as 127.0.0.1:8081"
        ));
    }
    let options = guard_options(req).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("byline: editor on http://{bound}/ (Ctrl-C stops it)");
    tokio::select! {
        r = editor::serve(listener, options) => r.map_err(|e| e.to_string())?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// The suggestion for `req`: the page read from its file or fetched safely.
pub async fn suggest(req: &Request) -> Result<Suggestion, SuggestError> {
    let now = Utc::now();
    let is_url = req.target.starts_with("http://") || req.target.starts_with("https://");
    if is_url {
        let url = Url::parse(&req.target).map_err(|_| SuggestError::Target(req.target.clone()))?;
        let guard = fetch::Guard::new(guard_options(req)?)?;
        let page = guard.get(&url).await?;
        let input = Input::Url(page.url.clone());
        let mut feeds = Vec::new();
        for f in rank::linked_feeds(&page.bytes, page.content_type.as_deref(), Some(&page.url)) {
            // A feed that cannot be fetched is listed, unchecked, not an error.
            if let Ok(got) = guard.get(&f).await {
                feeds.push((f, got.bytes));
            }
        }
        let target = Target {
            bytes: &page.bytes,
            content_type: page.content_type.as_deref(),
            input,
            feeds,
        };
        suggest_page(&target, req.all, now)
    } else {
        let path = PathBuf::from(req.target.strip_prefix("file://").unwrap_or(&req.target));
        let bytes = std::fs::read(&path).map_err(|source| SuggestError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let path = std::path::absolute(&path).unwrap_or(path);
        // A saved page often names its own url; relative links need one.
        let url = req.url.clone().or_else(|| rank::own_url(&bytes));
        let target = Target {
            bytes: &bytes,
            content_type: None,
            input: Input::File {
                path: path.display().to_string(),
                url,
            },
            feeds: Vec::new(),
        };
        suggest_page(&target, req.all, now)
    }
}

/// A block read back through the adapters: the config it parses to and what
/// it yields on the page.
pub(crate) struct Yield {
    pub(crate) listing: Listing,
}

/// Parse `block` as a config and read `bytes` with its one source.
pub(crate) fn yield_of(
    block: &str,
    bytes: &[u8],
    content_type: Option<&str>,
    input: &Input,
    page_url: Option<&Url>,
    now: DateTime<Utc>,
) -> Result<Yield, String> {
    let config = Config::parse(block, "suggested block", Path::new("/"))
        .map_err(|e| format!("the block does not load: {e}"))?;
    let source = config
        .sources
        .first()
        .ok_or_else(|| "the block has no source".to_owned())?;
    let name = input.display();
    let page = Page {
        bytes,
        name: &name,
        url: page_url,
        content_type,
        captured: None,
        fetched_at: now,
    };
    adapters::read(source, &page, 0)
        .map(|listing| Yield { listing })
        .map_err(|e| e.to_string())
}

/// The suggestion for one page already in hand.
pub(crate) fn suggest_page(
    target: &Target<'_>,
    all: bool,
    now: DateTime<Utc>,
) -> Result<Suggestion, SuggestError> {
    let ranked = rank::rank(target, now).map_err(SuggestError::Page)?;
    let Some(best) = ranked.iter().find(|c| c.usable()) else {
        let mut text = String::new();
        if all {
            report::write_alternatives(&mut text, &ranked);
        }
        return Err(SuggestError::Nothing(format!(
            "{}{}",
            target.input.display(),
            if text.is_empty() {
                String::new()
            } else {
                format!("\n{text}")
            }
        )));
    };
    let mut text = String::new();
    let _ = writeln!(text, "# byline suggest {}", target.input.display());
    let _ = writeln!(text, "# {}, score {:.2}", best.label, best.score);
    let _ = writeln!(text, "#   {}", best.reasons.join("; "));
    text.push_str(&best.block);
    let listing = &best.listing;
    report::write_yield(&mut text, listing);
    if all {
        report::write_alternatives(&mut text, &ranked);
    }
    Ok(Suggestion {
        text,
        block: best.block.clone(),
        items: listing.items.clone(),
        next_page: listing.next_page.clone(),
    })
}

/// Suggest for a page in memory (the benchmark's entry): `page_url` is where
/// the page lives. Returns the whole output text.
#[doc(hidden)]
pub fn suggest_bytes(bytes: &[u8], page_url: &Url, all: bool) -> Result<Suggestion, SuggestError> {
    let target = Target {
        bytes,
        content_type: None,
        input: Input::Url(page_url.clone()),
        feeds: Vec::new(),
    };
    suggest_page(&target, all, Utc::now())
}
