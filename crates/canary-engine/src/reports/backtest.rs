//! `backtest_levels`: the walk-forward bounce rate at support/resistance levels against random
//! zones of the same widths (`canary_analytics::levels::backtest`), as claims.

use canary_analytics::levels::{
    BASELINE_RATE, BOUNCE_RATE, BacktestParams, LevelParams, RATIO, Tally, Variant,
};
use canary_model::{Claim, ClaimId, Derivation, Symbol, Timeframe, Timestamp};
use serde::Serialize;

use crate::{Context, Draft, EngineError, Report};

/// What to test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacktestLevelsParams {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    /// First bar (open time) to walk from; the whole history when `None`.
    pub from: Option<Timestamp>,
    pub k: usize,
    pub lookback: usize,
    /// Bars from a touch in which its outcome is decided.
    pub horizon: usize,
    /// Seeds of the random baseline zones (1..=seeds), pooled.
    pub seeds: u64,
    /// Bootstrap resamples for the lift's interval.
    pub reps: usize,
    /// Which reported level is tested on each side.
    pub variant: Variant,
    /// Levels reported per side that the variant chooses from.
    pub per_side: usize,
}

/// The fewest bars a backtest runs on.
pub const MIN_BARS: usize = 200;

/// The measured rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestBody {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    /// Open time of the first and last bar walked.
    pub from: Timestamp,
    pub to: Timestamp,
    pub k: usize,
    pub lookback: usize,
    pub horizon: usize,
    pub seeds: u64,
    pub variant: &'static str,
    pub bars_tested: usize,
    /// Touches, bounces and breaks at the levels, and at the random zones (pooled).
    pub levels: Tally,
    pub hit_rate: f64,
    pub hit_rate_claim: ClaimId,
    pub baseline: Tally,
    pub baseline_rate: f64,
    pub baseline_claim: ClaimId,
    pub lift: f64,
    pub lift_claim: ClaimId,
    /// 90 % moving-block bootstrap interval of the lift.
    pub lift_interval: Option<(f64, f64)>,
    /// The lift against each seed's baseline alone: lowest and highest.
    pub lift_by_seed: (f64, f64),
    pub mean_zone_atr: f64,
}

/// Walk forward over the bars available at the context's time; `progress(done, total)` is
/// called as it goes.
///
/// # Errors
/// Fewer than [`MIN_BARS`] bars in the range, no bars; a database error.
pub fn backtest_levels(
    ctx: &Context<'_>,
    p: &BacktestLevelsParams,
    progress: impl FnMut(usize, usize),
) -> Result<Report<BacktestBody>, EngineError> {
    let mut draft = Draft::new(ctx.asof());
    let bars = ctx.bars(&p.symbol, p.timeframe)?;
    draft.uses(&bars);
    let candles: Vec<_> = bars
        .value
        .candles
        .iter()
        .filter(|c| p.from.is_none_or(|f| c.open_time >= f))
        .copied()
        .collect();
    if candles.len() < MIN_BARS {
        return Err(EngineError::Empty(format!(
            "{} {} has {} bars in the range; the backtest needs at least {MIN_BARS}",
            p.symbol,
            p.timeframe,
            candles.len()
        )));
    }
    let params = BacktestParams {
        levels: LevelParams {
            k: p.k,
            lookback: p.lookback,
            per_side: p.per_side,
            ..LevelParams::default()
        },
        variant: p.variant,
        horizon: p.horizon,
        seeds: p.seeds,
        reps: p.reps,
        ..BacktestParams::default()
    };
    let r = canary_analytics::levels::backtest_levels(
        &p.symbol,
        p.timeframe,
        &candles,
        &params,
        progress,
    );
    let (first, last) = (candles[0].open_time, candles[candles.len() - 1].open_time);
    let with_params = |d: Derivation| {
        d.param("symbol", &p.symbol)
            .param("timeframe", p.timeframe)
            .param("from", first)
            .param("to", last)
            .param("k", params.levels.k)
            .param("lookback_bars", params.levels.lookback)
            .param("horizon_bars", params.horizon)
            .param("seeds", params.seeds)
            .param("variant", params.variant.name())
    };
    let asof = ctx.asof();
    let hit = draft.add(Claim::derived(
        format!("level bounce rate ({} touches)", r.levels.touches),
        r.levels.rate(),
        "fraction",
        asof,
        with_params(BOUNCE_RATE.of(&[])),
    ));
    let base = draft.add(Claim::derived(
        format!("random-zone bounce rate ({} touches)", r.baseline.touches),
        r.baseline.rate(),
        "fraction",
        asof,
        with_params(BASELINE_RATE.of(&[])),
    ));
    let lift = draft.add(Claim::derived(
        "lift (bounce rate / baseline)",
        r.lift,
        "×",
        asof,
        RATIO.of(&[&hit, &base]),
    ));
    draft.finish(BacktestBody {
        symbol: p.symbol.clone(),
        timeframe: p.timeframe,
        from: first,
        to: last,
        k: params.levels.k,
        lookback: params.levels.lookback,
        horizon: params.horizon,
        seeds: params.seeds,
        variant: params.variant.name(),
        bars_tested: r.bars_tested,
        levels: r.levels,
        hit_rate: r.levels.rate(),
        hit_rate_claim: hit,
        baseline: r.baseline,
        baseline_rate: r.baseline.rate(),
        baseline_claim: base,
        lift: r.lift,
        lift_claim: lift,
        lift_interval: r.lift_interval,
        lift_by_seed: r.lift_by_seed,
        mean_zone_atr: r.mean_zone_atr,
    })
}
