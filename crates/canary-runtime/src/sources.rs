//! Sources that need no network: bars replayed (from a file, or the simulator) and the
//! events an earlier run stored, merged in availability order and sent into the engine's
//! bounded channel (waiting when it is full); `speed` paces them by their own times (0: as
//! fast as the engine takes them).

use std::time::Duration;

use canary_ingest::bus::Publish;
use canary_model::{Candle, Symbol, Timeframe, Timestamp};
use canary_store::StoredEvent;
use tokio::sync::watch;

use super::{Event, Stamped};
use canary_engine::EngineError;

/// Why a source stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// The engine is gone (its receiver dropped).
    EngineGone,
    /// Shutdown was asked for.
    Shutdown,
}

async fn pace(
    speed: f64,
    prev: Option<Timestamp>,
    t: Timestamp,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), Stopped> {
    if *stop.borrow() {
        return Err(Stopped::Shutdown);
    }
    let Some(prev) = prev.filter(|_| speed > 0.0) else {
        return Ok(());
    };
    let gap_ms = (t.millis() - prev.millis()).max(0) as f64 / speed;
    let wait = Duration::from_secs_f64((gap_ms / 1000.0).min(3600.0));
    tokio::select! {
        () = tokio::time::sleep(wait) => Ok(()),
        _ = stop.changed() => Err(Stopped::Shutdown),
    }
}

/// Closed bars as events, each available at its close.
#[must_use]
pub fn bar_events(
    source: &str,
    symbol: &Symbol,
    timeframe: Timeframe,
    candles: &[Candle],
) -> Vec<Stamped> {
    candles
        .iter()
        .map(|c| Stamped {
            event: Event::Bar {
                source: source.to_string(),
                symbol: symbol.clone(),
                timeframe,
                candle: *c,
            },
            available_at: timeframe.close_of(c.open_time),
        })
        .collect()
}

/// The stored events of an earlier run as the engine took them, each available when it was
/// then.
///
/// # Errors
/// A stored event that does not read (naming its sequence number).
pub fn parse_stored(rows: &[StoredEvent]) -> Result<Vec<Stamped>, EngineError> {
    rows.iter()
        .map(|r| {
            serde_json::from_str::<Event>(&r.payload)
                .map(|event| Stamped {
                    event,
                    available_at: r.available_at,
                })
                .map_err(|e| EngineError::param("event", r.seq.to_string(), &e.to_string()))
        })
        .collect()
}

/// Send events in their order, paced by their availability times at `speed`.
///
/// # Errors
/// Why it stopped before the last event.
pub async fn play(
    events: Vec<Stamped>,
    speed: f64,
    tx: &impl Publish,
    mut stop: watch::Receiver<bool>,
) -> Result<usize, Stopped> {
    let n = events.len();
    let mut prev = None;
    for s in events {
        pace(speed, prev, s.available_at, &mut stop).await?;
        prev = Some(s.available_at);
        tx.publish(s).await.map_err(|_| Stopped::EngineGone)?;
    }
    Ok(n)
}
