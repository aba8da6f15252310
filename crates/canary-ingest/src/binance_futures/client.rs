//! The USDⓈ-M streams kept alive, and the REST poller beside them.
//!
//! One combined WebSocket carries `<symbol>@markPrice@1s` and `<symbol>@forceOrder` of every
//! symbol, named in the URL (no subscription messages), on the routed base `…/market` that
//! Binance has served these streams from since 2026 (the old `/ws` and `/stream` paths connect
//! and send nothing: the silence is reported as `Stale`). Each mark price update gives three
//! levels (mark, index, the predicted funding rate); each forced order is a liquidation.
//!
//! The poller fetches, one request at a time with `Retry-After` obeyed on 429 and 418:
//! - the current open interest (`/fapi/v1/openInterest`, weight 1) every `oi_every`;
//! - the 5-minute open-interest history (`/futures/data/openInterestHist`, period 5m, in
//!   windows of at most 500 rows), from the last row held or `backfill` back (Binance serves
//!   30 days), at start, after each reconnection and whenever a new row is due, so the 5-minute
//!   series has no hole a break of under 30 days leaves;
//! - the settled funding rates (`/fapi/v1/fundingRate`) at start from the last one held, and
//!   each time a symbol's next funding time moves on (its settlement has passed), retried with
//!   back-off until the settlement is published. A rate's interval is the time since the
//!   settlement before it, so each request reaches back a day further than the first one it
//!   needs.

use std::collections::BTreeMap;
use std::time::Duration;

use canary_model::Symbol;
use canary_model::Timestamp;
use canary_model::derivatives::{DerivKind, Interval};
use canary_model::event::Event;
use tokio::sync::{Notify, mpsc, watch};

use super::parse::{Frame, VENUE, frame, funding_rates, open_interest, open_interest_hist};
use crate::binance::{Ended, Now};
use crate::bus::Publish;
use crate::perp::{
    self, Frames, Held, Link, Out, Read, Settlements, funding_interval, scheduled, series, windows,
};

/// The routed base of Binance USDⓈ-M market streams (mark price, liquidations).
pub const WS_BASE: &str = "wss://fstream.binance.com/market";
/// The Binance USDⓈ-M REST API.
pub const REST_BASE: &str = "https://fapi.binance.com";
/// What Binance's liquidation stream leaves out, said with every order it sends and with the
/// bars summed from them.
pub const LIQUIDATION_COVERAGE: &str = "Binance's forceOrder stream sends at most one liquidation order per symbol per second (the latest of each second): an undercount in a cascade";

const FIVE_MINUTES: i64 = 300_000;
const DAY_MS: i64 = 86_400_000;
/// The most rows `openInterestHist` returns, and how far back it serves.
const HIST_LIMIT: i64 = 500;
const HIST_DAYS: i64 = 30;

/// The streams and polls of some symbols.
#[derive(Debug, Clone)]
pub struct BinanceFuturesStream {
    /// The source's name in events and the store (e.g. `binance-futures`).
    pub name: String,
    pub ws_base: String,
    pub rest_base: String,
    pub symbols: Vec<Symbol>,
    /// No data frame for this long: a `Stale` event, and a new connection.
    pub stale_after: Duration,
    /// How often the current open interest is fetched.
    pub oi_every: Duration,
    /// How far back the 5-minute open interest and the settled funding rates are fetched when
    /// none is held (Binance serves 30 days of the former).
    pub backfill: Duration,
    /// The first wait before asking again for a settlement not yet published (doubling, five
    /// tries).
    pub settle_retry: Duration,
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    /// A REST request's and a connection's limit.
    pub timeout: Duration,
    /// A CA file trusted besides the web roots (a private relay, a test server).
    pub ca: Option<std::path::PathBuf>,
}

impl BinanceFuturesStream {
    /// The combined-stream URL for the symbols.
    #[must_use]
    pub fn url(&self) -> String {
        let streams: Vec<String> = self
            .symbols
            .iter()
            .flat_map(|s| {
                let s = s.as_str().to_ascii_lowercase();
                [format!("{s}@markPrice@1s"), format!("{s}@forceOrder")]
            })
            .collect();
        format!(
            "{}/stream?streams={}",
            self.ws_base.trim_end_matches('/'),
            streams.join("/")
        )
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
        let mut frames = BinanceFrames {
            source: self.name.clone(),
            symbols: self
                .symbols
                .iter()
                .map(|s| s.as_str().to_string())
                .collect(),
            next_funding: BTreeMap::new(),
            settled: settled_tx,
        };
        let link = Link {
            url: self.url(),
            subscribe: None,
            ping: None,
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

/// The stream's frames: levels and liquidations of the symbols asked for, and each symbol's
/// next funding time, whose moving on tells the poller a settlement has passed.
struct BinanceFrames {
    source: String,
    symbols: Vec<String>,
    next_funding: BTreeMap<String, Timestamp>,
    settled: mpsc::UnboundedSender<(String, Timestamp)>,
}

impl Frames for BinanceFrames {
    fn connected(&mut self) {}

    fn frame(&mut self, text: &str, now: Timestamp) -> Read {
        let malformed = |error: String| Read {
            events: vec![Event::Malformed {
                source: self.source.clone(),
                time: now,
                payload: text.chars().take(perp::PAYLOAD_CHARS).collect(),
                error,
            }],
            data: false,
        };
        match frame(text) {
            Ok(Frame::Mark(m)) => {
                if !self.symbols.contains(&m.symbol) {
                    return Read {
                        events: Vec::new(),
                        data: true,
                    };
                }
                let mut events = Vec::with_capacity(3);
                for (kind, v) in [
                    (DerivKind::MarkPrice, m.mark),
                    (DerivKind::IndexPrice, m.index),
                    (DerivKind::PredictedFundingRate, m.funding_rate),
                ] {
                    match series(kind, &m.symbol, VENUE, Interval::M1) {
                        Ok(series) => events.push(Event::Derivative {
                            source: self.source.clone(),
                            series,
                            time: m.time,
                            value: v,
                        }),
                        Err(e) => return malformed(e),
                    }
                }
                if let Some(before) = self.next_funding.insert(m.symbol.clone(), m.next_funding)
                    && m.next_funding > before
                {
                    // The poller outlives the stream within a run; a send fails only at the end.
                    let _ = self.settled.send((m.symbol, before));
                }
                Read { events, data: true }
            }
            Ok(Frame::Liquidation(order)) => Read {
                events: if self.symbols.contains(&order.market) {
                    vec![Event::Liquidation {
                        source: self.source.clone(),
                        order,
                        coverage: Some(LIQUIDATION_COVERAGE.to_string()),
                    }]
                } else {
                    Vec::new()
                },
                data: true,
            },
            Ok(Frame::Other) => Read::default(),
            Err(error) => malformed(error),
        }
    }
}

struct Poller<'a, P> {
    cfg: &'a BinanceFuturesStream,
    out: &'a Out<'a, P>,
    http: reqwest::Client,
    held: BTreeMap<Symbol, Held>,
}

impl<P: Publish> Poller<'_, P> {
    fn rest(&self) -> &str {
        self.cfg.rest_base.trim_end_matches('/')
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
        let mut next_oi = tokio::time::Instant::now();
        loop {
            let next_settle = pending.next_at();
            tokio::select! {
                () = tokio::time::sleep_until(next_oi) => {
                    next_oi = tokio::time::Instant::now() + self.cfg.oi_every;
                    for s in &symbols {
                        self.current(s).await?;
                        let due = self.held[s]
                            .oi_hist
                            .is_none_or(|t| (self.out.now)().millis() >= t.millis() + 2 * FIVE_MINUTES);
                        if due {
                            self.history(s).await?;
                        }
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
                                    "{}/fapi/v1/fundingRate: the settlement of {symbol} at {due} is not published after five tries",
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

    /// The current open interest of a symbol.
    async fn current(&mut self, symbol: &Symbol) -> Result<(), Ended> {
        let url = format!("{}/fapi/v1/openInterest?symbol={symbol}", self.rest());
        let got = perp::get(&self.http, &url, self.cfg.timeout)
            .await
            .and_then(|body| open_interest(&url, &body));
        match got {
            Ok((time, base)) => {
                let s = series(
                    DerivKind::OpenInterestBase,
                    symbol.as_str(),
                    VENUE,
                    Interval::M1,
                );
                match s {
                    Ok(s) => self.out.send(self.out.value(s, time, base)).await,
                    Err(e) => self.out.malformed("", e).await,
                }
            }
            Err(e) => self.out.malformed("", e.to_string()).await,
        }
    }

    /// The 5-minute open interest after the last row held (or `backfill` back, within the
    /// 30 days Binance serves) up to now.
    async fn history(&mut self, symbol: &Symbol) -> Result<(), Ended> {
        let now = (self.out.now)().millis();
        let oldest = now - HIST_DAYS * DAY_MS + FIVE_MINUTES;
        let wanted = now - i64::try_from(self.cfg.backfill.as_millis()).unwrap_or(i64::MAX);
        let after = self.held[symbol].oi_hist;
        let from = after.map_or(wanted, |t| t.millis() + 1).max(oldest);
        let (base_s, usd_s) = match (
            series(
                DerivKind::OpenInterestBase,
                symbol.as_str(),
                VENUE,
                Interval::M5,
            ),
            series(
                DerivKind::OpenInterestUsd,
                symbol.as_str(),
                VENUE,
                Interval::M5,
            ),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return self.out.malformed("", e).await,
        };
        for (start, end) in windows(from, now, FIVE_MINUTES, HIST_LIMIT) {
            let url = format!(
                "{}/futures/data/openInterestHist?symbol={symbol}&period=5m&startTime={start}&endTime={end}&limit={HIST_LIMIT}",
                self.rest()
            );
            let rows = match perp::get(&self.http, &url, self.cfg.timeout)
                .await
                .and_then(|body| open_interest_hist(&url, &body))
            {
                Ok(rows) => rows,
                // Asked again at the next poll, from the last row taken.
                Err(e) => return self.out.malformed("", e.to_string()).await,
            };
            for r in rows {
                if r.time.millis() < from || after.is_some_and(|t| r.time <= t) {
                    continue;
                }
                self.out
                    .send(self.out.value(base_s.clone(), r.time, r.base))
                    .await?;
                self.out
                    .send(self.out.value(usd_s.clone(), r.time, r.usd))
                    .await?;
                let h = self.held.get_mut(symbol).expect("every symbol is held");
                h.oi_hist = h.oi_hist.max(Some(r.time));
            }
        }
        Ok(())
    }

    /// The settled funding rates after the last one held (or `backfill` back), each in the
    /// series of its interval (the time since the settlement before it), at its scheduled
    /// time.
    async fn funding(&mut self, symbol: &Symbol) -> Result<(), Ended> {
        let now = (self.out.now)().millis();
        let wanted = now - i64::try_from(self.cfg.backfill.as_millis()).unwrap_or(i64::MAX);
        let after = self.held[symbol].funding;
        let first = after.map_or(wanted, |t| t.millis() + 1);
        let url = format!(
            "{}/fapi/v1/fundingRate?symbol={symbol}&startTime={}&endTime={now}&limit=1000",
            self.rest(),
            first - DAY_MS
        );
        let rows = match perp::get(&self.http, &url, self.cfg.timeout)
            .await
            .and_then(|body| funding_rates(&url, &body))
        {
            Ok(rows) => rows,
            Err(e) => return self.out.malformed("", e.to_string()).await,
        };
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
                            "{url}: settlements at {before} and {at}: no funding interval between them"
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
