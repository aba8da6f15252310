//! `scenario`: one price, every stress model at it, as of T — the liquidations a move there
//! would cross on the estimated map (and, for a fall, the cascade's range over assumed depth),
//! the miners whose cash margin is negative there, and the treasury companies whose holdings
//! would no longer cover their net debt. Each part comes from its own report
//! (`liquidation_map`, `miners`, `treasury`), so its claims and warnings come along; a part
//! that cannot be made says why.

use canary_model::{Claim, Method, Symbol};
use serde::Serialize;

use super::Price;
use super::companies::{CompaniesBody, MinersParams, TreasuryParams};
use super::derivatives::Valued;
use super::liqmap::{LiqMapBody, LiqMapParams};
use crate::facts::Kind;
use crate::{Context, Draft, EngineError, Report};

/// What to compute.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioParams {
    pub symbol: Symbol,
    /// The price, USD.
    pub price: f64,
}

/// The liquidations a move to the price would cross on the map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Liquidations {
    /// `long` for a fall, `short` for a rise.
    pub side: &'static str,
    pub crossed: Valued,
    /// A fall's cascade, lowest and highest final price over the assumed depths.
    pub cascade_low: Option<Valued>,
    pub cascade_high: Option<Valued>,
    /// The price the map is built to, and whether its data is old at T.
    pub map_price: f64,
    pub stale: bool,
}

/// A company at the price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompanyAt {
    pub ticker: String,
    /// Cash break-even (miners) or net debt-coverage price (treasury companies), USD.
    pub line: Option<Valued>,
    /// Cash margin at the price, percent (miners).
    pub margin: Option<Valued>,
    /// Below its line at the price: a miner burning cash, a treasury company uncovered.
    pub below: Option<bool>,
}

/// The scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioBody {
    pub price: Valued,
    pub liquidations: Option<Liquidations>,
    /// Why there are no liquidations, when there are none.
    pub liquidations_missing: Option<String>,
    pub miners: Vec<CompanyAt>,
    pub miners_below: usize,
    pub treasury: Vec<CompanyAt>,
    pub treasury_below: usize,
    pub missing: Vec<String>,
}

const USER_PRICE: Method = Method::USER_INPUT;

fn figure(c: &crate::CompanyBody, key: &str) -> Option<Valued> {
    let f = c.figures.iter().find(|f| f.key == key)?;
    Some(Valued {
        value: f.figure.value().filter(|v| v.is_finite())?,
        claim: f.claim.clone()?,
    })
}

fn companies(r: &CompaniesBody, kind: Kind, price: f64) -> Vec<CompanyAt> {
    r.companies
        .iter()
        .filter(|c| c.kind == kind)
        .map(|c| {
            let (line, margin) = match kind {
                Kind::Miner => (figure(c, "cash_break_even"), figure(c, "margin")),
                Kind::Treasury => (figure(c, "coverage_price_net"), None),
            };
            CompanyAt {
                ticker: c.ticker.clone(),
                below: line.as_ref().map(|l| price < l.value),
                line,
                margin,
            }
        })
        .collect()
}

/// Every stress model at `p.price`, as of T.
///
/// # Errors
/// A price that is not a positive number; a database error.
pub fn scenario(
    ctx: &Context<'_>,
    p: &ScenarioParams,
) -> Result<Report<ScenarioBody>, EngineError> {
    if !(p.price.is_finite() && p.price > 0.0 && p.price <= canary_model::MAX_PRICE) {
        return Err(EngineError::param(
            "price",
            p.price,
            "must be a positive price",
        ));
    }
    let mut draft = Draft::new(ctx.asof());
    let price = Valued {
        value: p.price,
        claim: draft.add(Claim::derived(
            "scenario price",
            p.price,
            "USD",
            ctx.asof(),
            USER_PRICE.of(&[]).param("input", "price"),
        )),
    };
    let mut missing = Vec::new();
    let (liquidations, liquidations_missing) = match super::liqmap::liquidation_map(
        ctx,
        &LiqMapParams {
            symbol: p.symbol.clone(),
            map: canary_analytics::liqmap::MapParams::reference(),
            shocks: Vec::new(),
            targets: vec![p.price],
            band_pct: 1,
        },
    ) {
        Ok(r) => {
            take(&mut draft, &r);
            let found = crossed(&r.body);
            let why = found.is_none().then(|| {
                format!(
                    "the price is the one the map is built to ({:.2}): no move, nothing crossed",
                    r.body.price.value
                )
            });
            (found, why)
        }
        Err(e @ (EngineError::NoDerivatives { .. } | EngineError::NoBars { .. })) => {
            (None, Some(e.to_string()))
        }
        Err(e) => return Err(e),
    };
    let at = Price::Given(p.price);
    let miners = match super::companies::miners(
        ctx,
        &MinersParams {
            price: at,
            symbol: p.symbol.clone(),
            scenarios: Vec::new(),
        },
    ) {
        Ok(r) => {
            take(&mut draft, &r);
            companies(&r.body, Kind::Miner, p.price)
        }
        Err(e) => {
            missing.push(format!("miners: {e}"));
            Vec::new()
        }
    };
    let treasury = match super::companies::treasury(
        ctx,
        &TreasuryParams {
            company: None,
            price: at,
            symbol: p.symbol.clone(),
            scenarios: Vec::new(),
        },
    ) {
        Ok(r) => {
            take(&mut draft, &r);
            companies(&r.body, Kind::Treasury, p.price)
        }
        Err(e) => {
            missing.push(format!("treasury companies: {e}"));
            Vec::new()
        }
    };
    let below = |v: &[CompanyAt]| v.iter().filter(|c| c.below == Some(true)).count();
    draft.finish(ScenarioBody {
        price,
        liquidations,
        liquidations_missing,
        miners_below: below(&miners),
        miners,
        treasury_below: below(&treasury),
        treasury,
        missing,
    })
}

/// A report's claims and warnings into the scenario's draft.
fn take<B>(draft: &mut Draft, r: &Report<B>) {
    draft.claims.extend(r.claims.clone());
    for w in &r.warnings {
        draft.warn(w.clone());
    }
    if r.simulated {
        draft.mark_simulated();
    }
}

fn crossed(m: &LiqMapBody) -> Option<Liquidations> {
    if let Some(s) = m.scenarios.first() {
        return Some(Liquidations {
            side: "long",
            crossed: s.crossed_by_shock.clone(),
            cascade_low: Some(s.final_price_low.clone()),
            cascade_high: Some(s.final_price_high.clone()),
            map_price: m.price.value,
            stale: m.stale,
        });
    }
    m.rises.first().map(|r| Liquidations {
        side: "short",
        crossed: r.crossed.clone(),
        cascade_low: None,
        cascade_high: None,
        map_price: m.price.value,
        stale: m.stale,
    })
}
