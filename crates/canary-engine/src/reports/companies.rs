//! `miners` and `treasury`: the companies of the facts file under price scenarios — cost per
//! BTC, cash break-even, margin, debt coverage, runway, forced selling
//! (`canary_analytics::treasury`). Every figure derives from the company's figures *as
//! published by T*, each cited with its source and publication date; a figure whose inputs
//! are missing names them instead of a value.

use canary_analytics::mining::protocol::{SUBSIDY_SCHEDULE, estimated_height, subsidy_btc};
use canary_analytics::ta::SMA;
use canary_analytics::treasury::{
    Basis, CASH_BREAK_EVEN, CASH_BREAK_EVEN_ESTIMATE, COVERAGE_PRICE_GROSS, COVERAGE_PRICE_NET,
    COVERAGE_RATIO, FORCED_SELLING, Fallbacks, Figure, INDUSTRY_UPTIME, MARGIN, NetworkState,
    POWER_COST_PER_BTC, RUNWAY, SCENARIO, SELL_RATIO, margin,
};
use canary_model::network::NetworkSeries;
use canary_model::{Claim, ClaimId, Method, Symbol, Timestamp};
use serde::Serialize;
use serde::ser::SerializeMap;

use super::Price;
use crate::facts::{CompanyAsOf, FactKey, Kind, Published};
use crate::{Context, Draft, EngineError, Report};

/// The haircut on BTC counted as liquidity in the runway (`MODELS.md` §2.3).
pub const RUNWAY_HAIRCUT: f64 = 0.10;

/// What `miners` computes.
#[derive(Debug, Clone, PartialEq)]
pub struct MinersParams {
    pub price: Price,
    pub symbol: Symbol,
    /// Scenario prices besides spot, −10 % and −20 %.
    pub scenarios: Vec<f64>,
}

/// What `treasury` computes.
#[derive(Debug, Clone, PartialEq)]
pub struct TreasuryParams {
    pub price: Price,
    pub symbol: Symbol,
    /// One ticker; every company holding BTC at T when `None`.
    pub company: Option<String>,
    /// Scenario prices besides spot, −10 %, −20 % and the company's net coverage price.
    pub scenarios: Vec<f64>,
}

/// A computed figure: its value and claim, or the inputs it lacks.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureRow {
    pub key: &'static str,
    pub label: String,
    pub unit: &'static str,
    pub figure: Figure,
    pub claim: Option<ClaimId>,
}

impl Serialize for FigureRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match &self.figure {
            Figure::Value(v) if v.is_finite() => {
                m.serialize_entry("value", v)?;
                m.serialize_entry("claim", &self.claim)?;
            }
            Figure::Value(_) => {
                m.serialize_entry("value", &None::<f64>)?;
                m.serialize_entry("self_funding", &true)?;
                m.serialize_entry("claim", &self.claim)?;
            }
            Figure::Missing(missing) => {
                m.serialize_entry("value", &None::<f64>)?;
                m.serialize_entry("missing", missing)?;
            }
        }
        m.end()
    }
}

/// The figures at one scenario price.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioRow {
    pub price: f64,
    pub figures: Vec<FigureRow>,
}

impl ScenarioRow {
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&FigureRow> {
        self.figures.iter().find(|f| f.key == key)
    }
}

impl Serialize for ScenarioRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("price", &self.price)?;
        for f in &self.figures {
            m.serialize_entry(f.key, f)?;
        }
        m.end()
    }
}

/// A company figure in use at T, with its citation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactRow {
    pub key: String,
    pub value: f64,
    pub unit: String,
    pub period_end: Timestamp,
    pub published_at: Timestamp,
    /// The publication date is unknown and taken as a filing lag after the period end.
    pub published_assumed: bool,
    pub source: String,
    pub claim: ClaimId,
}

/// A debt instrument in use at T.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DebtRow {
    pub name: String,
    pub principal_usd: f64,
    pub coupon_pct: Option<f64>,
    pub maturity: Option<String>,
    pub conversion_price_usd: Option<f64>,
    pub period_end: Timestamp,
    pub published_at: Timestamp,
    pub source: String,
    pub claim: ClaimId,
}

/// One company.
#[derive(Debug, Clone, PartialEq)]
pub struct CompanyBody {
    pub ticker: String,
    pub name: String,
    pub kind: Kind,
    pub facts: Vec<FactRow>,
    pub debt: Vec<DebtRow>,
    pub figures: Vec<FigureRow>,
    pub scenarios: Vec<ScenarioRow>,
}

impl CompanyBody {
    #[must_use]
    pub fn figure(&self, key: &str) -> Option<&FigureRow> {
        self.figures.iter().find(|f| f.key == key)
    }
}

impl Serialize for CompanyBody {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("ticker", &self.ticker)?;
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("kind", &self.kind)?;
        m.serialize_entry("facts", &self.facts)?;
        m.serialize_entry("debt", &self.debt)?;
        for f in &self.figures {
            m.serialize_entry(f.key, f)?;
        }
        m.serialize_entry("scenarios", &self.scenarios)?;
        m.end()
    }
}

/// The companies evaluated at a price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompaniesBody {
    pub price: f64,
    pub price_claim: ClaimId,
    /// Where the company figures came from (`miners.toml`).
    pub profiles: String,
    pub companies: Vec<CompanyBody>,
}

/// The network a miner's production is estimated against: the mean hash rate of the last
/// seven days and the scheduled subsidy, as claims. `None` without a stored hash rate.
fn network_state(
    ctx: &Context<'_>,
    draft: &mut Draft,
) -> Result<Option<(NetworkState, Vec<ClaimId>)>, EngineError> {
    let Some(input) = ctx.network(NetworkSeries::HashrateHs, None)? else {
        return Ok(None);
    };
    if input.value.len() < 7 {
        return Ok(None);
    }
    draft.uses(&input);
    let asof = ctx.asof();
    let &(t, v) = input.value.last().expect("seven values");
    let last = draft.add(Claim::data(
        "network hash rate (daily)",
        v,
        "H/s",
        asof,
        &input.series,
        &input.source,
        t,
    ));
    let week = &input.value[input.value.len() - 7..];
    let mean = week.iter().map(|x| x.1).sum::<f64>() / 7.0;
    let mean_id = draft.add(Claim::derived(
        "network hash rate, mean of the last 7 days",
        mean,
        "H/s",
        asof,
        SMA.of(&[&last]).param("n", 7),
    ));
    let height = estimated_height(asof);
    let reward = subsidy_btc(height);
    let reward_id = draft.add(Claim::derived(
        "block subsidy (schedule at the height estimated from the time)",
        reward,
        "BTC",
        asof,
        SUBSIDY_SCHEDULE.of(&[]).param("estimated_height", height),
    ));
    Ok(Some((
        NetworkState {
            hashrate_ths: mean / 1e12,
            reward_btc: reward,
        },
        vec![mean_id, reward_id],
    )))
}

fn pct(f: Figure) -> Figure {
    match f {
        Figure::Value(v) => Figure::Value(v * 100.0),
        m @ Figure::Missing(_) => m,
    }
}

/// Spot, −10 %, −20 % and the extra prices, highest first, each once.
fn scenario_prices(spot: f64, extra: &[f64]) -> Vec<f64> {
    let mut v = vec![spot, (spot * 0.9).round(), (spot * 0.8).round()];
    v.extend_from_slice(extra);
    v.sort_by(|a, b| b.total_cmp(a));
    v.dedup();
    v
}

/// The company's figures at T as data claims, and their rows.
fn cite(c: &CompanyAsOf, draft: &mut Draft) -> (Vec<FactRow>, Vec<DebtRow>, Vec<ClaimId>) {
    let asof = draft.as_of;
    let mut ids = Vec::new();
    let facts = c
        .facts
        .iter()
        .map(|(k, f)| {
            let claim = draft.add(c.fact_claim(*k, f, asof));
            ids.push(claim.clone());
            FactRow {
                key: k.name().to_string(),
                value: f.value,
                unit: k.unit().to_string(),
                period_end: f.period_end,
                published_at: f.published.at(),
                published_assumed: matches!(f.published, Published::Assumed { .. }),
                source: f.source.clone(),
                claim,
            }
        })
        .collect();
    let debt = c
        .debt
        .iter()
        .map(|d| {
            let claim = draft.add(c.debt_claim(d, asof));
            ids.push(claim.clone());
            DebtRow {
                name: d.name.clone(),
                principal_usd: d.principal_usd,
                coupon_pct: d.coupon_pct,
                maturity: d.maturity.clone(),
                conversion_price_usd: d.conversion_price_usd,
                period_end: d.period_end,
                published_at: d.published.at(),
                source: d.source.clone(),
                claim,
            }
        })
        .collect();
    (facts, debt, ids)
}

/// A claim for a computed figure (none when it is missing or infinite).
fn figure(
    draft: &mut Draft,
    key: &'static str,
    label: String,
    unit: &'static str,
    f: Figure,
    method: Method,
    inputs: &[ClaimId],
) -> FigureRow {
    let claim = f.value().filter(|v| v.is_finite()).map(|v| {
        let refs: Vec<&ClaimId> = inputs.iter().collect();
        let c = Claim::derived(label.clone(), v, unit, draft.as_of, method.of(&refs));
        draft.add(c)
    });
    FigureRow {
        key,
        label,
        unit,
        figure: f,
        claim,
    }
}

/// Everything about one company at a price and its scenarios.
fn evaluate(
    c: &CompanyAsOf,
    draft: &mut Draft,
    price: (f64, &ClaimId),
    scenarios: &[f64],
    net: Option<&(NetworkState, Vec<ClaimId>)>,
    fb: &(Fallbacks, Vec<ClaimId>),
) -> CompanyBody {
    let (facts, debt, fact_ids) = cite(c, draft);
    let inputs = FigureInputs::new(c, fact_ids, net, price.1);
    let state = net.map(|n| &n.0);
    let mut figures = figures_at_price(c, draft, price.0, state, &inputs);
    if c.kind == Kind::Miner {
        figures.push(estimate(c, draft, state, &inputs, fb));
    }
    let scenarios = scenario_rows(c, draft, scenarios, price.1, state, &inputs.with_net);
    CompanyBody {
        ticker: c.ticker.clone(),
        name: c.name.clone(),
        kind: c.kind,
        facts,
        debt,
        figures,
        scenarios,
    }
}

/// A miner's cash break-even estimated from what it reports, with the fallbacks used and
/// the cost lines left out in the claim's label and parameters.
fn estimate(
    c: &CompanyAsOf,
    draft: &mut Draft,
    state: Option<&NetworkState>,
    inputs: &FigureInputs,
    fb: &(Fallbacks, Vec<ClaimId>),
) -> FigureRow {
    let ticker = &c.ticker;
    match c.company().cash_break_even_estimate(state, &fb.0) {
        Ok(e) => {
            let mut parts = vec![format!("{ticker} cash break-even (estimate")];
            parts.extend(e.fallbacks.iter().map(|f| (*f).to_string()));
            if !e.left_out.is_empty() {
                parts.push(format!("a floor: {} not reported", e.left_out.join(", ")));
            }
            let label = format!("{})", parts.join("; "));
            let mut ids: Vec<&ClaimId> = inputs.with_net.iter().collect();
            ids.extend(fb.1.iter());
            let claim = draft.add(Claim::derived(
                label.clone(),
                e.value,
                "USD/BTC",
                draft.as_of,
                CASH_BREAK_EVEN_ESTIMATE
                    .of(&ids)
                    .param("fallbacks", e.fallbacks.join("; "))
                    .param("left_out", e.left_out.join(", ")),
            ));
            FigureRow {
                key: "cash_break_even_estimate",
                label,
                unit: "USD/BTC",
                figure: Figure::Value(e.value),
                claim: Some(claim),
            }
        }
        Err(missing) => FigureRow {
            key: "cash_break_even_estimate",
            label: format!("{ticker} cash break-even (estimate)"),
            unit: "USD/BTC",
            figure: Figure::Missing(missing),
            claim: None,
        },
    }
}

/// The median of a figure over the miners reporting it at T, as a claim (its inputs the
/// figures), pushed to `ids`; `None` when none does.
fn peer_median(
    ctx: &Context<'_>,
    draft: &mut Draft,
    profiles: &crate::facts::Profiles,
    key: FactKey,
    ids: &mut Vec<ClaimId>,
) -> Option<f64> {
    let asof = ctx.asof();
    let mut values = Vec::new();
    let mut inputs = Vec::new();
    for t in profiles.companies.keys() {
        let Some(input) = ctx.facts(t) else { continue };
        let c = &input.value;
        if c.kind != Kind::Miner {
            continue;
        }
        if let Some(f) = c.fact(key) {
            values.push(f.value);
            inputs.push(draft.add(c.fact_claim(key, f, asof)));
        }
    }
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        f64::midpoint(values[n / 2 - 1], values[n / 2])
    };
    let refs: Vec<&ClaimId> = inputs.iter().collect();
    ids.push(draft.add(Claim::derived(
        format!("median {} of the miners reporting one", key.name()),
        median,
        key.unit(),
        asof,
        Method::new("median", 1).of(&refs).param("n", n),
    )));
    Some(median)
}

/// What a miner's estimate falls back on, as claims: the median efficiency and power price
/// of the miners reporting them (the network fleet's efficiency, its latest estimate known at
/// T, when no miner reports one), and the industry uptime, assumed.
fn fallbacks(
    ctx: &Context<'_>,
    draft: &mut Draft,
    profiles: &crate::facts::Profiles,
) -> Result<(Fallbacks, Vec<ClaimId>), EngineError> {
    let asof = ctx.asof();
    let mut ids = Vec::new();
    let power = peer_median(ctx, draft, profiles, FactKey::PowerUsdPerMwh, &mut ids);
    let efficiency = match peer_median(ctx, draft, profiles, FactKey::EfficiencyJPerTh, &mut ids) {
        Some(e) => Some(e),
        None => match ctx.network(NetworkSeries::FleetEfficiencyEstimate, None)? {
            Some(input) => {
                draft.uses(&input);
                let &(t, v) = input.value.last().expect("a stored series is not empty");
                ids.push(draft.add(Claim::data(
                    "network fleet efficiency (estimate)",
                    v,
                    "J/TH",
                    asof,
                    &input.series,
                    &input.source,
                    t,
                )));
                Some(v)
            }
            None => None,
        },
    };
    ids.push(
        draft.add(Claim::derived(
            "industry uptime (assumed where a miner reports none)",
            INDUSTRY_UPTIME,
            "fraction",
            asof,
            Method::ASSUMPTION
                .of(&[])
                .param("source", "MODELS.md §1.4 worked example"),
        )),
    );
    Ok((
        Fallbacks {
            efficiency_j_per_th: efficiency,
            power_usd_per_mwh: power,
            uptime: INDUSTRY_UPTIME,
        },
        ids,
    ))
}

/// The claims a company's figures derive from.
#[derive(Debug, Clone, PartialEq)]
struct FigureInputs {
    /// Its figures at T: what the coverage prices read.
    facts: Vec<ClaimId>,
    /// With the network's (a miner's production figures read the network too).
    with_net: Vec<ClaimId>,
    /// With the price too: the figures at the price.
    with_price: Vec<ClaimId>,
}

impl FigureInputs {
    fn new(
        c: &CompanyAsOf,
        facts: Vec<ClaimId>,
        net: Option<&(NetworkState, Vec<ClaimId>)>,
        price_id: &ClaimId,
    ) -> FigureInputs {
        let mut with_net = facts.clone();
        if c.kind == Kind::Miner
            && let Some((_, ids)) = net
        {
            with_net.extend(ids.iter().cloned());
        }
        let mut with_price = with_net.clone();
        with_price.push(price_id.clone());
        FigureInputs {
            facts,
            with_net,
            with_price,
        }
    }
}

/// The figures at the price: a miner's costs, break-even, margin, runway and forced
/// selling, and every company's debt-coverage prices.
fn figures_at_price(
    c: &CompanyAsOf,
    draft: &mut Draft,
    price: f64,
    state: Option<&NetworkState>,
    inputs: &FigureInputs,
) -> Vec<FigureRow> {
    let ticker = &c.ticker;
    let co = c.company();
    let miner = c.kind == Kind::Miner;
    let basis = |b: Basis| {
        if b == Basis::Reported {
            "reported"
        } else {
            "computed"
        }
    };
    let (power, pb) = co.power_cost_per_btc(state);
    let (cash_be, cb) = co.cash_break_even(state);
    let (sell, ratio) = co.forced_selling(price, state);
    let all = [
        (
            "power_cost_per_btc",
            format!("{ticker} power cost per BTC ({})", basis(pb)),
            power,
            "USD/BTC",
            POWER_COST_PER_BTC,
            false,
        ),
        (
            "cash_break_even",
            format!("{ticker} cash break-even ({})", basis(cb)),
            cash_be.clone(),
            "USD/BTC",
            CASH_BREAK_EVEN,
            false,
        ),
        (
            "margin",
            format!("{ticker} cash margin at {price}"),
            pct(margin(&cash_be, price)),
            "%",
            MARGIN,
            true,
        ),
        (
            "coverage_price_gross",
            format!("{ticker} debt-coverage price, gross"),
            co.coverage_price_gross(),
            "USD/BTC",
            COVERAGE_PRICE_GROSS,
            false,
        ),
        (
            "coverage_price_net",
            format!("{ticker} debt-coverage price, net of cash"),
            co.coverage_price_net(),
            "USD/BTC",
            COVERAGE_PRICE_NET,
            false,
        ),
        (
            "runway_months",
            format!("{ticker} liquidity runway at {price} (10% haircut)"),
            co.runway_months(price, RUNWAY_HAIRCUT, state),
            "months",
            RUNWAY,
            true,
        ),
        (
            "forced_selling_btc_per_month",
            format!("{ticker} BTC to sell per month at {price}"),
            sell,
            "BTC/month",
            FORCED_SELLING,
            true,
        ),
        (
            "sell_ratio",
            format!("{ticker} BTC sold / mined at {price}"),
            ratio,
            "ratio",
            SELL_RATIO,
            true,
        ),
    ];
    let mut figures = Vec::new();
    for (key, label, f, unit, method, uses_price) in all {
        let coverage = key.starts_with("coverage");
        if !miner && !coverage {
            continue; // production and cost figures do not apply to a treasury company
        }
        let inputs = match (uses_price, coverage) {
            (true, _) => &inputs.with_price,
            (false, true) => &inputs.facts,
            (false, false) => &inputs.with_net,
        };
        figures.push(figure(draft, key, label, unit, f, method, inputs));
    }
    figures
}

/// The figures at each scenario price (a claim derived from the price's): a miner's margin,
/// runway and forced selling, and every company's debt-coverage ratio.
fn scenario_rows(
    c: &CompanyAsOf,
    draft: &mut Draft,
    scenarios: &[f64],
    price_id: &ClaimId,
    state: Option<&NetworkState>,
    with_net: &[ClaimId],
) -> Vec<ScenarioRow> {
    let ticker = &c.ticker;
    let co = c.company();
    let miner = c.kind == Kind::Miner;
    let (cash_be, _) = co.cash_break_even(state);
    scenarios
        .iter()
        .map(|&sp| {
            let sid = draft.add(Claim::derived(
                "scenario price",
                sp,
                "USD",
                draft.as_of,
                SCENARIO.of(&[price_id]),
            ));
            let mut ins = with_net.to_vec();
            ins.push(sid);
            let vals = [
                ("margin", pct(margin(&cash_be, sp)), "%", MARGIN),
                ("coverage_ratio", co.coverage_ratio(sp), "×", COVERAGE_RATIO),
                (
                    "runway_months",
                    co.runway_months(sp, RUNWAY_HAIRCUT, state),
                    "months",
                    RUNWAY,
                ),
                (
                    "forced_selling_btc_per_month",
                    co.forced_selling(sp, state).0,
                    "BTC/month",
                    FORCED_SELLING,
                ),
            ];
            let figures = vals
                .into_iter()
                .filter(|(k, ..)| miner || *k == "coverage_ratio")
                .map(|(k, f, unit, method)| {
                    figure(
                        draft,
                        k,
                        format!("{ticker} {k} at {sp}"),
                        unit,
                        f,
                        method,
                        &ins,
                    )
                })
                .collect();
            ScenarioRow { price: sp, figures }
        })
        .collect()
}

fn profiles<'a>(ctx: &Context<'a>) -> Result<&'a crate::facts::Profiles, EngineError> {
    ctx.profiles().ok_or_else(|| {
        EngineError::Empty(
            "no company facts given to the context (a facts file such as miners.toml)".into(),
        )
    })
}

fn spot(
    ctx: &Context<'_>,
    draft: &mut Draft,
    price: Price,
    symbol: &Symbol,
) -> Result<(f64, ClaimId), EngineError> {
    super::price(ctx, draft, price, symbol)?.ok_or_else(|| EngineError::NoPrice {
        symbol: symbol.clone(),
        asof: ctx.asof(),
    })
}

/// Every company of the facts file at the price and its scenarios.
///
/// # Errors
/// No facts file in the context, no price; a database error.
pub fn miners(ctx: &Context<'_>, p: &MinersParams) -> Result<Report<CompaniesBody>, EngineError> {
    let profiles = profiles(ctx)?;
    let mut draft = Draft::new(ctx.asof());
    let (px, px_id) = spot(ctx, &mut draft, p.price, &p.symbol)?;
    let net = network_state(ctx, &mut draft)?;
    let fb = fallbacks(ctx, &mut draft, profiles)?;
    let scen = scenario_prices(px, &p.scenarios);
    let mut companies = Vec::new();
    for ticker in profiles.companies.keys() {
        let Some(input) = ctx.facts(ticker) else {
            continue;
        };
        draft.uses(&input);
        companies.push(evaluate(
            &input.value,
            &mut draft,
            (px, &px_id),
            &scen,
            net.as_ref(),
            &fb,
        ));
    }
    draft.finish(CompaniesBody {
        price: px,
        price_claim: px_id,
        profiles: profiles.origin.clone(),
        companies,
    })
}

/// The treasury view: one company, or every company holding BTC at T, each with its net
/// coverage price among the scenarios.
///
/// # Errors
/// An unknown company, no facts file in the context, no price; a database error.
pub fn treasury(
    ctx: &Context<'_>,
    p: &TreasuryParams,
) -> Result<Report<CompaniesBody>, EngineError> {
    let profiles = profiles(ctx)?;
    let tickers: Vec<String> = match &p.company {
        Some(t) => {
            let t = t.to_ascii_uppercase();
            if !profiles.companies.contains_key(&t) {
                return Err(EngineError::UnknownCompany {
                    ticker: t,
                    origin: profiles.origin.clone(),
                    known: profiles
                        .companies
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            vec![t]
        }
        None => profiles.companies.keys().cloned().collect(),
    };
    let mut draft = Draft::new(ctx.asof());
    let (px, px_id) = spot(ctx, &mut draft, p.price, &p.symbol)?;
    let net = network_state(ctx, &mut draft)?;
    let fb = fallbacks(ctx, &mut draft, profiles)?;
    let mut companies = Vec::new();
    for t in &tickers {
        let Some(input) = ctx.facts(t) else { continue };
        let c = &input.value;
        if p.company.is_none() && c.fact(crate::facts::FactKey::BtcHeld).is_none() {
            continue;
        }
        draft.uses(&input);
        let mut scen = scenario_prices(px, &p.scenarios);
        if let Some(v) = c
            .company()
            .coverage_price_net()
            .value()
            .filter(|v| *v > 0.0)
        {
            scen.push(v.round());
        }
        companies.push(evaluate(
            c,
            &mut draft,
            (px, &px_id),
            &scen,
            net.as_ref(),
            &fb,
        ));
    }
    draft.finish(CompaniesBody {
        price: px,
        price_claim: px_id,
        profiles: profiles.origin.clone(),
        companies,
    })
}

#[cfg(test)]
mod tests {
    use canary_model::Provenance;

    use super::*;
    use crate::facts::Profiles;
    use crate::test_data;

    /// The built-in companies as published by the crash morning: a miner and a treasury
    /// company, and a draft with a price claim and a network state's two claims.
    struct Companies {
        miner: CompanyAsOf,
        treasury: CompanyAsOf,
        draft: Draft,
        price_id: ClaimId,
        net: (NetworkState, Vec<ClaimId>),
    }

    fn companies() -> Companies {
        let store = test_data::crash_store();
        let profiles = Profiles::built_in().unwrap();
        let ctx = Context::new(&*store, test_data::asof())
            .unwrap()
            .with_profiles(&profiles);
        let of = |kind: Kind| {
            profiles
                .companies
                .keys()
                .filter_map(|t| ctx.facts(t))
                .map(|i| i.value)
                .find(|c| c.kind == kind)
                .unwrap()
        };
        let t = ctx.asof();
        let mut draft = Draft::new(t);
        let price_id = draft.add(Claim::data("price", 64_168.0, "USD", t, "p", "test", t));
        let h = draft.add(Claim::data("hash rate", 9e20, "H/s", t, "h", "test", t));
        let r = draft.add(Claim::data("subsidy", 3.125, "BTC", t, "r", "test", t));
        let state = NetworkState {
            hashrate_ths: 9e8,
            reward_btc: 3.125,
        };
        Companies {
            miner: of(Kind::Miner),
            treasury: of(Kind::Treasury),
            draft,
            price_id,
            net: (state, vec![h, r]),
        }
    }

    fn inputs_of(draft: &Draft, id: &ClaimId) -> Vec<ClaimId> {
        match &draft.claims.get(id).unwrap().provenance {
            Provenance::Derived { inputs, .. } => inputs.clone(),
            Provenance::Data { .. } => Vec::new(),
        }
    }

    /// A miner's figures read the network; a treasury company's do not; both read the price
    /// where it is used.
    #[test]
    fn only_a_miners_figures_read_the_network() {
        let mut c = companies();
        let (_, _, facts) = cite(&c.miner, &mut c.draft);
        let m = FigureInputs::new(&c.miner, facts.clone(), Some(&c.net), &c.price_id);
        assert_eq!(m.facts, facts);
        assert_eq!(m.with_net, [facts.clone(), c.net.1.clone()].concat());
        assert_eq!(
            m.with_price,
            [m.with_net.clone(), vec![c.price_id.clone()]].concat()
        );
        let (_, _, facts) = cite(&c.treasury, &mut c.draft);
        let t = FigureInputs::new(&c.treasury, facts.clone(), Some(&c.net), &c.price_id);
        assert_eq!(t.with_net, facts);
        let none = FigureInputs::new(&c.miner, facts.clone(), None, &c.price_id);
        assert_eq!(none.with_net, facts);
    }

    /// A miner has every figure at the price, a treasury company only its coverage prices;
    /// each claim reads the inputs its figure uses.
    #[test]
    fn the_figures_at_the_price() {
        let mut c = companies();
        let state = Some(&c.net.0);
        let (_, _, facts) = cite(&c.miner, &mut c.draft);
        let inputs = FigureInputs::new(&c.miner, facts, Some(&c.net), &c.price_id);
        let figs = figures_at_price(&c.miner, &mut c.draft, 64_168.0, state, &inputs);
        let keys: Vec<&str> = figs.iter().map(|f| f.key).collect();
        assert_eq!(
            keys,
            [
                "power_cost_per_btc",
                "cash_break_even",
                "margin",
                "coverage_price_gross",
                "coverage_price_net",
                "runway_months",
                "forced_selling_btc_per_month",
                "sell_ratio"
            ]
        );
        let by = |k: &str| figs.iter().find(|f| f.key == k).unwrap();
        let margin = by("margin");
        assert!(
            margin.label.ends_with("cash margin at 64168"),
            "{}",
            margin.label
        );
        let id = margin.claim.as_ref().expect("a margin at the price");
        assert_eq!(inputs_of(&c.draft, id), inputs.with_price);
        if let Some(id) = &by("coverage_price_net").claim {
            assert_eq!(inputs_of(&c.draft, id), inputs.facts);
        }
        let be = by("cash_break_even");
        assert!(be.claim.is_some(), "{:?}", be.figure);
        assert_eq!(
            inputs_of(&c.draft, be.claim.as_ref().unwrap()),
            inputs.with_net
        );
        let (_, _, facts) = cite(&c.treasury, &mut c.draft);
        let inputs = FigureInputs::new(&c.treasury, facts, None, &c.price_id);
        let figs = figures_at_price(&c.treasury, &mut c.draft, 64_168.0, None, &inputs);
        let keys: Vec<&str> = figs.iter().map(|f| f.key).collect();
        assert_eq!(keys, ["coverage_price_gross", "coverage_price_net"]);
    }

    /// One row per scenario price, each figure derived from the scenario's own price claim;
    /// a lower price leaves a miner a lower margin.
    #[test]
    fn the_figures_at_each_scenario() {
        let mut c = companies();
        let state = Some(&c.net.0);
        let with_net = [c.net.1.clone()].concat();
        let prices = [80_000.0, 50_000.0];
        let rows = scenario_rows(
            &c.miner,
            &mut c.draft,
            &prices,
            &c.price_id,
            state,
            &with_net,
        );
        assert_eq!(rows.len(), 2);
        let keys: Vec<&str> = rows[0].figures.iter().map(|f| f.key).collect();
        assert_eq!(
            keys,
            [
                "margin",
                "coverage_ratio",
                "runway_months",
                "forced_selling_btc_per_month"
            ]
        );
        let margin = |r: &ScenarioRow| r.figures[0].figure.value().unwrap();
        assert!(margin(&rows[1]) < margin(&rows[0]));
        let id = rows[1].figures[0].claim.as_ref().unwrap();
        let ins = inputs_of(&c.draft, id);
        let scenario = ins.last().unwrap();
        assert_eq!(c.draft.claims.get(scenario).unwrap().value, 50_000.0);
        assert_eq!(inputs_of(&c.draft, scenario), [c.price_id.clone()]);
        let rows = scenario_rows(&c.treasury, &mut c.draft, &prices, &c.price_id, None, &[]);
        assert!(
            rows.iter()
                .all(|r| r.figures.len() == 1 && r.figures[0].key == "coverage_ratio")
        );
    }
}
