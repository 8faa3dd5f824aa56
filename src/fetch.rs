//! Placeholder: fetching lands next.
