//! One Watch from the levels of several timeframes: the nearest support, the trapdoor below
//! it and the nearest resistance, each zone agreed across timeframes, with its triggers; and
//! the momentum line.
//!
//! - **Merging.** Every reported level of every timeframe, sorted by its zone's low; a level
//!   joins the group before it when its zone overlaps the group's zone, which becomes the
//!   overlap (where the timeframes agree); otherwise it starts a group. Groups are therefore
//!   disjoint. A group whose zone holds the price is the level price is testing: it is named,
//!   not reported as support or resistance, so that no zone overlaps the price.
//! - **Triggers** are closes on the highest timeframe that agrees on the level (its close is
//!   the most decisive): a support is `broken_if` a close below its zone by 0.5 ATR of that
//!   timeframe and `reclaimed_if` a close back above its zone; a resistance is `broken_if` a
//!   close above its zone by 0.5 ATR and `reclaimed_if` (lost again) a close back below it.
//! - **The trapdoor** is the nearest support below the first whose way down is thin: the
//!   volume traded per price bin between the two zones, in the recent daily volume profile
//!   (prices it never reached count as empty), is less than [`THIN_SHARE`] of that
//!   profile's mean. The candidates are the merged supports and the high-volume nodes of a
//!   longer daily profile (the shelves of the far past that the 4h view does not see).
//! - **Momentum**: RSI 14 on the finest timeframe of the Watch (its closes confirm a
//!   trigger first), its state, its change over the last day, and a divergence with price.

use canary_model::{Candle, Timeframe};

use super::profile::VolumeProfile;
use super::{Level, Side};
use crate::ta::rsi;

/// A gap is thin when its mean volume per bin is below this share of the profile's mean.
pub const THIN_SHARE: f64 = 0.5;

/// A level of one timeframe, as the Watch merges it.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub timeframe: Timeframe,
    pub side: Side,
    pub price: f64,
    pub zone: (f64, f64),
    pub strength: f64,
    pub methods: Vec<String>,
    /// ATR 14 of its timeframe.
    pub atr: f64,
}

impl Member {
    #[must_use]
    pub fn of(tf: Timeframe, l: &Level, atr: f64) -> Member {
        Member {
            timeframe: tf,
            side: l.side,
            price: l.price,
            zone: l.zone,
            strength: l.strength,
            methods: l.methods.clone(),
            atr,
        }
    }
}

/// A close crossing a line on a timeframe.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Trigger {
    pub timeframe: Timeframe,
    /// `<` or `>`: the close below or above `line`.
    pub comparison: &'static str,
    pub line: f64,
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} close {} {:.2}",
            self.timeframe, self.comparison, self.line
        )
    }
}

/// A merged level.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchLevel {
    pub zone: (f64, f64),
    /// The strongest member's price, inside the zone.
    pub price: f64,
    pub strength: f64,
    /// Timeframes that agree, finest first.
    pub timeframes: Vec<Timeframe>,
    pub methods: Vec<String>,
    pub members: Vec<Member>,
    pub broken_if: Trigger,
    pub reclaimed_if: Trigger,
}

fn group(mut members: Vec<Member>) -> Vec<Vec<Member>> {
    members.sort_by(|a, b| {
        a.zone
            .0
            .total_cmp(&b.zone.0)
            .then(b.strength.total_cmp(&a.strength))
    });
    let mut groups: Vec<(f64, f64, Vec<Member>)> = Vec::new();
    for m in members {
        match groups.last_mut() {
            Some((lo, hi, g)) if m.zone.0 <= *hi => {
                *lo = lo.max(m.zone.0);
                *hi = hi.min(m.zone.1);
                g.push(m);
            }
            _ => groups.push((m.zone.0, m.zone.1, vec![m])),
        }
    }
    groups.into_iter().map(|g| g.2).collect()
}

fn merged(g: Vec<Member>, side: Side) -> WatchLevel {
    let lo = g.iter().map(|m| m.zone.0).fold(f64::NEG_INFINITY, f64::max);
    let hi = g.iter().map(|m| m.zone.1).fold(f64::INFINITY, f64::min);
    let best = g
        .iter()
        .max_by(|a, b| a.strength.total_cmp(&b.strength))
        .expect("a group has a member");
    let mut timeframes: Vec<Timeframe> = g.iter().map(|m| m.timeframe).collect();
    timeframes.sort();
    timeframes.dedup();
    let mut methods: Vec<String> = g.iter().flat_map(|m| m.methods.iter().cloned()).collect();
    methods.sort();
    methods.dedup();
    // The trigger's timeframe: the highest that agrees; its ATR.
    let top = *timeframes.last().expect("a group has a timeframe");
    let atr = g
        .iter()
        .filter(|m| m.timeframe == top)
        .map(|m| m.atr)
        .fold(0.0, f64::max);
    let (broken_if, reclaimed_if) = match side {
        Side::Support => (
            Trigger {
                timeframe: top,
                comparison: "<",
                line: lo - 0.5 * atr,
            },
            Trigger {
                timeframe: top,
                comparison: ">",
                line: hi,
            },
        ),
        Side::Resistance => (
            Trigger {
                timeframe: top,
                comparison: ">",
                line: hi + 0.5 * atr,
            },
            Trigger {
                timeframe: top,
                comparison: "<",
                line: lo,
            },
        ),
    };
    WatchLevel {
        zone: (lo, hi),
        price: best.price.clamp(lo, hi),
        strength: best.strength,
        timeframes,
        methods,
        members: g,
        broken_if,
        reclaimed_if,
    }
}

/// The merged levels around `price`: supports (nearest first), resistances (nearest first)
/// and the level whose zone holds the price, if any.
#[must_use]
pub fn merge(
    members: Vec<Member>,
    price: f64,
) -> (Vec<WatchLevel>, Vec<WatchLevel>, Option<WatchLevel>) {
    let (mut sup, mut res, mut at) = (Vec::new(), Vec::new(), None);
    for g in group(members) {
        // A group's side is its members' majority; its zone decides where it stands.
        let supports = g.iter().filter(|m| m.side == Side::Support).count();
        let side = if 2 * supports >= g.len() {
            Side::Support
        } else {
            Side::Resistance
        };
        let w = merged(g, side);
        if w.zone.1 < price {
            sup.push(merged(w.members, Side::Support));
        } else if w.zone.0 > price {
            res.push(merged(w.members, Side::Resistance));
        } else if at.is_none() {
            at = Some(w);
        }
    }
    sup.sort_by(|a, b| b.zone.1.total_cmp(&a.zone.1));
    res.sort_by(|a, b| a.zone.0.total_cmp(&b.zone.0));
    (sup, res, at)
}

/// The mean volume per bin between `lo` and `hi`, over the profile's mean per traded bin.
/// Prices the profile never reached count as bins with no volume: nothing traded there in
/// its window, so nothing there holds the price. `None` for an empty gap or profile.
#[must_use]
pub fn gap_share(profile: &VolumeProfile, lo: f64, hi: f64) -> Option<f64> {
    let w = profile.width;
    if hi.is_nan() || lo.is_nan() || hi <= lo || w <= 0.0 {
        return None;
    }
    let traded = profile.volume.iter().filter(|v| **v > 0.0).count().max(1);
    let mean = profile.total() / traded as f64;
    if mean <= 0.0 {
        return None;
    }
    let (mut sum, mut bins) = (0.0, 0usize);
    let mut x = lo + w / 2.0;
    while x < hi {
        let i = ((x - profile.origin) / w).floor();
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        if i >= 0.0 && (i as usize) < profile.volume.len() {
            sum += profile.volume[i as usize];
        }
        bins += 1;
        x += w;
    }
    let here = sum / bins.max(1) as f64;
    Some(here / mean)
}

/// The trapdoor below `support`: the nearest of `candidates` (below it) whose gap up to it is
/// thin in `profile`, with the gap and its volume share.
#[must_use]
pub fn trapdoor<'a>(
    support: &WatchLevel,
    candidates: &'a [WatchLevel],
    profile: &VolumeProfile,
) -> Option<(&'a WatchLevel, (f64, f64), f64)> {
    let mut below: Vec<&WatchLevel> = candidates
        .iter()
        .filter(|c| c.zone.1 < support.zone.0)
        .collect();
    below.sort_by(|a, b| b.zone.1.total_cmp(&a.zone.1));
    below.into_iter().find_map(|c| {
        let gap = (c.zone.1, support.zone.0);
        let share = gap_share(profile, gap.0, gap.1)?;
        (share < THIN_SHARE).then_some((c, gap, share))
    })
}

/// The RSI state names.
#[must_use]
pub fn rsi_state(v: f64) -> &'static str {
    if v < 30.0 {
        "oversold"
    } else if v > 70.0 {
        "overbought"
    } else {
        "neutral"
    }
}

/// The momentum line.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Momentum {
    pub timeframe: Timeframe,
    pub rsi: f64,
    pub state: &'static str,
    /// RSI now minus RSI one day of bars before.
    pub change_1d: Option<f64>,
    /// `bullish` (a lower low in price, a higher low in RSI) or `bearish` (a higher high
    /// in price, a lower high in RSI) over the last 30 bars, if any.
    pub divergence: Option<&'static str>,
}

/// RSI 14 of `candles` (one timeframe) with its state, one-day change and divergence:
/// the last 10 bars against the 20 before them.
#[must_use]
pub fn momentum(tf: Timeframe, candles: &[Candle]) -> Option<Momentum> {
    let close: Vec<f64> = candles.iter().map(|c| c.close).collect();
    let mut r = vec![f64::NAN; close.len()];
    rsi(&close, 14, &mut r).ok()?;
    let n = r.len();
    let now = *r.last().filter(|x| x.is_finite())?;
    let per_day = usize::try_from((86_400_000 / tf.duration_ms()).max(1)).unwrap_or(1);
    let change_1d = n
        .checked_sub(1 + per_day)
        .map(|i| r[i])
        .filter(|x| x.is_finite())
        .map(|before| now - before);
    let divergence = (n >= 30 && r[n - 30].is_finite()).then(|| {
        let (recent, prior) = (n - 10..n, n - 30..n - 10);
        let argmin = |range: std::ops::Range<usize>| {
            range
                .min_by(|&a, &b| candles[a].low.total_cmp(&candles[b].low))
                .expect("a range")
        };
        let argmax = |range: std::ops::Range<usize>| {
            range
                .max_by(|&a, &b| candles[a].high.total_cmp(&candles[b].high))
                .expect("a range")
        };
        let (lr, lp) = (argmin(recent.clone()), argmin(prior.clone()));
        let (hr, hp) = (argmax(recent), argmax(prior));
        if candles[lr].low < candles[lp].low && r[lr] > r[lp] {
            Some("bullish")
        } else if candles[hr].high > candles[hp].high && r[hr] < r[hp] {
            Some("bearish")
        } else {
            None
        }
    });
    Some(Momentum {
        timeframe: tf,
        rsi: now,
        state: rsi_state(now),
        change_1d,
        divergence: divergence.flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(tf: Timeframe, side: Side, lo: f64, hi: f64, strength: f64) -> Member {
        Member {
            timeframe: tf,
            side,
            price: f64::midpoint(lo, hi),
            zone: (lo, hi),
            strength,
            methods: vec![format!("m{tf}")],
            atr: 2.0,
        }
    }

    #[test]
    fn overlapping_zones_agree_and_the_price_is_never_inside_a_zone() {
        let ms = vec![
            m(Timeframe::D1, Side::Support, 90.0, 96.0, 0.8),
            m(Timeframe::H4, Side::Support, 94.0, 97.0, 0.5),
            m(Timeframe::H4, Side::Support, 80.0, 82.0, 0.3),
            m(Timeframe::D1, Side::Resistance, 99.0, 101.0, 0.9),
            m(Timeframe::H4, Side::Resistance, 110.0, 112.0, 0.4),
        ];
        let (sup, res, at) = merge(ms, 100.0);
        assert_eq!(sup.len(), 2);
        // 1d 90–96 and 4h 94–97 agree on 94–96.
        assert_eq!(sup[0].zone, (94.0, 96.0));
        assert_eq!(sup[0].timeframes, [Timeframe::H4, Timeframe::D1]);
        // The trigger is on the daily close, 0.5 daily ATR below the zone.
        assert_eq!(sup[0].broken_if.to_string(), "1d close < 93.00");
        assert_eq!(sup[0].reclaimed_if.to_string(), "1d close > 96.00");
        // 99–101 holds the price: named, not a resistance.
        assert_eq!(at.unwrap().zone, (99.0, 101.0));
        assert_eq!(res.len(), 1);
        assert_eq!(res[0].broken_if.to_string(), "4h close > 113.00");
    }

    #[test]
    fn the_trapdoor_is_below_a_thin_gap() {
        // Volume heavy at 80–84 and 94–100, nothing between.
        let bars: Vec<Candle> = (0..40)
            .map(|i| {
                let (lo, hi) = if i % 2 == 0 {
                    (94.0, 100.0)
                } else {
                    (80.0, 84.0)
                };
                Candle::new(
                    canary_model::Timestamp::from_millis(i * 86_400_000),
                    lo,
                    hi,
                    lo,
                    hi,
                    10.0,
                    None,
                    None,
                )
                .unwrap()
            })
            .collect();
        let prof = VolumeProfile::build(&bars, 0.5).unwrap();
        // Below the traded range: empty.
        assert_eq!(gap_share(&prof, 60.0, 70.0), Some(0.0));
        let (sup, _, _) = merge(
            vec![
                m(Timeframe::D1, Side::Support, 94.0, 96.0, 0.5),
                m(Timeframe::D1, Side::Support, 82.0, 84.0, 0.5),
            ],
            98.0,
        );
        let (t, gap, share) = trapdoor(&sup[0], &sup[1..], &prof).unwrap();
        assert_eq!(t.zone, (82.0, 84.0));
        assert_eq!(gap, (84.0, 94.0));
        assert!(share < THIN_SHARE, "{share}");
    }

    proptest! {
        #[test]
        fn supports_below_resistances_above_disjoint_sides(
            zones in proptest::collection::vec((50.0f64..150.0, 0.1f64..8.0, 0.0f64..1.0, any::<bool>(), any::<bool>()), 1..30),
            price in 60.0f64..140.0,
        ) {
            let ms: Vec<Member> = zones
                .iter()
                .map(|&(lo, w, s, sup, daily)| {
                    let tf = if daily { Timeframe::D1 } else { Timeframe::H4 };
                    m(tf, if sup { Side::Support } else { Side::Resistance }, lo, lo + w, s)
                })
                .collect();
            let (sup, res, at) = merge(ms, price);
            for s in &sup {
                prop_assert!(s.zone.1 < price && s.zone.0 <= s.zone.1);
                prop_assert!(s.broken_if.line < s.zone.0);
            }
            for r in &res {
                prop_assert!(r.zone.0 > price && r.zone.0 <= r.zone.1);
            }
            for side in [&sup, &res] {
                let mut z: Vec<(f64, f64)> = side.iter().map(|l| l.zone).collect();
                z.sort_by(|a, b| a.0.total_cmp(&b.0));
                for w in z.windows(2) {
                    prop_assert!(w[0].1 < w[1].0, "{:?}", w);
                }
            }
            if let Some(a) = at {
                prop_assert!(a.zone.0 <= price && price <= a.zone.1);
            }
            // Nearest first.
            for w in sup.windows(2) {
                prop_assert!(w[0].zone.1 > w[1].zone.1);
            }
        }

        #[test]
        fn the_trapdoor_is_below_the_support(
            zones in proptest::collection::vec((50.0f64..150.0, 0.1f64..8.0), 2..20),
            vols in proptest::collection::vec((40.0f64..160.0, 0.5f64..20.0, 0.0f64..100.0), 5..60),
            price in 100.0f64..150.0,
        ) {
            let ms: Vec<Member> = zones
                .iter()
                .map(|&(lo, w)| m(Timeframe::D1, Side::Support, lo, lo + w, 0.5))
                .collect();
            let bars: Vec<Candle> = vols
                .iter()
                .enumerate()
                .map(|(i, &(lo, w, v))| {
                    Candle::new(
                        canary_model::Timestamp::from_millis(i64::try_from(i).unwrap() * 86_400_000),
                        lo, lo + w, lo, lo + w, v, None, None,
                    )
                    .unwrap()
                })
                .collect();
            let (sup, _, _) = merge(ms, price);
            if let (Some(s1), Some(prof)) = (sup.first(), VolumeProfile::build(&bars, 0.5))
                && let Some((t, gap, share)) = trapdoor(s1, &sup[1..], &prof)
            {
                prop_assert!(t.zone.1 < s1.zone.0);
                prop_assert!(gap.0 == t.zone.1 && gap.1 == s1.zone.0);
                prop_assert!(share < THIN_SHARE);
            }
        }
    }
}
