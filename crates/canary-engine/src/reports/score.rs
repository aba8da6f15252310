//! `score`, `score_history` and `backtest_scores`: Risk, Threat, Pulse and label as of a
//! time from the published methodology (`canary_analytics::score`), each component's raw
//! value and normalised value a claim; the 7-day drawdown probability from a calibration
//! fitted on what was known by then; and the walk-forward track record.
//!
//! The daily inputs come from the daily bars known at T (market components), the daily
//! network series (Hash Ribbons, hashprice stress), the stored miner outflows and the news
//! (sentiment and volume of items relevant to the asset). A component whose data is absent,
//! too short or stale at T is left out and listed, never guessed.

use std::collections::BTreeMap;

use canary_analytics::score::inputs::{
    SCORE_INPUT, align, market_inputs, ribbons_series, stress_series,
};
use canary_analytics::score::validate::{
    DecileRow, ISOTONIC, Isotonic, Purge, ReliabilityRow, SignalRow, auc, bootstrap_auc,
    bootstrap_brier_gain, brier, deciles, episodes, forward, reliability, signals, walk_forward,
    walk_forward_logistic,
};
use canary_analytics::score::{
    Methodology, ScoreKind, Scores, band, normalise_series, score as compose,
};
use canary_model::network::NetworkSeries;
use canary_model::{Claim, ClaimId, Method, Symbol, Timeframe, Timestamp};
use canary_news::sentiment::{Lexicon, sentiment_with};
use canary_news::tags::{Dictionary, relevance};
use serde::Serialize;

use crate::{Context, Draft, EngineError, Report};

const DAY_MS: i64 = 86_400_000;

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

/// Every day's raw inputs, with where they came from.
struct Daily {
    opens: Vec<Timestamp>,
    close: Vec<f64>,
    low: Vec<f64>,
    raw: BTreeMap<String, Vec<f64>>,
    /// Inputs whose source a claim names: key → (series, source).
    sources: BTreeMap<String, (String, String)>,
    bars_source: String,
    /// Each component's normalised value on every day, in the methodology's order.
    norm: Vec<Vec<Option<f64>>>,
}

fn daily_inputs(
    ctx: &Context<'_>,
    p: &ScoreParams,
    news: Option<(&Dictionary, &Lexicon)>,
    draft: &mut Draft,
) -> Result<Daily, EngineError> {
    let input = ctx.bars(&p.symbol, Timeframe::D1)?;
    draft.uses(&input);
    let bars = &input.value.candles;
    let opens: Vec<Timestamp> = bars.iter().map(|b| b.open_time).collect();
    let mut raw: BTreeMap<String, Vec<f64>> = market_inputs(bars)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let mut sources = BTreeMap::new();
    for k in raw.keys() {
        sources.insert(k.clone(), (input.series.clone(), input.source.clone()));
    }
    // Network: Hash Ribbons and hashprice stress, known when each day ends.
    let net = |s: NetworkSeries| ctx.network(s, None);
    if let Some(h) = net(NetworkSeries::HashrateHs)? {
        draft.uses(&h);
        raw.insert(
            "hash_ribbons".into(),
            align(&opens, &ribbons_series(&h.value), 3),
        );
        sources.insert("hash_ribbons".into(), (h.series.clone(), h.source.clone()));
        if let (Some(s), Some(e)) = (
            net(NetworkSeries::SubsidyUsd)?,
            net(NetworkSeries::FleetEfficiencyEstimate)?,
        ) {
            draft.uses(&s);
            draft.uses(&e);
            raw.insert(
                "hashprice_stress".into(),
                align(&opens, &stress_series(&h.value, &s.value, &e.value), 3),
            );
            sources.insert(
                "hashprice_stress".into(),
                (
                    format!("{}, {}, {}", h.series, s.series, e.series),
                    format!("{}+{}+{}", h.source, s.source, e.source),
                ),
            );
        }
    }
    // Miner outflows: the day's total over every entity with stored outflows.
    let entities = ctx.flow_entities()?;
    if !entities.is_empty() {
        let mut by_day: BTreeMap<i64, f64> = BTreeMap::new();
        for e in &entities {
            for o in ctx.outflows(e)?.value {
                *by_day
                    .entry(o.time.millis().div_euclid(DAY_MS))
                    .or_default() += o.btc;
            }
        }
        if let Some(&first) = by_day.keys().next() {
            let v: Vec<f64> = opens
                .iter()
                .map(|t| {
                    let d = t.millis().div_euclid(DAY_MS);
                    if d < first {
                        f64::NAN
                    } else {
                        by_day.get(&d).copied().unwrap_or(0.0)
                    }
                })
                .collect();
            raw.insert("miner_outflow_z".into(), v);
            sources.insert(
                "miner_outflow_z".into(),
                ("miner outflows".into(), entities.join("+")),
            );
        }
    }
    // News: the mean sentiment (24 h before each bar's close) and the count of items
    // relevant to the asset, from the first day with any news.
    if let Some((dict, lex)) = news {
        let window = i64::try_from(p.method.window_days).unwrap_or(730) * DAY_MS;
        let items = ctx.news(window)?;
        if !items.value.is_empty() {
            draft.uses(&items);
            let relevant: Vec<(Timestamp, f64)> = items
                .value
                .iter()
                .filter_map(|i| {
                    let text = canary_news::dedup::item_text(&i.title, &i.summary);
                    let tags = dict.tag(&text);
                    (i.duplicate_of.is_none()
                        && relevance(dict, &tags, &p.asset, None).score >= NEWS_RELEVANCE_FLOOR)
                        .then(|| (i.available_at, sentiment_with(lex, &text).score))
                })
                .collect();
            let first = items.value[0].available_at;
            let (mut sent, mut count) = (Vec::new(), Vec::new());
            for &open in &opens {
                let close = open.add_millis(DAY_MS);
                if close < first {
                    sent.push(f64::NAN);
                    count.push(f64::NAN);
                    continue;
                }
                let day: Vec<f64> = relevant
                    .iter()
                    .filter(|(t, _)| *t <= close && *t > close.add_millis(-DAY_MS))
                    .map(|x| x.1)
                    .collect();
                #[allow(clippy::cast_precision_loss)]
                let n = day.len() as f64;
                sent.push(if day.is_empty() {
                    f64::NAN
                } else {
                    day.iter().sum::<f64>() / n
                });
                count.push(n);
            }
            raw.insert("news_sentiment".into(), sent);
            raw.insert("news_volume".into(), count);
            for k in ["news_sentiment", "news_volume"] {
                sources.insert(k.into(), ("news".into(), items.source.clone()));
            }
        }
    }
    let m = &p.method;
    let norm = m
        .components
        .iter()
        .map(|c| {
            raw.get(&c.key).map_or_else(
                || vec![None; opens.len()],
                |s| normalise_series(c, s, m.window_days, m.min_history_days),
            )
        })
        .collect();
    Ok(Daily {
        opens,
        close: bars.iter().map(|b| b.close).collect(),
        low: bars.iter().map(|b| b.low).collect(),
        raw,
        sources,
        bars_source: input.source.clone(),
        norm,
    })
}

/// Each component's normalised value on day `i` (from the days before it).
fn normalised_at(_m: &Methodology, d: &Daily, i: usize) -> Vec<Option<f64>> {
    d.norm.iter().map(|col| col[i]).collect()
}

fn missing_reason(m: &Methodology, d: &Daily, key: &str, i: usize) -> String {
    match d.raw.get(key) {
        None => "no data stored for it".into(),
        Some(s) if !s[i].is_finite() => {
            "no value on the day (too little data before it, or stale)".into()
        }
        Some(_) => format!("fewer than {} days of its history", m.min_history_days),
    }
}

/// Each day's event (a fall of `x` within `h` days), `None` while its window is open.
fn events(d: &Daily, h: usize, x: f64) -> Vec<Option<bool>> {
    (0..d.close.len())
        .map(|i| forward(&d.close, &d.low, i, h).map(|(dd, _)| dd >= x))
        .collect()
}

/// The L2 penalty of the learned-weights candidate, fixed before it was run.
const LEARNED_L2: f64 = 1.0;

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
            missing: value.is_none().then(|| missing_reason(m, &d, &c.key, last)),
        });
    }
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
    let risk_claim = composite(&mut draft, ScoreKind::Risk, s.risk.value, "Risk");
    let pulse_claim = composite(&mut draft, ScoreKind::Pulse, s.pulse.value, "Pulse");
    let threat_claim = match (&risk_claim, s.threat) {
        (Some(r), Some(t)) => Some(draft.add(Claim::derived(
            format!("Threat level ({})", s.band.clone().unwrap_or_default()),
            f64::from(t),
            "1-5",
            asof,
            RISK_BAND.of(&[r]).param("methodology", m.name()),
        ))),
        _ => None,
    };
    // The probability: isotonic on every day whose event window had closed by T.
    let probability = match (&risk_claim, s.risk.value) {
        (Some(rc), Some(r)) => {
            let ev = events(&d, p.horizon_days, p.drawdown);
            let train: Vec<(usize, f64, bool)> = (0..last)
                .filter_map(|i| {
                    let e = ev[i]?;
                    compose(m, &normalised_at(m, &d, i))
                        .risk
                        .value
                        .map(|x| (i, x, e))
                })
                .collect();
            let k = train.iter().filter(|t| t.2).count();
            let pts: Vec<(f64, bool)> = train.iter().map(|t| (t.1, t.2)).collect();
            match (Isotonic::fit(&pts), train.first(), train.last()) {
                (Some(iso), Some(a), Some(b)) if k >= 5 && train.len() >= 365 => {
                    let v = iso.predict(r);
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
                            .of(&[rc])
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

/// How to run the track record.
#[derive(Debug, Clone, Copy)]
pub struct BacktestScoresParams {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Days between refits of the calibration.
    pub refit_days: usize,
    /// Days of the moving blocks of the bootstrap, and its resamples.
    pub block_days: usize,
    pub reps: usize,
}

impl Default for BacktestScoresParams {
    fn default() -> Self {
        BacktestScoresParams {
            from: None,
            to: None,
            refit_days: 30,
            block_days: 30,
            reps: 1000,
        }
    }
}

/// One scored series in the track record (the score, or a baseline).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackRecord {
    pub name: String,
    pub auc: Option<f64>,
    /// 90 % moving-block bootstrap interval of the AUC.
    pub auc_interval: Option<(f64, f64)>,
    /// 90 % interval of this AUC minus the volatility baseline's (the score only).
    pub auc_gain_interval: Option<(f64, f64)>,
    pub brier: f64,
    /// Brier of the training base rate, and the skill against it.
    pub brier_reference: f64,
    pub brier_skill: f64,
    /// 90 % interval of the volatility baseline's Brier minus this one's, the baseline
    /// calibrated the same way (above zero: this forecasts better). Not for the baselines.
    pub brier_gain_interval: Option<(f64, f64)>,
    pub reliability: Vec<ReliabilityRow>,
    pub deciles: Vec<DecileRow>,
    /// The score's Threat levels (its value in the methodology's Risk bands) as signals.
    pub signals: Vec<SignalRow>,
}

/// The walk-forward track record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreBacktestBody {
    pub symbol: Symbol,
    pub method: String,
    pub horizon_days: usize,
    pub drawdown: f64,
    pub first_day: Option<Timestamp>,
    pub last_day: Option<Timestamp>,
    /// Days evaluated out of sample (with a calibrated probability from each series).
    pub days: usize,
    pub events: usize,
    /// Runs of event days more than a horizon apart: the independent crashes.
    pub episodes: usize,
    pub base_rate: f64,
    pub refit_days: usize,
    pub embargo_days: usize,
    pub score: TrackRecord,
    pub baselines: Vec<TrackRecord>,
    /// Methods tried against the score on the same days, not (yet) the published method.
    pub candidates: Vec<TrackRecord>,
    pub components_present: BTreeMap<String, f64>,
    pub record_claim: ClaimId,
}

/// Walk forward over history: every day scored from what was known at its close, Risk and
/// two baselines (30-day realised volatility alone, 90-day drawdown alone, each as its
/// percentile) calibrated by isotonic regressions fitted only on days whose event windows
/// closed a horizon before each 30-day block (purged, embargo = horizon), then judged on
/// the days that had a probability from all three.
///
/// # Errors
/// No daily bars; a database error.
pub fn backtest_scores(
    ctx: &Context<'_>,
    p: &ScoreParams,
    b: BacktestScoresParams,
    mut progress: impl FnMut(usize, usize),
) -> Result<Report<ScoreBacktestBody>, EngineError> {
    let asof = ctx.asof();
    let mut draft = Draft::new(asof);
    let m = &p.method;
    // History runs on market and network inputs: stored news and outflows cover too few
    // of the years to be part of a track record.
    let d = daily_inputs(ctx, p, None, &mut draft)?;
    let n = d.opens.len();
    let (h, x) = (p.horizon_days, p.drawdown);
    let mut risk = vec![f64::NAN; n];
    let mut base_rv = vec![f64::NAN; n];
    let mut base_dd = vec![f64::NAN; n];
    let rv_c = m
        .components
        .iter()
        .position(|c| c.key == "realised_vol_30d" && c.score == ScoreKind::Risk);
    let dd_c = m
        .components
        .iter()
        .position(|c| c.key == "drawdown_90d" && c.score == ScoreKind::Risk);
    let risk_keys: Vec<usize> = (0..m.components.len())
        .filter(|&k| m.components[k].score == ScoreKind::Risk)
        .collect();
    let mut features = vec![Vec::new(); n];
    let mut present: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..n {
        if i % 64 == 0 {
            progress(i, n);
        }
        let v = normalised_at(m, &d, i);
        let s = compose(m, &v);
        features[i] = risk_keys
            .iter()
            .map(|&k| v[k].unwrap_or(f64::NAN))
            .collect();
        if let Some(r) = s.risk.value {
            risk[i] = r;
            for c in &s.risk.contributions {
                *present.entry(c.key.clone()).or_default() += 1;
            }
        }
        if let Some(k) = rv_c {
            base_rv[i] = v[k].map_or(f64::NAN, |v| 100.0 * v);
        }
        if let Some(k) = dd_c {
            base_dd[i] = v[k].map_or(f64::NAN, |v| 100.0 * v);
        }
    }
    progress(n, n);
    let ev = events(&d, h, x);
    let fwd: Vec<Option<(f64, f64)>> = (0..n).map(|i| forward(&d.close, &d.low, i, h)).collect();
    let embargo = h;
    let purge = Purge {
        h,
        embargo,
        refit_every: b.refit_days,
        min_train: 365,
        min_events: 5,
    };
    let wf = |s: &[f64]| walk_forward(s, &ev, &purge);
    let (pr, pv, pd) = (wf(&risk), wf(&base_rv), wf(&base_dd));
    // Candidates, judged on the same days: each series calibrated by a logistic fit (Platt
    // scaling) instead of isotonic, and Risk's components with weights learned walk-forward.
    let platt = |s: &[f64]| {
        let x: Vec<Vec<f64>> = s
            .iter()
            .map(|v| {
                if v.is_finite() {
                    vec![v / 100.0]
                } else {
                    Vec::new()
                }
            })
            .collect();
        walk_forward_logistic(&x, &ev, &purge, 0.0)
    };
    let (qr, qv, qd) = (platt(&risk), platt(&base_rv), platt(&base_dd));
    // The learned candidate scores only the days Risk scores.
    for i in 0..n {
        if !risk[i].is_finite() {
            features[i].clear();
        }
    }
    let pl = walk_forward_logistic(&features, &ev, &purge, LEARNED_L2);
    let learned: Vec<f64> = pl
        .iter()
        .map(|p| p.map_or(f64::NAN, |p| 100.0 * p.0))
        .collect();
    let in_range =
        |i: usize| b.from.is_none_or(|f| d.opens[i] >= f) && b.to.is_none_or(|t| d.opens[i] <= t);
    let days: Vec<usize> = (0..n)
        .filter(|&i| {
            in_range(i)
                && ev[i].is_some()
                && pr[i].is_some()
                && pv[i].is_some()
                && pd[i].is_some()
                && pl[i].is_some()
                && qr[i].is_some()
                && qv[i].is_some()
                && qd[i].is_some()
        })
        .collect();
    let e: Vec<bool> = days.iter().map(|&i| ev[i].unwrap_or(false)).collect();
    let k = e.iter().filter(|&&x| x).count();
    #[allow(clippy::cast_precision_loss)]
    let base_rate = if days.is_empty() {
        0.0
    } else {
        k as f64 / days.len() as f64
    };
    let fr: Vec<f64> = days
        .iter()
        .map(|&i| fwd[i].map_or(f64::NAN, |f| f.1))
        .collect();
    let fd: Vec<f64> = days
        .iter()
        .map(|&i| fwd[i].map_or(f64::NAN, |f| f.0))
        .collect();
    let col = |s: &[f64]| days.iter().map(|&i| s[i]).collect::<Vec<f64>>();
    let probs = |w: &[Option<(f64, f64)>]| -> (Vec<f64>, Vec<f64>) {
        days.iter()
            .map(|&i| w[i].unwrap_or((f64::NAN, f64::NAN)))
            .unzip()
    };
    let (risk_s, rv_s, dd_s) = (col(&risk), col(&base_rv), col(&base_dd));
    let boot = bootstrap_auc(&risk_s, &rv_s, &e, b.block_days, b.reps, 0.90, 0x00ca_7a21);
    let boot_rv = bootstrap_auc(&rv_s, &rv_s, &e, b.block_days, b.reps, 0.90, 0x00ca_7a22);
    let boot_dd = bootstrap_auc(&dd_s, &rv_s, &e, b.block_days, b.reps, 0.90, 0x00ca_7a23);
    let learned_s = col(&learned);
    let boot_l = bootstrap_auc(
        &learned_s,
        &rv_s,
        &e,
        b.block_days,
        b.reps,
        0.90,
        0x00ca_7a24,
    );
    let record = |name: &str,
                  s: &[f64],
                  w: &[Option<(f64, f64)>],
                  boot: Option<((f64, f64), (f64, f64))>,
                  vs: Option<&[Option<(f64, f64)>]>| {
        let gain = vs.is_some();
        let (pp, base) = probs(w);
        let brier_gain_interval = vs.and_then(|v| {
            let (pv, _) = probs(v);
            bootstrap_brier_gain(&pp, &pv, &e, b.block_days, b.reps, 0.90, 0x00ca_7a25)
        });
        let br = brier(&pp, &e);
        let bref = brier(&base, &e);
        TrackRecord {
            name: name.to_string(),
            auc: auc(s, &e),
            auc_interval: boot.map(|x| x.0),
            auc_gain_interval: if gain { boot.map(|x| x.1) } else { None },
            brier: br,
            brier_reference: bref,
            brier_skill: if bref > 0.0 {
                1.0 - br / bref
            } else {
                f64::NAN
            },
            brier_gain_interval,
            reliability: reliability(&pp, &e, 10),
            deciles: deciles(s, &e, &fr, &fd),
            signals: signals(&s.iter().map(|&v| band(m, v).1).collect::<Vec<u8>>(), &e),
        }
    };
    let score = record(
        &format!("Risk ({})", m.name()),
        &risk_s,
        &pr,
        boot,
        Some(&pv),
    );
    let baselines = vec![
        record(
            "30-day realised volatility percentile",
            &rv_s,
            &pv,
            boot_rv,
            None,
        ),
        record("90-day drawdown percentile", &dd_s, &pd, boot_dd, None),
    ];
    let candidates = vec![
        record("Risk, logistic calibration", &risk_s, &qr, boot, Some(&qv)),
        record(
            "30-day realised volatility percentile, logistic calibration",
            &rv_s,
            &qv,
            boot_rv,
            None,
        ),
        record(
            "90-day drawdown percentile, logistic calibration",
            &dd_s,
            &qd,
            boot_dd,
            None,
        ),
        record(
            "Risk's components, weights learned walk-forward (logistic, L2 1)",
            &learned_s,
            &pl,
            boot_l,
            Some(&qv),
        ),
    ];
    #[allow(clippy::cast_precision_loss)]
    let components_present = present
        .into_iter()
        .map(|(k, c)| (k, c as f64 / n.max(1) as f64))
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
    let record_claim = draft.add(Claim::derived(
        "out-of-sample AUC of Risk",
        score.auc.unwrap_or(f64::NAN),
        "",
        asof,
        ISOTONIC
            .of(&[&src])
            .param("methodology", m.name())
            .param("horizon_days", h)
            .param("drawdown", x)
            .param("refit_days", b.refit_days)
            .param("embargo_days", embargo),
    ));
    draft.finish(ScoreBacktestBody {
        symbol: p.symbol.clone(),
        method: m.name(),
        horizon_days: h,
        drawdown: x,
        first_day: days.first().map(|&i| d.opens[i]),
        last_day: days.last().map(|&i| d.opens[i]),
        days: days.len(),
        events: k,
        episodes: episodes(&e, h),
        base_rate,
        refit_days: b.refit_days,
        embargo_days: embargo,
        score,
        baselines,
        candidates,
        components_present,
        record_claim,
    })
}
