//! Replicas: byline processes that share one PostgreSQL store, each
//! refreshing and serving, with no coordinator. A *replica* learns from the
//! others through the database alone: which source is its to refresh (the
//! store's leases), that a stored change wants publishing (LISTEN on
//! [`CHANNEL`]), and which of a host's request slots are free (advisory
//! locks, [`PgSlots`]), so the per-host limit holds across all of them.
//!
//! Every connection here is a session of its own: when a replica dies,
//! PostgreSQL drops its locks and its listener with it.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::fetch::SharedSlots;
use crate::store::{CHANNEL, pg_message};

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a waiting request asks for a slot again.
const SLOT_POLL: Duration = Duration::from_millis(25);
/// The longest wait between two attempts to reconnect.
const MAX_RECONNECT: Duration = Duration::from_secs(30);

async fn connect(url: &str) -> Result<tokio_postgres::Client, String> {
    let (mut config, tls) = crate::store::pg_config(url).map_err(|e| e.to_string())?;
    config.connect_timeout(CONNECT_TIMEOUT);
    config.application_name("byline replica");
    let (client, connection) = config.connect(tls).await.map_err(|e| pg_message(&e))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            debug!(error = %e, "replica connection closed");
        }
    });
    Ok(client)
}

/// Every change a replica (this one too) stored, as it commits: the server
/// process that sent it, and `None` after each reconnect (changes may have
/// been missed meanwhile). Runs until the receiver is dropped.
pub fn changes(url: String) -> mpsc::Receiver<Option<i32>> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut wait = Duration::from_millis(250);
        let mut first = true;
        while !tx.is_closed() {
            match listen(&url, &tx, first).await {
                Ok(()) => return,
                Err(e) => warn!(error = %e, retry_in = ?wait,
                    "lost the store's change notifications; other replicas' changes show only after a reconnect"),
            }
            first = false;
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_RECONNECT);
        }
    });
    rx
}

/// Listen until the connection fails (`Err`) or nobody receives (`Ok`).
async fn listen(url: &str, tx: &mpsc::Sender<Option<i32>>, first: bool) -> Result<(), String> {
    let (mut config, tls) = crate::store::pg_config(url).map_err(|e| e.to_string())?;
    config.connect_timeout(CONNECT_TIMEOUT);
    config.application_name("byline listener");
    let (client, mut connection) = config.connect(tls).await.map_err(|e| pg_message(&e))?;
    let (note_tx, mut notes) = mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                    if note_tx.send(n.process_id()).is_err() {
                        return Ok(());
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(pg_message(&e)),
            }
        }
        Err("the server closed the connection".to_owned())
    });
    client
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .await
        .map_err(|e| pg_message(&e))?;
    if !first && tx.send(None).await.is_err() {
        return Ok(());
    }
    while let Some(pid) = notes.recv().await {
        if tx.send(Some(pid)).await.is_err() {
            return Ok(());
        }
    }
    // The driver ended: say why.
    match driver.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e),
        Err(e) => Err(e.to_string()),
    }
}

/// Host slots held as PostgreSQL advisory locks, one lock per (host, slot),
/// all on one session of this replica's. A session may take a lock it
/// holds again, so the slots held here are kept in `held` and never asked
/// for twice.
#[derive(Debug)]
pub struct PgSlots {
    url: String,
    client: tokio::sync::Mutex<Option<Arc<tokio_postgres::Client>>>,
    held: Arc<Mutex<HashSet<(i32, i32)>>>,
}

impl PgSlots {
    pub fn new(url: String) -> PgSlots {
        PgSlots {
            url,
            client: tokio::sync::Mutex::new(None),
            held: Arc::default(),
        }
    }

    /// The session, connected on first use and again after it failed.
    async fn client(&self) -> Result<Arc<tokio_postgres::Client>, String> {
        let mut slot = self.client.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let c = Arc::new(connect(&self.url).await?);
        *slot = Some(c.clone());
        Ok(c)
    }

    async fn take_slot(&self, host: &str, limit: usize) -> Result<Box<dyn Send>, String> {
        let key = host_key(host);
        loop {
            let client = self.client().await?;
            for slot in 0..i32::try_from(limit).unwrap_or(i32::MAX) {
                // Reserved here before asking, so two requests of this
                // replica never ask for one lock.
                if !lock(&self.held).insert((key, slot)) {
                    continue;
                }
                let got = client
                    .query_one("SELECT pg_try_advisory_lock($1, $2)", &[&key, &slot])
                    .await
                    .map(|r| r.get::<_, bool>(0));
                match got {
                    Ok(true) => {
                        return Ok(Box::new(HeldSlot {
                            key,
                            slot,
                            client,
                            held: self.held.clone(),
                        }));
                    }
                    Ok(false) => {
                        lock(&self.held).remove(&(key, slot));
                    }
                    Err(e) => {
                        lock(&self.held).remove(&(key, slot));
                        return Err(pg_message(&e));
                    }
                }
            }
            let jitter = Duration::from_millis(fastrand::u64(0..25));
            tokio::time::sleep(SLOT_POLL + jitter).await;
        }
    }
}

impl SharedSlots for PgSlots {
    fn take<'a>(
        &'a self,
        host: &'a str,
        limit: usize,
    ) -> Pin<Box<dyn Future<Output = Box<dyn Send>> + Send + 'a>> {
        Box::pin(async move {
            match self.take_slot(host, limit).await {
                Ok(held) => held,
                Err(e) => {
                    warn!(host, error = %e,
                        "cannot take a host slot shared with the other replicas; this request counts against this replica's limit only");
                    Box::new(())
                }
            }
        })
    }
}

/// A slot taken; dropping it gives the lock back.
struct HeldSlot {
    key: i32,
    slot: i32,
    client: Arc<tokio_postgres::Client>,
    held: Arc<Mutex<HashSet<(i32, i32)>>>,
}

impl Drop for HeldSlot {
    fn drop(&mut self) {
        let (key, slot, client, held) =
            (self.key, self.slot, self.client.clone(), self.held.clone());
        // Unlocked before the slot is offered here again: the lock may be
        // taken by another replica the moment it is free.
        let unlock = async move {
            if let Err(e) = client
                .query_one("SELECT pg_advisory_unlock($1, $2)", &[&key, &slot])
                .await
            {
                debug!(error = %e, "host slot unlock failed; the session's end frees it");
            }
            lock(&held).remove(&(key, slot));
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(unlock);
            }
            // No runtime left (shutting down): the session's end frees it.
            Err(_) => {
                lock(&self.held).remove(&(key, slot));
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A host's advisory lock key: the first four bytes of its hash (the
/// two-number lock space never meets the store's one-number write lock).
fn host_key(host: &str) -> i32 {
    let d = Sha256::digest(host.as_bytes());
    i32::from_be_bytes([d[0], d[1], d[2], d[3]])
}
