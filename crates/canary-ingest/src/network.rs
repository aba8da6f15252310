//! Network-data CSV import: daily hash rate, difficulty, block subsidy, fleet efficiency and
//! fees. Header-mapped like candle files (names matched case-insensitively, `--map` overrides),
//! one row per UTC day, each value validated; the first bad row stops the import with
//! `FILE:LINE: column: reason`. An empty cell means "not reported" and is skipped.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use canary_model::network::NetworkSeries;
use canary_model::{Timeframe, Timestamp};

use canary_model::excerpt::{excerpt, quoted};

use crate::csv::ImportError;

/// Which kind of network file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkKind {
    Hashrate,
    Difficulty,
    Subsidy,
    FleetEfficiency,
    Fees,
}

impl FromStr for NetworkKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "hashrate" => Ok(NetworkKind::Hashrate),
            "difficulty" => Ok(NetworkKind::Difficulty),
            "subsidy" => Ok(NetworkKind::Subsidy),
            "fleet-efficiency" => Ok(NetworkKind::FleetEfficiency),
            "fees" => Ok(NetworkKind::Fees),
            _ => Err(format!(
                "unknown series {s:?}: use hashrate, difficulty, subsidy, fleet-efficiency or fees"
            )),
        }
    }
}

/// One stored series a file kind provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesSpec {
    pub series: NetworkSeries,
    /// Column names recognised, most preferred first.
    pub aliases: &'static [&'static str],
    pub required: bool,
}

impl NetworkKind {
    /// The series this kind of file provides.
    #[must_use]
    pub fn series(self) -> &'static [SeriesSpec] {
        match self {
            NetworkKind::Hashrate => &[SeriesSpec {
                series: NetworkSeries::HashrateHs,
                aliases: &[
                    "hash rate",
                    "hashrate",
                    "hash_rate",
                    "hashrate_hs",
                    "hashrate_ths",
                    "hashrate_phs",
                    "hashrate_ehs",
                    "value",
                ],
                required: true,
            }],
            NetworkKind::Difficulty => &[SeriesSpec {
                series: NetworkSeries::Difficulty,
                aliases: &["difficulty", "value"],
                required: true,
            }],
            NetworkKind::Subsidy => &[
                SeriesSpec {
                    series: NetworkSeries::SubsidyBtc,
                    aliases: &["btc", "subsidy_btc", "subsidy", "value"],
                    required: true,
                },
                SeriesSpec {
                    series: NetworkSeries::SubsidyUsd,
                    aliases: &["usd", "subsidy_usd"],
                    required: false,
                },
            ],
            NetworkKind::FleetEfficiency => &[
                SeriesSpec {
                    series: NetworkSeries::FleetEfficiencyEstimate,
                    aliases: &[
                        "estimated efficiency, j/th",
                        "estimate",
                        "estimated",
                        "efficiency",
                        "value",
                    ],
                    required: true,
                },
                SeriesSpec {
                    series: NetworkSeries::FleetEfficiencyLower,
                    aliases: &["lower bound efficiency, j/th", "lower", "lower_bound"],
                    required: false,
                },
                SeriesSpec {
                    series: NetworkSeries::FleetEfficiencyUpper,
                    aliases: &["upper bound efficiency, j/th", "upper", "upper_bound"],
                    required: false,
                },
            ],
            // Per block or per day: a file gives either (or both); one is needed.
            NetworkKind::Fees => &[
                SeriesSpec {
                    series: NetworkSeries::FeesBtc,
                    aliases: &["fees_btc", "fees", "fee", "avg_fees_per_block", "value"],
                    required: false,
                },
                SeriesSpec {
                    series: NetworkSeries::FeesTotalBtc,
                    aliases: &["fees_total_btc", "total_fees_btc", "fees_total"],
                    required: false,
                },
            ],
        }
    }
}

const TIME_ALIASES: &[&str] = &["datetime", "date", "time", "timestamp", "day", "date_utc"];

/// One value read: (file line, day, value).
pub type Value = (u64, Timestamp, f64);

/// Values read from a file: per series, in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedNetwork {
    pub series: Vec<(SeriesSpec, Vec<Value>)>,
    /// How columns were read (a unit converted).
    pub notes: Vec<String>,
}

/// The multiplier to H/s a hash-rate column's name states (`hashrate_ths`, `Hash rate
/// (EH/s)`), and the unit; `None` when it states none (H/s).
fn hash_unit(name: &str) -> Option<(f64, &'static str)> {
    let n = name.to_ascii_lowercase();
    [
        ("gh", 1e9, "GH/s"),
        ("th", 1e12, "TH/s"),
        ("ph", 1e15, "PH/s"),
        ("eh", 1e18, "EH/s"),
    ]
    .into_iter()
    .find(|(p, _, _)| n.ends_with(&format!("_{p}s")) || n.contains(&format!("{p}/s")))
    .map(|(_, x, u)| (x, u))
}

/// Read and validate a network file. `map` overrides columns: `time=COL`, `value=COL` (the
/// first series) or `SERIES=COL`.
///
/// # Errors
/// An unreadable file, a missing column, or the first invalid row.
pub fn read_network(
    path: &Path,
    kind: NetworkKind,
    map: &[(String, String)],
    range: &crate::csv::TimeRange,
) -> Result<ParsedNetwork, ImportError> {
    let file = crate::lines::open(path)
        .map_err(|e| ImportError::about(path)(None, None, format!("cannot read the file: {e}")))?;
    read_network_from(file, path, kind, map, range)
}

/// As [`read_network`], from any reader (`origin` names it in errors).
///
/// # Errors
/// As [`read_network`].
pub fn read_network_from(
    input: impl std::io::Read,
    origin: &Path,
    kind: NetworkKind,
    map: &[(String, String)],
    range: &crate::csv::TimeRange,
) -> Result<ParsedNetwork, ImportError> {
    let path = origin;
    let err = ImportError::about(path);
    let (mut reader, header) = crate::csv::comma_separated(input, path, "network")?;
    let lower: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
    let find = |name: &str| lower.iter().position(|h| h == &name.to_ascii_lowercase());
    let specs = kind.series();
    let override_for = |key: &str| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, c)| c.as_str())
    };
    let col = |key: &str, aliases: &[&str]| -> Result<Option<usize>, ImportError> {
        if let Some(c) = override_for(key) {
            return find(c).map(Some).ok_or_else(|| {
                err(
                    Some(1),
                    None,
                    format!(
                        "column map {key}={c}: no column {} in the header ({})",
                        quoted(c),
                        excerpt(&header.join(", "))
                    ),
                )
            });
        }
        Ok(aliases.iter().find_map(|a| find(a)))
    };
    let time_col = col("time", TIME_ALIASES)?.ok_or_else(|| {
        err(
            Some(1),
            None,
            format!(
                "no time column in the header ({}); name it in the column map (time=COLUMN)",
                excerpt(&header.join(", "))
            ),
        )
    })?;
    let mut cols = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let key_col = if i == 0 && override_for("value").is_some() {
            col("value", spec.aliases)?
        } else {
            col(spec.series.name(), spec.aliases)?
        };
        match key_col {
            Some(c) if c != time_col => cols.push((*spec, c)),
            _ if spec.required => {
                return Err(err(
                    Some(1),
                    None,
                    format!(
                        "no {} column ({}) in the header ({}); name it in the column map ({}=COLUMN)",
                        spec.series,
                        spec.series.unit(),
                        excerpt(&header.join(", ")),
                        spec.series
                    ),
                ));
            }
            _ => {}
        }
    }
    if cols.is_empty() {
        let names: Vec<String> = specs
            .iter()
            .map(|s| format!("{} ({})", s.series, s.series.unit()))
            .collect();
        return Err(err(
            Some(1),
            None,
            format!(
                "no column of {} in the header ({}); name one in the column map (SERIES=COLUMN)",
                names.join(" or "),
                excerpt(&header.join(", "))
            ),
        ));
    }
    let mut notes = Vec::new();
    let scales: Vec<f64> = cols
        .iter()
        .map(|(spec, c)| match (spec.series, hash_unit(&header[*c])) {
            (NetworkSeries::HashrateHs, Some((x, unit))) => {
                notes.push(format!(
                    "{} read as {unit} and stored in H/s (× {x:e})",
                    quoted(&header[*c])
                ));
                x
            }
            _ => 1.0,
        })
        .collect();
    let mut out: Vec<(SeriesSpec, Vec<Value>)> =
        cols.iter().map(|(s, _)| (*s, Vec::new())).collect();
    let mut seen: BTreeMap<Timestamp, u64> = BTreeMap::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| crate::csv::csv_error(path, &e, None))?;
        let line = rec.position().map_or(0, ::csv::Position::line);
        let t_text = rec.get(time_col).unwrap_or("");
        let t = Timestamp::parse(t_text)
            .map_err(|e| err(Some(line), Some(&header[time_col]), e.to_string()))?;
        if let Some(why) = range.refuse(t, Timeframe::D1.duration_ms()) {
            return Err(err(Some(line), Some(&header[time_col]), why));
        }
        if !Timeframe::D1.is_aligned(t) {
            return Err(err(
                Some(line),
                Some(&header[time_col]),
                format!("{t} is not the start of a UTC day (daily series)"),
            ));
        }
        if let Some(first) = seen.insert(t, line) {
            return Err(err(
                Some(line),
                Some(&header[time_col]),
                format!("{t} appears twice (lines {first} and {line})"),
            ));
        }
        for (((spec, c), (_, values)), scale) in cols.iter().zip(out.iter_mut()).zip(&scales) {
            let text = rec.get(*c).unwrap_or("");
            if text.is_empty() {
                continue;
            }
            let v: f64 = text.parse::<f64>().map_err(|_| {
                err(
                    Some(line),
                    Some(&header[*c]),
                    format!("{} is not a number", quoted(text)),
                )
            })? * scale;
            if let Some(why) = spec.series.refuse(v) {
                return Err(err(Some(line), Some(&header[*c]), why));
            }
            values.push((line, t, v));
        }
    }
    for (_, values) in &mut out {
        values.sort_by_key(|v| v.1);
    }
    if out.iter().all(|(_, v)| v.is_empty()) {
        return Err(err(None, None, "no values in the file".into()));
    }
    Ok(ParsedNetwork { series: out, notes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv::TimeRange;
    use crate::test_file as file;

    #[test]
    fn fees_are_read_per_block_or_per_day_and_one_column_is_needed() {
        let f = file("date_utc,hashrate_ths,fees_total_btc\n2025-11-04,1,\n2025-11-05,1,4.23\n");
        let p = read_network(f.path(), NetworkKind::Fees, &[], &TimeRange::default()).unwrap();
        assert_eq!(p.series.len(), 1);
        assert_eq!(p.series[0].0.series, NetworkSeries::FeesTotalBtc);
        assert_eq!(p.series[0].1.len(), 1, "an empty cell is not reported");
        let f = file("date,fees_btc\n2025-11-05,0.03\n");
        let p = read_network(f.path(), NetworkKind::Fees, &[], &TimeRange::default()).unwrap();
        assert_eq!(p.series[0].0.series, NetworkSeries::FeesBtc);
        let f = file("date,hashrate_ths\n2025-11-05,1\n");
        let e = read_network(f.path(), NetworkKind::Fees, &[], &TimeRange::default()).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.reason.contains("fees_total_btc (BTC/day)"), "{e}");
    }

    #[test]
    fn errors_name_the_physical_line_with_lf_crlf_and_quoted_newlines() {
        for eol in ["\n", "\r\n"] {
            let text = [
                "Date,difficulty,note",
                "2025-01-01,1.5,a",
                &format!("2025-01-02,2.5,\"two{eol}lines\""),
                "2025-01-03,-1,c",
            ]
            .join(eol)
                + eol;
            let f = file(&text);
            let e = read_network(
                f.path(),
                NetworkKind::Difficulty,
                &[],
                &TimeRange::default(),
            )
            .unwrap_err();
            assert_eq!(e.line, Some(5), "{eol:?}: {e}");
        }
    }

    #[test]
    fn reads_subsidy_with_optional_usd_and_names_bad_rows() {
        let f = file(
            "\"DateTime\",\"BTC\",\"USD\"\n\"2009-01-03 00:00:00\",50,\n\"2009-01-04 00:00:00\",100,12.5\n",
        );
        let p = read_network(f.path(), NetworkKind::Subsidy, &[], &TimeRange::default()).unwrap();
        assert_eq!(p.series[0].1.len(), 2);
        assert_eq!(p.series[1].0.series, NetworkSeries::SubsidyUsd);
        assert_eq!(p.series[1].1.len(), 1);
        let f = file("Date,difficulty\n2020-04-11,1.5e13\n2020-04-12,-3\n");
        let e = read_network(
            f.path(),
            NetworkKind::Difficulty,
            &[],
            &TimeRange::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.ends_with(":3: difficulty: -3 is not a finite value ≥ 0"),
            "{e}"
        );
        // Issue 19, item 8: values whose arithmetic would overflow are refused at import.
        let f = file("Date,difficulty\n2020-04-11,1.5e13\n2020-04-12,1e300\n");
        let e = read_network(
            f.path(),
            NetworkKind::Difficulty,
            &[],
            &TimeRange::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(":3: difficulty: 1e300 is above 1e20"), "{e}");
        let f = file("Date,difficulty\n2020-04-11T05:00:00Z,1\n");
        assert!(
            read_network(
                f.path(),
                NetworkKind::Difficulty,
                &[],
                &TimeRange::default()
            )
            .unwrap_err()
            .to_string()
            .contains("start of a UTC day")
        );
        let f = file("when,x\n2020-04-11,1\n");
        let e = read_network(
            f.path(),
            NetworkKind::Hashrate,
            &[("time".into(), "when".into()), ("value".into(), "x".into())],
            &TimeRange::default(),
        )
        .unwrap();
        assert_eq!(e.series[0].1[0].2, 1.0);
    }

    /// A hash-rate column that names its unit is read in it: the Coin Metrics layout gives
    /// TH/s (`hashrate_ths`).
    #[test]
    fn a_hash_rate_in_th_per_second_is_stored_in_h_per_second() {
        let f = file(
            "date_utc,hashrate_ths,difficulty,fees_total_btc\n2026-02-05,1.0157e+09,1.41e+14,3.2\n",
        );
        let p = read_network(f.path(), NetworkKind::Hashrate, &[], &TimeRange::default()).unwrap();
        assert_eq!(p.series[0].1[0].2, 1.0157e21);
        assert!(
            p.notes[0].contains("\"hashrate_ths\" read as TH/s"),
            "{:?}",
            p.notes
        );
        let d = read_network(
            f.path(),
            NetworkKind::Difficulty,
            &[],
            &TimeRange::default(),
        )
        .unwrap();
        assert_eq!(d.series[0].1[0].2, 1.41e14);
        assert!(d.notes.is_empty());
        assert_eq!(hash_unit("Hash rate (EH/s)"), Some((1e18, "EH/s")));
        assert_eq!(hash_unit("hashrate"), None);
    }

    #[test]
    fn days_before_the_genesis_day_or_after_now_are_refused() {
        let now = Timestamp::parse("2026-02-06T05:00:00Z").unwrap();
        let range = TimeRange::until(now);
        for (text, line, why) in [
            (
                "Date,difficulty\n2009-01-03,1\n2008-12-31,1\n",
                3,
                "before 2009-01-03",
            ),
            (
                "Date,difficulty\n2026-02-07,1\n2026-02-08,1\n",
                3,
                "in the future",
            ),
            ("Date,difficulty\n1960-01-01,1\n", 2, "before"),
        ] {
            let e =
                read_network(file(text).path(), NetworkKind::Difficulty, &[], &range).unwrap_err();
            assert_eq!(e.line, Some(line), "{e}");
            assert!(
                e.to_string().contains(why) && e.to_string().contains("Date"),
                "{e}"
            );
        }
    }
}
