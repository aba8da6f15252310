//! A deterministic market simulator, for demos, tests and benchmarks. Everything it makes is
//! simulated and says so: its CSV has a `simulated` column, its store rows have source `sim`.
//!
//! Model, per bar of length Δ: log return r = μΔ + σ_t·ε_t with ε_t Student-t (ν = 4, scaled
//! to unit variance: fat tails) and σ²_t = ω + α·(σ_{t−1}ε_{t−1})² + β·σ²_{t−1} (GARCH(1,1):
//! volatility clusters). α = 0.08, β = 0.90, ω set so the long-run volatility is the scenario's
//! annual volatility. High and low extend beyond open/close by a half-normal multiple of σ_t;
//! volume rises with |r|/σ. Scenarios:
//!
//! - `calm`: no drift, 45 % annual volatility;
//! - `trend`: +60 %/year drift, 60 % volatility;
//! - `crash`: 60 % volatility; for the 30 days before the crash a drift of −0.5 %/day, then one
//!   UTC day that falls about 15 % (its bars share ln 0.85 plus noise), the second-to-last day,
//!   with volume ×4 and a volatility shock that GARCH carries into the following days.
//!
//! The generator is xoshiro256** seeded through SplitMix64 (both by Blackman and Vigna, public
//! domain algorithms); the same parameters give the same bars, bit for bit, on one platform.

use std::fmt;
use std::str::FromStr;

use canary_model::{Candle, Timeframe, Timestamp};

/// What kind of market to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Calm,
    Trend,
    Crash,
}

impl FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "calm" => Ok(Scenario::Calm),
            "trend" => Ok(Scenario::Trend),
            "crash" => Ok(Scenario::Crash),
            _ => Err(format!("unknown scenario {s:?}: use calm, trend or crash")),
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scenario::Calm => "calm",
            Scenario::Trend => "trend",
            Scenario::Crash => "crash",
        })
    }
}

/// Simulation parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimParams {
    pub timeframe: Timeframe,
    pub bars: usize,
    pub seed: u64,
    pub scenario: Scenario,
    /// Open time of the first bar (floored to the timeframe).
    pub start: Timestamp,
    pub start_price: f64,
}

impl SimParams {
    /// The default start: 2026-01-01T00:00:00Z (fixed, so output never depends on the clock).
    pub const DEFAULT_START: Timestamp = Timestamp::from_millis(1_767_225_600_000);

    /// The benchmarks' series (criterion and the TA-Lib comparison time the same one): `bars`
    /// calm 1-minute bars from $60,000, seed 2026.
    #[must_use]
    pub fn benchmark(bars: usize) -> Self {
        SimParams {
            timeframe: Timeframe::M1,
            bars,
            seed: 2026,
            scenario: Scenario::Calm,
            start: SimParams::DEFAULT_START,
            start_price: 60_000.0,
        }
    }

    /// The open time of the last bar.
    #[must_use]
    pub fn last_open(&self) -> Timestamp {
        let d = self.timeframe.duration_ms();
        let n = i64::try_from(self.bars.saturating_sub(1)).unwrap_or(i64::MAX);
        Timestamp::from_millis(
            self.timeframe
                .floor(self.start)
                .millis()
                .saturating_add(n.saturating_mul(d)),
        )
    }

    /// Why these bars would leave the times Canary accepts (from `earliest` to one bar after
    /// `now`), if they would.
    #[must_use]
    pub fn out_of_range(&self, earliest: Timestamp, now: Timestamp) -> Option<String> {
        let first = self.timeframe.floor(self.start);
        let last = self.last_open();
        let limit = now.millis().saturating_add(self.timeframe.duration_ms());
        if first < earliest {
            Some(format!(
                "the first bar would open at {first}, before {earliest}"
            ))
        } else if last.millis() > limit {
            Some(format!(
                "the last of {} {} bars would open at {last}, after now ({now}) plus one bar",
                self.bars, self.timeframe
            ))
        } else {
            None
        }
    }
}

/// xoshiro256** with SplitMix64 seeding.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    #[must_use]
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        u.max(f64::MIN_POSITIVE)
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Student-t with 4 degrees of freedom, scaled to unit variance.
    pub fn student_t4(&mut self) -> f64 {
        let z = self.normal();
        let chi2: f64 = (0..4).map(|_| self.normal().powi(2)).sum();
        // Var(t_4) = 4 / (4 − 2) = 2.
        z / (chi2 / 4.0).sqrt() / std::f64::consts::SQRT_2
    }
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let k = 10f64.powi(decimals);
    (x * k).round() / k
}

/// The GARCH(1,1) variance process of a scenario, per bar.
struct Garch {
    omega: f64,
    alpha: f64,
    beta: f64,
    long_run_var: f64,
    drift_per_bar: f64,
}

impl Garch {
    fn of(scenario: Scenario, tf: Timeframe) -> Self {
        let dt_years = 1.0 / tf.bars_per_year();
        let (annual_vol, annual_drift) = match scenario {
            Scenario::Calm => (0.45, 0.0),
            Scenario::Trend => (0.60, 0.60),
            Scenario::Crash => (0.60, 0.0),
        };
        let (alpha, beta) = (0.08, 0.90);
        let long_run_var = annual_vol * annual_vol * dt_years;
        Garch {
            omega: long_run_var * (1.0 - alpha - beta),
            alpha,
            beta,
            long_run_var,
            drift_per_bar: annual_drift * dt_years,
        }
    }
}

/// Where the crash scenario's drift and crash fall: the crash on the second-to-last UTC day,
/// a drift of −0.5 %/day over the 30 days before it.
struct CrashWindow {
    enabled: bool,
    start: i64,
    end: i64,
    /// ln(0.85) is shared by this many bars.
    bars: f64,
    bars_per_day: i64,
    /// The shock each crash bar feeds GARCH, in σ ([`CrashWindow::shock_sigmas`]).
    shock_sigmas: f64,
}

impl CrashWindow {
    fn of(p: &SimParams, start: Timestamp, g: &Garch) -> Self {
        let d = p.timeframe.duration_ms();
        let bars_per_day = (86_400_000 / d).max(1);
        let end_time = start.millis() + d * i64::try_from(p.bars).unwrap_or(0);
        let crash_start = Timeframe::D1
            .floor(Timestamp::from_millis(end_time))
            .millis()
            - 2 * 86_400_000;
        let bars = if d >= 86_400_000 {
            1.0
        } else {
            bars_per_day as f64
        };
        CrashWindow {
            shock_sigmas: Self::shock_sigmas(g, bars),
            enabled: p.scenario == Scenario::Crash,
            start: crash_start,
            end: crash_start + 86_400_000.max(d),
            bars,
            bars_per_day,
        }
    }

    /// The shock, in σ, each crash bar feeds GARCH: m with (α·m² + β)ⁿ = (α·2² + β)⁶ over the
    /// day's n crash bars, the effect of six 2σ shocks on 4h bars.
    fn shock_sigmas(g: &Garch, n: f64) -> f64 {
        let day = (g.alpha * 4.0 + g.beta).powi(6);
        ((day.powf(1.0 / n) - g.beta) / g.alpha).sqrt()
    }

    fn crashing(&self, t: i64) -> bool {
        self.enabled && t >= self.start && t < self.end
    }

    fn drifting(&self, t: i64) -> bool {
        self.enabled && t < self.start && t >= self.start - 30 * 86_400_000
    }
}

/// One bar from its open, log return and volatility: wicks beyond open and close, volume
/// rising with |r|/σ, prices to cents, volume to 10⁻⁶.
fn bar(rng: &mut Rng, t: i64, open: f64, r: f64, sigma: f64, base_volume: f64) -> Candle {
    let close = open * r.exp();
    let wick = |rng: &mut Rng| (rng.normal().abs() * sigma * 0.5).exp();
    let high = open.max(close) * wick(rng);
    let low = open.min(close) / wick(rng);
    let activity = 1.0 + 3.0 * r.abs() / sigma.max(1e-12);
    let volume = base_volume * activity * (0.3 * rng.normal()).exp();
    // `open` is the previous close, already in cents: rounding it again can move a huge price.
    // A close never rounds below one cent (a long crash path of thousands of bars can reach
    // fractions of a cent, which would round to a price of zero).
    // A path that runs away upwards is held at a tenth of the bounds every bar must keep
    // (canary_model::candle), so that no seed, scenario or length makes an invalid bar.
    let top = canary_model::MAX_PRICE / 10.0;
    let (open_r, close_r) = (open, round_to(close, 2).clamp(0.01, top));
    let high_r = round_to(high, 2).max(open_r).max(close_r).min(top);
    let low_r = round_to(low, 2).min(open_r).min(close_r).max(0.01);
    let most =
        (canary_model::MAX_VOLUME / 10.0 / high_r).min(canary_model::MAX_TRADES as f64 / 400.0);
    let volume_r = round_to(volume.min(most), 6);
    let quote = round_to(volume_r * (high_r + low_r + close_r) / 3.0, 2);
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let trades = (volume_r * 40.0).round() as u64;
    Candle::new(
        Timestamp::from_millis(t),
        open_r,
        high_r,
        low_r,
        close_r,
        volume_r,
        Some(quote),
        Some(trades),
    )
    .expect("simulated bars are consistent by construction")
}

/// Simulate `p.bars` bars.
#[must_use]
pub fn simulate(p: &SimParams) -> Vec<Candle> {
    let mut rng = Rng::new(p.seed);
    let tf = p.timeframe;
    let g = Garch::of(p.scenario, tf);
    let start = tf.floor(p.start);
    let d = tf.duration_ms();
    let crash = CrashWindow::of(p, start, &g);
    let base_volume = 20_000.0 / crash.bars_per_day as f64
        * if d > 86_400_000 {
            (d / 86_400_000) as f64
        } else {
            1.0
        };
    let mut out = Vec::with_capacity(p.bars);
    let mut var = g.long_run_var;
    let mut last_shock: f64 = 0.0;
    let mut price = round_to(p.start_price, 2);
    for i in 0..p.bars {
        let t = start.millis() + d * i64::try_from(i).unwrap_or(0);
        var = g.omega + g.alpha * last_shock * last_shock + g.beta * var;
        let sigma = var.sqrt();
        let eps = rng.student_t4();
        let mut mu = g.drift_per_bar;
        if crash.drifting(t) {
            let per_bar = (0.995f64).ln() / crash.bars_per_day as f64;
            mu += per_bar;
        }
        let mut shock = sigma * eps;
        let mut volume_boost = 1.0;
        if crash.crashing(t) {
            // The day's bars share ln(0.85); keep a little noise so the path is not a staircase.
            mu = 0.85f64.ln() / crash.bars;
            shock *= 0.3;
            volume_boost = 4.0;
            // Each crash bar feeds GARCH a shock sized so that the day multiplies the variance
            // by the same factor whatever the bar length: volatility stays high afterwards.
            last_shock = crash.shock_sigmas * sigma;
        } else {
            last_shock = shock;
        }
        let candle = bar(
            &mut rng,
            t,
            price,
            mu + shock,
            sigma,
            base_volume * volume_boost,
        );
        price = candle.close;
        out.push(candle);
    }
    out
}

/// The CSV header of [`write_csv`].
pub const CSV_HEADER: &str =
    "open_time_utc,open,high,low,close,volume,quote_volume,trades,simulated";

/// Write bars as CSV (importable by `canary import`), marked simulated.
///
/// # Errors
/// A write error.
pub fn write_csv(candles: &[Candle], w: &mut impl std::io::Write) -> std::io::Result<()> {
    writeln!(w, "{CSV_HEADER}")?;
    for c in candles {
        writeln!(
            w,
            "{},{:.2},{:.2},{:.2},{:.2},{:.6},{:.2},{},true",
            c.open_time,
            c.open,
            c.high,
            c.low,
            c.close,
            c.volume,
            c.quote_volume.unwrap_or(0.0),
            c.trades.unwrap_or(0)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(scenario: Scenario, tf: Timeframe, bars: usize) -> SimParams {
        SimParams {
            timeframe: tf,
            bars,
            seed: 7,
            scenario,
            start: SimParams::DEFAULT_START,
            start_price: 100_000.0,
        }
    }

    #[test]
    fn same_seed_same_bytes() {
        let p = params(Scenario::Trend, Timeframe::H4, 500);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write_csv(&simulate(&p), &mut a).unwrap();
        write_csv(&simulate(&p), &mut b).unwrap();
        assert_eq!(a, b);
        let mut c = Vec::new();
        write_csv(&simulate(&SimParams { seed: 8, ..p }), &mut c).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn crash_scenario_falls_about_15_percent_in_one_day() {
        let bars = simulate(&params(Scenario::Crash, Timeframe::H4, 6 * 120));
        // Daily closes: find the worst one-day move.
        let daily: Vec<f64> = bars.chunks(6).map(|d| d.last().unwrap().close).collect();
        let worst = daily
            .windows(2)
            .map(|w| w[1] / w[0] - 1.0)
            .fold(0.0, f64::min);
        assert!((-0.20..=-0.11).contains(&worst), "worst day {worst}");
        // It is the second-to-last day.
        let i = daily
            .windows(2)
            .position(|w| w[1] / w[0] - 1.0 == worst)
            .unwrap();
        assert_eq!(i + 1, daily.len() - 2);
    }

    #[test]
    fn returns_have_fat_tails_and_clustered_volatility() {
        let bars = simulate(&params(Scenario::Calm, Timeframe::H1, 50_000));
        let r: Vec<f64> = bars
            .windows(2)
            .map(|w| (w[1].close / w[0].close).ln())
            .collect();
        let n = r.len() as f64;
        let m = r.iter().sum::<f64>() / n;
        let var = r.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
        let kurt = r.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n / (var * var);
        assert!(kurt > 4.0, "excess kurtosis expected, got kurtosis {kurt}");
        // Clustering: |r| is autocorrelated.
        let a: Vec<f64> = r.iter().map(|x| x.abs()).collect();
        let am = a.iter().sum::<f64>() / n;
        let cov = a.windows(2).map(|w| (w[0] - am) * (w[1] - am)).sum::<f64>() / n;
        let av = a.iter().map(|x| (x - am).powi(2)).sum::<f64>() / n;
        assert!(cov / av > 0.05, "autocorrelation of |r| {}", cov / av);
        // Volume rises with |r|.
        let big: Vec<_> = bars
            .iter()
            .skip(1)
            .zip(&a)
            .filter(|(_, x)| **x > 2.0 * am)
            .map(|(b, _)| b.volume)
            .collect();
        let small: Vec<_> = bars
            .iter()
            .skip(1)
            .zip(&a)
            .filter(|(_, x)| **x < 0.5 * am)
            .map(|(b, _)| b.volume)
            .collect();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!(mean(&big) > 1.5 * mean(&small));
    }

    /// Found by the property test below: a daily crash path of 1,809 bars fell to fractions
    /// of a cent and rounded to a close of zero.
    #[test]
    fn a_long_crash_never_reaches_zero() {
        let p = SimParams {
            timeframe: Timeframe::D1,
            bars: 1809,
            seed: 13_299_995_506_316_839_437,
            scenario: Scenario::Crash,
            start: SimParams::DEFAULT_START,
            start_price: 100_000.0,
        };
        assert!(simulate(&p).iter().all(|c| c.close >= 0.01));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(96))]

        /// Every scenario on every timeframe, at any length and seed, gives valid bars (the
        /// constructor checks them) that follow each other: no panic, no zero or infinite
        /// price.
        #[test]
        fn every_simulated_bar_is_valid(
            tf in proptest::sample::select(Timeframe::ALL.to_vec()),
            scenario in proptest::sample::select(vec![Scenario::Calm, Scenario::Trend, Scenario::Crash]),
            bars in 1usize..4000,
            seed in proptest::prelude::any::<u64>(),
        ) {
            let p = SimParams { timeframe: tf, bars, seed, scenario, start: SimParams::DEFAULT_START, start_price: 100_000.0 };
            let out = simulate(&p);
            proptest::prop_assert_eq!(out.len(), bars);
            for w in out.windows(2) {
                proptest::prop_assert_eq!(w[1].open, w[0].close);
                proptest::prop_assert_eq!(w[1].open_time, tf.close_of(w[0].open_time));
            }
            for c in &out {
                proptest::prop_assert!(c.close.is_finite() && c.close > 0.0 && c.high.is_finite(), "{c:?}");
            }
        }
    }
}
