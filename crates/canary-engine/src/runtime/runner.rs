//! A config run: its sources read, merged in availability order and played into the engine
//! on a replay clock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use canary_ingest::binance::BinanceStream;
use canary_ingest::csv::{ImportOptions, read_candles};
use canary_model::{SourceKind, Timestamp};
use canary_store::{CandleQuery, Store};
use tokio::sync::{mpsc, watch};

use super::config::{Config, SourceConfig};
use super::engine::{AlertSettings, Engine, EngineSettings, Market, Output, Summary};
use super::sources::{bar_events, parse_stored, play};
use super::{Clock, ReplayClock, Stamped, WallClock};
use crate::EngineError;

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
            SourceConfig::Binance { .. } => {}
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
                let store = Store::open_existing(recorded)?;
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
    db: &std::path::Path,
    alerts: Option<AlertSettings>,
    source_kinds: BTreeMap<String, SourceKind>,
) -> EngineSettings {
    EngineSettings {
        db: db.to_path_buf(),
        markets: config
            .markets
            .iter()
            .map(|m| Market {
                symbol: m.symbol.clone(),
                timeframes: m.timeframes.clone(),
            })
            .collect(),
        source_kinds,
        alerts: alerts.filter(|_| config.alerts.check),
        flush_every: Duration::from_secs(1),
    }
}

/// Run `config` into the database `db`. Replays (bar files, the simulator, recorded events)
/// run on a replay clock at `config.speed` and end with their events; live sources run on the
/// wall clock until `stop`. Outputs go to `out` as they come.
///
/// # Errors
/// A source that does not read, a market that is not valid, a database error.
pub async fn run(
    config: &Config,
    db: &std::path::Path,
    alerts: Option<AlertSettings>,
    out: Option<mpsc::Sender<Output>>,
    stop: watch::Receiver<bool>,
) -> Result<Summary, EngineError> {
    if config.sources.iter().any(SourceConfig::is_live) {
        return run_live(config, db, alerts, out, stop).await;
    }
    let (events, source_kinds) = gather(config, db)?;
    let start = events.first().map_or(Timestamp::from_millis(0), |e| {
        Timestamp::from_millis(e.available_at.millis() - 1)
    });
    let clock = Arc::new(ReplayClock::starting(start));
    let engine = Engine::new(settings(config, db, alerts, source_kinds), clock)?;
    let (tx, rx) = mpsc::channel(CHANNEL);
    let speed = config.speed;
    let feeder = tokio::spawn(async move { play(events, speed, &tx, stop).await });
    let summary = engine.run(rx, out).await?;
    // The feeder ends when its events are sent or shutdown was asked for.
    let _ = feeder.await;
    Ok(summary)
}

async fn run_live(
    config: &Config,
    db: &std::path::Path,
    alerts: Option<AlertSettings>,
    out: Option<mpsc::Sender<Output>>,
    stop: watch::Receiver<bool>,
) -> Result<Summary, EngineError> {
    let clock: Arc<WallClock> = Arc::new(WallClock);
    let mut streams = Vec::new();
    let mut kinds = BTreeMap::new();
    {
        let store = Store::open(db)?;
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
    let engine = Engine::new(settings(config, db, alerts, kinds), clock.clone())?;
    let (tx, rx) = mpsc::channel(CHANNEL);
    let mut tasks = Vec::new();
    for (stream, last) in streams {
        let (tx, stop, clock) = (tx.clone(), stop.clone(), clock.clone());
        let now: canary_ingest::binance::Now = Arc::new(move || clock.now());
        tasks.push(tokio::spawn(async move {
            stream.run(&tx, now, last, stop).await
        }));
    }
    drop(tx);
    let summary = engine.run(rx, out).await?;
    for t in tasks {
        let _ = t.await;
    }
    Ok(summary)
}
