//! A config run: its sources read, merged in availability order and played into the engine
//! on a replay clock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use canary_ingest::binance::{BinanceStream, Ended};
use canary_ingest::binance_futures::BinanceFuturesStream;
use canary_ingest::bybit::BybitStream;
use canary_ingest::coinbase::CoinbaseStream;
use canary_ingest::csv::{ImportOptions, read_candles};
use canary_ingest::perp::Held;
use canary_model::derivatives::{DerivKind, Interval};
use canary_model::{SourceKind, Symbol, Timestamp};
use canary_store::CandleQuery;
use tokio::sync::{mpsc, watch};

use super::config::{Config, ScheduleConfig, SourceConfig};
use super::engine::{
    AlertSettings, CrossCheck, Engine, EngineSettings, Market, Output, Summary, SystemAlerts,
};
use super::sources::{bar_events, parse_stored, play};
use super::{Event, ReplayClock, Stamped};
use canary_engine::EngineError;

/// The capacity of the engine's input channel.
pub const CHANNEL: usize = 1024;

/// The events of every source of `config`, in availability order (stable: a source listed
/// first goes first at the same time), and the kind of each source.
///
/// # Errors
/// A bar file that does not read (its line and field), a recorded database that cannot be
/// read.
pub fn gather(
    config: &Config,
    db: &std::path::Path,
) -> Result<(Vec<Stamped>, BTreeMap<String, SourceKind>), EngineError> {
    let mut all = Vec::new();
    let mut kinds = BTreeMap::new();
    for s in &config.sources {
        match s {
            SourceConfig::Bars {
                path,
                symbol,
                name,
                from,
                to,
            } => {
                let parsed = read_candles(path, &ImportOptions::default()).map_err(|e| {
                    EngineError::param("bars", path.display().to_string(), &e.to_string())
                })?;
                let tf = parsed.timeframe;
                let name = name.clone().unwrap_or_else(|| {
                    path.file_name()
                        .map_or_else(String::new, |f| f.to_string_lossy().into_owned())
                });
                let candles: Vec<_> = parsed
                    .rows
                    .iter()
                    .map(|r| r.candle)
                    .filter(|c| {
                        let close = tf.close_of(c.open_time);
                        from.is_none_or(|f| close > f) && to.is_none_or(|t| close <= t)
                    })
                    .collect();
                let kind = if parsed.simulated {
                    SourceKind::Sim
                } else {
                    SourceKind::Real
                };
                kinds.insert(name.clone(), kind);
                all.extend(bar_events(&name, symbol, tf, &candles));
            }
            SourceConfig::Simulator { symbol, from, .. } => {
                let p = Config::sim_params(s).expect("checked when read");
                kinds.insert("sim".into(), SourceKind::Sim);
                let bars: Vec<_> = canary_sim::simulate(&p)
                    .into_iter()
                    .filter(|c| from.is_none_or(|f| p.timeframe.close_of(c.open_time) > f))
                    .collect();
                all.extend(bar_events("sim", symbol, p.timeframe, &bars));
            }
            // Live: started by `run`, not gathered.
            SourceConfig::Binance { .. }
            | SourceConfig::Coinbase { .. }
            | SourceConfig::BinanceFutures { .. }
            | SourceConfig::Bybit { .. } => {}
            SourceConfig::Events {
                db: recorded,
                from,
                to,
            } => {
                if std::fs::canonicalize(recorded).ok() == std::fs::canonicalize(db).ok() {
                    return Err(EngineError::param(
                        "events",
                        recorded.display().to_string(),
                        "replay a recorded run into another database",
                    ));
                }
                let store = canary_store::open_existing(recorded)?;
                // As for bars: had after `from`, up to and including `to`.
                let after = |t: &Timestamp| Timestamp::from_millis(t.millis() + 1);
                all.extend(parse_stored(&store.events(after(from), after(to))?)?);
                for (name, kind) in store.source_kinds()? {
                    kinds.insert(name, kind);
                }
            }
        }
    }
    all.sort_by_key(|s| s.available_at);
    Ok((all, kinds))
}

fn settings(
    config: &Config,
    session: canary_engine::Session,
    alerts: Option<AlertSettings>,
    source_kinds: BTreeMap<String, SourceKind>,
) -> EngineSettings {
    EngineSettings {
        session,
        markets: config
            .markets
            .iter()
            .map(|m| Market {
                symbol: m.symbol.clone(),
                timeframes: m.timeframes.clone(),
            })
            .collect(),
        source_kinds,
        crosschecks: config
            .crosschecks
            .iter()
            .map(|c| CrossCheck {
                a: c.a.clone(),
                b: c.b.clone(),
                timeframe: c.timeframe,
                max_diff_pct: c.max_diff_pct,
            })
            .collect(),
        alerts: alerts.filter(|_| config.alerts.check),
        system: config.alerts.system.as_ref().map(|s| SystemAlerts {
            channel: s.channel.clone(),
            kinds: s.events.clone(),
        }),
        flush_every: Duration::from_secs(1),
    }
}

/// Run `config` into the session's store. Replays (bar files, the simulator, recorded events)
/// run on a replay clock at `config.speed` and end with their events; live sources run on the
/// session's clock (the wall clock) until `stop`. Outputs go to `out` as they come.
///
/// # Errors
/// A source that does not read, a market that is not valid, a database error.
pub async fn run(
    config: &Config,
    session: &canary_engine::Session,
    alerts: Option<AlertSettings>,
    out: Option<mpsc::Sender<Output>>,
    stop: watch::Receiver<bool>,
) -> Result<Summary, EngineError> {
    if config.sources.iter().any(SourceConfig::is_live) || !config.schedules.is_empty() {
        return run_live(config, session, alerts, out, stop).await;
    }
    let (events, source_kinds) = gather(config, session.db())?;
    let start = events.first().map_or(Timestamp::from_millis(0), |e| {
        Timestamp::from_millis(e.available_at.millis() - 1)
    });
    let replay = session
        .clone()
        .with_clock(Arc::new(ReplayClock::starting(start)));
    let mut engine = Engine::new(settings(config, replay, alerts, source_kinds))?;
    // What a recorded liquidation stream left out, said by its orders: its bars say it too.
    for e in &events {
        if let Event::Liquidation {
            source,
            coverage: Some(c),
            ..
        } = &e.event
        {
            engine.cover(source, c);
        }
    }
    let (tx, rx) = canary_ingest::bus::in_process(CHANNEL);
    let speed = config.speed;
    let feeder = tokio::spawn(async move { play(events, speed, &tx, stop).await });
    let summary = engine.run(rx, out).await?;
    // The feeder ends when its events are sent or shutdown was asked for.
    let _ = feeder.await;
    Ok(summary)
}

async fn run_live(
    config: &Config,
    session: &canary_engine::Session,
    alerts: Option<AlertSettings>,
    out: Option<mpsc::Sender<Output>>,
    stop: watch::Receiver<bool>,
) -> Result<Summary, EngineError> {
    let clock = session.clock().clone();
    let mut streams = Vec::new();
    let mut kinds = BTreeMap::new();
    {
        let store = session.open()?;
        for s in &config.sources {
            let SourceConfig::Binance {
                symbols,
                timeframe,
                ws,
                rest,
                stale_after_secs,
                ca,
            } = s
            else {
                continue;
            };
            let tf = match timeframe {
                Some(tf) => *tf,
                None => config
                    .markets
                    .iter()
                    .find(|m| m.symbol == symbols[0])
                    .and_then(|m| m.timeframes.iter().min_by_key(|t| t.duration_ms()).copied())
                    .expect("checked when read"),
            };
            // The latest bar held of each symbol: the stream fetches what came after it.
            let mut last = BTreeMap::new();
            for sym in symbols {
                let held = store.candles(
                    sym,
                    tf,
                    &CandleQuery {
                        from: None,
                        to: None,
                        asof: None,
                        last: Some(1),
                    },
                )?;
                if let Some(b) = held.last() {
                    last.insert(sym.clone(), b.candle.open_time);
                }
            }
            kinds.insert("binance".to_string(), SourceKind::Real);
            streams.push((
                BinanceStream {
                    name: "binance".into(),
                    ws_base: ws.clone(),
                    rest_base: rest.clone(),
                    symbols: symbols.clone(),
                    timeframe: tf,
                    stale_after: Duration::from_secs_f64(*stale_after_secs),
                    reconnect_min: Duration::from_secs(1),
                    reconnect_max: Duration::from_secs(60),
                    timeout: Duration::from_secs(10),
                    ca: ca.clone(),
                },
                last,
            ));
        }
    }
    let coinbase: Vec<CoinbaseStream> = config
        .sources
        .iter()
        .filter_map(|s| match s {
            SourceConfig::Coinbase {
                products,
                ws,
                stale_after_secs,
                ca,
            } => Some(CoinbaseStream {
                name: "coinbase".into(),
                ws: ws.clone(),
                products: products
                    .iter()
                    .map(|(p, s)| (p.clone(), s.clone()))
                    .collect(),
                stale_after: Duration::from_secs_f64(*stale_after_secs),
                reconnect_min: Duration::from_secs(1),
                reconnect_max: Duration::from_secs(60),
                timeout: Duration::from_secs(10),
                ca: ca.clone(),
            }),
            _ => None,
        })
        .collect();
    if !coinbase.is_empty() {
        kinds.insert("coinbase".to_string(), SourceKind::Real);
    }
    let derivatives = derivatives_sources(config, session)?;
    for d in &derivatives {
        kinds.insert(d.name().to_string(), SourceKind::Real);
    }
    let mut engine = Engine::new(settings(config, session.clone(), alerts, kinds))?;
    for d in &derivatives {
        if let Derivatives::Binance(s, _) = d {
            engine.cover(
                &s.name,
                canary_ingest::binance_futures::LIQUIDATION_COVERAGE,
            );
        }
    }
    let (tx, rx) = canary_ingest::bus::in_process(CHANNEL);
    let mut tasks = Vec::new();
    for (stream, last) in streams {
        let (tx, stop, clock) = (tx.clone(), stop.clone(), clock.clone());
        let now: canary_ingest::binance::Now = Arc::new(move || clock.now());
        tasks.push(tokio::spawn(async move {
            stream.run(&tx, now, last, stop).await
        }));
    }
    for stream in coinbase {
        let (tx, stop, clock) = (tx.clone(), stop.clone(), clock.clone());
        let now: canary_ingest::binance::Now = Arc::new(move || clock.now());
        tasks.push(tokio::spawn(
            async move { stream.run(&tx, now, stop).await },
        ));
    }
    for d in derivatives {
        tasks.push(d.spawn(tx.clone(), stop.clone(), clock.clone()));
    }
    for job in &config.schedules {
        let (job, stop, session, out) = (job.clone(), stop.clone(), session.clone(), out.clone());
        tasks.push(tokio::spawn(async move {
            schedule(job, session, out, stop).await;
            Ended::Shutdown
        }));
    }
    // The engine runs until shutdown, whether or not a source is sending.
    let mut until = stop.clone();
    tasks.push(tokio::spawn(async move {
        while !*until.borrow() {
            if until.changed().await.is_err() {
                break;
            }
        }
        drop(tx);
        Ended::Shutdown
    }));
    let summary = engine.run(rx, out).await?;
    for t in tasks {
        let _ = t.await;
    }
    Ok(summary)
}

/// A live derivatives source with what the store holds of each symbol.
enum Derivatives {
    Binance(BinanceFuturesStream, BTreeMap<Symbol, Held>),
    Bybit(BybitStream, BTreeMap<Symbol, Held>),
}

impl Derivatives {
    fn name(&self) -> &str {
        match self {
            Derivatives::Binance(s, _) => &s.name,
            Derivatives::Bybit(s, _) => &s.name,
        }
    }

    /// Run it on its own task, stamping on the session's clock.
    fn spawn(
        self,
        tx: canary_ingest::bus::Publisher,
        stop: watch::Receiver<bool>,
        clock: Arc<dyn super::Clock>,
    ) -> tokio::task::JoinHandle<Ended> {
        let now: canary_ingest::binance::Now = Arc::new(move || clock.now());
        tokio::spawn(async move {
            match self {
                Derivatives::Binance(s, held) => s.run(&tx, now, held, stop).await,
                Derivatives::Bybit(s, held) => s.run(&tx, now, held, stop).await,
            }
        })
    }
}

/// The derivatives sources of `config`, each resuming after what the store holds: its last
/// 5-minute open interest and its last settled funding rate per symbol.
fn derivatives_sources(
    config: &Config,
    session: &canary_engine::Session,
) -> Result<Vec<Derivatives>, EngineError> {
    let store = session.open()?;
    let known = store.derivative_series(None)?;
    let held = |venue: &str, symbols: &[Symbol]| -> Result<BTreeMap<Symbol, Held>, EngineError> {
        let mut out = BTreeMap::new();
        for sym in symbols {
            let last_of = |kind: DerivKind, interval: Option<Interval>| {
                known
                    .iter()
                    .filter(|i| {
                        i.series.kind == kind
                            && i.series.market() == sym.as_str()
                            && i.series.venues.single() == Some(venue)
                            && interval.is_none_or(|x| i.series.interval == x)
                    })
                    .map(|i| i.last)
                    .max()
            };
            out.insert(
                sym.clone(),
                Held {
                    oi_hist: last_of(DerivKind::OpenInterestBase, Some(Interval::M5)),
                    funding: last_of(DerivKind::FundingRate, None),
                },
            );
        }
        Ok(out)
    };
    let days = |d: f64| Duration::from_secs_f64(d * 86_400.0);
    let mut out = Vec::new();
    for s in &config.sources {
        match s {
            SourceConfig::BinanceFutures {
                symbols,
                ws,
                rest,
                stale_after_secs,
                oi_every_secs,
                backfill_days,
                ca,
            } => out.push(Derivatives::Binance(
                BinanceFuturesStream {
                    name: "binance-futures".into(),
                    ws_base: ws.clone(),
                    rest_base: rest.clone(),
                    symbols: symbols.clone(),
                    stale_after: Duration::from_secs_f64(*stale_after_secs),
                    oi_every: Duration::from_secs_f64(*oi_every_secs),
                    backfill: days(*backfill_days),
                    settle_retry: Duration::from_secs(5),
                    reconnect_min: Duration::from_secs(1),
                    reconnect_max: Duration::from_secs(60),
                    timeout: Duration::from_secs(10),
                    ca: ca.clone(),
                },
                held(canary_ingest::binance_futures::VENUE, symbols)?,
            )),
            SourceConfig::Bybit {
                symbols,
                ws,
                rest,
                stale_after_secs,
                backfill_days,
                ca,
            } => out.push(Derivatives::Bybit(
                BybitStream {
                    name: "bybit".into(),
                    ws: ws.clone(),
                    rest_base: rest.clone(),
                    symbols: symbols.clone(),
                    stale_after: Duration::from_secs_f64(*stale_after_secs),
                    ping_every: canary_ingest::bybit::PING_EVERY,
                    backfill: days(*backfill_days),
                    settle_retry: Duration::from_secs(5),
                    reconnect_min: Duration::from_secs(1),
                    reconnect_max: Duration::from_secs(60),
                    timeout: Duration::from_secs(10),
                    ca: ca.clone(),
                },
                held(canary_ingest::bybit::VENUE, symbols)?,
            )),
            _ => {}
        }
    }
    Ok(out)
}

/// Run one scheduled job at start and then every period, each run on its own connection to
/// the database (a writer waits for the engine's writes), until shutdown.
async fn schedule(
    job: ScheduleConfig,
    session: canary_engine::Session,
    out: Option<mpsc::Sender<Output>>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let result = run_job(&job, &session).await;
        if let Some(o) = &out {
            let _ = o
                .send(Output::Job {
                    name: job.name(),
                    result,
                })
                .await;
        }
        tokio::select! {
            () = tokio::time::sleep(job.every()) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

async fn run_job(job: &ScheduleConfig, session: &canary_engine::Session) -> Result<String, String> {
    let now = session.now();
    let mut store = session.open().map_err(|e| e.to_string())?;
    match job {
        ScheduleConfig::News { timeout_secs, .. } => {
            let client = canary_ingest::news::FeedClient::new(
                Duration::from_secs_f64(*timeout_secs),
                canary_ingest::news::DEFAULT_MAX_BYTES,
            );
            let outcomes =
                canary_engine::news_poll::poll_feeds(&mut *store, &client, now, false, |_| {})
                    .await
                    .map_err(|e| e.to_string())?;
            let failed: Vec<String> = outcomes
                .iter()
                .filter_map(|o| o.result.as_ref().err().cloned())
                .collect();
            let new: usize = outcomes
                .iter()
                .filter_map(|o| o.result.as_ref().ok().map(|p| p.new_items))
                .sum();
            let text = format!("{} feeds due, {new} new items", outcomes.len());
            if failed.is_empty() {
                Ok(text)
            } else {
                Err(format!("{text}; failed: {}", failed.join("; ")))
            }
        }
        ScheduleConfig::Mempool {
            url,
            period,
            timeout_secs,
            ..
        } => {
            let f = canary_engine::jobs::network::fetch_mempool(
                &mut *store,
                url,
                period,
                Duration::from_secs_f64(*timeout_secs),
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
            Ok(format!(
                "{} new network values ({} hash-rate days, {} adjustments), epoch {:.1}% done",
                f.insert.inserted, f.hashrate_days, f.adjustments, f.epoch.progress_pct
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::sync::Mutex;

    use canary_model::derivatives::DerivSeries;

    use super::*;
    use crate::config::AlertsConfig;

    const FIVE_MIN: i64 = 300_000;
    const EIGHT_HOURS: i64 = 8 * 3_600_000;

    /// A Binance USDⓈ-M REST server on loopback: the 5-minute open interest up to now, the
    /// current value, and the settlements on the 8-hour grid.
    fn rest(requests: Arc<Mutex<Vec<String>>>, clock: Arc<dyn super::super::Clock>) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let line = String::from_utf8_lossy(&buf[..n])
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                requests.lock().unwrap().push(line.clone());
                let q = |k: &str| -> i64 {
                    line.split(['?', '&', ' '])
                        .find_map(|p| p.strip_prefix(&format!("{k}=")))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0)
                };
                let now = clock.now().millis();
                let grid = |step: i64, row: &dyn Fn(i64) -> String| {
                    let mut rows = Vec::new();
                    let mut t = (q("startTime") + step - 1).div_euclid(step) * step;
                    while t <= q("endTime").min(now) {
                        rows.push(row(t));
                        t += step;
                    }
                    format!("[{}]", rows.join(","))
                };
                let body = if line.contains("/futures/data/openInterestHist") {
                    grid(FIVE_MIN, &|t| {
                        format!(
                            r#"{{"symbol":"BTCUSDT","sumOpenInterest":"{}","sumOpenInterestValue":"8785524572.89","timestamp":{t}}}"#,
                            80_000 + t / FIVE_MIN % 100
                        )
                    })
                } else if line.contains("/fapi/v1/fundingRate") {
                    grid(EIGHT_HOURS, &|t| {
                        format!(
                            r#"{{"symbol":"BTCUSDT","fundingRate":"0.00010000","fundingTime":{}}}"#,
                            t + 2
                        )
                    })
                } else {
                    format!(r#"{{"symbol":"BTCUSDT","openInterest":"109049.480","time":{now}}}"#)
                };
                let _ = s.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            }
        });
        format!("http://{addr}")
    }

    /// A config of one Binance USDⓈ-M source, no market, its stream on a closed port.
    fn config(rest: String) -> Config {
        Config {
            speed: 0.0,
            markets: Vec::new(),
            sources: vec![SourceConfig::BinanceFutures {
                symbols: vec![Symbol::new("BTCUSDT").unwrap()],
                ws: "ws://127.0.0.1:9/market".into(),
                rest,
                stale_after_secs: 30.0,
                oi_every_secs: 60.0,
                backfill_days: 1.0,
                ca: None,
            }],
            crosschecks: Vec::new(),
            schedules: Vec::new(),
            alerts: AlertsConfig::default(),
        }
    }

    /// Run until `done` says so of the 5-minute values held, then stop.
    fn run_until(
        session: &canary_engine::Session,
        config: &Config,
        done: impl Fn(usize) -> bool,
    ) -> Summary {
        let hist: DerivSeries = "oi_base:BTCUSDT:binance:5m".parse().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (stop_tx, stop_rx) = watch::channel(false);
            let run = run(config, session, None, None, stop_rx);
            let watch = async {
                let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
                while tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let held = session
                        .open()
                        .ok()
                        .and_then(|s| s.derivatives(&hist, None).ok())
                        .map_or(0, |v| v.len());
                    if done(held) {
                        break;
                    }
                }
                stop_tx.send(true).unwrap();
            };
            let (summary, ()) = tokio::join!(run, watch);
            summary.unwrap()
        })
    }

    /// A live derivatives source from `canary.toml` into the store: the open-interest history
    /// and the settlements back-filled, the current value sampled, under the source's name; a
    /// second run resumes after what the store holds.
    #[test]
    fn a_derivatives_source_runs_into_the_store_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let session = canary_engine::Session::new(dir.path().join("live.db"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let config = config(rest(requests.clone(), session.clock().clone()));
        let first = run_until(&session, &config, |held| held >= 280);
        assert!(first.derivatives >= 2 * 280, "{first:?}");
        let store = session.open().unwrap();
        let series = store.derivative_series(None).unwrap();
        let named = |key: &str| series.iter().find(|i| i.series.to_string() == key);
        let hist = named("oi_base:BTCUSDT:binance:5m").unwrap();
        assert_eq!(hist.sources, ["binance-futures"]);
        assert!(named("oi_usd:BTCUSDT:binance:5m").is_some());
        let funding = named("funding_rate:BTCUSDT:binance:8h").unwrap();
        let settled = store.derivatives(&funding.series, None).unwrap().len();
        assert!((3..=4).contains(&settled), "{funding:?}");
        assert_eq!(
            funding.last.millis() % EIGHT_HOURS,
            0,
            "at the scheduled time"
        );
        let current = named("oi_base:BTCUSDT:binance:1m").expect("the current open interest");
        assert_eq!(
            store.derivatives(&current.series, None).unwrap().len(),
            1,
            "the current value, decided when the run ended"
        );
        assert_eq!(
            store.source_kinds().unwrap().get("binance-futures"),
            Some(&SourceKind::Real)
        );
        // The stream's address is named in what the run recorded.
        let recorded = store
            .events(Timestamp::from_millis(0), Timestamp::from_millis(i64::MAX))
            .unwrap();
        assert!(recorded.iter().any(|e| {
            e.kind == "malformed"
                && e.payload
                    .contains("ws://127.0.0.1:9/market/stream?streams=btcusdt@markPrice@1s")
        }));
        drop(store);

        // Again: the history asked from after the last row held.
        let asked = requests.lock().unwrap().len();
        let r = requests.clone();
        run_until(&session, &config, move |_| {
            r.lock().unwrap()[asked..]
                .iter()
                .any(|l| l.contains("openInterest?"))
        });
        let again = requests.lock().unwrap()[asked..].to_vec();
        let hist_asked = again
            .iter()
            .find(|l| l.contains("openInterestHist"))
            .unwrap();
        let start: i64 = hist_asked
            .split("startTime=")
            .nth(1)
            .and_then(|v| v.split('&').next())
            .and_then(|v| v.parse().ok())
            .unwrap();
        assert_eq!(start, hist.last.millis() + 1, "{hist_asked}");
    }
}
