//! The linear public stream kept alive, and the REST poller beside it.
//!
//! One WebSocket subscribes (one message per connection, every topic in it) to
//! `tickers.{symbol}` and `allLiquidation.{symbol}` of every symbol, and sends
//! `{"op":"ping"}` every 20 s as Bybit asks (without it, a connection with no data is cut
//! after 10 minutes). A ticker's snapshot and deltas are merged into the symbol's state
//! ([`Tickers`]): the levels a frame carries are sent, and the whole state with the first frame
//! of each minute. Pongs and acknowledgements do not count as data: a connection that
//! answers pings and sends nothing else is reported `Stale` and replaced.
//!
//! The poller fetches, one request at a time with `Retry-After` obeyed on 429:
//! - the 5-minute open interest (`/v5/market/open-interest`, intervalTime 5min, in windows of
//!   at most 200 rows), from the last row held or `backfill` back, at start, after each
//!   reconnection and whenever a new row is due;
//! - the settled funding rates (`/v5/market/funding/history`) at start from the last one held,
//!   and each time a symbol's next funding time moves on, retried with back-off until the
//!   settlement is published; a rate's interval is the time since the settlement before it.

use std::collections::BTreeMap;
use std::time::Duration;

use canary_model::derivatives::{DerivKind, Interval};
use canary_model::event::Event;
use canary_model::{Symbol, Timestamp};
use tokio::sync::{Notify, mpsc, watch};

use super::parse::{Frame, Tickers, VENUE, frame, funding_history, open_interest};
use crate::binance::{Ended, Now};
use crate::bus::Publish;
use crate::perp::{
    self, Frames, Held, Link, Out, Read, Settlements, funding_interval, scheduled, series, windows,
};

/// Bybit's public stream of linear contracts (USDT and USDC perpetuals).
pub const WS_BASE: &str = "wss://stream.bybit.com/v5/public/linear";
/// Bybit's REST API.
pub const REST_BASE: &str = "https://api.bybit.com";
/// How often the connection is pinged, as Bybit recommends.
pub const PING_EVERY: Duration = Duration::from_secs(20);

const FIVE_MINUTES: i64 = 300_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;
/// The most rows either history request returns.
const LIMIT: i64 = 200;

/// The tickers and liquidations of some linear contracts.
#[derive(Debug, Clone)]
pub struct BybitStream {
    /// The source's name in events and the store (e.g. `bybit`).
    pub name: String,
    pub ws: String,
    pub rest_base: String,
    pub symbols: Vec<Symbol>,
    /// No data frame for this long: a `Stale` event, and a new connection.
    pub stale_after: Duration,
    /// How often the connection is pinged ([`PING_EVERY`]).
    pub ping_every: Duration,
    /// How far back the 5-minute open interest and the settled funding rates are fetched when
    /// none is held.
    pub backfill: Duration,
    /// The first wait before asking again for a settlement not yet published (doubling, five
    /// tries).
    pub settle_retry: Duration,
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    pub timeout: Duration,
    pub ca: Option<std::path::PathBuf>,
}

impl BybitStream {
    /// The subscription message: both topics of every symbol.
    #[must_use]
    pub fn subscribe(&self) -> String {
        let args: Vec<String> = self
            .symbols
            .iter()
            .flat_map(|s| [format!("tickers.{s}"), format!("allLiquidation.{s}")])
            .collect();
        serde_json::json!({"req_id": "canary", "op": "subscribe", "args": args}).to_string()
    }

    /// Run until shutdown (or the engine is gone), the stream and the poller together.
    pub async fn run(
        &self,
        tx: &impl Publish,
        now: Now,
        held: BTreeMap<Symbol, Held>,
        stop: watch::Receiver<bool>,
    ) -> Ended {
        let out = Out {
            tx,
            now,
            source: &self.name,
        };
        let (settled_tx, settled_rx) = mpsc::unbounded_channel();
        let mut frames = BybitFrames {
            source: self.name.clone(),
            symbols: self
                .symbols
                .iter()
                .map(|s| s.as_str().to_string())
                .collect(),
            tickers: Tickers::default(),
            settled: settled_tx,
        };
        let link = Link {
            url: self.ws.clone(),
            subscribe: Some(self.subscribe()),
            ping: Some((
                serde_json::json!({"req_id": "ping", "op": "ping"}).to_string(),
                self.ping_every,
            )),
            stale_after: self.stale_after,
            reconnect_min: self.reconnect_min,
            reconnect_max: self.reconnect_max,
            timeout: self.timeout,
            ca: self.ca.clone(),
        };
        let reconnected = Notify::new();
        let mut poller = Poller {
            cfg: self,
            out: &out,
            http: reqwest::Client::new(),
            held: self
                .symbols
                .iter()
                .map(|s| (s.clone(), held.get(s).copied().unwrap_or_default()))
                .collect(),
        };
        perp::run_with_poller(
            perp::stream(
                &link,
                &out,
                &self.symbols,
                &mut frames,
                &reconnected,
                stop.clone(),
            ),
            poller.run(settled_rx, &reconnected, stop),
        )
        .await
    }
}

struct BybitFrames {
    source: String,
    symbols: Vec<String>,
    tickers: Tickers,
    settled: mpsc::UnboundedSender<(String, Timestamp)>,
}

impl BybitFrames {
    fn ticker(
        &mut self,
        symbol: &str,
        time: Timestamp,
        snapshot: bool,
        levels: super::parse::Levels,
    ) -> Result<Vec<Event>, String> {
        let merged = self.tickers.merge(symbol, time, snapshot, levels)?;
        if let Some(before) = merged.settled {
            // The poller outlives the stream within a run; a send fails only at the end.
            let _ = self.settled.send((symbol.to_string(), before));
        }
        merged
            .levels
            .into_iter()
            .map(|(kind, value)| {
                Ok(Event::Derivative {
                    source: self.source.clone(),
                    series: series(kind, symbol, VENUE, Interval::M1)?,
                    time,
                    value,
                })
            })
            .collect()
    }
}

impl Frames for BybitFrames {
    fn connected(&mut self) {
        self.tickers.clear();
    }

    fn frame(&mut self, text: &str, now: Timestamp) -> Read {
        let read = match frame(text) {
            Ok(Frame::Ticker {
                symbol,
                time,
                snapshot,
                levels,
            }) => {
                if self.symbols.contains(&symbol) {
                    self.ticker(&symbol, time, snapshot, levels)
                } else {
                    Ok(Vec::new())
                }
            }
            Ok(Frame::Liquidations(orders)) => Ok(orders
                .into_iter()
                .filter(|o| self.symbols.contains(&o.market))
                .map(|order| Event::Liquidation {
                    source: self.source.clone(),
                    order,
                    coverage: None,
                })
                .collect()),
            Ok(Frame::Reply) => return Read::default(),
            Err(e) => Err(e),
        };
        match read {
            Ok(events) => Read { events, data: true },
            Err(error) => Read {
                events: vec![Event::Malformed {
                    source: self.source.clone(),
                    time: now,
                    payload: text.chars().take(perp::PAYLOAD_CHARS).collect(),
                    error,
                }],
                data: false,
            },
        }
    }
}

struct Poller<'a, P> {
    cfg: &'a BybitStream,
    out: &'a Out<'a, P>,
    http: reqwest::Client,
    held: BTreeMap<Symbol, Held>,
}

impl<P: Publish> Poller<'_, P> {
    fn rest(&self) -> &str {
        self.cfg.rest_base.trim_end_matches('/')
    }

    fn backfill_from(&self) -> i64 {
        (self.out.now)().millis() - i64::try_from(self.cfg.backfill.as_millis()).unwrap_or(i64::MAX)
    }

    async fn run(
        &mut self,
        mut settled: mpsc::UnboundedReceiver<(String, Timestamp)>,
        reconnected: &Notify,
        mut stop: watch::Receiver<bool>,
    ) -> Ended {
        match self.poll(&mut settled, reconnected, &mut stop).await {
            Ok(()) | Err(Ended::Shutdown) => Ended::Shutdown,
            Err(e) => e,
        }
    }

    async fn poll(
        &mut self,
        settled: &mut mpsc::UnboundedReceiver<(String, Timestamp)>,
        reconnected: &Notify,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), Ended> {
        let symbols = self.cfg.symbols.clone();
        for s in &symbols {
            self.history(s).await?;
            self.funding(s).await?;
        }
        let mut pending = Settlements::new(self.cfg.settle_retry);
        loop {
            // A 5-minute row is due once its period has passed (a minute's grace).
            let next_row = symbols
                .iter()
                .map(|s| {
                    self.held[s]
                        .oi_hist
                        .map_or(0, |t| t.millis() + 2 * FIVE_MINUTES)
                })
                .min()
                .unwrap_or(0);
            let wait_row = Duration::from_millis(
                u64::try_from(next_row - (self.out.now)().millis()).unwrap_or(0),
            )
            .max(Duration::from_secs(60));
            let next_settle = pending.next_at();
            tokio::select! {
                () = tokio::time::sleep(wait_row) => {
                    for s in &symbols {
                        self.history(s).await?;
                    }
                }
                () = reconnected.notified() => {
                    for s in &symbols {
                        self.history(s).await?;
                    }
                }
                Some((symbol, due)) = settled.recv() => {
                    if let Some(s) = symbols.iter().find(|s| s.as_str() == symbol) {
                        pending.add(s.clone(), due);
                    }
                }
                () = tokio::time::sleep_until(next_settle) => {
                    let Some((symbol, due, tries)) = pending.take() else {
                        continue;
                    };
                    self.funding(&symbol).await?;
                    let missing = self.held[&symbol].funding.is_none_or(|t| t < scheduled(due));
                    if missing && !pending.again(symbol.clone(), due, tries) {
                        self.out
                            .malformed(
                                "",
                                format!(
                                    "{}/v5/market/funding/history: the settlement of {symbol} at {due} is not published after five tries",
                                    self.rest()
                                ),
                            )
                            .await?;
                    }
                }
                _ = stop.changed() => return Err(Ended::Shutdown),
            }
            if *stop.borrow() {
                return Err(Ended::Shutdown);
            }
        }
    }

    /// The 5-minute open interest (base coin) after the last row held, or `backfill` back.
    async fn history(&mut self, symbol: &Symbol) -> Result<(), Ended> {
        let now = (self.out.now)().millis();
        let after = self.held[symbol].oi_hist;
        let from = after.map_or(self.backfill_from(), |t| t.millis() + 1);
        let s = match series(
            DerivKind::OpenInterestBase,
            symbol.as_str(),
            VENUE,
            Interval::M5,
        ) {
            Ok(s) => s,
            Err(e) => return self.out.malformed("", e).await,
        };
        for (start, end) in windows(from, now, FIVE_MINUTES, LIMIT) {
            let url = format!(
                "{}/v5/market/open-interest?category=linear&symbol={symbol}&intervalTime=5min&startTime={start}&endTime={end}&limit={LIMIT}",
                self.rest()
            );
            let rows = match perp::get(&self.http, &url, self.cfg.timeout)
                .await
                .and_then(|body| open_interest(&url, &body))
            {
                Ok(rows) => rows,
                Err(e) => return self.out.malformed("", e.to_string()).await,
            };
            for (time, base) in rows {
                if time.millis() < from || after.is_some_and(|t| time <= t) {
                    continue;
                }
                self.out.send(self.out.value(s.clone(), time, base)).await?;
                let h = self.held.get_mut(symbol).expect("every symbol is held");
                h.oi_hist = h.oi_hist.max(Some(time));
            }
        }
        Ok(())
    }

    /// The settled funding rates after the last one held (or `backfill` back), each in the
    /// series of its interval, at its scheduled time; in windows of at most 200 hours (a rate
    /// per hour at most).
    async fn funding(&mut self, symbol: &Symbol) -> Result<(), Ended> {
        let now = (self.out.now)().millis();
        let after = self.held[symbol].funding;
        let first = after.map_or(self.backfill_from(), |t| t.millis() + 1);
        let mut rows = Vec::new();
        for (start, end) in windows(first - DAY_MS, now, HOUR_MS, LIMIT) {
            let url = format!(
                "{}/v5/market/funding/history?category=linear&symbol={symbol}&startTime={start}&endTime={end}&limit={LIMIT}",
                self.rest()
            );
            match perp::get(&self.http, &url, self.cfg.timeout)
                .await
                .and_then(|body| funding_history(&url, &body))
            {
                Ok(r) => rows.extend(r),
                Err(e) => return self.out.malformed("", e.to_string()).await,
            }
        }
        rows.sort_by_key(|r| r.0);
        rows.dedup_by_key(|r| r.0);
        for pair in rows.windows(2) {
            let ((before, _), (at, rate)) = (pair[0], pair[1]);
            let time = scheduled(at);
            if time.millis() < first || after.is_some_and(|t| time <= t) {
                continue;
            }
            let Some(interval) = funding_interval(before, at) else {
                self.out
                    .malformed(
                        "",
                        format!(
                            "{}/v5/market/funding/history: settlements at {before} and {at}: no funding interval between them",
                            self.rest()
                        ),
                    )
                    .await?;
                continue;
            };
            match series(DerivKind::FundingRate, symbol.as_str(), VENUE, interval) {
                Ok(s) => self.out.send(self.out.value(s, time, rate)).await?,
                Err(e) => self.out.malformed("", e).await?,
            }
            let h = self.held.get_mut(symbol).expect("every symbol is held");
            h.funding = h.funding.max(Some(time));
        }
        Ok(())
    }
}
