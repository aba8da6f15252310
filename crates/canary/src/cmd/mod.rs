//! One module per subcommand; `run` dispatches.

mod backtest;
mod demo;
mod flows;
mod hashprice;
mod import;
mod indicators;
mod levels;
mod market;
mod miners;
mod network;
mod resample;
mod simulate;
mod stats;

use anyhow::Result;
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

fn series(db: &std::path::Path) -> Result<()> {
    let store = Store::open(db)?;
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
            s.symbol,
            s.timeframe,
            s.bars.to_string(),
            s.first.to_string(),
            s.last.to_string(),
            s.sources,
        ]);
    }
    println!("{t}");
    Ok(())
}
