//! The raw daily inputs of the score's components, one value per daily bar (NaN where a
//! value is not yet defined), each computed from that bar and the bars before it only: the
//! value at bar `i` is what was knowable at its close.
//!
//! | key | raw value |
//! |---|---|
//! | `daily_move_sigma` | log return of the day / σ of the previous 90 daily log returns |
//! | `drawdown_90d` | close / highest high of the last 90 days − 1, % |
//! | `realised_vol_30d` | σ of the last 30 daily log returns × √365, % |
//! | `rsi_extreme` | \|RSI 14 − 50\| |
//! | `volume_spike` | volume / median volume of the previous 30 days |
//! | `momentum_30d` | close / close 30 days before − 1, % |
//! | `trend_ema50` | close / EMA 50 − 1, % |
//! | `hash_ribbons` | 1 while the 30-day mean hash rate is below the 60-day mean, else 0 |
//! | `hashprice_stress` | power cost of a TH/s for a day at the fleet's efficiency and $55/MWh / hashprice (subsidy only) |

use canary_model::{Candle, Method, Timestamp};

use crate::mining::hashprice::{TH, power_cost_per_th_day};
use crate::ta;

/// The method of each raw input (one id; the key is a parameter).
pub const SCORE_INPUT: Method = Method::new("score_input", 1);

/// The power price of the hashprice stress ratio's reference fleet, USD/MWh
/// (`MODELS.md` §3: $50–60).
pub const STRESS_POWER_USD_PER_MWH: f64 = 55.0;

const DAY_MS: i64 = 86_400_000;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    }
}

/// The market inputs of daily bars (in time order), by key.
#[must_use]
pub fn market_inputs(bars: &[Candle]) -> Vec<(&'static str, Vec<f64>)> {
    let n = bars.len();
    let close: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let nan = || vec![f64::NAN; n];
    let mut out = Vec::new();

    let mut z = nan();
    if ta::return_z(&close, 90, &mut z).is_err() {
        z = nan();
    }
    out.push(("daily_move_sigma", z));

    let dd: Vec<f64> = (0..n)
        .map(|i| {
            if i + 1 < 90 {
                return f64::NAN;
            }
            let hi = bars[i + 1 - 90..=i]
                .iter()
                .map(|b| b.high)
                .fold(f64::MIN, f64::max);
            100.0 * (close[i] / hi - 1.0)
        })
        .collect();
    out.push(("drawdown_90d", dd));

    let mut rv = nan();
    if ta::realized_vol(&close, 30, 365.0, &mut rv).is_err() {
        rv = nan();
    }
    out.push(("realised_vol_30d", rv));

    let mut rsi = nan();
    if ta::rsi(&close, 14, &mut rsi).is_err() {
        rsi = nan();
    }
    out.push((
        "rsi_extreme",
        rsi.iter().map(|v| (v - 50.0).abs()).collect(),
    ));

    let spike: Vec<f64> = (0..n)
        .map(|i| {
            if i < 30 {
                return f64::NAN;
            }
            let mut prev: Vec<f64> = bars[i - 30..i].iter().map(|b| b.volume).collect();
            let m = median(&mut prev);
            if m > 0.0 {
                bars[i].volume / m
            } else {
                f64::NAN
            }
        })
        .collect();
    out.push(("volume_spike", spike));

    let mom: Vec<f64> = (0..n)
        .map(|i| {
            if i < 30 {
                f64::NAN
            } else {
                100.0 * (close[i] / close[i - 30] - 1.0)
            }
        })
        .collect();
    out.push(("momentum_30d", mom));

    let mut ema = nan();
    if ta::ema(&close, 50, &mut ema).is_err() {
        ema = nan();
    }
    out.push((
        "trend_ema50",
        close
            .iter()
            .zip(&ema)
            .map(|(c, e)| 100.0 * (c / e - 1.0))
            .collect(),
    ));
    out
}

/// The value of a daily series at each bar: the latest day that began at or before the
/// bar's open (a day's value is known when the day ends, as the daily bar closes); NaN
/// before the series starts or after a gap of more than `stale_days`.
#[must_use]
pub fn align(opens: &[Timestamp], series: &[(Timestamp, f64)], stale_days: i64) -> Vec<f64> {
    let mut j = 0usize;
    opens
        .iter()
        .map(|&t| {
            while j < series.len() && series[j].0 <= t {
                j += 1;
            }
            match j.checked_sub(1).map(|k| series[k]) {
                Some((d, v)) if t.millis() - d.millis() <= stale_days * DAY_MS => v,
                _ => f64::NAN,
            }
        })
        .collect()
}

/// Hash Ribbons state per day (1 in capitulation: SMA 30 below SMA 60), from the 60th day.
#[must_use]
pub fn ribbons_series(hashrate: &[(Timestamp, f64)]) -> Vec<(Timestamp, f64)> {
    let xs: Vec<f64> = hashrate.iter().map(|d| d.1).collect();
    let mut out = Vec::new();
    let (mut s30, mut s60) = (0.0, 0.0);
    for (i, &(t, x)) in hashrate.iter().enumerate() {
        s30 += x;
        s60 += x;
        if i >= 30 {
            s30 -= xs[i - 30];
        }
        if i >= 60 {
            s60 -= xs[i - 60];
        }
        if i + 1 >= 60 {
            out.push((t, if s30 / 30.0 < s60 / 60.0 { 1.0 } else { 0.0 }));
        }
    }
    out
}

/// The hashprice stress ratio per day where hash rate, USD subsidy and fleet efficiency are
/// all known (each series `(day, value)` in time order).
#[must_use]
pub fn stress_series(
    hashrate_hs: &[(Timestamp, f64)],
    subsidy_usd: &[(Timestamp, f64)],
    efficiency_j_per_th: &[(Timestamp, f64)],
) -> Vec<(Timestamp, f64)> {
    let by_day = |s: &[(Timestamp, f64)]| -> std::collections::BTreeMap<i64, f64> {
        s.iter()
            .map(|(t, v)| (t.millis().div_euclid(DAY_MS), *v))
            .collect()
    };
    let (sub, eff) = (by_day(subsidy_usd), by_day(efficiency_j_per_th));
    hashrate_hs
        .iter()
        .filter_map(|&(t, h)| {
            let d = t.millis().div_euclid(DAY_MS);
            let (s, e) = (sub.get(&d)?, eff.get(&d)?);
            let hashprice = s / (h / TH);
            (hashprice > 0.0).then(|| {
                (
                    t,
                    power_cost_per_th_day(*e, STRESS_POWER_USD_PER_MWH) / hashprice,
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(i: i64) -> Timestamp {
        Timestamp::from_millis(1_700_000_000_000 / DAY_MS * DAY_MS + i * DAY_MS)
    }

    #[test]
    fn inputs_use_only_the_past() {
        // Changing the last bar changes only the last value of every input.
        let mk = |last: f64| -> Vec<Candle> {
            (0..200)
                .map(|i| {
                    let c = if i == 199 {
                        last
                    } else {
                        100.0 + (i as f64 * 0.7).sin() * 5.0
                    };
                    Candle::new(
                        day(i),
                        c,
                        c + 1.0,
                        c - 1.0,
                        c,
                        if i == 199 {
                            last / 4.0
                        } else {
                            10.0 + (i % 7) as f64
                        },
                        None,
                        None,
                    )
                    .unwrap()
                })
                .collect()
        };
        let (a, b) = (market_inputs(&mk(100.0)), market_inputs(&mk(80.0)));
        for ((k, x), (_, y)) in a.iter().zip(&b) {
            for i in 0..199 {
                assert!(x[i].to_bits() == y[i].to_bits(), "{k} at {i}");
            }
            assert!(
                x[199].is_nan() || x[199] != y[199],
                "{k} ignores the last bar"
            );
        }
    }

    #[test]
    fn alignment_takes_the_day_known_and_goes_stale() {
        let s = [(day(0), 1.0), (day(1), 2.0)];
        let v = align(&[day(0), day(1), day(2), day(9)], &s, 3);
        assert_eq!(v[..3], [1.0, 2.0, 2.0]);
        assert!(v[3].is_nan());
        assert!(align(&[day(-1)], &s, 3)[0].is_nan());
    }

    #[test]
    fn ribbons_flag_a_falling_hash_rate() {
        let up: Vec<(Timestamp, f64)> = (0..90).map(|i| (day(i), 100.0 + i as f64)).collect();
        assert!(ribbons_series(&up).iter().all(|d| d.1 == 0.0));
        let mut down = up.clone();
        down.extend((90..130).map(|i| (day(i), 300.0 - 3.0 * i as f64)));
        assert_eq!(ribbons_series(&down).last().unwrap().1, 1.0);
    }

    #[test]
    fn stress_is_fleet_cost_over_hashprice() {
        // 600 EH/s, $40M of subsidy a day: hashprice = 40e6 / 6e8 TH = $0.0667/TH/day.
        let t = day(0);
        let s = stress_series(&[(t, 6e20)], &[(t, 4e7)], &[(t, 25.0)]);
        // 25 J/TH × 86,400 s = 0.6 kWh = 0.0006 MWh × $55 = $0.033.
        assert!((s[0].1 - 0.033 / (4e7 / 6e8)).abs() < 1e-9, "{s:?}");
    }
}
