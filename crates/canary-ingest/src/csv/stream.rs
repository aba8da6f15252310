//! A candle file read row by row in flat memory: the layout and the head first, the timeframe
//! decided from the head, then each row parsed and checked as it comes.

use std::fmt;
use std::path::{Path, PathBuf};

use canary_model::{Timeframe, Timestamp};

use super::layout::{Columns, layout};
use super::rows::{Parsed, check_range, check_unique, detect_timeframe, parse_row};
use super::{Format, Gap, ImportError, ImportOptions, Row, TimeRange, csv_error, find_gaps};
use crate::lines::{CsvInput, MAX_RECORD_BYTES};

/// Bars read before the timeframe is decided (it is detected from their spacing).
pub const HEAD_BARS: usize = 1024;

/// What a stream of bars held, once read to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSummary {
    pub bars: u64,
    /// Rows skipped because the file marks them partial.
    pub partial_skipped: usize,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// The gaps, when the rows came in time order (else `None`: find them in what was stored).
    pub gaps: Option<Vec<Gap>>,
}

/// A candle file read row by row, in flat memory: its layout from the first record, its
/// timeframe from the first [`HEAD_BARS`] bars (or as given), then each row parsed and checked
/// (values, time range, alignment, simulated marking like the head's) as it comes. Rows out of
/// time order are allowed; a time repeated on consecutive rows is an error here, one repeated
/// further apart is left to the writer (the store refuses a key written twice in one batch).
pub struct CandleStream<R: std::io::Read> {
    origin: PathBuf,
    reader: ::csv::Reader<CsvInput<R>>,
    /// The record each row is read into (one allocation for the whole file).
    rec: ::csv::StringRecord,
    cols: Columns,
    format: Format,
    timeframe: Timeframe,
    simulated: bool,
    range: TimeRange,
    head: std::vec::IntoIter<Row>,
    pub(super) partial_times: Vec<Timestamp>,
    pub(super) partial_skipped: usize,
    /// The previous time in file order (bars and partial rows) and its line.
    prev: Option<(Timestamp, u64)>,
    sorted: bool,
    gaps: Vec<Gap>,
    bars: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl<R: std::io::Read> fmt::Debug for CandleStream<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CandleStream")
            .field("origin", &self.origin)
            .field("timeframe", &self.timeframe)
            .field("bars", &self.bars)
            .finish_non_exhaustive()
    }
}

impl<R: std::io::Read> CandleStream<R> {
    /// Read the layout and the head, and decide the timeframe.
    ///
    /// # Errors
    /// An empty or unknown layout, the first bad row of the head, no bars, or a timeframe that
    /// cannot be detected.
    pub fn open(input: R, origin: &Path, opts: &ImportOptions) -> Result<Self, ImportError> {
        let err = ImportError::about(origin);
        let delimiter = opts.delimiter.unwrap_or(b',');
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(CsvInput::new(input, delimiter, MAX_RECORD_BYTES));
        let mut first = ::csv::StringRecord::new();
        match reader.read_record(&mut first) {
            Ok(true) => {}
            Ok(false) => return Err(err(None, None, "the file is empty".into())),
            Err(e) => return Err(csv_error(origin, &e, Some(1))),
        }
        let (format, cols, pending) =
            layout(first, opts, delimiter).map_err(|r| err(Some(1), None, r))?;
        let mut s = CandleStream {
            origin: origin.to_path_buf(),
            reader,
            rec: ::csv::StringRecord::new(),
            cols,
            format,
            timeframe: opts.timeframe.unwrap_or(Timeframe::W1),
            simulated: false,
            range: opts.range,
            head: Vec::new().into_iter(),
            partial_times: Vec::new(),
            partial_skipped: 0,
            prev: None,
            sorted: true,
            gaps: Vec::new(),
            bars: 0,
            first: None,
            last: None,
        };
        // The head, raw (in file order), with the first record when it is a bar.
        let mut head: Vec<(Row, bool)> = Vec::new();
        if let Some(rec) = pending {
            s.raw(&rec, &mut head)?;
        }
        let mut rec = ::csv::StringRecord::new();
        while head.len() < HEAD_BARS {
            if !s.reader.read_record(&mut rec).map_err(|e| s.not_csv(&e))? {
                break;
            }
            s.raw(&rec, &mut head)?;
        }
        if head.is_empty() {
            return Err(err(None, None, "no bars in the file".into()));
        }
        s.simulated = head[0].1;
        let rows: Vec<Row> = head.into_iter().map(|(r, _)| r).collect();
        // Times out of range first (with the longest bar until the timeframe is known): a bar
        // dated in the year 3000 is the error, not the spacing it makes.
        check_range(&rows, s.timeframe, &s.range)
            .map_err(|(line, r)| err(Some(line), Some("time"), r))?;
        if opts.timeframe.is_none() {
            let mut sorted = rows.clone();
            sorted.sort_by_key(|r| r.candle.open_time);
            check_unique(&sorted).map_err(|(line, r)| err(Some(line), Some("time"), r))?;
            s.timeframe = detect_timeframe(&sorted).map_err(|r| err(None, Some("time"), r))?;
        }
        s.head = rows.into_iter();
        Ok(s)
    }

    #[must_use]
    pub fn format(&self) -> Format {
        self.format
    }

    #[must_use]
    pub fn timeframe(&self) -> Timeframe {
        self.timeframe
    }

    /// The file marks its bars simulated (decided by its first bar; the rest must agree).
    #[must_use]
    pub fn simulated(&self) -> bool {
        self.simulated
    }

    fn not_csv(&self, e: &::csv::Error) -> ImportError {
        csv_error(&self.origin, e, None)
    }

    /// Parse one record into `head` (bars only; partial rows counted and remembered).
    fn raw(
        &mut self,
        rec: &::csv::StringRecord,
        head: &mut Vec<(Row, bool)>,
    ) -> Result<(), ImportError> {
        let line = rec.position().map_or(0, ::csv::Position::line);
        match parse_row(rec, &self.cols).map_err(|(field, reason)| {
            ImportError::about(&self.origin)(Some(line), field, reason)
        })? {
            Parsed::Blank => {}
            Parsed::Partial(t) => self.partial(t),
            Parsed::Bar { candle, sim } => head.push((Row { line, candle }, sim)),
        }
        Ok(())
    }

    fn partial(&mut self, t: Option<Timestamp>) {
        self.partial_skipped += 1;
        // Its time is known, so it is not a gap (the bar was still open when written).
        if let Some(t) = t {
            self.partial_times.push(t);
            self.follow(t, 0);
        }
    }

    /// Track order and gaps with the next time in file order.
    fn follow(&mut self, t: Timestamp, line: u64) -> Option<(u64, u64)> {
        let mut repeated = None;
        if let Some((p, pline)) = self.prev {
            if t == p && line != 0 && pline != 0 {
                repeated = Some((pline, line));
            } else if t < p {
                self.sorted = false;
            } else if self.sorted {
                self.gaps
                    .extend(find_gaps([p, t].into_iter(), self.timeframe));
            }
        }
        self.prev = Some((t, line));
        repeated
    }

    fn fail(&self, line: u64, field: &str, reason: String) -> ImportError {
        ImportError {
            path: self.origin.clone(),
            line: Some(line),
            field: Some(field.to_string()),
            reason,
        }
    }

    /// Check a bar against the timeframe, range and marking, and account for it.
    fn accept(&mut self, row: &Row, sim: Option<bool>) -> Result<(), ImportError> {
        let t = row.candle.open_time;
        if let Some(why) = self.range.refuse(t, self.timeframe.duration_ms()) {
            return Err(self.fail(row.line, "time", why));
        }
        if !self.timeframe.is_aligned(t) {
            let why = format!(
                "{t} is not aligned to {} bars (expected a bar open time such as {})",
                self.timeframe,
                self.timeframe.floor(t)
            );
            return Err(self.fail(row.line, "time", why));
        }
        if sim.is_some_and(|sim| sim != self.simulated) {
            let why = "the file mixes simulated and real bars".to_string();
            return Err(self.fail(row.line, "simulated", why));
        }
        if let Some((a, b)) = self.follow(t, row.line) {
            return Err(self.fail(b, "time", format!("{t} appears twice (lines {a} and {b})")));
        }
        self.bars += 1;
        self.first = Some(self.first.map_or(t, |f| f.min(t)));
        self.last = Some(self.last.map_or(t, |l| l.max(t)));
        Ok(())
    }

    /// The next bar, checked; `None` at the end of the file.
    pub fn next_row(&mut self) -> Option<Result<Row, ImportError>> {
        if let Some(row) = self.head.next() {
            return Some(self.accept(&row, None).map(|()| row));
        }
        loop {
            match self.reader.read_record(&mut self.rec) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(Err(self.not_csv(&e))),
            }
            let line = self.rec.position().map_or(0, ::csv::Position::line);
            let parsed = match parse_row(&self.rec, &self.cols) {
                Ok(p) => p,
                Err((field, reason)) => {
                    return Some(Err(ImportError::about(&self.origin)(
                        Some(line),
                        field,
                        reason,
                    )));
                }
            };
            match parsed {
                Parsed::Blank => {}
                Parsed::Partial(t) => self.partial(t),
                Parsed::Bar { candle, sim } => {
                    let row = Row { line, candle };
                    return Some(self.accept(&row, Some(sim)).map(|()| row));
                }
            }
        }
    }

    /// What was read, once [`CandleStream::next_row`] has returned `None`.
    #[must_use]
    pub fn summary(&self) -> StreamSummary {
        StreamSummary {
            bars: self.bars,
            partial_skipped: self.partial_skipped,
            first: self.first,
            last: self.last,
            gaps: self.sorted.then(|| self.gaps.clone()),
        }
    }
}
