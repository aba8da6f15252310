//! What the route groups share: the query values parsed into domain types (a bad one a
//! `400` naming the parameter), a report run on a context as of `asof` or work on the store,
//! off the async threads, and CSV answers.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use canary_engine::{Context, EngineError};
use canary_model::{Symbol, Timeframe, Timestamp};
use canary_store::Stores;

use crate::asof::AsOf;
use crate::{AppState, Problem};

pub(super) fn parse_time(name: &str, v: Option<&str>) -> Result<Option<Timestamp>, Problem> {
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

pub(super) fn parse_symbol(v: Option<&str>) -> Result<Symbol, Problem> {
    let s = v.unwrap_or("BTCUSDT");
    Symbol::new(s).map_err(|e| Problem::param("symbol", s, &e.to_string()))
}

pub(super) fn parse_tf(name: &str, v: Option<&str>, default: &str) -> Result<Timeframe, Problem> {
    let s = v.unwrap_or(default);
    s.parse()
        .map_err(|e: canary_model::TimeframeError| Problem::param(name, s, &e.to_string()))
}

/// Run `f` on a context as of `asof` (default now), off the async threads, within the time
/// limit.
pub(crate) async fn with_context<T: Send + 'static>(
    s: &AppState,
    asof: AsOf,
    f: impl FnOnce(&Context<'_>, &AppState) -> Result<T, EngineError> + Send + 'static,
) -> Result<T, Problem> {
    let state = s.clone();
    let limit = s.config.timeout;
    let slot = s.report_slot()?;
    let job = tokio::task::spawn_blocking(move || {
        let _slot = slot;
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
pub(super) async fn with_store<T: Send + 'static>(
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

pub(super) fn csv_response(text: String) -> Response {
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response()
}

pub(super) fn want_csv(format: Option<&str>) -> Result<bool, Problem> {
    match format.unwrap_or("json") {
        "json" => Ok(false),
        "csv" => Ok(true),
        other => Err(Problem::param("format", other, "json or csv")),
    }
}

pub(crate) fn score_params(symbol: Symbol) -> canary_engine::ScoreParams {
    canary_engine::ScoreParams::published(symbol)
}
