//! The live engine: events in, bars and alerts out, with the same computations as `--asof`.
//!
//! Sources (an exchange stream, a bar file replayed, the simulator, the events stored by an
//! earlier run) send [`Stamped`] events into one bounded channel: a slow engine slows its
//! sources down, and no queue grows without bound. The engine owns the store. Per symbol, a
//! [`Processor`] turns trades and bars into closed bars of every configured timeframe with
//! streaming indicators (the same structs that `indicators --asof` runs in batch). At each
//! bar close the engine stores the events and bars taken so far, then checks the stored alert
//! rules as of that moment ([`canary_engine::alerting::check`], the path `canary alerts
//! check` takes) and wakes the delivery task, which sends from its own connection so that a
//! slow receiver never holds the engine. Every event is stored with when Canary had it, so
//! the run replays from the store exactly ([`sources::stored_events`]).
//!
//! Time comes from a [`Clock`] (`canary_engine::clock`): the wall clock live, or, in a
//! replay, the availability time of the latest event, so a replay at any speed does what the
//! live run did.

pub mod candles;
pub mod config;
pub mod engine;
pub mod processor;
pub mod runner;
pub mod sources;

pub use canary_engine::clock::{Clock, ReplayClock, WallClock};
pub use canary_model::event::{Event, Stamped};

pub use engine::{AlertSettings, Engine, EngineSettings, Market, Output, Summary};
pub use processor::{Closed, Processor};
pub use runner::run;
