//! A config run: its sources read, merged in availability order and played into the engine
//! on a replay clock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use canary_ingest::binance::{BinanceStream, Ended};
use canary_ingest::coinbase::CoinbaseStream;
use canary_ingest::csv::{ImportOptions, read_candles};
use canary_model::{SourceKind, Timestamp};
use canary_store::CandleQuery;
use tokio::sync::{mpsc, watch};

use super::config::{Config, ScheduleConfig, SourceConfig};
use super::engine::{
    AlertSettings, CrossCheck, Engine, EngineSettings, Market, Output, Summary, SystemAlerts,
};
use super::sources::{bar_events, parse_stored, play};
use super::{ReplayClock, Stamped};
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
            SourceConfig::Binance { .. } | SourceConfig::Coinbase { .. } => {}
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
    let engine = Engine::new(settings(config, replay, alerts, source_kinds))?;
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
    let engine = Engine::new(settings(config, session.clone(), alerts, kinds))?;
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
