//! `canary backtest levels`: render the engine's walk-forward bounce rates.

use std::path::Path;

use anyhow::Result;
use canary_engine::BacktestLevelsParams;

use crate::cli::{BacktestArgs, BacktestWhat, ReportFormat};
use crate::output::{preamble, print_json, progress};

pub fn run(db: &Path, a: &BacktestArgs) -> Result<()> {
    let l = match &a.what {
        BacktestWhat::Levels(l) => l,
        BacktestWhat::Scores(s) => return super::score::backtest(db, s),
    };
    let p = BacktestLevelsParams {
        symbol: l.symbol.clone(),
        timeframe: l.tf,
        from: l.from,
        k: l.k,
        lookback: l.lookback,
        horizon: l.horizon,
        seed: l.seed,
    };
    let pb = progress(0, "walking forward");
    let r = super::with_context(db, l.to, |ctx| {
        canary_engine::backtest_levels(ctx, &p, |done, total| {
            pb.set_length(total as u64);
            pb.set_position(done as u64);
        })
    });
    pb.finish_and_clear();
    let r = r?;
    if l.format == ReportFormat::Json {
        return print_json(&r);
    }
    preamble(&r);
    let b = &r.body;
    println!(
        "{} {} {} → {}: {} bars walked forward (k={}, lookback {} bars, bounce = 1 ATR within {} bars, seed {})",
        b.symbol, b.timeframe, b.from, b.to, b.bars_tested, b.k, b.lookback, b.horizon, b.seed
    );
    println!(
        "levels: {} touches, {} bounces, hit rate {:.1}%\nrandom zones (same width, permuted distances): {} touches, {} bounces, baseline {:.1}%\nlift {:.2}",
        b.touches,
        b.bounces,
        b.hit_rate * 100.0,
        b.baseline_touches,
        b.baseline_bounces,
        b.baseline_rate * 100.0,
        b.lift
    );
    Ok(())
}
