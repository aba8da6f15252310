//! Candle CSV import: Binance kline dumps and header-mapped OHLCV files.
//!
//! - **Binance kline CSV** as in Binance's public data dumps: 12 columns (open time, open,
//!   high, low, close, volume, close time, quote volume, trades, taker buy base, taker buy quote,
//!   ignore), with or without a header row; open time in ms (µs in the 2025+ spot dumps).
//! - **Header-mapped OHLCV CSV**: columns matched by name, case-insensitively, with common
//!   aliases; the time column may be ISO-8601 UTC, unix seconds or unix ms. Base volume
//!   (`volume`, `volume_btc`, …) is preferred over quote volume. `--map field=COLUMN` overrides.
//!
//! Every row is validated (finite numbers, high ≥ max(open, close), low ≤ min(open, close),
//! volume ≥ 0, time aligned to the timeframe, no duplicate time); the first bad row stops the
//! import with `FILE:LINE: field: reason`. A `partial` column (1 = the bar was still open when
//! the file was written) skips those rows; a `simulated` column marks the file as simulated.
//!
//! `layout.rs` finds the layout, `rows.rs` reads and checks each record, `stream.rs` reads a
//! file row by row; whole files are read here.

mod layout;
mod rows;
mod stream;

use std::fmt;
use std::path::{Path, PathBuf};

use canary_model::{Candle, Timeframe, Timestamp};

use crate::lines::InputError;
use rows::check_unique;
pub use stream::{CandleStream, HEAD_BARS, StreamSummary};

/// The fields a candle file provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Time,
    Open,
    High,
    Low,
    Close,
    Volume,
    QuoteVolume,
    Trades,
    Partial,
    Simulated,
}

impl Field {
    const ALL: [Field; 10] = [
        Field::Time,
        Field::Open,
        Field::High,
        Field::Low,
        Field::Close,
        Field::Volume,
        Field::QuoteVolume,
        Field::Trades,
        Field::Partial,
        Field::Simulated,
    ];

    /// The name used in `--map` and in messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Field::Time => "time",
            Field::Open => "open",
            Field::High => "high",
            Field::Low => "low",
            Field::Close => "close",
            Field::Volume => "volume",
            Field::QuoteVolume => "quote_volume",
            Field::Trades => "trades",
            Field::Partial => "partial",
            Field::Simulated => "simulated",
        }
    }

    /// Column names recognised for this field, most preferred first.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Time => &[
                "time",
                "open_time",
                "open_time_utc",
                "timestamp",
                "datetime",
                "datetime_utc",
                "date",
                "date_utc",
                "time_unix",
                "unix",
                "ts",
                "opentime",
            ],
            Field::Open => &["open", "o", "open_price"],
            Field::High => &["high", "h", "high_price"],
            Field::Low => &["low", "l", "low_price"],
            Field::Close => &["close", "c", "close_price"],
            Field::Volume => &[
                "volume",
                "volume_btc",
                "volume_base",
                "base_volume",
                "vol",
                "volumefrom",
                "volume_from",
            ],
            Field::QuoteVolume => &[
                "quote_volume",
                "quote_volume_usdt",
                "quote_volume_usd",
                "quote_asset_volume",
                "volume_usd",
                "volume_usdt",
                "volume_quote",
                "volumeto",
                "volume_to",
            ],
            Field::Trades => &[
                "trades",
                "count",
                "number_of_trades",
                "trade_count",
                "num_trades",
            ],
            Field::Partial => &["partial", "is_partial"],
            Field::Simulated => &["simulated"],
        }
    }

    fn parse(name: &str) -> Option<Field> {
        let n = name.trim().to_ascii_lowercase();
        Field::ALL.into_iter().find(|f| f.name() == n)
    }
}

/// The times an import accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Nothing before this (default 2009-01-03, the day of Bitcoin's genesis block).
    pub earliest: Timestamp,
    /// The caller's wall clock: nothing opening later than one bar after it (data from the
    /// future is an error). `None`: no upper limit.
    pub now: Option<Timestamp>,
}

impl TimeRange {
    /// 2009-01-03T00:00:00Z.
    pub const GENESIS_DAY: Timestamp = Timestamp::from_millis(1_230_940_800_000);

    /// From the genesis day to one bar after `now`.
    #[must_use]
    pub fn until(now: Timestamp) -> Self {
        TimeRange {
            earliest: Self::GENESIS_DAY,
            now: Some(now),
        }
    }

    /// Why `t`, the open time of a bar of `bar_ms`, is out of range, if it is.
    #[must_use]
    pub fn refuse(&self, t: Timestamp, bar_ms: i64) -> Option<String> {
        if t < self.earliest {
            return Some(format!(
                "{t} is before {}, the earliest time accepted",
                self.earliest
            ));
        }
        match self.now {
            Some(now) if t.millis() > now.millis().saturating_add(bar_ms) => Some(format!(
                "{t} is in the future (now is {now}): a bar cannot open more than one bar length after now"
            )),
            _ => None,
        }
    }
}

impl Default for TimeRange {
    fn default() -> Self {
        TimeRange {
            earliest: Self::GENESIS_DAY,
            now: None,
        }
    }
}

/// How to read a file: a fixed timeframe (else detected from the spacing), column overrides
/// and the times accepted.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub timeframe: Option<Timeframe>,
    /// The byte between fields (`None`: a comma).
    pub delimiter: Option<u8>,
    /// `field -> column name` overrides (`--map time=ts,volume=vol_btc`).
    pub map: Vec<(Field, String)>,
    pub range: TimeRange,
}

impl ImportOptions {
    /// Parse `--map time=COL,volume=COL,...`.
    ///
    /// # Errors
    /// An item without `=` or an unknown field name.
    pub fn parse_map(text: &str) -> Result<Vec<(Field, String)>, String> {
        let mut out = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (f, col) = item
                .split_once('=')
                .ok_or_else(|| format!("column map item {item:?} is not FIELD=COLUMN"))?;
            let field = Field::parse(f).ok_or_else(|| {
                let names: Vec<_> = Field::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "column map: unknown field {f:?}; fields are {}",
                    names.join(", ")
                )
            })?;
            out.push((field, col.trim().to_string()));
        }
        Ok(out)
    }
}

/// The layout a file was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Binance,
    Header,
}

/// One bar read from the file, with its line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    pub line: u64,
    pub candle: Candle,
}

/// A run of missing bars: `count` bars from `first` to `last` (open times) are absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub first: Timestamp,
    pub last: Timestamp,
    pub count: u64,
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.count == 1 {
            write!(f, "{} (1 bar)", self.first)
        } else {
            write!(f, "{} → {} ({} bars)", self.first, self.last, self.count)
        }
    }
}

/// A file read and validated, bars in time order.
#[derive(Debug, Clone)]
pub struct ParsedCandles {
    pub format: Format,
    pub timeframe: Timeframe,
    pub rows: Vec<Row>,
    pub gaps: Vec<Gap>,
    /// Rows skipped because the file marks them partial.
    pub partial_skipped: usize,
    /// The file says it holds simulated data.
    pub simulated: bool,
}

/// Missing bars in all `gaps`.
#[must_use]
pub fn missing_bars(gaps: &[Gap]) -> u64 {
    gaps.iter().map(|g| g.count).sum()
}

/// Why a file could not be imported. Displays as `FILE:LINE: field: reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ImportError {
    pub path: PathBuf,
    pub line: Option<u64>,
    pub field: Option<String>,
    pub reason: String,
}

impl ImportError {
    /// A maker of errors about `path`: `(line, field, reason)` → error.
    pub(crate) fn about(path: &Path) -> impl Fn(Option<u64>, Option<&str>, String) -> Self + '_ {
        move |line, field, reason| ImportError {
            path: path.to_path_buf(),
            line,
            field: field.map(str::to_string),
            reason,
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": {}", canary_model::excerpt::excerpt(field))?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Read and validate a candle file.
///
/// # Errors
/// An unreadable file, an unknown layout, or the first invalid row (with its line and field).
pub fn read_candles(path: &Path, opts: &ImportOptions) -> Result<ParsedCandles, ImportError> {
    let file = crate::lines::open(path)
        .map_err(|e| ImportError::about(path)(None, None, format!("cannot read the file: {e}")))?;
    read_candles_from(file, path, opts)
}

/// As [`read_candles`], from any reader (`origin` names it in errors; lines are counted as
/// they come, so give CRLF input through [`crate::lines::CrlfAsLf`]).
///
/// # Errors
/// As [`read_candles`].
pub fn read_candles_from(
    input: impl std::io::Read,
    origin: &Path,
    opts: &ImportOptions,
) -> Result<ParsedCandles, ImportError> {
    let mut stream = CandleStream::open(input, origin, opts)?;
    let mut rows = Vec::new();
    while let Some(row) = stream.next_row() {
        rows.push(row?);
    }
    let (format, timeframe, simulated) = (stream.format(), stream.timeframe(), stream.simulated());
    let partial_times = std::mem::take(&mut stream.partial_times);
    let partial_skipped = stream.partial_skipped;
    rows.sort_by_key(|r| r.candle.open_time);
    check_unique(&rows)
        .map_err(|(line, r)| ImportError::about(origin)(Some(line), Some("time"), r))?;
    let mut times: Vec<Timestamp> = rows
        .iter()
        .map(|r| r.candle.open_time)
        .chain(partial_times)
        .collect();
    times.sort_unstable();
    times.dedup();
    let gaps = find_gaps(times.into_iter(), timeframe);
    Ok(ParsedCandles {
        format,
        timeframe,
        rows,
        gaps,
        partial_skipped,
        simulated,
    })
}

/// A comma-separated file with a header line, trimmed and flexible, read through
/// [`crate::lines::CsvInput`], and its header; a header of one column that looks separated by
/// something else is refused, naming the separator (`what`: the kind of file, for the message).
pub(crate) fn comma_separated<R: std::io::Read>(
    input: R,
    origin: &Path,
    what: &str,
) -> Result<(::csv::Reader<crate::lines::CsvInput<R>>, Vec<String>), ImportError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .trim(::csv::Trim::All)
        .flexible(true)
        .from_reader(crate::lines::CsvInput::new(
            input,
            b',',
            crate::lines::MAX_RECORD_BYTES,
        ));
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(origin, &e, Some(1)))?
        .iter()
        .map(str::to_string)
        .collect();
    if let Some((shown, name)) = other_delimiter(&header, b',') {
        return Err(ImportError::about(origin)(
            Some(1),
            None,
            format!(
                "the first line is one column ({}): this looks {name}-separated, and {what} files are read comma-separated: convert it (e.g. tr '{}' ',')",
                canary_model::excerpt::excerpt(&header[0]),
                if shown == "tab" { "\\t" } else { &shown[1..2] }
            ),
        ));
    }
    Ok((reader, header))
}

/// A CSV reader's error as an import error: what [`CsvInput`] found in its own words, else
/// "not CSV" at the line the parser names (or `line`).
pub(crate) fn csv_error(origin: &Path, e: &::csv::Error, line: Option<u64>) -> ImportError {
    let err = ImportError::about(origin);
    match InputError::of_csv(e) {
        Some((l, reason)) => err(l, None, reason),
        None => err(
            e.position().map(::csv::Position::line).or(line),
            None,
            format!("not CSV: {e}"),
        ),
    }
}

/// The delimiter a header of one column seems to use instead of `delimiter`, and its name.
pub(crate) fn other_delimiter(
    header: &[String],
    delimiter: u8,
) -> Option<(&'static str, &'static str)> {
    let [only] = header else { return None };
    [
        (b';', "';'", "semicolon"),
        (b'\t', "tab", "tab"),
        (b'|', "'|'", "pipe"),
    ]
    .into_iter()
    .find(|&(d, _, _)| d != delimiter && only.as_bytes().contains(&d))
    .map(|(_, shown, name)| (shown, name))
}

/// Runs of missing bars between consecutive open times.
#[must_use]
pub fn find_gaps(times: impl Iterator<Item = Timestamp>, tf: Timeframe) -> Vec<Gap> {
    let d = tf.duration_ms();
    let mut gaps = Vec::new();
    let mut prev: Option<Timestamp> = None;
    for t in times {
        if let Some(p) = prev {
            let missing = (t.millis() - p.millis()) / d - 1;
            if missing > 0 {
                gaps.push(Gap {
                    first: p.add_millis(d),
                    last: t.add_millis(-d),
                    count: u64::try_from(missing).unwrap_or(0),
                });
            }
        }
        prev = Some(t);
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::layout::header_columns;
    use super::rows::{Parsed, parse_row};
    use super::*;

    fn rec(cells: &[&str]) -> ::csv::StringRecord {
        ::csv::StringRecord::from(cells.to_vec())
    }

    #[test]
    fn a_row_is_a_bar_a_partial_bar_a_blank_or_an_error_naming_its_field() {
        let header: Vec<String> = [
            "time",
            "open",
            "high",
            "low",
            "close",
            "volume",
            "partial",
            "trades",
            "simulated",
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
        let cols = header_columns(&header, &ImportOptions::default()).unwrap();
        let bar = parse_row(
            &rec(&["2026-01-01", "10", "11", "9", "10", "1", "0", "7", "true"]),
            &cols,
        )
        .unwrap();
        assert!(matches!(bar, Parsed::Bar { sim: true, candle } if candle.trades == Some(7)));
        assert_eq!(
            parse_row(
                &rec(&["2026-01-01", "", "", "", "", "", "1", "", ""]),
                &cols
            )
            .unwrap(),
            Parsed::Partial(Some(Timestamp::parse("2026-01-01").unwrap()))
        );
        assert_eq!(
            parse_row(&rec(&["", "", "", "", "", "", "", "", ""]), &cols).unwrap(),
            Parsed::Blank
        );
        let e = parse_row(
            &rec(&["2026-01-01", "10", "x", "9", "10", "1", "0", "", ""]),
            &cols,
        )
        .unwrap_err();
        assert_eq!(e, (Some("high"), "\"x\" is not a number".to_string()));
        let e = parse_row(
            &rec(&["2026-01-01", "10", "11", "9", "10", "1", "0", "2.5", ""]),
            &cols,
        )
        .unwrap_err();
        assert_eq!(e.0, Some("trades"));
        let e = parse_row(
            &rec(&["2026-01-01", "10", "9", "9.5", "10", "1", "0", "", ""]),
            &cols,
        )
        .unwrap_err();
        assert_eq!(e.0, Some("high"), "{e:?}");
    }

    #[test]
    fn duplicate_and_misaligned_times_name_the_line() {
        let c = |t: &str| {
            Candle::new(
                Timestamp::parse(t).unwrap(),
                1.0,
                1.0,
                1.0,
                1.0,
                1.0,
                None,
                None,
            )
            .unwrap()
        };
        let rows = vec![
            Row {
                line: 7,
                candle: c("2026-01-01T00:00:00Z"),
            },
            Row {
                line: 3,
                candle: c("2026-01-01T00:00:00Z"),
            },
        ];
        assert_eq!(check_unique(&rows).unwrap_err().0, 7);
        let read = |text: &str, tf| {
            let f = file(text);
            let opts = ImportOptions {
                timeframe: tf,
                ..ImportOptions::default()
            };
            read_candles_from(std::fs::File::open(f.path()).unwrap(), f.path(), &opts)
        };
        // The first misaligned bar in file order, with a timeframe given.
        let text = "time,open,high,low,close,volume\n2026-01-01T00:00:00Z,1,1,1,1,1\n2026-01-01T05:00:00Z,1,1,1,1,1\n2026-01-01T06:00:00Z,1,1,1,1,1\n";
        let e = read(text, Some(Timeframe::H4)).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.reason.contains("such as 2026-01-01T04:00:00Z"), "{e}");
        assert!(read(text, Some(Timeframe::H1)).is_ok());
        // A time repeated further apart than on consecutive rows.
        let text = "time,open,high,low,close,volume\n2026-01-01,1,1,1,1,1\n2026-01-02,1,1,1,1,1\n2026-01-01,1,1,1,1,1\n";
        let e = read(text, None).unwrap_err();
        assert!(
            e.reason.contains("appears twice") && e.line == Some(4),
            "{e}"
        );
    }
    use crate::test_file as file;

    /// The line an error names, for a file whose rows end with `eol`.
    fn error_line(rows: &[&str], eol: &str) -> Option<u64> {
        let f = file(&(rows.join(eol) + eol));
        read_candles(f.path(), &ImportOptions::default())
            .unwrap_err()
            .line
    }

    #[test]
    fn bars_before_the_genesis_day_or_from_the_future_are_refused() {
        let now = Timestamp::parse("2026-02-06T05:00:00Z").unwrap();
        let opts = ImportOptions {
            range: TimeRange::until(now),
            ..ImportOptions::default()
        };
        let read = |rows: &[&str]| {
            let f = file(&(String::from("time,open,high,low,close,volume\n") + &rows.join("\n")));
            read_candles(f.path(), &opts)
        };
        for (rows, line, why) in [
            (
                vec!["3000-01-01,1,1,1,1,1", "3000-01-02,1,1,1,1,1"],
                2,
                "in the future",
            ),
            (
                vec!["1960-01-01,1,1,1,1,1", "1960-01-02,1,1,1,1,1"],
                2,
                "before 2009-01-03",
            ),
            (
                vec![
                    "2026-02-05,1,1,1,1,1",
                    "9999-12-31,1,1,1,1,1",
                    "2026-02-04,1,1,1,1,1",
                ],
                3,
                "in the future",
            ),
        ] {
            let e = read(&rows).unwrap_err();
            assert_eq!(
                (e.line, e.field.as_deref()),
                (Some(line), Some("time")),
                "{e}"
            );
            assert!(e.to_string().contains(why), "{e}");
        }
        // The bar open now (4h bar from 04:00) and the next one are accepted.
        let ok = read(&[
            "2026-02-06T04:00:00Z,1,1,1,1,1",
            "2026-02-06T08:00:00Z,1,1,1,1,1",
        ]);
        assert!(ok.is_ok(), "{ok:?}");
    }

    #[test]
    fn errors_name_the_physical_line_with_lf_crlf_and_quoted_newlines() {
        let bad = "2026-01-03,10,9,9.5,10,1,z";
        let good = |d: u32| format!("2026-01-0{d},10,11,9,10,1,z");
        let (g1, g2) = (good(1), good(2));
        for eol in ["\n", "\r\n"] {
            let rows = ["time,open,high,low,close,volume,note", &g1, &g2, bad];
            assert_eq!(error_line(&rows, eol), Some(4), "{eol:?}");
            // A quoted note spanning two lines moves every later row down one line.
            let quoted = format!("2026-01-02,10,11,9,10,1,\"two{eol}lines\"");
            let rows = ["time,open,high,low,close,volume,note", &g1, &quoted, bad];
            assert_eq!(error_line(&rows, eol), Some(5), "{eol:?}");
            // Binance dumps without a header.
            let k = |t: &str, h: &str| format!("{t},10,{h},9,10,1,0,1,1,1,1,0");
            let (a, b, c) = (
                k("1767225600000", "11"),
                k("1767229200000", "11"),
                k("1767232800000", "9"),
            );
            assert_eq!(error_line(&[&a, &b, &c], eol), Some(3), "{eol:?}");
        }
    }

    #[test]
    fn reads_binance_klines_without_header_and_detects_the_timeframe() {
        let f = file(
            "1738368000000,102429.56,102783.71,102111.00,102648.00,1234.5,1738371599999,126000000.1,50000,600.1,61000000.2,0\n\
             1738371600000,102648.00,102800.00,102300.00,102500.00,1000.0,1738375199999,102000000.0,40000,500.0,51000000.0,0\n\
             1738382400000,102500.00,102900.00,102400.00,102800.00,900.0,1738385999999,92000000.0,30000,450.0,46000000.0,0\n",
        );
        let p = read_candles(f.path(), &ImportOptions::default()).unwrap();
        assert_eq!(p.format, Format::Binance);
        assert_eq!(p.timeframe, Timeframe::H1);
        assert_eq!(p.rows.len(), 3);
        assert_eq!(p.rows[0].candle.quote_volume, Some(126_000_000.1));
        assert_eq!(p.rows[0].candle.trades, Some(50000));
        assert_eq!(p.gaps.len(), 1);
        assert_eq!(p.gaps[0].count, 2);
    }

    #[test]
    fn reads_binance_klines_with_header_and_microsecond_times() {
        // The 2025+ spot dumps give open times in µs; some dumps carry Binance's header row.
        let f = file(
            "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n\
             1735689600000000,93576.00,94509.42,93489.03,94401.14,1026.11,1735693199999999,96340000.5,120000,500.1,47000000.2,0\n\
             1735693200000000,94401.14,94500.00,94000.00,94200.00,900.00,1735696799999999,84900000.0,100000,450.0,42000000.0,0\n",
        );
        let p = read_candles(f.path(), &ImportOptions::default()).unwrap();
        assert_eq!(p.format, Format::Binance);
        assert_eq!(p.timeframe, Timeframe::H1);
        assert_eq!(
            p.rows[0].candle.open_time.to_string(),
            "2025-01-01T00:00:00Z"
        );
        assert_eq!(p.rows[1].candle.trades, Some(100_000));
    }

    #[test]
    fn header_aliases_prefer_base_volume_and_map_overrides() {
        let text = "datetime_utc,open,high,low,close,volume_usd,volume_btc\n\
                    2025-05-13 00:00:00,10,11,9,10.5,1000,100\n\
                    2025-05-13 01:00:00,10.5,11,10,10.8,2000,200\n";
        let f = file(text);
        let p = read_candles(f.path(), &ImportOptions::default()).unwrap();
        assert_eq!(p.rows[0].candle.volume, 100.0);
        assert_eq!(p.rows[0].candle.quote_volume, Some(1000.0));
        let opts = ImportOptions {
            map: ImportOptions::parse_map("volume=volume_usd").unwrap(),
            ..ImportOptions::default()
        };
        assert_eq!(
            read_candles(f.path(), &opts).unwrap().rows[1].candle.volume,
            2000.0
        );
        assert!(ImportOptions::parse_map("vol=x").is_err());
    }

    #[test]
    fn bad_rows_name_file_line_and_field() {
        let f = file(
            "time,open,high,low,close,volume\n2026-01-01,10,11,9,10,1\n2026-01-02,10,9,9.5,10,1\n",
        );
        let e = read_candles(f.path(), &ImportOptions::default()).unwrap_err();
        assert_eq!(e.line, Some(3));
        let msg = e.to_string();
        assert!(
            msg.ends_with(":3: high: high 9 is below max(open 10, close 10)"),
            "{msg}"
        );

        let f = file("time,open,high,low,close,volume\n2026-01-01,10,11,9,10,x\n");
        assert!(
            read_candles(f.path(), &ImportOptions::default())
                .unwrap_err()
                .to_string()
                .contains(":2: volume: \"x\" is not a number")
        );

        let f = file(
            "time,open,high,low,close,volume\n2026-01-01T00:00:00Z,10,11,9,10,1\n2026-01-01T04:00:00Z,10,11,9,10,1\n2026-01-01T09:00:00Z,10,11,9,10,1\n",
        );
        let opts = ImportOptions {
            timeframe: Some(Timeframe::H4),
            ..ImportOptions::default()
        };
        let e = read_candles(f.path(), &opts).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(4), Some("time")), "{e}");

        let f = file("when,open,high,low,close\n2026-01-01,10,11,9,10\n");
        let e = read_candles(f.path(), &ImportOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no column for time, volume") && e.contains("column map (time=COLUMN"),
            "{e}"
        );

        let f = file(
            "time,open,high,low,close,volume\n2026-01-01,10,11,9,10,1\n2026-01-01,10,11,9,10,1\n",
        );
        assert!(
            read_candles(f.path(), &ImportOptions::default())
                .unwrap_err()
                .to_string()
                .contains("appears twice (lines 2 and 3)")
        );
    }

    #[test]
    fn partial_rows_are_skipped_and_simulated_files_are_marked() {
        let f = file(
            "time_unix,open,high,low,close,volume_btc,partial,simulated\n1747094400,10,11,9,10,1,0,true\n1747098000,10,11,9,10,1,1,true\n1747101600,10,11,9,10,1,0,true\n",
        );
        let opts = ImportOptions {
            timeframe: Some(Timeframe::H1),
            ..ImportOptions::default()
        };
        let p = read_candles(f.path(), &opts).unwrap();
        assert_eq!((p.rows.len(), p.partial_skipped, p.simulated), (2, 1, true));
        assert!(p.gaps.is_empty(), "a skipped partial bar is not a gap");
    }

    /// Issue 19, item 12: three 4h bars, the last an hour after the one before, were read as
    /// a 1h series with a gap. A tie between spacings is refused; the most common decides.
    #[test]
    fn one_odd_step_does_not_decide_the_timeframe() {
        let read = |times: &[&str]| {
            let rows: Vec<String> = times.iter().map(|t| format!("{t},1,1,1,1,1")).collect();
            let f = file(&format!(
                "time,open,high,low,close,volume\n{}\n",
                rows.join("\n")
            ));
            read_candles(f.path(), &ImportOptions::default())
        };
        let e = read(&["2025-01-01T00:00", "2025-01-01T04:00", "2025-01-01T05:00"]).unwrap_err();
        assert!(
            e.reason.contains("as often 1h apart as 4h") && e.reason.contains("give the timeframe"),
            "{e}"
        );
        let e = read(&[
            "2025-01-01T00:00",
            "2025-01-01T04:00",
            "2025-01-01T08:00",
            "2025-01-01T09:00",
        ])
        .unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(5), Some("time")), "{e}");
        assert!(e.reason.contains("not aligned to 4h"), "{e}");
    }
}
