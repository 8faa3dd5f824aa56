//! Host slots: how many requests may be in flight to one host (host and
//! port) at once. A *slot* is taken in this process first (a semaphore per
//! host) and then, when processes share a store, across all of them
//! ([`SharedSlots`]), so running N byline processes does not multiply the
//! load a site sees by N.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

/// Slots of a host across every process sharing a store. An implementation
/// that cannot reach its peers lets the request go with this process's
/// slot alone (and says so in the log): a refresh is never stopped by it.
pub trait SharedSlots: Send + Sync + std::fmt::Debug {
    /// Wait for one of `limit` slots of `host`; it is free again when the
    /// returned guard drops.
    fn take<'a>(
        &'a self,
        host: &'a str,
        limit: usize,
    ) -> Pin<Box<dyn Future<Output = Box<dyn Send>> + Send + 'a>>;
}

/// The slot a request holds until its body is read.
pub(super) struct Slot {
    _local: OwnedSemaphorePermit,
    _shared: Option<Box<dyn Send>>,
}

/// Every host's slots, made on first use. Clones share them.
#[derive(Debug, Clone, Default)]
pub(super) struct Hosts {
    local: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    shared: Option<Arc<dyn SharedSlots>>,
}

impl Hosts {
    pub(super) fn with_shared(&mut self, shared: Arc<dyn SharedSlots>) {
        self.shared = Some(shared);
    }

    /// Wait for a slot of `url`'s host; `None` only if its semaphore closed.
    pub(super) async fn take(&self, url: &Url, limit: usize) -> Option<Slot> {
        let limit = limit.max(1);
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        );
        let semaphore = self
            .local
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(key.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(limit)))
            .clone();
        let local = semaphore.acquire_owned().await.ok()?;
        let shared = match &self.shared {
            Some(s) => Some(s.take(&key, limit).await),
            None => None,
        };
        Some(Slot {
            _local: local,
            _shared: shared,
        })
    }
}
