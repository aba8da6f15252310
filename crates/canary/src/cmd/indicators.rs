//! `canary indicators`: indicator series from the store or from a file.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use canary_analytics::ta::{IndicatorSpec, Ohlcv, WatchSetBuffers, watch_set};
use canary_ingest::csv::{ImportOptions, read_candles};
use canary_model::{Candle, Timeframe, Timestamp};
use canary_store::{CandleQuery, Store};

use crate::cli::{Format, IndicatorsArgs};
use crate::output::{SIMULATED, exact, human, json_num};

/// Bars to compute over, where they came from, and whether they are simulated.
pub struct Loaded {
    pub candles: Vec<Candle>,
    pub timeframe: Timeframe,
    pub origin: String,
    pub simulated: bool,
}

fn load(db: &Path, a: &IndicatorsArgs) -> Result<Loaded> {
    if let Some(file) = &a.input {
        let parsed = read_candles(
            file,
            &ImportOptions {
                timeframe: a.tf,
                map: Vec::new(),
            },
        )?;
        let tf = parsed.timeframe;
        let candles = parsed
            .rows
            .iter()
            .map(|r| r.candle)
            .filter(|c| {
                a.asof
                    .is_none_or(|t| c.open_time.add_millis(tf.duration_ms()) <= t)
            })
            .filter(|c| a.to.is_none_or(|t| c.open_time <= t))
            .collect();
        return Ok(Loaded {
            candles,
            timeframe: tf,
            origin: file.display().to_string(),
            simulated: parsed.simulated,
        });
    }
    let symbol = a
        .symbol
        .as_ref()
        .ok_or_else(|| anyhow!("give --symbol S --tf TF, or --input FILE"))?;
    let tf =
        a.tf.ok_or_else(|| anyhow!("--symbol needs --tf (one of 1m 5m 15m 1h 4h 1d 1w)"))?;
    let store = Store::open(db)?;
    let q = CandleQuery {
        from: None,
        to: a.to,
        asof: a.asof,
    };
    let rows = store.candles(symbol, tf, &q)?;
    if rows.is_empty() {
        bail!(
            "no {symbol} {tf} bars in {}{}; stored series: {}",
            db.display(),
            a.asof
                .map(|t| format!(" available as of {t}"))
                .unwrap_or_default(),
            super::market::stored_series(&store)?
        );
    }
    Ok(Loaded {
        simulated: rows.iter().any(|r| r.source.contains("sim")),
        candles: rows.into_iter().map(|r| r.candle).collect(),
        timeframe: tf,
        origin: format!("{symbol} {tf} in {}", db.display()),
    })
}

/// Column names and series for `--ind`.
pub fn compute(spec: &str, d: &Ohlcv, tf: Timeframe) -> Result<Vec<(String, Vec<f64>)>> {
    if spec.trim().eq_ignore_ascii_case("watch") {
        let mut w = WatchSetBuffers::with_len(d.len());
        watch_set(&d.high, &d.low, &d.close, tf.bars_per_year(), &mut w)?;
        return Ok(w
            .columns()
            .iter()
            .map(|(n, s)| ((*n).to_string(), s.to_vec()))
            .collect());
    }
    let specs = IndicatorSpec::parse_list(spec)?;
    let mut out = Vec::new();
    for s in specs {
        let cols = s.compute(d, tf.bars_per_year())?;
        out.extend(s.columns().into_iter().zip(cols));
    }
    Ok(out)
}

pub fn run(db: &Path, a: &IndicatorsArgs) -> Result<()> {
    let loaded = load(db, a)?;
    let d = Ohlcv::from_candles(&loaded.candles);
    let series =
        compute(&a.ind, &d, loaded.timeframe).with_context(|| format!("--ind {}", a.ind))?;
    let times: Vec<Timestamp> = loaded.candles.iter().map(|c| c.open_time).collect();
    let mut idx: Vec<usize> = (0..times.len())
        .filter(|&i| a.from.is_none_or(|f| times[i] >= f))
        .collect();
    let last = a.last.or(if a.format == Format::Table {
        Some(20)
    } else {
        None
    });
    let total = idx.len();
    if let Some(n) = last {
        idx = idx.split_off(idx.len().saturating_sub(n));
    }
    if loaded.simulated {
        eprintln!("{SIMULATED}");
    }
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    match a.format {
        Format::Csv => {
            write!(w, "time")?;
            for (name, _) in &series {
                write!(w, ",{name}")?;
            }
            writeln!(w)?;
            for &i in &idx {
                write!(w, "{}", times[i])?;
                for (_, s) in &series {
                    write!(w, ",{}", exact(s[i]))?;
                }
                writeln!(w)?;
            }
        }
        Format::Json => {
            let rows: Vec<serde_json::Value> = idx
                .iter()
                .map(|&i| {
                    let mut m = serde_json::Map::new();
                    m.insert("time".into(), times[i].to_string().into());
                    m.insert("close".into(), json_num(d.close[i]));
                    for (name, s) in &series {
                        m.insert(name.clone(), json_num(s[i]));
                    }
                    serde_json::Value::Object(m)
                })
                .collect();
            let doc = serde_json::json!({
                "source": loaded.origin,
                "timeframe": loaded.timeframe.as_str(),
                "simulated": loaded.simulated,
                "asof": a.asof.map(|t| t.to_string()),
                "columns": series.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
                "rows": rows,
            });
            serde_json::to_writer_pretty(&mut w, &doc)?;
            writeln!(w)?;
        }
        Format::Table => {
            let mut t = crate::output::table();
            let mut header = vec!["time (open, UTC)".to_string(), "close".to_string()];
            header.extend(series.iter().map(|(n, _)| n.clone()));
            t.set_header(header);
            for &i in &idx {
                let mut row = vec![times[i].to_string(), human(d.close[i])];
                row.extend(series.iter().map(|(_, s)| human(s[i])));
                t.add_row(row);
            }
            writeln!(
                w,
                "{}{}",
                loaded.origin,
                a.asof.map(|t| format!(", as of {t}")).unwrap_or_default()
            )?;
            writeln!(w, "{t}")?;
            if idx.len() < total {
                writeln!(
                    w,
                    "(last {} of {total} rows; --last N or --format csv for more)",
                    idx.len()
                )?;
            }
        }
    }
    w.flush()?;
    Ok(())
}
