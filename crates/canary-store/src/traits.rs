//! The store's surface, one trait per kind of data. Each trait states the contract every
//! backend keeps (the conformance suite in [`crate::conformance`] checks it); the SQLite
//! backend ([`crate::SqlStore`]) implements them all, and [`Stores`] is all of them at
//! once, the handle the engine works with.
//!
//! No backend's own types appear here: times are [`Timestamp`]s, errors [`StoreError`]s.

use std::collections::BTreeMap;

use canary_model::derivatives::DerivSeries;
use canary_model::markets::MarketSeries;
use canary_model::news::NewsItem;
use canary_model::{SourceKind, Symbol, Timeframe, Timestamp};

use crate::{
    CandleQuery, Delivery, DerivSeriesInfo, Feed, FeedPoll, InsertReport, MarketSeriesInfo,
    NewCandle, NewEvent, NewsInsertReport, NewsQuery, Point, Revisions, SeriesBars, SeriesInfo,
    Silence, Source, StoreError, StoredAlertState, StoredAnalysis, StoredCandle, StoredEvent,
    StoredOutflow, StoredRule, StoredToken, Taken, WriteError,
};

/// What the store as a whole says: the kind of each source, and a version of its data.
pub trait Catalog {
    /// The kind of every source that has written rows, by name.
    ///
    /// # Errors
    /// A database error, or a kind this build does not know.
    fn source_kinds(&self) -> Result<BTreeMap<String, SourceKind>, StoreError>;

    /// A value that changes whenever data a report reads changes (bars, network series,
    /// outflows, news, analyses): a cache of reports keyed on it never serves a stale one.
    ///
    /// # Errors
    /// A database error.
    fn data_version(&self) -> Result<String, StoreError>;
}

/// Every kind of data at once: what a session opens and a [`Context`] reads through.
///
/// [`Context`]: ../canary_engine/context/struct.Context.html
pub trait Stores:
    Catalog
    + CandleStore
    + NetworkStore
    + DerivativesStore
    + MarketStore
    + FlowStore
    + NewsStore
    + AnalysisStore
    + AlertStore
    + TokenStore
    + EventStore
    + LiveStore
    + Send
    + std::fmt::Debug
{
}

impl<T> Stores for T where
    T: Catalog
        + CandleStore
        + NetworkStore
        + DerivativesStore
        + MarketStore
        + FlowStore
        + NewsStore
        + AnalysisStore
        + AlertStore
        + TokenStore
        + EventStore
        + LiveStore
        + Send
        + std::fmt::Debug
{
}

/// Alert rules by owner, their silences and state after each evaluation, the notices they
/// produced and each delivery attempt.
///
/// Contract: an evaluation's state and its notices are saved together or not at all; a
/// notice is recorded once by its idempotency key, however often it is saved.
pub trait AlertStore {
    /// Silence an owner's rule over `[starts, ends)`: the silence's id, or `None` when the
    /// rule is not the owner's.
    ///
    /// # Errors
    /// A database error.
    fn add_silence(
        &mut self,
        owner: &str,
        rule_id: i64,
        starts: Timestamp,
        ends: Timestamp,
        comment: &str,
        now: Timestamp,
    ) -> Result<Option<i64>, StoreError>;

    /// End an owner's silences of a rule that are still running at `now`: how many.
    ///
    /// # Errors
    /// A database error.
    fn lift_silences(
        &mut self,
        owner: &str,
        rule_id: i64,
        now: Timestamp,
    ) -> Result<usize, StoreError>;

    /// A rule's silences, by start.
    ///
    /// # Errors
    /// A database error.
    fn silences(&self, rule_id: i64) -> Result<Vec<Silence>, StoreError>;

    /// Add a rule; its id.
    ///
    /// # Errors
    /// A database error.
    fn add_rule(
        &mut self,
        owner: &str,
        rule: &str,
        timeframe: &str,
        policy: &str,
        channel: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError>;

    /// The active rules of an owner (every owner's with `None`), by id.
    ///
    /// # Errors
    /// A database error.
    fn rules(&self, owner: Option<&str>) -> Result<Vec<StoredRule>, StoreError>;

    /// Remove an owner's rule (it stays in the log of deliveries): whether it was theirs.
    ///
    /// # Errors
    /// A database error.
    fn remove_rule(&mut self, owner: &str, id: i64) -> Result<bool, StoreError>;

    /// A rule's state after its last evaluation, if it has been evaluated.
    ///
    /// # Errors
    /// A database error.
    fn alert_state(&self, rule_id: i64) -> Result<Option<StoredAlertState>, StoreError>;

    /// Store a rule's new state and the notices it produced (key, JSON, late, silenced), in
    /// one transaction: either both or neither, so that a crash between them can neither lose
    /// nor repeat a notice. A notice already recorded (same idempotency key) is not recorded
    /// again; a silenced one is logged as such and never sent.
    ///
    /// # Errors
    /// A database error.
    fn save_evaluation(
        &mut self,
        state: &StoredAlertState,
        notices: &[(String, String, bool, bool)],
        now: Timestamp,
    ) -> Result<usize, StoreError>;

    /// Queue one notice for delivery outside an evaluation (a test notice): whether it was new.
    ///
    /// # Errors
    /// A database error.
    fn queue_notice(
        &mut self,
        key: &str,
        rule_id: i64,
        notice: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Deliveries not yet delivered (pending or failed earlier), oldest first.
    ///
    /// # Errors
    /// A database error.
    fn undelivered(&self) -> Result<Vec<Delivery>, StoreError>;

    /// Every delivery of a rule (all with `None`), newest first.
    ///
    /// # Errors
    /// A database error.
    fn delivery_log(&self, rule_id: Option<i64>) -> Result<Vec<Delivery>, StoreError>;

    /// Record one delivery attempt: delivered (with its latency) or failed (with why).
    ///
    /// # Errors
    /// A database error.
    fn record_attempt(
        &mut self,
        key: &str,
        outcome: Result<i64, String>,
        now: Timestamp,
    ) -> Result<(), StoreError>;
}

/// Analyses as published: append-only by content id, with versions.
///
/// Contract: storing the same analysis again changes nothing; a new version of the same
/// symbol, topic and time is another row, never an overwrite.
pub trait AnalysisStore {
    /// Store an analysis unless one with its id is stored: whether it was new. The
    /// `created_at` given is replaced by the write stamp.
    ///
    /// # Errors
    /// A database error.
    fn insert_analysis(&mut self, a: &StoredAnalysis, now: Timestamp) -> Result<bool, StoreError>;

    /// One analysis by id (or an unambiguous prefix of it).
    ///
    /// # Errors
    /// A database error.
    fn analysis(&self, id: &str) -> Result<Option<StoredAnalysis>, StoreError>;

    /// How many analyses have an id starting with `prefix`, and the first `limit` of those
    /// ids (in id order): what to say when a prefix finds more than one.
    ///
    /// # Errors
    /// A database error.
    fn analysis_ids_with_prefix(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<(usize, Vec<String>), StoreError>;

    /// Every analysis (newest as-of first, then newest version), optionally with a tag.
    ///
    /// # Errors
    /// A database error.
    fn analyses(&self, tag: Option<&str>) -> Result<Vec<StoredAnalysis>, StoreError>;

    /// Every version of the analysis of the same symbol, topic and time as `id`, oldest
    /// first.
    ///
    /// # Errors
    /// A database error.
    fn analysis_versions(&self, a: &StoredAnalysis) -> Result<Vec<StoredAnalysis>, StoreError>;
}

/// Bars of instruments by timeframe, versioned: the market's price history.
///
/// Contract: a bar is available at its close; a revision (same key, other values) is a new
/// version available from its ingest time, so reads as of an earlier time still see the old
/// one; a batch is written whole or not at all; writing the same bars again changes nothing;
/// bars packed into blocks and bars in rows read alike.
pub trait CandleStore {
    /// Insert a stream of tagged bars of one series (a file line and its bar, as they are
    /// read) in one transaction: memory stays flat whatever the number of bars. A bar already
    /// stored with the same values is counted as present and skipped; one stored with other
    /// values is a revision (with [`Revisions::Keep`]: a new version, available from
    /// `ingested_at`) or aborts the whole insert ([`Revisions::Refuse`]:
    /// [`StoreError::Conflict`], naming both, its `index` the bar's tag). An item
    /// `Err(Stopped)` stops the write ([`WriteError::Input`]) and nothing is written.
    /// `progress` is called with the number of bars handled so far, every few thousand bars.
    /// Callers use [`CandleStoreExt::insert_candles`] or [`CandleStoreExt::insert_candles_from`].
    ///
    /// # Errors
    /// The stream's stop, a conflict, a bar given twice, or a database error; nothing is
    /// written.
    #[expect(clippy::too_many_arguments)] // each is one fact of the write; a struct would only rename them
    fn insert_candle_stream(
        &mut self,
        symbol: &Symbol,
        tf: Timeframe,
        source: Source<'_>,
        ingested_at: Timestamp,
        rows: &mut dyn Iterator<Item = Result<(u64, NewCandle), Stopped>>,
        revisions: Revisions,
        progress: &mut dyn FnMut(usize),
    ) -> Result<InsertReport, WriteError<Stopped>>;

    /// The open time of the latest stored bar of a series before `first`, and of the
    /// earliest after `last` (whatever their versions): where a new run of bars meets what
    /// was stored, for the gaps an import reports at its ends.
    ///
    /// # Errors
    /// A database error.
    fn open_times_around(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        first: Timestamp,
        last: Timestamp,
    ) -> Result<(Option<Timestamp>, Option<Timestamp>), StoreError>;

    /// Call `f` with the open time of every stored bar of a series from `from` to `to`
    /// (inclusive), in order, whatever its version: the times a gap report reads.
    ///
    /// # Errors
    /// A database error.
    fn for_each_open_time(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        from: Timestamp,
        to: Timestamp,
        f: &mut dyn FnMut(Timestamp),
    ) -> Result<(), StoreError>;

    /// Bars of one series in open-time order, as of `q.asof`, each handed to `f`: the latest
    /// version of each bar available by then.
    ///
    /// # Errors
    /// A database error, or a stored row that is no longer a valid candle.
    fn candles_each(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        q: &CandleQuery,
        f: &mut dyn FnMut(&StoredCandle),
    ) -> Result<(), StoreError>;

    /// Bars of one series in open-time order, as of `q.asof`, collected.
    ///
    /// # Errors
    /// As [`CandleStore::candles_each`].
    fn candles(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        q: &CandleQuery,
    ) -> Result<Vec<StoredCandle>, StoreError> {
        let mut bars = Vec::new();
        self.candles_each(symbol, tf, q, &mut |c| bars.push(c.clone()))?;
        Ok(bars)
    }

    /// Every stored series with its extent, sorted by symbol and timeframe.
    ///
    /// # Errors
    /// A database error.
    fn series(&self) -> Result<Vec<SeriesInfo>, StoreError>;
}

/// The stop marker of a bar stream: the caller's input failed, and keeps its own error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

/// Bar writes with the caller's own closures and error type, over any [`CandleStore`].
pub trait CandleStoreExt: CandleStore {
    /// Insert bars of one series in a single transaction; see
    /// [`CandleStore::insert_candle_stream`] for the rules (a conflict's `index` is the
    /// bar's position).
    ///
    /// # Errors
    /// A conflict, a bar given twice, or a database error (nothing is written).
    #[expect(clippy::too_many_arguments)] // each is one fact of the write
    fn insert_candles(
        &mut self,
        symbol: &Symbol,
        tf: Timeframe,
        source: Source<'_>,
        ingested_at: Timestamp,
        rows: &[NewCandle],
        revisions: Revisions,
        progress: impl FnMut(usize),
    ) -> Result<InsertReport, StoreError> {
        let tagged = rows
            .iter()
            .enumerate()
            .map(|(i, r)| Ok::<_, std::convert::Infallible>((i as u64, *r)));
        self.insert_candles_from(symbol, tf, source, ingested_at, tagged, revisions, progress)
            .map_err(crate::write::unwrap_store)
    }

    /// Insert a stream of tagged bars whose reading may fail with the caller's error `E`:
    /// the first error stops the write, nothing is written, and it comes back as
    /// [`WriteError::Input`].
    ///
    /// # Errors
    /// The stream's first error, a conflict, a bar given twice, or a database error.
    #[expect(clippy::too_many_arguments)] // each is one fact of the write
    fn insert_candles_from<E>(
        &mut self,
        symbol: &Symbol,
        tf: Timeframe,
        source: Source<'_>,
        ingested_at: Timestamp,
        rows: impl IntoIterator<Item = Result<(u64, NewCandle), E>>,
        revisions: Revisions,
        mut progress: impl FnMut(usize),
    ) -> Result<InsertReport, WriteError<E>> {
        let mut failed = None;
        let mut stream = rows.into_iter().map(|r| {
            r.map_err(|e| {
                failed = Some(e);
                Stopped
            })
        });
        let written = self.insert_candle_stream(
            symbol,
            tf,
            source,
            ingested_at,
            &mut stream,
            revisions,
            &mut progress,
        );
        drop(stream);
        match (written, failed) {
            (Ok(report), _) => Ok(report),
            (Err(WriteError::Input(Stopped)), Some(e)) => Err(WriteError::Input(e)),
            (Err(WriteError::Input(Stopped)), None) => {
                Err(WriteError::Store(StoreError::Corrupt {
                    what: "a bar stream".into(),
                    reason: "the store stopped without an input error".into(),
                }))
            }
            (Err(WriteError::Store(e)), _) => Err(WriteError::Store(e)),
        }
    }
}

impl<T: CandleStore + ?Sized> CandleStoreExt for T {}

/// What the live engine took in, in order, each with when Canary had it: a live day replays
/// exactly.
///
/// Contract: an event is stored once by its identity; appends are all-or-nothing.
pub trait EventStore {
    /// Append events in one transaction, in order, each unless it is stored already (the same
    /// identity: see the module's doc). How many were new.
    ///
    /// # Errors
    /// A database error (nothing is written).
    fn append_events(&mut self, events: &[NewEvent]) -> Result<usize, StoreError>;

    /// The events Canary had in `[from, to)`, in the order it took them.
    ///
    /// # Errors
    /// A database error.
    fn events(&self, from: Timestamp, to: Timestamp) -> Result<Vec<StoredEvent>, StoreError>;
}

/// What the live engine took since its last store, stored at once.
///
/// Contract: the same rows, reports and reads as [`EventStore::append_events`] then
/// [`CandleStoreExt::insert_candles`] of each series (with [`Revisions::Keep`] and the same
/// ingest time) would give; written all or nothing.
pub trait LiveStore {
    /// Store `events` (each unless stored already) and the bars of each series in one
    /// transaction, the bars ingested at `ingested_at`.
    ///
    /// # Errors
    /// As those writes: a bar given twice or invalid, a source of another kind, a database
    /// error; nothing is written.
    fn store_taken(
        &mut self,
        events: &[NewEvent],
        bars: &[SeriesBars<'_>],
        ingested_at: Timestamp,
    ) -> Result<Taken, StoreError>;
}

/// Entity outflows (coins a miner or a fund sent on), by transaction.
///
/// Contract: an outflow is known from its block time; a transaction is never revised (another
/// amount for a stored key is a conflict and nothing is written).
pub trait FlowStore {
    /// Insert outflows in one transaction; a row already stored with the same amount is
    /// skipped, a different amount for the same key is refused (a transaction is not revised).
    ///
    /// # Errors
    /// A conflict, or a database error (nothing is written).
    fn insert_outflows(
        &mut self,
        rows: &[StoredOutflow],
        source: Source<'_>,
        ingested_at: Timestamp,
    ) -> Result<InsertReport, StoreError>;

    /// Outflows of an entity in time order, those known at `asof`.
    ///
    /// # Errors
    /// A database error.
    fn outflows(
        &self,
        entity: &str,
        asof: Option<Timestamp>,
    ) -> Result<Vec<StoredOutflow>, StoreError>;

    /// Entities with stored outflows.
    ///
    /// # Errors
    /// A database error.
    fn flow_entities(&self) -> Result<Vec<String>, StoreError>;
}

/// Network series (hash rate, difficulty, subsidy, fees, fleet efficiency): dated values,
/// versioned like bars.
///
/// Contract: a daily value is available when its day has ended (a fetched one at its time);
/// a revision is a new version; a batch is written whole or not at all.
pub trait NetworkStore {
    /// Insert values of several series in one transaction; see [`CandleStoreExt::insert_candles`] for
    /// the rules. `index` in a conflict counts across all series in the order given.
    ///
    /// # Errors
    /// A conflict, or a database error (nothing is written).
    fn insert_network(
        &mut self,
        series: &[(&str, &[Point])],
        source: Source<'_>,
        ingested_at: Timestamp,
        revisions: Revisions,
    ) -> Result<InsertReport, StoreError>;

    /// Values of a series in time order, only those available at `asof`.
    ///
    /// # Errors
    /// A database error.
    fn network(
        &self,
        series: &str,
        asof: Option<Timestamp>,
    ) -> Result<Vec<(Timestamp, f64)>, StoreError>;

    /// The sources of a series (for provenance).
    ///
    /// # Errors
    /// A database error.
    fn network_sources(&self, series: &str) -> Result<String, StoreError>;
}

/// Derivatives series (funding rates, open interest, liquidations, mark and index prices), keyed
/// by [`DerivSeries`]: dated values, versioned like bars.
///
/// Contract: a level is available from its time, a flow from its bar's close (a value said to
/// be available earlier is refused); a revision is a new version; a batch is written whole or
/// not at all; series of different venues are never merged.
pub trait DerivativesStore {
    /// Insert values of several series in one transaction; see
    /// [`CandleStoreExt::insert_candles`] for the rules. `index` in a conflict counts across all
    /// series in the order given.
    ///
    /// # Errors
    /// A conflict, a value out of its kind's range or available too early, or a database error
    /// (nothing is written).
    fn insert_derivatives(
        &mut self,
        series: &[(&DerivSeries, &[Point])],
        source: Source<'_>,
        ingested_at: Timestamp,
        revisions: Revisions,
    ) -> Result<InsertReport, StoreError>;

    /// Values of a series in time order, the latest version of each available at `asof`.
    ///
    /// # Errors
    /// A database error.
    fn derivatives(
        &self,
        series: &DerivSeries,
        asof: Option<Timestamp>,
    ) -> Result<Vec<(Timestamp, f64)>, StoreError>;

    /// As [`DerivativesStore::derivatives`], the values from `from` on only (a report that
    /// needs the last weeks of a long series reads those).
    ///
    /// # Errors
    /// A database error.
    fn derivatives_since(
        &self,
        series: &DerivSeries,
        from: Timestamp,
        asof: Option<Timestamp>,
    ) -> Result<Vec<(Timestamp, f64)>, StoreError> {
        let mut all = self.derivatives(series, asof)?;
        all.retain(|(t, _)| *t >= from);
        Ok(all)
    }

    /// Every version of every value of a series available at `asof`, with when each became
    /// available, in the order they became available (then time): for replaying history as
    /// it was known at each moment (a back-fill or a revision from when it was stored).
    ///
    /// # Errors
    /// A database error.
    fn derivative_versions(
        &self,
        series: &DerivSeries,
        asof: Option<Timestamp>,
    ) -> Result<Vec<Point>, StoreError>;

    /// Every series with values available at `asof`: the first and last time known then, and
    /// their sources; in series order.
    ///
    /// # Errors
    /// A database error, or a stored key that is not a series.
    fn derivative_series(
        &self,
        asof: Option<Timestamp>,
    ) -> Result<Vec<DerivSeriesInfo>, StoreError>;
}

/// Equities, indices and daily gauges: one value per series and day (`time` is 00:00 UTC of
/// the day).
///
/// Contract: a US value is available from its exchange's close that day (16:00 New York, 13:00
/// on an early-close day), a gauge from the start of its UTC day; a value claimed available
/// earlier is refused with its batch; a revision is a new version available from its ingest
/// time; the same values again change nothing.
pub trait MarketStore {
    /// Insert values of several series in one transaction; see
    /// [`CandleStoreExt::insert_candles`] for the rules.
    ///
    /// # Errors
    /// A conflict, a value out of its field's range, on a day its market does not trade or
    /// available before its close, or a database error (nothing is written).
    fn insert_markets(
        &mut self,
        series: &[(&MarketSeries, &[Point])],
        source: Source<'_>,
        ingested_at: Timestamp,
        revisions: Revisions,
    ) -> Result<InsertReport, StoreError>;

    /// The values of a series from day `from` on, in day order, the latest version of each
    /// available at `asof`.
    ///
    /// # Errors
    /// A database error.
    fn markets_since(
        &self,
        series: &MarketSeries,
        from: Timestamp,
        asof: Option<Timestamp>,
    ) -> Result<Vec<(Timestamp, f64)>, StoreError>;

    /// Every version of every value of a series available at `asof`, with when each became
    /// available, in that order (then day): for replaying the series as it was known at each
    /// moment.
    ///
    /// # Errors
    /// A database error.
    fn market_versions(
        &self,
        series: &MarketSeries,
        asof: Option<Timestamp>,
    ) -> Result<Vec<Point>, StoreError>;

    /// Every series with values available at `asof`: the first and last day known then, and
    /// their sources; in series order.
    ///
    /// # Errors
    /// A database error, or a stored key that is not a series.
    fn market_series(&self, asof: Option<Timestamp>) -> Result<Vec<MarketSeriesInfo>, StoreError>;
}

/// News items (stored once, copies marked with the item they copy) and the feeds to poll.
///
/// Contract: an item is known from when it was first seen (or published, when earlier);
/// storing an item again changes nothing.
pub trait NewsStore {
    /// Store news items in one transaction. An item whose id is stored, or whose canonical
    /// URL is, is present and skipped; one whose text copies an item stored or earlier in
    /// the batch (the same words, or a near copy within `COPY_WINDOW_MS`) is stored with
    /// `duplicate_of` naming it. Items' `duplicate_of` as given is ignored.
    ///
    /// # Errors
    /// A database error (nothing is written), or a source recorded with another kind.
    fn insert_news(
        &mut self,
        items: &[NewsItem],
        source: Source<'_>,
        ingested_at: Timestamp,
    ) -> Result<NewsInsertReport, StoreError>;

    /// Items available by `q.asof` (and from `q.since`), oldest first.
    ///
    /// # Errors
    /// A database error.
    fn news(&self, q: NewsQuery) -> Result<Vec<NewsItem>, StoreError>;

    /// Items by id (those stored; any order of `ids`), oldest first.
    ///
    /// # Errors
    /// A database error.
    fn news_by_ids(&self, ids: &[String]) -> Result<Vec<NewsItem>, StoreError>;

    /// Items written after write stamp `stamp` (for an index catching up), oldest write
    /// first, and the latest stamp among them (`stamp` itself when there are none).
    ///
    /// # Errors
    /// A database error.
    fn news_written_after(&self, stamp: i64) -> Result<(Vec<NewsItem>, i64), StoreError>;

    /// How many items are stored.
    ///
    /// # Errors
    /// A database error.
    fn news_count(&self) -> Result<u64, StoreError>;

    /// Add a feed (due at once). Adding one that is there changes its interval only.
    ///
    /// # Errors
    /// A database error.
    fn add_feed(&mut self, url: &str, interval_s: i64, now: Timestamp) -> Result<bool, StoreError>;

    /// Remove a feed (its items stay). Whether it was there.
    ///
    /// # Errors
    /// A database error.
    fn remove_feed(&mut self, url: &str) -> Result<bool, StoreError>;

    /// Every feed, by URL.
    ///
    /// # Errors
    /// A database error.
    fn feeds(&self) -> Result<Vec<Feed>, StoreError>;

    /// Record a poll: validators and the next poll after success; after a failure, the
    /// failure count and a back-off (the interval doubled per consecutive failure, at most
    /// `MAX_BACKOFF_S`).
    ///
    /// # Errors
    /// A database error.
    fn record_poll(
        &mut self,
        url: &str,
        outcome: &FeedPoll,
        now: Timestamp,
    ) -> Result<(), StoreError>;
}

/// Issued API tokens, by the hash of their secret: revoked, never deleted.
pub trait TokenStore {
    /// Record an issued token by its hash; its id.
    ///
    /// # Errors
    /// A database error (a hash already recorded is one).
    fn add_token(
        &mut self,
        name: &str,
        hash: &str,
        scope: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError>;

    /// The token with this hash, revoked or not.
    ///
    /// # Errors
    /// A database error.
    fn token_by_hash(&self, hash: &str) -> Result<Option<StoredToken>, StoreError>;

    /// Every issued token, by id.
    ///
    /// # Errors
    /// A database error.
    fn tokens(&self) -> Result<Vec<StoredToken>, StoreError>;

    /// Revoke a token from `now` on (and, with `remove_rules`, deactivate its rules in the
    /// same transaction): the token, or `None` if there is no valid token with this id.
    ///
    /// # Errors
    /// A database error (nothing is changed).
    fn revoke_token(
        &mut self,
        id: i64,
        remove_rules: bool,
        now: Timestamp,
    ) -> Result<Option<(StoredToken, usize)>, StoreError>;
}
