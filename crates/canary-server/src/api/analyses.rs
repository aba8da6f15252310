//! The stored analyses: listed newest first, one as it was stored (an id prefix is enough),
//! its versions and the analyses it lists as related.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use canary_store::Stores;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::shared::with_store;
use crate::{AppState, Problem};

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
pub(super) struct AnalysesQuery {
    /// Only analyses with this tag.
    tag: Option<String>,
}

/// Stored analyses, newest first.
#[utoipa::path(get, path = "/api/v1/analyses", params(AnalysesQuery),
    responses((status = 200, body = [AnalysisRow])))]
pub(super) async fn analyses(
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
pub(super) async fn analysis(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let json = with_store(&s, move |store| Ok(find(store, &id)?.json)).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

/// Every version of an analysis (same symbol, topic and time), oldest first.
#[utoipa::path(get, path = "/api/v1/analyses/{id}/history", params(("id" = String, Path)),
    responses((status = 200, body = [AnalysisRow]), (status = 404, body = Problem)))]
pub(super) async fn analysis_history(
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

/// The earlier analyses an analysis lists as related (sharing its tags), as it stored them.
#[utoipa::path(get, path = "/api/v1/analyses/{id}/related", params(("id" = String, Path)),
    responses((status = 200, description = "The related analyses"), (status = 404, body = Problem)))]
pub(super) async fn analysis_related(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let json = with_store(&s, move |store| Ok(find(store, &id)?.json)).await?;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    Ok(Json(v["related"].clone()).into_response())
}
