//! `/api/v1`: one route per engine report, the stored analyses, and the token's alert rules.
//! Every report route takes `asof` (ISO-8601 UTC; default now) and answers the engine's
//! report as JSON with its claims; series routes also answer CSV (`format=csv`). The OpenAPI
//! document (`/api/v1/openapi.json`) is generated from these definitions.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Extension, Json};
use canary_alerts::state::Policy;
use canary_engine::{Context, EngineError};
use canary_model::{Symbol, Timeframe, Timestamp};
use canary_store::Stores;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use canary_engine::tokens::{Caller, Scope};

use crate::asof::{AsOf, AsOfParam};
use crate::{AppState, Problem};

/// An engine report: its time, whether any input was simulated, warnings, the body's fields
/// (flattened beside these) and every claim its numbers resolve to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDoc {
    pub as_of: String,
    pub simulated: bool,
    pub warnings: Vec<serde_json::Value>,
    pub claims: serde_json::Value,
}

/// The routes.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/series", get(series))
        .route("/api/v1/candles", get(candles))
        .route("/api/v1/indicators", get(indicators))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/watch", get(watch))
        .route("/api/v1/score", get(score))
        .route("/api/v1/score/history", get(score_history))
        .route("/api/v1/network", get(network))
        .route("/api/v1/miners", get(miners))
        .route("/api/v1/treasury", get(treasury))
        .route("/api/v1/news", get(news))
        .route("/api/v1/stories", get(stories))
        .route("/api/v1/analyses", get(analyses))
        .route("/api/v1/analyses/{id}", get(analysis))
        .route("/api/v1/analyses/{id}/history", get(analysis_history))
        .route("/api/v1/analyses/{id}/related", get(analysis_related))
        .route("/api/v1/alerts/rules", get(rules).post(add_rule))
        .route("/api/v1/alerts/rules/{id}", delete(remove_rule))
        .route(
            "/api/v1/alerts/rules/{id}/test",
            axum::routing::post(test_rule),
        )
        .route(
            "/api/v1/alerts/rules/{id}/silence",
            axum::routing::post(silence_rule),
        )
        .route("/api/v1/alerts/backtest", axum::routing::post(backtest))
        .route("/api/v1/alerts/deliveries", get(deliveries))
        .route("/api/v1/stream", get(stream))
        .route("/api/v1/ws", get(websocket))
        .fallback(|| async {
            Problem::new(
                StatusCode::NOT_FOUND,
                "no such route: /api/v1/openapi.json lists them",
            )
        })
}

/// The OpenAPI document of the routes.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Canary API",
        description = "Crypto-market early warning: every report as of a time, every number a claim."
    ),
    paths(
        health,
        series,
        candles,
        indicators,
        stats,
        watch,
        score,
        network,
        miners,
        treasury,
        news,
        stories,
        analyses,
        analysis,
        analysis_history,
        analysis_related,
        score_history,
        rules,
        add_rule,
        remove_rule,
        test_rule,
        silence_rule,
        backtest,
        deliveries,
        stream,
        websocket
    ),
    components(schemas(
        Problem,
        ReportDoc,
        NewRule,
        RuleRow,
        DeliveryRow,
        SeriesRow,
        AnalysisRow,
        Backtest,
        SilenceFor
    ))
)]
pub struct ApiDoc;

async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

fn parse_time(name: &str, v: Option<&str>) -> Result<Option<Timestamp>, Problem> {
    v.map(|t| {
        Timestamp::parse(t).map_err(|e| {
            Problem::param(
                name,
                t,
                &format!("{e} (ISO-8601 UTC, e.g. 2026-02-06T05:00:00Z)"),
            )
        })
    })
    .transpose()
}

fn parse_symbol(v: Option<&str>) -> Result<Symbol, Problem> {
    let s = v.unwrap_or("BTCUSDT");
    Symbol::new(s).map_err(|e| Problem::param("symbol", s, &e.to_string()))
}

fn parse_tf(name: &str, v: Option<&str>, default: &str) -> Result<Timeframe, Problem> {
    let s = v.unwrap_or(default);
    s.parse()
        .map_err(|e: canary_model::TimeframeError| Problem::param(name, s, &e.to_string()))
}

/// Run `f` on a context as of `asof` (default now), off the async threads, within the time
/// limit.
async fn with_context<T: Send + 'static>(
    s: &AppState,
    asof: AsOf,
    f: impl FnOnce(&Context<'_>, &AppState) -> Result<T, EngineError> + Send + 'static,
) -> Result<T, Problem> {
    let state = s.clone();
    let limit = s.config.timeout;
    let job = tokio::task::spawn_blocking(move || {
        state
            .session
            .read(asof.0, |ctx| f(ctx, &state))
            .map_err(Problem::from)
    });
    match tokio::time::timeout(limit, job).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Err(Problem::internal(e)),
        Err(_) => Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the report took longer than {} s", limit.as_secs_f64()),
        )),
    }
}

/// Run `f` on the store, off the async threads.
async fn with_store<T: Send + 'static>(
    s: &AppState,
    f: impl FnOnce(&mut dyn Stores) -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    let session = s.session.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = session.open_existing()?;
        f(&mut *store)
    })
    .await
    .map_err(Problem::internal)?
}

fn csv_response(text: String) -> Response {
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response()
}

fn want_csv(format: Option<&str>) -> Result<bool, Problem> {
    match format.unwrap_or("json") {
        "json" => Ok(false),
        "csv" => Ok(true),
        other => Err(Problem::param("format", other, "json or csv")),
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct Health {
    status: String,
    version: String,
}

/// The server is up.
#[utoipa::path(get, path = "/api/v1/health", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

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
async fn series(State(s): State<AppState>) -> Result<Json<Vec<SeriesRow>>, Problem> {
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
struct SeriesQuery {
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
async fn candles(
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
            t.push_str(&format!(
                "{},{},{},{},{},{}\n",
                c.open_time, c.open, c.high, c.low, c.close, c.volume
            ));
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
struct IndicatorsQuery {
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
async fn indicators(
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
            t.push_str(&format!("{},{}", b.times[i], b.close[i]));
            for (_, col) in &b.columns {
                let v = col[i];
                if v.is_finite() {
                    t.push_str(&format!(",{v}"));
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
struct AtQuery {
    /// Default BTCUSDT.
    symbol: Option<String>,
}

/// Market statistics as of `asof`.
#[utoipa::path(get, path = "/api/v1/stats", params(AtQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 404, body = Problem)))]
async fn stats(
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
async fn watch(
    State(s): State<AppState>,
    asof: AsOf,
    Query(q): Query<AtQuery>,
) -> Result<Response, Problem> {
    let p = canary_engine::WatchParams::new(parse_symbol(q.symbol.as_deref())?);
    let r = with_context(&s, asof, move |ctx, _| canary_engine::watch(ctx, &p)).await?;
    Ok(Json(r).into_response())
}

pub(crate) fn score_params(symbol: Symbol) -> canary_engine::ScoreParams {
    canary_engine::ScoreParams::published(symbol)
}

/// Risk, Threat, Pulse and the label with their waterfall, as of `asof`.
#[utoipa::path(get, path = "/api/v1/score", params(AtQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 404, body = Problem)))]
async fn score(
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
async fn network(
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
struct PricedQuery {
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
async fn miners(
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
struct TreasuryQuery {
    symbol: Option<String>,
    /// One ticker (default: every company holding BTC).
    company: Option<String>,
}

/// Treasury companies' holdings, coverage and forced-selling prices as of `asof`.
#[utoipa::path(get, path = "/api/v1/treasury", params(TreasuryQuery, AsOfParam),
    responses((status = 200, body = ReportDoc), (status = 404, body = Problem)))]
async fn treasury(
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
struct NewsQuery {
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
async fn news(
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
async fn stories(
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

/// A stored analysis, listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalysisRow {
    id: String,
    symbol: String,
    topic: String,
    as_of: String,
    version: String,
    headline: String,
    label: Option<String>,
    tags: Vec<String>,
    created_at: String,
}

fn row(a: &canary_store::StoredAnalysis) -> AnalysisRow {
    AnalysisRow {
        id: a.id.clone(),
        symbol: a.symbol.clone(),
        topic: a.topic.clone(),
        as_of: a.as_of.to_string(),
        version: a.version.clone(),
        headline: a.headline.clone(),
        label: a.label.clone(),
        tags: a.tags.clone(),
        created_at: a.created_at.to_string(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
struct AnalysesQuery {
    /// Only analyses with this tag.
    tag: Option<String>,
}

/// Stored analyses, newest first.
#[utoipa::path(get, path = "/api/v1/analyses", params(AnalysesQuery),
    responses((status = 200, body = [AnalysisRow])))]
async fn analyses(
    State(s): State<AppState>,
    Query(q): Query<AnalysesQuery>,
) -> Result<Json<Vec<AnalysisRow>>, Problem> {
    with_store(&s, move |store| {
        Ok(store.analyses(q.tag.as_deref())?.iter().map(row).collect())
    })
    .await
    .map(Json)
}

fn find(store: &dyn Stores, id: &str) -> Result<canary_store::StoredAnalysis, Problem> {
    store.analysis(id)?.ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            format!("no analysis {id} (GET /api/v1/analyses lists them; an id prefix works)"),
        )
    })
}

/// One stored analysis, as `canary analyze --format json` wrote it (an id prefix is enough).
#[utoipa::path(get, path = "/api/v1/analyses/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "The analysis JSON with its claims"), (status = 404, body = Problem)))]
async fn analysis(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, Problem> {
    let json = with_store(&s, move |store| Ok(find(store, &id)?.json)).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

/// Every version of an analysis (same symbol, topic and time), oldest first.
#[utoipa::path(get, path = "/api/v1/analyses/{id}/history", params(("id" = String, Path)),
    responses((status = 200, body = [AnalysisRow]), (status = 404, body = Problem)))]
async fn analysis_history(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<AnalysisRow>>, Problem> {
    with_store(&s, move |store| {
        let a = find(store, &id)?;
        Ok(store.analysis_versions(&a)?.iter().map(row).collect())
    })
    .await
    .map(Json)
}

/// The caller, known from its token, if its scope allows `need`.
fn caller(c: Option<Extension<Caller>>, need: Scope) -> Result<Caller, Problem> {
    let Some(Extension(c)) = c else {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "alert rules belong to a token: send Authorization: Bearer TOKEN (the server's operator issues tokens with canary tokens create)",
        ));
    };
    if c.scope < need {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            format!(
                "this token's scope is {}: changing rules needs a token of scope {}",
                c.scope, need
            ),
        ));
    }
    Ok(c)
}

/// A rule as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleRow {
    id: i64,
    rule: String,
    timeframe: String,
    policy: serde_json::Value,
    /// The channel (secrets left out).
    channel: serde_json::Value,
    created_at: String,
}

fn redacted(channel: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(channel).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        for k in ["secret", "bot_token"] {
            if o.contains_key(k) {
                o.insert(k.into(), serde_json::Value::String("***".into()));
            }
        }
        if let Some(smtp) = o.get_mut("smtp").and_then(|x| x.as_object_mut())
            && smtp.contains_key("password")
        {
            smtp.insert("password".into(), serde_json::Value::String("***".into()));
        }
    }
    v
}

/// The token's alert rules.
#[utoipa::path(get, path = "/api/v1/alerts/rules",
    responses((status = 200, body = [RuleRow]), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn rules(
    State(s): State<AppState>,
    c: Option<Extension<Caller>>,
) -> Result<Json<Vec<RuleRow>>, Problem> {
    let owner = caller(c, Scope::Read)?.owner;
    with_store(&s, move |store| {
        Ok(store
            .rules(Some(owner.key()))?
            .into_iter()
            .map(|r| RuleRow {
                id: r.id,
                rule: r.rule,
                timeframe: r.timeframe,
                policy: serde_json::from_str(&r.policy).unwrap_or_default(),
                channel: redacted(&r.channel),
                created_at: r.created_at.to_string(),
            })
            .collect())
    })
    .await
    .map(Json)
}

/// A rule to add.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRule {
    /// The rule, e.g. `BTCUSDT.rsi14.1d < 30`.
    rule: String,
    /// The timeframe whose closes evaluate it (default 1d).
    timeframe: Option<String>,
    /// The policy (`for_evals`, `cooldown_ms`, `band`, `frequency`, `notify_resolved`,
    /// `repeat_ms`, `expires_at`, `intrabar`); defaults when left out.
    #[serde(default)]
    #[schema(value_type = Object)]
    policy: Option<serde_json::Value>,
    /// The channel: `{"type": "webhook", "url": …, "secret": …}`, `slack`, `discord`,
    /// `telegram`, `email`, or `{"type": "log"}` (default).
    #[serde(default)]
    #[schema(value_type = Object)]
    channel: Option<serde_json::Value>,
    /// Evaluate closes from this time (ISO-8601 UTC; default now): an earlier time replays
    /// history through the rule at its first check.
    since: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
struct Added {
    id: i64,
}

/// Add an alert rule for the token.
#[utoipa::path(post, path = "/api/v1/alerts/rules", request_body = NewRule,
    responses((status = 201, body = Added), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn add_rule(
    State(s): State<AppState>,
    c: Option<Extension<Caller>>,
    body: Result<Json<NewRule>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, Problem> {
    let owner = caller(c, Scope::Alerts)?.owner;
    let Json(n) = body.map_err(|e| Problem::new(e.status(), e.body_text()))?;
    let timeframe = parse_tf("timeframe", n.timeframe.as_deref(), "1d")?;
    let policy = policy_of(n.policy)?;
    let since = parse_time("since", n.since.as_deref().filter(|x| !x.is_empty()))?
        .unwrap_or_else(|| s.session.now());
    let channel: canary_engine::alerting::Channel = match n.channel {
        // Where notices may go is the server's setting, never the request's.
        Some(c) if c.get("allow_private").is_some() => {
            return Err(Problem::param(
                "channel.allow_private",
                &c["allow_private"].to_string(),
                "not a field of a request: whether notices may go to loopback and private addresses is the server's setting (its operator's --allow-private)",
            ));
        }
        Some(c) => {
            serde_json::from_value(c).map_err(|e| Problem::param("channel", "…", &e.to_string()))?
        }
        None => canary_engine::alerting::Channel::Log,
    };
    let spec = canary_engine::alerting::RuleSpec {
        rule: n.rule,
        timeframe,
        policy,
        channel,
    };
    let allow = canary_engine::alerting::Allow {
        private: s.config.allow_private,
        before_data: false,
    };
    let id = with_store(&s, move |store| {
        canary_engine::alerting::add_rule(store, &owner, &spec, since, allow).map_err(Problem::from)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Added { id })).into_response())
}

/// The policy's fields over its defaults.
fn merge_default_policy(p: serde_json::Value) -> serde_json::Value {
    let mut base = serde_json::to_value(Policy::default()).unwrap_or_default();
    if let (Some(b), Some(o)) = (base.as_object_mut(), p.as_object()) {
        for (k, v) in o {
            b.insert(k.clone(), v.clone());
        }
        return base;
    }
    p
}

/// Remove one of the token's rules.
#[utoipa::path(delete, path = "/api/v1/alerts/rules/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn remove_rule(
    State(s): State<AppState>,
    c: Option<Extension<Caller>>,
    Path(id): Path<i64>,
) -> Result<Response, Problem> {
    let owner = caller(c, Scope::Alerts)?.owner;
    let removed = with_store(&s, move |store| Ok(store.remove_rule(owner.key(), id)?)).await?;
    if removed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(Problem::new(
            StatusCode::NOT_FOUND,
            format!("no rule {id} of this token (GET /api/v1/alerts/rules lists them)"),
        ))
    }
}

/// A delivery of a notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryRow {
    rule_id: i64,
    idempotency_key: String,
    #[schema(value_type = Object)]
    notice: serde_json::Value,
    late: bool,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    latency_ms: Option<i64>,
    created_at: String,
    delivered_at: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
struct DeliveriesQuery {
    /// Only this rule's.
    rule: Option<i64>,
}

/// Deliveries of the token's rules, newest first.
#[utoipa::path(get, path = "/api/v1/alerts/deliveries", params(DeliveriesQuery),
    responses((status = 200, body = [DeliveryRow]), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn deliveries(
    State(s): State<AppState>,
    c: Option<Extension<Caller>>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Json<Vec<DeliveryRow>>, Problem> {
    let owner = caller(c, Scope::Read)?.owner;
    with_store(&s, move |store| {
        let mine: Vec<i64> = store
            .rules(Some(owner.key()))?
            .iter()
            .map(|r| r.id)
            .collect();
        Ok(store
            .delivery_log(q.rule)?
            .into_iter()
            .filter(|d| mine.contains(&d.rule_id))
            .map(|d| DeliveryRow {
                rule_id: d.rule_id,
                idempotency_key: d.idempotency_key,
                notice: serde_json::from_str(&d.notice).unwrap_or_default(),
                late: d.late,
                status: d.status,
                attempts: d.attempts,
                last_error: d.last_error,
                latency_ms: d.latency_ms,
                created_at: d.created_at.to_string(),
                delivered_at: d.delivered_at.map(|t| t.to_string()),
            })
            .collect())
    })
    .await
    .map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
struct StreamQuery {
    /// Only these kinds, comma-separated: bar, score, notice, system, divergence, job,
    /// rule_error (default all).
    kinds: Option<String>,
}

/// One client's view of the engine's outputs: the kinds it asked for (`None`: all).
struct Subscription {
    rx: tokio::sync::broadcast::Receiver<std::sync::Arc<str>>,
    kinds: Option<Vec<String>>,
}

/// What a client gets next from the engine's stream.
enum Next {
    /// An output of a kind it asked for (the JSON line as the engine wrote it).
    Output {
        kind: String,
        line: std::sync::Arc<str>,
    },
    /// It was too slow: this many outputs were dropped for it.
    Lagged(u64),
}

impl Subscription {
    /// Subscribe to the engine beside the server; 404 when none runs.
    fn new(s: &AppState, kinds: Option<String>) -> Result<Self, Problem> {
        let Some(live) = &s.live else {
            return Err(Problem::new(
                StatusCode::NOT_FOUND,
                "no engine runs beside this server: start it with canary serve --run canary.toml",
            ));
        };
        Ok(Subscription {
            rx: live.subscribe(),
            kinds: kinds.map(|k| k.split(',').map(|x| x.trim().to_string()).collect()),
        })
    }

    /// The next output of a wanted kind, or the lag notice; `None` once the engine stops.
    async fn next(&mut self) -> Option<Next> {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match self.rx.recv().await {
                Ok(line) => {
                    let kind = serde_json::from_str::<serde_json::Value>(&line)
                        .ok()
                        .and_then(|v| v["kind"].as_str().map(str::to_string))
                        .unwrap_or_default();
                    if self.kinds.as_ref().is_some_and(|k| !k.contains(&kind)) {
                        continue;
                    }
                    return Some(Next::Output { kind, line });
                }
                Err(RecvError::Lagged(n)) => return Some(Next::Lagged(n)),
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

/// What the engine running beside the server reports, as it happens (Server-Sent Events:
/// `event: bar|score|notice|…`, `data: JSON`). A client too slow for the stream gets a
/// `lagged` event with the number it missed; nothing queues without bound.
#[utoipa::path(get, path = "/api/v1/stream", params(StreamQuery),
    responses((status = 200, description = "text/event-stream"), (status = 404, body = Problem)))]
async fn stream(
    State(s): State<AppState>,
    Query(q): Query<StreamQuery>,
) -> Result<Response, Problem> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let sub = Subscription::new(&s, q.kinds)?;
    let events = futures_util::stream::unfold(sub, |mut sub| async move {
        let e = match sub.next().await? {
            Next::Output { kind, line } => Event::default().event(kind).data(&*line),
            Next::Lagged(n) => Event::default().event("lagged").data(n.to_string()),
        };
        Some((Ok::<_, std::convert::Infallible>(e), sub))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn policy_of(p: Option<serde_json::Value>) -> Result<Policy, Problem> {
    match p {
        Some(p) => serde_json::from_value(merge_default_policy(p))
            .map_err(|e| Problem::param("policy", "…", &e.to_string())),
        None => Ok(Policy::default()),
    }
}

/// A rule to try on history.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Backtest {
    /// The rule, e.g. `crosses_below(BTCUSDT.close, watch.support)`.
    rule: String,
    /// The timeframe whose closes evaluate it (default 1d).
    timeframe: Option<String>,
    /// The first close evaluated (ISO-8601 UTC).
    from: String,
    /// The last time whose data is used (default now).
    to: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    policy: Option<serde_json::Value>,
}

/// How a rule would have fired over history, through the same state machine as live
/// alerts: each firing with what followed, and firings per month. No token needed: it stores
/// nothing.
#[utoipa::path(post, path = "/api/v1/alerts/backtest", request_body = Backtest,
    responses((status = 200, body = ReportDoc), (status = 400, body = Problem)))]
async fn backtest(
    State(s): State<AppState>,
    body: Result<Json<Backtest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, Problem> {
    let Json(b) = body.map_err(|e| Problem::new(e.status(), e.body_text()))?;
    let from = parse_time("from", Some(&b.from))?.unwrap_or_else(|| s.session.now());
    let to = parse_time("to", b.to.as_deref())?;
    let p = canary_engine::AlertBacktestParams {
        rule: b.rule.clone(),
        timeframe: parse_tf("timeframe", b.timeframe.as_deref(), "1d")?,
        from,
        policy: policy_of(b.policy)?,
        follow_ms: 7 * 86_400_000,
        score: Some(score_params(
            canary_alerts::rule::parse(&b.rule)
                .map(|e| e.clock_symbol())
                .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.to_string()))?,
        )),
    };
    let r = with_context(&s, AsOf(to), move |ctx, st| {
        canary_engine::alerts_backtest(ctx, &p, &st.dictionary, &st.lexicon, |_, _| {})
    })
    .await?;
    Ok(Json(r).into_response())
}

/// Send a test notice of one of the token's rules to its channel now.
#[utoipa::path(post, path = "/api/v1/alerts/rules/{id}/test", params(("id" = i64, Path)),
    responses((status = 200, description = "The delivery"), (status = 404, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn test_rule(
    State(s): State<AppState>,
    c: Option<Extension<Caller>>,
    Path(id): Path<i64>,
) -> Result<Response, Problem> {
    let owner = caller(c, Scope::Alerts)?.owner;
    let now = s.session.now();
    let key = with_store(&s, move |store| {
        canary_engine::alerting::queue_test(store, &owner, id, now).map_err(|e| match e {
            EngineError::Param { .. } => Problem::new(
                StatusCode::NOT_FOUND,
                format!("no rule {id} of this token (GET /api/v1/alerts/rules lists them)"),
            ),
            other => Problem::from(other),
        })
    })
    .await?;
    let session = s.session.clone();
    let allow_private = s.config.allow_private;
    let sent = tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Problem::internal)?;
        let mut store = session.open_existing()?;
        let client =
            canary_delivery::guard::http_client(allow_private).map_err(Problem::internal)?;
        rt.block_on(canary_delivery::deliver(
            &mut *store,
            &client,
            now,
            &canary_delivery::Sending {
                attempts: 2,
                backoff: std::time::Duration::from_millis(200),
                timeout: std::time::Duration::from_secs(5),
                allow_private,
            },
            Some(&key),
            None,
        ))
        .map_err(Problem::from)
    })
    .await
    .map_err(Problem::internal)??;
    Ok(Json(serde_json::json!({ "deliveries": sent })).into_response())
}

/// How long to silence a rule.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SilenceFor {
    /// Seconds from now (1 to 31536000).
    seconds: u64,
    #[serde(default)]
    comment: String,
}

/// Silence one of the token's rules for a while (it is still evaluated; its notices are
/// logged as silenced).
#[utoipa::path(post, path = "/api/v1/alerts/rules/{id}/silence", params(("id" = i64, Path)),
    request_body = SilenceFor,
    responses((status = 200, description = "The silence"), (status = 404, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn silence_rule(
    State(s): State<AppState>,
    c: Option<Extension<Caller>>,
    Path(id): Path<i64>,
    body: Result<Json<SilenceFor>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, Problem> {
    let owner = caller(c, Scope::Alerts)?.owner;
    let Json(b) = body.map_err(|e| Problem::new(e.status(), e.body_text()))?;
    if !(1..=31_536_000).contains(&b.seconds) {
        return Err(Problem::param(
            "seconds",
            &b.seconds.to_string(),
            "1 to 31536000",
        ));
    }
    let from = s.session.now();
    let until =
        Timestamp::from_millis(from.millis() + i64::try_from(b.seconds).unwrap_or(0) * 1000);
    let added = with_store(&s, move |store| {
        Ok(store.add_silence(owner.key(), id, from, until, &b.comment, from)?)
    })
    .await?;
    match added {
        Some(silence) => Ok(Json(serde_json::json!({
            "silence": silence, "rule": id, "from": from, "until": until
        }))
        .into_response()),
        None => Err(Problem::new(
            StatusCode::NOT_FOUND,
            format!("no rule {id} of this token (GET /api/v1/alerts/rules lists them)"),
        )),
    }
}

/// The same stream over a WebSocket: one text message per output (`{"kind": "bar", …}`),
/// filtered by `kinds`; a client too slow for it gets `{"kind": "lagged", "missed": N}`.
#[utoipa::path(get, path = "/api/v1/ws", params(StreamQuery),
    responses((status = 101, description = "Switching to the WebSocket protocol"), (status = 404, body = Problem)))]
async fn websocket(
    State(s): State<AppState>,
    Query(q): Query<StreamQuery>,
    ws: axum::extract::ws::WebSocketUpgrade,
) -> Result<Response, Problem> {
    use axum::extract::ws::Message;
    let mut sub = Subscription::new(&s, q.kinds)?;
    Ok(ws.on_upgrade(move |mut socket| async move {
        loop {
            tokio::select! {
                m = sub.next() => {
                    let text = match m {
                        Some(Next::Output { line, .. }) => line.to_string(),
                        Some(Next::Lagged(n)) => format!(r#"{{"kind":"lagged","missed":{n}}}"#),
                        None => break,
                    };
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                    _ => {}
                },
            }
        }
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
struct HistoryQuery {
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
async fn score_history(
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
            t.push_str(&format!(
                "{},{},{},{},{}\n",
                d.day,
                opt(d.risk),
                d.threat.map_or_else(String::new, |x| x.to_string()),
                opt(d.pulse),
                d.label.map_or_else(String::new, |l| l.to_string())
            ));
        }
        return Ok(csv_response(t));
    }
    Ok(Json(r).into_response())
}

/// The earlier analyses an analysis lists as related (sharing its tags), as it stored them.
#[utoipa::path(get, path = "/api/v1/analyses/{id}/related", params(("id" = String, Path)),
    responses((status = 200, description = "The related analyses"), (status = 404, body = Problem)))]
async fn analysis_related(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let json = with_store(&s, move |store| Ok(find(store, &id)?.json)).await?;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    Ok(Json(v["related"].clone()).into_response())
}

#[cfg(test)]
#[path = "api_tests.rs"]
mod tests;
