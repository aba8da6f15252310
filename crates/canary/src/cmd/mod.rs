//! One module per subcommand; `run` dispatches.

mod backtest;
mod demo;
mod flows;
mod hashprice;
mod import;
mod indicators;
mod levels;
mod miners;
mod network;
mod resample;
mod simulate;
mod stats;

use anyhow::Result;
use canary_engine::{Context, EngineError};
use canary_model::Timestamp;
use canary_store::Store;

use crate::cli::{Cli, Command};

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Import(a) => import::run(&cli.db, &a),
        Command::Resample(a) => resample::run(&cli.db, &a),
        Command::Indicators(a) => indicators::run(&cli.db, &a),
        Command::Simulate(a) => simulate::run(&cli.db, &a),
        Command::Series => series(&cli.db),
        Command::Stats(a) => stats::run(&cli.db, &a),
        Command::Levels(a) => levels::run(&cli.db, &a),
        Command::Backtest(a) => backtest::run(&cli.db, &a),
        Command::Hashprice(a) => hashprice::run(&cli.db, &a),
        Command::Miners(a) => miners::run_miners(&cli.db, &a),
        Command::Treasury(a) => miners::run_treasury(&cli.db, &a),
        Command::Network(a) => network::run(&cli.db, &a),
        Command::Flows(a) => flows::run(&cli.db, &a),
        Command::Demo(a) => demo::run(&a),
    }
}

/// The wall clock, read only here at the edge: the library crates take time as an argument.
pub fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_millis(ms)
}

/// The engine's error with what a user of this command line can do about it.
pub fn hint(e: EngineError) -> anyhow::Error {
    let extra = match &e {
        EngineError::NoPrice { symbol, .. } => Some(format!(
            "give --price P (USD), or store {symbol} bars (canary import FILE --symbol {symbol})"
        )),
        EngineError::NoNetwork { .. } => Some(
            "give --hashrate-ehs H (EH/s) or --difficulty D, or import difficulty (canary network import FILE --series difficulty)"
                .to_string(),
        ),
        EngineError::NoBars { .. } => {
            Some("import bars with canary import FILE --symbol S, or pass --db".to_string())
        }
        _ => None,
    };
    match extra {
        Some(x) => with_hint(e, &x),
        None => anyhow::Error::new(e),
    }
}

/// An importer's error with the flags that fix what it names: `--map` for the column map,
/// `--tf` for the timeframe, `--timeout` for a slow host.
pub fn ingest_hint(e: impl std::error::Error + Send + Sync + 'static) -> anyhow::Error {
    let text = e.to_string();
    let hint = if text.contains("column map") {
        Some("name columns with --map FIELD=COLUMN,...")
    } else if text.contains("the earliest time accepted") {
        Some("accept earlier bars with --earliest TIME")
    } else if text.contains("give the timeframe") {
        Some("give the timeframe with --tf")
    } else if text.contains("raise the timeout") {
        Some("raise it with --timeout SECONDS")
    } else {
        None
    };
    match hint {
        Some(h) => with_hint(e, h),
        None => anyhow::Error::new(e),
    }
}

/// The error, then what to do about it on the next line.
fn with_hint(e: impl std::fmt::Display, hint: &str) -> anyhow::Error {
    anyhow::anyhow!("{e}\n  hint: {hint}")
}

/// Open the database, saying how to name another one when it cannot be opened.
pub fn open(db: &std::path::Path) -> Result<Store> {
    Store::open(db).map_err(|e| {
        let open = matches!(
            e,
            canary_store::StoreError::Open { .. } | canary_store::StoreError::CreateDir { .. }
        );
        if open {
            with_hint(e, "pass --db PATH or set CANARY_DB to use another database")
        } else {
            anyhow::Error::new(e)
        }
    })
}

/// Open the store and a context as of `asof` on it, and run `f`.
pub fn with_context<T>(
    db: &std::path::Path,
    asof: Option<Timestamp>,
    f: impl FnOnce(&Context<'_>) -> Result<T, EngineError>,
) -> Result<T> {
    let store = open(db)?;
    let ctx = Context::new(&store, asof.unwrap_or_else(now)).map_err(hint)?;
    f(&ctx).map_err(hint)
}

/// As [`with_context`], with company facts in the context.
pub fn with_facts<T>(
    db: &std::path::Path,
    asof: Option<Timestamp>,
    profiles: &canary_engine::facts::Profiles,
    f: impl FnOnce(&Context<'_>) -> Result<T, EngineError>,
) -> Result<T> {
    let store = open(db)?;
    let ctx = Context::new(&store, asof.unwrap_or_else(now))
        .map_err(hint)?
        .with_profiles(profiles);
    f(&ctx).map_err(hint)
}

fn series(db: &std::path::Path) -> Result<()> {
    let store = open(db)?;
    let list = store.series()?;
    if list.is_empty() {
        println!(
            "{}: no series stored yet (canary import FILE --symbol S)",
            db.display()
        );
        return Ok(());
    }
    let mut t = crate::output::table();
    t.set_header(["symbol", "tf", "bars", "first", "last", "sources"]);
    for s in list {
        t.add_row([
            s.symbol.to_string(),
            s.timeframe.to_string(),
            s.bars.to_string(),
            s.first.to_string(),
            s.last.to_string(),
            s.sources,
        ]);
    }
    println!("{t}");
    Ok(())
}
