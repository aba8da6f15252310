//! Scores with a published method (`MODELS.md` §6.3): Risk 0–100 with its band and Threat
//! level, Pulse 0–100 with its label, and the waterfall that explains them.
//!
//! A [`Methodology`] (TOML, `methodology.toml` shipped; any file of the same layout instead)
//! lists the components: the input each reads, the direction in which it raises its score,
//! how its raw value becomes a number in [0, 1] against its own trailing history
//! ([`Normalise`]), and its weight. [`score`] takes each component's normalised value, or
//! nothing when its data is absent or stale, and returns the weighted means, the coverage
//! (share of the weight present) and each component's contribution. Nothing here reads a
//! clock or a store: the same inputs give the same outputs, to the bit.

pub mod inputs;
pub mod validate;

use serde::{Deserialize, Serialize};

const BUILT_IN: &str = include_str!("methodology.toml");

/// A methodology file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {reason}")]
pub struct MethodologyError {
    pub origin: String,
    pub reason: String,
}

/// Which score a component feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreKind {
    Risk,
    Pulse,
}

/// The direction in which the raw value raises the component's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Higher,
    Lower,
}

/// How a raw value becomes a number in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalise {
    /// Its mid-rank among the trailing history's values: the share below it plus half the
    /// share equal to it.
    Percentile,
    /// Its z-score against the trailing history, winsorised at ±`winsorise`, through the
    /// standard normal CDF.
    Zscore,
    /// The raw value itself, clamped to [0, 1] (a state: 0 or 1).
    Level,
    /// A raw value in [−1, 1] mapped linearly to [0, 1].
    LevelSigned,
}

/// One component of a methodology.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// The input it reads (`realised_vol_30d`): the engine knows how to make each key.
    pub key: String,
    pub score: ScoreKind,
    pub label: String,
    pub direction: Direction,
    pub normalise: Normalise,
    /// For [`Normalise::Zscore`]: the bound on |z| (default 3).
    #[serde(default)]
    pub winsorise: Option<f64>,
    pub weight: f64,
}

/// A Risk band: from this score up (to the next band's lower bound).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub from: f64,
    pub name: String,
}

/// The Pulse bands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PulseBands {
    pub bearish_below: f64,
    pub bullish_from: f64,
}

/// A versioned methodology.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Methodology {
    pub id: String,
    pub version: u32,
    pub window_days: usize,
    pub min_history_days: usize,
    #[serde(rename = "risk_band")]
    pub risk_bands: Vec<Band>,
    pub pulse: PulseBands,
    #[serde(rename = "component")]
    pub components: Vec<Component>,
}

impl Methodology {
    /// The shipped methodology.
    ///
    /// # Panics
    /// Never: the shipped file is checked by a test.
    #[must_use]
    pub fn built_in() -> Methodology {
        Methodology::parse(BUILT_IN, "methodology.toml (built in)")
            .expect("the shipped methodology reads")
    }

    /// Read and check a methodology.
    ///
    /// # Errors
    /// Text that is not the layout, or values that make no score: no component of a kind,
    /// a weight that is not positive and finite, a duplicate key within a score, bands not
    /// ascending from 0, Pulse bands out of order, windows too short.
    pub fn parse(text: &str, origin: &str) -> Result<Methodology, MethodologyError> {
        let err = |reason: String| MethodologyError {
            origin: origin.to_string(),
            reason,
        };
        let m: Methodology = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if m.id.trim().is_empty() {
            return Err(err("id is empty".into()));
        }
        for kind in [ScoreKind::Risk, ScoreKind::Pulse] {
            if !m.components.iter().any(|c| c.score == kind) {
                return Err(err(format!("no {kind:?} component")));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &m.components {
            if !(c.weight.is_finite() && c.weight > 0.0) {
                return Err(err(format!(
                    "component {}: weight {} is not a positive number",
                    c.key, c.weight
                )));
            }
            if !seen.insert((c.score, c.key.clone())) {
                return Err(err(format!(
                    "component {} appears twice in {:?}",
                    c.key, c.score
                )));
            }
            if let Some(w) = c.winsorise
                && !(w.is_finite() && w > 0.0)
            {
                return Err(err(format!(
                    "component {}: winsorise {w} must be positive",
                    c.key
                )));
            }
        }
        if m.risk_bands.first().is_none_or(|b| b.from != 0.0)
            || m.risk_bands.windows(2).any(|w| w[1].from <= w[0].from)
            || m.risk_bands.iter().any(|b| b.from >= 100.0)
        {
            return Err(err("risk bands must start at 0 and ascend below 100".into()));
        }
        if !(0.0 < m.pulse.bearish_below
            && m.pulse.bearish_below <= m.pulse.bullish_from
            && m.pulse.bullish_from < 100.0)
        {
            return Err(err(
                "pulse: need 0 < bearish_below <= bullish_from < 100".into()
            ));
        }
        if m.window_days < 30 || m.min_history_days < 10 || m.min_history_days > m.window_days {
            return Err(err(
                "need window_days >= 30 and 10 <= min_history_days <= window_days".into(),
            ));
        }
        Ok(m)
    }

    /// `id vN`, as every output names it.
    #[must_use]
    pub fn name(&self) -> String {
        format!("{} v{}", self.id, self.version)
    }

    /// The distinct input keys the components read, in order.
    #[must_use]
    pub fn keys(&self) -> Vec<&str> {
        let mut k: Vec<&str> = self.components.iter().map(|c| c.key.as_str()).collect();
        k.sort_unstable();
        k.dedup();
        k
    }
}

/// The standard normal CDF (Abramowitz & Stegun 7.1.26 for erf; |error| < 1.5e-7).
#[must_use]
pub fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// A component's value in [0, 1] from its raw value `x` and its trailing `history` (the
/// values before `x`, oldest first; only the last `window` are used). `None` when `x` is
/// not finite or, for history-based normalisations, the history holds fewer than
/// `min_history` finite values.
#[must_use]
pub fn normalise(
    c: &Component,
    x: f64,
    history: &[f64],
    window: usize,
    min_history: usize,
) -> Option<f64> {
    if !x.is_finite() {
        return None;
    }
    let sign = match c.direction {
        Direction::Higher => 1.0,
        Direction::Lower => -1.0,
    };
    match c.normalise {
        Normalise::Level => Some(if sign > 0.0 { x } else { 1.0 - x }.clamp(0.0, 1.0)),
        Normalise::LevelSigned => {
            let v = f64::midpoint((sign * x).clamp(-1.0, 1.0), 1.0);
            Some(v)
        }
        Normalise::Percentile | Normalise::Zscore => {
            let start = history.len().saturating_sub(window);
            let h: Vec<f64> = history[start..]
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            if h.len() < min_history {
                return None;
            }
            if c.normalise == Normalise::Percentile {
                let me = sign * x;
                let (mut below, mut equal) = (0usize, 0usize);
                for v in &h {
                    let v = sign * v;
                    if v < me {
                        below += 1;
                    } else if v == me {
                        equal += 1;
                    }
                }
                let p = (below as f64 + 0.5 * equal as f64) / h.len() as f64;
                Some(p)
            } else {
                let n = h.len() as f64;
                let mean = h.iter().sum::<f64>() / n;
                let var = h.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
                let sd = var.sqrt();
                if sd.is_nan() || sd <= 0.0 {
                    return Some(0.5);
                }
                let w = c.winsorise.unwrap_or(3.0);
                let z = (sign * (x - mean) / sd).clamp(-w, w);
                Some(normal_cdf(z))
            }
        }
    }
}

/// A component's normalised value on every day of its raw daily series, each from the days
/// before it: the same values as [`normalise`] day by day, computed with a sorted trailing
/// window (percentiles) or running sums (z-scores) instead of a scan per day.
#[must_use]
pub fn normalise_series(
    c: &Component,
    series: &[f64],
    window: usize,
    min_history: usize,
) -> Vec<Option<f64>> {
    match c.normalise {
        Normalise::Level | Normalise::LevelSigned => {
            series.iter().map(|&x| normalise(c, x, &[], 0, 0)).collect()
        }
        Normalise::Zscore => (0..series.len())
            .map(|i| normalise(c, series[i], &series[..i], window, min_history))
            .collect(),
        Normalise::Percentile => {
            let sign = match c.direction {
                Direction::Higher => 1.0,
                Direction::Lower => -1.0,
            };
            // The finite values of the trailing window, signed, kept sorted.
            let mut sorted: Vec<f64> = Vec::with_capacity(window + 1);
            let mut out = Vec::with_capacity(series.len());
            for i in 0..series.len() {
                if i > 0 {
                    let add = series[i - 1];
                    if add.is_finite() {
                        let v = sign * add;
                        let at = sorted.partition_point(|x| *x < v);
                        sorted.insert(at, v);
                    }
                    if i > window {
                        let drop = series[i - 1 - window];
                        if drop.is_finite() {
                            let v = sign * drop;
                            let at = sorted.partition_point(|x| *x < v);
                            sorted.remove(at);
                        }
                    }
                }
                let x = series[i];
                out.push(if !x.is_finite() || sorted.len() < min_history {
                    None
                } else {
                    let me = sign * x;
                    let below = sorted.partition_point(|v| *v < me);
                    let upto = sorted.partition_point(|v| *v <= me);
                    let p = (below as f64 + 0.5 * (upto - below) as f64) / sorted.len() as f64;
                    Some(p)
                });
            }
            out
        }
    }
}

/// Every component's normalised value on day `i` of its raw daily series (`series(key)`, the
/// days before `i` its history), in the methodology's order.
#[must_use]
pub fn normalise_day<'a>(
    m: &Methodology,
    series: impl Fn(&str) -> Option<&'a [f64]>,
    i: usize,
) -> Vec<Option<f64>> {
    m.components
        .iter()
        .map(|c| {
            let s = series(&c.key)?;
            normalise(c, *s.get(i)?, &s[..i], m.window_days, m.min_history_days)
        })
        .collect()
}

/// One component's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    pub key: String,
    pub label: String,
    /// The normalised value in [0, 1].
    pub value: f64,
    pub weight: f64,
    /// Its points in the score: `100 · weight · value / (sum of present weights)`.
    pub points: f64,
    /// Its pull away from the midpoint: `100 · weight · (value − 0.5) / (sum of present
    /// weights)`; the rationale names the largest.
    pub pull: f64,
}

/// A score (Risk or Pulse) and its waterfall.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Composite {
    /// 0–100; `None` when no component has data.
    pub value: Option<f64>,
    pub contributions: Vec<Contribution>,
    /// Components without data at the time, by key.
    pub missing: Vec<String>,
    /// Share of the methodology's weight that had data, in [0, 1].
    pub coverage: f64,
}

/// Risk, Pulse and what follows from them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    pub method: String,
    pub risk: Composite,
    /// The Risk band's name and the Threat level (1–5, the band's rank).
    pub band: Option<String>,
    pub threat: Option<u8>,
    pub pulse: Composite,
    pub label: Option<canary_model::news::Label>,
    /// One line from the largest pulls.
    pub rationale: String,
}

fn composite(m: &Methodology, kind: ScoreKind, values: &[Option<f64>]) -> Composite {
    let comps: Vec<&Component> = m.components.iter().filter(|c| c.score == kind).collect();
    let total: f64 = comps.iter().map(|c| c.weight).sum();
    let present: Vec<(&Component, f64)> = m
        .components
        .iter()
        .zip(values.iter().chain(std::iter::repeat(&None)))
        .filter(|(c, _)| c.score == kind)
        .filter_map(|(c, v)| v.filter(|v| v.is_finite()).map(|v| (c, v.clamp(0.0, 1.0))))
        .collect();
    let w: f64 = present.iter().map(|(c, _)| c.weight).sum();
    let missing = comps
        .iter()
        .filter(|c| !present.iter().any(|(p, _)| p.key == c.key))
        .map(|c| c.key.clone())
        .collect();
    if present.is_empty() {
        return Composite {
            value: None,
            contributions: Vec::new(),
            missing,
            coverage: 0.0,
        };
    }
    let contributions: Vec<Contribution> = present
        .iter()
        .map(|(c, v)| Contribution {
            key: c.key.clone(),
            label: c.label.clone(),
            value: *v,
            weight: c.weight,
            points: 100.0 * c.weight * v / w,
            pull: 100.0 * c.weight * (v - 0.5) / w,
        })
        .collect();
    // Summed in the methodology's order: the same inputs give the same bits.
    let value = contributions
        .iter()
        .map(|c| c.points)
        .sum::<f64>()
        .clamp(0.0, 100.0);
    Composite {
        value: Some(value),
        contributions,
        missing,
        coverage: w / total,
    }
}

/// The Risk band and Threat level of a Risk score.
#[must_use]
pub fn band(m: &Methodology, risk: f64) -> (String, u8) {
    let i = m
        .risk_bands
        .iter()
        .rposition(|b| risk >= b.from)
        .unwrap_or(0);
    (
        m.risk_bands[i].name.clone(),
        u8::try_from(i + 1).unwrap_or(u8::MAX),
    )
}

fn pulse_label(m: &Methodology, pulse: f64) -> canary_model::news::Label {
    use canary_model::news::Label;
    if pulse < m.pulse.bearish_below {
        Label::Bearish
    } else if pulse >= m.pulse.bullish_from {
        Label::Bullish
    } else {
        Label::Neutral
    }
}

/// `1st`, `2nd`, `3rd`, `11th`, `91st` for a percentage rounded to a whole number.
fn ordinal(x: f64) -> String {
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = x.round().clamp(0.0, 100.0) as u32;
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn rationale(m: &Methodology, risk: &Composite, pulse: &Composite, label: Option<&str>) -> String {
    let top = |c: &Composite| -> Vec<String> {
        let mut v: Vec<&Contribution> = c.contributions.iter().collect();
        v.sort_by(|a, b| {
            b.pull
                .abs()
                .total_cmp(&a.pull.abs())
                .then(a.key.cmp(&b.key))
        });
        v.iter()
            .take(2)
            .filter(|x| x.pull.abs() >= 1.0)
            .map(|x| format!("{} at the {} percentile", x.label, ordinal(100.0 * x.value)))
            .collect()
    };
    let mut parts = Vec::new();
    if let Some(r) = risk.value {
        let (b, _) = band(m, r);
        let why = top(risk);
        parts.push(if why.is_empty() {
            format!("Risk {r:.0} ({b})")
        } else {
            format!("Risk {r:.0} ({b}): {}", why.join("; "))
        });
    }
    if let (Some(p), Some(l)) = (pulse.value, label) {
        let why = top(pulse);
        parts.push(if why.is_empty() {
            format!("Pulse {p:.0} ({l})")
        } else {
            format!("Pulse {p:.0} ({l}): {}", why.join("; "))
        });
    }
    if parts.is_empty() {
        "no component had data".to_string()
    } else {
        parts.join(". ")
    }
}

/// Score from each component's normalised value, in the methodology's order (`None`: no
/// data; components beyond the slice count as missing).
#[must_use]
pub fn score(m: &Methodology, values: &[Option<f64>]) -> Scores {
    let risk = composite(m, ScoreKind::Risk, values);
    let pulse = composite(m, ScoreKind::Pulse, values);
    let (band_name, threat) = match risk.value {
        Some(r) => {
            let (b, t) = band(m, r);
            (Some(b), Some(t))
        }
        None => (None, None),
    };
    let label = pulse.value.map(|p| pulse_label(m, p));
    let rationale = rationale(
        m,
        &risk,
        &pulse,
        label.map(canary_model::news::Label::as_str),
    );
    Scores {
        method: m.name(),
        risk,
        band: band_name,
        threat,
        pulse,
        label,
        rationale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m() -> Methodology {
        Methodology::built_in()
    }

    #[test]
    fn shipped_methodology_reads_and_bad_ones_are_named() {
        let m = m();
        assert_eq!(m.name(), "canary-risk-pulse v1");
        assert!(m.keys().contains(&"realised_vol_30d"));
        let bad = BUILT_IN.replace("weight = 1.5", "weight = -1");
        let e = Methodology::parse(&bad, "mine.toml").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("mine.toml: component realised_vol_30d"),
            "{e}"
        );
        let e = Methodology::parse("id = 1", "x.toml").unwrap_err();
        assert!(e.to_string().starts_with("x.toml:"), "{e}");
    }

    #[test]
    fn normal_cdf_matches_tables() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-9);
        assert!((normal_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!((normal_cdf(-1.0) - 0.158_655).abs() < 1e-5);
    }

    #[test]
    fn percentile_is_a_mid_rank_and_direction_flips_it() {
        let c = |d| Component {
            key: "k".into(),
            score: ScoreKind::Risk,
            label: "k".into(),
            direction: d,
            normalise: Normalise::Percentile,
            winsorise: None,
            weight: 1.0,
        };
        let h: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(
            normalise(&c(Direction::Higher), 11.0, &h, 730, 5),
            Some(1.0)
        );
        assert_eq!(
            normalise(&c(Direction::Higher), 5.0, &h, 730, 5),
            Some(0.45)
        );
        assert_eq!(normalise(&c(Direction::Lower), 0.0, &h, 730, 5), Some(1.0));
        // Only the window counts; too little history is no value.
        assert_eq!(normalise(&c(Direction::Higher), 5.0, &h, 4, 4), Some(0.0));
        assert_eq!(normalise(&c(Direction::Higher), 5.0, &h, 730, 11), None);
        assert_eq!(normalise(&c(Direction::Higher), f64::NAN, &h, 730, 5), None);
    }

    #[test]
    fn missing_components_lower_coverage_not_the_range() {
        let m = m();
        let all = vec![Some(1.0); m.components.len()];
        let s = score(&m, &all);
        assert!((s.risk.value.unwrap() - 100.0).abs() < 1e-9);
        assert_eq!(s.threat, Some(5));
        assert_eq!(s.band.as_deref(), Some("Extreme High"));
        assert!((s.risk.coverage - 1.0).abs() < 1e-12);
        let at = |k: &str| m.components.iter().position(|c| c.key == k).unwrap();
        let mut some = all.clone();
        some[at("funding_z")] = None;
        some[at("liquidated_share_oi")] = None;
        let s = score(&m, &some);
        assert!((s.risk.value.unwrap() - 100.0).abs() < 1e-9);
        assert!(s.risk.coverage < 1.0);
        assert_eq!(s.risk.missing, ["funding_z", "liquidated_share_oi"]);
        let none = score(&m, &[]);
        assert_eq!((none.risk.value, none.threat), (None, None));
        assert_eq!(none.rationale, "no component had data");
    }

    #[test]
    fn the_rationale_names_the_largest_pulls() {
        let m = m();
        let mut v = vec![Some(0.5); m.components.len()];
        for (i, c) in m.components.iter().enumerate() {
            if c.key == "drawdown_90d" {
                v[i] = Some(0.99);
            }
            if c.key == "news_sentiment" && c.score == ScoreKind::Pulse {
                v[i] = Some(0.1);
            }
        }
        let s = score(&m, &v);
        assert!(
            s.rationale
                .contains("drawdown from the 90-day high at the 99th percentile"),
            "{}",
            s.rationale
        );
        // Bad news pulls the Pulse to 40: the bearish band starts below it.
        assert!((s.pulse.value.unwrap() - 40.0).abs() < 1e-9);
        assert_eq!(s.label, Some(canary_model::news::Label::Neutral));
    }

    proptest! {
        #[test]
        fn the_series_normalisation_equals_the_daily_one(
            xs in proptest::collection::vec(proptest::option::of(-50.0f64..50.0), 1..300),
            window in 30usize..120,
            lower in any::<bool>(),
        ) {
            let series: Vec<f64> = xs.iter().map(|x| x.map_or(f64::NAN, |v| (v * 4.0).round() / 4.0)).collect();
            let c = Component {
                key: "k".into(),
                score: ScoreKind::Risk,
                label: "k".into(),
                direction: if lower { Direction::Lower } else { Direction::Higher },
                normalise: Normalise::Percentile,
                winsorise: None,
                weight: 1.0,
            };
            let fast = normalise_series(&c, &series, window, 10);
            for i in 0..series.len() {
                prop_assert_eq!(fast[i], normalise(&c, series[i], &series[..i], window, 10), "day {}", i);
            }
        }

        #[test]
        fn scores_stay_in_range_and_risk_is_monotone(
            vals in proptest::collection::vec(proptest::option::of(0.0f64..=1.0), 1..20),
            which in 0usize..40,
            bump in 0.0f64..=1.0,
        ) {
            let m = m();
            let v: Vec<Option<f64>> = vals.iter().cycle().take(m.components.len()).copied().collect();
            let s = score(&m, &v);
            for c in [&s.risk, &s.pulse] {
                if let Some(x) = c.value {
                    prop_assert!((0.0..=100.0).contains(&x));
                }
                prop_assert!((0.0..=1.0).contains(&c.coverage));
            }
            if let Some(t) = s.threat {
                prop_assert!((1..=5).contains(&t));
            }
            // Raising one present risk component (others fixed) never lowers Risk.
            let k = which % m.components.len();
            if let Some(x) = v[k] && m.components[k].score == ScoreKind::Risk {
                let mut up = v.clone();
                up[k] = Some((x + bump).min(1.0));
                let s2 = score(&m, &up);
                prop_assert!(s2.risk.value.unwrap() >= s.risk.value.unwrap() - 1e-9);
            }
            // The same inputs give the same bits.
            let again = score(&m, &v);
            prop_assert_eq!(format!("{:?}", again), format!("{:?}", s));
        }
    }
}
