//! `hashprice`: revenue per unit of hash rate at a price and network state, and each machine
//! class's shutdown price and margin at given power prices (`canary_analytics::mining`).

use canary_analytics::mining::hashprice::{
    FEE_SHARE, GROSS_MARGIN, HASHPRICE, HASHRATE_FROM_DIFFICULTY, HASHVALUE, Hashprice,
    MACHINE_CATALOGUE, MACHINES, MAX_PROFITABLE_EFFICIENCY, NETWORK_BTC_PER_DAY, SHUTDOWN_PRICE,
    UNIT_CONVERSION, difficulty_from_hashrate, gross_margin, hashrate_from_difficulty_hs,
    max_profitable_efficiency, shutdown_price,
};
use canary_analytics::mining::protocol::{SUBSIDY_SCHEDULE, estimated_height, subsidy_btc};
use canary_model::network::NetworkSeries;
use canary_model::{Claim, ClaimId, Method, Symbol};
use serde::Serialize;

use super::{Price, given};
use crate::{Context, Draft, EngineError, Report};

/// What to compute. Inputs not given come from the store as of T.
#[derive(Debug, Clone, PartialEq)]
pub struct HashpriceParams {
    pub price: Price,
    /// The instrument whose daily close is the price when none is given.
    pub symbol: Symbol,
    /// Network hash rate in EH/s (excludes `difficulty`).
    pub hashrate_ehs: Option<f64>,
    /// Network difficulty; hash rate implied as D·2³²/600 (excludes `hashrate_ehs`).
    pub difficulty: Option<f64>,
    /// Average fees per block in BTC (default: the stored fees series, else 0, said so).
    pub fees_btc: Option<f64>,
    /// Power prices in USD/MWh for the machine table.
    pub power_usd_per_mwh: Vec<f64>,
}

/// One machine class at one power price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachineRow {
    pub power_usd_per_mwh: f64,
    pub machine: String,
    pub efficiency_j_per_th: f64,
    pub shutdown_price_usd: f64,
    pub shutdown_price_claim: ClaimId,
    pub gross_margin_pct: f64,
    pub gross_margin_claim: ClaimId,
    pub max_profitable_efficiency_j_per_th: f64,
    pub max_profitable_efficiency_claim: ClaimId,
}

/// Hashprice and the machine table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HashpriceBody {
    pub price_usd: f64,
    pub network_hashrate_ehs: f64,
    pub difficulty: f64,
    pub subsidy_btc: f64,
    pub fees_btc: f64,
    pub network_btc_per_day: f64,
    pub network_btc_per_day_claim: ClaimId,
    pub hashvalue_btc_per_th_day: f64,
    pub hashvalue_claim: ClaimId,
    pub hashvalue_sats_per_th_day: f64,
    pub hashvalue_sats_claim: ClaimId,
    pub hashprice_usd_per_th_day: f64,
    pub hashprice_claim: ClaimId,
    pub hashprice_usd_per_ph_day: f64,
    pub hashprice_ph_claim: ClaimId,
    pub fee_share_pct: f64,
    pub fee_share_claim: ClaimId,
    pub machines: Vec<MachineRow>,
}

/// The network hash rate in TH/s and its claim: given, implied by a given difficulty, or
/// implied by the stored difficulty.
fn network_hashrate(
    ctx: &Context<'_>,
    draft: &mut Draft,
    p: &HashpriceParams,
) -> Result<(f64, ClaimId), EngineError> {
    let implied = |draft: &mut Draft, d_id: ClaimId, d: f64| {
        let h = hashrate_from_difficulty_hs(d) / 1e12;
        let id = draft.add(Claim::derived(
            "hash rate implied by difficulty (D·2^32/600)",
            h / 1e6,
            "EH/s",
            draft.as_of,
            HASHRATE_FROM_DIFFICULTY.of(&[&d_id]),
        ));
        (h, id)
    };
    match (p.hashrate_ehs, p.difficulty) {
        (Some(_), Some(_)) => Err(EngineError::param(
            "difficulty",
            "given",
            "give either the hash rate or the difficulty, not both",
        )),
        (Some(h), None) if h.is_finite() && h > 0.0 => Ok((
            h * 1e6,
            given(draft, "network hash rate", h, "EH/s", "hashrate_ehs"),
        )),
        (None, Some(d)) if d.is_finite() && d > 0.0 => {
            let d_id = given(draft, "difficulty", d, "", "difficulty");
            Ok(implied(draft, d_id, d))
        }
        (Some(h), None) => Err(EngineError::param("hashrate_ehs", h, "must be positive")),
        (None, Some(d)) => Err(EngineError::param("difficulty", d, "must be positive")),
        (None, None) => {
            let Some(input) = ctx.network(NetworkSeries::Difficulty, None)? else {
                return Err(EngineError::NoNetwork { asof: ctx.asof() });
            };
            draft.uses(&input);
            let &(t, d) = input.value.last().expect("a stored series is not empty");
            let d_id = draft.add(Claim::data(
                "difficulty",
                d,
                "",
                ctx.asof(),
                &input.series,
                &input.source,
                t,
            ));
            Ok(implied(draft, d_id, d))
        }
    }
}

/// Fees per block and their claim: given, the stored series, or 0 assumed (a warning).
fn fees(
    ctx: &Context<'_>,
    draft: &mut Draft,
    given_fees: Option<f64>,
) -> Result<(f64, ClaimId), EngineError> {
    match given_fees {
        Some(f) if f.is_finite() && f >= 0.0 => {
            Ok((f, given(draft, "fees per block", f, "BTC", "fees_btc")))
        }
        Some(f) => Err(EngineError::param("fees_btc", f, "must be ≥ 0")),
        None => {
            if let Some(input) = ctx.network(NetworkSeries::FeesBtc, None)? {
                draft.uses(&input);
                let &(t, f) = input.value.last().expect("a stored series is not empty");
                let id = draft.add(Claim::data(
                    "fees per block (daily average)",
                    f,
                    "BTC",
                    ctx.asof(),
                    &input.series,
                    &input.source,
                    t,
                ));
                Ok((f, id))
            } else {
                draft.warn(crate::Warning {
                kind: crate::WarningKind::Assumed,
                series: NetworkSeries::FeesBtc.name().into(),
                last_time: None,
                age_days: None,
                message: "fees per block: none given or stored, 0 BTC assumed (hashprice is a lower bound)".into(),
            });
                let id = draft.add(Claim::derived(
                    "fees per block (none given or stored: 0 assumed)",
                    0.0,
                    "BTC",
                    ctx.asof(),
                    Method::ASSUMPTION,
                ));
                Ok((0.0, id))
            }
        }
    }
}

/// Hashprice and the machine table as of the context's time.
///
/// # Errors
/// No price (given or stored), no network state (given or stored), an input out of range; a
/// database error.
pub fn hashprice(
    ctx: &Context<'_>,
    p: &HashpriceParams,
) -> Result<Report<HashpriceBody>, EngineError> {
    let asof = ctx.asof();
    let mut draft = Draft::new(asof);
    for &pw in &p.power_usd_per_mwh {
        if !(pw.is_finite() && pw >= 0.0) {
            return Err(EngineError::param("power_usd_per_mwh", pw, "must be ≥ 0"));
        }
    }
    let (price, price_id) =
        super::price(ctx, &mut draft, p.price, &p.symbol)?.ok_or_else(|| EngineError::NoPrice {
            symbol: p.symbol.clone(),
            asof,
        })?;
    let (hashrate_ths, net_id) = network_hashrate(ctx, &mut draft, p)?;
    let (fees, fees_id) = fees(ctx, &mut draft, p.fees_btc)?;
    let height = estimated_height(asof);
    let subsidy = subsidy_btc(height);
    let subsidy_id = draft.add(Claim::derived(
        "block subsidy (schedule at the height estimated from the time)",
        subsidy,
        "BTC",
        asof,
        SUBSIDY_SCHEDULE.of(&[]).param("estimated_height", height),
    ));
    let h = Hashprice::from_hashrate(hashrate_ths, subsidy, fees, price);
    let net_btc = draft.add(Claim::derived(
        "network BTC per day (144 × reward)",
        h.network_btc_per_day,
        "BTC/day",
        asof,
        NETWORK_BTC_PER_DAY.of(&[&subsidy_id, &fees_id]),
    ));
    let hv = draft.add(Claim::derived(
        "hashvalue",
        h.btc_per_th_day,
        "BTC/TH/day",
        asof,
        HASHVALUE.of(&[&net_id, &subsidy_id, &fees_id]),
    ));
    let hp = draft.add(Claim::derived(
        "hashprice",
        h.usd_per_th_day,
        "USD/TH/day",
        asof,
        HASHPRICE.of(&[&hv, &price_id]),
    ));
    let hp_ph = draft.add(Claim::derived(
        "hashprice",
        h.usd_per_ph_day(),
        "USD/PH/day",
        asof,
        UNIT_CONVERSION.of(&[&hp]),
    ));
    let sats = draft.add(Claim::derived(
        "hashvalue",
        h.sats_per_th_day(),
        "sats/TH/day",
        asof,
        UNIT_CONVERSION.of(&[&hv]),
    ));
    let fee_share = draft.add(Claim::derived(
        "fees' share of the reward",
        h.fee_share * 100.0,
        "%",
        asof,
        FEE_SHARE.of(&[&subsidy_id, &fees_id]),
    ));
    let mut machines = Vec::new();
    for &power in &p.power_usd_per_mwh {
        let power_id = given(
            &mut draft,
            "power price",
            power,
            "USD/MWh",
            "power_usd_per_mwh",
        );
        let emax = max_profitable_efficiency(h.usd_per_th_day, power, 0.0);
        let emax_id = draft.add(Claim::derived(
            "least efficient machine covering power",
            emax,
            "J/TH",
            asof,
            MAX_PROFITABLE_EFFICIENCY.of(&[&hp, &power_id]),
        ));
        for m in &MACHINES {
            let s = shutdown_price(m.efficiency_j_per_th, power, h.btc_per_th_day, 0.0);
            let g = gross_margin(m.efficiency_j_per_th, power, h.usd_per_th_day, 0.0);
            let eff = draft.add(Claim::derived(
                format!("efficiency, {}", m.name),
                m.efficiency_j_per_th,
                "J/TH",
                asof,
                MACHINE_CATALOGUE.of(&[]).param("source", m.source),
            ));
            let sid = draft.add(Claim::derived(
                format!("shutdown price, {}", m.name),
                s,
                "USD/BTC",
                asof,
                SHUTDOWN_PRICE
                    .of(&[&eff, &power_id, &hv])
                    .param("pool_fee", 0),
            ));
            let gid = draft.add(Claim::derived(
                format!("gross margin on power, {}", m.name),
                g * 100.0,
                "%",
                asof,
                GROSS_MARGIN.of(&[&eff, &power_id, &hp]),
            ));
            machines.push(MachineRow {
                power_usd_per_mwh: power,
                machine: m.name.to_string(),
                efficiency_j_per_th: m.efficiency_j_per_th,
                shutdown_price_usd: s,
                shutdown_price_claim: sid,
                gross_margin_pct: g * 100.0,
                gross_margin_claim: gid,
                max_profitable_efficiency_j_per_th: emax,
                max_profitable_efficiency_claim: emax_id.clone(),
            });
        }
    }
    draft.finish(HashpriceBody {
        price_usd: price,
        network_hashrate_ehs: hashrate_ths / 1e6,
        difficulty: difficulty_from_hashrate(hashrate_ths * 1e12),
        subsidy_btc: subsidy,
        fees_btc: fees,
        network_btc_per_day: h.network_btc_per_day,
        network_btc_per_day_claim: net_btc,
        hashvalue_btc_per_th_day: h.btc_per_th_day,
        hashvalue_claim: hv,
        hashvalue_sats_per_th_day: h.sats_per_th_day(),
        hashvalue_sats_claim: sats,
        hashprice_usd_per_th_day: h.usd_per_th_day,
        hashprice_claim: hp,
        hashprice_usd_per_ph_day: h.usd_per_ph_day(),
        hashprice_ph_claim: hp_ph,
        fee_share_pct: h.fee_share * 100.0,
        fee_share_claim: fee_share,
        machines,
    })
}
