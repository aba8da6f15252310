//! Market reports: `stats`, `levels`, `watch`, `score`, and `backtest` (levels, scores).

use std::path::PathBuf;

use canary_model::{Symbol, Timeframe, Timestamp};
use clap::{Args, Subcommand, ValueEnum};

use super::OutputFormat::{Csv, Json, Md, Table};
use super::{AsOf, Formats, OutputFormat, Vocabulary, duration_ms, whole};

/// Bars each side of a pivot: 1 to 50.
fn pivot_k(s: &str) -> Result<usize, String> {
    whole(s, 1, 50)
}

/// Bars of history for levels: 30 to 100,000.
fn lookback(s: &str) -> Result<usize, String> {
    whole(s, 30, 100_000)
}

/// Bars after a touch: 1 to 500.
fn horizon(s: &str) -> Result<usize, String> {
    whole(s, 1, 500)
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// The instrument, e.g. BTCUSDT.
    #[arg(long)]
    pub symbol: Symbol,
    #[command(flatten)]
    pub at: AsOf,
    /// The intraday timeframe for the last price, the 24h change and intraday RSI.
    #[arg(long, default_value = "4h")]
    pub intraday: Timeframe,
    /// Output: a table for people, or json (every number with its claim), md, csv where listed.
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json, Md]))]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct LevelsArgs {
    /// The instrument, e.g. BTCUSDT.
    #[arg(long)]
    pub symbol: Symbol,
    /// Timeframes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1d,4h")]
    pub tf: Vec<Timeframe>,
    #[command(flatten)]
    pub at: AsOf,
    /// Bars each side of a swing pivot (1 to 50).
    #[arg(long, default_value_t = 5, value_parser = pivot_k)]
    pub k: usize,
    /// Bars of history used for pivots and the volume profile (30 to 100,000).
    #[arg(long, default_value_t = 730, value_parser = lookback)]
    pub lookback: usize,
    /// Output: a table for people, or json (every number with its claim), md, csv where listed.
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json, Md]))]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    #[command(subcommand)]
    pub what: BacktestWhat,
}

#[derive(Debug, Subcommand)]
pub enum BacktestWhat {
    /// Bounce rate at support/resistance zones against random zones of the same width.
    Levels(BacktestLevelsArgs),
    /// The scores' track record, walk-forward: AUC, Brier skill, reliability, deciles and
    /// noise-to-signal against two baselines.
    Scores(BacktestScoresArgs),
    /// The estimated liquidation map against null models (a volatility cone, a uniform
    /// spread), walk-forward on daily open interest and realised liquidations: the protocol
    /// of docs/liquidation-map.md.
    Liqmap(BacktestLiqmapArgs),
}

#[derive(Debug, Args)]
pub struct BacktestLiqmapArgs {
    /// The venues whose realised liquidations judge the map (binance, or binance+okx+bybit).
    #[arg(long, default_value = "binance")]
    pub venues: canary_model::derivatives::Venues,
    /// The instrument whose daily bars give the map's prices.
    #[arg(long, default_value = "BTCUSDT")]
    pub symbol: Symbol,
    /// Last time to use (data available then); default now.
    #[arg(long)]
    pub to: Option<Timestamp>,
    /// Bootstrap resamples for the lift's interval (100 to 100,000).
    #[arg(long, default_value_t = 2000, value_parser = reps)]
    pub reps: usize,
    /// `table` (text) or `json` (with the figures as claims).
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json]))]
    pub format: OutputFormat,
}

/// A fraction given as a percentage (`10%` or `10`), from 0.5 % to 90 %.
fn percent(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches('%');
    let x: f64 = t
        .parse()
        .map_err(|_| format!("{s:?} is not a percentage: write e.g. 10%"))?;
    if (0.5..=90.0).contains(&x) {
        Ok(x / 100.0)
    } else {
        Err(format!("{s:?} must be between 0.5% and 90%"))
    }
}

/// A horizon in days (`7d` or `7`), 1 to 90.
fn horizon_days(s: &str) -> Result<usize, String> {
    let t = s.trim().trim_end_matches('d');
    whole(t, 1, 90)
}

/// The methodology and the event its probability is of.
#[derive(Debug, Clone, Args)]
pub struct ScoreMethod {
    /// The methodology file (TOML, the layout of the built-in one); default: built in.
    #[arg(long)]
    pub method: Option<PathBuf>,
    /// The probability's horizon (days, 1 to 90).
    #[arg(long, default_value = "7d", value_parser = horizon_days)]
    pub horizon: usize,
    /// The probability's fall (from the close to the lowest low within the horizon).
    #[arg(long, default_value = "10%", value_parser = percent)]
    pub drawdown: f64,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The instrument, e.g. BTCUSDT.
    #[arg(long)]
    pub symbol: Symbol,
    #[command(flatten)]
    pub at: AsOf,
    /// Timeframes whose levels are merged, comma-separated; the finest gives the price and
    /// the momentum line.
    #[arg(long, value_delimiter = ',', default_value = "1d,4h")]
    pub tf: Vec<Timeframe>,
    /// Bars each side of a swing pivot (1 to 50).
    #[arg(long, default_value_t = 5, value_parser = pivot_k)]
    pub k: usize,
    /// Bars of each timeframe's levels (30 to 100,000).
    #[arg(long, default_value_t = 730, value_parser = lookback)]
    pub lookback: usize,
    /// Days of the long daily volume profile whose nodes are the trapdoor's shelves (30 to
    /// 100,000).
    #[arg(long, default_value_t = 1095, value_parser = lookback)]
    pub profile_days: usize,
    /// Instead of one Watch: the Watch at every step from --from to --asof, and which of its
    /// triggers fired within --horizon, and how price moved a week after.
    #[arg(long, requires = "from")]
    pub history: bool,
    /// With --history: the first as-of time.
    #[arg(long)]
    pub from: Option<Timestamp>,
    /// With --history: the time between two as-of times (e.g. 1d, 7d).
    #[arg(long, default_value = "7d", value_parser = duration_ms)]
    pub step: i64,
    /// With --history: how long after each as-of time a trigger may fire.
    #[arg(long, default_value = "14d", value_parser = duration_ms)]
    pub horizon: i64,
    /// Output: a table for people, json (every number with its claim), or md.
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json, Md]))]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The instrument, e.g. BTCUSDT.
    #[arg(long)]
    pub symbol: Symbol,
    #[command(flatten)]
    pub at: AsOf,
    /// With --format csv: the daily history from this day (bar open time).
    #[arg(long)]
    pub from: Option<Timestamp>,
    /// With --format csv: the daily history up to this day.
    #[arg(long)]
    pub to: Option<Timestamp>,
    /// The asset the news components read news about.
    #[arg(long, default_value = "BTC")]
    pub asset: String,
    #[command(flatten)]
    pub method: ScoreMethod,
    #[command(flatten)]
    pub vocabulary: Vocabulary,
    /// Output: a table for people, json (every number with its claim), md, or csv (the
    /// daily history).
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json, Csv, Md]))]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct BacktestScoresArgs {
    /// The instrument, e.g. BTCUSDT (its daily bars).
    #[arg(long)]
    pub symbol: Symbol,
    /// First day evaluated (open time); earlier days still train the calibration.
    #[arg(long)]
    pub from: Option<Timestamp>,
    /// Last time whose data is used (default now).
    #[arg(long)]
    pub to: Option<Timestamp>,
    #[command(flatten)]
    pub method: ScoreMethod,
    /// Moving-block bootstrap resamples (100 to 100,000).
    #[arg(long, default_value_t = 1000, value_parser = reps)]
    pub reps: usize,
    /// `md` (the report as Markdown), `table` (the same, as text) or `json`.
    #[arg(long, default_value = "md", value_parser = Formats(&[Table, Json, Md]))]
    pub format: OutputFormat,
}

fn seeds(s: &str) -> Result<u64, String> {
    whole(s, 1, 100).map(|n| n as u64)
}

fn reps(s: &str) -> Result<usize, String> {
    whole(s, 100, 100_000)
}

#[derive(Debug, Args)]
pub struct BacktestLevelsArgs {
    /// The instrument, e.g. BTCUSDT.
    #[arg(long)]
    pub symbol: Symbol,
    /// The timeframe whose levels are tested.
    #[arg(long, default_value = "1d")]
    pub tf: Timeframe,
    /// First bar (open time) to walk from.
    #[arg(long)]
    pub from: Option<Timestamp>,
    /// Last time to use (bars available then); default now.
    #[arg(long)]
    pub to: Option<Timestamp>,
    /// Bars each side of a swing pivot (1 to 50).
    #[arg(long, default_value_t = 5, value_parser = pivot_k)]
    pub k: usize,
    /// Bars of history used for pivots and the volume profile (30 to 100,000).
    #[arg(long, default_value_t = 730, value_parser = lookback)]
    pub lookback: usize,
    /// Bars from a touch in which its outcome (bounce, break) is decided (1 to 500).
    #[arg(long, default_value_t = 10, value_parser = horizon)]
    pub horizon: usize,
    /// Seeds of the random baseline zones, pooled (1 to 100).
    #[arg(long, default_value_t = 20, value_parser = seeds)]
    pub seeds: u64,
    /// Bootstrap resamples for the lift's interval (100 to 100,000).
    #[arg(long, default_value_t = 1000, value_parser = reps)]
    pub reps: usize,
    /// Which level is tested on each side: the nearest reported (nearest), or the nearest
    /// with two pivots (touched), a volume node (volume), two methods (confluence) or
    /// strength ≥ 0.5 (strong); the nearest with ± 0.5 ATR zones (atr-zone); the nearest
    /// anchored VWAP (avwap).
    #[arg(long, value_enum, default_value = "nearest")]
    pub variant: LevelVariant,
    /// `table` (text) or `json` (with the figures as claims).
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json, Md]))]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelVariant {
    Nearest,
    Touched,
    Volume,
    Confluence,
    Strong,
    AtrZone,
    Avwap,
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use clap::Parser;

    /// The command line's score defaults are the published method's (one place says them:
    /// `ScoreParams::HORIZON_DAYS` and `DRAWDOWN`).
    #[test]
    fn the_score_defaults_are_the_published_method() {
        let cli = Cli::try_parse_from(["canary", "score", "--symbol", "BTCUSDT"]).unwrap();
        let Command::Score(a) = cli.command else {
            panic!("not the score command")
        };
        assert_eq!(a.method.horizon, canary_engine::ScoreParams::HORIZON_DAYS);
        assert!((a.method.drawdown - canary_engine::ScoreParams::DRAWDOWN).abs() < 1e-12);
    }
}
