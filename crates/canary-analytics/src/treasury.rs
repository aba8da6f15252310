//! Company models (`MODELS.md` §1.4, §2): cost per BTC mined, break-even prices and margins,
//! debt-coverage prices, liquidity runway, forced selling and a stress table over prices, for
//! miners and treasury companies.
//!
//! Inputs are optional because filings are incomplete: every output is a [`Figure`], either a
//! value or the list of inputs it is missing. A missing input never becomes a zero.

use std::fmt;

use canary_model::Method;

/// Power cost per BTC mined (reported, or computed from fleet and power price; §1.4).
pub const POWER_COST_PER_BTC: Method = Method::new("power_cost_per_btc", 1);
/// Cash cost per BTC mined: the cash break-even price (§1.4).
pub const CASH_BREAK_EVEN: Method = Method::new("cash_break_even", 1);
/// A miner's cash cost per BTC estimated where its own figures fall short (§1.4 with
/// documented fallbacks: [`Company::cash_break_even_estimate`]).
pub const CASH_BREAK_EVEN_ESTIMATE: Method = Method::new("cash_break_even_estimate", 1);
/// The uptime assumed for a miner that reports none: 95 %, the worked example's of
/// `MODELS.md` §1.4 (curtailment and maintenance take the rest).
pub const INDUSTRY_UPTIME: f64 = 0.95;
/// A coverage price above this many times the price is out of any plausible reach: the BTC
/// held is too small against the debt for the figure to say anything.
pub const IMPLAUSIBLE_MULTIPLE: f64 = 10.0;
/// Margin at a price over a break-even: price / break-even − 1.
pub const MARGIN: Method = Method::new("margin", 1);
/// Debt over BTC held: the price at which the BTC just covers the debt (§2.1).
pub const COVERAGE_PRICE_GROSS: Method = Method::new("coverage_price_gross", 1);
/// (Debt − cash) over BTC held.
pub const COVERAGE_PRICE_NET: Method = Method::new("coverage_price_net", 1);
/// BTC value at a price over debt.
pub const COVERAGE_RATIO: Method = Method::new("coverage_ratio", 1);
/// Months until cash and haircut BTC run out at a price (§2.3).
pub const RUNWAY: Method = Method::new("runway", 1);
/// BTC to sell per month to cover cash costs at a price (§2.4).
pub const FORCED_SELLING: Method = Method::new("forced_selling", 1);
/// BTC sold over BTC mined per month.
pub const SELL_RATIO: Method = Method::new("sell_ratio", 1);
/// A price scenario, derived from the price it is set against.
pub const SCENARIO: Method = Method::new("scenario", 1);

/// Days per month used to turn daily figures into monthly ones.
pub const DAYS_PER_MONTH: f64 = 30.4;

/// A debt instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct Debt {
    pub name: String,
    pub principal_usd: f64,
    /// Annual coupon in percent; `None` when not reported.
    pub coupon_pct: Option<f64>,
    /// Maturity date (ISO), when known.
    pub maturity: Option<String>,
    /// Conversion price per share, for convertibles.
    pub conversion_price_usd: Option<f64>,
}

/// What a company reports, each figure optional. Units are in the field names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Company {
    pub ticker: String,
    pub name: String,
    pub btc_held: Option<f64>,
    /// BTC lent, pledged or otherwise encumbered (not available to sell).
    pub btc_pledged: Option<f64>,
    pub cash_usd: Option<f64>,
    pub debt: Vec<Debt>,
    pub hashrate_ehs: Option<f64>,
    pub efficiency_j_per_th: Option<f64>,
    /// All-in power price.
    pub power_usd_per_mwh: Option<f64>,
    /// Fraction of the fleet hashing (default 1 when absent is *not* assumed: it is an input).
    pub uptime: Option<f64>,
    pub pool_fee: Option<f64>,
    /// Site and hosting opex besides power.
    pub other_direct_usd_per_month: Option<f64>,
    /// Cash SG&A (excluding stock-based compensation).
    pub sga_cash_usd_per_month: Option<f64>,
    pub depreciation_usd_per_month: Option<f64>,
    /// Committed or maintenance capex.
    pub capex_usd_per_month: Option<f64>,
    /// Reported production, used when hash rate or network data are missing.
    pub btc_mined_per_month: Option<f64>,
    /// Reported power (energy) cost per BTC mined, used when it cannot be computed.
    pub reported_power_cost_per_btc_usd: Option<f64>,
    /// Reported cash cost per BTC mined, used when it cannot be computed.
    pub reported_cash_cost_per_btc_usd: Option<f64>,
}

/// Where a break-even came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Computed from the company's inputs and the network.
    Computed,
    /// The company's (or an analyst's) reported cost per BTC.
    Reported,
}

/// What a miner's estimate falls back on where its own figure is missing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fallbacks {
    /// The efficiency to assume (J/TH): the peers' median, else the network fleet's.
    pub efficiency_j_per_th: Option<f64>,
    /// The median power price of the miners that report one (USD/MWh).
    pub power_usd_per_mwh: Option<f64>,
    /// The uptime assumed ([`INDUSTRY_UPTIME`]).
    pub uptime: f64,
}

/// A cash break-even estimated from partial figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// USD per BTC mined.
    pub value: f64,
    /// Which fallback stood in for which figure (`efficiency: the network's fleet`).
    pub fallbacks: Vec<&'static str>,
    /// Cost lines not reported and left out: the estimate is a floor when any are.
    pub left_out: Vec<&'static str>,
}

/// The network a miner competes in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetworkState {
    pub hashrate_ths: f64,
    /// Subsidy + fees per block.
    pub reward_btc: f64,
}

/// A value, or the inputs it needs that are missing.
#[derive(Debug, Clone, PartialEq)]
pub enum Figure {
    Value(f64),
    Missing(Vec<&'static str>),
}

impl Figure {
    #[must_use]
    pub fn value(&self) -> Option<f64> {
        match self {
            Figure::Value(v) => Some(*v),
            Figure::Missing(_) => None,
        }
    }

    fn map(self, f: impl FnOnce(f64) -> f64) -> Figure {
        match self {
            Figure::Value(v) => Figure::Value(f(v)),
            m @ Figure::Missing(_) => m,
        }
    }

    /// Combine two figures; missing inputs of both are listed.
    fn zip(self, other: Figure, f: impl FnOnce(f64, f64) -> f64) -> Figure {
        match (self, other) {
            (Figure::Value(a), Figure::Value(b)) => Figure::Value(f(a, b)),
            (Figure::Missing(mut a), Figure::Missing(b)) => {
                for x in b {
                    if !a.contains(&x) {
                        a.push(x);
                    }
                }
                Figure::Missing(a)
            }
            (Figure::Missing(a), _) | (_, Figure::Missing(a)) => Figure::Missing(a),
        }
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Figure::Value(v) => write!(f, "{v}"),
            Figure::Missing(m) => write!(f, "missing {}", m.join(", ")),
        }
    }
}

fn need(v: Option<f64>, name: &'static str) -> Figure {
    v.map_or_else(|| Figure::Missing(vec![name]), Figure::Value)
}

impl Company {
    /// Total debt principal (0 when the company reports no debt instruments).
    #[must_use]
    pub fn debt_usd(&self) -> f64 {
        self.debt.iter().map(|d| d.principal_usd).sum()
    }

    /// Cash interest per month; an instrument without a reported coupon makes it missing.
    #[must_use]
    pub fn interest_usd_per_month(&self) -> Figure {
        let mut total = 0.0;
        for d in &self.debt {
            match d.coupon_pct {
                Some(c) => total += d.principal_usd * c / 100.0 / 12.0,
                None => return Figure::Missing(vec!["debt coupon"]),
            }
        }
        Figure::Value(total)
    }

    /// BTC mined per month: from hash rate, uptime and pool fee against the network when those
    /// are known, else the reported production.
    #[must_use]
    pub fn btc_mined_per_month(&self, net: Option<&NetworkState>) -> Figure {
        if let (Some(h), Some(u), Some(n)) = (self.hashrate_ehs, self.uptime, net) {
            let fee = self.pool_fee.unwrap_or(0.0);
            return Figure::Value(
                h * 1e6 * u / n.hashrate_ths * 144.0 * n.reward_btc * (1.0 - fee) * DAYS_PER_MONTH,
            );
        }
        match self.btc_mined_per_month {
            Some(v) => Figure::Value(v),
            // Either input set would do: name the reported figure, and what would compute it.
            None => Figure::Missing(vec![
                "btc_mined_per_month (or hashrate_ehs, uptime and the network hash rate)",
            ]),
        }
    }

    /// Power cost per month: H·e·u·24/1e6 MWh/day × price × days.
    #[must_use]
    pub fn power_usd_per_month(&self) -> Figure {
        need(self.hashrate_ehs, "hashrate_ehs")
            .zip(
                need(self.efficiency_j_per_th, "efficiency_j_per_th"),
                |h, e| h * 1e6 * e * 24.0 / 1e6,
            )
            .zip(need(self.uptime, "uptime"), |mwh, u| mwh * u)
            .zip(
                need(self.power_usd_per_mwh, "power_usd_per_mwh"),
                |mwh, c| mwh * c * DAYS_PER_MONTH,
            )
    }

    /// Direct costs per month: power + other site opex.
    #[must_use]
    pub fn direct_usd_per_month(&self) -> Figure {
        self.power_usd_per_month().zip(
            need(
                self.other_direct_usd_per_month,
                "other_direct_usd_per_month",
            ),
            |a, b| a + b,
        )
    }

    /// Cash costs per month: direct + cash SG&A + cash interest; when those inputs are missing,
    /// the reported cash cost per BTC × BTC mined per month.
    #[must_use]
    pub fn cash_usd_per_month(&self, net: Option<&NetworkState>) -> Figure {
        let computed = self
            .direct_usd_per_month()
            .zip(
                need(self.sga_cash_usd_per_month, "sga_cash_usd_per_month"),
                |a, b| a + b,
            )
            .zip(self.interest_usd_per_month(), |a, b| a + b);
        match (&computed, self.reported_cash_cost_per_btc_usd) {
            (Figure::Missing(_), Some(per_btc)) => {
                self.btc_mined_per_month(net).map(|m| m * per_btc)
            }
            _ => computed,
        }
    }

    /// All-in costs per month: cash + depreciation.
    #[must_use]
    pub fn all_in_usd_per_month(&self) -> Figure {
        self.cash_usd_per_month(None).zip(
            need(
                self.depreciation_usd_per_month,
                "depreciation_usd_per_month",
            ),
            |a, b| a + b,
        )
    }

    /// Break-even prices (USD/BTC): (power only, direct, cash, all-in), computed from the
    /// inputs (the cash one falls back on a reported cash cost per BTC).
    #[must_use]
    pub fn break_evens(&self, net: Option<&NetworkState>) -> [Figure; 4] {
        let mined = self.btc_mined_per_month(net);
        [
            self.power_usd_per_month(),
            self.direct_usd_per_month(),
            self.cash_usd_per_month(net),
            self.all_in_usd_per_month(),
        ]
        .map(|cost| cost.zip(mined.clone(), |c, m| c / m))
    }

    /// Power cost per BTC: computed when possible, else the reported figure.
    #[must_use]
    pub fn power_cost_per_btc(&self, net: Option<&NetworkState>) -> (Figure, Basis) {
        let [power, ..] = self.break_evens(net);
        match (power, self.reported_power_cost_per_btc_usd) {
            (Figure::Missing(_), Some(r)) => (Figure::Value(r), Basis::Reported),
            (f, _) => (f, Basis::Computed),
        }
    }

    /// Cash break-even (the forced-selling threshold): computed when possible, else the
    /// reported cash cost per BTC.
    #[must_use]
    pub fn cash_break_even(&self, net: Option<&NetworkState>) -> (Figure, Basis) {
        let computed = self
            .direct_usd_per_month()
            .zip(
                need(self.sga_cash_usd_per_month, "sga_cash_usd_per_month"),
                |a, b| a + b,
            )
            .zip(self.interest_usd_per_month(), |a, b| a + b)
            .zip(self.btc_mined_per_month(net), |c, m| c / m);
        match (computed, self.reported_cash_cost_per_btc_usd) {
            (Figure::Missing(_), Some(r)) => (Figure::Value(r), Basis::Reported),
            (f, _) => (f, Basis::Computed),
        }
    }

    /// The cash cost per BTC from whatever the company reports, each missing input replaced
    /// by a documented fallback: production from its hash rate at the industry uptime; power
    /// from its own power cost (computed, else reported per BTC), else from its hash rate at
    /// the peers' median efficiency (else the network fleet's) and power price where its own
    /// are missing; its other site opex, cash SG&A and coupons where reported. Lines it does not
    /// report are left out and named, so the estimate is then a floor.
    ///
    /// # Errors
    /// The inputs no fallback can replace: a hash rate or production, and the figures a power
    /// cost needs.
    pub fn cash_break_even_estimate(
        &self,
        net: Option<&NetworkState>,
        fb: &Fallbacks,
    ) -> Result<Estimate, Vec<&'static str>> {
        let mut fallbacks = Vec::new();
        let mut left_out = Vec::new();
        // The industry's uptime stands in only where a hash rate is turned into BTC or MWh.
        let uptime = self.uptime.unwrap_or(fb.uptime);
        let mut uptime_used = false;
        let mined = match (self.btc_mined_per_month(net), self.hashrate_ehs, net) {
            (Figure::Value(m), ..) => m,
            (Figure::Missing(_), Some(h), Some(n)) => {
                fallbacks.push("production: its hash rate against the network's");
                uptime_used = true;
                let fee = self.pool_fee.unwrap_or(0.0);
                h * 1e6 * uptime / n.hashrate_ths
                    * 144.0
                    * n.reward_btc
                    * (1.0 - fee)
                    * DAYS_PER_MONTH
            }
            _ => {
                return Err(vec![
                    "hashrate_ehs (with the network hash rate) or btc_mined_per_month",
                ]);
            }
        };
        if mined.is_nan() || mined <= 0.0 {
            return Err(vec!["a production above zero"]);
        }
        let power = match (
            self.power_usd_per_month(),
            self.reported_power_cost_per_btc_usd,
        ) {
            (Figure::Value(p), _) => p,
            (Figure::Missing(_), Some(r)) => {
                fallbacks.push("power: its reported power cost per BTC");
                r * mined
            }
            _ => {
                let Some(h) = self.hashrate_ehs else {
                    return Err(vec!["hashrate_ehs or reported_power_cost_per_btc_usd"]);
                };
                let e = match (self.efficiency_j_per_th, fb.efficiency_j_per_th) {
                    (Some(e), _) => e,
                    (None, Some(e)) => {
                        fallbacks.push("efficiency: the peers' median (else the network fleet's)");
                        e
                    }
                    (None, None) => {
                        return Err(vec!["efficiency_j_per_th (or the network fleet's)"]);
                    }
                };
                let price = match (self.power_usd_per_mwh, fb.power_usd_per_mwh) {
                    (Some(c), _) => c,
                    (None, Some(c)) => {
                        fallbacks.push("power price: the peers' median");
                        c
                    }
                    (None, None) => return Err(vec!["power_usd_per_mwh (or a peer's)"]),
                };
                uptime_used = true;
                h * 1e6 * e * 24.0 / 1e6 * uptime * price * DAYS_PER_MONTH
            }
        };
        if uptime_used && self.uptime.is_none() {
            fallbacks.insert(0, "uptime: the industry's, assumed");
        }
        let mut cost = power;
        match self.other_direct_usd_per_month {
            Some(v) => cost += v,
            None => left_out.push("other site opex"),
        }
        match self.sga_cash_usd_per_month {
            Some(v) => cost += v,
            None => left_out.push("cash SG&A"),
        }
        let mut missing_coupon = false;
        for d in &self.debt {
            match d.coupon_pct {
                Some(c) => cost += d.principal_usd * c / 100.0 / 12.0,
                None => missing_coupon = true,
            }
        }
        if missing_coupon {
            left_out.push("interest on debt without a reported coupon");
        }
        Ok(Estimate {
            value: cost / mined,
            fallbacks,
            left_out,
        })
    }

    /// Debt-coverage price, gross: total debt / BTC held.
    #[must_use]
    pub fn coverage_price_gross(&self) -> Figure {
        need(self.btc_held, "btc_held").map(|b| self.debt_usd() / b)
    }

    /// Debt-coverage price, net of cash: (debt − cash) / BTC held.
    #[must_use]
    pub fn coverage_price_net(&self) -> Figure {
        need(self.btc_held, "btc_held").zip(need(self.cash_usd, "cash_usd"), |b, c| {
            (self.debt_usd() - c) / b
        })
    }

    /// BTC held × price / net debt (> 1: the BTC covers the net debt).
    #[must_use]
    pub fn coverage_ratio(&self, price: f64) -> Figure {
        need(self.btc_held, "btc_held").zip(need(self.cash_usd, "cash_usd"), |b, c| {
            b * price / (self.debt_usd() - c)
        })
    }

    /// Cash burn per month at a price: cash costs + capex − production × price (negative: the
    /// company generates cash).
    #[must_use]
    pub fn burn_usd_per_month(&self, price: f64, net: Option<&NetworkState>) -> Figure {
        self.cash_usd_per_month(net)
            .zip(
                need(self.capex_usd_per_month, "capex_usd_per_month"),
                |a, b| a + b,
            )
            .zip(self.btc_mined_per_month(net), |c, m| c - m * price)
    }

    /// Liquidity runway in months at a price: (cash + unencumbered BTC × price × (1 − haircut))
    /// / burn. `Value(f64::INFINITY)` when self-funding (no burn).
    #[must_use]
    pub fn runway_months(&self, price: f64, haircut: f64, net: Option<&NetworkState>) -> Figure {
        let liquidity =
            need(self.cash_usd, "cash_usd").zip(need(self.btc_held, "btc_held"), |cash, btc| {
                cash + (btc - self.btc_pledged.unwrap_or(0.0)).max(0.0) * price * (1.0 - haircut)
            });
        liquidity.zip(self.burn_usd_per_month(price, net), |l, b| {
            if b > 0.0 { l / b } else { f64::INFINITY }
        })
    }

    /// BTC that must be sold per month to pay cash costs at a price (`MODELS.md` §2.4, without
    /// new financing), and its ratio to production.
    #[must_use]
    pub fn forced_selling(&self, price: f64, net: Option<&NetworkState>) -> (Figure, Figure) {
        let sell = self.cash_usd_per_month(net).map(|c| (c / price).max(0.0));
        let ratio = sell
            .clone()
            .zip(self.btc_mined_per_month(net), |s, m| s / m);
        (sell, ratio)
    }
}

/// Margin at a price for a break-even: 1 − break-even/price.
#[must_use]
pub fn margin(break_even: &Figure, price: f64) -> Figure {
    break_even.clone().map(|b| 1.0 - b / price)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MODELS.md §1.4 and §2.3: the hypothetical MinerCo.
    fn minerco() -> Company {
        Company {
            ticker: "MINERCO".into(),
            hashrate_ehs: Some(50.0),
            efficiency_j_per_th: Some(19.0),
            uptime: Some(0.95),
            power_usd_per_mwh: Some(45.0),
            pool_fee: Some(0.0),
            other_direct_usd_per_month: Some(4.0e6),
            sga_cash_usd_per_month: Some(8.0e6),
            depreciation_usd_per_month: Some(25.0e6),
            capex_usd_per_month: Some(10.0e6),
            debt: vec![Debt {
                name: "term debt".into(),
                principal_usd: 1.5e9,
                coupon_pct: Some(3.0),
                maturity: None,
                conversion_price_usd: None,
            }],
            cash_usd: Some(150e6),
            btc_held: Some(15_000.0),
            ..Company::default()
        }
    }

    const NET: NetworkState = NetworkState {
        hashrate_ths: 1e9,
        reward_btc: 3.155,
    };

    const FALLBACKS: Fallbacks = Fallbacks {
        efficiency_j_per_th: Some(19.0),
        power_usd_per_mwh: Some(45.0),
        uptime: INDUSTRY_UPTIME,
    };

    #[test]
    fn an_estimate_with_every_input_its_own_equals_the_computed_break_even() {
        let c = minerco();
        let e = c.cash_break_even_estimate(Some(&NET), &FALLBACKS).unwrap();
        let (cash, basis) = c.cash_break_even(Some(&NET));
        assert_eq!(basis, Basis::Computed);
        assert!((e.value - cash.value().unwrap()).abs() < 1e-6);
        assert!(e.fallbacks.is_empty() && e.left_out.is_empty(), "{e:?}");
    }

    #[test]
    fn an_estimate_from_a_hash_rate_alone_names_each_fallback_and_what_it_leaves_out() {
        // MinerCo's hash rate and nothing else: the fallbacks are MinerCo's own values, so
        // the power line is MinerCo's and the estimate is its power break-even.
        let c = Company {
            ticker: "BARE".into(),
            hashrate_ehs: Some(50.0),
            ..Company::default()
        };
        let e = c.cash_break_even_estimate(Some(&NET), &FALLBACKS).unwrap();
        let [power, ..] = minerco()
            .break_evens(Some(&NET))
            .map(|f| f.value().unwrap());
        assert!((e.value - power).abs() < 1e-6, "{} vs {power}", e.value);
        assert_eq!(
            e.fallbacks,
            [
                "uptime: the industry's, assumed",
                "production: its hash rate against the network's",
                "efficiency: the peers' median (else the network fleet's)",
                "power price: the peers' median"
            ]
        );
        assert_eq!(e.left_out, ["other site opex", "cash SG&A"]);
        // A reported power cost per BTC stands for the power line.
        let r = Company {
            reported_power_cost_per_btc_usd: Some(40_000.0),
            btc_mined_per_month: Some(500.0),
            sga_cash_usd_per_month: Some(5e6),
            ..Company::default()
        };
        let e = r.cash_break_even_estimate(None, &FALLBACKS).unwrap();
        assert!((e.value - 50_000.0).abs() < 1e-9);
        assert_eq!(
            e.fallbacks,
            ["power: its reported power cost per BTC"],
            "no uptime used"
        );
        // Nothing to estimate from: the missing inputs are named.
        let none = Company::default().cash_break_even_estimate(Some(&NET), &FALLBACKS);
        assert!(none.unwrap_err()[0].contains("hashrate_ehs"));
    }

    #[test]
    fn worked_minerco_break_evens_margins_runway_and_selling() {
        let c = minerco();
        let mined = c.btc_mined_per_month(Some(&NET)).value().unwrap();
        assert!((mined - 656.0).abs() < 0.2, "{mined}");
        let [power, direct, cash, all_in] = c.break_evens(Some(&NET)).map(|f| f.value().unwrap());
        assert!((power - 45_166.0).abs() < 5.0, "{power}");
        assert!((direct - 51_264.0).abs() < 15.0, "{direct}");
        assert!((cash - 69_174.0).abs() < 15.0, "{cash}");
        assert!((all_in - 107_282.0).abs() < 20.0, "{all_in}");
        let m = |b| margin(&Figure::Value(b), 60_000.0).value().unwrap();
        assert!(
            (m(direct) - 0.146).abs() < 0.001
                && (m(cash) - -0.153).abs() < 0.001
                && (m(all_in) - -0.788).abs() < 0.001
        );

        for (price, runway) in [(60_000.0, 59.9), (40_000.0, 23.7), (30_000.0, 15.5)] {
            let r = c.runway_months(price, 0.10, Some(&NET)).value().unwrap();
            assert!((r - runway).abs() < 0.1, "{price}: {r}");
        }
        assert!(
            (c.burn_usd_per_month(60_000.0, Some(&NET)).value().unwrap() - 16.0e6).abs() < 0.05e6
        );
        assert_eq!(c.coverage_price_net().value().unwrap(), 90_000.0);
        for (price, sell, ratio) in [
            (60_000.0, 756.0, 1.15),
            (50_000.0, 908.0, 1.38),
            (40_000.0, 1_135.0, 1.73),
        ] {
            let (s, r) = c.forced_selling(price, Some(&NET));
            assert!((s.value().unwrap() - sell).abs() < 1.0, "{price}");
            assert!((r.value().unwrap() - ratio).abs() < 0.005, "{price}");
        }
    }

    #[test]
    fn worked_strategy_coverage_price() {
        let c = Company {
            ticker: "MSTR".into(),
            btc_held: Some(714_644.0),
            cash_usd: Some(0.0),
            debt: vec![Debt {
                name: "net debt".into(),
                principal_usd: 6.0e9,
                coupon_pct: None,
                maturity: None,
                conversion_price_usd: None,
            }],
            ..Company::default()
        };
        let p = c.coverage_price_net().value().unwrap();
        assert!((p - 8_396.0).abs() < 0.5, "{p}");
        assert!((c.coverage_ratio(60_000.0).value().unwrap() - 7.1).abs() < 0.05);
    }

    #[test]
    fn missing_inputs_are_named_not_zero() {
        let c = Company {
            ticker: "X".into(),
            hashrate_ehs: Some(10.0),
            ..Company::default()
        };
        match c.break_evens(Some(&NET))[2].clone() {
            Figure::Missing(m) => assert!(
                m.contains(&"efficiency_j_per_th") && m.contains(&"uptime"),
                "{m:?}"
            ),
            Figure::Value(v) => panic!("computed {v} from missing inputs"),
        }
        assert!(matches!(c.coverage_price_gross(), Figure::Missing(_)));
    }
}
