//! `canary indicators`: render the engine's indicator series, over stored bars or a file.

use canary_engine::Session;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use canary_engine::{IndicatorsParams, Input, MarketBars};
use canary_ingest::csv::{ImportOptions, TimeRange, read_candles};
use canary_model::{SourceKind, Symbol, Timestamp};

use crate::cli::{IndicatorsArgs, OutputFormat};
use crate::output::{exact, human};

/// Bars read straight from a CSV file, as an input the engine takes: only bars closed by
/// `asof` and opened by `to`.
fn from_file(file: &Path, a: &IndicatorsArgs, asof: Timestamp) -> Result<Input<MarketBars>> {
    let parsed = read_candles(
        file,
        &ImportOptions {
            delimiter: a.delimiter,
            timeframe: a.tf,
            map: Vec::new(),
            range: TimeRange::until(super::now()),
        },
    )
    .map_err(super::ingest_hint)?;
    let tf = parsed.timeframe;
    let candles: Vec<_> = parsed
        .rows
        .iter()
        .map(|r| r.candle)
        .filter(|c| tf.close_of(c.open_time) <= asof)
        .filter(|c| a.to.is_none_or(|t| c.open_time <= t))
        .collect();
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let symbol = Symbol::new(&stem).or_else(|_| Symbol::new("FILE"))?;
    Ok(Input {
        series: format!("{symbol} {tf}"),
        source: file.display().to_string(),
        kind: if parsed.simulated {
            SourceKind::Sim
        } else {
            SourceKind::Real
        },
        last_time: candles.last().map(|c| tf.close_of(c.open_time)),
        age_ms: candles
            .last()
            .map(|c| asof.millis() - tf.close_of(c.open_time).millis()),
        warnings: Vec::new(),
        value: MarketBars {
            symbol,
            timeframe: tf,
            candles,
        },
    })
}

pub fn run(session: &Session, a: &IndicatorsArgs) -> Result<()> {
    let asof = a.at.asof.unwrap_or_else(|| session.now());
    let shown_last = a.last.or(if a.format == OutputFormat::Table {
        Some(20)
    } else {
        None
    });
    let r = if let Some(file) = &a.input {
        let bars = from_file(file, a, asof)?;
        canary_engine::indicators_of(&bars, &a.ind, asof)
            .map_err(super::hint)
            .with_context(|| format!("--ind {}", a.ind))?
    } else {
        let symbol = a
            .symbol
            .clone()
            .ok_or_else(|| anyhow!("give --symbol S --tf TF, or --input FILE"))?;
        let timeframe =
            a.tf.ok_or_else(|| anyhow!("--symbol needs --tf (one of 1m 5m 15m 1h 4h 1d 1w)"))?;
        let p = IndicatorsParams {
            symbol,
            timeframe,
            spec: a.ind.clone(),
            to: a.to,
            // Only the rows printed are needed, unless --from asks for earlier ones.
            last: if a.from.is_none() { shown_last } else { None },
        };
        super::with_context(session, Some(asof), |ctx| {
            canary_engine::indicators(ctx, &p)
        })
        .with_context(|| format!("--ind {}", a.ind))?
    };
    let body = &r.body;
    let series = &body.columns;
    let times = &body.times;
    let mut idx: Vec<usize> = (0..times.len())
        .filter(|&i| a.from.is_none_or(|f| times[i] >= f))
        .collect();
    let last = shown_last;
    let total = idx.len();
    if let Some(n) = last {
        idx = idx.split_off(idx.len().saturating_sub(n));
    }
    if r.simulated {
        crate::output::banner();
    }
    if a.format != OutputFormat::Json {
        for w in &r.warnings {
            eprintln!("WARNING {w}");
        }
    }
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    match a.format {
        OutputFormat::Csv => {
            write!(w, "time")?;
            for (name, _) in series {
                write!(w, ",{name}")?;
            }
            writeln!(w)?;
            for &i in &idx {
                write!(w, "{}", times[i])?;
                for (_, s) in series {
                    write!(w, ",{}", exact(s[i]))?;
                }
                writeln!(w)?;
            }
        }
        OutputFormat::Json => {
            let doc = canary_engine::indicators_json(&r, &idx);
            serde_json::to_writer_pretty(&mut w, &doc)?;
            writeln!(w)?;
        }
        OutputFormat::Table => {
            let mut t = crate::output::table();
            let mut header = vec!["time (open, UTC)".to_string(), "close".to_string()];
            header.extend(series.iter().map(|(n, _)| n.clone()));
            t.set_header(header);
            for &i in &idx {
                let mut row = vec![times[i].to_string(), human(body.close[i])];
                row.extend(series.iter().map(|(_, s)| human(s[i])));
                t.add_row(row);
            }
            writeln!(w, "{} {}, as of {}", body.source, body.timeframe, r.as_of)?;
            writeln!(w, "{t}")?;
            if idx.len() < total {
                writeln!(
                    w,
                    "(last {} of {total} rows; --last N or --format csv for more)",
                    idx.len()
                )?;
            }
        }
        f @ (OutputFormat::Md | OutputFormat::Html) => return Err(f.unavailable()),
    }
    w.flush()?;
    Ok(())
}
