//! `stats`: market statistics of an instrument as of T (`canary_analytics::stats`), from its
//! intraday bars (last price, 24 h change, intraday RSI) and its daily bars (moves in σ,
//! volatility, daily RSI, volume), each the freshest the context knows.

use canary_analytics::stats::{Stat, market_stats};
use canary_model::{Symbol, Timeframe};
use serde::Serialize;

use crate::{Context, Draft, EngineError, Report};

/// What to compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsParams {
    pub symbol: Symbol,
    /// The timeframe of the last price, the 24 h change and the intraday RSI.
    pub intraday: Timeframe,
}

/// A statistic that could not be computed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    pub key: String,
    pub reason: String,
}

/// The statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsBody {
    pub symbol: Symbol,
    pub stats: Vec<Stat>,
    pub missing: Vec<Missing>,
}

/// Market statistics as of the context's time.
///
/// # Errors
/// No bars of either timeframe (stored or buildable); a database error.
pub fn stats(ctx: &Context<'_>, p: &StatsParams) -> Result<Report<StatsBody>, EngineError> {
    let mut draft = Draft::new(ctx.asof());
    let intraday = ctx.bars(&p.symbol, p.intraday)?;
    let daily = ctx.bars(&p.symbol, Timeframe::D1)?;
    draft.uses(&intraday);
    draft.uses(&daily);
    let m = market_stats(&intraday.bars(), &daily.bars(), ctx.asof());
    draft.claims.extend(m.claims);
    draft.finish(StatsBody {
        symbol: p.symbol.clone(),
        stats: m.stats,
        missing: m
            .missing
            .into_iter()
            .map(|(k, r)| Missing {
                key: k.to_string(),
                reason: r,
            })
            .collect(),
    })
}
