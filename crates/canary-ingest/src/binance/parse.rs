//! Binance payloads into model types.

use canary_model::{Candle, Timeframe, Timestamp};

use super::messages::{Combined, KlineEvent};
use crate::source::{SourceError, SourceErrorKind};

/// What one stream frame said.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A closed kline of a symbol (Binance's spelling, e.g. `BTCUSDT`).
    Closed { symbol: String, candle: Candle },
    /// A kline still open, an acknowledgement: nothing to take.
    Other,
}

fn price(what: &str, s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .map_err(|_| format!("{what} {s:?} is not a number"))
}

/// A kline's fields as a candle.
#[expect(clippy::too_many_arguments)]
fn candle(
    open_time: i64,
    o: &str,
    h: &str,
    l: &str,
    c: &str,
    v: &str,
    q: &str,
    n: u64,
) -> Result<Candle, String> {
    Candle::new(
        Timestamp::from_millis(open_time),
        price("open", o)?,
        price("high", h)?,
        price("low", l)?,
        price("close", c)?,
        price("volume", v)?,
        Some(price("quote volume", q)?),
        Some(n),
    )
    .map_err(|e| format!("{:?}: {}", e.field, e.reason))
}

/// Read one text frame of a combined kline stream of interval `tf`.
///
/// # Errors
/// A frame that is not JSON, not a kline, a kline of another interval, or a candle that does
/// not hold (what was wrong).
pub fn frame(text: &str, tf: Timeframe) -> Result<Frame, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    // A reply to a request ({"result": null, "id": 1}) or an error ({"code": .., "msg": ..}).
    if v.get("id").is_some() && v.get("result").is_some() {
        return Ok(Frame::Other);
    }
    if let Some(msg) = v.get("msg").and_then(|m| m.as_str()) {
        return Err(format!("the stream sent an error: {msg}"));
    }
    let c: Combined = serde_json::from_value(v).map_err(|e| format!("not a stream frame: {e}"))?;
    let k: KlineEvent = serde_json::from_value(c.data)
        .map_err(|e| format!("{}: not a kline event: {e}", c.stream))?;
    if k.event != "kline" {
        return Err(format!("{}: event {:?}, not kline", c.stream, k.event));
    }
    if k.kline.interval != tf.as_str() {
        return Err(format!(
            "{}: interval {}, not {tf}",
            c.stream, k.kline.interval
        ));
    }
    if !k.kline.closed {
        return Ok(Frame::Other);
    }
    let x = &k.kline;
    let candle = candle(
        x.open_time,
        &x.open,
        &x.high,
        &x.low,
        &x.close,
        &x.volume,
        &x.quote_volume,
        x.trades,
    )
    .map_err(|e| format!("{}: {e}", c.stream))?;
    Ok(Frame::Closed {
        symbol: k.symbol,
        candle,
    })
}

/// `GET /api/v3/klines`: an array of arrays `[open time, open, high, low, close, volume, close
/// time, quote volume, trades, taker base, taker quote, ignore]`.
///
/// # Errors
/// A body that is not such an array, naming the URL and the row.
pub fn rest_klines(url: &str, body: &str) -> Result<Vec<Candle>, SourceError> {
    let bad = |detail: String| {
        SourceError::new(
            url,
            SourceErrorKind::Malformed {
                what: "kline list",
                detail,
                body: body.to_string(),
            },
        )
    };
    let rows: Vec<Vec<serde_json::Value>> =
        serde_json::from_str(body).map_err(|e| bad(e.to_string()))?;
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let s = |j: usize| r.get(j).and_then(|x| x.as_str()).unwrap_or("");
            let open_time = r
                .first()
                .and_then(serde_json::Value::as_i64)
                .ok_or_else(|| bad(format!("row {i}: no open time")))?;
            let trades = r.get(8).and_then(serde_json::Value::as_u64).unwrap_or(0);
            candle(open_time, s(1), s(2), s(3), s(4), s(5), s(7), trades)
                .map_err(|e| bad(format!("row {i}: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FINAL: &str = r#"{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1769904060010,"s":"BTCUSDT","k":{"t":1769904000000,"T":1769904059999,"s":"BTCUSDT","i":"1m","f":1,"L":9,"o":"100.5","c":"101.0","h":"102.0","l":"100.0","v":"3.5","n":9,"x":true,"q":"352.0","V":"1.0","Q":"101.0","B":"0"}}}"#;

    #[test]
    fn final_klines_are_bars_and_the_rest_is_said() {
        let tf: Timeframe = "1m".parse().unwrap();
        match frame(FINAL, tf).unwrap() {
            Frame::Closed { symbol, candle } => {
                assert_eq!(symbol, "BTCUSDT");
                assert_eq!(
                    (
                        candle.open,
                        candle.high,
                        candle.low,
                        candle.close,
                        candle.volume,
                        candle.trades
                    ),
                    (100.5, 102.0, 100.0, 101.0, 3.5, Some(9))
                );
            }
            other @ Frame::Other => panic!("{other:?}"),
        }
        let open = FINAL.replace("\"x\":true", "\"x\":false");
        assert_eq!(frame(&open, tf).unwrap(), Frame::Other);
        assert_eq!(
            frame(r#"{"result":null,"id":1}"#, tf).unwrap(),
            Frame::Other
        );
        assert!(frame("{", tf).unwrap_err().contains("not JSON"));
        let bad = FINAL.replace("\"h\":\"102.0\"", "\"h\":\"99.0\"");
        assert!(
            frame(&bad, tf).unwrap_err().contains("High"),
            "{:?}",
            frame(&bad, tf)
        );
        let other_tf = FINAL.replace("\"i\":\"1m\"", "\"i\":\"5m\"");
        assert!(frame(&other_tf, tf).unwrap_err().contains("interval 5m"));
        assert!(
            frame(r#"{"code":-1121,"msg":"Invalid symbol."}"#, tf)
                .unwrap_err()
                .contains("Invalid symbol")
        );
    }

    #[test]
    fn rest_klines_read_and_bad_rows_are_named() {
        let body = r#"[[1769904000000,"100.5","102.0","100.0","101.0","3.5",1769904059999,"352.0",9,"1.0","101.0","0"]]"#;
        let c = rest_klines("u", body).unwrap();
        assert_eq!((c[0].close, c[0].quote_volume), (101.0, Some(352.0)));
        let e = rest_klines("u", r#"[[1769904000000,"x"]]"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 0"), "{e}");
    }
}
