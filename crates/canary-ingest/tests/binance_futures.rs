//! The Binance USDⓈ-M connector against loopback servers speaking its protocol, with frames
//! written from the public documentation and real payloads quoted in the research notes: mark
//! price updates become three levels, a forced order a liquidation carrying the stream's
//! undercount, an acknowledgement nothing, a broken frame a `Malformed`; the open-interest
//! history is back-filled (after a 429 waited out) and the current value polled; a settlement
//! not yet published when the next funding time moves on is asked for again until it is; a
//! dropped connection is reconnected with a gap named; a route that only acknowledges is
//! reported stale.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use canary_ingest::binance_futures::{BinanceFuturesStream, LIQUIDATION_COVERAGE};
use canary_ingest::bus::Subscribe;
use canary_model::Symbol;
use canary_model::derivatives::LiquidatedSide;
use canary_model::event::Event;
use common::{
    Answer, EIGHT_HOURS, FIVE_MIN, last_settlement, oi_at, path, query, rate_at, rest_server, wall,
};
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

fn mark_frame(event_ms: i64, mark: &str, next_funding: i64) -> String {
    // The live capture's shape, with its undocumented `ap` and `st`.
    format!(
        r#"{{"stream":"btcusdt@markPrice@1s","data":{{"e":"markPriceUpdate","E":{event_ms},"s":"BTCUSDT","p":"{mark}","ap":"{mark}","P":"79176.63756423","i":"79139.09565217","r":"0.00008359","T":{next_funding},"st":1}}}}"#
    )
}

fn force_order(symbol: &str, ms: i64) -> String {
    // The real liquidation of 2023-09-26, at the test's time.
    format!(
        r#"{{"stream":"{}@forceOrder","data":{{"e":"forceOrder","E":{},"o":{{"s":"{symbol}","S":"SELL","o":"LIMIT","f":"IOC","q":"0.115","p":"26142.12","ap":"26245.10","X":"FILLED","l":"0.115","z":"0.115","T":{ms}}}}}}}"#,
        symbol.to_ascii_lowercase(),
        ms + 2
    )
}

/// The REST server: `openInterestHist` rows on the 5-minute grid up to now (the first request
/// answered 429), the current open interest, and the settlements on the 8-hour grid (each a
/// millisecond or two late, as Binance stamps them), the latest withheld from the first two
/// requests (not yet published).
fn binance_rest(requests: Arc<Mutex<Vec<String>>>) -> String {
    let funding_asked = Arc::new(Mutex::new(0_usize));
    rest_server(requests, move |line, before| {
        if before == 0 {
            return Answer::rate_limited();
        }
        let now = wall().millis();
        let (start, end) = (query(line, "startTime"), query(line, "endTime"));
        match path(line) {
            "/futures/data/openInterestHist" => {
                let mut rows = Vec::new();
                let mut t = (start + FIVE_MIN - 1).div_euclid(FIVE_MIN) * FIVE_MIN;
                while t <= end.min(now) {
                    let base = oi_at(t);
                    rows.push(format!(
                        r#"{{"symbol":"BTCUSDT","sumOpenInterest":"{base}","sumOpenInterestValue":"{}","CMCCirculatingSupply":"20086328.00000000","timestamp":{t}}}"#,
                        base * 80_000.0
                    ));
                    t += FIVE_MIN;
                }
                Answer::json(format!("[{}]", rows.join(",")))
            }
            "/fapi/v1/openInterest" => Answer::json(format!(
                r#"{{"symbol":"BTCUSDT","openInterest":"109049.480","time":{now}}}"#
            )),
            "/fapi/v1/fundingRate" => {
                let asked = {
                    let mut n = funding_asked.lock().unwrap();
                    *n += 1;
                    *n
                };
                let published = if asked <= 2 {
                    last_settlement(now) - 1
                } else {
                    now
                };
                let mut rows = Vec::new();
                let mut t = (start + EIGHT_HOURS - 1).div_euclid(EIGHT_HOURS) * EIGHT_HOURS;
                while t <= end.min(published) {
                    rows.push(format!(
                        r#"{{"symbol":"BTCUSDT","fundingRate":"{}","fundingTime":{},"markPrice":"79000.0"}}"#,
                        rate_at(t),
                        t + 1 + t / EIGHT_HOURS % 2
                    ));
                    t += EIGHT_HOURS;
                }
                Answer::json(format!("[{}]", rows.join(",")))
            }
            other => panic!("not a path the connector asks for: {other}"),
        }
    })
}

fn stream(ws: String, rest: String) -> BinanceFuturesStream {
    BinanceFuturesStream {
        name: "binance-futures".into(),
        ws_base: ws,
        rest_base: rest,
        symbols: vec![Symbol::new("BTCUSDT").unwrap()],
        stale_after: Duration::from_secs(20),
        oi_every: Duration::from_millis(200),
        backfill: Duration::from_secs(2 * 86_400),
        settle_retry: Duration::from_millis(100),
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_secs(1),
        timeout: Duration::from_secs(5),
        ca: None,
    }
}

fn named(e: &Event, key: &str) -> Option<(i64, f64)> {
    match e {
        Event::Derivative {
            series,
            time,
            value,
            ..
        } if series.to_string() == key => Some((time.millis(), *value)),
        _ => None,
    }
}

/// The stream server: the first connection sends mark prices (the next funding time moving
/// on), liquidations, an acknowledgement and a broken frame, and drops; the next sends a mark.
async fn binance_ws(settled: i64) -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ws_addr = listener.local_addr().unwrap();
    let paths = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen_paths = paths.clone();
    tokio::spawn(async move {
        let mut n = 0;
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            n += 1;
            let seen = seen_paths.clone();
            // tungstenite's callback type: its error is an HTTP response, large by design.
            #[expect(clippy::result_large_err)]
            let callback =
                move |req: &tokio_tungstenite::tungstenite::handshake::server::Request, resp| {
                    seen.lock().unwrap().push(req.uri().to_string());
                    Ok(resp)
                };
            let mut ws = tokio_tungstenite::accept_hdr_async(tcp, callback)
                .await
                .unwrap();
            let t = wall().millis();
            if n == 1 {
                for m in [
                    mark_frame(t, "79107.36658171", settled),
                    force_order("BTCUSDT", t),
                    r#"{"result":null,"id":1}"#.to_string(),
                    r#"{"stream":"btcusdt@forceOrder","data":{"e":"forceOrder""#.to_string(),
                    // The settlement has passed: the next funding time moves on.
                    mark_frame(t + 1000, "79110.5", settled + EIGHT_HOURS),
                    force_order("ETHUSDT", t + 1000),
                ] {
                    ws.send(Message::text(m)).await.unwrap();
                }
                drop(ws); // dropped without a close frame
            } else {
                ws.send(Message::text(mark_frame(
                    t,
                    "79200.0",
                    settled + EIGHT_HOURS,
                )))
                .await
                .unwrap();
                held.push(ws);
            }
        }
    });
    (ws_addr, paths)
}

#[tokio::test]
async fn levels_liquidations_history_settlements_and_a_reconnection() {
    let now = wall().millis();
    let settled = last_settlement(now);
    let (ws_addr, paths) = binance_ws(settled).await;
    let requests = Arc::new(Mutex::new(Vec::new()));
    let cfg = stream(
        format!("ws://{ws_addr}/market"),
        binance_rest(requests.clone()),
    );
    let (tx, mut rx) = canary_ingest::bus::in_process(64);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let run =
        tokio::spawn(async move { cfg.run(&tx, Arc::new(wall), BTreeMap::new(), stop_rx).await });
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let done = |events: &[Event]| {
        events
            .iter()
            .any(|e| named(e, "funding_rate:BTCUSDT:binance:8h").is_some_and(|x| x.0 == settled))
            && events
                .iter()
                .any(|e| named(e, "mark_price:BTCUSDT:binance:1m").is_some_and(|x| x.1 == 79_200.0))
            && events
                .iter()
                .any(|e| named(e, "oi_base:BTCUSDT:binance:1m").is_some())
    };
    while let Ok(Some(s)) = tokio::time::timeout_at(deadline, rx.next()).await {
        assert!(s.available_at.millis() >= now, "stamped on the clock");
        events.push(s.event);
        if done(&events) {
            break;
        }
    }
    stop_tx.send(true).unwrap();
    assert_eq!(run.await.unwrap(), canary_ingest::binance::Ended::Shutdown);
    assert!(done(&events), "{events:#?}");

    // The mark price update: three levels at its event time.
    let first = |key: &str| events.iter().find_map(|e| named(e, key)).unwrap();
    assert_eq!(first("mark_price:BTCUSDT:binance:1m").1, 79_107.366_581_71);
    assert_eq!(first("index_price:BTCUSDT:binance:1m").1, 79_139.095_652_17);
    assert_eq!(
        first("predicted_funding_rate:BTCUSDT:binance:1m").1,
        0.000_083_59
    );
    // The forced SELL liquidated a long; the undercount goes with it; ETHUSDT was not asked.
    let liquidations: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Liquidation {
                order, coverage, ..
            } => Some((order.clone(), coverage.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(liquidations.len(), 1, "{liquidations:?}");
    assert_eq!(liquidations[0].0.side, LiquidatedSide::Long);
    assert_eq!(
        (liquidations[0].0.price, liquidations[0].0.qty),
        (26_245.10, 0.115)
    );
    assert_eq!(liquidations[0].1.as_deref(), Some(LIQUIDATION_COVERAGE));
    assert!(LIQUIDATION_COVERAGE.contains("at most one liquidation order per symbol per second"));
    // The broken frame, with its payload.
    assert!(events.iter().any(|e| matches!(e,
        Event::Malformed { payload, error, .. }
            if payload.contains(r#""e":"forceOrder""#) && error.contains("not JSON"))));
    // The reconnection and the gap it leaves, named per symbol.
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Reconnected { .. }))
    );
    assert!(events.iter().any(|e| matches!(e,
        Event::Gap { symbol, from, to, .. } if symbol.as_str() == "BTCUSDT" && from <= to)));

    // The 5-minute history: every row of the back-filled window once, in order, both units.
    let hist: Vec<(i64, f64)> = events
        .iter()
        .filter_map(|e| named(e, "oi_base:BTCUSDT:binance:5m"))
        .collect();
    assert!(hist.len() >= 500, "two days of rows: {}", hist.len());
    assert!(
        hist.windows(2).all(|w| w[1].0 == w[0].0 + FIVE_MIN),
        "no hole, no repeat"
    );
    assert!(hist.iter().all(|&(t, v)| v == oi_at(t)));
    let usd = events
        .iter()
        .filter_map(|e| named(e, "oi_usd:BTCUSDT:binance:5m"))
        .count();
    assert_eq!(usd, hist.len());
    // The current value.
    assert_eq!(first("oi_base:BTCUSDT:binance:1m").1, 109_049.48);

    // Settlements at their scheduled times (the late milliseconds dropped), each once, the
    // latest after it was published.
    let funding: Vec<(i64, f64)> = events
        .iter()
        .filter_map(|e| named(e, "funding_rate:BTCUSDT:binance:8h"))
        .collect();
    assert!(funding.len() >= 6, "{funding:?}");
    assert!(funding.windows(2).all(|w| w[1].0 == w[0].0 + EIGHT_HOURS));
    assert_eq!(funding.last().unwrap().0, settled);
    assert!(funding.iter().all(|&(t, r)| r == rate_at(t)));
    assert!(funding[0].0 >= now - 2 * 86_400_000);

    let r = requests.lock().unwrap();
    // The 429, then the same request again after its Retry-After.
    assert_eq!(r[0], r[1]);
    assert!(
        r[0].contains("/futures/data/openInterestHist?symbol=BTCUSDT&period=5m&startTime="),
        "{r:?}"
    );
    // Windows of at most 500 rows.
    assert!(
        r.iter()
            .filter(|l| path(l) == "/futures/data/openInterestHist")
            .all(|l| {
                query(l, "endTime") - query(l, "startTime") < 500 * FIVE_MIN
                    && query(l, "limit") == 500
            })
    );
    let asked_funding = r
        .iter()
        .filter(|l| path(l) == "/fapi/v1/fundingRate")
        .count();
    assert!(asked_funding >= 3, "asked again until published: {r:?}");
    // Both connections asked for the combined stream on the routed base.
    let p = paths.lock().unwrap();
    assert!(p.len() >= 2);
    assert_eq!(
        p[0],
        "/market/stream?streams=btcusdt@markPrice@1s/btcusdt@forceOrder"
    );
}

/// A route that connects and only acknowledges (as the legacy paths did in 2026) is silent:
/// `Stale`, then a new connection. A REST server that is not there is named in the errors.
#[tokio::test]
async fn a_route_that_only_acknowledges_is_reported_stale() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            tokio::spawn(async move {
                loop {
                    if ws
                        .send(Message::text(r#"{"result":null,"id":1}"#))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            });
        }
    });
    let mut cfg = stream(format!("ws://{addr}/market"), "http://127.0.0.1:9".into());
    cfg.stale_after = Duration::from_millis(400);
    cfg.oi_every = Duration::from_secs(60);
    let (tx, mut rx) = canary_ingest::bus::in_process(64);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let run =
        tokio::spawn(async move { cfg.run(&tx, Arc::new(wall), BTreeMap::new(), stop_rx).await });
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Ok(Some(s)) = tokio::time::timeout_at(deadline, rx.next()).await {
        let reconnected = matches!(s.event, Event::Reconnected { .. });
        events.push(s.event);
        if reconnected {
            break;
        }
    }
    stop_tx.send(true).unwrap();
    run.await.unwrap();
    let stale = events
        .iter()
        .position(|e| matches!(e, Event::Stale { silent_ms: 400, .. }))
        .expect("stale");
    let again = events
        .iter()
        .position(|e| matches!(e, Event::Reconnected { .. }))
        .expect("reconnected");
    assert!(stale < again);
    assert!(events.iter().any(|e| matches!(e,
        Event::Malformed { error, .. } if error.contains("http://127.0.0.1:9/futures/data/openInterestHist"))));
}
