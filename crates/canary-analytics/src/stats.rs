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
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Compute the statistics from intraday bars (the finest stored, e.g. 4h: last price, 24 h
/// change, 4h RSI) and daily bars (moves, volatility, daily RSI), all available at `asof`.
#[must_use]
#[allow(clippy::too_many_lines)]
pub fn market_stats(intraday: &Bars<'_>, daily: &Bars<'_>, asof: Timestamp) -> MarketStats {
    let mut m = MarketStats::default();
    let q = quote_unit(intraday.symbol);
    let Some(last_i) = intraday.candles.len().checked_sub(1) else {
        m.missing(
            "last_price",
            format!("no {} bars available as of {asof}", intraday.name()),
        );
        return m;
    };
    let last = intraday.candles[last_i].close;
    let last_close_time = intraday.close_time(last_i);
    let last_id = m.push(
        "last_price",
        intraday.claim(
            "last price (close of the latest bar)",
            "close",
            last_i,
            last,
            q,
            asof,
        ),
        format!("bar opened {}", intraday.candles[last_i].open_time),
    );

    // Changes over 24 h, 7 d, 30 d: against the close of the bar that closed that long before.
    let mut change_24h: Option<(ClaimId, f64)> = None;
    for (key, label, hours) in [
        ("change_24h", "24h", 24),
        ("change_7d", "7d", 24 * 7),
        ("change_30d", "30d", 24 * 30),
    ] {
        let then_t = last_close_time.add_millis(-hours * 3_600_000);
        match intraday.last_closed_by(then_t) {
            Some(j) if intraday.close_time(j) == then_t => {
                let then = intraday.candles[j].close;
                let then_id = m.claims.add(intraday.claim(
                    format!("close {label} earlier"),
                    "close",
                    j,
                    then,
                    q,
                    asof,
                ));
                let pct = (last / then - 1.0) * 100.0;
                let id = m.push(
                    key,
                    Claim::derived(
                        format!("change over {label}"),
                        pct,
                        "%",
                        asof,
                        PCT_CHANGE.of(&[&last_id, &then_id]).param("window", label),
                    ),
                    format!("from {then}"),
                );
                if hours == 24 {
                    change_24h = Some((id, last - then));
                }
            }
            _ => m.missing(
                key,
                format!(
                    "no {} bar closed exactly {label} before the last one",
                    intraday.name()
                ),
            ),
        }
    }

    // RSI 14 on the intraday bars.
    let closes_i: Vec<f64> = intraday.candles.iter().map(|c| c.close).collect();
    let mut buf = vec![0.0; closes_i.len()];
    rsi(&closes_i, 14, &mut buf).expect("valid period");
    match last_finite(&buf) {
        Some(v) => {
            m.push(
                "rsi14_intraday",
                Claim::derived(
                    format!("RSI 14 ({})", intraday.timeframe),
                    v,
                    "index 0-100",
                    asof,
                    RSI_WILDER
                        .of(&[&last_id])
                        .param("n", "14")
                        .param("series", intraday.name())
                        .param("bars", closes_i.len()),
                ),
                rsi_state(v),
            );
        }
        None => m.missing(
            "rsi14_intraday",
            format!("RSI 14 needs 15 {} bars", intraday.name()),
        ),
    }

    // Daily statistics.
    let Some(d_last) = daily.candles.len().checked_sub(1) else {
        m.missing(
            "daily_close",
            format!("no complete {} bar as of {asof}", daily.name()),
        );
        return m;
    };
    let closes: Vec<f64> = daily.candles.iter().map(|c| c.close).collect();
    let d_close = closes[d_last];
    let d_close_id = m.push(
        "daily_close",
        daily.claim("latest daily close", "close", d_last, d_close, q, asof),
        format!("day {}", &daily.candles[d_last].open_time.to_string()[..10]),
    );
    if d_last >= 1 {
        let prev = closes[d_last - 1];
        let prev_id =
            m.claims
                .add(daily.claim("previous daily close", "close", d_last - 1, prev, q, asof));
        let pct = (d_close / prev - 1.0) * 100.0;
        let move_id = m.push(
            "daily_move",
            Claim::derived(
                "latest daily move",
                pct,
                "%",
                asof,
                PCT_CHANGE
                    .of(&[&d_close_id, &prev_id])
                    .param("window", "1d"),
            ),
            "",
        );
        for (key, n) in [
            ("daily_move_sigma_30", 30usize),
            ("daily_move_sigma_90", 90),
        ] {
            let mut z = vec![0.0; closes.len()];
            return_z(&closes, n, &mut z).expect("valid period");
            match last_finite(&z) {
                Some(v) => {
                    m.push(
                        key,
                        Claim::derived(
                            format!("latest daily move in σ of the previous {n} daily returns"),
                            v,
                            "σ",
                            asof,
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
    } else {
        m.missing("daily_move", "needs two daily closes");
    }

    // Drawdowns from the all-time high and the 90-day high (highs of daily and intraday bars).
    let ath_daily = daily
        .candles
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.high.total_cmp(&b.1.high));
    if let Some((j, c)) = ath_daily {
        // The intraday bars after the last complete day may have gone higher.
        let after = intraday
            .candles
            .iter()
            .enumerate()
            .filter(|(_, b)| b.open_time >= daily.close_time(d_last))
            .max_by(|a, b| a.1.high.total_cmp(&b.1.high));
        let ath_claim = match after {
            Some((k, b)) if b.high > c.high => {
                intraday.claim("all-time high", "high", k, b.high, q, asof)
            }
            _ => daily.claim("all-time high", "high", j, c.high, q, asof),
        };
        let ath = ath_claim.value;
        let ath_id = m.claims.add(ath_claim);
        m.push(
            "drawdown_ath",
            Claim::derived(
                "drawdown from the all-time high",
                (last / ath - 1.0) * 100.0,
                "%",
                asof,
                DRAWDOWN.of(&[&last_id, &ath_id]),
            ),
            format!("high {ath}"),
        );
    }
    let from90 = last_close_time.add_millis(-90 * 86_400_000);
    let high90 = daily
        .candles
        .iter()
        .enumerate()
        .filter(|(_, c)| c.open_time >= from90)
        .map(|(j, c)| (c.high, daily, j))
        .chain(
            intraday
                .candles
                .iter()
                .enumerate()
                .filter(|(_, c)| c.open_time >= daily.close_time(d_last))
                .map(|(j, c)| (c.high, intraday, j)),
        )
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((h, bars, j)) = high90 {
        let h_id = m
            .claims
            .add(bars.claim("90-day high", "high", j, h, q, asof));
        m.push(
            "drawdown_90d",
            Claim::derived(
                "drawdown from the 90-day high",
                (last / h - 1.0) * 100.0,
                "%",
                asof,
                DRAWDOWN.of(&[&last_id, &h_id]).param("window", "90d"),
            ),
            format!("high {h}"),
        );
    }

    // Realised volatility 30 d and its percentile over two years.
    let mut rv = vec![0.0; closes.len()];
    realized_vol(&closes, 30, 365.0, &mut rv).expect("valid period");
    match last_finite(&rv) {
        Some(now) => {
            let rv_id = m.push(
                "rv30",
                Claim::derived(
                    "realised volatility, 30 daily returns, annualised",
                    now,
                    "%",
                    asof,
                    REALIZED_VOL
                        .of(&[&d_close_id])
                        .param("n", "30")
                        .param("annualisation", "365"),
                ),
                "",
            );
            let hist: Vec<f64> = rv[rv.len().saturating_sub(730)..]
                .iter()
                .copied()
                .filter(|x| x.is_finite())
                .collect();
            if hist.len() >= 365 {
                #[allow(clippy::cast_precision_loss)]
                let pct =
                    hist.iter().filter(|&&x| x <= now).count() as f64 / hist.len() as f64 * 100.0;
                m.push(
                    "rv30_percentile_2y",
                    Claim::derived(
                        "realised-volatility percentile over two years",
                        pct,
                        "percentile",
                        asof,
                        PERCENTILE_RANK
                            .of(&[&rv_id])
                            .param("window", format!("{} days", hist.len())),
                    ),
                    "",
                );
            } else {
                m.missing(
                    "rv30_percentile_2y",
                    format!("needs a year of daily volatility, has {} days", hist.len()),
                );
            }
        }
        None => m.missing("rv30", "needs 31 daily closes"),
    }

    // Daily RSI 14.
    let mut buf = vec![0.0; closes.len()];
    rsi(&closes, 14, &mut buf).expect("valid period");
    match last_finite(&buf) {
        Some(v) => {
            m.push(
                "rsi14_daily",
                Claim::derived(
                    "RSI 14 (1d)",
                    v,
                    "index 0-100",
                    asof,
                    RSI_WILDER
                        .of(&[&d_close_id])
                        .param("n", "14")
                        .param("series", daily.name())
                        .param("bars", closes.len()),
                ),
                rsi_state(v),
            );
        }
        None => m.missing("rsi14_daily", "needs 15 daily closes"),
    }

    // Volume against its 30-day median.
    if d_last >= 30 {
        let vol = daily.candles[d_last].volume;
        let med = median(
            daily.candles[d_last - 30..d_last]
                .iter()
                .map(|c| c.volume)
                .collect(),
        );
        let v_id =
            m.claims
                .add(daily.claim("latest daily volume", "volume", d_last, vol, "base", asof));
        m.push(
            "volume_vs_median30",
            Claim::derived(
                "daily volume / median of the previous 30 days",
                vol / med,
                "×",
                asof,
                VOLUME_RATIO.of(&[&v_id]).param("window", "30d"),
            ),
            format!("median {med:.0}"),
        );
    } else {
        m.missing("volume_vs_median30", "needs 31 daily bars");
    }

    // Supply (estimated) and market value gained or erased over 24 h.
    let height = estimated_height(asof);
    let supply = supply_btc(height);
    let supply_id = m.push(
        "supply_estimate",
        Claim::derived(
            "circulating supply (estimate: subsidy schedule at a height estimated from the time)",
            supply,
            "BTC",
            asof,
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
                q,
                asof,
                MARKET_VALUE_CHANGE.of(&[&ch_id, &supply_id]),
            ),
            if delta < 0.0 { "erased" } else { "added" },
        );
    }
    m
}
