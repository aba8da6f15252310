//! Bybit payloads into model types, and the tickers' snapshots and deltas merged into each
//! symbol's current state: pure functions (an unreadable frame is an error naming what was
//! wrong, never a panic).

use std::collections::BTreeMap;

use canary_model::Timestamp;
use canary_model::derivatives::{DerivKind, LiquidatedSide, LiquidationOrder};

use super::messages::{
    Envelope, FundingResult, Liquidation, OpReply, OpenInterestResult, Ticker, Topic,
};
use crate::perp::{liquidation, millis, value};
use crate::source::{SourceError, SourceErrorKind, decode};

/// The venue's name in series and orders.
pub const VENUE: &str = "bybit";

/// The levels a ticker carries, each `None` when the frame leaves it out (unchanged).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Levels {
    pub mark: Option<f64>,
    pub index: Option<f64>,
    /// Base coin.
    pub oi_base: Option<f64>,
    /// Quote (USD).
    pub oi_usd: Option<f64>,
    /// The rate of the interval ending at `next_funding`, as it stands.
    pub funding_rate: Option<f64>,
    pub next_funding: Option<Timestamp>,
}

impl Levels {
    /// The levels present, by kind (the next funding time is not a level).
    #[must_use]
    pub fn values(&self) -> Vec<(DerivKind, f64)> {
        [
            (DerivKind::MarkPrice, self.mark),
            (DerivKind::IndexPrice, self.index),
            (DerivKind::OpenInterestBase, self.oi_base),
            (DerivKind::OpenInterestUsd, self.oi_usd),
            (DerivKind::PredictedFundingRate, self.funding_rate),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }

    /// These levels with `other`'s present ones over them.
    #[must_use]
    fn merged(self, other: Levels) -> Levels {
        Levels {
            mark: other.mark.or(self.mark),
            index: other.index.or(self.index),
            oi_base: other.oi_base.or(self.oi_base),
            oi_usd: other.oi_usd.or(self.oi_usd),
            funding_rate: other.funding_rate.or(self.funding_rate),
            next_funding: other.next_funding.or(self.next_funding),
        }
    }
}

/// What one frame said.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A ticker snapshot or delta of a symbol (Bybit's spelling), at the frame's `ts`.
    Ticker {
        symbol: String,
        time: Timestamp,
        snapshot: bool,
        levels: Levels,
    },
    Liquidations(Vec<LiquidationOrder>),
    /// A subscription accepted, a pong: nothing to take.
    Reply,
}

/// Read one text frame.
///
/// # Errors
/// A frame that is not JSON, a subscription refused, a topic not asked for, a missing field
/// or a value out of its kind's range (what was wrong).
pub fn frame(text: &str) -> Result<Frame, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if v.get("op").is_some() && v.get("topic").is_none() {
        let r: OpReply = serde_json::from_value(v).map_err(|e| format!("not a reply: {e}"))?;
        if r.success == Some(false) {
            return Err(format!(
                "the venue refused {}: {}",
                r.op,
                r.ret_msg.unwrap_or_default()
            ));
        }
        return Ok(Frame::Reply);
    }
    let t: Topic = serde_json::from_value(v).map_err(|e| format!("not a topic frame: {e}"))?;
    let time = millis("ts", t.ts).map_err(|e| format!("{}: {e}", t.name))?;
    let (name, symbol) = t.name.split_once('.').unwrap_or((t.name.as_str(), ""));
    match name {
        "tickers" => {
            let snapshot = match t.kind.as_deref() {
                Some("snapshot") => true,
                Some("delta") => false,
                other => {
                    return Err(format!("{}: type {other:?}, not snapshot or delta", t.name));
                }
            };
            let k: Ticker = serde_json::from_value(t.data)
                .map_err(|e| format!("{}: not a ticker: {e}", t.name))?;
            let levels = ticker(&k).map_err(|e| format!("{}: {e}", t.name))?;
            let symbol = k.symbol.as_deref().unwrap_or(symbol).to_ascii_uppercase();
            Ok(Frame::Ticker {
                symbol,
                time,
                snapshot,
                levels,
            })
        }
        "allLiquidation" => {
            let items: Vec<Liquidation> = serde_json::from_value(t.data)
                .map_err(|e| format!("{}: not a list of liquidations: {e}", t.name))?;
            items
                .iter()
                .enumerate()
                .map(|(i, x)| liquidated(x).map_err(|e| format!("{} item {i}: {e}", t.name)))
                .collect::<Result<Vec<_>, _>>()
                .map(Frame::Liquidations)
        }
        _ => Err(format!("topic {:?} was not asked for", t.name)),
    }
}

/// A ticker field present (not absent, `null` or empty).
fn present(s: Option<&String>) -> Option<&str> {
    s.map(|x| x.trim()).filter(|x| !x.is_empty())
}

fn ticker(k: &Ticker) -> Result<Levels, String> {
    let level = |kind: DerivKind, what: &str, s: Option<&String>| {
        present(s).map(|s| value(kind, what, s)).transpose()
    };
    let next_funding = match present(k.next_funding_time.as_ref()) {
        None => None,
        Some(s) => {
            let ms: i64 = s
                .parse()
                .map_err(|_| format!("nextFundingTime {s:?} is not a time in milliseconds"))?;
            // Contracts without funding (dated futures) say 0.
            (ms != 0)
                .then(|| millis("nextFundingTime", ms))
                .transpose()?
        }
    };
    Ok(Levels {
        mark: level(DerivKind::MarkPrice, "markPrice", k.mark_price.as_ref())?,
        index: level(DerivKind::IndexPrice, "indexPrice", k.index_price.as_ref())?,
        oi_base: level(
            DerivKind::OpenInterestBase,
            "openInterest",
            k.open_interest.as_ref(),
        )?,
        oi_usd: level(
            DerivKind::OpenInterestUsd,
            "openInterestValue",
            k.open_interest_value.as_ref(),
        )?,
        funding_rate: level(
            DerivKind::PredictedFundingRate,
            "fundingRate",
            k.funding_rate.as_ref(),
        )?,
        next_funding,
    })
}

/// A liquidation as Bybit documents its side: `Buy`, a long position liquidated; `Sell`, a
/// short one. Valued at the bankruptcy price (the only price given) times the size.
fn liquidated(x: &Liquidation) -> Result<LiquidationOrder, String> {
    let side = match x.side.as_str() {
        "Buy" => LiquidatedSide::Long,
        "Sell" => LiquidatedSide::Short,
        other => return Err(format!("side {other:?} is not Buy or Sell")),
    };
    liquidation(
        VENUE,
        &x.symbol,
        millis("T", x.time)?,
        side,
        &x.price,
        &x.size,
    )
}

/// The tickers of a connection: each symbol's state, from its snapshot with every delta since
/// merged in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tickers {
    state: BTreeMap<String, (Levels, i64)>,
}

/// What a ticker frame changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// The levels to send at the frame's time: those it carried, or every level of the state
    /// when it is the symbol's first frame of a minute (so that each minute has a value of
    /// each level while the stream lasts, though deltas carry only what changed).
    pub levels: Vec<(DerivKind, f64)>,
    /// The next funding time before this frame, when this frame moved it on (that
    /// settlement has passed).
    pub settled: Option<Timestamp>,
}

impl Tickers {
    /// A new connection: its snapshots start afresh.
    pub fn clear(&mut self) {
        self.state.clear();
    }

    /// Merge a snapshot (which replaces the symbol's state) or a delta.
    ///
    /// # Errors
    /// A delta before the symbol's snapshot on this connection.
    pub fn merge(
        &mut self,
        symbol: &str,
        time: Timestamp,
        snapshot: bool,
        levels: Levels,
    ) -> Result<Merged, String> {
        let minute = time.millis().div_euclid(60_000);
        let (merged, new_minute, before) = match (snapshot, self.state.get(symbol)) {
            (true, old) => (levels, true, old.and_then(|o| o.0.next_funding)),
            (false, Some((old, m))) => (old.merged(levels), *m != minute, old.next_funding),
            (false, None) => {
                return Err(format!(
                    "tickers.{symbol}: a delta before the snapshot of this connection"
                ));
            }
        };
        self.state.insert(symbol.to_string(), (merged, minute));
        let settled = match (before, merged.next_funding) {
            (Some(b), Some(n)) if n > b => Some(b),
            _ => None,
        };
        Ok(Merged {
            levels: if new_minute {
                merged.values()
            } else {
                levels.values()
            },
            settled,
        })
    }
}

fn envelope<T: serde::de::DeserializeOwned>(
    url: &str,
    what: &'static str,
    body: &str,
) -> Result<T, SourceError> {
    let malformed = |detail: String| {
        SourceError::new(
            url,
            SourceErrorKind::Malformed {
                what,
                detail,
                body: body.to_string(),
            },
        )
    };
    let e: Envelope<serde_json::Value> = decode(url, what, body)?;
    if e.ret_code != 0 {
        return Err(SourceError::new(
            url,
            SourceErrorKind::Remote(format!("retCode {}: {}", e.ret_code, e.ret_msg)),
        ));
    }
    let result = e.result.ok_or_else(|| malformed("no result".into()))?;
    serde_json::from_value(result).map_err(|x| malformed(format!("result: {x}")))
}

fn bad_row(url: &str, what: &'static str, i: usize, e: &str, body: &str) -> SourceError {
    SourceError::new(
        url,
        SourceErrorKind::Malformed {
            what,
            detail: format!("row {i}: {e}"),
            body: body.to_string(),
        },
    )
}

fn ms_text(what: &str, s: &str) -> Result<Timestamp, String> {
    let ms: i64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{what} {s:?} is not a time in milliseconds"))?;
    millis(what, ms)
}

/// `GET /v5/market/open-interest`: `(time, base units)` in time order.
///
/// # Errors
/// An error `retCode`, a body that is not the documented object, or a bad row (naming the
/// URL and the row).
pub fn open_interest(url: &str, body: &str) -> Result<Vec<(Timestamp, f64)>, SourceError> {
    const WHAT: &str = "open interest";
    let r: OpenInterestResult = envelope(url, WHAT, body)?;
    let mut rows = r
        .list
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let t =
                ms_text("timestamp", &x.timestamp).map_err(|e| bad_row(url, WHAT, i, &e, body))?;
            let v = value(
                DerivKind::OpenInterestBase,
                "openInterest",
                &x.open_interest,
            )
            .map_err(|e| bad_row(url, WHAT, i, &e, body))?;
            Ok((t, v))
        })
        .collect::<Result<Vec<_>, SourceError>>()?;
    rows.sort_by_key(|r| r.0);
    rows.dedup_by_key(|r| r.0);
    Ok(rows)
}

/// `GET /v5/market/funding/history`: settled rates `(settlement time, rate)` in time order.
///
/// # Errors
/// As [`open_interest`].
pub fn funding_history(url: &str, body: &str) -> Result<Vec<(Timestamp, f64)>, SourceError> {
    const WHAT: &str = "funding rate history";
    let r: FundingResult = envelope(url, WHAT, body)?;
    let mut rows = r
        .list
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let bad = |e: String| bad_row(url, WHAT, i, &format!("{}: {e}", x.symbol), body);
            Ok((
                ms_text("fundingRateTimestamp", &x.timestamp).map_err(bad)?,
                value(DerivKind::FundingRate, "fundingRate", &x.rate).map_err(bad)?,
            ))
        })
        .collect::<Result<Vec<_>, SourceError>>()?;
    rows.sort_by_key(|r| r.0);
    rows.dedup_by_key(|r| r.0);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documentation's snapshot example.
    const SNAPSHOT: &str = r#"{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","tickDirection":"PlusTick","price24hPcnt":"0.017103","lastPrice":"17216.00","prevPrice24h":"16926.50","highPrice24h":"17281.50","lowPrice24h":"16915.00","prevPrice1h":"17238.00","markPrice":"17217.33","indexPrice":"17227.36","openInterest":"68744.761","openInterestValue":"1183601235.91","turnover24h":"1570383121.943499","volume24h":"91705.276","nextFundingTime":"1673280000000","fundingRate":"-0.000212","bid1Price":"17215.50","bid1Size":"84.489","ask1Price":"17216.00","ask1Size":"83.020"},"cs":24987956059,"ts":1673272861686}"#;
    /// A delta captured live (one side of the book only).
    const DELTA: &str = r#"{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"79114.50","bid1Size":"1.496"},"cs":793092205004,"ts":1787590405983}"#;
    const LIQ: &str = r#"{"topic":"allLiquidation.ROSEUSDT","type":"snapshot","ts":1739502303204,"data":[{"T":1739502302929,"s":"ROSEUSDT","S":"Sell","v":"20000","p":"0.04499"}]}"#;

    fn ticker_of(text: &str) -> (String, Timestamp, bool, Levels) {
        match frame(text).unwrap() {
            Frame::Ticker {
                symbol,
                time,
                snapshot,
                levels,
            } => (symbol, time, snapshot, levels),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tickers_read_what_they_carry() {
        let (symbol, time, snapshot, l) = ticker_of(SNAPSHOT);
        assert_eq!((symbol.as_str(), snapshot), ("BTCUSDT", true));
        assert_eq!(time.millis(), 1_673_272_861_686);
        assert_eq!(
            l,
            Levels {
                mark: Some(17_217.33),
                index: Some(17_227.36),
                oi_base: Some(68_744.761),
                oi_usd: Some(1_183_601_235.91),
                funding_rate: Some(-0.000_212),
                next_funding: Some(Timestamp::from_millis(1_673_280_000_000)),
            }
        );
        let (_, _, snapshot, l) = ticker_of(DELTA);
        assert!(!snapshot);
        assert_eq!(l, Levels::default(), "only the book changed");
        // null and "" are unchanged too.
        let odd = r#"{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","markPrice":null,"indexPrice":"","fundingRate":"0.0001"},"ts":1787590405983}"#;
        let (_, _, _, l) = ticker_of(odd);
        assert_eq!(
            (l.mark, l.index, l.funding_rate),
            (None, None, Some(0.0001))
        );
    }

    /// Deltas merge into the snapshot; the first frame of each minute sends the whole state;
    /// the next funding time moving on says the settlement before it passed; a delta before
    /// any snapshot, or after the connection's state was cleared, is refused.
    #[test]
    fn deltas_merge_into_the_snapshot() {
        let at = |s: &str| Timestamp::parse(s).unwrap();
        let (_, _, _, snap) = ticker_of(SNAPSHOT);
        let mut t = Tickers::default();
        let first = t
            .merge("BTCUSDT", at("2026-02-05T20:00:01Z"), true, snap)
            .unwrap();
        assert_eq!(first.levels.len(), 5);
        assert_eq!(first.settled, None);
        let mark = Levels {
            mark: Some(17_220.0),
            ..Levels::default()
        };
        let d = t
            .merge("BTCUSDT", at("2026-02-05T20:00:02Z"), false, mark)
            .unwrap();
        assert_eq!(d.levels, [(DerivKind::MarkPrice, 17_220.0)]);
        let quiet = t
            .merge(
                "BTCUSDT",
                at("2026-02-05T20:00:03Z"),
                false,
                Levels::default(),
            )
            .unwrap();
        assert!(quiet.levels.is_empty());
        let next_minute = t
            .merge(
                "BTCUSDT",
                at("2026-02-05T20:01:00Z"),
                false,
                Levels::default(),
            )
            .unwrap();
        assert_eq!(next_minute.levels.len(), 5, "the whole state each minute");
        assert!(
            next_minute
                .levels
                .contains(&(DerivKind::MarkPrice, 17_220.0))
        );
        let moved = Levels {
            next_funding: Some(Timestamp::from_millis(1_673_308_800_000)),
            funding_rate: Some(0.0001),
            ..Levels::default()
        };
        let s = t
            .merge("BTCUSDT", at("2026-02-05T20:01:01Z"), false, moved)
            .unwrap();
        assert_eq!(s.settled, Some(Timestamp::from_millis(1_673_280_000_000)));
        let e = t
            .merge("ETHUSDT", at("2026-02-05T20:01:01Z"), false, mark)
            .unwrap_err();
        assert!(e.contains("a delta before the snapshot"), "{e}");
        t.clear();
        assert!(
            t.merge("BTCUSDT", at("2026-02-05T20:01:02Z"), false, mark)
                .is_err()
        );
    }

    /// Bybit's side is the position's: Buy, a long liquidated.
    #[test]
    fn liquidations_read_by_the_position_side() {
        let Frame::Liquidations(v) = frame(LIQ).unwrap() else {
            panic!()
        };
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].side, LiquidatedSide::Short);
        assert_eq!(
            (v[0].market.as_str(), v[0].price, v[0].qty),
            ("ROSEUSDT", 0.04499, 20_000.0)
        );
        let buy = LIQ.replace(r#""S":"Sell""#, r#""S":"Buy""#);
        let Frame::Liquidations(v) = frame(&buy).unwrap() else {
            panic!()
        };
        assert_eq!(v[0].side, LiquidatedSide::Long);
        assert_eq!(v[0].time.millis(), 1_739_502_302_929);
    }

    /// Every unreadable frame is an error saying what was wrong, never a panic.
    #[test]
    fn replies_and_malformed_frames() {
        assert_eq!(
            frame(r#"{"success":true,"ret_msg":"pong","conn_id":"465772b1-ad36-4a1b-9bbd-6c0a6d1ee8a4","req_id":"","op":"ping"}"#)
                .unwrap(),
            Frame::Reply
        );
        assert_eq!(
            frame(r#"{"success":true,"ret_msg":"","conn_id":"3cd84cb1-4d06-4a05-930a-2efe5fc70f0f","req_id":"","op":"subscribe"}"#)
                .unwrap(),
            Frame::Reply
        );
        for (text, says) in [
            (
                r#"{"success":false,"ret_msg":"Invalid symbol :[NOTACOINUSDT]","op":"subscribe"}"#,
                "the venue refused subscribe: Invalid symbol :[NOTACOINUSDT]",
            ),
            ("{", "not JSON"),
            ("[1]", "not a topic frame"),
            (
                r#"{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{}}"#,
                "not asked for",
            ),
            (
                &SNAPSHOT.replace(r#""type":"snapshot""#, r#""type":"full""#),
                "not snapshot or delta",
            ),
            (
                &SNAPSHOT.replace(r#""markPrice":"17217.33""#, r#""markPrice":"1e99""#),
                "markPrice",
            ),
            (
                &SNAPSHOT.replace(r#""fundingRate":"-0.000212""#, r#""fundingRate":"x""#),
                "fundingRate \"x\"",
            ),
            (
                &SNAPSHOT.replace(
                    r#""nextFundingTime":"1673280000000""#,
                    r#""nextFundingTime":"soon""#,
                ),
                "nextFundingTime",
            ),
            (
                &SNAPSHOT.replace(r#""markPrice":"17217.33""#, r#""markPrice":17217.33"#),
                "not a ticker",
            ),
            (
                &SNAPSHOT.replace(r#","ts":1673272861686"#, ""),
                "not a topic frame",
            ),
            (
                &LIQ.replace(r#""S":"Sell""#, r#""S":"Long""#),
                "item 0: side \"Long\"",
            ),
            (&LIQ.replace(r#""v":"20000""#, r#""v":"0""#), "not positive"),
            (
                &LIQ.replace(r#""data":["#, r#""data":{"x":["#)
                    .replace("}]}", "}]}}"),
                "not a list",
            ),
        ] {
            let e = frame(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn rest_answers_read_and_errors_name_the_url() {
        let oi = open_interest("u", r#"{"retCode":0,"retMsg":"OK","result":{"symbol":"BTCUSDT","category":"linear","list":[{"openInterest":"58944.79900000","timestamp":"1785936900000"},{"openInterest":"58628.63100000","timestamp":"1785936600000"}],"nextPageCursor":""},"retExtInfo":{},"time":1785937000000}"#).unwrap();
        assert_eq!(
            oi,
            [
                (Timestamp::from_millis(1_785_936_600_000), 58_628.631),
                (Timestamp::from_millis(1_785_936_900_000), 58_944.799)
            ]
        );
        let f = funding_history("u", r#"{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"BTCUSDT","fundingRate":"0.00005918","fundingRateTimestamp":"1785916800000"}]},"retExtInfo":{},"time":1785937000000}"#).unwrap();
        assert_eq!(
            f,
            [(Timestamp::from_millis(1_785_916_800_000), 0.000_059_18)]
        );
        for (e, says) in [
            (
                open_interest("http://x/oi", r#"{"retCode":10001,"retMsg":"params error: symbol invalid","result":{},"time":1}"#).unwrap_err(),
                "http://x/oi: the server answered with an error: retCode 10001: params error",
            ),
            (open_interest("u", "<html>").unwrap_err(), "not a valid open interest"),
            (
                open_interest("u", r#"{"retCode":0,"retMsg":"OK","result":{"list":[{"openInterest":"1","timestamp":"later"}]}}"#).unwrap_err(),
                "row 0: timestamp \"later\"",
            ),
            (
                funding_history("u", r#"{"retCode":0,"retMsg":"OK","result":{"list":[{"symbol":"BTCUSDT","fundingRate":"5","fundingRateTimestamp":"1"}]}}"#).unwrap_err(),
                "row 0: BTCUSDT: fundingRate",
            ),
            (funding_history("u", r#"{"retCode":0,"retMsg":"OK"}"#).unwrap_err(), "no result"),
        ] {
            let e = e.to_string();
            assert!(e.contains(says), "{e}");
        }
    }
}
