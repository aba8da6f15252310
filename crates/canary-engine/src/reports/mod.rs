//! One function per capability, each taking a [`Context`] and returning a [`crate::Report`].
//! Shared here: the price a report evaluates at.

pub mod alerts;
pub mod backtest;
pub mod companies;
pub mod derivatives;
pub mod flows;
pub mod hashprice;
pub mod indicators;
pub mod levels;
pub mod liqmap;
pub mod markets;
pub mod network;
pub mod news;
mod rule_markets;
pub mod scenario;
pub mod score;
pub mod stats;
pub mod watch;

use canary_model::{Claim, ClaimId, Method, Symbol, Timeframe};

use crate::{Context, Draft, EngineError};

/// A price the caller gives, or the one the store knows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Price {
    /// Given by the user (USD): cited as a user input.
    Given(f64),
    /// The close of the latest daily bar available at T.
    Stored,
}

impl From<Option<f64>> for Price {
    fn from(p: Option<f64>) -> Self {
        p.map_or(Price::Stored, Price::Given)
    }
}

/// The price to evaluate at, as a claim in `draft`: the given one, else the close of the
/// latest daily bar of `symbol` available at T (stored, or built from lower-timeframe bars);
/// `None` when there is none.
///
/// # Errors
/// A given price that is not a positive number; a database error.
pub fn price(
    ctx: &Context<'_>,
    draft: &mut Draft,
    price: Price,
    symbol: &Symbol,
) -> Result<Option<(f64, ClaimId)>, EngineError> {
    match price {
        Price::Given(p) => {
            if !(p.is_finite() && p > 0.0) {
                return Err(EngineError::param("price", p, "must be a positive number"));
            }
            let c = Claim::derived(
                "BTC price",
                p,
                "USD",
                ctx.asof(),
                Method::USER_INPUT.of(&[]).param("input", "price"),
            );
            Ok(Some((p, draft.add(c))))
        }
        Price::Stored => match ctx.bars(symbol, Timeframe::D1) {
            Ok(bars) => {
                draft.uses(&bars);
                let b = bars.bars();
                let i = b.candles.len() - 1;
                let close = b.candles[i].close;
                let c = b.claim(
                    format!("{symbol} daily close"),
                    "close",
                    i,
                    close,
                    "USD",
                    ctx.asof(),
                );
                Ok(Some((close, draft.add(c))))
            }
            Err(EngineError::NoBars { .. }) => Ok(None),
            Err(e) => Err(e),
        },
    }
}

/// A user input as a claim: a value given to the report, named by `input`.
pub(crate) fn given(
    draft: &mut Draft,
    label: &str,
    value: f64,
    unit: &str,
    input: &str,
) -> ClaimId {
    let c = Claim::derived(
        label,
        value,
        unit,
        draft.as_of,
        Method::USER_INPUT.of(&[]).param("input", input),
    );
    draft.add(c)
}
