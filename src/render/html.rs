//! Placeholder: HTML pages land in their own change.

use super::Site;
use crate::views::View;

/// The index page: every view with its subscribe links.
pub fn index(_views: &[View], _site: &Site) -> String {
    String::new()
}

/// One view's HTML page, listing its items, with feed autodiscovery links.
pub fn page(_view: &View, _site: &Site) -> String {
    String::new()
}
