//! Swing pivots (`MODELS.md` §5.1 A): a pivot high at t when high_t is the highest of
//! high_{t−k} … high_{t+k} (a pivot low likewise), confirmed only at t+k. Ties: the first of
//! equal highs in the window counts, so a flat top gives one pivot, not several.

use canary_model::{Candle, Timestamp};

/// Which side of the market a pivot marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PivotKind {
    High,
    Low,
}

/// A confirmed swing pivot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pivot {
    pub kind: PivotKind,
    /// Index of the pivot bar.
    pub index: usize,
    pub time: Timestamp,
    pub price: f64,
    pub volume: f64,
    /// Index of the bar that confirms it (index + k).
    pub confirmed_at: usize,
}

/// Whether bar `t` is a pivot high with k bars each side (first of equal highs).
fn is_pivot(candles: &[Candle], t: usize, k: usize, kind: PivotKind) -> bool {
    let v = |i: usize| match kind {
        PivotKind::High => candles[i].high,
        PivotKind::Low => -candles[i].low,
    };
    let x = v(t);
    (t - k..t).all(|i| v(i) < x) && (t + 1..=t + k).all(|i| v(i) <= x)
}

/// Every pivot confirmed within `candles` (so the last k bars can hold none), in time order.
#[must_use]
pub fn pivots(candles: &[Candle], k: usize) -> Vec<Pivot> {
    let k = k.max(1);
    let mut out = Vec::new();
    if candles.len() < 2 * k + 1 {
        return out;
    }
    for t in k..candles.len() - k {
        for kind in [PivotKind::High, PivotKind::Low] {
            if is_pivot(candles, t, k, kind) {
                let c = &candles[t];
                out.push(Pivot {
                    kind,
                    index: t,
                    time: c.open_time,
                    price: if kind == PivotKind::High {
                        c.high
                    } else {
                        c.low
                    },
                    volume: c.volume,
                    confirmed_at: t + k,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bars(highs: &[f64]) -> Vec<Candle> {
        highs
            .iter()
            .enumerate()
            .map(|(i, &h)| {
                Candle::new(
                    Timestamp::from_millis(i64::try_from(i).unwrap() * 60_000),
                    h - 1.0,
                    h,
                    h - 2.0,
                    h - 1.0,
                    1.0,
                    None,
                    None,
                )
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn finds_swing_highs_and_lows() {
        let c = bars(&[10.0, 11.0, 15.0, 12.0, 11.0, 9.0, 10.0, 12.0]);
        let p = pivots(&c, 2);
        assert!(
            p.iter()
                .any(|p| p.kind == PivotKind::High && p.index == 2 && p.confirmed_at == 4)
        );
        assert!(
            p.iter()
                .any(|p| p.kind == PivotKind::Low && p.index == 5 && p.price == 7.0)
        );
    }

    proptest! {
        /// No look-ahead: the pivots found in any prefix are all confirmed inside it, and they
        /// are exactly the pivots of the full series confirmed by then.
        #[test]
        fn prefix_pivots_are_confirmed_and_stable(xs in proptest::collection::vec(10.0f64..20.0, 1..120), k in 1usize..6, cut in 0usize..120) {
            let c = bars(&xs);
            let m = cut.min(c.len());
            let full = pivots(&c, k);
            let prefix = pivots(&c[..m], k);
            for p in &prefix {
                prop_assert!(p.confirmed_at < m);
            }
            let known: Vec<_> = full.into_iter().filter(|p| p.confirmed_at < m).collect();
            prop_assert_eq!(prefix, known);
        }
    }
}
