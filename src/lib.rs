//! byline turns news listing pages and existing feeds into per-author, per-tag
//! and per-source feeds.
//!
//! Data flows one way (see `docs/ARCHITECTURE.md`):
//!
//! ```text
//! feeds.toml -> config -> fetch -> adapters -> merge -> views -> render -> build | serve
//! ```
//!
//! The core (model, merge, views, render) is pure and synchronous; I/O lives at
//! the edges (fetch, pipeline, the CLI).

pub mod adapters;
pub mod cli;
pub mod config;
pub mod dates;
pub mod fetch;
pub mod merge;
pub mod model;
pub mod pipeline;
pub mod refresh;
pub mod render;
pub mod rules;
pub mod schedule;
pub mod server;
pub mod site;
pub mod store;
pub mod suggest;
pub mod urls;
pub mod views;
