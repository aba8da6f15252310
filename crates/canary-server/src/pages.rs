//! The pages, rendered on the server with minijinja (no script needed to read them): the feed
//! of stored analyses (`/`, filtered by tag, asset and words), and each analysis's page as it
//! was rendered when stored (`/analyses/{id}`: the same template as `canary analyze --format
//! html`, every number's claim on hover). Light and dark themes follow the browser, or
//! `?theme=light|dark`.

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::{AppState, Problem};

const LAYOUT: &str = include_str!("../templates/layout.html.j2");
const FEED: &str = include_str!("../templates/feed.html.j2");
const DASHBOARD: &str = include_str!("../templates/dashboard.html.j2");
const DASHBOARD_JS: &str = include_str!("../templates/dashboard.js");
const ALERTS: &str = include_str!("../templates/alerts.html.j2");
const ALERTS_JS: &str = include_str!("../templates/alerts.js");
const ANALYSIS_JS: &str = include_str!("../templates/analysis.js");
/// TradingView's lightweight-charts, vendored at build time (empty when the build had no npm).
const CHARTS_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/lightweight-charts.js"));

fn env() -> minijinja::Environment<'static> {
    let mut e = minijinja::Environment::new();
    for (name, text) in [
        ("layout.html.j2", LAYOUT),
        ("feed.html.j2", FEED),
        ("dashboard.html.j2", DASHBOARD),
        ("alerts.html.j2", ALERTS),
    ] {
        e.add_template(name, text)
            .expect("a shipped template parses");
    }
    e
}

/// The routes of the pages.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", axum::routing::get(feed))
        .route("/analyses/{id}", axum::routing::get(analysis_page))
        .route("/dashboard", axum::routing::get(dashboard))
        .route("/alerts", axum::routing::get(alerts_page))
        .route("/assets/{name}", axum::routing::get(asset))
        // Browsers ask for it; there is none.
        .route(
            "/favicon.ico",
            axum::routing::get(|| async { StatusCode::NO_CONTENT }),
        )
}

async fn asset(Path(name): Path<String>) -> Response {
    let body = match name.as_str() {
        "lightweight-charts.js" if !CHARTS_JS.is_empty() => CHARTS_JS,
        "dashboard.js" => DASHBOARD_JS,
        "alerts.js" => ALERTS_JS,
        "analysis.js" => ANALYSIS_JS,
        _ => {
            return Problem::new(StatusCode::NOT_FOUND, format!("no asset {name}")).into_response();
        }
    };
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// A number as people read it: thousands separated, two decimals under 1,000.
fn human(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let s = if x.abs() >= 1000.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    };
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(a, b)| (a, b));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if frac.is_empty() {
        format!("{sign}{out}")
    } else {
        format!("{sign}{out}.{frac}")
    }
}

#[derive(Debug, Deserialize)]
struct DashQuery {
    symbol: Option<String>,
    tf: Option<String>,
    theme: Option<String>,
}

#[derive(Debug, Default, Serialize)]
struct Dash {
    as_of: String,
    simulated: bool,
    watch: Vec<serde_json::Value>,
    watch_error: String,
    momentum: String,
    score: Option<serde_json::Value>,
    score_error: String,
    miners: Vec<serde_json::Value>,
    miners_error: String,
    price: f64,
    price_text: String,
    price_min: f64,
    price_max: f64,
    stories: Vec<serde_json::Value>,
    stories_error: String,
    /// Funding, open interest and liquidations (the broadest series of each), as text rows.
    derivatives: Vec<serde_json::Value>,
    /// Their series keys for the chart panes: funding, open interest, long and short
    /// liquidations (empty where absent), comma-separated.
    deriv_keys: String,
    /// The last US session beside BTC, as text rows.
    markets: Vec<serde_json::Value>,
    /// The miners' basket and BTC over the last sessions, as SVG polyline points (600 × 120),
    /// and the chart's first and last day and range.
    basket_points: String,
    btc_points: String,
    chart_span: String,
}

/// The dashboard as of the context's time: each part computed, or why it could not be.
fn dash(ctx: &canary_engine::Context<'_>, st: &AppState, symbol: &canary_model::Symbol) -> Dash {
    let mut d = Dash {
        as_of: ctx.asof().to_string(),
        ..Dash::default()
    };
    dash_watch(&mut d, ctx, symbol);
    dash_score(&mut d, ctx, symbol, &st.dictionary, &st.lexicon);
    dash_miners(&mut d, ctx, symbol);
    dash_stories(&mut d, ctx, symbol, &st.dictionary, &st.lexicon);
    dash_derivatives(&mut d, ctx, symbol);
    dash_markets(&mut d, ctx, symbol);
    d
}

/// The last US session beside BTC as rows, and the basket against BTC as a line chart.
fn dash_markets(d: &mut Dash, ctx: &canary_engine::Context<'_>, symbol: &canary_model::Symbol) {
    if ctx.market_series().map_or(true, |l| l.is_empty()) {
        return;
    }
    let p = canary_engine::MarketsParams {
        symbol: symbol.clone(),
        miners: None,
    };
    let Ok(r) = canary_engine::markets(ctx, &p) else {
        return;
    };
    d.simulated |= r.simulated;
    let b = &r.body;
    let pct = |x: f64| format!("{:+.1}%", x * 100.0);
    let day = |t: canary_model::Timestamp| t.to_string()[..10].to_string();
    for m in b.indices.iter().chain(&b.btc) {
        d.markets.push(serde_json::json!({
            "what": if m.ticker == "BTC" { "BTC at the US close".to_string() } else { m.ticker.clone() },
            "value": pct(m.day_move.value),
            "at": day(m.day),
        }));
    }
    if let Some(k) = &b.basket {
        d.markets.push(serde_json::json!({
            "what": format!("miners' basket ({}-weighted, {})", k.weighting, k.members.join(", ")),
            "value": format!(
                "{}{}",
                pct(k.day_move.value),
                k.worst.as_ref().map_or_else(String::new, |(t, m)| format!("; worst {t} {}", pct(m.value)))
            ),
            "at": b.session.map(day).unwrap_or_default(),
        }));
    }
    for c in b.correlations.iter().filter(|c| c.pair.starts_with("BTC")) {
        d.markets.push(serde_json::json!({
            "what": format!("{} correlation, {} sessions", c.pair, c.window),
            "value": format!(
                "{:+.2} (beta {:.2}{})",
                c.correlation.value,
                c.beta.value,
                c.change.as_ref().map_or_else(String::new, |x| format!("; {:+.2} on the {} before", x.value, c.window))
            ),
            "at": day(c.to),
        }));
    }
    if let Some(f) = &b.fear_greed {
        d.markets.push(serde_json::json!({
            "what": "Crypto Fear & Greed Index",
            "value": format!("{:.0} ({})", f.value.value, f.band),
            "at": day(f.day),
        }));
    }
    let values: Vec<f64> = b
        .history
        .iter()
        .flat_map(|h| [h.basket, h.btc])
        .flatten()
        .collect();
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, z), &v| {
            (a.min(v), z.max(v))
        });
    if b.history.len() < 2 || hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return;
    }
    let n = (b.history.len() - 1) as f64;
    let line = |pick: &dyn Fn(&canary_engine::SessionPoint) -> Option<f64>| {
        b.history
            .iter()
            .enumerate()
            .filter_map(|(i, h)| {
                let v = pick(h)?;
                Some(format!(
                    "{:.1},{:.1}",
                    i as f64 / n * 600.0,
                    120.0 - (v - lo) / (hi - lo) * 120.0
                ))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    d.basket_points = line(&|h| h.basket);
    d.btc_points = line(&|h| h.btc);
    d.chart_span = format!(
        "{} to {}, both from 100: {:.0} to {:.0}",
        day(b.history[0].day),
        day(b.history[b.history.len() - 1].day),
        lo,
        hi
    );
}

/// The derivatives as rows (the broadest series of each kind, stale ones marked), and the
/// keys the chart panes read.
fn dash_derivatives(d: &mut Dash, ctx: &canary_engine::Context<'_>, symbol: &canary_model::Symbol) {
    let asset = canary_engine::ScoreParams::asset_of(symbol);
    let Ok(heads) = canary_engine::headline_series(ctx, &asset) else {
        return;
    };
    if heads.is_empty() {
        return;
    }
    let p = canary_engine::DerivativesParams {
        market: None,
        symbol: symbol.clone(),
        only: Some(heads),
    };
    let Ok(r) = canary_engine::derivatives(ctx, &p) else {
        return;
    };
    d.simulated |= r.simulated;
    let stale = |s: bool| if s { " (stale)" } else { "" };
    let pct = |x: f64| format!("{x:+.2}%");
    let mut keys = [String::new(), String::new(), String::new(), String::new()];
    if let Some(f) = r.body.funding.first() {
        keys[0] = f.series.to_string();
        d.derivatives.push(serde_json::json!({
            "what": format!("funding, {} {}{}", f.venues, f.series.market(), stale(f.stale)),
            "value": format!(
                "{:.4}% per {} ({} a year{})",
                f.rate.value * 100.0,
                f.series.interval,
                pct(f.annualised.value * 100.0),
                f.zscore_90d.as_ref().map_or_else(String::new, |z| format!(", {:+.2}σ against 90 days", z.value))
            ),
            "at": f.settled_at.to_string(),
        }));
    }
    if let Some(o) = r.body.open_interest.first() {
        keys[1] = o.series.to_string();
        d.derivatives.push(serde_json::json!({
            "what": format!("open interest, {}{}", o.venues, stale(o.stale)),
            "value": format!(
                "${} bn (24 h {}, 7 d {})",
                human(o.value.value / 1e9),
                o.change_24h.as_ref().map_or_else(|| "n/a".into(), |c| pct(c.value * 100.0)),
                o.change_7d.as_ref().map_or_else(|| "n/a".into(), |c| pct(c.value * 100.0))
            ),
            "at": o.at.to_string(),
        }));
    }
    if let Some(l) = r.body.liquidations.first() {
        keys[2] = l.series.to_string();
        keys[3] = l
            .series
            .with_kind(canary_model::derivatives::DerivKind::ShortLiquidationsUsd)
            .to_string();
        d.derivatives.push(serde_json::json!({
            "what": format!("liquidations, {} {}{}", l.venues, l.interval, stale(l.stale)),
            "value": format!(
                "${} M (longs ${} M, shorts ${} M), rank {} of {} since {}",
                human(l.total_usd.value / 1e6),
                human(l.long_usd.value / 1e6),
                human(l.short_usd.value / 1e6),
                l.rank.value,
                l.bars_in_history,
                &l.history_since.to_string()[..10]
            ),
            "at": l.bar_open.to_string(),
        }));
    }
    d.deriv_keys = keys.join(",");
}

/// The Watch's levels (support, trapdoor, resistance) as table rows, and its momentum line.
fn dash_watch(d: &mut Dash, ctx: &canary_engine::Context<'_>, symbol: &canary_model::Symbol) {
    let r = match canary_engine::watch(ctx, &canary_engine::WatchParams::new(symbol.clone())) {
        Ok(r) => r,
        Err(e) => {
            d.watch_error = format!("No Watch: {e}");
            return;
        }
    };
    d.simulated |= r.simulated;
    let j = serde_json::to_value(&r).unwrap_or_default();
    let num = |v: &serde_json::Value| human(v.as_f64().unwrap_or(f64::NAN));
    for name in ["support", "trapdoor", "resistance"] {
        let l = &j[name];
        if l.is_null() {
            continue;
        }
        d.watch.push(serde_json::json!({
            "name": name,
            "price": num(&l["price"]),
            "zone": format!("{} – {}", num(&l["zone"][0]), num(&l["zone"][1])),
            "distance": format!("{:+.1}%", l["distance_pct"].as_f64().unwrap_or(f64::NAN)),
            "rule": l["broken_if"]["rule"].as_str().unwrap_or(""),
        }));
    }
    let m = &j["momentum"];
    if let Some(rsi) = m["rsi"].as_f64() {
        d.momentum = format!(
            "RSI 14 ({}) {:.1}: {}",
            m["timeframe"].as_str().unwrap_or(""),
            rsi,
            m["state"].as_str().unwrap_or("")
        );
    }
}

/// The label, Pulse, Risk with its band, Threat and the day they describe.
fn dash_score(
    d: &mut Dash,
    ctx: &canary_engine::Context<'_>,
    symbol: &canary_model::Symbol,
    dictionary: &canary_news::tags::Dictionary,
    lexicon: &canary_news::sentiment::Lexicon,
) {
    let sp = crate::api::score_params(symbol.clone());
    match canary_engine::score(ctx, &sp, dictionary, lexicon) {
        Ok(r) => {
            d.simulated |= r.simulated;
            let b = &r.body;
            d.score = Some(serde_json::json!({
                "label": b.label.map_or_else(|| "Neutral".to_string(), |l| l.to_string()),
                "pulse": b.pulse.map_or_else(|| "n/a".into(), |p| format!("{p:.0}")),
                "risk": b.risk.map_or_else(|| "n/a".into(), |p| format!("{p:.0}")),
                "band": b.band.clone(),
                "threat": b.threat.map_or_else(|| "n/a".into(), |t| t.to_string()),
                "day": b.day.to_string(),
            }));
        }
        Err(e) => d.score_error = format!("No scores: {e}"),
    }
}

/// The miners' stress table at the stored price, and the price slider's range (half to one
/// and a half times the price, in hundreds).
fn dash_miners(d: &mut Dash, ctx: &canary_engine::Context<'_>, symbol: &canary_model::Symbol) {
    let mp = canary_engine::MinersParams {
        price: canary_engine::Price::Stored,
        symbol: symbol.clone(),
        scenarios: Vec::new(),
    };
    let r = match canary_engine::miners(ctx, &mp) {
        Ok(r) => r,
        Err(e) => {
            d.miners_error = format!("No miners' figures: {e}");
            return;
        }
    };
    let j = serde_json::to_value(&r).unwrap_or_default();
    d.price = j["price"].as_f64().unwrap_or(0.0).round();
    d.price_text = human(d.price);
    d.price_min = (d.price * 0.5 / 100.0).round() * 100.0;
    d.price_max = (d.price * 1.5 / 100.0).round() * 100.0;
    for c in j["companies"].as_array().into_iter().flatten() {
        let be = c["cash_break_even"]["value"].as_f64();
        let mg = c["margin"]["value"].as_f64();
        d.miners.push(serde_json::json!({
            "ticker": c["ticker"],
            "break_even": be.map_or_else(|| "n/a".into(), human),
            "margin": mg.map_or_else(|| "n/a".into(), |m| format!("{m:.1}%")),
            "status": match be {
                None => "n/a",
                Some(b) if d.price < b => "under water",
                Some(_) => "above break-even",
            },
        }));
    }
}

/// The stories that bear on the symbol's asset, most relevant first.
fn dash_stories(
    d: &mut Dash,
    ctx: &canary_engine::Context<'_>,
    symbol: &canary_model::Symbol,
    dictionary: &canary_news::tags::Dictionary,
    lexicon: &canary_news::sentiment::Lexicon,
) {
    let sp = canary_engine::StoriesParams {
        limit: 8,
        asset: Some(crate::api::score_params(symbol.clone()).asset),
        min_relevance: 0.2,
        ..canary_engine::StoriesParams::default()
    };
    match canary_engine::stories(ctx, dictionary, lexicon, &sp) {
        Ok(r) if !r.body.stories.is_empty() => {
            for row in &r.body.stories {
                d.stories.push(serde_json::json!({
                    "title": row.story.title,
                    "sources": row.story.outlets.len(),
                    "first_seen": row.story.first_seen.to_string(),
                }));
            }
        }
        Ok(_) => d.stories_error = "No stories in the week before.".into(),
        Err(e) => d.stories_error = format!("No stories: {e}"),
    }
}

async fn dashboard(
    State(s): State<AppState>,
    asof: crate::asof::AsOf,
    Query(q): Query<DashQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Problem> {
    let symbol = q.symbol.clone().unwrap_or_else(|| "BTCUSDT".into());
    let sym = canary_model::Symbol::new(&symbol)
        .map_err(|e| Problem::param("symbol", &symbol, &e.to_string()))?;
    let tf = q.tf.clone().unwrap_or_else(|| "4h".into());
    tf.parse::<canary_model::Timeframe>()
        .map_err(|e| Problem::param("tf", &tf, &e.to_string()))?;
    let asof_text = asof.0.map(|t| t.to_string()).unwrap_or_default();
    // Within a report slot and the reports' time limit, like every API report.
    let d =
        crate::api::with_context(&s, asof, move |ctx, state| Ok(dash(ctx, state, &sym))).await?;
    let page = env()
        .get_template("dashboard.html.j2")
        .and_then(|t| {
            t.render(minijinja::context! {
                symbol => symbol,
                tf => tf,
                asof => asof_text,
                live => s.live.is_some(),
                charts => !CHARTS_JS.is_empty(),
                theme => theme(q.theme.as_deref()),
                query_without_theme => without_theme(raw.as_deref()),
                rendered_at => now_text(&s),
                ..minijinja::Value::from(minijinja::value::Serde(&d))
            })
        })
        .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Html(page).into_response())
}

#[derive(Debug, Deserialize)]
struct FeedQuery {
    tag: Option<String>,
    asset: Option<String>,
    q: Option<String>,
    theme: Option<String>,
}

#[derive(Debug, Serialize)]
struct Card {
    id: String,
    as_of: String,
    symbol: String,
    topic: String,
    headline: String,
    label: Option<String>,
    pulse: Option<String>,
    risk: Option<String>,
    band: Option<String>,
    threat: Option<u64>,
    tags: Vec<String>,
    simulated: bool,
}

fn theme(t: Option<&str>) -> &'static str {
    match t {
        Some("dark") => "dark",
        Some("light") => "light",
        _ => "auto",
    }
}

fn without_theme(q: Option<&str>) -> String {
    q.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("theme="))
        .collect::<Vec<_>>()
        .join("&")
}

/// When a page was rendered, on the server's clock.
fn now_text(s: &AppState) -> String {
    s.session.now().to_string()
}

async fn feed(
    State(s): State<AppState>,
    Query(q): Query<FeedQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Problem> {
    let session = s.session.clone();
    let (tag, asset, words) = (q.tag.clone(), q.asset.clone(), q.q.clone());
    let cards = tokio::task::spawn_blocking(move || -> Result<Vec<Card>, Problem> {
        let store = session.open_existing()?;
        let words: Vec<String> = words
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let asset = asset.map(|a| a.to_uppercase()).filter(|a| !a.is_empty());
        let mut found: Vec<canary_store::StoredAnalysis> = store
            .analyses(tag.as_deref().filter(|t| !t.is_empty()))?
            .into_iter()
            .filter(|a| {
                asset
                    .as_ref()
                    .is_none_or(|x| a.symbol.starts_with(x.as_str()))
            })
            .collect();
        if !words.is_empty() {
            found = search(found, &words.join(" "))?;
        }
        Ok(found
            .into_iter()
            .map(|a| {
                let j: serde_json::Value = serde_json::from_str(&a.json).unwrap_or_default();
                let num = |k: &str| j[k].as_f64().map(|x| format!("{x:.0}"));
                Card {
                    id: a.id,
                    as_of: a.as_of.to_string(),
                    symbol: a.symbol,
                    topic: a.topic,
                    headline: a.headline,
                    label: a.label,
                    pulse: num("pulse"),
                    risk: num("risk"),
                    band: j["band"].as_str().map(str::to_string),
                    threat: j["threat"].as_u64(),
                    tags: a.tags,
                    simulated: j["simulated"].as_bool().unwrap_or(false),
                }
            })
            .collect())
    })
    .await
    .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    let page = env()
        .get_template("feed.html.j2")
        .and_then(|t| {
            t.render(minijinja::context! {
                analyses => minijinja::Value::from(minijinja::value::Serde(&cards)),
                tag => q.tag.unwrap_or_default(),
                asset => q.asset.unwrap_or_default(),
                q => q.q.unwrap_or_default(),
                theme => theme(q.theme.as_deref()),
                query_without_theme => without_theme(raw.as_deref()),
                rendered_at => now_text(&s),
            })
        })
        .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Html(page).into_response())
}

/// The analyses that match `text` (BM25 over headline, tags and text, with tantivy), best
/// first: an index in memory of the analyses given (a feed holds few enough).
fn search(
    analyses: Vec<canary_store::StoredAnalysis>,
    text: &str,
) -> Result<Vec<canary_store::StoredAnalysis>, Problem> {
    let err = |e: canary_search::SearchError| {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    };
    let mut index = canary_search::NewsIndex::in_memory().map_err(err)?;
    let docs: Vec<canary_model::news::NewsItem> = analyses
        .iter()
        .map(|a| canary_model::news::NewsItem {
            id: a.id.clone(),
            outlet: "canary".into(),
            source: "analyses".into(),
            url: None,
            title: a.headline.clone(),
            summary: format!("{} {}", a.tags.join(" "), a.markdown),
            published_at: Some(a.as_of),
            available_at: a.created_at,
            language: None,
            duplicate_of: None,
        })
        .collect();
    index.add(&docs, 0).map_err(err)?;
    let hits = index
        .search(&canary_search::SearchQuery {
            text: text.to_string(),
            limit: analyses.len().max(1),
            ..canary_search::SearchQuery::default()
        })
        .map_err(err)?;
    let mut by_id: std::collections::HashMap<String, canary_store::StoredAnalysis> =
        analyses.into_iter().map(|a| (a.id.clone(), a)).collect();
    Ok(hits.iter().filter_map(|h| by_id.remove(&h.id)).collect())
}

async fn analysis_page(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let session = s.session.clone();
    let html = tokio::task::spawn_blocking(move || -> Result<String, Problem> {
        let store = session.open_existing()?;
        let a = store.analysis(&id)?.ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                format!("no analysis {id}: the feed at / lists them"),
            )
        })?;
        let charts = format!(
            r#"<section id="canary-charts" data-symbol="{}" data-asof="{}"><h2>Charts</h2><p id="charts-note" class="meta"><noscript>The charts need JavaScript; every number is in the text above.</noscript></p><div id="price-chart" style="height:360px"></div><h3>Risk, component by component</h3><div id="waterfall"></div></section><style>.wf-row{{display:flex;align-items:center;gap:.5rem;font-size:.85rem;margin:.15rem 0}}.wf-label{{flex:0 0 45%}}.wf-track{{position:relative;flex:1;height:.9rem;background:#eef1f6}}.wf-bar{{position:absolute;top:0;bottom:0;background:#9b1c1c}}.wf-pts{{flex:0 0 3.5rem;text-align:right}}.wf-out{{font-size:.8rem;color:#5b6475}}</style><script src="/assets/lightweight-charts.js"></script><script src="/assets/analysis.js"></script>"#,
            a.symbol, a.as_of
        );
        a.html
            .map(|h| match h.rfind("</body>") {
                // The charts go under the analysis as it was rendered.
                Some(i) => format!("{}{charts}{}", &h[..i], &h[i..]),
                None => h,
            })
            .ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                format!(
                    "analysis {} was stored before pages were: run canary analyze again for its time to store its page",
                    a.id
                ),
            )
        })
    })
    .await
    .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

#[derive(Debug, Deserialize)]
struct AlertsQuery {
    rule: Option<String>,
    tf: Option<String>,
    symbol: Option<String>,
    theme: Option<String>,
}

/// The alerts page: templates, the backtest, the token's rules and deliveries (the script
/// works through /api/v1).
async fn alerts_page(
    State(s): State<AppState>,
    Query(q): Query<AlertsQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Problem> {
    let sym = q.symbol.clone().unwrap_or_else(|| "BTCUSDT".into());
    let templates: Vec<serde_json::Value> = [
        ("Daily RSI below 30", format!("{sym}.rsi14.1d < 30"), "1d"),
        (
            "A close below the Watch's support",
            format!("crosses_below({sym}.close, watch.support)"),
            "4h",
        ),
        (
            "A close above the Watch's resistance",
            format!("crosses_above({sym}.close, watch.resistance)"),
            "4h",
        ),
        ("Threat 4 or more", format!("threat({sym}) >= 4"), "1d"),
        (
            "Risk up 15 within a day",
            format!("risk({sym}) rises_by 15 within 24h"),
            "1d",
        ),
    ]
    .into_iter()
    .map(|(name, rule, tf)| serde_json::json!({ "name": name, "rule": rule, "tf": tf }))
    .collect();
    let year_ago =
        canary_model::Timestamp::from_millis(s.session.now().millis() - 365 * 86_400_000)
            .to_string();
    let page = env()
        .get_template("alerts.html.j2")
        .and_then(|t| {
            t.render(minijinja::context! {
                templates => minijinja::Value::from(minijinja::value::Serde(&templates)),
                rule => q.rule.unwrap_or_default(),
                tf => q.tf.unwrap_or_else(|| "1d".into()),
                backtest_from => year_ago,
                theme => theme(q.theme.as_deref()),
                query_without_theme => without_theme(raw.as_deref()),
                rendered_at => now_text(&s),
            })
        })
        .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Html(page).into_response())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use canary_model::{Symbol, Timestamp};
    use canary_store::Stores;

    use super::*;

    use crate::test_data::{ASOF, crash_store};

    /// The real 4h bars and the headlines of 2026-02-05, stored as of the morning after.
    fn store(dir: &Path) -> Box<dyn canary_store::Stores> {
        crash_store(&dir.join("p.db"), Timestamp::parse(ASOF).unwrap())
    }

    fn state(dir: &Path) -> AppState {
        AppState::new(crate::ServerConfig::new(dir.join("p.db"))).unwrap()
    }

    fn at<'a>(store: &'a dyn Stores, st: &'a AppState, t: &str) -> canary_engine::Context<'a> {
        canary_engine::Context::new(store, Timestamp::parse(t).unwrap())
            .unwrap()
            .with_profiles(st.session.profiles().unwrap())
    }

    #[test]
    fn the_watch_part_lists_the_levels_in_order_or_says_why_not() {
        let dir = tempfile::tempdir().unwrap();
        let (store, st) = (store(dir.path()), state(dir.path()));
        let ctx = at(&*store, &st, ASOF);
        let mut d = Dash::default();
        dash_watch(&mut d, &ctx, &Symbol::new("BTCUSDT").unwrap());
        assert!(d.watch_error.is_empty(), "{}", d.watch_error);
        let names: Vec<&str> = d
            .watch
            .iter()
            .map(|l| l["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["support", "trapdoor", "resistance"]);
        assert!(
            d.watch
                .iter()
                .all(|l| l["zone"].as_str().unwrap().contains(" – "))
        );
        assert!(d.momentum.starts_with("RSI 14 ("), "{}", d.momentum);
        assert!(!d.simulated);
        let mut none = Dash::default();
        dash_watch(&mut none, &ctx, &Symbol::new("ETHUSDT").unwrap());
        assert!(none.watch.is_empty() && none.watch_error.starts_with("No Watch: "));
    }

    #[test]
    fn the_score_part_reads_the_crash_morning_as_bearish_and_threatening() {
        let dir = tempfile::tempdir().unwrap();
        let (store, st) = (store(dir.path()), state(dir.path()));
        let ctx = at(&*store, &st, ASOF);
        let mut d = Dash::default();
        dash_score(
            &mut d,
            &ctx,
            &Symbol::new("BTCUSDT").unwrap(),
            &st.dictionary,
            &st.lexicon,
        );
        assert!(d.score_error.is_empty(), "{}", d.score_error);
        let s = d.score.unwrap();
        assert_eq!(s["label"], "bearish");
        assert_eq!(s["threat"], "5");
        assert_eq!(s["day"], "2026-02-05T00:00:00Z");
        let mut none = Dash::default();
        dash_score(
            &mut none,
            &ctx,
            &Symbol::new("ETHUSDT").unwrap(),
            &st.dictionary,
            &st.lexicon,
        );
        assert!(none.score.is_none() && none.score_error.starts_with("No scores: "));
    }

    #[test]
    fn the_miners_part_prices_the_companies_and_spans_the_slider_around_the_price() {
        let dir = tempfile::tempdir().unwrap();
        let (store, st) = (store(dir.path()), state(dir.path()));
        let ctx = at(&*store, &st, ASOF);
        let mut d = Dash::default();
        dash_miners(&mut d, &ctx, &Symbol::new("BTCUSDT").unwrap());
        assert!(d.miners_error.is_empty(), "{}", d.miners_error);
        assert!(d.price > 50_000.0 && d.price < 80_000.0, "{}", d.price);
        assert!(d.price_min < d.price && d.price < d.price_max);
        assert_eq!(d.price_min % 100.0, 0.0);
        assert!(!d.miners.is_empty());
        for m in &d.miners {
            let status = m["status"].as_str().unwrap();
            assert_eq!(m["break_even"] == "n/a", status == "n/a", "{m}");
        }
    }

    #[test]
    fn the_stories_part_cites_the_news_of_the_week_and_says_when_there_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let (store, st) = (store(dir.path()), state(dir.path()));
        let sym = Symbol::new("BTCUSDT").unwrap();
        let mut d = Dash::default();
        dash_stories(
            &mut d,
            &at(&*store, &st, ASOF),
            &sym,
            &st.dictionary,
            &st.lexicon,
        );
        assert!(d.stories_error.is_empty(), "{}", d.stories_error);
        assert!(!d.stories.is_empty());
        assert!(
            d.stories
                .iter()
                .all(|s| s["sources"].as_u64().unwrap() >= 1)
        );
        let mut later = Dash::default();
        let month_after = at(&*store, &st, "2026-03-10T00:00:00Z");
        dash_stories(&mut later, &month_after, &sym, &st.dictionary, &st.lexicon);
        assert!(later.stories.is_empty());
        assert_eq!(later.stories_error, "No stories in the week before.");
    }
}
