//! Canary's live runtime: events in, bars and alerts out, with the same computations as
//! `--asof`.
//!
//! The engine is three rooms with one-way dependencies: the compose layer (`canary-engine`:
//! the session, the context, reports, analysis, alert rule checks, write-side jobs, the
//! clock), delivery (`canary-delivery`: channels, retries, signatures, the SSRF guard, SMTP)
//! and this crate, which depends on both and is depended on by neither. The binary starts it
//! (`canary run`, `canary serve --run`, `canary demo --live`).
//!
//! Sources (an exchange stream, a bar file replayed, the simulator, the events stored by an
//! earlier run) publish [`Stamped`] events onto the bus; the engine owns the store. Per
//! symbol, a [`Processor`] turns trades and bars into closed bars of every configured
//! timeframe with streaming indicators (the same structs that `indicators --asof` runs in
//! batch). At each bar close the engine stores the events and bars taken so far, then checks
//! the stored alert rules as of that moment ([`canary_engine::alerting::check`], the path
//! `canary alerts check` takes) and wakes the delivery task, which sends from its own
//! connection (`canary_delivery::deliver`) so that a slow receiver never holds the engine.
//! Every event is stored with when Canary had it, so the run replays from the store exactly
//! ([`sources::parse_stored`]).
//!
//! # The map
//!
//! - `lib.rs`: this map; [`Event`] and [`Stamped`] (from `canary_model::event`) and the
//!   clocks re-exported.
//! - `candles.rs`: a bar of one timeframe built as data arrives, from trades or from closed
//!   bars of a lower timeframe; late input counted, never merged.
//! - `processor.rs`: one symbol's [`Processor`]: its timeframes with streaming RSI, resumed
//!   from the store, each base bar taken once; the open bars seen intrabar.
//! - `engine/`: the loop ([`Engine`], `mod.rs`: events in order, events and bars stored at
//!   each close, rules checked, the delivery task woken, what it reports as [`Output`]s and a
//!   [`Summary`]); the rules evaluated on every trade (`intrabar.rs`); venues cross-checked
//!   and notices about the sources (`health.rs`); each event's occurrence in its source's
//!   stream, so that a rerun stores nothing twice (`occurrences.rs`); derivatives levels
//!   sampled to one a minute and liquidations summed into 1-minute bars (`derivatives.rs`).
//! - `sources.rs`: the sources that need no network: bars of a file or the simulator as
//!   events, the events an earlier run stored, played by their own times at a speed.
//! - `runner.rs`: [`run`] a [`config::Config`]: replays (bar files, the simulator, recorded
//!   events) merged in availability order and played on a replay clock; or live sources
//!   (Binance and Coinbase spot; Binance USDⓈ-M and Bybit derivatives; from `canary_ingest`)
//!   and the scheduled jobs (news feeds polled,
//!   mempool data fetched: `canary_engine::news_poll`, `canary_engine::jobs`) on the session's
//!   clock until stopped.
//! - `config.rs`: `canary.toml` (markets, sources, schedules, alerts and system notices),
//!   checked field by field, every refusal naming the file and the field.
//!
//! # The bus seam
//!
//! `canary_ingest::bus::{Publish, Subscribe}`: the engine loop takes from a
//! [`Subscribe`](canary_ingest::bus::Subscribe) ([`Engine::run`]), and sources publish
//! through a [`Publish`](canary_ingest::bus::Publish). In one process they are a bounded
//! channel (`canary_ingest::bus::in_process`): a slow engine slows its sources down, and no
//! queue grows without bound. A NATS implementation goes behind those two traits; no source,
//! processor or engine loop changes.
//!
//! # Where time comes from
//!
//! From the [`Session`](canary_engine::Session)'s clock ([`canary_engine::clock`]): the
//! runtime never reads the wall clock itself (only how long since it last stored events is
//! timed, on a monotonic timer). Live, the session runs on the [`WallClock`], on which the
//! live sources stamp what they receive; a replay runs the session on a [`ReplayClock`] that
//! moves to the availability time of the latest event taken, so a replay at any speed does
//! what the live run did; a test gives its own.

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
