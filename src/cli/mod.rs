//! The `byline` command line: parses arguments and wires the pipeline
//! together. No logic of its own lives here.

mod commands;
mod print;
mod record;
mod serve;
mod status;
mod store;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tracing::error;

use crate::config::Config;
use commands::{build, check, ingest, refresh};
use serve::serve;
use store::store_copy;

/// Turn news listing pages and feeds into per-author, per-tag and per-source feeds.
#[derive(Debug, Parser)]
#[command(name = "byline", version, about, long_about = None)]
struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// More logging from byline (-v: debug, -vv: trace; -vvv: its libraries too, at debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// The store, overriding `[store]` of the config: a SQLite file, or a
    /// postgres:// url (put a password in the environment, not the command line).
    #[arg(long, global = true, env = "BYLINE_STORE", value_name = "PATH|URL")]
    store: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Copy a whole store, history and fetch state, into a new empty one.
    ///
    /// For moving up from the embedded SQLite file to PostgreSQL (or back):
    /// `byline store copy --from sqlite:byline.db --to postgres://byline@db/byline`.
    /// Stop every byline using either store first. The target is migrated
    /// to this byline's schema and must hold no stories; a copy that fails
    /// leaves it as it was. Then point `[store]` at the target.
    Copy {
        /// The store to read: `sqlite:PATH` (or a plain path) or a postgres:// url.
        #[arg(long, value_name = "STORE")]
        from: String,
        /// The new store: `sqlite:PATH` or a postgres:// url (give its
        /// password in PGPASSWORD rather than on the command line).
        #[arg(long, value_name = "STORE")]
        to: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Refresh every source into the store, then write the site from the store.
    ///
    /// Every feed, page and OPML list goes to a folder, each file replaced
    /// atomically; files of views that no longer exist are removed (only
    /// files byline wrote). A source that fails keeps its stored stories in
    /// every feed; the exit code is then 2, for cron.
    Build {
        /// The config file (default: feeds.toml in the current folder);
        /// relative paths in it resolve against its folder.
        #[arg(short, long, default_value = "feeds.toml")]
        config: PathBuf,
        /// Folder to write the site into (created if missing).
        #[arg(short, long, default_value = "out")]
        out: PathBuf,
    },
    /// Read source(s) once and show what each yields: items, then warnings.
    ///
    /// Reads through the same page loop as every command, but writes
    /// nothing. Exits non-zero when a source yields no items, cannot be
    /// read, or a field (such as the date) fills for no item.
    Check {
        /// Only this source (default: all).
        source: Option<String>,
        /// The config file (default: feeds.toml in the current folder);
        /// relative paths in it resolve against its folder.
        #[arg(short, long, default_value = "feeds.toml")]
        config: PathBuf,
        /// Print the items as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// For sources with `[source.article]`: article pages of the first
        /// items to fetch and show (times and their origin, authors, image,
        /// first words); 0 fetches none.
        #[arg(long, default_value_t = 3)]
        articles: usize,
    },
    /// Refresh source(s) into the store once, then exit (for cron).
    ///
    /// Fetches conditionally, stores new and edited items, keeps what rolled
    /// off the listings, records each fetch. Exits 2 when a source failed.
    Refresh {
        /// Only this source (default: all).
        source: Option<String>,
        /// The config file (default: feeds.toml in the current folder);
        /// relative paths in it resolve against its folder.
        #[arg(short, long, default_value = "feeds.toml")]
        config: PathBuf,
        /// Sources refreshed at once (requests per host stay limited).
        #[arg(long, default_value_t = 8)]
        jobs: usize,
    },
    /// Import saved pages (such as text dumps) of a source into the store.
    Ingest {
        /// The source whose adapter reads the files.
        #[arg(long)]
        source: String,
        /// Saved pages, read in order as one listing.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The config file (default: feeds.toml in the current folder);
        /// relative paths in it resolve against its folder.
        #[arg(short, long, default_value = "feeds.toml")]
        config: PathBuf,
        /// The url the pages were saved from (default: the source's first url).
        #[arg(long)]
        url: Option<url::Url>,
        /// The day the pages were saved (YYYY-MM-DD), if they do not say.
        #[arg(long)]
        captured: Option<chrono::NaiveDate>,
    },
    /// Work on a store as a whole (see `byline store copy --help`).
    #[command(subcommand)]
    Store(StoreCommand),
    /// Find the listing on a page and print a checked [[source]] block for it.
    Suggest {
        /// The page: an http(s) url, or the path of a saved page.
        #[arg(required_unless_present = "editor")]
        target: Option<String>,
        /// For a saved page: the url it was saved from.
        #[arg(long)]
        url: Option<url::Url>,
        /// Also list every candidate, ranked, with why it scored as it did.
        #[arg(long)]
        all: bool,
        /// Serve the source editor page on this loopback address (e.g. 127.0.0.1:8081).
        #[arg(long, value_name = "ADDR")]
        editor: Option<std::net::SocketAddr>,
        /// Addresses or CIDR blocks the fetch may reach although not public.
        #[arg(long, value_parser = crate::suggest::allow_arg)]
        allow: Vec<crate::config::IpRange>,
        /// A config whose `[suggest] allow` ranges and `user_agent` apply.
        #[arg(short, long)]
        config: Option<PathBuf>,
    },
    /// Serve every feed, page and OPML list over HTTP, from the store.
    ///
    /// Serves what the store holds at once, refreshes every source into it
    /// (`/healthz` says "starting" until that ends), then again every
    /// `[server] refresh_interval_secs` (default 1800; 0: only at start-up).
    /// Logs `listening on http://ADDR/` once bound; stops on Ctrl-C or SIGTERM.
    Serve {
        /// The config file (default: feeds.toml in the current folder);
        /// relative paths in it resolve against its folder.
        #[arg(short, long, default_value = "feeds.toml")]
        config: PathBuf,
        /// Address to listen on, overriding `[server] listen` (port 0: any free port).
        #[arg(short, long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Read source(s) once and save what was fetched and the items it gave.
    ///
    /// Writes DIR/SOURCE/: recording.json (when; each page's url, content
    /// type and the headers that matter), page-N.* (the bytes) and
    /// items.json (every item's fields): plain files to read and diff.
    /// `byline replay` reads them again after a change.
    Record {
        /// Only this source (default: all).
        source: Option<String>,
        /// Folder the recordings go in.
        #[arg(short, long, default_value = "recordings")]
        out: PathBuf,
        /// The config file (default: feeds.toml in the current folder);
        /// relative paths in it resolve against its folder.
        #[arg(short, long, default_value = "feeds.toml")]
        config: PathBuf,
    },
    /// Read every recording again with the current config and code; print
    /// what changed, item by item and field by field.
    ///
    /// Exits 2 when anything changed, so it can guard a selector edit.
    Replay {
        /// Folder of recordings (as `byline record --out` wrote them).
        #[arg(default_value = "recordings")]
        dir: PathBuf,
        /// The config file (default: feeds.toml in the current folder);
        /// relative paths in it resolve against its folder.
        #[arg(short, long, default_value = "feeds.toml")]
        config: PathBuf,
    },
    /// Print each source's state from the store: ok, degraded or failing.
    ///
    /// Degraded: the last read drifted from the source's history (fewer
    /// cards, a field that stopped filling, pagination lost); failing: a
    /// page failed (down, a bot wall, an error page, nothing on it). Exits 2
    /// when any source is not ok, for cron and monitoring.
    Status {
        /// The config file (default: feeds.toml in the current folder);
        /// relative paths in it resolve against its folder.
        #[arg(short, long, default_value = "feeds.toml")]
        config: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    // clap exits 2 on a usage error; byline keeps 2 for "a source failed", so
    // a usage error is 1, like a config error (help and version stay 0).
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
            let _ = e.print();
            return code;
        }
    };
    let log_format = cli.log_format;
    init_logging(cli.log_format, cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("byline: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let store = cli.store;
    let result = runtime.block_on(async {
        let load = |path: &Path| -> Result<Config, String> {
            let mut config = Config::load(path).map_err(|e| {
                if path.exists() {
                    e.to_string()
                } else {
                    format!(
                        "{e} (byline reads feeds.toml in the current folder; name another with --config PATH)"
                    )
                }
            })?;
            crate::urls::add_sensitive_params(&config.redact_params);
            if let Some(s) = &store {
                config.store.location = crate::store::Location::parse(s);
            }
            Ok(config)
        };
        match cli.command {
            Command::Build { config, out } => build(load(&config)?, &config, &out).await,
            Command::Check {
                source,
                config,
                json,
                articles,
            } => check(load(&config)?, &config, source.as_deref(), json, articles).await,
            Command::Refresh {
                source,
                config,
                jobs,
            } => refresh(load(&config)?, &config, source.as_deref(), jobs).await,
            Command::Ingest {
                source,
                files,
                config,
                url,
                captured,
            } => {
                ingest(
                    load(&config)?,
                    &config,
                    &source,
                    &files,
                    url.as_ref(),
                    captured,
                )
                .await
            }
            Command::Serve { config, listen } => serve(load(&config)?, &config, listen).await,
            Command::Status { config, json } => status::status(load(&config)?, json).await,
            Command::Record {
                source,
                out,
                config,
            } => record::record(load(&config)?, &config, source.as_deref(), &out).await,
            Command::Replay { dir, config } => record::replay(load(&config)?, &dir).await,
            Command::Store(StoreCommand::Copy { from, to }) => store_copy(&from, &to).await,
            Command::Suggest {
                target,
                url,
                all,
                editor,
                allow,
                config,
            } => {
                crate::suggest::run(crate::suggest::Request {
                    target: target.unwrap_or_default(),
                    url,
                    all,
                    editor,
                    allow,
                    config,
                })
                .await
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(message) => {
            // The one exit path for errors, in the format the logs use.
            match log_format {
                LogFormat::Text => eprintln!("byline: {message}"),
                LogFormat::Json => error!(fatal = true, "{message}"),
            }
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat, verbose: u8) {
    // -v and -vv say more about byline, not about the HTML parser's
    // internals: dependencies stay at warn until -vvv; RUST_LOG can still
    // ask for anything.
    let default = match verbose {
        // The access log is a deliberate choice (RUST_LOG): see docs/CONFIG.md.
        0 => "warn,byline=info,byline::access=off",
        1 => "warn,byline=debug",
        2 => "warn,byline=trace",
        _ => "debug,byline=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colours only for a person at a terminal: not into journald or files.
    use std::io::IsTerminal;
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
