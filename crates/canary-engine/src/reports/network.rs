//! `network`: the Bitcoin network as of T — hash rate and Hash Ribbons, difficulty, its implied
//! hash rate and nowcast, the next retarget, the Puell Multiple, hashprice and the share of the
//! fleet under water at a power price (`canary_analytics::mining`).

use canary_analytics::mining::difficulty::{EPOCH_POSITION, epoch_position};
use canary_analytics::mining::hashprice::power_cost_per_th_day;
use canary_analytics::mining::hashprice::{
    HASHPRICE, HASHRATE_FROM_DIFFICULTY, Hashprice, MAX_PROFITABLE_EFFICIENCY, SHARE_UNDER_WATER,
    hashrate_from_difficulty_hs, max_profitable_efficiency, share_under_water,
};
use canary_analytics::mining::indicators::{
    DIFFICULTY_NOWCAST, HASH_RIBBONS, PUELL, PUELL_HALVING_ADJUSTED, WINDOW_MIN,
    difficulty_nowcast, hash_ribbons, puell,
};
use canary_analytics::mining::protocol::{estimated_height, subsidy_btc};
use canary_analytics::score::inputs::STRESS_POWER_USD_PER_MWH;
use canary_analytics::ta::SMA;
use canary_model::network::NetworkSeries;
use canary_model::{Claim, ClaimId, Symbol, Timestamp};
use serde::Serialize;

use super::Price;
use crate::context::Series;
use crate::{Context, Draft, EngineError, Input, Report};

/// What to compute.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkParams {
    /// The BTC price for the hashprice.
    pub price: Price,
    /// The instrument whose daily close is the price when none is given.
    pub symbol: Symbol,
    /// Average fees per block (BTC) for the hashprice.
    pub fees_btc: f64,
    /// Power price (USD/MWh) for the share of the fleet under water.
    pub power_usd_per_mwh: f64,
    /// Read the series fetched from this vendor (`mempool`, `bitcoind`) instead of imported
    /// ones.
    pub vendor: Option<String>,
}

/// One reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkRow {
    pub label: String,
    pub value: f64,
    pub unit: String,
    /// The value as people read it (`791.48 EH/s`, `0.42: bottom zone (< 0.5)`).
    pub reading: String,
    pub claim: ClaimId,
}

/// A value of a day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayValue {
    pub day: Timestamp,
    pub value: f64,
    pub claim: ClaimId,
}

/// Hash Ribbons' state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RibbonsState {
    /// SMA 30 below SMA 60.
    pub capitulation: bool,
    /// The day the current capitulation began, if one is under way.
    pub since: Option<Timestamp>,
    /// SMA 30 / SMA 60 (its claim).
    pub ratio: f64,
    pub claim: ClaimId,
}

/// The readings, and what could not be computed; the headline readings also by name, for
/// the analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkBody {
    pub rows: Vec<NetworkRow>,
    pub missing: Vec<String>,
    /// The latest daily hash rate (H/s).
    pub hashrate: Option<DayValue>,
    /// The lowest daily hash rate of the 30 days to the latest.
    pub low_30d: Option<DayValue>,
    pub ribbons: Option<RibbonsState>,
    /// The projected change of the next difficulty adjustment (0.1 = +10 %).
    pub nowcast_change: Option<crate::Valued>,
}

/// `1,234.56`.
fn num(x: f64) -> String {
    let s = format!("{x:.2}");
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut g = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            g.push(',');
        }
        g.push(ch);
    }
    format!("{sign}{g}.{frac}")
}

fn zone(p: f64) -> String {
    if p < 0.5 {
        format!("{p:.2}: bottom zone (< 0.5)")
    } else if p > 3.0 {
        format!("{p:.2}: top zone (> 3)")
    } else {
        format!("{p:.2}")
    }
}

fn day(t: Timestamp) -> String {
    t.to_string()[..10].to_string()
}

struct Builder {
    draft: Draft,
    body: NetworkBody,
}

impl Builder {
    /// Add a claim shown as a row.
    fn row(&mut self, c: Claim, reading: String) -> ClaimId {
        self.body.rows.push(NetworkRow {
            label: c.label.clone(),
            value: c.value,
            unit: c.unit.clone(),
            reading,
            claim: c.id.clone(),
        });
        self.draft.add(c)
    }

    /// The latest value of a series as a data claim (the report now depends on the input).
    fn latest(
        &mut self,
        input: &Input<Vec<(Timestamp, f64)>>,
        label: &str,
        unit: &str,
    ) -> (f64, Claim) {
        self.draft.uses(input);
        let &(t, v) = input.value.last().expect("a stored series is not empty");
        let c = Claim::data(
            label,
            v,
            unit,
            self.draft.as_of,
            &input.series,
            &input.source,
            t,
        );
        (v, c)
    }
}

/// Hash rate, its 7-day mean and Hash Ribbons; the 7-day mean for the nowcast.
fn hashrate(
    b: &mut Builder,
    input: Option<&Input<Vec<(Timestamp, f64)>>>,
) -> Option<(f64, ClaimId)> {
    let asof = b.draft.as_of;
    let Some(input) = input else {
        b.body
            .missing
            .push("hash rate: none stored (import a daily hash-rate series)".into());
        return None;
    };
    let (v, c) = b.latest(input, "network hash rate (daily)", "H/s");
    let id = b.row(c, format!("{} EH/s", num(v / 1e18)));
    let series = &input.value;
    b.body.hashrate = Some(DayValue {
        day: series[series.len() - 1].0,
        value: v,
        claim: id.clone(),
    });
    // The lowest day of the last 30, to see a dip (a storm, a curtailment) at a glance.
    let last_day = series[series.len() - 1].0;
    if let Some(&(low_day, low)) = series
        .iter()
        .filter(|(t, _)| t.millis() > last_day.millis() - 30 * 86_400_000)
        .min_by(|a, b| a.1.total_cmp(&b.1))
    {
        let low_id = b.row(
            Claim::derived(
                "lowest daily hash rate of the last 30 days",
                low,
                "H/s",
                asof,
                WINDOW_MIN
                    .of(&[&id])
                    .param("days", 30)
                    .param("day", day(low_day)),
            ),
            format!(
                "{} EH/s on {} ({:+.1}% against the latest)",
                num(low / 1e18),
                day(low_day),
                (low / v - 1.0) * 100.0
            ),
        );
        b.body.low_30d = Some(DayValue {
            day: low_day,
            value: low,
            claim: low_id,
        });
    }
    // The mean of the last 7 days, for the nowcast (one day is ±8 % noise).
    let week = &series[series.len().saturating_sub(7)..];
    let mean7 = week.iter().map(|x| x.1).sum::<f64>() / week.len() as f64;
    let m7 = b.draft.add(Claim::derived(
        "network hash rate, mean of the last 7 days",
        mean7,
        "H/s",
        asof,
        SMA.of(&[&id]).param("n", week.len()),
    ));
    match hash_ribbons(series) {
        Some(rb) => {
            let s30 = b.row(
                Claim::derived(
                    "hash rate SMA 30",
                    rb.sma30,
                    "H/s",
                    asof,
                    SMA.of(&[&id]).param("n", 30),
                ),
                format!("{} EH/s", num(rb.sma30 / 1e18)),
            );
            let s60 = b.row(
                Claim::derived(
                    "hash rate SMA 60",
                    rb.sma60,
                    "H/s",
                    asof,
                    SMA.of(&[&id]).param("n", 60),
                ),
                format!("{} EH/s", num(rb.sma60 / 1e18)),
            );
            let state = if rb.capitulation {
                format!(
                    "capitulation since {}",
                    rb.capitulation_since.map_or("?".into(), day)
                )
            } else {
                format!(
                    "no capitulation; last recovery {}",
                    rb.last_recovery.map_or("none in the data".into(), day)
                )
            };
            let ratio = b.row(
                Claim::derived(
                    "Hash Ribbons: SMA 30 / SMA 60 (below 1 = capitulation)",
                    rb.sma30 / rb.sma60,
                    "ratio",
                    asof,
                    HASH_RIBBONS.of(&[&s30, &s60]).param("day", rb.day),
                ),
                state,
            );
            b.body.ribbons = Some(RibbonsState {
                capitulation: rb.capitulation,
                since: rb.capitulation_since.filter(|_| rb.capitulation),
                ratio: rb.sma30 / rb.sma60,
                claim: ratio,
            });
        }
        None => b
            .body
            .missing
            .push("Hash Ribbons: need 60 days of hash rate".into()),
    }
    Some((mean7, m7))
}

/// Fees per block for the hashprice: the mean of the last 7 days' stored daily totals over
/// 144 blocks when they are current, else the fees given (an assumption, said so); with the
/// claim and how it was taken.
fn fees_per_block(
    b: &mut Builder,
    input: Option<&Input<Vec<(Timestamp, f64)>>>,
    given: f64,
) -> (f64, ClaimId, &'static str) {
    if let Some(input) = input.filter(|i| !i.is_stale()) {
        let (_, c) = b.latest(input, "fees paid over the day", "BTC/day");
        let last = b.draft.add(c);
        let week = &input.value[input.value.len().saturating_sub(7)..];
        // The window's first day too: the mean is of the days between.
        let (t0, v0) = week[0];
        let first = b.draft.add(Claim::data(
            "fees paid over the day",
            v0,
            "BTC/day",
            b.draft.as_of,
            &input.series,
            &input.source,
            t0,
        ));
        let per_block = week.iter().map(|x| x.1).sum::<f64>() / week.len() as f64 / 144.0;
        let id = b.row(
            Claim::derived(
                "fees per block, mean of the last 7 days",
                per_block,
                "BTC/block",
                b.draft.as_of,
                SMA.of(&[&first, &last])
                    .param("n", week.len())
                    .param("blocks_per_day", 144),
            ),
            format!("{per_block:.4} BTC/block"),
        );
        return (per_block, id, "fees of the last 7 days");
    }
    let id = super::given(
        &mut b.draft,
        "fees per block (given; no current daily fees stored)",
        given,
        "BTC/block",
        "fees_btc",
    );
    (given, id, "given fees")
}

/// The hashprice stress ratio the score reads (`score::inputs::stress_series`), as of T: the
/// power cost per TH-day of the fleet's estimated efficiency at the score's power price over
/// the subsidy-only hashprice, the subsidy by the schedule × 144 blocks at the price; an old
/// fleet estimate is named as assumed. The score itself keeps its pre-registered inputs.
fn stress_row(
    b: &mut Builder,
    (px, px_id): (f64, &ClaimId),
    (h, h_id): (f64, &ClaimId),
    (eff, eff_id): (f64, &ClaimId),
    eff_input: &Input<Series>,
) {
    let asof = b.draft.as_of;
    let sub = subsidy_btc(estimated_height(asof));
    let hashprice = sub * 144.0 * px / (h / 1e12);
    if hashprice <= 0.0 {
        return;
    }
    let ratio = power_cost_per_th_day(eff, STRESS_POWER_USD_PER_MWH) / hashprice;
    let assumed = match (eff_input.is_stale(), eff_input.value.last()) {
        (true, Some(&(t, _))) => format!(
            ", the fleet's efficiency as of {}, assumed unchanged",
            day(t)
        ),
        _ => String::new(),
    };
    b.row(
        Claim::derived(
            format!("hashprice stress ratio (fleet power cost / subsidy hashprice{assumed})"),
            ratio,
            "ratio",
            asof,
            canary_analytics::score::inputs::SCORE_INPUT
                .of(&[px_id, h_id, eff_id])
                .param("key", "hashprice_stress")
                .param("power_usd_per_mwh", STRESS_POWER_USD_PER_MWH)
                .param("subsidy_btc", sub)
                .param("blocks_per_day", 144),
        ),
        format!("{ratio:.2} (above 1: the fleet's power costs more than the subsidy earns)"),
    );
}

/// The hashprice and the least efficient machine covering power at the price, as rows; the
/// machine's efficiency and claim.
fn hashprice_rows(
    b: &mut Builder,
    price: Option<(f64, ClaimId)>,
    hashrate7: Option<&(f64, ClaimId)>,
    fees_in: Option<&Input<Series>>,
    p: &NetworkParams,
) -> Option<(f64, ClaimId)> {
    let asof = b.draft.as_of;
    match (price, hashrate7) {
        (Some((px, px_id)), Some((h, h_id))) => {
            let sub = subsidy_btc(estimated_height(asof));
            let (fees, fees_id, fees_from) = fees_per_block(b, fees_in, p.fees_btc);
            let hp = Hashprice::from_hashrate(h / 1e12, sub, fees, px);
            let hp_id = b.row(
                Claim::derived(
                    format!("hashprice (subsidy by schedule + {fees_from})"),
                    hp.usd_per_th_day,
                    "USD/TH/day",
                    asof,
                    HASHPRICE
                        .of(&[&px_id, h_id, &fees_id])
                        .param("subsidy_btc", sub)
                        .param("fees_btc", fees),
                ),
                format!(
                    "${:.5}/TH/day (${:.2}/PH/day)",
                    hp.usd_per_th_day,
                    hp.usd_per_ph_day()
                ),
            );
            let power_id = super::given(
                &mut b.draft,
                "power price",
                p.power_usd_per_mwh,
                "USD/MWh",
                "power_usd_per_mwh",
            );
            let emax = max_profitable_efficiency(hp.usd_per_th_day, p.power_usd_per_mwh, 0.0);
            let emax_id = b.row(
                Claim::derived(
                    "least efficient machine covering power",
                    emax,
                    "J/TH",
                    asof,
                    MAX_PROFITABLE_EFFICIENCY.of(&[&hp_id, &power_id]),
                ),
                format!("{emax:.1} J/TH at ${}/MWh", p.power_usd_per_mwh),
            );
            Some((emax, emax_id))
        }
        _ => None,
    }
}

/// Difficulty, the hash rate it implies, the nowcast, and the next retarget.
fn difficulty(
    b: &mut Builder,
    input: Option<&Input<Vec<(Timestamp, f64)>>>,
    hashrate7: Option<&(f64, ClaimId)>,
) {
    let asof = b.draft.as_of;
    match input {
        Some(input) => {
            let (d, c) = b.latest(input, "difficulty", "");
            let d_id = b.row(c, format!("{d:.4e}"));
            let implied = hashrate_from_difficulty_hs(d);
            b.row(
                Claim::derived(
                    "hash rate implied by difficulty (D·2^32/600)",
                    implied,
                    "H/s",
                    asof,
                    HASHRATE_FROM_DIFFICULTY.of(&[&d_id]),
                ),
                format!("{} EH/s", num(implied / 1e18)),
            );
            if let Some((h7, h7_id)) = hashrate7 {
                let (next, change) = difficulty_nowcast(d, *h7);
                let next_id = b.row(
                    Claim::derived(
                        "projected next difficulty (nowcast)",
                        next,
                        "",
                        asof,
                        DIFFICULTY_NOWCAST.of(&[&d_id, h7_id]),
                    ),
                    format!("{next:.4e} ({:+.2}%)", change * 100.0),
                );
                let c = Claim::derived(
                    "projected change of the next difficulty",
                    change,
                    "fraction",
                    asof,
                    canary_model::Method::new("relative_change", 1).of(&[&next_id, &d_id]),
                );
                b.body.nowcast_change = Some(crate::Valued {
                    value: change,
                    claim: b.draft.add(c),
                });
            }
        }
        None => b
            .body
            .missing
            .push("difficulty: none stored (import a daily difficulty series)".into()),
    }
    let height = estimated_height(asof);
    let (left, next_h) = epoch_position(height);
    b.row(
        Claim::derived(
            "blocks to the next retarget (height estimated from the time)",
            left as f64,
            "blocks",
            asof,
            EPOCH_POSITION
                .of(&[])
                .param("estimated_height", height)
                .param("next_retarget_height", next_h),
        ),
        format!(
            "{left} (≈ {:.1} days, retarget at block {next_h})",
            left as f64 / 144.0
        ),
    );
}

/// The daily issuance in USD when no current one is stored: the subsidy by the schedule at
/// each day's estimated height × 144 blocks × the day's close, from the last 400 daily bars
/// of `symbol`; `None` without bars. The claim is the last close's, the method named.
fn issuance_from_schedule(
    ctx: &Context<'_>,
    b: &mut Builder,
    symbol: &Symbol,
) -> Result<Option<(Series, ClaimId)>, EngineError> {
    let bars = match ctx.last_bars(symbol, canary_model::Timeframe::D1, 400) {
        Ok(bars) => bars,
        Err(EngineError::NoBars { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    b.draft.uses(&bars);
    let tf = bars.value.timeframe;
    let series: Vec<(Timestamp, f64)> = bars
        .value
        .candles
        .iter()
        .map(|c| {
            let mid = c.open_time.add_millis(tf.duration_ms() / 2);
            (
                c.open_time,
                subsidy_btc(estimated_height(mid)) * 144.0 * c.close,
            )
        })
        .collect();
    let Some(last) = bars.value.candles.len().checked_sub(1) else {
        return Ok(None);
    };
    let bars_view = bars.bars();
    let close = b.draft.add(bars_view.claim(
        format!("{symbol} daily close"),
        "close",
        last,
        bars.value.candles[last].close,
        "USD",
        b.draft.as_of,
    ));
    let id = b.draft.add(Claim::derived(
        "subsidy issued (USD), by the schedule at the day's close",
        series[last].1,
        "USD/day",
        b.draft.as_of,
        canary_model::Method::new("issuance_usd_by_schedule", 1)
            .of(&[&close])
            .param("blocks_per_day", 144),
    ));
    Ok(Some((series, id)))
}

fn puell_multiple(
    ctx: &Context<'_>,
    b: &mut Builder,
    input: Option<&Input<Vec<(Timestamp, f64)>>>,
    symbol: &Symbol,
) -> Result<(), EngineError> {
    let asof = b.draft.as_of;
    let stored = input.filter(|i| !i.is_stale());
    let (series, id, how) = if let Some(input) = stored {
        let (_, c) = b.latest(input, "subsidy issued (USD)", "USD/day");
        (input.value.clone(), b.draft.add(c), "")
    } else {
        let Some((series, id)) = issuance_from_schedule(ctx, b, symbol)? else {
            b.body.missing.push(
                "Puell: no current subsidy in USD stored and no daily bars to take it from the schedule".into(),
            );
            return Ok(());
        };
        (series, id, ", issuance by the schedule × daily close")
    };
    match puell(&series) {
        Some(p) => {
            b.row(
                Claim::derived(
                    format!("Puell Multiple (issuance USD / 365-day mean{how})"),
                    p.puell,
                    "ratio",
                    asof,
                    PUELL.of(&[&id]).param("day", p.day),
                ),
                zone(p.puell),
            );
            b.row(
                Claim::derived(
                    format!("Puell Multiple, halving-adjusted{how}"),
                    p.halving_adjusted,
                    "ratio",
                    asof,
                    PUELL_HALVING_ADJUSTED.of(&[&id]).param("day", p.day),
                ),
                zone(p.halving_adjusted),
            );
        }
        None => b
            .body
            .missing
            .push("Puell: needs 365 days of subsidy in USD".into()),
    }
    Ok(())
}

/// The network report as of the context's time.
///
/// # Errors
/// A given price that is not positive, fees or a power price out of range; a database error.
pub fn network(ctx: &Context<'_>, p: &NetworkParams) -> Result<Report<NetworkBody>, EngineError> {
    if !(p.fees_btc.is_finite() && p.fees_btc >= 0.0) {
        return Err(EngineError::param("fees_btc", p.fees_btc, "must be ≥ 0"));
    }
    if !(p.power_usd_per_mwh.is_finite() && p.power_usd_per_mwh >= 0.0) {
        return Err(EngineError::param(
            "power_usd_per_mwh",
            p.power_usd_per_mwh,
            "must be ≥ 0",
        ));
    }
    let asof = ctx.asof();
    let vendor = p.vendor.as_deref();
    let mut b = Builder {
        draft: Draft::new(asof),
        body: NetworkBody {
            rows: Vec::new(),
            missing: Vec::new(),
            hashrate: None,
            low_30d: None,
            ribbons: None,
            nowcast_change: None,
        },
    };
    let h_in = ctx.network(NetworkSeries::HashrateHs, vendor)?;
    let hashrate7 = hashrate(&mut b, h_in.as_ref());
    let d_in = ctx.network(NetworkSeries::Difficulty, vendor)?;
    difficulty(&mut b, d_in.as_ref(), hashrate7.as_ref());
    let s_in = ctx.network(NetworkSeries::SubsidyUsd, None)?;
    puell_multiple(ctx, &mut b, s_in.as_ref(), &p.symbol)?;

    // Share of the fleet under water at the power price.
    let fees_in = ctx.network(NetworkSeries::FeesTotalBtc, None)?;
    let price = super::price(ctx, &mut b.draft, p.price, &p.symbol)?;
    let fleet = [
        (
            NetworkSeries::FleetEfficiencyLower,
            "fleet efficiency, lower bound",
        ),
        (
            NetworkSeries::FleetEfficiencyEstimate,
            "fleet efficiency, estimate",
        ),
        (
            NetworkSeries::FleetEfficiencyUpper,
            "fleet efficiency, upper bound",
        ),
    ]
    .into_iter()
    .map(|(s, label)| Ok(ctx.network(s, None)?.map(|i| (i, label))))
    .collect::<Result<Vec<_>, EngineError>>()?;
    // The hashprice and the least efficient machine covering power, at the price.
    let priced = price.is_some();
    let for_stress = price.clone().zip(hashrate7.clone());
    let emax = hashprice_rows(&mut b, price, hashrate7.as_ref(), fees_in.as_ref(), p);
    match (emax, fleet.as_slice()) {
        (Some((emax, emax_id)), [Some(lo), Some(est), Some(hi)]) => {
            let mut vals = Vec::new();
            let mut ids = Vec::new();
            for (input, label) in [lo, est, hi] {
                let (v, c) = b.latest(input, label, "J/TH");
                vals.push(v);
                ids.push(b.draft.add(c));
            }
            if let Some(((px, px_id), (h, h_id))) = &for_stress {
                stress_row(&mut b, (*px, px_id), (*h, h_id), (vals[1], &ids[1]), &est.0);
            }
            let share = share_under_water(vals[0], vals[1], vals[2], emax);
            // An old fleet estimate is used as the latest known, and the label says so.
            let assumed = match (est.0.is_stale(), est.0.value.last()) {
                (true, Some(&(t, _))) => {
                    format!(
                        ", the fleet's efficiency as of {}, assumed unchanged",
                        day(t)
                    )
                }
                _ => String::new(),
            };
            b.row(
                Claim::derived(
                    format!("share of the network fleet under water (triangular over the fleet-efficiency bounds{assumed})"),
                    share * 100.0,
                    "%",
                    asof,
                    SHARE_UNDER_WATER.of(&[&emax_id, &ids[0], &ids[1], &ids[2]]),
                ),
                format!(
                    "{:.0}% (fleet {:.1} / {:.1} / {:.1} J/TH)",
                    share * 100.0,
                    vals[0],
                    vals[1],
                    vals[2]
                ),
            );
        }
        (emax, fleet) => {
            let mut lacking = Vec::new();
            if !priced {
                lacking.push("a price (none given, no daily bars stored)".to_string());
            }
            if hashrate7.is_none() {
                lacking.push("the hash rate".to_string());
            }
            let absent: Vec<&str> = fleet
                .iter()
                .zip(["lower bound", "estimate", "upper bound"])
                .filter(|(f, _)| f.is_none())
                .map(|(_, n)| n)
                .collect();
            if !absent.is_empty() {
                lacking.push(format!("the fleet-efficiency {}", absent.join(", ")));
            }
            if !lacking.is_empty() {
                b.body.missing.push(format!(
                    "fleet under water: needs {}",
                    lacking.join(" and ")
                ));
            }
            let _ = emax;
        }
    }
    b.draft.finish(b.body)
}
