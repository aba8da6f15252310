//! From a bar's close to its webhook, across processes' parts (issue 23), printed with the
//! processor it ran on: `make bench-latency` (bench/latency.sh) starts a three-server NATS
//! cluster and a durable PostgreSQL on loopback and runs this with `CANARY_BENCH_NATS` and
//! `CANARY_BENCH_POSTGRES` set.
//!
//! A paced market of 1m bars (one minute of the market every 250 ms) is published to a
//! stream keeping three copies; an evaluator's engine takes it from the bus, stores the bars
//! and evaluates one rule per symbol (`close > open`, which fires and resolves often),
//! storing the notices; a deliverer (as `canary run --role deliver` runs it, a pass every
//! half second) sends each to a webhook receiver on loopback. The latency of a notice is the
//! time from the publication of the bar whose close it is about to its webhook's arrival.
//!
//! 1. **Steady**: p50 and p99 over the first part (target p99 ≤ 2 s).
//! 2. **Across an evaluator's crash**: the evaluator's task is dropped mid-stream (nothing
//!    more stored or acknowledged); after the 3 s a lease takes to lapse, a second evaluator
//!    takes the partitions from the group's acknowledgement floor. p50 and p99 of the notices
//!    of bars published from the crash to the end (target p99 ≤ 10 s).
//!
//! Not a criterion bench: each part is one run, printed with its target beside it; the exit
//! status is not zero when a target is missed.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use canary_engine::alerting::{Allow, Channel, Owner, RuleSpec, add_rule};
use canary_ingest::bus::Publish;
use canary_ingest::bus::nats::NatsBus;
use canary_model::{Candle, Symbol, Timeframe, Timestamp};
use canary_runtime::engine::deliver_until;
use canary_runtime::{AlertSettings, Engine, EngineSettings, Event, Market, ReplayClock, Stamped};
use tokio::sync::watch;

mod servers;
use servers::Servers;

use servers::T0;
const SYMBOLS: usize = 50;
const STEADY_MINUTES: i64 = 120;
const AFTER_MINUTES: i64 = 80;
const PACE: Duration = Duration::from_millis(250);
const LEASE: Duration = Duration::from_secs(3);
const STEADY_P99: f64 = 2.0;
const CRASH_P99: f64 = 10.0;

fn symbol(i: usize) -> Symbol {
    Symbol::new(&format!("L{i:03}USDT")).expect("a symbol")
}

/// Symbol `s`'s bar of minute `i`: a random walk, its close above or below its open.
fn bar(s: usize, i: i64) -> Candle {
    let mut x: u64 = (s as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.cast_unsigned();
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    let up = x.is_multiple_of(2);
    let open = 100.0 + s as f64;
    let close = if up { open * 1.001 } else { open * 0.999 };
    servers::minute_bar(i, open, close)
}

/// Each webhook's idempotency key and when it arrived.
type Arrivals = Arc<Mutex<Vec<(String, Instant)>>>;

/// A webhook receiver on loopback: its address and what arrived.
fn receiver() -> (String, Arrivals) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}/hook", listener.local_addr().expect("an address"));
    let got = Arc::new(Mutex::new(Vec::new()));
    let record = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let record = record.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                loop {
                    let (mut key, mut length) = (String::new(), 0);
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = l.split_once(':') {
                            match name.to_ascii_lowercase().as_str() {
                                "idempotency-key" => key = value.trim().to_string(),
                                "content-length" => length = value.trim().parse().unwrap_or(0),
                                _ => {}
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    record
                        .lock()
                        .expect("not poisoned")
                        .push((key, Instant::now()));
                    let _ = reader
                        .get_mut()
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
                }
            });
        }
    });
    (url, got)
}

/// The p50 and p99 of `v` (seconds), sorted here.
fn percentiles(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |percent: usize| v[(v.len() - 1) * percent / 100];
    (at(50), at(99))
}

/// One rule per symbol (`close > open` on 1m bars), each sending to `hook`: the symbol of
/// each rule id.
fn add_rules(db: &str, hook: &str) -> HashMap<i64, usize> {
    let mut store = canary_store::open(std::path::Path::new(db)).expect("the store");
    let m1: Timeframe = "1m".parse().expect("a timeframe");
    (0..SYMBOLS)
        .map(|s| {
            let spec = RuleSpec {
                rule: format!("{0}.close > {0}.open", symbol(s)),
                timeframe: m1,
                policy: canary_alerts::state::Policy::default(),
                channel: Channel::Webhook {
                    url: hook.to_string(),
                    secret: None,
                },
            };
            let allow = Allow {
                before_data: true,
                private: true,
            };
            let id = add_rule(
                &mut *store,
                &Owner::Operator,
                &spec,
                Timestamp::from_millis(T0),
                allow,
            )
            .expect("a rule");
            (id, s)
        })
        .collect()
}

fn alerts() -> AlertSettings {
    AlertSettings {
        score: canary_engine::ScoreParams {
            symbol: symbol(0),
            method: canary_analytics::score::Methodology::built_in(),
            asset: "L".into(),
            horizon_days: 7,
            drawdown: 0.10,
        },
        dictionary: canary_news::tags::Dictionary::built_in(),
        lexicon: canary_news::sentiment::Lexicon::built_in().clone(),
        attempts: 4,
        backoff: Duration::from_millis(200),
        timeout: Duration::from_secs(5),
        allow_private: true,
    }
}

/// An evaluator's engine, as `canary run --role eval` makes it on a bus.
fn evaluator(db: &str) -> Engine {
    let m1: Timeframe = "1m".parse().expect("a timeframe");
    let session = canary_engine::Session::new(db).with_clock(Arc::new(ReplayClock::starting(
        Timestamp::from_millis(T0 - 1),
    )));
    let mut engine = Engine::new(EngineSettings {
        session,
        markets: (0..SYMBOLS)
            .map(|s| Market {
                symbol: symbol(s),
                timeframes: vec![m1],
            })
            .collect(),
        source_kinds: std::collections::BTreeMap::new(),
        crosschecks: Vec::new(),
        alerts: Some(alerts()),
        system: None,
        flush_every: Duration::from_secs(1),
    })
    .expect("an engine");
    engine.store_notices_only();
    engine.warm_at_first_event();
    engine.place_rules_with_markets();
    engine
}

/// Each notice's latency (seconds from its bar's publication to its webhook), split into
/// those of bars published before the crash and after. A notice's key names its rule and
/// its close: `…:{rule id}:{kind}:{close ms}`; one sent twice counts at its first arrival.
fn latencies(
    got: &Arrivals,
    published: &HashMap<(usize, i64), Instant>,
    rule_symbol: &HashMap<i64, usize>,
    crash_at: Instant,
) -> (Vec<f64>, Vec<f64>) {
    let (mut steady, mut crossing) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashSet::new();
    for (key, arrived) in got.lock().expect("not poisoned").iter() {
        let parts: Vec<&str> = key.rsplitn(4, ':').collect();
        let (Some(close), Some(id)) = (
            parts.first().and_then(|c| c.parse::<i64>().ok()),
            parts.get(2).and_then(|r| r.parse::<i64>().ok()),
        ) else {
            continue;
        };
        if !seen.insert(key.clone()) {
            continue;
        }
        let Some(&at) = rule_symbol
            .get(&id)
            .and_then(|s| published.get(&(*s, close)))
        else {
            continue;
        };
        let latency = arrived.duration_since(at).as_secs_f64();
        if at < crash_at {
            steady.push(latency);
        } else {
            crossing.push(latency);
        }
    }
    (steady, crossing)
}

fn main() {
    let servers = Servers::from_env("latency", 3);
    let db = servers.db.clone();
    let (hook, got) = receiver();
    let m1: Timeframe = "1m".parse().expect("a timeframe");
    let rule_symbol = add_rules(&db, &hook);
    let rt = Servers::runtime();
    let config = servers.bus_config();
    let published: Arc<Mutex<HashMap<(usize, i64), Instant>>> = Arc::default();
    let crash_at = rt.block_on(async {
        let bus = NatsBus::connect(config).await.expect("the bus");
        let (stop_tx, stop) = watch::channel(false);
        let first = tokio::spawn({
            let rx = bus
                .subscriber("eval", &[], stop.clone())
                .await
                .expect("subscribed");
            let engine = evaluator(&db);
            async move { engine.run(rx, None).await }
        });
        let deliverer = tokio::spawn({
            let session = canary_engine::Session::new(&db);
            let a = alerts();
            let stop = stop.clone();
            async move { deliver_until(session, Some(&a), None, stop).await }
        });
        let publisher = bus.publisher();
        let mut crash_at = None;
        let mut second = None;
        for i in 0..STEADY_MINUTES + AFTER_MINUTES {
            let tick = Instant::now();
            for s in 0..SYMBOLS {
                let candle = bar(s, i);
                let close = T0 + (i + 1) * 60_000;
                published
                    .lock()
                    .expect("not poisoned")
                    .insert((s, close), Instant::now());
                publisher
                    .publish(Stamped {
                        event: Event::Bar {
                            source: "bench".into(),
                            symbol: symbol(s),
                            timeframe: m1,
                            candle,
                        },
                        available_at: Timestamp::from_millis(close),
                    })
                    .await
                    .expect("published");
            }
            if i == STEADY_MINUTES {
                // The evaluator crashes: nothing more stored, nothing acknowledged.
                first.abort();
                crash_at = Some(Instant::now());
            }
            if crash_at.is_some_and(|c| c.elapsed() >= LEASE) && second.is_none() {
                let rx = bus
                    .subscriber("eval", &[], stop.clone())
                    .await
                    .expect("subscribed again");
                let engine = evaluator(&db);
                second = Some(tokio::spawn(async move { engine.run(rx, None).await }));
            }
            tokio::time::sleep(PACE.saturating_sub(tick.elapsed())).await;
        }
        // Every notice sent, then everything stopped.
        let waited = Instant::now();
        let mut last = (0, Instant::now());
        while waited.elapsed() < Duration::from_secs(60) {
            let n = got.lock().expect("not poisoned").len();
            if n != last.0 {
                last = (n, Instant::now());
            } else if last.1.elapsed() > Duration::from_secs(5) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let _ = stop_tx.send(true);
        if let Some(s) = second {
            s.await.expect("the second evaluator").expect("it ran");
        }
        let _ = deliverer.await;
        crash_at.expect("crashed")
    });
    let (mut steady, mut crossing) = latencies(
        &got,
        &published.lock().expect("not poisoned"),
        &rule_symbol,
        crash_at,
    );
    drop(servers);
    if steady.is_empty() || crossing.is_empty() {
        println!(
            "no notices arrived ({} steady, {} after the crash)",
            steady.len(),
            crossing.len()
        );
        std::process::exit(1);
    }
    let (s50, s99) = percentiles(&mut steady);
    let (c50, c99) = percentiles(&mut crossing);
    println!(
        "steady: {} notices of {SYMBOLS} symbols' rules, bar published -> webhook: p50 {s50:.2} s, p99 {s99:.2} s (target p99 <= {STEADY_P99} s)",
        steady.len()
    );
    println!(
        "across an evaluator's crash (a standby after {} s): {} notices: p50 {c50:.2} s, p99 {c99:.2} s (target p99 <= {CRASH_P99} s)",
        LEASE.as_secs(),
        crossing.len()
    );
    if s99 > STEADY_P99 || c99 > CRASH_P99 {
        println!("target NOT met");
        std::process::exit(1);
    }
}
