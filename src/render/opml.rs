//! Placeholder: OPML lands in its own change.

use super::Site;
use crate::views::View;

/// An OPML 2.0 subscription list of `views` (the per-author feeds).
pub fn render(_views: &[View], _site: &Site) -> String {
    String::new()
}
