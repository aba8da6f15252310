//! [`Report`]: what every report function returns — a body to render, the claims behind every
//! number in it (checked to resolve), the warnings a reader must see (stale inputs, sources
//! that disagree, values assumed), and whether any input was simulated.

use std::fmt;

use canary_model::{Claim, ClaimId, ClaimSet, Timestamp};
use serde::Serialize;

use crate::EngineError;

/// What a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// The latest value of an input is older than its staleness limit at the as-of time.
    Stale,
    /// Two sources of the same series give different values.
    Disagree,
    /// A value was assumed for want of data (the message says which and why).
    Assumed,
    /// A fact's publication date is unknown: it is taken as published a filing lag after its
    /// period end.
    Undated,
}

/// A warning shown above tables and in every JSON report under `warnings`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    pub kind: WarningKind,
    /// The input it concerns: `BTCUSDT 1d`, `hashrate_hs`, `MSTR btc_held`.
    pub series: String,
    /// The time the input's latest value describes (a bar's close, a day's end, a period end).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_time: Option<Timestamp>,
    /// Its age at the as-of time, in days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_days: Option<f64>,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            WarningKind::Stale => "stale",
            WarningKind::Disagree => "sources disagree",
            WarningKind::Assumed => "assumed",
            WarningKind::Undated => "undated",
        };
        write!(f, "{kind}: {}", self.message)
    }
}

/// A report as of a time: the body, its claims, warnings, and the simulated flag.
#[derive(Debug, Clone, Serialize)]
pub struct Report<B> {
    pub as_of: Timestamp,
    /// Some input came from the simulator: the report must say so wherever it is shown.
    pub simulated: bool,
    pub warnings: Vec<Warning>,
    #[serde(flatten)]
    pub body: B,
    /// Every number of the body, with its provenance; every derivation resolves in the set.
    pub claims: ClaimSet,
}

/// A report being built: claims, warnings and the simulated flag accumulate, and
/// [`Draft::finish`] checks that every derivation resolves.
#[derive(Debug, Clone)]
pub struct Draft {
    pub as_of: Timestamp,
    pub claims: ClaimSet,
    warnings: Vec<Warning>,
    simulated: bool,
}

impl Draft {
    #[must_use]
    pub fn new(as_of: Timestamp) -> Self {
        Draft {
            as_of,
            claims: ClaimSet::new(),
            warnings: Vec::new(),
            simulated: false,
        }
    }

    /// Add a claim; its id.
    pub fn add(&mut self, c: Claim) -> ClaimId {
        self.claims.add(c)
    }

    /// Record a warning, once per kind and series.
    pub fn warn(&mut self, w: Warning) {
        if !self
            .warnings
            .iter()
            .any(|x| x.kind == w.kind && x.series == w.series)
        {
            self.warnings.push(w);
        }
    }

    /// Mark the report as built from simulated data (a composite of reports that were).
    pub fn mark_simulated(&mut self) {
        self.simulated = true;
    }

    /// Record what an input brings to every report that uses it: its warnings and whether it
    /// is simulated.
    pub fn uses<T>(&mut self, input: &crate::Input<T>) {
        self.simulated |= input.simulated();
        for w in &input.warnings {
            self.warn(w.clone());
        }
    }

    /// The finished report.
    ///
    /// # Errors
    /// [`EngineError::Claims`] when a derivation names a claim the report does not hold: a
    /// bug in the report function, never shown as a number.
    pub fn finish<B>(self, body: B) -> Result<Report<B>, EngineError> {
        self.claims.check()?;
        let mut warnings = self.warnings;
        warnings.sort_by(|a, b| (a.kind, &a.series).cmp(&(b.kind, &b.series)));
        Ok(Report {
            as_of: self.as_of,
            simulated: self.simulated,
            warnings,
            body,
            claims: self.claims,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_model::Method;

    #[test]
    fn a_report_with_a_dangling_input_is_refused() {
        let t = Timestamp::from_millis(0);
        let mut d = Draft::new(t);
        let a = Claim::data("a", 1.0, "", t, "s", "f", t);
        let b = Claim::derived("b", 2.0, "", t, Method::new("m", 1).of(&[&a.id]));
        d.add(b);
        assert!(matches!(d.finish(()), Err(EngineError::Claims(_))));
    }

    #[test]
    fn warnings_are_kept_once_per_series() {
        let t = Timestamp::from_millis(0);
        let mut d = Draft::new(t);
        let w = Warning {
            kind: WarningKind::Stale,
            series: "hashrate_hs".into(),
            last_time: None,
            age_days: Some(3.0),
            message: "old".into(),
        };
        d.warn(w.clone());
        d.warn(w);
        let r = d.finish(()).unwrap();
        assert_eq!(r.warnings.len(), 1);
        let json = serde_json::to_value(&r).unwrap();
        for key in ["as_of", "simulated", "warnings", "claims"] {
            assert!(json.get(key).is_some(), "{key} missing from {json}");
        }
        assert_eq!(json["warnings"][0]["kind"], "stale");
    }
}
