//! Volume profile from candles (`MODELS.md` §5.1 D): each bar's volume spread evenly over its
//! [low, high] range into price bins; the point of control (POC), the 70 % value area, high-volume
//! nodes and low-volume "air pockets".

use canary_model::Candle;

/// The most bins a profile has.
pub const MAX_BINS: usize = 100_000;

/// Volume by price bin: bin i covers [origin + i·width, origin + (i+1)·width).
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeProfile {
    pub origin: f64,
    pub width: f64,
    pub volume: Vec<f64>,
}

impl VolumeProfile {
    /// Build a profile of `candles` with bins of `width` (e.g. 0.1 % of the price). A traded
    /// range wider than [`MAX_BINS`] bins of `width` gets wider bins instead (the profile's
    /// `width` says which), so that no range, however extreme, makes the work unbounded.
    #[must_use]
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn build(candles: &[Candle], width: f64) -> Option<VolumeProfile> {
        let lo = candles.iter().map(|c| c.low).fold(f64::INFINITY, f64::min);
        let hi = candles
            .iter()
            .map(|c| c.high)
            .fold(f64::NEG_INFINITY, f64::max);
        if !(lo.is_finite() && hi.is_finite() && width > 0.0 && width.is_finite()) {
            return None;
        }
        let width = if (hi - lo) / width > (MAX_BINS - 2) as f64 {
            (hi - lo) / (MAX_BINS - 2) as f64
        } else {
            width
        };
        let origin = (lo / width).floor() * width;
        let n = (((hi - origin) / width).floor() as usize)
            .saturating_add(1)
            .min(MAX_BINS);
        let mut volume = vec![0.0; n];
        for c in candles {
            let a = (((c.low - origin) / width).floor() as usize).min(n - 1);
            let b = (((c.high - origin) / width).floor() as usize).min(n - 1);
            let range = c.high - c.low;
            if a == b || range <= 0.0 {
                volume[a] += c.volume;
                continue;
            }
            // Each bin gets the share of the range it overlaps.
            for (i, v) in volume.iter_mut().enumerate().take(b + 1).skip(a) {
                let bin_lo = (origin + i as f64 * width).max(c.low);
                let bin_hi = (origin + (i + 1) as f64 * width).min(c.high);
                *v += c.volume * (bin_hi - bin_lo).max(0.0) / range;
            }
        }
        Some(VolumeProfile {
            origin,
            width,
            volume,
        })
    }

    /// The middle price of bin i.
    #[must_use]
    pub fn price(&self, i: usize) -> f64 {
        self.origin + (i as f64 + 0.5) * self.width
    }

    /// Total volume.
    #[must_use]
    pub fn total(&self) -> f64 {
        self.volume.iter().sum()
    }

    /// The bin with the most volume (point of control).
    #[must_use]
    pub fn poc(&self) -> usize {
        self.volume
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i)
    }

    /// The value area: from the POC, add whichever neighbouring bin has more volume until
    /// `share` of the total is inside. Returns the (first, last) bin.
    #[must_use]
    pub fn value_area(&self, share: f64) -> (usize, usize) {
        let target = self.total() * share;
        let (mut a, mut b) = (self.poc(), self.poc());
        let mut sum = self.volume[a];
        while sum < target && (a > 0 || b + 1 < self.volume.len()) {
            let below = if a > 0 {
                self.volume[a - 1]
            } else {
                f64::NEG_INFINITY
            };
            let above = if b + 1 < self.volume.len() {
                self.volume[b + 1]
            } else {
                f64::NEG_INFINITY
            };
            if above >= below {
                b += 1;
                sum += above;
            } else {
                a -= 1;
                sum += below;
            }
        }
        (a, b)
    }

    /// Volume smoothed over ±`r` bins (so single-bin noise does not make nodes): summed bin by
    /// bin for the usual narrow windows, from running sums for wide ones (an extreme range
    /// against a small bin), so that the work stays linear in the bins.
    fn smoothed(&self, r: usize) -> Vec<f64> {
        let n = self.volume.len();
        let r = r.min(n);
        let mean = |a: usize, b: usize, sum: f64| sum / (b - a + 1) as f64;
        if r <= 64 {
            return (0..n)
                .map(|i| {
                    let (a, b) = (i.saturating_sub(r), (i + r).min(n - 1));
                    mean(a, b, self.volume[a..=b].iter().sum::<f64>())
                })
                .collect();
        }
        let mut prefix = Vec::with_capacity(n + 1);
        prefix.push(0.0);
        for v in &self.volume {
            prefix.push(prefix[prefix.len() - 1] + v);
        }
        (0..n)
            .map(|i| {
                let (a, b) = (i.saturating_sub(r), (i + r).min(n - 1));
                mean(a, b, (prefix[b + 1] - prefix[a]).max(0.0))
            })
            .collect()
    }

    /// High-volume nodes: bins whose smoothed volume is the largest within ±`r` bins (and
    /// larger than every one before it there) and at least 1.5× the mean.
    #[must_use]
    pub fn high_volume_nodes(&self, r: usize) -> Vec<usize> {
        let s = self.smoothed(r);
        let r = r.min(s.len());
        let mean = s.iter().sum::<f64>() / s.len().max(1) as f64;
        let around = window_max(&s, r, r);
        // The largest of the r bins before i: the window ending at i - 1.
        let before = window_max(&s, r.saturating_sub(1), 0);
        (0..s.len())
            .filter(|&i| {
                let left = if i == 0 || r == 0 {
                    f64::NEG_INFINITY
                } else {
                    before[i - 1]
                };
                s[i] >= 1.5 * mean && around[i] <= s[i] && left < s[i]
            })
            .collect()
    }

    /// Air pockets: runs of at least `min_bins` bins whose smoothed volume is below 30 % of the
    /// mean, as (low price, high price).
    #[must_use]
    pub fn air_pockets(&self, r: usize, min_bins: usize) -> Vec<(f64, f64)> {
        let s = self.smoothed(r);
        let mean = s.iter().sum::<f64>() / s.len().max(1) as f64;
        let mut out = Vec::new();
        let mut start: Option<usize> = None;
        for i in 0..=s.len() {
            let low = i < s.len() && s[i] < 0.3 * mean;
            match (low, start) {
                (true, None) => start = Some(i),
                (false, Some(a)) => {
                    if i - a >= min_bins {
                        out.push((
                            self.origin + a as f64 * self.width,
                            self.origin + i as f64 * self.width,
                        ));
                    }
                    start = None;
                }
                _ => {}
            }
        }
        out
    }
}

/// The largest of `s[i - back ..= i + ahead]` (clipped to `s`) for every i, in linear time
/// (a deque of the candidates, largest first).
fn window_max(s: &[f64], back: usize, ahead: usize) -> Vec<f64> {
    let n = s.len();
    let mut out = vec![f64::NEG_INFINITY; n];
    let mut dq: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    let mut next = 0;
    for (i, o) in out.iter_mut().enumerate() {
        let hi = i.saturating_add(ahead).min(n - 1);
        while next <= hi {
            while dq.back().is_some_and(|&b| s[b] <= s[next]) {
                dq.pop_back();
            }
            dq.push_back(next);
            next += 1;
        }
        let lo = i.saturating_sub(back);
        while dq.front().is_some_and(|&f| f < lo) {
            dq.pop_front();
        }
        if let Some(&f) = dq.front() {
            *o = s[f];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_model::Timestamp;
    use proptest::prelude::*;

    proptest! {
        /// The linear-time window maximum equals the plain one.
        #[test]
        fn window_max_is_the_plain_maximum(s in proptest::collection::vec(0.0f64..10.0, 1..60), back in 0usize..70, ahead in 0usize..70) {
            let got = window_max(&s, back, ahead);
            for (i, &g) in got.iter().enumerate() {
                let (a, b) = (i.saturating_sub(back), (i + ahead).min(s.len() - 1));
                let want = s[a..=b].iter().copied().fold(f64::NEG_INFINITY, f64::max);
                prop_assert_eq!(g, want);
            }
        }

        /// Spreading volume over price bins neither creates nor loses any.
        #[test]
        fn conserves_volume(bars in proptest::collection::vec((50.0f64..150.0, 0.0f64..10.0, 0.0f64..500.0), 1..80), width in 0.05f64..5.0) {
            let candles: Vec<Candle> = bars.iter().enumerate().map(|(i, &(low, range, v))| {
                Candle::new(Timestamp::from_millis(i64::try_from(i).unwrap()), low, low + range, low, low + range, v, None, None).unwrap()
            }).collect();
            let p = VolumeProfile::build(&candles, width).unwrap();
            let want: f64 = candles.iter().map(|c| c.volume).sum();
            prop_assert!((p.total() - want).abs() <= 1e-9 * want.max(1.0), "{} vs {}", p.total(), want);
            let (a, b) = p.value_area(0.7);
            prop_assert!(a <= p.poc() && p.poc() <= b);
            prop_assert!(p.volume[a..=b].iter().sum::<f64>() >= 0.7 * want - 1e-9 * want.max(1.0));
        }
    }

    /// Issue 19, item 8: a bar reaching the largest price accepted made a profile of a
    /// million bins smoothed over windows as wide, which ran for hours. The bins widen, and
    /// the nodes and pockets come in linear time.
    #[test]
    fn an_extreme_range_gives_a_bounded_profile_quickly() {
        let candles: Vec<Candle> = (0..730)
            .map(|i| {
                let high = if i == 700 {
                    canary_model::MAX_PRICE
                } else {
                    101.0
                };
                Candle::new(
                    Timestamp::from_millis(i),
                    100.0,
                    high,
                    99.0,
                    100.0,
                    5.0,
                    None,
                    None,
                )
                .unwrap()
            })
            .collect();
        let start = std::time::Instant::now();
        let p = VolumeProfile::build(&candles, 0.1).unwrap();
        assert!(p.volume.len() <= MAX_BINS && p.width > 0.1);
        assert!((p.total() - 730.0 * 5.0).abs() < 1e-6);
        let _ = p.high_volume_nodes(usize::MAX);
        let _ = p.air_pockets(1_000_000_000, 3);
        assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
    }
}
