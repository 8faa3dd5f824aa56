//! The schedule keeps a serving byline up to date: each source is refreshed
//! into the store on its own timer, and the feeds are published again from
//! the store when the items behind them changed.
//!
//! A *tick* is one refresh of one source. Sources tick independently (a slow
//! or failing one never delays the others), with jitter so sources sharing a
//! host do not all fetch at the same second. Publishing reads the edition
//! from the store (as `build` does), so items that rolled off a listing stay
//! served and memory holds only what the feeds show.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use tracing::{debug, info, warn};

use crate::config::Config;
use crate::fetch::Fetcher;
use crate::refresh::refresh_source;
use crate::server::{Published, SourceStatus};
use crate::store::{Claim, Holder, Store};
use crate::views::Edition;

/// Publishes the store's items, keeping each source's latest status.
#[derive(Clone)]
pub struct Scheduler {
    config: Arc<Config>,
    store: Store,
    fetcher: Fetcher,
    published: Arc<Published>,
    statuses: Arc<Mutex<BTreeMap<String, SourceStatus>>>,
    /// What the store check found, kept until a restart.
    damage: Arc<Mutex<Option<String>>>,
    /// Each source's failures in a row, by index, for its next delay.
    backoff: Arc<Mutex<HashMap<usize, Backoff>>>,
    /// What the store remembered at start-up, by source: last success, and
    /// last error with its time.
    seed: Arc<Mutex<Seed>>,
    /// Who this process is when it claims a refresh of a shared store.
    holder: Holder,
    /// Publishes one at a time, and no more of them than needed.
    publishing: Arc<PublishQueue>,
    /// The first refresh after start-up runs.
    starting: Arc<std::sync::atomic::AtomicBool>,
    /// Another replica stored a change while it ran.
    missed: Arc<std::sync::atomic::AtomicBool>,
    /// Refreshes of a shared store this replica has claimed and not stored.
    claims: Arc<tokio::sync::Semaphore>,
}

/// How many refreshes of a shared store one replica claims at once. A
/// replica claims a source when it can start it, not all it sees due: the
/// replica that woke first would otherwise take nearly every source at
/// start-up and refresh them one write after another while the others
/// idle (measured: 293 of 300 sources went to two of three replicas). Each
/// replica writes through one session, so a few refreshes in flight keep
/// it busy while their fetches and parses overlap.
const CLAIMS_AT_ONCE: usize = 8;

/// Publishes asked for and done: a publish reads the store when it starts,
/// so it covers every request made before that; a request it covered is
/// done without a publish of its own. Publishes asked for faster than they
/// render (each replica's own refreshes and the others' changes) so do not
/// queue up, each behind the last with an edition read when it was asked.
#[derive(Default)]
struct PublishQueue {
    lock: Mutex<()>,
    asked: std::sync::atomic::AtomicU64,
    covered: std::sync::atomic::AtomicU64,
}

type Seed = HashMap<String, (Option<DateTime<Utc>>, Option<(String, DateTime<Utc>)>)>;

/// How a source's refreshes have been failing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backoff {
    /// Failed refreshes in a row.
    pub failures: u32,
    /// What the server last asked for with `Retry-After`.
    pub retry_after: Option<Duration>,
}

/// The longest `Retry-After` honoured: a server asking for more is waited
/// on for a day, then asked again.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Backoff doubles the interval per failure in a row, up to this (or the
/// interval itself, if longer).
pub const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);

/// When a source ticks next: the interval (± 10 %) while it is healthy;
/// after failures in a row, the interval doubled per failure up to
/// [`MAX_BACKOFF`]; and never sooner than a `Retry-After` (capped at
/// [`MAX_RETRY_AFTER`]). A site that is down, or a body over the size
/// limit, is so not downloaded again on every tick.
pub fn next_delay(interval: Duration, backoff: Backoff) -> Duration {
    let base = jittered(interval);
    if backoff.failures == 0 {
        return base;
    }
    let doubled = base.saturating_mul(1u32 << backoff.failures.saturating_sub(1).min(16));
    let backed_off = doubled.min(MAX_BACKOFF.max(interval));
    match backoff.retry_after {
        Some(wait) => backed_off.max(wait.min(MAX_RETRY_AFTER)),
        None => backed_off,
    }
}

impl Scheduler {
    pub fn new(
        config: Arc<Config>,
        store: Store,
        fetcher: Fetcher,
        published: Arc<Published>,
    ) -> Self {
        Scheduler {
            config,
            store,
            fetcher,
            published,
            statuses: Arc::new(Mutex::new(BTreeMap::new())),
            damage: Arc::new(Mutex::new(None)),
            backoff: Arc::new(Mutex::new(HashMap::new())),
            seed: Arc::new(Mutex::new(HashMap::new())),
            holder: Holder::this_process(),
            publishing: Arc::default(),
            starting: Arc::default(),
            missed: Arc::default(),
            claims: Arc::new(tokio::sync::Semaphore::new(CLAIMS_AT_ONCE)),
        }
    }

    /// The config this scheduler refreshes by.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The scheduler for a reloaded `config`: the same store and server, the
    /// sources' state carried over by name (a source that left the config
    /// leaves `/healthz` too). Its timers start with [`Scheduler::run`].
    pub async fn reconfigured(&self, config: Arc<Config>, fetcher: Fetcher) -> Scheduler {
        let index = |c: &Config, name: &str| c.sources.iter().position(|s| s.name == name);
        let statuses = self
            .statuses
            .lock()
            .await
            .iter()
            .filter(|(name, _)| index(&config, name).is_some())
            .map(|(name, s)| (name.clone(), s.clone()))
            .collect();
        let backoff = self
            .backoff
            .lock()
            .await
            .iter()
            .filter_map(|(&n, b)| {
                let name = &self.config.sources.get(n)?.name;
                Some((index(&config, name)?, *b))
            })
            .collect();
        Scheduler {
            config,
            store: self.store.clone(),
            fetcher,
            published: self.published.clone(),
            statuses: Arc::new(Mutex::new(statuses)),
            damage: self.damage.clone(),
            backoff: Arc::new(Mutex::new(backoff)),
            seed: self.seed.clone(),
            holder: self.holder.clone(),
            // Its own: a publish of the old config is dropped as stale, so
            // it covers nothing of the new one's.
            publishing: Arc::default(),
            starting: Arc::default(),
            missed: Arc::default(),
            // Refreshes of the old config may still run: they count.
            claims: self.claims.clone(),
        }
    }

    /// Refresh the sources `pick` chooses, all at once, then publish the
    /// edition (always: a reload may have changed feeds even if no source
    /// changed).
    pub async fn refresh_where(&self, pick: impl Fn(&crate::config::SourceConfig) -> bool) {
        let mut tasks = tokio::task::JoinSet::new();
        for (n, source) in self.config.sources.iter().enumerate() {
            if pick(source) {
                let this = self.clone();
                tasks.spawn(async move { this.claimed_tick(n, false, None, true).await });
            }
        }
        while tasks.join_next().await.is_some() {}
        self.publish().await;
    }

    /// Refresh every source once (all at once), then publish. What the store
    /// remembers of earlier runs (last success, last error) seeds each
    /// source's status, so `/healthz` does not forget them on a restart.
    /// Of a shared store, only the sources due and not held by another
    /// replica are refreshed; the store has the others' stories.
    pub async fn refresh_all(&self, interval: Duration) {
        // The status feed survives restarts: it is the store's.
        self.publish_alarm_events().await;
        let store = self.store.clone();
        if let Ok(Ok(states)) = tokio::task::spawn_blocking(move || store.fetch_states(None)).await
        {
            let mut seed = self.seed.lock().await;
            for s in states {
                let entry = seed.entry(s.source.clone()).or_default();
                entry.0 = entry.0.max(s.last_success);
                if let (Some(error), Some(at)) = (s.last_error, s.last_error_at)
                    && entry.1.as_ref().is_none_or(|(_, t)| *t < at)
                {
                    entry.1 = Some((error, at));
                }
            }
        }
        self.starting
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..self.config.sources.len() {
            let this = self.clone();
            tasks.spawn(async move { this.claimed_tick(n, false, Some(interval), false).await });
        }
        let mut changed = false;
        while let Some(done) = tasks.join_next().await {
            changed |= done.map_or(true, |t| t.unwrap_or(false));
        }
        use std::sync::atomic::Ordering::SeqCst;
        self.starting.store(false, SeqCst);
        changed |= self.missed.swap(false, SeqCst);
        // What is published already came from the store: read it again only
        // if the refresh (or another replica meanwhile) changed it (a
        // restart usually does not).
        if changed {
            self.publish().await;
        } else {
            self.publish_statuses().await;
        }
    }

    /// Run forever: every source ticks each `interval` (± 10 % jitter), or
    /// later while it fails (see [`next_delay`]). Of a shared store, a tick
    /// another replica has claimed waits until that refresh is due again.
    pub async fn run(self, interval: Duration) {
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..self.config.sources.len() {
            let this = self.clone();
            tasks.spawn(async move {
                let mut wait = {
                    let state = this.backoff.lock().await.get(&n).copied();
                    next_delay(interval, state.unwrap_or_default())
                };
                loop {
                    tokio::time::sleep(wait).await;
                    wait = match this.claimed_tick(n, true, Some(interval), false).await {
                        Ok(_) => {
                            let state = this.backoff.lock().await.get(&n).copied();
                            next_delay(interval, state.unwrap_or_default())
                        }
                        Err(retry) => retry,
                    };
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }

    /// [`Scheduler::tick`], for a shared store only once this replica has
    /// claimed the source: the claim is renewed while the refresh runs and
    /// released with the next due time (`interval` on from now, or later
    /// while the source fails; `None`: not scheduled again). `Err` is how
    /// long to wait before asking again when another replica has it or it
    /// is not due (`force` asks even so, for a refresh asked for by hand).
    async fn claimed_tick(
        &self,
        n: usize,
        publish: bool,
        interval: Option<Duration>,
        force: bool,
    ) -> Result<bool, Duration> {
        let Some(source) = self.config.sources.get(n) else {
            return Ok(false);
        };
        if !self.store.shared() {
            return Ok(self.tick(n, publish, None).await);
        }
        let Ok(slot) = self.claims.clone().acquire_owned().await else {
            return Err(self.config.store.lease);
        };
        let lease = self.config.store.lease;
        let hold = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
        let name = source.name.clone();
        let (store, holder) = (self.store.clone(), self.holder.clone());
        let started = Utc::now();
        let claim =
            tokio::task::spawn_blocking(move || store.claim(&name, &holder, started, hold, force))
                .await;
        match claim {
            Ok(Ok(Claim::Claimed)) => {}
            Ok(Ok(Claim::Busy { retry, holder })) => {
                debug!(source = %source.name, holder = ?holder, due = %retry, "another replica has this refresh, or it is not due");
                // A little later than asked, and spread out, so replicas
                // waking together do not all claim in the same millisecond.
                let wait = (retry - Utc::now()).to_std().unwrap_or_default();
                return Err(wait + Duration::from_millis(fastrand::u64(50..500)));
            }
            Ok(Err(e)) => {
                warn!(source = %source.name, error = %e, "cannot claim the refresh; trying again later");
                return Err(lease);
            }
            Err(e) => {
                warn!(source = %source.name, error = %e, "cannot claim the refresh; trying again later");
                return Err(lease);
            }
        }
        // Renewed at a third of its term while the refresh runs.
        let renew = {
            let (store, holder, name) =
                (self.store.clone(), self.holder.clone(), source.name.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    let (s, h, n) = (store.clone(), holder.clone(), name.clone());
                    let kept =
                        tokio::task::spawn_blocking(move || s.renew(&n, &h, Utc::now() + hold))
                            .await;
                    if !matches!(kept, Ok(Ok(true))) {
                        warn!(source = %name, "lost the claim on this refresh; another replica may refresh it too");
                    }
                }
            })
        };
        let changed = self.tick(n, publish, Some(slot)).await;
        renew.abort();
        let next = match interval {
            Some(interval) if !interval.is_zero() => {
                let state = self.backoff.lock().await.get(&n).copied();
                next_delay(interval, state.unwrap_or_default())
            }
            _ => Duration::ZERO,
        };
        // An interval after this refresh ended, as a replica of its own
        // waits: never two fetches of a source within one interval.
        let due = Utc::now() + chrono::Duration::from_std(next).unwrap_or_default();
        let (store, holder, name) = (self.store.clone(), self.holder.clone(), source.name.clone());
        let released =
            tokio::task::spawn_blocking(move || store.release(&name, &holder, due)).await;
        if !matches!(released, Ok(Ok(()))) {
            warn!(source = %source.name, "cannot release the claim; it lapses by itself");
        }
        Ok(changed)
    }

    /// Refresh source `n`; publish when asked and something changed. The
    /// claim `slot` is given back once the refresh is stored: a publish
    /// (one at a time, seconds in a debug build) must not hold up other
    /// sources' fetches, only this source's release.
    async fn tick(
        &self,
        n: usize,
        publish: bool,
        slot: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> bool {
        let Some(source) = self.config.sources.get(n) else {
            return false;
        };
        let now = Utc::now();
        let outcome = refresh_source(&self.store, &self.config, source, &self.fetcher, now).await;
        drop(slot);
        if outcome.failed() {
            warn!(source = %source.name, errors = ?outcome.messages(), "refresh failed; stored items stay served");
        } else {
            info!(source = %source.name, new = outcome.stats.new, updated = outcome.stats.updated,
                  not_modified = outcome.not_modified, "refreshed");
        }
        {
            let mut backoff = self.backoff.lock().await;
            let b = backoff.entry(n).or_default();
            *b = if outcome.failed() {
                Backoff {
                    failures: b.failures.saturating_add(1),
                    retry_after: outcome.retry_after(),
                }
            } else {
                Backoff::default()
            };
        }
        let mut status = SourceStatus::of(&outcome, now);
        if let Some((ok_at, error)) = self.seed.lock().await.get(&source.name) {
            if status.last_ok_at.is_none() {
                status.last_ok_at = *ok_at;
            }
            if status.last_error.is_none()
                && let Some((e, at)) = error
            {
                status.last_error = Some(e.clone());
                status.last_error_at = Some(*at);
            }
        }
        let status_changed = {
            let mut statuses = self.statuses.lock().await;
            let before = statuses
                .get(&source.name)
                .map(|s| (s.errors.clone(), s.alarms.clone()));
            statuses.insert(source.name.clone(), status);
            before != Some((outcome.messages(), outcome.alarms.clone()))
        };
        self.published
            .count_not_modified(u64::from(outcome.not_modified));
        let events = |kind: &str| {
            outcome
                .alarm_events
                .iter()
                .filter(|e| e.event == kind)
                .count() as u64
        };
        self.published.count_refresh(
            &source.name,
            outcome.failed(),
            events("raised"),
            events("cleared"),
        );
        if !outcome.alarm_events.is_empty() {
            self.publish_alarm_events().await;
        }
        if publish && outcome.changed() {
            self.publish().await;
        } else if publish && status_changed {
            self.publish_statuses().await;
        }
        outcome.changed()
    }

    /// The current statuses, in config order, as the index page and
    /// /healthz list them.
    async fn statuses(&self) -> Vec<SourceStatus> {
        let by_name = self.statuses.lock().await;
        self.config
            .sources
            .iter()
            .filter_map(|s| by_name.get(&s.name).cloned())
            .collect()
    }

    /// Publish the store's newest alarm events: the status feed.
    async fn publish_alarm_events(&self) {
        let store = self.store.clone();
        let found =
            tokio::task::spawn_blocking(move || store.alarm_events(crate::render::status::ENTRIES))
                .await;
        match found {
            Ok(Ok(events)) => self.published.publish_alarm_events(events),
            Ok(Err(e)) => warn!(error = %e, "cannot read the alarm events"),
            Err(e) => warn!(error = %e, "cannot read the alarm events"),
        }
    }

    /// Publish the sources' state alone: the stories did not change.
    async fn publish_statuses(&self) {
        // Not while a publish runs: this one keeps the edition it finds,
        // and would put back the one that publish replaces.
        let _one_at_a_time = self.publishing.lock.lock().await;
        let statuses = self.statuses().await;
        let published = self.published.clone();
        let done = tokio::task::spawn_blocking(move || published.publish_statuses(statuses)).await;
        if let Err(e) = done {
            warn!(error = %e, "publishing failed");
        }
    }

    /// Check the whole store file once (SQLite's quick check, off the async
    /// threads); damage makes `/healthz` fail with what to do about it.
    pub async fn check_store(&self) {
        let store = self.store.clone();
        let found = tokio::task::spawn_blocking(move || store.quick_check()).await;
        let damage = match found {
            Ok(Ok(damage)) => damage,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(format!("store check failed: {e}")),
        };
        if let Some(d) = &damage {
            warn!(problem = %d, "the store is damaged; stored stories may be missing from the feeds");
        }
        *self.damage.lock().await = damage.clone();
        if damage.is_some() {
            self.published.set_store_problem(damage);
        }
    }

    /// Publish again whenever another replica sharing the store stored a
    /// change (`changes` gives the server process that sent each, `None`
    /// when some may have been missed). Changes close together are
    /// published once; this replica's own were published as it stored them.
    pub async fn follow(
        current: tokio::sync::watch::Receiver<Scheduler>,
        mut changes: tokio::sync::mpsc::Receiver<Option<i32>>,
    ) {
        use std::sync::atomic::Ordering::SeqCst;
        while let Some(first) = changes.recv().await {
            let this = current.borrow().clone();
            let mine = this.store.writer_pid();
            let own = |pid: Option<i32>| pid.is_some() && pid.map(i64::from) == mine;
            let mut foreign = !own(first);
            // Changes in a burst are published once: after 100 ms without
            // another, or a second after the first, whichever comes first.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
            loop {
                let quiet = tokio::time::Instant::now() + Duration::from_millis(100);
                match tokio::time::timeout_at(quiet.min(deadline), changes.recv()).await {
                    Ok(Some(next)) => foreign |= !own(next),
                    Ok(None) | Err(_) => break,
                }
                if tokio::time::Instant::now() >= deadline {
                    break;
                }
            }
            if !foreign {
                continue;
            }
            // The first refresh publishes when it ends, with every change
            // made meanwhile: publishing each one as well would only slow it.
            if this.starting.load(SeqCst) {
                this.missed.store(true, SeqCst);
                continue;
            }
            debug!("another replica stored a change; publishing again");
            this.publish().await;
            this.publish_alarm_events().await;
        }
    }

    /// Read the edition from the store and publish it with the current
    /// statuses; done at once if a publish that started since covers it.
    pub async fn publish(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        let queue = &self.publishing;
        let ticket = queue.asked.fetch_add(1, SeqCst) + 1;
        let _one_at_a_time = queue.lock.lock().await;
        if queue.covered.load(SeqCst) >= ticket {
            return;
        }
        let covers = queue.asked.load(SeqCst);
        self.publish_now().await;
        queue.covered.fetch_max(covers, SeqCst);
    }

    async fn publish_now(&self) {
        let statuses = self.statuses().await;
        let (config, store, published) = (
            self.config.clone(),
            self.store.clone(),
            self.published.clone(),
        );
        let done = tokio::task::spawn_blocking(move || {
            let edition = store.snapshot(|s| Edition::read(s, &config, config.server.max_items))?;
            // False when a reload replaced the config meanwhile: the new
            // scheduler publishes its own edition.
            published.publish_from(&config, edition, statuses);
            Ok::<_, crate::store::StoreError>(())
        })
        .await;
        let problem = match done {
            Ok(Ok(())) => None,
            Ok(Err(e)) => {
                warn!(error = %e, "cannot read the store; the feeds stay as they were");
                Some(e.to_string())
            }
            Err(e) => {
                warn!(error = %e, "publishing failed");
                Some(format!("publishing failed: {e}"))
            }
        };
        let damage = self.damage.lock().await.clone();
        self.published.set_store_problem(problem.or(damage));
    }
}

/// `interval` ± 10 %, so sources started together drift apart.
fn jittered(interval: Duration) -> Duration {
    let spread = interval.as_millis() as u64 / 10;
    if spread == 0 {
        return interval;
    }
    let offset = fastrand::u64(0..=2 * spread);
    (interval + Duration::from_millis(offset)).saturating_sub(Duration::from_millis(spread))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_and_retry_after_is_honoured() {
        let minute = Duration::from_secs(60);
        let after = |failures, retry_after| {
            next_delay(
                minute,
                Backoff {
                    failures,
                    retry_after,
                },
            )
        };
        let healthy = after(0, None);
        assert!(healthy >= Duration::from_secs(54) && healthy <= Duration::from_secs(66));
        let third = after(3, None);
        assert!(
            third >= Duration::from_secs(216) && third <= Duration::from_secs(264),
            "{third:?}"
        );
        assert_eq!(after(40, None), MAX_BACKOFF);
        let hour = Duration::from_secs(3600);
        assert_eq!(after(1, Some(hour)), hour);
        assert_eq!(after(1, Some(hour * 24 * 10)), MAX_RETRY_AFTER);
    }
}
