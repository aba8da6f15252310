//! `watch`: one Watch for a symbol at T — the price, the nearest support, the trapdoor below
//! it, the nearest resistance, each with its zone, distances, agreeing timeframes and
//! methods, and triggers as claims an alert rule can use; the momentum line
//! (`canary_analytics::levels::watch` has the rules).

use canary_analytics::levels::watch::{Member, Momentum, WatchLevel, merge, momentum, trapdoor};
use canary_analytics::levels::{LevelParams, Side, VolumeProfile, find_levels};
use canary_analytics::stats::quote_unit;
use canary_model::{Claim, ClaimId, Method, Symbol, Timeframe, Timestamp};
use serde::Serialize;

use crate::{Context, Draft, EngineError, Report};

/// A Watch level: members merged where their zones agree.
pub const WATCH_LEVEL: Method = Method::new("watch_level", 1);
/// A trigger: a close beyond a line on a timeframe.
pub const WATCH_TRIGGER: Method = Method::new("watch_trigger", 1);
/// The trapdoor: the next support below a thin gap of the long volume profile.
pub const WATCH_TRAPDOOR: Method = Method::new("watch_trapdoor", 1);

/// What to build the Watch from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchParams {
    pub symbol: Symbol,
    /// The timeframes whose levels are merged (at least one); the finest gives the price and
    /// the momentum line.
    pub timeframes: Vec<Timeframe>,
    pub k: usize,
    /// Bars of each timeframe's levels.
    pub lookback: usize,
    /// Days of the long daily volume profile whose nodes are the shelves a trapdoor can
    /// fall to.
    pub profile_days: usize,
    /// Days of the recent daily volume profile that judges whether the way down is thin.
    pub recent_days: usize,
}

impl WatchParams {
    /// Daily and 4-hour levels, 730 bars each, a three-year profile.
    #[must_use]
    pub fn new(symbol: Symbol) -> Self {
        WatchParams {
            symbol,
            timeframes: vec![Timeframe::D1, Timeframe::H4],
            k: 5,
            lookback: 730,
            profile_days: 1095,
            recent_days: 365,
        }
    }
}

/// A trigger as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerRow {
    /// `1d close < 58,123.45`.
    pub rule: String,
    pub timeframe: Timeframe,
    pub comparison: &'static str,
    pub line: f64,
    pub claim: ClaimId,
}

/// A level as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchLevelRow {
    pub price: f64,
    pub zone: (f64, f64),
    pub distance_pct: f64,
    /// Distance in ATR of the trigger's timeframe.
    pub distance_atr: f64,
    pub strength: f64,
    pub timeframes: Vec<Timeframe>,
    pub methods: Vec<String>,
    pub broken_if: TriggerRow,
    pub reclaimed_if: TriggerRow,
    pub claim: ClaimId,
}

/// The trapdoor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrapdoorRow {
    #[serde(flatten)]
    pub level: WatchLevelRow,
    /// The thin gap between it and the support above.
    pub gap: (f64, f64),
    /// Volume per price bin in the gap over the long profile's mean.
    pub gap_volume_share: f64,
    pub trapdoor_claim: ClaimId,
}

/// The momentum line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MomentumRow {
    #[serde(flatten)]
    pub momentum: Momentum,
    pub claim: ClaimId,
    /// Why this timeframe.
    pub rule: &'static str,
}

/// The Watch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchBody {
    pub symbol: Symbol,
    pub price: f64,
    pub price_claim: ClaimId,
    /// The open time of the bar whose close is the price, and its timeframe.
    pub price_bar: Timestamp,
    pub price_timeframe: Timeframe,
    pub support: Option<WatchLevelRow>,
    pub trapdoor: Option<TrapdoorRow>,
    pub resistance: Option<WatchLevelRow>,
    /// A zone the price is inside (being tested), if any.
    pub testing: Option<WatchLevelRow>,
    pub momentum: Option<MomentumRow>,
}

const MOMENTUM_RULE: &str =
    "RSI 14 on the finest timeframe of the Watch: its closes are the first to confirm a trigger";

struct Claims<'a> {
    draft: &'a mut Draft,
    asof: Timestamp,
    quote: &'static str,
    price: f64,
    price_id: ClaimId,
}

impl Claims<'_> {
    fn trigger(
        &mut self,
        t: &canary_analytics::levels::watch::Trigger,
        kind: &str,
        level: &ClaimId,
    ) -> TriggerRow {
        let claim = self.draft.add(Claim::derived(
            format!("{kind}: {t}"),
            t.line,
            self.quote,
            self.asof,
            WATCH_TRIGGER
                .of(&[level])
                .param("kind", kind)
                .param("timeframe", t.timeframe)
                .param("comparison", t.comparison),
        ));
        TriggerRow {
            rule: t.to_string(),
            timeframe: t.timeframe,
            comparison: t.comparison,
            line: t.line,
            claim,
        }
    }

    fn level(&mut self, w: &WatchLevel, side: &str, member_claims: &[ClaimId]) -> WatchLevelRow {
        let inputs: Vec<&ClaimId> = member_claims.iter().collect();
        let tfs: Vec<String> = w.timeframes.iter().map(ToString::to_string).collect();
        let claim = self.draft.add(Claim::derived(
            format!("{side} ({})", tfs.join(", ")),
            w.price,
            self.quote,
            self.asof,
            WATCH_LEVEL
                .of(&inputs)
                .param("zone_low", w.zone.0)
                .param("zone_high", w.zone.1)
                .param("timeframes", tfs.join(","))
                .param("methods", w.methods.join(",")),
        ));
        let atr = w
            .members
            .iter()
            .filter(|m| Some(&m.timeframe) == w.timeframes.last())
            .map(|m| m.atr)
            .fold(0.0, f64::max);
        WatchLevelRow {
            price: w.price,
            zone: w.zone,
            distance_pct: (w.price / self.price - 1.0) * 100.0,
            distance_atr: if atr > 0.0 {
                (w.price - self.price) / atr
            } else {
                f64::NAN
            },
            strength: w.strength,
            timeframes: w.timeframes.clone(),
            methods: w.methods.clone(),
            broken_if: self.trigger(&w.broken_if, &format!("{side} broken_if"), &claim),
            reclaimed_if: self.trigger(&w.reclaimed_if, &format!("{side} reclaimed_if"), &claim),
            claim,
        }
    }
}

/// The claims of a merged level's members (their levels' claims in the timeframes' reports).
fn member_claims(w: &WatchLevel, reported: &[(Timeframe, Side, f64, ClaimId)]) -> Vec<ClaimId> {
    w.members
        .iter()
        .filter_map(|m| {
            reported
                .iter()
                .find(|r| r.0 == m.timeframe && r.1 == m.side && r.2.to_bits() == m.price.to_bits())
                .map(|r| r.3.clone())
        })
        .collect()
}

/// The Watch as of the context's time.
///
/// # Errors
/// No timeframe, too few bars, no bars; a database error.
pub fn watch(ctx: &Context<'_>, p: &WatchParams) -> Result<Report<WatchBody>, EngineError> {
    if p.timeframes.is_empty() {
        return Err(EngineError::param(
            "timeframes",
            "none",
            "give at least one timeframe",
        ));
    }
    let asof = ctx.asof();
    let mut draft = Draft::new(asof);
    let (tfs, finest) = timeframes_with_bars(ctx, p, &mut draft)?;
    let fine = ctx.bars(&p.symbol, finest)?;
    draft.uses(&fine);
    let fb = fine.bars();
    let last = fb.candles.len() - 1;
    let quote = quote_unit(&p.symbol);
    let price = fb.candles[last].close;
    let current = fb.claim("last price", "close", last, price, quote, asof);
    let price_id = draft.add(current.clone());
    let (members, reported) = timeframe_levels(ctx, p, &tfs, &current, &mut draft)?;
    let (sup, res, at) = merge(members, price);
    let mut c = Claims {
        draft: &mut draft,
        asof,
        quote,
        price,
        price_id: price_id.clone(),
    };
    let support = sup.first().map(|w| {
        let mc = member_claims(w, &reported);
        c.level(w, "support", &mc)
    });
    let resistance = res.first().map(|w| {
        let mc = member_claims(w, &reported);
        c.level(w, "resistance", &mc)
    });
    let testing = at.as_ref().map(|w| {
        let mc = member_claims(w, &reported);
        c.level(w, "level at the price", &mc)
    });
    // The trapdoor, below the first support, on the long daily profile.
    let trap = match &support {
        Some(s1) => {
            let daily = ctx.bars(&p.symbol, Timeframe::D1)?;
            trapdoor_row(p, &daily.value.candles, &sup, &s1.claim, &reported, &mut c)
        }
        _ => None,
    };
    let momentum = momentum_row(finest, fb.candles, &mut c);
    draft.finish(WatchBody {
        symbol: p.symbol.clone(),
        price,
        price_claim: price_id,
        price_bar: fb.candles[last].open_time,
        price_timeframe: finest,
        support,
        trapdoor: trap,
        resistance,
        testing,
        momentum,
    })
}

/// The timeframes asked for that have bars at T, and the finest of them. A missing one is a
/// warning, not an error, while one is left; with none, the first missing one's error.
fn timeframes_with_bars(
    ctx: &Context<'_>,
    p: &WatchParams,
    draft: &mut Draft,
) -> Result<(Vec<Timeframe>, Timeframe), EngineError> {
    let asof = ctx.asof();
    let mut tfs = Vec::new();
    let mut first_err = None;
    for tf in &p.timeframes {
        match ctx.bars(&p.symbol, *tf) {
            Ok(_) => tfs.push(*tf),
            Err(e @ EngineError::NoBars { .. }) => {
                draft.warn(crate::Warning {
                    kind: crate::WarningKind::Assumed,
                    series: format!("{} {tf}", p.symbol),
                    last_time: None,
                    age_days: None,
                    message: format!(
                        "no {} {tf} bars as of {asof}: the Watch is built without that timeframe",
                        p.symbol
                    ),
                });
                first_err.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    let Some(&finest) = tfs.iter().min() else {
        return Err(first_err.expect("a timeframe was asked for"));
    };
    Ok((tfs, finest))
}

/// A level of one timeframe's report, to find its claim again: timeframe, side, price and
/// claim.
type Reported = (Timeframe, Side, f64, ClaimId);

/// Each timeframe's levels at T (their claims into `draft`), as members to merge and as
/// reported.
fn timeframe_levels(
    ctx: &Context<'_>,
    p: &WatchParams,
    tfs: &[Timeframe],
    current: &Claim,
    draft: &mut Draft,
) -> Result<(Vec<Member>, Vec<Reported>), EngineError> {
    let mut members = Vec::new();
    let mut reported = Vec::new();
    for tf in tfs {
        let bars = ctx.bars(&p.symbol, *tf)?;
        draft.uses(&bars);
        let lp = LevelParams {
            k: p.k,
            lookback: p.lookback,
            per_side: 8,
            ..LevelParams::default()
        };
        let r = find_levels(&bars.bars(), &lp, ctx.asof(), Some(current))?;
        draft.claims.extend(r.claims.clone());
        for l in r.supports.iter().chain(&r.resistances) {
            members.push(Member::of(*tf, l, r.atr));
            reported.push((*tf, l.side, l.price, l.claim.clone()));
        }
    }
    Ok((members, reported))
}

/// The trapdoor below the first support `sup[0]` (claimed as `s1_claim`), on the long daily
/// profile: the next support below a thin gap, among the merged supports below the first and
/// the profile's own high-volume nodes. None without a profile or a thin gap.
fn trapdoor_row(
    p: &WatchParams,
    daily: &[canary_model::Candle],
    sup: &[WatchLevel],
    s1_claim: &ClaimId,
    reported: &[Reported],
    c: &mut Claims<'_>,
) -> Option<TrapdoorRow> {
    let s1 = sup.first()?;
    let price = c.price;
    let window = &daily[daily.len().saturating_sub(p.profile_days)..];
    let recent_window = &daily[daily.len().saturating_sub(p.recent_days)..];
    let bin = price * 0.005;
    let prof = VolumeProfile::build(window, bin)?;
    let recent = VolumeProfile::build(recent_window, bin)?;
    let datr = sup
        .iter()
        .flat_map(|w| &w.members)
        .find(|m| m.timeframe == Timeframe::D1)
        .map_or(price * 0.03, |m| m.atr);
    let hvn = profile_supports(&prof, s1, datr, window.len());
    let mut candidates: Vec<WatchLevel> = sup[1..].to_vec();
    candidates.extend(merge(hvn, price).0);
    let (t, gap, share) = trapdoor(s1, &candidates, &recent)?;
    let mc = member_claims(t, reported);
    let level = c.level(t, "trapdoor", &mc);
    let inputs = vec![&level.claim, s1_claim];
    let trapdoor_claim = c.draft.add(Claim::derived(
        format!(
            "trapdoor: thin gap {:.0}–{:.0} ({:.0}% of the mean volume per bin)",
            gap.0,
            gap.1,
            share * 100.0
        ),
        level.price,
        c.quote,
        c.asof,
        WATCH_TRAPDOOR
            .of(&inputs)
            .param("profile_days", window.len())
            .param("recent_days", recent_window.len())
            .param("gap_low", gap.0)
            .param("gap_high", gap.1)
            .param("gap_volume_share", share),
    ));
    Some(TrapdoorRow {
        level,
        gap,
        gap_volume_share: share,
        trapdoor_claim,
    })
}

/// The long profile's high-volume nodes below the first support's zone, as daily supports
/// half a daily ATR wide (`days`: the profile's length, for the method's name).
fn profile_supports(prof: &VolumeProfile, s1: &WatchLevel, datr: f64, days: usize) -> Vec<Member> {
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let r = ((0.5 * datr / prof.width).round() as usize).max(2);
    prof.high_volume_nodes(r)
        .into_iter()
        .map(|i| prof.price(i))
        .filter(|&x| x < s1.zone.0)
        .map(|x| Member {
            timeframe: Timeframe::D1,
            side: Side::Support,
            price: x,
            zone: (x - 0.25 * datr, x + 0.25 * datr),
            strength: 0.5,
            methods: vec![format!("vp_hvn({days} days)")],
            atr: datr,
        })
        .collect()
}

/// The momentum line on the finest timeframe: RSI 14, its state and any divergence, as a
/// claim on the price.
fn momentum_row(
    finest: Timeframe,
    candles: &[canary_model::Candle],
    c: &mut Claims<'_>,
) -> Option<MomentumRow> {
    momentum(finest, candles).map(|m| {
        let claim = c.draft.add(Claim::derived(
            format!("RSI 14 ({finest}), {}", m.state),
            m.rsi,
            "0-100",
            c.asof,
            canary_analytics::ta::RSI_WILDER
                .of(&[&c.price_id])
                .param("n", 14)
                .param("timeframe", finest),
        ));
        MomentumRow {
            momentum: m,
            claim,
            rule: MOMENTUM_RULE,
        }
    })
}

/// What `watch_history` walks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchHistoryParams {
    pub watch: WatchParams,
    pub from: Timestamp,
    pub to: Timestamp,
    /// Between two as-of times.
    pub step_ms: i64,
    /// How long after an as-of time a trigger may fire.
    pub horizon_ms: i64,
    /// How long after a firing the move that followed is measured.
    pub follow_ms: i64,
}

/// What became of one trigger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fired {
    pub rule: String,
    pub line: f64,
    /// The close time of the bar that crossed the line, if one did within the horizon.
    pub fired_at: Option<Timestamp>,
    /// The daily close `follow` after the firing over the firing bar's close − 1, %.
    pub followed_pct: Option<f64>,
}

/// One as-of time of the history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchHistoryRow {
    pub asof: Timestamp,
    pub price: f64,
    pub support_broken: Option<Fired>,
    pub resistance_broken: Option<Fired>,
    /// The trapdoor's zone top, and when a low first reached it within the horizon.
    pub trapdoor: Option<f64>,
    pub trapdoor_reached_at: Option<Timestamp>,
}

/// The history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchHistoryBody {
    pub symbol: Symbol,
    pub rows: Vec<WatchHistoryRow>,
    pub horizon_days: f64,
    pub follow_days: f64,
    pub history_claim: ClaimId,
}

/// When a close of `bars` (open time, close) after `after` and closing by `until` first
/// crossed the trigger, and the daily close `follow_ms` later relative to that close.
fn fired(
    t: &TriggerRow,
    bars: &[canary_model::Candle],
    daily: &[canary_model::Candle],
    after: Timestamp,
    until: Timestamp,
    follow_ms: i64,
) -> Fired {
    let tf = t.timeframe;
    let hit = bars.iter().find(|b| {
        let close_at = tf.close_of(b.open_time);
        close_at > after
            && close_at <= until
            && if t.comparison == "<" {
                b.close < t.line
            } else {
                b.close > t.line
            }
    });
    let fired_at = hit.map(|b| tf.close_of(b.open_time));
    let followed_pct = hit.and_then(|b| {
        let target = tf.close_of(b.open_time).add_millis(follow_ms);
        daily
            .iter()
            .find(|d| Timeframe::D1.close_of(d.open_time) >= target)
            .map(|d| 100.0 * (d.close / b.close - 1.0))
    });
    Fired {
        rule: t.rule.clone(),
        line: t.line,
        fired_at,
        followed_pct,
    }
}

/// For each as-of time from `from` to `to`, the Watch as it was then and what became of its
/// triggers: which fired within the horizon, and how price moved in the `follow` after.
/// The Watch at each time sees only what was known then; the outcomes use the bars known at
/// the context's time.
///
/// # Errors
/// As [`watch`], at any of the times; a database error.
pub fn watch_history(
    ctx: &Context<'_>,
    p: &WatchHistoryParams,
    mut progress: impl FnMut(usize, usize),
) -> Result<Report<WatchHistoryBody>, EngineError> {
    if p.step_ms <= 0 || p.from > p.to {
        return Err(EngineError::param(
            "step",
            p.step_ms,
            "give a positive step and a start before the end",
        ));
    }
    let mut draft = Draft::new(ctx.asof());
    let daily = ctx.bars(&p.watch.symbol, Timeframe::D1)?;
    draft.uses(&daily);
    let mut by_tf: Vec<(Timeframe, Vec<canary_model::Candle>)> = Vec::new();
    for tf in &p.watch.timeframes {
        by_tf.push((*tf, ctx.bars(&p.watch.symbol, *tf)?.value.candles));
    }
    let bars_of = |tf: Timeframe| {
        by_tf
            .iter()
            .find(|(t, _)| *t == tf)
            .map_or(&[][..], |(_, b)| b.as_slice())
    };
    let times: Vec<Timestamp> = std::iter::successors(Some(p.from), |t| {
        Some(t.add_millis(p.step_ms)).filter(|n| *n <= p.to)
    })
    .collect();
    let mut rows = Vec::with_capacity(times.len());
    for (i, &t) in times.iter().enumerate() {
        progress(i, times.len());
        let then = ctx.at(t)?;
        let w = watch(&then, &p.watch)?.body;
        let until = t.add_millis(p.horizon_ms).min(ctx.asof());
        let d = &daily.value.candles;
        let support_broken = w.support.as_ref().map(|s| {
            fired(
                &s.broken_if,
                bars_of(s.broken_if.timeframe),
                d,
                t,
                until,
                p.follow_ms,
            )
        });
        let resistance_broken = w.resistance.as_ref().map(|r| {
            fired(
                &r.broken_if,
                bars_of(r.broken_if.timeframe),
                d,
                t,
                until,
                p.follow_ms,
            )
        });
        let finest = bars_of(w.price_timeframe);
        let trapdoor = w.trapdoor.as_ref().map(|x| x.level.zone.1);
        let trapdoor_reached_at = trapdoor.and_then(|top| {
            finest
                .iter()
                .find(|b| {
                    let c = w.price_timeframe.close_of(b.open_time);
                    c > t && c <= until && b.low <= top
                })
                .map(|b| w.price_timeframe.close_of(b.open_time))
        });
        rows.push(WatchHistoryRow {
            asof: t,
            price: w.price,
            support_broken,
            resistance_broken,
            trapdoor,
            trapdoor_reached_at,
        });
    }
    progress(times.len(), times.len());
    let src = draft.add(Claim::data(
        format!("{} bars as of {}", p.watch.symbol, ctx.asof()),
        1.0,
        "series",
        ctx.asof(),
        format!("{} 1d", p.watch.symbol),
        &daily.source,
        p.to,
    ));
    let history_claim = draft.add(Claim::derived(
        "Watch triggers fired",
        rows.iter()
            .filter(|r| {
                r.support_broken
                    .as_ref()
                    .is_some_and(|f| f.fired_at.is_some())
                    || r.resistance_broken
                        .as_ref()
                        .is_some_and(|f| f.fired_at.is_some())
            })
            .count() as f64,
        "as-of times",
        ctx.asof(),
        WATCH_TRIGGER
            .of(&[&src])
            .param("from", p.from)
            .param("to", p.to)
            .param("step_ms", p.step_ms)
            .param("horizon_ms", p.horizon_ms),
    ));
    draft.finish(WatchHistoryBody {
        symbol: p.watch.symbol.clone(),
        rows,
        horizon_days: p.horizon_ms as f64 / 86_400_000.0,
        follow_days: p.follow_ms as f64 / 86_400_000.0,
        history_claim,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data;

    /// The Watch's inputs on the crash morning, through its first steps: the draft with the
    /// price claim, the price, the merged supports and the levels as reported.
    struct Levels {
        draft: Draft,
        price: f64,
        price_id: ClaimId,
        current: Claim,
        sup: Vec<WatchLevel>,
        reported: Vec<Reported>,
        daily: Vec<canary_model::Candle>,
        fine: Vec<canary_model::Candle>,
    }

    fn crash_levels(store: &dyn canary_store::Stores) -> Levels {
        let ctx = Context::new(store, test_data::asof()).unwrap();
        let p = WatchParams::new(test_data::btcusdt());
        let mut draft = Draft::new(ctx.asof());
        let fine = ctx.bars(&p.symbol, Timeframe::H4).unwrap();
        let fb = fine.bars();
        let last = fb.candles.len() - 1;
        let price = fb.candles[last].close;
        let current = fb.claim("last price", "close", last, price, "USDT", ctx.asof());
        let price_id = draft.add(current.clone());
        let tfs = [Timeframe::D1, Timeframe::H4];
        let (members, reported) = timeframe_levels(&ctx, &p, &tfs, &current, &mut draft).unwrap();
        let (sup, _, _) = merge(members, price);
        Levels {
            draft,
            price,
            price_id,
            current,
            sup,
            reported,
            daily: ctx.bars(&p.symbol, Timeframe::D1).unwrap().value.candles,
            fine: fine.value.candles.clone(),
        }
    }

    /// A timeframe without bars is a warning while another has bars; with none, the error.
    #[test]
    fn a_missing_timeframe_is_warned_about_until_none_is_left() {
        let store = test_data::crash_store();
        let ctx = Context::new(&*store, test_data::asof()).unwrap();
        let mut p = WatchParams::new(test_data::btcusdt());
        p.timeframes.push(Timeframe::H1);
        let mut draft = Draft::new(ctx.asof());
        let (tfs, finest) = timeframes_with_bars(&ctx, &p, &mut draft).unwrap();
        assert_eq!(tfs, [Timeframe::D1, Timeframe::H4]);
        assert_eq!(finest, Timeframe::H4);
        let warnings = draft.finish(()).unwrap().warnings;
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].series, "BTCUSDT 1h");
        p.timeframes = vec![Timeframe::H1, Timeframe::M1];
        let e = timeframes_with_bars(&ctx, &p, &mut Draft::new(ctx.asof())).unwrap_err();
        assert!(
            matches!(
                e,
                EngineError::NoBars {
                    timeframe: Timeframe::H1,
                    ..
                }
            ),
            "{e}"
        );
    }

    /// Every level of each timeframe is a member, found again by its reported claim.
    #[test]
    fn each_timeframes_levels_are_members_with_their_claims() {
        let store = test_data::crash_store();
        let l = crash_levels(&*store);
        for tf in [Timeframe::D1, Timeframe::H4] {
            assert!(l.reported.iter().any(|r| r.0 == tf), "{tf}");
        }
        for r in &l.reported {
            assert!(
                l.draft.claims.get(&r.3).is_some(),
                "{} not in the draft",
                r.3
            );
        }
        let s1 = &l.sup[0];
        assert!(s1.price < l.price);
        let mc = member_claims(s1, &l.reported);
        assert_eq!(mc.len(), s1.members.len());
        assert!(l.current.value > s1.zone.1);
    }

    /// The profile's high-volume nodes below the first support, as daily supports half a
    /// daily ATR wide.
    #[test]
    fn the_profiles_nodes_below_the_first_support_are_supports() {
        let store = test_data::crash_store();
        let l = crash_levels(&*store);
        let window = &l.daily[l.daily.len() - 1095..];
        let prof = VolumeProfile::build(window, l.price * 0.005).unwrap();
        let (s1, datr) = (&l.sup[0], 2_000.0);
        let hvn = profile_supports(&prof, s1, datr, window.len());
        assert!(!hvn.is_empty());
        for m in &hvn {
            assert!(m.price < s1.zone.0, "{}", m.price);
            assert_eq!((m.side, m.timeframe), (Side::Support, Timeframe::D1));
            assert!((m.zone.1 - m.zone.0 - 0.5 * datr).abs() < 1e-6);
            assert_eq!(m.methods, ["vp_hvn(1095 days)"]);
        }
    }

    fn claims(l: &mut Levels) -> Claims<'_> {
        Claims {
            draft: &mut l.draft,
            asof: test_data::asof(),
            quote: "USDT",
            price: l.price,
            price_id: l.price_id.clone(),
        }
    }

    /// The crash's trapdoor lies below the first support, past a thin gap, its claim derived
    /// from its level's and the support's; without a long enough profile there is none.
    #[test]
    fn the_trapdoor_is_below_a_thin_gap_under_the_first_support() {
        let store = test_data::crash_store();
        let mut l = crash_levels(&*store);
        let p = WatchParams::new(test_data::btcusdt());
        let (sup, reported, daily) = (l.sup.clone(), l.reported.clone(), l.daily.clone());
        let mut c = claims(&mut l);
        let s1 = c.level(&sup[0], "support", &member_claims(&sup[0], &reported));
        let t = trapdoor_row(&p, &daily, &sup, &s1.claim, &reported, &mut c).expect("a trapdoor");
        assert!(
            t.level.zone.1 < sup[0].zone.0,
            "{:?} {:?}",
            t.level.zone,
            sup[0].zone
        );
        assert!(
            t.gap.0 >= t.level.zone.1 && t.gap.1 <= sup[0].zone.0,
            "{:?}",
            t.gap
        );
        assert!(t.gap_volume_share < 1.0, "{}", t.gap_volume_share);
        match &c.draft.claims.get(&t.trapdoor_claim).unwrap().provenance {
            canary_model::Provenance::Derived { inputs, .. } => {
                assert_eq!(inputs, &[t.level.claim.clone(), s1.claim.clone()]);
            }
            other @ canary_model::Provenance::Data { .. } => panic!("{other:?}"),
        }
        assert!(trapdoor_row(&p, &daily[..0], &sup, &s1.claim, &reported, &mut c).is_none());
    }

    /// The momentum line is RSI 14 of the finest timeframe, a claim on the price.
    #[test]
    fn the_momentum_line_is_a_claim_on_the_price() {
        let store = test_data::crash_store();
        let mut l = crash_levels(&*store);
        let fine = l.fine.clone();
        let mut c = claims(&mut l);
        let m = momentum_row(Timeframe::H4, &fine, &mut c).expect("a momentum line");
        assert_eq!(m.rule, MOMENTUM_RULE);
        assert!((0.0..=100.0).contains(&m.momentum.rsi));
        let claim = c.draft.claims.get(&m.claim).unwrap();
        assert_eq!(claim.value.to_bits(), m.momentum.rsi.to_bits());
        assert!(momentum_row(Timeframe::H4, &fine[..3], &mut c).is_none());
    }
}
