//! The live engine: events in, bars and alerts out, with the same computations as `--asof`.
//!
//! Sources (an exchange stream, a bar file replayed, the simulator, the events stored by an
//! earlier run) send [`Stamped`] events into one bounded channel: a slow engine slows its
//! sources down, and no queue grows without bound. The engine owns the store. Per symbol, a
//! [`Processor`] turns trades and bars into closed bars of every configured timeframe with
//! streaming indicators (the same structs that `indicators --asof` runs in batch). At each
//! bar close the engine stores the events and bars taken so far, then checks the stored alert
//! rules as of that moment ([`crate::alerting::check`], the path `canary alerts check` takes)
//! and wakes the delivery task, which sends from its own connection so that a slow receiver
//! never holds the engine. Every event is stored with when Canary had it, so the run replays
//! from the store exactly ([`sources::stored_events`]).
//!
//! Time comes from a [`Clock`]: the wall clock live, or, in a replay, the availability time of
//! the latest event, so a replay at any speed does what the live run did.

pub mod candles;
pub mod config;
pub mod engine;
pub mod processor;
pub mod runner;
pub mod sources;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use canary_model::Timestamp;
pub use canary_model::event::{Event, Stamped};

pub use engine::{AlertSettings, Engine, EngineSettings, Market, Output, Summary};
pub use processor::{Closed, Processor};
pub use runner::run;

/// Where the engine's time comes from.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
    /// An event available at `t` was taken (a replay clock moves to it; the wall clock
    /// does not).
    fn observe(&self, _t: Timestamp) {}
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> Timestamp {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp::from_millis(ms)
    }
}

/// A replay's clock: the availability time of the latest event taken (never going back).
#[derive(Debug, Clone, Default)]
pub struct ReplayClock(Arc<AtomicI64>);

impl ReplayClock {
    /// A clock starting at `t`.
    #[must_use]
    pub fn starting(t: Timestamp) -> Self {
        Self(Arc::new(AtomicI64::new(t.millis())))
    }
}

impl Clock for ReplayClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::Acquire))
    }
    fn observe(&self, t: Timestamp) {
        self.0.fetch_max(t.millis(), Ordering::AcqRel);
    }
}
