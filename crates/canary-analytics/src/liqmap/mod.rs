//! The estimated liquidation map (MODELS.md §4.2) and the cascade loop (§4.4).
//!
//! **The map.** Open interest that rose over a bar is taken as positions opened at the bar's
//! typical price `(H + L + C) / 3`, split long and short by [`MapParams::long_share`] and over
//! leverage tiers ([`MapParams::tiers`]); each tier's share is placed at its liquidation price
//! (§4.1, isolated margin, one maintenance rate, no maintenance amount). Open interest that
//! fell closes positions pro rata. A bar's low consumes every long placed at or above it and
//! its high every short at or below it (the amounts consumed are the map's *predicted*
//! liquidations of that bar); what remains decays with age (`exp(−Δt / τ)`). Open interest is
//! counted in coins (USD over the bar's close), so a price move is not taken for new positions.
//! Prices fall in buckets of equal width on a log scale ([`MapParams::bucket_pct`]). The map
//! starts empty at the first bar: positions opened before the data are unknown.
//!
//! **The cascade.** From the long side of a map, a price `P0` and a shock `s0`: the price falls
//! to `P1 = P0 (1 − s0)`, every long at or above it is liquidated, the forced selling moves the
//! price by a linear impact (`depth_1pct_usd` sold moves it 1 %) less the share absorbed, more
//! longs are crossed, until a round crosses less than `epsilon_usd`. Always a scenario, never a
//! forecast: the impact under stress is the quantity nobody observes in advance.

pub mod backtest;
pub mod impact;

use std::collections::BTreeMap;

use canary_model::Method;
use serde::Serialize;

/// The estimated liquidation map, version 1 (the parameters in [`MapParams`]).
pub const LIQUIDATION_MAP: Method = Method::new("liquidation_map", 1);
/// The cascade loop with a linear impact, version 1.
pub const CASCADE: Method = Method::new("cascade_linear_impact", 1);

/// The map's parameters. Every one is an assumption (§4.2): [`MapParams::reference`] is the
/// documented starting point, the backtest's walk-forward picks among [`MapParams::grid`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapParams {
    /// (leverage, weight) pairs; the weights sum to 1.
    pub tiers: Vec<(f64, f64)>,
    /// Maintenance margin rate (0.005 = 0.5 %).
    pub mmr: f64,
    /// Share of new positions that are long (0.5 when the taker split is unknown).
    pub long_share: f64,
    /// Age constant τ of the decay, in days.
    pub decay_days: f64,
    /// Width of a price bucket, in percent of price (log-scale buckets).
    pub bucket_pct: f64,
}

impl MapParams {
    /// §4.2's example: {2x .10, 3x .10, 5x .20, 10x .30, 20x .20, 50x .10}, MMR 0.5 %, half of
    /// new positions long, τ = 14 days, buckets of 0.25 %.
    #[must_use]
    pub fn reference() -> Self {
        MapParams {
            tiers: vec![
                (2.0, 0.10),
                (3.0, 0.10),
                (5.0, 0.20),
                (10.0, 0.30),
                (20.0, 0.20),
                (50.0, 0.10),
            ],
            mmr: 0.005,
            long_share: 0.5,
            decay_days: 14.0,
            bucket_pct: 0.25,
        }
    }

    /// The candidates the walk-forward chooses among: three leverage profiles (lower, the
    /// reference, higher) × τ of 7, 14 and 30 days. Fixed before any backtest was run.
    #[must_use]
    pub fn grid() -> Vec<MapParams> {
        let low = vec![(2.0, 0.25), (3.0, 0.25), (5.0, 0.25), (10.0, 0.25)];
        let high = vec![(10.0, 0.25), (20.0, 0.25), (50.0, 0.25), (100.0, 0.25)];
        let mut out = Vec::new();
        for tiers in [low, Self::reference().tiers, high] {
            for decay_days in [7.0, 14.0, 30.0] {
                out.push(MapParams {
                    tiers: tiers.clone(),
                    decay_days,
                    ..Self::reference()
                });
            }
        }
        out
    }

    /// A long's liquidation price for an entry at `ep` with leverage `l` (§4.1, first tier).
    #[must_use]
    pub fn long_liquidation(&self, ep: f64, l: f64) -> f64 {
        ep * (1.0 - 1.0 / l) / (1.0 - self.mmr)
    }

    /// A short's liquidation price (§4.1).
    #[must_use]
    pub fn short_liquidation(&self, ep: f64, l: f64) -> f64 {
        ep * (1.0 + 1.0 / l) / (1.0 + self.mmr)
    }
}

/// One bar of the map's input: the open interest at its close (USD) and its prices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapBar {
    /// The bar's close time (ms): the open interest's time.
    pub close_ms: i64,
    pub oi_usd: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
}

/// What one bar did to the map.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BarEffect {
    /// USD of longs and shorts the bar's range consumed (the map's predicted liquidations).
    pub long_consumed: f64,
    pub short_consumed: f64,
    /// USD of positions the bar opened.
    pub opened: f64,
}

/// The map: USD per price bucket on each side.
#[derive(Debug, Clone)]
pub struct LiquidationMap {
    params: MapParams,
    /// `ln(1 + bucket_pct / 100)`.
    step: f64,
    /// Stored amounts; the USD of a bucket is its stored amount × `scale`.
    longs: BTreeMap<i32, f64>,
    shorts: BTreeMap<i32, f64>,
    scale: f64,
    /// The previous bar's open interest in coins and its close time.
    last: Option<(f64, i64)>,
}

/// A bucket's range and USD, lowest price first.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bucket {
    pub low: f64,
    pub high: f64,
    pub usd: f64,
}

impl LiquidationMap {
    #[must_use]
    pub fn new(params: MapParams) -> Self {
        let step = (1.0 + params.bucket_pct / 100.0).ln();
        LiquidationMap {
            params,
            step,
            longs: BTreeMap::new(),
            shorts: BTreeMap::new(),
            scale: 1.0,
            last: None,
        }
    }

    #[must_use]
    pub fn params(&self) -> &MapParams {
        &self.params
    }

    fn bucket(&self, price: f64) -> i32 {
        // Prices are within the candles' bounds (1e-12 … 1e12): the index fits an i32 for any
        // bucket of 0.01 % or more.
        #[expect(clippy::cast_possible_truncation, reason = "bounded, see above")]
        let i = (price.ln() / self.step).floor() as i32;
        i
    }

    fn centre(&self, i: i32) -> f64 {
        ((f64::from(i) + 0.5) * self.step).exp()
    }

    fn add(side: &mut BTreeMap<i32, f64>, i: i32, stored: f64) {
        *side.entry(i).or_insert(0.0) += stored;
    }

    /// Apply one bar (bars in time order, each closing after the previous one).
    pub fn step(&mut self, bar: &MapBar) -> BarEffect {
        let mut effect = BarEffect::default();
        if let Some((_, prev_ms)) = self.last {
            let dt_days = (bar.close_ms - prev_ms) as f64 / 86_400_000.0;
            self.scale *= (-dt_days / self.params.decay_days).exp();
        }
        // The bar's range consumes what it traded through.
        let lo = self.bucket(bar.low);
        let first_consumed = if self.centre(lo) >= bar.low {
            lo
        } else {
            lo + 1
        };
        let gone = self.longs.split_off(&first_consumed);
        effect.long_consumed = gone.values().sum::<f64>() * self.scale;
        let hi = self.bucket(bar.high);
        let last_consumed = if self.centre(hi) <= bar.high {
            hi
        } else {
            hi - 1
        };
        let kept = self.shorts.split_off(&(last_consumed + 1));
        effect.short_consumed = std::mem::replace(&mut self.shorts, kept)
            .values()
            .sum::<f64>()
            * self.scale;
        // Open interest in coins: opened, or closed pro rata.
        let coins = bar.oi_usd / bar.close;
        if let Some((prev, _)) = self.last {
            let d = coins - prev;
            if d > 0.0 {
                let ep = (bar.high + bar.low + bar.close) / 3.0;
                let usd = d * ep;
                effect.opened = usd;
                let tiers = self.params.tiers.clone();
                for (l, w) in tiers {
                    let long = usd * self.params.long_share * w / self.scale;
                    let short = usd * (1.0 - self.params.long_share) * w / self.scale;
                    let (li, si) = (
                        self.bucket(self.params.long_liquidation(ep, l)),
                        self.bucket(self.params.short_liquidation(ep, l)),
                    );
                    Self::add(&mut self.longs, li, long);
                    Self::add(&mut self.shorts, si, short);
                }
            } else if d < 0.0 && prev > 0.0 {
                self.scale *= (1.0 - (-d / prev)).max(0.0);
            }
        }
        self.last = Some((coins, bar.close_ms));
        if self.scale < 1e-100 {
            self.renormalise();
        }
        effect
    }

    fn renormalise(&mut self) {
        let s = self.scale;
        for v in self.longs.values_mut().chain(self.shorts.values_mut()) {
            *v *= s;
        }
        self.scale = 1.0;
    }

    fn buckets(&self, side: &BTreeMap<i32, f64>) -> Vec<Bucket> {
        side.iter()
            .map(|(&i, &v)| Bucket {
                low: (f64::from(i) * self.step).exp(),
                high: (f64::from(i + 1) * self.step).exp(),
                usd: v * self.scale,
            })
            .filter(|b| b.usd > 0.0)
            .collect()
    }

    /// The longs' buckets, lowest price first.
    #[must_use]
    pub fn longs(&self) -> Vec<Bucket> {
        self.buckets(&self.longs)
    }

    /// The shorts' buckets, lowest price first.
    #[must_use]
    pub fn shorts(&self) -> Vec<Bucket> {
        self.buckets(&self.shorts)
    }

    /// USD of longs at or above `price` … i.e. what a fall to `price` would consume, and of
    /// shorts at or below a rise to `price`.
    #[must_use]
    pub fn long_usd_above(&self, price: f64) -> f64 {
        let i = self.bucket(price);
        let first = if self.centre(i) >= price { i } else { i + 1 };
        self.longs.range(first..).map(|(_, v)| v).sum::<f64>() * self.scale
    }

    /// USD of shorts whose bucket lies at or below `price`.
    #[must_use]
    pub fn short_usd_below(&self, price: f64) -> f64 {
        let i = self.bucket(price);
        let last = if self.centre(i) <= price { i } else { i - 1 };
        self.shorts.range(..=last).map(|(_, v)| v).sum::<f64>() * self.scale
    }

    /// Total USD on each side.
    #[must_use]
    pub fn totals(&self) -> (f64, f64) {
        (
            self.longs.values().sum::<f64>() * self.scale,
            self.shorts.values().sum::<f64>() * self.scale,
        )
    }
}

/// The cascade's parameters (§4.4).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CascadeParams {
    /// USD of market selling that moves the price 1 % (the effective one-sided depth).
    pub depth_1pct_usd: f64,
    /// Share of the liquidation flow absorbed (insurance fund, auto-deleveraging, netting).
    pub absorption: f64,
    /// A round crossing less than this ends the cascade.
    pub epsilon_usd: f64,
    /// At most this many rounds.
    pub max_rounds: usize,
}

/// What a cascade did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cascade {
    /// The price after the shock alone.
    pub shocked: f64,
    pub final_price: f64,
    /// USD of longs liquidated, the shock's own included.
    pub liquidated_usd: f64,
    pub rounds: usize,
    /// `(P0 − final) / (P0 − shocked)`.
    pub amplification: f64,
    /// Whether it stopped at `max_rounds` (a runaway) rather than thinning out.
    pub runaway: bool,
}

/// Run the loop of §4.4 on `longs` (buckets, any order) from `p0` with a shock `s0` (0.03 =
/// −3 %). The forced flow of the shock's own crossing moves the price too.
#[must_use]
pub fn cascade(longs: &[Bucket], p0: f64, s0: f64, p: &CascadeParams) -> Cascade {
    let mut sorted: Vec<(f64, f64)> = longs
        .iter()
        .map(|b| (f64::midpoint(b.low, b.high), b.usd))
        .collect();
    // Highest price first: the order a falling price crosses them in.
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let p1 = p0 * (1.0 - s0);
    let mut next = 0;
    let mut crossed = |price: f64| {
        let mut usd = 0.0;
        while next < sorted.len() && sorted[next].0 >= price {
            usd += sorted[next].1;
            next += 1;
        }
        usd
    };
    let mut price = p1;
    let mut q_cum = 0.0;
    let mut liquidated = 0.0;
    let mut rounds = 0;
    let mut runaway = true;
    while rounds < p.max_rounds {
        let q = crossed(price);
        liquidated += q;
        if q < p.epsilon_usd {
            runaway = false;
            break;
        }
        rounds += 1;
        q_cum += (1.0 - p.absorption) * q;
        let impact = (0.01 * q_cum / p.depth_1pct_usd).min(1.0);
        price = p1 * (1.0 - impact);
    }
    Cascade {
        shocked: p1,
        final_price: price,
        liquidated_usd: liquidated,
        rounds,
        amplification: (p0 - price) / (p0 - p1),
        runaway,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liquidation_prices_match_the_worked_table() {
        // MODELS.md §4.1: entry 70,000, MMR 0.4 %.
        let p = MapParams {
            mmr: 0.004,
            ..MapParams::reference()
        };
        for (l, long, short) in [
            (2.0, 35_141.0, 104_582.0),
            (10.0, 63_253.0, 76_693.0),
            (50.0, 68_876.0, 71_116.0),
            (100.0, 69_578.0, 70_418.0),
        ] {
            assert!((p.long_liquidation(70_000.0, l) - long).abs() < 1.0, "{l}x");
            assert!(
                (p.short_liquidation(70_000.0, l) - short).abs() < 1.0,
                "{l}x"
            );
        }
        assert_eq!(MapParams::grid().len(), 9);
        for g in MapParams::grid() {
            assert!((g.tiers.iter().map(|t| t.1).sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    fn bar(day: i64, oi: f64, low: f64, high: f64, close: f64) -> MapBar {
        MapBar {
            close_ms: day * 86_400_000,
            oi_usd: oi,
            high,
            low,
            close,
        }
    }

    #[test]
    fn rising_open_interest_places_positions_and_a_range_consumes_them() {
        let mut m = LiquidationMap::new(MapParams {
            decay_days: 1e9,
            ..MapParams::reference()
        });
        // Day 0 sets the level; day 1 opens 1,000 coins at a typical price of 100.
        m.step(&bar(0, 1e6, 99.0, 101.0, 100.0));
        let e = m.step(&bar(1, 2e6 * 1.0, 99.0, 101.0, 100.0));
        // 1e6 USD / 100 = 10,000 coins → 20,000 coins: 10,000 coins at 100 opened.
        assert!((e.opened - 1e6).abs() < 1e-6, "{e:?}");
        let (l, s) = m.totals();
        assert!((l - 5e5).abs() < 1e-6 && (s - 5e5).abs() < 1e-6);
        // A fall to 89 consumes the 10x, 20x and 50x longs (liquidation ≈ 90.45, 95.5, 98.5):
        // 60 % of the longs.
        // The same 20,000 coins at a close of 95: nothing opened.
        let e = m.step(&bar(2, 1.9e6, 89.0, 100.0, 95.0));
        assert_eq!(e.opened, 0.0);
        assert!((e.long_consumed - 3e5).abs() < 1e-3, "{e:?}");
        assert_eq!(e.short_consumed, 0.0);
        // Open interest falling to 10,000 coins closes half of what is left.
        m.step(&bar(3, 0.95e6, 94.0, 96.0, 95.0));
        let (l, _) = m.totals();
        assert!((l - 1e5).abs() < 1e-3, "{l}");
    }

    #[test]
    fn positions_decay_with_age() {
        let mut m = LiquidationMap::new(MapParams {
            decay_days: 10.0,
            ..MapParams::reference()
        });
        m.step(&bar(0, 1e6, 99.0, 101.0, 100.0));
        m.step(&bar(1, 2e6, 99.0, 101.0, 100.0));
        let before = m.totals().0;
        m.step(&bar(11, 2e6, 99.0, 101.0, 100.0));
        assert!((m.totals().0 / before - (-1.0f64).exp()).abs() < 1e-9);
    }

    /// MODELS.md §4.4's worked toy: $20B of longs opened uniformly between $64k and $75k over
    /// the reference tiers at MMR 0.5 %, from $70k with a −3 % shock, a linear book of $2B per
    /// 1 %: the table gives a final price of 66,542, $4.0B liquidated in 6 rounds, 1.65×.
    #[test]
    fn the_worked_cascade_is_reproduced() {
        let p = MapParams::reference();
        let mut longs = Vec::new();
        let n = 11_000;
        for k in 0..n {
            let ep = 64_000.0 + (f64::from(k) + 0.5);
            for &(l, w) in &p.tiers {
                let liq = p.long_liquidation(ep, l);
                longs.push(Bucket {
                    low: liq,
                    high: liq,
                    usd: 20e9 / f64::from(n) * w,
                });
            }
        }
        let run = |depth: f64| {
            cascade(
                &longs,
                70_000.0,
                0.03,
                &CascadeParams {
                    depth_1pct_usd: depth,
                    absorption: 0.0,
                    epsilon_usd: 1e7,
                    max_rounds: 100,
                },
            )
        };
        let c = run(2e9);
        assert_eq!(c.shocked, 67_900.0);
        // This loop, rounds ending below $10M: 66,511, $4.10B, 6 rounds, 1.66×.
        assert!((c.final_price - 66_542.0).abs() < 50.0, "{c:?}");
        assert!((c.liquidated_usd - 4.0e9).abs() < 0.15e9, "{c:?}");
        assert_eq!(c.rounds, 6, "{c:?}");
        assert!((c.amplification - 1.65).abs() < 0.02, "{c:?}");
        assert!(!c.runaway);
        // The stressed book ($800M per 1 %): 56,125, −19.8 %, $13.9B, 12 rounds, 6.6×; this
        // loop: 56,114, $13.89B, 11 rounds, 6.61×.
        let c = run(0.8e9);
        assert!((c.final_price - 56_125.0).abs() < 50.0, "{c:?}");
        assert!((c.liquidated_usd - 13.9e9).abs() < 0.1e9, "{c:?}");
        assert!(c.rounds.abs_diff(12) <= 1, "{c:?}");
        assert!((c.amplification - 6.6).abs() < 0.02, "{c:?}");
    }
}
