//! Cross-market readings: a day's move and its rank in the ticker's history, BTC's price at an
//! exchange's close, returns aligned on common days, rolling correlation and beta, and a
//! basket's move. Series are `(time, value)` in time order; a US series' time is its trading
//! day.
//!
//! **Alignment.** BTC trades every day and equities on trading days. A return pair is taken
//! between two consecutive days on which both series have a value, so a Monday's return runs
//! from Friday's close to Monday's for both, and a day one of them lacks (a holiday, a gap) is
//! spanned by the next pair, never filled. BTC's value on a trading day is its price at that
//! day's close ([`at_or_before`]), not its UTC daily close.

use canary_model::{Method, Timestamp};

/// A day's move: the close over the previous close, minus one.
pub const DAY_MOVE: Method = Method::new("day_move", 1);
/// The rank of the latest day's move among every daily move of the series up to it, from the
/// worst (1 = the largest fall).
pub const MOVE_RANK: Method = Method::new("move_rank_from_worst", 1);
/// BTC's price at an exchange's close: the close of the last bar that closed at or before it.
pub const PRICE_AT_CLOSE: Method = Method::new("price_at_exchange_close", 1);
/// Pearson correlation of log returns aligned on common days, over the last `window` pairs.
pub const CORRELATION: Method = Method::new("rolling_correlation_log_returns", 1);
/// Beta of one series' log returns to another's (cov / var of the second), over the last
/// `window` aligned pairs.
pub const BETA: Method = Method::new("rolling_beta_log_returns", 1);
/// The mean of the members' day moves, each weighted equally.
pub const BASKET_EQUAL: Method = Method::new("basket_move_equal_weighted", 1);

/// Each day's move after the first: `(time, close / previous close − 1)`.
#[must_use]
pub fn day_moves(closes: &[(Timestamp, f64)]) -> Vec<(Timestamp, f64)> {
    closes
        .windows(2)
        .map(|w| (w[1].0, w[1].1 / w[0].1 - 1.0))
        .collect()
}

/// The rank of the last value among all of them from the smallest (1 = the smallest; ties
/// share the better rank), and how many there are.
#[must_use]
pub fn rank_from_worst(values: &[f64]) -> Option<(usize, usize)> {
    let &last = values.last()?;
    Some((
        1 + values.iter().filter(|&&v| v < last).count(),
        values.len(),
    ))
}

/// For each `(day, instant)`, the close of the last bar of `bars` (`(close time, close)` in
/// time order) that closed at or before the instant and no more than `max_lag_ms` before it:
/// `(day, price, lag)`. A day with no such bar is left out.
#[must_use]
pub fn at_or_before(
    bars: &[(Timestamp, f64)],
    instants: &[(Timestamp, Timestamp)],
    max_lag_ms: i64,
) -> Vec<(Timestamp, f64, i64)> {
    instants
        .iter()
        .filter_map(|&(day, at)| {
            let i = bars.partition_point(|(t, _)| *t <= at);
            let &(t, price) = bars.get(i.checked_sub(1)?)?;
            let lag = at.millis() - t.millis();
            (lag <= max_lag_ms).then_some((day, price, lag))
        })
        .collect()
}

/// Log returns of two series between consecutive days both have: `(day, ln a, ln b)`.
#[must_use]
pub fn aligned_log_returns(
    a: &[(Timestamp, f64)],
    b: &[(Timestamp, f64)],
) -> Vec<(Timestamp, f64, f64)> {
    let mut common = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common.push((a[i].0, a[i].1, b[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    common
        .windows(2)
        .map(|w| (w[1].0, (w[1].1 / w[0].1).ln(), (w[1].2 / w[0].2).ln()))
        .collect()
}

/// Correlation and beta over a window of aligned returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoMove {
    /// Pearson correlation of the two.
    pub correlation: f64,
    /// Beta of the first to the second: cov(a, b) / var(b).
    pub beta: f64,
    /// Return pairs in the window.
    pub n: usize,
    /// The first and last day of the window.
    pub from: Timestamp,
    pub to: Timestamp,
}

/// Correlation and beta of `a` to `b` over the last `window` pairs of `returns` ending at
/// index `end` (exclusive); `None` with fewer pairs or when either side does not vary.
#[must_use]
pub fn co_move_at(returns: &[(Timestamp, f64, f64)], end: usize, window: usize) -> Option<CoMove> {
    if window < 3 || end > returns.len() || end < window {
        return None;
    }
    let w = &returns[end - window..end];
    let n = w.len() as f64;
    let (ma, mb) = (
        w.iter().map(|r| r.1).sum::<f64>() / n,
        w.iter().map(|r| r.2).sum::<f64>() / n,
    );
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for r in w {
        let (da, db) = (r.1 - ma, r.2 - mb);
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    (saa > 0.0 && sbb > 0.0).then(|| CoMove {
        correlation: sab / (saa * sbb).sqrt(),
        beta: sab / sbb,
        n: w.len(),
        from: w[0].0,
        to: w[w.len() - 1].0,
    })
}

/// As [`co_move_at`], over the last `window` pairs.
#[must_use]
pub fn co_move(returns: &[(Timestamp, f64, f64)], window: usize) -> Option<CoMove> {
    co_move_at(returns, returns.len(), window)
}

/// The equal-weighted mean of the moves given; `None` for none.
#[must_use]
pub fn basket_equal(moves: &[f64]) -> Option<f64> {
    (!moves.is_empty()).then(|| moves.iter().sum::<f64>() / moves.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: i64) -> Timestamp {
        Timestamp::from_millis(n * 86_400_000)
    }

    #[test]
    fn moves_rank_from_the_worst() {
        let closes = [
            (day(0), 100.0),
            (day(1), 90.0),
            (day(2), 99.0),
            (day(3), 79.2),
        ];
        let m = day_moves(&closes);
        assert_eq!(m.len(), 3);
        assert!((m[0].1 + 0.1).abs() < 1e-12);
        assert!((m[2].1 + 0.2).abs() < 1e-12);
        let values: Vec<f64> = m.iter().map(|x| x.1).collect();
        assert_eq!(rank_from_worst(&values), Some((1, 3)));
        assert_eq!(rank_from_worst(&values[..2]), Some((2, 2)));
    }

    #[test]
    fn prices_at_a_close_take_the_last_bar_closed_by_then_within_the_lag() {
        let h = 3_600_000;
        let bars = [
            (Timestamp::from_millis(16 * h), 1.0),
            (Timestamp::from_millis(20 * h), 2.0),
            (Timestamp::from_millis(24 * h), 3.0),
        ];
        let at = |hour: i64| (day(0), Timestamp::from_millis(hour * h));
        assert_eq!(at_or_before(&bars, &[at(20)], 0), vec![(day(0), 2.0, 0)]);
        assert_eq!(
            at_or_before(&bars, &[at(21)], 4 * h),
            vec![(day(0), 2.0, h)]
        );
        assert!(at_or_before(&bars, &[at(21)], h - 1).is_empty());
        assert!(at_or_before(&bars, &[at(15)], 4 * h).is_empty());
    }

    #[test]
    fn returns_align_on_common_days_and_correlate() {
        // b has no day 2: the pair runs from day 1 to day 3 for both.
        let a = [
            (day(0), 100.0),
            (day(1), 110.0),
            (day(2), 99.0),
            (day(3), 121.0),
        ];
        let b = [(day(0), 10.0), (day(1), 11.0), (day(3), 12.1)];
        let r = aligned_log_returns(&a, &b);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].0, day(3));
        assert!((r[1].1 - (1.1f64).ln()).abs() < 1e-12);
        assert!((r[1].2 - (1.1f64).ln()).abs() < 1e-12);
        // a = 2 b exactly: correlation 1, beta 2.
        let pairs: Vec<(Timestamp, f64, f64)> = (0..10)
            .map(|i| {
                let x = f64::from(i % 4) * 0.01 - 0.015;
                (day(i64::from(i)), 2.0 * x, x)
            })
            .collect();
        let c = co_move(&pairs, 8).unwrap();
        assert!((c.correlation - 1.0).abs() < 1e-12);
        assert!((c.beta - 2.0).abs() < 1e-12);
        assert_eq!((c.n, c.from, c.to), (8, day(2), day(9)));
        assert!(co_move(&pairs, 11).is_none());
        assert!((basket_equal(&[-0.1, -0.2]).unwrap() + 0.15).abs() < 1e-15);
        assert!(basket_equal(&[]).is_none());
    }
}
