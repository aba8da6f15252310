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

fn env() -> minijinja::Environment<'static> {
    let mut e = minijinja::Environment::new();
    e.add_template("layout.html.j2", LAYOUT)
        .expect("the layout template parses");
    e.add_template("feed.html.j2", FEED)
        .expect("the feed template parses");
    e
}

/// The routes of the pages.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", axum::routing::get(feed))
        .route("/analyses/{id}", axum::routing::get(analysis_page))
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

fn now_text() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    canary_model::Timestamp::from_millis(ms).to_string()
}

async fn feed(
    State(s): State<AppState>,
    Query(q): Query<FeedQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Problem> {
    let db = s.config.db.clone();
    let (tag, asset, words) = (q.tag.clone(), q.asset.clone(), q.q.clone());
    let cards = tokio::task::spawn_blocking(move || -> Result<Vec<Card>, Problem> {
        let store = canary_store::Store::open_existing(&db)?;
        let words: Vec<String> = words
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let asset = asset.map(|a| a.to_uppercase()).filter(|a| !a.is_empty());
        Ok(store
            .analyses(tag.as_deref().filter(|t| !t.is_empty()))?
            .into_iter()
            .filter(|a| {
                asset
                    .as_ref()
                    .is_none_or(|x| a.symbol.starts_with(x.as_str()))
            })
            .filter(|a| {
                let text = format!("{} {}", a.headline, a.tags.join(" ")).to_lowercase();
                words.iter().all(|w| text.contains(w.as_str()))
            })
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
                rendered_at => now_text(),
            })
        })
        .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Html(page).into_response())
}

async fn analysis_page(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let db = s.config.db.clone();
    let html = tokio::task::spawn_blocking(move || -> Result<String, Problem> {
        let store = canary_store::Store::open_existing(&db)?;
        let a = store.analysis(&id)?.ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                format!("no analysis {id}: the feed at / lists them"),
            )
        })?;
        a.html.ok_or_else(|| {
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
