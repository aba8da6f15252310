//! Errors as `application/problem+json` (RFC 9457): a status, a title, and a detail that says
//! what to change.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use canary_engine::EngineError;
use serde::Serialize;
use utoipa::ToSchema;

/// A problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// `about:blank`: the status says the kind.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong and what to change.
    pub detail: String,
    /// Seconds to wait before trying again (rate limits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl Problem {
    #[must_use]
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// A query parameter that does not hold.
    #[must_use]
    pub fn param(name: &str, value: &str, what: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, format!("{name}={value}: {what}"))
    }
}

impl From<EngineError> for Problem {
    fn from(e: EngineError) -> Self {
        let status = match &e {
            EngineError::NoBars { .. }
            | EngineError::NoPrice { .. }
            | EngineError::NoNetwork { .. }
            | EngineError::Empty(_)
            | EngineError::Levels(_)
            | EngineError::UnknownCompany { .. } => StatusCode::NOT_FOUND,
            EngineError::Param { .. }
            | EngineError::Rule(_)
            | EngineError::Spec(_)
            | EngineError::Indicator(_)
            | EngineError::File { .. } => StatusCode::BAD_REQUEST,
            EngineError::Source(_) => StatusCode::BAD_GATEWAY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let hint = match &e {
            EngineError::NoBars { .. } => {
                " (store bars first: canary import FILE --symbol S; or ask for an earlier asof)"
            }
            EngineError::NoPrice { .. } => " (store daily bars of the symbol, or give price=P)",
            _ => "",
        };
        Self::new(status, format!("{e}{hint}"))
    }
}

impl From<canary_store::StoreError> for Problem {
    fn from(e: canary_store::StoreError) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.retry_after;
        let mut r = (status, serde_json::to_string(&self).unwrap_or_default()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = retry
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}
