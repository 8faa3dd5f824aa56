//! byline turns news listing pages and existing feeds into per-author, per-tag
//! and per-source feeds.
//!
//! Data flows one way, and every command takes the same road (see
//! `docs/ARCHITECTURE.md`); the modules below are declared in that order, and
//! each imports only modules above it:
//!
//! ```text
//! feeds.toml -> config -> fetch -> wall -> adapters -> read -> drift -> rules/merge -> store -> views -> render -> site -> output | server
//!               checked   bytes    walls?  copies      pages   alarms   one story      history  feeds    bytes     documents  files  HTTP
//! ```
//!
//! `refresh` is the use case that runs read -> process -> store for one
//! source; `schedule` runs it on timers inside `serve`; `cli` wires commands.
//! The core (model, merge, views, render) is pure and synchronous; I/O lives
//! at the edges (fetch, store, output, server).

// Plain data and the policies every stage shares.
pub mod urls;
// The item model.
pub mod model;
// Every date format a page may use.
pub mod dates;
// feeds.toml, checked.
pub mod config;
// Bytes of an input.
pub mod fetch;
// What stands in front of a page instead of it: bot walls, error pages.
pub mod wall;
// Bytes -> copies.
pub mod adapters;
// The one page loop of a source.
pub mod read;
// A read against the source's own history: alarms.
pub mod drift;
// Identity and tag rules.
pub mod rules;
// Copies -> stories.
pub mod merge;
// History: copies, stories, fetch state.
pub mod store;
// Processes sharing one PostgreSQL store: changes, host slots.
pub mod replicas;
// One source: read -> process -> store.
pub mod refresh;
// What a read fetched and gave, as files; read again and compared.
pub mod record;
// Which stories each feed shows.
pub mod views;
// A view -> bytes.
pub mod render;
// Every document of an edition.
pub mod site;
// A site into a folder.
pub mod output;
// HTTP.
pub mod server;
// serve's refresh timers.
pub mod schedule;
// A source block for a page, found without selectors (reads through the adapters).
pub mod suggest;
// The command line.
pub mod cli;
