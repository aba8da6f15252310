//! One symbol's processor: trades or bars in, closed bars of every configured timeframe out,
//! each with its streaming indicators.

use canary_analytics::ta::{Indicator, Rsi};
use canary_model::{Candle, Symbol, Timeframe, Timestamp};

use super::candles::{CandleBuilder, Piece};

/// A bar that closed, with its streaming indicators.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Closed {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub candle: Candle,
    /// For a bar built from lower bars: how many (a short count means missing lower bars).
    pub source_bars: Option<u32>,
    /// RSI 14 of the timeframe's closes (Wilder, as TA-Lib), once past its lookback.
    pub rsi14: Option<f64>,
}

#[derive(Debug)]
struct Lane {
    builder: CandleBuilder,
    rsi: Rsi,
}

/// Trades or bars of one symbol into bars of each of its timeframes, lowest first: the lowest
/// is built from trades (or taken as it comes, from bars of that timeframe); each higher one
/// from the closed bars of the lowest.
///
/// Each base bar is taken once. A higher bar adds up every base bar it is given, so a base
/// bar given again (a source, or a recording, that repeats itself) would count twice in it,
/// and one given again after the higher bar closed would open that bar anew as a one-bar
/// bar, a revision of a bar already stored. Input for the latest base bar taken or an
/// earlier one is late: counted, never merged.
#[derive(Debug)]
pub struct Processor {
    pub symbol: Symbol,
    lanes: Vec<Lane>,
    /// The open time of the latest base bar taken (closed here, or stored before a restart).
    taken: Option<Timestamp>,
    /// Its close, in ms (`i64::MIN` before any): a trade before it is for a bar taken. Kept
    /// beside `taken` so that a trade costs one comparison, not a floor to the timeframe.
    taken_until: i64,
}

impl Processor {
    /// # Panics
    /// With no timeframe (the engine's settings are checked before).
    #[must_use]
    pub fn new(symbol: Symbol, mut timeframes: Vec<Timeframe>) -> Self {
        timeframes.sort_by_key(|t| t.duration_ms());
        timeframes.dedup();
        assert!(!timeframes.is_empty(), "a processor needs a timeframe");
        let lanes = timeframes
            .into_iter()
            .map(|tf| Lane {
                builder: CandleBuilder::new(tf),
                rsi: Rsi::new(14).expect("14 is a valid period"),
            })
            .collect();
        Self {
            symbol,
            lanes,
            taken: None,
            taken_until: i64::MIN,
        }
    }

    /// The lowest timeframe (the one bars come in at).
    #[must_use]
    pub fn base(&self) -> Timeframe {
        self.lanes[0].builder.timeframe
    }

    /// The timeframes, lowest first.
    pub fn timeframes(&self) -> impl Iterator<Item = Timeframe> + '_ {
        self.lanes.iter().map(|l| l.builder.timeframe)
    }

    /// Take one trade; closed bars go to `out`.
    pub fn trade(&mut self, time: Timestamp, price: f64, qty: f64, out: &mut Vec<Closed>) {
        // floor(time) <= taken exactly when time < taken + the base's length (taken is
        // aligned to the base timeframe).
        if time.millis() < self.taken_until {
            self.lanes[0].builder.late += 1;
            return;
        }
        if let Some((c, _)) = self.lanes[0].builder.push(Piece::trade(time, price, qty)) {
            self.closed(0, c, None, out);
        }
    }

    /// Take a closed bar of the base timeframe (from a source that sends bars, not trades);
    /// closed bars go to `out`, this one first. A bar at or before the latest one taken is
    /// late (see the type's doc).
    pub fn bar(&mut self, candle: Candle, out: &mut Vec<Closed>) {
        if self.is_taken(candle.open_time) {
            self.lanes[0].builder.late += 1;
            return;
        }
        self.closed(0, candle, None, out);
    }

    /// The base bar opening at `open_time` is taken (and every one before it).
    fn take(&mut self, open_time: Option<Timestamp>) {
        self.taken = self.taken.max(open_time);
        if let Some(t) = self.taken {
            self.taken_until = t.millis() + self.base().duration_ms();
        }
    }

    /// Whether the base bar opening at `open_time` (or a later one) was taken already.
    fn is_taken(&self, open_time: Timestamp) -> bool {
        self.taken.is_some_and(|t| open_time <= t)
    }

    /// Close every bar whose close time has come by `now`.
    pub fn tick(&mut self, now: Timestamp, out: &mut Vec<Closed>) {
        for i in 0..self.lanes.len() {
            if let Some((c, n)) = self.lanes[i].builder.close_due(now) {
                self.closed(i, c, (i > 0).then_some(n), out);
            }
        }
    }

    /// Resume after a restart: each timeframe's stored closes (oldest first) for its
    /// indicators, the stored base bars of each higher timeframe's open bucket at `now`, so
    /// that a bar begun before the restart closes whole, and the open time of the latest
    /// stored base bar closed by `now`, taken already.
    pub fn warm(
        &mut self,
        closes: &[Vec<f64>],
        base_bars: &[Candle],
        latest_base: Option<Timestamp>,
        now: Timestamp,
    ) {
        self.take(latest_base);
        for (lane, cs) in self.lanes.iter_mut().zip(closes) {
            lane.rsi.reset();
            for c in cs {
                lane.rsi.update(*c);
            }
        }
        let base = self.base();
        for lane in self.lanes.iter_mut().skip(1) {
            let tf = lane.builder.timeframe;
            let bucket = tf.floor(now);
            for c in base_bars
                .iter()
                .filter(|c| c.open_time >= bucket && base.close_of(c.open_time) <= now)
            {
                let _ = lane.builder.push(Piece::bar(c));
            }
        }
    }

    /// The bar of `tf` still open (what trades have made of it so far) and RSI 14 as if it
    /// closed now: the provisional values intrabar rules read.
    #[must_use]
    pub fn intrabar(&self, tf: Timeframe) -> Option<(Candle, Option<f64>)> {
        let i = self.lanes.iter().position(|l| l.builder.timeframe == tf)?;
        let base = self.lanes[0].builder.open_bar();
        let bar = if i == 0 {
            base?
        } else {
            // The closed base bars of the bucket so far, and the base bar still open.
            match (self.lanes[i].builder.open_bar(), base) {
                (Some(h), Some(b)) if tf.floor(b.open_time) == h.open_time => Candle::new(
                    h.open_time,
                    h.open,
                    h.high.max(b.high),
                    h.low.min(b.low),
                    b.close,
                    h.volume + b.volume,
                    Some(h.quote_volume.unwrap_or(0.0) + b.quote_volume.unwrap_or(0.0)),
                    Some(h.trades.unwrap_or(0) + b.trades.unwrap_or(0)),
                )
                .ok()?,
                (Some(h), _) => h,
                (None, Some(b)) => Candle::new(
                    tf.floor(b.open_time),
                    b.open,
                    b.high,
                    b.low,
                    b.close,
                    b.volume,
                    b.quote_volume,
                    b.trades,
                )
                .ok()?,
                (None, None) => return None,
            }
        };
        let mut rsi = self.lanes[i].rsi.clone();
        let value = rsi.update(bar.close);
        Some((bar, value))
    }

    /// Late input dropped so far (trades or bars after their bucket closed).
    #[must_use]
    pub fn late(&self) -> u64 {
        self.lanes.iter().map(|l| l.builder.late).sum()
    }

    fn closed(
        &mut self,
        i: usize,
        candle: Candle,
        source_bars: Option<u32>,
        out: &mut Vec<Closed>,
    ) {
        self.emit(i, candle, source_bars, out);
        if i == 0 {
            self.take(Some(candle.open_time));
            // Every higher timeframe is built from the base bars (each is a multiple of it).
            let piece = Piece::bar(&candle);
            for j in 1..self.lanes.len() {
                if let Some((c, n)) = self.lanes[j].builder.push(piece) {
                    self.emit(j, c, Some(n), out);
                }
            }
        }
    }

    fn emit(&mut self, i: usize, candle: Candle, source_bars: Option<u32>, out: &mut Vec<Closed>) {
        let lane = &mut self.lanes[i];
        lane.rsi.update(candle.close);
        out.push(Closed {
            symbol: self.symbol.clone(),
            timeframe: lane.builder.timeframe,
            candle,
            source_bars,
            rsi14: lane.rsi.value(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trades_become_bars_of_every_timeframe() {
        let sym = Symbol::new("BTCUSDT").unwrap();
        let mut p = Processor::new(sym, vec!["1h".parse().unwrap(), "1m".parse().unwrap()]);
        assert_eq!(p.base().to_string(), "1m");
        let t0 = 1_769_904_000_000_i64;
        let mut out = Vec::new();
        // One trade every 30 s for two hours, price rising by 1 each time.
        for k in 0..240_i64 {
            let t = Timestamp::from_millis(t0 + k * 30_000);
            p.tick(t, &mut out);
            p.trade(t, 100.0 + k as f64, 0.5, &mut out);
        }
        p.tick(Timestamp::from_millis(t0 + 7_200_000), &mut out);
        let minutes: Vec<_> = out
            .iter()
            .filter(|c| c.timeframe.to_string() == "1m")
            .collect();
        let hours: Vec<_> = out
            .iter()
            .filter(|c| c.timeframe.to_string() == "1h")
            .collect();
        assert_eq!((minutes.len(), hours.len()), (120, 2));
        assert_eq!(minutes[0].candle.close, 101.0);
        assert_eq!(minutes[0].candle.volume, 1.0);
        assert_eq!(
            (hours[0].candle.open, hours[0].candle.close),
            (100.0, 219.0)
        );
        assert_eq!(hours[0].source_bars, Some(60));
        // A rising series: RSI 100 once past its lookback of 14 closes.
        assert_eq!(minutes[13].rsi14, None);
        assert_eq!(minutes[14].rsi14, Some(100.0));
    }

    /// Each 4h bar of a day given twice, as a replay of a recording that stored every event
    /// twice gives them: the day is built once, from six bars, and the copies are late.
    #[test]
    fn a_bar_given_twice_is_taken_once() {
        let h4: Timeframe = "4h".parse().unwrap();
        let mut p = Processor::new(Symbol::new("BTCUSDT").unwrap(), vec![h4, Timeframe::D1]);
        let t0 = 1_769_904_000_000_i64; // 2026-02-01T00:00:00Z
        let mut out = Vec::new();
        for k in 0..6_i64 {
            let open = Timestamp::from_millis(t0 + k * 14_400_000);
            let bar = Candle::new(open, 100.0, 101.0, 99.0, 100.5, 10.0, None, None).unwrap();
            for _copy in 0..2 {
                p.bar(bar, &mut out);
                p.tick(h4.close_of(open), &mut out);
            }
        }
        let days: Vec<_> = out
            .iter()
            .filter(|c| c.timeframe == Timeframe::D1)
            .collect();
        assert_eq!(days.len(), 1, "{days:?}");
        assert_eq!(
            (days[0].source_bars, days[0].candle.volume),
            (Some(6), 60.0)
        );
        assert_eq!(out.len(), 7, "six 4h bars and the day");
        assert_eq!(p.late(), 6, "the copies");
        // After a restart, the stored bars are taken already; a trade for one is late too.
        let mut resumed = Processor::new(Symbol::new("BTCUSDT").unwrap(), vec![h4]);
        let last = Timestamp::from_millis(t0 + 5 * 14_400_000);
        resumed.warm(&[vec![100.5]], &[], Some(last), h4.close_of(last));
        let mut after = Vec::new();
        resumed.trade(
            Timestamp::from_millis(last.millis() + 60_000),
            1.0,
            1.0,
            &mut after,
        );
        resumed.bar(out[0].candle, &mut after);
        assert!(after.is_empty(), "{after:?}");
        assert_eq!(resumed.late(), 2);
        assert!(resumed.intrabar(h4).is_none(), "nothing opened");
    }

    #[test]
    fn the_open_bar_of_each_timeframe_is_seen_intrabar() {
        let sym = Symbol::new("BTCUSDT").unwrap();
        let mut p = Processor::new(sym, vec!["1m".parse().unwrap(), "1h".parse().unwrap()]);
        let t0 = 1_769_904_000_000_i64;
        let mut out = Vec::new();
        for k in 0..150_i64 {
            p.trade(
                Timestamp::from_millis(t0 + k * 30_000),
                100.0 - k as f64 * 0.1,
                1.0,
                &mut out,
            );
        }
        // 74.5 minutes in: the 1m bar 01:14 holds two trades; the 1h bar 01:00 holds 14 closed
        // minutes and the open one.
        let (m, m_rsi) = p.intrabar("1m".parse().unwrap()).unwrap();
        assert_eq!(
            (m.open_time.millis(), m.close),
            (t0 + 74 * 60_000, 100.0 - 149.0 * 0.1)
        );
        assert_eq!(m_rsi, Some(0.0), "falling all along");
        let (h, _) = p.intrabar("1h".parse().unwrap()).unwrap();
        assert_eq!(h.open_time.millis(), t0 + 3_600_000);
        assert_eq!(h.close, m.close);
        assert_eq!(h.volume, 30.0);
        assert!(p.intrabar("4h".parse().unwrap()).is_none());
    }
}
