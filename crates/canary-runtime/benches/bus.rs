//! Events through the bus across processes into stored bars (issue 23), printed with the
//! processor it ran on: `make bench-bus` (bench/bus.sh) starts a three-server NATS cluster and
//! PostgreSQL on loopback and runs this with `CANARY_BENCH_NATS` (the servers, comma-separated)
//! and `CANARY_BENCH_POSTGRES` (`postgres://USER@HOST:PORT`) set.
//!
//! 1. **Publish**: 1m bars of many symbols published to a stream keeping three copies, one
//!    task per symbol group (each symbol's bars in order), every message acknowledged by the
//!    stream: events per second.
//! 2. **Into stored bars**: an evaluator's engine takes them all from the bus and stores every
//!    bar (with the events) in PostgreSQL, acknowledging as it stores: events per second, from
//!    its first event to its last bar stored, against the target of 25,000. The engine stores
//!    what a batch of events closed in one transaction (`LiveStore::store_taken`).
//!
//! The markets take 1m bars only. With a higher timeframe built from them, the partitions'
//! consumers run apart in replayed time, and the clock they share closes a symbol's 5m bar
//! before its own 1m bars have come, then closes it again as a revision: that defect of
//! evaluation under skew (noted on issue 23) would be what was measured.
//!
//! Not a criterion bench: each part is one long run, printed with its target beside it; the
//! exit status is not zero when a target is missed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use canary_ingest::bus::Publish;
use canary_ingest::bus::nats::NatsBus;
use canary_model::{Symbol, Timeframe, Timestamp};
use canary_runtime::{Engine, EngineSettings, Event, Market, Output, ReplayClock, Stamped};
use tokio::sync::{mpsc, watch};

mod servers;
use servers::Servers;

const TARGET: f64 = 25_000.0;
use servers::T0;
const SYMBOLS: usize = 200;
const BARS: usize = 1000;
const PUBLISHERS: usize = 50;

fn symbol(i: usize) -> Symbol {
    Symbol::new(&format!("B{i:03}USDT")).expect("a symbol")
}

/// Every symbol's 1m bars, a random walk each, grouped by symbol in time order.
fn bars() -> Vec<Vec<Stamped>> {
    let m1: Timeframe = "1m".parse().expect("a timeframe");
    (0..SYMBOLS)
        .map(|s| {
            let mut price = 100.0 + s as f64;
            let mut x: u64 = 2026 + s as u64;
            (0..BARS)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let step = ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.002;
                    let open = price;
                    price *= 1.0 + step;
                    let candle = servers::minute_bar(i64::try_from(i).expect("small"), open, price);
                    Stamped {
                        event: Event::Bar {
                            source: "bench".into(),
                            symbol: symbol(s),
                            timeframe: m1,
                            candle,
                        },
                        available_at: Timestamp::from_millis(candle.open_time.millis() + 60_000),
                    }
                })
                .collect()
        })
        .collect()
}

fn main() {
    let replicas: usize = std::env::var("CANARY_BENCH_REPLICAS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let servers = Servers::from_env("bus", replicas);
    let db = servers.db.clone();
    let rt = Servers::runtime();
    let config = servers.bus_config();
    let groups = bars();
    let events: usize = groups.iter().map(Vec::len).sum();
    let missed = rt.block_on(async move {
        let bus = NatsBus::connect(config).await.expect("the bus");
        // 1. Publish.
        let started = Instant::now();
        let mut tasks = Vec::new();
        let mut shares: Vec<Vec<Vec<Stamped>>> = (0..PUBLISHERS).map(|_| Vec::new()).collect();
        for (i, g) in groups.into_iter().enumerate() {
            shares[i % PUBLISHERS].push(g);
        }
        for share in shares {
            let publisher = bus.publisher();
            tasks.push(tokio::spawn(async move {
                // Each symbol's bars in order; the symbols of a share one after another bar
                // by bar, as a live feed sends them.
                let longest = share.iter().map(Vec::len).max().unwrap_or(0);
                for i in 0..longest {
                    for g in &share {
                        if let Some(e) = g.get(i) {
                            publisher.publish(e.clone()).await.expect("published");
                        }
                    }
                }
            }));
        }
        for t in tasks {
            t.await.expect("a publisher");
        }
        let publish = events as f64 / started.elapsed().as_secs_f64();
        println!(
            "publish: {events} events ({SYMBOLS} symbols x {BARS} 1m bars, {PUBLISHERS} publishers): {publish:.0} events/s acknowledged"
        );
        // 2. Into stored bars.
        let session = canary_engine::Session::new(&db).with_clock(Arc::new(
            ReplayClock::starting(Timestamp::from_millis(T0 - 1)),
        ));
        let settings = EngineSettings {
            session,
            markets: (0..SYMBOLS)
                .map(|s| Market {
                    symbol: symbol(s),
                    timeframes: ["1m"].map(|t| t.parse().expect("a timeframe")).to_vec(),
                })
                .collect(),
            source_kinds: BTreeMap::new(),
            crosschecks: Vec::new(),
            alerts: None,
            system: None,
            flush_every: Duration::from_secs(1),
        };
        let mut engine = Engine::new(settings).expect("an engine");
        engine.warm_at_first_event();
        let (tell, stop) = watch::channel(false);
        let rx = bus.subscriber("bench", &[], stop).await.expect("a subscriber");
        let (otx, mut orx) = mpsc::channel::<Output>(4096);
        let m1: Timeframe = "1m".parse().expect("a timeframe");
        let counter = tokio::spawn(async move {
            let mut first = None;
            let mut n = 0;
            while let Some(o) = orx.recv().await {
                first.get_or_insert_with(Instant::now);
                if matches!(&o, Output::Bar(c) if c.timeframe == m1) {
                    n += 1;
                    if n == events {
                        let _ = tell.send(true);
                    }
                }
            }
            first
        });
        let started = Instant::now();
        engine.run(rx, Some(otx)).await.expect("the engine runs");
        let elapsed = started.elapsed();
        let _ = counter.await;
        let stored = events as f64 / elapsed.as_secs_f64();
        println!(
            "into stored bars: {events} events taken from the bus and stored with their bars in PostgreSQL: {stored:.0} events/s (target {TARGET:.0})"
        );
        stored < TARGET
    });
    drop(servers);
    if missed {
        println!("target NOT met");
        std::process::exit(1);
    }
}
