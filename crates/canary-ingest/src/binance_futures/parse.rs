//! Binance USDⓈ-M payloads into model types: pure functions, each value checked by its kind
//! (an unreadable frame is an error naming what was wrong, never a panic).

use canary_model::Timestamp;
use canary_model::derivatives::{DerivKind, LiquidatedSide, LiquidationOrder};
use serde::Deserialize;

use super::messages::{
    Combined, ForceOrderEvent, FundingRate, MarkPriceUpdate, OpenInterest, OpenInterestHist, Typed,
};
use crate::perp::{liquidation, millis, value};
use crate::source::{SourceError, SourceErrorKind, decode};

/// The venue's name in series and orders.
pub const VENUE: &str = "binance";

/// A mark price update.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Binance's spelling, e.g. `BTCUSDT`.
    pub symbol: String,
    /// The event time.
    pub time: Timestamp,
    pub mark: f64,
    pub index: f64,
    /// The funding rate of the interval ending at `next_funding`, as it stands.
    pub funding_rate: f64,
    pub next_funding: Timestamp,
}

/// What one stream frame said.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Mark(Mark),
    Liquidation(LiquidationOrder),
    /// A reply to a request (`{"result":null,"id":1}`): nothing to take.
    Other,
}

/// Read one text frame of the combined stream (`/stream?streams=…`, each payload under
/// `data`) or of a raw stream (the payload alone).
///
/// # Errors
/// A frame that is not JSON, an error from the venue, an event of another type, a missing
/// field or a value out of its kind's range (what was wrong).
pub fn frame(text: &str) -> Result<Frame, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if v.get("id").is_some() && v.get("result").is_some() {
        return Ok(Frame::Other);
    }
    if let Some(msg) = v.get("msg").and_then(|m| m.as_str()) {
        return Err(format!("the stream sent an error: {msg}"));
    }
    let (stream, data) = if v.get("stream").is_some() {
        let c: Combined =
            serde_json::from_value(v).map_err(|e| format!("not a stream frame: {e}"))?;
        (c.stream, c.data)
    } else {
        (String::from("stream"), v)
    };
    let typed = Typed::deserialize(&data).map_err(|e| format!("{stream}: no event type: {e}"))?;
    match typed.event.as_str() {
        "markPriceUpdate" => {
            let m: MarkPriceUpdate = serde_json::from_value(data)
                .map_err(|e| format!("{stream}: not a mark price update: {e}"))?;
            mark(&m).map_err(|e| format!("{stream}: {e}"))
        }
        "forceOrder" => {
            let f: ForceOrderEvent = serde_json::from_value(data)
                .map_err(|e| format!("{stream}: not a liquidation order: {e}"))?;
            force_order(&f)
                .map(Frame::Liquidation)
                .map_err(|e| format!("{stream}: {e}"))
        }
        other => Err(format!(
            "{stream}: event {other:?}, not markPriceUpdate or forceOrder"
        )),
    }
}

fn mark(m: &MarkPriceUpdate) -> Result<Frame, String> {
    Ok(Frame::Mark(Mark {
        symbol: m.symbol.to_ascii_uppercase(),
        time: millis("event time", m.event_time)?,
        mark: value(DerivKind::MarkPrice, "mark price", &m.mark_price)?,
        index: value(DerivKind::IndexPrice, "index price", &m.index_price)?,
        funding_rate: value(
            DerivKind::PredictedFundingRate,
            "funding rate",
            &m.funding_rate,
        )?,
        next_funding: millis("next funding time", m.next_funding_time)?,
    }))
}

/// A forced order as the liquidation it is: `SELL` liquidated a long, `BUY` a short; valued
/// at its average fill price (its limit price when nothing filled) times the quantity filled
/// (the original quantity when nothing filled).
fn force_order(f: &ForceOrderEvent) -> Result<LiquidationOrder, String> {
    let o = &f.order;
    let side = match o.side.as_str() {
        "SELL" => LiquidatedSide::Long,
        "BUY" => LiquidatedSide::Short,
        other => return Err(format!("side {other:?} is not BUY or SELL")),
    };
    // Zero (nothing filled) falls back; anything else must read as a number.
    let filled = |what: &str, s: &str| -> Result<bool, String> {
        s.trim()
            .parse::<f64>()
            .map(|x| x > 0.0)
            .map_err(|_| format!("{what} {s:?} is not a number"))
    };
    let price = if filled("average price", &o.average_price)? {
        &o.average_price
    } else {
        &o.price
    };
    let qty = if filled("filled quantity", &o.filled)? {
        &o.filled
    } else {
        &o.quantity
    };
    liquidation(
        VENUE,
        &o.symbol,
        millis("trade time", o.trade_time)?,
        side,
        price,
        qty,
    )
}

fn malformed(url: &str, what: &'static str, detail: String, body: &str) -> SourceError {
    SourceError::new(
        url,
        SourceErrorKind::Malformed {
            what,
            detail,
            body: body.to_string(),
        },
    )
}

/// `GET /fapi/v1/openInterest`: the open interest in base units, at its time.
///
/// # Errors
/// A body that is not the documented object, or a value out of range (naming the URL).
pub fn open_interest(url: &str, body: &str) -> Result<(Timestamp, f64), SourceError> {
    let o: OpenInterest = decode(url, "open interest", body)?;
    let bad = |e: String| malformed(url, "open interest", format!("{}: {e}", o.symbol), body);
    Ok((
        millis("time", o.time).map_err(bad)?,
        value(DerivKind::OpenInterestBase, "openInterest", &o.value).map_err(bad)?,
    ))
}

/// One row of the open-interest history: its time, base units and USD value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OiRow {
    pub time: Timestamp,
    pub base: f64,
    pub usd: f64,
}

/// `GET /futures/data/openInterestHist`: rows in time order.
///
/// # Errors
/// A body that is not the documented array, or a row with a bad value (naming the URL and
/// the row).
pub fn open_interest_hist(url: &str, body: &str) -> Result<Vec<OiRow>, SourceError> {
    let rows: Vec<OpenInterestHist> = decode(url, "open interest history", body)?;
    let mut out = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let bad = |e: String| {
                malformed(
                    url,
                    "open interest history",
                    format!("row {i} ({}): {e}", r.symbol),
                    body,
                )
            };
            let ms = r
                .timestamp
                .get()
                .ok_or_else(|| bad(format!("timestamp {:?} is not a time", r.timestamp)))?;
            Ok(OiRow {
                time: millis("timestamp", ms).map_err(bad)?,
                base: value(
                    DerivKind::OpenInterestBase,
                    "sumOpenInterest",
                    &r.sum_open_interest,
                )
                .map_err(bad)?,
                usd: value(
                    DerivKind::OpenInterestUsd,
                    "sumOpenInterestValue",
                    &r.sum_open_interest_value,
                )
                .map_err(bad)?,
            })
        })
        .collect::<Result<Vec<_>, SourceError>>()?;
    out.sort_by_key(|r| r.time);
    out.dedup_by_key(|r| r.time);
    Ok(out)
}

/// `GET /fapi/v1/fundingRate`: settled rates `(settlement time as given, rate)` in time order.
///
/// # Errors
/// A body that is not the documented array, or a bad row (naming the URL and the row).
pub fn funding_rates(url: &str, body: &str) -> Result<Vec<(Timestamp, f64)>, SourceError> {
    let rows: Vec<FundingRate> = decode(url, "funding rate history", body)?;
    let mut out = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let bad = |e: String| {
                malformed(
                    url,
                    "funding rate history",
                    format!("row {i} ({}): {e}", r.symbol),
                    body,
                )
            };
            Ok((
                millis("fundingTime", r.funding_time).map_err(bad)?,
                value(DerivKind::FundingRate, "fundingRate", &r.rate).map_err(bad)?,
            ))
        })
        .collect::<Result<Vec<_>, SourceError>>()?;
    out.sort_by_key(|r| r.0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    /// The documentation's example and a frame captured live (with its undocumented fields).
    const MARK_DOC: &str = r#"{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000}"#;
    const MARK_LIVE: &str = r#"{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1788936948001,"s":"BTCUSDT","p":"79107.36658171","ap":"79107.36658171","P":"79176.63756423","i":"79139.09565217","r":"0.00008359","T":1788940800000,"st":1}}"#;
    /// A real liquidation of 2023-09-26 (quoted in a public issue thread).
    const FORCE: &str = r#"{"stream":"btcusdt@forceOrder","data":{"e":"forceOrder","E":1695714031883,"o":{"s":"BTCUSDT","S":"SELL","o":"LIMIT","f":"IOC","q":"0.115","p":"26142.12","ap":"26245.10","X":"FILLED","l":"0.115","z":"0.115","T":1695714031881}}}"#;

    #[test]
    fn mark_price_updates_read_with_or_without_the_combined_wrapper() {
        let Frame::Mark(m) = frame(MARK_DOC).unwrap() else {
            panic!()
        };
        assert_eq!(
            (m.symbol.as_str(), m.mark, m.index, m.funding_rate),
            ("BTCUSDT", 11_794.15, 11_784.626_590_91, 0.000_381_67)
        );
        assert_eq!(m.next_funding, Timestamp::from_millis(1_562_306_400_000));
        let Frame::Mark(m) = frame(MARK_LIVE).unwrap() else {
            panic!()
        };
        assert_eq!(m.time, Timestamp::from_millis(1_788_936_948_001));
        assert_eq!(m.funding_rate, 0.000_083_59);
    }

    /// SELL closes a long; valued at the average fill price times the quantity filled.
    #[test]
    fn force_orders_are_liquidations_by_the_side_they_closed() {
        let Frame::Liquidation(o) = frame(FORCE).unwrap() else {
            panic!()
        };
        assert_eq!(o.side, LiquidatedSide::Long);
        assert_eq!(
            (o.venue.as_str(), o.market.as_str()),
            ("binance", "BTCUSDT")
        );
        assert_eq!((o.price, o.qty), (26_245.10, 0.115));
        assert_eq!(o.time, Timestamp::from_millis(1_695_714_031_881));
        let buy = FORCE.replace(r#""S":"SELL""#, r#""S":"BUY""#);
        let Frame::Liquidation(o) = frame(&buy).unwrap() else {
            panic!()
        };
        assert_eq!(o.side, LiquidatedSide::Short);
        // Nothing filled: the limit price and the original quantity.
        let unfilled = FORCE
            .replace(r#""ap":"26245.10""#, r#""ap":"0""#)
            .replace(r#""z":"0.115""#, r#""z":"0""#)
            .replace(r#""q":"0.115""#, r#""q":"0.2""#);
        let Frame::Liquidation(o) = frame(&unfilled).unwrap() else {
            panic!()
        };
        assert_eq!((o.price, o.qty), (26_142.12, 0.2));
    }

    /// Every unreadable frame is an error saying what was wrong, never a panic.
    #[test]
    fn malformed_frames_say_what_is_wrong() {
        assert_eq!(frame(r#"{"result":null,"id":1}"#).unwrap(), Frame::Other);
        for (text, says) in [
            ("{", "not JSON"),
            (
                r#"{"code":-1121,"msg":"Invalid symbol."}"#,
                "Invalid symbol",
            ),
            (r#"{"stream":"x","data":{"E":1}}"#, "no event type"),
            (
                r#"{"stream":"btcusdt@kline_1m","data":{"e":"kline"}}"#,
                "event \"kline\"",
            ),
            (
                &MARK_DOC.replace(r#""p":"11794.15000000""#, r#""p":"-5""#),
                "mark price",
            ),
            (
                &MARK_DOC.replace(r#""r":"0.00038167""#, r#""r":"7""#),
                "funding rate",
            ),
            (
                &MARK_DOC.replace(r#","i":"11784.62659091""#, ""),
                "not a mark price update",
            ),
            (
                &MARK_DOC.replace("1562305380000", "99999999999999999"),
                "event time",
            ),
            (
                &FORCE.replace(r#""S":"SELL""#, r#""S":"HOLD""#),
                "side \"HOLD\"",
            ),
            (
                &FORCE.replace(r#""z":"0.115""#, r#""z":"lots""#),
                "filled quantity \"lots\"",
            ),
            (
                &FORCE.replace(r#""z":"0.115""#, r#""z":"9e11""#),
                "price × quantity",
            ),
            (
                &FORCE.replace(r#""T":1695714031881"#, r#""T":"x""#),
                "not a liquidation order",
            ),
            ("[]", "no event type"),
            ("null", "no event type"),
        ] {
            let e = frame(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn rest_answers_read_and_bad_ones_name_the_url() {
        let (at, oi) = open_interest(
            "u",
            r#"{"symbol":"BTCUSDT","openInterest":"109049.480","time":1789913109480}"#,
        )
        .unwrap();
        assert_eq!((at.millis(), oi), (1_789_913_109_480, 109_049.48));
        let hist = open_interest_hist("u", r#"[{"symbol":"BTCUSDT","sumOpenInterest":"109098.63700000","sumOpenInterestValue":"8785091375.37910000","CMCCirculatingSupply":"20086328.00000000","timestamp":1789912500000},{"symbol":"BTCUSDT","sumOpenInterest":"109115.83500000","sumOpenInterestValue":"8785524572.89207600","CMCCirculatingSupply":"20086328.00000000","timestamp":1789912200000},{"symbol":"BTCUSDT","sumOpenInterest":"20403.637","sumOpenInterestValue":"150570784.07809979","timestamp":"1583127900000"}]"#).unwrap();
        assert_eq!(hist.len(), 3);
        assert_eq!(hist[0].time.millis(), 1_583_127_900_000, "a string, sorted");
        assert_eq!(hist[1].base, 109_115.835);
        let funding = funding_rates(
            "u",
            r#"[{"symbol":"BTCUSDT","fundingRate":"-0.03750000","fundingTime":1570608000000,"markPrice":"34287.54619963"},{"symbol":"BTCUSDT","fundingRate":"0.00010000","fundingTime":1570636800000}]"#,
        )
        .unwrap();
        assert_eq!(funding[0], (t("2019-10-09T08:00:00Z"), -0.0375));
        for (f, says) in [
            (open_interest("http://x/oi", "{}").unwrap_err(), "http://x/oi"),
            (
                open_interest(
                    "u",
                    r#"{"symbol":"BTCUSDT","openInterest":"-1","time":1}"#,
                )
                .unwrap_err(),
                "openInterest",
            ),
            (
                open_interest_hist(
                    "u",
                    r#"[{"symbol":"BTCUSDT","sumOpenInterest":"1","sumOpenInterestValue":"1","timestamp":"soon"}]"#,
                )
                .unwrap_err(),
                "row 0 (BTCUSDT): timestamp",
            ),
            (
                funding_rates(
                    "u",
                    r#"[{"symbol":"BTCUSDT","fundingRate":"2","fundingTime":1}]"#,
                )
                .unwrap_err(),
                "row 0 (BTCUSDT): fundingRate",
            ),
            (
                funding_rates("u", r#"{"code":-1121,"msg":"Invalid symbol."}"#).unwrap_err(),
                "Invalid symbol",
            ),
        ] {
            let e = f.to_string();
            assert!(e.contains(says), "{e}");
        }
    }
}
