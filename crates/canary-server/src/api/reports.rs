//! The market reports: the stored series and bars, indicators, statistics, the Watch, the
//! scores and their history, the network, the miners and treasuries, news and stories. Each
//! runs one engine report on a context as of `asof`; series also answer CSV.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use canary_model::{Timeframe, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use utoipa::{IntoParams, ToSchema};

use super::ReportDoc;
use super::shared::{
    csv_response, parse_symbol, parse_tf, score_params, want_csv, with_context, with_store,
};
use crate::asof::{AsOf, AsOfParam};
use crate::{AppState, Problem};

/// A stored series.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesRow {
    symbol: String,
    timeframe: String,
    bars: u64,
    first: String,
    last: String,
    sources: String,
}

/// The stored bar series.
#[utoipa::path(get, path = "/api/v1/series", responses((status = 200, body = [SeriesRow])))]
pub(super) async fn series(State(s): State<AppState>) -> Result<Json<Vec<SeriesRow>>, Problem> {
    with_store(&s, |store| {
        Ok(store
            .series()?
            .into_iter()
            .map(|x| SeriesRow {
                symbol: x.symbol.to_string(),
                timeframe: x.timeframe.to_string(),
                bars: x.bars,
                first: x.first.to_string(),
                last: x.last.to_string(),
                sources: x.sources,
            })
            .collect())
    })
    .await
    .map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct SeriesQuery {
    /// Default BTCUSDT.
    symbol: Option<String>,
    /// Default 1d.
    tf: Option<String>,
    /// Only the last N bars (1 to 100000).
    last: Option<usize>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

fn check_last(last: Option<usize>) -> Result<Option<usize>, Problem> {
    match last {
        Some(n) if !(1..=100_000).contains(&n) => {
            Err(Problem::param("last", &n.to_string(), "1 to 100000"))
        }
        other => Ok(other),
    }
}

/// Bars as known at `asof`.
#[utoipa::path(get, path = "/api/v1/candles", params(SeriesQuery, AsOfParam),
    responses((status = 200, description = "JSON, or CSV with format=csv"), (status = 404, body = Problem)))]
pub(super) async fn candles(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<SeriesQuery>,
) -> Result<Response, Problem> {
    let symbol = parse_symbol(q.symbol.as_deref())?;
    let tf = parse_tf("tf", q.tf.as_deref(), "1d")?;
    let last = check_last(q.last)?;
    let csv = want_csv(q.format.as_deref())?;
    let (source, asof, bars) = with_context(&s, asof, move |ctx, _| {
        let b = ctx.bars(&symbol, tf)?;
        let n = b.value.candles.len();
        let keep = last.map_or(0, |l| n.saturating_sub(l));
        Ok((
            b.source.clone(),
            ctx.asof(),
            b.value.candles[keep..].to_vec(),
        ))
    })
    .await?;
    if csv {
        let mut t = String::from("open_time,open,high,low,close,volume\n");
        for c in &bars {
            let _ = writeln!(
                t,
                "{},{},{},{},{},{}",
                c.open_time, c.open, c.high, c.low, c.close, c.volume
            );
        }
        return Ok(csv_response(t));
    }
    Ok(Json(serde_json::json!({
        "as_of": asof,
        "symbol": q.symbol.unwrap_or_else(|| "BTCUSDT".into()),
        "timeframe": tf,
        "source": source,
        "candles": bars,
    }))
    .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct IndicatorsQuery {
    symbol: Option<String>,
    tf: Option<String>,
    /// `rsi:14,ema:20,…`, `watch` (default) or `all`.
    ind: Option<String>,
    /// Only the last N rows (default 200).
    last: Option<usize>,
    format: Option<String>,
}

/// Indicators of the bars known at `asof`, with their claims.
#[utoipa::path(get, path = "/api/v1/indicators", params(IndicatorsQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn indicators(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<IndicatorsQuery>,
) -> Result<Response, Problem> {
    let last = check_last(q.last)?.unwrap_or(200);
    let p = canary_engine::IndicatorsParams {
        symbol: parse_symbol(q.symbol.as_deref())?,
        timeframe: parse_tf("tf", q.tf.as_deref(), "1d")?,
        spec: q.ind.clone().unwrap_or_else(|| "watch".into()),
        to: None,
        last: Some(last),
    };
    let csv = want_csv(q.format.as_deref())?;
    let r = with_context(&s, asof, move |ctx, _| canary_engine::indicators(ctx, &p)).await?;
    // The bars read for the warm-up are not rows.
    let n = r.body.times.len();
    let rows: Vec<usize> = (n.saturating_sub(last)..n).collect();
    if csv {
        let b = &r.body;
        let mut t = String::from("time,close");
        for (name, _) in &b.columns {
            t.push(',');
            t.push_str(name);
        }
        t.push('\n');
        for &i in &rows {
            let _ = write!(t, "{},{}", b.times[i], b.close[i]);
            for (_, col) in &b.columns {
                let v = col[i];
                if v.is_finite() {
                    let _ = write!(t, ",{v}");
                } else {
                    t.push(',');
                }
            }
            t.push('\n');
        }
        return Ok(csv_response(t));
    }
    Ok(Json(canary_engine::indicators_json(&r, &rows)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct AtQuery {
    /// Default BTCUSDT.
    symbol: Option<String>,
}

/// Market statistics as of `asof`.
#[utoipa::path(get, path = "/api/v1/stats", params(AtQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 404, body = Problem)))]
pub(super) async fn stats(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<AtQuery>,
) -> Result<Response, Problem> {
    let p = canary_engine::StatsParams {
        symbol: parse_symbol(q.symbol.as_deref())?,
        intraday: Timeframe::H4,
    };
    let r = with_context(&s, asof, move |ctx, _| canary_engine::stats(ctx, &p)).await?;
    Ok(Json(r).into_response())
}

/// The Watch (support, trapdoor, resistance, triggers) as of `asof`.
#[utoipa::path(get, path = "/api/v1/watch", params(AtQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 404, body = Problem)))]
pub(super) async fn watch(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<AtQuery>,
) -> Result<Response, Problem> {
    let p = canary_engine::WatchParams::new(parse_symbol(q.symbol.as_deref())?);
    let r = with_context(&s, asof, move |ctx, _| canary_engine::watch(ctx, &p)).await?;
    Ok(Json(r).into_response())
}

/// Risk, Threat, Pulse and the label with their waterfall, as of `asof`.
#[utoipa::path(get, path = "/api/v1/score", params(AtQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 404, body = Problem)))]
pub(super) async fn score(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<AtQuery>,
) -> Result<Response, Problem> {
    let p = score_params(parse_symbol(q.symbol.as_deref())?);
    let r = with_context(&s, asof, move |ctx, st| {
        canary_engine::score(ctx, &p, &st.dictionary, &st.lexicon)
    })
    .await?;
    Ok(Json(r).into_response())
}

/// Network series, hashprice and the fleet's margins as of `asof`.
#[utoipa::path(get, path = "/api/v1/network", params(AtQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 404, body = Problem)))]
pub(super) async fn network(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<AtQuery>,
) -> Result<Response, Problem> {
    let p = canary_engine::NetworkParams {
        price: canary_engine::Price::Stored,
        symbol: parse_symbol(q.symbol.as_deref())?,
        fees_btc: 0.0,
        power_usd_per_mwh: 50.0,
        vendor: None,
    };
    let r = with_context(&s, asof, move |ctx, _| canary_engine::network(ctx, &p)).await?;
    Ok(Json(r).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct DerivativesQuery {
    /// Only markets starting with this (BTC keeps BTC and BTCUSDT); default all.
    market: Option<String>,
    /// The instrument whose daily closes value the supply; default BTCUSDT.
    symbol: Option<String>,
}

/// Funding (level, annual carry, z-score against 90 days), open interest (24 h and 7 d
/// change) and liquidations (the last bar, its rank, its share of open interest) as of
/// `asof`, each series on its own venues, old ones flagged stale.
#[utoipa::path(get, path = "/api/v1/derivatives", params(DerivativesQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 400, body = Problem)))]
pub(super) async fn derivatives(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<DerivativesQuery>,
) -> Result<Response, Problem> {
    let market = match q.market {
        Some(m)
            if m.is_empty()
                || m.len() > 32
                || !m
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')) =>
        {
            return Err(Problem::param(
                "market",
                &m,
                "a market is 1 to 32 letters, digits, `-`, `_`, `.` or `/` (BTC, BTCUSDT)",
            ));
        }
        m => m,
    };
    let p = canary_engine::DerivativesParams {
        market,
        symbol: parse_symbol(q.symbol.as_deref())?,
        only: None,
    };
    let r = with_context(&s, asof, move |ctx, _| canary_engine::derivatives(ctx, &p)).await?;
    Ok(Json(r).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct MarketsQuery {
    /// The BTC instrument whose 1h (else 4h) bars price BTC at each US close; default BTCUSDT.
    symbol: Option<String>,
    /// The miners of the basket, comma-separated tickers (at most 20); default the miners of
    /// the facts file.
    miners: Option<String>,
}

/// The last US session closed by `asof` beside BTC: the Nasdaq-100's and S&P 500's moves,
/// each miner's with its rank in three years, BTC priced at the US closes, the miners'
/// equal-weighted basket, the 30- and 90-session correlation and beta of BTC to the
/// Nasdaq-100 and each miner's to BTC, and the Crypto Fear & Greed Index. A US day counts
/// from its exchange's close (16:00 New York).
#[utoipa::path(get, path = "/api/v1/markets", params(MarketsQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 400, body = Problem)))]
pub(super) async fn markets(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<MarketsQuery>,
) -> Result<Response, Problem> {
    let miners = match q.miners.as_deref() {
        None => None,
        Some(list) => {
            let parts: Vec<&str> = list.split(',').collect();
            if parts.len() > 20 {
                return Err(Problem::param(
                    "miners",
                    &canary_model::excerpt::excerpt(list),
                    "at most 20 tickers",
                ));
            }
            let mut out = Vec::with_capacity(parts.len());
            for t in parts {
                let ticker = t.parse::<canary_model::markets::Ticker>().map_err(
                    |e: canary_model::markets::MarketError| {
                        Problem::param("miners", &canary_model::excerpt::excerpt(t), &e.to_string())
                    },
                )?;
                if out.contains(&ticker) {
                    return Err(Problem::param(
                        "miners",
                        ticker.as_str(),
                        "named twice: each miner counts once in the equal-weighted basket",
                    ));
                }
                out.push(ticker);
            }
            Some(out)
        }
    };
    let p = canary_engine::MarketsParams {
        symbol: parse_symbol(q.symbol.as_deref())?,
        miners,
    };
    let r = with_context(&s, asof, move |ctx, _| canary_engine::markets(ctx, &p)).await?;
    Ok(Json(r).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct DerivSeriesQuery {
    /// The series, `KIND:MARKET:VENUES:INTERVAL` (e.g. funding_rate:BTCUSDT:binance:8h), as
    /// `/api/v1/derivatives` names them.
    series: String,
    /// Only the last N values (1 to 100000); default 500.
    last: Option<usize>,
}

/// One value of a derivatives series: its time (a level's instant, a flow's bar open).
#[derive(Debug, Serialize, ToSchema)]
pub struct DerivPoint {
    time: String,
    value: f64,
}

/// A derivatives series as known at `asof`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DerivSeriesDoc {
    as_of: String,
    series: String,
    unit: String,
    /// Whether its latest value is older than three of its intervals at `asof`.
    stale: bool,
    /// Every source of the values.
    source: String,
    points: Vec<DerivPoint>,
}

/// The values of one derivatives series known at `asof` (for charts).
#[utoipa::path(get, path = "/api/v1/derivatives/series", params(DerivSeriesQuery, AsOfParam),
    responses((status = 200, body = DerivSeriesDoc), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn derivatives_series(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<DerivSeriesQuery>,
) -> Result<Json<DerivSeriesDoc>, Problem> {
    let series: canary_model::derivatives::DerivSeries =
        q.series
            .parse()
            .map_err(|e: canary_model::derivatives::DerivError| {
                Problem::param("series", &q.series, &e.to_string())
            })?;
    let last = check_last(q.last)?.unwrap_or(500);
    with_context(&s, asof, move |ctx, _| {
        let input =
            ctx.derivatives(&series)?
                .ok_or_else(|| canary_engine::EngineError::NoDerivatives {
                    what: series.to_string(),
                    asof: ctx.asof(),
                })?;
        let from = input.value.len().saturating_sub(last);
        Ok(DerivSeriesDoc {
            as_of: ctx.asof().to_string(),
            unit: series.kind.unit().to_string(),
            stale: input.is_stale(),
            source: input.source.clone(),
            points: input.value[from..]
                .iter()
                .map(|&(t, v)| DerivPoint {
                    time: t.to_string(),
                    value: v,
                })
                .collect(),
            series: series.to_string(),
        })
    })
    .await
    .map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct MapQuery {
    /// The instrument whose bars give the map's prices; default BTCUSDT.
    symbol: Option<String>,
    /// Falls to simulate as cascades, percent, comma-separated (0.1 to 90, at most 10);
    /// default 3,5,10.
    shock: Option<String>,
}

/// The estimated liquidation map as of `asof` (USD per 1 % band on each side of the price)
/// with cascade scenarios over assumed market depth: estimates and scenarios, not forecasts.
#[utoipa::path(get, path = "/api/v1/derivatives/map", params(MapQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn derivatives_map(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<MapQuery>,
) -> Result<Response, Problem> {
    let text = q.shock.as_deref().unwrap_or("3,5,10");
    let shocks = text
        .split(',')
        .map(|x| {
            x.trim()
                .trim_end_matches('%')
                .parse::<f64>()
                .ok()
                .filter(|v| (0.1..=90.0).contains(v))
                .map(|v| v / 100.0)
        })
        .collect::<Option<Vec<f64>>>()
        .filter(|v| !v.is_empty() && v.len() <= 10)
        .ok_or_else(|| {
            Problem::param(
                "shock",
                text,
                "falls in percent from 0.1 to 90, comma-separated, at most 10 (3,5,10)",
            )
        })?;
    let p = canary_engine::LiqMapParams {
        symbol: parse_symbol(q.symbol.as_deref())?,
        map: canary_analytics::liqmap::MapParams::reference(),
        shocks,
        targets: Vec::new(),
        band_pct: 15,
    };
    let r = with_context(&s, asof, move |ctx, _| {
        canary_engine::liquidation_map(ctx, &p)
    })
    .await?;
    Ok(Json(r).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct PricedQuery {
    /// Default BTCUSDT.
    symbol: Option<String>,
    /// A BTC price (USD) to compute at instead of the latest daily close (a scenario).
    price: Option<f64>,
}

fn price_param(p: Option<f64>) -> Result<canary_engine::Price, Problem> {
    match p {
        Some(x) if !(x.is_finite() && x > 0.0 && x < 1e9) => Err(Problem::param(
            "price",
            &x.to_string(),
            "a positive USD price below 1e9",
        )),
        Some(x) => Ok(canary_engine::Price::Given(x)),
        None => Ok(canary_engine::Price::Stored),
    }
}

/// The miners' break-evens, debt coverage and stress as of `asof` (company figures as
/// published by then), at the stored price or a given one.
#[utoipa::path(get, path = "/api/v1/miners", params(PricedQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn miners(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<PricedQuery>,
) -> Result<Response, Problem> {
    let p = canary_engine::MinersParams {
        price: price_param(q.price)?,
        symbol: parse_symbol(q.symbol.as_deref())?,
        scenarios: Vec::new(),
    };
    let r = with_context(&s, asof, move |ctx, _| canary_engine::miners(ctx, &p)).await?;
    Ok(Json(r).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct TreasuryQuery {
    symbol: Option<String>,
    /// One ticker (default: every company holding BTC).
    company: Option<String>,
}

/// Treasury companies' holdings, coverage and forced-selling prices as of `asof`.
#[utoipa::path(get, path = "/api/v1/treasury", params(TreasuryQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 404, body = Problem)))]
pub(super) async fn treasury(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<TreasuryQuery>,
) -> Result<Response, Problem> {
    let p = canary_engine::TreasuryParams {
        price: canary_engine::Price::Stored,
        symbol: parse_symbol(q.symbol.as_deref())?,
        company: q.company.clone(),
        scenarios: Vec::new(),
    };
    let r = with_context(&s, asof, move |ctx, _| canary_engine::treasury(ctx, &p)).await?;
    Ok(Json(r).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct NewsQuery {
    /// Only items with this tag (a ticker, an exchange, a topic slug).
    tag: Option<String>,
    /// Score and order by relevance to this asset (e.g. BTC)…
    asset: Option<String>,
    /// …and topic (e.g. bitcoin-miners).
    topic: Option<String>,
    /// At most this many (1 to 500, default 50).
    limit: Option<usize>,
}

fn check_limit(limit: Option<usize>, default: usize) -> Result<usize, Problem> {
    match limit {
        Some(n) if !(1..=500).contains(&n) => {
            Err(Problem::param("limit", &n.to_string(), "1 to 500"))
        }
        Some(n) => Ok(n),
        None => Ok(default),
    }
}

/// News items known at `asof` (the week before), tagged, scored and cited as claims.
#[utoipa::path(get, path = "/api/v1/news", params(NewsQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 400, body = Problem)))]
pub(super) async fn news(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<NewsQuery>,
) -> Result<Response, Problem> {
    let p = canary_engine::NewsParams {
        tag: q.tag.clone(),
        asset: q.asset.clone(),
        topic: q.topic.clone(),
        limit: check_limit(q.limit, 50)?,
        ..canary_engine::NewsParams::default()
    };
    let r = with_context(&s, asof, move |ctx, st| {
        canary_engine::news(ctx, &st.dictionary, &st.lexicon, &p)
    })
    .await?;
    Ok(Json(r).into_response())
}

/// Stories (items about one event, clustered) known at `asof`.
#[utoipa::path(get, path = "/api/v1/stories", params(NewsQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 400, body = Problem)))]
pub(super) async fn stories(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<NewsQuery>,
) -> Result<Response, Problem> {
    let p = canary_engine::StoriesParams {
        asset: q.asset.clone(),
        topic: q.topic.clone(),
        limit: check_limit(q.limit, 20)?,
        ..canary_engine::StoriesParams::default()
    };
    let r = with_context(&s, asof, move |ctx, st| {
        canary_engine::stories(ctx, &st.dictionary, &st.lexicon, &p)
    })
    .await?;
    Ok(Json(r).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct HistoryQuery {
    /// Default BTCUSDT.
    symbol: Option<String>,
    /// Days back from `asof` (1 to 3650, default 180).
    days: Option<i64>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// Risk, Threat, Pulse and the label day by day, each as known that day (the same method as
/// the score).
#[utoipa::path(get, path = "/api/v1/score/history", params(HistoryQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn score_history(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, Problem> {
    let days = q.days.unwrap_or(180);
    if !(1..=3650).contains(&days) {
        return Err(Problem::param("days", &days.to_string(), "1 to 3650"));
    }
    let p = score_params(parse_symbol(q.symbol.as_deref())?);
    let csv = want_csv(q.format.as_deref())?;
    let r = with_context(&s, asof, move |ctx, st| {
        let from = Timestamp::from_millis(ctx.asof().millis() - days * 86_400_000);
        canary_engine::score_history(ctx, &p, &st.dictionary, &st.lexicon, Some(from), None)
    })
    .await?;
    if csv {
        let mut t = String::from("day,risk,threat,pulse,label\n");
        let opt = |x: Option<f64>| x.map_or_else(String::new, |v| format!("{v:.2}"));
        for d in &r.body.days {
            let _ = writeln!(
                t,
                "{},{},{},{},{}",
                d.day,
                opt(d.risk),
                d.threat.map_or_else(String::new, |x| x.to_string()),
                opt(d.pulse),
                d.label.map_or_else(String::new, |l| l.to_string())
            );
        }
        return Ok(csv_response(t));
    }
    Ok(Json(r).into_response())
}
