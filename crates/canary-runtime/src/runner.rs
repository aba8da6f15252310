//! A config run: its sources read, merged in availability order and played into the engine
//! on a replay clock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use canary_ingest::binance::BinanceStream;
use canary_ingest::binance_futures::BinanceFuturesStream;
use canary_ingest::bus::Publish;
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
                let same = match (
                    canary_store::server_address(recorded),
                    canary_store::server_address(db),
                ) {
                    (None, None) => {
                        std::fs::canonicalize(recorded).ok() == std::fs::canonicalize(db).ok()
                    }
                    (a, b) => a == b,
                };
                if same {
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

/// Which part of a run a process does. One process does all of it by default, on the
/// in-process bus; across processes the parts share a NATS JetStream bus (and a store they
/// can all reach: PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// Sources, engine and delivery.
    #[default]
    All,
    /// The sources only, publishing to the bus.
    Ingest,
    /// The engine only, taking from the bus: bars, scores and rules, notices stored for a
    /// deliverer.
    Eval,
    /// Delivery only: the notices stored by evaluators, sent.
    Deliver,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "all" => Role::All,
            "ingest" => Role::Ingest,
            "eval" => Role::Eval,
            "deliver" => Role::Deliver,
            other => {
                return Err(format!(
                    "{other:?} is not a role: give all, ingest, eval or deliver"
                ));
            }
        })
    }
}

/// Where a process's part of a run goes: its role, the bus, and for an evaluator its
/// partitions.
#[derive(Debug, Clone, Default)]
pub struct Placement {
    pub role: Role,
    /// NATS JetStream; `None`: the in-process bus (only for [`Role::All`]).
    pub bus: Option<canary_ingest::bus::nats::NatsConfig>,
    /// The partitions this evaluator takes (every one when empty).
    pub partitions: Vec<u16>,
    /// How long an evaluator's lease on its partitions outlives its last renewal: a standby
    /// takes over this long after an evaluator dies (zero: three seconds).
    pub lease_ttl: Duration,
}

/// Run `config` into the session's store, every part in this process on the in-process bus.
/// Replays (bar files, the simulator, recorded events) run on a replay clock at
/// `config.speed` and end with their events; live sources run on the session's clock (the
/// wall clock) until `stop`. Outputs go to `out` as they come.
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
    run_placed(config, session, alerts, out, stop, &Placement::default()).await
}

/// What a run's sources send.
enum Feed {
    /// Events read ahead (files, the simulator, a recorded run), played at `speed`.
    Replay(Vec<Stamped>, f64),
    /// Sources that connect and run until stopped, and the scheduled jobs.
    Live(LiveSources),
}

/// As [`run`], this process doing the part `placement` gives it. On a NATS bus the engine
/// runs until `stop`, replays too (its sources may be other processes).
///
/// # Errors
/// As [`run`]; a role other than `all` without a bus; a bus that cannot be reached.
pub async fn run_placed(
    config: &Config,
    session: &canary_engine::Session,
    alerts: Option<AlertSettings>,
    out: Option<mpsc::Sender<Output>>,
    stop: watch::Receiver<bool>,
    placement: &Placement,
) -> Result<Summary, EngineError> {
    if placement.role == Role::Deliver {
        return deliver_only(session, alerts, config, stop).await;
    }
    let bus = match (&placement.bus, placement.role) {
        (None, Role::All) => None,
        (None, role) => {
            return Err(EngineError::param(
                "role",
                format!("{role:?}").to_lowercase(),
                "runs with others over a bus: give --bus nats://HOST:PORT",
            ));
        }
        (Some(c), _) => Some(
            canary_ingest::bus::nats::NatsBus::connect(c.clone())
                .await
                .map_err(|e| EngineError::param("bus", &c.url, &e.to_string()))?,
        ),
    };
    let live = config.sources.iter().any(SourceConfig::is_live) || !config.schedules.is_empty();
    let (feed, kinds, engine_session) = if live {
        let sources = live_sources(config, session)?;
        let kinds = sources.kinds.clone();
        (Feed::Live(sources), kinds, session.clone())
    } else {
        let (events, kinds) = gather(config, session.db())?;
        let start = events.first().map_or(Timestamp::from_millis(0), |e| {
            Timestamp::from_millis(e.available_at.millis() - 1)
        });
        let replay = session
            .clone()
            .with_clock(Arc::new(ReplayClock::starting(start)));
        (Feed::Replay(events, config.speed), kinds, replay)
    };
    let covers = feed_coverage(&feed);
    let engine = move || -> Result<Engine, EngineError> {
        let mut engine = Engine::new(settings(config, engine_session, alerts, kinds))?;
        for (source, coverage) in covers {
            engine.cover(&source, &coverage);
        }
        if placement.role == Role::Eval {
            engine.store_notices_only();
        }
        if placement.bus.is_some() {
            engine.warm_at_first_event();
            engine.place_rules_with_markets();
        }
        Ok(engine)
    };
    match bus {
        None => {
            let engine = engine()?;
            let (tx, rx) = canary_ingest::bus::in_process(CHANNEL);
            let tasks = spawn_feed(feed, config, session, &tx, &stop, out.as_ref());
            // The engine runs until every sender is gone: a replay's when it has played, a
            // live one's at shutdown.
            let mut until = stop.clone();
            let live = tasks.live;
            let holder = tokio::spawn(async move {
                if live {
                    while !*until.borrow() {
                        if until.changed().await.is_err() {
                            break;
                        }
                    }
                }
                drop(tx);
            });
            let summary = engine.run(rx, out).await?;
            let _ = holder.await;
            for t in tasks.handles {
                let _ = t.await;
            }
            Ok(summary)
        }
        Some(bus) => {
            // What this process reports goes to the bus's outputs stream too, for the API
            // servers following it.
            let (out, sharing) = share_outputs(bus.config(), out).await?;
            let mut out = Some(out);
            let tasks = match placement.role {
                Role::All | Role::Ingest => {
                    spawn_feed(feed, config, session, &bus.publisher(), &stop, out.as_ref())
                }
                Role::Eval | Role::Deliver => Tasks::default(),
            };
            let summary = if placement.role == Role::Ingest {
                // A replay's sources end when they have published; live ones at shutdown.
                if tasks.live {
                    let mut until = stop.clone();
                    while !*until.borrow() {
                        if until.changed().await.is_err() {
                            break;
                        }
                    }
                }
                Summary::default()
            } else {
                evaluate(&bus, placement, engine, out.take(), stop.clone()).await?
            };
            for t in tasks.handles {
                let _ = t.await;
            }
            drop(out);
            let _ = sharing.await;
            Ok(summary)
        }
    }
}

/// The outputs sent to the returned sender published to the bus's outputs stream (for `canary
/// serve --bus`), then passed on to `out`. Publishing does not hold up the engine: up to 1,024
/// wait for the server's acknowledgement at once. The stream is a view: an output it did not
/// take is said once (and when it takes them again), the store keeps what it is about. The
/// task ends when the sender is dropped, once what it published is acknowledged (or 10 s).
async fn share_outputs(
    config: &canary_ingest::bus::nats::NatsConfig,
    out: Option<mpsc::Sender<Output>>,
) -> Result<(mpsc::Sender<Output>, tokio::task::JoinHandle<()>), EngineError> {
    use canary_ingest::bus::nats::outputs::NatsOutputs;
    let outputs = NatsOutputs::connect(config)
        .await
        .map_err(|e| EngineError::param("bus", &config.url, &e.to_string()))?;
    let (tx, mut rx) = mpsc::channel::<Output>(256);
    let task = tokio::spawn(async move {
        let mut acks = tokio::task::JoinSet::new();
        let mut failing = false;
        let mut said = |ok: bool, why: &dyn std::fmt::Display| {
            if ok && failing {
                eprintln!("outputs reach the bus's outputs stream again");
            } else if !ok && !failing {
                eprintln!(
                    "outputs are not reaching the bus's outputs stream ({why}): API servers following it miss them; the store has what they are about"
                );
            }
            failing = !ok;
        };
        loop {
            tokio::select! {
                o = rx.recv() => {
                    let Some(o) = o else { break };
                    if let Ok(line) = serde_json::to_string(&o) {
                        match outputs.publish(o.kind(), line).await {
                            Ok(ack) => {
                                acks.spawn(ack.into_future());
                            }
                            Err(e) => said(false, &e),
                        }
                    }
                    while acks.len() > 1024 {
                        if let Some(Ok(r)) = acks.join_next().await {
                            said(r.is_ok(), &r.err().map_or(String::new(), |e| e.to_string()));
                        }
                    }
                    if let Some(out) = &out {
                        let _ = out.send(o).await;
                    }
                }
                Some(Ok(r)) = acks.join_next(), if !acks.is_empty() => {
                    said(r.is_ok(), &r.err().map_or(String::new(), |e| e.to_string()));
                }
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), acks.join_all()).await;
    });
    Ok((tx, task))
}

/// An evaluator on the bus: its partitions leased (waiting while another holds any), then the
/// engine `engine` makes, taking them until `stop` or the lease's loss.
async fn evaluate(
    bus: &canary_ingest::bus::nats::NatsBus,
    placement: &Placement,
    engine: impl FnOnce() -> Result<Engine, EngineError>,
    out: Option<mpsc::Sender<Output>>,
    stop: watch::Receiver<bool>,
) -> Result<Summary, EngineError> {
    // Every evaluator is of one group: its durable consumers and its leases are named after
    // it, so that a standby takes over where the one it replaces stopped.
    let group = "eval";
    let bus_err = |e: canary_ingest::bus::nats::BusError| {
        EngineError::param("bus", &bus.config().url, &e.to_string())
    };
    // Its partitions to itself first: a standby waits here while another holds
    // any of them, and starts from what the store holds once they lapse.
    let ttl = if placement.lease_ttl.is_zero() {
        Duration::from_secs(3)
    } else {
        placement.lease_ttl
    };
    let holder = format!("evaluator {}", std::process::id());
    let Some(lease) = bus
        .lease(
            group,
            &holder,
            &placement.partitions,
            ttl,
            |why| eprintln!("waiting: {why}; this evaluator starts when it lapses"),
            stop.clone(),
        )
        .await
        .map_err(bus_err)?
    else {
        return Ok(Summary::default());
    };
    // Stopped by a shutdown or by the lease's loss.
    let (until_tx, until) = watch::channel(false);
    let (mut asked, mut lost) = (stop.clone(), lease.lost.clone());
    let watcher = tokio::spawn(async move {
        loop {
            if *asked.borrow() || *lost.borrow() {
                let _ = until_tx.send(true);
                return *lost.borrow();
            }
            tokio::select! {
                r = asked.changed() => if r.is_err() { return false },
                r = lost.changed() => if r.is_err() { return false },
            }
        }
    });
    let rx = bus
        .subscriber(group, &placement.partitions, until)
        .await
        .map_err(bus_err)?;
    let summary = engine()?.run(rx, out).await?;
    watcher.abort();
    if *lease.lost.borrow() {
        return Err(EngineError::param(
            "lease",
            group,
            "this evaluator lost its partitions' lease (too slow to renew it, or cut off from the bus); what it took is stored, and another evaluator may hold them now",
        ));
    }
    lease.release().await;
    Ok(summary)
}

/// What a recorded liquidation stream, or a live Binance one, leaves out: its bars say it.
fn feed_coverage(feed: &Feed) -> Vec<(String, String)> {
    match feed {
        Feed::Replay(events, _) => events
            .iter()
            .filter_map(|e| match &e.event {
                Event::Liquidation {
                    source,
                    coverage: Some(c),
                    ..
                } => Some((source.clone(), c.clone())),
                _ => None,
            })
            .collect(),
        Feed::Live(s) => s
            .derivatives
            .iter()
            .filter_map(|d| match d {
                Derivatives::Binance(s, _) => Some((
                    s.name.clone(),
                    canary_ingest::binance_futures::LIQUIDATION_COVERAGE.to_string(),
                )),
                Derivatives::Bybit(..) => None,
            })
            .collect(),
    }
}

/// The tasks of a feed, and whether it runs until stopped (live) or ends (a replay).
#[derive(Default)]
struct Tasks {
    handles: Vec<tokio::task::JoinHandle<()>>,
    live: bool,
}

/// Start a feed's sources, each publishing to `tx`.
fn spawn_feed<P: Publish>(
    feed: Feed,
    config: &Config,
    session: &canary_engine::Session,
    tx: &P,
    stop: &watch::Receiver<bool>,
    out: Option<&mpsc::Sender<Output>>,
) -> Tasks {
    let mut handles = Vec::new();
    match feed {
        Feed::Replay(events, speed) => {
            let (tx, stop) = (tx.clone(), stop.clone());
            handles.push(tokio::spawn(async move {
                let _ = play(events, speed, &tx, stop).await;
            }));
            Tasks {
                handles,
                live: false,
            }
        }
        Feed::Live(sources) => {
            let clock = session.clock().clone();
            for (stream, last) in sources.streams {
                let (tx, stop, clock) = (tx.clone(), stop.clone(), clock.clone());
                let now: canary_ingest::binance::Now = Arc::new(move || clock.now());
                handles.push(tokio::spawn(async move {
                    stream.run(&tx, now, last, stop).await;
                }));
            }
            for stream in sources.coinbase {
                let (tx, stop, clock) = (tx.clone(), stop.clone(), clock.clone());
                let now: canary_ingest::binance::Now = Arc::new(move || clock.now());
                handles.push(tokio::spawn(async move {
                    stream.run(&tx, now, stop).await;
                }));
            }
            for d in sources.derivatives {
                handles.push(d.spawn(tx.clone(), stop.clone(), clock.clone()));
            }
            for job in &config.schedules {
                let (job, stop, session, out) =
                    (job.clone(), stop.clone(), session.clone(), out.cloned());
                handles.push(tokio::spawn(async move {
                    schedule(job, session, out, stop).await;
                }));
            }
            Tasks {
                handles,
                live: true,
            }
        }
    }
}

/// A deliverer: the notices evaluators stored, sent as [`AlertSettings`] says, every half
/// second until `stop`; what is pending then is sent before it ends.
async fn deliver_only(
    session: &canary_engine::Session,
    alerts: Option<AlertSettings>,
    config: &Config,
    stop: watch::Receiver<bool>,
) -> Result<Summary, EngineError> {
    let (delivered, failed) = super::engine::deliver_until(
        session.clone(),
        alerts.as_ref(),
        config.alerts.system.as_ref().map(|s| s.channel.clone()),
        stop,
    )
    .await?;
    Ok(Summary {
        delivered,
        failed_deliveries: failed,
        ..Summary::default()
    })
}

/// The live sources of a config: the streams with what the store holds, and each's kind.
struct LiveSources {
    streams: Vec<(BinanceStream, BTreeMap<Symbol, Timestamp>)>,
    coinbase: Vec<CoinbaseStream>,
    derivatives: Vec<Derivatives>,
    kinds: BTreeMap<String, SourceKind>,
}

fn live_sources(
    config: &Config,
    session: &canary_engine::Session,
) -> Result<LiveSources, EngineError> {
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
    Ok(LiveSources {
        streams,
        coinbase,
        derivatives,
        kinds,
    })
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
    fn spawn<P: Publish>(
        self,
        tx: P,
        stop: watch::Receiver<bool>,
        clock: Arc<dyn super::Clock>,
    ) -> tokio::task::JoinHandle<()> {
        let now: canary_ingest::binance::Now = Arc::new(move || clock.now());
        tokio::spawn(async move {
            match self {
                Derivatives::Binance(s, held) => s.run(&tx, now, held, stop).await,
                Derivatives::Bybit(s, held) => s.run(&tx, now, held, stop).await,
            };
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
