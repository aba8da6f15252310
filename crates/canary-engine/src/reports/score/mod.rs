//! `score`, `score_history` and `backtest_scores`: Risk, Threat, Pulse and label as of a
//! time from the published methodology (`canary_analytics::score`), each component's raw
//! value and normalised value a claim; the 7-day drawdown probability from a calibration
//! fitted on what was known by then; and the walk-forward track record.
//!
//! The daily inputs come from the daily bars known at T (market components), the daily
//! network series (Hash Ribbons, hashprice stress), the stored miner outflows and the news
//! (sentiment and volume of items relevant to the asset). A component whose data is absent,
//! too short or stale at T is left out and listed, never guessed.
//!
//! `daily.rs` reads those inputs; `backtest.rs` is the track record. `score` itself is made
//! in steps: the waterfall's rows, the scores' claims, the probability.

mod backtest;
mod daily;

use std::collections::BTreeMap;

use canary_analytics::score::inputs::SCORE_INPUT;
use canary_analytics::score::validate::{ISOTONIC, Isotonic};
use canary_analytics::score::{Methodology, ScoreKind, Scores, score as compose};
use canary_model::{Claim, ClaimId, Method, Symbol, Timeframe, Timestamp};
use canary_news::sentiment::Lexicon;
use canary_news::tags::Dictionary;
use serde::Serialize;

use crate::{Context, Draft, EngineError, Report};
pub use backtest::{BacktestScoresParams, ScoreBacktestBody, TrackRecord, backtest_scores};
use daily::{Daily, daily_inputs, events, missing_reason, normalised_at};

/// Normalising a raw value against its trailing history.
pub const SCORE_NORMALISE: Method = Method::new("score_normalise", 1);
/// A composite score: the weighted mean of the present components (the methodology named
/// in its parameters).
pub const SCORE_COMPOSITE: Method = Method::new("score_composite", 1);
/// Risk band and Threat level from Risk.
pub const RISK_BAND: Method = Method::new("risk_band", 1);

/// Items at least this relevant to the asset count for the news components.
pub const NEWS_RELEVANCE_FLOOR: f64 = 0.5;

/// What to score.
#[derive(Debug, Clone)]
pub struct ScoreParams {
    pub symbol: Symbol,
    pub method: Methodology,
    /// The asset news must bear on (`BTC`).
    pub asset: String,
    /// The event the probability is of: a fall of `drawdown` (0.10) within `horizon_days`.
    pub horizon_days: usize,
    pub drawdown: f64,
}

impl ScoreParams {
    /// The published probability's horizon, in days.
    pub const HORIZON_DAYS: usize = 7;
    /// The published probability's fall: 10 % from the close to the lowest low.
    pub const DRAWDOWN: f64 = 0.10;

    /// The published method on a symbol: the built-in methodology, the news of the asset
    /// the symbol is quoted for, a fall of [`Self::DRAWDOWN`] within [`Self::HORIZON_DAYS`].
    #[must_use]
    pub fn published(symbol: Symbol) -> Self {
        Self {
            asset: Self::asset_of(&symbol),
            symbol,
            method: Methodology::built_in(),
            horizon_days: Self::HORIZON_DAYS,
            drawdown: Self::DRAWDOWN,
        }
    }

    /// The asset a market is of: its symbol without the quote (`BTCUSDT` → `BTC`).
    #[must_use]
    pub fn asset_of(symbol: &Symbol) -> String {
        symbol
            .as_str()
            .trim_end_matches("USDT")
            .trim_end_matches("USD")
            .to_string()
    }
}

/// One component in the waterfall.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentRow {
    pub score: ScoreKind,
    pub key: String,
    pub label: String,
    /// The raw value at T, and its claim (absent: no data).
    pub raw: Option<f64>,
    pub raw_claim: Option<ClaimId>,
    /// The normalised value in [0, 1] and its claim.
    pub value: Option<f64>,
    pub value_claim: Option<ClaimId>,
    pub weight: f64,
    /// Points in the score and pull from the midpoint (see `canary_analytics::score`).
    pub points: Option<f64>,
    pub pull: Option<f64>,
    /// Why it is missing, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

/// The probability attached to Risk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Probability {
    pub value: f64,
    pub claim: ClaimId,
    pub horizon_days: usize,
    pub drawdown: f64,
    /// The days the calibration was fitted on (their event windows closed by T).
    pub fit_from: Timestamp,
    pub fit_to: Timestamp,
    pub fit_days: usize,
    pub fit_events: usize,
}

/// The scores as of T.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreBody {
    pub symbol: Symbol,
    pub method: String,
    /// The daily bar the market components read (its open time).
    pub day: Timestamp,
    pub risk: Option<f64>,
    pub risk_claim: Option<ClaimId>,
    pub band: Option<String>,
    pub threat: Option<u8>,
    pub threat_claim: Option<ClaimId>,
    pub pulse: Option<f64>,
    pub pulse_claim: Option<ClaimId>,
    pub label: Option<canary_model::news::Label>,
    pub probability: Option<Probability>,
    pub risk_coverage: f64,
    pub pulse_coverage: f64,
    pub components: Vec<ComponentRow>,
    pub rationale: String,
}

/// The scores as of T, with the waterfall and the calibrated probability.
///
/// # Errors
/// No daily bars of the symbol; a database error.
pub fn score(
    ctx: &Context<'_>,
    p: &ScoreParams,
    dict: &Dictionary,
    lex: &Lexicon,
) -> Result<Report<ScoreBody>, EngineError> {
    let asof = ctx.asof();
    let mut draft = Draft::new(asof);
    let d = daily_inputs(ctx, p, Some((dict, lex)), &mut draft)?;
    let m = &p.method;
    let last = d
        .opens
        .len()
        .checked_sub(1)
        .ok_or_else(|| EngineError::NoBars {
            symbol: p.symbol.clone(),
            timeframe: Timeframe::D1,
            asof,
            stored: String::new(),
        })?;
    let values = normalised_at(m, &d, last);
    let s = compose(m, &values);
    let (rows, ids) = component_rows(p, &d, last, &values, &s, &mut draft);
    let ScoreClaims {
        risk: risk_claim,
        pulse: pulse_claim,
        threat: threat_claim,
    } = score_claims(m, &s, &ids, &mut draft);
    // The probability: isotonic on every day whose event window had closed by T.
    let probability = match (&risk_claim, s.risk.value) {
        (Some(rc), Some(r)) => probability(p, &d, last, (r, rc), &mut draft),
        _ => None,
    };
    draft.finish(ScoreBody {
        symbol: p.symbol.clone(),
        method: m.name(),
        day: d.opens[last],
        risk: s.risk.value,
        risk_claim,
        band: s.band.clone(),
        threat: s.threat,
        threat_claim,
        pulse: s.pulse.value,
        pulse_claim,
        label: s.label,
        probability,
        risk_coverage: s.risk.coverage,
        pulse_coverage: s.pulse.coverage,
        components: rows,
        rationale: s.rationale,
    })
}

/// The waterfall on day `last`: each component's raw value (a claim on its series and the
/// day's close, one per input) and normalised value as claims, its points and pull in the
/// score, or why it is missing; and the normalised values' claims by component.
fn component_rows(
    p: &ScoreParams,
    d: &Daily,
    last: usize,
    values: &[Option<f64>],
    s: &Scores,
    draft: &mut Draft,
) -> (Vec<ComponentRow>, BTreeMap<usize, ClaimId>) {
    let (asof, m) = (draft.as_of, &p.method);
    let close_id = draft.add(Claim::data(
        format!("{} daily close", p.symbol),
        d.close[last],
        "USD",
        asof,
        format!("{} 1d close", p.symbol),
        &d.bars_source,
        d.opens[last],
    ));
    let mut rows = Vec::new();
    let mut ids: BTreeMap<usize, ClaimId> = BTreeMap::new();
    let mut raw_ids: BTreeMap<String, ClaimId> = BTreeMap::new();
    for (ci, c) in m.components.iter().enumerate() {
        let raw = d.raw.get(&c.key).map(|s| s[last]).filter(|x| x.is_finite());
        let raw_claim = raw.map(|x| {
            raw_ids
                .entry(c.key.clone())
                .or_insert_with(|| {
                    let (series, source) = d.sources.get(&c.key).cloned().unwrap_or_default();
                    let src = draft.add(Claim::data(
                        format!("{series} as of {asof}"),
                        1.0,
                        "series",
                        asof,
                        series,
                        source,
                        d.opens[last],
                    ));
                    draft.add(Claim::derived(
                        format!("{} ({})", c.label, c.key),
                        x,
                        "",
                        asof,
                        SCORE_INPUT.of(&[&src, &close_id]).param("key", &c.key),
                    ))
                })
                .clone()
        });
        let value = values[ci];
        let value_claim = match (value, &raw_claim) {
            (Some(v), Some(r)) => {
                let id = draft.add(Claim::derived(
                    format!("{} normalised for {:?}", c.key, c.score),
                    v,
                    "[0, 1]",
                    asof,
                    SCORE_NORMALISE
                        .of(&[r])
                        .param("normalise", format!("{:?}", c.normalise))
                        .param("direction", format!("{:?}", c.direction))
                        .param("window_days", m.window_days),
                ));
                ids.insert(ci, id.clone());
                Some(id)
            }
            _ => None,
        };
        let comp = match c.score {
            ScoreKind::Risk => &s.risk,
            ScoreKind::Pulse => &s.pulse,
        };
        let contrib = comp.contributions.iter().find(|x| x.key == c.key);
        rows.push(ComponentRow {
            score: c.score,
            key: c.key.clone(),
            label: c.label.clone(),
            raw,
            raw_claim,
            value,
            value_claim,
            weight: c.weight,
            points: contrib.map(|x| x.points),
            pull: contrib.map(|x| x.pull),
            missing: value.is_none().then(|| missing_reason(m, d, &c.key, last)),
        });
    }
    (rows, ids)
}

/// The claims of the scores themselves.
#[derive(Debug, Clone, PartialEq)]
struct ScoreClaims {
    risk: Option<ClaimId>,
    pulse: Option<ClaimId>,
    threat: Option<ClaimId>,
}

/// Risk and Pulse, each derived from its components' normalised values (`ids`), and Threat
/// from Risk.
fn score_claims(
    m: &Methodology,
    s: &Scores,
    ids: &BTreeMap<usize, ClaimId>,
    draft: &mut Draft,
) -> ScoreClaims {
    let asof = draft.as_of;
    let composite = |draft: &mut Draft, kind: ScoreKind, v: Option<f64>, label: &str| {
        v.map(|v| {
            let inputs: Vec<&ClaimId> = m
                .components
                .iter()
                .enumerate()
                .filter(|(_, c)| c.score == kind)
                .filter_map(|(i, _)| ids.get(&i))
                .collect();
            draft.add(Claim::derived(
                label,
                v,
                "0-100",
                asof,
                SCORE_COMPOSITE.of(&inputs).param("methodology", m.name()),
            ))
        })
    };
    let risk = composite(draft, ScoreKind::Risk, s.risk.value, "Risk");
    let pulse = composite(draft, ScoreKind::Pulse, s.pulse.value, "Pulse");
    let threat = match (&risk, s.threat) {
        (Some(r), Some(t)) => Some(draft.add(Claim::derived(
            format!("Threat level ({})", s.band.clone().unwrap_or_default()),
            f64::from(t),
            "1-5",
            asof,
            RISK_BAND.of(&[r]).param("methodology", m.name()),
        ))),
        _ => None,
    };
    ScoreClaims {
        risk,
        pulse,
        threat,
    }
}

/// The probability of the event (a fall of `p.drawdown` within `p.horizon_days`) at Risk
/// `risk`: an isotonic regression of the event on Risk, fitted on every day before `last`
/// whose event window had closed by then; none with fewer than 365 such days or 5 events.
fn probability(
    p: &ScoreParams,
    d: &Daily,
    last: usize,
    risk: (f64, &ClaimId),
    draft: &mut Draft,
) -> Option<Probability> {
    let (asof, m) = (draft.as_of, &p.method);
    let ev = events(d, p.horizon_days, p.drawdown);
    let train: Vec<(usize, f64, bool)> = (0..last)
        .filter_map(|i| {
            let e = ev[i]?;
            compose(m, &normalised_at(m, d, i))
                .risk
                .value
                .map(|x| (i, x, e))
        })
        .collect();
    let k = train.iter().filter(|t| t.2).count();
    let pts: Vec<(f64, bool)> = train.iter().map(|t| (t.1, t.2)).collect();
    match (Isotonic::fit(&pts), train.first(), train.last()) {
        (Some(iso), Some(a), Some(b)) if k >= 5 && train.len() >= 365 => {
            let v = iso.predict(risk.0);
            let claim = draft.add(Claim::derived(
                format!(
                    "P(a fall of {:.0}% or more within {} days)",
                    p.drawdown * 100.0,
                    p.horizon_days
                ),
                v,
                "probability",
                asof,
                ISOTONIC
                    .of(&[risk.1])
                    .param("fit_from", d.opens[a.0])
                    .param("fit_to", d.opens[b.0])
                    .param("days", train.len())
                    .param("events", k),
            ));
            Some(Probability {
                value: v,
                claim,
                horizon_days: p.horizon_days,
                drawdown: p.drawdown,
                fit_from: d.opens[a.0],
                fit_to: d.opens[b.0],
                fit_days: train.len(),
                fit_events: k,
            })
        }
        _ => None,
    }
}

/// One day of the score history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryRow {
    pub day: Timestamp,
    pub risk: Option<f64>,
    pub threat: Option<u8>,
    pub pulse: Option<f64>,
    pub label: Option<canary_model::news::Label>,
    pub risk_coverage: f64,
    pub pulse_coverage: f64,
}

/// The score history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryBody {
    pub symbol: Symbol,
    pub method: String,
    pub days: Vec<HistoryRow>,
    pub history_claim: ClaimId,
}

fn scores_by_day(m: &Methodology, d: &Daily) -> Vec<Scores> {
    (0..d.opens.len())
        .map(|i| compose(m, &normalised_at(m, d, i)))
        .collect()
}

/// The daily scores from `from` to `to` (bar open times, inclusive), each from what was
/// known at that day's close.
///
/// # Errors
/// No daily bars; a database error.
pub fn score_history(
    ctx: &Context<'_>,
    p: &ScoreParams,
    dict: &Dictionary,
    lex: &Lexicon,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Result<Report<HistoryBody>, EngineError> {
    let asof = ctx.asof();
    let mut draft = Draft::new(asof);
    let d = daily_inputs(ctx, p, Some((dict, lex)), &mut draft)?;
    let all = scores_by_day(&p.method, &d);
    let days: Vec<HistoryRow> = all
        .into_iter()
        .zip(&d.opens)
        .filter(|(_, t)| from.is_none_or(|f| **t >= f) && to.is_none_or(|x| **t <= x))
        .map(|(s, t)| HistoryRow {
            day: *t,
            risk: s.risk.value,
            threat: s.threat,
            pulse: s.pulse.value,
            label: s.label,
            risk_coverage: s.risk.coverage,
            pulse_coverage: s.pulse.coverage,
        })
        .collect();
    let src = draft.add(Claim::data(
        format!("{} 1d bars as of {asof}", p.symbol),
        1.0,
        "series",
        asof,
        format!("{} 1d", p.symbol),
        &d.bars_source,
        d.opens.last().copied().unwrap_or(asof),
    ));
    let history_claim = draft.add(Claim::derived(
        "daily Risk and Pulse",
        days.len() as f64,
        "days",
        asof,
        SCORE_COMPOSITE
            .of(&[&src])
            .param("methodology", p.method.name()),
    ));
    draft.finish(HistoryBody {
        symbol: p.symbol.clone(),
        method: p.method.name(),
        days,
        history_claim,
    })
}

#[cfg(test)]
mod tests {
    use canary_model::Provenance;

    use super::*;
    use crate::test_data;

    /// The crash morning's daily inputs, without news, and the draft they were read into.
    fn crash_day(store: &dyn canary_store::Stores) -> (ScoreParams, Daily, Draft) {
        let ctx = Context::new(store, test_data::asof()).unwrap();
        let p = ScoreParams::published(test_data::btcusdt());
        let mut draft = Draft::new(ctx.asof());
        let d = daily_inputs(&ctx, &p, None, &mut draft).unwrap();
        (p, d, draft)
    }

    fn inputs_of(draft: &Draft, id: &ClaimId) -> Vec<ClaimId> {
        match &draft
            .claims
            .get(id)
            .expect("a claim in the draft")
            .provenance
        {
            Provenance::Derived { inputs, .. } => inputs.clone(),
            Provenance::Data { .. } => Vec::new(),
        }
    }

    /// One row per component; a present one with its raw and normalised values as claims
    /// (one raw claim per input key), a missing one with its reason and no value.
    #[test]
    fn every_component_has_a_row_with_its_claims_or_its_reason() {
        let store = test_data::crash_store();
        let (p, d, mut draft) = crash_day(&*store);
        let last = d.opens.len() - 1;
        let values = normalised_at(&p.method, &d, last);
        let s = compose(&p.method, &values);
        let (rows, ids) = component_rows(&p, &d, last, &values, &s, &mut draft);
        assert_eq!(rows.len(), p.method.components.len());
        let mut raw_by_key: BTreeMap<&str, &ClaimId> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r.key, p.method.components[i].key);
            assert_eq!(r.value, values[i]);
            match (&r.value_claim, r.value) {
                (Some(id), Some(v)) => {
                    assert_eq!(draft.claims.get(id).unwrap().value, v);
                    assert_eq!(ids.get(&i), Some(id));
                    assert_eq!(inputs_of(&draft, id), [r.raw_claim.clone().unwrap()]);
                    assert!(r.missing.is_none() && r.pull.is_some());
                }
                (None, None) => {
                    assert!(!ids.contains_key(&i));
                    assert!(r.missing.is_some(), "{} without a reason", r.key);
                }
                other => panic!("{}: {other:?}", r.key),
            }
            if let Some(raw) = &r.raw_claim {
                let first = raw_by_key.entry(&r.key).or_insert(raw);
                assert_eq!(*first, raw, "{}: one raw claim per key", r.key);
            }
        }
        assert!(rows.iter().any(|r| r.value.is_some()));
        assert!(rows.iter().any(|r| r.missing.is_some()), "no network data");
    }

    /// Risk derives from its own components' normalised claims, Pulse from its own, Threat
    /// from Risk; without Risk there is no Threat.
    #[test]
    fn score_claims_derive_from_their_components() {
        let store = test_data::crash_store();
        let (p, d, mut draft) = crash_day(&*store);
        let m = &p.method;
        let last = d.opens.len() - 1;
        let values = normalised_at(m, &d, last);
        let s = compose(m, &values);
        let (_, ids) = component_rows(&p, &d, last, &values, &s, &mut draft);
        let c = score_claims(m, &s, &ids, &mut draft);
        for (kind, id, value) in [
            (ScoreKind::Risk, c.risk.as_ref().unwrap(), s.risk.value),
            (ScoreKind::Pulse, c.pulse.as_ref().unwrap(), s.pulse.value),
        ] {
            assert_eq!(Some(draft.claims.get(id).unwrap().value), value);
            let expected: Vec<ClaimId> = ids
                .iter()
                .filter(|(i, _)| m.components[**i].score == kind)
                .map(|(_, id)| id.clone())
                .collect();
            assert_eq!(inputs_of(&draft, id), expected, "{kind:?}");
        }
        let threat = c.threat.as_ref().unwrap();
        assert_eq!(inputs_of(&draft, threat), [c.risk.clone().unwrap()]);
        assert_eq!(
            draft.claims.get(threat).unwrap().value,
            f64::from(s.threat.unwrap())
        );
        let mut no_risk = s.clone();
        no_risk.risk.value = None;
        let c = score_claims(m, &no_risk, &ids, &mut draft);
        assert!(c.risk.is_none() && c.threat.is_none() && c.pulse.is_some());
    }

    /// The probability is fitted only on days whose windows had closed by T, rises with
    /// Risk, and is refused on too short a history.
    #[test]
    fn the_probability_is_fitted_on_the_closed_past() {
        let store = test_data::crash_store();
        let (p, d, mut draft) = crash_day(&*store);
        let last = d.opens.len() - 1;
        let id = draft.add(Claim::data(
            "risk",
            50.0,
            "",
            draft.as_of,
            "s",
            "t",
            d.opens[0],
        ));
        let pr = probability(&p, &d, last, (90.0, &id), &mut draft).expect("a probability");
        assert!((0.0..=1.0).contains(&pr.value), "{}", pr.value);
        assert!(pr.fit_days >= 365 && pr.fit_events >= 5, "{pr:?}");
        // The last day fitted is the last whose window (the horizon after it) had closed.
        assert_eq!(pr.fit_to, d.opens[last - p.horizon_days]);
        assert_eq!(inputs_of(&draft, &pr.claim), std::slice::from_ref(&id));
        let low = probability(&p, &d, last, (10.0, &id), &mut draft).unwrap();
        assert!(low.value <= pr.value, "{} > {}", low.value, pr.value);
        assert_eq!(probability(&p, &d, 300, (90.0, &id), &mut draft), None);
    }
}
