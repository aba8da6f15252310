//! `derivatives map` and `backtest liqmap`: the estimated liquidation map as of T with cascade
//! scenarios below the price (`canary_analytics::liqmap`), and the map judged against null
//! models walk-forward (`liqmap::backtest`, the protocol of `docs/liquidation-map.md`).
//!
//! The map is built from the all-venue open interest of BTC known at T (the finest series that
//! is current, else the most recent) and the closed bars of `symbol` at the same interval:
//! only what was known at T enters it.

use canary_analytics::liqmap::backtest::{
    BacktestConfig, Day, LIQMAP_BACKTEST, LiqmapBacktest, backtest,
};
use canary_analytics::liqmap::impact::{self, ImpactFit};
use canary_analytics::liqmap::{
    Bucket, CASCADE, CascadeParams, LIQUIDATION_MAP, LiquidationMap, MapBar, MapParams, cascade,
};
use canary_model::derivatives::{DerivKind, DerivSeries, Interval, Venues};
use canary_model::{Claim, ClaimId, Symbol, Timeframe, Timestamp};
use serde::Serialize;

use super::derivatives::Valued;
use crate::context::Series;
use crate::{Context, Draft, EngineError, Input, Report};

/// What to compute.
#[derive(Debug, Clone, PartialEq)]
pub struct LiqMapParams {
    /// The bars the map's prices come from.
    pub symbol: Symbol,
    /// The map's parameters (default: the reference set).
    pub map: MapParams,
    /// Falls to simulate, as fractions (0.05 = −5 %).
    pub shocks: Vec<f64>,
    /// Prices to fall to, each simulated when below the price the map is built to.
    pub targets: Vec<f64>,
    /// Bands shown: this far from the price, in percent, in steps of 1 %.
    pub band_pct: u32,
}

/// The preferred all-venue open interest whose interval has bars of `symbol`, and the bars.
fn map_inputs(
    ctx: &Context<'_>,
    symbol: &Symbol,
) -> Result<
    (
        DerivSeries,
        Input<Series>,
        Input<crate::context::MarketBars>,
    ),
    EngineError,
> {
    let asof = ctx.asof();
    // The preferred series whose interval has bars of the symbol.
    let mut chosen = None;
    let mut no_bars = None;
    for (series, oi) in oi_inputs(ctx)? {
        let tf = timeframe_of(series.interval).expect("kept for it");
        match ctx.bars(symbol, tf) {
            Ok(bars) => {
                chosen = Some((series, oi, bars));
                break;
            }
            Err(e @ EngineError::NoBars { .. }) => no_bars = Some(e),
            Err(e) => return Err(e),
        }
    }
    let Some((series, oi, bars)) = chosen else {
        return Err(no_bars.unwrap_or(EngineError::NoDerivatives {
            what: "all-venue BTC open interest (import it: canary derivatives import)".into(),
            asof,
        }));
    };
    Ok((series, oi, bars))
}

/// USD of one side between two distances from the price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    /// Distance from the price, percent (negative below).
    pub from_pct: f64,
    pub to_pct: f64,
    pub low: f64,
    pub high: f64,
    pub usd: f64,
}

/// One cascade run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CascadeRun {
    pub params: CascadeParams,
    pub final_price: f64,
    pub liquidated_usd: f64,
    pub rounds: usize,
    pub amplification: f64,
    pub runaway: bool,
}

/// A fall of `shock` from the price, over the impact assumptions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    pub shock_pct: f64,
    pub shocked_price: f64,
    /// USD of longs the shock alone crosses.
    pub crossed_by_shock: Valued,
    pub runs: Vec<CascadeRun>,
    /// The range over the runs.
    pub final_price_low: Valued,
    pub final_price_high: Valued,
    pub liquidated_low: f64,
    pub liquidated_high: f64,
}

/// The map as of T.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiqMapBody {
    pub oi_series: DerivSeries,
    pub bars: String,
    /// The first and last bar the map was built from, and how many.
    pub from: Timestamp,
    pub to: Timestamp,
    pub steps: usize,
    pub stale: bool,
    pub price: Valued,
    pub parameters: MapParams,
    pub long_total: Valued,
    pub short_total: Valued,
    pub longs_within_5pct: Valued,
    pub longs_within_10pct: Valued,
    pub shorts_within_5pct: Valued,
    pub shorts_within_10pct: Valued,
    /// Below the price (longs) and above it (shorts), nearest first.
    pub long_bands: Vec<Band>,
    pub short_bands: Vec<Band>,
    pub scenarios: Vec<Scenario>,
    /// What the cascades' market depths rest on.
    pub impact: ImpactBasis,
    /// Each target above the price: the shorts a rise to it would cross.
    pub rises: Vec<Rise>,
    pub note: String,
}

/// A rise to a price: the estimated shorts it would liquidate (no cascade is run upwards).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rise {
    pub to: f64,
    pub crossed: Valued,
}

/// What the cascades' depths rest on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImpactBasis {
    /// Whether the depths come from a calibration (not yet: see `note`).
    pub calibrated: bool,
    /// The depths the scenarios range over, USD per 1 %.
    pub depths: Vec<f64>,
    /// The fit: its liquidations and open interest (the same venues), its days and slope.
    pub fit: Option<ImpactFit>,
    pub fit_series: Option<String>,
    pub fit_from: Option<Timestamp>,
    pub fit_to: Option<Timestamp>,
    /// The depth at the daily fit's slope, as a claim (shown, not used).
    pub depth: Option<Valued>,
    pub note: String,
}

/// The impact assumptions a scenario ranges over when no fit can be made: one-sided depth of
/// $0.4B, $0.8B and $2B per 1 % (MODELS.md §4.3–4.4: the record 1 % depth of US platforms was
/// $290M; a stressed book holds 30–50 % of a normal one).
pub const ASSUMED_DEPTHS: [f64; 3] = [0.4e9, 0.8e9, 2e9];

/// The cascade parameters over `depths` × absorption 0 and 30 %.
#[must_use]
pub fn impact_grid(depths: &[f64]) -> Vec<CascadeParams> {
    let mut out = Vec::new();
    for &depth_1pct_usd in depths {
        for absorption in [0.0, 0.3] {
            out.push(CascadeParams {
                depth_1pct_usd,
                absorption,
                epsilon_usd: 1e7,
                max_rounds: 100,
            });
        }
    }
    out
}

/// The days a daily impact fit reads: (net long liquidations / open interest, log return),
/// with the series they came from.
struct FitDays {
    points: Vec<(f64, f64)>,
    liq: DerivSeries,
    oi: DerivSeries,
    from: Timestamp,
    to: Timestamp,
}

/// For each daily liquidation series of BTC with an open-interest series of exactly its
/// venues (the finest), its days known at T.
fn fit_days(
    ctx: &Context<'_>,
    daily: &Input<crate::context::MarketBars>,
) -> Result<Vec<FitDays>, EngineError> {
    let infos = ctx.derivative_series()?;
    let mut out = Vec::new();
    for l in infos.iter().filter(|i| {
        i.series.kind == DerivKind::LongLiquidationsUsd
            && i.series.market() == "BTC"
            && i.series.interval == Interval::D1
    }) {
        let Some(oi_s) = infos
            .iter()
            .map(|i| &i.series)
            .filter(|x| {
                x.kind == DerivKind::OpenInterestUsd
                    && x.market() == "BTC"
                    && x.venues == l.series.venues
            })
            .min_by_key(|x| x.interval)
        else {
            continue;
        };
        let short_s = l.series.with_kind(DerivKind::ShortLiquidationsUsd);
        let (Some(lv), Some(sv), Some(ov)) = (
            ctx.derivatives(&l.series)?,
            ctx.derivatives(&short_s)?,
            ctx.derivatives(oi_s)?,
        ) else {
            continue;
        };
        let b = daily.bars();
        let mut points = Vec::new();
        let (mut from, mut to) = (None, None);
        for i in 1..b.candles.len() {
            let open = b.candles[i].open_time;
            let at = |s: &Series| s.binary_search_by(|x| x.0.cmp(&open)).ok().map(|k| s[k].1);
            let (Some(long), Some(short)) = (at(&lv.value), at(&sv.value)) else {
                continue;
            };
            let Some((_, oi)) = canary_analytics::derivatives::value_at(&ov.value, open)
                .filter(|(t, v)| open.millis() - t.millis() <= oi_s.interval.millis() && *v > 0.0)
            else {
                continue;
            };
            points.push((
                (long - short) / oi,
                (b.candles[i].close / b.candles[i - 1].close).ln(),
            ));
            from.get_or_insert(open);
            to = Some(open);
        }
        if let (Some(from), Some(to)) = (from, to) {
            out.push(FitDays {
                points,
                liq: l.series.clone(),
                oi: oi_s.clone(),
                from,
                to,
            });
        }
    }
    Ok(out)
}

/// Fit the daily impact on what is known at T (shown beside the assumed depths, not used) (`liqmap::impact`): for each daily liquidation
/// series of BTC with an open-interest series of exactly its venues, each day's log return of
/// `symbol` against its net long liquidations over the open interest at the day's open; the
/// pair with the most days. The depths at T are those of the slope and of its 90 % interval's
/// ends, at the all-venue open interest `oi_now`.
fn daily_fit(
    ctx: &Context<'_>,
    draft: &mut Draft,
    symbol: &Symbol,
    oi_now: (f64, &ClaimId),
) -> Result<ImpactBasis, EngineError> {
    let assumed = |why: String| ImpactBasis {
        calibrated: false,
        depths: ASSUMED_DEPTHS.to_vec(),
        fit: None,
        fit_series: None,
        fit_from: None,
        fit_to: None,
        depth: None,
        note: format!("depths assumed ($0.4B, $0.8B, $2B per 1 %): {why}"),
    };
    let daily = match ctx.bars(symbol, Timeframe::D1) {
        Ok(b) => b,
        Err(EngineError::NoBars { .. }) => return Ok(assumed("no daily bars to fit on".into())),
        Err(e) => return Err(e),
    };
    let mut best: Option<FitDays> = None;
    for days in fit_days(ctx, &daily)? {
        if best
            .as_ref()
            .is_none_or(|b| days.points.len() > b.points.len())
        {
            best = Some(days);
        }
    }
    let Some(FitDays {
        points: pts,
        liq: liq_s,
        oi: oi_s,
        from,
        to,
    }) = best
    else {
        return Ok(assumed(
            "no daily liquidations with open interest of the same venues known at the time".into(),
        ));
    };
    let Some(fit) = impact::fit(&pts) else {
        return Ok(assumed(format!("{} days are too few to fit on", pts.len())));
    };
    // Shown, not used: see the note.
    let Some(depth) = ImpactFit::depth_1pct(fit.b, oi_now.0) else {
        return Ok(assumed(format!(
            "the fitted slope ({:.3}) is not negative: forced selling showed no impact on these days",
            fit.b
        )));
    };
    draft.uses(&daily);
    let series = format!("{liq_s} and its short side over {oi_s}");
    let depth = derived(
        draft,
        Claim::derived(
            "market depth: USD of forced selling that moves the price 1 % (daily fit)",
            depth,
            "USD",
            draft.as_of,
            impact::DAILY_IMPACT
                .of(&[oi_now.1])
                .param("series", &series)
                .param("days", fit.n)
                .param("slope", fit.b)
                .param("se", fit.se_b)
                .param("from", from)
                .param("to", to),
        ),
    );
    let d = depth.value;
    Ok(ImpactBasis {
        calibrated: false,
        depths: ASSUMED_DEPTHS.to_vec(),
        fit: Some(fit),
        fit_series: Some(series),
        fit_from: Some(from),
        fit_to: Some(to),
        depth: Some(depth),
        note: format!(
            "market depth assumed ($0.4B, $0.8B, $2B per 1 %); a daily fit of returns on net liquidations over open interest ({} days) gives ${:.0}M per 1 %, shown and not used: on a day a fall liquidates longs as much as liquidations make a fall, so the fit overstates the impact, and intraday liquidations (which the live sources now record) are needed to calibrate it",
            fit.n,
            d / 1e6
        ),
    })
}

fn timeframe_of(i: Interval) -> Option<Timeframe> {
    Timeframe::ALL
        .into_iter()
        .find(|t| t.duration_ms() == i.millis())
}

/// The all-venue BTC open interest series known at T, most preferred first: current ones
/// before stale ones, then the finest interval (current) or the most recent value (stale);
/// only intervals that are a bar timeframe.
fn oi_inputs(ctx: &Context<'_>) -> Result<Vec<(DerivSeries, Input<Series>)>, EngineError> {
    let mut found = Vec::new();
    for info in ctx.derivative_series()? {
        let s = info.series;
        if s.kind != DerivKind::OpenInterestUsd
            || s.venues != Venues::All
            || s.market() != "BTC"
            || timeframe_of(s.interval).is_none()
        {
            continue;
        }
        if let Some(input) = ctx.derivatives(&s)? {
            found.push((s, input));
        }
    }
    found.sort_by(|(sa, ia), (sb, ib)| {
        ia.is_stale().cmp(&ib.is_stale()).then_with(|| {
            if ia.is_stale() {
                ib.last_time.cmp(&ia.last_time)
            } else {
                sa.interval.cmp(&sb.interval)
            }
        })
    });
    Ok(found)
}

fn bands(buckets: &[Bucket], price: f64, below: bool, band_pct: u32) -> Vec<Band> {
    (0..band_pct)
        .map(|k| {
            let (a, b) = (f64::from(k), f64::from(k + 1));
            let (from_pct, to_pct) = if below { (-a, -b) } else { (a, b) };
            let (p1, p2) = (
                price * (1.0 + from_pct / 100.0),
                price * (1.0 + to_pct / 100.0),
            );
            let (low, high) = (p1.min(p2), p1.max(p2));
            let usd = buckets
                .iter()
                .map(|x| (f64::midpoint(x.low, x.high), x.usd))
                .filter(|(m, _)| *m >= low && *m < high)
                .fold(0.0, |a, (_, u)| a + u);
            Band {
                from_pct,
                to_pct,
                low,
                high,
                usd,
            }
        })
        .collect()
}

fn derived(draft: &mut Draft, c: Claim) -> Valued {
    Valued {
        value: c.value,
        claim: draft.add(c),
    }
}

/// The liquidation map as of T, with cascade scenarios.
///
/// # Errors
/// [`EngineError::NoDerivatives`] when no all-venue BTC open interest is known at T, or no
/// bars of `symbol` at its interval; a database error.
pub fn liquidation_map(
    ctx: &Context<'_>,
    p: &LiqMapParams,
) -> Result<Report<LiqMapBody>, EngineError> {
    let mut draft = Draft::new(ctx.asof());
    let asof = ctx.asof();
    let (series, oi, bars) = map_inputs(ctx, &p.symbol)?;
    draft.uses(&oi);
    draft.uses(&bars);
    let b = bars.bars();
    let mut m = LiquidationMap::new(p.map.clone());
    let mut steps = 0;
    let mut j = 0;
    let (mut first, mut last) = (None, None);
    for (i, c) in b.candles.iter().enumerate() {
        let close_t = b.close_time(i);
        while j < oi.value.len() && oi.value[j].0 < close_t {
            j += 1;
        }
        if j < oi.value.len() && oi.value[j].0 == close_t {
            m.step(&MapBar {
                close_ms: close_t.millis(),
                oi_usd: oi.value[j].1,
                high: c.high,
                low: c.low,
                close: c.close,
            });
            steps += 1;
            first.get_or_insert(i);
            last = Some(i);
        }
    }
    let (Some(first), Some(last)) = (first, last) else {
        return Err(EngineError::NoDerivatives {
            what: format!("{} bars at the times of {series}", b.name()),
            asof,
        });
    };
    let price_v = b.candles[last].close;
    let price = draft.add(b.claim(
        format!("{} close the map is built to", p.symbol),
        "close",
        last,
        price_v,
        "USD",
        asof,
    ));
    let oi_last = oi.value.partition_point(|(t, _)| *t <= b.close_time(last)) - 1;
    let (t_oi, v_oi) = oi.value[oi_last];
    let oi_claim = draft.add(Claim::data(
        "open interest the map is built to",
        v_oi,
        "USD",
        asof,
        &oi.series,
        &oi.source,
        t_oi,
    ));
    let map = |label: &str, v: f64, draft: &mut Draft| {
        derived(
            draft,
            Claim::derived(
                label,
                v,
                "USD",
                asof,
                LIQUIDATION_MAP
                    .of(&[&oi_claim, &price])
                    .param("steps", steps)
                    .param("decay_days", p.map.decay_days)
                    .param("mmr", p.map.mmr)
                    .param("long_share", p.map.long_share),
            ),
        )
    };
    let (lt, st) = m.totals();
    let long_total = map("estimated longs on the map", lt, &mut draft);
    let short_total = map("estimated shorts on the map", st, &mut draft);
    let longs_within_5pct = map(
        "estimated longs liquidated by a fall of 5 %",
        m.long_usd_above(price_v * 0.95),
        &mut draft,
    );
    let longs_within_10pct = map(
        "estimated longs liquidated by a fall of 10 %",
        m.long_usd_above(price_v * 0.90),
        &mut draft,
    );
    let shorts_within_5pct = map(
        "estimated shorts liquidated by a rise of 5 %",
        m.short_usd_below(price_v * 1.05),
        &mut draft,
    );
    let shorts_within_10pct = map(
        "estimated shorts liquidated by a rise of 10 %",
        m.short_usd_below(price_v * 1.10),
        &mut draft,
    );
    let longs = m.longs();
    let shocks = p.shocks.iter().copied().chain(
        p.targets
            .iter()
            .filter(|&&t| t > 0.0 && t < price_v)
            .map(|&t| 1.0 - t / price_v),
    );
    let impact = daily_fit(ctx, &mut draft, &p.symbol, (v_oi, &oi_claim))?;
    let scenarios = shocks
        .map(|s| scenario(&mut draft, &longs, price_v, s, &long_total, &impact.depths))
        .collect();
    let rises = p
        .targets
        .iter()
        .filter(|&&t| t > price_v && t.is_finite())
        .map(|&to| Rise {
            to,
            crossed: derived(
                &mut draft,
                Claim::derived(
                    format!("estimated shorts crossed by a rise to {to}"),
                    m.short_usd_below(to),
                    "USD",
                    asof,
                    LIQUIDATION_MAP.of(&[&short_total.claim]).param("to", to),
                ),
            ),
        })
        .collect();
    draft.finish(LiqMapBody {
        oi_series: series,
        bars: b.name(),
        from: b.close_time(first),
        to: b.close_time(last),
        steps,
        stale: oi.is_stale() || bars.is_stale(),
        price: Valued {
            value: price_v,
            claim: price,
        },
        parameters: p.map.clone(),
        long_total,
        short_total,
        longs_within_5pct,
        longs_within_10pct,
        shorts_within_5pct,
        shorts_within_10pct,
        long_bands: bands(&longs, price_v, true, p.band_pct),
        short_bands: bands(&m.shorts(), price_v, false, p.band_pct),
        scenarios,
        impact,
        rises,
        note: "An estimate of where positions would be liquidated, from open interest and prices alone (no venue publishes positions); its judgement against null models is in docs/liquidation-map.md. Cascades are scenarios over assumed market depth, never forecasts.".into(),
    })
}

fn scenario(
    draft: &mut Draft,
    longs: &[Bucket],
    p0: f64,
    shock: f64,
    total: &Valued,
    depths: &[f64],
) -> Scenario {
    let asof = draft.as_of;
    let runs: Vec<CascadeRun> = impact_grid(depths)
        .into_iter()
        .map(|params| {
            let c = cascade(longs, p0, shock, &params);
            CascadeRun {
                params,
                final_price: c.final_price,
                liquidated_usd: c.liquidated_usd,
                rounds: c.rounds,
                amplification: c.amplification,
                runaway: c.runaway,
            }
        })
        .collect();
    let shocked = p0 * (1.0 - shock);
    let crossed: f64 = longs
        .iter()
        .filter(|b| f64::midpoint(b.low, b.high) >= shocked)
        .map(|b| b.usd)
        .sum();
    let pct = shock * 100.0;
    let crossed_by_shock = derived(
        draft,
        Claim::derived(
            format!("estimated longs crossed by a fall of {pct} %"),
            crossed,
            "USD",
            asof,
            LIQUIDATION_MAP.of(&[&total.claim]).param("fall_pct", pct),
        ),
    );
    let lo = runs
        .iter()
        .map(|r| r.final_price)
        .fold(f64::INFINITY, f64::min);
    let hi = runs
        .iter()
        .map(|r| r.final_price)
        .fold(f64::NEG_INFINITY, f64::max);
    let claim = |label: String, v: f64, draft: &mut Draft| {
        derived(
            draft,
            Claim::derived(
                label,
                v,
                "USD",
                asof,
                CASCADE
                    .of(&[&crossed_by_shock.claim])
                    .param("fall_pct", pct)
                    .param(
                        "depth_1pct_usd",
                        depths
                            .iter()
                            .map(|d| format!("{d:.3e}"))
                            .collect::<Vec<_>>()
                            .join(","),
                    )
                    .param("absorption", "0..0.3"),
            ),
        )
    };
    let final_price_low = claim(
        format!("scenario: price after a {pct} % fall and its cascade, deepest"),
        lo,
        draft,
    );
    let final_price_high = claim(
        format!("scenario: price after a {pct} % fall and its cascade, shallowest"),
        hi,
        draft,
    );
    Scenario {
        shock_pct: pct,
        shocked_price: shocked,
        liquidated_low: runs
            .iter()
            .map(|r| r.liquidated_usd)
            .fold(f64::INFINITY, f64::min),
        liquidated_high: runs.iter().map(|r| r.liquidated_usd).fold(0.0, f64::max),
        crossed_by_shock,
        runs,
        final_price_low,
        final_price_high,
    }
}

/// The backtest's body: the result and what it was run on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiqmapBacktestBody {
    pub oi_series: String,
    pub bars: String,
    pub realised: String,
    pub from: Timestamp,
    pub to: Timestamp,
    pub config: BacktestConfig,
    pub result: LiqmapBacktest,
    pub lift_long: Option<Valued>,
    pub lift_short: Option<Valued>,
}

/// The map against the null models, walk-forward, on the daily all-venue open interest, the
/// daily bars of `symbol` and the realised liquidations of `venues`, as known at T.
///
/// # Errors
/// [`EngineError::NoDerivatives`] when a series is missing; a database error.
pub fn liqmap_backtest(
    ctx: &Context<'_>,
    symbol: &Symbol,
    venues: &Venues,
    config: &BacktestConfig,
) -> Result<Report<LiqmapBacktestBody>, EngineError> {
    let asof = ctx.asof();
    let mut draft = Draft::new(asof);
    let key = |kind, market: &str, v: Venues| {
        DerivSeries::new(kind, market, v, Interval::D1).expect("a valid series")
    };
    let need = |s: &DerivSeries| -> Result<Input<Series>, EngineError> {
        ctx.derivatives(s)?
            .ok_or_else(|| EngineError::NoDerivatives {
                what: s.to_string(),
                asof,
            })
    };
    let oi_s = key(DerivKind::OpenInterestUsd, "BTC", Venues::All);
    let long_s = key(DerivKind::LongLiquidationsUsd, "BTC", venues.clone());
    let short_s = long_s.with_kind(DerivKind::ShortLiquidationsUsd);
    let (oi, longs, shorts) = (need(&oi_s)?, need(&long_s)?, need(&short_s)?);
    let bars = ctx.bars(symbol, Timeframe::D1)?;
    for i in [&oi, &longs, &shorts] {
        draft.uses(i);
    }
    draft.uses(&bars);
    let b = bars.bars();
    let find = |s: &Series, t: Timestamp| s.binary_search_by(|x| x.0.cmp(&t)).ok().map(|k| s[k].1);
    let mut days = Vec::new();
    for (i, c) in b.candles.iter().enumerate() {
        let Some(v) = find(&oi.value, b.close_time(i)) else {
            if days.is_empty() {
                continue;
            }
            break;
        };
        let realised = find(&longs.value, c.open_time).zip(find(&shorts.value, c.open_time));
        days.push(Day {
            open_ms: c.open_time.millis(),
            high: c.high,
            low: c.low,
            close: c.close,
            oi_usd: v,
            realised,
        });
    }
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Err(EngineError::NoDerivatives {
            what: format!("{} bars at the times of {oi_s}", b.name()),
            asof,
        });
    };
    let (from, to) = (
        Timestamp::from_millis(first.open_ms),
        Timestamp::from_millis(last.open_ms),
    );
    let result = backtest(&days, config);
    let lift =
        |l: Option<canary_analytics::liqmap::backtest::Lift>, side: &str, draft: &mut Draft| {
            l.map(|l| {
                derived(
                    draft,
                    Claim::derived(
                        format!("{side} liquidations: map overlap / volatility-cone overlap"),
                        l.point,
                        "ratio",
                        asof,
                        LIQMAP_BACKTEST
                            .of(&[])
                            .param("oi", &oi_s)
                            .param("realised", venues)
                            .param("from", from)
                            .param("to", to)
                            .param("interval_90", format!("{:.3}..{:.3}", l.lo, l.hi)),
                    ),
                )
            })
        };
    let lift_long = lift(result.long.lift_over_cone, "long", &mut draft);
    let lift_short = lift(result.short.lift_over_cone, "short", &mut draft);
    draft.finish(LiqmapBacktestBody {
        oi_series: oi_s.to_string(),
        bars: b.name(),
        realised: format!("{long_s} and {short_s}"),
        from,
        to,
        config: config.clone(),
        result,
        lift_long,
        lift_short,
    })
}
