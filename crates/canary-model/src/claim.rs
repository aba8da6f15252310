//! [`Claim`]: a number with its unit, its as-of time and where it came from.
//!
//! Every number Canary prints is a claim. Its provenance is either a data point (a series, a
//! source and the bar or record time) or a derivation (a method id and version, its parameters
//! and the ids of the claims it was computed from). Ids are derived from the content, so the
//! same inputs always give the same ids, and a [`ClaimSet`] checks that every derivation's
//! inputs are defined.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::time::Timestamp;

/// A claim's id: `c` and 16 hex digits of a 64-bit FNV-1a hash of its content.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ClaimId(String);

impl ClaimId {
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a claim's value came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Provenance {
    /// A stored observation: e.g. series `BTCUSDT 4h close`, source `btcusdt_binance_4h.csv`,
    /// time = the bar's open time.
    Data {
        series: String,
        source: String,
        time: Timestamp,
    },
    /// A computation: method id and version (documented in `MODELS.md` or the module that
    /// implements it), parameters, and the claims it read.
    Derived {
        method: String,
        version: u32,
        params: BTreeMap<String, String>,
        inputs: Vec<ClaimId>,
    },
}

/// A number with its meaning, unit, time and provenance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claim {
    pub id: ClaimId,
    pub label: String,
    pub value: f64,
    pub unit: String,
    pub as_of: Timestamp,
    pub provenance: Provenance,
}

impl Claim {
    /// A claim whose id is computed from its label, value (bit pattern), unit, as-of time and
    /// provenance.
    #[must_use]
    pub fn new(
        label: impl Into<String>,
        value: f64,
        unit: impl Into<String>,
        as_of: Timestamp,
        provenance: Provenance,
    ) -> Self {
        let label = label.into();
        let unit = unit.into();
        // serde_json of BTreeMaps and Vecs is deterministic: a canonical text of the content.
        let prov = serde_json::to_string(&provenance).unwrap_or_default();
        let text = format!(
            "{label}\u{1f}{:016x}\u{1f}{unit}\u{1f}{}\u{1f}{prov}",
            value.to_bits(),
            as_of.millis()
        );
        Claim {
            id: ClaimId(format!("c{:016x}", crate::fnv1a(text.as_bytes()))),
            label,
            value,
            unit,
            as_of,
            provenance,
        }
    }

    /// A data-point claim.
    #[must_use]
    pub fn data(
        label: impl Into<String>,
        value: f64,
        unit: impl Into<String>,
        as_of: Timestamp,
        series: impl Into<String>,
        source: impl Into<String>,
        time: Timestamp,
    ) -> Self {
        Claim::new(
            label,
            value,
            unit,
            as_of,
            Provenance::Data {
                series: series.into(),
                source: source.into(),
                time,
            },
        )
    }

    /// A derived claim: `derivation` names the method, its parameters and its inputs.
    ///
    /// ```
    /// # use canary_model::{Claim, Method, Timestamp};
    /// const PCT_CHANGE: Method = Method::new("pct_change", 1);
    /// let t = Timestamp::from_millis(0);
    /// let a = Claim::data("close", 110.0, "USD", t, "X 1d close", "file.csv", t);
    /// let b = Claim::data("close", 100.0, "USD", t, "X 1d close", "file.csv", t);
    /// let c = Claim::derived("change", 10.0, "%", t, PCT_CHANGE.of(&[&a.id, &b.id]).param("window", "1d"));
    /// assert_eq!(c.method(), Some(("pct_change", 1)));
    /// ```
    #[must_use]
    pub fn derived(
        label: impl Into<String>,
        value: f64,
        unit: impl Into<String>,
        as_of: Timestamp,
        derivation: impl Into<Derivation>,
    ) -> Self {
        let d = derivation.into();
        Claim::new(
            label,
            value,
            unit,
            as_of,
            Provenance::Derived {
                method: d.method.id.to_string(),
                version: d.method.version,
                params: d.params,
                inputs: d.inputs,
            },
        )
    }

    /// The method id and version of a derived claim (`None` for data).
    #[must_use]
    pub fn method(&self) -> Option<(&str, u32)> {
        match &self.provenance {
            Provenance::Derived {
                method, version, ..
            } => Some((method.as_str(), *version)),
            Provenance::Data { .. } => None,
        }
    }
}

/// A formula's identity: an id documented beside the formula (in `canary-analytics`, or
/// `MODELS.md`) and a version bumped whenever the formula changes, so that claims made by an
/// older formula stay distinguishable. Each method is one constant, used everywhere it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Method {
    pub id: &'static str,
    pub version: u32,
}

impl Method {
    /// A value the user supplied (a price, a power cost): no formula, cited as given.
    pub const USER_INPUT: Method = Method::new("user_input", 1);
    /// A value assumed for want of data (the claim's label says what and why).
    pub const ASSUMPTION: Method = Method::new("assumption", 1);

    #[must_use]
    pub const fn new(id: &'static str, version: u32) -> Self {
        Method { id, version }
    }

    /// A derivation by this method from these input claims.
    #[must_use]
    pub fn of(self, inputs: &[&ClaimId]) -> Derivation {
        Derivation {
            method: self,
            params: BTreeMap::new(),
            inputs: inputs.iter().map(|&i| i.clone()).collect(),
        }
    }
}

/// How a derived claim was computed: the method, its parameters and the claims it read.
#[derive(Debug, Clone, PartialEq)]
pub struct Derivation {
    method: Method,
    params: BTreeMap<String, String>,
    inputs: Vec<ClaimId>,
}

impl Derivation {
    /// Add a parameter (`window = 24h`).
    #[must_use]
    pub fn param(mut self, key: &str, value: impl fmt::Display) -> Self {
        self.params.insert(key.to_string(), value.to_string());
        self
    }

    /// Add an input claim.
    #[must_use]
    pub fn input(mut self, id: &ClaimId) -> Self {
        self.inputs.push(id.clone());
        self
    }
}

impl From<Method> for Derivation {
    fn from(m: Method) -> Self {
        m.of(&[])
    }
}

/// A set of claims keyed by id, in id order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ClaimSet(BTreeMap<ClaimId, Claim>);

/// A derived claim names an input that the set does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("claim {claim} ({label}) derives from {missing}, which is not defined")]
pub struct DanglingInput {
    pub claim: ClaimId,
    pub label: String,
    pub missing: ClaimId,
}

impl ClaimSet {
    #[must_use]
    pub fn new() -> Self {
        ClaimSet::default()
    }

    /// Add a claim; its id (for use as an input of later claims).
    pub fn add(&mut self, c: Claim) -> ClaimId {
        let id = c.id.clone();
        self.0.insert(id.clone(), c);
        id
    }

    #[must_use]
    pub fn get(&self, id: &ClaimId) -> Option<&Claim> {
        self.0.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Claim> {
        self.0.values()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Add every claim of another set.
    pub fn extend(&mut self, other: ClaimSet) {
        self.0.extend(other.0);
    }

    /// Check that every derived claim's inputs are in the set.
    ///
    /// # Errors
    /// The first dangling input found (in id order).
    pub fn check(&self) -> Result<(), DanglingInput> {
        for c in self.0.values() {
            if let Provenance::Derived { inputs, .. } = &c.provenance {
                for i in inputs {
                    if !self.0.contains_key(i) {
                        return Err(DanglingInput {
                            claim: c.id.clone(),
                            label: c.label.clone(),
                            missing: i.clone(),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_content_derived() {
        let t = Timestamp::from_millis(1_770_336_000_000);
        let a = Claim::data(
            "last price",
            64168.33,
            "USDT",
            t,
            "BTCUSDT 4h close",
            "binance",
            t,
        );
        let b = Claim::data(
            "last price",
            64168.33,
            "USDT",
            t,
            "BTCUSDT 4h close",
            "binance",
            t,
        );
        assert_eq!(a.id, b.id);
        let c = Claim::data(
            "last price",
            64168.34,
            "USDT",
            t,
            "BTCUSDT 4h close",
            "binance",
            t,
        );
        assert_ne!(a.id, c.id);
        // A known value guards against an accidental change of the id scheme: FNV-1a 64 of
        // `label␟bits␟unit␟as-of ms␟provenance JSON`, worked out by a separate script.
        assert_eq!(a.id.as_str(), "c64105d782ac34345");

        let mut set = ClaimSet::new();
        let ia = set.add(a);
        let d = Claim::derived(
            "change",
            -1.0,
            "%",
            t,
            Method::new("pct_change", 1)
                .of(&[&ia])
                .param("window", "24h"),
        );
        assert_eq!(d.method(), Some(("pct_change", 1)));
        set.add(d.clone());
        assert!(set.check().is_ok());
        let mut bad = ClaimSet::new();
        bad.add(d);
        assert!(bad.check().is_err());
    }
}
