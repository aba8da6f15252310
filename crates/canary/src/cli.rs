//! Command-line flags (clap derive). Values are parsed into domain types here, so a wrong flag
//! is reported before any work starts.

use std::path::PathBuf;

use OutputFormat::{Csv, Html, Json, Md, Table};
use canary_model::{Symbol, Timeframe, Timestamp};
use canary_sim::Scenario;
use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Canary: crypto-market early warning with a published method for every number.
#[derive(Debug, Parser)]
#[command(name = "canary", version, about)]
pub struct Cli {
    /// The database file (SQLite). Commands that store data create it; commands that only
    /// read refuse a missing one.
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

/// What `--format` writes: one enum for every command, each of which accepts only the
/// formats it has (`Formats`, its list checked when parsing). The variants carry no doc
/// comments, so that `--help` lists the names only, as `[possible values: …]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    // A table for people.
    Table,
    // Every number with its claim.
    Json,
    // Markdown.
    Md,
    // Comma-separated rows.
    Csv,
    // One self-contained page (the analysis).
    Html,
}

impl OutputFormat {
    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Json => "json",
            Self::Md => "md",
            Self::Csv => "csv",
            Self::Html => "html",
        }
    }

    /// The error for a format the command does not write: the parser refuses it, so only a
    /// caller other than the command line (the demo) could pass one.
    pub fn unavailable(self) -> anyhow::Error {
        anyhow::anyhow!("this command does not write {}", self.name())
    }
}

/// The formats one command's `--format` accepts, in the order its `--help` lists them. A
/// format of another command is refused with a message naming the command and its formats
/// ("--format html is not available for `canary stats`; use table, json or md"); a word that
/// is no format gets clap's usual message, listing these.
#[derive(Debug, Clone, Copy)]
pub struct Formats(pub &'static [OutputFormat]);

impl Formats {
    fn possible(&self) -> impl Iterator<Item = clap::builder::PossibleValue> + '_ {
        self.0.iter().filter_map(ValueEnum::to_possible_value)
    }

    /// "table, json or md".
    fn listed(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(|f| f.name()).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.concat(),
        }
    }
}

impl clap::builder::TypedValueParser for Formats {
    type Value = OutputFormat;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<OutputFormat, clap::Error> {
        let ignore_case = arg.is_some_and(clap::Arg::is_ignore_case_set);
        let format = value
            .to_str()
            .and_then(|v| OutputFormat::from_str(v, ignore_case).ok());
        match format {
            Some(f) if self.0.contains(&f) => Ok(f),
            Some(f) => {
                let flag = arg
                    .and_then(clap::Arg::get_long)
                    .map_or_else(|| "--format".to_string(), |l| format!("--{l}"));
                let command = cmd.get_bin_name().unwrap_or_else(|| cmd.get_name());
                Err(cmd.clone().error(
                    clap::error::ErrorKind::InvalidValue,
                    format!(
                        "{flag} {} is not available for `{command}`; use {}",
                        f.name(),
                        self.listed()
                    ),
                ))
            }
            None => Err(clap::builder::PossibleValuesParser::new(self.possible())
                .parse_ref(cmd, arg, value)
                .expect_err("a word that is no format is in no list of formats")),
        }
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(self.possible()))
    }
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

/// An indicator list (`rsi:14,macd:12:26:9`, `all` or `watch`), checked before any work.
fn indicator_list(s: &str) -> Result<String, String> {
    if !s.trim().eq_ignore_ascii_case("watch") {
        canary_analytics::ta::IndicatorSpec::parse_list(s).map_err(|e| e.to_string())?;
    }
    Ok(s.to_string())
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

/// Bars to simulate: 1 to 10 million.
fn sim_bars(s: &str) -> Result<usize, String> {
    whole(s, 1, 10_000_000)
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
pub struct AlertsArgs {
    #[command(subcommand)]
    pub command: AlertsCommand,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Run a rule over history, at every bar close of its timeframe, through the same state
    /// machine as live alerts: each firing, firings per month, and what followed.
    Backtest(AlertBacktestArgs),
    /// Add a rule (yours: your token owns it), notifying a webhook, Slack, Discord, Telegram,
    /// email, or only the log.
    Add(Box<AlertAddArgs>),
    /// Your rules with their state.
    List(AlertTokenArgs),
    /// Remove one of your rules.
    Rm(AlertRmArgs),
    /// Evaluate every rule at each bar close since its last check and deliver the notices
    /// (run it after each import, or from cron; a restart repeats nothing and misses nothing).
    Check(AlertCheckArgs),
    /// The deliveries: what was sent where, attempts, status and latency.
    Log(AlertLogArgs),
    /// Send a test notice of one of your rules to its channel now (marked as a test).
    Test(AlertTestArgs),
    /// Mute one of your rules' notices for a while (it is still evaluated; notices due
    /// meanwhile are logged as silenced), or lift its silences.
    Silence(AlertSilenceArgs),
}

#[derive(Debug, Args)]
pub struct AlertTestArgs {
    /// The rule's id, as listed.
    pub id: i64,
    #[command(flatten)]
    pub owner: AlertTokenArgs,
    #[command(flatten)]
    pub send: AlertSendArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("span").required(true).args(["duration", "until", "lift"])))]
pub struct AlertSilenceArgs {
    /// The rule's id, as listed.
    pub id: i64,
    /// For how long from --from (e.g. 2h, 3d).
    #[arg(long = "for", value_parser = duration_ms)]
    pub duration: Option<i64>,
    /// Until this time.
    #[arg(long)]
    pub until: Option<Timestamp>,
    /// From this time (default now).
    #[arg(long)]
    pub from: Option<Timestamp>,
    /// Why (shown in the list).
    #[arg(long, default_value = "")]
    pub comment: String,
    /// End the rule's running silences now.
    #[arg(long)]
    pub lift: bool,
    #[command(flatten)]
    pub owner: AlertTokenArgs,
}

/// How deliveries are attempted.
#[derive(Debug, Clone, Args)]
pub struct AlertSendArgs {
    /// Attempts per delivery (1 to 20), with back-off doubling from --backoff.
    #[arg(long, default_value_t = 4, value_parser = attempts)]
    pub attempts: usize,
    /// The first back-off between attempts, in seconds (at most 3600).
    #[arg(long, default_value_t = 0.5, value_parser = seconds)]
    pub backoff: f64,
    /// Seconds to wait for a receiver (at most 3600).
    #[arg(long, default_value_t = 10.0, value_parser = seconds)]
    pub timeout: f64,
    /// Deliver to loopback and private addresses too (refused by default).
    #[arg(long)]
    pub allow_private: bool,
}

/// The token that owns rules (its hash is stored, never the token).
#[derive(Debug, Clone, Args)]
pub struct AlertTokenArgs {
    /// Act on the rules of this API token (or CANARY_TOKEN; one `canary tokens create`
    /// issued). Without it, on the operator's own rules, which no HTTP request can reach.
    #[arg(long, env = "CANARY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub struct TokensArgs {
    #[command(subcommand)]
    pub command: TokensCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Issue a token: printed once (only its SHA-256 is stored).
    Create(TokenCreateArgs),
    /// The tokens issued: id, name, scope, when, revoked, rules.
    List,
    /// Refuse a token from now on.
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// Who or what uses it (shown in the list).
    #[arg(long)]
    pub name: String,
    /// read: reports, and its own rules and deliveries listed; alerts: also add, test,
    /// silence and remove its own rules.
    #[arg(long, default_value = "alerts", value_parser = ["read", "alerts"])]
    pub scope: String,
}

#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The token's id, as listed.
    pub id: i64,
    /// Also remove its alert rules (otherwise they keep running, reachable by no token).
    #[arg(long)]
    pub remove_rules: bool,
}

/// How a rule notifies.
#[derive(Debug, Clone, Args)]
pub struct AlertPolicyArgs {
    /// Consecutive evaluations the condition must hold before firing (1 to 1000).
    #[arg(long = "for", default_value_t = 1, value_parser = evals)]
    pub for_evals: usize,
    /// No new firing until this long after the last one (e.g. 24h, 3d).
    #[arg(long, value_parser = duration_ms)]
    pub cooldown: Option<i64>,
    /// Hysteresis: how far back past its threshold a compared value must go before the rule
    /// re-arms (in the value's unit, e.g. 500 for a price).
    #[arg(long, default_value_t = 0.0, value_parser = non_negative, allow_negative_numbers = true)]
    pub band: f64,
    /// When to notify: on entering Firing (transition), the first firing only (once), or at
    /// every bar close while the condition holds (every-close).
    #[arg(long, value_enum, default_value = "transition")]
    pub frequency: AlertFrequency,
    /// Also notify when the condition stops holding.
    #[arg(long)]
    pub notify_resolved: bool,
    /// While firing, remind this often (e.g. 4h, 1d; at a bar close at least this long after
    /// the last notice).
    #[arg(long, value_parser = duration_ms)]
    pub repeat: Option<i64>,
    /// The rule expires at this time: no notice after it.
    #[arg(long)]
    pub expires: Option<Timestamp>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("channel").multiple(false)
    .args(["webhook", "slack", "discord", "telegram_chat", "email"])))]
pub struct AlertAddArgs {
    /// The rule (see `alerts backtest --help`).
    pub rule: String,
    /// The timeframe whose bar closes evaluate the rule.
    #[arg(long, default_value = "1d")]
    pub tf: Timeframe,
    #[command(flatten)]
    pub policy: AlertPolicyArgs,
    /// Deliver notices to this webhook (JSON, with an Idempotency-Key header); without it,
    /// notices go to the delivery log only.
    #[arg(long)]
    pub webhook: Option<String>,
    /// Sign deliveries with HMAC-SHA256 of "timestamp.body" under this secret
    /// (X-Canary-Signature: t=..., v1=...).
    #[arg(long, env = "CANARY_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Deliver to a Slack incoming webhook.
    #[arg(long)]
    pub slack: Option<String>,
    /// Deliver to a Discord webhook (mentions disabled).
    #[arg(long)]
    pub discord: Option<String>,
    /// Deliver to this Telegram chat id through a bot (needs --telegram-token); group ids
    /// are negative.
    #[arg(long, requires = "telegram_token", allow_hyphen_values = true)]
    pub telegram_chat: Option<String>,
    /// The Telegram bot's token (or CANARY_TELEGRAM_TOKEN).
    #[arg(long, env = "CANARY_TELEGRAM_TOKEN", hide_env_values = true)]
    pub telegram_token: Option<String>,
    /// The Telegram Bot API's address.
    #[arg(long, default_value = canary_engine::alerting::channels::TELEGRAM_API)]
    pub telegram_api: String,
    /// Email notices to this address (repeat for more; needs --smtp and --smtp-from).
    #[arg(long, requires_all = ["smtp", "smtp_from"])]
    pub email: Vec<String>,
    /// The SMTP relay, HOST:PORT; mail goes only over STARTTLS.
    #[arg(long)]
    pub smtp: Option<String>,
    /// The sender's address.
    #[arg(long)]
    pub smtp_from: Option<String>,
    /// The relay's user name (AUTH PLAIN, inside TLS).
    #[arg(long, requires = "smtp_password")]
    pub smtp_user: Option<String>,
    /// The relay's password (or CANARY_SMTP_PASSWORD).
    #[arg(long, env = "CANARY_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// A PEM file of CA certificates to trust for the relay, besides the usual roots.
    #[arg(long)]
    pub smtp_ca: Option<PathBuf>,
    /// Allow a channel on a loopback or private address (refused by default; the process
    /// that delivers must allow it too: `[alerts] allow_private`, `--allow-private`).
    #[arg(long)]
    pub allow_private: bool,
    /// Accept the rule though no bars of a symbol it names are stored yet (a market that
    /// `canary run` is about to stream); refused otherwise, as a likely misspelling.
    #[arg(long)]
    pub before_data: bool,
    /// Evaluate on every trade against the bar still open (provisional values, notices
    /// labelled intrabar), at most once per bar, in `canary run` on a market fed by trades;
    /// for rules on bar fields and rsi14 of one symbol. Default: at bar close only.
    #[arg(long)]
    pub intrabar: bool,
    /// Evaluate bar closes from this time (default now); an earlier time replays history
    /// through the rule at the next check, its notices marked late.
    #[arg(long)]
    pub since: Option<Timestamp>,
    #[command(flatten)]
    pub owner: AlertTokenArgs,
}

#[derive(Debug, Args)]
pub struct AlertRmArgs {
    /// The rule's id, as listed.
    pub id: i64,
    #[command(flatten)]
    pub owner: AlertTokenArgs,
}

#[derive(Debug, Args)]
pub struct AlertCheckArgs {
    /// Check as of this time (default now).
    #[arg(long)]
    pub asof: Option<Timestamp>,
    #[command(flatten)]
    pub send: AlertSendArgs,
}

#[derive(Debug, Args)]
pub struct AlertLogArgs {
    /// Only this rule's deliveries.
    #[arg(long)]
    pub rule: Option<i64>,
}

fn limit_seconds(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .parse()
        .map_err(|_| format!("{s} is not a number of seconds"))?;
    if (0.1..=3600.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("{s}: give 0.1 to 3600 seconds"))
    }
}

fn attempts(s: &str) -> Result<usize, String> {
    whole(s, 1, 20)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlertFrequency {
    /// On entering Firing (and on resolving with --notify-resolved).
    Transition,
    /// The first firing only.
    Once,
    /// Every bar close while the condition holds (subject to --cooldown).
    EveryClose,
}

#[derive(Debug, Args)]
pub struct AlertBacktestArgs {
    /// The rule, e.g. "BTCUSDT.close < 58000", "crosses_below(BTCUSDT.close, watch.support)",
    /// "BTCUSDT.rsi14.1d < 30", "threat(BTCUSDT) >= 4", "risk(BTCUSDT) rises_by 15 within 24h";
    /// join with and / or / not.
    pub rule: String,
    /// First bar close evaluated.
    #[arg(long)]
    pub from: Timestamp,
    /// Last time whose data is used (default now).
    #[arg(long)]
    pub to: Option<Timestamp>,
    /// The timeframe whose bar closes evaluate the rule.
    #[arg(long, default_value = "1d")]
    pub tf: Timeframe,
    #[command(flatten)]
    pub policy: AlertPolicyArgs,
    /// How long after a firing the move that followed is measured.
    #[arg(long, default_value = "7d", value_parser = duration_ms)]
    pub follow: i64,
    /// `table` or `json`.
    #[arg(long, default_value = "table", value_parser = Formats(&[Table, Json, Md]))]
    pub format: OutputFormat,
}

fn evals(s: &str) -> Result<usize, String> {
    whole(s, 1, 1000)
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

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen here (port 0: any free port, printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// Allow an address other than loopback (the API has no TLS: put a proxy in front).
    #[arg(long)]
    pub public: bool,
    /// Answer cross-origin requests from this origin (CORS is off without it).
    #[arg(long)]
    pub cors_origin: Option<String>,
    /// Requests per minute per token (1 to 1000000).
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate: u32,
    /// Seconds a report may take (at most 3600).
    #[arg(long, default_value_t = 10.0, value_parser = seconds)]
    pub timeout: f64,
    /// The largest request body, in bytes (1 to 16777216).
    #[arg(long, default_value_t = 65_536, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    pub max_body: u32,
    /// Also run the engine on this config (as `canary run`), its bars, scores, alerts and
    /// source events streamed at /api/v1/stream.
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Let API rules send notices to loopback and private addresses (refused by default:
    /// anyone with a token would otherwise make the server reach your internal network).
    /// With --run, the config's `[alerts] allow_private` also allows it.
    #[arg(long)]
    pub allow_private: bool,
    /// Requests per minute per client address, whatever its tokens (1 to 1000000).
    #[arg(long, default_value_t = 1200, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate_per_address: u32,
    /// Seconds a client has to send a request's headers; a kept-alive connection idle this
    /// long between requests is closed (0.1 to 3600).
    #[arg(long, default_value_t = 10.0, value_parser = limit_seconds)]
    pub header_timeout: f64,
    /// Seconds a client has to send a request's body (0.1 to 3600).
    #[arg(long, default_value_t = 10.0, value_parser = limit_seconds)]
    pub body_timeout: f64,
    /// Connections open at once, beyond which new ones wait (1 to 100000).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_connections: u32,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The engine's configuration: markets, sources, alerts (see docs/engine.md).
    #[arg(long, default_value = "canary.toml")]
    pub config: PathBuf,
    /// Print only notices, source events and the summary (not every bar close).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the demo database (replaced on every run).
    #[arg(long, default_value = "demo")]
    pub dir: PathBuf,
    /// Seed of the simulated market.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Play the crash's last days through the live engine instead (bars closing, alert
    /// rules firing), at accelerated time; stored in DIR/live.db.
    #[arg(long)]
    pub live: bool,
    /// With --live: how many times faster than real time (57600: a 4h bar every 0.25 s;
    /// 0: as fast as the engine goes).
    #[arg(long, default_value_t = 57_600.0, value_parser = speed)]
    pub speed: f64,
}

fn speed(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1e9).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is outside 0 to 1e9"))
    }
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
    /// What the file holds, and its units: hashrate (H/s), difficulty, subsidy (BTC per day,
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

/// A duration: a number and a unit, `m` (minutes), `h` (hours) or `d` (days): `90m`, `24h`,
/// `7d`; from one minute to ten years. In milliseconds.
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
    #[allow(clippy::cast_possible_truncation)]
    Ok(v.round() as i64)
}

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
pub enum LevelVariant {
    Nearest,
    Touched,
    Volume,
    Confluence,
    Strong,
    AtrZone,
    Avwap,
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

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

    /// Each command's `--format` accepts what it accepted when every command had its own
    /// format enum (ReportFormat, AnalysisFormat, Format, TableFormat, ListFormat,
    /// SentimentFormat): the same formats in the same order (as `--help` lists them) and the
    /// same default; every other format is refused by name, with the command's list.
    #[test]
    fn each_command_accepts_the_formats_it_had() {
        const REPORT: &[&str] = &["table", "json", "md"];
        const ANALYSIS: &[&str] = &["md", "html", "json"];
        const TABLE: &[&str] = &["table", "json", "csv"];
        const LIST: &[&str] = &["table", "json", "csv", "md"];
        // The command, the arguments it requires, its default format and its formats.
        let had: &[(&str, &str, &str, &[&str])] = &[
            ("stats", "--symbol BTCUSDT", "table", REPORT),
            ("levels", "--symbol BTCUSDT", "table", REPORT),
            ("backtest levels", "--symbol BTCUSDT", "table", REPORT),
            ("backtest scores", "--symbol BTCUSDT", "md", REPORT),
            ("hashprice", "", "table", REPORT),
            ("network", "", "table", REPORT),
            ("flows", "", "table", REPORT),
            ("watch", "--symbol BTCUSDT", "table", REPORT),
            ("alerts backtest", "RULE --from 2026-01-01", "table", REPORT),
            ("analyze", "--symbol BTCUSDT", "md", ANALYSIS),
            ("analyses show", "ID", "md", ANALYSIS),
            ("analyses history", "ID", "md", ANALYSIS),
            (
                "indicators",
                "--symbol BTCUSDT",
                "table",
                &["table", "csv", "json"],
            ),
            ("miners", "", "table", TABLE),
            ("treasury", "", "table", TABLE),
            ("score", "--symbol BTCUSDT", "table", LIST),
            ("news list", "", "table", LIST),
            ("news stories", "", "table", LIST),
            ("news search", "", "table", LIST),
            ("news sentiment", "--input h.csv", "csv", &["csv", "json"]),
        ];
        fn walk(cmd: &clap::Command, path: &str, found: &mut Vec<(String, Vec<String>)>) {
            if let Some(a) = cmd.get_arguments().find(|a| a.get_id() == "format") {
                let listed = a.get_possible_values();
                let names = listed.iter().map(|v| v.get_name().to_string()).collect();
                found.push((path.trim_start().to_string(), names));
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), found);
            }
        }
        let mut found = Vec::new();
        walk(&Cli::command(), "", &mut found);
        found.sort();
        let mut expected: Vec<(String, Vec<String>)> = had
            .iter()
            .map(|(c, _, _, f)| (c.to_string(), f.iter().map(|f| f.to_string()).collect()))
            .collect();
        expected.sort();
        assert_eq!(
            found, expected,
            "the commands with --format, and what --help lists"
        );
        // The format the command line parses to, from the leaf command's matches.
        let parse = |args: Vec<&str>| {
            Cli::command().try_get_matches_from(args).map(|m| {
                let mut m = &m;
                while let Some((_, sub)) = m.subcommand() {
                    m = sub;
                }
                *m.get_one::<OutputFormat>("format").unwrap()
            })
        };
        for (command, required, default, formats) in had {
            let args = |format: &[&'static str]| {
                let mut args = vec!["canary"];
                args.extend(command.split(' '));
                args.extend(required.split_whitespace());
                args.extend(format);
                args
            };
            let parsed = parse(args(&[])).unwrap();
            assert_eq!(parsed.name(), *default, "canary {command}'s default");
            for f in OutputFormat::value_variants() {
                let parsed = parse(args(&["--format", f.name()]));
                if formats.contains(&f.name()) {
                    assert_eq!(
                        parsed.unwrap(),
                        *f,
                        "canary {command} --format {}",
                        f.name()
                    );
                } else {
                    let e = parsed.expect_err(f.name());
                    assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
                    let (last, rest) = formats.split_last().unwrap();
                    let message = format!(
                        "error: --format {} is not available for `canary {command}`; use {} or {last}\n",
                        f.name(),
                        rest.join(", ")
                    );
                    assert!(
                        e.to_string().starts_with(&message),
                        "canary {command} --format {}: {e}",
                        f.name()
                    );
                }
            }
        }
    }

    /// The refusal as the command line shows it, and clap's own message for a word that is
    /// no format, listing only the command's formats.
    #[test]
    fn a_format_the_command_lacks_is_refused_by_name() {
        let e = Cli::try_parse_from(["canary", "stats", "--symbol", "BTCUSDT", "--format", "html"])
            .unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
        assert!(
            e.to_string().starts_with(
                "error: --format html is not available for `canary stats`; use table, json or md\n"
            ),
            "{e}"
        );
        let cli = Cli::try_parse_from([
            "canary", "analyze", "--symbol", "BTCUSDT", "--format", "html",
        ])
        .unwrap();
        let Command::Analyze(a) = cli.command else {
            panic!("not the analyze command")
        };
        assert_eq!(a.format, OutputFormat::Html);
        let e = Cli::try_parse_from(["canary", "stats", "--symbol", "BTCUSDT", "--format", "xml"])
            .unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
        assert!(
            e.to_string().contains(
                "invalid value 'xml' for '--format <FORMAT>'\n  [possible values: table, json, md]"
            ),
            "{e}"
        );
        let e = Cli::try_parse_from([
            "canary",
            "news",
            "sentiment",
            "--input",
            "h.csv",
            "--format",
            "tabel",
        ])
        .unwrap_err();
        assert!(
            e.to_string().contains("[possible values: csv, json]"),
            "{e}"
        );
    }

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

    /// 1,000 -> "1,000": how the docs write counts.
    fn thousands(n: u64) -> String {
        let d = n.to_string();
        let mut out = String::new();
        for (i, c) in d.chars().enumerate() {
            if i > 0 && (d.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    }

    fn doc(name: &str) -> String {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// Every limit and default that docs/security.md, docs/api.md, docs/engine.md and
    /// ARCHITECTURE.md publish is the one the code has: a change to either shows here.
    #[test]
    fn the_published_limits_and_defaults_are_the_codes() {
        use canary_alerts::rule::{
            MAX_CONDITIONS, MAX_DEPTH, MAX_NUMBER, MAX_RULE_CHARS, MAX_WINDOW_MS,
        };
        let cli = Cli::try_parse_from(["canary", "serve"]).unwrap();
        let Command::Serve(a) = cli.command else {
            panic!("not the serve command")
        };
        let secs = |x: f64| format!("{x:.0} s");
        let rule = format!(
            "a rule: {} characters, {MAX_DEPTH} levels of parentheses/`not`/calls, {MAX_CONDITIONS} conditions, numbers up to {MAX_NUMBER:e}, windows a minute to {} days",
            thousands(MAX_RULE_CHARS as u64),
            MAX_WINDOW_MS / 86_400_000
        );
        let security = doc("docs/security.md");
        for line in [
            rule,
            format!("| body | {} KiB (`--max-body`)", a.max_body / 1024),
            format!(
                "| requests | {} a minute per address (`--rate-per-address`), {} per token (`--rate`)",
                thousands(u64::from(a.rate_per_address)),
                a.rate
            ),
            format!("| {} (`--header-timeout`)", secs(a.header_timeout)),
            format!("| {} (`--body-timeout`)", secs(a.body_timeout)),
            format!("| {} (`--timeout`)", secs(a.timeout)),
            format!(
                "| {} (`--max-connections`)",
                thousands(u64::from(a.max_connections))
            ),
            format!(
                "`TOKEN_RECHECK`, {} s",
                canary_server::TOKEN_RECHECK.as_secs()
            ),
            format!(
                "`{}` and 43 base64url characters (32 bytes",
                canary_engine::tokens::PREFIX
            ),
        ] {
            let line = line.trim_start_matches("| ");
            assert!(
                security.contains(line),
                "docs/security.md does not say: {line}"
            );
        }
        let api = doc("docs/api.md");
        for line in [
            format!("| `--rate` | {} |", a.rate),
            format!(
                "| `--rate-per-address` | {} |",
                thousands(u64::from(a.rate_per_address))
            ),
            format!("| `--timeout` | {} |", secs(a.timeout)),
            format!("| `--header-timeout` | {} |", secs(a.header_timeout)),
            format!("| `--body-timeout` | {} |", secs(a.body_timeout)),
            format!(
                "| `--max-connections` | {} |",
                thousands(u64::from(a.max_connections))
            ),
            format!(
                "| `--max-body` | {} bytes |",
                thousands(u64::from(a.max_body))
            ),
        ] {
            assert!(api.contains(&line), "docs/api.md does not say: {line}");
        }
        let engine: String = doc("docs/engine.md")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let limits = format!(
            "a rule is at most {} characters, {MAX_DEPTH} levels of parentheses, `not` and calls, and {MAX_CONDITIONS} conditions; numbers are at most {MAX_NUMBER:e}",
            thousands(MAX_RULE_CHARS as u64)
        );
        assert!(
            engine.contains(&limits),
            "docs/engine.md does not say: {limits}"
        );
        let arch: String = doc("ARCHITECTURE.md")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let bounds = format!(
            "prices {:e} to {:e}, volumes to {:e}, trades to {:e}",
            canary_model::MIN_PRICE,
            canary_model::MAX_PRICE,
            canary_model::MAX_VOLUME,
            canary_model::MAX_TRADES as f64
        );
        assert!(
            arch.contains(&bounds),
            "ARCHITECTURE.md does not say: {bounds}"
        );
        let record = format!(
            "a record longer than {} KiB refused",
            canary_ingest::lines::MAX_RECORD_BYTES / 1024
        );
        assert!(
            arch.contains(&record),
            "ARCHITECTURE.md does not say: {record}"
        );
    }
}
