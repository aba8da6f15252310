//! Candles built as data arrives: from trades, or from closed bars of a lower timeframe.
//!
//! A builder holds the open bar of one timeframe. Input in a later bucket closes it; input in
//! an earlier bucket than the open one arrived too late and is counted, never merged; the
//! clock passing the close closes it too (a quiet market still closes its bars). A bucket
//! with no input has no bar: a gap, as the store and the importers treat it.

use canary_model::{Candle, Timeframe, Timestamp};

/// One piece of market data for a builder: a trade, or a closed lower-timeframe bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    /// A trade's time, or a bar's open time.
    pub time: Timestamp,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
    pub quote_volume: f64,
    pub trades: u64,
}

impl Piece {
    /// A trade of `qty` at `price`.
    #[must_use]
    pub fn trade(time: Timestamp, price: f64, qty: f64) -> Self {
        Self {
            time,
            open: price,
            high: price,
            low: price,
            close: price,
            volume: qty,
            quote_volume: price * qty,
            trades: 1,
        }
    }

    /// A closed bar.
    #[must_use]
    pub fn bar(c: &Candle) -> Self {
        Self {
            time: c.open_time,
            open: c.open,
            high: c.high,
            low: c.low,
            close: c.close,
            volume: c.volume,
            quote_volume: c.quote_volume.unwrap_or(c.close * c.volume),
            trades: c.trades.unwrap_or(0),
        }
    }
}

/// The open bar of one timeframe.
#[derive(Debug, Clone)]
pub struct CandleBuilder {
    pub timeframe: Timeframe,
    open: Option<Piece>,
    /// Pieces of the open bar (for a bar built from lower bars: how many).
    pieces: u32,
    /// Input that came after its bucket had closed.
    pub late: u64,
}

impl CandleBuilder {
    #[must_use]
    pub fn new(timeframe: Timeframe) -> Self {
        Self {
            timeframe,
            open: None,
            pieces: 0,
            late: 0,
        }
    }

    /// Take one piece; the bar it closed, if any, with the number of pieces in it.
    pub fn push(&mut self, p: Piece) -> Option<(Candle, u32)> {
        let bucket = self.timeframe.floor(p.time);
        match &mut self.open {
            Some(o) if o.time == bucket => {
                o.high = o.high.max(p.high);
                o.low = o.low.min(p.low);
                o.close = p.close;
                o.volume += p.volume;
                o.quote_volume += p.quote_volume;
                o.trades += p.trades;
                self.pieces += 1;
                None
            }
            Some(o) if o.time > bucket => {
                self.late += 1;
                None
            }
            _ => {
                let closed = self.take();
                self.open = Some(Piece { time: bucket, ..p });
                self.pieces = 1;
                closed
            }
        }
    }

    /// Close the open bar if its close time has come by `now`.
    pub fn close_due(&mut self, now: Timestamp) -> Option<(Candle, u32)> {
        match &self.open {
            Some(o) if self.timeframe.close_of(o.time) <= now => self.take(),
            _ => None,
        }
    }

    /// The open bar so far (for intrabar views), if any.
    #[must_use]
    pub fn open_bar(&self) -> Option<Candle> {
        self.open.as_ref().and_then(candle)
    }

    fn take(&mut self) -> Option<(Candle, u32)> {
        let o = self.open.take()?;
        let n = std::mem::take(&mut self.pieces);
        candle(&o).map(|c| (c, n))
    }
}

fn candle(o: &Piece) -> Option<Candle> {
    Candle::new(
        o.time,
        o.open,
        o.high,
        o.low,
        o.close,
        o.volume,
        Some(o.quote_volume),
        Some(o.trades),
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> Timestamp {
        Timestamp::from_millis(1_769_904_000_000 + min * 60_000)
    }

    #[test]
    fn trades_make_bars_closed_by_the_next_bucket_or_the_clock() {
        let mut b = CandleBuilder::new("1m".parse().unwrap());
        assert!(b.push(Piece::trade(t(0), 100.0, 1.0)).is_none());
        assert!(b.push(Piece::trade(t(0), 103.0, 2.0)).is_none());
        assert!(b.push(Piece::trade(t(0), 99.0, 1.0)).is_none());
        let (c, n) = b.push(Piece::trade(t(1), 101.0, 1.0)).unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            (
                c.open_time,
                c.open,
                c.high,
                c.low,
                c.close,
                c.volume,
                c.trades
            ),
            (t(0), 100.0, 103.0, 99.0, 99.0, 4.0, Some(3))
        );
        // Too late for its bar: counted, not merged.
        assert!(b.push(Piece::trade(t(0), 1.0, 1.0)).is_none());
        assert_eq!(b.late, 1);
        assert!(b.close_due(t(1)).is_none(), "not yet closed");
        let (c, _) = b.close_due(t(2)).unwrap();
        assert_eq!((c.open_time, c.close), (t(1), 101.0));
        assert!(b.close_due(t(9)).is_none(), "nothing open");
    }

    #[test]
    fn lower_bars_make_higher_ones() {
        let mut b = CandleBuilder::new("1h".parse().unwrap());
        let bar = |m: i64, o: f64, c: f64| {
            Piece::bar(
                &Candle::new(t(m), o, o.max(c) + 1.0, o.min(c) - 1.0, c, 2.0, None, None).unwrap(),
            )
        };
        for (i, m) in (0..60).step_by(15).enumerate() {
            assert!(b.push(bar(m, 100.0 + i as f64, 101.0 + i as f64)).is_none());
        }
        let (c, n) = b.close_due(t(60)).unwrap();
        assert_eq!(n, 4);
        assert_eq!(
            (c.open, c.close, c.high, c.low, c.volume),
            (100.0, 104.0, 105.0, 99.0, 8.0)
        );
    }
}
