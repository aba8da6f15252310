//! Market statistics as of a time (`canary stats`): last price, changes over 24 h / 7 d / 30 d,
//! the latest daily move in σ units, drawdowns, realised-volatility percentile, RSI 14 with its
//! state, volume against its median, and the market value gained or erased over 24 h. Every
//! number is a [`Claim`]; statistics that cannot be computed (too little history) are listed
//! as missing with the reason, never printed as zero.

use canary_model::{Claim, ClaimId, ClaimSet, Method, Symbol, Timestamp};

use crate::mining::protocol::{SUPPLY_FROM_SCHEDULE, estimated_height, supply_btc};
use crate::series::Bars;
use crate::ta::{DRAWDOWN, REALIZED_VOL, RETURN_Z, RSI_WILDER, realized_vol, return_z, rsi};

/// Percent change between two closes: (last / then − 1) × 100.
pub const PCT_CHANGE: Method = Method::new("pct_change", 1);
/// Share of a history's values at or below the latest, in percent.
pub const PERCENTILE_RANK: Method = Method::new("percentile_rank", 1);
/// The latest daily volume over the median of the previous 30 days.
pub const VOLUME_RATIO: Method = Method::new("volume_ratio", 1);
/// Market value change: price change × estimated circulating supply.
pub const MARKET_VALUE_CHANGE: Method = Method::new("market_value_change", 1);

/// One statistic: what it is, its value and the claim behind it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Stat {
    pub key: &'static str,
    pub label: String,
    pub value: f64,
    pub unit: String,
    /// A reading for people (`oversold (< 30)`), may be empty.
    pub note: String,
    pub claim: ClaimId,
}

/// The statistics of one instrument as of a time.
#[derive(Debug, Clone, Default)]
pub struct MarketStats {
    pub stats: Vec<Stat>,
    /// (key, reason) for each statistic that could not be computed.
    pub missing: Vec<(&'static str, String)>,
    pub claims: ClaimSet,
}

impl MarketStats {
    /// The statistic with this key.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Stat> {
        self.stats.iter().find(|s| s.key == key)
    }

    fn push(&mut self, key: &'static str, claim: Claim, note: impl Into<String>) -> ClaimId {
        let stat = Stat {
            key,
            label: claim.label.clone(),
            value: claim.value,
            unit: claim.unit.clone(),
            note: note.into(),
            claim: claim.id.clone(),
        };
        self.stats.push(stat);
        self.claims.add(claim)
    }

    fn missing(&mut self, key: &'static str, reason: impl Into<String>) {
        self.missing.push((key, reason.into()));
    }
}

/// The quote currency of a symbol (`USDT` of `BTCUSDT`), for units.
#[must_use]
pub fn quote_unit(symbol: &Symbol) -> &'static str {
    let s = symbol
        .as_str()
        .rsplit(':')
        .next()
        .unwrap_or(symbol.as_str());
    for q in ["USDT", "USDC", "USD", "EUR", "BTC"] {
        if s.ends_with(q) && s.len() > q.len() {
            return q;
        }
    }
    "quote"
}

/// RSI state: oversold below 30, overbought above 70.
#[must_use]
pub fn rsi_state(v: f64) -> &'static str {
    if v < 30.0 {
        "oversold (< 30)"
    } else if v > 70.0 {
        "overbought (> 70)"
    } else {
        "neutral (30–70)"
    }
}

fn last_finite(xs: &[f64]) -> Option<f64> {
    xs.last().copied().filter(|x| x.is_finite())
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        f64::midpoint(xs[n / 2 - 1], xs[n / 2])
    }
}

/// What every step reads: the two series, the as-of time and the quote unit.
struct Inputs<'a> {
    intraday: &'a Bars<'a>,
    daily: &'a Bars<'a>,
    asof: Timestamp,
    quote: &'static str,
}

/// The latest intraday close: the price everything is measured against.
struct Last {
    id: ClaimId,
    price: f64,
    close_time: Timestamp,
}

/// The latest complete day.
struct Day {
    index: usize,
    id: ClaimId,
    closes: Vec<f64>,
}

/// Compute the statistics from intraday bars (the finest stored, e.g. 4h: last price, 24 h
/// change, 4h RSI) and daily bars (moves, volatility, daily RSI), all available at `asof`.
#[must_use]
pub fn market_stats(intraday: &Bars<'_>, daily: &Bars<'_>, asof: Timestamp) -> MarketStats {
    let mut m = MarketStats::default();
    let x = Inputs {
        intraday,
        daily,
        asof,
        quote: quote_unit(intraday.symbol),
    };
    let Some(last) = last_price(&mut m, &x) else {
        return m;
    };
    let change_24h = changes(&mut m, &x, &last);
    intraday_rsi(&mut m, &x, &last);
    let Some(day) = daily_close(&mut m, &x) else {
        return m;
    };
    daily_moves(&mut m, &x, &day);
    drawdowns(&mut m, &x, &last, &day);
    volatility(&mut m, &x, &day);
    daily_rsi(&mut m, &x, &day);
    volume_ratio(&mut m, &x, &day);
    market_value(&mut m, &x, change_24h);
    m
}

fn last_price(m: &mut MarketStats, x: &Inputs<'_>) -> Option<Last> {
    let b = x.intraday;
    let Some(i) = b.candles.len().checked_sub(1) else {
        m.missing(
            "last_price",
            format!("no {} bars available as of {}", b.name(), x.asof),
        );
        return None;
    };
    let price = b.candles[i].close;
    let id = m.push(
        "last_price",
        b.claim(
            "last price (close of the latest bar)",
            "close",
            i,
            price,
            x.quote,
            x.asof,
        ),
        format!("bar opened {}", b.candles[i].open_time),
    );
    Some(Last {
        id,
        price,
        close_time: b.close_time(i),
    })
}

/// Changes over 24 h, 7 d and 30 d, each against the close of the bar that closed exactly
/// that long before the last one; the 24 h change's claim and price difference.
fn changes(m: &mut MarketStats, x: &Inputs<'_>, last: &Last) -> Option<(ClaimId, f64)> {
    let b = x.intraday;
    let mut change_24h = None;
    for (key, label, hours) in [
        ("change_24h", "24h", 24),
        ("change_7d", "7d", 24 * 7),
        ("change_30d", "30d", 24 * 30),
    ] {
        let then_t = last.close_time.add_millis(-hours * 3_600_000);
        match b.last_closed_by(then_t) {
            Some(j) if b.close_time(j) == then_t => {
                let then = b.candles[j].close;
                let then_id = m.claims.add(b.claim(
                    format!("close {label} earlier"),
                    "close",
                    j,
                    then,
                    x.quote,
                    x.asof,
                ));
                let id = m.push(
                    key,
                    Claim::derived(
                        format!("change over {label}"),
                        (last.price / then - 1.0) * 100.0,
                        "%",
                        x.asof,
                        PCT_CHANGE.of(&[&last.id, &then_id]).param("window", label),
                    ),
                    format!("from {then}"),
                );
                if hours == 24 {
                    change_24h = Some((id, last.price - then));
                }
            }
            _ => m.missing(
                key,
                format!(
                    "no {} bar closed exactly {label} before the last one",
                    b.name()
                ),
            ),
        }
    }
    change_24h
}

/// RSI 14 of a series' closes, as a claim derived from `input`.
fn rsi_claim(
    closes: &[f64],
    bars: &Bars<'_>,
    label: String,
    input: &ClaimId,
    asof: Timestamp,
) -> Option<Claim> {
    let mut buf = vec![0.0; closes.len()];
    rsi(closes, 14, &mut buf).expect("valid period");
    last_finite(&buf).map(|v| {
        Claim::derived(
            label,
            v,
            "index 0-100",
            asof,
            RSI_WILDER
                .of(&[input])
                .param("n", 14)
                .param("series", bars.name())
                .param("bars", closes.len()),
        )
    })
}

fn intraday_rsi(m: &mut MarketStats, x: &Inputs<'_>, last: &Last) {
    let b = x.intraday;
    let closes: Vec<f64> = b.candles.iter().map(|c| c.close).collect();
    let label = format!("RSI 14 ({})", b.timeframe);
    match rsi_claim(&closes, b, label, &last.id, x.asof) {
        Some(c) => {
            let note = rsi_state(c.value);
            m.push("rsi14_intraday", c, note);
        }
        None => m.missing(
            "rsi14_intraday",
            format!("RSI 14 needs 15 {} bars", b.name()),
        ),
    }
}

fn daily_close(m: &mut MarketStats, x: &Inputs<'_>) -> Option<Day> {
    let d = x.daily;
    let Some(index) = d.candles.len().checked_sub(1) else {
        m.missing(
            "daily_close",
            format!("no complete {} bar as of {}", d.name(), x.asof),
        );
        return None;
    };
    let closes: Vec<f64> = d.candles.iter().map(|c| c.close).collect();
    let id = m.push(
        "daily_close",
        d.claim(
            "latest daily close",
            "close",
            index,
            closes[index],
            x.quote,
            x.asof,
        ),
        format!("day {}", &d.candles[index].open_time.to_string()[..10]),
    );
    Some(Day { index, id, closes })
}

/// The latest daily move in %, and in σ of the previous 30 and 90 daily log returns.
fn daily_moves(m: &mut MarketStats, x: &Inputs<'_>, day: &Day) {
    let (d, i, closes) = (x.daily, day.index, &day.closes);
    if i == 0 {
        m.missing("daily_move", "needs two daily closes");
        return;
    }
    let prev_id = m.claims.add(d.claim(
        "previous daily close",
        "close",
        i - 1,
        closes[i - 1],
        x.quote,
        x.asof,
    ));
    let move_id = m.push(
        "daily_move",
        Claim::derived(
            "latest daily move",
            (closes[i] / closes[i - 1] - 1.0) * 100.0,
            "%",
            x.asof,
            PCT_CHANGE.of(&[&day.id, &prev_id]).param("window", "1d"),
        ),
        "",
    );
    for (key, n) in [
        ("daily_move_sigma_30", 30usize),
        ("daily_move_sigma_90", 90),
    ] {
        let mut z = vec![0.0; closes.len()];
        return_z(closes, n, &mut z).expect("valid period");
        match last_finite(&z) {
            Some(v) => {
                m.push(
                    key,
                    Claim::derived(
                        format!("latest daily move in σ of the previous {n} daily returns"),
                        v,
                        "σ",
                        x.asof,
                        RETURN_Z
                            .of(&[&move_id])
                            .param("n", n)
                            .param("returns", "log"),
                    ),
                    if v.abs() >= 3.0 { "a ≥ 3σ move" } else { "" },
                );
            }
            None => m.missing(key, format!("needs {} daily closes", n + 2)),
        }
    }
}

/// The highest high of the daily bars from `from`, and of the intraday bars after the last
/// complete day (they may have gone higher): the claim of that high.
fn highest(x: &Inputs<'_>, day: &Day, from: Option<Timestamp>, label: &str) -> Option<Claim> {
    let after_days = x.daily.close_time(day.index);
    let daily = x
        .daily
        .candles
        .iter()
        .enumerate()
        .filter(|(_, c)| from.is_none_or(|f| c.open_time >= f))
        .map(|(j, c)| (c.high, x.daily, j));
    let intraday = x
        .intraday
        .candles
        .iter()
        .enumerate()
        .filter(|(_, c)| c.open_time >= after_days)
        .map(|(j, c)| (c.high, x.intraday, j));
    // At equal highs the latest bar is cited.
    daily
        .chain(intraday)
        .reduce(|a, b| if b.0 >= a.0 { b } else { a })
        .map(|(h, bars, j)| bars.claim(label, "high", j, h, x.quote, x.asof))
}

fn drawdowns(m: &mut MarketStats, x: &Inputs<'_>, last: &Last, day: &Day) {
    let from90 = last.close_time.add_millis(-90 * 86_400_000);
    for (key, label, from, high_label, window) in [
        (
            "drawdown_ath",
            "drawdown from the all-time high",
            None,
            "all-time high",
            None,
        ),
        (
            "drawdown_90d",
            "drawdown from the 90-day high",
            Some(from90),
            "90-day high",
            Some("90d"),
        ),
    ] {
        let Some(high) = highest(x, day, from, high_label) else {
            continue;
        };
        let h = high.value;
        let h_id = m.claims.add(high);
        let mut d = DRAWDOWN.of(&[&last.id, &h_id]);
        if let Some(w) = window {
            d = d.param("window", w);
        }
        m.push(
            key,
            Claim::derived(label, (last.price / h - 1.0) * 100.0, "%", x.asof, d),
            format!("high {h}"),
        );
    }
}

/// Realised volatility of 30 daily returns and its percentile over two years.
fn volatility(m: &mut MarketStats, x: &Inputs<'_>, day: &Day) {
    let closes = &day.closes;
    let mut rv = vec![0.0; closes.len()];
    realized_vol(closes, 30, 365.0, &mut rv).expect("valid period");
    let Some(now) = last_finite(&rv) else {
        m.missing("rv30", "needs 31 daily closes");
        return;
    };
    let rv_id = m.push(
        "rv30",
        Claim::derived(
            "realised volatility, 30 daily returns, annualised",
            now,
            "%",
            x.asof,
            REALIZED_VOL
                .of(&[&day.id])
                .param("n", 30)
                .param("annualisation", 365),
        ),
        "",
    );
    let hist: Vec<f64> = rv[rv.len().saturating_sub(730)..]
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if hist.len() < 365 {
        m.missing(
            "rv30_percentile_2y",
            format!("needs a year of daily volatility, has {} days", hist.len()),
        );
        return;
    }
    let pct = hist.iter().filter(|&&v| v <= now).count() as f64 / hist.len() as f64 * 100.0;
    m.push(
        "rv30_percentile_2y",
        Claim::derived(
            "realised-volatility percentile over two years",
            pct,
            "percentile",
            x.asof,
            PERCENTILE_RANK
                .of(&[&rv_id])
                .param("window", format!("{} days", hist.len())),
        ),
        "",
    );
}

fn daily_rsi(m: &mut MarketStats, x: &Inputs<'_>, day: &Day) {
    match rsi_claim(&day.closes, x.daily, "RSI 14 (1d)".into(), &day.id, x.asof) {
        Some(c) => {
            let note = rsi_state(c.value);
            m.push("rsi14_daily", c, note);
        }
        None => m.missing("rsi14_daily", "needs 15 daily closes"),
    }
}

/// The latest daily volume over the median of the previous 30 days.
fn volume_ratio(m: &mut MarketStats, x: &Inputs<'_>, day: &Day) {
    let (d, i) = (x.daily, day.index);
    if i < 30 {
        m.missing("volume_vs_median30", "needs 31 daily bars");
        return;
    }
    let vol = d.candles[i].volume;
    let med = median(d.candles[i - 30..i].iter().map(|c| c.volume).collect());
    let v_id = m
        .claims
        .add(d.claim("latest daily volume", "volume", i, vol, "base", x.asof));
    m.push(
        "volume_vs_median30",
        Claim::derived(
            "daily volume / median of the previous 30 days",
            vol / med,
            "×",
            x.asof,
            VOLUME_RATIO.of(&[&v_id]).param("window", "30d"),
        ),
        format!("median {med:.0}"),
    );
}

/// The supply (estimated from the subsidy schedule) and the market value gained or erased
/// over 24 h.
fn market_value(m: &mut MarketStats, x: &Inputs<'_>, change_24h: Option<(ClaimId, f64)>) {
    let height = estimated_height(x.asof);
    let supply = supply_btc(height);
    let supply_id = m.push(
        "supply_estimate",
        Claim::derived(
            "circulating supply (estimate: subsidy schedule at a height estimated from the time)",
            supply,
            "BTC",
            x.asof,
            SUPPLY_FROM_SCHEDULE
                .of(&[])
                .param("estimated_height", height)
                .param("anchors", "halving block times"),
        ),
        format!("height ≈ {height}"),
    );
    if let Some((ch_id, delta)) = change_24h {
        m.push(
            "market_value_change_24h",
            Claim::derived(
                "market value change over 24h (price change × estimated supply)",
                delta * supply,
                x.quote,
                x.asof,
                MARKET_VALUE_CHANGE.of(&[&ch_id, &supply_id]),
            ),
            if delta < 0.0 { "erased" } else { "added" },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_model::{Candle, Symbol, Timeframe};

    fn bars(tf: Timeframe, start: &str, closes: &[f64]) -> Vec<Candle> {
        let t0 = Timestamp::parse(start).unwrap();
        closes
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let t = t0.add_millis(i64::try_from(i).unwrap() * tf.duration_ms());
                Candle::new(t, c, c + 1.0, c - 1.0, c, 10.0 + c, None, None).unwrap()
            })
            .collect()
    }

    fn run(h4: &[Candle], d1: &[Candle], asof: &str) -> MarketStats {
        let sym = Symbol::new("BTCUSDT").unwrap();
        let i = Bars {
            symbol: &sym,
            timeframe: Timeframe::H4,
            source: "t",
            candles: h4,
        };
        let d = Bars {
            symbol: &sym,
            timeframe: Timeframe::D1,
            source: "t",
            candles: d1,
        };
        market_stats(&i, &d, Timestamp::parse(asof).unwrap())
    }

    #[test]
    fn changes_compare_with_the_bar_that_closed_exactly_that_long_before() {
        // Seven 4h bars: the last closes 28 h after the first opens; 24 h before its close is
        // the close of the first bar.
        let h4 = bars(
            Timeframe::H4,
            "2026-01-01",
            &[100.0, 50.0, 50.0, 50.0, 50.0, 50.0, 110.0],
        );
        let m = run(&h4, &[], "2026-01-02T04:00:00Z");
        assert_eq!(m.get("last_price").unwrap().value, 110.0);
        assert!((m.get("change_24h").unwrap().value - 10.0).abs() < 1e-12);
        assert!(m.missing.iter().any(|(k, _)| *k == "change_7d"));
        // No daily bars: the daily statistics are missing, with the reason.
        assert!(
            m.missing
                .iter()
                .any(|(k, r)| *k == "daily_close" && r.contains("no complete"))
        );
        assert!(m.claims.check().is_ok());
    }

    #[test]
    fn daily_moves_drawdowns_and_volume_from_known_series() {
        // 40 days at 100 then one day at 90; intraday bars after the last day reach 95.
        let mut closes = vec![100.0; 40];
        closes.push(90.0);
        let d1 = bars(Timeframe::D1, "2026-01-01", &closes);
        let h4 = bars(Timeframe::H4, "2026-02-10", &[95.0]);
        let m = run(&h4, &d1, "2026-02-10T04:00:00Z");
        assert!((m.get("daily_move").unwrap().value - -10.0).abs() < 1e-12);
        // Flat returns before the move: σ is 0, so the z-score is undefined, not infinite.
        assert!(m.get("daily_move_sigma_30").is_none());
        // Drawdown from the highest high (101, the daily bars' high) to the last price 95.
        let dd = m.get("drawdown_ath").unwrap().value;
        assert!((dd - (95.0 / 101.0 - 1.0) * 100.0).abs() < 1e-12, "{dd}");
        // Volume: 100 (10 + 90) against a median of 110 (10 + 100).
        let v = m.get("volume_vs_median30").unwrap().value;
        assert!((v - 100.0 / 110.0).abs() < 1e-12, "{v}");
        assert!(m.missing.iter().any(|(k, _)| *k == "rv30_percentile_2y"));
        assert!(m.claims.check().is_ok());
    }

    #[test]
    fn an_intraday_high_after_the_last_day_is_the_high_cited() {
        let d1 = bars(Timeframe::D1, "2026-01-01", &[100.0, 100.0]);
        let h4 = bars(Timeframe::H4, "2026-01-03", &[120.0, 110.0]);
        let m = run(&h4, &d1, "2026-01-03T08:00:00Z");
        assert_eq!(m.get("drawdown_ath").unwrap().note, "high 121");
        assert_eq!(m.get("drawdown_90d").unwrap().note, "high 121");
    }
}
