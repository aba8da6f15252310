//! `canary backtest levels`: how often price bounces at the levels, against random zones.

use std::path::Path;

use anyhow::{Result, bail};
use canary_analytics::levels::{BacktestParams, backtest_levels};
use canary_store::Store;

use super::market::load;
use crate::cli::{BacktestArgs, BacktestWhat};
use crate::output::{SIMULATED, progress};

pub fn run(db: &Path, a: &BacktestArgs) -> Result<()> {
    match &a.what {
        BacktestWhat::Levels(l) => {
            let store = Store::open(db)?;
            let asof = l.to.unwrap_or_else(super::now);
            let loaded = load(&store, &l.symbol, l.tf, asof)?;
            let candles: Vec<_> = loaded
                .candles
                .into_iter()
                .filter(|c| l.from.is_none_or(|f| c.open_time >= f))
                .collect();
            if candles.len() < 200 {
                bail!(
                    "{} {} has {} bars in the range; the backtest needs at least 200",
                    l.symbol,
                    l.tf,
                    candles.len()
                );
            }
            if loaded.simulated {
                eprintln!("{SIMULATED}");
            }
            let params = BacktestParams {
                k: l.k,
                lookback: l.lookback,
                horizon: l.horizon,
                seed: l.seed,
                ..BacktestParams::default()
            };
            let pb = progress(candles.len() as u64, "walking forward");
            let r = backtest_levels(&candles, &params, |done, total| {
                pb.set_length(total as u64);
                pb.set_position(done as u64);
            });
            pb.finish_and_clear();
            println!(
                "{} {} {} → {}: {} bars walked forward (k={}, lookback {} bars, bounce = 1 ATR within {} bars, seed {})",
                l.symbol,
                l.tf,
                candles[0].open_time,
                candles[candles.len() - 1].open_time,
                r.bars_tested,
                params.k,
                params.lookback,
                params.horizon,
                params.seed
            );
            println!(
                "levels: {} touches, {} bounces, hit rate {:.1}%\nrandom zones (same width, permuted distances): {} touches, {} bounces, baseline {:.1}%\nlift {:.2}",
                r.touches,
                r.bounces,
                r.hit_rate() * 100.0,
                r.baseline_touches,
                r.baseline_bounces,
                r.baseline_rate() * 100.0,
                r.lift()
            );
        }
    }
    Ok(())
}
