//! Data in: `import`, `resample`, `indicators`, `simulate`.

use std::path::PathBuf;

use canary_model::{Symbol, Timeframe, Timestamp};
use canary_sim::Scenario;
use clap::Args;
use clap::builder::TypedValueParser as _;

use super::OutputFormat::{Csv, Json, Table};
use super::{AsOf, Formats, OutputFormat, positive, whole};

/// An indicator list (`rsi:14,macd:12:26:9`, `all` or `watch`), checked before any work.
fn indicator_list(s: &str) -> Result<String, String> {
    if !s.trim().eq_ignore_ascii_case("watch") {
        canary_analytics::ta::IndicatorSpec::parse_list(s).map_err(|e| e.to_string())?;
    }
    Ok(s.to_string())
}

/// Bars to simulate: 1 to 10 million.
fn sim_bars(s: &str) -> Result<usize, String> {
    whole(s, 1, 10_000_000)
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The CSV file.
    pub file: PathBuf,
    /// The instrument, e.g. BTCUSDT (or BINANCE:BTCUSDT).
    #[arg(long)]
    pub symbol: Symbol,
    /// The bars' timeframe; detected from the spacing of the bars when absent.
    #[arg(long)]
    pub tf: Option<Timeframe>,
    /// The source name stored with each bar (default: the file name; `sim` for simulated files).
    #[arg(long)]
    pub source: Option<String>,
    /// Column overrides: FIELD=COLUMN,... with fields time, open, high, low, close, volume,
    /// quote_volume, trades.
    #[arg(long)]
    pub map: Option<String>,
    /// The character between fields: `;` for semicolon-separated files, `tab` (or `\t`) for
    /// tab-separated ones. Default: a comma.
    #[arg(long, value_parser = delimiter)]
    pub delimiter: Option<u8>,
    /// Read and validate the file, report what would be imported, store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Refuse bars that differ from stored ones (by default they are stored as revisions,
    /// seen by reads as of their import time onwards).
    #[arg(long)]
    pub strict: bool,
    /// Refuse bars that open before this time (bars after the wall clock plus one bar are
    /// always refused).
    #[arg(long, default_value = "2009-01-03")]
    pub earliest: Timestamp,
}

#[derive(Debug, Args)]
pub struct ResampleArgs {
    /// The instrument whose bars are resampled.
    #[arg(long)]
    pub symbol: Symbol,
    /// The stored timeframe to build from.
    #[arg(long)]
    pub from: Timeframe,
    /// The timeframe to build.
    #[arg(long)]
    pub to: Timeframe,
    /// Build as of this time (ISO-8601 UTC); buckets still open then are not stored.
    /// Default: now.
    #[arg(long)]
    pub asof: Option<Timestamp>,
}

#[derive(Debug, Args)]
pub struct IndicatorsArgs {
    /// Read stored bars of this instrument (with --tf).
    #[arg(long, required_unless_present = "input", conflicts_with = "input")]
    pub symbol: Option<Symbol>,
    /// The stored timeframe (with --symbol); with --input, overrides detection.
    #[arg(long)]
    pub tf: Option<Timeframe>,
    /// Read bars straight from a CSV file instead of the store.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// With --input: the character between fields (`;`, `tab`); default a comma.
    #[arg(long, value_parser = delimiter, requires = "input")]
    pub delimiter: Option<u8>,
    /// Indicators: e.g. rsi:14,ema:20,macd:12:26:9,bbands:20:2,atr:14; `all` for the 31
    /// TA-Lib oracle series; `watch` for the watch set.
    #[arg(long, default_value = "watch", value_parser = indicator_list)]
    pub ind: String,
    /// First bar to print (open time, ISO-8601 UTC). Indicators still use earlier bars.
    #[arg(long)]
    pub from: Option<Timestamp>,
    /// Last bar to print (open time).
    #[arg(long)]
    pub to: Option<Timestamp>,
    #[command(flatten)]
    pub at: AsOf,
    /// Print only the last N rows (table output defaults to 20).
    #[arg(long)]
    pub last: Option<usize>,
    /// Output: a table for people, or json (every number with its claim), md, csv where listed.
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Csv, Json]))]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The instrument the bars are stored under with --store (default BTCUSDT; naming it is
    /// required when real bars of BTCUSDT are stored).
    #[arg(long)]
    pub symbol: Option<Symbol>,
    /// The bars' timeframe.
    #[arg(long, default_value = "4h")]
    pub tf: Timeframe,
    /// Number of bars (1 to 10 million).
    #[arg(long, default_value_t = 1080, value_parser = sim_bars)]
    pub bars: usize,
    /// Seed of the generator: the same seed gives the same bars.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The market: calm (no drift, 45 % volatility), trend (+60 %/year) or crash (a drift down
    /// then a −15 % day, the second-to-last).
    #[arg(
        long,
        default_value = "crash",
        value_parser = clap::builder::PossibleValuesParser::new(["calm", "trend", "crash"])
            .map(|s| s.parse::<Scenario>().expect("a listed scenario"))
    )]
    pub scenario: Scenario,
    /// Open time of the first bar (default 2026-01-01T00:00:00Z).
    #[arg(long)]
    pub start: Option<Timestamp>,
    /// Price of the first open.
    #[arg(long, default_value_t = 100_000.0, value_parser = positive, allow_negative_numbers = true)]
    pub price: f64,
    /// Write CSV to this file ("-" for standard output, the default).
    #[arg(long, short, default_value = "-")]
    pub output: PathBuf,
    /// Store the bars (source `sim`) instead of writing CSV.
    #[arg(long)]
    pub store: bool,
}

/// A CSV delimiter: one ASCII character other than a quote or a line end, or `tab`.
fn delimiter(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => return Ok(b'\t'),
        _ => {}
    }
    match s.as_bytes() {
        [b] if b.is_ascii() && !matches!(b, b'"' | b'\n' | b'\r') && !b.is_ascii_alphanumeric() => {
            Ok(*b)
        }
        _ => Err(format!(
            "{s:?} is not a delimiter: give one character such as ';' or '|', or tab"
        )),
    }
}
