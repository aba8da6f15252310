//! `indicators`: indicator series over an instrument's bars as of T, and the latest value of
//! each as a claim so that it can be cited.

use canary_analytics::series::Bars;
use canary_analytics::ta::{INDICATOR, IndicatorSpec, Ohlcv, WatchSetBuffers, watch_set_with};
use canary_model::{Claim, ClaimId, Symbol, Timeframe, Timestamp};

use crate::{Context, Draft, EngineError, Input, MarketBars, Report};

/// What to compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorsParams {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    /// `rsi:14,ema:20,…`, `all` (the TA-Lib oracle set) or `watch` (the fused watch set).
    pub spec: String,
    /// Last bar to use (open time); the latest available when `None`.
    pub to: Option<Timestamp>,
    /// Only the last this many rows are wanted: then only the bars their values need are read
    /// (see [`IndicatorSpec::warmup`]), not the whole series.
    pub last: Option<usize>,
}

/// Bars before the first wanted row that `spec` needs; `None` when it needs the whole
/// history (or does not parse).
#[must_use]
pub fn warmup(spec: &str) -> Option<usize> {
    if spec.trim().eq_ignore_ascii_case("watch") {
        return None; // the drawdown reads the whole history
    }
    IndicatorSpec::parse_list(spec)
        .ok()?
        .iter()
        .map(IndicatorSpec::warmup)
        .try_fold(0, |m, w| w.map(|w| m.max(w)))
}

/// The series: one row per bar, one column per indicator output.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorsBody {
    /// Where the bars came from.
    pub source: String,
    pub timeframe: Timeframe,
    pub times: Vec<Timestamp>,
    pub close: Vec<f64>,
    pub columns: Vec<(String, Vec<f64>)>,
    /// The claim of each column's latest value (absent where it is not yet defined).
    pub latest: Vec<(String, Option<ClaimId>)>,
}

/// The columns of `spec` over `d` (`watch`: the fused watch set).
///
/// # Errors
/// A specification that does not parse, or an indicator that refuses its inputs.
pub fn indicator_columns(
    spec: &str,
    d: &Ohlcv,
    tf: Timeframe,
) -> Result<Vec<(String, Vec<f64>)>, EngineError> {
    if spec.trim().eq_ignore_ascii_case("watch") {
        let mut w = WatchSetBuffers::with_len(d.len());
        let path = crate::tuning::watch_path(d.len())?;
        watch_set_with(&d.high, &d.low, &d.close, tf.bars_per_year(), &mut w, path)?;
        return Ok(w
            .columns()
            .iter()
            .map(|(n, s)| ((*n).to_string(), s.to_vec()))
            .collect());
    }
    let mut out = Vec::new();
    for s in IndicatorSpec::parse_list(spec)? {
        let cols = s.compute(d, tf.bars_per_year())?;
        out.extend(s.columns().into_iter().zip(cols));
    }
    Ok(out)
}

/// Indicators over given bars (from the store, or a file read by the caller), as of `asof`.
///
/// # Errors
/// As [`indicator_columns`]; no bars.
pub fn indicators_of(
    bars: &Input<MarketBars>,
    spec: &str,
    asof: Timestamp,
) -> Result<Report<IndicatorsBody>, EngineError> {
    let mut draft = Draft::new(asof);
    draft.uses(bars);
    let b: Bars<'_> = bars.bars();
    let Some(last) = b.candles.len().checked_sub(1) else {
        return Err(EngineError::Empty(format!(
            "no {} bars to compute indicators on",
            bars.series
        )));
    };
    let d = Ohlcv::from_candles(b.candles);
    let columns = indicator_columns(spec, &d, b.timeframe)?;
    let close_id = draft.add(b.claim(
        "close",
        "close",
        last,
        d.close[last],
        canary_analytics::stats::quote_unit(b.symbol),
        asof,
    ));
    let n = b.candles.len();
    let latest = columns
        .iter()
        .map(|(name, v)| {
            let id = v.last().filter(|x| x.is_finite()).map(|&x| {
                draft.add(Claim::derived(
                    format!("{name} ({})", bars.series),
                    x,
                    "",
                    asof,
                    INDICATOR
                        .of(&[&close_id])
                        .param("column", name)
                        .param("series", &bars.series)
                        .param("bars", n)
                        .param("from", b.candles[0].open_time),
                ))
            });
            (name.clone(), id)
        })
        .collect();
    draft.finish(IndicatorsBody {
        source: bars.source.clone(),
        timeframe: b.timeframe,
        times: b.candles.iter().map(|c| c.open_time).collect(),
        close: d.close,
        columns,
        latest,
    })
}

/// Indicators over the bars the context knows.
///
/// # Errors
/// As [`indicators_of`]; no bars; a database error.
pub fn indicators(
    ctx: &Context<'_>,
    p: &IndicatorsParams,
) -> Result<Report<IndicatorsBody>, EngineError> {
    let window = match (p.to, p.last) {
        (None, Some(n)) => warmup(&p.spec).map(|w| n.saturating_add(w)),
        _ => None,
    };
    let mut bars = match window {
        Some(w) => ctx.last_bars(&p.symbol, p.timeframe, w)?,
        None => ctx.bars(&p.symbol, p.timeframe)?,
    };
    if let Some(to) = p.to {
        bars.value.candles.retain(|c| c.open_time <= to);
    }
    indicators_of(&bars, &p.spec, ctx.asof())
}

/// The indicators report as JSON: one row per bar (`time`, `close` and each column; a value
/// not yet defined is null) for the rows `idx`, the latest value's claim of each column, and
/// the claims. The command line and the HTTP API both answer this.
#[must_use]
pub fn indicators_json(r: &Report<IndicatorsBody>, idx: &[usize]) -> serde_json::Value {
    let num = |x: f64| {
        serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, serde_json::Value::Number)
    };
    let b = &r.body;
    let rows: Vec<serde_json::Value> = idx
        .iter()
        .map(|&i| {
            let mut m = serde_json::Map::new();
            m.insert("time".into(), b.times[i].to_string().into());
            m.insert("close".into(), num(b.close[i]));
            for (name, s) in &b.columns {
                m.insert(name.clone(), num(s[i]));
            }
            serde_json::Value::Object(m)
        })
        .collect();
    serde_json::json!({
        "as_of": r.as_of,
        "simulated": r.simulated,
        "warnings": r.warnings,
        "source": b.source,
        "timeframe": b.timeframe,
        "columns": b.columns.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        "rows": rows,
        "latest": b.latest.iter().map(|(n, id)| serde_json::json!({"column": n, "claim": id})).collect::<Vec<_>>(),
        "claims": r.claims,
    })
}
