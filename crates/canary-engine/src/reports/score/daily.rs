//! The daily inputs every score reads: for each daily bar known at T, the market
//! components' raw values, the network series (Hash Ribbons, hashprice stress), the
//! derivatives (funding, liquidations over open interest), the miners'
//! outflows and the news (sentiment and volume of items relevant to the asset), each with the
//! series and source a claim names, and every component normalised against its trailing
//! history; and each day's event (a fall within the horizon), for the calibrations.

use std::collections::BTreeMap;

use canary_analytics::score::inputs::{align, market_inputs, ribbons_series, stress_series};
use canary_analytics::score::validate::forward;
use canary_analytics::score::{Methodology, normalise_series};
use canary_model::Timeframe;
use canary_model::Timestamp;
use canary_model::derivatives::DerivSeries;
use canary_model::network::NetworkSeries;
use canary_news::sentiment::{Lexicon, sentiment_with};
use canary_news::tags::{Dictionary, relevance};

use super::{NEWS_RELEVANCE_FLOOR, ScoreParams};
use crate::{Context, Draft, EngineError};

const DAY_MS: i64 = 86_400_000;

/// Every day's raw inputs, with where they came from.
pub(super) struct Daily {
    pub opens: Vec<Timestamp>,
    pub close: Vec<f64>,
    pub low: Vec<f64>,
    pub raw: BTreeMap<String, Vec<f64>>,
    /// Inputs whose source a claim names: key → (series, source).
    pub sources: BTreeMap<String, (String, String)>,
    pub bars_source: String,
    /// Each component's normalised value on every day, in the methodology's order.
    pub norm: Vec<Vec<Option<f64>>>,
}

pub(super) fn daily_inputs(
    ctx: &Context<'_>,
    p: &ScoreParams,
    news: Option<(&Dictionary, &Lexicon)>,
    draft: &mut Draft,
) -> Result<Daily, EngineError> {
    let input = ctx.bars(&p.symbol, Timeframe::D1)?;
    draft.uses(&input);
    let bars = &input.value.candles;
    let opens: Vec<Timestamp> = bars.iter().map(|b| b.open_time).collect();
    let mut raw: BTreeMap<String, Vec<f64>> = market_inputs(bars)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let mut sources = BTreeMap::new();
    for k in raw.keys() {
        sources.insert(k.clone(), (input.series.clone(), input.source.clone()));
    }
    // Network: Hash Ribbons and hashprice stress, known when each day ends.
    let net = |s: NetworkSeries| ctx.network(s, None);
    if let Some(h) = net(NetworkSeries::HashrateHs)? {
        draft.uses(&h);
        raw.insert(
            "hash_ribbons".into(),
            align(&opens, &ribbons_series(&h.value), 3),
        );
        sources.insert("hash_ribbons".into(), (h.series.clone(), h.source.clone()));
        if let (Some(s), Some(e)) = (
            net(NetworkSeries::SubsidyUsd)?,
            net(NetworkSeries::FleetEfficiencyEstimate)?,
        ) {
            draft.uses(&s);
            draft.uses(&e);
            raw.insert(
                "hashprice_stress".into(),
                align(&opens, &stress_series(&h.value, &s.value, &e.value), 3),
            );
            sources.insert(
                "hashprice_stress".into(),
                (
                    format!("{}, {}, {}", h.series, s.series, e.series),
                    format!("{}+{}+{}", h.source, s.source, e.source),
                ),
            );
        }
    }
    derivatives_inputs(ctx, &opens, &mut raw, &mut sources, draft)?;
    // Miner outflows: the day's total over every entity with stored outflows.
    let entities = ctx.flow_entities()?;
    if !entities.is_empty() {
        let mut by_day: BTreeMap<i64, f64> = BTreeMap::new();
        for e in &entities {
            for o in ctx.outflows(e)?.value {
                *by_day
                    .entry(o.time.millis().div_euclid(DAY_MS))
                    .or_default() += o.btc;
            }
        }
        if let Some(&first) = by_day.keys().next() {
            let v: Vec<f64> = opens
                .iter()
                .map(|t| {
                    let d = t.millis().div_euclid(DAY_MS);
                    if d < first {
                        f64::NAN
                    } else {
                        by_day.get(&d).copied().unwrap_or(0.0)
                    }
                })
                .collect();
            raw.insert("miner_outflow_z".into(), v);
            sources.insert(
                "miner_outflow_z".into(),
                ("miner outflows".into(), entities.join("+")),
            );
        }
    }
    // News: the mean sentiment (24 h before each bar's close) and the count of items
    // relevant to the asset, from the first day with any news.
    if let Some((dict, lex)) = news {
        let window = i64::try_from(p.method.window_days).unwrap_or(730) * DAY_MS;
        let items = ctx.news(window)?;
        if !items.value.is_empty() {
            draft.uses(&items);
            let relevant: Vec<(Timestamp, f64)> = items
                .value
                .iter()
                .filter_map(|i| {
                    let text = canary_news::dedup::item_text(&i.title, &i.summary);
                    let tags = dict.tag(&text);
                    (i.duplicate_of.is_none()
                        && relevance(dict, &tags, &p.asset, None).score >= NEWS_RELEVANCE_FLOOR)
                        .then(|| (i.available_at, sentiment_with(lex, &text).score))
                })
                .collect();
            let first = items.value[0].available_at;
            let (mut sent, mut count) = (Vec::new(), Vec::new());
            for &open in &opens {
                let close = open.add_millis(DAY_MS);
                if close < first {
                    sent.push(f64::NAN);
                    count.push(f64::NAN);
                    continue;
                }
                let day: Vec<f64> = relevant
                    .iter()
                    .filter(|(t, _)| *t <= close && *t > close.add_millis(-DAY_MS))
                    .map(|x| x.1)
                    .collect();
                let n = day.len() as f64;
                sent.push(if day.is_empty() {
                    f64::NAN
                } else {
                    day.iter().sum::<f64>() / n
                });
                count.push(n);
            }
            raw.insert("news_sentiment".into(), sent);
            raw.insert("news_volume".into(), count);
            for k in ["news_sentiment", "news_volume"] {
                sources.insert(k.into(), ("news".into(), items.source.clone()));
            }
        }
    }
    let m = &p.method;
    let norm = m
        .components
        .iter()
        .map(|c| {
            raw.get(&c.key).map_or_else(
                || vec![None; opens.len()],
                |s| normalise_series(c, s, m.window_days, m.min_history_days),
            )
        })
        .collect();
    Ok(Daily {
        opens,
        close: bars.iter().map(|b| b.close).collect(),
        low: bars.iter().map(|b| b.low).collect(),
        raw,
        sources,
        bars_source: input.source.clone(),
        norm,
    })
}

/// The derivatives components (`docs/track-record.md`, pre-registered): `funding_z`'s raw
/// value, the mean of Binance BTCUSDT's funding rates settled in the 24 h ending at the day's
/// close; `liquidated_share_oi`'s, Binance's long plus short liquidations of the day over the
/// all-venue open interest at the day's open. NaN where an input is absent.
fn derivatives_inputs(
    ctx: &Context<'_>,
    opens: &[Timestamp],
    raw: &mut BTreeMap<String, Vec<f64>>,
    sources: &mut BTreeMap<String, (String, String)>,
    draft: &mut Draft,
) -> Result<(), EngineError> {
    let key = |k: &str| k.parse::<DerivSeries>().expect("a valid series key");
    if let Some(f) = ctx.derivatives(&key("funding_rate:BTCUSDT:binance:8h"))? {
        draft.uses(&f);
        let v: Vec<f64> = opens
            .iter()
            .map(|o| {
                let (from, to) = (*o, o.add_millis(DAY_MS));
                let (a, b) = (
                    f.value.partition_point(|(t, _)| *t <= from),
                    f.value.partition_point(|(t, _)| *t <= to),
                );
                let day = &f.value[a..b];
                if day.is_empty() {
                    f64::NAN
                } else {
                    day.iter().map(|x| x.1).sum::<f64>() / day.len() as f64
                }
            })
            .collect();
        raw.insert("funding_z".into(), v);
        sources.insert("funding_z".into(), (f.series.clone(), f.source.clone()));
    }
    let (l, s, oi) = (
        ctx.derivatives(&key("long_liquidations_usd:BTC:binance:1d"))?,
        ctx.derivatives(&key("short_liquidations_usd:BTC:binance:1d"))?,
        ctx.derivatives(&key("oi_usd:BTC:all:1d"))?,
    );
    if let (Some(l), Some(s), Some(oi)) = (l, s, oi) {
        for i in [&l, &s, &oi] {
            draft.uses(i);
        }
        let at = |series: &[(Timestamp, f64)], t: Timestamp| {
            series
                .binary_search_by(|x| x.0.cmp(&t))
                .map_or(f64::NAN, |k| series[k].1)
        };
        let v: Vec<f64> = opens
            .iter()
            .map(|&o| {
                let share = (at(&l.value, o) + at(&s.value, o)) / at(&oi.value, o);
                if share.is_finite() { share } else { f64::NAN }
            })
            .collect();
        raw.insert("liquidated_share_oi".into(), v);
        sources.insert(
            "liquidated_share_oi".into(),
            (
                format!("{} + {}, over {}", l.series, s.series, oi.series),
                format!("{}+{}+{}", l.source, s.source, oi.source),
            ),
        );
    }
    Ok(())
}

/// Each component's normalised value on day `i` (from the days before it).
pub(super) fn normalised_at(_m: &Methodology, d: &Daily, i: usize) -> Vec<Option<f64>> {
    d.norm.iter().map(|col| col[i]).collect()
}

pub(super) fn missing_reason(m: &Methodology, d: &Daily, key: &str, i: usize) -> String {
    match d.raw.get(key) {
        None => "no data stored for it".into(),
        Some(s) if !s[i].is_finite() => {
            "no value on the day (too little data before it, or stale)".into()
        }
        Some(_) => format!("fewer than {} days of its history", m.min_history_days),
    }
}

/// Each day's event (a fall of `x` within `h` days), `None` while its window is open.
pub(super) fn events(d: &Daily, h: usize, x: f64) -> Vec<Option<bool>> {
    (0..d.close.len())
        .map(|i| forward(&d.close, &d.low, i, h).map(|(dd, _)| dd >= x))
        .collect()
}
