//! `flows`: labelled entities' outflows known at T — the latest day's total, the part sent to
//! exchanges and OTC desks, its z-score against the previous 90 days and the position ratio
//! (`canary_analytics::flows`).

use canary_analytics::flows::{
    Destination, EntityKind, OUTFLOW_ZSCORE, Outflow, POSITION_RATIO, daily, latest_zscore,
    position_ratio,
};
use canary_model::{Claim, ClaimId, Timestamp};
use serde::Serialize;

use crate::{Context, Draft, EngineError, Report};

/// The z-score above which an outflow is flagged.
pub const FLAG_SIGMA: f64 = 3.0;

/// One entity's latest outflows, or `None` fields when it has none by T.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityFlows {
    pub entity: String,
    pub last_day: Option<Timestamp>,
    pub outflow_btc: Option<f64>,
    pub outflow_claim: Option<ClaimId>,
    pub to_exchanges_and_otc_btc: Option<f64>,
    /// Days with outflows.
    pub days: usize,
    pub zscore_90d: Option<f64>,
    pub zscore_claim: Option<ClaimId>,
    pub position_ratio: Option<f64>,
    pub position_ratio_claim: Option<ClaimId>,
    /// The latest day is at least [`FLAG_SIGMA`] above the previous 90.
    pub flag: bool,
}

/// Every entity asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowsBody {
    pub entities: Vec<EntityFlows>,
}

fn destination(s: &str) -> Destination {
    match s {
        "miner" => Destination::Labelled(EntityKind::Miner),
        "exchange" => Destination::Labelled(EntityKind::Exchange),
        "otc" => Destination::Labelled(EntityKind::Otc),
        "custodian" => Destination::Labelled(EntityKind::Custodian),
        _ => Destination::Unlabelled,
    }
}

fn one_entity(ctx: &Context<'_>, draft: &mut Draft, e: &str) -> Result<EntityFlows, EngineError> {
    let input = ctx.outflows(e)?;
    draft.uses(&input);
    let all: Vec<Outflow> = input
        .value
        .iter()
        .map(|s| Outflow {
            txid: s.txid.clone(),
            time: s.time,
            destination: destination(&s.destination),
            btc: s.btc,
        })
        .collect();
    let sells: Vec<Outflow> = all
        .iter()
        .filter(|o| {
            matches!(
                o.destination,
                Destination::Labelled(EntityKind::Exchange | EntityKind::Otc)
            )
        })
        .cloned()
        .collect();
    let (d_all, d_sell) = (daily(&all), daily(&sells));
    let Some(&(last_day, last_all)) = d_all.last() else {
        return Ok(EntityFlows {
            entity: e.to_string(),
            last_day: None,
            outflow_btc: None,
            outflow_claim: None,
            to_exchanges_and_otc_btc: None,
            days: 0,
            zscore_90d: None,
            zscore_claim: None,
            position_ratio: None,
            position_ratio_claim: None,
            flag: false,
        });
    };
    let asof = ctx.asof();
    let day_id = draft.add(Claim::data(
        format!("{e} outflows on {}", &last_day.to_string()[..10]),
        last_all,
        "BTC",
        asof,
        format!("{e} daily outflows"),
        &input.source,
        last_day,
    ));
    let sell_last = d_sell
        .last()
        .filter(|d| d.0 == last_day)
        .map_or(0.0, |d| d.1);
    let z = latest_zscore(&d_all, 90);
    let z_id = z.map(|z| {
        draft.add(Claim::derived(
            format!("{e} latest daily outflow in σ of the previous 90 days"),
            z,
            "σ",
            asof,
            OUTFLOW_ZSCORE.of(&[&day_id]).param("days", 90),
        ))
    });
    let ratio = position_ratio(&d_all);
    let r_id = ratio.map(|r| {
        draft.add(Claim::derived(
            format!("{e} position ratio (latest day / 365-day mean)"),
            r,
            "×",
            asof,
            POSITION_RATIO.of(&[&day_id]),
        ))
    });
    Ok(EntityFlows {
        entity: e.to_string(),
        last_day: Some(last_day),
        outflow_btc: Some(last_all),
        outflow_claim: Some(day_id),
        to_exchanges_and_otc_btc: Some(sell_last),
        days: d_all.len(),
        zscore_90d: z,
        zscore_claim: z_id,
        position_ratio: ratio,
        position_ratio_claim: r_id,
        flag: z.is_some_and(|z| z >= FLAG_SIGMA),
    })
}

/// Outflows of `entity`, or of every entity with stored outflows.
///
/// # Errors
/// [`EngineError::Empty`] when no outflows are stored at all; a database error.
pub fn flows(ctx: &Context<'_>, entity: Option<&str>) -> Result<Report<FlowsBody>, EngineError> {
    let names = match entity {
        Some(e) => vec![e.to_string()],
        None => ctx.flow_entities()?,
    };
    if names.is_empty() {
        return Err(EngineError::Empty(
            "no entity outflows stored: fetch them first (flows fetch with a label file)".into(),
        ));
    }
    let mut draft = Draft::new(ctx.asof());
    let entities = names
        .iter()
        .map(|e| one_entity(ctx, &mut draft, e))
        .collect::<Result<_, _>>()?;
    draft.finish(FlowsBody { entities })
}
