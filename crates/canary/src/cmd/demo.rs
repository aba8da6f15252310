//! `canary demo` (what `make run` runs): simulate a crash, store it in a fresh database under
//! the demo folder, build daily bars, and print what the engine reports on it (watch set,
//! statistics, levels, miners' stress). Works with no network.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use canary_engine::jobs::bars::store_simulated;
use canary_engine::{Context, IndicatorsParams, LevelsParams, StatsParams};
use canary_model::{Symbol, Timeframe, Timestamp};
use canary_sim::{Scenario, SimParams, simulate};

use crate::cli::{DemoArgs, OutputFormat};
use crate::output::human;

/// A fresh database `name` under the demo folder (the previous one removed).
fn fresh_db(dir: &Path, name: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let db = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let p = db.with_file_name(format!("{name}{suffix}"));
        if p.exists() {
            std::fs::remove_file(&p)
                .with_context(|| format!("cannot remove the previous demo file {}", p.display()))?;
        }
    }
    Ok(db)
}

/// The demo's market: a year of 4h bars that ends on the morning after a crash.
fn crash_year(seed: u64) -> Result<SimParams> {
    Ok(SimParams {
        timeframe: Timeframe::H4,
        bars: 6 * 365,
        seed,
        scenario: Scenario::Crash,
        // A year that ends on the morning after the crash day 2026-02-05, so that the real
        // company figures of miners.toml are read as published by the demo's time.
        start: Timestamp::parse("2025-02-07T00:00:00Z")?,
        start_price: 95_000.0,
    })
}

pub fn run(a: &DemoArgs) -> Result<()> {
    if a.live {
        return live(a);
    }
    let db = fresh_db(&a.dir, "canary.db")?;
    let symbol = Symbol::new("BTCUSDT")?;
    let asof = store_crash(&db, &symbol, a.seed)?;
    print_reports(&db, &symbol, asof)?;
    print_miners_and_scores(&db, &symbol, asof)?;
    print_analysis(&a.dir, &db, &symbol, asof)?;
    write_live_and_hints(&a.dir, &db, asof)
}

/// A simulated market for the live stream of the served demo (SIMULATED: a calm week of
/// minute bars played at a minute a second).
const LIVE_TOML: &str =
    "# The demo's live stream: SIMULATED minute bars, played at a minute a second.
speed = 60

[[market]]
symbol = \"SIMUSDT\"
timeframes = [\"1m\", \"1h\"]

[[source]]
type = \"simulator\"
symbol = \"SIMUSDT\"
timeframe = \"1m\"
bars = 10080
scenario = \"calm\"
seed = 42
";

/// How to run this program again from the current folder: its path relative to it when it is
/// below it (`target/debug/canary` under `make run`), else its full path.
fn this_program() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "canary".into();
    };
    let rel = std::env::current_dir()
        .ok()
        .and_then(|d| exe.strip_prefix(d).ok().map(std::path::Path::to_path_buf));
    match rel {
        Some(r) => format!("./{}", r.display()),
        None => exe.display().to_string(),
    }
}

/// `demo --live`: the crash year's history stored, then its last five days played through
/// the live engine at accelerated time, with three alert rules notifying the log.
fn live(a: &DemoArgs) -> Result<()> {
    use canary_engine::alerting::{Channel, RuleSpec, add_rule};
    use canary_runtime::config::{AlertsConfig, Config, MarketConfig, SourceConfig};

    let db = fresh_db(&a.dir, "live.db")?;
    let symbol = Symbol::new("BTCUSDT")?;
    let params = crash_year(a.seed)?;
    let tf = params.timeframe;
    let bars = simulate(&params);
    let last = bars.last().expect("the demo simulates bars");
    let cut = Timestamp::from_millis(tf.close_of(last.open_time).millis() - 5 * 86_400_000);
    crate::output::banner();
    // The bars closed by the cut (the simulator's bars come in time order).
    let history = &bars[..bars.partition_point(|c| tf.close_of(c.open_time) <= cut)];
    let session = super::session(&db);
    let mut store = super::open(&session)?;
    let now = session.now();
    store_simulated(&mut *store, &symbol, tf, history, now)?;
    canary_engine::resample_stored(&mut *store, &symbol, tf, Timeframe::D1, cut, now)
        .map_err(super::hint)?;
    for (rule, rule_tf) in [
        ("crosses_below(BTCUSDT.close, watch.support)", Timeframe::H4),
        ("BTCUSDT.rsi14.1d < 30", Timeframe::D1),
        ("threat(BTCUSDT) >= 4", Timeframe::D1),
    ] {
        let spec = RuleSpec {
            rule: rule.into(),
            timeframe: rule_tf,
            policy: canary_alerts::state::Policy {
                for_evals: 1,
                cooldown_ms: 0,
                band: 0.0,
                frequency: canary_alerts::state::Frequency::Transition,
                // A crossing holds for one close only: its "resolved" would be noise.
                notify_resolved: !rule.starts_with("crosses"),
                repeat_ms: None,
                expires_at: None,
                intrabar: false,
            },
            channel: Channel::Log,
        };
        add_rule(
            &mut *store,
            &canary_engine::alerting::Owner::Operator,
            &spec,
            cut,
            canary_engine::alerting::Allow::default(),
        )
        .map_err(super::hint)?;
    }
    drop(store);
    println!(
        "Simulated {symbol}: {} 4h bars of history to {cut} stored in {}; the last five days now \
         play through the live engine at {}x, with three alert rules (a support break, daily \
         RSI under 30, threat 4 or more):\n",
        history.len(),
        db.display(),
        a.speed
    );
    let config = Config {
        speed: a.speed,
        markets: vec![MarketConfig {
            symbol: symbol.clone(),
            timeframes: vec![Timeframe::H4, Timeframe::D1],
        }],
        sources: vec![SourceConfig::Simulator {
            symbol,
            timeframe: tf,
            bars: params.bars,
            scenario: params.scenario.to_string(),
            seed: params.seed,
            start: Some(params.start),
            start_price: params.start_price,
            from: Some(cut),
        }],
        schedules: Vec::new(),
        crosschecks: Vec::new(),
        alerts: AlertsConfig::default(),
    };
    super::engine::run_config(
        &super::session(&db),
        &config,
        false,
        &canary_runtime::runner::Placement::default(),
    )?;
    println!(
        "\nThe rules and their notices stay in {0}: canary --db {0} alerts log",
        db.display()
    );
    Ok(())
}

/// The crash year simulated and stored in `db` with its daily bars, and said so; the time the
/// demo reads the market at.
fn store_crash(db: &Path, symbol: &Symbol, seed: u64) -> Result<Timestamp> {
    let tf = Timeframe::H4;
    let params = crash_year(seed)?;
    crate::output::banner();
    let bars = simulate(&params);
    let session = super::session(db);
    let mut store = super::open(&session)?;
    let now = session.now();
    store_simulated(&mut *store, symbol, tf, &bars, now)?;
    let last = bars.last().expect("the demo simulates bars");
    // The crash is the second-to-last day; read the market as a morning-after analysis would,
    // at 05:00 UTC on the last day: only bars closed by then are known.
    let asof = Timeframe::D1
        .floor(last.open_time)
        .add_millis(5 * 3_600_000);
    let daily = canary_engine::resample_stored(
        &mut *store,
        symbol,
        tf,
        Timeframe::D1,
        tf.close_of(last.open_time),
        now,
    )
    .map_err(super::hint)?;
    println!(
        "Simulated {symbol}: {} 4h bars from {} to {} (scenario crash, seed {}), {} daily bars, stored in {}",
        bars.len(),
        bars[0].open_time,
        last.open_time,
        seed,
        daily.built,
        db.display()
    );
    Ok(asof)
}

/// What the engine reports on the simulated market at `asof`: the Watch set on two
/// timeframes, the market statistics, support and resistance.
fn print_reports(db: &Path, symbol: &Symbol, asof: Timestamp) -> Result<()> {
    let store = super::open(&super::session(db))?;
    let profiles = canary_engine::facts::Profiles::built_in()?;
    let ctx = Context::new(&*store, asof)
        .map_err(super::hint)?
        .with_profiles(&profiles);
    for tf in [Timeframe::D1, Timeframe::H4] {
        print_watch_set(&ctx, symbol, tf, asof)?;
    }
    println!("\nMarket statistics (SIMULATED), every number a claim (--format json shows them):");
    let stats = canary_engine::stats(
        &ctx,
        &StatsParams {
            symbol: symbol.clone(),
            intraday: Timeframe::H4,
        },
    )
    .map_err(super::hint)?;
    super::stats::render(&stats, OutputFormat::Table)?;
    println!("\nSupport and resistance (SIMULATED):");
    let levels = canary_engine::levels(
        &ctx,
        &LevelsParams {
            symbol: symbol.clone(),
            timeframes: vec![Timeframe::D1, Timeframe::H4],
            k: 5,
            lookback: 730,
        },
    )
    .map_err(super::hint)?;
    super::levels::render(&levels, OutputFormat::Table)?;
    Ok(())
}

/// The Watch set of `symbol` on `tf` as of `asof`: each indicator's last value and how it
/// reads.
fn print_watch_set(
    ctx: &Context<'_>,
    symbol: &Symbol,
    tf: Timeframe,
    asof: Timestamp,
) -> Result<()> {
    let r = canary_engine::indicators(
        ctx,
        &IndicatorsParams {
            symbol: symbol.clone(),
            timeframe: tf,
            spec: "watch".into(),
            to: None,
            last: None,
        },
    )
    .map_err(super::hint)?;
    let b = &r.body;
    let i = b.times.len() - 1;
    let close = b.close[i];
    let mut t = crate::output::table();
    t.set_header(["indicator", "value", "reading"]);
    for (name, s) in &b.columns {
        let v = s[i];
        t.add_row([name.clone(), human(v), watch_reading(name, v, close)]);
    }
    println!(
        "\nWatch set, {symbol} {tf}{} as of {asof}: last known bar opened {}, close {}",
        crate::output::sim_tag(&r),
        b.times[i],
        human(close)
    );
    println!("{t}");
    Ok(())
}

/// How the Watch set's indicator `name` at `v` reads against the close.
fn watch_reading(name: &str, v: f64, close: f64) -> String {
    match name {
        "rsi_14" if v < 30.0 => "oversold (< 30)".to_string(),
        "rsi_14" if v > 70.0 => "overbought (> 70)".to_string(),
        n if n.starts_with("ema_") || n.starts_with("bb_") => {
            format!("close is {:+.2}% from it", (close / v - 1.0) * 100.0)
        }
        "atr_14" => format!("{:.2}% of the close", v / close * 100.0),
        "drawdown" => "% below the highest close so far".to_string(),
        "rv_30" => "% annualised, last 30 bars".to_string(),
        _ => String::new(),
    }
}

/// The miners' stress table at the simulated price and the scores, as their commands print
/// them.
fn print_miners_and_scores(db: &Path, symbol: &Symbol, asof: Timestamp) -> Result<()> {
    println!(
        "\nMiners' stress table at the SIMULATED price (company figures from miners.toml are real, each as published by the time):"
    );
    super::miners::run_miners(
        &super::session(db),
        &crate::cli::MinersArgs {
            at: crate::cli::AsOf { asof: Some(asof) },
            value: crate::cli::Valuation {
                price: None,
                symbol: symbol.clone(),
            },
            scenarios: vec![58_000.0, 52_000.0],
            profiles: None,
            format: crate::cli::OutputFormat::Table,
        },
    )?;
    println!(
        "\nScores of the SIMULATED market (the method is real; news and derivatives are absent):"
    );
    super::score::run(
        &super::session(db),
        &crate::cli::ScoreArgs {
            symbol: symbol.clone(),
            at: crate::cli::AsOf { asof: Some(asof) },
            from: None,
            to: None,
            asset: "BTC".into(),
            method: crate::cli::ScoreMethod {
                method: None,
                horizon: canary_engine::ScoreParams::HORIZON_DAYS,
                drawdown: canary_engine::ScoreParams::DRAWDOWN,
            },
            vocabulary: crate::cli::Vocabulary {
                dictionary: None,
                lexicon: None,
                profiles: None,
            },
            format: crate::cli::OutputFormat::Table,
        },
    )
}

/// The analysis of the simulated crash, written as a page under `dir` and printed as
/// Markdown.
fn print_analysis(dir: &Path, db: &Path, symbol: &Symbol, asof: Timestamp) -> Result<()> {
    let analysis = |format, out| crate::cli::AnalyzeArgs {
        symbol: symbol.clone(),
        topic: crate::cli::AnalysisTopic::Market,
        at: crate::cli::AsOf { asof: Some(asof) },
        asset: "BTC".into(),
        method: None,
        vocabulary: crate::cli::Vocabulary {
            dictionary: None,
            lexicon: None,
            profiles: None,
        },
        format,
        out,
        no_store: false,
        templates: None,
    };
    let page = dir.join("analysis.html");
    let session = super::session(db);
    super::analyze::run(
        &session,
        &analysis(crate::cli::OutputFormat::Html, Some(page.clone())),
    )?;
    println!(
        "\nThe analysis of the SIMULATED crash (also written to {}):\n",
        page.display()
    );
    super::analyze::run(&session, &analysis(crate::cli::OutputFormat::Md, None))
}

/// The engine config `make run` serves beside the API written under `dir`, and the commands
/// to try next.
fn write_live_and_hints(dir: &Path, db: &Path, asof: Timestamp) -> Result<()> {
    // The engine config `make run` serves beside the API: a simulated market played at a
    // minute a second, its bars and scores on /api/v1/stream.
    let live = dir.join("live.toml");
    std::fs::write(&live, LIVE_TOML).with_context(|| format!("cannot write {}", live.display()))?;
    println!(
        "\nTry: {} --db {} indicators --symbol BTCUSDT --tf 4h --asof {asof} --ind rsi:14,atr:14,ret:1",
        this_program(),
        db.display()
    );
    println!(
        "Serve it: {} --db {} serve --run {}",
        this_program(),
        db.display(),
        live.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watch_sets_readings_say_where_the_close_stands() {
        assert_eq!(watch_reading("rsi_14", 25.0, 100.0), "oversold (< 30)");
        assert_eq!(watch_reading("rsi_14", 75.0, 100.0), "overbought (> 70)");
        assert_eq!(watch_reading("rsi_14", 50.0, 100.0), "");
        assert_eq!(
            watch_reading("ema_20", 100.0, 110.0),
            "close is +10.00% from it"
        );
        assert_eq!(
            watch_reading("bb_lower", 125.0, 100.0),
            "close is -20.00% from it"
        );
        assert_eq!(watch_reading("atr_14", 2.5, 100.0), "2.50% of the close");
        assert_eq!(
            watch_reading("drawdown", -12.0, 100.0),
            "% below the highest close so far"
        );
        assert_eq!(watch_reading("ret_1", 1.0, 100.0), "");
    }

    /// The demo reads the market at 05:00 UTC on the morning after the crash day, with the
    /// simulated year stored in 4h bars and the daily bars built from them.
    #[test]
    fn the_crash_is_stored_and_read_on_the_morning_after() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.db");
        let symbol = Symbol::new("BTCUSDT").unwrap();
        let asof = store_crash(&db, &symbol, 7).unwrap();
        assert_eq!(asof, Timestamp::parse("2026-02-06T05:00:00Z").unwrap());
        let store = canary_store::open(&db).unwrap();
        let series: Vec<(String, u64)> = store
            .series()
            .unwrap()
            .iter()
            .map(|s| (s.timeframe.to_string(), s.bars))
            .collect();
        assert_eq!(
            series,
            [("1d".to_string(), 365), ("4h".to_string(), 6 * 365)]
        );
    }
}
