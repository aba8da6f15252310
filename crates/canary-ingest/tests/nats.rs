//! The bus on NATS JetStream against a real server: the one `CANARY_TEST_NATS` names
//! (`nats://HOST:PORT`), which `make test` starts on loopback (scripts/test-nats.sh). Each test
//! has a stream and subjects of its own.

use std::collections::BTreeMap;
use std::time::Duration;

use canary_ingest::bus::nats::{BusError, NatsBus, NatsConfig, partition, subject};
use canary_ingest::bus::{Publish, Subscribe};
use canary_model::event::{Event, Stamped};
use canary_model::{Symbol, Timestamp};
use tokio::sync::watch;

/// The test server: never skipped, since a bus test that passes without its server proves
/// nothing.
fn server() -> String {
    std::env::var("CANARY_TEST_NATS").unwrap_or_else(|_| {
        panic!(
            "CANARY_TEST_NATS is not set: run `make test`, which starts a NATS server on \
             loopback (scripts/test-nats.sh start) and sets it"
        )
    })
}

/// A configuration of a stream and subjects of the test's own.
fn config(test: &str, partitions: u16) -> NatsConfig {
    let mut c = NatsConfig::new(&server());
    c.stream = format!("T_{}_{}", test.to_uppercase(), std::process::id());
    c.prefix = format!("t.{test}.{}", std::process::id());
    c.partitions = partitions;
    c.ack_wait = Duration::from_secs(1);
    c
}

fn trade(source: &str, symbol: &str, ms: i64, price: f64) -> Stamped {
    Stamped {
        event: Event::Trade {
            source: source.into(),
            symbol: Symbol::new(symbol).unwrap(),
            time: Timestamp::from_millis(ms),
            price,
            qty: 1.0,
        },
        available_at: Timestamp::from_millis(ms + 5),
    }
}

/// `n` events from a subscriber, failing after 10 s without one.
async fn take(sub: &mut impl Subscribe, n: usize) -> Vec<Stamped> {
    let mut out = Vec::new();
    while out.len() < n {
        let next = tokio::time::timeout(Duration::from_secs(10), sub.next())
            .await
            .unwrap_or_else(|_| panic!("only {} of {n} events came", out.len()));
        out.push(next.expect("the subscriber goes on"));
    }
    out
}

/// Nothing more comes within `wait`.
async fn nothing_more(sub: &mut impl Subscribe, wait: Duration) {
    if let Ok(Some(s)) = tokio::time::timeout(wait, sub.next()).await {
        panic!("nothing more was due, and {:?} came", s.event);
    }
}

async fn stored_messages(c: &NatsConfig) -> u64 {
    let client = async_nats::connect(c.url.as_str()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let mut s = js.get_stream(&c.stream).await.unwrap();
    s.info().await.unwrap().state.messages
}

#[test]
fn partitions_and_subjects_are_fixed_functions_of_venue_and_symbol() {
    let e = trade("binance", "BTCUSDT", 0, 1.0).event;
    let p = partition("binance", "BTCUSDT", 64);
    assert_eq!(
        subject("canary.ev", &e, 64),
        format!("canary.ev.{p}.binance.trade.BTCUSDT")
    );
    // A venue name with characters a subject token may not hold still routes.
    let odd = trade("file:bars.csv", "BTC-USD", 0, 1.0).event;
    let q = partition("file:bars.csv", "BTC-USD", 8);
    assert_eq!(
        subject("x", &odd, 8),
        format!("x.{q}.file_bars_csv.trade.BTC-USD")
    );
    // Spread over the partitions, the same every time.
    let symbols: Vec<String> = (0..256).map(|i| format!("S{i}USDT")).collect();
    let used: std::collections::BTreeSet<u16> =
        symbols.iter().map(|s| partition("binance", s, 8)).collect();
    assert_eq!(used.len(), 8);
    assert_eq!(partition("binance", "BTCUSDT", 64), p);
}

/// Each symbol's events come in the order published, across partitions; the same events
/// published again (a reconnection, a standby publisher) are stored once.
#[tokio::test]
async fn each_symbols_events_come_in_order_and_a_repeat_is_stored_once() {
    let c = config("order", 4);
    let bus = NatsBus::connect(c.clone()).await.unwrap();
    let (a, standby) = (bus.publisher(), bus.publisher());
    let symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"];
    let mut sent = Vec::new();
    for i in 0..60 {
        for s in symbols {
            sent.push(trade("binance", s, 1_000 + i, 100.0 + i as f64));
        }
    }
    // Two equal trades of one millisecond are two events.
    sent.push(trade("binance", "BTCUSDT", 2_000, 1.0));
    sent.push(trade("binance", "BTCUSDT", 2_000, 1.0));
    for s in &sent {
        a.publish(s.clone()).await.unwrap();
    }
    // The standby sends the first half again, stamped later by its own clock.
    for s in &sent[..90] {
        let mut again = s.clone();
        again.available_at = Timestamp::from_millis(again.available_at.millis() + 1_000);
        standby.publish(again).await.unwrap();
    }
    assert_eq!(
        stored_messages(&c).await,
        sent.len() as u64,
        "stored once each"
    );
    let (_stop, stop) = watch::channel(false);
    let mut sub = bus.subscriber("engine", &[], stop).await.unwrap();
    let got = take(&mut sub, sent.len()).await;
    nothing_more(&mut sub, Duration::from_millis(500)).await;
    let by_symbol = |v: &[Stamped]| {
        let mut m: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
        for s in v {
            let Event::Trade { symbol, time, .. } = &s.event else {
                panic!("a trade")
            };
            m.entry(symbol.to_string())
                .or_default()
                .push((time.millis(), s.available_at.millis()));
        }
        m
    };
    assert_eq!(
        by_symbol(&got),
        by_symbol(&sent),
        "the first stamp is the one kept"
    );
}

/// What a subscriber took and was never told was stored goes to the next subscriber of the
/// group (after the acknowledgement wait); what was stored does not; and a message given
/// again to the subscriber that took it is taken once.
#[tokio::test]
async fn what_was_taken_but_not_stored_goes_to_the_next_subscriber() {
    let c = config("handover", 2);
    let bus = NatsBus::connect(c.clone()).await.unwrap();
    let publisher = bus.publisher();
    for i in 0..10 {
        publisher
            .publish(trade("binance", "BTCUSDT", i, 1.0 + i as f64))
            .await
            .unwrap();
    }
    let (_stop, stop) = watch::channel(false);
    let mut first = bus.subscriber("engine", &[], stop.clone()).await.unwrap();
    let before = take(&mut first, 6).await;
    first.stored().await;
    let lost = take(&mut first, 4).await;
    // Past the acknowledgement wait the server gives them to it again: taken once.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    nothing_more(&mut first, Duration::from_secs(1)).await;
    drop(first);
    let mut second = bus.subscriber("engine", &[], stop).await.unwrap();
    let again = take(&mut second, 4).await;
    assert_eq!(again, lost, "the four not stored, in order");
    second.stored().await;
    nothing_more(&mut second, Duration::from_millis(1_500)).await;
    assert_eq!(before.len(), 6);
}

/// A subscriber ends when told to stop; a stream made with another partition count, and an
/// address with no server, are refused with what to do.
#[tokio::test]
async fn stopping_and_refusals() {
    let c = config("refuse", 4);
    let bus = NatsBus::connect(c.clone()).await.unwrap();
    let (tell, stop) = watch::channel(false);
    let mut sub = bus.subscriber("engine", &[0, 3], stop).await.unwrap();
    tell.send(true).unwrap();
    assert!(sub.next().await.is_none());
    let e = bus
        .subscriber("engine", &[4], watch::channel(false).1)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("partition 4 is not one of the stream's 0 to 3"),
        "{e}"
    );
    let mut other = c.clone();
    other.partitions = 8;
    let e = NatsBus::connect(other).await.unwrap_err();
    assert!(matches!(e, BusError::Partitions { .. }), "{e}");
    assert!(e.to_string().contains("has 4 partitions"), "{e}");
    let e = NatsBus::connect(NatsConfig::new("nats://127.0.0.1:1"))
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot connect to the NATS server at nats://127.0.0.1:1"),
        "{e}"
    );
}

/// Partitions are leased all or none: a second evaluator wanting one of them waits, saying
/// who holds it, until the first lets them go (a clean stop) or its lease lapses (a crash:
/// nothing renews it).
#[tokio::test]
async fn an_evaluator_waits_for_partitions_another_holds_until_they_are_let_go_or_lapse() {
    let c = config("lease", 4);
    let bus = NatsBus::connect(c.clone()).await.unwrap();
    let ttl = Duration::from_secs(2);
    let never = watch::channel(false).1;
    let first = bus
        .lease("eval", "first", &[0, 1], ttl, |_| {}, never.clone())
        .await
        .unwrap()
        .expect("free partitions are leased at once");
    // Held past its time to live: it is renewed.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!*first.lost.borrow());
    let said = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = said.clone();
    let other = bus.clone();
    let second = tokio::spawn(async move {
        let started = std::time::Instant::now();
        let lease = other
            .lease(
                "eval",
                "second",
                &[1, 2],
                ttl,
                move |why| record.lock().unwrap().push(why.to_string()),
                watch::channel(false).1,
            )
            .await
            .unwrap()
            .unwrap();
        (lease, started.elapsed())
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        *said.lock().unwrap(),
        ["partition 1 is held by first"],
        "the second waits, saying why"
    );
    first.release().await;
    let (second, waited) = tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .expect("the second takes them once let go")
        .unwrap();
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    // A crash: the lease is dropped without being let go, and lapses.
    drop(second);
    let started = std::time::Instant::now();
    let third = bus
        .lease("eval", "third", &[2], ttl, |_| {}, never.clone())
        .await
        .unwrap()
        .unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_secs(6),
        "taken once the crashed holder's lease lapsed: {waited:?}"
    );
    // Stopped while waiting: no lease.
    let (tell, stop) = watch::channel(false);
    let waiting = tokio::spawn({
        let bus = bus.clone();
        async move {
            bus.lease("eval", "fourth", &[2], ttl, |_| {}, stop)
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    tell.send(true).unwrap();
    assert!(waiting.await.unwrap().is_none());
    third.release().await;
}
