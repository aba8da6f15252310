//! Bitcoin mining and holders: `hashprice`, `network`, `miners`, `treasury`, `flows`.

use std::path::PathBuf;

use canary_model::Timestamp;
use clap::{Args, Subcommand};

use super::OutputFormat::{Csv, Json, Md, Table};
use super::{
    AsOf, Formats, OutputFormat, Valuation, between, non_negative, positive, seconds, whole,
};

/// Network hash rate in EH/s: 1e-6 (1 TH/s) to 1e6.
fn hashrate_ehs(s: &str) -> Result<f64, String> {
    between(s, 1e-6, 1e6)
}

/// Network difficulty: 1 to 1e18.
fn difficulty(s: &str) -> Result<f64, String> {
    between(s, 1.0, 1e18)
}

/// A power price in USD/MWh: above 0, at most 10,000.
fn power_price(s: &str) -> Result<f64, String> {
    let x = positive(s)?;
    if x <= 10_000.0 {
        Ok(x)
    } else {
        Err(format!("{x} USD/MWh is more than 10,000"))
    }
}

/// Pages of transactions per address: 1 to 100.
fn pages(s: &str) -> Result<usize, String> {
    whole(s, 1, 100)
}

#[derive(Debug, Args)]
pub struct HashpriceArgs {
    #[command(flatten)]
    pub at: AsOf,
    /// Network difficulty, hash rate implied as D·2^32/600 (default: the stored difficulty).
    #[arg(long, value_parser = difficulty, allow_negative_numbers = true, conflicts_with = "hashrate_ehs")]
    pub difficulty: Option<f64>,
    /// Network hash rate in EH/s (1 EH/s = 1e18 H/s).
    #[arg(long, value_parser = hashrate_ehs, allow_negative_numbers = true)]
    pub hashrate_ehs: Option<f64>,
    /// Average fees per block in BTC (default: the stored fees series, else 0, said so).
    #[arg(long, value_parser = non_negative, allow_negative_numbers = true)]
    pub fees_btc: Option<f64>,
    #[command(flatten)]
    pub value: Valuation,
    /// Power prices in USD/MWh for the machine table, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "50", value_parser = power_price, allow_negative_numbers = true)]
    pub power: Vec<f64>,
    /// Output: a table for people, or json (every number with its claim), md, csv where listed.
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json, Md]))]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct NetworkArgs {
    #[command(subcommand)]
    pub command: Option<NetworkCommand>,
    #[command(flatten)]
    pub at: AsOf,
    #[command(flatten)]
    pub value: Valuation,
    /// Average fees per block in BTC for the hashprice.
    #[arg(long, default_value_t = 0.0, value_parser = non_negative, allow_negative_numbers = true)]
    pub fees_btc: f64,
    /// Power price in USD/MWh for the fleet-under-water share.
    #[arg(long, default_value_t = 50.0, value_parser = power_price, allow_negative_numbers = true)]
    pub power: f64,
    /// Read the series fetched from this source (`mempool`, `bitcoind`) instead of imported ones.
    #[arg(long)]
    pub source: Option<String>,
    /// Output: a table for people, or json (every number with its claim), md, csv where listed.
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json, Md]))]
    pub format: OutputFormat,
}

#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Import a daily network series from CSV (header-mapped like candle files).
    Import(NetworkImportArgs),
    /// Fetch live network data from a mempool instance or a Bitcoin Core node and store it
    /// under the source's name (`mempool:hashrate_hs`, …; read it with `network --source`).
    Fetch(NetworkFetchArgs),
}

#[derive(Debug, Args)]
pub struct NetworkFetchArgs {
    #[command(subcommand)]
    pub from: FetchFrom,
    /// Seconds to wait for each answer (at most 3600).
    #[arg(long, global = true, default_value_t = 20.0, value_parser = seconds)]
    pub timeout: f64,
}

#[derive(Debug, Subcommand)]
pub enum FetchFrom {
    /// A mempool.space-compatible REST API: epoch, hash-rate history, recent blocks' fees.
    Mempool {
        /// The API root.
        #[arg(long, default_value = "https://mempool.space/api")]
        url: String,
        /// Hash-rate history period: 1m, 3m, 6m, 1y, 2y, 3y, all.
        #[arg(long, default_value = "3m")]
        period: String,
    },
    /// A Bitcoin Core node's JSON-RPC: tip, difficulty, hash-rate estimate, the tip's fees.
    Bitcoind {
        /// The node's JSON-RPC address.
        #[arg(long, default_value = "http://127.0.0.1:8332")]
        url: String,
        /// The RPC user (rpcuser in bitcoin.conf).
        #[arg(long, env = "CANARY_RPC_USER")]
        user: String,
        /// The RPC password (better given in the environment than on the command line).
        #[arg(long, env = "CANARY_RPC_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

#[derive(Debug, Args)]
pub struct NetworkImportArgs {
    /// The CSV file: a time column (ISO-8601 date/time or unix time, one row per UTC day) and
    /// value columns.
    pub file: PathBuf,
    /// What the file holds, and its units: hashrate (H/s, or the unit its column names:
    /// `hashrate_ths`, `Hash rate (EH/s)`), difficulty, subsidy (BTC per day,
    /// and USD per day when a USD column exists), fleet-efficiency (J/TH: estimate, and lower
    /// and upper bounds when present), fees (BTC per block).
    #[arg(long)]
    pub series: canary_ingest::network::NetworkKind,
    /// Source name stored with the values (default: the file name).
    #[arg(long)]
    pub source: Option<String>,
    /// Column overrides: time=COL, value=COL or SERIES=COL, comma-separated.
    #[arg(long)]
    pub map: Option<String>,
    /// Validate and report, store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Refuse values that differ from stored ones (by default they are stored as revisions,
    /// seen by reads as of their import time onwards).
    #[arg(long)]
    pub strict: bool,
    /// Refuse days before this one (days after today are always refused).
    #[arg(long, default_value = "2009-01-03")]
    pub earliest: Timestamp,
}

#[derive(Debug, Args)]
pub struct MinersArgs {
    #[command(flatten)]
    pub at: AsOf,
    #[command(flatten)]
    pub value: Valuation,
    /// Extra scenario prices, besides spot, −10 % and −20 %.
    #[arg(long, value_delimiter = ',', default_value = "58000,52000", value_parser = positive, allow_negative_numbers = true)]
    pub scenarios: Vec<f64>,
    /// Company profiles (default: ./miners.toml, else the built-in copy).
    #[arg(long)]
    pub profiles: Option<PathBuf>,
    /// Output: a table for people, or json (every number with its claim), md, csv where listed.
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json, Csv]))]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct TreasuryArgs {
    /// Ticker, e.g. MSTR (default: every company that reports BTC held).
    #[arg(long)]
    pub company: Option<String>,
    #[command(flatten)]
    pub at: AsOf,
    #[command(flatten)]
    pub value: Valuation,
    /// Company figures (default: ./miners.toml, else the built-in copy).
    #[arg(long)]
    pub profiles: Option<PathBuf>,
    /// `table` or `json` (`csv` prints JSON here: the view is nested).
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json, Csv]))]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct FlowsArgs {
    #[command(subcommand)]
    pub command: Option<FlowsCommand>,
    /// One entity (default: every entity with stored outflows).
    #[arg(long)]
    pub entity: Option<String>,
    #[command(flatten)]
    pub at: AsOf,
    /// Output: a table for people, or json (every number with its claim), md, csv where listed.
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json, Md]))]
    pub format: OutputFormat,
}

#[derive(Debug, Subcommand)]
pub enum FlowsCommand {
    /// Fetch the labelled entities' transactions and store their outflows.
    Fetch(FlowsFetchArgs),
}

#[derive(Debug, Args)]
pub struct FlowsFetchArgs {
    /// The label file (TOML: entity → kind, source, addresses).
    ///
    /// One table per entity: its kind (miner, exchange, otc or custodian), where the labels
    /// come from, and its addresses. An address may belong to one entity only.
    ///
    ///     [MARA]
    ///     kind = "miner"
    ///     source = "MARA's published wallet list, 2025-11"
    ///     addresses = ["bc1q…", "3…"]
    ///
    ///     [Coinbase]
    ///     kind = "exchange"
    ///     source = "…"
    ///     addresses = ["…"]
    #[arg(long, verbatim_doc_comment)]
    pub labels: PathBuf,
    /// An Esplora API root (Blockstream's or mempool.space's).
    #[arg(long, default_value = "https://mempool.space/api")]
    pub url: String,
    /// One entity (default: every miner in the label file).
    #[arg(long)]
    pub entity: Option<String>,
    /// Pages of 25 confirmed transactions per address (1 to 100).
    #[arg(long, default_value_t = 4, value_parser = pages)]
    pub pages: usize,
    /// Seconds to wait for each answer (at most 3600).
    #[arg(long, default_value_t = 20.0, value_parser = seconds)]
    pub timeout: f64,
}
