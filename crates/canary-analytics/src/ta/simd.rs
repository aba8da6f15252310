//! The only unsafe code in Canary: what the fused watch-set kernel needs from the processor
//! beyond safe Rust, each use small and checked.
//!
//! - **Wider vectors at run time.** Release builds target the x86-64 baseline (SSE2: two
//!   doubles per instruction), so that one binary runs on any x86-64 machine. [`with_simd`]
//!   runs a closure compiled again for AVX-512 (eight doubles) or AVX2 (four) when the
//!   processor has them. Rust never contracts a multiply and an add into one rounding and the
//!   operations are IEEE ones, so every compilation gives the same bits.
//! - **Stores that bypass the caches.** A long series' outputs (13 × 8 bytes per bar) are
//!   written once and not read back by the kernel; ordinary stores first read every cache line
//!   they fill. [`copy_streaming`] writes with non-temporal stores instead, which halves the
//!   memory traffic; [`stream_fence`] orders them before the kernel returns.
//!
//! On other architectures these are the plain safe equivalents.
#![allow(unsafe_code)]

/// The widest vector instructions a kernel may be compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// The x86-64 baseline (SSE2), or whatever the target architecture has.
    Baseline,
    /// AVX2: four doubles per instruction.
    #[cfg_attr(
        not(any(test, target_arch = "x86_64")),
        expect(dead_code, reason = "only x86-64 has it")
    )]
    Avx2,
    /// AVX-512 (F, DQ, VL, BW, CD, as in x86-64-v4): eight doubles, 32 vector registers.
    Avx512,
}

/// The widest level up to `max` that this processor has: the one [`with_simd`] runs.
#[inline(always)]
pub(crate) fn widest(max: Level) -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if max >= Level::Avx512
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512cd")
        {
            return Level::Avx512;
        }
        if max >= Level::Avx2 && std::arch::is_x86_feature_detected!("avx2") {
            return Level::Avx2;
        }
    }
    let _ = max;
    Level::Baseline
}

/// Run `f` compiled for the widest level up to `max` that the processor has ([`widest`]).
/// `f` should be an `#[inline(always)]` closure calling `#[inline(always)]` code: what is not
/// inlined into it keeps the baseline instructions.
#[inline(always)]
pub(crate) fn with_simd<R>(max: Level, f: impl FnOnce() -> R) -> R {
    match widest(max) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `in_avx512` requires these AVX-512 subsets; `widest` found them.
        Level::Avx512 => unsafe { in_avx512(f) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `in_avx2` requires AVX2; `widest` found it.
        Level::Avx2 => unsafe { in_avx2(f) },
        _ => f(),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512cd")]
fn in_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn in_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// `dst.copy_from_slice(src)`, with non-temporal stores on x86-64. Call [`stream_fence`]
/// before the written values are handed to anyone else.
///
/// # Panics
/// When the slices differ in length.
#[inline(always)]
pub(crate) fn copy_streaming(dst: &mut [f64], src: &[f64]) {
    assert_eq!(dst.len(), src.len(), "copy_streaming: lengths differ");
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_set_pd, _mm_stream_pd};
        // Non-temporal stores of two doubles need 16-byte aligned addresses: the values before
        // the first aligned one, and an odd one at the end, are copied plainly.
        let lead = dst.as_ptr().align_offset(16).min(dst.len());
        // (loops, not `copy_from_slice`: a call per column per block costs more than these
        // zero or one values)
        for (d, &x) in dst[..lead].iter_mut().zip(src) {
            *d = x;
        }
        let pairs = (dst.len() - lead) / 2;
        let (body, tail) = dst[lead..].split_at_mut(pairs * 2);
        let (src_body, src_tail) = src[lead..].split_at(pairs * 2);
        let p = body.as_mut_ptr();
        for (j, two) in src_body.chunks_exact(2).enumerate() {
            // SAFETY: SSE2 is part of the x86-64 baseline. `2j + 1 < body.len()`, so the 16
            // bytes written lie inside `body`, which `dst` borrows mutably; `body` starts
            // 16-byte aligned (`lead` above) and `2j` doubles are 16j bytes further, so the
            // address is 16-byte aligned as the store requires.
            unsafe { _mm_stream_pd(p.add(2 * j), _mm_set_pd(two[1], two[0])) };
        }
        for (d, &x) in tail.iter_mut().zip(src_tail) {
            *d = x;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    dst.copy_from_slice(src);
}

/// Order the non-temporal stores of [`copy_streaming`] before any later store.
#[inline]
pub(crate) fn stream_fence() {
    // SAFETY: SSE is part of the x86-64 baseline.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::x86_64::_mm_sfence();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_streaming_copies_at_every_alignment_and_length() {
        let src: Vec<f64> = (0..40).map(f64::from).collect();
        for offset in 0..3 {
            for len in 0..30 {
                let mut dst = vec![-1.0; 40];
                copy_streaming(&mut dst[offset..offset + len], &src[..len]);
                stream_fence();
                assert_eq!(&dst[offset..offset + len], &src[..len]);
                assert!(dst[..offset].iter().all(|&x| x == -1.0));
                assert!(dst[offset + len..].iter().all(|&x| x == -1.0));
            }
        }
    }

    #[test]
    fn with_simd_runs_the_closure_at_every_level() {
        for level in [Level::Baseline, Level::Avx2, Level::Avx512] {
            assert_eq!(with_simd(level, || 2 + 2), 4);
        }
    }
}
