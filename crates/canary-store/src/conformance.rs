//! The contracts every store backend keeps, written once and run on each backend.
//!
//! A backend's test file implements [`Backend`] (how to open a handle on a named store) and
//! calls [`conformance_suite!`](crate::conformance_suite) with it: one test per contract.
//! SQLite runs it in `tests/conformance.rs`; a new backend must pass it unchanged. What is
//! checked, kind by kind:
//!
//! - **as of T**: a read as of T sees only what was available by T (a bar from its close, a
//!   daily value from the end of its day, a funding rate from its settlement, a liquidation
//!   total from its bar's close, an outflow from its block time, an item from when it
//!   was first seen), and `last` counts within what T sees;
//! - **revisions**: a bar or value stored again with other values is a new version, available
//!   from its ingest time; reads as of an earlier time keep seeing the old one;
//! - **all or nothing**: a batch with a conflict, a key given twice, a source of another kind
//!   or a stream that fails writes nothing;
//! - **idempotent**: writing the same rows again writes nothing and changes no read;
//! - **queued writers**: two handles writing the same store at once both succeed, in turn;
//! - **order**: bars written in order (which a backend may pack into blocks) and the same bars
//!   written out of order (row by row) read alike, whatever the query.

use canary_model::derivatives::DerivSeries;
use canary_model::markets::MarketSeries;
use canary_model::news::NewsItem;
use canary_model::{Candle, SourceKind, Symbol, Timeframe, Timestamp};

use crate::prelude::*;
use crate::{
    CandleQuery, NewCandle, NewEvent, NewsQuery, Point, Revisions, SeriesBars, Source, StoreError,
    StoredAlertState, StoredAnalysis, StoredCandle, StoredOutflow, WriteError,
};

/// A backend under test: opens handles on named stores, each name empty when first opened.
pub trait Backend {
    /// A new handle on the store called `name` (created empty on first use). Two handles on
    /// one name are two connections to the same data, as two processes would hold.
    fn open(&self, name: &str) -> Box<dyn Stores>;
}

/// One `#[test]` per contract of this module, run on the backend `$backend` builds (an
/// expression evaluated afresh in each test).
#[macro_export]
macro_rules! conformance_suite {
    ($backend:expr) => {
        $crate::conformance_suite!(@tests $backend;
            bars_as_of_t_are_those_closed_by_t,
            a_revised_bar_is_a_new_version_from_its_ingest_time,
            a_failed_bar_batch_writes_nothing,
            writing_the_same_bars_again_changes_nothing,
            bars_in_order_and_out_of_order_read_alike,
            concurrent_writers_queue_and_both_land,
            network_values_are_known_at_the_end_of_their_day_and_revised_as_versions,
            derivatives_are_known_when_observed_or_at_their_bars_close_and_never_merge,
            a_derivatives_value_claimed_known_too_early_is_refused_with_its_batch,
            market_values_are_known_at_their_exchanges_close_and_revised_as_versions,
            an_outflow_is_known_from_its_block_time_and_never_revised,
            news_is_known_from_when_it_was_seen_and_stored_once,
            events_are_stored_once_by_identity_in_the_order_taken,
            what_the_engine_took_is_stored_at_once_as_each_write_would,
            what_the_engine_took_is_stored_whole_or_not_at_all,
            an_evaluation_and_its_notices_are_saved_once,
            analyses_are_append_only,
            tokens_are_revoked_never_deleted,
            a_source_keeps_its_kind_and_every_write_moves_the_data_version,
        );
    };
    (@tests $backend:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::conformance::$name(&$backend);
            }
        )*
    };
}

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// 2026-01-01T00:00:00Z: the first bar of every check.
const BASE: i64 = 1_767_225_600_000;

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").expect("a valid symbol")
}

/// An hourly bar `i` hours after [`BASE`], closing at `close`, available at its close.
fn bar(i: i64, close: f64) -> NewCandle {
    let open_time = BASE + i * HOUR;
    NewCandle {
        candle: Candle::new(
            t(open_time),
            close,
            close + 1.0,
            close - 1.0,
            close,
            2.0,
            Some(close * 2.0),
            Some(7),
        )
        .expect("a valid bar"),
        available_at: t(open_time + HOUR),
        source_bars: None,
    }
}

fn bars(range: std::ops::Range<i64>) -> Vec<NewCandle> {
    range.map(|i| bar(i, 100.0 + i as f64)).collect()
}

fn write_bars(
    s: &mut dyn Stores,
    symbol: &Symbol,
    rows: &[NewCandle],
    ingested_at: i64,
    revisions: Revisions,
) -> Result<crate::InsertReport, StoreError> {
    s.insert_candles(
        symbol,
        Timeframe::H1,
        Source::real("conformance"),
        t(ingested_at),
        rows,
        revisions,
        |_| {},
    )
}

fn read(s: &dyn Stores, symbol: &Symbol, q: &CandleQuery) -> Vec<StoredCandle> {
    s.candles(symbol, Timeframe::H1, q).expect("a read")
}

fn closes(s: &dyn Stores, q: &CandleQuery) -> Vec<f64> {
    read(s, &btc(), q).iter().map(|c| c.candle.close).collect()
}

fn asof(ms: i64) -> CandleQuery {
    CandleQuery {
        asof: Some(t(ms)),
        ..CandleQuery::default()
    }
}

/// As of T a read holds the bars closed by T, and `last` counts within them.
pub fn bars_as_of_t_are_those_closed_by_t(b: &impl Backend) {
    let mut s = b.open("asof");
    write_bars(&mut *s, &btc(), &bars(0..10), BASE + DAY, Revisions::Keep).expect("a write");
    let close_of_4 = BASE + 5 * HOUR;
    assert_eq!(
        closes(&*s, &asof(close_of_4)).len(),
        5,
        "bars 0..=4 at bar 4's close"
    );
    assert_eq!(
        closes(&*s, &asof(close_of_4 - 1)).len(),
        4,
        "bar 4 not before its close"
    );
    assert!(
        closes(&*s, &asof(BASE)).is_empty(),
        "nothing before the first close"
    );
    assert_eq!(closes(&*s, &CandleQuery::default()).len(), 10);
    let last = CandleQuery {
        last: Some(3),
        ..asof(close_of_4)
    };
    assert_eq!(closes(&*s, &last), vec![102.0, 103.0, 104.0]);
    let window = CandleQuery {
        from: Some(t(BASE + 2 * HOUR)),
        to: Some(t(BASE + 6 * HOUR)),
        ..asof(close_of_4)
    };
    assert_eq!(closes(&*s, &window), vec![102.0, 103.0, 104.0]);
    let stored = read(&*s, &btc(), &CandleQuery::default());
    assert_eq!(stored[0].available_at, t(BASE + HOUR));
    assert_eq!(
        stored[0].candle,
        bar(0, 100.0).candle,
        "a bar reads as written"
    );
    assert_eq!(stored[0].source, "conformance");
}

/// A bar written again with other values is a new version from its ingest time; with
/// `Revisions::Refuse` it is a conflict and the batch writes nothing.
pub fn a_revised_bar_is_a_new_version_from_its_ingest_time(b: &impl Backend) {
    let mut s = b.open("revisions");
    let first = BASE + DAY;
    let second = BASE + 2 * DAY;
    write_bars(&mut *s, &btc(), &bars(0..5), first, Revisions::Keep).expect("a write");
    let report =
        write_bars(&mut *s, &btc(), &[bar(3, 999.0)], second, Revisions::Keep).expect("a revision");
    assert_eq!((report.inserted, report.revised), (0, 1));
    assert_eq!(
        closes(&*s, &asof(second - 1))[3],
        103.0,
        "before: the old version"
    );
    assert_eq!(
        closes(&*s, &asof(second))[3],
        999.0,
        "from its ingest time: the new one"
    );
    assert_eq!(closes(&*s, &CandleQuery::default())[3], 999.0);
    assert_eq!(
        closes(&*s, &CandleQuery::default()).len(),
        5,
        "one bar, two versions"
    );

    let e = write_bars(
        &mut *s,
        &btc(),
        &[bar(5, 105.0), bar(3, 555.0)],
        BASE + 3 * DAY,
        Revisions::Refuse,
    )
    .expect_err("a conflict");
    assert!(
        matches!(&e, StoreError::Conflict(c) if c.index == 1),
        "the conflict names the row: {e}"
    );
    assert_eq!(
        closes(&*s, &CandleQuery::default()).len(),
        5,
        "bar 5 not written"
    );
    assert_eq!(closes(&*s, &CandleQuery::default())[3], 999.0);
}

/// A batch with a bar given twice, or a stream that fails part-way, writes nothing.
pub fn a_failed_bar_batch_writes_nothing(b: &impl Backend) {
    let mut s = b.open("all-or-nothing");
    write_bars(&mut *s, &btc(), &bars(0..3), BASE + DAY, Revisions::Keep).expect("a write");
    let version = s.data_version().expect("a version");

    let twice = [bar(3, 103.0), bar(4, 104.0), bar(3, 103.0)];
    let e = write_bars(&mut *s, &btc(), &twice, BASE + DAY, Revisions::Keep).expect_err("twice");
    assert!(matches!(e, StoreError::Duplicate { tag: 2, .. }), "{e}");

    let stream = bars(3..3000).into_iter().enumerate().map(|(i, r)| {
        if i == 2500 {
            Err("line 2501: bad")
        } else {
            Ok((i as u64, r))
        }
    });
    let e = s
        .insert_candles_from(
            &btc(),
            Timeframe::H1,
            Source::real("conformance"),
            t(BASE + DAY),
            stream,
            Revisions::Keep,
            |_| {},
        )
        .expect_err("the stream fails");
    assert!(matches!(e, WriteError::Input("line 2501: bad")), "{e}");

    assert_eq!(
        closes(&*s, &CandleQuery::default()).len(),
        3,
        "nothing written"
    );
    assert_eq!(s.data_version().expect("a version"), version);
}

/// The same bars written again are present, not inserted, and every read is unchanged.
pub fn writing_the_same_bars_again_changes_nothing(b: &impl Backend) {
    let mut s = b.open("idempotent");
    let rows = bars(0..2000);
    let first = write_bars(&mut *s, &btc(), &rows, BASE + 90 * DAY, Revisions::Keep).expect("w");
    assert_eq!(first.inserted, 2000);
    let before = read(&*s, &btc(), &CandleQuery::default());
    for ingest in [BASE + 91 * DAY, BASE + 92 * DAY] {
        let again = write_bars(&mut *s, &btc(), &rows, ingest, Revisions::Refuse).expect("again");
        assert_eq!((again.inserted, again.present, again.revised), (0, 2000, 0));
    }
    assert_eq!(read(&*s, &btc(), &CandleQuery::default()), before);
    let series = s.series().expect("series");
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].bars, 2000);
}

/// The same bars written in time order in one batch, and in reverse in several, read alike
/// under every query.
pub fn bars_in_order_and_out_of_order_read_alike(b: &impl Backend) {
    let mut s = b.open("order");
    let (ordered, unordered) = (btc(), Symbol::new("ETHUSDT").expect("a valid symbol"));
    let rows = bars(0..3000);
    write_bars(&mut *s, &ordered, &rows, BASE + 200 * DAY, Revisions::Keep).expect("in order");
    for chunk in rows.chunks(430).rev() {
        let reversed: Vec<NewCandle> = chunk.iter().rev().copied().collect();
        write_bars(
            &mut *s,
            &unordered,
            &reversed,
            BASE + 200 * DAY,
            Revisions::Keep,
        )
        .expect("out of order");
    }
    // A revision of each, so that versions are read alike too. Each write has a stamp of its
    // own, so the second revision is available a millisecond after the first: times are
    // compared to the second.
    for symbol in [&ordered, &unordered] {
        write_bars(
            &mut *s,
            symbol,
            &[bar(1234, 1.5)],
            BASE + 201 * DAY,
            Revisions::Keep,
        )
        .expect("a revision");
    }
    let strip = |v: Vec<StoredCandle>| -> Vec<(Candle, Timestamp, String, Option<u32>)> {
        v.into_iter()
            .map(|c| {
                let second = t(c.available_at.millis().div_euclid(1000) * 1000);
                (c.candle, second, c.source, c.source_bars)
            })
            .collect()
    };
    for asof in [
        None,
        Some(BASE),
        Some(BASE + 1500 * HOUR + 1),
        Some(BASE + 201 * DAY + 5),
    ] {
        for last in [None, Some(1), Some(17), Some(2999), Some(5000)] {
            for (from, to) in [(None, None), (Some(10), Some(2500)), (Some(2990), None)] {
                let q = CandleQuery {
                    from: from.map(|h: i64| t(BASE + h * HOUR)),
                    to: to.map(|h: i64| t(BASE + h * HOUR)),
                    asof: asof.map(t),
                    last,
                };
                assert_eq!(
                    strip(read(&*s, &ordered, &q)),
                    strip(read(&*s, &unordered, &q)),
                    "{q:?}"
                );
            }
        }
    }
    let around = |sym: &Symbol| {
        s.open_times_around(
            sym,
            Timeframe::H1,
            t(BASE + 100 * HOUR),
            t(BASE + 200 * HOUR),
        )
        .expect("around")
    };
    assert_eq!(around(&ordered), around(&unordered));
    let times = |sym: &Symbol| {
        let mut v = Vec::new();
        s.for_each_open_time(sym, Timeframe::H1, t(BASE), t(BASE + 50 * HOUR), &mut |x| {
            v.push(x);
        })
        .expect("times");
        v
    };
    assert_eq!(times(&ordered).len(), 51);
    assert_eq!(times(&ordered), times(&unordered));
}

/// Two handles writing one store at once: both land, in turn, nothing lost.
pub fn concurrent_writers_queue_and_both_land(b: &impl Backend) {
    let mut first = b.open("queue");
    let mut second = b.open("queue");
    let writer = |s: &mut dyn Stores, symbol: &str| {
        let symbol = Symbol::new(symbol).expect("a valid symbol");
        for k in 0..20 {
            write_bars(
                s,
                &symbol,
                &bars(k * 50..(k + 1) * 50),
                BASE + DAY,
                Revisions::Keep,
            )
            .expect("a queued write lands");
        }
    };
    std::thread::scope(|scope| {
        scope.spawn(|| writer(&mut *first, "BTCUSDT"));
        scope.spawn(|| writer(&mut *second, "ETHUSDT"));
    });
    let series = first.series().expect("series");
    assert_eq!(series.len(), 2);
    assert!(series.iter().all(|x| x.bars == 1000), "{series:?}");
}

/// A daily value is known once its day has ended; a revision is a new version; a refused
/// revision writes nothing.
pub fn network_values_are_known_at_the_end_of_their_day_and_revised_as_versions(b: &impl Backend) {
    let mut s = b.open("network");
    let point = |day: i64, value: f64| Point {
        time: t(BASE + day * DAY),
        value,
        available_at: t(BASE + (day + 1) * DAY),
    };
    let days: Vec<Point> = (0..3).map(|d| point(d, 10.0)).collect();
    let src = Source::real("conformance-network");
    s.insert_network(
        &[("hashrate_hs", &days)],
        src,
        t(BASE + 10 * DAY),
        Revisions::Keep,
    )
    .expect("a write");
    let read = |s: &dyn Stores, at: Option<i64>| s.network("hashrate_hs", at.map(t)).expect("r");
    assert_eq!(read(&*s, Some(BASE + DAY - 1)).len(), 0, "day 0 not over");
    assert_eq!(read(&*s, Some(BASE + DAY)).len(), 1);
    assert_eq!(read(&*s, None).len(), 3);

    let revised = [point(1, 11.0)];
    let r = s
        .insert_network(
            &[("hashrate_hs", &revised)],
            src,
            t(BASE + 20 * DAY),
            Revisions::Keep,
        )
        .expect("a revision");
    assert_eq!(r.revised, 1);
    assert_eq!(read(&*s, Some(BASE + 20 * DAY - 1))[1].1, 10.0);
    assert_eq!(read(&*s, Some(BASE + 20 * DAY))[1].1, 11.0);

    let refused = [point(3, 5.0), point(0, 99.0)];
    s.insert_network(
        &[("hashrate_hs", &refused)],
        src,
        t(BASE + 30 * DAY),
        Revisions::Refuse,
    )
    .expect_err("a conflict");
    assert_eq!(read(&*s, None).len(), 3, "day 3 not written");
    assert_eq!(read(&*s, None)[0].1, 10.0);
    assert!(
        s.network_sources("hashrate_hs")
            .expect("sources")
            .contains("conformance-network")
    );
}

fn deriv(key: &str) -> DerivSeries {
    key.parse().expect("a series key")
}

/// A funding rate is known at its settlement, a day's liquidations at the day's end; a
/// revision is a new version; series of other venues stay apart and are listed as they were
/// as of a time.
pub fn derivatives_are_known_when_observed_or_at_their_bars_close_and_never_merge(
    b: &impl Backend,
) {
    let mut s = b.open("derivatives");
    let funding = deriv("funding_rate:BTCUSDT:binance:8h");
    let longs = deriv("long_liquidations_usd:BTC:binance:1d");
    let longs3 = deriv("long_liquidations_usd:BTC:binance+bybit+okx:1d");
    let at = |series: &DerivSeries, time: i64, value: f64| Point {
        time: t(time),
        value,
        available_at: series.available_at(t(time)),
    };
    let settled: Vec<Point> = (0..3)
        .map(|i| at(&funding, BASE + i * 8 * HOUR, 1e-4))
        .collect();
    let day = [at(&longs, BASE, 5e6)];
    let day3 = [at(&longs3, BASE, 9e6)];
    let src = Source::real("conformance-derivatives");
    s.insert_derivatives(
        &[(&funding, &settled), (&longs, &day), (&longs3, &day3)],
        src,
        t(BASE + 10 * DAY),
        Revisions::Keep,
    )
    .expect("a write");
    let read = |s: &dyn Stores, k: &DerivSeries, at: i64| s.derivatives(k, Some(t(at))).expect("r");
    assert_eq!(
        read(&*s, &funding, BASE + 8 * HOUR - 1).len(),
        1,
        "settled at 00:00"
    );
    assert_eq!(
        read(&*s, &funding, BASE + 8 * HOUR).len(),
        2,
        "settled at 08:00"
    );
    assert!(
        read(&*s, &longs, BASE + DAY - 1).is_empty(),
        "the day is not over"
    );
    assert_eq!(read(&*s, &longs, BASE + DAY), vec![(t(BASE), 5e6)]);
    assert_eq!(
        read(&*s, &longs3, BASE + DAY),
        vec![(t(BASE), 9e6)],
        "never merged"
    );

    let revised = [Point {
        available_at: t(BASE + 20 * DAY),
        ..at(&longs, BASE, 6e6)
    }];
    let r = s
        .insert_derivatives(
            &[(&longs, &revised)],
            src,
            t(BASE + 20 * DAY),
            Revisions::Keep,
        )
        .expect("a revision");
    assert_eq!(r.revised, 1);
    assert_eq!(read(&*s, &longs, BASE + 20 * DAY - 1)[0].1, 5e6);
    assert_eq!(read(&*s, &longs, BASE + 20 * DAY)[0].1, 6e6);
    assert_eq!(
        s.derivatives(&longs, None).expect("r"),
        vec![(t(BASE), 6e6)]
    );
    // From a time on: the same values as the whole read, from there.
    assert_eq!(
        s.derivatives_since(&funding, t(BASE + 8 * HOUR), None)
            .expect("since"),
        s.derivatives(&funding, None).expect("r")[1..].to_vec()
    );
    // Both versions, each with when it became available, in that order.
    let versions = s.derivative_versions(&longs, None).expect("versions");
    assert_eq!(
        versions
            .iter()
            .map(|p| (p.value, p.available_at))
            .collect::<Vec<_>>(),
        [(5e6, t(BASE + DAY)), (6e6, t(BASE + 20 * DAY))]
    );
    assert_eq!(
        s.derivative_versions(&longs, Some(t(BASE + 20 * DAY - 1)))
            .expect("versions")
            .len(),
        1
    );

    let listed = s
        .derivative_series(Some(t(BASE + DAY - 1)))
        .expect("series");
    assert_eq!(
        listed.len(),
        1,
        "only the funding is known before the day ends"
    );
    assert_eq!(listed[0].series, funding);
    assert_eq!(listed[0].first, t(BASE));
    assert_eq!(listed[0].last, t(BASE + 16 * HOUR));
    assert_eq!(
        listed[0].sources,
        vec!["conformance-derivatives".to_string()]
    );
    assert_eq!(s.derivative_series(None).expect("series").len(), 3);
}

/// A value said to be known before it can be (a day's total before the day ends) is refused
/// with the rest of its batch; so is a value out of its kind's range.
pub fn a_derivatives_value_claimed_known_too_early_is_refused_with_its_batch(b: &impl Backend) {
    let mut s = b.open("derivatives-early");
    let oi = deriv("oi_usd:BTC:all:1d");
    let shorts = deriv("short_liquidations_usd:BTC:binance:1d");
    let fine = [Point {
        time: t(BASE),
        value: 6e10,
        available_at: t(BASE),
    }];
    let early = [Point {
        time: t(BASE),
        value: 1e6,
        available_at: t(BASE + DAY - 1),
    }];
    let e = s
        .insert_derivatives(
            &[(&oi, &fine), (&shorts, &early)],
            Source::real("conformance-derivatives"),
            t(BASE),
            Revisions::Keep,
        )
        .expect_err("too early");
    assert!(matches!(e, StoreError::Invalid { .. }), "{e}");
    assert!(e.to_string().contains("before"), "{e}");
    let negative = [Point {
        value: -1.0,
        ..fine[0]
    }];
    s.insert_derivatives(
        &[(&oi, &negative)],
        Source::real("conformance-derivatives"),
        t(BASE),
        Revisions::Keep,
    )
    .expect_err("out of range");
    assert!(
        s.derivative_series(None).expect("series").is_empty(),
        "nothing written"
    );
}

/// A US close is known at 16:00 New York (21:00 UTC in winter), never at 00:00 UTC of its
/// date, a gauge from the start of its UTC day; a value claimed known earlier, or dated on a
/// weekend, is refused with its batch; a revision is a new version; the listing says what was
/// known as of a time.
pub fn market_values_are_known_at_their_exchanges_close_and_revised_as_versions(b: &impl Backend) {
    let mut s = b.open("markets");
    let ndx: MarketSeries = "US:NDX:close".parse().expect("a series");
    let fng: MarketSeries = "UTC:FEAR_GREED:value".parse().expect("a series");
    let thu = t(1_770_249_600_000); // 2026-02-05, a Thursday in winter time
    let fri = t(thu.millis() + DAY);
    let close = |day: canary_model::Timestamp, v: f64| Point {
        time: day,
        value: v,
        available_at: ndx.available_at(day).expect("a trading day"),
    };
    let src = Source::real("conformance-markets");
    s.insert_markets(
        &[
            (&ndx, &[close(thu, 24_548.7), close(fri, 25_075.8)]),
            (
                &fng,
                &[Point {
                    time: fri,
                    value: 9.0,
                    available_at: fri,
                }],
            ),
        ],
        src,
        t(fri.millis() + 2 * DAY),
        Revisions::Keep,
    )
    .expect("a write");
    let read = |s: &dyn Stores, k: &MarketSeries, at: i64| {
        s.markets_since(k, thu, Some(t(at))).expect("a read")
    };
    // Thursday's close at 21:00 UTC; Friday 05:00 UTC sees it and not Friday's.
    assert!(read(&*s, &ndx, thu.millis() + 21 * HOUR - 1).is_empty());
    assert_eq!(
        read(&*s, &ndx, fri.millis() + 5 * HOUR),
        vec![(thu, 24_548.7)]
    );
    assert_eq!(read(&*s, &fng, fri.millis() + 5 * HOUR), vec![(fri, 9.0)]);
    assert_eq!(read(&*s, &ndx, fri.millis() + 21 * HOUR).len(), 2);
    assert_eq!(
        s.markets_since(&ndx, fri, None).expect("since"),
        vec![(fri, 25_075.8)]
    );

    let revised = [Point {
        available_at: t(fri.millis() + 3 * DAY),
        ..close(thu, 24_550.0)
    }];
    let r = s
        .insert_markets(
            &[(&ndx, &revised)],
            src,
            t(fri.millis() + 3 * DAY),
            Revisions::Keep,
        )
        .expect("a revision");
    assert_eq!(r.revised, 1);
    assert_eq!(read(&*s, &ndx, fri.millis() + 3 * DAY - 1)[0].1, 24_548.7);
    assert_eq!(read(&*s, &ndx, fri.millis() + 3 * DAY)[0].1, 24_550.0);
    // Both versions of Thursday's close, each with when it became available, in that order.
    let versions: Vec<(f64, i64)> = s
        .market_versions(&ndx, None)
        .expect("versions")
        .iter()
        .filter(|p| p.time == thu)
        .map(|p| (p.value, p.available_at.millis()))
        .collect();
    assert_eq!(
        versions,
        [
            (24_548.7, thu.millis() + 21 * HOUR),
            (24_550.0, fri.millis() + 3 * DAY)
        ]
    );
    let again = s
        .insert_markets(
            &[(&ndx, &revised)],
            src,
            t(fri.millis() + 4 * DAY),
            Revisions::Keep,
        )
        .expect("the same again");
    assert_eq!((again.inserted, again.revised), (0, 0));

    // Known at 00:00 UTC of its date: refused, and so is its whole batch.
    let early = [Point {
        available_at: fri,
        ..close(fri, 1.0)
    }];
    let spx: MarketSeries = "US:SPX:close".parse().expect("a series");
    let e = s
        .insert_markets(
            &[(&spx, &[close(thu, 6_798.4)]), (&ndx, &early)],
            src,
            t(fri.millis() + 5 * DAY),
            Revisions::Keep,
        )
        .expect_err("too early");
    assert!(matches!(e, StoreError::Invalid { .. }), "{e}");
    assert!(e.to_string().contains("before"), "{e}");
    let saturday = t(fri.millis() + DAY);
    let e = s
        .insert_markets(
            &[(
                &spx,
                &[Point {
                    time: saturday,
                    value: 1.0,
                    available_at: t(saturday.millis() + DAY),
                }],
            )],
            src,
            t(fri.millis() + 5 * DAY),
            Revisions::Keep,
        )
        .expect_err("a Saturday");
    assert!(e.to_string().contains("Saturday"), "{e}");

    let listed = s
        .market_series(Some(t(fri.millis() + 5 * HOUR)))
        .expect("series");
    let keys: Vec<String> = listed.iter().map(|l| l.series.to_string()).collect();
    assert_eq!(
        keys,
        ["US:NDX:close", "UTC:FEAR_GREED:value"],
        "no SPX stored"
    );
    assert_eq!((listed[0].first, listed[0].last), (thu, thu));
    assert_eq!(listed[0].sources, vec!["conformance-markets".to_string()]);
}

/// An outflow is known from its block time; the same one again is present; another amount
/// for its transaction is refused with the rest of its batch.
pub fn an_outflow_is_known_from_its_block_time_and_never_revised(b: &impl Backend) {
    let mut s = b.open("outflows");
    let out = |txid: &str, btc: f64, h: i64| StoredOutflow {
        entity: "Miner".into(),
        txid: txid.into(),
        destination: "exchange".into(),
        btc,
        time: t(BASE + h * HOUR),
    };
    let src = Source::real("conformance-flows");
    let r = s
        .insert_outflows(&[out("a", 1.0, 1), out("b", 2.0, 5)], src, t(BASE + DAY))
        .expect("a write");
    assert_eq!(r.inserted, 2);
    assert_eq!(
        s.outflows("Miner", Some(t(BASE + 4 * HOUR)))
            .expect("r")
            .len(),
        1
    );
    assert_eq!(s.outflows("Miner", None).expect("r").len(), 2);
    let again = s
        .insert_outflows(&[out("a", 1.0, 1)], src, t(BASE + DAY))
        .expect("again");
    assert_eq!((again.inserted, again.present), (0, 1));
    s.insert_outflows(&[out("c", 3.0, 6), out("a", 1.5, 1)], src, t(BASE + DAY))
        .expect_err("a transaction is not revised");
    assert_eq!(
        s.outflows("Miner", None).expect("r").len(),
        2,
        "c not written"
    );
    assert_eq!(
        s.flow_entities().expect("entities"),
        vec!["Miner".to_string()]
    );
}

fn item(id: &str, title: &str, seen: i64) -> NewsItem {
    NewsItem {
        id: id.into(),
        outlet: "example.com".into(),
        source: "conformance-feed".into(),
        url: Some(format!("https://example.com/{id}")),
        title: title.into(),
        summary: String::new(),
        published_at: Some(t(seen - HOUR)),
        available_at: t(seen),
        language: Some("en".into()),
        duplicate_of: None,
    }
}

/// An item is known from when it was seen; storing it again changes nothing.
pub fn news_is_known_from_when_it_was_seen_and_stored_once(b: &impl Backend) {
    let mut s = b.open("news");
    let items = [
        item("n1", "Bitcoin miners sell reserves", BASE + HOUR),
        item(
            "n2",
            "Exchange halts withdrawals after hack",
            BASE + 3 * HOUR,
        ),
    ];
    let src = Source::real("conformance-feed");
    let r = s.insert_news(&items, src, t(BASE + DAY)).expect("a write");
    assert_eq!(r.inserted, 2);
    let q = |at: i64| NewsQuery {
        asof: Some(t(at)),
        ..NewsQuery::default()
    };
    assert_eq!(s.news(q(BASE + 2 * HOUR)).expect("r").len(), 1);
    assert_eq!(s.news(q(BASE + 3 * HOUR)).expect("r").len(), 2);
    let again = s
        .insert_news(&items, src, t(BASE + 2 * DAY))
        .expect("again");
    assert_eq!((again.inserted, again.present), (0, 2));
    assert_eq!(s.news_count().expect("count"), 2);
    assert_eq!(
        s.news_by_ids(&["n2".into()]).expect("by id")[0].title,
        items[1].title
    );
}

/// Events come back in the order taken; one stored again (same identity) is not stored
/// twice, while an equal event that came after it (the next occurrence) is.
pub fn events_are_stored_once_by_identity_in_the_order_taken(b: &impl Backend) {
    let mut s = b.open("events");
    let ev = |at: i64, payload: &str, occurrence: u32| NewEvent {
        source: "conformance-ws".into(),
        kind: "trade".into(),
        symbol: Some("BTCUSDT".into()),
        event_time: t(BASE + at),
        available_at: t(BASE + at + 5),
        payload: payload.into(),
        occurrence,
    };
    let batch = [
        ev(20, r#"{"p":2}"#, 0),
        ev(10, r#"{"p":1}"#, 0),
        ev(10, r#"{"p":1}"#, 1),
    ];
    assert_eq!(s.append_events(&batch).expect("append"), 3);
    assert_eq!(s.append_events(&batch).expect("again"), 0);
    let got = s.events(t(BASE), t(BASE + HOUR)).expect("events");
    let payloads: Vec<&str> = got.iter().map(|e| e.payload.as_str()).collect();
    assert_eq!(
        payloads,
        [r#"{"p":2}"#, r#"{"p":1}"#, r#"{"p":1}"#],
        "the order taken"
    );
    assert!(s.events(t(BASE + 16), t(BASE + HOUR)).expect("later").len() == 1);
}

/// The live engine's store of what it took, at once: the same rows, reports and reads as
/// the events appended then each series' bars inserted one write after another. The
/// series cover each way a bar meets what is stored: appended after the latest, into a
/// fresh series, revised, present, and a series given twice.
pub fn what_the_engine_took_is_stored_at_once_as_each_write_would(b: &impl Backend) {
    let (btc, eth, sol) = (btc(), sym("ETHUSDT"), sym("SOLUSDT"));
    let other = |i: i64| bar(i, 500.0 + i as f64);
    let held = [(&btc, bars(0..10)), (&sol, bars(0..5))];
    let events = [ev_at(20, "a"), ev_at(10, "b"), ev_at(10, "b")];
    let btc_new = bars(10..12);
    let eth_new = bars(0..3);
    let sol_new = [other(3), bar(4, 104.0), bar(5, 105.0)];
    let sol_late = [bar(6, 106.0)];
    let series: [(&Symbol, &[NewCandle], &str); 4] = [
        (&btc, &btc_new, "conformance"),
        (&eth, &eth_new, "conformance"),
        (&sol, &sol_new, "conformance"),
        (&sol, &sol_late, "conformance-b"),
    ];
    // Ingested before the bars' own availability, so that a revision's is its bar's (a
    // batch shares one ingest stamp where separate writes take one each).
    let ingested = BASE + HOUR;
    let prepare = |name: &str| {
        let mut s = b.open(name);
        for (symbol, rows) in &held {
            write_bars(&mut *s, symbol, rows, BASE, Revisions::Keep).expect("held bars");
        }
        s.append_events(&events[..1]).expect("an event held");
        s
    };
    let mut one = prepare("taken-at-once");
    let groups: Vec<SeriesBars<'_>> = series
        .iter()
        .map(|(symbol, rows, source)| SeriesBars {
            source: Source::real(source),
            symbol,
            tf: Timeframe::H1,
            rows,
        })
        .collect();
    let taken = one
        .store_taken(&events, &groups, t(ingested))
        .expect("stored at once");
    let mut each = prepare("taken-one-by-one");
    let mut expected = crate::Taken {
        events: each.append_events(&events).expect("events"),
        ..crate::Taken::default()
    };
    for (symbol, rows, source) in &series {
        let r = each
            .insert_candles(
                symbol,
                Timeframe::H1,
                Source::real(source),
                t(ingested),
                rows,
                Revisions::Keep,
                |_| {},
            )
            .expect("one series");
        expected.bars.inserted += r.inserted;
        expected.bars.present += r.present;
        expected.bars.revised += r.revised;
    }
    assert_eq!(taken, expected);
    assert_eq!(
        (
            taken.events,
            taken.bars.inserted,
            taken.bars.present,
            taken.bars.revised
        ),
        (1, 7, 1, 1),
        "one new event (one held, one given twice); bars 10 and 11, three of a fresh series, 5 and 6 new, 4 present, 3 revised"
    );
    let seen = |s: &dyn Stores, symbol: &Symbol, q: &CandleQuery| -> Vec<_> {
        read(s, symbol, q)
            .into_iter()
            .map(|c| (c.candle, c.source, c.available_at, c.source_bars))
            .collect()
    };
    for symbol in [&btc, &eth, &sol] {
        for q in [
            CandleQuery::default(),
            asof(BASE + 4 * HOUR),
            asof(BASE + 5 * HOUR),
        ] {
            assert_eq!(
                seen(&*one, symbol, &q),
                seen(&*each, symbol, &q),
                "{symbol} {q:?}"
            );
        }
    }
    assert_eq!(
        closes(&*one, &asof(BASE + 5 * HOUR))[..4],
        [100.0, 101.0, 102.0, 103.0],
        "BTC as held"
    );
    let sol_at = |ms: i64| -> Vec<f64> {
        read(&*one, &sol, &asof(ms))
            .iter()
            .map(|c| c.candle.close)
            .collect()
    };
    assert_eq!(
        sol_at(BASE + 4 * HOUR)[3],
        103.0,
        "the old version before the revision"
    );
    assert_eq!(
        sol_at(BASE + 5 * HOUR)[3],
        503.0,
        "the revision from its availability"
    );
    let all = |s: &dyn Stores| -> Vec<_> {
        s.events(t(BASE), t(BASE + DAY))
            .expect("events")
            .into_iter()
            .map(|e| (e.payload, e.occurrence))
            .collect()
    };
    assert_eq!(all(&*one), all(&*each));
    // Stored again: nothing new.
    let again = one
        .store_taken(&events, &groups, t(ingested + 1))
        .expect("again");
    assert_eq!(
        (again.events, again.bars.inserted, again.bars.present),
        (0, 0, 9)
    );
}

/// A batch of the live engine with an invalid bar writes nothing, events included.
pub fn what_the_engine_took_is_stored_whole_or_not_at_all(b: &impl Backend) {
    let mut s = b.open("taken-whole");
    let mut broken = bar(2, 102.0);
    broken.candle.high = f64::NAN;
    let fine = bars(0..2);
    let rows = [broken];
    let groups = [
        SeriesBars {
            source: Source::real("conformance"),
            symbol: &btc(),
            tf: Timeframe::H1,
            rows: &fine,
        },
        SeriesBars {
            source: Source::real("conformance"),
            symbol: &sym("ETHUSDT"),
            tf: Timeframe::H1,
            rows: &rows,
        },
    ];
    let e = s
        .store_taken(&[ev_at(1, "a")], &groups, t(BASE + HOUR))
        .expect_err("an invalid bar");
    assert!(matches!(e, StoreError::Invalid { .. }), "{e}");
    assert!(closes(&*s, &CandleQuery::default()).is_empty(), "no bar");
    assert!(s.events(t(BASE), t(BASE + DAY)).expect("events").is_empty());
}

fn sym(name: &str) -> Symbol {
    Symbol::new(name).expect("a valid symbol")
}

/// An event of the engine `at` ms after [`BASE`], available 5 ms later.
fn ev_at(at: i64, payload: &str) -> NewEvent {
    NewEvent {
        source: "conformance-ws".into(),
        kind: "trade".into(),
        symbol: Some("BTCUSDT".into()),
        event_time: t(BASE + at),
        available_at: t(BASE + at + 5),
        payload: format!(r#"{{"p":"{payload}"}}"#),
        occurrence: 0,
    }
}

/// A rule's state and its notices are saved together, and a notice saved again under its
/// key is one delivery.
pub fn an_evaluation_and_its_notices_are_saved_once(b: &impl Backend) {
    let mut s = b.open("alerts");
    let id = s
        .add_rule("alice", "close < 60000", "4h", "{}", "{}", t(BASE))
        .expect("a rule");
    assert_eq!(s.rules(Some("alice")).expect("rules").len(), 1);
    assert!(s.rules(Some("bob")).expect("rules").is_empty());
    let state = StoredAlertState {
        rule_id: id,
        fingerprint: "fp".into(),
        alert: "{}".into(),
        evaluated_to: t(BASE + HOUR),
    };
    let notices = vec![("key-1".to_string(), "{}".to_string(), false, false)];
    s.save_evaluation(&state, &notices, t(BASE + HOUR))
        .expect("saved");
    s.save_evaluation(&state, &notices, t(BASE + 2 * HOUR))
        .expect("saved again");
    assert_eq!(s.alert_state(id).expect("state"), Some(state));
    assert_eq!(
        s.undelivered().expect("pending").len(),
        1,
        "one notice per key"
    );
    s.record_attempt("key-1", Ok(12), t(BASE + 2 * HOUR))
        .expect("attempt");
    assert!(s.undelivered().expect("pending").is_empty());
    assert_eq!(s.delivery_log(Some(id)).expect("log").len(), 1);
    assert!(!s.remove_rule("bob", id).expect("not bob's"));
    assert!(s.remove_rule("alice", id).expect("alice's"));
}

/// An analysis stored again is not stored twice; a new version of the same time is another.
pub fn analyses_are_append_only(b: &impl Backend) {
    let mut s = b.open("analyses");
    let a = StoredAnalysis {
        id: "abc123".into(),
        symbol: "BTCUSDT".into(),
        topic: "crash".into(),
        as_of: t(BASE),
        version: "1".into(),
        headline: "h".into(),
        label: Some("Bearish".into()),
        tags: vec!["crash".into()],
        markdown: "m".into(),
        json: "{}".into(),
        created_at: t(BASE),
        html: None,
    };
    assert!(s.insert_analysis(&a, t(BASE + HOUR)).expect("new"));
    assert!(!s.insert_analysis(&a, t(BASE + 2 * HOUR)).expect("present"));
    let v2 = StoredAnalysis {
        id: "abd456".into(),
        version: "2".into(),
        ..a.clone()
    };
    assert!(
        s.insert_analysis(&v2, t(BASE + 3 * HOUR))
            .expect("a new version")
    );
    assert_eq!(s.analysis_versions(&a).expect("versions").len(), 2);
    assert_eq!(
        s.analysis("abc").expect("by prefix").map(|x| x.id),
        Some(a.id.clone())
    );
    assert_eq!(s.analysis_ids_with_prefix("ab", 10).expect("ids").0, 2);
    assert_eq!(s.analyses(Some("crash")).expect("tagged").len(), 2);
}

/// A revoked token stays listed, with when it was revoked.
pub fn tokens_are_revoked_never_deleted(b: &impl Backend) {
    let mut s = b.open("tokens");
    let id = s
        .add_token("ci", "hash-1", "read", t(BASE))
        .expect("a token");
    let (revoked, _) = s
        .revoke_token(id, false, t(BASE + HOUR))
        .expect("revoke")
        .expect("a valid token");
    assert_eq!(revoked.revoked_at, Some(t(BASE + HOUR)));
    assert!(
        s.revoke_token(id, false, t(BASE + 2 * HOUR))
            .expect("again")
            .is_none()
    );
    assert_eq!(s.tokens().expect("tokens").len(), 1);
    let found = s.token_by_hash("hash-1").expect("by hash").expect("kept");
    assert_eq!(found.revoked_at, Some(t(BASE + HOUR)));
}

/// A source name keeps the kind it was first written with (another kind writes nothing),
/// and the data version moves with every write a report reads.
pub fn a_source_keeps_its_kind_and_every_write_moves_the_data_version(b: &impl Backend) {
    let mut s = b.open("catalog");
    let v0 = s.data_version().expect("version");
    write_bars(&mut *s, &btc(), &bars(0..2), BASE + DAY, Revisions::Keep).expect("a write");
    let v1 = s.data_version().expect("version");
    assert_ne!(v0, v1);
    let sim = Source {
        name: "conformance",
        kind: SourceKind::Sim,
    };
    let e = s
        .insert_candles(
            &btc(),
            Timeframe::H1,
            sim,
            t(BASE + DAY),
            &bars(2..4),
            Revisions::Keep,
            |_| {},
        )
        .expect_err("another kind");
    assert!(matches!(e, StoreError::SourceKind { .. }), "{e}");
    assert_eq!(
        closes(&*s, &CandleQuery::default()).len(),
        2,
        "nothing written"
    );
    assert_eq!(
        s.source_kinds().expect("kinds").get("conformance"),
        Some(&SourceKind::Real)
    );
    s.insert_news(&[item("n", "t", BASE)], Source::real("feed"), t(BASE))
        .expect("news");
    let v2 = s.data_version().expect("version");
    assert_ne!(v1, v2);
}
