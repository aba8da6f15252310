//! News: `news` (feeds, poll, import, list, stories, search, sentiment, eval), and the
//! vocabulary news is read with, which `analyze` and `score` take too.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::OutputFormat::{Csv, Json, Md, Table};
use super::{AsOf, Formats, OutputFormat, between, duration_ms, seconds, whole};

fn relevance_floor(s: &str) -> Result<f64, String> {
    between(s, 0.0, 1.0)
}

fn similarity(s: &str) -> Result<f64, String> {
    between(s, 0.01, 1.0)
}

fn limit(s: &str) -> Result<usize, String> {
    whole(s, 1, 100_000)
}

fn feed_bytes(s: &str) -> Result<u64, String> {
    whole(s, 1024, 1 << 30).map(|n| n as u64)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SentimentLabel {
    Bullish,
    Bearish,
    Neutral,
}

/// The vocabulary news is read with: the tagging dictionary and the sentiment lexicon, each
/// extensible by a file of the user's.
#[derive(Debug, Clone, Args)]
pub struct Vocabulary {
    /// More tagging terms: a TOML file laid out like the built-in dictionary (assets,
    /// companies, exchanges, topics); its entries add to the built-in ones.
    #[arg(long)]
    pub dictionary: Option<PathBuf>,
    /// More sentiment terms: lines `term<TAB>valence` (valence -4 … +4), over the built-in
    /// lexicon.
    #[arg(long)]
    pub lexicon: Option<PathBuf>,
    /// The company facts file whose companies are tagged too (default: ./miners.toml if
    /// present, else the built-in one).
    #[arg(long)]
    pub profiles: Option<PathBuf>,
}

/// Relevance to an asset and a topic.
#[derive(Debug, Clone, Args)]
#[expect(clippy::struct_field_names)] // min_relevance is the flag --min-relevance
pub struct Relevance {
    /// Score each item's relevance to this asset (a ticker: BTC, ETH, …) and order by it.
    #[arg(long)]
    pub asset: Option<String>,
    /// With --asset: and to this topic (a slug of the dictionary, e.g. bitcoin-miners).
    #[arg(long, requires = "asset")]
    pub topic: Option<String>,
    /// With --asset: keep only items (stories) scoring at least this (0 to 1).
    #[arg(long, default_value_t = 0.0, value_parser = relevance_floor)]
    pub min_relevance: f64,
}

#[derive(Debug, Args)]
pub struct NewsArgs {
    #[command(subcommand)]
    pub command: NewsCommand,
}

#[derive(Debug, Subcommand)]
pub enum NewsCommand {
    /// The feeds `news poll` reads: add, list, remove.
    Feeds(FeedsArgs),
    /// Fetch the feeds that are due (each on its interval; failing ones back off) and store
    /// their new items.
    Poll(PollArgs),
    /// Import a headline file: CSV (id,published_at,source,title[,summary][,url]; other
    /// usual column names accepted) or JSON (.json).
    Import(NewsImportArgs),
    /// The news known at a time, newest first (or most relevant first with --asset).
    List(NewsListArgs),
    /// Items grouped into stories, with outlets, sentiment and tags.
    Stories(StoriesArgs),
    /// Full-text search of the stored items, with filters; or the items related to one.
    Search(SearchArgs),
    /// Sentiment of every headline of a CSV file (columns as for import; extra ones ignored):
    /// id,label,score,tags per row.
    Sentiment(SentimentArgs),
    /// Accuracy and confusion matrix of the sentiment on a labelled headline CSV (a `label`
    /// column: bullish, bearish or neutral).
    Eval(EvalArgs),
}

#[derive(Debug, Args)]
pub struct FeedsArgs {
    #[command(subcommand)]
    pub command: FeedsCommand,
}

#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// Add a feed (RSS, Atom or JSON Feed address), polled every --interval.
    Add(FeedAddArgs),
    /// List the feeds with their schedule and health.
    List,
    /// Remove a feed (its stored items stay).
    Rm(FeedRmArgs),
}

#[derive(Debug, Args)]
pub struct FeedAddArgs {
    /// The feed's address (http or https).
    pub url: String,
    /// How often to poll it (e.g. 15m, 1h; at least 1m).
    #[arg(long, default_value = "15m", value_parser = duration_ms)]
    pub interval: i64,
}

#[derive(Debug, Args)]
pub struct FeedRmArgs {
    /// The feed's address, as listed.
    pub url: String,
}

#[derive(Debug, Args)]
pub struct PollArgs {
    /// Poll every feed now, whatever its schedule.
    #[arg(long)]
    pub all: bool,
    /// Seconds to wait for each feed (at most 3600).
    #[arg(long, default_value_t = 20.0, value_parser = seconds)]
    pub timeout: f64,
    /// The largest feed body read, in bytes (1 KiB to 1 GiB).
    #[arg(long, default_value_t = canary_ingest::news::DEFAULT_MAX_BYTES, value_parser = feed_bytes)]
    pub max_bytes: u64,
}

#[derive(Debug, Args)]
pub struct NewsImportArgs {
    /// The headline file.
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct NewsListArgs {
    #[command(flatten)]
    pub at: AsOf,
    /// Items that became available within this long before the time (e.g. 24h, 7d).
    #[arg(long, default_value = "7d", value_parser = duration_ms)]
    pub since: i64,
    /// Only items with this tag: a ticker (BTC, MARA), an exchange or a topic slug.
    #[arg(long)]
    pub tag: Option<String>,
    /// Only items from this outlet (e.g. coindesk.com).
    #[arg(long)]
    pub outlet: Option<String>,
    /// Only items of this sentiment.
    #[arg(long, value_enum)]
    pub sentiment: Option<SentimentLabel>,
    #[command(flatten)]
    pub relevance: Relevance,
    /// Show syndicated and lightly edited copies as items of their own.
    #[arg(long)]
    pub copies: bool,
    /// At most this many items.
    #[arg(long, default_value_t = 50, value_parser = limit)]
    pub limit: usize,
    #[command(flatten)]
    pub vocabulary: Vocabulary,
    /// Output: a table for people, json (every number with its claim), csv or md.
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json, Csv, Md]))]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct StoriesArgs {
    #[command(flatten)]
    pub at: AsOf,
    /// Items that became available within this long before the time.
    #[arg(long, default_value = "72h", value_parser = duration_ms)]
    pub since: i64,
    /// Cosine similarity (0.01 to 1) from which an item joins a story.
    #[arg(long, default_value_t = 0.3, value_parser = similarity)]
    pub threshold: f64,
    /// A story takes items only this long after its latest one.
    #[arg(long, default_value = "48h", value_parser = duration_ms)]
    pub window: i64,
    #[command(flatten)]
    pub relevance: Relevance,
    /// At most this many stories.
    #[arg(long, default_value_t = 20, value_parser = limit)]
    pub limit: usize,
    #[command(flatten)]
    pub vocabulary: Vocabulary,
    /// Output: a table for people, json (every number with its claim), csv or md.
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json, Csv, Md]))]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words to find (all of them, any order; "quoted phrases" kept together). Empty with
    /// --related.
    #[arg(default_value = "")]
    pub query: String,
    /// Instead: the items related to this item id (similar words, shared tags, close in time).
    #[arg(long)]
    pub related: Option<String>,
    #[command(flatten)]
    pub at: AsOf,
    /// Only items that became available within this long before the time.
    #[arg(long, value_parser = duration_ms)]
    pub since: Option<i64>,
    /// Only items with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Only items from this outlet.
    #[arg(long)]
    pub outlet: Option<String>,
    /// Only items of this sentiment.
    #[arg(long, value_enum)]
    pub sentiment: Option<SentimentLabel>,
    /// At most this many results.
    #[arg(long, default_value_t = 20, value_parser = limit)]
    pub limit: usize,
    #[command(flatten)]
    pub vocabulary: Vocabulary,
    /// Output: a table for people, json, csv or md.
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json, Csv, Md]))]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct SentimentArgs {
    /// The headline CSV.
    #[arg(long)]
    pub input: PathBuf,
    /// Output: csv (id,label,score,tags) or json.
    #[arg(long, default_value = "csv", value_parser = Formats(&[Csv, Json]))]
    pub format: OutputFormat,
    #[command(flatten)]
    pub vocabulary: Vocabulary,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A headline CSV with a title and a label column.
    pub file: PathBuf,
    /// More sentiment terms (as for list).
    #[arg(long)]
    pub lexicon: Option<PathBuf>,
    /// List every headline labelled wrongly.
    #[arg(long)]
    pub misses: bool,
}
