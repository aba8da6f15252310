//! `derivatives`: funding, open interest and liquidations as of T, each series on its own
//! venues (`canary_analytics::derivatives`). Every funding series: the last rate settled by T,
//! its annual carry and its z-score against the 90 days before; every open-interest series:
//! its latest value, its change over 24 h and 7 d, and for a BTC all-venue total its ratio to
//! the market value of the supply; every liquidation series: the last bar's long, short and
//! total, its rank in the series' history, and its share of the open interest of the same
//! venues. A series whose latest value is old at T is shown with a `stale` warning; one with
//! nothing known by T is not shown.

use canary_analytics::derivatives::{
    BASIS, CHANGE_OVER, FUNDING_CARRY, FUNDING_ZSCORE, LIQUIDATIONS_SHARE_OF_OI,
    LIQUIDATIONS_TOTAL, OI_TO_MARKET_VALUE, RANK_IN_HISTORY, annualise, change_over, rank_of_last,
    sum_aligned, value_at, zscore_against_window,
};
use canary_analytics::mining::protocol::{SUPPLY_FROM_SCHEDULE, estimated_height, supply_btc};
use canary_model::derivatives::{DerivKind, DerivSeries, Venues};
use canary_model::{Claim, ClaimId, Symbol, Timeframe, Timestamp};
use serde::Serialize;

use crate::context::Series;
use crate::{Context, Draft, EngineError, Input, Report};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// The funding z-score's window, and the fewest settlements it needs in it.
pub const FUNDING_WINDOW_DAYS: i64 = 90;
pub const FUNDING_MIN_SETTLEMENTS: usize = 30;

/// What to compute.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivativesParams {
    /// Only series of markets starting with this (`BTC` keeps BTC, BTCUSDT, …).
    pub market: Option<String>,
    /// The instrument whose daily closes value the supply (open interest to market value).
    pub symbol: Symbol,
    /// Only these series (an analysis reads the broadest of each kind: [`headline_series`]).
    pub only: Option<Vec<DerivSeries>>,
}

/// The series an analysis of `asset` reads: every funding series of its markets; the
/// all-venue open interest in USD of the asset, the one whose latest value is the most
/// recent (the finer on a tie); and the liquidation pair likewise, the more venues on a tie.
///
/// # Errors
/// A database error.
pub fn headline_series(ctx: &Context<'_>, asset: &str) -> Result<Vec<DerivSeries>, EngineError> {
    let infos: Vec<_> = ctx
        .derivative_series()?
        .into_iter()
        .filter(|i| i.series.market().starts_with(asset))
        .collect();
    let mut out: Vec<DerivSeries> = infos
        .iter()
        .filter(|i| i.series.kind == DerivKind::FundingRate)
        .map(|i| i.series.clone())
        .collect();
    let latest_end = |i: &&canary_store::DerivSeriesInfo| i.series.available_at(i.last);
    if let Some(oi) = infos
        .iter()
        .filter(|i| {
            i.series.kind == DerivKind::OpenInterestUsd
                && i.series.venues == Venues::All
                && i.series.market() == asset
        })
        .max_by(|a, b| {
            latest_end(a)
                .cmp(&latest_end(b))
                .then_with(|| b.series.interval.cmp(&a.series.interval))
        })
    {
        out.push(oi.series.clone());
    }
    let venues = |v: &Venues| match v {
        Venues::All => usize::MAX,
        Venues::Listed(l) => l.len(),
    };
    if let Some(liq) = infos
        .iter()
        .filter(|i| i.series.kind == DerivKind::LongLiquidationsUsd && i.series.market() == asset)
        .max_by(|a, b| {
            latest_end(a)
                .cmp(&latest_end(b))
                .then_with(|| venues(&a.series.venues).cmp(&venues(&b.series.venues)))
        })
    {
        out.push(liq.series.clone());
    }
    Ok(out)
}

/// A value with the claim that states it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Valued {
    pub value: f64,
    pub claim: ClaimId,
}

/// One funding series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FundingRow {
    pub series: DerivSeries,
    pub venues: String,
    /// The last settlement known at T.
    pub settled_at: Timestamp,
    /// Per interval, as a fraction.
    pub rate: Valued,
    /// Simple annual rate, as a fraction.
    pub annualised: Valued,
    /// Against the settlements of the 90 days before.
    pub zscore_90d: Option<Valued>,
    /// The venue's running estimate of the next settlement, as last observed by T (a live
    /// source's), when current.
    pub predicted: Option<Valued>,
    pub stale: bool,
}

/// One open-interest series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenInterestRow {
    pub series: DerivSeries,
    pub venues: String,
    pub unit: String,
    pub at: Timestamp,
    pub value: Valued,
    /// Relative change, as a fraction.
    pub change_24h: Option<Valued>,
    pub change_7d: Option<Valued>,
    /// Over the market value of the BTC supply at `at`, as a fraction.
    pub to_market_value: Option<Valued>,
    pub stale: bool,
}

/// One liquidation series (long and short of one market, venues and interval).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiquidationRow {
    /// The long side's series (the short side's is the same with its kind).
    pub series: DerivSeries,
    pub market: String,
    pub venues: String,
    pub interval: String,
    /// The last bar known at T.
    pub bar_open: Timestamp,
    pub long_usd: Valued,
    pub short_usd: Valued,
    pub total_usd: Valued,
    /// 1 = the largest bar of the series up to this one.
    pub rank: Valued,
    pub bars_in_history: usize,
    pub history_since: Timestamp,
    /// Over the open interest of the same market and venues at the bar's open, as a fraction.
    pub share_of_oi: Option<Valued>,
    pub stale: bool,
}

/// A perpetual's mark against its index at their latest common time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BasisRow {
    pub market: String,
    pub venues: String,
    pub at: Timestamp,
    pub mark: Valued,
    pub index: Valued,
    /// Mark over index, minus one (0.001 = the mark 0.1 % above the index).
    pub basis: Valued,
    pub stale: bool,
}

/// The report's body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DerivativesBody {
    pub funding: Vec<FundingRow>,
    pub basis: Vec<BasisRow>,
    pub open_interest: Vec<OpenInterestRow>,
    pub liquidations: Vec<LiquidationRow>,
    /// What could not be computed, and why.
    pub missing: Vec<String>,
}

fn data(draft: &mut Draft, input: &Input<Series>, label: &str, unit: &str, at: usize) -> Valued {
    let (t, v) = input.value[at];
    let c = Claim::data(label, v, unit, draft.as_of, &input.series, &input.source, t);
    Valued {
        value: v,
        claim: draft.add(c),
    }
}

fn derived(draft: &mut Draft, c: Claim) -> Valued {
    Valued {
        value: c.value,
        claim: draft.add(c),
    }
}

fn funding(draft: &mut Draft, s: &DerivSeries, input: &Input<Series>) -> FundingRow {
    let asof = draft.as_of;
    let last = input.value.len() - 1;
    let rate = data(
        draft,
        input,
        &format!("{} funding rate", s.venues),
        "fraction",
        last,
    );
    let per_year = s.interval.per_year();
    let annualised = derived(
        draft,
        Claim::derived(
            format!("{} funding, annualised", s.venues),
            annualise(rate.value, per_year),
            "fraction per year",
            asof,
            FUNDING_CARRY
                .of(&[&rate.claim])
                .param("intervals_per_year", per_year),
        ),
    );
    let zscore_90d = zscore_against_window(
        &input.value,
        FUNDING_WINDOW_DAYS * DAY_MS,
        FUNDING_MIN_SETTLEMENTS,
    )
    .map(|z| {
        derived(
            draft,
            Claim::derived(
                format!("{} funding z-score (90 days before)", s.venues),
                z.z,
                "sd",
                asof,
                FUNDING_ZSCORE
                    .of(&[&rate.claim])
                    .param("window_days", FUNDING_WINDOW_DAYS)
                    .param("n", z.n)
                    .param("mean", z.mean)
                    .param("sd", z.sd),
            ),
        )
    });
    FundingRow {
        series: s.clone(),
        venues: s.venues.describe(),
        settled_at: input.value[last].0,
        rate,
        annualised,
        zscore_90d,
        predicted: None,
        stale: input.is_stale(),
    }
}

/// The latest current value of a series of `kind` with `s`'s market and venues (the finest
/// interval first), as a data claim.
fn sibling(
    ctx: &Context<'_>,
    draft: &mut Draft,
    s: &DerivSeries,
    kind: DerivKind,
    label: &str,
    unit: &str,
) -> Result<Option<Valued>, EngineError> {
    let mut found: Vec<DerivSeries> = ctx
        .derivative_series()?
        .into_iter()
        .map(|i| i.series)
        .filter(|x| x.kind == kind && x.market() == s.market() && x.venues == s.venues)
        .collect();
    found.sort_by_key(|x| x.interval);
    for x in found {
        if let Some(input) = ctx.derivatives_since(&x, ctx.asof().add_millis(-DAY_MS))?
            && !input.is_stale()
        {
            draft.uses(&input);
            let last = input.value.len() - 1;
            return Ok(Some(data(draft, &input, label, unit, last)));
        }
    }
    Ok(None)
}

/// Mark against index for a mark series: at the last time both have a value.
fn basis(
    ctx: &Context<'_>,
    draft: &mut Draft,
    s: &DerivSeries,
    mark: &Input<Series>,
) -> Result<Option<BasisRow>, EngineError> {
    let index_s = s.with_kind(DerivKind::IndexPrice);
    let from = mark.value.first().map_or(ctx.asof(), |&(t, _)| t);
    let Some(index) = ctx.derivatives_since(&index_s, from)? else {
        return Ok(None);
    };
    draft.uses(&index);
    // The last time both have a value.
    let mut j = index.value.len();
    let mut i = mark.value.len();
    while i > 0 && j > 0 {
        match mark.value[i - 1].0.cmp(&index.value[j - 1].0) {
            std::cmp::Ordering::Greater => i -= 1,
            std::cmp::Ordering::Less => j -= 1,
            std::cmp::Ordering::Equal => break,
        }
    }
    if i == 0 || j == 0 {
        return Ok(None);
    }
    let label = |w: &str| format!("{} {} {w} price", s.venues, s.market());
    let m = data(draft, mark, &label("mark"), "quote units", i - 1);
    let x = data(draft, &index, &label("index"), "quote units", j - 1);
    let b = derived(
        draft,
        Claim::derived(
            format!("{} {} basis (mark / index - 1)", s.venues, s.market()),
            canary_model::derivatives::basis(m.value, x.value),
            "fraction",
            draft.as_of,
            BASIS.of(&[&m.claim, &x.claim]),
        ),
    );
    Ok(Some(BasisRow {
        market: s.market().to_string(),
        venues: s.venues.describe(),
        at: mark.value[i - 1].0,
        mark: m,
        index: x,
        basis: b,
        stale: mark.is_stale() || index.is_stale(),
    }))
}

fn change(
    draft: &mut Draft,
    input: &Input<Series>,
    value: &Valued,
    s: &DerivSeries,
    lag: (i64, &str),
) -> Option<Valued> {
    // A series sampled less often than the lag has no change over it (the nearest earlier
    // value would make it a change over a longer span).
    if s.interval.millis() > lag.0 {
        return None;
    }
    let c = change_over(&input.value, lag.0, s.interval.millis())?;
    let i = input.value.partition_point(|(t, _)| *t < c.from_time);
    let unit = match s.kind {
        DerivKind::OpenInterestUsd => "USD",
        DerivKind::OpenInterestBase => base_asset(s.market()),
        _ => "contracts",
    };
    let from = data(
        draft,
        input,
        &format!("{} open interest", s.venues),
        unit,
        i,
    );
    Some(derived(
        draft,
        Claim::derived(
            format!("{} open interest change over {}", s.venues, lag.1),
            c.relative,
            "fraction",
            draft.as_of,
            CHANGE_OVER
                .of(&[&value.claim, &from.claim])
                .param("lag", lag.1),
        ),
    ))
}

/// Open interest over the market value of the supply, at the open interest's time: the
/// daily close of `symbol` that closed then (none other is used).
fn to_market_value(
    ctx: &Context<'_>,
    draft: &mut Draft,
    p: &DerivativesParams,
    value: &Valued,
    at: Timestamp,
) -> Result<Option<Valued>, EngineError> {
    let bars = match ctx.bars(&p.symbol, Timeframe::D1) {
        Ok(b) => b,
        Err(EngineError::NoBars { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let b = bars.bars();
    let Some(i) = b.last_closed_by(at).filter(|&i| b.close_time(i) == at) else {
        return Ok(None);
    };
    draft.uses(&bars);
    let close = b.candles[i].close;
    let price = draft.add(b.claim(
        format!("{} daily close", p.symbol),
        "close",
        i,
        close,
        "USD",
        draft.as_of,
    ));
    let supply = supply_btc(estimated_height(at));
    let supply_id = draft.add(Claim::derived(
        "BTC supply by the subsidy schedule",
        supply,
        "BTC",
        draft.as_of,
        SUPPLY_FROM_SCHEDULE.of(&[]).param("at", at),
    ));
    Ok(Some(derived(
        draft,
        Claim::derived(
            "open interest / market value of the supply",
            value.value / (close * supply),
            "fraction",
            draft.as_of,
            OI_TO_MARKET_VALUE.of(&[&value.claim, &price, &supply_id]),
        ),
    )))
}

/// The base asset of a market: `BTC` of `BTCUSDT`, `BTC-STABLECOIN-MARGINED` and `BTC`.
fn base_asset(market: &str) -> &str {
    let m = market.split('-').next().unwrap_or(market);
    ["USDT", "USDC", "USD"]
        .iter()
        .find_map(|q| m.strip_suffix(q).filter(|b| !b.is_empty()))
        .unwrap_or(m)
}

fn open_interest(
    ctx: &Context<'_>,
    draft: &mut Draft,
    p: &DerivativesParams,
    s: &DerivSeries,
    input: &Input<Series>,
) -> Result<OpenInterestRow, EngineError> {
    let last = input.value.len() - 1;
    let unit = match s.kind {
        DerivKind::OpenInterestUsd => "USD",
        DerivKind::OpenInterestBase => base_asset(s.market()),
        _ => "contracts",
    };
    let value = data(
        draft,
        input,
        &format!("{} open interest", s.venues),
        unit,
        last,
    );
    let change_24h = change(draft, input, &value, s, (DAY_MS, "24 h"));
    let change_7d = change(draft, input, &value, s, (7 * DAY_MS, "7 d"));
    let at = input.value[last].0;
    let to_market_value =
        if s.kind == DerivKind::OpenInterestUsd && s.venues == Venues::All && s.market() == "BTC" {
            to_market_value(ctx, draft, p, &value, at)?
        } else {
            None
        };
    Ok(OpenInterestRow {
        series: s.clone(),
        venues: s.venues.describe(),
        unit: unit.to_string(),
        at,
        value,
        change_24h,
        change_7d,
        to_market_value,
        stale: input.is_stale(),
    })
}

fn liquidations(
    ctx: &Context<'_>,
    draft: &mut Draft,
    longs: (&DerivSeries, &Input<Series>),
    shorts: &Input<Series>,
) -> Result<Option<LiquidationRow>, EngineError> {
    let (s, long_in) = longs;
    let asof = draft.as_of;
    let totals = sum_aligned(&long_in.value, &shorts.value);
    let (Some(&(bar, total)), Some(&(first, _))) = (totals.last(), totals.first()) else {
        return Ok(None);
    };
    let li = long_in.value.partition_point(|(t, _)| *t < bar);
    let si = shorts.value.partition_point(|(t, _)| *t < bar);
    let long_usd = data(
        draft,
        long_in,
        &format!("{} long liquidations", s.venues),
        "USD",
        li,
    );
    let short_usd = data(
        draft,
        shorts,
        &format!("{} short liquidations", s.venues),
        "USD",
        si,
    );
    let total_usd = derived(
        draft,
        Claim::derived(
            format!("{} liquidations, {} bar of {bar}", s.venues, s.interval),
            total,
            "USD",
            asof,
            LIQUIDATIONS_TOTAL.of(&[&long_usd.claim, &short_usd.claim]),
        ),
    );
    let values: Vec<f64> = totals.iter().map(|x| x.1).collect();
    let (rank, n) = rank_of_last(&values).expect("not empty");
    let rank = derived(
        draft,
        Claim::derived(
            format!("rank of the bar's liquidations since {first}"),
            rank as f64,
            "rank",
            asof,
            RANK_IN_HISTORY
                .of(&[&total_usd.claim])
                .param("bars", n)
                .param("since", first),
        ),
    );
    let oi_series = s.with_kind(DerivKind::OpenInterestUsd);
    let share_of_oi = match same_venues_oi(ctx, &oi_series, bar.add_millis(-2 * DAY_MS))? {
        Some(oi) => match value_at(&oi.value, bar) {
            Some((t, v)) if bar.millis() - t.millis() <= DAY_MS && v > 0.0 => {
                let i = oi.value.partition_point(|(x, _)| *x < t);
                let oi_v = data(draft, &oi, &format!("{} open interest", s.venues), "USD", i);
                Some(derived(
                    draft,
                    Claim::derived(
                        format!("{} liquidations / open interest", s.venues),
                        total / v,
                        "fraction",
                        asof,
                        LIQUIDATIONS_SHARE_OF_OI.of(&[&total_usd.claim, &oi_v.claim]),
                    ),
                ))
            }
            _ => None,
        },
        None => None,
    };
    Ok(Some(LiquidationRow {
        series: s.clone(),
        market: s.market().to_string(),
        venues: s.venues.describe(),
        interval: s.interval.to_string(),
        bar_open: bar,
        long_usd,
        short_usd,
        total_usd,
        rank,
        bars_in_history: n,
        history_since: first,
        share_of_oi,
        stale: long_in.is_stale() || shorts.is_stale(),
    }))
}

/// The open interest in USD of exactly these market and venues, at any interval known at T
/// (the finest first).
fn same_venues_oi(
    ctx: &Context<'_>,
    like: &DerivSeries,
    from: Timestamp,
) -> Result<Option<Input<Series>>, EngineError> {
    let mut candidates: Vec<DerivSeries> = ctx
        .derivative_series()?
        .into_iter()
        .map(|i| i.series)
        .filter(|x| {
            x.kind == DerivKind::OpenInterestUsd
                && x.market() == like.market()
                && x.venues == like.venues
        })
        .collect();
    candidates.sort_by_key(|x| x.interval);
    match candidates.first() {
        Some(s) => ctx.derivatives_since(s, from),
        None => Ok(None),
    }
}

/// Funding, open interest and liquidations as of T.
///
/// # Errors
/// A database error.
pub fn derivatives(
    ctx: &Context<'_>,
    p: &DerivativesParams,
) -> Result<Report<DerivativesBody>, EngineError> {
    let mut draft = Draft::new(ctx.asof());
    let mut body = DerivativesBody {
        funding: Vec::new(),
        basis: Vec::new(),
        open_interest: Vec::new(),
        liquidations: Vec::new(),
        missing: Vec::new(),
    };
    let infos: Vec<canary_store::DerivSeriesInfo> = ctx
        .derivative_series()?
        .into_iter()
        .filter(|i| {
            p.market
                .as_ref()
                .is_none_or(|m| i.series.market().starts_with(&m.to_ascii_uppercase()))
                && p.only.as_ref().is_none_or(|o| o.contains(&i.series))
        })
        .collect();
    let known: Vec<DerivSeries> = infos.iter().map(|i| i.series.clone()).collect();
    for info in &infos {
        let s = &info.series;
        // What each row needs: liquidations their whole history (for the rank), funding the
        // window of its z-score, open interest a week and a day, prices a day.
        let back = match s.kind {
            DerivKind::LongLiquidationsUsd | DerivKind::ShortLiquidationsUsd => None,
            DerivKind::FundingRate => Some((FUNDING_WINDOW_DAYS + 1) * DAY_MS),
            DerivKind::OpenInterestUsd
            | DerivKind::OpenInterestBase
            | DerivKind::OpenInterestContracts => Some(8 * DAY_MS + s.interval.millis()),
            _ => Some(DAY_MS + s.interval.millis()),
        };
        let input = match back {
            Some(b) => ctx.derivatives_since(s, info.last.add_millis(-b))?,
            None => ctx.derivatives(s)?,
        };
        let Some(input) = input else {
            continue;
        };
        draft.uses(&input);
        match s.kind {
            DerivKind::FundingRate => {
                let mut row = funding(&mut draft, s, &input);
                row.predicted = sibling(
                    ctx,
                    &mut draft,
                    s,
                    DerivKind::PredictedFundingRate,
                    &format!("{} predicted funding rate", s.venues),
                    "fraction",
                )?;
                body.funding.push(row);
            }
            DerivKind::MarkPrice => {
                if let Some(row) = basis(ctx, &mut draft, s, &input)? {
                    body.basis.push(row);
                }
            }
            DerivKind::OpenInterestUsd
            | DerivKind::OpenInterestBase
            | DerivKind::OpenInterestContracts => {
                let row = open_interest(ctx, &mut draft, p, s, &input)?;
                body.open_interest.push(row);
            }
            DerivKind::LongLiquidationsUsd => {
                let other = s.with_kind(DerivKind::ShortLiquidationsUsd);
                match ctx.derivatives(&other)? {
                    Some(shorts) => {
                        draft.uses(&shorts);
                        if let Some(row) = liquidations(ctx, &mut draft, (s, &input), &shorts)? {
                            body.liquidations.push(row);
                        }
                    }
                    None => body.missing.push(format!(
                        "{s}: no short liquidations of the same venues to pair with"
                    )),
                }
            }
            _ => {}
        }
    }
    for (kind, what, how) in [
        (
            DerivKind::FundingRate,
            "funding rates",
            "import a funding history (canary derivatives import)",
        ),
        (
            DerivKind::OpenInterestUsd,
            "open interest",
            "import open interest (canary derivatives import)",
        ),
        (
            DerivKind::LongLiquidationsUsd,
            "liquidations",
            "import daily liquidations (canary derivatives import)",
        ),
    ] {
        let open_interest = [
            DerivKind::OpenInterestUsd,
            DerivKind::OpenInterestBase,
            DerivKind::OpenInterestContracts,
        ];
        let any = |k: &DerivKind| {
            if open_interest.contains(&kind) {
                open_interest.contains(k)
            } else {
                *k == kind
            }
        };
        if !known.iter().any(|s| any(&s.kind)) {
            body.missing
                .push(format!("{what}: none known at {}: {how}", ctx.asof()));
        }
    }
    draft.finish(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::{asof, btcusdt, crash_store};

    /// The crash morning with the shared funding, open interest and liquidations stored.
    fn store() -> Box<dyn canary_store::Stores> {
        let mut store = crash_store();
        crate::test_data::store_derivatives(&mut *store);
        store
    }

    fn params() -> DerivativesParams {
        DerivativesParams {
            market: None,
            symbol: btcusdt(),
            only: None,
        }
    }

    /// A live source's mark, index and predicted funding: the basis at their last common
    /// minute, the predicted rate beside the settled one.
    #[test]
    fn the_basis_and_the_predicted_funding_of_a_live_source() {
        use canary_store::{Point, Revisions, Source};
        let mut store = crash_store();
        let t0 = Timestamp::parse("2026-02-06T04:30:00Z").unwrap();
        let key = |k: &str| k.parse::<DerivSeries>().unwrap();
        let minute = |i: i64, v: f64| Point {
            time: t0.add_millis(i * 60_000),
            value: v,
            available_at: t0.add_millis(i * 60_000),
        };
        let mark: Vec<Point> = (0..30).map(|i| minute(i, 64_000.0 + i as f64)).collect();
        // The index stops a minute earlier: the basis is taken at minute 28.
        let index: Vec<Point> = (0..29).map(|i| minute(i, 63_900.0)).collect();
        let predicted = [minute(29, -0.0002)];
        let settled = [Point {
            time: Timestamp::parse("2026-02-06T00:00:00Z").unwrap(),
            value: -0.0001,
            available_at: Timestamp::parse("2026-02-06T00:00:00Z").unwrap(),
        }];
        store
            .insert_derivatives(
                &[
                    (&key("mark_price:BTCUSDT:bybit:1m"), &mark),
                    (&key("index_price:BTCUSDT:bybit:1m"), &index),
                    (&key("predicted_funding_rate:BTCUSDT:bybit:1m"), &predicted),
                    (&key("funding_rate:BTCUSDT:bybit:8h"), &settled),
                ],
                Source::real("bybit"),
                t0,
                Revisions::Keep,
            )
            .unwrap();
        let ctx = Context::new(&*store, asof()).unwrap();
        let r = derivatives(&ctx, &params()).unwrap();
        let b = &r.body.basis[0];
        assert_eq!(b.at.to_string(), "2026-02-06T04:58:00Z");
        assert!(!b.stale);
        assert!((b.basis.value - (64_028.0 / 63_900.0 - 1.0)).abs() < 1e-15);
        assert_eq!(b.venues, "Bybit");
        let f = &r.body.funding[0];
        assert_eq!(f.predicted.as_ref().unwrap().value, -0.0002);
    }

    #[test]
    fn base_assets() {
        assert_eq!(base_asset("BTCUSDT"), "BTC");
        assert_eq!(base_asset("BTC-STABLECOIN-MARGINED"), "BTC");
        assert_eq!(base_asset("ETH"), "ETH");
        assert_eq!(base_asset("USDT"), "USDT");
    }

    #[test]
    fn on_the_crash_morning_funding_is_known_to_midnight_and_the_rest_is_stale() {
        let store = store();
        let ctx = Context::new(&*store, asof()).unwrap();
        let r = derivatives(&ctx, &params()).unwrap();
        let f = &r.body.funding[0];
        assert_eq!(f.settled_at.to_string(), "2026-02-06T00:00:00Z");
        assert!(!f.stale);
        assert!(f.zscore_90d.is_some());
        let oi = &r.body.open_interest[0];
        assert_eq!(oi.at.to_string(), "2025-11-14T00:00:00Z");
        assert!(oi.stale);
        let l = &r.body.liquidations[0];
        assert_eq!(l.bar_open.to_string(), "2025-11-13T00:00:00Z");
        assert!(l.stale);
        let stale: Vec<&str> = r
            .warnings
            .iter()
            .filter(|w| w.kind == crate::report::WarningKind::Stale)
            .map(|w| w.series.as_str())
            .collect();
        assert!(stale.contains(&"oi_usd:BTC:all:1d"), "{stale:?}");
        assert!(
            stale.contains(&"long_liquidations_usd:BTC:binance:1d"),
            "{stale:?}"
        );
        assert!(!stale.iter().any(|s| s.starts_with("funding")), "{stale:?}");
    }
}
