//! `alerts_backtest`: an alert rule run over history through the same evaluation and state
//! machine the live engine uses (`canary_alerts`), at every bar close of its timeframe, each
//! value as it was known then (the Watch's levels as known when the bar began); every firing
//! with what followed.

use std::collections::BTreeMap;

use canary_alerts::eval::{Evaluator, Values};
use canary_alerts::rule::{
    BarField, DerivMetric, IndicatorKind, ScoreKind, Series, WatchLevel, parse,
};
use canary_alerts::state::{Alert, Notice, Policy, fingerprint};
use canary_analytics::derivatives::{change_over, zscore_against_window};
use canary_model::derivatives::{DerivKind, DerivSeries, Venues};

use super::derivatives::{FUNDING_MIN_SETTLEMENTS, FUNDING_WINDOW_DAYS};
use canary_model::{Candle, Claim, ClaimId, Method, Symbol, Timeframe, Timestamp};
use canary_news::sentiment::Lexicon;
use canary_news::tags::Dictionary;
use serde::Serialize;

use crate::{Context, Draft, EngineError, Report, ScoreParams, WatchParams};

/// The alert backtest.
pub const ALERT_BACKTEST: Method = Method::new("alert_backtest", 1);

/// What to run.
#[derive(Debug, Clone)]
pub struct AlertBacktestParams {
    pub rule: String,
    /// The timeframe whose bar closes evaluate the rule.
    pub timeframe: Timeframe,
    pub from: Timestamp,
    pub policy: Policy,
    /// How long after a firing the move that followed is measured.
    pub follow_ms: i64,
    /// For rules that read scores: the methodology.
    pub score: Option<ScoreParams>,
}

/// One notification the rule would have sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Firing {
    pub notice: Notice,
    /// The values the rule read at that bar close.
    pub values: BTreeMap<String, f64>,
    /// The close at the firing and the close `follow` later, as a return (%), and the largest
    /// fall from the firing close to the lowest low within `follow` (%).
    pub forward_return_pct: Option<f64>,
    pub forward_drawdown_pct: Option<f64>,
}

/// The backtest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertBacktestBody {
    pub rule: String,
    pub fingerprint: String,
    pub timeframe: Timeframe,
    pub evaluations: usize,
    pub no_data: usize,
    pub firings: Vec<Firing>,
    /// Firings per calendar month (`2026-02`).
    pub per_month: BTreeMap<String, usize>,
    pub follow_days: f64,
    pub claim: ClaimId,
}

/// A series as a notice's `values` name it (`BTCUSDT.rsi14.4h`, `risk(BTCUSDT)`).
#[must_use]
pub fn name(s: &Series) -> String {
    match s {
        Series::Bar { symbol, field, tf } => format!(
            "{symbol}.{}{}",
            format!("{field:?}").to_lowercase(),
            tf.map(|t| format!(".{t}")).unwrap_or_default()
        ),
        Series::Indicator {
            symbol,
            kind,
            period,
            tf,
        } => format!(
            "{symbol}.{}{period}{}",
            format!("{kind:?}").to_lowercase(),
            tf.map(|t| format!(".{t}")).unwrap_or_default()
        ),
        Series::Score { symbol, kind } => {
            format!("{}({symbol})", format!("{kind:?}").to_lowercase())
        }
        Series::Watch { level } => format!("watch.{}", format!("{level:?}").to_lowercase()),
        Series::AnalysisTag { tag } => format!("analyses tagged {tag}"),
        Series::Outflow {
            entity,
            destination,
            window_ms,
        } => format!(
            "outflow({entity}, {}, {})",
            destination.as_deref().unwrap_or("any"),
            window(*window_ms)
        ),
        Series::Derivative(d) => {
            let mut args = vec![d.market.clone()];
            args.extend(d.window_ms.map(window));
            args.extend(d.venue.clone());
            format!("{}({})", d.metric.name(), args.join(", "))
        }
        Series::Market(m) => {
            let mut args: Vec<String> = m.ticker.iter().cloned().collect();
            args.extend(m.sessions.map(|n| n.to_string()));
            format!("{}({})", m.metric.name(), args.join(", "))
        }
    }
}

fn window(ms: i64) -> String {
    if ms % 86_400_000 == 0 {
        format!("{}d", ms / 86_400_000)
    } else if ms % 3_600_000 == 0 {
        format!("{}h", ms / 3_600_000)
    } else {
        format!("{}m", ms / 60_000)
    }
}

/// A series of values by close time: the latest known at each evaluation time.
struct Known(Vec<(Timestamp, f64)>);

impl Known {
    fn at(&self, t: Timestamp) -> Option<f64> {
        let i = self.0.partition_point(|(c, _)| *c <= t);
        i.checked_sub(1)
            .map(|k| self.0[k].1)
            .filter(|x| x.is_finite())
    }
}

fn indicator(kind: IndicatorKind, period: usize, bars: &[Candle]) -> Vec<f64> {
    let close: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let mut out = vec![f64::NAN; close.len()];
    let ok = match kind {
        IndicatorKind::Rsi => canary_analytics::ta::rsi(&close, period, &mut out),
        IndicatorKind::Ema => canary_analytics::ta::ema(&close, period, &mut out),
        IndicatorKind::Sma => canary_analytics::ta::sma(&close, period, &mut out),
        IndicatorKind::Atr => {
            let h: Vec<f64> = bars.iter().map(|b| b.high).collect();
            let l: Vec<f64> = bars.iter().map(|b| b.low).collect();
            canary_analytics::ta::atr(&h, &l, &close, period, &mut out)
        }
    };
    if ok.is_err() {
        out.fill(f64::NAN);
    }
    out
}

/// What a rule reads, prepared once: each series as known at each close of its timeframe.
pub(crate) struct RuleInputs {
    pub symbol: Symbol,
    /// The bars of the rule's timeframe (for evaluation times and what followed).
    pub bars: Vec<Candle>,
    pub source: String,
    known: BTreeMap<Series, Known>,
    wants_watch: Vec<(Series, WatchLevel)>,
    /// The Watch's levels known before the next close (built at the previous one).
    watch_before: Vec<(Series, f64)>,
}

impl RuleInputs {
    #[expect(clippy::too_many_arguments)] // each is one input of the rule's values
    pub(crate) fn prepare(
        ctx: &Context<'_>,
        expr: &canary_alerts::rule::Expr,
        symbol: &Symbol,
        timeframe: Timeframe,
        score: Option<&ScoreParams>,
        dict: &Dictionary,
        lex: &Lexicon,
        draft: &mut Draft,
    ) -> Result<RuleInputs, EngineError> {
        let main = ctx.bars(symbol, timeframe)?;
        draft.uses(&main);
        let bars = main.value.candles.clone();
        let mut known: BTreeMap<Series, Known> = BTreeMap::new();
        let mut wants_watch = Vec::new();
        for s in expr.series() {
            if known.contains_key(s) {
                continue;
            }
            let k = match s {
                Series::Bar { symbol, field, tf } => {
                    let tf = tf.unwrap_or(timeframe);
                    let b = ctx.bars(symbol, tf)?;
                    draft.uses(&b);
                    Known(
                        b.value
                            .candles
                            .iter()
                            .map(|c| {
                                let v = match field {
                                    BarField::Open => c.open,
                                    BarField::High => c.high,
                                    BarField::Low => c.low,
                                    BarField::Close => c.close,
                                    BarField::Volume => c.volume,
                                };
                                (tf.close_of(c.open_time), v)
                            })
                            .collect(),
                    )
                }
                Series::Indicator {
                    symbol,
                    kind,
                    period,
                    tf,
                } => {
                    let tf = tf.unwrap_or(timeframe);
                    let b = ctx.bars(symbol, tf)?;
                    draft.uses(&b);
                    let v = indicator(*kind, *period, &b.value.candles);
                    Known(
                        b.value
                            .candles
                            .iter()
                            .zip(v)
                            .map(|(c, x)| (tf.close_of(c.open_time), x))
                            .collect(),
                    )
                }
                Series::Score { symbol, kind } => {
                    let sp = ScoreParams {
                        symbol: symbol.clone(),
                        ..score.cloned().ok_or_else(|| EngineError::Param {
                            name: "rule",
                            value: format!("{kind:?}({symbol})"),
                            reason: "a rule on scores needs the score methodology".into(),
                        })?
                    };
                    let h = crate::score_history(ctx, &sp, dict, lex, None, None)?;
                    Known(
                        h.body
                            .days
                            .iter()
                            .filter_map(|d| {
                                let v = match kind {
                                    ScoreKind::Risk => d.risk?,
                                    ScoreKind::Pulse => d.pulse?,
                                    ScoreKind::Threat => f64::from(d.threat?),
                                };
                                Some((Timeframe::D1.close_of(d.day), v))
                            })
                            .collect(),
                    )
                }
                Series::Watch { level } => {
                    wants_watch.push((s.clone(), *level));
                    continue;
                }
                Series::AnalysisTag { tag } => {
                    // Known from when it was stored: those stored since the previous close.
                    let stored = ctx.analyses_stored(tag)?;
                    let len = timeframe.duration_ms();
                    Known(
                        bars.iter()
                            .map(|c| {
                                let t = timeframe.close_of(c.open_time);
                                let n = stored
                                    .iter()
                                    .filter(|s| s.millis() > t.millis() - len && **s <= t)
                                    .count();
                                (t, n as f64)
                            })
                            .collect(),
                    )
                }
                Series::Outflow {
                    entity,
                    destination,
                    window_ms,
                } => outflow_known(
                    ctx,
                    entity,
                    destination.as_deref(),
                    *window_ms,
                    &bars,
                    timeframe,
                    draft,
                )?,
                Series::Derivative(d) => {
                    let closes: Vec<Timestamp> = bars
                        .iter()
                        .map(|c| timeframe.close_of(c.open_time))
                        .collect();
                    let values = derivative_values(
                        ctx,
                        d.metric,
                        &d.market,
                        d.venue.as_deref(),
                        d.window_ms.unwrap_or(0),
                        &closes,
                        draft,
                    )?;
                    Known(closes.into_iter().zip(values).collect())
                }
                Series::Market(m) => {
                    let closes: Vec<Timestamp> = bars
                        .iter()
                        .map(|c| timeframe.close_of(c.open_time))
                        .collect();
                    let values =
                        super::rule_markets::market_values(ctx, m, symbol, &closes, draft)?;
                    Known(closes.into_iter().zip(values).collect())
                }
            };
            known.insert(s.clone(), k);
        }
        Ok(RuleInputs {
            symbol: symbol.clone(),
            bars,
            source: main.source.clone(),
            known,
            wants_watch,
            watch_before: Vec::new(),
        })
    }

    /// The values at close `t` (call in time order: the Watch's levels are those built at
    /// the previous call).
    pub(crate) fn values(
        &mut self,
        ctx: &Context<'_>,
        t: Timestamp,
    ) -> Result<Values, EngineError> {
        let mut values = Values::new();
        for (s, kn) in &self.known {
            if let Some(x) = kn.at(t) {
                values.insert(s.clone(), x);
            }
        }
        if !self.wants_watch.is_empty() {
            values.extend(self.watch_before.iter().map(|(s, x)| (s.clone(), *x)));
            let then = ctx.at(t)?;
            self.watch_before.clear();
            if let Ok(w) = crate::watch(&then, &WatchParams::new(self.symbol.clone())) {
                for (s, level) in &self.wants_watch {
                    let l = match level {
                        WatchLevel::Support => w.body.support.as_ref().map(|x| x.price),
                        WatchLevel::Resistance => w.body.resistance.as_ref().map(|x| x.price),
                        WatchLevel::Trapdoor => w.body.trapdoor.as_ref().map(|x| x.level.price),
                    };
                    if let Some(x) = l {
                        self.watch_before.push((s.clone(), x));
                    }
                }
            }
        }
        Ok(values)
    }
}

/// An entity's outflows at each close: the transactions confirmed in the window before it
/// (an outflow is known from its block time), to one kind of destination or any.
fn outflow_known(
    ctx: &Context<'_>,
    entity: &str,
    destination: Option<&str>,
    window_ms: i64,
    bars: &[Candle],
    timeframe: Timeframe,
    draft: &mut Draft,
) -> Result<Known, EngineError> {
    let input = ctx.outflows(entity)?;
    draft.uses(&input);
    let flows = input.value;
    if flows.is_empty() {
        return Err(EngineError::Empty(format!(
            "no outflows of {entity} stored: fetch them first (flows fetch with a label file)"
        )));
    }
    let flows: Vec<_> = flows
        .into_iter()
        .filter(|f| destination.is_none_or(|d| f.destination == d))
        .collect();
    Ok(Known(
        bars.iter()
            .map(|c| {
                let t = timeframe.close_of(c.open_time);
                let from = t.millis() - window_ms;
                let sum: f64 = flows
                    .iter()
                    .filter(|f| f.time.millis() > from && f.time <= t)
                    .map(|f| f.btc)
                    .sum();
                (t, sum)
            })
            .collect(),
    ))
}

/// The derivatives series a rule's reading names: of `kind` and `market`, on `venue` (`all`,
/// one venue) or by default the market's only funding series, the all-venue open interest,
/// the liquidations of the most venues (the latest data on a tie).
fn rule_series(
    ctx: &Context<'_>,
    kind: DerivKind,
    market: &str,
    venue: Option<&str>,
) -> Result<DerivSeries, EngineError> {
    let mut found: Vec<canary_store::DerivSeriesInfo> = ctx
        .derivative_series()?
        .into_iter()
        .filter(|i| i.series.kind == kind && i.series.market() == market)
        .collect();
    let what = match kind {
        DerivKind::FundingRate => "funding rates",
        DerivKind::OpenInterestUsd => "open interest in USD",
        _ => "liquidations",
    };
    if found.is_empty() {
        return Err(EngineError::Empty(format!(
            "no {what} of {market} stored: import them first (canary derivatives import)"
        )));
    }
    if let Some(v) = venue {
        let want: Venues = v
            .parse()
            .map_err(|e: canary_model::derivatives::DerivError| {
                EngineError::param("rule", v, &e.to_string())
            })?;
        found.retain(|i| i.series.venues == want);
    } else if kind == DerivKind::FundingRate {
        let listed: std::collections::BTreeSet<String> =
            found.iter().map(|i| i.series.venues.to_string()).collect();
        if listed.len() > 1 {
            return Err(EngineError::param(
                "rule",
                market,
                &format!(
                    "{what} of {market} are stored for several venues ({}): name one, e.g. funding({market}, {})",
                    listed.iter().cloned().collect::<Vec<_>>().join(", "),
                    listed.iter().next().map_or("binance", String::as_str)
                ),
            ));
        }
    } else if kind == DerivKind::OpenInterestUsd {
        found.retain(|i| i.series.venues == Venues::All);
    }
    let breadth = |v: &Venues| match v {
        Venues::All => usize::MAX,
        Venues::Listed(l) => l.len(),
    };
    found
        .into_iter()
        .max_by(|a, b| {
            breadth(&a.series.venues)
                .cmp(&breadth(&b.series.venues))
                .then_with(|| {
                    a.series
                        .available_at(a.last)
                        .cmp(&b.series.available_at(b.last))
                })
                .then_with(|| b.series.interval.cmp(&a.series.interval))
        })
        .map(|i| i.series)
        .ok_or_else(|| {
            EngineError::Empty(format!(
                "no {what} of {market} stored for {}: see canary derivatives",
                venue.unwrap_or("every venue together")
            ))
        })
}

/// A derivatives reading at each close in `closes`: NaN where its series has nothing known
/// then, or only values older than three of its intervals.
fn derivative_values(
    ctx: &Context<'_>,
    metric: DerivMetric,
    market: &str,
    venue: Option<&str>,
    window_ms: i64,
    closes: &[Timestamp],
    draft: &mut Draft,
) -> Result<Vec<f64>, EngineError> {
    let kind = match metric {
        DerivMetric::Funding | DerivMetric::FundingZ => DerivKind::FundingRate,
        DerivMetric::OiChange => DerivKind::OpenInterestUsd,
        DerivMetric::Liquidations | DerivMetric::LongLiquidations => DerivKind::LongLiquidationsUsd,
        DerivMetric::ShortLiquidations => DerivKind::ShortLiquidationsUsd,
    };
    let series = rule_series(ctx, kind, market, venue)?;
    let interval = series.interval.millis();
    if metric.windowed() && window_ms < interval {
        return Err(EngineError::param(
            "rule",
            format!("{}({market}, …)", metric.name()),
            &format!(
                "its window is shorter than the {} interval of {series}: a window of at least {} says what it measures",
                series.interval, series.interval
            ),
        ));
    }
    let mut sides = vec![series.clone()];
    if metric == DerivMetric::Liquidations {
        sides.push(series.with_kind(DerivKind::ShortLiquidationsUsd));
    }
    let mut replays = Vec::new();
    for s in &sides {
        let input = ctx.derivatives(s)?.ok_or_else(|| {
            EngineError::Empty(format!("no values of {s} known as of {}", ctx.asof()))
        })?;
        draft.uses(&input);
        replays.push(Replay::new(s.clone(), ctx.derivative_versions(s)?));
    }
    Ok(closes
        .iter()
        .map(|&t| {
            for r in &mut replays {
                r.advance(t);
            }
            let main = &replays[0].known;
            match main.last() {
                Some(&(last, _))
                    if t.millis() - series.available_at(last).millis() <= 3 * interval => {}
                _ => return f64::NAN,
            }
            match metric {
                DerivMetric::Funding => main[main.len() - 1].1 * 100.0,
                DerivMetric::FundingZ => zscore_against_window(
                    main,
                    FUNDING_WINDOW_DAYS * 86_400_000,
                    FUNDING_MIN_SETTLEMENTS,
                )
                .map_or(f64::NAN, |z| z.z),
                DerivMetric::OiChange => {
                    change_over(main, window_ms, interval).map_or(f64::NAN, |c| c.relative * 100.0)
                }
                DerivMetric::Liquidations
                | DerivMetric::LongLiquidations
                | DerivMetric::ShortLiquidations => replays
                    .iter()
                    .map(|r| {
                        // Bars that closed within the window.
                        r.known
                            .iter()
                            .rev()
                            .take_while(|&&(k, _)| {
                                r.series.available_at(k).millis() > t.millis() - window_ms
                            })
                            .map(|x| x.1)
                            .sum::<f64>()
                    })
                    .sum(),
            }
        })
        .collect())
}

/// A series replayed as it was known: at each moment, for each time, the latest version
/// stored by then (a back-fill or a revision from when it was stored, never before).
pub(crate) struct Replay<S> {
    pub(crate) series: S,
    versions: Vec<canary_store::Point>,
    next: usize,
    /// (time, value) in time order, as known at the last moment advanced to.
    pub(crate) known: Vec<(Timestamp, f64)>,
}

impl<S> Replay<S> {
    pub(crate) fn new(series: S, versions: Vec<canary_store::Point>) -> Self {
        Replay {
            series,
            versions,
            next: 0,
            known: Vec::new(),
        }
    }

    /// Take in every version available at `t` (call with `t` rising).
    pub(crate) fn advance(&mut self, t: Timestamp) {
        while let Some(v) = self.versions.get(self.next).filter(|v| v.available_at <= t) {
            match self.known.binary_search_by(|x| x.0.cmp(&v.time)) {
                Ok(i) => self.known[i].1 = v.value,
                Err(i) => self.known.insert(i, (v.time, v.value)),
            }
            self.next += 1;
        }
    }
}

/// Run `rule` over the bar closes of its timeframe from `from` to the context's time.
///
/// # Errors
/// A rule that does not parse (the message points at the column), no bars, a database error.
pub fn alerts_backtest(
    ctx: &Context<'_>,
    p: &AlertBacktestParams,
    dict: &Dictionary,
    lex: &Lexicon,
    mut progress: impl FnMut(usize, usize),
) -> Result<Report<AlertBacktestBody>, EngineError> {
    let expr = parse(&p.rule)?;
    let symbol = expr.clock_symbol();
    let asof = ctx.asof();
    let mut draft = Draft::new(asof);
    let mut inputs = RuleInputs::prepare(
        ctx,
        &expr,
        &symbol,
        p.timeframe,
        p.score.as_ref(),
        dict,
        lex,
        &mut draft,
    )?;
    let bars = inputs.bars.clone();
    let times: Vec<(usize, Timestamp)> = bars
        .iter()
        .enumerate()
        .map(|(i, c)| (i, p.timeframe.close_of(c.open_time)))
        .filter(|(_, t)| *t >= p.from && *t <= asof)
        .collect();
    let fp = fingerprint(&p.rule, symbol.as_str());
    let mut ev = Evaluator::new(expr);
    let mut alert = Alert::new(fp.clone());
    let mut firings = Vec::new();
    let mut no_data = 0;
    for (k, &(i, t)) in times.iter().enumerate() {
        progress(k, times.len());
        let values = inputs.values(ctx, t)?;
        let outcome = ev.evaluate(t, &values);
        if outcome == canary_alerts::eval::Outcome::NoData {
            no_data += 1;
        }
        let margin = ev.margin(&values);
        for n in alert.step(&p.policy, t, &outcome, margin) {
            let close = bars[i].close;
            let until = t.add_millis(p.follow_ms);
            let after: Vec<&Candle> = bars[i + 1..]
                .iter()
                .take_while(|c| p.timeframe.close_of(c.open_time) <= until)
                .collect();
            let complete = after.last().is_some_and(|c| {
                p.timeframe
                    .close_of(c.open_time)
                    .add_millis(p.timeframe.duration_ms())
                    > until
            });
            let forward_return_pct = complete
                .then(|| after.last().map(|c| 100.0 * (c.close / close - 1.0)))
                .flatten();
            let forward_drawdown_pct = complete.then(|| {
                let low = after.iter().map(|c| c.low).fold(f64::INFINITY, f64::min);
                100.0 * (1.0 - low / close).max(0.0)
            });
            firings.push(Firing {
                notice: n,
                values: values.iter().map(|(s, x)| (name(s), *x)).collect(),
                forward_return_pct,
                forward_drawdown_pct,
            });
        }
    }
    progress(times.len(), times.len());
    let mut per_month: BTreeMap<String, usize> = BTreeMap::new();
    for f in &firings {
        if let Notice::Fired { at } = f.notice {
            *per_month
                .entry(at.to_string()[..7].to_string())
                .or_default() += 1;
        }
    }
    let src = draft.add(Claim::data(
        format!("{symbol} {} bars as of {asof}", p.timeframe),
        1.0,
        "series",
        asof,
        format!("{symbol} {}", p.timeframe),
        &inputs.source,
        bars.last().map_or(asof, |c| c.open_time),
    ));
    let fired = firings
        .iter()
        .filter(|f| matches!(f.notice, Notice::Fired { .. }))
        .count() as f64;
    let claim = draft.add(Claim::derived(
        format!("firings of `{}`", p.rule),
        fired,
        "firings",
        asof,
        ALERT_BACKTEST
            .of(&[&src])
            .param("rule", &p.rule)
            .param("timeframe", p.timeframe)
            .param("from", p.from)
            .param("for_evals", p.policy.for_evals)
            .param("cooldown_ms", p.policy.cooldown_ms)
            .param("band", p.policy.band),
    ));
    draft.finish(AlertBacktestBody {
        rule: p.rule.clone(),
        fingerprint: fp,
        timeframe: p.timeframe,
        evaluations: times.len(),
        no_data,
        firings,
        per_month,
        follow_days: p.follow_ms as f64 / 86_400_000.0,
        claim,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_alerts::state::Frequency;
    use canary_store::prelude::*;
    use canary_store::{NewCandle, Revisions, Source, StoredAnalysis};

    /// `analysis.tag == "…"` fires at the first close after an analysis with the tag was
    /// stored (known from when it was stored, not from the time it is about).
    #[test]
    fn a_new_analysis_with_the_tag_fires_at_the_next_close() {
        let mut store = canary_store::in_memory().unwrap();
        let start = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let tf = Timeframe::H4;
        let bars = canary_sim::simulate(&canary_sim::SimParams {
            timeframe: tf,
            bars: 60,
            seed: 1,
            scenario: canary_sim::Scenario::Calm,
            start,
            start_price: 60_000.0,
        });
        let rows: Vec<NewCandle> = bars
            .iter()
            .map(|c| NewCandle {
                candle: *c,
                available_at: tf.close_of(c.open_time),
                source_bars: None,
            })
            .collect();
        let sym = Symbol::new("BTCUSDT").unwrap();
        store
            .insert_candles(
                &sym,
                tf,
                Source::sim("sim"),
                start,
                &rows,
                Revisions::Keep,
                |_| {},
            )
            .unwrap();
        let analysis = |id: &str, tags: &[&str]| StoredAnalysis {
            id: id.into(),
            symbol: "BTCUSDT".into(),
            topic: "bitcoin-miners".into(),
            // About an earlier time: what counts is when it was stored.
            as_of: start,
            version: "analysis v1".into(),
            headline: "h".into(),
            label: None,
            tags: tags.iter().map(|t| (*t).to_string()).collect(),
            markdown: String::new(),
            json: "{}".into(),
            created_at: start,
            html: None,
        };
        let stored_at = Timestamp::parse("2026-01-03T05:30:00Z").unwrap();
        store
            .insert_analysis(&analysis("a1", &["bitcoin-miners", "btc"]), stored_at)
            .unwrap();
        store
            .insert_analysis(
                &analysis("a2", &["eth"]),
                Timestamp::parse("2026-01-04T01:00:00Z").unwrap(),
            )
            .unwrap();
        let ctx = Context::new(&*store, Timestamp::parse("2026-01-08T00:00:00Z").unwrap()).unwrap();
        let p = AlertBacktestParams {
            rule: "analysis.tag == \"bitcoin-miners\"".into(),
            timeframe: tf,
            from: start,
            policy: Policy {
                for_evals: 1,
                cooldown_ms: 0,
                band: 0.0,
                frequency: Frequency::Transition,
                notify_resolved: false,
                repeat_ms: None,
                expires_at: None,
                intrabar: false,
            },
            follow_ms: 86_400_000,
            score: None,
        };
        let r = alerts_backtest(
            &ctx,
            &p,
            &Dictionary::built_in(),
            Lexicon::built_in(),
            |_, _| {},
        )
        .unwrap();
        let fired: Vec<String> = r
            .body
            .firings
            .iter()
            .map(|f| match f.notice {
                Notice::Fired { at } => at.to_string(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(fired, ["2026-01-03T08:00:00Z"]);
    }

    /// Derivatives terms read what was known at each close: the Binance liquidations of a
    /// day from that day's end, funding from its settlement; a term whose data stopped has no
    /// value (the evaluation has no data), never the last value carried on.
    #[test]
    fn derivatives_terms_fire_on_what_was_known_at_each_close() {
        let mut store = crate::test_data::crash_store();
        crate::test_data::store_derivatives(&mut *store);
        let ctx = Context::new(&*store, Timestamp::parse("2025-12-01T00:00:00Z").unwrap()).unwrap();
        let run = |rule: &str, from: &str| {
            let p = AlertBacktestParams {
                rule: rule.into(),
                timeframe: Timeframe::D1,
                from: Timestamp::parse(from).unwrap(),
                policy: Policy {
                    for_evals: 1,
                    cooldown_ms: 0,
                    band: 0.0,
                    frequency: Frequency::Transition,
                    notify_resolved: false,
                    repeat_ms: None,
                    expires_at: None,
                    intrabar: false,
                },
                follow_ms: 86_400_000,
                score: None,
            };
            alerts_backtest(
                &ctx,
                &p,
                &Dictionary::built_in(),
                Lexicon::built_in(),
                |_, _| {},
            )
            .unwrap()
        };
        let r = run("liquidations(BTC, 24h, binance) > 300M", "2025-10-01");
        let fired: Vec<String> = r
            .body
            .firings
            .iter()
            .filter_map(|f| match f.notice {
                Notice::Fired { at } => Some(at.to_string()),
                _ => None,
            })
            .collect();
        // 2025-10-10's liquidations (Binance, as the vendor kept them: $404M long and short)
        // are known at the day's end, the close of 2025-10-11 00:00.
        assert_eq!(
            fired.first().map(String::as_str),
            Some("2025-10-11T00:00:00Z"),
            "{fired:?}"
        );
        // After 2025-11-14 nothing is known: those closes have no data.
        assert!(r.body.no_data > 0, "{:?}", r.body.no_data);
        // The month's lowest funding, -0.00529 % settled at 2025-11-25 00:00, is known at
        // that close (in percent per interval, as the rule writes it).
        let r = run("funding(BTCUSDT) < -0.005", "2025-11-01");
        let fired: Vec<String> = r
            .body
            .firings
            .iter()
            .filter_map(|f| match f.notice {
                Notice::Fired { at } => Some(at.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(fired, ["2025-11-25T00:00:00Z"]);
    }

    /// A revision fires from when it was stored, not from the time of the value it revises.
    #[test]
    fn a_revised_derivatives_value_counts_from_when_it_was_stored() {
        use canary_store::Point;
        // The funding first (the store stamps each write after the one before), then the bars.
        let mut store = canary_store::in_memory().unwrap();
        let series: canary_model::derivatives::DerivSeries =
            "funding_rate:BTCUSDT:binance:8h".parse().unwrap();
        let at = |s: &str| Timestamp::parse(s).unwrap();
        let settled: Vec<Point> = [
            "2026-01-09T08:00:00Z",
            "2026-01-09T16:00:00Z",
            "2026-01-10T00:00:00Z",
        ]
        .iter()
        .map(|x| Point {
            time: at(x),
            value: 1e-4,
            available_at: at(x),
        })
        .collect();
        store
            .insert_derivatives(
                &[(&series, &settled)],
                Source::real("f"),
                at("2026-01-10T00:00:00Z"),
                Revisions::Keep,
            )
            .unwrap();
        let revised = [Point {
            time: at("2026-01-10T00:00:00Z"),
            value: 5e-4,
            available_at: at("2026-01-10T00:00:00Z"),
        }];
        let r = store
            .insert_derivatives(
                &[(&series, &revised)],
                Source::real("f"),
                at("2026-01-10T12:00:00Z"),
                Revisions::Keep,
            )
            .unwrap();
        assert_eq!(r.revised, 1);
        crate::store_bar_file(
            &mut *store,
            &crate::test_data::shared("btcusdt_binance_4h.csv"),
            &crate::test_data::btcusdt(),
            crate::test_data::asof(),
        )
        .unwrap();
        let ctx = Context::new(&*store, at("2026-01-20T00:00:00Z")).unwrap();
        let p = AlertBacktestParams {
            rule: "funding(BTCUSDT) > 0.03".into(),
            timeframe: Timeframe::D1,
            from: at("2026-01-08T00:00:00Z"),
            policy: Policy {
                for_evals: 1,
                cooldown_ms: 0,
                band: 0.0,
                frequency: Frequency::Transition,
                notify_resolved: false,
                repeat_ms: None,
                expires_at: None,
                intrabar: false,
            },
            follow_ms: 86_400_000,
            score: None,
        };
        let r = alerts_backtest(
            &ctx,
            &p,
            &Dictionary::built_in(),
            Lexicon::built_in(),
            |_, _| {},
        )
        .unwrap();
        let fired: Vec<String> = r
            .body
            .firings
            .iter()
            .filter_map(|f| match f.notice {
                Notice::Fired { at } => Some(at.to_string()),
                _ => None,
            })
            .collect();
        // At the close of 2026-01-10 00:00 the settlement was 0.01 %; the 0.05 % revision was
        // stored at 12:00 and is read from the next close.
        assert_eq!(fired, ["2026-01-11T00:00:00Z"]);
    }
}
