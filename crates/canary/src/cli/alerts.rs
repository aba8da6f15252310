//! Alert rules: `alerts` (backtest, add, list, rm, check, log, test, silence).

use std::path::PathBuf;

use canary_model::{Timeframe, Timestamp};
use clap::{Args, Subcommand, ValueEnum};

use super::OutputFormat::{Json, Md, Table};
use super::{Formats, OutputFormat, duration_ms, non_negative, seconds, whole};

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
    #[arg(long, default_value = canary_delivery::channels::TELEGRAM_API)]
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
