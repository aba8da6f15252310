//! Command-line flags (clap derive). Values are parsed into domain types here, so a wrong flag
//! is reported before any work starts.
//!
//! This file has the top-level `Cli` and `Command`, the groups several commands flatten
//! (`AsOf`, `Valuation`) and the value parsers they share. Each command group's arguments are
//! in a file of their own: `data` (import, resample, indicators, simulate), `reports` (stats,
//! levels, watch, score, backtest), `mining` (hashprice, network, miners, treasury, flows),
//! `analysis` (analyze, analyses), `alerts`, `tokens`, `news`, and `serve` (serve, run,
//! demo); `format` has the one `OutputFormat` and how a command says which formats it takes.

mod alerts;
mod analysis;
mod data;
mod derivatives;
mod format;
mod markets;
mod mining;
mod news;
mod reports;
mod serve;
mod tokens;

use std::path::PathBuf;

use canary_model::{Symbol, Timestamp};
use clap::{Args, Parser, Subcommand};

pub use alerts::*;
pub use analysis::*;
pub use data::*;
pub use derivatives::*;
pub use format::*;
pub use markets::*;
pub use mining::*;
pub use news::*;
pub use reports::*;
pub use serve::*;
pub use tokens::*;

/// Canary: crypto-market early warning with a published method for every number.
#[derive(Debug, Parser)]
#[command(name = "canary", version, about)]
pub struct Cli {
    /// The store: a SQLite file, or a PostgreSQL server's address
    /// (postgres://USER@HOST:PORT/DATABASE; the password from PGPASSWORD). Commands that store
    /// data create a missing file; commands that only read refuse one.
    #[arg(long, global = true, env = "CANARY_DB", default_value = "canary.db")]
    pub db: PathBuf,

    /// Print tables at full width instead of fitting them to the terminal.
    #[arg(long, global = true)]
    pub wide: bool,

    /// Seconds a command that writes waits while another process writes the same database
    /// (at most 3600).
    #[arg(long, global = true, env = "CANARY_WAIT", default_value_t = 60.0, value_parser = seconds)]
    pub wait: f64,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import candles from a CSV file (Binance kline dump or a header-mapped OHLCV file).
    Import(ImportArgs),
    /// Build higher-timeframe bars from stored lower ones (e.g. 4h -> 1d), UTC-aligned.
    Resample(ResampleArgs),
    /// Compute indicators from the store or straight from a file.
    Indicators(IndicatorsArgs),
    /// Generate a simulated market (deterministic) as CSV or into the store.
    Simulate(SimulateArgs),
    /// List the stored series.
    Series,
    /// Market statistics as of a time: price, changes, moves in σ, drawdowns, volatility,
    /// RSI, volume, market value change. Every number is a claim (see --format json).
    Stats(StatsArgs),
    /// Support and resistance levels per timeframe, with zones, distances and the trapdoor.
    Levels(LevelsArgs),
    /// Measure methods on history, walk-forward.
    Backtest(BacktestArgs),
    /// Revenue per unit of hash rate (hashprice) and each machine class's shutdown price.
    Hashprice(HashpriceArgs),
    /// Public miners under price scenarios: cost per BTC, break-even, margin, coverage,
    /// runway, forced selling (companies from miners.toml).
    Miners(MinersArgs),
    /// Treasury view of one company (or all holding BTC): facts with sources, debt ladder,
    /// coverage prices and a stress table.
    Treasury(TreasuryArgs),
    /// Bitcoin network: Hash Ribbons, Puell, difficulty nowcast, fleet under water; `network
    /// import` loads the daily series.
    Network(NetworkArgs),
    /// Derivatives as of a time: funding (level, annual carry, z-score against 90 days), open
    /// interest (24 h and 7 d change), liquidations (the last bar, its rank in history, its
    /// share of open interest), each series on its own venues; `derivatives import` loads
    /// funding, open-interest and liquidation files.
    Derivatives(DerivativesArgs),
    /// US equities, indices and the Crypto Fear & Greed Index as point-in-time series:
    /// `markets import` loads daily files, each day known at its exchange's close.
    Markets(MarketsArgs),
    /// One price, every stress model at it: the liquidations a move there would cross on the
    /// estimated map (with a fall's cascade as a scenario), the miners burning cash and the
    /// treasury companies no longer covering their net debt.
    Scenario(ScenarioArgs),
    /// Outflows of labelled entities (miners to exchanges and OTC desks); `flows fetch` reads
    /// their transactions from an Esplora API.
    Flows(FlowsArgs),
    /// The analysis: a scored, sourced market analysis as of a time (label, Pulse, Risk,
    /// Threat, what happened, context, the score in words, Watch, risks, opportunities, Take,
    /// sources), every number traced to a claim.
    Analyze(AnalyzeArgs),
    /// Stored analyses: list, show, history of versions.
    Analyses(AnalysesArgs),
    /// Alert rules: `alerts backtest RULE` runs one over history through the alert state
    /// machine and shows every firing and what followed.
    Alerts(AlertsArgs),
    /// The Watch: price, nearest support, trapdoor and resistance agreed across timeframes,
    /// with their triggers, and the momentum line.
    Watch(WatchArgs),
    /// Risk (0-100, band, Threat 1-5), Pulse (0-100, label) and the 7-day drawdown probability
    /// as of a time, with each component's contribution; or the daily history (--from/--to).
    Score(ScoreArgs),
    /// News: feeds and headline files, deduplicated, tagged, scored for sentiment and
    /// relevance, grouped into stories, searchable.
    News(NewsArgs),
    /// Run the engine: its sources (canary.toml) into bars of every timeframe, alert rules
    /// checked at each close and their notices delivered, every event stored for replay.
    Run(RunArgs),
    /// Serve the HTTP API (/api/v1: every report as of ?asof=, analyses, alert rules; the
    /// OpenAPI document at /api/v1/openapi.json).
    Serve(ServeArgs),
    /// API tokens: `tokens create --name N` issues one (shown once; stored hashed), `tokens
    /// list`, `tokens revoke ID`. A request's bearer token must be one of them.
    Tokens(TokensArgs),
    /// Run the offline demo: a simulated crash, stored and analysed.
    Demo(DemoArgs),
}

/// The time a report is as of.
#[derive(Debug, Clone, Args)]
pub struct AsOf {
    /// As of this time (ISO-8601 UTC, e.g. 2026-02-06T05:00:00Z): only what was knowable then
    /// is used (bars that had closed, days that had ended, figures that had been published).
    /// Default: now.
    #[arg(long)]
    pub asof: Option<Timestamp>,
}

/// The BTC price a valuation uses.
#[derive(Debug, Clone, Args)]
pub struct Valuation {
    /// BTC price in USD (default: the daily close of --symbol as of the time).
    #[arg(long, value_parser = positive, allow_negative_numbers = true)]
    pub price: Option<f64>,
    /// The instrument whose daily close is the price when --price is absent.
    #[arg(long, default_value = "BTCUSDT")]
    pub symbol: Symbol,
}

fn number(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if x.is_finite() {
        Ok(x)
    } else {
        Err(format!("{s} is not a finite number"))
    }
}

/// A number > 0.
fn positive(s: &str) -> Result<f64, String> {
    let x = number(s)?;
    if x > 0.0 {
        Ok(x)
    } else {
        Err(format!("{x} must be greater than 0"))
    }
}

/// A number ≥ 0.
fn non_negative(s: &str) -> Result<f64, String> {
    let x = number(s)?;
    if x >= 0.0 {
        Ok(x)
    } else {
        Err(format!("{x} must be 0 or more"))
    }
}

/// Seconds to wait: more than 0, at most an hour.
fn seconds(s: &str) -> Result<f64, String> {
    let x = positive(s)?;
    if x <= 3600.0 {
        Ok(x)
    } else {
        Err(format!("{x} s is more than an hour"))
    }
}

/// A number in `lo..=hi`.
fn between(s: &str, lo: f64, hi: f64) -> Result<f64, String> {
    let x = number(s)?;
    if (lo..=hi).contains(&x) {
        Ok(x)
    } else {
        Err(format!("{x} is outside {lo}..={hi}"))
    }
}

/// A whole number in `lo..=hi`.
fn whole(s: &str, lo: usize, hi: usize) -> Result<usize, String> {
    let n: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number"))?;
    if (lo..=hi).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{n} is outside {lo}..={hi}"))
    }
}

/// A duration: a number and a unit, `m` (minutes), `h` (hours) or `d` (days): `90m`, `24h`,
/// `7d`; from one minute to ten years. In milliseconds.
fn duration_ms(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len()));
    let x: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a duration: write e.g. 90m, 24h or 7d"))?;
    let ms = match unit.trim() {
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        "M" => {
            return Err(format!(
                "{s:?}: 1m is a minute (a lower-case m), and months are not accepted: the unit must be m, h or d (e.g. 30d)"
            ));
        }
        _ => return Err(format!("{s:?}: the unit must be m, h or d (e.g. 24h)")),
    };
    let v = x * ms;
    if !(60_000.0..=3_650.0 * 86_400_000.0).contains(&v) {
        return Err(format!("{s:?} must be between 1m and 3650d"));
    }
    #[expect(clippy::cast_possible_truncation)]
    Ok(v.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// An evaluator's role, bus and partitions read as given; a bad list is named.
    #[test]
    fn run_roles_read_their_partitions() {
        let cli = Cli::try_parse_from([
            "canary",
            "run",
            "--role",
            "eval",
            "--bus",
            "nats://127.0.0.1:4222",
            "--partitions",
            "0-3,9,2",
            "--bus-replicas",
            "3",
        ])
        .unwrap();
        let Command::Run(a) = cli.command else {
            panic!("run")
        };
        assert_eq!(a.role, canary_runtime::runner::Role::Eval);
        assert_eq!(a.partitions.unwrap().0, [0, 1, 2, 3, 9]);
        assert_eq!(a.bus.bus_replicas, 3);
        for (bad, says) in [
            (&["--partitions", "5-2"][..], "the range runs backwards"),
            (&["--partitions", "x"][..], "is not a partition number"),
            (&["--role", "api"][..], "give all, ingest, eval or deliver"),
            (&["--bus-replicas", "2"][..], "give 1, 3 or 5 copies"),
            (
                &["--bus-stream", "a.b"][..],
                "a stream name is 1 to 64 letters",
            ),
            // The bus's options without a bus.
            (&["--bus-partitions", "8"][..], "--bus <BUS>"),
        ] {
            let e = Cli::try_parse_from([&["canary", "run"][..], bad].concat())
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
    }

    /// Every option and argument of every command says what it is in `--help`.
    #[test]
    fn every_option_has_a_help_line() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} --{id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {} (no about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "canary", &mut missing);
        assert!(missing.is_empty(), "no help for: {}", missing.join("; "));
        Cli::command().debug_assert();
    }
}
