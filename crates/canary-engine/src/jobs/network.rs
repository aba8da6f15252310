//! Network series into the store: a network file's series, each daily value known from the
//! end of its day; data fetched from a mempool instance — the difficulty epoch, the daily
//! hash-rate history and difficulty adjustments (each value known from the end of its day, or
//! from the adjustment's time), and the fees of the latest blocks (`canary network fetch` and
//! the engine's schedule call this); and a bitcoind node's chain tip, known from its median
//! time.

use std::path::{Path, PathBuf};
use std::time::Duration;

use canary_ingest::bitcoind::BitcoinRpc;
use canary_ingest::csv::{ImportError, TimeRange};
use canary_ingest::mempool::MempoolClient;
use canary_ingest::network::{NetworkKind, ParsedNetwork, read_network};
use canary_model::network::{BlockStats, ChainTip, DifficultyEpoch, NetworkSeries};
use canary_model::{Timeframe, Timestamp};
use canary_store::{InsertReport, Point, Revisions, Source, Stores};

use super::WriteFailed;
use crate::EngineError;

/// A network file read and validated, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkFile {
    path: PathBuf,
    parsed: ParsedNetwork,
}

/// What a network file holds of one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesRead {
    pub series: NetworkSeries,
    /// Values (one a day).
    pub days: usize,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

/// What storing a network file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkImported {
    /// The source the values are stored under.
    pub source: String,
    pub insert: InsertReport,
}

impl NetworkFile {
    /// Read and validate `path` as a file of `kind` (`map` overrides columns: `time=COL`,
    /// `value=COL`, `SERIES=COL`), its times within `range`.
    ///
    /// # Errors
    /// An unreadable file, a missing column, or the first invalid row
    /// (`FILE:LINE: column: reason`).
    pub fn read(
        path: &Path,
        kind: NetworkKind,
        map: &[(String, String)],
        range: &TimeRange,
    ) -> Result<Self, ImportError> {
        Ok(NetworkFile {
            path: path.to_path_buf(),
            parsed: read_network(path, kind, map, range)?,
        })
    }

    /// How its columns were read (a unit converted).
    #[must_use]
    pub fn notes(&self) -> &[String] {
        &self.parsed.notes
    }

    /// Each series the file holds, in the file kind's order.
    #[must_use]
    pub fn series(&self) -> Vec<SeriesRead> {
        self.parsed
            .series
            .iter()
            .map(|(spec, v)| SeriesRead {
                series: spec.series,
                days: v.len(),
                first: v.first().map(|x| x.1),
                last: v.last().map(|x| x.1),
            })
            .collect()
    }

    /// Store every series under `source` (else the file's name), each value available at the
    /// end of its day, in one write.
    ///
    /// # Errors
    /// [`WriteFailed::Conflict`] naming the file's line when a value differs from the stored
    /// one and `revisions` refuses it, or [`WriteFailed::Store`]; nothing is stored.
    pub fn store(
        &self,
        store: &mut dyn Stores,
        source: Option<&str>,
        revisions: Revisions,
        ingested_at: Timestamp,
    ) -> Result<NetworkImported, WriteFailed> {
        let source = source.map_or_else(|| super::file_source(&self.path), str::to_string);
        let points: Vec<(&str, Vec<Point>)> = self
            .parsed
            .series
            .iter()
            .map(|(spec, values)| {
                let pts = values
                    .iter()
                    .map(|&(_, t, v)| Point {
                        time: t,
                        value: v,
                        available_at: Timeframe::D1.close_of(t),
                    })
                    .collect();
                (spec.series.name(), pts)
            })
            .collect();
        let refs: Vec<(&str, &[Point])> = points.iter().map(|(s, p)| (*s, p.as_slice())).collect();
        let insert = store
            .insert_network(&refs, Source::real(&source), ingested_at, revisions)
            .map_err(|e| {
                super::file_write_failed(
                    e,
                    &self.path,
                    self.parsed
                        .series
                        .iter()
                        .flat_map(|(_, v)| v.iter().map(|x| x.0)),
                )
            })?;
        Ok(NetworkImported { source, insert })
    }
}

/// What a mempool fetch stored.
#[derive(Debug, Clone, PartialEq)]
pub struct MempoolFetched {
    pub epoch: DifficultyEpoch,
    pub hashrate_days: usize,
    pub adjustments: usize,
    /// Mean fees per block over the latest blocks, and how many.
    pub mean_fees_btc: Option<f64>,
    pub blocks: usize,
    pub insert: InsertReport,
}

/// Fetch from the mempool instance at `url` (hash-rate history over `period`: `1m`, `3m`,
/// `1y`, `all`) and store it.
///
/// # Errors
/// The source's failure (naming its address), a database error.
pub async fn fetch_mempool(
    store: &mut dyn Stores,
    url: &str,
    period: &str,
    timeout: Duration,
    now: Timestamp,
) -> Result<MempoolFetched, EngineError> {
    let c = MempoolClient::new(url, timeout);
    let epoch = c.difficulty_adjustment().await?;
    let (hashrates, difficulties) = c.hashrate(period).await?;
    let blocks = c.blocks(None).await?;
    let h: Vec<Point> = hashrates
        .iter()
        .map(|x| Point {
            time: x.time,
            value: x.hashrate_hs,
            available_at: Timeframe::D1.close_of(x.time),
        })
        .collect();
    let d: Vec<Point> = difficulties
        .iter()
        .map(|x| Point {
            time: x.time,
            value: x.difficulty,
            available_at: x.time,
        })
        .collect();
    let (hs, ds) = (
        NetworkSeries::HashrateHs.stored_name(Some("mempool")),
        NetworkSeries::Difficulty.stored_name(Some("mempool")),
    );
    let insert = store.insert_network(
        &[(&hs, &h), (&ds, &d)],
        Source::real(url),
        now,
        Revisions::Keep,
    )?;
    let fees: Vec<f64> = blocks.iter().filter_map(|b| b.fees_btc).collect();
    let mean_fees_btc = (!fees.is_empty()).then(|| fees.iter().sum::<f64>() / fees.len() as f64);
    Ok(MempoolFetched {
        epoch,
        hashrate_days: h.len(),
        adjustments: d.len(),
        mean_fees_btc,
        blocks: fees.len(),
        insert,
    })
}

/// What a bitcoind fetch read and stored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BitcoindFetched {
    pub tip: ChainTip,
    /// The tip block's statistics.
    pub stats: BlockStats,
    pub insert: InsertReport,
}

/// Read the chain tip and its block's statistics from the node at `url` (JSON-RPC with
/// `user` and `password`) and store its difficulty and, when the node gives one, its hash-rate
/// estimate (`bitcoind:difficulty`, `bitcoind:hashrate_hs`), each known from the tip's median
/// time (the block's time when the node gives none).
///
/// # Errors
/// The node's failure (naming its address), a database error.
pub async fn fetch_bitcoind(
    store: &mut dyn Stores,
    url: &str,
    user: &str,
    password: &str,
    timeout: Duration,
    now: Timestamp,
) -> Result<BitcoindFetched, EngineError> {
    let rpc = BitcoinRpc::new(url, user, password, timeout);
    let tip = rpc.chain_tip().await?;
    let stats = rpc.block_stats(tip.height).await?;
    let t = tip.median_time.unwrap_or(stats.time);
    let at_tip = |value| {
        vec![Point {
            time: t,
            value,
            available_at: t,
        }]
    };
    let mut series = vec![(
        NetworkSeries::Difficulty.stored_name(Some("bitcoind")),
        at_tip(tip.difficulty),
    )];
    if let Some(h) = tip.hashrate_hs {
        series.push((
            NetworkSeries::HashrateHs.stored_name(Some("bitcoind")),
            at_tip(h),
        ));
    }
    let refs: Vec<(&str, &[Point])> = series
        .iter()
        .map(|(s, p)| (s.as_str(), p.as_slice()))
        .collect();
    let insert = store.insert_network(&refs, Source::real(url), now, Revisions::Keep)?;
    Ok(BitcoindFetched { tip, stats, insert })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::testing::{payload, serve, t};

    const SECOND: Duration = Duration::from_secs(10);

    #[test]
    fn a_network_file_is_stored_each_day_known_at_its_end_and_a_refused_revision_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = canary_store::open(&dir.path().join("n.db")).unwrap();
        let path = dir.path().join("difficulty.csv");
        std::fs::write(
            &path,
            "date,difficulty\n2026-01-01,1.0e14\n2026-01-02,1.1e14\n",
        )
        .unwrap();
        let file =
            NetworkFile::read(&path, NetworkKind::Difficulty, &[], &TimeRange::default()).unwrap();
        assert_eq!(
            file.series(),
            [SeriesRead {
                series: NetworkSeries::Difficulty,
                days: 2,
                first: Some(t("2026-01-01")),
                last: Some(t("2026-01-02")),
            }]
        );
        let now = t("2026-02-01");
        let r = file.store(&mut *store, None, Revisions::Keep, now).unwrap();
        assert_eq!(
            (r.source.as_str(), r.insert.inserted),
            ("difficulty.csv", 2)
        );
        let name = NetworkSeries::Difficulty.name();
        assert!(
            store
                .network(name, Some(t("2026-01-01T23:59:59Z")))
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.network(name, Some(t("2026-01-02"))).unwrap().len(), 1);
        let again = file
            .store(&mut *store, Some("mine"), Revisions::Keep, now)
            .unwrap();
        assert_eq!((again.source.as_str(), again.insert.present), ("mine", 2));
        std::fs::write(
            &path,
            "date,difficulty\n2026-01-01,1.0e14\n2026-01-02,1.2e14\n",
        )
        .unwrap();
        let changed =
            NetworkFile::read(&path, NetworkKind::Difficulty, &[], &TimeRange::default()).unwrap();
        let e = changed
            .store(&mut *store, None, Revisions::Refuse, now)
            .unwrap_err();
        assert!(matches!(&e, WriteFailed::Conflict { line: 3, .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with(&format!("{}:3: ", path.display())),
            "{e}"
        );
        let missing = NetworkFile::read(
            &dir.path().join("nowhere.csv"),
            NetworkKind::Difficulty,
            &[],
            &TimeRange::default(),
        )
        .unwrap_err();
        assert!(missing.to_string().contains("nowhere.csv"), "{missing}");
    }

    #[test]
    fn mempool_data_is_fetched_and_stored_once() {
        let base = serve(vec![
            (
                "/api/v1/difficulty-adjustment",
                payload("mempool_difficulty_adjustment.json"),
            ),
            (
                "/api/v1/mining/hashrate/3d",
                payload("mempool_hashrate_3d.json"),
            ),
            ("/api/v1/blocks", payload("mempool_blocks.json")),
        ]);
        let url = format!("{base}/api");
        let dir = tempfile::tempdir().unwrap();
        let mut store = canary_store::open(&dir.path().join("m.db")).unwrap();
        let now = t("2026-02-01");
        let f = crate::jobs::block_on(fetch_mempool(&mut *store, &url, "3d", SECOND, now))
            .unwrap()
            .unwrap();
        assert_eq!((f.hashrate_days, f.adjustments), (3, 1));
        assert_eq!(f.epoch.remaining_blocks, 1121);
        assert!(f.mean_fees_btc.is_some() && f.blocks > 0, "{f:?}");
        assert_eq!((f.insert.inserted, f.insert.present), (4, 0));
        let hs = store.network("mempool:hashrate_hs", Some(now)).unwrap();
        assert_eq!(hs[0].0.to_string(), "2022-05-14T00:00:00Z");
        let again = crate::jobs::block_on(fetch_mempool(&mut *store, &url, "3d", SECOND, now))
            .unwrap()
            .unwrap();
        assert_eq!((again.insert.inserted, again.insert.present), (0, 4));
    }

    #[test]
    fn a_bitcoind_tip_is_stored_known_from_its_median_time() {
        let url = serve(vec![
            (
                "getblockchaininfo",
                payload("bitcoind_getblockchaininfo.json"),
            ),
            ("getmininginfo", payload("bitcoind_getmininginfo.json")),
            ("getblockstats", payload("bitcoind_getblockstats.json")),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let mut store = canary_store::open(&dir.path().join("b.db")).unwrap();
        let now = t("2026-02-01");
        let f = crate::jobs::block_on(fetch_bitcoind(
            &mut *store,
            &url,
            "user",
            "pass",
            SECOND,
            now,
        ))
        .unwrap()
        .unwrap();
        assert_eq!((f.tip.height, f.stats.subsidy_btc), (880_000, Some(3.125)));
        assert_eq!(f.insert.inserted, 2, "difficulty and the node's hash rate");
        let median = Timestamp::from_millis(1_736_198_000_000);
        let before = Timestamp::from_millis(median.millis() - 1);
        assert!(
            store
                .network("bitcoind:difficulty", Some(before))
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.network("bitcoind:hashrate_hs", Some(median)).unwrap(),
            [(median, 7.91e20)]
        );
        let down = serve(Vec::new());
        let e = crate::jobs::block_on(fetch_bitcoind(
            &mut *store,
            &down,
            "user",
            "pass",
            SECOND,
            now,
        ))
        .unwrap()
        .unwrap_err();
        assert!(matches!(e, EngineError::Source(_)), "{e:?}");
        assert!(e.to_string().contains(&down), "{e}");
    }
}
