//! Capitulation indicators (`MODELS.md` §3): Hash Ribbons, the Puell Multiple (and a
//! halving-adjusted variant) and the difficulty nowcast. Inputs are daily series of
//! (day, value) in time order, each day closed and available at the as-of time; the caller
//! filters by availability.

use canary_model::Timestamp;

use super::hashprice::difficulty_from_hashrate;
use super::protocol::{estimated_height, subsidy_btc};

/// Hash Ribbons: SMA 30 / SMA 60 of the daily hash rate; below 1 is capitulation.
pub const HASH_RIBBONS: canary_model::Method = canary_model::Method::new("hash_ribbons", 1);
/// The lowest value of a daily series over a trailing window of days, and its day.
pub const WINDOW_MIN: canary_model::Method = canary_model::Method::new("window_min", 1);
/// Puell Multiple: daily issuance in USD over its 365-day mean.
pub const PUELL: canary_model::Method = canary_model::Method::new("puell", 1);
/// Puell Multiple with issuance before the last halving halved.
pub const PUELL_HALVING_ADJUSTED: canary_model::Method =
    canary_model::Method::new("puell_halving_adjusted", 1);
/// Next difficulty projected from the recent hash rate.
pub const DIFFICULTY_NOWCAST: canary_model::Method =
    canary_model::Method::new("difficulty_nowcast", 1);

fn sma_at(xs: &[f64], i: usize, n: usize) -> Option<f64> {
    (i + 1 >= n).then(|| xs[i + 1 - n..=i].iter().sum::<f64>() / n as f64)
}

/// Where the Hash Ribbons stand on the last day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ribbons {
    pub day: Timestamp,
    pub sma30: f64,
    pub sma60: f64,
    /// SMA30 below SMA60 on the last day.
    pub capitulation: bool,
    /// The day the current (or latest) capitulation began.
    pub capitulation_since: Option<Timestamp>,
    /// The day of the latest recovery (SMA30 crossing back above SMA60).
    pub last_recovery: Option<Timestamp>,
}

/// Hash Ribbons from daily hash rates: capitulation while SMA30 < SMA60, recovery on the day
/// SMA30 crosses back above. `None` with fewer than 60 days.
#[must_use]
pub fn hash_ribbons(days: &[(Timestamp, f64)]) -> Option<Ribbons> {
    let xs: Vec<f64> = days.iter().map(|d| d.1).collect();
    let last = xs.len().checked_sub(1)?;
    let (mut since, mut recovery, mut prev_cap) = (None, None, None::<bool>);
    for (i, &(day, _)) in days.iter().enumerate().skip(59) {
        let cap = sma_at(&xs, i, 30)? < sma_at(&xs, i, 60)?;
        match (prev_cap, cap) {
            (Some(false) | None, true) => since = Some(day),
            (Some(true), false) => recovery = Some(day),
            _ => {}
        }
        prev_cap = Some(cap);
    }
    let (s30, s60) = (sma_at(&xs, last, 30)?, sma_at(&xs, last, 60)?);
    Some(Ribbons {
        day: days[last].0,
        sma30: s30,
        sma60: s60,
        capitulation: s30 < s60,
        capitulation_since: since,
        last_recovery: recovery,
    })
}

/// The Puell Multiple on the last day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Puell {
    pub day: Timestamp,
    /// Issuance in USD on the last day / its 365-day mean.
    pub puell: f64,
    /// The same with every day's issuance restated at the last day's subsidy, so that a
    /// halving inside the window does not depress it for a year.
    pub halving_adjusted: f64,
}

/// Puell Multiple from daily issuance in USD (subsidy paid that day × price). `None` with
/// fewer than 365 days.
#[must_use]
pub fn puell(issuance_usd: &[(Timestamp, f64)]) -> Option<Puell> {
    let last = issuance_usd.len().checked_sub(1)?;
    if issuance_usd.len() < 365 {
        return None;
    }
    let window = &issuance_usd[last + 1 - 365..=last];
    let mean = window.iter().map(|d| d.1).sum::<f64>() / 365.0;
    let now_subsidy = subsidy_btc(estimated_height(issuance_usd[last].0));
    let adjusted_mean = window
        .iter()
        .map(|&(t, v)| v * now_subsidy / subsidy_btc(estimated_height(t)))
        .sum::<f64>()
        / 365.0;
    let today = issuance_usd[last].1;
    Some(Puell {
        day: issuance_usd[last].0,
        puell: today / mean,
        halving_adjusted: today / adjusted_mean,
    })
}

/// Nowcast of the next difficulty (`MODELS.md` §1.5): D·(H_recent / H_at_D), where H_at_D is
/// the hash rate the current difficulty implies, clamped to the ×4 rule. Returns
/// (projected difficulty, change as a fraction).
#[must_use]
pub fn difficulty_nowcast(difficulty: f64, recent_hashrate_hs: f64) -> (f64, f64) {
    let implied = difficulty_from_hashrate(recent_hashrate_hs);
    let ratio = (implied / difficulty).clamp(0.25, 4.0);
    (difficulty * ratio, ratio - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(values: &[f64]) -> Vec<(Timestamp, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                (
                    Timestamp::from_millis(
                        1_700_000_000_000 + i64::try_from(i).unwrap() * 86_400_000,
                    ),
                    v,
                )
            })
            .collect()
    }

    #[test]
    fn ribbons_capitulate_when_hashrate_falls_and_recover() {
        let mut v: Vec<f64> = (0..100).map(|i| 100.0 + f64::from(i)).collect();
        let r = hash_ribbons(&days(&v)).unwrap();
        assert!(!r.capitulation && r.capitulation_since.is_none());
        v.extend((0..40).map(|i| 150.0 - f64::from(i)));
        let d = days(&v);
        let r = hash_ribbons(&d).unwrap();
        assert!(r.capitulation && r.capitulation_since.is_some());
        v.extend((0..60).map(|i| 120.0 + f64::from(i) * 2.0));
        let r = hash_ribbons(&days(&v)).unwrap();
        assert!(!r.capitulation && r.last_recovery.is_some());
        assert!(hash_ribbons(&days(&[1.0; 59])).is_none());
    }

    #[test]
    fn puell_of_a_flat_series_is_one_and_nowcast_follows_hashrate() {
        let p = puell(&days(&[1000.0; 400])).unwrap();
        assert!((p.puell - 1.0).abs() < 1e-12);
        // MODELS.md §3 example: issuance at $60k against a 365-day mean at $95k gives 0.63.
        let mut v = vec![450.0 * 95_000.0; 364];
        v.push(450.0 * 60_000.0);
        let p = puell(&days(&v)).unwrap();
        assert!((p.puell - 0.632).abs() < 0.002, "{}", p.puell);
        // 6 % less hash rate than the difficulty implies: D −6 %.
        let d = 100e12;
        let h = super::super::hashprice::hashrate_from_difficulty_hs(d) * 0.94;
        let (next, change) = difficulty_nowcast(d, h);
        assert!((change - -0.06).abs() < 1e-12 && (next - 94e12).abs() < 1.0);
    }
}
