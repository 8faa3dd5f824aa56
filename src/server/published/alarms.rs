//! The alarm events a published site shows as its status feed: the newest
//! of the store's, swapped in whole after each refresh that raised or
//! cleared an alarm (see `render::status`).

use std::sync::{Arc, PoisonError};

use super::Published;
use crate::store::AlarmEvent;

impl Published {
    /// Publish the newest alarm events (newest first), as the store has them.
    pub fn publish_alarm_events(&self, mut events: Vec<AlarmEvent>) {
        events.truncate(crate::render::status::ENTRIES);
        let mut current = self
            .alarm_events
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        *current = Arc::new(events);
    }

    /// The status feed's events.
    pub(crate) fn alarm_events(&self) -> Arc<Vec<AlarmEvent>> {
        self.alarm_events
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
