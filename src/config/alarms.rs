//! `[alarms]` and `[source.alarms]`: when a read counts as drift.
//!
//! An *alarm threshold* says how far a read may depart from its source's own
//! history before byline says the source is broken (see `drift`). The
//! `[alarms]` table sets them for every source; a source's own `alarms`
//! table overrides single keys. `webhook` is global only.

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::{ConfigError, Locator};

/// Checked thresholds of one source. Defaults are in `docs/CONFIG.md`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Alarms {
    /// Recent reads the median and usual fill are taken over.
    pub history: usize,
    /// Reads a source needs in its history before drift is judged.
    pub min_reads: usize,
    /// A card count below this share of the recent median raises `cards`.
    pub card_drop: f64,
    /// A field that filled for at least this share of items ...
    pub field_was: f64,
    /// ... and now fills for less than this share raises `field:NAME`.
    pub field_now: f64,
    /// Raise `pagination` when a next page stops being found.
    pub pagination: bool,
}

impl Default for Alarms {
    fn default() -> Self {
        Alarms {
            history: 10,
            min_reads: 3,
            card_drop: 0.5,
            field_was: 0.9,
            field_now: 0.5,
            pagination: true,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlarms {
    history: Option<Spanned<u32>>,
    min_reads: Option<Spanned<u32>>,
    card_drop: Option<Spanned<f64>>,
    field_was: Option<Spanned<f64>>,
    field_now: Option<Spanned<f64>>,
    pagination: Option<bool>,
    webhook: Option<Spanned<String>>,
}

impl RawAlarms {
    /// `self`'s keys over `base`; `what` names the table in errors.
    pub(super) fn over(
        &self,
        base: Alarms,
        loc: &Locator,
        what: &str,
    ) -> Result<Alarms, ConfigError> {
        let mut out = base;
        let count = |v: &Option<Spanned<u32>>, key: &str| -> Result<Option<usize>, ConfigError> {
            match v {
                None => Ok(None),
                Some(n) if *n.get_ref() >= 1 && *n.get_ref() <= 1000 => {
                    Ok(Some(*n.get_ref() as usize))
                }
                Some(n) => Err(loc.error(
                    n.span(),
                    format!(
                        "{what}.{key}: expected a number of reads from 1 to 1000, got {}",
                        n.get_ref()
                    ),
                )),
            }
        };
        let share = |v: &Option<Spanned<f64>>, key: &str| -> Result<Option<f64>, ConfigError> {
            match v {
                None => Ok(None),
                Some(x) if (0.0..=1.0).contains(x.get_ref()) => Ok(Some(*x.get_ref())),
                Some(x) => Err(loc.error(
                    x.span(),
                    format!(
                        "{what}.{key}: expected a share from 0.0 to 1.0, got {}",
                        x.get_ref()
                    ),
                )),
            }
        };
        if let Some(n) = count(&self.history, "history")? {
            out.history = n;
        }
        if let Some(n) = count(&self.min_reads, "min_reads")? {
            out.min_reads = n;
        }
        if let Some(x) = share(&self.card_drop, "card_drop")? {
            out.card_drop = x;
        }
        if let Some(x) = share(&self.field_was, "field_was")? {
            out.field_was = x;
        }
        if let Some(x) = share(&self.field_now, "field_now")? {
            out.field_now = x;
        }
        if let Some(p) = self.pagination {
            out.pagination = p;
        }
        if out.min_reads > out.history {
            let span = self
                .min_reads
                .as_ref()
                .or(self.history.as_ref())
                .map_or(0..0, Spanned::span);
            return Err(loc.error(
                span,
                format!(
                    "{what}.min_reads: {} is more than history ({}): drift could never be judged",
                    out.min_reads, out.history
                ),
            ));
        }
        Ok(out)
    }

    /// The webhook url, checked; `global` is false for a source's table,
    /// where it is not allowed.
    pub(super) fn webhook(&self, loc: &Locator, global: bool) -> Result<Option<Url>, ConfigError> {
        let Some(w) = &self.webhook else {
            return Ok(None);
        };
        if !global {
            return Err(loc.error(
                w.span(),
                "alarms.webhook: set the webhook in the top-level [alarms] table; a source cannot have its own".to_owned(),
            ));
        }
        super::check::absolute_url(w, loc, "alarms.webhook").map(Some)
    }
}
