//! `backtest_scores`: the walk-forward track record. Every day is scored from what was known
//! at its close; Risk and two baselines are calibrated walk-forward (isotonic, purged, with
//! an embargo of the horizon) beside candidate methods (logistic calibrations, learned
//! weights), and all are judged on the same out-of-sample days.

use std::collections::BTreeMap;

use canary_analytics::score::validate::{
    DecileRow, ISOTONIC, Purge, ReliabilityRow, SignalRow, auc, bootstrap_auc,
    bootstrap_brier_gain, brier, deciles, episodes, forward, reliability, signals, walk_forward,
    walk_forward_logistic,
};
use canary_analytics::score::{Methodology, ScoreKind, band, score as compose};
use canary_model::{Claim, ClaimId, Symbol, Timestamp};
use serde::Serialize;

use super::ScoreParams;
use super::daily::{Daily, daily_inputs, events, normalised_at};
use crate::{Context, Draft, EngineError, Report};

/// The L2 penalty of the learned-weights candidate, fixed before it was run.
const LEARNED_L2: f64 = 1.0;

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

/// A published gauge and Risk, each calibrated and judged on the same days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GaugeComparison {
    pub days: usize,
    pub first_day: Option<Timestamp>,
    pub last_day: Option<Timestamp>,
    /// The gauge, oriented so that higher means riskier.
    pub gauge: TrackRecord,
    /// Risk on those days; its gain intervals are over the gauge.
    pub risk: TrackRecord,
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
    /// The Crypto Fear & Greed Index as a gauge against Risk, when it is stored: both judged
    /// on the days above that have a forecast from the index.
    pub fear_greed: Option<GaugeComparison>,
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
    progress: impl FnMut(usize, usize),
) -> Result<Report<ScoreBacktestBody>, EngineError> {
    let asof = ctx.asof();
    let mut draft = Draft::new(asof);
    let m = &p.method;
    // History runs on market and network inputs: stored news and outflows cover too few
    // of the years to be part of a track record.
    let d = daily_inputs(ctx, p, None, &mut draft)?;
    let n = d.opens.len();
    let (h, x) = (p.horizon_days, p.drawdown);
    let mut history = History::walk(m, &d, progress);
    let ev = events(&d, h, x);
    let embargo = h;
    let purge = Purge {
        h,
        embargo,
        refit_every: b.refit_days,
        min_train: 365,
        min_events: 5,
    };
    let forecasts = Forecasts::fit(&mut history, &ev, &purge);
    let judge = Judge::new(&d, judged_days(&d, &b, &ev, &forecasts), &ev, h, b, m);
    let (score, baselines, candidates) = judge.records(&history, &forecasts);
    let fear_greed = fear_greed_comparison(
        ctx, &d, &history, &forecasts, &judge, &ev, &purge, &mut draft,
    )?;
    let k = judge.e.iter().filter(|&&x| x).count();
    let base_rate = if judge.days.is_empty() {
        0.0
    } else {
        k as f64 / judge.days.len() as f64
    };
    let components_present = history
        .present
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
    let days = &judge.days;
    draft.finish(ScoreBacktestBody {
        symbol: p.symbol.clone(),
        method: m.name(),
        horizon_days: h,
        drawdown: x,
        first_day: days.first().map(|&i| d.opens[i]),
        last_day: days.last().map(|&i| d.opens[i]),
        days: days.len(),
        events: k,
        episodes: episodes(&judge.e, h),
        base_rate,
        refit_days: b.refit_days,
        embargo_days: embargo,
        score,
        baselines,
        candidates,
        fear_greed,
        components_present,
        record_claim,
    })
}

/// The Crypto Fear & Greed Index as fear (100 − index) on each day: the value dated that day
/// (published at its 00:00 UTC, a day before the day's close) in the version stored by the
/// day's close, so a later revision never reaches an earlier day; NaN where there is none.
/// `None` when the index is not stored.
fn fear_series(
    ctx: &Context<'_>,
    d: &Daily,
    draft: &mut Draft,
) -> Result<Option<Vec<f64>>, EngineError> {
    let Ok(ticker) = canary_model::markets::Ticker::FEAR_GREED.parse() else {
        return Ok(None);
    };
    let s = canary_model::markets::MarketSeries {
        market: canary_model::markets::Market::Utc,
        ticker,
        field: canary_model::markets::Field::Value,
    };
    let Some(input) = ctx.markets_since(&s, Timestamp::from_millis(0))? else {
        return Ok(None);
    };
    draft.uses(&input);
    // Each day's versions in the order they became available.
    let mut by_day: BTreeMap<Timestamp, Vec<(Timestamp, f64)>> = BTreeMap::new();
    for v in ctx.market_versions(&s)? {
        by_day
            .entry(v.time)
            .or_default()
            .push((v.available_at, v.value));
    }
    Ok(Some(
        d.opens
            .iter()
            .map(|&open| {
                let close = open.add_millis(86_400_000);
                by_day
                    .get(&open)
                    .and_then(|vs| vs.iter().rev().find(|(at, _)| *at <= close))
                    .map_or(f64::NAN, |&(_, v)| 100.0 - v)
            })
            .collect(),
    ))
}

/// The Fear & Greed Index against Risk: the index as fear calibrated walk-forward like the
/// baselines, both judged on the judged days with a forecast from the index, Risk's gains
/// taken over the index.
#[expect(clippy::too_many_arguments)]
fn fear_greed_comparison(
    ctx: &Context<'_>,
    d: &Daily,
    history: &History,
    forecasts: &Forecasts,
    judge: &Judge<'_>,
    ev: &[Option<bool>],
    purge: &Purge,
    draft: &mut Draft,
) -> Result<Option<GaugeComparison>, EngineError> {
    let Some(fear) = fear_series(ctx, d, draft)? else {
        return Ok(None);
    };
    let fg = walk_forward(&fear, ev, purge);
    let days: Vec<usize> = judge
        .days
        .iter()
        .copied()
        .filter(|&i| fg[i].is_some())
        .collect();
    if days.is_empty() {
        return Ok(None);
    }
    let j = Judge::new(d, days, ev, purge.h, judge.b, judge.m);
    let (fear_s, risk_s) = (j.col(&fear), j.col(&history.risk));
    let gauge = j.record(
        "Crypto Fear & Greed Index, as fear (100 - index)",
        &fear_s,
        &fg,
        j.boot(&fear_s, &fear_s, 0x00ca_7a26),
        None,
    );
    let risk = j.record(
        &format!("Risk ({}) on the same days", j.m.name()),
        &risk_s,
        &forecasts.risk,
        j.boot(&risk_s, &fear_s, 0x00ca_7a27),
        Some(&fg),
    );
    Ok(Some(GaugeComparison {
        days: j.days.len(),
        first_day: j.days.first().map(|&i| d.opens[i]),
        last_day: j.days.last().map(|&i| d.opens[i]),
        gauge,
        risk,
    }))
}

/// Every day scored from what was known at its close.
#[derive(Debug, Clone)]
struct History {
    /// Risk, and the baselines: the 30-day realised volatility's and the 90-day drawdown's
    /// normalised values (percentiles) times 100; NaN on a day without.
    risk: Vec<f64>,
    base_rv: Vec<f64>,
    base_dd: Vec<f64>,
    /// Risk's components normalised (NaN: missing), each day, for the learned candidate.
    features: Vec<Vec<f64>>,
    /// On how many days each component counted in Risk.
    present: BTreeMap<String, usize>,
}

impl History {
    /// Score every day of `d`, telling `progress` every 64 days and at the end.
    fn walk(m: &Methodology, d: &Daily, mut progress: impl FnMut(usize, usize)) -> History {
        let n = d.opens.len();
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
            let v = normalised_at(m, d, i);
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
        History {
            risk,
            base_rv,
            base_dd,
            features,
            present,
        }
    }
}

/// A walk-forward forecast on every day: the probability and the training base rate.
type Forecast = Vec<Option<(f64, f64)>>;

/// The forecasts of every series judged.
#[derive(Debug, Clone)]
struct Forecasts {
    /// Risk and the baselines calibrated by isotonic regression (the published way).
    risk: Forecast,
    rv: Forecast,
    dd: Forecast,
    /// The same calibrated by a logistic fit (Platt scaling), candidates.
    risk_logistic: Forecast,
    rv_logistic: Forecast,
    dd_logistic: Forecast,
    /// Risk's components with weights learned walk-forward, a candidate; and its
    /// probability times 100 as the series it is ranked by.
    learned: Forecast,
    learned_score: Vec<f64>,
}

impl Forecasts {
    /// Fit every calibration walk-forward under `purge`. The learned candidate scores only
    /// the days Risk scores (the other days' features are cleared).
    fn fit(history: &mut History, ev: &[Option<bool>], purge: &Purge) -> Forecasts {
        let wf = |s: &[f64]| walk_forward(s, ev, purge);
        let (pr, pv, pd) = (
            wf(&history.risk),
            wf(&history.base_rv),
            wf(&history.base_dd),
        );
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
            walk_forward_logistic(&x, ev, purge, 0.0)
        };
        let (qr, qv, qd) = (
            platt(&history.risk),
            platt(&history.base_rv),
            platt(&history.base_dd),
        );
        for (f, r) in history.features.iter_mut().zip(&history.risk) {
            if !r.is_finite() {
                f.clear();
            }
        }
        let pl = walk_forward_logistic(&history.features, ev, purge, LEARNED_L2);
        let learned_score: Vec<f64> = pl
            .iter()
            .map(|p| p.map_or(f64::NAN, |p| 100.0 * p.0))
            .collect();
        Forecasts {
            risk: pr,
            rv: pv,
            dd: pd,
            risk_logistic: qr,
            rv_logistic: qv,
            dd_logistic: qd,
            learned: pl,
            learned_score,
        }
    }
}

/// The days judged: in the range asked, their event window closed, with a probability from
/// every series (so all are judged on the same days).
fn judged_days(
    d: &Daily,
    b: &BacktestScoresParams,
    ev: &[Option<bool>],
    f: &Forecasts,
) -> Vec<usize> {
    let in_range =
        |i: usize| b.from.is_none_or(|f| d.opens[i] >= f) && b.to.is_none_or(|t| d.opens[i] <= t);
    (0..d.opens.len())
        .filter(|&i| {
            in_range(i)
                && ev[i].is_some()
                && f.risk[i].is_some()
                && f.rv[i].is_some()
                && f.dd[i].is_some()
                && f.learned[i].is_some()
                && f.risk_logistic[i].is_some()
                && f.rv_logistic[i].is_some()
                && f.dd_logistic[i].is_some()
        })
        .collect()
}

/// The judged days, and what every series is judged against on them.
#[derive(Debug, Clone)]
struct Judge<'a> {
    days: Vec<usize>,
    /// Each judged day's event.
    e: Vec<bool>,
    /// Each judged day's forward return and drawdown over the horizon (for the deciles).
    fr: Vec<f64>,
    fd: Vec<f64>,
    b: BacktestScoresParams,
    m: &'a Methodology,
}

impl<'a> Judge<'a> {
    fn new(
        d: &Daily,
        days: Vec<usize>,
        ev: &[Option<bool>],
        h: usize,
        b: BacktestScoresParams,
        m: &'a Methodology,
    ) -> Judge<'a> {
        let fwd: Vec<Option<(f64, f64)>> = days
            .iter()
            .map(|&i| forward(&d.close, &d.low, i, h))
            .collect();
        Judge {
            e: days.iter().map(|&i| ev[i].unwrap_or(false)).collect(),
            fr: fwd.iter().map(|f| f.map_or(f64::NAN, |f| f.1)).collect(),
            fd: fwd.iter().map(|f| f.map_or(f64::NAN, |f| f.0)).collect(),
            days,
            b,
            m,
        }
    }

    /// A daily series on the judged days.
    fn col(&self, s: &[f64]) -> Vec<f64> {
        self.days.iter().map(|&i| s[i]).collect()
    }

    /// A forecast's probabilities and base rates on the judged days.
    fn probs(&self, w: &[Option<(f64, f64)>]) -> (Vec<f64>, Vec<f64>) {
        self.days
            .iter()
            .map(|&i| w[i].unwrap_or((f64::NAN, f64::NAN)))
            .unzip()
    }

    /// The 90 % moving-block bootstrap intervals of a series' AUC and of its gain over the
    /// volatility baseline's (`rv`).
    fn boot(&self, s: &[f64], rv: &[f64], seed: u64) -> Option<((f64, f64), (f64, f64))> {
        let b = &self.b;
        bootstrap_auc(s, rv, &self.e, b.block_days, b.reps, 0.90, seed)
    }

    /// The track record of series `s` forecast by `w`: AUC (with `boot`'s interval, and its
    /// gain interval when compared), Brier and its skill, reliability, deciles and Threat
    /// signals; with `vs`, the interval of its Brier gain over that forecast.
    fn record(
        &self,
        name: &str,
        s: &[f64],
        w: &[Option<(f64, f64)>],
        boot: Option<((f64, f64), (f64, f64))>,
        vs: Option<&[Option<(f64, f64)>]>,
    ) -> TrackRecord {
        let (b, e) = (&self.b, &self.e);
        let gain = vs.is_some();
        let (pp, base) = self.probs(w);
        let brier_gain_interval = vs.and_then(|v| {
            let (pv, _) = self.probs(v);
            bootstrap_brier_gain(&pp, &pv, e, b.block_days, b.reps, 0.90, 0x00ca_7a25)
        });
        let br = brier(&pp, e);
        let bref = brier(&base, e);
        TrackRecord {
            name: name.to_string(),
            auc: auc(s, e),
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
            reliability: reliability(&pp, e, 10),
            deciles: deciles(s, e, &self.fr, &self.fd),
            signals: signals(
                &s.iter().map(|&v| band(self.m, v).1).collect::<Vec<u8>>(),
                e,
            ),
        }
    }

    /// The records: Risk's (against the volatility baseline), the two baselines', and the
    /// candidates' (the logistic calibrations and the learned weights).
    fn records(
        &self,
        history: &History,
        f: &Forecasts,
    ) -> (TrackRecord, Vec<TrackRecord>, Vec<TrackRecord>) {
        let (risk_s, rv_s, dd_s) = (
            self.col(&history.risk),
            self.col(&history.base_rv),
            self.col(&history.base_dd),
        );
        let learned_s = self.col(&f.learned_score);
        let boot = self.boot(&risk_s, &rv_s, 0x00ca_7a21);
        let boot_rv = self.boot(&rv_s, &rv_s, 0x00ca_7a22);
        let boot_dd = self.boot(&dd_s, &rv_s, 0x00ca_7a23);
        let boot_l = self.boot(&learned_s, &rv_s, 0x00ca_7a24);
        let score = self.record(
            &format!("Risk ({})", self.m.name()),
            &risk_s,
            &f.risk,
            boot,
            Some(&f.rv),
        );
        let baselines = vec![
            self.record(
                "30-day realised volatility percentile",
                &rv_s,
                &f.rv,
                boot_rv,
                None,
            ),
            self.record("90-day drawdown percentile", &dd_s, &f.dd, boot_dd, None),
        ];
        let candidates = vec![
            self.record(
                "Risk, logistic calibration",
                &risk_s,
                &f.risk_logistic,
                boot,
                Some(&f.rv_logistic),
            ),
            self.record(
                "30-day realised volatility percentile, logistic calibration",
                &rv_s,
                &f.rv_logistic,
                boot_rv,
                None,
            ),
            self.record(
                "90-day drawdown percentile, logistic calibration",
                &dd_s,
                &f.dd_logistic,
                boot_dd,
                None,
            ),
            self.record(
                "Risk's components, weights learned walk-forward (logistic, L2 1)",
                &learned_s,
                &f.learned,
                boot_l,
                Some(&f.rv_logistic),
            ),
        ];
        (score, baselines, candidates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data;

    /// The crash morning's daily market inputs (the 4h bars' days).
    fn crash_daily() -> (ScoreParams, Daily) {
        let store = test_data::crash_store();
        let ctx = Context::new(&*store, test_data::asof()).unwrap();
        let p = ScoreParams::published(test_data::btcusdt());
        let mut draft = Draft::new(ctx.asof());
        let d = daily_inputs(&ctx, &p, None, &mut draft).unwrap();
        (p, d)
    }

    fn purge(p: &ScoreParams) -> Purge {
        Purge {
            h: p.horizon_days,
            embargo: p.horizon_days,
            refit_every: 30,
            min_train: 365,
            min_events: 5,
        }
    }

    /// Every day is scored as the score itself would be that day, progress told every 64
    /// days and at the end.
    #[test]
    fn the_history_scores_each_day_as_the_score_would() {
        let (p, d) = crash_daily();
        let m = &p.method;
        let mut calls = Vec::new();
        let h = History::walk(m, &d, |i, n| calls.push((i, n)));
        let n = d.opens.len();
        let mut expected: Vec<(usize, usize)> = (0..n).step_by(64).map(|i| (i, n)).collect();
        expected.push((n, n));
        assert_eq!(calls, expected);
        let risk_components = m
            .components
            .iter()
            .filter(|c| c.score == ScoreKind::Risk)
            .count();
        for i in [0, n / 2, n - 1] {
            let s = compose(m, &normalised_at(m, &d, i));
            assert_eq!(
                s.risk.value.unwrap_or(f64::NAN).to_bits(),
                h.risk[i].to_bits()
            );
            assert_eq!(h.features[i].len(), risk_components);
        }
        assert!(h.risk[n - 1].is_finite() && h.base_rv[n - 1].is_finite());
        assert!(h.risk[0].is_nan(), "no history before the first day");
        let vol = h.present["realised_vol_30d"];
        assert!(vol > 0 && vol <= n, "{vol}");
    }

    /// Every series is forecast walk-forward; the learned candidate only where Risk scores.
    #[test]
    fn forecasts_only_where_the_past_allows() {
        let (p, d) = crash_daily();
        let mut h = History::walk(&p.method, &d, |_, _| {});
        let ev = events(&d, p.horizon_days, p.drawdown);
        let f = Forecasts::fit(&mut h, &ev, &purge(&p));
        let n = d.opens.len();
        for w in [&f.risk, &f.rv, &f.dd, &f.risk_logistic, &f.learned] {
            assert_eq!(w.len(), n);
            assert!(
                w[..365].iter().all(Option::is_none),
                "no forecast before a year"
            );
            assert!(w.iter().flatten().all(|x| (0.0..=1.0).contains(&x.0)));
            assert!(w.iter().any(Option::is_some));
        }
        for i in 0..n {
            if h.risk[i].is_nan() {
                assert!(
                    h.features[i].is_empty() && f.learned[i].is_none(),
                    "day {i}"
                );
            }
            let learned = f.learned[i].map_or(f64::NAN, |x| 100.0 * x.0);
            assert_eq!(learned.to_bits(), f.learned_score[i].to_bits());
        }
    }

    /// The judged days: inside the range, with their window closed and every forecast.
    #[test]
    fn judged_days_have_every_forecast_and_lie_in_the_range() {
        let (p, d) = crash_daily();
        let mut h = History::walk(&p.method, &d, |_, _| {});
        let ev = events(&d, p.horizon_days, p.drawdown);
        let f = Forecasts::fit(&mut h, &ev, &purge(&p));
        let all = judged_days(&d, &BacktestScoresParams::default(), &ev, &f);
        assert!(all.len() > 365, "{}", all.len());
        for &i in &all {
            assert!(ev[i].is_some() && f.risk[i].is_some() && f.dd_logistic[i].is_some());
        }
        let (from, to) = (
            Timestamp::parse("2022-01-01").unwrap(),
            Timestamp::parse("2022-12-31").unwrap(),
        );
        let b = BacktestScoresParams {
            from: Some(from),
            to: Some(to),
            ..BacktestScoresParams::default()
        };
        let year = judged_days(&d, &b, &ev, &f);
        assert_eq!(year.len(), 365);
        assert!(year.iter().all(|&i| d.opens[i] >= from && d.opens[i] <= to));
        assert!(year.iter().all(|i| all.contains(i)));
    }

    /// A record judges a series on the judged days: a series that is the event itself ranks
    /// perfectly; its deciles and signals cover every day.
    #[test]
    fn a_record_judges_the_series_on_the_judged_days() {
        let (p, d) = crash_daily();
        let mut h = History::walk(&p.method, &d, |_, _| {});
        let ev = events(&d, p.horizon_days, p.drawdown);
        let f = Forecasts::fit(&mut h, &ev, &purge(&p));
        let b = BacktestScoresParams {
            reps: 50,
            ..BacktestScoresParams::default()
        };
        let days = judged_days(&d, &b, &ev, &f);
        let judge = Judge::new(&d, days.clone(), &ev, p.horizon_days, b, &p.method);
        assert_eq!(judge.e.len(), days.len());
        assert!(judge.e.iter().any(|&e| e) && judge.e.iter().any(|&e| !e));
        let oracle: Vec<f64> = (0..d.opens.len())
            .map(|i| if ev[i] == Some(true) { 100.0 } else { 0.0 })
            .collect();
        let s = judge.col(&oracle);
        let r = judge.record("oracle", &s, &f.risk, None, Some(&f.rv));
        assert_eq!(r.auc, Some(1.0));
        assert!(r.auc_interval.is_none() && r.auc_gain_interval.is_none());
        assert!(r.brier_gain_interval.is_some());
        let decile_days: usize = r.deciles.iter().map(|x| x.count).sum();
        assert_eq!(decile_days, days.len());
        let risk = judge.col(&h.risk);
        let boot = judge.boot(&risk, &judge.col(&h.base_rv), 1);
        let r = judge.record("risk", &risk, &f.risk, boot, None);
        assert_eq!(r.auc_interval, boot.map(|x| x.0));
        assert!(r.auc_gain_interval.is_none() && r.brier_gain_interval.is_none());
        let (probs, _) = judge.probs(&f.risk);
        assert!((r.brier - brier(&probs, &judge.e)).abs() < 1e-15);
    }
}
