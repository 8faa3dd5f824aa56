//! Placeholder: the merger lands next.
