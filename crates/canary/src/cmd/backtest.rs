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
        BacktestWhat::Liqmap(m) => return liqmap(session, m),
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

fn liqmap(session: &Session, a: &crate::cli::BacktestLiqmapArgs) -> Result<()> {
    let config = canary_analytics::liqmap::backtest::BacktestConfig {
        resamples: a.reps,
        ..canary_analytics::liqmap::backtest::BacktestConfig::protocol()
    };
    let r = super::with_context(session, a.to, |ctx| {
        canary_engine::liqmap_backtest(ctx, &a.symbol, &a.venues, &config)
    })?;
    if a.format == OutputFormat::Json {
        return print_json(&r);
    }
    preamble(&r);
    let b = &r.body;
    println!(
        "Liquidation map against null models, walk-forward: {} and {} from {} to {}, judged on {}",
        b.oi_series, b.bars, b.from, b.to, b.realised
    );
    let mut t = crate::output::table();
    t.set_header(["fold", "days", "map: max leverage, decay", "cone k"]);
    for f in &b.result.folds {
        t.add_row([
            format!(
                "{} → {}",
                &canary_model::Timestamp::from_millis(f.start_ms).to_string()[..10],
                &canary_model::Timestamp::from_millis(f.end_ms).to_string()[..10]
            ),
            f.days.to_string(),
            format!("{}x, {} days", f.max_leverage, f.decay_days),
            f.cone_k.to_string(),
        ]);
    }
    println!("{t}");
    let mut t = crate::output::table();
    t.set_header([
        "side",
        "days",
        "overlap map",
        "cone",
        "uniform",
        "lift over cone (90 %)",
        "lift over uniform (90 %)",
        "Spearman map",
        "cone",
    ]);
    let lift = |l: Option<canary_analytics::liqmap::backtest::Lift>| {
        l.map_or_else(
            || "n/a".to_string(),
            |l| format!("{:.3} ({:.3}–{:.3})", l.point, l.lo, l.hi),
        )
    };
    let rho = |x: Option<f64>| x.map_or_else(|| "n/a".to_string(), |x| format!("{x:.3}"));
    for (name, s) in [("long", &b.result.long), ("short", &b.result.short)] {
        t.add_row([
            name.to_string(),
            s.days.to_string(),
            format!("{:.3}", s.overlap_map),
            format!("{:.3}", s.overlap_cone),
            format!("{:.3}", s.overlap_uniform),
            lift(s.lift_over_cone),
            lift(s.lift_over_uniform),
            rho(s.spearman_map),
            rho(s.spearman_cone),
        ]);
    }
    println!("{t}");
    Ok(())
}
