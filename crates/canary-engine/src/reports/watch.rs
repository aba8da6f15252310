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
    let Some(&finest) = p.timeframes.iter().min() else {
        return Err(EngineError::param(
            "timeframes",
            "none",
            "give at least one timeframe",
        ));
    };
    let asof = ctx.asof();
    let mut draft = Draft::new(asof);
    let fine = ctx.bars(&p.symbol, finest)?;
    draft.uses(&fine);
    let fb = fine.bars();
    let last = fb.candles.len() - 1;
    let quote = quote_unit(&p.symbol);
    let price = fb.candles[last].close;
    let current = fb.claim("last price", "close", last, price, quote, asof);
    let price_id = draft.add(current.clone());
    let mut members = Vec::new();
    let mut reported = Vec::new();
    for tf in &p.timeframes {
        let bars = ctx.bars(&p.symbol, *tf)?;
        draft.uses(&bars);
        let lp = LevelParams {
            k: p.k,
            lookback: p.lookback,
            per_side: 8,
            ..LevelParams::default()
        };
        let r = find_levels(&bars.bars(), &lp, asof, Some(&current))?;
        draft.claims.extend(r.claims.clone());
        for l in r.supports.iter().chain(&r.resistances) {
            members.push(Member::of(*tf, l, r.atr));
            reported.push((*tf, l.side, l.price, l.claim.clone()));
        }
    }
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
    // The trapdoor, on the long daily profile: the merged supports below the first and the
    // profile's own high-volume nodes.
    let mut trap = None;
    if let Some(s1) = sup.first() {
        let daily = ctx.bars(&p.symbol, Timeframe::D1)?;
        let d = &daily.value.candles;
        let window = &d[d.len().saturating_sub(p.profile_days)..];
        let recent_window = &d[d.len().saturating_sub(p.recent_days)..];
        let bin = price * 0.005;
        if let (Some(prof), Some(recent)) = (
            VolumeProfile::build(window, bin),
            VolumeProfile::build(recent_window, bin),
        ) {
            let datr = sup
                .iter()
                .flat_map(|w| &w.members)
                .find(|m| m.timeframe == Timeframe::D1)
                .map_or(price * 0.03, |m| m.atr);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let r = ((0.5 * datr / bin).round() as usize).max(2);
            let hvn: Vec<Member> = prof
                .high_volume_nodes(r)
                .into_iter()
                .map(|i| prof.price(i))
                .filter(|&x| x < s1.zone.0)
                .map(|x| Member {
                    timeframe: Timeframe::D1,
                    side: Side::Support,
                    price: x,
                    zone: (x - 0.25 * datr, x + 0.25 * datr),
                    strength: 0.5,
                    methods: vec![format!("vp_hvn({} days)", window.len())],
                    atr: datr,
                })
                .collect();
            let mut candidates: Vec<WatchLevel> = sup[1..].to_vec();
            candidates.extend(merge(hvn, price).0);
            if let Some((t, gap, share)) = trapdoor(s1, &candidates, &recent) {
                let mc = member_claims(t, &reported);
                let level = c.level(t, "trapdoor", &mc);
                let s1_claim = support.as_ref().map(|s| s.claim.clone());
                let mut inputs = vec![&level.claim];
                if let Some(s) = &s1_claim {
                    inputs.push(s);
                }
                let trapdoor_claim = c.draft.add(Claim::derived(
                    format!(
                        "trapdoor: thin gap {:.0}–{:.0} ({:.0}% of the mean volume per bin)",
                        gap.0,
                        gap.1,
                        share * 100.0
                    ),
                    level.price,
                    quote,
                    asof,
                    WATCH_TRAPDOOR
                        .of(&inputs)
                        .param("profile_days", window.len())
                        .param("recent_days", recent_window.len())
                        .param("gap_low", gap.0)
                        .param("gap_high", gap.1)
                        .param("gap_volume_share", share),
                ));
                trap = Some(TrapdoorRow {
                    level,
                    gap,
                    gap_volume_share: share,
                    trapdoor_claim,
                });
            }
        }
    }
    let momentum = momentum(finest, fb.candles).map(|m| {
        let claim = c.draft.add(Claim::derived(
            format!("RSI 14 ({finest}), {}", m.state),
            m.rsi,
            "0-100",
            asof,
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
    });
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
