//! Fixed-capacity windows used by the streaming indicators: allocated once at construction,
//! never during `update`.

/// The last `cap` values of a series, oldest first.
#[derive(Debug, Clone)]
pub(crate) struct Ring {
    buf: Box<[f64]>,
    /// Slot of the oldest value.
    head: usize,
    len: usize,
}

impl Ring {
    pub(crate) fn new(cap: usize) -> Self {
        Ring {
            buf: vec![0.0; cap.max(1)].into_boxed_slice(),
            head: 0,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }

    /// Append `x`; when full, the oldest value is dropped and returned.
    #[inline]
    pub(crate) fn push(&mut self, x: f64) -> Option<f64> {
        let cap = self.buf.len();
        if self.len < cap {
            let mut slot = self.head + self.len;
            if slot >= cap {
                slot -= cap;
            }
            self.buf[slot] = x;
            self.len += 1;
            None
        } else {
            let old = self.buf[self.head];
            self.buf[self.head] = x;
            self.head += 1;
            if self.head == cap {
                self.head = 0;
            }
            Some(old)
        }
    }

    /// The oldest value held (0 when empty).
    #[inline]
    pub(crate) fn oldest(&self) -> f64 {
        self.buf[self.head]
    }

    /// The newest value held (only meaningful when not empty).
    #[inline]
    pub(crate) fn newest(&self) -> f64 {
        let cap = self.buf.len();
        self.buf[(self.head + self.len + cap - 1) % cap]
    }

    /// The values held, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        let (a, b) = self.buf.split_at(self.head);
        b.iter().chain(a).take(self.len).copied()
    }

    /// The storage slots in slot order (not time order); only meaningful when full.
    pub(crate) fn slots(&self) -> &[f64] {
        &self.buf
    }

    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

/// The extreme (maximum when `MAX`, else minimum) of the last `cap` values, by a monotonic
/// deque: amortised O(1) per push.
#[derive(Debug, Clone)]
pub(crate) struct Extreme<const MAX: bool> {
    idx: Box<[u64]>,
    val: Box<[f64]>,
    head: usize,
    len: usize,
    count: u64,
}

impl<const MAX: bool> Extreme<MAX> {
    pub(crate) fn new(cap: usize) -> Self {
        let cap = cap.max(1);
        Extreme {
            idx: vec![0; cap].into_boxed_slice(),
            val: vec![0.0; cap].into_boxed_slice(),
            head: 0,
            len: 0,
            count: 0,
        }
    }

    #[inline]
    fn slot(&self, k: usize) -> usize {
        let s = self.head + k;
        if s >= self.idx.len() {
            s - self.idx.len()
        } else {
            s
        }
    }

    /// Add a value and return the extreme of the window that ends with it.
    #[inline]
    pub(crate) fn push(&mut self, x: f64) -> f64 {
        let cap = self.idx.len();
        let i = self.count;
        self.count += 1;
        // Drop values the new one dominates (ties: keep the newer).
        while self.len > 0 {
            let back = self.val[self.slot(self.len - 1)];
            let dominated = if MAX { back <= x } else { back >= x };
            if dominated {
                self.len -= 1;
            } else {
                break;
            }
        }
        // Drop the front when it has left the window.
        if self.len > 0 && self.idx[self.head] + cap as u64 <= i {
            self.head = self.slot(1);
            self.len -= 1;
        }
        let s = self.slot(self.len);
        self.idx[s] = i;
        self.val[s] = x;
        self.len += 1;
        self.val[self.head]
    }
}

pub(crate) type Max = Extreme<true>;
pub(crate) type Min = Extreme<false>;

#[inline(always)]
fn fmax(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

#[inline(always)]
fn fmin(a: f64, b: f64) -> f64 {
    if a < b { a } else { b }
}

/// The highest of `high` and lowest of `low` over every window of n bars of a batch, by the
/// van Herk / Gil–Werman method: the series is cut into blocks of n, and a window's extreme is
/// the larger of a suffix extreme of the previous block and a prefix extreme of the current
/// one. Three comparisons per value and series, no data-dependent branches, O(n) scratch.
/// Calls `f(i, highest, lowest)` for each window ending at i ≥ n−1.
pub(crate) fn sliding_extremes(
    high: &[f64],
    low: &[f64],
    n: usize,
    mut f: impl FnMut(usize, f64, f64),
) {
    let len = high.len().min(low.len());
    if n == 0 || len < n {
        return;
    }
    let mut suf_hi = vec![0.0; n];
    let mut suf_lo = vec![0.0; n];
    let (mut pre_hi, mut pre_lo) = (f64::NEG_INFINITY, f64::INFINITY);
    let mut r = 0; // position of i in its block
    for i in 0..len {
        if r == n {
            r = 0;
        }
        if r == 0 {
            if i >= n {
                let base = i - n;
                let (mut mh, mut ml) = (f64::NEG_INFINITY, f64::INFINITY);
                for j in (0..n).rev() {
                    mh = fmax(mh, high[base + j]);
                    ml = fmin(ml, low[base + j]);
                    suf_hi[j] = mh;
                    suf_lo[j] = ml;
                }
            }
            pre_hi = f64::NEG_INFINITY;
            pre_lo = f64::INFINITY;
        }
        pre_hi = fmax(pre_hi, high[i]);
        pre_lo = fmin(pre_lo, low[i]);
        if i + 1 >= n {
            if r + 1 == n {
                f(i, pre_hi, pre_lo);
            } else {
                f(i, fmax(suf_hi[r + 1], pre_hi), fmin(suf_lo[r + 1], pre_lo));
            }
        }
        r += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn extreme_equals_naive(xs in proptest::collection::vec(-100i32..100, 1..200), n in 1usize..20) {
            let mut hi = Max::new(n);
            let mut lo = Min::new(n);
            for (i, &x) in xs.iter().enumerate() {
                let x = f64::from(x);
                let w = &xs[i.saturating_sub(n - 1)..=i];
                prop_assert_eq!(hi.push(x), f64::from(*w.iter().max().unwrap()));
                prop_assert_eq!(lo.push(x), f64::from(*w.iter().min().unwrap()));
            }
        }

        #[test]
        fn sliding_extremes_equal_naive(xs in proptest::collection::vec(-100i32..100, 0..200), n in 1usize..20) {
            let v: Vec<f64> = xs.iter().map(|&x| f64::from(x)).collect();
            let mut seen = 0;
            sliding_extremes(&v, &v, n, |i, hi, lo| {
                let w = &xs[i + 1 - n..=i];
                assert_eq!(hi, f64::from(*w.iter().max().unwrap()));
                assert_eq!(lo, f64::from(*w.iter().min().unwrap()));
                seen += 1;
            });
            prop_assert_eq!(seen, xs.len().saturating_sub(n - 1));
        }

        #[test]
        fn ring_keeps_the_last_values(xs in proptest::collection::vec(-100.0f64..100.0, 1..100), n in 1usize..10) {
            let mut r = Ring::new(n);
            for (i, &x) in xs.iter().enumerate() {
                let dropped = r.push(x);
                prop_assert_eq!(dropped, if i >= n { Some(xs[i - n]) } else { None });
                prop_assert_eq!(r.oldest(), xs[i.saturating_sub(n - 1)]);
            }
        }
    }
}
