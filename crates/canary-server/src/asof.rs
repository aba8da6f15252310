//! `asof`, read once for every route and page: the time a report is as of.
//!
//! [`AsOf`] is an extractor: it takes `asof` from the query string, refuses it given twice,
//! parses it as every interface does (`Timestamp::parse`: ISO-8601 UTC, a date, or unix
//! seconds or milliseconds), and leaves an empty or absent one to mean now, which the
//! server's session reads from its clock (`Session::read`). Routes take it beside their own
//! query; the OpenAPI document describes it once ([`AsOfParam`]).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use canary_model::Timestamp;
use utoipa::IntoParams;

use crate::Problem;

/// The `asof` of a request: `None` for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsOf(pub Option<Timestamp>);

/// The `asof` query parameter, as the OpenAPI document shows it.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfParam {
    /// The time the report is as of: ISO-8601 UTC (2026-02-06T05:00:00Z), a date, or unix
    /// seconds or milliseconds; default now. Only what was knowable then is used.
    #[allow(dead_code)] // read by the extractor, here for the document
    asof: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for AsOf {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or("");
        let mut given: Option<String> = None;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            if k != "asof" {
                continue;
            }
            if given.is_some() {
                return Err(Problem::param("asof", &v, "given twice: give one time"));
            }
            given = Some(v.into_owned());
        }
        match given.filter(|v| !v.is_empty()) {
            None => Ok(AsOf(None)),
            Some(v) => Timestamp::parse(&v).map(|t| AsOf(Some(t))).map_err(|e| {
                Problem::param(
                    "asof",
                    &v,
                    &format!("{e} (ISO-8601 UTC, e.g. 2026-02-06T05:00:00Z)"),
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn of(uri: &str) -> Result<AsOf, Problem> {
        let (mut parts, ()) = axum::http::Request::get(uri).body(()).unwrap().into_parts();
        AsOf::from_request_parts(&mut parts, &()).await
    }

    #[tokio::test]
    async fn asof_is_read_once_whatever_the_route() {
        let t = Timestamp::parse("2026-02-06T05:00:00Z").unwrap();
        assert_eq!(
            of("/x?asof=2026-02-06T05:00:00Z").await.unwrap(),
            AsOf(Some(t))
        );
        assert_eq!(
            of("/x?symbol=A&asof=2026-02-06T05%3A00%3A00Z")
                .await
                .unwrap(),
            AsOf(Some(t))
        );
        assert_eq!(of("/x?asof=1770354000").await.unwrap(), AsOf(Some(t)));
        assert_eq!(of("/x").await.unwrap(), AsOf(None));
        assert_eq!(of("/x?asof=").await.unwrap(), AsOf(None));
        let twice = of("/x?asof=2026-01-01&asof=2026-01-02").await.unwrap_err();
        assert!(twice.detail.contains("given twice"), "{}", twice.detail);
        let bad = of("/x?asof=yesterday").await.unwrap_err();
        assert_eq!(bad.status, 400);
        assert!(bad.detail.starts_with("asof=yesterday: "), "{}", bad.detail);
    }
}
