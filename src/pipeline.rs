//! Placeholder: the pipeline lands next.
