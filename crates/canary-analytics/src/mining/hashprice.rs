//! Hashprice, hashvalue and machine economics (`MODELS.md` §1.1–1.3).
//!
//! Units in names: `_hs` hashes per second, `_ths` terahashes per second, `_btc`, `_usd`,
//! `_j_per_th` joules per terahash (= W per TH/s), `_usd_per_mwh`.

use super::protocol::TARGET_BLOCK_SECONDS;

use canary_model::Method;

/// Hash rate implied by difficulty: D·2³²/600 H/s (`MODELS.md` §1.2).
pub const HASHRATE_FROM_DIFFICULTY: Method = Method::new("hashrate_from_difficulty", 1);
/// Network BTC per day: 144 × (subsidy + fees per block).
pub const NETWORK_BTC_PER_DAY: Method = Method::new("network_btc_per_day", 1);
/// Hashvalue: BTC earned per TH/s per day.
pub const HASHVALUE: Method = Method::new("hashvalue", 1);
/// Hashprice: USD earned per TH/s per day (hashvalue × price).
pub const HASHPRICE: Method = Method::new("hashprice", 1);
/// The same quantity in another unit (TH → PH, BTC → sats).
pub const UNIT_CONVERSION: Method = Method::new("unit_conversion", 1);
/// Fees' share of the block reward.
pub const FEE_SHARE: Method = Method::new("fee_share", 1);
/// A machine class's efficiency from the built-in catalogue ([`MACHINES`]).
pub const MACHINE_CATALOGUE: Method = Method::new("machine_catalogue", 1);
/// The price at which a machine's revenue equals its power cost (`MODELS.md` §1.3).
pub const SHUTDOWN_PRICE: Method = Method::new("shutdown_price", 1);
/// A machine's gross margin on power at the current hashprice.
pub const GROSS_MARGIN: Method = Method::new("gross_margin", 1);
/// The least efficient machine whose revenue covers power at a power price.
pub const MAX_PROFITABLE_EFFICIENCY: Method = Method::new("max_profitable_efficiency", 1);
/// Share of the fleet under water: triangular distribution over the fleet-efficiency bounds.
pub const SHARE_UNDER_WATER: Method = Method::new("share_under_water", 1);

/// 2^32: the expected hashes per unit of difficulty.
pub const TWO_POW_32: f64 = 4_294_967_296.0;
/// Blocks per day at the target interval.
pub const BLOCKS_PER_DAY: f64 = 144.0;
/// Terahashes per hash.
pub const TH: f64 = 1e12;

/// Network hash rate implied by difficulty: H = D·2^32/600, in H/s.
#[must_use]
pub fn hashrate_from_difficulty_hs(difficulty: f64) -> f64 {
    difficulty * TWO_POW_32 / TARGET_BLOCK_SECONDS as f64
}

/// The difficulty at which `hashrate_hs` finds a block every 600 s.
#[must_use]
pub fn difficulty_from_hashrate(hashrate_hs: f64) -> f64 {
    hashrate_hs * TARGET_BLOCK_SECONDS as f64 / TWO_POW_32
}

/// Revenue of 1 TH/s for one day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hashprice {
    /// BTC the whole network earns per day (144 blocks × reward).
    pub network_btc_per_day: f64,
    /// Hashvalue: BTC per TH/s per day.
    pub btc_per_th_day: f64,
    /// Hashprice: USD per TH/s per day.
    pub usd_per_th_day: f64,
    /// Fees' share of the reward.
    pub fee_share: f64,
}

impl Hashprice {
    /// From the network hash rate (TH/s), subsidy and fees per block (BTC) and the price.
    #[must_use]
    pub fn from_hashrate(
        hashrate_ths: f64,
        subsidy_btc: f64,
        fees_btc: f64,
        price_usd: f64,
    ) -> Self {
        let reward = subsidy_btc + fees_btc;
        let network = BLOCKS_PER_DAY * reward;
        let btc = network / hashrate_ths;
        Hashprice {
            network_btc_per_day: network,
            btc_per_th_day: btc,
            usd_per_th_day: btc * price_usd,
            fee_share: fees_btc / reward,
        }
    }

    /// From difficulty: blocks per TH/s per day = 1e12·86,400/(D·2^32), the exact expected value
    /// between retargets.
    #[must_use]
    pub fn from_difficulty(
        difficulty: f64,
        subsidy_btc: f64,
        fees_btc: f64,
        price_usd: f64,
    ) -> Self {
        let reward = subsidy_btc + fees_btc;
        let blocks_per_th_day = TH * 86_400.0 / (difficulty * TWO_POW_32);
        let btc = blocks_per_th_day * reward;
        Hashprice {
            network_btc_per_day: BLOCKS_PER_DAY * reward,
            btc_per_th_day: btc,
            usd_per_th_day: btc * price_usd,
            fee_share: fees_btc / reward,
        }
    }

    /// USD per PH/s per day.
    #[must_use]
    pub fn usd_per_ph_day(&self) -> f64 {
        self.usd_per_th_day * 1e3
    }

    /// Satoshis per TH/s per day.
    #[must_use]
    pub fn sats_per_th_day(&self) -> f64 {
        self.btc_per_th_day * 1e8
    }
}

/// Power cost of 1 TH/s for a day: e·24·c/1e6 (USD).
#[must_use]
pub fn power_cost_per_th_day(efficiency_j_per_th: f64, power_usd_per_mwh: f64) -> f64 {
    efficiency_j_per_th * 24.0 * power_usd_per_mwh / 1e6
}

/// Shutdown (power break-even) price: the BTC price at which a machine's revenue equals its
/// power cost, e·24·c/1e6 / (hashvalue·(1 − pool fee)). Uptime cancels out.
#[must_use]
pub fn shutdown_price(
    efficiency_j_per_th: f64,
    power_usd_per_mwh: f64,
    btc_per_th_day: f64,
    pool_fee: f64,
) -> f64 {
    power_cost_per_th_day(efficiency_j_per_th, power_usd_per_mwh)
        / (btc_per_th_day * (1.0 - pool_fee))
}

/// Gross margin on power at a hashprice: 1 − power cost / (hashprice·(1 − pool fee)).
#[must_use]
pub fn gross_margin(
    efficiency_j_per_th: f64,
    power_usd_per_mwh: f64,
    usd_per_th_day: f64,
    pool_fee: f64,
) -> f64 {
    1.0 - power_cost_per_th_day(efficiency_j_per_th, power_usd_per_mwh)
        / (usd_per_th_day * (1.0 - pool_fee))
}

/// The least efficient machine (J/TH) still covering its power: hashprice·(1 − fee)·1e6/(24·c).
#[must_use]
pub fn max_profitable_efficiency(
    usd_per_th_day: f64,
    power_usd_per_mwh: f64,
    pool_fee: f64,
) -> f64 {
    usd_per_th_day * (1.0 - pool_fee) * 1e6 / (24.0 * power_usd_per_mwh)
}

/// A class of ASIC (nameplate efficiency).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MachineClass {
    pub name: &'static str,
    pub efficiency_j_per_th: f64,
    pub source: &'static str,
}

/// ASIC generations with their nameplate efficiency (`MODELS.md` §1.3 and the sources there).
pub const MACHINES: [MachineClass; 6] = [
    MachineClass {
        name: "S19 (original)",
        efficiency_j_per_th: 34.2,
        source: "95 TH/s at 3,250 W (ViaBTC example, MODELS.md 1.3)",
    },
    MachineClass {
        name: "S19j Pro class",
        efficiency_j_per_th: 30.0,
        source: "about 29.5 J/TH (MODELS.md 1.3)",
    },
    MachineClass {
        name: "S19 XP",
        efficiency_j_per_th: 21.5,
        source: "Bitmain spec (MODELS.md 1.3)",
    },
    MachineClass {
        name: "S21",
        efficiency_j_per_th: 17.5,
        source: "200 TH/s at 17.5 J/TH, Bitmain spec (MODELS.md 1.3)",
    },
    MachineClass {
        name: "S21+ Hydro class",
        efficiency_j_per_th: 15.0,
        source: "319 TH/s at 4,785 W (MODELS.md 1.3)",
    },
    MachineClass {
        name: "S23 class",
        efficiency_j_per_th: 12.0,
        source: "latest generation, about 12 J/TH (MODELS.md 1.3)",
    },
];

/// Share of the network fleet whose efficiency is worse than `e_max`, with fleet efficiencies
/// modelled as a triangular distribution on the (lower bound, estimate, upper bound) of a
/// fleet-efficiency series such as CBECI's. The distribution is this model's assumption; the
/// bounds and estimate are data.
#[must_use]
pub fn share_under_water(lower: f64, estimate: f64, upper: f64, e_max: f64) -> f64 {
    if e_max >= upper {
        return 0.0;
    }
    if e_max <= lower {
        return 1.0;
    }
    let (a, c, b) = (lower, estimate.clamp(lower, upper), upper);
    // Triangular CDF at e_max; under water is the mass above it.
    let cdf = if e_max <= c {
        if c > a {
            (e_max - a).powi(2) / ((b - a) * (c - a))
        } else {
            0.0
        }
    } else if b > c {
        1.0 - (b - e_max).powi(2) / ((b - a) * (b - c))
    } else {
        1.0
    };
    1.0 - cdf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn worked_hashprice_at_60k_1000_ehs() {
        // MODELS.md 1.2: P = $60,000, H = 1,000 EH/s, R = 3.125 + 0.03.
        let h = Hashprice::from_hashrate(1e9, 3.125, 0.03, 60_000.0);
        assert!(close(h.network_btc_per_day, 454.32, 1e-12));
        assert!(close(h.btc_per_th_day, 4.5432e-7, 1e-12));
        assert!(
            (h.usd_per_th_day - 0.02726).abs() < 5e-6,
            "{}",
            h.usd_per_th_day
        );
        assert!((h.usd_per_ph_day() - 27.26).abs() < 0.005);
        assert!((h.sats_per_th_day() - 45.43).abs() < 0.005);
        assert!((h.fee_share - 0.0095).abs() < 1e-4);
        // The difficulty route gives the same at the implied difficulty (139.7 T).
        let d = difficulty_from_hashrate(1e21);
        assert!((d / 1e12 - 139.7).abs() < 0.05, "{d}");
        let hd = Hashprice::from_difficulty(d, 3.125, 0.03, 60_000.0);
        assert!(close(hd.usd_per_th_day, h.usd_per_th_day, 1e-12));
        assert!(close(hashrate_from_difficulty_hs(d), 1e21, 1e-12));
    }

    #[test]
    fn worked_shutdown_prices_at_50_per_mwh() {
        // MODELS.md 1.3 table, $50/MWh column, pool fee 0, hashvalue 4.5432e-7 BTC/TH/day.
        let hv = 4.5432e-7;
        let want = [90_333.0, 79_239.0, 56_788.0, 46_223.0, 39_620.0, 31_696.0];
        for (m, w) in MACHINES.iter().zip(want) {
            let p = shutdown_price(m.efficiency_j_per_th, 50.0, hv, 0.0);
            assert!((p - w).abs() < 1.0, "{}: {p} vs {w}", m.name);
        }
        assert!((power_cost_per_th_day(17.5, 50.0) - 0.0210).abs() < 1e-9);
        // Gross margin at $60k: S19 -51 %, S21 +23 %.
        let hp = 4.5432e-7 * 60_000.0;
        assert!((gross_margin(34.2, 50.0, hp, 0.0) - -0.51).abs() < 0.005);
        assert!((gross_margin(17.5, 50.0, hp, 0.0) - 0.23).abs() < 0.005);
        // e_max at $50/MWh: 22.7 J/TH.
        assert!((max_profitable_efficiency(0.02726, 50.0, 0.0) - 22.7).abs() < 0.05);
    }

    #[test]
    fn share_under_water_is_a_probability() {
        assert_eq!(share_under_water(15.0, 20.0, 30.0, 35.0), 0.0);
        assert_eq!(share_under_water(15.0, 20.0, 30.0, 10.0), 1.0);
        // At the mode of a symmetric triangle, half is under water.
        assert!((share_under_water(10.0, 20.0, 30.0, 20.0) - 0.5).abs() < 1e-12);
        let s = share_under_water(15.0, 19.0, 30.0, 22.7);
        assert!((0.0..1.0).contains(&s));
    }
}
