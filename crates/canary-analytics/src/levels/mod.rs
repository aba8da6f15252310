//! Support and resistance levels (`MODELS.md` §5.1), computed only from bars available at the
//! as-of time:
//!
//! - swing pivots with k bars each side, counted once confirmed (`pivots.rs`);
//! - pivots clustered into levels (single linkage, tolerance ε = max(0.5 % of price, 0.5 ATR 14));
//!   a level's price is the volume-weighted mean of its pivots, its zone their range ± 0.25 ATR;
//! - a volume profile (`profile.rs`): high-volume nodes confirm or add levels, low-volume runs
//!   are air pockets;
//! - round numbers (multiples of 5·10^(d−2) for a d-digit price) with a small base weight;
//! - strength = mean of three components, each scaled to [0, 1] by its maximum over the
//!   candidates: ln(1 + touches), recency Σ exp(−age/τ) (τ = 60 bars), and the share of profile
//!   volume inside the zone; +0.05 for a round number. (MODELS.md's fourth term, the mean
//!   bounce, is left out: it needs the future of each touch.)
//! - the nearest supports and resistances with distances in % and ATR and a `broken_if` rule
//!   (levels with two pivots, a volume node or two methods agreeing; round numbers alone only
//!   when a side has nothing else);
//! - the trapdoor: the next support below the nearest one when an air pocket lies between them.

mod backtest;
mod pivots;
mod profile;
pub mod watch;

pub use backtest::{
    BASELINE_RATE, BOUNCE_RATE, BacktestParams, BacktestReport, Outcome, RATIO, Tally, Variant,
    Zone, backtest_levels, entered, first_tested, outcome,
};
pub use pivots::{Pivot, PivotKind, pivots};
pub use profile::VolumeProfile;

use std::collections::BTreeSet;

use canary_model::{Claim, ClaimId, ClaimSet, Method, Timestamp};

use crate::series::Bars;
use crate::stats::quote_unit;
use crate::ta::atr;

/// A support or resistance level: the clustered pivots' price (`MODELS.md` §5.1).
pub const LEVEL: Method = Method::new("level", 1);
/// A level's zone: its cluster's span widened by a quarter ATR each side.
pub const LEVEL_ZONE: Method = Method::new("level_zone", 1);
/// Distance from the price to a level, in percent of the price.
pub const DISTANCE_PCT: Method = Method::new("distance_pct", 1);
/// Distance from the price to a level, in ATRs.
pub const DISTANCE_ATR: Method = Method::new("distance_atr", 1);
/// A level's strength: touches weighted by recency (e-folding `tau_bars`), scaled to 0–1.
pub const LEVEL_STRENGTH: Method = Method::new("level_strength", 1);
/// The number of pivots a level clusters.
pub const COUNT: Method = Method::new("count", 1);
/// The trapdoor: the next support below an air pocket of the volume profile.
pub const TRAPDOOR: Method = Method::new("trapdoor", 1);

/// Settings for [`find_levels`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelParams {
    /// Bars each side of a pivot.
    pub k: usize,
    /// Bars of history used (pivots and volume profile).
    pub lookback: usize,
    /// Volume-profile bin width in % of the price.
    pub bin_pct: f64,
    /// Levels reported per side.
    pub per_side: usize,
    /// Recency decay in bars.
    pub tau: f64,
    /// Candidates weaker than this are not reported (unless they hold two or more pivots).
    pub min_strength: f64,
    /// Zones of ± this many ATR around each level instead of its pivots' span ± 0.25 ATR
    /// (a variant measured by the backtest; off by default).
    pub zone_atr: Option<f64>,
    /// Anchored VWAPs from the window's highest high and lowest low as candidates (a variant
    /// measured by the backtest; off by default).
    pub avwap: bool,
}

impl Default for LevelParams {
    fn default() -> Self {
        LevelParams {
            k: 5,
            lookback: 730,
            bin_pct: 0.1,
            per_side: 3,
            tau: 60.0,
            min_strength: 0.25,
            zone_atr: None,
            avwap: false,
        }
    }
}

/// Below or above the price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Support,
    Resistance,
}

/// One reported level.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Level {
    pub side: Side,
    pub price: f64,
    pub zone: (f64, f64),
    pub touches: usize,
    pub last_touch: Option<Timestamp>,
    pub last_touch_bars_ago: Option<usize>,
    pub strength: f64,
    pub methods: Vec<String>,
    pub distance_pct: f64,
    pub distance_atr: f64,
    pub broken_if: String,
    /// The claim of the level's price; zone, distances and strength have claims too.
    pub claim: ClaimId,
}

/// The next support below the nearest one, with the air pocket between them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Trapdoor {
    pub from: f64,
    pub to: f64,
    #[serde(rename = "air_pocket")]
    pub pocket: (f64, f64),
    pub claim: ClaimId,
}

/// Levels of one timeframe as of a time.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LevelReport {
    pub timeframe: canary_model::Timeframe,
    #[serde(skip)]
    pub asof: Timestamp,
    pub price: f64,
    #[serde(rename = "atr_14")]
    pub atr: f64,
    pub supports: Vec<Level>,
    pub resistances: Vec<Level>,
    pub trapdoor: Option<Trapdoor>,
    pub poc: Option<f64>,
    pub value_area: Option<(f64, f64)>,
    pub air_pockets: Vec<(f64, f64)>,
    /// Price range traded in the bars used.
    #[serde(rename = "traded_range")]
    pub range: (f64, f64),
    #[serde(skip)]
    pub claims: ClaimSet,
}

/// Why levels could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LevelsError {
    #[error("levels need at least {need} {series} bars as of {asof}, there are {have}")]
    TooFewBars {
        series: String,
        need: usize,
        have: usize,
        asof: Timestamp,
    },
    /// The bars' true ranges give no finite ATR (values too extreme to measure a range on).
    #[error(
        "the {series} bars as of {asof} give no finite ATR 14: their ranges are too extreme to place levels on (check the stored bars)"
    )]
    NoAtr { series: String, asof: Timestamp },
}

/// A candidate level while levels are being assembled.
#[derive(Debug, Clone)]
struct Candidate {
    price: f64,
    lo: f64,
    hi: f64,
    pivots: Vec<Pivot>,
    methods: BTreeSet<String>,
    round: bool,
    strength: f64,
}

/// Clusters of pivot prices: single linkage with tolerance `eps` (a pivot joins the cluster when
/// it is within `eps` of the previous one), capped at a span of 2·`eps` so that dense pivots do
/// not chain into one zone covering half the chart.
fn cluster(pivots: &[Pivot], eps: f64, atr: f64, k: usize) -> Vec<Candidate> {
    let mut sorted: Vec<Pivot> = pivots.to_vec();
    sorted.sort_by(|a, b| a.price.total_cmp(&b.price));
    let mut groups: Vec<Vec<Pivot>> = Vec::new();
    for p in sorted {
        match groups.last_mut() {
            Some(g)
                if p.price - g[g.len() - 1].price <= eps && p.price - g[0].price <= 2.0 * eps =>
            {
                g.push(p);
            }
            _ => groups.push(vec![p]),
        }
    }
    groups
        .into_iter()
        .map(|g| {
            let vol: f64 = g.iter().map(|p| p.volume).sum();
            let price = if vol > 0.0 {
                g.iter().map(|p| p.price * p.volume).sum::<f64>() / vol
            } else {
                g.iter().map(|p| p.price).sum::<f64>() / g.len() as f64
            };
            let min = g.iter().map(|p| p.price).fold(f64::INFINITY, f64::min);
            let max = g.iter().map(|p| p.price).fold(f64::NEG_INFINITY, f64::max);
            Candidate {
                // (rounding can put a weighted mean of equal prices an ulp outside them)
                price: price.clamp(min, max),
                lo: min - 0.25 * atr,
                hi: max + 0.25 * atr,
                pivots: g,
                methods: BTreeSet::from([format!("pivot_cluster(k={k})")]),
                round: false,
                strength: 0.0,
            }
        })
        .collect()
}

/// Add a level found by another method: into the zone that holds it, or as a new candidate.
fn confirm_or_add(cands: &mut Vec<Candidate>, price: f64, atr: f64, method: &str, round: bool) {
    if let Some(c) = cands.iter_mut().find(|c| c.lo <= price && price <= c.hi) {
        c.methods.insert(method.to_string());
        c.round |= round;
    } else {
        cands.push(Candidate {
            price,
            lo: price - 0.25 * atr,
            hi: price + 0.25 * atr,
            pivots: Vec::new(),
            methods: BTreeSet::from([method.to_string()]),
            round,
            strength: 0.0,
        });
    }
}

/// The round-number step for a price: 5·10^(d−2) for a d-digit integer part (64,168 → 5,000).
#[must_use]
pub fn round_step(price: f64) -> f64 {
    let d = price.abs().max(1.0).log10().floor();
    5.0 * 10f64.powf(d - 1.0)
}

/// The ATR 14 of the bars, if there are enough.
fn last_atr(bars: &Bars<'_>) -> Option<f64> {
    let c = bars.candles;
    let (h, l, cl): (Vec<f64>, Vec<f64>, Vec<f64>) = (
        c.iter().map(|x| x.high).collect(),
        c.iter().map(|x| x.low).collect(),
        c.iter().map(|x| x.close).collect(),
    );
    let mut out = vec![0.0; c.len()];
    atr(&h, &l, &cl, 14, &mut out).ok()?;
    out.last().copied().filter(|x| x.is_finite())
}

/// The volume profile's findings over the window.
struct ProfileFindings {
    profile: Option<VolumeProfile>,
    poc: Option<f64>,
    value_area: Option<(f64, f64)>,
    air_pockets: Vec<(f64, f64)>,
}

/// Confirm or add high-volume nodes and the point of control as candidates; the profile's
/// point of control, value area and air pockets.
fn profile_candidates(
    cands: &mut Vec<Candidate>,
    window: &[canary_model::Candle],
    bin: f64,
    atr: f64,
    range: (f64, f64),
) -> ProfileFindings {
    let profile = VolumeProfile::build(window, bin);
    let mut found = ProfileFindings {
        profile: None,
        poc: None,
        value_area: None,
        air_pockets: Vec::new(),
    };
    if let Some(prof) = &profile {
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let r = ((0.5 * atr / prof.width).round() as usize).max(2);
        // A bin's middle can lie just beyond the traded range: keep node prices inside it.
        let inside = |x: f64| x.clamp(range.0, range.1);
        for node in prof.high_volume_nodes(r) {
            confirm_or_add(cands, inside(prof.price(node)), atr, "vp_hvn", false);
        }
        let poc = inside(prof.price(prof.poc()));
        found.poc = Some(poc);
        confirm_or_add(cands, poc, atr, "vp_poc", false);
        let (a, b) = prof.value_area(0.7);
        found.value_area = Some((
            prof.price(a) - prof.width / 2.0,
            prof.price(b) + prof.width / 2.0,
        ));
        found.air_pockets = prof.air_pockets(r, 3);
    }
    found.profile = profile;
    found
}

/// Confirm or add the round numbers inside the traded range within 30 % of the price.
fn round_candidates(cands: &mut Vec<Candidate>, price: f64, atr: f64, range: (f64, f64)) {
    let step = round_step(price);
    // Only those within 30 % of the price are kept: start there, whatever the range.
    let mut r = (range.0.max(0.7 * price) / step).ceil() * step;
    while r <= range.1.min(1.3 * price) {
        if (r / price - 1.0).abs() <= 0.3 {
            confirm_or_add(cands, r, atr, "round_number", true);
        }
        r += step;
    }
}

/// The volume-weighted mean typical price from bar `from` to the end of `window`.
fn anchored_vwap(window: &[canary_model::Candle], from: usize) -> Option<f64> {
    let (mut pv, mut v) = (0.0, 0.0);
    for c in &window[from..] {
        let typical = (c.high + c.low + c.close) / 3.0;
        pv += typical * c.volume;
        v += c.volume;
    }
    (v > 0.0).then(|| pv / v)
}

/// Confirm or add the VWAPs anchored at the window's highest high and lowest low.
fn avwap_candidates(
    cands: &mut Vec<Candidate>,
    window: &[canary_model::Candle],
    atr: f64,
    range: (f64, f64),
) {
    let hi = (0..window.len()).max_by(|&a, &b| window[a].high.total_cmp(&window[b].high));
    let lo = (0..window.len()).min_by(|&a, &b| window[a].low.total_cmp(&window[b].low));
    for (anchor, name) in [(hi, "avwap_from_high"), (lo, "avwap_from_low")] {
        if let Some(v) = anchor.and_then(|i| anchored_vwap(window, i)) {
            confirm_or_add(cands, v.clamp(range.0, range.1), atr, name, false);
        }
    }
}

/// Merge candidates whose prices are within the clustering tolerance `eps`: price weighted by
/// pivots (plus one each), zones and evidence united.
fn merge(mut cands: Vec<Candidate>, eps: f64) -> Vec<Candidate> {
    cands.sort_by(|a, b| a.price.total_cmp(&b.price));
    let mut merged: Vec<Candidate> = Vec::new();
    for c in cands {
        match merged.last_mut() {
            Some(m) if c.price - m.price <= eps => {
                let (wm, wc) = ((m.pivots.len() + 1) as f64, (c.pivots.len() + 1) as f64);
                m.price = (m.price * wm + c.price * wc) / (wm + wc);
                m.lo = m.lo.min(c.lo);
                m.hi = m.hi.max(c.hi);
                m.pivots.extend(c.pivots);
                m.methods.extend(c.methods);
                m.round |= c.round;
            }
            _ => merged.push(c),
        }
    }
    merged
}

/// Strength in 0–1: the mean of touches (log), recency (pivots decayed with e-folding `tau`
/// bars) and the share of the profile's volume inside the zone, each scaled by its maximum
/// over the candidates; plus 0.05 for a round number.
fn score(merged: &mut [Candidate], last: usize, tau: f64, profile: Option<&VolumeProfile>) {
    let comps: Vec<[f64; 3]> = merged
        .iter()
        .map(|c| {
            let touches = (1.0 + c.pivots.len() as f64).ln();
            let recency: f64 = c
                .pivots
                .iter()
                .map(|pv| (-((last - pv.index) as f64) / tau).exp())
                .sum();
            let vol_share = profile.map_or(0.0, |prof| {
                let total = prof.total();
                if total <= 0.0 {
                    return 0.0;
                }
                (0..prof.volume.len())
                    .filter(|&i| (c.lo..=c.hi).contains(&prof.price(i)))
                    .map(|i| prof.volume[i])
                    .sum::<f64>()
                    / total
            });
            [touches, recency, vol_share]
        })
        .collect();
    let maxes: [f64; 3] = std::array::from_fn(|j| comps.iter().map(|c| c[j]).fold(0.0, f64::max));
    for (c, comp) in merged.iter_mut().zip(&comps) {
        let s: f64 = (0..3)
            .map(|j| {
                if maxes[j] > 0.0 {
                    comp[j] / maxes[j]
                } else {
                    0.0
                }
            })
            .sum::<f64>()
            / 3.0;
        c.strength = (s + if c.round { 0.05 } else { 0.0 }).min(1.0);
    }
}

/// The candidates on one side of the price, nearest first: those with evidence beyond a round
/// number (two pivots, a volume node, or two methods agreeing) or strong enough on their own.
/// When nothing on a side has that evidence (price beyond every pivot, as after a crash to new
/// lows), the weaker candidates there (round numbers inside the traded range) are shown rather
/// than nothing; their methods say what they are.
fn side(merged: &[Candidate], price: f64, below: bool, min_strength: f64) -> Vec<&Candidate> {
    let keep = |c: &Candidate| {
        c.pivots.len() >= 2
            || c.methods.len() >= 2
            || c.methods.iter().any(|m| m.starts_with("vp_"))
            || c.strength >= min_strength
    };
    let on_side = |c: &&Candidate| {
        if below {
            c.price < price
        } else {
            c.price > price
        }
    };
    let mut v: Vec<&Candidate> = merged.iter().filter(on_side).filter(|c| keep(c)).collect();
    if v.is_empty() {
        v = merged.iter().filter(on_side).collect();
    }
    if below {
        v.sort_by(|a, b| b.price.total_cmp(&a.price));
    } else {
        v.sort_by(|a, b| a.price.total_cmp(&b.price));
    }
    v
}

/// What reporting a level needs besides the candidate.
struct Reporter<'a> {
    bars: &'a Bars<'a>,
    p: &'a LevelParams,
    asof: Timestamp,
    quote: &'static str,
    price: f64,
    price_id: ClaimId,
    atr: f64,
    atr_id: ClaimId,
    eps: f64,
}

impl Reporter<'_> {
    /// A candidate as a reported level, with claims for its price (from its pivots and the
    /// ATR), zone, distances, strength and touches.
    fn level(&self, c: &Candidate, side: Side, claims: &mut ClaimSet) -> Level {
        let (bars, tf, q, asof, atr) = (
            self.bars,
            self.bars.timeframe,
            self.quote,
            self.asof,
            self.atr,
        );
        let last = bars.candles.len() - 1;
        let mut inputs: Vec<ClaimId> = c
            .pivots
            .iter()
            .map(|pv| {
                let field = if pv.kind == PivotKind::High {
                    "high"
                } else {
                    "low"
                };
                claims.add(bars.claim(format!("pivot {field}"), field, pv.index, pv.price, q, asof))
            })
            .collect();
        inputs.push(self.atr_id.clone());
        let input_refs: Vec<&ClaimId> = inputs.iter().collect();
        let methods: Vec<String> = c.methods.iter().cloned().collect();
        let side_name = if side == Side::Support {
            "support"
        } else {
            "resistance"
        };
        let id = claims.add(Claim::derived(
            format!("{side_name} ({tf})"),
            c.price,
            q,
            asof,
            LEVEL
                .of(&input_refs)
                .param("methods", methods.join(","))
                .param("k", self.p.k)
                .param("eps", self.eps)
                .param("lookback_bars", self.p.lookback),
        ));
        for (label, v) in [("zone low", c.lo), ("zone high", c.hi)] {
            claims.add(Claim::derived(
                format!("{side_name} {label} ({tf})"),
                v,
                q,
                asof,
                LEVEL_ZONE
                    .of(&[&id, &self.atr_id])
                    .param("widen_atr", "0.25"),
            ));
        }
        let distance_pct = (c.price / self.price - 1.0) * 100.0;
        let distance_atr = (c.price - self.price) / atr;
        claims.add(Claim::derived(
            format!("{side_name} distance ({tf})"),
            distance_pct,
            "%",
            asof,
            DISTANCE_PCT.of(&[&id, &self.price_id]),
        ));
        claims.add(Claim::derived(
            format!("{side_name} distance in ATR ({tf})"),
            distance_atr,
            "ATR",
            asof,
            DISTANCE_ATR.of(&[&id, &self.price_id, &self.atr_id]),
        ));
        claims.add(Claim::derived(
            format!("{side_name} strength ({tf})"),
            c.strength,
            "0-1",
            asof,
            LEVEL_STRENGTH.of(&[&id]).param("tau_bars", self.p.tau),
        ));
        claims.add(Claim::derived(
            format!("{side_name} touches ({tf})"),
            c.pivots.len() as f64,
            "pivots",
            asof,
            COUNT.of(&[&id]),
        ));
        let last_touch = c.pivots.iter().max_by_key(|pv| pv.index);
        let broken_if = match side {
            Side::Support => format!("{tf} close < {:.2} (zone low − 0.5 ATR)", c.lo - 0.5 * atr),
            Side::Resistance => {
                format!("{tf} close > {:.2} (zone high + 0.5 ATR)", c.hi + 0.5 * atr)
            }
        };
        Level {
            side,
            price: c.price,
            zone: (c.lo, c.hi),
            touches: c.pivots.len(),
            last_touch: last_touch.map(|pv| pv.time),
            last_touch_bars_ago: last_touch.map(|pv| last - pv.index),
            strength: c.strength,
            methods,
            distance_pct,
            distance_atr,
            broken_if,
            claim: id,
        }
    }

    /// The trapdoor: when an air pocket lies between the nearest support and the next one, a
    /// break of the first may fall through to the second.
    fn trapdoor(
        &self,
        below: &[&Candidate],
        supports: &[Level],
        air_pockets: &[(f64, f64)],
        claims: &mut ClaimSet,
    ) -> Option<Trapdoor> {
        let (&s1, &s2) = (below.first()?, below.get(1)?);
        let &(lo, hi) = air_pockets
            .iter()
            .find(|&&(lo, hi)| lo < s1.lo && hi > s2.hi)?;
        let ids: Vec<&ClaimId> = supports.iter().take(2).map(|l| &l.claim).collect();
        let id = claims.add(Claim::derived(
            format!(
                "trapdoor: next support below an air pocket ({})",
                self.bars.timeframe
            ),
            s2.price,
            self.quote,
            self.asof,
            TRAPDOOR
                .of(&ids)
                .param("pocket_low", lo)
                .param("pocket_high", hi),
        ));
        Some(Trapdoor {
            from: s1.price,
            to: s2.price,
            pocket: (lo.max(s2.hi), hi.min(s1.lo)),
            claim: id,
        })
    }
}

/// Compute the levels of `bars` (all available at `asof`). `current` is the latest price
/// (e.g. from a finer timeframe) to place levels around; by default the last close of `bars`.
///
/// Steps: the ATR; pivots in the lookback window clustered into candidates; volume-profile
/// nodes and round numbers confirming them or added; candidates merged within the tolerance;
/// strength; the nearest on each side reported; the trapdoor.
///
/// # Errors
/// Fewer bars than the ATR and pivots need, or bars that give no finite ATR.
pub fn find_levels(
    bars: &Bars<'_>,
    p: &LevelParams,
    asof: Timestamp,
    current: Option<&Claim>,
) -> Result<LevelReport, LevelsError> {
    let need = (2 * p.k + 1).max(15);
    let n = bars.candles.len();
    if n < need {
        return Err(LevelsError::TooFewBars {
            series: bars.name(),
            need,
            have: n,
            asof,
        });
    }
    let q = quote_unit(bars.symbol);
    let tf = bars.timeframe;
    let atr = last_atr(bars).ok_or_else(|| LevelsError::NoAtr {
        series: bars.name(),
        asof,
    })?;
    let start = n.saturating_sub(p.lookback);
    let window = &bars.candles[start..];
    let last = n - 1;
    let mut claims = ClaimSet::new();
    let (price, price_id) = if let Some(c) = current {
        (c.value, claims.add(c.clone()))
    } else {
        let v = bars.candles[last].close;
        (
            v,
            claims.add(bars.claim("last close", "close", last, v, q, asof)),
        )
    };
    let atr_id = claims.add(Claim::derived(
        format!("ATR 14 ({tf})"),
        atr,
        q,
        asof,
        crate::ta::ATR_WILDER
            .of(&[&price_id])
            .param("n", "14")
            .param("series", bars.name()),
    ));

    let eps = (0.005 * price).max(0.5 * atr);
    let piv: Vec<Pivot> = pivots(window, p.k)
        .into_iter()
        .map(|mut pv| {
            pv.index += start;
            pv.confirmed_at += start;
            pv
        })
        .collect();
    let mut cands = cluster(&piv, eps, atr, p.k);
    let range = (
        window.iter().map(|c| c.low).fold(f64::INFINITY, f64::min),
        window
            .iter()
            .map(|c| c.high)
            .fold(f64::NEG_INFINITY, f64::max),
    );
    let found = profile_candidates(&mut cands, window, price * p.bin_pct / 100.0, atr, range);
    round_candidates(&mut cands, price, atr, range);
    if p.avwap {
        avwap_candidates(&mut cands, window, atr, range);
    }
    let mut merged = merge(cands, eps);
    if let Some(h) = p.zone_atr {
        for c in &mut merged {
            c.lo = c.price - h * atr;
            c.hi = c.price + h * atr;
        }
    }
    score(&mut merged, last, p.tau, found.profile.as_ref());
    let (below, above) = (
        side(&merged, price, true, p.min_strength),
        side(&merged, price, false, p.min_strength),
    );
    let reporter = Reporter {
        bars,
        p,
        asof,
        quote: q,
        price,
        price_id,
        atr,
        atr_id,
        eps,
    };
    let supports: Vec<Level> = below
        .iter()
        .take(p.per_side)
        .map(|c| reporter.level(c, Side::Support, &mut claims))
        .collect();
    let resistances: Vec<Level> = above
        .iter()
        .take(p.per_side)
        .map(|c| reporter.level(c, Side::Resistance, &mut claims))
        .collect();
    let trapdoor = reporter.trapdoor(&below, &supports, &found.air_pockets, &mut claims);
    Ok(LevelReport {
        timeframe: tf,
        asof,
        price,
        atr,
        supports,
        resistances,
        trapdoor,
        poc: found.poc,
        value_area: found.value_area,
        air_pockets: found.air_pockets,
        range,
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_model::{Candle, Provenance, Timeframe};
    use proptest::prelude::*;

    fn walk(steps: &[(f64, f64, f64)]) -> Vec<Candle> {
        let mut p = 100.0f64;
        steps
            .iter()
            .enumerate()
            .map(|(i, &(d, up, down))| {
                let o = p;
                p = (p + d).max(10.0);
                let (hi, lo) = (o.max(p) + up, (o.min(p) - down).max(1.0));
                Candle::new(
                    Timestamp::from_millis(i64::try_from(i).unwrap() * 86_400_000),
                    o,
                    hi,
                    lo,
                    p,
                    1.0 + up * 10.0,
                    None,
                    None,
                )
                .unwrap()
            })
            .collect()
    }

    fn cand(price: f64, pivots: usize, methods: &[&str], round: bool) -> Candidate {
        Candidate {
            price,
            lo: price - 1.0,
            hi: price + 1.0,
            pivots: (0..pivots)
                .map(|i| Pivot {
                    kind: PivotKind::Low,
                    index: i,
                    time: Timestamp::from_millis(0),
                    price,
                    volume: 1.0,
                    confirmed_at: i + 5,
                })
                .collect(),
            methods: methods.iter().map(|m| (*m).to_string()).collect(),
            round,
            strength: 0.0,
        }
    }

    #[test]
    fn candidates_within_the_tolerance_merge_weighted_by_pivots() {
        let merged = merge(
            vec![
                cand(100.0, 3, &["pivot_cluster(k=5)"], false),
                cand(104.0, 0, &["round_number"], true),
                cand(120.0, 1, &["vp_hvn"], false),
            ],
            5.0,
        );
        assert_eq!(merged.len(), 2);
        // Weights 3 + 1 and 0 + 1: (100·4 + 104·1) / 5.
        assert!((merged[0].price - 100.8).abs() < 1e-12);
        assert_eq!((merged[0].lo, merged[0].hi), (99.0, 105.0));
        assert!(merged[0].round && merged[0].methods.len() == 2);
    }

    #[test]
    fn strength_weighs_touches_recency_and_volume() {
        let mut c = vec![cand(100.0, 4, &["p"], false), cand(110.0, 1, &["p"], true)];
        score(&mut c, 10, 50.0, None);
        // The first has the most touches and the most recency: 2/3 of the maximum (no volume).
        assert!(
            (c[0].strength - 2.0 / 3.0).abs() < 1e-12,
            "{}",
            c[0].strength
        );
        assert!(c[1].strength < c[0].strength);
        let touches = 2f64.ln() / 5f64.ln();
        let recency = (-10.0f64 / 50.0).exp()
            / (0..4)
                .map(|i| (-f64::from(10 - i) / 50.0).exp())
                .sum::<f64>();
        let want = (touches + recency) / 3.0 + 0.05;
        assert!(
            (c[1].strength - want).abs() < 1e-12,
            "{} vs {want}",
            c[1].strength
        );
    }

    #[test]
    fn a_side_lists_evidence_nearest_first_and_falls_back_to_round_numbers() {
        let merged = vec![
            cand(90.0, 2, &["p"], false),
            cand(95.0, 0, &["round_number"], true),
            cand(97.0, 1, &["vp_hvn"], false),
            cand(110.0, 0, &["round_number"], true),
        ];
        let below: Vec<f64> = side(&merged, 100.0, true, 0.9)
            .iter()
            .map(|c| c.price)
            .collect();
        assert_eq!(below, [97.0, 90.0], "the lone round number has no evidence");
        let above: Vec<f64> = side(&merged, 100.0, false, 0.9)
            .iter()
            .map(|c| c.price)
            .collect();
        assert_eq!(
            above,
            [110.0],
            "nothing else above: the round number is shown"
        );
    }

    #[test]
    fn the_measured_variants_change_zones_and_add_anchored_vwaps() {
        let sym = canary_model::Symbol::new("TESTUSDT").unwrap();
        // Up, down, up: swing pivots on both sides of the last price.
        let mut steps = vec![(2.0, 1.0, 1.0); 30];
        steps.extend(vec![(-2.0, 1.0, 1.0); 30]);
        steps.extend(vec![(1.5, 1.0, 1.0); 20]);
        let candles = walk(&steps);
        let bars = Bars {
            symbol: &sym,
            timeframe: Timeframe::D1,
            source: "test",
            candles: &candles,
        };
        let asof = Timestamp::from_millis(0);
        let atr_zone = LevelParams {
            zone_atr: Some(0.5),
            ..LevelParams::default()
        };
        let r = find_levels(&bars, &atr_zone, asof, None).unwrap();
        for l in r.supports.iter().chain(&r.resistances) {
            assert!(((l.zone.1 - l.zone.0) - r.atr).abs() < 1e-9, "{l:?}");
        }
        let with_vwap = LevelParams {
            avwap: true,
            per_side: 20,
            ..LevelParams::default()
        };
        let r = find_levels(&bars, &with_vwap, asof, None).unwrap();
        assert!(
            r.supports
                .iter()
                .chain(&r.resistances)
                .any(|l| l.methods.iter().any(|m| m.starts_with("avwap"))),
            "{:?}",
            r.supports
        );
        // The VWAP from the lowest low: (h + l + c) / 3 weighted by volume, inside the range.
        assert!(anchored_vwap(&candles, 0).unwrap() > 0.0);
    }

    #[test]
    fn a_trapdoor_needs_an_air_pocket_between_the_first_two_supports() {
        let sym = canary_model::Symbol::new("TESTUSDT").unwrap();
        let candles = walk(&[(1.0, 1.0, 1.0); 20]);
        let bars = Bars {
            symbol: &sym,
            timeframe: Timeframe::D1,
            source: "test",
            candles: &candles,
        };
        let asof = Timestamp::from_millis(0);
        let mut claims = ClaimSet::new();
        let price_id = claims.add(bars.claim("p", "close", 19, 100.0, "USDT", asof));
        let atr_id = claims.add(Claim::derived(
            "atr",
            2.0,
            "USDT",
            asof,
            crate::ta::ATR_WILDER.of(&[&price_id]),
        ));
        let p = LevelParams::default();
        let r = Reporter {
            bars: &bars,
            p: &p,
            asof,
            quote: "USDT",
            price: 100.0,
            price_id,
            atr: 2.0,
            atr_id,
            eps: 1.0,
        };
        let (s1, s2) = (cand(95.0, 2, &["p"], false), cand(80.0, 2, &["p"], false));
        let below = [&s1, &s2];
        let supports: Vec<Level> = below
            .iter()
            .map(|c| r.level(c, Side::Support, &mut claims))
            .collect();
        // A pocket from 82 to 93 lies between 81 (s2's zone top) and 94 (s1's zone bottom).
        let t = r
            .trapdoor(&below, &supports, &[(82.0, 93.0)], &mut claims)
            .expect("a trapdoor");
        assert_eq!((t.from, t.to, t.pocket), (95.0, 80.0, (82.0, 93.0)));
        assert!(claims.check().is_ok());
        // A pocket that does not separate them is not one.
        assert!(
            r.trapdoor(&below, &supports, &[(96.0, 99.0)], &mut claims)
                .is_none()
        );
        assert!(
            r.trapdoor(&below[..1], &supports, &[(82.0, 93.0)], &mut claims)
                .is_none()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// As of any bar, levels rest only on bars up to it and on pivots confirmed by then,
        /// every claim resolves, and every level lies inside the range traded so far.
        #[test]
        fn no_look_ahead_and_claims_resolve(steps in proptest::collection::vec((-3.0f64..3.0, 0.0f64..2.0, 0.0f64..2.0), 40..200), cut in 20usize..200) {
            let all = walk(&steps);
            let m = cut.min(all.len());
            let sym = canary_model::Symbol::new("TESTUSDT").unwrap();
            let bars = Bars { symbol: &sym, timeframe: Timeframe::D1, source: "test", candles: &all[..m] };
            let asof = bars.close_time(m - 1);
            let Ok(r) = find_levels(&bars, &LevelParams::default(), asof, None) else { return Ok(()) };
            prop_assert!(r.claims.check().is_ok());
            let last_time = all[m - 1].open_time;
            let k = i64::try_from(LevelParams::default().k).unwrap();
            for c in r.claims.iter() {
                if let Provenance::Data { time, series, .. } = &c.provenance {
                    prop_assert!(*time <= last_time, "claim {} uses a bar after the as-of time", c.label);
                    if c.label.starts_with("pivot") {
                        // confirmed k bars later, still inside the data
                        prop_assert!(time.millis() + k * 86_400_000 <= last_time.millis(), "{} {}", series, time);
                    }
                }
            }
            for l in r.supports.iter().chain(&r.resistances) {
                prop_assert!(r.range.0 <= l.price && l.price <= r.range.1);
                prop_assert!(r.claims.get(&l.claim).is_some());
            }
            for l in &r.supports { prop_assert!(l.price < r.price); }
            for l in &r.resistances { prop_assert!(l.price > r.price); }
        }
    }
}
