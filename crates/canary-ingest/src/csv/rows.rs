//! One record as a bar (every value checked, a partial or blank row told apart), and the
//! checks across rows: a time repeated, a time out of range, the timeframe from the spacing.

use std::collections::HashMap;

use canary_model::excerpt::quoted;
use canary_model::{Candle, Timeframe, Timestamp};

use super::layout::Columns;
use super::{Field, HEAD_BARS, Row, TimeRange};

/// What one record holds.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Parsed {
    /// Every cell empty.
    Blank,
    /// A bar the file marks partial (still open when written), with its time if readable.
    Partial(Option<Timestamp>),
    /// A validated bar, and whether the file marks it simulated.
    Bar { candle: Candle, sim: bool },
}

fn flag(s: &str) -> bool {
    matches!(s, "1" | "true" | "True" | "TRUE")
}

/// One record as a bar; an error names the field (if one) and the reason.
pub(super) fn parse_row(
    rec: &::csv::StringRecord,
    cols: &Columns,
) -> Result<Parsed, (Option<&'static str>, String)> {
    if rec.iter().all(|f| f.trim_ascii().is_empty()) {
        return Ok(Parsed::Blank);
    }
    let get =
        |f: Field| -> Option<&str> { cols.get(f).and_then(|i| rec.get(i)).map(str::trim_ascii) };
    let required = |f: Field| match get(f) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err((Some(f.name()), "missing value".to_string())),
    };
    let number = |f: Field| -> Result<f64, (Option<&'static str>, String)> {
        let s = required(f)?;
        s.parse::<f64>().map_err(|_| {
            let comma = s.contains(',') && s.replacen(',', ".", 1).parse::<f64>().is_ok();
            (
                Some(f.name()),
                format!(
                    "{} is not a number{}",
                    quoted(s),
                    if comma {
                        " (a decimal comma? write the decimal point as '.')"
                    } else {
                        ""
                    }
                ),
            )
        })
    };
    if get(Field::Partial).is_some_and(flag) {
        return Ok(Parsed::Partial(
            get(Field::Time).and_then(|t| Timestamp::parse(t).ok()),
        ));
    }
    let time =
        Timestamp::parse(required(Field::Time)?).map_err(|e| (Some("time"), e.to_string()))?;
    let quote_volume = match get(Field::QuoteVolume).filter(|s| !s.is_empty()) {
        Some(_) => Some(number(Field::QuoteVolume)?),
        None => None,
    };
    let trades = match get(Field::Trades).filter(|s| !s.is_empty()) {
        Some(s) => Some(
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0 && v.fract() == 0.0)
                .ok_or_else(|| {
                    (
                        Some("trades"),
                        format!("{} is not a whole number ≥ 0", quoted(s)),
                    )
                })?,
        ),
        None => None,
    };
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let candle = Candle::new(
        time,
        number(Field::Open)?,
        number(Field::High)?,
        number(Field::Low)?,
        number(Field::Close)?,
        number(Field::Volume)?,
        quote_volume,
        trades.map(|t| t as u64),
    )
    .map_err(|e| (Some(e.field.name()), e.reason))?;
    Ok(Parsed::Bar {
        candle,
        sim: get(Field::Simulated).is_some_and(flag),
    })
}

/// Rows sorted by time: the later line of two with the same time, and why.
pub(super) fn check_unique(rows: &[Row]) -> Result<(), (u64, String)> {
    for w in rows.windows(2) {
        if w[0].candle.open_time == w[1].candle.open_time {
            let (a, b) = (w[0].line.min(w[1].line), w[0].line.max(w[1].line));
            return Err((
                b,
                format!(
                    "{} appears twice (lines {a} and {b})",
                    w[0].candle.open_time
                ),
            ));
        }
    }
    Ok(())
}

/// The first row in file order whose time is out of `range`, and why.
pub(super) fn check_range(
    rows: &[Row],
    tf: Timeframe,
    range: &TimeRange,
) -> Result<(), (u64, String)> {
    match rows
        .iter()
        .filter_map(|r| {
            range
                .refuse(r.candle.open_time, tf.duration_ms())
                .map(|why| (r.line, why))
        })
        .min_by_key(|(line, _)| *line)
    {
        Some(bad) => Err(bad),
        None => Ok(()),
    }
}

/// The timeframe whose duration is the most common spacing between consecutive bars; a tie
/// between two spacings is refused (the bars off the grid of the one chosen would otherwise
/// decide nothing, or everything).
pub(super) fn detect_timeframe(rows: &[Row]) -> Result<Timeframe, String> {
    if rows.len() < 2 {
        return Err("one bar is not enough to detect the timeframe: give the timeframe".into());
    }
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for w in rows.windows(2) {
        *counts
            .entry(w[1].candle.open_time.millis() - w[0].candle.open_time.millis())
            .or_default() += 1;
    }
    let most = counts.values().copied().max().unwrap_or(0);
    let mut tied: Vec<i64> = counts
        .iter()
        .filter(|&(_, &n)| n == most)
        .map(|(&d, _)| d)
        .collect();
    tied.sort_unstable();
    // A tied spacing that is no timeframe is a gap (3h between 1h bars). Between two that
    // are timeframes, one odd step must not decide: the shorter once won, and a 4h file with
    // one bar an hour after another was stored as a 1h series.
    if tied
        .iter()
        .filter(|&&d| Timeframe::from_duration_ms(d).is_some())
        .count()
        == 1
    {
        tied.retain(|&d| Timeframe::from_duration_ms(d).is_some());
    }
    if let [a, b, ..] = tied[..] {
        let name = |d: i64| {
            Timeframe::from_duration_ms(d)
                .map_or_else(|| format!("{} s", d / 1000), |t| t.to_string())
        };
        return Err(format!(
            "the bars are as often {} apart as {} ({most} times each{}): the timeframe is ambiguous; give the timeframe",
            name(a),
            name(b),
            if rows.len() >= HEAD_BARS {
                format!(" in the first {HEAD_BARS} bars")
            } else {
                String::new()
            }
        ));
    }
    let spacing = tied[0];
    Timeframe::from_duration_ms(spacing).ok_or_else(|| {
        format!(
            "the bars are most often {} s apart, which is no known timeframe (1m 5m 15m 1h 4h 1d 1w): give the timeframe",
            spacing / 1000
        )
    })
}
