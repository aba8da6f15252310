//! The analysis: `analyze`, and `analyses` (list, show, history).

use std::path::PathBuf;

use canary_model::Symbol;
use clap::{Args, Subcommand, ValueEnum};

use super::OutputFormat::{Html, Json, Md};
use super::{AsOf, Formats, OutputFormat, Vocabulary};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalysisTopic {
    /// Price, scores, Watch and news lead.
    Market,
    /// Miner economics, debt and flows lead.
    Miners,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The instrument, e.g. BTCUSDT.
    #[arg(long)]
    pub symbol: Symbol,
    /// The angle.
    #[arg(long, value_enum, default_value = "market")]
    pub topic: AnalysisTopic,
    #[command(flatten)]
    pub at: AsOf,
    /// The asset the news is about.
    #[arg(long, default_value = "BTC")]
    pub asset: String,
    /// The score methodology file (default: built in).
    #[arg(long)]
    pub method: Option<PathBuf>,
    #[command(flatten)]
    pub vocabulary: Vocabulary,
    /// Output: Markdown, one self-contained HTML page, or JSON with every claim.
    #[arg(long, default_value = "md", value_parser = Formats(&[Md, Html, Json]))]
    pub format: OutputFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o')]
    pub out: Option<PathBuf>,
    /// Do not store the analysis in the database (it is stored by default, once per content).
    #[arg(long)]
    pub no_store: bool,
    /// A folder with your own templates (minijinja): analysis.md.j2, analysis.html.j2 (the
    /// pages) and/or phrases.j2 (the sentences, one macro each), in place of the shipped ones.
    /// Every number they show must still come from the analysis's claims.
    #[arg(long)]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AnalysesArgs {
    #[command(subcommand)]
    pub command: AnalysesCommand,
}

#[derive(Debug, Subcommand)]
pub enum AnalysesCommand {
    /// The stored analyses, newest first.
    List(AnalysesListArgs),
    /// One stored analysis, as it was written.
    Show(AnalysesShowArgs),
    /// Every version of the analysis of the same symbol, topic and time, and what changed
    /// between them.
    History(AnalysesShowArgs),
}

#[derive(Debug, Args)]
pub struct AnalysesListArgs {
    /// Only analyses with this tag.
    #[arg(long)]
    pub tag: Option<String>,
}

#[derive(Debug, Args)]
pub struct AnalysesShowArgs {
    /// The analysis id (or a unique beginning of it).
    pub id: String,
    /// Markdown or JSON.
    #[arg(long, default_value = "md", value_parser = Formats(&[Md, Html, Json]))]
    pub format: OutputFormat,
}
