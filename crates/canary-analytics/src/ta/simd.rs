//! The only unsafe code in Canary: what the fused watch-set kernel needs from the processor
//! beyond safe Rust, each use small and checked.
//!
//! - **AVX2 at run time.** Release builds target the x86-64 baseline (SSE2: two doubles per
//!   instruction), so that one binary runs on any x86-64 machine. [`with_avx2`] runs a closure
//!   compiled a second time with AVX2 enabled (four doubles per instruction) when the
//!   processor has it. Rust never contracts a multiply and an add into one rounding, so both
//!   compilations give the same bits.
//! - **Stores that bypass the caches.** A long series' outputs (13 × 8 bytes per bar) are
//!   written once and not read back by the kernel; ordinary stores first read every cache line
//!   they fill. [`copy_streaming`] writes with non-temporal stores instead, which halves the
//!   memory traffic; [`stream_fence`] orders them before the kernel returns.
//!
//! On other architectures these are the plain safe equivalents.
#![allow(unsafe_code)]

/// Run `f`, compiled with AVX2 enabled when `allowed` and the processor has AVX2.
#[inline(always)]
pub(crate) fn with_avx2<R>(allowed: bool, f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if allowed && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: `in_avx2` requires AVX2, and the processor has it (checked just above).
        return unsafe { in_avx2(f) };
    }
    let _ = allowed;
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
    fn with_avx2_runs_the_closure_either_way() {
        assert_eq!(with_avx2(true, || 2 + 2), 4);
        assert_eq!(with_avx2(false, || 2 + 2), 4);
    }
}
