//! Blocks of bars: the bars a write appends to a series (all of them for a fresh series; for
//! one that holds bars, the run in time order after its latest), packed up to [`BLOCK_BARS`]
//! to a row of `candle_blocks` instead of a row per bar. SQLite then inserts one
//! B-tree entry per few thousand bars (the per-row insert, not parsing, was what held imports
//! back), and a bar takes about 52 bytes on disk instead of 100.
//!
//! A block is one version of each of its bars, all from one write: the same source and ingest
//! time, each bar available a fixed `offset` after its open time (its close, for imported
//! bars). Anything else (revisions, bars at or before what the series holds, bars out of
//! order, bars of another availability, resampled bars) is stored as rows of `candles`, and reads merge both, the latest available version of
//! each bar winning, so that blocks change the layout and never what a read returns.
//!
//! The encoding (version 1), all integers little-endian or LEB128 varints:
//! `version u8, n varint, step varint (ms), first open time i64`, then `n - 1` varints (each
//! open time after the first, in steps since the previous one), a bitmap of the bars with a
//! quote volume and one of those with a trade count (`ceil(n / 8)` bytes each), the open,
//! high, low, close and volume columns (`n` f64 each), the quote volumes present (f64 each),
//! and the trade counts present (varints).

pub(crate) const BLOCK_BARS: usize = 4096;
const VERSION: u8 = 1;

/// One bar of a block: the values of a candle (checked again when read).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BlockBar {
    pub open_time: i64,
    pub ohlcv: [f64; 5],
    pub quote_volume: Option<f64>,
    pub trades: Option<u64>,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        #[expect(clippy::cast_possible_truncation)]
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    #[expect(clippy::cast_possible_truncation)]
    out.push(v as u8);
}

/// Whether `t` can follow `prev` in a block of `step`: later, by whole steps.
pub(crate) fn follows(prev: i64, t: i64, step: i64) -> bool {
    t > prev && (t - prev) % step == 0
}

/// Encode bars in strictly increasing open time, each after the previous by whole `step`s
/// (as [`follows`] checks).
pub(crate) fn encode(bars: &[BlockBar], step: i64) -> Vec<u8> {
    let n = bars.len();
    let mut out = Vec::with_capacity(16 + n * 52);
    out.push(VERSION);
    put_varint(&mut out, n as u64);
    put_varint(&mut out, step.unsigned_abs());
    out.extend_from_slice(&bars.first().map_or(0, |b| b.open_time).to_le_bytes());
    for w in bars.windows(2) {
        debug_assert!(follows(w[0].open_time, w[1].open_time, step));
        put_varint(
            &mut out,
            ((w[1].open_time - w[0].open_time) / step).unsigned_abs(),
        );
    }
    let bitmap = |out: &mut Vec<u8>, has: &dyn Fn(&BlockBar) -> bool| {
        for chunk in bars.chunks(8) {
            let mut byte = 0u8;
            for (i, b) in chunk.iter().enumerate() {
                if has(b) {
                    byte |= 1 << i;
                }
            }
            out.push(byte);
        }
    };
    bitmap(&mut out, &|b| b.quote_volume.is_some());
    bitmap(&mut out, &|b| b.trades.is_some());
    for k in 0..5 {
        for b in bars {
            out.extend_from_slice(&b.ohlcv[k].to_le_bytes());
        }
    }
    for q in bars.iter().filter_map(|b| b.quote_volume) {
        out.extend_from_slice(&q.to_le_bytes());
    }
    for t in bars.iter().filter_map(|b| b.trades) {
        put_varint(&mut out, t);
    }
    out
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| format!("block truncated at byte {}", self.pos))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(format!("varint too long at byte {}", self.pos))
    }

    fn f64(&mut self) -> Result<f64, String> {
        let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| "short f64")?;
        Ok(f64::from_le_bytes(b))
    }
}

/// Decode a block; an error says where it is broken.
pub(crate) fn decode(data: &[u8]) -> Result<Vec<BlockBar>, String> {
    let mut r = Reader { data, pos: 0 };
    let version = r.take(1)?[0];
    if version != VERSION {
        return Err(format!("block version {version}, expected {VERSION}"));
    }
    let n = usize::try_from(r.varint()?).map_err(|e| e.to_string())?;
    if n == 0 || n > BLOCK_BARS {
        return Err(format!("block of {n} bars (1 to {BLOCK_BARS})"));
    }
    let step = i64::try_from(r.varint()?).map_err(|e| e.to_string())?;
    let first: [u8; 8] = r.take(8)?.try_into().map_err(|_| "short time")?;
    let mut t = i64::from_le_bytes(first);
    let mut bars = Vec::with_capacity(n);
    for i in 0..n {
        if i > 0 {
            let steps = i64::try_from(r.varint()?).map_err(|e| e.to_string())?;
            t = steps
                .checked_mul(step)
                .and_then(|d| t.checked_add(d))
                .filter(|&next| next > t)
                .ok_or_else(|| format!("bar {i}: open time out of order or out of range"))?;
        }
        bars.push(BlockBar {
            open_time: t,
            ohlcv: [0.0; 5],
            quote_volume: None,
            trades: None,
        });
    }
    let bytes = n.div_ceil(8);
    let has_q = r.take(bytes)?.to_vec();
    let has_t = r.take(bytes)?.to_vec();
    let bit = |map: &[u8], i: usize| map[i / 8] & (1 << (i % 8)) != 0;
    for k in 0..5 {
        for b in &mut bars {
            b.ohlcv[k] = r.f64()?;
        }
    }
    for (i, b) in bars.iter_mut().enumerate() {
        if bit(&has_q, i) {
            b.quote_volume = Some(r.f64()?);
        }
    }
    for (i, b) in bars.iter_mut().enumerate() {
        if bit(&has_t, i) {
            b.trades = Some(r.varint()?);
        }
    }
    if r.pos != data.len() {
        return Err(format!(
            "{} bytes after the last column",
            data.len() - r.pos
        ));
    }
    Ok(bars)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bars() -> impl Strategy<Value = (i64, Vec<BlockBar>)> {
        (
            prop::sample::select(vec![60_000i64, 14_400_000, 86_400_000]),
            prop::collection::vec(
                (
                    1u64..4,
                    prop::array::uniform5(-1e12f64..1e12),
                    prop::option::of(0.0f64..1e15),
                    prop::option::of(any::<u64>()),
                ),
                1..300,
            ),
        )
            .prop_map(|(step, rows)| {
                let mut t = 1_500_000_000_000 / step * step;
                let bars = rows
                    .into_iter()
                    .map(|(gap, ohlcv, quote_volume, trades)| {
                        t += gap.cast_signed() * step;
                        BlockBar {
                            open_time: t,
                            ohlcv,
                            quote_volume,
                            trades,
                        }
                    })
                    .collect();
                (step, bars)
            })
    }

    proptest! {
        #[test]
        fn a_block_decodes_to_the_bars_it_was_made_of((step, bars) in bars()) {
            let data = encode(&bars, step);
            prop_assert_eq!(decode(&data).unwrap(), bars);
        }

        #[test]
        fn any_bytes_decode_to_bars_or_an_error_never_a_panic(
            data in prop::collection::vec(any::<u8>(), 0..400),
            head in prop::collection::vec(any::<u8>(), 0..12),
        ) {
            // Raw bytes, and bytes behind a valid version and count (to reach the columns).
            let _ = decode(&data);
            let mut framed = vec![VERSION, 3];
            framed.extend(&head);
            framed.extend(&data);
            let _ = decode(&framed);
        }

        #[test]
        fn a_cut_or_padded_block_is_refused_not_misread((step, bars) in bars(), cut in 1usize..64) {
            let data = encode(&bars, step);
            let short = &data[..data.len().saturating_sub(cut)];
            prop_assert!(decode(short).is_err());
            let mut long = data.clone();
            long.push(0);
            prop_assert!(decode(&long).is_err());
        }
    }

    #[test]
    fn a_minute_bar_takes_about_fifty_two_bytes() {
        let bars: Vec<BlockBar> = (0..i64::try_from(BLOCK_BARS).unwrap())
            .map(|i| BlockBar {
                open_time: 1_500_000_000_000 + i * 60_000,
                ohlcv: [1.5, 2.5, 0.5, 1.25, 10.0],
                quote_volume: Some(12.5),
                trades: Some(3_000),
            })
            .collect();
        let per_bar = encode(&bars, 60_000).len() as f64 / bars.len() as f64;
        assert!((51.0..53.0).contains(&per_bar), "{per_bar}");
    }
}
