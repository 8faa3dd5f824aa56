//! `byline serve`: bind first, publish what the store holds, refresh every
//! source, then keep refreshing on timers until a shutdown signal. A
//! *reload* (SIGHUP) reads the config file again and, when it checks, swaps
//! it in without dropping a connection; a config that does not check is
//! logged with its place and the running one kept.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tracing::{error, info, warn};

use super::commands::{fetcher_within, open_store};
use crate::config::Config;
use crate::schedule::Scheduler;
use crate::server::{self, Published};

pub(super) async fn serve(
    config: Config,
    config_path: &Path,
    listen: Option<SocketAddr>,
) -> Result<ExitCode, String> {
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
    // Signals are handled from the start (a SIGHUP during the first refresh
    // waits for it, rather than killing the process); a port in use is
    // reported before any source is read.
    let signal = server::shutdown_signal();
    let mut hangup = server::reload_signal();
    let listener = server::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = listener.local_addr().ok();
    let as_loaded = config.clone();
    let config = with_base(config, bound);
    let store = open_store(&config).await?;
    if store.read_only() {
        warn!(store = %store.location().name(),
            "the store is read-only: serving what it holds; refreshes cannot be stored");
    }
    let interval = Duration::from_secs(config.server.refresh_interval_secs);
    // A fetch never outlives its source's refresh interval: sources that
    // stall cannot hold their host's slots while the others on it wait.
    let fetcher = fetcher_within(&config, interval)?;
    let config = Arc::new(config);
    let published = Arc::new(Published::new(config.clone()));
    // Listen for a shutdown signal from now on: one during the first
    // refresh stops byline as cleanly as one while serving.
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        signal.await;
        let _ = stop.send(true);
    });
    if let Some(addr) = config.editor {
        let config = config.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::suggest::serve_editor(&config, addr).await {
                error!("{e}");
            }
        });
    }
    let shared = match store.location() {
        crate::store::Location::Postgres(url) => Some(url.clone()),
        crate::store::Location::Sqlite(_) => None,
    };
    let mut scheduler = Scheduler::new(config, store, fetcher, published.clone());
    // Replicas sharing the store publish each other's changes.
    let (current, following) = tokio::sync::watch::channel(scheduler.clone());
    if let Some(url) = shared {
        let changes = crate::replicas::changes(url);
        tokio::spawn(Scheduler::follow(following, changes));
    }
    // Serve what the store holds at once (a restart costs readers nothing),
    // while the first refresh runs; /healthz says "starting" until it ends.
    scheduler.publish().await;
    let mut until_stopped = stopped.clone();
    let serving = server::serve_on_own_thread(listener, published.clone(), async move {
        let _ = until_stopped.wait_for(|s| *s).await;
    })
    .map_err(|e| format!("cannot start the server thread: {e}"))?;
    {
        let scheduler = scheduler.clone();
        tokio::spawn(async move { scheduler.check_store().await });
    }
    let first = tokio::select! {
        () = scheduler.refresh_all(interval) => true,
        _ = stopped.wait_for(|s| *s) => false,
    };
    if first {
        published.set_started();
        info!("first refresh done");
        let mut timers = start_timers(&scheduler);
        let mut loaded = as_loaded;
        loop {
            tokio::select! {
                () = hangup.recv() => {}
                _ = stopped.wait_for(|s| *s) => break,
            }
            let next = match reload(config_path, &loaded) {
                Ok(next) => next,
                Err(e) => {
                    error!(config = %config_path.display(), "reload refused, still serving the previous config: {e}");
                    continue;
                }
            };
            let running = published.config();
            let mut config = with_base(next.clone(), bound);
            config.store.clone_from(&running.store);
            let interval = Duration::from_secs(config.server.refresh_interval_secs);
            let fetcher = match fetcher_within(&config, interval) {
                Ok(f) => f,
                Err(e) => {
                    error!("reload refused, still serving the previous config: {e}");
                    continue;
                }
            };
            // Stop the old timers before the new config is published; a
            // publish the old scheduler has under way is dropped as stale.
            if let Some(t) = timers.take() {
                t.abort();
            }
            let config = Arc::new(config);
            published.reconfigure(config.clone());
            scheduler = scheduler.reconfigured(config.clone(), fetcher).await;
            current.send_replace(scheduler.clone());
            // New or edited sources are read now; the others keep their
            // timers' rhythm and their stored stories. Either way the
            // edition is read again: feeds and rules may have changed.
            let changed = |s: &crate::config::SourceConfig| {
                running
                    .sources
                    .iter()
                    .find(|r| r.name == s.name)
                    // SourceConfig has no PartialEq; every field is Debug.
                    .is_none_or(|r| format!("{r:?}") != format!("{s:?}"))
            };
            scheduler.refresh_where(changed).await;
            timers = start_timers(&scheduler);
            info!(config = %config_path.display(), sources = config.sources.len(), "reloaded");
            loaded = next;
        }
    }
    if serving.await.is_err() {
        return Err("the server thread stopped unexpectedly".into());
    }
    Ok(ExitCode::SUCCESS)
}

fn start_timers(scheduler: &Scheduler) -> Option<tokio::task::JoinHandle<()>> {
    let secs = scheduler.config().server.refresh_interval_secs;
    (secs > 0).then(|| tokio::spawn(scheduler.clone().run(Duration::from_secs(secs))))
}

/// Read the config file again. Keys that only take effect when byline starts
/// (where it listens, its connection limits, the store, the editor) are kept
/// as they are, with a warning.
fn reload(path: &Path, loaded: &Config) -> Result<Config, String> {
    let next = Config::load(path).map_err(|e| e.to_string())?;
    crate::urls::add_sensitive_params(&next.redact_params);
    let (a, b) = (&loaded.server, &next.server);
    let restart: Vec<&str> = [
        ("server.listen", a.listen != b.listen),
        (
            "server.max_connections",
            a.max_connections != b.max_connections,
        ),
        (
            "server.max_connections_per_ip",
            a.max_connections_per_ip != b.max_connections_per_ip,
        ),
        (
            "server.header_timeout_secs",
            a.header_timeout_secs != b.header_timeout_secs,
        ),
        (
            "server.write_timeout_secs",
            a.write_timeout_secs != b.write_timeout_secs,
        ),
        ("store", loaded.store != next.store),
        ("editor.listen", loaded.editor != next.editor),
    ]
    .into_iter()
    .filter_map(|(key, changed)| changed.then_some(key))
    .collect();
    if !restart.is_empty() {
        warn!(keys = ?restart, "these keys changed but take effect only when byline restarts");
    }
    Ok(next)
}

/// Where links point: a configured `base_url`, or else where we listen (not
/// at the default :8080 when `--listen` says otherwise).
fn with_base(mut config: Config, bound: Option<SocketAddr>) -> Config {
    let Some(bound) = bound else { return config };
    if config.base_url_given {
        // A base_url on this machine that is not where we listen is most
        // likely a leftover: say so rather than publish dead links.
        let here = config.base_url.host_str().is_some_and(|h| {
            h == "localhost"
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        if here && config.base_url.port_or_known_default() != Some(bound.port()) {
            warn!(base_url = %config.base_url, listening = %bound,
                "base_url points at another port of this machine than the one byline listens on; links will not reach this server");
        }
    } else if let Ok(url) = url::Url::parse(&format!("http://{bound}/")) {
        info!(base_url = %url, "no base_url in the config: links use the address byline listens on");
        config.base_url = url;
    }
    config
}
