//! `/api/v1`: one route per engine report, the stored analyses, and the token's alert rules.
//! Every report route takes `asof` (ISO-8601 UTC; default now) and answers the engine's
//! report as JSON with its claims; series routes also answer CSV (`format=csv`). The OpenAPI
//! document (`/api/v1/openapi.json`) is generated from these definitions.
//!
//! The router and the document are here, with the health check; the routes are in files by
//! group: `reports.rs` the market reports, `analyses.rs` the stored analyses, `alerts.rs` the
//! alert rules and their deliveries, `stream.rs` the engine's stream and WebSocket, and
//! `shared.rs` what they share (query values parsed, a report run as of `asof`, CSV).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::{AppState, Problem};

mod alerts;
mod analyses;
mod reports;
mod shared;
mod stream;

// The document names each handler without its module, as a module path would become the
// operation's tag: the handlers, with the `__path_*` types utoipa generates beside them, are
// brought in whole.
use alerts::{
    __path_add_rule, __path_backtest, __path_deliveries, __path_remove_rule, __path_rules,
    __path_silence_rule, __path_test_rule, add_rule, backtest, deliveries, remove_rule, rules,
    silence_rule, test_rule,
};
use analyses::{
    __path_analyses, __path_analysis, __path_analysis_history, __path_analysis_related, analyses,
    analysis, analysis_history, analysis_related,
};
use reports::{
    __path_candles, __path_derivatives, __path_derivatives_map, __path_derivatives_series,
    __path_indicators, __path_markets, __path_miners, __path_network, __path_news, __path_score,
    __path_score_history, __path_series, __path_stats, __path_stories, __path_treasury,
    __path_watch, candles, derivatives, derivatives_map, derivatives_series, indicators, markets,
    miners, network, news, score, score_history, series, stats, stories, treasury, watch,
};
use stream::{__path_stream, __path_websocket, stream, websocket};

pub use alerts::{Backtest, DeliveryRow, NewRule, RuleRow, SilenceFor};
pub use analyses::AnalysisRow;
pub use reports::{DerivPoint, DerivSeriesDoc, SeriesRow};
pub(crate) use shared::{score_params, with_context};

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
        .route("/api/v1/derivatives", get(derivatives))
        .route("/api/v1/derivatives/map", get(derivatives_map))
        .route("/api/v1/derivatives/series", get(derivatives_series))
        .route("/api/v1/markets", get(markets))
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
        derivatives,
        derivatives_map,
        derivatives_series,
        markets,
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
        DerivSeriesDoc,
        DerivPoint,
        AnalysisRow,
        Backtest,
        SilenceFor
    ))
)]
pub struct ApiDoc;

async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
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

#[cfg(test)]
#[path = "../api_tests.rs"]
mod tests;
