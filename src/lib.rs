//! byline turns news listing pages and existing feeds into per-author, per-tag
//! and per-source feeds.
//!
//! Data flows one way, and every command takes the same road (see
//! `docs/ARCHITECTURE.md`); the modules below are declared in that order, and
//! each imports only modules above it:
//!
//! ```text
//! feeds.toml -> config -> fetch -> adapters -> read -> rules/merge -> store -> views -> render -> site -> output | server
//!               checked    bytes    copies      pages   one story      history  feeds    bytes    documents  files  HTTP
//! ```
//!
//! `refresh` is the use case that runs read -> process -> store for one
//! source; `schedule` runs it on timers inside `serve`; `cli` wires commands.
//! The core (model, merge, views, render) is pure and synchronous; I/O lives
//! at the edges (fetch, store, output, server).

pub mod adapters;
pub mod cli;
pub mod config;
pub mod dates;
pub mod fetch;
pub mod merge;
pub mod model;
pub mod output;
pub mod read;
pub mod refresh;
pub mod render;
pub mod rules;
pub mod schedule;
pub mod server;
pub mod site;
pub mod store;
pub mod urls;
pub mod views;
