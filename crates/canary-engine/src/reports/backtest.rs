//! `backtest_levels`: the walk-forward bounce rate at support/resistance levels against random
//! zones of the same widths (`canary_analytics::levels::backtest`), as claims.

use canary_analytics::levels::{BASELINE_RATE, BOUNCE_RATE, BacktestParams, RATIO};
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
    /// Bars after a touch in which the 1-ATR bounce must happen.
    pub horizon: usize,
    /// Seed of the random baseline zones.
    pub seed: u64,
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
    pub seed: u64,
    pub bars_tested: usize,
    pub touches: usize,
    pub bounces: usize,
    pub hit_rate: f64,
    pub hit_rate_claim: ClaimId,
    pub baseline_touches: usize,
    pub baseline_bounces: usize,
    pub baseline_rate: f64,
    pub baseline_claim: ClaimId,
    pub lift: f64,
    pub lift_claim: ClaimId,
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
        k: p.k,
        lookback: p.lookback,
        horizon: p.horizon,
        seed: p.seed,
        ..BacktestParams::default()
    };
    let r = canary_analytics::levels::backtest_levels(&candles, &params, progress);
    let (first, last) = (candles[0].open_time, candles[candles.len() - 1].open_time);
    let with_params = |d: Derivation| {
        d.param("symbol", &p.symbol)
            .param("timeframe", p.timeframe)
            .param("from", first)
            .param("to", last)
            .param("k", params.k)
            .param("lookback_bars", params.lookback)
            .param("horizon_bars", params.horizon)
            .param("seed", params.seed)
    };
    let asof = ctx.asof();
    let hit = draft.add(Claim::derived(
        format!("level bounce rate ({} touches)", r.touches),
        r.hit_rate(),
        "fraction",
        asof,
        with_params(BOUNCE_RATE.of(&[])),
    ));
    let base = draft.add(Claim::derived(
        format!("random-zone bounce rate ({} touches)", r.baseline_touches),
        r.baseline_rate(),
        "fraction",
        asof,
        with_params(BASELINE_RATE.of(&[])),
    ));
    let lift = draft.add(Claim::derived(
        "lift (bounce rate / baseline)",
        r.lift(),
        "×",
        asof,
        RATIO.of(&[&hit, &base]),
    ));
    draft.finish(BacktestBody {
        symbol: p.symbol.clone(),
        timeframe: p.timeframe,
        from: first,
        to: last,
        k: params.k,
        lookback: params.lookback,
        horizon: params.horizon,
        seed: params.seed,
        bars_tested: r.bars_tested,
        touches: r.touches,
        bounces: r.bounces,
        hit_rate: r.hit_rate(),
        hit_rate_claim: hit,
        baseline_touches: r.baseline_touches,
        baseline_bounces: r.baseline_bounces,
        baseline_rate: r.baseline_rate(),
        baseline_claim: base,
        lift: r.lift(),
        lift_claim: lift,
    })
}
