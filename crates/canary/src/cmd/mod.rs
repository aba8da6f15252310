//! One module per subcommand; `run` dispatches.

mod alerts;
mod analyze;
mod backtest;
mod demo;
mod derivatives;
mod engine;
mod flows;
mod hashprice;
mod import;
mod indicators;
mod levels;
mod markets;
mod miners;
mod network;
mod news;
mod resample;
mod score;
mod simulate;
mod stats;
mod watch;

use std::sync::Arc;

use anyhow::Result;
use canary_engine::{Context, EngineError, Session};
use canary_model::Timestamp;
use canary_server::live::{LiveFeed, RESUME_WINDOW};
use canary_store::Stores;

use crate::cli::{Cli, Command};

/// How long writers wait for another writer (the global `--wait`), set once at start.
static WAIT: std::sync::OnceLock<std::time::Duration> = std::sync::OnceLock::new();

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let _ = WAIT.set(std::time::Duration::from_secs_f64(cli.wait));
    crate::output::WIDE.store(cli.wide, std::sync::atomic::Ordering::Relaxed);
    let session = &session(&cli.db);
    match cli.command {
        Command::Import(a) => import::run(session, &a),
        Command::Resample(a) => resample::run(session, &a),
        Command::Indicators(a) => indicators::run(session, &a),
        Command::Simulate(a) => simulate::run(session, &a),
        Command::Series => series(session),
        Command::Stats(a) => stats::run(session, &a),
        Command::Levels(a) => levels::run(session, &a),
        Command::Backtest(a) => backtest::run(session, &a),
        Command::Hashprice(a) => hashprice::run(session, &a),
        Command::Miners(a) => miners::run_miners(session, &a),
        Command::Treasury(a) => miners::run_treasury(session, &a),
        Command::Network(a) => network::run(session, &a),
        Command::Derivatives(a) => derivatives::run(session, &a),
        Command::Markets(a) => markets::run(session, &a),
        Command::Scenario(a) => derivatives::scenario(session, &a),
        Command::Flows(a) => flows::run(session, &a),
        Command::Analyze(a) => analyze::run(session, &a),
        Command::Analyses(a) => analyze::stored(session, &a),
        Command::Alerts(a) => alerts::manage(session, &a),
        Command::Watch(a) => watch::run(session, &a),
        Command::Score(a) => score::run(session, &a),
        Command::News(a) => news::run(session, &a),
        Command::Run(a) => engine::run(session, &a),
        Command::Serve(a) => serve(session, &a),
        Command::Tokens(a) => alerts::tokens(session, &a),
        Command::Demo(a) => demo::run(&a),
    }
}

/// Now, from the engine's one reader of the wall clock (`canary_engine::clock`), for work
/// that has no store (a file read on its own): a command on the database takes its time from
/// its session (`Session::now`), and the library functions take time as an argument.
pub fn now() -> Timestamp {
    canary_engine::clock::wall_now()
}

/// The engine's error with what a user of this command line can do about it.
pub fn hint(e: EngineError) -> anyhow::Error {
    let extra = match &e {
        EngineError::NoPrice { symbol, .. } => Some(format!(
            "give --price P (USD), or store {symbol} bars (canary import FILE --symbol {symbol})"
        )),
        EngineError::NoNetwork { .. } => Some(
            "give --hashrate-ehs H (EH/s) or --difficulty D, or import difficulty (canary network import FILE --series difficulty)"
                .to_string(),
        ),
        EngineError::NoBars { .. } => {
            Some("import bars with canary import FILE --symbol S, or pass --db".to_string())
        }
        EngineError::NoDerivatives { .. } => Some(
            "import it with canary derivatives import FILE (docs/derivatives.md lists the layouts), or pass --db"
                .to_string(),
        ),
        EngineError::Source(s) if s.to_string().contains("raise the timeout") => {
            Some("raise it with --timeout SECONDS".to_string())
        }
        EngineError::Param { reason, .. } if reason.contains("check the spelling, or import its bars") => {
            Some("for a market canary run is about to stream, pass --before-data".to_string())
        }
        EngineError::Param { reason, .. } if reason.contains("public addresses only") => {
            Some("if the address is yours, pass --allow-private (and set [alerts] allow_private = true for canary run)".to_string())
        }
        EngineError::Param { name: "token", .. } => {
            Some("issue one with canary tokens create --name NAME, or leave --token out to act as the operator".to_string())
        }
        _ => None,
    };
    match extra {
        Some(x) => with_hint(e, &x),
        None => anyhow::Error::new(e),
    }
}

/// A `--map` value (`time=COL,value=COL`) as pairs.
///
/// # Errors
/// An item that is not `NAME=COLUMN`.
pub fn column_map(map: Option<&str>) -> anyhow::Result<Vec<(String, String)>> {
    map.unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|item| {
            item.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| anyhow::anyhow!("--map item {item:?} is not NAME=COLUMN"))
        })
        .collect()
}

/// An importer's error with the flags that fix what it names: `--delimiter` for a file
/// separated by another character, `--map` for the column map, `--tf` for the timeframe,
/// `--timeout` for a slow host.
pub fn ingest_hint(e: impl std::error::Error + Send + Sync + 'static) -> anyhow::Error {
    let text = e.to_string();
    let hint = if text.contains("looks semicolon-separated") {
        Some("pass --delimiter ';'")
    } else if text.contains("looks tab-separated") {
        Some("pass --delimiter tab")
    } else if text.contains("looks pipe-separated") {
        Some("pass --delimiter '|'")
    } else if text.contains("column map") {
        Some("name columns with --map FIELD=COLUMN,...")
    } else if text.contains("the earliest time accepted") {
        Some("accept earlier bars with --earliest TIME")
    } else if text.contains("give the timeframe") {
        Some("give the timeframe with --tf")
    } else if text.contains("raise the timeout") {
        Some("raise it with --timeout SECONDS")
    } else {
        None
    };
    match hint {
        Some(h) => with_hint(e, h),
        None => anyhow::Error::new(e),
    }
}

/// A fetch's error: the source's failure with the importers' hints (`--timeout`), anything
/// else as [`hint`] has it.
pub fn source_hint(e: EngineError) -> anyhow::Error {
    match e {
        EngineError::Source(s) => ingest_hint(s),
        e => hint(e),
    }
}

/// The error, then what to do about it on the next line.
fn with_hint(e: impl std::fmt::Display, hint: &str) -> anyhow::Error {
    anyhow::anyhow!("{e}\n  hint: {hint}")
}

/// A store error, with how to name another database when that is the problem.
fn store_hint(e: canary_store::StoreError) -> anyhow::Error {
    use canary_store::StoreError as E;
    match e {
        E::Open { .. } | E::CreateDir { .. } => {
            with_hint(e, "pass --db PATH or set CANARY_DB to use another database")
        }
        E::Missing { .. } => with_hint(e, "import data first, or pass --db PATH"),
        E::Busy { .. } => with_hint(e, "wait longer with --wait SECONDS"),
        e => anyhow::Error::new(e),
    }
}

/// Note a writer waiting for another one, once, on standard error.
fn waiting(db: &std::path::Path, after: std::time::Duration) {
    eprintln!(
        "waiting for another process writing {} ({:.1} s so far)…",
        db.display(),
        after.as_secs_f64()
    );
}

/// Open (creating if needed) the database for a command that writes; its writes wait for
/// other writers up to `--wait`.
pub fn open(session: &Session) -> Result<Box<dyn Stores>> {
    session.open().map_err(store_hint)
}

/// The session of a command on `db`: the wall clock, writes waiting up to `--wait`. The
/// command line opens one, before the command runs.
pub fn session(db: &std::path::Path) -> Session {
    Session::new(db).with_write_wait(canary_store::WriteWait {
        limit: WAIT
            .get()
            .copied()
            .unwrap_or(std::time::Duration::from_secs(60)),
        note: Some(waiting),
    })
}

/// The session a live engine runs on: the command's, but its writes wait for another writer
/// as long as the store's default, whatever `--wait` says: `--wait` bounds a one-off
/// command, and a run that gave up its flush after a second would stop altogether.
///
/// Its rules may read the facts file (`basket_move()` reads its miners): `./miners.toml`, else
/// the built-in copy, unless the session has one.
///
/// # Errors
/// A `./miners.toml` that does not read.
pub fn live_session(session: &Session) -> Result<Session> {
    let s = session
        .clone()
        .with_write_wait(canary_store::WriteWait::default());
    Ok(if s.profiles().is_some() {
        s
    } else {
        s.with_profiles(std::sync::Arc::new(miners::profiles(None)?))
    })
}

/// Open the database for a command that only reads: a missing one is refused.
pub fn open_existing(session: &Session) -> Result<Box<dyn Stores>> {
    session.open_existing().map_err(store_hint)
}

/// Open the database to read it for a report, and run `f` on a context as of `asof` (now on
/// the session's clock when none is given); a missing database is refused.
pub fn with_context<T>(
    session: &Session,
    asof: Option<Timestamp>,
    f: impl FnOnce(&Context<'_>) -> Result<T, EngineError>,
) -> Result<T> {
    let store = open_existing(session)?;
    let ctx = session.context(&*store, asof).map_err(hint)?;
    f(&ctx).map_err(hint)
}

/// As [`with_context`] for reports that can run on given inputs alone (a price, a hash
/// rate): without a database they run on an empty store in memory, and an error for want of
/// stored data names the missing database.
pub fn with_context_or_none<T>(
    session: &Session,
    asof: Option<Timestamp>,
    f: impl FnOnce(&Context<'_>) -> Result<T, EngineError>,
) -> Result<T> {
    with_store(session, |store| f(&session.context(store, asof)?))
}

fn with_store<T>(
    session: &Session,
    f: impl FnOnce(&dyn Stores) -> Result<T, EngineError>,
) -> Result<T> {
    let db = session.db();
    if canary_store::exists(db) {
        let store = open_existing(session)?;
        return f(&*store).map_err(hint);
    }
    let store = canary_store::in_memory().map_err(store_hint)?;
    f(&*store).map_err(|e| match e {
        EngineError::NoBars { .. }
        | EngineError::NoPrice { .. }
        | EngineError::NoNetwork { .. }
        | EngineError::Empty(_) => anyhow::anyhow!(
            "{:#}\n  and there is no database at {} to read it from (import data first, or pass --db)",
            hint(e),
            canary_store::shown(db)
        ),
        e => hint(e),
    })
}

/// As [`with_context_or_none`], with company facts in the context.
pub fn with_facts<T>(
    session: &Session,
    asof: Option<Timestamp>,
    profiles: &canary_engine::facts::Profiles,
    f: impl FnOnce(&Context<'_>) -> Result<T, EngineError>,
) -> Result<T> {
    with_store(session, |store| {
        f(&session.context(store, asof)?.with_profiles(profiles))
    })
}

fn series(session: &Session) -> Result<()> {
    let store = open_existing(session)?;
    let list = store.series()?;
    if list.is_empty() {
        println!(
            "{}: no series stored yet (canary import FILE --symbol S)",
            canary_store::shown(session.db())
        );
        return Ok(());
    }
    let mut t = crate::output::table();
    t.set_header(["symbol", "tf", "bars", "first", "last", "sources"]);
    for s in list {
        t.add_row([
            s.symbol.to_string(),
            s.timeframe.to_string(),
            s.bars.to_string(),
            s.first.to_string(),
            s.last.to_string(),
            s.sources,
        ]);
    }
    println!("{t}");
    Ok(())
}

/// The outputs the evaluators of a bus publish, followed into a feed for the stream's
/// clients: the latest ones first (so that a client resumes here as on any server following
/// the bus), then as they come; read again from where it was after the server is lost.
async fn follow_bus(config: &canary_ingest::bus::nats::NatsConfig) -> Result<Arc<LiveFeed>> {
    use canary_ingest::bus::nats::outputs::NatsOutputs;
    use futures_util::StreamExt;
    let outputs = NatsOutputs::connect(config).await?;
    let feed = Arc::new(LiveFeed::new(outputs.epoch(), RESUME_WINDOW));
    let first = outputs.follow(0, RESUME_WINDOW as u64).await?;
    let to_clients = feed.clone();
    tokio::spawn(async move {
        let mut next = 0;
        let mut messages = Some(Box::pin(first));
        loop {
            if let Some(m) = messages.as_mut() {
                while let Some(o) = m.next().await {
                    next = o.seq + 1;
                    to_clients.push(o.seq, &o.kind, o.line.into());
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            messages = match outputs.follow(next, RESUME_WINDOW as u64).await {
                Ok(m) => Some(Box::pin(m)),
                Err(e) => {
                    eprintln!("following the bus's outputs: {e}; trying again");
                    None
                }
            };
        }
    });
    Ok(feed)
}

/// `canary serve`: the HTTP API on the database until Ctrl-C.
fn serve(session: &Session, a: &crate::cli::ServeArgs) -> Result<()> {
    let mut config = canary_server::ServerConfig::new(session.db().to_path_buf());
    config.addr = a.addr;
    config.public = a.public;
    config.cors_origin.clone_from(&a.cors_origin);
    config.rate_per_minute = a.rate;
    config.timeout = std::time::Duration::from_secs_f64(a.timeout);
    config.max_body = a.max_body as usize;
    config.rate_per_address = a.rate_per_address;
    config.max_connections = a.max_connections as usize;
    config.header_timeout = std::time::Duration::from_secs_f64(a.header_timeout);
    config.body_timeout = std::time::Duration::from_secs_f64(a.body_timeout);
    let engine_config = a
        .run
        .as_ref()
        .map(|p| canary_runtime::config::Config::load(p).map_err(hint))
        .transpose()?;
    config.allow_private = a.allow_private
        || engine_config
            .as_ref()
            .is_some_and(|c| c.alerts.allow_private);
    let alerts = engine_config
        .as_ref()
        .map(engine::alert_settings)
        .transpose()?;
    let bus = a
        .bus
        .config(canary_ingest::bus::nats::NatsConfig::new("").partitions);
    if bus.is_some() && engine_config.is_some() {
        anyhow::bail!(
            "--run runs an engine in this process and --bus follows evaluators in others: give one of them"
        );
    }
    if engine_config.as_ref().is_some_and(|c| {
        c.sources
            .iter()
            .any(|s| matches!(s, canary_runtime::config::SourceConfig::Simulator { .. }))
    }) {
        crate::output::banner();
    }
    canary_engine::jobs::block_on_workers(2, async move {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        // The engine beside the server, or the evaluators of a bus: their outputs to
        // /api/v1/stream (bounded: a slow client is told how many it missed).
        let (live, engine) = match (engine_config, bus) {
            (Some(c), _) => {
                // Ids of this server's run: its start names their sequence.
                let epoch = canary_engine::clock::wall_now().millis();
                let feed = Arc::new(LiveFeed::new(epoch.to_string(), RESUME_WINDOW));
                let (otx, mut orx) = tokio::sync::mpsc::channel::<canary_runtime::Output>(256);
                let to_clients = feed.clone();
                tokio::spawn(async move {
                    let mut seq = 0;
                    while let Some(o) = orx.recv().await {
                        if let Ok(line) = serde_json::to_string(&o) {
                            seq += 1;
                            to_clients.push(seq, o.kind(), line.into());
                        }
                    }
                });
                let session = live_session(session)?;
                let stop = stop_rx.clone();
                let task = tokio::spawn(async move {
                    canary_runtime::run(&c, &session, alerts, Some(otx), stop).await
                });
                (Some(feed), Some(task))
            }
            (None, Some(bus)) => (Some(follow_bus(&bus).await?), None),
            (None, None) => (None, None),
        };
        let following = live.is_some();
        canary_server::serve(
            config,
            live,
            |addr| {
                println!(
                    "serving http://{addr} (API at /api/v1, its OpenAPI document at /api/v1/openapi.json){}; Ctrl-C stops",
                    if engine.is_some() {
                        ", the engine's stream at /api/v1/stream"
                    } else if following {
                        ", the bus's evaluators' stream at /api/v1/stream"
                    } else {
                        ""
                    }
                );
            },
            async move {
                let _ = tokio::signal::ctrl_c().await;
                eprintln!("stopping: finishing the requests in flight");
                let _ = stop_tx.send(true);
            },
        )
        .await?;
        if let Some(t) = engine {
            t.await?.map_err(hint)?;
        }
        Ok::<_, anyhow::Error>(())
    })?
}
