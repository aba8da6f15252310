//! US market readings for alert rules (`equity_move(MARA)`, `basket_move()`,
//! `correlation(NDX, 30)`), each at every close as it was known then: the closes replayed
//! from their stored versions (a revision counts from when it was stored), a value absent once
//! three more sessions have closed without a new close.

use canary_alerts::rule::{MarketMetric, MarketTerm};
use canary_analytics::markets::{aligned_log_returns, co_move};
use canary_model::markets::{Field, Market, MarketSeries, Ticker};
use canary_model::{Symbol, Timestamp};

use super::alerts::Replay;
use super::markets::{MarketsParams, btc_at_closes, miner_tickers};
use crate::{Context, Draft, EngineError};

/// Sessions after which a series with no new close gives no value.
const STALE_SESSIONS: u32 = 3;

/// A ticker's closes, replayed.
fn closes_of(
    ctx: &Context<'_>,
    ticker: &str,
    draft: &mut Draft,
) -> Result<Replay<MarketSeries>, EngineError> {
    let t: Ticker = ticker
        .parse()
        .map_err(|e: canary_model::markets::MarketError| {
            EngineError::param("rule", ticker, &e.to_string())
        })?;
    let series = MarketSeries::us(&t, Field::Close);
    let versions = ctx.market_versions(&series)?;
    let Some(input) = ctx.markets_since(&series, Timestamp::from_millis(0))? else {
        return Err(EngineError::Empty(format!(
            "no closes of {t} known as of {}: see canary markets import",
            ctx.asof()
        )));
    };
    draft.uses(&input);
    Ok(Replay::new(series, versions))
}

/// The last session's move of closes known at `t`, in percent, with its day; `None` when
/// there are fewer than two or the last is stale at `t`.
fn last_move(known: &[(Timestamp, f64)], t: Timestamp) -> Option<(Timestamp, f64)> {
    let n = known.len();
    if n < 2 {
        return None;
    }
    let (day, close) = known[n - 1];
    let stale_from = Market::Us
        .available_at(Market::Us.days_after(day, STALE_SESSIONS))
        .ok()?;
    (t < stale_from).then(|| (day, (close / known[n - 2].1 - 1.0) * 100.0))
}

/// A market reading at each close of `closes` (NaN where it has no value then).
pub(crate) fn market_values(
    ctx: &Context<'_>,
    term: &MarketTerm,
    symbol: &Symbol,
    closes: &[Timestamp],
    draft: &mut Draft,
) -> Result<Vec<f64>, EngineError> {
    match term.metric {
        MarketMetric::EquityMove => {
            let mut r = closes_of(ctx, term.ticker.as_deref().unwrap_or(""), draft)?;
            Ok(closes
                .iter()
                .map(|&t| {
                    r.advance(t);
                    last_move(&r.known, t).map_or(f64::NAN, |m| m.1)
                })
                .collect())
        }
        MarketMetric::BasketMove => {
            let p = MarketsParams {
                symbol: symbol.clone(),
                miners: None,
            };
            let mut members = Vec::new();
            for t in miner_tickers(ctx, &p) {
                if let Ok(r) = closes_of(ctx, t.as_str(), draft) {
                    members.push(r);
                }
            }
            if members.is_empty() {
                return Err(EngineError::Empty(
                    "no prices of the facts file's miners known: see canary markets import".into(),
                ));
            }
            Ok(closes
                .iter()
                .map(|&t| {
                    let moves: Vec<(Timestamp, f64)> = members
                        .iter_mut()
                        .filter_map(|r| {
                            r.advance(t);
                            last_move(&r.known, t)
                        })
                        .collect();
                    let Some(session) = moves.iter().map(|m| m.0).max() else {
                        return f64::NAN;
                    };
                    let today: Vec<f64> = moves
                        .iter()
                        .filter(|m| m.0 == session)
                        .map(|m| m.1)
                        .collect();
                    today.iter().sum::<f64>() / today.len() as f64
                })
                .collect())
        }
        MarketMetric::Correlation => {
            let window = term.sessions.unwrap_or(30);
            let mut r = closes_of(ctx, term.ticker.as_deref().unwrap_or(""), draft)?;
            let all_days: Vec<Timestamp> = ctx
                .markets_since(&r.series, Timestamp::from_millis(0))?
                .map(|i| i.value.iter().map(|x| x.0).collect())
                .unwrap_or_default();
            let Some((btc, bars)) = btc_at_closes(ctx, symbol, &all_days)? else {
                return Err(EngineError::Empty(format!(
                    "no 1h or 4h bars of {symbol} to price it at the US closes"
                )));
            };
            draft.uses(&bars);
            let btc: Vec<(Timestamp, f64)> = btc.iter().map(|&(d, p, _)| (d, p)).collect();
            Ok(closes
                .iter()
                .map(|&t| {
                    r.advance(t);
                    if last_move(&r.known, t).is_none() {
                        return f64::NAN;
                    }
                    // The window's days and a margin for days BTC lacks.
                    let from = r.known.len().saturating_sub(window + 10);
                    let ticker = &r.known[from..];
                    let first = ticker[0].0;
                    let start = btc.partition_point(|x| x.0 < first);
                    let returns = aligned_log_returns(&btc[start..], ticker);
                    co_move(&returns, window).map_or(f64::NAN, |c| c.correlation)
                })
                .collect())
        }
    }
}
