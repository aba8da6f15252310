//! Volume profile from candles (`MODELS.md` §5.1 D): each bar's volume spread evenly over its
//! [low, high] range into price bins; the point of control (POC), the 70 % value area, high-volume
//! nodes and low-volume "air pockets".

use canary_model::Candle;

/// Volume by price bin: bin i covers [origin + i·width, origin + (i+1)·width).
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeProfile {
    pub origin: f64,
    pub width: f64,
    pub volume: Vec<f64>,
}

impl VolumeProfile {
    /// Build a profile of `candles` with bins of `width` (e.g. 0.1 % of the price).
    #[must_use]
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    pub fn build(candles: &[Candle], width: f64) -> Option<VolumeProfile> {
        let lo = candles.iter().map(|c| c.low).fold(f64::INFINITY, f64::min);
        let hi = candles
            .iter()
            .map(|c| c.high)
            .fold(f64::NEG_INFINITY, f64::max);
        if !(lo.is_finite() && hi.is_finite() && width > 0.0) {
            return None;
        }
        let origin = (lo / width).floor() * width;
        let n = (((hi - origin) / width).floor() as usize + 1).min(1_000_000);
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
    #[allow(clippy::cast_precision_loss)]
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

    /// Volume smoothed over ±`r` bins (so single-bin noise does not make nodes).
    fn smoothed(&self, r: usize) -> Vec<f64> {
        let n = self.volume.len();
        (0..n)
            .map(|i| {
                let (a, b) = (i.saturating_sub(r), (i + r).min(n - 1));
                #[allow(clippy::cast_precision_loss)]
                let w = (b - a + 1) as f64;
                self.volume[a..=b].iter().sum::<f64>() / w
            })
            .collect()
    }

    /// High-volume nodes: bins whose smoothed volume is the largest within ±`r` bins and at
    /// least 1.5× the mean.
    #[must_use]
    pub fn high_volume_nodes(&self, r: usize) -> Vec<usize> {
        let s = self.smoothed(r);
        #[allow(clippy::cast_precision_loss)]
        let mean = s.iter().sum::<f64>() / s.len().max(1) as f64;
        (0..s.len())
            .filter(|&i| {
                let (a, b) = (i.saturating_sub(r), (i + r).min(s.len() - 1));
                s[i] >= 1.5 * mean
                    && s[a..=b].iter().all(|&x| x <= s[i])
                    && (a..i).all(|j| s[j] < s[i])
            })
            .collect()
    }

    /// Air pockets: runs of at least `min_bins` bins whose smoothed volume is below 30 % of the
    /// mean, as (low price, high price).
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use canary_model::Timestamp;
    use proptest::prelude::*;

    proptest! {
        /// Spreading volume over price bins neither creates nor loses any.
        #[test]
        fn conserves_volume(bars in proptest::collection::vec((50.0f64..150.0, 0.0f64..10.0, 0.0f64..500.0), 1..80), width in 0.05f64..5.0) {
            let candles: Vec<Candle> = bars.iter().enumerate().map(|(i, &(low, range, v))| {
                Candle::new(Timestamp::from_millis(i as i64), low, low + range, low, low + range, v, None, None).unwrap()
            }).collect();
            let p = VolumeProfile::build(&candles, width).unwrap();
            let want: f64 = candles.iter().map(|c| c.volume).sum();
            prop_assert!((p.total() - want).abs() <= 1e-9 * want.max(1.0), "{} vs {}", p.total(), want);
            let (a, b) = p.value_area(0.7);
            prop_assert!(a <= p.poc() && p.poc() <= b);
            prop_assert!(p.volume[a..=b].iter().sum::<f64>() >= 0.7 * want - 1e-9 * want.max(1.0));
        }
    }
}
