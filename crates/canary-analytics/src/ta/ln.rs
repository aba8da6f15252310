//! The natural logarithm used by the return-based series (realised volatility, return z-score),
//! written so that a loop over a slice vectorises: libm's `log` is a call per value and took
//! about a sixth of the fused watch-set kernel's time.
//!
//! Method (the one described in fdlibm's `e_log.c`, Sun Microsystems 1993, whose minimax
//! coefficients `LG1`…`LG7` and split ln 2 are used here):
//!
//! 1. x = 2^k · z with √2/2 ≤ z < √2, found with integer operations on the bits of x;
//!    f = z − 1 (exact).
//! 2. s = f / (2 + f), so that ln z = ln(1 + s) − ln(1 − s) = 2s + s·R(s²), with R a
//!    degree-7 polynomial in s² (|s| ≤ 0.1716, error below 2^−58.45).
//! 3. ln x = k·ln2_hi − ((f²/2 − (s·(f²/2 + R) + k·ln2_lo)) − f), ln2_hi having trailing
//!    zeros so that k·ln2_hi is exact.
//!
//! The result is within one ulp of the platform's `ln` (glibc's is within about 0.52 ulp of
//! the exact value): the tests check every tenth of a decade from 1e-300 to 1e300, the 12,000
//! values nearest 1, √2/2 and √2, and 40,000 random values per run. Values that are not
//! positive, finite and normal take `f64::ln`. Every
//! caller uses this function, so the fused kernel and the individual indicators agree bit for
//! bit.

// The constants as fdlibm gives them, bit for bit: ln 2 split so that LN2_HI has 32 trailing
// zero bits, and the polynomial's coefficients (≈ 2/3, 2/5, 2/7, …).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const LG1: f64 = f64::from_bits(0x3fe5_5555_5555_5593);
const LG2: f64 = f64::from_bits(0x3fd9_9999_9997_fa04);
const LG3: f64 = f64::from_bits(0x3fd2_4924_9422_9359);
const LG4: f64 = f64::from_bits(0x3fcc_71c5_1d8e_78af);
const LG5: f64 = f64::from_bits(0x3fc7_4664_96cb_03de);
const LG6: f64 = f64::from_bits(0x3fc3_9a09_d078_c69f);
const LG7: f64 = f64::from_bits(0x3fc2_f112_df3e_5244);

/// Bits of 1.0 and of √2/2 (the bottom of the reduced range).
const ONE: u64 = 0x3ff0_0000_0000_0000;
const LOW: u64 = 0x3fe6_a09e_667f_3bcd;
/// 2^52 as a float's bits: OR-ing a small integer into its mantissa gives 2^52 + that integer.
const TWO52: u64 = 0x4330_0000_0000_0000;

/// ln x for positive, finite, normal x; no branches, so that loops over it vectorise.
#[inline(always)]
fn ln_normal(x: f64) -> f64 {
    let ix = x.to_bits();
    // u's exponent field is k + 1023, where 2^k is the power of two that brings x into
    // [√2/2, √2): adding 1 − √2/2 to the significand carries into the exponent exactly when
    // the significand is at least √2.
    // (Wrapping operations: the branch-free slice loop also runs this on the values it then
    // recomputes with `f64::ln`.)
    let u = ix.wrapping_add(ONE - LOW);
    let biased_k = u >> 52;
    let z = f64::from_bits(ix.wrapping_add(ONE).wrapping_sub(biased_k << 52));
    let k = f64::from_bits(TWO52 | biased_k) - (f64::from_bits(TWO52) + 1023.0);
    let f = z - 1.0;
    let s = f / (2.0 + f);
    let z2 = s * s;
    let w = z2 * z2;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z2 * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f)
}

/// Whether x takes the fast path.
#[inline(always)]
fn is_normal_positive(x: f64) -> bool {
    (f64::MIN_POSITIVE..=f64::MAX).contains(&x)
}

/// The natural logarithm (see the module docs).
#[inline]
pub(crate) fn ln(x: f64) -> f64 {
    if is_normal_positive(x) {
        ln_normal(x)
    } else {
        x.ln()
    }
}

/// `out[i] = ln(xs[i])`, vectorised.
///
/// # Panics
/// When the slices differ in length.
#[inline(always)] // so that it takes the instruction set of the kernel that calls it
pub(crate) fn ln_slice(xs: &[f64], out: &mut [f64]) {
    assert_eq!(xs.len(), out.len(), "ln_slice: lengths differ");
    for (o, &x) in out.iter_mut().zip(xs) {
        *o = ln_normal(x);
    }
    // Rare values (zero, negative, subnormal, infinite, NaN) after the fact, so that the loop
    // above stays branch-free.
    if !xs.iter().all(|&x| is_normal_positive(x)) {
        for (o, &x) in out.iter_mut().zip(xs) {
            if !is_normal_positive(x) {
                *o = x.ln();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Distance in units in the last place between two finite values of the same sign.
    fn ulps(a: f64, b: f64) -> u64 {
        if a == b {
            return 0;
        }
        assert_eq!(a.is_sign_negative(), b.is_sign_negative(), "{a} vs {b}");
        a.to_bits().abs_diff(b.to_bits())
    }

    #[test]
    fn within_one_ulp_across_magnitudes() {
        // every tenth of a decade from 1e-300 to 1e300, and values near 1 and near √2/2, √2
        let mut xs: Vec<f64> = (-3000..=3000)
            .map(|i| 10f64.powf(f64::from(i) / 10.0))
            .collect();
        for base in [
            1.0,
            std::f64::consts::FRAC_1_SQRT_2,
            std::f64::consts::SQRT_2,
        ] {
            let b = f64::to_bits(base);
            for d in 0..2000u64 {
                xs.push(f64::from_bits(b + d));
                xs.push(f64::from_bits(b - d));
            }
        }
        xs.extend([f64::MIN_POSITIVE, f64::MAX, 2.0, 0.5, 60_000.0, 1e-8]);
        let mut out = vec![0.0; xs.len()];
        ln_slice(&xs, &mut out);
        for (&x, &got) in xs.iter().zip(&out) {
            assert!(ulps(got, x.ln()) <= 1, "ln({x}) = {got}, libm {}", x.ln());
            assert_eq!(
                got.to_bits(),
                ln(x).to_bits(),
                "slice and scalar differ at {x}"
            );
        }
        assert_eq!(ln(1.0), 0.0);
    }

    #[test]
    fn special_values_as_libm() {
        let xs = [
            0.0,
            -0.0,
            -1.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            4e-320,
        ];
        let mut out = [0.0; 7];
        ln_slice(&xs, &mut out);
        for (&x, &got) in xs.iter().zip(&out) {
            let want = x.ln();
            assert!(got == want || (got.is_nan() && want.is_nan()), "ln({x})");
            assert!(
                ln(x) == want || (ln(x).is_nan() && want.is_nan()),
                "ln({x})"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn within_one_ulp_of_libm(x in f64::MIN_POSITIVE..f64::MAX, y in 0.5f64..200_000.0) {
            prop_assert!(ulps(ln(x), x.ln()) <= 1, "ln({}) = {} libm {}", x, ln(x), x.ln());
            prop_assert!(ulps(ln(y), y.ln()) <= 1, "ln({}) = {} libm {}", y, ln(y), y.ln());
        }
    }
}
