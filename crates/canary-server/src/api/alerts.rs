//! Alert rules and their deliveries, each rule the token's own: listed (secrets left out),
//! added, removed, tested, silenced; the deliveries of its rules; and a rule tried on history
//! (no token needed: it stores nothing).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use canary_alerts::state::Policy;
use canary_engine::EngineError;
use canary_engine::tokens::{Caller, Scope};
use canary_model::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ReportDoc;
use super::shared::{parse_tf, parse_time, score_params, with_context, with_store};
use crate::asof::AsOf;
use crate::{AppState, Problem};

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
pub(super) async fn rules(
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
pub(super) async fn add_rule(
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
pub(super) async fn remove_rule(
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
pub(super) struct DeliveriesQuery {
    /// Only this rule's.
    rule: Option<i64>,
}

/// Deliveries of the token's rules, newest first.
#[utoipa::path(get, path = "/api/v1/alerts/deliveries", params(DeliveriesQuery),
    responses((status = 200, body = [DeliveryRow]), (status = 401, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn deliveries(
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
pub(super) async fn backtest(
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
pub(super) async fn test_rule(
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
pub(super) async fn silence_rule(
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
