//! `canary.toml`: the markets the engine builds, its sources, and how alerts are sent.
//!
//! ```toml
//! speed = 0                          # 0: as fast as the engine takes them; 3600: an hour a second
//!
//! [[market]]
//! symbol = "BTCUSDT"
//! timeframes = ["4h", "1d"]          # the lowest is what sources send; the others are built
//!
//! [[source]]                         # a bar file replayed (any layout `canary import` reads)
//! type = "bars"
//! path = "btcusdt_4h.csv"            # relative to this file
//! symbol = "BTCUSDT"
//! from = "2026-02-05T00:00:00Z"      # bars closing after this time…
//! to = "2026-02-07T00:00:00Z"        # …up to and including this one
//!
//! [[source]]                         # Canary's market simulator (stored as simulated)
//! type = "simulator"
//! symbol = "SIMUSDT"
//! timeframe = "1m"
//! bars = 1440
//! scenario = "crash"
//! seed = 7
//! from = "2026-01-10T00:00:00Z"      # optional: only bars closing after it
//! [[source]]                         # Binance USDⓈ-M futures, live: mark, index, funding,
//! type = "binance-futures"           # liquidations (at most one per symbol per second: an
//! symbols = ["BTCUSDT"]              # undercount), open interest; no [[market]] needed
//! oi_every_secs = 60                 # the current open interest fetched this often
//! backfill_days = 30                 # 5-minute open interest and settled funding fetched back
//!
//! [[source]]                         # Bybit v5 linear, live: tickers and all liquidations
//! type = "bybit"
//! symbols = ["BTCUSDT"]
//!
//! [[source]]                         # the events an earlier run stored, replayed
//! type = "events"
//! db = "recorded.db"                 # or postgres://…; had after `from`, up to `to`
//! from = "2026-02-05T00:00:00Z"
//! to = "2026-02-07T00:00:00Z"
//!
//! [[schedule]]                       # beside live sources: the stored feeds polled
//! type = "news"
//! every_secs = 300
//!
//! [[schedule]]                       # network data fetched from a mempool instance
//! type = "mempool"
//! url = "https://mempool.space/api"
//! every_secs = 3600
//!
//! [alerts]
//! check = true                       # check the stored rules at each bar close
//! attempts = 4
//! backoff_secs = 0.5
//! timeout_secs = 10
//! allow_private = false              # true: also deliver to loopback and private addresses
//! ```
//!
//! Every field is checked when the file is read; an error names the file, the source and the
//! field.

use std::path::{Path, PathBuf};

use canary_model::{Symbol, Timeframe, Timestamp};
use canary_sim::{Scenario, SimParams};
use serde::Deserialize;

use canary_engine::EngineError;

/// The whole file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Pacing of the events by their own times: 0 takes them as fast as the engine can,
    /// 3600 plays an hour a second.
    #[serde(default)]
    pub speed: f64,
    #[serde(rename = "market", default)]
    pub markets: Vec<MarketConfig>,
    #[serde(rename = "source", default)]
    pub sources: Vec<SourceConfig>,
    /// Pairs of markets whose bars are compared at each close (two venues of one asset).
    #[serde(rename = "crosscheck", default)]
    pub crosschecks: Vec<CrossCheckConfig>,
    /// Jobs run on the wall clock beside live sources: feeds polled, network data fetched.
    #[serde(rename = "schedule", default)]
    pub schedules: Vec<ScheduleConfig>,
    #[serde(default)]
    pub alerts: AlertsConfig,
}

/// One `[[market]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketConfig {
    pub symbol: Symbol,
    pub timeframes: Vec<Timeframe>,
}

/// One `[[source]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceConfig {
    Bars {
        path: PathBuf,
        symbol: Symbol,
        name: Option<String>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    },
    Simulator {
        symbol: Symbol,
        timeframe: Timeframe,
        bars: usize,
        #[serde(default = "crash")]
        scenario: String,
        #[serde(default = "seven")]
        seed: u64,
        start: Option<Timestamp>,
        #[serde(default = "sixty_thousand")]
        start_price: f64,
        /// Only the bars closing after this time (the ones before stored as history).
        from: Option<Timestamp>,
    },
    /// Binance spot klines, live (WebSocket, with REST backfill of any gap).
    Binance {
        symbols: Vec<Symbol>,
        /// The kline interval (default: the markets' lowest timeframe).
        timeframe: Option<Timeframe>,
        #[serde(default = "binance_ws")]
        ws: String,
        #[serde(default = "binance_rest")]
        rest: String,
        /// No message for this long: a stale event and a new connection.
        #[serde(default = "sixty")]
        stale_after_secs: f64,
        /// A PEM file of CA certificates trusted besides the web roots.
        ca: Option<PathBuf>,
    },
    /// Coinbase Exchange trades, live (the matches channel), a second venue.
    Coinbase {
        /// Product ids and the market symbol each feeds: `{ "BTC-USD" = "BTCUSD" }`.
        products: std::collections::BTreeMap<String, Symbol>,
        #[serde(default = "coinbase_ws")]
        ws: String,
        #[serde(default = "thirty")]
        stale_after_secs: f64,
        ca: Option<PathBuf>,
    },
    /// Binance USDⓈ-M futures, live: mark prices with the predicted funding rate, liquidation
    /// orders (at most one per symbol per second: an undercount), open interest and settled
    /// funding rates over REST.
    #[serde(rename = "binance-futures")]
    BinanceFutures {
        symbols: Vec<Symbol>,
        #[serde(default = "binance_futures_ws")]
        ws: String,
        #[serde(default = "binance_futures_rest")]
        rest: String,
        #[serde(default = "thirty")]
        stale_after_secs: f64,
        /// How often the current open interest is fetched.
        #[serde(default = "sixty")]
        oi_every_secs: f64,
        /// How far back the 5-minute open interest and settled funding rates are fetched when
        /// the store holds none (at most 30: what Binance serves).
        #[serde(default = "thirty")]
        backfill_days: f64,
        ca: Option<PathBuf>,
    },
    /// Bybit v5 linear contracts, live: tickers (mark, index, open interest, funding) and all
    /// liquidations, with the 5-minute open interest and settled funding rates over REST.
    Bybit {
        symbols: Vec<Symbol>,
        #[serde(default = "bybit_ws")]
        ws: String,
        #[serde(default = "bybit_rest")]
        rest: String,
        #[serde(default = "thirty")]
        stale_after_secs: f64,
        #[serde(default = "thirty")]
        backfill_days: f64,
        ca: Option<PathBuf>,
    },
    Events {
        /// The database of the run to replay (not the one the engine writes to).
        db: PathBuf,
        from: Timestamp,
        to: Timestamp,
    },
}

fn binance_ws() -> String {
    canary_ingest::binance::WS_BASE.into()
}
fn coinbase_ws() -> String {
    canary_ingest::coinbase::WS_BASE.into()
}
fn binance_rest() -> String {
    canary_ingest::binance::REST_BASE.into()
}
fn binance_futures_ws() -> String {
    canary_ingest::binance_futures::WS_BASE.into()
}
fn binance_futures_rest() -> String {
    canary_ingest::binance_futures::REST_BASE.into()
}
fn bybit_ws() -> String {
    canary_ingest::bybit::WS_BASE.into()
}
fn bybit_rest() -> String {
    canary_ingest::bybit::REST_BASE.into()
}
fn sixty() -> f64 {
    60.0
}
fn crash() -> String {
    "crash".into()
}
fn seven() -> u64 {
    7
}
fn sixty_thousand() -> f64 {
    60_000.0
}

/// One `[[crosscheck]]`: the closes of `a` and `b` on `timeframe` compared at each bar both
/// have; a difference above `max_diff_pct` is reported.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossCheckConfig {
    pub a: Symbol,
    pub b: Symbol,
    pub timeframe: Timeframe,
    #[serde(default = "half")]
    pub max_diff_pct: f64,
}

/// One `[[schedule]]`: a job run every `every_secs` (first at start).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScheduleConfig {
    /// Poll the stored feeds that are due (`canary news feeds add` stores them).
    News {
        #[serde(default = "five_minutes")]
        every_secs: f64,
        #[serde(default = "thirty")]
        timeout_secs: f64,
    },
    /// Fetch network data from a mempool instance.
    Mempool {
        #[serde(default = "mempool_url")]
        url: String,
        /// The hash-rate history fetched: `1m`, `3m`, `1y`, `all`.
        #[serde(default = "one_month")]
        period: String,
        #[serde(default = "an_hour")]
        every_secs: f64,
        #[serde(default = "thirty")]
        timeout_secs: f64,
    },
}

impl ScheduleConfig {
    /// The job's name in outputs.
    #[must_use]
    pub fn name(&self) -> String {
        match self {
            Self::News { .. } => "news".into(),
            Self::Mempool { url, .. } => format!("mempool {url}"),
        }
    }

    /// How often it runs.
    #[must_use]
    pub fn every(&self) -> std::time::Duration {
        match self {
            Self::News { every_secs, .. } | Self::Mempool { every_secs, .. } => {
                std::time::Duration::from_secs_f64(*every_secs)
            }
        }
    }
}

fn five_minutes() -> f64 {
    300.0
}
fn an_hour() -> f64 {
    3600.0
}
fn thirty() -> f64 {
    30.0
}
fn one_month() -> String {
    "1m".into()
}
fn mempool_url() -> String {
    "https://mempool.space/api".into()
}

/// `[alerts]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    #[serde(default = "yes")]
    pub check: bool,
    #[serde(default = "four")]
    pub attempts: usize,
    #[serde(default = "half")]
    pub backoff_secs: f64,
    #[serde(default = "ten")]
    pub timeout_secs: f64,
    /// Deliver to loopback and private addresses (your own receiver on this machine or your
    /// network). Off by default: notices go to public addresses only.
    #[serde(default)]
    pub allow_private: bool,
    /// Notices about the sources themselves.
    pub system: Option<SystemConfig>,
}

/// `[alerts.system]`: where notices about the sources go, and which.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    /// As a rule's channel: `{ type = "webhook", url = "…", secret = "…" }`, `slack`,
    /// `discord`, `telegram`, `email`.
    pub channel: canary_engine::alerting::Channel,
    /// `stale`, `gap`, `reconnected`, `malformed`, `divergence`.
    #[serde(default = "system_events")]
    pub events: Vec<String>,
}

fn system_events() -> Vec<String> {
    vec!["stale".into(), "divergence".into()]
}

/// The event kinds a system notice can be about.
pub const SYSTEM_EVENTS: [&str; 5] = ["stale", "gap", "reconnected", "malformed", "divergence"];

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            check: true,
            attempts: 4,
            backoff_secs: 0.5,
            timeout_secs: 10.0,
            allow_private: false,
            system: None,
        }
    }
}

fn yes() -> bool {
    true
}
fn four() -> usize {
    4
}
fn half() -> f64 {
    0.5
}
fn ten() -> f64 {
    10.0
}

impl SourceConfig {
    /// Whether it streams live (on the wall clock) rather than replaying.
    #[must_use]
    pub fn is_live(&self) -> bool {
        matches!(
            self,
            Self::Binance { .. }
                | Self::Coinbase { .. }
                | Self::BinanceFutures { .. }
                | Self::Bybit { .. }
        )
    }

    /// Whether it sends derivatives data only (it builds no market's bars).
    #[must_use]
    pub fn is_derivatives(&self) -> bool {
        matches!(self, Self::BinanceFutures { .. } | Self::Bybit { .. })
    }
}

/// A derivatives source's symbols (each a market in a series key), its limits and, for
/// Binance, the routed base its streams need.
fn check_derivatives(
    n: usize,
    symbols: &[Symbol],
    ws: &str,
    stale_after_secs: f64,
    backfill_days: f64,
) -> Result<(), Bad> {
    if symbols.is_empty() {
        return bad(format!("source {n}: symbols"), "name at least one");
    }
    for s in symbols {
        if let Err(e) = canary_ingest::perp::series(
            canary_model::derivatives::DerivKind::MarkPrice,
            s.as_str(),
            "binance",
            canary_model::derivatives::Interval::M1,
        ) {
            return bad(format!("source {n}: symbol {s}"), e);
        }
    }
    if stale_after_secs > 50.0 {
        return bad(
            format!("source {n}: stale_after_secs"),
            "0.1 to 50 (a silence must be reported before the liquidation minutes it touches are stored, a minute after their end)",
        );
    }
    if !(0.0..=30.0).contains(&backfill_days) {
        return bad(format!("source {n}: backfill_days"), "0 to 30");
    }
    if let Ok(u) = url::Url::parse(ws)
        && u.host_str() == Some("fstream.binance.com")
        && !u.path().starts_with("/market")
    {
        return bad(
            format!("source {n}: ws {ws:?}"),
            "Binance serves mark prices and liquidations on wss://fstream.binance.com/market since 2026 (the old paths connect and send nothing)",
        );
    }
    Ok(())
}

/// A field that fails its check: where it is in the file, and what it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bad {
    field: String,
    why: String,
}

/// Refuse `field`: it must be `why`.
fn bad(field: impl Into<String>, why: impl Into<String>) -> Result<(), Bad> {
    Err(Bad {
        field: field.into(),
        why: why.into(),
    })
}

/// A source's address `field` (`ws`, `rest`): a URL of one of `schemes`.
fn check_address(n: usize, field: &str, u: &str, schemes: [&str; 2]) -> Result<(), Bad> {
    match url::Url::parse(u) {
        Ok(x) if schemes.contains(&x.scheme()) => Ok(()),
        _ => bad(
            format!("source {n}: {field} {u:?}"),
            format!("a {} or {} URL", schemes[0], schemes[1]),
        ),
    }
}

/// A live source's silence limit and its extra CA file, if any.
fn check_live(n: usize, stale_after_secs: f64, ca: Option<&Path>) -> Result<(), Bad> {
    if !(0.1..=86_400.0).contains(&stale_after_secs) {
        return bad(format!("source {n}: stale_after_secs"), "0.1 to 86400");
    }
    if let Some(ca) = ca.filter(|p| !p.is_file()) {
        return bad(format!("source {n}: ca {}", ca.display()), "no such file");
    }
    Ok(())
}

impl ScheduleConfig {
    /// `[[schedule]]` number `n`: its period and timeout, and a mempool job's address and
    /// history period.
    fn check(&self, n: usize) -> Result<(), Bad> {
        let (every, timeout) = match self {
            ScheduleConfig::News {
                every_secs,
                timeout_secs,
            }
            | ScheduleConfig::Mempool {
                every_secs,
                timeout_secs,
                ..
            } => (*every_secs, *timeout_secs),
        };
        if !(1.0..=604_800.0).contains(&every) {
            return bad(format!("schedule {n}: every_secs"), "1 to 604800 (a week)");
        }
        if !(0.1..=3600.0).contains(&timeout) {
            return bad(format!("schedule {n}: timeout_secs"), "0.1 to 3600");
        }
        if let ScheduleConfig::Mempool { url, period, .. } = self {
            if !matches!(url::Url::parse(url), Ok(u) if matches!(u.scheme(), "http" | "https")) {
                return bad(format!("schedule {n}: url {url:?}"), "an http or https URL");
            }
            if !["1m", "3m", "6m", "1y", "2y", "3y", "all"].contains(&period.as_str()) {
                return bad(
                    format!("schedule {n}: period {period:?}"),
                    "1m, 3m, 6m, 1y, 2y, 3y or all",
                );
            }
        }
        Ok(())
    }
}

impl AlertsConfig {
    /// `[alerts]`: attempts, backoff and timeout in range, and the system notices' events
    /// and destination.
    fn check(&self) -> Result<(), Bad> {
        if !(1..=20).contains(&self.attempts) {
            return bad("alerts.attempts", "1 to 20");
        }
        if !(0.0..=3600.0).contains(&self.backoff_secs) {
            return bad("alerts.backoff_secs", "0 to 3600");
        }
        if !(0.001..=3600.0).contains(&self.timeout_secs) {
            return bad("alerts.timeout_secs", "0.001 to 3600");
        }
        if let Some(sys) = &self.system {
            if let Some(bad_event) = sys
                .events
                .iter()
                .find(|e| !SYSTEM_EVENTS.contains(&e.as_str()))
            {
                return bad(
                    format!("alerts.system.events {bad_event:?}"),
                    "stale, gap, reconnected, malformed or divergence",
                );
            }
            if let Some(Err(why)) = sys
                .channel
                .address()
                .map(|url| canary_delivery::guard::check_url(&url, self.allow_private))
            {
                return bad("alerts.system.channel", why);
            }
        }
        Ok(())
    }
}

impl Config {
    /// Read and check a config file; relative paths in it are taken from its folder.
    ///
    /// # Errors
    /// An unreadable file, TOML that does not parse or names an unknown field, a value out
    /// of range: each naming the file and the field.
    pub fn load(path: &Path) -> Result<Self, EngineError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            EngineError::param("config", path.display().to_string(), &e.to_string())
        })?;
        let mut c: Config = toml::from_str(&text).map_err(|e| {
            EngineError::param(
                "config",
                path.display().to_string(),
                e.to_string().trim_end(),
            )
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for s in &mut c.sources {
            if let SourceConfig::Bars { path: p, .. }
            | SourceConfig::Events { db: p, .. }
            | SourceConfig::Binance { ca: Some(p), .. }
            | SourceConfig::Coinbase { ca: Some(p), .. }
            | SourceConfig::BinanceFutures { ca: Some(p), .. }
            | SourceConfig::Bybit { ca: Some(p), .. } = s
                && p.is_relative()
                && canary_store::server_address(p).is_none()
            {
                *p = dir.join(&*p);
            }
        }
        c.check(path)?;
        Ok(c)
    }

    fn check(&self, path: &Path) -> Result<(), EngineError> {
        self.check_fields().map_err(|b| {
            EngineError::param("config", format!("{}: {}", path.display(), b.field), &b.why)
        })
    }

    /// Every section in turn, the first field that fails: markets and sources named,
    /// schedules, speed, each source, live and replayed sources apart, cross-checks, alerts.
    fn check_fields(&self) -> Result<(), Bad> {
        let derivatives_only =
            !self.sources.is_empty() && self.sources.iter().all(SourceConfig::is_derivatives);
        if self.markets.is_empty() && !derivatives_only {
            return bad("[[market]]", "name at least one market");
        }
        if self.sources.is_empty() && self.schedules.is_empty() {
            return bad("[[source]]", "name at least one source or schedule");
        }
        for (i, j) in self.schedules.iter().enumerate() {
            j.check(i + 1)?;
        }
        if !(0.0..=1e9).contains(&self.speed) {
            return bad("speed", "0 (no pacing) to 1e9");
        }
        for (i, s) in self.sources.iter().enumerate() {
            self.check_source(i + 1, s)?;
        }
        self.check_clocks()?;
        for (i, c) in self.crosschecks.iter().enumerate() {
            self.check_crosscheck(i + 1, c)?;
        }
        self.alerts.check()
    }

    /// The market of `symbol`, if one is named.
    fn market(&self, symbol: &Symbol) -> Option<&MarketConfig> {
        self.markets.iter().find(|m| &m.symbol == symbol)
    }

    /// `[[source]]` number `n`: its files, ranges and addresses, and a market for each
    /// symbol it feeds.
    fn check_source(&self, n: usize, s: &SourceConfig) -> Result<(), Bad> {
        let no_market = |symbol: &Symbol| {
            bad(
                format!("source {n}: symbol {symbol}"),
                "no [[market]] has it",
            )
        };
        match s {
            SourceConfig::Bars {
                path: p, symbol, ..
            } => {
                if !p.is_file() {
                    return bad(format!("source {n}: path {}", p.display()), "no such file");
                }
                if self.market(symbol).is_none() {
                    return no_market(symbol);
                }
            }
            SourceConfig::Simulator {
                symbol,
                bars,
                scenario,
                start_price,
                ..
            } => {
                if !(1..=10_000_000).contains(bars) {
                    return bad(format!("source {n}: bars"), "1 to 10,000,000");
                }
                if scenario.parse::<Scenario>().is_err() {
                    return bad(
                        format!("source {n}: scenario {scenario:?}"),
                        "calm, trend or crash",
                    );
                }
                if !(start_price.is_finite() && *start_price > 0.0) {
                    return bad(format!("source {n}: start_price"), "a positive price");
                }
                if self.market(symbol).is_none() {
                    return no_market(symbol);
                }
            }
            SourceConfig::Binance {
                symbols,
                timeframe,
                ws,
                rest,
                stale_after_secs,
                ca,
            } => {
                if symbols.is_empty() {
                    return bad(format!("source {n}: symbols"), "name at least one");
                }
                for sym in symbols {
                    let Some(m) = self.market(sym) else {
                        return no_market(sym);
                    };
                    let base = m.timeframes.iter().min_by_key(|t| t.duration_ms());
                    if let (Some(tf), Some(base)) = (timeframe, base)
                        && tf != base
                    {
                        return bad(
                            format!("source {n}: timeframe {tf}"),
                            format!("the market's lowest timeframe is {base}"),
                        );
                    }
                }
                check_address(n, "ws", ws, ["ws", "wss"])?;
                check_address(n, "rest", rest, ["http", "https"])?;
                check_live(n, *stale_after_secs, ca.as_deref())?;
            }
            SourceConfig::Coinbase {
                products,
                ws,
                stale_after_secs,
                ca,
            } => {
                if products.is_empty() {
                    return bad(format!("source {n}: products"), "name at least one");
                }
                for (product, sym) in products {
                    if self.market(sym).is_none() {
                        return bad(
                            format!("source {n}: products.{product} = {sym}"),
                            "no [[market]] has it",
                        );
                    }
                }
                check_address(n, "ws", ws, ["ws", "wss"])?;
                check_live(n, *stale_after_secs, ca.as_deref())?;
            }
            SourceConfig::BinanceFutures {
                symbols,
                ws,
                rest,
                stale_after_secs,
                oi_every_secs,
                backfill_days,
                ca,
            } => {
                check_derivatives(n, symbols, ws, *stale_after_secs, *backfill_days)?;
                if symbols.len() > 100 {
                    return bad(
                        format!("source {n}: symbols"),
                        "at most 100 (two streams each, and Binance allows 200 on a connection)",
                    );
                }
                if !(5.0..=3600.0).contains(oi_every_secs) {
                    return bad(format!("source {n}: oi_every_secs"), "5 to 3600");
                }
                check_address(n, "ws", ws, ["ws", "wss"])?;
                check_address(n, "rest", rest, ["http", "https"])?;
                check_live(n, *stale_after_secs, ca.as_deref())?;
            }
            SourceConfig::Bybit {
                symbols,
                ws,
                rest,
                stale_after_secs,
                backfill_days,
                ca,
            } => {
                check_derivatives(n, symbols, ws, *stale_after_secs, *backfill_days)?;
                check_address(n, "ws", ws, ["ws", "wss"])?;
                check_address(n, "rest", rest, ["http", "https"])?;
                check_live(n, *stale_after_secs, ca.as_deref())?;
            }
            SourceConfig::Events { db, from, to } => {
                if to <= from {
                    return bad(format!("source {n}: to"), "must be after from");
                }
                if !canary_store::exists(db) {
                    return bad(
                        format!("source {n}: db {}", db.display()),
                        "no such database",
                    );
                }
            }
        }
        Ok(())
    }

    /// Live sources and schedules run on the wall clock, replays on their own clock: one
    /// file cannot have both.
    fn check_clocks(&self) -> Result<(), Bad> {
        let live = self.sources.iter().filter(|s| s.is_live()).count();
        let replays = self.sources.len() - live;
        if replays > 0 && (live > 0 || !self.schedules.is_empty()) {
            return bad(
                "[[source]]",
                "live sources and schedules run on the wall clock, replays on their own: run them apart",
            );
        }
        Ok(())
    }

    /// `[[crosscheck]]` number `n`: both markets built on its timeframe, a sensible limit.
    fn check_crosscheck(&self, n: usize, c: &CrossCheckConfig) -> Result<(), Bad> {
        for sym in [&c.a, &c.b] {
            if !self
                .markets
                .iter()
                .any(|m| &m.symbol == sym && m.timeframes.contains(&c.timeframe))
            {
                return bad(
                    format!("crosscheck {n}: {sym} {}", c.timeframe),
                    "no [[market]] builds it",
                );
            }
        }
        if !(c.max_diff_pct > 0.0 && c.max_diff_pct <= 100.0) {
            return bad(
                format!("crosscheck {n}: max_diff_pct"),
                "above 0, at most 100",
            );
        }
        Ok(())
    }

    /// The simulator's parameters for a simulator source.
    #[must_use]
    pub fn sim_params(s: &SourceConfig) -> Option<SimParams> {
        match s {
            SourceConfig::Simulator {
                timeframe,
                bars,
                scenario,
                seed,
                start,
                start_price,
                ..
            } => Some(SimParams {
                timeframe: *timeframe,
                bars: *bars,
                seed: *seed,
                scenario: scenario.parse().ok()?,
                start: start.unwrap_or(SimParams::DEFAULT_START),
                start_price: *start_price,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_is_checked_field_by_field() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("canary.toml");
        std::fs::write(dir.path().join("bars.csv"), "x").unwrap();
        let write = |text: &str| {
            std::fs::write(&f, text).unwrap();
            Config::load(&f)
        };
        let market = "[[market]]\nsymbol = \"BTCUSDT\"\ntimeframes = [\"4h\", \"1d\"]\n";
        let good = write(&format!(
            "{market}[[source]]\ntype = \"bars\"\npath = \"bars.csv\"\nsymbol = \"BTCUSDT\"\n"
        ))
        .unwrap();
        match &good.sources[0] {
            SourceConfig::Bars { path, .. } => assert_eq!(path, &dir.path().join("bars.csv")),
            other => panic!("{other:?}"),
        }
        assert!(good.alerts.check);
        // A recorded run on a server is its address, not a path beside the config.
        let server = "postgres://canary@127.0.0.1:5432/canary";
        let events = write(&format!(
            "{market}[[source]]\ntype = \"events\"\ndb = \"{server}\"\n\
             from = \"2026-02-05T00:00:00Z\"\nto = \"2026-02-07T00:00:00Z\"\n"
        ))
        .unwrap();
        match &events.sources[0] {
            SourceConfig::Events { db, .. } => assert_eq!(db, Path::new(server)),
            other => panic!("{other:?}"),
        }
        let err = |text: String| write(&text).unwrap_err().to_string();
        let e = err(format!(
            "{market}[[source]]\ntype = \"bars\"\npath = \"nope.csv\"\nsymbol = \"BTCUSDT\"\n"
        ));
        assert!(
            e.contains("source 1: path") && e.contains("no such file"),
            "{e}"
        );
        let e = err(format!(
            "{market}[[source]]\ntype = \"simulator\"\nsymbol = \"BTCUSDT\"\ntimeframe = \"1m\"\nbars = 0\n"
        ));
        assert!(e.contains("source 1: bars"), "{e}");
        let e = err(format!(
            "{market}[[source]]\ntype = \"bars\"\npath = \"bars.csv\"\nsymbol = \"BTCUSDT\"\nsped = 1\n"
        ));
        assert!(e.contains("sped"), "{e}");
        let e = err(format!(
            "{market}[[source]]\ntype = \"bars\"\npath = \"bars.csv\"\nsymbol = \"ETHUSDT\"\n"
        ));
        assert!(e.contains("no [[market]] has it"), "{e}");
    }

    /// The field and the reason of a refusal.
    fn refused(r: Result<(), Bad>) -> (String, String) {
        let b = r.unwrap_err();
        (b.field, b.why)
    }

    fn sym(s: &str) -> Symbol {
        Symbol::new(s).unwrap()
    }

    /// A file naming BTCUSDT on 4h and 1d and one bar file for it, with `bars.csv` in `dir`.
    fn bars_config(dir: &Path) -> Config {
        std::fs::write(dir.join("bars.csv"), "x").unwrap();
        Config {
            speed: 0.0,
            markets: vec![MarketConfig {
                symbol: sym("BTCUSDT"),
                timeframes: vec![Timeframe::H4, Timeframe::D1],
            }],
            sources: vec![SourceConfig::Bars {
                path: dir.join("bars.csv"),
                symbol: sym("BTCUSDT"),
                name: None,
                from: None,
                to: None,
            }],
            crosschecks: Vec::new(),
            schedules: Vec::new(),
            alerts: AlertsConfig::default(),
        }
    }

    fn binance(symbols: &[&str], timeframe: Option<Timeframe>) -> SourceConfig {
        SourceConfig::Binance {
            symbols: symbols.iter().map(|s| sym(s)).collect(),
            timeframe,
            ws: binance_ws(),
            rest: binance_rest(),
            stale_after_secs: 60.0,
            ca: None,
        }
    }

    #[test]
    fn a_schedule_is_checked_by_its_period_timeout_address_and_history() {
        let news = |every_secs, timeout_secs| ScheduleConfig::News {
            every_secs,
            timeout_secs,
        };
        assert_eq!(news(300.0, 30.0).check(1), Ok(()));
        assert_eq!(
            refused(news(0.5, 30.0).check(2)),
            (
                "schedule 2: every_secs".into(),
                "1 to 604800 (a week)".into()
            )
        );
        assert_eq!(
            refused(news(300.0, 3601.0).check(1)).0,
            "schedule 1: timeout_secs"
        );
        let mempool = |url: &str, period: &str| ScheduleConfig::Mempool {
            url: url.into(),
            period: period.into(),
            every_secs: 3600.0,
            timeout_secs: 30.0,
        };
        assert_eq!(mempool("https://mempool.space/api", "3y").check(1), Ok(()));
        assert_eq!(
            refused(mempool("ftp://x", "1m").check(1)),
            (
                "schedule 1: url \"ftp://x\"".into(),
                "an http or https URL".into()
            )
        );
        assert_eq!(
            refused(mempool("https://mempool.space/api", "5y").check(3)).0,
            "schedule 3: period \"5y\""
        );
    }

    #[test]
    fn a_replayed_source_needs_its_file_range_and_market() {
        let dir = tempfile::tempdir().unwrap();
        let c = bars_config(dir.path());
        assert_eq!(c.check_source(1, &c.sources[0]), Ok(()));
        let missing = SourceConfig::Bars {
            path: dir.path().join("nope.csv"),
            symbol: sym("BTCUSDT"),
            name: None,
            from: None,
            to: None,
        };
        assert_eq!(refused(c.check_source(2, &missing)).1, "no such file");
        let sim = |bars, scenario: &str, start_price, symbol| SourceConfig::Simulator {
            symbol: sym(symbol),
            timeframe: Timeframe::H4,
            bars,
            scenario: scenario.into(),
            seed: 7,
            start: None,
            start_price,
            from: None,
        };
        assert_eq!(c.check_source(1, &sim(10, "calm", 1.0, "BTCUSDT")), Ok(()));
        for (s, field) in [
            (sim(0, "calm", 1.0, "BTCUSDT"), "source 1: bars"),
            (
                sim(10, "boom", 1.0, "BTCUSDT"),
                "source 1: scenario \"boom\"",
            ),
            (
                sim(10, "calm", f64::NAN, "BTCUSDT"),
                "source 1: start_price",
            ),
            (sim(10, "calm", 1.0, "ETHUSDT"), "source 1: symbol ETHUSDT"),
        ] {
            assert_eq!(refused(c.check_source(1, &s)).0, field);
        }
        let now = Timestamp::parse("2026-02-06T00:00:00Z").unwrap();
        let events = |db: PathBuf, to| SourceConfig::Events { db, from: now, to };
        assert_eq!(
            refused(c.check_source(4, &events(dir.path().join("bars.csv"), now))),
            ("source 4: to".into(), "must be after from".into())
        );
        let later = now.add_millis(1);
        let db = dir.path().join("none.db");
        assert_eq!(
            refused(c.check_source(4, &events(db.clone(), later))).0,
            format!("source 4: db {}", db.display())
        );
    }

    #[test]
    fn a_live_source_needs_its_markets_base_timeframe_and_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let c = bars_config(dir.path());
        assert_eq!(
            c.check_source(1, &binance(&["BTCUSDT"], Some(Timeframe::H4))),
            Ok(())
        );
        assert_eq!(
            refused(c.check_source(1, &binance(&[], None))).0,
            "source 1: symbols"
        );
        assert_eq!(
            refused(c.check_source(1, &binance(&["BTCUSDT", "ETHUSDT"], None))),
            (
                "source 1: symbol ETHUSDT".into(),
                "no [[market]] has it".into()
            )
        );
        assert_eq!(
            refused(c.check_source(1, &binance(&["BTCUSDT"], Some(Timeframe::D1)))),
            (
                "source 1: timeframe 1d".into(),
                "the market's lowest timeframe is 4h".into()
            )
        );
        let mut b = binance(&["BTCUSDT"], None);
        if let SourceConfig::Binance { rest, .. } = &mut b {
            *rest = "wss://api.binance.com".into();
        }
        assert_eq!(
            refused(c.check_source(1, &b)),
            (
                "source 1: rest \"wss://api.binance.com\"".into(),
                "a http or https URL".into()
            )
        );
        let coinbase = |product: &str, symbol: &str, stale_after_secs, ca| SourceConfig::Coinbase {
            products: [(product.to_string(), sym(symbol))].into(),
            ws: coinbase_ws(),
            stale_after_secs,
            ca,
        };
        assert_eq!(
            c.check_source(2, &coinbase("BTC-USD", "BTCUSDT", 30.0, None)),
            Ok(())
        );
        assert_eq!(
            refused(c.check_source(2, &coinbase("ETH-USD", "ETHUSD", 30.0, None))).0,
            "source 2: products.ETH-USD = ETHUSD"
        );
        assert_eq!(
            refused(c.check_source(2, &coinbase("BTC-USD", "BTCUSDT", 0.0, None))).0,
            "source 2: stale_after_secs"
        );
        let ca = dir.path().join("ca.pem");
        assert_eq!(
            refused(c.check_source(2, &coinbase("BTC-USD", "BTCUSDT", 30.0, Some(ca.clone())))),
            (
                format!("source 2: ca {}", ca.display()),
                "no such file".into()
            )
        );
    }

    /// The derivatives sources need no market; their limits, symbols and Binance's routed
    /// base are checked; they run live.
    #[test]
    fn a_derivatives_source_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("canary.toml");
        let load = |text: &str| {
            std::fs::write(&f, text).unwrap();
            Config::load(&f)
        };
        let c = load(
            "[[source]]\ntype = \"binance-futures\"\nsymbols = [\"BTCUSDT\"]\n\n[[source]]\ntype = \"bybit\"\nsymbols = [\"BTCUSDT\", \"ETHUSDT\"]\nbackfill_days = 7\n",
        )
        .unwrap();
        assert!(c.markets.is_empty());
        assert!(c.sources.iter().all(SourceConfig::is_live));
        match &c.sources[0] {
            SourceConfig::BinanceFutures {
                ws,
                rest,
                stale_after_secs,
                oi_every_secs,
                backfill_days,
                ..
            } => {
                assert_eq!(ws, "wss://fstream.binance.com/market");
                assert_eq!(rest, "https://fapi.binance.com");
                assert_eq!(
                    (*stale_after_secs, *oi_every_secs, *backfill_days),
                    (30.0, 60.0, 30.0)
                );
            }
            other => panic!("{other:?}"),
        }
        let with = |extra: &str| -> (String, String) {
            let s: SourceConfig = toml::from_str(&format!(
                "type = \"binance-futures\"\nsymbols = [\"BTCUSDT\"]\n{extra}"
            ))
            .unwrap();
            refused(c.check_source(1, &s))
        };
        assert_eq!(
            with("ws = \"wss://fstream.binance.com/stream\"").0,
            "source 1: ws \"wss://fstream.binance.com/stream\""
        );
        assert!(
            with("ws = \"wss://fstream.binance.com/ws\"")
                .1
                .contains("/market since 2026")
        );
        assert_eq!(
            with("stale_after_secs = 60").0,
            "source 1: stale_after_secs"
        );
        assert_eq!(with("backfill_days = 31").1, "0 to 30");
        assert_eq!(with("oi_every_secs = 1").0, "source 1: oi_every_secs");
        assert_eq!(with("rest = \"ws://x\"").0, "source 1: rest \"ws://x\"");
        let e = load("[[source]]\ntype = \"bybit\"\nsymbols = []\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("source 1: symbols"), "{e}");
        let e = load("[[source]]\ntype = \"bybit\"\nsymbols = [\"BYBIT:BTCUSDT\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("source 1: symbol BYBIT:BTCUSDT"), "{e}");
        // Beside spot sources they still need their markets; not beside replays.
        let e = load("[[source]]\ntype = \"bybit\"\nsymbols = [\"BTCUSDT\"]\n[[source]]\ntype = \"coinbase\"\nproducts = { \"BTC-USD\" = \"BTCUSD\" }\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("[[market]]"), "{e}");
        // A CA file relative to the config.
        std::fs::write(dir.path().join("ca.pem"), "x").unwrap();
        let c = load("[[source]]\ntype = \"bybit\"\nsymbols = [\"BTCUSDT\"]\nca = \"ca.pem\"\n")
            .unwrap();
        assert!(
            matches!(&c.sources[0], SourceConfig::Bybit { ca: Some(p), .. } if p == &dir.path().join("ca.pem"))
        );
    }

    #[test]
    fn addresses_and_live_limits() {
        assert_eq!(
            check_address(1, "ws", "wss://x.example/ws", ["ws", "wss"]),
            Ok(())
        );
        assert_eq!(
            refused(check_address(1, "ws", "https://x.example", ["ws", "wss"])),
            (
                "source 1: ws \"https://x.example\"".into(),
                "a ws or wss URL".into()
            )
        );
        assert_eq!(
            refused(check_address(2, "rest", "not a url", ["http", "https"])).0,
            "source 2: rest \"not a url\""
        );
        assert_eq!(check_live(1, 0.1, None), Ok(()));
        assert_eq!(refused(check_live(1, 86_401.0, None)).1, "0.1 to 86400");
    }

    #[test]
    fn replays_and_the_wall_clock_run_apart() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = bars_config(dir.path());
        assert_eq!(c.check_clocks(), Ok(()));
        c.schedules.push(ScheduleConfig::News {
            every_secs: 300.0,
            timeout_secs: 30.0,
        });
        assert_eq!(refused(c.check_clocks()).0, "[[source]]");
        c.sources = vec![binance(&["BTCUSDT"], None)];
        assert_eq!(c.check_clocks(), Ok(()));
        c.sources.push(bars_config(dir.path()).sources.remove(0));
        assert_eq!(refused(c.check_clocks()).0, "[[source]]");
    }

    #[test]
    fn a_crosscheck_needs_both_markets_on_its_timeframe() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = bars_config(dir.path());
        c.markets.push(MarketConfig {
            symbol: sym("BTCUSD"),
            timeframes: vec![Timeframe::H4],
        });
        let cross = |timeframe, max_diff_pct| CrossCheckConfig {
            a: sym("BTCUSDT"),
            b: sym("BTCUSD"),
            timeframe,
            max_diff_pct,
        };
        assert_eq!(c.check_crosscheck(1, &cross(Timeframe::H4, 0.5)), Ok(()));
        assert_eq!(
            refused(c.check_crosscheck(2, &cross(Timeframe::D1, 0.5))),
            (
                "crosscheck 2: BTCUSD 1d".into(),
                "no [[market]] builds it".into()
            )
        );
        assert_eq!(
            refused(c.check_crosscheck(1, &cross(Timeframe::H4, 0.0))).0,
            "crosscheck 1: max_diff_pct"
        );
    }

    #[test]
    fn alerts_are_checked_with_their_system_notices() {
        assert_eq!(AlertsConfig::default().check(), Ok(()));
        let with = |f: fn(&mut AlertsConfig)| {
            let mut a = AlertsConfig::default();
            f(&mut a);
            a.check()
        };
        assert_eq!(refused(with(|a| a.attempts = 0)).0, "alerts.attempts");
        assert_eq!(
            refused(with(|a| a.backoff_secs = -1.0)).0,
            "alerts.backoff_secs"
        );
        assert_eq!(
            refused(with(|a| a.timeout_secs = 0.0)).0,
            "alerts.timeout_secs"
        );
        let system = |events: &str, url: &str| -> AlertsConfig {
            toml::from_str(&format!(
                "[system]\nchannel = {{ type = \"webhook\", url = \"{url}\" }}\nevents = {events}\n"
            ))
            .unwrap()
        };
        assert_eq!(
            system("[\"gap\"]", "https://example.com/hook").check(),
            Ok(())
        );
        assert_eq!(
            refused(system("[\"gap\", \"boom\"]", "https://example.com/hook").check()).0,
            "alerts.system.events \"boom\""
        );
        let private = system("[\"stale\"]", "http://127.0.0.1:9/hook");
        assert_eq!(refused(private.check()).0, "alerts.system.channel");
        let allowed = AlertsConfig {
            allow_private: true,
            ..private
        };
        assert_eq!(allowed.check(), Ok(()));
    }

    /// The first failing section names the field after the file's path.
    #[test]
    fn sections_are_checked_in_order_and_named_after_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = bars_config(dir.path());
        assert_eq!(c.check_fields(), Ok(()));
        c.speed = -1.0;
        c.alerts.attempts = 0;
        assert_eq!(refused(c.check_fields()).0, "speed");
        let e = c.check(Path::new("canary.toml")).unwrap_err().to_string();
        assert!(
            e.contains("canary.toml: speed") && e.contains("0 (no pacing) to 1e9"),
            "{e}"
        );
        c.speed = 0.0;
        assert_eq!(refused(c.check_fields()).0, "alerts.attempts");
        c.markets.clear();
        assert_eq!(refused(c.check_fields()).0, "[[market]]");
    }
}
