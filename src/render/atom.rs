//! Placeholder: the atom renderer lands in its own change.

use super::Site;
use crate::views::View;

pub fn render(_view: &View, _site: &Site) -> String {
    String::new()
}
