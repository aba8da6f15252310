//! Canary's compose layer: the one place that answers "what was known at T, as claims".
//!
//! The binary, a server and the alert engine all call these functions; none of them builds a
//! claim or reads a table itself.
//!
//! One of three rooms: this compose layer, delivery (`canary-delivery`, which it calls) and
//! the live runtime (`canary-runtime`), which depends on both; neither depends on the
//! runtime.
//!
//! - [`Session`] (`session.rs`): the store, the company facts and the clock of one command,
//!   server or runtime; it opens the store and gives a [`Context`] at a time (now on its
//!   clock by default).
//! - [`Context`] (`context.rs`): everything knowable at T from a store and a company-facts
//!   file, each [`Input`] with its source, kind and age, and a `stale` warning past its limit;
//!   the only way a report reaches data.
//! - [`Report`] (`report.rs`): a body, its [`canary_model::ClaimSet`] (checked to resolve),
//!   warnings and the simulated flag; [`Draft`] builds one.
//! - `reports/`: one function per capability — [`stats`], [`levels`], [`backtest_levels`],
//!   [`indicators`], [`network`], [`hashprice`], [`miners`], [`treasury`], [`flows`],
//!   [`news`] and [`stories`] (with [`news_dictionary`]), [`score`], [`score_history`] and
//!   [`backtest_scores`], [`watch`].
//! - [`alerting`]: stored alert rules checked at each bar close, notices delivered to public
//!   addresses only unless the process allows private ones (`alerting::guard`).
//! - [`tokens`]: the API tokens the operator issues (hashed, scoped, revocable) and the owner
//!   of rules (a token's, or the operator's).
//! - [`clock`]: the one reader of the wall clock, and the clocks the runtime runs on.
//! - [`analysis`]: the analysis composed from the reports, rendered as Markdown, HTML, JSON,
//!   every number grounded in a claim.
//! - [`facts`]: the company-facts file (`miners.toml`), each figure a dated history read as
//!   published by T; [`labels`]: entity label files for flows.
//! - [`news_poll`]: polling the stored feeds on their schedules, storing new items.
//! - [`jobs`]: the write side the command line and the server call, each job whole and
//!   returning a summary: candle files, simulated bars and bar files stored whole
//!   ([`store_bar_file`]), entity outflows fetched, network files and fetches (mempool,
//!   bitcoind), headline files and feeds; and the command line's async runner
//!   ([`jobs::block_on`]).
//! - [`resample_stored`]: higher-timeframe bars built from stored lower ones, stored.
//! - [`tuning`]: the fused watch-set kernel's path on this processor (overrides, calibration).
//! - [`EngineError`]: why a report could not be made, naming the data, never a CLI flag.

pub mod alerting;
pub mod analysis;
pub mod clock;
mod context;
mod error;
pub mod facts;
pub mod jobs;
pub mod labels;
pub mod news_poll;
mod report;
mod reports;
mod resample;
mod session;
#[cfg(test)]
mod test_data;
pub mod tokens;
pub mod tuning;

pub use context::{
    Context, FACT_STALE_QUARTERS, Input, MarketBars, NEWS_STALE_MS, STALE_INTERVALS, Series,
};
pub use error::EngineError;
pub use jobs::bars::store_bar_file;
pub use report::{Draft, Report, Warning, WarningKind};
pub use reports::alerts::{AlertBacktestBody, AlertBacktestParams, Firing, alerts_backtest};
pub use reports::backtest::{BacktestBody, BacktestLevelsParams, backtest_levels};
pub use reports::companies::{
    CompaniesBody, CompanyBody, FactRow, FigureRow, MinersParams, ScenarioRow, TreasuryParams,
    miners, treasury,
};
pub use reports::derivatives::{
    DerivativesBody, DerivativesParams, FundingRow, LiquidationRow, OpenInterestRow, Valued,
    derivatives, headline_series,
};
pub use reports::flows::{EntityFlows, FlowsBody, flows};
pub use reports::hashprice::{HashpriceBody, HashpriceParams, MachineRow, hashprice};
pub use reports::indicators::{
    IndicatorsBody, IndicatorsParams, indicator_columns, indicators, indicators_json,
    indicators_of, warmup,
};
pub use reports::levels::{LevelsBody, LevelsParams, levels};
pub use reports::liqmap::{
    LiqMapBody, LiqMapParams, LiqmapBacktestBody, impact_grid, liqmap_backtest, liquidation_map,
};
pub use reports::markets::{
    Basket, CoMoveRow, FearGreed, MarketsBody, MarketsParams, SessionPoint, TickerMove, markets,
};
pub use reports::network::{NetworkBody, NetworkParams, NetworkRow, network};
pub use reports::news::{
    NewsBody, NewsParams, NewsRow, SearchParams, StoriesBody, StoriesParams, StoryRow, news,
    news_dictionary, news_search, stories, sync_news_index,
};
/// The scenario's parts.
pub use reports::scenario as reports_scenario;
pub use reports::scenario::{ScenarioBody, ScenarioParams, scenario};
pub use reports::score::{
    BacktestScoresParams, ComponentRow, HistoryBody, HistoryRow, Probability, ScoreBacktestBody,
    ScoreBody, ScoreParams, TrackRecord, backtest_scores, score, score_history,
};
pub use reports::stats::{Missing, StatsBody, StatsParams, stats};
pub use reports::watch::{
    Fired, MomentumRow, TrapdoorRow, TriggerRow, WatchBody, WatchHistoryBody, WatchHistoryParams,
    WatchHistoryRow, WatchLevelRow, WatchParams, watch, watch_history,
};
pub use reports::{Price, price};
pub use resample::{Resampled, resample_stored};
pub use session::Session;
