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

/// Numbers the internal errors of this process.
static INTERNAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Problem {
    /// A problem with this status. A 500 never carries its detail to the client (it could be
    /// a panic's message, a path, a database's words): see [`Problem::internal`].
    #[must_use]
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            return Self::internal(detail.into());
        }
        Self {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// A 500 that says "internal error" and an id; `details` go to the log (standard error)
    /// under the same id, for the operator.
    #[must_use]
    pub fn internal(details: impl std::fmt::Display) -> Self {
        // Random, so that ids stay distinct across restarts; the count keeps them distinct
        // should the system's generator fail.
        let n = INTERNAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut bytes = [0u8; 6];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
        let id = format!("{}-{n}", canary_model::excerpt::hex(&bytes));
        eprintln!("internal error {id}: {details}");
        let status = StatusCode::INTERNAL_SERVER_ERROR;
        Self {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: format!("internal error {id} (the server's log has the details under this id)"),
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
        let e = match e {
            EngineError::Store(s) => return Self::from(s),
            e => e,
        };
        let status = match &e {
            // Bars stored, but too extreme to place levels on: the data, not the request.
            EngineError::Levels(canary_analytics::levels::LevelsError::NoAtr { .. }) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            EngineError::NoBars { .. }
            | EngineError::NoPrice { .. }
            | EngineError::NoNetwork { .. }
            | EngineError::NoDerivatives { .. }
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
            EngineError::NoDerivatives { .. } => {
                " (import it first: canary derivatives import FILE; or ask for another asof)"
            }
            _ => "",
        };
        Self::new(status, format!("{e}{hint}"))
    }
}

impl From<canary_store::StoreError> for Problem {
    fn from(e: canary_store::StoreError) -> Self {
        if matches!(e, canary_store::StoreError::Busy { .. }) {
            let mut p = Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is busy with a writer: try again shortly",
            );
            p.retry_after = Some(1);
            return p;
        }
        Self::internal(e)
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
