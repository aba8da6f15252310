//! `canary backtest levels`: render the engine's walk-forward bounce rates.

use canary_engine::Session;

use anyhow::Result;
use canary_engine::BacktestLevelsParams;

use canary_analytics::levels::Variant;

use crate::cli::{BacktestArgs, BacktestWhat, LevelVariant, OutputFormat};
use crate::output::{preamble, print_json, progress};

pub fn run(session: &Session, a: &BacktestArgs) -> Result<()> {
    let l = match &a.what {
        BacktestWhat::Levels(l) => l,
        BacktestWhat::Scores(s) => return super::score::backtest(session, s),
    };
    let p = BacktestLevelsParams {
        symbol: l.symbol.clone(),
        timeframe: l.tf,
        from: l.from,
        k: l.k,
        lookback: l.lookback,
        horizon: l.horizon,
        seeds: l.seeds,
        reps: l.reps,
        variant: match l.variant {
            LevelVariant::Nearest => Variant::Nearest,
            LevelVariant::Touched => Variant::Touched,
            LevelVariant::Volume => Variant::Volume,
            LevelVariant::Confluence => Variant::Confluence,
            LevelVariant::Strong => Variant::Strong,
            LevelVariant::AtrZone => Variant::AtrZone,
            LevelVariant::Avwap => Variant::Avwap,
        },
        per_side: 10,
    };
    let pb = progress(0, "walking forward");
    let r = super::with_context(session, l.to, |ctx| {
        canary_engine::backtest_levels(ctx, &p, |done, total| {
            pb.set_length(total as u64);
            pb.set_position(done as u64);
        })
    });
    pb.finish_and_clear();
    let r = r?;
    if l.format == OutputFormat::Json {
        return print_json(&r);
    }
    preamble(&r);
    let b = &r.body;
    println!(
        "{} {} {} → {}: {} bars walked forward (variant {}, k={}, lookback {} bars, outcome within {} bars, {} baseline seeds)",
        b.symbol,
        b.timeframe,
        b.from,
        b.to,
        b.bars_tested,
        b.variant,
        b.k,
        b.lookback,
        b.horizon,
        b.seeds
    );
    let line = |name: &str, t: &canary_analytics::levels::Tally| {
        println!(
            "{name}: {} touches, {} bounces ({:.1}%), {} breaks ({:.1}%)",
            t.touches,
            t.bounces,
            t.rate() * 100.0,
            t.breaks,
            100.0 * t.breaks as f64 / t.touches.max(1) as f64
        );
    };
    line("levels", &b.levels);
    line("random zones (ATR-scaled, pooled)", &b.baseline);
    println!(
        "lift {:.3}, 90% interval {}, by seed {:.3}–{:.3}; mean zone width {:.2} ATR",
        b.lift,
        b.lift_interval
            .map_or_else(|| "n/a".into(), |(a, c)| format!("[{a:.3}, {c:.3}]")),
        b.lift_by_seed.0,
        b.lift_by_seed.1,
        b.mean_zone_atr
    );
    Ok(())
}
