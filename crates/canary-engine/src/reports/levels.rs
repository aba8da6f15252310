//! `levels`: supports, resistances and the trapdoor per timeframe, placed around the latest
//! price of the finest timeframe asked for (`canary_analytics::levels`).

use canary_analytics::levels::{LevelParams, LevelReport, find_levels};
use canary_analytics::stats::quote_unit;
use canary_model::{Symbol, Timeframe};
use serde::Serialize;

use crate::{Context, Draft, EngineError, Report};

/// What to compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelsParams {
    pub symbol: Symbol,
    /// At least one.
    pub timeframes: Vec<Timeframe>,
    /// Bars each side of a swing pivot.
    pub k: usize,
    /// Bars of history used for pivots and the volume profile.
    pub lookback: usize,
}

/// Levels of each timeframe.
#[derive(Debug, Clone, Serialize)]
pub struct LevelsBody {
    pub symbol: Symbol,
    pub levels: Vec<LevelReport>,
}

/// Levels as of the context's time.
///
/// # Errors
/// No timeframe given, a pivot width or lookback out of range, too few bars, no bars; a
/// database error.
pub fn levels(ctx: &Context<'_>, p: &LevelsParams) -> Result<Report<LevelsBody>, EngineError> {
    let Some(&finest) = p.timeframes.iter().min() else {
        return Err(EngineError::param(
            "timeframes",
            "none",
            "give at least one timeframe",
        ));
    };
    if p.k == 0 {
        return Err(EngineError::param(
            "k",
            p.k,
            "a pivot needs at least 1 bar each side",
        ));
    }
    let mut draft = Draft::new(ctx.asof());
    let fine = ctx.bars(&p.symbol, finest)?;
    draft.uses(&fine);
    let fb = fine.bars();
    let last = fb.candles.len() - 1;
    let current = fb.claim(
        "last price",
        "close",
        last,
        fb.candles[last].close,
        quote_unit(&p.symbol),
        ctx.asof(),
    );
    let mut out = Vec::new();
    for tf in &p.timeframes {
        let bars = ctx.bars(&p.symbol, *tf)?;
        draft.uses(&bars);
        let params = LevelParams {
            k: p.k,
            lookback: p.lookback,
            ..LevelParams::default()
        };
        let r = find_levels(&bars.bars(), &params, ctx.asof(), Some(&current))?;
        draft.claims.extend(r.claims.clone());
        out.push(r);
    }
    draft.finish(LevelsBody {
        symbol: p.symbol.clone(),
        levels: out,
    })
}
