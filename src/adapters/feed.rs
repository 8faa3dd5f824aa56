//! Placeholder: the feed adapter lands in its own change.

use super::{AdapterError, Listing, Page};
use crate::config::SourceConfig;

pub fn read(
    source: &SourceConfig,
    page: &Page,
    _first_position: u32,
) -> Result<Listing, AdapterError> {
    Err(AdapterError::new(
        page.name,
        format!(
            "source {:?}: the feed adapter is not built yet",
            source.name
        ),
    ))
}
