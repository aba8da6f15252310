//! [`Bars`]: a series of candles with the names a claim needs (series, source, timeframe).

use canary_model::{Candle, Claim, Symbol, Timeframe, Timestamp};

/// Candles of one instrument and timeframe, in time order, all available at the as-of time.
#[derive(Debug, Clone, Copy)]
pub struct Bars<'a> {
    /// The instrument, e.g. `BTCUSDT`.
    pub symbol: &'a Symbol,
    pub timeframe: Timeframe,
    /// Where the bars came from (file name, `sim`, `resample:4h`, …).
    pub source: &'a str,
    pub candles: &'a [Candle],
}

impl Bars<'_> {
    /// `BTCUSDT 4h`.
    #[must_use]
    pub fn name(&self) -> String {
        format!("{} {}", self.symbol, self.timeframe)
    }

    /// The close time of bar `i` (when it became known).
    #[must_use]
    pub fn close_time(&self, i: usize) -> Timestamp {
        self.timeframe.close_of(self.candles[i].open_time)
    }

    /// A data claim for a field of bar `i` (`close`, `high`, …) with the given value.
    #[must_use]
    pub fn claim(
        &self,
        label: impl Into<String>,
        field: &str,
        i: usize,
        value: f64,
        unit: &str,
        as_of: Timestamp,
    ) -> Claim {
        Claim::data(
            label,
            value,
            unit,
            as_of,
            format!("{} {field}", self.name()),
            self.source,
            self.candles[i].open_time,
        )
    }

    /// Index of the last bar whose close time is at or before `t`.
    #[must_use]
    pub fn last_closed_by(&self, t: Timestamp) -> Option<usize> {
        let tf = self.timeframe;
        let n = self
            .candles
            .partition_point(|c| tf.close_of(c.open_time) <= t);
        n.checked_sub(1)
    }
}
