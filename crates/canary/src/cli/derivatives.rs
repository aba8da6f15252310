//! `derivatives`: funding, open interest and liquidations, imported and reported as of a time.

use std::path::PathBuf;

use canary_model::derivatives::{DerivKind, Interval, Venues};
use canary_model::{Symbol, Timestamp};
use clap::{Args, Subcommand};

use super::OutputFormat::{Json, Table};
use super::{AsOf, Formats, OutputFormat};

#[derive(Debug, Args)]
pub struct DerivativesArgs {
    #[command(subcommand)]
    pub command: Option<DerivativesCommand>,
    #[command(flatten)]
    pub at: AsOf,
    /// Only markets starting with this (BTC keeps BTC, BTCUSDT, …).
    #[arg(long)]
    pub market: Option<String>,
    /// The instrument whose daily close values the BTC supply (open interest / market value).
    #[arg(long, default_value = "BTCUSDT")]
    pub symbol: Symbol,
    /// Output: a table for people, or json (every number with its claim).
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json]))]
    pub format: OutputFormat,
}

#[derive(Debug, Subcommand)]
pub enum DerivativesCommand {
    /// Import derivatives files: Binance archive files (fundingRate, metrics,
    /// liquidationSnapshot; unzipped), CoinGlass exports, a funding history, or any CSV with a
    /// time and a value column (--kind). Every file is read and checked before any is stored;
    /// each is then stored in one write.
    Import(DerivativesImportArgs),
    /// The estimated liquidation map as of a time (from the all-venue open interest and the
    /// bars at its interval), with cascade scenarios below the price over assumed market
    /// depths: estimates and scenarios, not forecasts (docs/liquidation-map.md).
    Map(DerivativesMapArgs),
}

/// A fall as a percentage (`5%` or `5`), from 0.1 % to 90 %.
fn fall(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches('%');
    let x: f64 = t
        .parse()
        .map_err(|_| format!("{s:?} is not a percentage: write e.g. 5%"))?;
    if (0.1..=90.0).contains(&x) {
        Ok(x / 100.0)
    } else {
        Err(format!("{s:?} must be between 0.1% and 90%"))
    }
}

#[derive(Debug, Args)]
pub struct DerivativesMapArgs {
    #[command(flatten)]
    pub at: AsOf,
    /// The instrument whose bars give the map's prices.
    #[arg(long, default_value = "BTCUSDT")]
    pub symbol: Symbol,
    /// Falls to simulate as cascades, percent, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "3,5,10", value_parser = fall)]
    pub shock: Vec<f64>,
    /// Bands shown on each side of the price, 1 % each (1 to 50).
    #[arg(long, default_value_t = 15, value_parser = |s: &str| super::whole(s, 1, 50))]
    pub bands: usize,
    /// The map's decay constant, days (default: the reference 14).
    #[arg(long, value_parser = |s: &str| super::between(s, 0.5, 3650.0))]
    pub decay_days: Option<f64>,
    /// Output: a table for people, or json (every number with its claim).
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json]))]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct DerivativesImportArgs {
    /// The CSV files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Read the files as header-mapped CSV of this kind: funding_rate, predicted_funding_rate,
    /// oi_usd, oi_base, oi_contracts, long_liquidations_usd, short_liquidations_usd,
    /// mark_price, index_price.
    #[arg(long)]
    pub kind: Option<DerivKind>,
    /// The market (BTCUSDT for one contract, BTC for every BTC contract); default: what the
    /// file or its name says.
    #[arg(long)]
    pub market: Option<String>,
    /// The venues the values cover: one (binance), several joined by + (binance+okx+bybit),
    /// or all for a vendor's all-exchange total; default: what the file or its name says.
    #[arg(long)]
    pub venues: Option<Venues>,
    /// The values' interval (8h for funding every 8 hours, 1d for daily totals); default:
    /// what the file or its name says.
    #[arg(long)]
    pub interval: Option<Interval>,
    /// Column overrides for --kind files: time=COL,value=COL.
    #[arg(long)]
    pub map: Option<String>,
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
    /// Refuse values before this time (values after the wall clock are always refused).
    #[arg(long, default_value = "2009-01-03")]
    pub earliest: Timestamp,
}

#[derive(Debug, Args)]
pub struct ScenarioArgs {
    /// The BTC price of the scenario, USD.
    #[arg(long, value_parser = super::positive, allow_negative_numbers = true)]
    pub price: f64,
    /// Company profiles (default: ./miners.toml, else the built-in copy).
    #[arg(long)]
    pub profiles: Option<PathBuf>,
    #[command(flatten)]
    pub at: AsOf,
    /// The instrument whose bars give the map's prices.
    #[arg(long, default_value = "BTCUSDT")]
    pub symbol: Symbol,
    /// Output: a table for people, or json (every number with its claim).
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json]))]
    pub format: OutputFormat,
}
