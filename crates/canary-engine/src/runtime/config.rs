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
//! [[source]]                         # the events an earlier run stored, replayed
//! type = "events"
//! db = "recorded.db"                 # had after `from`, up to and including `to`
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

use crate::EngineError;

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
    pub channel: crate::alerting::Channel,
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
        matches!(self, Self::Binance { .. } | Self::Coinbase { .. })
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
            | SourceConfig::Coinbase { ca: Some(p), .. } = s
                && p.is_relative()
            {
                *p = dir.join(&*p);
            }
        }
        c.check(path)?;
        Ok(c)
    }

    fn check(&self, path: &Path) -> Result<(), EngineError> {
        let at = |what: String, why: &str| {
            Err(EngineError::param(
                "config",
                format!("{}: {what}", path.display()),
                why,
            ))
        };
        if self.markets.is_empty() {
            return at("[[market]]".into(), "name at least one market");
        }
        if self.sources.is_empty() && self.schedules.is_empty() {
            return at("[[source]]".into(), "name at least one source or schedule");
        }
        for (i, j) in self.schedules.iter().enumerate() {
            let n = i + 1;
            let (every, timeout) = match j {
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
                return at(format!("schedule {n}: every_secs"), "1 to 604800 (a week)");
            }
            if !(0.1..=3600.0).contains(&timeout) {
                return at(format!("schedule {n}: timeout_secs"), "0.1 to 3600");
            }
            if let ScheduleConfig::Mempool { url, period, .. } = j {
                if !matches!(url::Url::parse(url), Ok(u) if matches!(u.scheme(), "http" | "https"))
                {
                    return at(format!("schedule {n}: url {url:?}"), "an http or https URL");
                }
                if !["1m", "3m", "6m", "1y", "2y", "3y", "all"].contains(&period.as_str()) {
                    return at(
                        format!("schedule {n}: period {period:?}"),
                        "1m, 3m, 6m, 1y, 2y, 3y or all",
                    );
                }
            }
        }
        if !(0.0..=1e9).contains(&self.speed) {
            return at("speed".into(), "0 (no pacing) to 1e9");
        }
        for (i, s) in self.sources.iter().enumerate() {
            let n = i + 1;
            match s {
                SourceConfig::Bars {
                    path: p, symbol, ..
                } => {
                    if !p.is_file() {
                        return at(format!("source {n}: path {}", p.display()), "no such file");
                    }
                    if !self.markets.iter().any(|m| &m.symbol == symbol) {
                        return at(
                            format!("source {n}: symbol {symbol}"),
                            "no [[market]] has it",
                        );
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
                        return at(format!("source {n}: bars"), "1 to 10,000,000");
                    }
                    if scenario.parse::<Scenario>().is_err() {
                        return at(
                            format!("source {n}: scenario {scenario:?}"),
                            "calm, trend or crash",
                        );
                    }
                    if !(start_price.is_finite() && *start_price > 0.0) {
                        return at(format!("source {n}: start_price"), "a positive price");
                    }
                    if !self.markets.iter().any(|m| &m.symbol == symbol) {
                        return at(
                            format!("source {n}: symbol {symbol}"),
                            "no [[market]] has it",
                        );
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
                        return at(format!("source {n}: symbols"), "name at least one");
                    }
                    for sym in symbols {
                        let Some(m) = self.markets.iter().find(|m| &m.symbol == sym) else {
                            return at(format!("source {n}: symbol {sym}"), "no [[market]] has it");
                        };
                        let base = m.timeframes.iter().min_by_key(|t| t.duration_ms());
                        if let (Some(tf), Some(base)) = (timeframe, base)
                            && tf != base
                        {
                            return at(
                                format!("source {n}: timeframe {tf}"),
                                &format!("the market's lowest timeframe is {base}"),
                            );
                        }
                    }
                    for (field, u, schemes) in
                        [("ws", ws, ["ws", "wss"]), ("rest", rest, ["http", "https"])]
                    {
                        match url::Url::parse(u) {
                            Ok(x) if schemes.contains(&x.scheme()) => {}
                            _ => {
                                return at(
                                    format!("source {n}: {field} {u:?}"),
                                    &format!("a {} or {} URL", schemes[0], schemes[1]),
                                );
                            }
                        }
                    }
                    if !(0.1..=86_400.0).contains(stale_after_secs) {
                        return at(format!("source {n}: stale_after_secs"), "0.1 to 86400");
                    }
                    if let Some(ca) = ca.as_ref().filter(|p| !p.is_file()) {
                        return at(format!("source {n}: ca {}", ca.display()), "no such file");
                    }
                }
                SourceConfig::Coinbase {
                    products,
                    ws,
                    stale_after_secs,
                    ca,
                } => {
                    if products.is_empty() {
                        return at(format!("source {n}: products"), "name at least one");
                    }
                    for (product, sym) in products {
                        if !self.markets.iter().any(|m| &m.symbol == sym) {
                            return at(
                                format!("source {n}: products.{product} = {sym}"),
                                "no [[market]] has it",
                            );
                        }
                    }
                    if !matches!(url::Url::parse(ws), Ok(u) if matches!(u.scheme(), "ws" | "wss")) {
                        return at(format!("source {n}: ws {ws:?}"), "a ws or wss URL");
                    }
                    if !(0.1..=86_400.0).contains(stale_after_secs) {
                        return at(format!("source {n}: stale_after_secs"), "0.1 to 86400");
                    }
                    if let Some(ca) = ca.as_ref().filter(|p| !p.is_file()) {
                        return at(format!("source {n}: ca {}", ca.display()), "no such file");
                    }
                }
                SourceConfig::Events { db, from, to } => {
                    if to <= from {
                        return at(format!("source {n}: to"), "must be after from");
                    }
                    if !db.is_file() {
                        return at(
                            format!("source {n}: db {}", db.display()),
                            "no such database",
                        );
                    }
                }
            }
        }
        let live = self.sources.iter().filter(|s| s.is_live()).count();
        let replays = self.sources.len() - live;
        if replays > 0 && (live > 0 || !self.schedules.is_empty()) {
            return at(
                "[[source]]".into(),
                "live sources and schedules run on the wall clock, replays on their own: run them apart",
            );
        }
        for (i, c) in self.crosschecks.iter().enumerate() {
            let n = i + 1;
            for sym in [&c.a, &c.b] {
                if !self
                    .markets
                    .iter()
                    .any(|m| &m.symbol == sym && m.timeframes.contains(&c.timeframe))
                {
                    return at(
                        format!("crosscheck {n}: {sym} {}", c.timeframe),
                        "no [[market]] builds it",
                    );
                }
            }
            if !(c.max_diff_pct > 0.0 && c.max_diff_pct <= 100.0) {
                return at(
                    format!("crosscheck {n}: max_diff_pct"),
                    "above 0, at most 100",
                );
            }
        }
        let a = &self.alerts;
        if !(1..=20).contains(&a.attempts) {
            return at("alerts.attempts".into(), "1 to 20");
        }
        if !(0.0..=3600.0).contains(&a.backoff_secs) {
            return at("alerts.backoff_secs".into(), "0 to 3600");
        }
        if !(0.001..=3600.0).contains(&a.timeout_secs) {
            return at("alerts.timeout_secs".into(), "0.001 to 3600");
        }
        if let Some(sys) = &a.system {
            if let Some(bad) = sys
                .events
                .iter()
                .find(|e| !SYSTEM_EVENTS.contains(&e.as_str()))
            {
                return at(
                    format!("alerts.system.events {bad:?}"),
                    "stale, gap, reconnected, malformed or divergence",
                );
            }
            if let Some(Err(why)) = sys
                .channel
                .address()
                .map(|url| canary_delivery::guard::check_url(&url, a.allow_private))
            {
                return at("alerts.system.channel".into(), &why);
            }
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
}
