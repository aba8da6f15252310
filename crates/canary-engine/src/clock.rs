//! The one place Canary reads the wall clock.
//!
//! Everything else takes its time from here: the command line asks [`wall_now`] for "now"
//! (the default of every `--asof`); the server and the live engine run on a [`Clock`] they
//! are given (the [`WallClock`], a [`ReplayClock`] in a replay so that a replay at any speed
//! does what the live run did, or a test's own); a delivery signs with the time its caller
//! passes; the analytics and the model read no clock at all. Clippy refuses `SystemTime::now` anywhere else in the workspace (`clippy.toml`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use canary_model::Timestamp;

/// Where the engine's time comes from.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
    /// An event available at `t` was taken (a replay clock moves to it; the wall clock
    /// does not).
    fn observe(&self, _t: Timestamp) {}
}

/// The wall clock, to the millisecond (0 before 1970, which no machine shows).
#[must_use]
#[expect(clippy::disallowed_methods)] // the one reading allowed
pub fn wall_now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_millis(ms)
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> Timestamp {
        wall_now()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_clock_follows_what_it_observed_and_never_goes_back() {
        let c = ReplayClock::starting(Timestamp::from_millis(10));
        c.observe(Timestamp::from_millis(30));
        c.observe(Timestamp::from_millis(20));
        assert_eq!(c.now(), Timestamp::from_millis(30));
        // The wall clock is past the day this was written.
        assert!(WallClock.now() > Timestamp::parse("2026-12-01T00:00:00Z").unwrap());
    }
}
