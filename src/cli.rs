//! The `byline` command line: parses arguments and wires the pipeline
//! together. No logic of its own lives here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use tracing::{error, info};

use crate::config::{Config, SourceConfig};
use crate::fetch::{FetchOptions, Fetcher};
use crate::pipeline::{self, SourceRead};
use crate::refresh;
use crate::schedule::Scheduler;
use crate::server::{self, Published, SourceStatus};
use crate::site;
use crate::store::Store;

/// Turn news listing pages and feeds into per-author, per-tag and per-source feeds.
#[derive(Debug, Parser)]
#[command(name = "byline", version, about, long_about = None)]
struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// More logging (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read every source, merge, and write all feeds, pages and OPML to a folder.
    Build {
        /// The config file; relative paths in it resolve against its folder.
        #[arg(short, long, default_value = "feeds.toml")]
        config: PathBuf,
        /// Folder to write the site into (created if missing).
        #[arg(short, long, default_value = "out")]
        out: PathBuf,
    },
    /// Read source(s) once and show what each yields: items, then warnings.
    ///
    /// Exits non-zero when a source yields no items or cannot be read.
    Check {
        /// Only this source (default: all).
        source: Option<String>,
        #[arg(short, long, default_value = "feeds.toml")]
        config: PathBuf,
        /// Print the items as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Refresh source(s) into the store once, then exit (for cron).
    ///
    /// Fetches conditionally, stores new and edited items, keeps what rolled
    /// off the listings, records each fetch. Exits 2 when a source failed.
    Refresh {
        /// Only this source (default: all).
        source: Option<String>,
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
        #[arg(short, long, default_value = "feeds.toml")]
        config: PathBuf,
        /// The url the pages were saved from (default: the source's first url).
        #[arg(long)]
        url: Option<url::Url>,
        /// The day the pages were saved (YYYY-MM-DD), if they do not say.
        #[arg(long)]
        captured: Option<chrono::NaiveDate>,
    },
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
    /// Read every source, merge, and serve all feeds, pages and OPML over HTTP.
    ///
    /// Logs `listening on http://ADDR/` once ready; stops on Ctrl-C or SIGTERM.
    Serve {
        #[arg(short, long, default_value = "feeds.toml")]
        config: PathBuf,
        /// Address to listen on, overriding `[server] listen` (port 0: any free port).
        #[arg(short, long)]
        listen: Option<std::net::SocketAddr>,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
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
    let result = runtime.block_on(async {
        match cli.command {
            Command::Build { config, out } => build(&config, &out).await,
            Command::Check {
                source,
                config,
                json,
            } => check(&config, source.as_deref(), json).await,
            Command::Refresh {
                source,
                config,
                jobs,
            } => refresh(&config, source.as_deref(), jobs).await,
            Command::Ingest {
                source,
                files,
                config,
                url,
                captured,
            } => ingest(&config, &source, &files, url.as_ref(), captured).await,
            Command::Serve { config, listen } => serve(&config, listen).await,
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
            eprintln!("byline: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat, verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn load(config: &Path) -> Result<Config, String> {
    Config::load(config).map_err(|e| e.to_string())
}

fn fetcher(config: &Config) -> Result<Fetcher, String> {
    let mut options = FetchOptions::default();
    if let Some(ua) = &config.user_agent {
        options.user_agent = ua.clone();
    }
    Fetcher::new(options).map_err(|e| e.to_string())
}

async fn build(config_path: &Path, out: &Path) -> Result<ExitCode, String> {
    let config = load(config_path)?;
    let reads = pipeline::read_all(&config, &fetcher(&config)?, chrono::Utc::now()).await;
    report_problems(&reads);
    let copies: Vec<_> = reads.iter().flat_map(|r| r.items.iter().cloned()).collect();
    let items = pipeline::merged(&config, copies);
    let docs = site::documents(&items, &config);
    for doc in &docs {
        write_atomically(&out.join(&doc.path), doc.body.as_bytes())
            .map_err(|e| format!("{}: cannot write: {e}", out.join(&doc.path).display()))?;
    }
    info!(items = items.len(), documents = docs.len(), out = %out.display(), "site written");
    let failed = reads.iter().filter(|r| !r.errors.is_empty()).count();
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        error!(
            failed,
            "some sources could not be read; the site holds the others"
        );
        ExitCode::from(2)
    })
}

async fn serve(
    config_path: &Path,
    listen: Option<std::net::SocketAddr>,
) -> Result<ExitCode, String> {
    let config = load(config_path)?;
    let addr = match listen {
        Some(a) => a,
        None => config.server.listen.parse().map_err(|e| {
            format!(
                "{}: server.listen {:?}: {e}",
                config_path.display(),
                config.server.listen
            )
        })?,
    };
    let interval = config.server.refresh_interval_secs;
    let published = if interval > 0 {
        // Keep history: refresh into the store now and on every interval,
        // publishing from the store.
        let path = config.store.path.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&path))
            .await
            .map_err(|e| format!("store task failed: {e}"))?
            .map_err(|e| e.to_string())?;
        let fetcher = fetcher(&config)?;
        let config = Arc::new(config);
        let published = Arc::new(Published::new((*config).clone()));
        let scheduler = Scheduler::new(config, store, fetcher, published.clone());
        scheduler.refresh_all().await;
        tokio::spawn(scheduler.run(std::time::Duration::from_secs(interval)));
        published
    } else {
        let now = chrono::Utc::now();
        let reads = pipeline::read_all(&config, &fetcher(&config)?, now).await;
        report_problems(&reads);
        let statuses = reads.iter().map(|r| SourceStatus::of(r, now)).collect();
        // Move the items out of the reads: one copy of a large set is enough.
        let copies: Vec<_> = reads.into_iter().flat_map(|r| r.items).collect();
        let items = pipeline::merged(&config, copies);
        let published = Arc::new(Published::new(config));
        let publisher = published.clone();
        tokio::task::spawn_blocking(move || publisher.publish(items, statuses))
            .await
            .map_err(|e| format!("publishing failed: {e}"))?;
        published
    };
    let listener = server::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    server::serve(listener, published, server::shutdown_signal()).await;
    Ok(ExitCode::SUCCESS)
}

fn report_problems(reads: &[SourceRead]) {
    for read in reads {
        for w in &read.warnings {
            tracing::warn!(source = %read.source, "{w}");
        }
        for e in &read.errors {
            error!(source = %read.source, "{e}");
        }
    }
}

/// Write via a temporary file and a rename, so a reader (or a crash) never
/// sees half a feed.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

async fn check(config_path: &Path, only: Option<&str>, json: bool) -> Result<ExitCode, String> {
    let config = load(config_path)?;
    let sources: Vec<_> = config
        .sources
        .iter()
        .filter(|s| only.is_none_or(|o| s.name == o))
        .collect();
    if sources.is_empty() {
        let names: Vec<_> = config.sources.iter().map(|s| s.name.as_str()).collect();
        return Err(format!(
            "{}: no source named {:?}; sources are: {}",
            config_path.display(),
            only.unwrap_or_default(),
            names.join(", ")
        ));
    }
    let fetcher = fetcher(&config)?;
    let now = chrono::Utc::now();
    let mut ok = true;
    let mut all = Vec::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for source in sources {
        let read = pipeline::read_source(source, &fetcher, now).await;
        ok &= !read.items.is_empty() && read.errors.is_empty();
        if json {
            all.push(serde_json::json!({
                "source": read.source,
                "items": read.items,
                "warnings": read.warnings,
                "errors": read.errors,
            }));
        } else {
            print_table(&mut out, &read).map_err(|e| e.to_string())?;
            if let Some(note) = source.html.as_ref().and_then(|h| h.engine_note.as_deref()) {
                writeln!(out, "  note: {note}\n").map_err(|e| e.to_string())?;
            }
        }
    }
    if json {
        let text = serde_json::to_string_pretty(&all).map_err(|e| e.to_string())?;
        writeln!(out, "{text}").map_err(|e| e.to_string())?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_table(out: &mut impl Write, read: &SourceRead) -> std::io::Result<()> {
    writeln!(
        out,
        "== source {} — {} items from {} page(s)",
        read.source,
        read.items.len(),
        read.pages
    )?;
    for (n, item) in read.items.iter().enumerate() {
        let names = |v: Vec<&str>| {
            if v.is_empty() {
                "-".to_owned()
            } else {
                v.join(", ")
            }
        };
        writeln!(out, "{:>3}. {}", n + 1, item.title)?;
        writeln!(
            out,
            "     url:       {}",
            item.url.as_deref().unwrap_or("-")
        )?;
        writeln!(
            out,
            "     published: {}",
            item.published
                .map_or("- (no date)".to_owned(), |p| p.to_display())
        )?;
        writeln!(
            out,
            "     authors:   {}",
            names(item.authors.iter().map(|a| a.name.as_str()).collect())
        )?;
        writeln!(
            out,
            "     tags:      {}",
            names(item.tags.iter().map(|t| t.name.as_str()).collect())
        )?;
        writeln!(
            out,
            "     image:     {}",
            item.image.as_deref().unwrap_or("-")
        )?;
        writeln!(
            out,
            "     summary:   {}",
            item.summary.as_deref().unwrap_or("-")
        )?;
    }
    if read.items.is_empty() {
        writeln!(out, "     (no items)")?;
    }
    for w in &read.warnings {
        writeln!(out, "  warning: {w}")?;
    }
    for e in &read.errors {
        writeln!(out, "  error: {e}")?;
    }
    writeln!(out)
}

/// The sources `only` names (all when `None`), or an error listing the names.
fn pick<'a>(
    config: &'a Config,
    config_path: &Path,
    only: Option<&str>,
) -> Result<Vec<&'a SourceConfig>, String> {
    let sources: Vec<_> = config
        .sources
        .iter()
        .filter(|s| only.is_none_or(|o| s.name == o))
        .collect();
    if sources.is_empty() {
        let names: Vec<_> = config.sources.iter().map(|s| s.name.as_str()).collect();
        return Err(format!(
            "{}: no source named {:?}; sources are: {}",
            config_path.display(),
            only.unwrap_or_default(),
            names.join(", ")
        ));
    }
    Ok(sources)
}

async fn open_store(config: &Config) -> Result<Store, String> {
    let path = config.store.path.clone();
    tokio::task::spawn_blocking(move || Store::open(&path))
        .await
        .map_err(|e| format!("store task failed: {e}"))?
        .map_err(|e| e.to_string())
}

async fn refresh(config_path: &Path, only: Option<&str>, jobs: usize) -> Result<ExitCode, String> {
    let config = Arc::new(load(config_path)?);
    let names: Vec<String> = pick(&config, config_path, only)?
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let store = open_store(&config).await?;
    let fetcher = fetcher(&config)?;
    let now = chrono::Utc::now();
    let slots = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, name) in names.into_iter().enumerate() {
        let (config, store, fetcher, slots) = (
            config.clone(),
            store.clone(),
            fetcher.clone(),
            slots.clone(),
        );
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await.ok();
            let source = config.sources.iter().find(|s| s.name == name)?;
            let outcome = refresh::refresh_source(&store, &config, source, &fetcher, now).await;
            Some((index, outcome))
        });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Some(o)) => outcomes.push(o),
            Ok(None) => {}
            Err(e) => return Err(format!("refresh task failed: {e}")),
        }
    }
    outcomes.sort_by_key(|(index, _)| *index);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failed = 0;
    for (_, o) in &outcomes {
        failed += usize::from(o.failed());
        print_outcome(&mut out, o).map_err(|e| e.to_string())?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        error!(
            failed,
            "some sources could not be refreshed; their stored items are kept"
        );
        ExitCode::from(2)
    })
}

async fn ingest(
    config_path: &Path,
    source: &str,
    files: &[PathBuf],
    url: Option<&url::Url>,
    captured: Option<chrono::NaiveDate>,
) -> Result<ExitCode, String> {
    let config = load(config_path)?;
    let sources = pick(&config, config_path, Some(source))?;
    let Some(source) = sources.first() else {
        return Err(format!("no source named {source:?}"));
    };
    let store = open_store(&config).await?;
    let now = chrono::Utc::now();
    let outcome = refresh::ingest_files(&store, &config, source, files, url, captured, now).await;
    let stdout = std::io::stdout();
    print_outcome(&mut stdout.lock(), &outcome).map_err(|e| e.to_string())?;
    Ok(if outcome.failed() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_outcome(out: &mut impl Write, o: &refresh::RefreshOutcome) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {} page(s) read, {} not modified; {} new, {} updated, {} unchanged, {} removed; {} warning(s), {} error(s)",
        o.source,
        o.pages,
        o.not_modified,
        o.stats.new,
        o.stats.updated,
        o.stats.unchanged,
        o.removed,
        o.warnings.len(),
        o.errors.len()
    )?;
    for w in &o.warnings {
        writeln!(out, "  warning: {w}")?;
    }
    for e in &o.errors {
        writeln!(out, "  error: {e}")?;
    }
    Ok(())
}
