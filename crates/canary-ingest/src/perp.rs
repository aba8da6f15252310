//! What the derivatives streams of perpetual futures share ([`crate::binance_futures`],
//! [`crate::bybit`]): checked values, the events they send stamped on the source's clock, REST
//! requests with rate limits waited out, and one WebSocket kept alive (reconnected with
//! back-off, silence reported, the span missed named per symbol).
//!
//! A venue's REST poller runs beside its stream: [`run_with_poller`] ends both when either
//! ends, and a reconnection wakes the poller so that a gap is back-filled at once.

use std::time::Duration;

use canary_model::derivatives::{
    DerivKind, DerivSeries, Interval, LiquidatedSide, LiquidationOrder, Venues,
};
use canary_model::event::{Event, Stamped};
use canary_model::{Symbol, Timestamp};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Notify, watch};
use tokio_tungstenite::tungstenite::Message;

use crate::binance::{Ended, Now};
use crate::bus::Publish;
use crate::source::{SourceError, SourceErrorKind};

/// At most this many characters of an unreadable frame are kept in its `Malformed` event.
pub const PAYLOAD_CHARS: usize = 500;

/// A number of a derivatives kind from a venue's decimal string, or why not.
///
/// # Errors
/// Not a number, or outside the kind's range ([`DerivKind::refuse`]).
pub fn value(kind: DerivKind, what: &str, s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{what} {s:?} is not a number"))?;
    match kind.refuse(v) {
        Some(why) => Err(format!("{what}: {why}")),
        None => Ok(v),
    }
}

/// A time in milliseconds as a timestamp, if it is one Canary can write (years 0 to 9999).
///
/// # Errors
/// A time outside that range.
pub fn millis(what: &str, ms: i64) -> Result<Timestamp, String> {
    // 0000-01-01 to 9999-12-31, as `Timestamp::parse` accepts.
    if (-62_167_219_200_000..=253_402_300_799_999).contains(&ms) {
        Ok(Timestamp::from_millis(ms))
    } else {
        Err(format!("{what} {ms} is not a time in milliseconds"))
    }
}

/// A liquidation order checked: a positive price in the candles' range, a positive quantity of
/// at most 1e12 base units, a value of at most 1e15.
///
/// # Errors
/// What is out of range.
pub fn liquidation(
    venue: &str,
    market: &str,
    time: Timestamp,
    side: LiquidatedSide,
    price: &str,
    qty: &str,
) -> Result<LiquidationOrder, String> {
    let price = value(DerivKind::MarkPrice, "price", price)?;
    let qty = value(DerivKind::OpenInterestBase, "quantity", qty)?;
    if qty <= 0.0 {
        return Err(format!("quantity {qty} is not positive"));
    }
    let order = LiquidationOrder {
        venue: venue.to_string(),
        market: market.to_ascii_uppercase(),
        time,
        side,
        price,
        qty,
    };
    if let Some(why) = DerivKind::LongLiquidationsUsd.refuse(order.notional()) {
        return Err(format!("price × quantity: {why}"));
    }
    Ok(order)
}

/// The series of `kind` for a market on one venue at `interval`.
///
/// # Errors
/// A market or venue that is not valid in a series key.
pub fn series(
    kind: DerivKind,
    market: &str,
    venue: &str,
    interval: Interval,
) -> Result<DerivSeries, String> {
    let venues = Venues::one(venue).map_err(|e| e.to_string())?;
    DerivSeries::new(kind, market, venues, interval).map_err(|e| e.to_string())
}

/// A funding interval from the time between two settlements, to the nearest hour (venues
/// settle a few milliseconds after the hour).
#[must_use]
pub fn funding_interval(previous: Timestamp, settled: Timestamp) -> Option<Interval> {
    let hours = (settled.millis() - previous.millis() + 1_800_000).div_euclid(3_600_000);
    Interval::from_millis(hours.checked_mul(3_600_000)?).filter(|_| hours > 0)
}

/// A settlement's time as scheduled: the time given taken to the nearest minute (Binance
/// stamps a settlement a few milliseconds after the hour; its archive is read the same way,
/// so that one settlement fetched and imported is one value).
#[must_use]
pub fn scheduled(t: Timestamp) -> Timestamp {
    Timestamp::from_millis((t.millis() + 30_000).div_euclid(60_000) * 60_000)
}

/// The start and end (inclusive) of each request covering `[from, to]` in steps of `step`
/// rows of `period`: a venue returning at most `limit` rows answers each whole, whichever end
/// it would cut.
#[must_use]
pub fn windows(from: i64, to: i64, period: i64, limit: i64) -> Vec<(i64, i64)> {
    let span = period * limit;
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = (start + span - 1).min(to);
        out.push((start, end));
        start = end + 1;
    }
    out
}

/// What the store already holds of a symbol: its back-fills start after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    /// The last 5-minute open interest.
    pub oi_hist: Option<Timestamp>,
    /// The last settled funding rate.
    pub funding: Option<Timestamp>,
}

/// Where a source's events go, stamped with the time on its clock.
pub struct Out<'a, P> {
    pub tx: &'a P,
    pub now: Now,
    pub source: &'a str,
}

impl<P> std::fmt::Debug for Out<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Out")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl<P: Publish> Out<'_, P> {
    /// Publish one event.
    ///
    /// # Errors
    /// [`Ended::EngineGone`] once the engine has stopped taking events.
    pub async fn send(&self, event: Event) -> Result<(), Ended> {
        self.tx
            .publish(Stamped {
                event,
                available_at: (self.now)(),
            })
            .await
            .map_err(|_| Ended::EngineGone)
    }

    /// Report what could not be read or fetched (with the start of its payload, if any).
    ///
    /// # Errors
    /// [`Ended::EngineGone`].
    pub async fn malformed(&self, payload: &str, error: String) -> Result<(), Ended> {
        self.send(Event::Malformed {
            source: self.source.to_string(),
            time: (self.now)(),
            payload: payload.chars().take(PAYLOAD_CHARS).collect(),
            error,
        })
        .await
    }

    /// A derivatives value of this source.
    #[must_use]
    pub fn value(&self, series: DerivSeries, time: Timestamp, value: f64) -> Event {
        Event::Derivative {
            source: self.source.to_string(),
            series,
            time,
            value,
        }
    }
}

/// The largest answer read from a venue's REST API: its largest pages (500 to 1,000 rows) are
/// tens of kilobytes.
pub const MAX_ANSWER_BYTES: u64 = 8 << 20;

/// An answer's body, refused past [`MAX_ANSWER_BYTES`] (announced or read).
async fn capped_body(
    mut r: reqwest::Response,
    url: &str,
    timeout: Duration,
) -> Result<Vec<u8>, SourceError> {
    let too_large = || {
        SourceError::new(
            url,
            SourceErrorKind::TooLarge {
                limit: MAX_ANSWER_BYTES,
            },
        )
    };
    if r.content_length().is_some_and(|n| n > MAX_ANSWER_BYTES) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = r
        .chunk()
        .await
        .map_err(|e| SourceError::from_reqwest(url, &e, timeout))?
    {
        if (body.len() + chunk.len()) as u64 > MAX_ANSWER_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// One GET, waiting out a rate limit (429, or 418 for a ban) as `Retry-After` asks (at most
/// five minutes, five times), returning the body of a 2xx answer.
///
/// # Errors
/// No answer, an HTTP error (with the start of its body), or a limit that does not lift;
/// an answer larger than [`MAX_ANSWER_BYTES`]; each naming the URL.
pub async fn get(
    http: &reqwest::Client,
    url: &str,
    timeout: Duration,
) -> Result<String, SourceError> {
    for _ in 0..5 {
        let r = http
            .get(url)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| SourceError::from_reqwest(url, &e, timeout))?;
        let status = r.status().as_u16();
        if status == 429 || status == 418 {
            let wait = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(1);
            tokio::time::sleep(Duration::from_secs(wait.min(300))).await;
            continue;
        }
        let body = capped_body(r, url, timeout).await?;
        let text = crate::source::body_text(&body);
        if !(200..300).contains(&status) {
            return Err(SourceError::new(
                url,
                SourceErrorKind::Http { status, body: text },
            ));
        }
        return String::from_utf8(body).map_err(|_| {
            SourceError::new(
                url,
                SourceErrorKind::Malformed {
                    what: "text answer",
                    detail: "the answer is not UTF-8 text".into(),
                    body: text,
                },
            )
        });
    }
    Err(SourceError::new(
        url,
        SourceErrorKind::Http {
            status: 429,
            body: "still rate-limited after five waits".into(),
        },
    ))
}

/// How one WebSocket is kept.
#[derive(Debug, Clone)]
pub struct Link {
    pub url: String,
    /// Sent once on each connection (a venue that subscribes by message).
    pub subscribe: Option<String>,
    /// Sent this often (a venue that drops a connection without the client's pings).
    pub ping: Option<(String, Duration)>,
    /// No data frame for this long (acknowledgements and pongs do not count): a `Stale`
    /// event, and a new connection.
    pub stale_after: Duration,
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    pub timeout: Duration,
    pub ca: Option<std::path::PathBuf>,
}

/// What a frame held.
#[derive(Debug, Default)]
pub struct Read {
    pub events: Vec<Event>,
    /// Whether it carried market data (not an acknowledgement, a pong or an error).
    pub data: bool,
}

/// A venue's reading of its frames.
pub trait Frames: Send {
    /// A new connection is open: forget what belonged to the last one.
    fn connected(&mut self);
    /// The events of one text frame received at `now`.
    fn frame(&mut self, text: &str, now: Timestamp) -> Read;
}

/// Keep the stream of `link` until shutdown: frames read by `frames`; after any break (a
/// drop, an error, silence past `stale_after`, reported as `Stale`) a new connection with a
/// back-off from `reconnect_min` doubling to `reconnect_max`, a `Reconnected` event and a `Gap`
/// per symbol from the last frame received to the new connection; `reconnected` is notified
/// then. A connection that cannot be made is reported as `Malformed` with an empty payload.
pub async fn stream<P: Publish>(
    link: &Link,
    out: &Out<'_, P>,
    symbols: &[Symbol],
    frames: &mut impl Frames,
    reconnected: &Notify,
    mut stop: watch::Receiver<bool>,
) -> Ended {
    let mut wait = link.reconnect_min;
    // The time of the last frame of the last connection that streamed.
    let mut last_frame: Option<Timestamp> = None;
    loop {
        if *stop.borrow() {
            return Ended::Shutdown;
        }
        match session(
            link,
            out,
            symbols,
            frames,
            &mut last_frame,
            reconnected,
            &mut stop,
        )
        .await
        {
            Ok(Some(end)) => return end,
            Ok(None) => wait = link.reconnect_min,
            Err(error) => {
                if out.malformed("", error).await.is_err() {
                    return Ended::EngineGone;
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return Ended::Shutdown,
        }
        wait = (wait * 2).min(link.reconnect_max);
    }
}

/// One connection: `Ok(None)` when it broke after connecting (reconnect now), `Ok(Some)` to
/// stop, `Err` when it could not connect or subscribe (back off).
async fn session<P: Publish>(
    link: &Link,
    out: &Out<'_, P>,
    symbols: &[Symbol],
    frames: &mut impl Frames,
    last_frame: &mut Option<Timestamp>,
    reconnected: &Notify,
    stop: &mut watch::Receiver<bool>,
) -> Result<Option<Ended>, String> {
    let mut ws = crate::ws::connect(&link.url, link.timeout, link.ca.as_deref()).await?;
    if let Some(sub) = &link.subscribe {
        ws.send(Message::text(sub.clone()))
            .await
            .map_err(|e| format!("{}: subscribing: {e}", link.url))?;
    }
    frames.connected();
    if let Some(from) = *last_frame {
        let now = (out.now)();
        let sent = async {
            out.send(Event::Reconnected {
                source: out.source.to_string(),
                time: now,
            })
            .await?;
            for symbol in symbols {
                out.send(Event::Gap {
                    source: out.source.to_string(),
                    symbol: symbol.clone(),
                    from,
                    to: now,
                })
                .await?;
            }
            Ok::<_, Ended>(())
        }
        .await;
        if let Err(end) = sent {
            return Ok(Some(end));
        }
        reconnected.notify_one();
    }
    *last_frame = Some((out.now)());
    let mut data_until = tokio::time::Instant::now() + link.stale_after;
    let ping_every = link.ping.as_ref().map_or(Duration::MAX, |p| p.1);
    let mut next_ping = tokio::time::Instant::now()
        .checked_add(ping_every)
        .unwrap_or_else(far_future);
    loop {
        let msg = tokio::select! {
            m = ws.next() => m,
            () = tokio::time::sleep_until(data_until) => {
                let silent_ms = i64::try_from(link.stale_after.as_millis()).unwrap_or(i64::MAX);
                if let Err(e) = out
                    .send(Event::Stale {
                        source: out.source.to_string(),
                        time: (out.now)(),
                        silent_ms,
                    })
                    .await
                {
                    return Ok(Some(e));
                }
                return Ok(None);
            }
            () = tokio::time::sleep_until(next_ping) => {
                if let Some((ping, every)) = &link.ping {
                    if ws.send(Message::text(ping.clone())).await.is_err() {
                        return Ok(None);
                    }
                    next_ping = tokio::time::Instant::now() + *every;
                }
                continue;
            }
            _ = stop.changed() => {
                let _ = ws.close(None).await;
                return Ok(Some(Ended::Shutdown));
            }
        };
        let text = match msg {
            None | Some(Err(_) | Ok(Message::Close(_))) => return Ok(None),
            Some(Ok(Message::Text(t))) => t.to_string(),
            // Pings are answered by tungstenite as it reads; nothing else carries data.
            Some(Ok(_)) => continue,
        };
        let now = (out.now)();
        *last_frame = Some(now);
        let read = frames.frame(&text, now);
        if read.data {
            data_until = tokio::time::Instant::now() + link.stale_after;
        }
        for e in read.events {
            if let Err(end) = out.send(e).await {
                return Ok(Some(end));
            }
        }
    }
}

/// An instant no timer reaches (a year on).
fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(365 * 86_400)
}

/// Settlements waited for: each symbol's settlement whose time has passed, asked for at once
/// and then again after `retry`, doubling, five tries in all.
#[derive(Debug)]
pub struct Settlements {
    retry: Duration,
    pending: Vec<(Symbol, Timestamp, u32, tokio::time::Instant)>,
}

impl Settlements {
    #[must_use]
    pub fn new(retry: Duration) -> Self {
        Settlements {
            retry,
            pending: Vec::new(),
        }
    }

    /// The settlement of `symbol` at `due` has passed: ask for it now.
    pub fn add(&mut self, symbol: Symbol, due: Timestamp) {
        self.pending
            .push((symbol, due, 0, tokio::time::Instant::now()));
    }

    /// When the next one is to be asked for (a day on when none is waited for).
    #[must_use]
    pub fn next_at(&self) -> tokio::time::Instant {
        self.pending
            .iter()
            .map(|p| p.3)
            .min()
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86_400))
    }

    /// The one to ask for now (the earliest), taken out: its symbol and time.
    pub fn take(&mut self) -> Option<(Symbol, Timestamp, u32)> {
        let i = self
            .pending
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| p.3)
            .map(|(i, _)| i)?;
        let (symbol, due, tries, _) = self.pending.swap_remove(i);
        Some((symbol, due, tries))
    }

    /// It was not published yet: ask again later, unless it was the fifth try (`false`).
    pub fn again(&mut self, symbol: Symbol, due: Timestamp, tries: u32) -> bool {
        let tries = tries + 1;
        if tries >= 5 {
            return false;
        }
        let at = tokio::time::Instant::now() + self.retry * 2_u32.pow(tries - 1);
        self.pending.push((symbol, due, tries, at));
        true
    }
}

/// Run a stream and its REST poller together until either ends (a shutdown, or the engine
/// gone), and say why.
pub async fn run_with_poller(
    stream: impl Future<Output = Ended>,
    poller: impl Future<Output = Ended>,
) -> Ended {
    tokio::select! {
        end = stream => end,
        end = poller => end,
    }
}

/// Wait `d` unless shutdown comes first (`Err`).
///
/// # Errors
/// [`Ended::Shutdown`] when it was asked for.
pub async fn pause(d: Duration, stop: &mut watch::Receiver<bool>) -> Result<(), Ended> {
    if *stop.borrow() {
        return Err(Ended::Shutdown);
    }
    tokio::select! {
        () = tokio::time::sleep(d) => Ok(()),
        _ = stop.changed() => Err(Ended::Shutdown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn values_are_checked_by_their_kind() {
        assert_eq!(
            value(DerivKind::MarkPrice, "mark", "64045.13"),
            Ok(64_045.13)
        );
        assert!(
            value(DerivKind::MarkPrice, "mark", "0")
                .unwrap_err()
                .contains("mark: 0 is outside")
        );
        assert!(
            value(DerivKind::PredictedFundingRate, "rate", "abc")
                .unwrap_err()
                .contains("\"abc\" is not a number")
        );
        assert!(value(DerivKind::OpenInterestUsd, "oi", "NaN").is_err());
        assert!(value(DerivKind::OpenInterestUsd, "oi", "-1").is_err());
        assert!(millis("time", i64::MAX).is_err());
        assert_eq!(millis("time", 0), Ok(Timestamp::from_millis(0)));
    }

    #[test]
    fn liquidations_are_checked() {
        let at = t("2026-02-05T20:00:00Z");
        let o = liquidation(
            "binance",
            "btcusdt",
            at,
            LiquidatedSide::Long,
            "26245.10",
            "0.115",
        )
        .unwrap();
        assert_eq!(o.market, "BTCUSDT");
        assert!((o.notional() - 3_018.186_5).abs() < 1e-6);
        for (price, qty, says) in [
            ("0", "1", "price"),
            ("1", "0", "not positive"),
            ("1", "-1", "quantity"),
            ("1e12", "1e12", "price × quantity"),
        ] {
            let e = liquidation("binance", "BTCUSDT", at, LiquidatedSide::Short, price, qty)
                .unwrap_err();
            assert!(e.contains(says), "{price} {qty}: {e}");
        }
    }

    #[test]
    fn funding_intervals_and_settlements_are_taken_to_the_schedule() {
        let a = t("2026-02-05T00:00:00.002Z");
        let b = t("2026-02-05T08:00:00.001Z");
        assert_eq!(funding_interval(a, b), Some(Interval::H8));
        assert_eq!(
            funding_interval(b, t("2026-02-05T12:00:00Z")),
            Some(Interval::H4)
        );
        assert_eq!(funding_interval(b, b), None);
        assert_eq!(funding_interval(b, a), None);
        assert_eq!(scheduled(b), t("2026-02-05T08:00:00Z"));
        assert_eq!(
            scheduled(t("2026-02-05T07:59:59.990Z")),
            t("2026-02-05T08:00:00Z")
        );
    }

    /// A settlement is asked for at once, then four more times, the waits doubling.
    #[test]
    fn settlements_are_asked_for_five_times() {
        let mut q = Settlements::new(Duration::from_secs(5));
        let sym = Symbol::new("BTCUSDT").unwrap();
        let due = t("2026-02-05T08:00:00Z");
        assert!(q.take().is_none());
        q.add(sym.clone(), due);
        assert!(q.next_at() <= tokio::time::Instant::now());
        let mut asked = 0;
        let mut waits = Vec::new();
        while let Some((s, d, tries)) = q.take() {
            asked += 1;
            let before = tokio::time::Instant::now();
            if !q.again(s, d, tries) {
                break;
            }
            waits.push((q.next_at() - before).as_secs_f64().round());
        }
        assert_eq!(asked, 5);
        assert_eq!(waits, [5.0, 10.0, 20.0, 40.0]);
    }

    #[test]
    fn windows_cover_the_span_without_overlap() {
        assert_eq!(windows(0, 9, 1, 4), [(0, 3), (4, 7), (8, 9)]);
        assert_eq!(windows(0, 0, 300_000, 500), [(0, 0)]);
        assert!(windows(10, 9, 1, 4).is_empty());
    }
}
