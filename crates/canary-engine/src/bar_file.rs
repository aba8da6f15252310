//! A bar file stored whole: the setup the benchmarks and the server's tests share with any
//! tool that wants a file's bars in a store without the command line's streaming import.

use canary_store::prelude::*;
use std::path::Path;

use canary_ingest::csv::{ImportOptions, read_candles};
use canary_model::{Symbol, Timestamp};
use canary_store::{InsertReport, NewCandle, Revisions, Source, Stores};

use crate::EngineError;

/// Read a candle file (any layout `canary import` reads) and store its bars under `symbol`,
/// each available at its close, the source named by the file's name and marked simulated when
/// the file says so.
///
/// # Errors
/// The file does not read (its error names the line), or the store refuses the write.
pub fn store_bar_file(
    store: &mut dyn Stores,
    path: &Path,
    symbol: &Symbol,
    ingested_at: Timestamp,
) -> Result<InsertReport, EngineError> {
    let parsed = read_candles(path, &ImportOptions::default())
        .map_err(|e| EngineError::param("file", path.display(), &e.to_string()))?;
    let tf = parsed.timeframe;
    let rows: Vec<NewCandle> = parsed
        .rows
        .iter()
        .map(|r| NewCandle {
            candle: r.candle,
            available_at: tf.close_of(r.candle.open_time),
            source_bars: None,
        })
        .collect();
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    );
    let source = if parsed.simulated {
        Source::sim(&name)
    } else {
        Source::real(&name)
    };
    Ok(store.insert_candles(
        symbol,
        tf,
        source,
        ingested_at,
        &rows,
        Revisions::Keep,
        |_| {},
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_stored_whole_and_a_broken_one_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = canary_store::open(&dir.path().join("b.db")).unwrap();
        let sym = Symbol::new("BTCUSDT").unwrap();
        let good = dir.path().join("good.csv");
        std::fs::write(
            &good,
            "time,open,high,low,close,volume\n2026-01-01,10,11,9,10,1\n2026-01-02,10,12,9,11,1\n",
        )
        .unwrap();
        let now = Timestamp::parse("2026-02-01T00:00:00Z").unwrap();
        let r = store_bar_file(&mut *store, &good, &sym, now).unwrap();
        assert_eq!(r.inserted, 2);
        let info = store.series().unwrap();
        assert_eq!((info[0].bars, info[0].sources.as_str()), (2, "good.csv"));
        let bad = dir.path().join("bad.csv");
        std::fs::write(
            &bad,
            "time,open,high,low,close,volume\n2026-01-03,10,11,9,10,1\n2026-01-04,10,9,9.5,10,1\n",
        )
        .unwrap();
        let e = store_bar_file(&mut *store, &bad, &sym, now)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.csv:3"), "{e}");
        assert_eq!(
            store.series().unwrap()[0].bars,
            2,
            "nothing of the bad file stored"
        );
    }
}
