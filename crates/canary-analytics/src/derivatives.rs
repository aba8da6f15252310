//! Derivatives readings (MODELS.md §4): the funding rate against its own recent history and as
//! an annual carry, the change of open interest over a lag, and a day's liquidations ranked in
//! their history. Series are `(time, value)` in time order, as the store reads them as of T.

use canary_model::{Method, Timestamp};

/// z-score of the latest settled funding rate against the settlements of the window before it.
pub const FUNDING_ZSCORE: Method = Method::new("funding_zscore", 1);
/// A funding rate per interval times the intervals in 365 days (simple, not compounded).
pub const FUNDING_CARRY: Method = Method::new("funding_carry_annualised", 1);
/// Relative change of a level between the latest value and the last one at or before a lag.
pub const CHANGE_OVER: Method = Method::new("change_over_lag", 1);
/// Sum of the long and short liquidations of one bar.
pub const LIQUIDATIONS_TOTAL: Method = Method::new("liquidations_total", 1);
/// Rank of a bar's total among every bar of its series up to it (1 = the largest).
pub const RANK_IN_HISTORY: Method = Method::new("rank_in_history", 1);
/// Liquidations of a bar over the open interest at the bar's open.
pub const LIQUIDATIONS_SHARE_OF_OI: Method = Method::new("liquidations_share_of_oi", 1);
/// A perpetual's basis: mark over index, minus one.
pub const BASIS: Method = Method::new("basis", 1);
/// Open interest over the market value of the supply (a leverage gauge).
pub const OI_TO_MARKET_VALUE: Method = Method::new("oi_to_market_value", 1);

/// The latest value against the values of a window before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZScore {
    pub latest: f64,
    pub mean: f64,
    /// Sample standard deviation (n − 1).
    pub sd: f64,
    pub z: f64,
    /// Values in the window.
    pub n: usize,
}

/// The latest value's z-score against the values in `[t − window, t)`, `t` the latest time:
/// `None` with fewer than `min_n` values there, or none that differ.
#[must_use]
pub fn zscore_against_window(
    series: &[(Timestamp, f64)],
    window_ms: i64,
    min_n: usize,
) -> Option<ZScore> {
    let &(t, latest) = series.last()?;
    let from = t.millis().saturating_sub(window_ms);
    // The window's start found by bisection: a history of years costs its window, not its
    // length.
    let start = series.partition_point(|(ti, _)| ti.millis() < from);
    let prior: Vec<f64> = series[start.min(series.len() - 1)..series.len() - 1]
        .iter()
        .map(|&(_, v)| v)
        .collect();
    let n = prior.len();
    if n < min_n.max(2) || prior.iter().all(|&v| v.to_bits() == prior[0].to_bits()) {
        return None;
    }
    let mean = prior.iter().sum::<f64>() / n as f64;
    let var = prior.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    (sd > 0.0).then(|| ZScore {
        latest,
        mean,
        sd,
        z: (latest - mean) / sd,
        n,
    })
}

/// A rate per interval as a simple annual rate: `rate × intervals per year`.
#[must_use]
pub fn annualise(rate: f64, intervals_per_year: f64) -> f64 {
    rate * intervals_per_year
}

/// A level's change: the latest value against the last value at or before `latest − lag`,
/// provided that one is no older than `latest − lag − tolerance` (a series with a hole there
/// has no such change).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub from_time: Timestamp,
    pub from: f64,
    pub to: f64,
    /// `to / from − 1`.
    pub relative: f64,
}

/// See [`Change`].
#[must_use]
pub fn change_over(series: &[(Timestamp, f64)], lag_ms: i64, tolerance_ms: i64) -> Option<Change> {
    let &(t, to) = series.last()?;
    let at = t.millis().checked_sub(lag_ms)?;
    let i = series.partition_point(|(ti, _)| ti.millis() <= at);
    let &(from_time, from) = series.get(i.checked_sub(1)?)?;
    (at - from_time.millis() <= tolerance_ms && from > 0.0).then(|| Change {
        from_time,
        from,
        to,
        relative: to / from - 1.0,
    })
}

/// The rank of `series`' last value among all its values (1 = the largest; ties share the
/// better rank), and how many there are.
#[must_use]
pub fn rank_of_last(values: &[f64]) -> Option<(usize, usize)> {
    let &last = values.last()?;
    Some((
        1 + values.iter().filter(|&&v| v > last).count(),
        values.len(),
    ))
}

/// The sum of two aligned bar series (long and short liquidations): the bars both have.
#[must_use]
pub fn sum_aligned(a: &[(Timestamp, f64)], b: &[(Timestamp, f64)]) -> Vec<(Timestamp, f64)> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push((a[i].0, a[i].1 + b[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// The last value at or before `t`.
#[must_use]
pub fn value_at(series: &[(Timestamp, f64)], t: Timestamp) -> Option<(Timestamp, f64)> {
    let i = series.partition_point(|(ti, _)| *ti <= t);
    series.get(i.checked_sub(1)?).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> Timestamp {
        Timestamp::from_millis(h * 3_600_000)
    }

    #[test]
    fn the_funding_zscore_uses_only_the_window_before_the_latest() {
        // 0.01 % for 10 settlements, then 0.04 %: mean 1e-4, sd 0 → no z; with one
        // different value in the window the z is defined.
        let mut s: Vec<(Timestamp, f64)> = (0..10).map(|i| (at(8 * i), 1e-4)).collect();
        s.push((at(80), 4e-4));
        assert_eq!(zscore_against_window(&s, 90 * 24 * 3_600_000, 3), None);
        s[0].1 = 2e-4;
        let z = zscore_against_window(&s, 90 * 24 * 3_600_000, 3).unwrap();
        assert_eq!(z.n, 10);
        assert!((z.mean - 1.1e-4).abs() < 1e-15);
        // sd of nine 1e-4 and one 2e-4: sqrt(0.9e-8 / 9) = 3.1623e-5.
        assert!((z.sd - 3.162_277_660e-5).abs() < 1e-12, "{}", z.sd);
        assert!((z.z - (4e-4 - 1.1e-4) / z.sd).abs() < 1e-9);
        // A window of 40 h keeps the five settlements from 40 h before the latest on.
        s[5].1 = 3e-4;
        assert_eq!(zscore_against_window(&s, 40 * 3_600_000, 3).unwrap().n, 5);
        assert_eq!(annualise(1e-4, 1095.0), 0.1095);
    }

    #[test]
    fn a_change_needs_a_value_near_the_lag() {
        let s = [(at(0), 100.0), (at(4), 110.0), (at(24), 121.0)];
        let c = change_over(&s, 24 * 3_600_000, 4 * 3_600_000).unwrap();
        assert_eq!(c.from_time, at(0));
        assert!((c.relative - 0.21).abs() < 1e-12);
        // A lag of 20 h finds the 04:00 value; 30 h finds none.
        assert_eq!(change_over(&s, 20 * 3_600_000, 0).unwrap().from, 110.0);
        assert!(change_over(&s, 30 * 3_600_000, 4 * 3_600_000).is_none());
        // A hole: the last value before the lag is too old.
        let holed = [(at(0), 100.0), (at(48), 90.0)];
        assert!(change_over(&holed, 24 * 3_600_000, 4 * 3_600_000).is_none());
    }

    #[test]
    fn ranks_and_sums() {
        assert_eq!(rank_of_last(&[5.0, 9.0, 7.0, 7.0]), Some((2, 4)));
        assert_eq!(rank_of_last(&[5.0, 9.0, 10.0]), Some((1, 3)));
        let a = [(at(0), 1.0), (at(24), 2.0), (at(48), 3.0)];
        let b = [(at(24), 10.0), (at(48), 20.0)];
        assert_eq!(sum_aligned(&a, &b), vec![(at(24), 12.0), (at(48), 23.0)]);
        assert_eq!(value_at(&a, at(30)), Some((at(24), 2.0)));
        assert_eq!(value_at(&a, Timestamp::from_millis(-1)), None);
    }
}
