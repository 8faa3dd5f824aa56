//! Placeholder: the text adapter lands in its own change.

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
            "source {:?}: the text adapter is not built yet",
            source.name
        ),
    ))
}
