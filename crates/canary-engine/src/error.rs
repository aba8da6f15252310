//! [`EngineError`]: why a report could not be made, in words that name the data and say what
//! would fix it. The errors speak of data, never of command-line flags: a caller (the CLI, the
//! server) adds how its own users supply what is missing.

use canary_model::{DanglingInput, Symbol, Timeframe, Timestamp};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] canary_store::StoreError),
    /// No bars of the timeframe, stored or buildable from a lower one, at the as-of time.
    #[error(
        "no {symbol} {timeframe} bars (nor lower-timeframe bars to build them from) available as of {asof}; stored series: {stored}"
    )]
    NoBars {
        symbol: Symbol,
        timeframe: Timeframe,
        asof: Timestamp,
        /// The stored series (`BTCUSDT 4h, …`), or a hint that there are none.
        stored: String,
    },
    /// A report needs a price and there is none.
    #[error("no {symbol} price as of {asof}: no daily close stored by then, and none given")]
    NoPrice { symbol: Symbol, asof: Timestamp },
    /// A report needs the network's hash rate and there is none.
    #[error("no network difficulty stored as of {asof}, and no hash rate or difficulty given")]
    NoNetwork { asof: Timestamp },
    /// A derivatives report needs a series that is not known at the time.
    #[error("no {what} known as of {asof}")]
    NoDerivatives { what: String, asof: Timestamp },
    /// A parameter outside its range.
    #[error("{name} = {value}: {reason}")]
    Param {
        name: &'static str,
        value: String,
        reason: String,
    },
    /// A file of company facts or entity labels that is not valid.
    #[error("{origin}: {message}")]
    File { origin: String, message: String },
    /// A company the facts file does not list.
    #[error("no company {ticker} in {origin}; known: {known}")]
    UnknownCompany {
        ticker: String,
        origin: String,
        known: String,
    },
    /// Nothing stored to report on (e.g. no entity outflows).
    #[error("{0}")]
    Empty(String),
    /// A derivation names a claim the report does not hold: a bug, never shown as a number.
    #[error("the report's claims do not resolve: {0}")]
    Claims(#[from] DanglingInput),
    #[error(transparent)]
    Resample(#[from] canary_analytics::resample::ResampleError),
    #[error(transparent)]
    Levels(#[from] canary_analytics::levels::LevelsError),
    #[error(transparent)]
    Indicator(#[from] canary_analytics::ta::TaError),
    #[error(transparent)]
    Spec(#[from] canary_analytics::ta::SpecError),
    #[error(transparent)]
    Search(#[from] canary_search::SearchError),
    /// An alert rule that does not parse (its message points at the column).
    #[error(transparent)]
    Rule(#[from] canary_alerts::rule::ParseError),
    /// A remote source failed (its address and what to do).
    #[error(transparent)]
    Source(#[from] canary_ingest::source::SourceError),
    /// A page or sentence template that cannot be used.
    #[error(transparent)]
    Render(#[from] crate::analysis::render::RenderError),
}

impl EngineError {
    /// A parameter outside its range (also the runtime's configuration and sources).
    #[expect(clippy::needless_pass_by_value)] // callers pass numbers and strings alike, by value
    pub fn param(name: &'static str, value: impl ToString, reason: &str) -> Self {
        EngineError::Param {
            name,
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }
}
