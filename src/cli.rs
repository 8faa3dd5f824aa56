//! The `byline` command line: parses arguments and wires the pipeline
//! together. No logic of its own lives here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tracing::{error, info};

use crate::config::Config;
use crate::fetch::{FetchOptions, Fetcher};
use crate::pipeline::{self, SourceRead};
use crate::site;

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

fn fetcher() -> Result<Fetcher, String> {
    Fetcher::new(FetchOptions::default()).map_err(|e| e.to_string())
}

async fn build(config_path: &Path, out: &Path) -> Result<ExitCode, String> {
    let config = load(config_path)?;
    let reads = pipeline::read_all(&config, &fetcher()?, chrono::Utc::now()).await;
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
    let fetcher = fetcher()?;
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
