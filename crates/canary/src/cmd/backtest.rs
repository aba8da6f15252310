//! `canary backtest levels`: how often price bounces at the levels, against random zones.

use std::path::Path;

use anyhow::{Result, bail};
use canary_analytics::levels::{BacktestParams, backtest_levels};
use canary_store::Store;

use super::market::load;
use canary_model::{Claim, ClaimSet};

use crate::cli::{BacktestArgs, BacktestWhat, ReportFormat};
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
            let simulated = loaded.simulated;
            if simulated {
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
            let first = candles[0].open_time;
            let last = candles[candles.len() - 1].open_time;
            if l.format == ReportFormat::Json {
                let params_kv = [
                    ("symbol", l.symbol.to_string()),
                    ("timeframe", l.tf.to_string()),
                    ("from", first.to_string()),
                    ("to", last.to_string()),
                    ("k", params.k.to_string()),
                    ("lookback_bars", params.lookback.to_string()),
                    ("horizon_bars", params.horizon.to_string()),
                    ("seed", params.seed.to_string()),
                ];
                let mut claims = ClaimSet::new();
                #[allow(clippy::cast_precision_loss)]
                let hit = claims.add(Claim::derived(
                    format!("level bounce rate ({} touches)", r.touches),
                    r.hit_rate(),
                    "fraction",
                    asof,
                    "backtest_levels_bounce",
                    1,
                    &params_kv,
                    &[],
                ));
                let base = claims.add(Claim::derived(
                    format!("random-zone bounce rate ({} touches)", r.baseline_touches),
                    r.baseline_rate(),
                    "fraction",
                    asof,
                    "backtest_levels_baseline",
                    1,
                    &params_kv,
                    &[],
                ));
                let lift = claims.add(Claim::derived(
                    "lift (bounce rate / baseline)",
                    r.lift(),
                    "×",
                    asof,
                    "ratio",
                    1,
                    &[],
                    &[&hit, &base],
                ));
                let doc = serde_json::json!({
                    "symbol": l.symbol.as_str(), "timeframe": l.tf.as_str(), "from": first.to_string(), "to": last.to_string(),
                    "simulated": simulated, "bars_tested": r.bars_tested,
                    "touches": r.touches, "bounces": r.bounces, "hit_rate": r.hit_rate(), "hit_rate_claim": hit,
                    "baseline_touches": r.baseline_touches, "baseline_bounces": r.baseline_bounces,
                    "baseline_rate": r.baseline_rate(), "baseline_claim": base, "lift": r.lift(), "lift_claim": lift,
                    "claims": claims,
                });
                println!("{}", serde_json::to_string_pretty(&doc)?);
                return Ok(());
            }
            println!(
                "{} {} {first} → {last}: {} bars walked forward (k={}, lookback {} bars, bounce = 1 ATR within {} bars, seed {})",
                l.symbol,
                l.tf,
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
