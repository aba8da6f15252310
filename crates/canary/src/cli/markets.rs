//! `markets`: equities, indices and the Fear & Greed Index, imported and reported as of a time.

use std::path::PathBuf;

use canary_model::markets::Ticker;
use canary_model::{Symbol, Timestamp};
use clap::{Args, Subcommand};

use super::OutputFormat::{Json, Table};
use super::{AsOf, Formats, OutputFormat};

#[derive(Debug, Args)]
pub struct MarketsArgs {
    #[command(subcommand)]
    pub command: Option<MarketsCommand>,
    #[command(flatten)]
    pub at: AsOf,
    /// The BTC instrument whose 1h (else 4h) bars price BTC at each US close.
    #[arg(long, default_value = "BTCUSDT")]
    pub symbol: Symbol,
    /// The miners of the basket, comma-separated (default: the miners of the facts file).
    #[arg(long, value_delimiter = ',')]
    pub miners: Option<Vec<Ticker>>,
    /// Company profiles naming the miners (default: ./miners.toml, else the built-in copy).
    #[arg(long)]
    pub profiles: Option<PathBuf>,
    /// Output: a table for people, or json (every number with its claim).
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json]))]
    pub format: OutputFormat,
}

#[derive(Debug, Subcommand)]
pub enum MarketsCommand {
    /// Import daily equity, index and gauge files: long OHLCV (date, ticker, open, high, low,
    /// close, volume), one ticker's OHLCV (a Yahoo download; --ticker), index closes
    /// (nasdaq100_close, sp500_close, or FRED's NASDAQ100 and SP500) or the Crypto Fear &
    /// Greed Index. A US day's values are known at its exchange's close (16:00 New York,
    /// 13:00 on early-close days); every file is checked before any is stored.
    Import(MarketsImportArgs),
}

#[derive(Debug, Args)]
pub struct MarketsImportArgs {
    /// The CSV files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The ticker of a one-ticker file (default: the file's name, when it is one: MARA.csv).
    #[arg(long)]
    pub ticker: Option<Ticker>,
    /// Source name stored with the values (default: each file's name).
    #[arg(long)]
    pub source: Option<String>,
    /// Validate and report, store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Refuse values that differ from stored ones (by default they are stored as revisions,
    /// seen by reads as of their import time onwards).
    #[arg(long)]
    pub strict: bool,
    /// Refuse days before this one (days not closed by the wall clock are always refused).
    #[arg(long, default_value = "2009-01-03")]
    pub earliest: Timestamp,
}
