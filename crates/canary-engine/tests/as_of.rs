//! No report reads past its time. Each report is run as of the crash morning T on two
//! stores: one holding only what was known at T, one holding that and data known only later
//! (bars that closed after T, a revision of a bar before T stored after T, headlines first
//! seen after T, network values of days that ended after T, funding settled after T and a
//! revision of one settled before, stored after T, analyses stored after T), with
//! the built-in company facts (which hold filings published after T) on both. The
//! reports must come out byte for byte the same: anything read past T would show.
//!
//! The known store is built from the full one through the store's own as-of reads, so the
//! test also holds those reads to what each report sees through its `Context`.

use std::path::{Path, PathBuf};

use canary_analytics::score::Methodology;
use canary_engine::analysis::{AnalyzeParams, Topic, analyze, render};
use canary_engine::{
    Context, DerivativesParams, LiqMapParams, NewsParams, ScenarioParams, ScoreParams,
    SearchParams, StatsParams, WatchParams, derivatives, liquidation_map, news, news_search,
    scenario, score, stats, watch,
};
use canary_model::derivatives::DerivSeries;
use canary_model::markets::MarketSeries;
use canary_model::news::NewsItem;
use canary_model::{Candle, Symbol, Timeframe, Timestamp};
use canary_news::sentiment::Lexicon;
use canary_news::tags::Dictionary;
use canary_store::prelude::*;
use canary_store::{CandleQuery, NewCandle, NewsQuery, Point, Revisions, Source, StoredAnalysis};

const T: &str = "2026-02-06T05:00:00Z";
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn shared(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(name);
    assert!(p.is_file(), "missing shared data file {}", p.display());
    p
}

fn t() -> Timestamp {
    Timestamp::parse(T).unwrap()
}

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

/// The real bars (4h and daily) and headlines, daily hash rates from before to after T,
/// and what became known only after T.
fn full_store(db: &Path) -> Box<dyn Stores> {
    let mut s = canary_store::open(db).unwrap();
    let asof = t();
    for (file, tf) in [
        ("btcusdt_binance_4h.csv", Timeframe::H4),
        ("btcusdt_binance_1d.csv", Timeframe::D1),
    ] {
        let report = canary_engine::store_bar_file(&mut *s, &shared(file), &btc(), asof).unwrap();
        assert!(report.inserted > 100, "{file}: {report:?}");
        let after = s
            .candles(&btc(), tf, &CandleQuery::default())
            .unwrap()
            .into_iter()
            .filter(|c| c.available_at > asof)
            .count();
        assert!(
            after > 0,
            "{file} must reach past T for the test to mean anything"
        );
    }
    let items = canary_ingest::news::read_headlines(
        &shared("news_2026-02-05_sources.csv"),
        asof,
        &canary_ingest::csv::TimeRange::until(asof),
    )
    .unwrap();
    assert!(!items.is_empty());
    s.insert_news(&items, Source::real("news.csv"), asof)
        .unwrap();

    // A bar of the morning, revised a day after T.
    let last_known = s
        .candles(
            &btc(),
            Timeframe::H4,
            &CandleQuery {
                asof: Some(asof),
                last: Some(1),
                ..CandleQuery::default()
            },
        )
        .unwrap()
        .remove(0);
    let c = last_known.candle;
    let revised = Candle::new(
        c.open_time,
        c.open,
        c.high * 1.2,
        c.low * 0.5,
        c.close * 0.7,
        c.volume * 3.0,
        None,
        None,
    )
    .unwrap();
    let r = s
        .insert_candles(
            &btc(),
            Timeframe::H4,
            Source::real("revision"),
            asof.add_millis(DAY),
            &[NewCandle {
                candle: revised,
                available_at: last_known.available_at,
                source_bars: None,
            }],
            Revisions::Keep,
            |_| {},
        )
        .unwrap();
    assert_eq!(r.revised, 1);

    // Headlines first seen after T, about the very things the reports look for.
    let later = |id: &str, title: &str, after_ms: i64| NewsItem {
        id: id.into(),
        outlet: "later.example".into(),
        source: "later.csv".into(),
        url: Some(format!("https://later.example/{id}")),
        title: title.into(),
        summary: "Bitcoin miners sell as BTC crashes; liquidations and capitulation.".into(),
        published_at: Some(asof.add_millis(after_ms)),
        available_at: asof.add_millis(after_ms),
        language: Some("en".into()),
        duplicate_of: None,
    };
    s.insert_news(
        &[
            later(
                "l1",
                "Bitcoin crashes below $50,000 as miners capitulate",
                1,
            ),
            later(
                "l2",
                "Bitcoin miners MARA and RIOT sell reserves in BTC crash",
                HOUR,
            ),
        ],
        Source::real("later.csv"),
        asof.add_millis(2 * HOUR),
    )
    .unwrap();

    // Hash rate by day, from 60 days before T to 10 days after.
    let day0 = Timeframe::D1.floor(asof).millis();
    let points: Vec<Point> = (-60..10)
        .map(|d| Point {
            time: Timestamp::from_millis(day0 + d * DAY),
            value: 1.0e21 * (1.0 + d as f64 / 100.0),
            available_at: Timestamp::from_millis(day0 + (d + 1) * DAY),
        })
        .collect();
    s.insert_network(
        &[("hashrate_hs", &points)],
        Source::real("hashrate.csv"),
        asof,
        Revisions::Keep,
    )
    .unwrap();

    store_derivatives(&mut *s, asof);
    store_markets(&mut *s, asof);

    // Analyses with the tags of the morning's: one about an earlier time, one about a time
    // after T.
    let tags = reports(&*s, &db.with_extension("tags-index"))
        .into_iter()
        .find(|(name, _)| name == "analysis Miners")
        .map(|(_, json)| {
            let v: serde_json::Value = serde_json::from_str(&json).unwrap();
            v["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .unwrap();
    assert!(!tags.is_empty());
    for (id, as_of) in [
        ("before", asof.add_millis(-DAY)),
        ("after", asof.add_millis(DAY)),
    ] {
        let a = StoredAnalysis {
            id: id.into(),
            symbol: "BTCUSDT".into(),
            topic: "miners".into(),
            as_of,
            version: "1".into(),
            headline: format!("analysis {id}"),
            label: Some("Bearish".into()),
            tags: tags.clone(),
            markdown: String::new(),
            json: "{}".into(),
            created_at: as_of,
            html: None,
        };
        s.insert_analysis(&a, as_of).unwrap();
    }
    s
}

/// Funding (to April 2026), open interest and liquidations, and the funding settled at 00:00
/// on the crash morning revised a day after T.
fn store_derivatives(s: &mut dyn Stores, asof: Timestamp) {
    let opts = canary_ingest::derivatives::DerivOptions {
        range: canary_ingest::csv::TimeRange::until(asof.add_millis(400 * DAY)),
        ..canary_ingest::derivatives::DerivOptions::default()
    };
    for name in [
        "btcusdt_perp_funding_8h_binance_2019-09_2026-04.csv",
        "btc_open_interest_daily_coinglass_all_exchanges_2020-02_2025-11.csv",
        "btc_liquidations_daily_coinglass_binance_2020-12_2025-11.csv",
    ] {
        canary_engine::jobs::derivatives::DerivativesFile::read(&shared(name), &opts)
            .unwrap()
            .store(s, None, Revisions::Keep, asof)
            .unwrap();
    }
    let funding: DerivSeries = "funding_rate:BTCUSDT:binance:8h".parse().unwrap();
    let midnight = Timeframe::D1.floor(asof);
    let r = s
        .insert_derivatives(
            &[(
                &funding,
                &[Point {
                    time: midnight,
                    value: 0.003,
                    available_at: midnight,
                }],
            )],
            Source::real("funding revision"),
            asof.add_millis(DAY),
            Revisions::Keep,
        )
        .unwrap();
    assert_eq!(r.revised, 1);
    assert!(
        s.derivatives(&funding, None)
            .unwrap()
            .iter()
            .any(|(t, _)| *t > asof),
        "funding must reach past T for the test to mean anything"
    );
}

/// Equities, indices and Fear & Greed to 2026 (the 6 February session closes after T), and
/// the Nasdaq-100's 5 February close revised a day after T.
fn store_markets(s: &mut dyn Stores, asof: Timestamp) {
    let opts = canary_ingest::markets::MarketOptions::default();
    for name in [
        "equities_daily_ohlcv_yahoo_2018-01_2026-05.csv",
        "us_indices_daily_fred_nasdaq100_sp500_2018-01_2026-08.csv",
        "fear_greed_index_daily_alternative_me_2018-02_2026-02.csv",
    ] {
        canary_engine::jobs::markets::MarketsFile::read(&shared(name), &opts)
            .unwrap()
            .store(s, None, Revisions::Keep, asof)
            .unwrap();
    }
    let ndx: MarketSeries = "US:NDX:close".parse().unwrap();
    let thursday = Timestamp::parse("2026-02-05").unwrap();
    let r = s
        .insert_markets(
            &[(
                &ndx,
                &[Point {
                    time: thursday,
                    value: 20_000.0,
                    available_at: ndx.available_at(thursday).unwrap(),
                }],
            )],
            Source::real("index revision"),
            asof.add_millis(DAY),
            Revisions::Keep,
        )
        .unwrap();
    assert_eq!(r.revised, 1);
}

/// What the full store knew at T, copied through its as-of reads into a store of its own.
fn known_store(full: &dyn Stores, db: &Path) -> Box<dyn Stores> {
    let asof = t();
    let mut s = canary_store::open(db).unwrap();
    for info in full.series().unwrap() {
        let q = CandleQuery {
            asof: Some(asof),
            ..CandleQuery::default()
        };
        for c in full.candles(&info.symbol, info.timeframe, &q).unwrap() {
            s.insert_candles(
                &info.symbol,
                info.timeframe,
                Source::real(&c.source),
                asof,
                &[NewCandle {
                    candle: c.candle,
                    available_at: c.available_at,
                    source_bars: c.source_bars,
                }],
                Revisions::Keep,
                |_| {},
            )
            .unwrap();
        }
    }
    let items = full
        .news(NewsQuery {
            asof: Some(asof),
            ..NewsQuery::default()
        })
        .unwrap();
    for source in ["news.csv", "later.csv"] {
        let mine: Vec<NewsItem> = items
            .iter()
            .filter(|i| i.source == source)
            .cloned()
            .collect();
        if !mine.is_empty() {
            s.insert_news(&mine, Source::real(source), asof).unwrap();
        }
    }
    let values = full.network("hashrate_hs", Some(asof)).unwrap();
    let points: Vec<Point> = values
        .iter()
        .map(|&(time, value)| Point {
            time,
            value,
            available_at: Timeframe::D1.close_of(time),
        })
        .collect();
    s.insert_network(
        &[("hashrate_hs", &points)],
        Source::real("hashrate.csv"),
        asof,
        Revisions::Keep,
    )
    .unwrap();
    for info in full.derivative_series(Some(asof)).unwrap() {
        let points: Vec<Point> = full
            .derivatives(&info.series, Some(asof))
            .unwrap()
            .into_iter()
            .map(|(time, value)| Point {
                time,
                value,
                available_at: info.series.available_at(time),
            })
            .collect();
        s.insert_derivatives(
            &[(&info.series, &points)],
            Source::real(&info.sources.join("+")),
            asof,
            Revisions::Keep,
        )
        .unwrap();
    }
    for info in full.market_series(Some(asof)).unwrap() {
        let points: Vec<Point> = full
            .markets_since(&info.series, info.first, Some(asof))
            .unwrap()
            .into_iter()
            .map(|(time, value)| Point {
                time,
                value,
                available_at: info.series.available_at(time).unwrap(),
            })
            .collect();
        s.insert_markets(
            &[(&info.series, &points)],
            Source::real(&info.sources.join("+")),
            asof,
            Revisions::Keep,
        )
        .unwrap();
    }
    for a in full.analyses(None).unwrap() {
        if a.as_of < asof {
            s.insert_analysis(&a, a.created_at).unwrap();
        }
    }
    s
}

/// Every report of the crash morning, as JSON, in a fixed order.
fn reports(store: &dyn Stores, index_dir: &Path) -> Vec<(String, String)> {
    let profiles = canary_engine::facts::Profiles::built_in().unwrap();
    let ctx = Context::new(store, t()).unwrap().with_profiles(&profiles);
    let dict = Dictionary::built_in();
    let lex = Lexicon::built_in();
    let json = |v: serde_json::Result<String>| v.unwrap();
    let mut out = Vec::new();
    let mut index = canary_search::NewsIndex::open(index_dir).unwrap();
    for topic in [Topic::Market, Topic::Miners] {
        let p = AnalyzeParams {
            symbol: btc(),
            asset: "BTC".into(),
            topic,
            method: Methodology::built_in(),
            templates: render::Templates::default(),
        };
        let r = analyze(&ctx, &p, &dict, lex, Some(&mut index)).unwrap();
        out.push((
            format!("analysis {topic:?}"),
            json(serde_json::to_string(&r)),
        ));
    }
    let s = stats(
        &ctx,
        &StatsParams {
            symbol: btc(),
            intraday: Timeframe::H4,
        },
    )
    .unwrap();
    out.push(("stats".into(), json(serde_json::to_string(&s))));
    let w = watch(&ctx, &WatchParams::new(btc())).unwrap();
    out.push(("watch".into(), json(serde_json::to_string(&w))));
    let sc = score(&ctx, &ScoreParams::published(btc()), &dict, lex).unwrap();
    out.push(("score".into(), json(serde_json::to_string(&sc))));
    let n = news(&ctx, &dict, lex, &NewsParams::default()).unwrap();
    out.push(("news".into(), json(serde_json::to_string(&n))));
    let search = SearchParams {
        text: "bitcoin".into(),
        related: None,
        lookback_ms: Some(7 * DAY),
        tag: None,
        outlet: None,
        sentiment: None,
        limit: 20,
    };
    let found = news_search(&ctx, &mut index, &dict, lex, &search).unwrap();
    out.push(("news search".into(), json(serde_json::to_string(&found))));
    let d = derivatives(
        &ctx,
        &DerivativesParams {
            market: None,
            symbol: btc(),
            only: None,
        },
    )
    .unwrap();
    out.push(("derivatives".into(), json(serde_json::to_string(&d))));
    let m = liquidation_map(
        &ctx,
        &LiqMapParams {
            symbol: btc(),
            map: canary_analytics::liqmap::MapParams::reference(),
            shocks: vec![0.03, 0.1],
            targets: vec![52_000.0],
            band_pct: 15,
        },
    )
    .unwrap();
    out.push(("liquidation map".into(), json(serde_json::to_string(&m))));
    let sc = scenario(
        &ctx,
        &ScenarioParams {
            symbol: btc(),
            price: 52_000.0,
        },
    )
    .unwrap();
    out.push(("scenario".into(), json(serde_json::to_string(&sc))));
    let mk = canary_engine::markets(
        &ctx,
        &canary_engine::MarketsParams {
            symbol: btc(),
            miners: None,
        },
    )
    .unwrap();
    assert!(mk.body.session.is_some() && !mk.body.correlations.is_empty());
    out.push(("markets".into(), json(serde_json::to_string(&mk))));
    out
}

#[test]
fn shared_data_no_report_reads_past_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let full = full_store(&dir.path().join("full.db"));
    let known = known_store(&*full, &dir.path().join("known.db"));
    let a = reports(&*full, &dir.path().join("full-index"));
    let b = reports(&*known, &dir.path().join("known-index"));
    assert_eq!(a.len(), b.len());
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x.len() > 200, "{name} says something: {x}");
        if x != y {
            let at = x.bytes().zip(y.bytes()).take_while(|(p, q)| p == q).count();
            let from = at.saturating_sub(200);
            panic!(
                "{name} differs when data known only after T is stored, at byte {at}:\n with: …{}\n without: …{}",
                &x[from..(at + 200).min(x.len())],
                &y[from..(at + 200).min(y.len())]
            );
        }
    }
}
