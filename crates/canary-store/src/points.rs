//! Dated values of named series (network series, derivatives, markets): one table shape, one
//! write record, one as-of read and one listing for all.

use canary_model::Timestamp;

use crate::sql::{Db, Dialect, Tx, args};
use crate::write::{self, Record, Revisions, Stored, unwrap_store};
use crate::{InsertReport, Source, StoreError};

/// One value of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub time: Timestamp,
    pub value: f64,
    pub available_at: Timestamp,
}

/// A table of points: `(series, time, value, source, available_at, ingested_at)`, keyed by
/// `(series, time, available_at)`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Table {
    Network,
    Derivatives,
    Markets,
}

impl Table {
    const fn name(self) -> &'static str {
        match self {
            Table::Network => "network_points",
            Table::Derivatives => "derivative_points",
            Table::Markets => "market_points",
        }
    }

    /// The catalog of series and sources kept beside the values, if the table has one.
    const fn catalog(self) -> Option<&'static str> {
        match self {
            Table::Network => None,
            Table::Derivatives => Some("derivative_catalog"),
            Table::Markets => Some("market_catalog"),
        }
    }

    /// Why a value may not be stored in this series, if it may not.
    fn refuse(self, series: &str, p: &Point) -> Option<String> {
        let v = p.value;
        match self {
            Table::Network => {
                match canary_model::network::NetworkSeries::from_stored_name(series) {
                    Some(s) => s.refuse(v),
                    None => (!v.is_finite()).then(|| format!("{v} is not a finite number")),
                }
            }
            Table::Derivatives => {
                let s = match series.parse::<canary_model::derivatives::DerivSeries>() {
                    Ok(s) => s,
                    Err(e) => return Some(e.to_string()),
                };
                if s.to_string() != series {
                    return Some(format!("the series is written {s}"));
                }
                let known = s.available_at(p.time);
                if p.available_at < known {
                    return Some(format!(
                        "available at {} is before {known}, when a {} value at {} can be known",
                        p.available_at, s.kind, p.time
                    ));
                }
                s.kind.refuse(v)
            }
            Table::Markets => {
                let s = match series.parse::<canary_model::markets::MarketSeries>() {
                    Ok(s) => s,
                    Err(e) => return Some(e.to_string()),
                };
                if s.to_string() != series {
                    return Some(format!("the series is written {s}"));
                }
                let known = match s.available_at(p.time) {
                    Ok(k) => k,
                    Err(e) => return Some(e.to_string()),
                };
                if p.available_at < known {
                    return Some(format!(
                        "available at {} is before {known}, when its day's value can be known",
                        p.available_at
                    ));
                }
                s.field.refuse(v)
            }
        }
    }
}

/// A value of one series, as the write routine sees it.
struct PointRecord<'a> {
    table: Table,
    series: &'a str,
    point: &'a Point,
}

impl Record for PointRecord<'_> {
    type Values = f64;
    const VERSIONED: bool = true;

    fn latest(&self, tx: &Db) -> Result<Option<Stored<f64>>, StoreError> {
        // Every version, the latest picked here (see the candles' lookup: ORDER BY would
        // prepare the statement again at every call on SQLite).
        let mut latest: Option<Stored<f64>> = None;
        tx.each(
            &format!(
                "SELECT value, source, available_at, ingested_at FROM {}
                 WHERE series = ?1 AND time = ?2",
                self.table.name()
            ),
            args![self.series, self.point.time.millis()],
            |r| {
                let available_at: i64 = r.get(2)?;
                if latest
                    .as_ref()
                    .is_none_or(|v| available_at > v.available_at)
                {
                    latest = Some(Stored {
                        values: r.get(0)?,
                        source: r.get(1)?,
                        available_at,
                        ingested_at: r.get(3)?,
                    });
                }
                Ok(true)
            },
        )?;
        Ok(latest)
    }

    fn same(&self, stored: &f64) -> bool {
        stored.to_bits() == self.point.value.to_bits()
    }

    fn available_at(&self) -> i64 {
        self.point.available_at.millis()
    }

    fn put(
        &self,
        tx: &Db,
        source: &str,
        available_at: i64,
        ingested_at: i64,
    ) -> Result<(), StoreError> {
        tx.exec(
            &format!(
                "INSERT INTO {} (series, time, value, source, available_at, ingested_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                self.table.name()
            ),
            args![
                self.series,
                self.point.time.millis(),
                self.point.value,
                source,
                available_at,
                ingested_at
            ],
        )?;
        if let Some(catalog) = self.table.catalog() {
            tx.exec(
                &format!(
                    "INSERT INTO {catalog} (series, source, first_available)
                     VALUES (?1, ?2, ?3)
                     ON CONFLICT (series, source) DO UPDATE SET first_available =
                         CASE WHEN excluded.first_available < {catalog}.first_available
                              THEN excluded.first_available ELSE {catalog}.first_available END"
                ),
                args![self.series, source, available_at],
            )?;
        }
        Ok(())
    }

    fn invalid(&self) -> Option<(String, String)> {
        let why = self.table.refuse(self.series, self.point)?;
        Some((format!("{} value at {}", self.series, self.point.time), why))
    }

    fn describe(&self, stored: &f64) -> (String, String, String) {
        (
            format!("{} value at {}", self.series, self.point.time),
            stored.to_string(),
            self.point.value.to_string(),
        )
    }
}

/// Insert values of several series in one transaction (see [`crate::NetworkStore`]).
pub(crate) fn insert(
    tx: Tx<'_>,
    table: Table,
    series: &[(&str, &[Point])],
    source: Source<'_>,
    ingested_at: Timestamp,
    revisions: Revisions,
) -> Result<InsertReport, StoreError> {
    crate::register_source(&tx, source)?;
    let records = series
        .iter()
        .flat_map(|(name, points)| {
            points.iter().map(move |point| PointRecord {
                table,
                series: name,
                point,
            })
        })
        .enumerate()
        .map(|(i, r)| Ok::<_, std::convert::Infallible>((i as u64, r)));
    let report = write::insert(
        &tx,
        records,
        source.name,
        crate::stamp(&tx, ingested_at)?,
        revisions,
        |_| {},
    )
    .map_err(unwrap_store)?;
    tx.commit()?;
    Ok(report)
}

/// The keys of typed series, paired with their points as [`insert`] takes them.
pub(crate) fn keyed<'a, S: std::fmt::Display>(
    series: &[(&S, &'a [Point])],
) -> (Vec<String>, Vec<&'a [Point]>) {
    series.iter().map(|(s, p)| (s.to_string(), *p)).unzip()
}

/// As [`read`], the values from `from` on, found by the key (series, then time).
pub(crate) fn read_from(
    db: &Db,
    table: Table,
    series: &str,
    from: Timestamp,
    asof: Option<Timestamp>,
) -> Result<Vec<(Timestamp, f64)>, StoreError> {
    latest_values(db, table, series, Some(from), asof)
}

/// The latest version of each value of a series available at `asof`, in time order.
pub(crate) fn read(
    db: &Db,
    table: Table,
    series: &str,
    asof: Option<Timestamp>,
) -> Result<Vec<(Timestamp, f64)>, StoreError> {
    latest_values(db, table, series, None, asof)
}

/// The latest version available at `asof` of each value of a series from `from` on.
fn latest_values(
    db: &Db,
    table: Table,
    series: &str,
    from: Option<Timestamp>,
    asof: Option<Timestamp>,
) -> Result<Vec<(Timestamp, f64)>, StoreError> {
    let name = table.name();
    let sql = match db.dialect() {
        // SQLite returns the row's other columns from the row holding the MAX().
        Dialect::Sqlite => format!(
            "SELECT time, value, MAX(available_at) FROM {name}
             WHERE series = ?1 AND time >= ?3 AND available_at <= ?2 GROUP BY time ORDER BY time"
        ),
        Dialect::Postgres => format!(
            "SELECT DISTINCT ON (time) time, value FROM {name}
             WHERE series = ?1 AND time >= ?3 AND available_at <= ?2
             ORDER BY time, available_at DESC"
        ),
    };
    db.all(
        &sql,
        args![
            series,
            asof.map_or(i64::MAX, Timestamp::millis),
            from.map_or(i64::MIN, Timestamp::millis)
        ],
        |r| Ok((Timestamp::from_millis(r.get(0)?), r.get::<f64>(1)?)),
    )
}

/// A stored series as of a time: its key, first and last time, and the sources that wrote it.
struct Listed {
    pub key: String,
    pub first: Timestamp,
    pub last: Timestamp,
    /// Every source that wrote a value, sorted.
    pub sources: Vec<String>,
}

/// A stored series and what it holds as of a time (derivatives and market series alike).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesListing<S> {
    pub series: S,
    /// The first and last time (a market series: day) with a value known then.
    pub first: Timestamp,
    pub last: Timestamp,
    /// Every source that wrote a value, sorted.
    pub sources: Vec<String>,
}

/// [`list`], each key read as a series of `S`; `what` names the kind in an error about a
/// stored key that is not one.
pub(crate) fn list_series<S>(
    db: &Db,
    table: Table,
    asof: Option<Timestamp>,
    what: &str,
) -> Result<Vec<SeriesListing<S>>, StoreError>
where
    S: std::str::FromStr,
    S::Err: std::fmt::Display,
{
    list(db, table, asof)?
        .into_iter()
        .map(|l| {
            let series = l.key.parse().map_err(|e: S::Err| StoreError::Corrupt {
                what: format!("{what} {}", canary_model::excerpt::quoted(&l.key)),
                reason: e.to_string(),
            })?;
            Ok(SeriesListing {
                series,
                first: l.first,
                last: l.last,
                sources: l.sources,
            })
        })
        .collect()
}

/// Every series of a table with a catalog that has values available at `asof`, in key order:
/// the series and their sources from the catalog, each series' first and last value known
/// then by a seek on its key (the values are keyed by series, then time).
fn list(db: &Db, table: Table, asof: Option<Timestamp>) -> Result<Vec<Listed>, StoreError> {
    let at = asof.map_or(i64::MAX, Timestamp::millis);
    let Some(catalog) = table.catalog() else {
        return Ok(Vec::new());
    };
    let mut by_series = std::collections::BTreeMap::<String, Vec<String>>::new();
    db.each(
        &format!(
            "SELECT series, source FROM {catalog} WHERE first_available <= ?1
             ORDER BY series, source"
        ),
        args![at],
        |r| {
            by_series.entry(r.get(0)?).or_default().push(r.get(1)?);
            Ok(true)
        },
    )?;
    let seek_sql = |order: &str| {
        format!(
            "SELECT time FROM {} WHERE series = ?1 AND available_at <= ?2
             ORDER BY time {order} LIMIT 1",
            table.name()
        )
    };
    let (first, last) = (seek_sql("ASC"), seek_sql("DESC"));
    let mut out = Vec::new();
    for (key, sources) in by_series {
        let seek = |sql: &str| db.one(sql, args![&key, at], |r| r.get::<i64>(0));
        let (Some(f), Some(l)) = (seek(&first)?, seek(&last)?) else {
            continue;
        };
        out.push(Listed {
            key,
            first: Timestamp::from_millis(f),
            last: Timestamp::from_millis(l),
            sources,
        });
    }
    Ok(out)
}

/// Every version of every value of a series available at `asof`, in the order they became
/// available (then time).
pub(crate) fn versions(
    db: &Db,
    table: Table,
    series: &str,
    asof: Option<Timestamp>,
) -> Result<Vec<Point>, StoreError> {
    db.all(
        &format!(
            "SELECT time, value, available_at FROM {}
             WHERE series = ?1 AND available_at <= ?2 ORDER BY available_at, time",
            table.name()
        ),
        args![series, asof.map_or(i64::MAX, Timestamp::millis)],
        |r| {
            Ok(Point {
                time: Timestamp::from_millis(r.get(0)?),
                value: r.get(1)?,
                available_at: Timestamp::from_millis(r.get(2)?),
            })
        },
    )
}
