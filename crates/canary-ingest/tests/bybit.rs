//! The Bybit v5 linear connector against loopback servers speaking its protocol, with frames
//! written from the public documentation and real payloads quoted in the research notes: one
//! subscription per connection, pings sent and answered, a ticker snapshot and its deltas
//! merged (only what changed is sent, the whole state with each minute's first frame), all
//! liquidations read by the position's side, a refused subscription and a delta before its
//! snapshot reported, the 5-minute open interest back-filled, a settlement asked for again
//! until it is published, a dropped connection reconnected with a gap named; a connection
//! that answers pings and sends no data is reported stale.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use canary_ingest::bus::Subscribe;
use canary_ingest::bybit::BybitStream;
use canary_model::Symbol;
use canary_model::derivatives::LiquidatedSide;
use canary_model::event::Event;
use common::{
    Answer, EIGHT_HOURS, FIVE_MIN, last_settlement, oi_at, path, query, rate_at, rest_server, wall,
};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// The documentation's snapshot at the test's time, with the next funding time given.
fn snapshot(ts: i64, next_funding: i64) -> String {
    format!(
        r#"{{"topic":"tickers.BTCUSDT","type":"snapshot","data":{{"symbol":"BTCUSDT","tickDirection":"PlusTick","price24hPcnt":"0.017103","lastPrice":"17216.00","prevPrice24h":"16926.50","highPrice24h":"17281.50","lowPrice24h":"16915.00","prevPrice1h":"17238.00","markPrice":"17217.33","indexPrice":"17227.36","openInterest":"68744.761","openInterestValue":"1183601235.91","turnover24h":"1570383121.943499","volume24h":"91705.276","nextFundingTime":"{next_funding}","fundingRate":"-0.000212","bid1Price":"17215.50","bid1Size":"84.489","ask1Price":"17216.00","ask1Size":"83.020"}},"cs":24987956059,"ts":{ts}}}"#
    )
}

fn delta(ts: i64, data: &str) -> String {
    format!(
        r#"{{"topic":"tickers.BTCUSDT","type":"delta","data":{{"symbol":"BTCUSDT",{data}}},"cs":793092205004,"ts":{ts}}}"#
    )
}

/// The REST server: open interest on the 5-minute grid (newest first, as documented) and
/// settlements on the 8-hour grid, the latest withheld from the first two funding requests.
fn bybit_rest(requests: Arc<Mutex<Vec<String>>>) -> String {
    let funding_asked = Arc::new(Mutex::new(0_usize));
    rest_server(requests, move |line, _| {
        let now = wall().millis();
        let (start, end) = (query(line, "startTime"), query(line, "endTime"));
        match path(line) {
            "/v5/market/open-interest" => {
                let mut rows = Vec::new();
                let mut t = (start + FIVE_MIN - 1).div_euclid(FIVE_MIN) * FIVE_MIN;
                while t <= end.min(now) {
                    rows.push(format!(
                        r#"{{"openInterest":"{:.8}","timestamp":"{t}"}}"#,
                        oi_at(t)
                    ));
                    t += FIVE_MIN;
                }
                rows.reverse();
                Answer::json(format!(
                    r#"{{"retCode":0,"retMsg":"OK","result":{{"symbol":"BTCUSDT","category":"linear","list":[{}],"nextPageCursor":""}},"retExtInfo":{{}},"time":{now}}}"#,
                    rows.join(",")
                ))
            }
            "/v5/market/funding/history" => {
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
                        r#"{{"symbol":"BTCUSDT","fundingRate":"{}","fundingRateTimestamp":"{t}"}}"#,
                        rate_at(t)
                    ));
                    t += EIGHT_HOURS;
                }
                rows.reverse();
                Answer::json(format!(
                    r#"{{"retCode":0,"retMsg":"OK","result":{{"category":"linear","list":[{}]}},"retExtInfo":{{}},"time":{now}}}"#,
                    rows.join(",")
                ))
            }
            other => panic!("not a path the connector asks for: {other}"),
        }
    })
}

fn stream(ws: String, rest: String) -> BybitStream {
    BybitStream {
        name: "bybit".into(),
        ws,
        rest_base: rest,
        symbols: vec![Symbol::new("BTCUSDT").unwrap()],
        stale_after: Duration::from_secs(20),
        ping_every: Duration::from_millis(100),
        backfill: Duration::from_secs(86_400),
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

/// The stream server: the first connection sends a snapshot, deltas, liquidations and a
/// refused subscription, answers a ping and drops; the next sends a delta before its snapshot.
async fn bybit_ws(settled: i64, minute: i64) -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = received.clone();
    tokio::spawn(async move {
        let mut n = 0;
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            n += 1;
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            let Some(Ok(Message::Text(sub))) = ws.next().await else {
                panic!("no subscription");
            };
            seen.lock().unwrap().push(sub.to_string());
            ws.send(Message::text(r#"{"success":true,"ret_msg":"","conn_id":"3cd84cb1-4d06-4a05-930a-2efe5fc70f0f","req_id":"canary","op":"subscribe"}"#)).await.unwrap();
            if n == 1 {
                for m in [
                    snapshot(minute + 1_000, settled),
                    delta(minute + 1_100, r#""markPrice":"17218.50""#),
                    // The live delta: the book only, nothing to send.
                    delta(minute + 1_200, r#""bid1Price":"79114.50","bid1Size":"1.496""#),
                    r#"{"topic":"allLiquidation.BTCUSDT","type":"snapshot","ts":1785937194200,"data":[{"T":1785937194086,"s":"BTCUSDT","S":"Sell","v":"0.003","p":"64502.20"},{"T":1785937194090,"s":"BTCUSDT","S":"Buy","v":"0.5","p":"64400.00"}]}"#.to_string(),
                    r#"{"success":false,"ret_msg":"Invalid symbol :[NOTACOINUSDT]","op":"subscribe"}"#.to_string(),
                    // A new minute, and the settlement has passed.
                    delta(
                        minute + 60_000,
                        &format!(r#""nextFundingTime":"{}","fundingRate":"0.0001""#, settled + EIGHT_HOURS),
                    ),
                ] {
                    ws.send(Message::text(m)).await.unwrap();
                }
                // Pings are answered as Bybit does, until one has come.
                loop {
                    match ws.next().await {
                        Some(Ok(Message::Text(t))) if t.contains(r#""op":"ping""#) => {
                            seen.lock().unwrap().push(t.to_string());
                            ws.send(Message::text(r#"{"success":true,"ret_msg":"pong","conn_id":"465772b1-ad36-4a1b-9bbd-6c0a6d1ee8a4","req_id":"ping","op":"ping"}"#)).await.unwrap();
                            break;
                        }
                        Some(Ok(_)) => {}
                        _ => break,
                    }
                }
                drop(ws); // dropped without a close frame
            } else {
                let t = wall().millis();
                ws.send(Message::text(delta(t, r#""markPrice":"1.0""#)))
                    .await
                    .unwrap();
                ws.send(Message::text(snapshot(t + 1, settled + EIGHT_HOURS)))
                    .await
                    .unwrap();
                held.push(ws);
            }
        }
    });
    (addr, received)
}

#[tokio::test]
async fn tickers_liquidations_history_settlements_and_a_reconnection() {
    let now = wall().millis();
    let settled = last_settlement(now);
    // The venue's times of the first connection: a minute boundary crossed on purpose.
    let minute = (now / 60_000 - 1) * 60_000;
    let (addr, received) = bybit_ws(settled, minute).await;
    let requests = Arc::new(Mutex::new(Vec::new()));
    let cfg = stream(format!("ws://{addr}"), bybit_rest(requests.clone()));
    let (tx, mut rx) = canary_ingest::bus::in_process(64);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let run =
        tokio::spawn(async move { cfg.run(&tx, Arc::new(wall), BTreeMap::new(), stop_rx).await });
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let done = |events: &[Event]| {
        events
            .iter()
            .any(|e| named(e, "funding_rate:BTCUSDT:bybit:8h").is_some_and(|x| x.0 == settled))
            && events.iter().any(|e| matches!(e, Event::Gap { .. }))
            && events
                .iter()
                .filter(|e| named(e, "mark_price:BTCUSDT:bybit:1m").is_some())
                .count()
                >= 4
    };
    while let Ok(Some(s)) = tokio::time::timeout_at(deadline, rx.next()).await {
        events.push(s.event);
        if done(&events) {
            break;
        }
    }
    stop_tx.send(true).unwrap();
    assert_eq!(run.await.unwrap(), canary_ingest::binance::Ended::Shutdown);
    assert!(done(&events), "{events:#?}");

    // The subscription: both topics, once per connection; a ping came.
    let r = received.lock().unwrap();
    let sub: serde_json::Value = serde_json::from_str(&r[0]).unwrap();
    assert_eq!(sub["op"], "subscribe");
    assert_eq!(
        sub["args"],
        serde_json::json!(["tickers.BTCUSDT", "allLiquidation.BTCUSDT"])
    );
    assert!(r.iter().any(|m| m.contains(r#""op":"ping""#)), "{r:?}");
    assert_eq!(r.iter().filter(|m| m.contains("subscribe")).count(), 2);

    // Marks: the snapshot's, the delta's, the merged state at the new minute, then the second
    // connection's snapshot (its delta before the snapshot refused).
    let marks: Vec<(i64, f64)> = events
        .iter()
        .filter_map(|e| named(e, "mark_price:BTCUSDT:bybit:1m"))
        .collect();
    assert_eq!(
        marks[..3],
        [
            (minute + 1_000, 17_217.33),
            (minute + 1_100, 17_218.50),
            (minute + 60_000, 17_218.50)
        ]
    );
    assert_eq!(marks[3].1, 17_217.33);
    let at = |key: &str, t: i64| {
        events
            .iter()
            .find_map(|e| named(e, key).filter(|x| x.0 == t))
            .map(|x| x.1)
    };
    assert_eq!(
        at("oi_base:BTCUSDT:bybit:1m", minute + 1_000),
        Some(68_744.761)
    );
    assert_eq!(
        at("oi_usd:BTCUSDT:bybit:1m", minute + 1_000),
        Some(1_183_601_235.91)
    );
    assert_eq!(
        at("index_price:BTCUSDT:bybit:1m", minute + 1_000),
        Some(17_227.36)
    );
    assert_eq!(
        at("predicted_funding_rate:BTCUSDT:bybit:1m", minute + 1_000),
        Some(-0.000_212)
    );
    assert_eq!(
        at("predicted_funding_rate:BTCUSDT:bybit:1m", minute + 60_000),
        Some(0.0001)
    );
    // Nothing was sent for the book-only delta.
    assert!(
        events.iter().all(
            |e| !matches!(e, Event::Derivative { time, .. } if time.millis() == minute + 1_200)
        )
    );
    // Bybit's side is the position's: Sell a short, Buy a long; no undercount is claimed.
    let sides: Vec<(LiquidatedSide, f64)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Liquidation {
                order, coverage, ..
            } => {
                assert!(coverage.is_none());
                Some((order.side, order.notional()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        sides,
        [
            (LiquidatedSide::Short, 64_502.20 * 0.003),
            (LiquidatedSide::Long, 32_200.0)
        ]
    );
    // The refused subscription and the delta before its snapshot, with their payloads.
    let malformed: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Malformed { error, .. } => Some(error.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        malformed
            .iter()
            .any(|e| e.contains("the venue refused subscribe: Invalid symbol")),
        "{malformed:?}"
    );
    assert!(
        malformed
            .iter()
            .any(|e| e.contains("a delta before the snapshot")),
        "{malformed:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Reconnected { .. }))
    );

    histories(&events, &requests.lock().unwrap(), settled);
}

/// The 5-minute open interest of the day back-filled, in order, once each, in windows of at
/// most 200 rows; the settlements, the latest once published.
fn histories(events: &[Event], q: &[String], settled: i64) {
    // The 5-minute open interest of the day back-filled, in order, once each.
    let hist: Vec<(i64, f64)> = events
        .iter()
        .filter_map(|e| named(e, "oi_base:BTCUSDT:bybit:5m"))
        .collect();
    assert!(hist.len() >= 280, "{}", hist.len());
    assert!(hist.windows(2).all(|w| w[1].0 == w[0].0 + FIVE_MIN));
    assert!(hist.iter().all(|&(t, v)| v == oi_at(t)));
    // Settlements, the latest once published.
    let funding: Vec<(i64, f64)> = events
        .iter()
        .filter_map(|e| named(e, "funding_rate:BTCUSDT:bybit:8h"))
        .collect();
    assert!(funding.windows(2).all(|w| w[1].0 == w[0].0 + EIGHT_HOURS));
    assert_eq!(funding.last().unwrap(), &(settled, rate_at(settled)));
    assert!(q.iter().any(|l| l.contains(
        "/v5/market/open-interest?category=linear&symbol=BTCUSDT&intervalTime=5min&startTime="
    )));
    assert!(
        q.iter()
            .filter(|l| path(l) == "/v5/market/open-interest")
            .all(|l| query(l, "endTime") - query(l, "startTime") < 200 * FIVE_MIN)
    );
    assert!(
        q.iter()
            .filter(|l| path(l) == "/v5/market/funding/history")
            .count()
            >= 3
    );
}

/// A connection that answers pings and sends no data is silent: `Stale`, then a new
/// connection (and Bybit's REST errors are named with their address).
#[tokio::test]
async fn pongs_alone_are_silence() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            tokio::spawn(async move {
                while let Some(Ok(m)) = ws.next().await {
                    if let Message::Text(t) = m
                        && t.contains(r#""op":"ping""#)
                        && ws
                            .send(Message::text(
                                r#"{"success":true,"ret_msg":"pong","conn_id":"x","req_id":"ping","op":"ping"}"#,
                            ))
                            .await
                            .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    let requests = Arc::new(Mutex::new(Vec::new()));
    let rest = rest_server(requests, |_, _| {
        Answer::json(r#"{"retCode":10001,"retMsg":"params error","result":{}}"#.into())
    });
    let mut cfg = stream(format!("ws://{addr}"), rest.clone());
    cfg.stale_after = Duration::from_millis(400);
    cfg.ping_every = Duration::from_millis(50);
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
        Event::Malformed { error, .. }
            if error.contains(&format!("{rest}/v5/market/open-interest")) && error.contains("retCode 10001"))));
}

/// A venue's REST answer larger than any page it sends is refused, naming the address, and is
/// never held whole.
#[tokio::test]
async fn a_huge_rest_answer_is_refused() {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let big = "x".repeat(usize::try_from(canary_ingest::perp::MAX_ANSWER_BYTES).unwrap() + 1);
    let base = common::rest_server(requests, move |_, _| common::Answer::json(big.clone()));
    let http = reqwest::Client::new();
    let url = format!("{base}/v5/market/open-interest");
    let e = canary_ingest::perp::get(&http, &url, Duration::from_secs(10))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains(&url), "{e}");
    assert!(
        e.to_lowercase().contains("larger") || e.contains("limit"),
        "{e}"
    );
}
