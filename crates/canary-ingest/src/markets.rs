//! Equity, index and daily-gauge files, read into [`MarketSeries`] dated by day.
//!
//! The layout is told by the header ([`Layout`]):
//! - **long** OHLCV, one row per day and ticker (`date, ticker, open, high, low, close,
//!   volume`, as the shared Yahoo file);
//! - **one ticker's** OHLCV (`Date, Open, High, Low, Close, Adj Close, Volume`, as a Yahoo
//!   download), the ticker from `--ticker` or else from a file name that is one, written in
//!   capitals (`MARA.csv`);
//! - **index closes** (`date, nasdaq100_close, sp500_close`, or FRED's `observation_date,
//!   NASDAQ100` and `SP500`): the Nasdaq-100 is stored as `NDX`, the S&P 500 as `SPX`;
//! - the **Crypto Fear & Greed Index** (`date_utc, fear_greed_index`, or alternative.me's
//!   `date, value, value_classification`), 0–100, dated by its UTC day.
//!
//! A US row's date is its exchange's trading day. A weekend date is an error (the file's dates
//! are not trading days: a shifted time zone, most often); a date on a US market holiday is
//! skipped and counted in the notes (FRED repeats the day before on some holidays); an empty
//! cell or FRED's `.` means not reported. A day whose close is still to come at the caller's
//! now is refused, as an open bar is. Missing trading days are counted per ticker, never
//! filled. The adjusted close is not read: prices are stored as traded (split-adjusted when
//! the vendor adjusts them). The first bad row stops the read with `FILE:LINE: column: reason`.

use std::collections::BTreeMap;
use std::path::Path;

use canary_model::Timestamp;
use canary_model::excerpt::{excerpt, quoted};
use canary_model::markets::{Field, Market, MarketSeries, Ticker, us_holiday, us_trading_day};

use crate::csv::{ImportError, TimeRange};

const DAY_MS: i64 = 86_400_000;

/// The layouts the importer knows by their header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `date, ticker, open, high, low, close, volume`.
    Long,
    /// One ticker's `date, open, high, low, close, volume`.
    Ohlcv,
    /// Index closes per day, one column per index.
    IndexCloses,
    /// The Crypto Fear & Greed Index per UTC day.
    FearGreed,
}

impl Layout {
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Layout::Long => "long OHLCV (date, ticker, …)",
            Layout::Ohlcv => "one ticker's OHLCV",
            Layout::IndexCloses => "index closes",
            Layout::FearGreed => "Crypto Fear & Greed Index",
        }
    }
}

/// What the caller says about a file.
#[derive(Debug, Clone, Default)]
pub struct MarketOptions {
    /// The ticker of a one-ticker file (else its file name, when that is a ticker).
    pub ticker: Option<Ticker>,
    pub range: TimeRange,
}

/// One value read: (file line, day, value).
pub type Value = (u64, Timestamp, f64);

/// A file read: its layout, each series with its values in day order, and notes on what was
/// skipped or is missing.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedMarkets {
    pub layout: Layout,
    pub series: Vec<(MarketSeries, Vec<Value>)>,
    pub notes: Vec<String>,
}

const DATE_ALIASES: &[&str] = &["date", "date_utc", "observation_date", "day", "timestamp"];
const INDEX_COLUMNS: &[(&str, &str)] = &[
    ("nasdaq100_close", Ticker::NASDAQ_100),
    ("nasdaq100", Ticker::NASDAQ_100),
    ("sp500_close", Ticker::SP_500),
    ("sp500", Ticker::SP_500),
];
const PRICE_FIELDS: [Field; 5] = [
    Field::Open,
    Field::High,
    Field::Low,
    Field::Close,
    Field::Volume,
];

/// Read and validate a market file.
///
/// # Errors
/// An unreadable file, an unknown layout, a one-ticker file without a ticker, or the first
/// invalid row.
pub fn read_markets(path: &Path, opts: &MarketOptions) -> Result<ParsedMarkets, ImportError> {
    let file = crate::lines::open(path)
        .map_err(|e| ImportError::about(path)(None, None, format!("cannot read the file: {e}")))?;
    read_markets_from(file, path, opts)
}

/// A column's position by any of its names (case-insensitive).
fn position(lower: &[String], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| lower.iter().position(|h| h == n))
}

/// How a file's columns are read, from its header.
struct Plan {
    layout: Layout,
    date_col: usize,
    ticker_col: Option<usize>,
    /// Per column read: (column, field).
    columns: Vec<(usize, Field)>,
    /// For index closes: the ticker of each column of `columns`, in order.
    index_tickers: Vec<Ticker>,
    /// The ticker of a one-ticker file.
    one_ticker: Option<Ticker>,
}

/// The layout and columns a header says, the ticker of a one-ticker file from the options or
/// the file's name (said in `notes`).
fn plan(
    header: &[String],
    origin: &Path,
    opts: &MarketOptions,
    notes: &mut Vec<String>,
) -> Result<Plan, ImportError> {
    let err = ImportError::about(origin);
    let lower: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
    let shown_header = || excerpt(&header.join(", "));
    let date_col = position(&lower, DATE_ALIASES).ok_or_else(|| {
        err(
            Some(1),
            None,
            format!(
                "no date column (date, date_utc or observation_date) in the header ({})",
                shown_header()
            ),
        )
    })?;
    let ticker_col = position(&lower, &["ticker", "symbol"]);
    let close_col = position(&lower, &["close"]);
    let fng_col = position(&lower, &["fear_greed_index"])
        .or_else(|| position(&lower, &["value_classification"]).and(position(&lower, &["value"])));
    let mut index_cols: Vec<(usize, Ticker)> = Vec::new();
    for (name, t) in INDEX_COLUMNS {
        let (Some(c), Ok(t)) = (position(&lower, &[name]), t.parse::<Ticker>()) else {
            continue;
        };
        if let Some((other, _)) = index_cols.iter().find(|(_, x)| *x == t) {
            return Err(err(
                Some(1),
                Some(&header[c]),
                format!(
                    "{} and {} are both the {t} index: keep one column",
                    quoted(&header[*other]),
                    quoted(&header[c])
                ),
            ));
        }
        index_cols.push((c, t));
    }
    let (layout, columns) = if let Some(c) = fng_col {
        (Layout::FearGreed, vec![(c, Field::Value)])
    } else if !index_cols.is_empty() && close_col.is_none() {
        (
            Layout::IndexCloses,
            index_cols.iter().map(|(c, _)| (*c, Field::Close)).collect(),
        )
    } else if close_col.is_some() {
        let cols = PRICE_FIELDS
            .iter()
            .filter_map(|f| Some((position(&lower, &[f.name()])?, *f)))
            .collect();
        let layout = if ticker_col.is_some() {
            Layout::Long
        } else {
            Layout::Ohlcv
        };
        (layout, cols)
    } else {
        return Err(err(
            Some(1),
            None,
            format!(
                "not a market file: the header ({}) has no close column, no index column (nasdaq100_close, sp500_close, NASDAQ100, SP500) and no fear_greed_index",
                shown_header()
            ),
        ));
    };
    let one_ticker = if layout != Layout::Ohlcv {
        None
    } else if let Some(t) = &opts.ticker {
        Some(t.clone())
    } else {
        let stem = origin.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let as_written = !stem.bytes().any(|b| b.is_ascii_lowercase());
        let t: Ticker = stem.parse().ok().filter(|_| as_written).ok_or_else(|| {
            err(
                Some(1),
                None,
                format!(
                    "one ticker's prices, and the file's name ({}) is not a ticker: give it with --ticker",
                    quoted(stem)
                ),
            )
        })?;
        notes.push(format!("ticker {t} taken from the file's name"));
        Some(t)
    };
    Ok(Plan {
        layout,
        date_col,
        ticker_col,
        columns,
        index_tickers: index_cols.into_iter().map(|(_, t)| t).collect(),
        one_ticker,
    })
}

/// As [`read_markets`], from any reader (`origin` names it in errors and may give the ticker).
///
/// # Errors
/// As [`read_markets`].
pub fn read_markets_from(
    input: impl std::io::Read,
    origin: &Path,
    opts: &MarketOptions,
) -> Result<ParsedMarkets, ImportError> {
    let err = ImportError::about(origin);
    let (mut reader, header) = crate::csv::comma_separated(input, origin, "market")?;
    let mut notes = Vec::new();
    let Plan {
        layout,
        date_col,
        ticker_col,
        columns,
        index_tickers,
        one_ticker,
    } = plan(&header, origin, opts, &mut notes)?;
    let mut by_series: BTreeMap<MarketSeries, Vec<Value>> = BTreeMap::new();
    let mut seen: BTreeMap<(Ticker, Timestamp), u64> = BTreeMap::new();
    let mut holidays: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut not_reported = 0u64;
    for rec in reader.records() {
        let rec = rec.map_err(|e| crate::csv::csv_error(origin, &e, None))?;
        let line = rec.position().map_or(0, ::csv::Position::line);
        let cell = |c: usize| rec.get(c).unwrap_or("");
        let fail = |c: usize, why: String| err(Some(line), Some(&header[c]), why);
        let market = if layout == Layout::FearGreed {
            Market::Utc
        } else {
            Market::Us
        };
        let day = match day_of(cell(date_col), market, &opts.range) {
            Ok(Ok(day)) => day,
            Ok(Err(holiday)) => {
                *holidays.entry(holiday).or_default() += 1;
                continue;
            }
            Err(why) => return Err(fail(date_col, why)),
        };
        let ticker = match (layout, ticker_col, &one_ticker) {
            (Layout::Long, Some(c), _) => cell(c)
                .parse()
                .map_err(|e: canary_model::markets::MarketError| fail(c, e.to_string()))?,
            (Layout::FearGreed, ..) => Ticker::FEAR_GREED.parse().expect("a ticker"),
            (_, _, Some(t)) => t.clone(),
            _ => Ticker::NASDAQ_100.parse().expect("a ticker"),
        };
        let mut row: Vec<(MarketSeries, f64)> = Vec::new();
        for (i, &(c, field)) in columns.iter().enumerate() {
            let text = cell(c);
            if text.is_empty() || text == "." {
                not_reported += 1;
                continue;
            }
            let v: f64 = text
                .parse()
                .map_err(|_| fail(c, format!("{} is not a number", quoted(text))))?;
            if let Some(why) = field.refuse(v) {
                return Err(fail(c, why));
            }
            if layout == Layout::FearGreed && !(0.0..=100.0).contains(&v) {
                return Err(fail(c, format!("{v} is outside the index's 0–100")));
            }
            let ticker = if layout == Layout::IndexCloses {
                index_tickers[i].clone()
            } else {
                ticker.clone()
            };
            row.push((
                MarketSeries {
                    market,
                    ticker,
                    field,
                },
                v,
            ));
        }
        check_range(&row).map_err(|(f, why)| {
            let c = columns
                .iter()
                .find(|(_, g)| *g == f)
                .map_or(date_col, |x| x.0);
            fail(c, why)
        })?;
        let mut tickers: Vec<&Ticker> = row.iter().map(|(s, _)| &s.ticker).collect();
        tickers.dedup();
        for t in tickers {
            if let Some(first) = seen.insert((t.clone(), day), line) {
                return Err(fail(
                    date_col,
                    format!(
                        "{t} on {} appears twice (lines {first} and {line})",
                        &day.to_string()[..10]
                    ),
                ));
            }
        }
        for (s, v) in row {
            by_series.entry(s).or_default().push((line, day, v));
        }
    }
    if by_series.is_empty() {
        return Err(err(None, None, "no values in the file".into()));
    }
    for (h, n) in &holidays {
        notes.push(format!(
            "{n} row(s) dated on {h}, a US market holiday, skipped"
        ));
    }
    if not_reported > 0 {
        notes.push(format!("{not_reported} empty cell(s) read as not reported"));
    }
    let mut series: Vec<(MarketSeries, Vec<Value>)> = by_series.into_iter().collect();
    for (_, values) in &mut series {
        values.sort_by_key(|v| v.1);
    }
    let span = series
        .iter()
        .filter(|(s, _)| s.market == Market::Us)
        .filter_map(|(_, v)| v.first().zip(v.last()))
        .fold(
            None,
            |acc: Option<(Timestamp, Timestamp)>, (a, b)| match acc {
                None => Some((a.1, b.1)),
                Some((x, y)) => Some((x.min(a.1), y.max(b.1))),
            },
        );
    let calendar = span.map_or_else(Vec::new, |(a, b)| trading_days(a, b));
    for (s, values) in &series {
        if matches!(s.field, Field::Close | Field::Value) {
            let missing = missing_days(s.market, values, &calendar);
            if missing > 0 {
                notes.push(format!(
                    "{}: {missing} {} between its first and last day have no value (not filled)",
                    s.ticker,
                    if s.market == Market::Us {
                        "trading days"
                    } else {
                        "days"
                    }
                ));
            }
        }
    }
    Ok(ParsedMarkets {
        layout,
        series,
        notes,
    })
}

/// The day a row's date cell names, checked against its market's calendar and the caller's
/// now: `Ok(Err(holiday))` for a US market holiday (the row is skipped), `Err(reason)` for a
/// date that is not a trading day or has not closed.
fn day_of(
    text: &str,
    market: Market,
    range: &TimeRange,
) -> Result<Result<Timestamp, &'static str>, String> {
    let day = Timestamp::parse(text).map_err(|e| e.to_string())?;
    if day.millis().rem_euclid(DAY_MS) != 0 {
        return Err(format!("{day} is not a date: the file has one row per day"));
    }
    if let Some(why) = range.refuse(day, DAY_MS) {
        return Err(why);
    }
    if market == Market::Us {
        let (y, m, d, ..) = day.to_civil();
        if let Some(h) = us_holiday(y, m, d) {
            return Ok(Err(h));
        }
        if !us_trading_day(y, m, d) {
            return Err(format!(
                "{} is a weekend day: US rows are dated by trading day (are the dates shifted by a time zone?)",
                &day.to_string()[..10]
            ));
        }
    }
    let known = market.available_at(day).map_err(|e| e.to_string())?;
    match range.now {
        Some(now) if known > now => Err(format!(
            "the day's value is known at {known}, after now ({now}): the day has not closed"
        )),
        _ => Ok(Ok(day)),
    }
}

/// Why a day's prices are inconsistent, if they are: the low above the open or close, or the
/// high below them.
fn check_range(row: &[(MarketSeries, f64)]) -> Result<(), (Field, String)> {
    let get = |f: Field| row.iter().find(|(s, _)| s.field == f).map(|x| x.1);
    let (Some(lo), Some(hi)) = (get(Field::Low), get(Field::High)) else {
        return Ok(());
    };
    for f in [Field::Open, Field::Close] {
        if let Some(v) = get(f)
            && (v < lo || v > hi)
        {
            return Err((
                f,
                format!("{f} {v} is outside the day's low {lo} and high {hi}"),
            ));
        }
    }
    Ok(())
}

/// How many days its market has a value on between a series' first and last day that it lacks,
/// the market's days counted from `calendar` (every US trading day of the file's span, sorted).
fn missing_days(market: Market, values: &[Value], calendar: &[Timestamp]) -> u64 {
    let (Some(first), Some(last)) = (values.first(), values.last()) else {
        return 0;
    };
    let expected = if market == Market::Utc {
        u64::try_from((last.1.millis() - first.1.millis()) / DAY_MS + 1).unwrap_or(0)
    } else {
        let a = calendar.partition_point(|d| *d < first.1);
        let b = calendar.partition_point(|d| *d <= last.1);
        (b - a) as u64
    };
    expected.saturating_sub(values.len() as u64)
}

/// Every US trading day from `first` to `last`, computed once for a file.
fn trading_days(first: Timestamp, last: Timestamp) -> Vec<Timestamp> {
    let mut out = Vec::new();
    let mut t = first;
    while t <= last {
        let (y, m, d, ..) = t.to_civil();
        if us_trading_day(y, m, d) {
            out.push(t);
        }
        t = t.add_millis(DAY_MS);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_file as file;

    fn read(text: &str, opts: &MarketOptions) -> Result<ParsedMarkets, ImportError> {
        read_markets(file(text).path(), opts)
    }

    fn keys(p: &ParsedMarkets) -> Vec<String> {
        p.series.iter().map(|(s, _)| s.to_string()).collect()
    }

    #[test]
    fn each_layout_is_told_by_its_header() {
        let long = read(
            "date,ticker,open,high,low,close,volume\n2026-02-05,MARA,7.8,8.04,6.66,6.73,80158300\n2026-02-05,RIOT,13.64,14.18,11.81,12.06,32921100\n",
            &MarketOptions::default(),
        )
        .unwrap();
        assert_eq!(long.layout, Layout::Long);
        assert_eq!(long.series.len(), 10);
        assert!(keys(&long).contains(&"US:MARA:close".to_string()));

        let index = read(
            "date,nasdaq100_close,sp500_close\n2019-04-18,7689.72,2905.03\n2019-04-19,7689.72,\n2019-04-22,7713.49,2907.97\n",
            &MarketOptions::default(),
        )
        .unwrap();
        assert_eq!(index.layout, Layout::IndexCloses);
        assert_eq!(keys(&index), ["US:NDX:close", "US:SPX:close"]);
        assert_eq!(index.series[0].1.len(), 2, "Good Friday skipped");
        assert!(
            index.notes.iter().any(|n| n.contains("Good Friday")),
            "{:?}",
            index.notes
        );

        let fred = read(
            "observation_date,NASDAQ100\n2026-02-05,24548.7\n2026-02-06,.\n",
            &MarketOptions::default(),
        )
        .unwrap();
        assert_eq!(
            fred.series[0].1,
            vec![(2, Timestamp::parse("2026-02-05").unwrap(), 24548.7)]
        );

        let fng = read(
            "date_utc,fear_greed_index\n2026-02-05,12\n2026-02-06,9\n2026-02-07,7\n",
            &MarketOptions::default(),
        )
        .unwrap();
        assert_eq!(fng.layout, Layout::FearGreed);
        assert_eq!(keys(&fng), ["UTC:FEAR_GREED:value"]);
        assert_eq!(fng.series[0].1.len(), 3, "gauges have weekends");

        let one = read(
            "Date,Open,High,Low,Close,Adj Close,Volume\n2026-02-05,7.8,8.04,6.66,6.73,6.73,80158300\n",
            &MarketOptions {
                ticker: Some("mara".parse().unwrap()),
                ..MarketOptions::default()
            },
        )
        .unwrap();
        assert_eq!(one.layout, Layout::Ohlcv);
        assert_eq!(keys(&one)[0], "US:MARA:open");
    }

    #[test]
    fn bad_rows_are_named_by_line_and_column() {
        let cases = [
            (
                "date,ticker,close\n2026-02-07,MARA,6.7\n",
                "date",
                "weekend",
            ),
            (
                "date,ticker,close\n2026-02-05,MARA,abc\n",
                "close",
                "not a number",
            ),
            (
                "date,ticker,low,high,close\n2026-02-05,MARA,6.66,8.04,9\n",
                "close",
                "outside the day's low",
            ),
            (
                "date,ticker,close\n2026-02-05,MARA,6.7\n2026-02-05,MARA,6.7\n",
                "date",
                "lines 2 and 3",
            ),
            (
                "date_utc,fear_greed_index\n2026-02-05,120\n",
                "fear_greed_index",
                "0–100",
            ),
            (
                "date,ticker,close\n2026-02-05T12:00:00Z,MARA,6.7\n",
                "date",
                "not a date",
            ),
        ];
        for (text, field, why) in cases {
            let e = read(text, &MarketOptions::default()).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{e}");
            assert!(e.to_string().contains(why), "{e}");
            assert!(e.line.is_some(), "{e}");
        }
        let e = read(
            "Date,Open,High,Low,Close,Volume\n2026-02-05,1,1,1,1,1\n",
            &MarketOptions::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("--ticker"), "{e}");
        let e = read("date,price\n2026-02-05,1\n", &MarketOptions::default()).unwrap_err();
        assert!(e.to_string().contains("not a market file"), "{e}");
    }

    #[test]
    fn a_day_still_open_at_now_is_refused_and_missing_days_are_counted() {
        let opts = MarketOptions {
            range: TimeRange::until(Timestamp::parse("2026-02-06T05:00:00Z").unwrap()),
            ..MarketOptions::default()
        };
        let e = read("date,ticker,close\n2026-02-06,MARA,8.24\n", &opts).unwrap_err();
        assert!(e.to_string().contains("has not closed"), "{e}");
        // Thursday, then Tuesday: Friday and Monday are missing; the weekend is not.
        let p = read(
            "date,ticker,close\n2026-02-05,MARA,6.73\n2026-02-10,MARA,8\n",
            &MarketOptions::default(),
        )
        .unwrap();
        assert!(
            p.notes.iter().any(|n| n.contains("MARA: 2 trading days")),
            "{:?}",
            p.notes
        );
    }
}
