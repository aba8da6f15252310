//! Canary's HTTP API (`canary serve`): the engine's reports, stored analyses and alert rules
//! over HTTP, each report as of the request's time or `?asof=`. The server computes nothing of
//! its own: every route opens the store, builds the engine's `Context` and calls a report.
//!
//! - [`api`]: the `/api/v1` routes and the OpenAPI document generated from them.
//! - [`asof`]: `asof` read once for every route and page (an extractor).
//! - [`pages`]: the feed of analyses and each analysis's page, rendered on the server.
//! - [`problem`]: errors as `application/problem+json`, each saying what to change.
//! - A cache of reports asked for an explicit `asof`, keyed by the request and the store's
//!   data version (a write changes it), bounded to [`CACHE_ENTRIES`].
//! - Limits: a body size limit, a time limit per report, rate limits per client address and
//!   per token, timeouts for a request's headers (and between requests on a kept-alive
//!   connection) and its body, a cap on open connections, CORS off unless an origin is
//!   configured, and a listening address on loopback unless another is explicitly allowed.
//! - Tokens: a bearer token must be one the operator issued (`canary tokens create`), not
//!   revoked; an unknown one is refused, never taken as a new identity. Alert rules belong to
//!   a token; its scope says whether it may change them.
//! - Failures: a 500 says "internal error" and an id, the details go to the log (standard
//!   error) under that id; a handler that panics answers 500 the same way, and the server
//!   goes on.

pub mod api;
pub mod asof;
pub mod live;
pub mod pages;
pub mod problem;
#[cfg(test)]
mod test_data;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use canary_engine::facts::Profiles;
use canary_news::sentiment::Lexicon;
use canary_news::tags::Dictionary;

use canary_engine::tokens::Caller;
pub use problem::Problem;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub db: PathBuf,
    pub addr: SocketAddr,
    /// Listen on an address other than loopback (refused otherwise).
    pub public: bool,
    /// Answer cross-origin requests from this origin (none by default).
    pub cors_origin: Option<String>,
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// The longest a report may take.
    pub timeout: Duration,
    /// Requests per minute per token.
    pub rate_per_minute: u32,
    /// Requests per minute per client address, whatever tokens it sends.
    pub rate_per_address: u32,
    /// Rules may send notices to loopback and private addresses (the operator's setting).
    pub allow_private: bool,
    /// A request's headers must arrive within this; a kept-alive connection idle this long
    /// between requests is closed.
    pub header_timeout: Duration,
    /// A request's body must arrive within this (beyond the report's own time limit).
    pub body_timeout: Duration,
    /// Connections open at once; more wait to be accepted.
    pub max_connections: usize,
    /// Reports computing at once (each on a thread of its own). A report past its time limit
    /// is answered 503 but cannot be stopped, so it keeps its slot until it ends: slow
    /// reports cannot pile up; requests beyond the slots get 503 with `Retry-After`.
    pub max_reports: usize,
}

/// Twice the processor's threads (at least 4): reports are CPU-bound, and a second slot per
/// thread covers the time a report spends reading the store.
fn default_max_reports() -> usize {
    std::thread::available_parallelism().map_or(4, |n| (2 * n.get()).max(4))
}

impl ServerConfig {
    /// Defaults: loopback port 8080, no CORS, 64 KiB bodies, 10 s per report, 600 requests
    /// per minute per token and 1,200 per address, 10 s for headers and for a body, 1,024
    /// connections, notices to public addresses only.
    #[must_use]
    pub fn new(db: PathBuf) -> Self {
        Self {
            db,
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public: false,
            cors_origin: None,
            max_body: 64 * 1024,
            timeout: Duration::from_secs(10),
            rate_per_minute: 600,
            rate_per_address: 1200,
            allow_private: false,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_reports: default_max_reports(),
        }
    }
}

/// What every route shares.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ServerConfig>,
    /// The store at `config.db`, the built-in company facts, and where "now" comes from (the
    /// default of `asof`, a rule's start, a delivery's time): the wall clock, or a test's own.
    pub session: canary_engine::Session,
    pub dictionary: Arc<Dictionary>,
    pub lexicon: Arc<Lexicon>,
    /// What an engine reports, as JSON lines (`/api/v1/stream`): one beside the server, or
    /// those on the bus the server follows.
    pub live: Option<Arc<live::LiveFeed>>,
    /// One permit per report computing (`ServerConfig::max_reports`).
    reports: Arc<tokio::sync::Semaphore>,
    buckets: Arc<Mutex<HashMap<String, (f64, Instant)>>>,
    cache: Arc<Mutex<Cache>>,
    /// Valid tokens recently seen, by hash, with when they were looked up.
    callers: Arc<Mutex<HashMap<String, (Caller, Instant)>>>,
}

/// How long a valid token is taken on trust before it is looked up again (a revocation
/// takes effect within this).
pub const TOKEN_RECHECK: Duration = Duration::from_secs(5);

/// Reports answered for an explicit `asof`, by request and data version: the same question on
/// the same data gets the same bytes without recomputing; a write to the store changes the
/// version, so nothing stale is served. Bounded: the oldest entry goes first.
#[derive(Debug, Default)]
struct Cache {
    entries: HashMap<String, (axum::body::Bytes, HeaderValue, u64)>,
    clock: u64,
}

/// Entries the report cache keeps.
pub const CACHE_ENTRIES: usize = 512;
/// The largest report the cache keeps, in bytes.
pub const CACHE_MAX_BYTES: usize = 4 * 1024 * 1024;

impl Cache {
    fn get(&mut self, key: &str) -> Option<(axum::body::Bytes, HeaderValue)> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(key).map(|e| {
            e.2 = clock;
            (e.0.clone(), e.1.clone())
        })
    }

    fn put(&mut self, key: String, body: axum::body::Bytes, ctype: HeaderValue) {
        self.clock += 1;
        if self.entries.len() >= CACHE_ENTRIES
            && let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.2)
                .map(|(k, _)| k.clone())
        {
            self.entries.remove(&oldest);
        }
        self.entries.insert(key, (body, ctype, self.clock));
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The state of a server on `config`, with the built-in company facts, tag dictionary
    /// and sentiment lexicon.
    ///
    /// # Errors
    /// The built-in company facts do not read (a broken build).
    pub fn new(config: ServerConfig) -> Result<Self, canary_engine::EngineError> {
        let session =
            canary_engine::Session::new(&config.db).with_profiles(Arc::new(Profiles::built_in()?));
        let reports = Arc::new(tokio::sync::Semaphore::new(config.max_reports.max(1)));
        Ok(Self {
            config: Arc::new(config),
            session,
            dictionary: Arc::new(Dictionary::built_in()),
            lexicon: Arc::new(Lexicon::built_in().clone()),
            live: None,
            reports,
            buckets: Arc::new(Mutex::new(HashMap::new())),
            cache: Arc::new(Mutex::new(Cache::default())),
            callers: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// A slot to compute a report in, held until the report ends (after its answer, when it
    /// overran its time limit); 503 with `Retry-After` when every slot is taken.
    pub(crate) fn report_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Problem> {
        self.reports.clone().try_acquire_owned().map_err(|_| {
            let mut p = Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the server is computing {} reports already: try again shortly",
                    self.config.max_reports.max(1)
                ),
            );
            p.retry_after = Some(1);
            p
        })
    }

    /// Take one request from `key`'s bucket of `rate` a minute: `Err(seconds to wait)` when
    /// it is empty. Full buckets are forgotten now and then, so that many addresses seen
    /// once do not grow the map without bound.
    fn take(&self, key: &str, rate: u32) -> Result<(), u64> {
        let rate = f64::from(rate.max(1));
        let mut b = self.buckets.lock().expect("not poisoned");
        let now = Instant::now();
        if b.len() > 100_000 {
            b.retain(|_, (tokens, last)| {
                *tokens + now.duration_since(*last).as_secs_f64() * rate / 60.0 < rate
            });
        }
        let (tokens, last) = b.entry(key.to_string()).or_insert((rate, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate / 60.0).min(rate);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            // Whole seconds from 1 to 60 (a rate is at least one a minute).
            #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let wait = ((1.0 - *tokens) * 60.0 / rate).ceil().max(1.0) as u64;
            Err(wait)
        }
    }

    /// Who sends `token`: looked up in the store (a valid token is trusted for
    /// [`TOKEN_RECHECK`]); `None` for one nobody issued or one revoked.
    async fn caller(&self, token: String) -> Result<Option<Caller>, Problem> {
        let hash = canary_engine::alerting::owner_of(&token);
        if let Some((c, at)) = self.callers.lock().expect("not poisoned").get(&hash)
            && at.elapsed() < TOKEN_RECHECK
        {
            return Ok(Some(c.clone()));
        }
        let session = self.session.clone();
        let found = tokio::task::spawn_blocking(move || {
            let store = session.open_existing()?;
            canary_engine::tokens::authenticate(&*store, &token).map_err(Problem::from)
        })
        .await
        .map_err(|e| Problem::internal(format!("token lookup: {e}")))??;
        let mut callers = self.callers.lock().expect("not poisoned");
        match &found {
            Some(c) => {
                if callers.len() > 10_000 {
                    callers.clear();
                }
                callers.insert(hash, (c.clone(), Instant::now()));
            }
            None => {
                callers.remove(&hash);
            }
        }
        Ok(found)
    }
}

/// What a request's Authorization header says.
enum Authorization {
    None,
    Bearer(String),
    /// Present but not `Bearer TOKEN`.
    Malformed,
}

fn authorization(headers: &axum::http::HeaderMap) -> Authorization {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Authorization::None;
    };
    match v.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) {
        Some(t) if !t.trim().is_empty() => Authorization::Bearer(t.trim().to_string()),
        _ => Authorization::Malformed,
    }
}

fn too_many(rate: u32, per: &str, wait: u64) -> Response {
    let mut p = Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("more than {rate} requests a minute {per}: wait {wait} s"),
    );
    p.retry_after = Some(wait);
    p.into_response()
}

/// Rate limits (per client address, then per token), the caller known from its token, CORS.
async fn limits(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    // The address's bucket first: guessing tokens costs requests like anything else.
    if let Err(wait) = s.take(&format!("addr:{}", peer.ip()), s.config.rate_per_address) {
        return too_many(s.config.rate_per_address, "from this address", wait);
    }
    match authorization(req.headers()) {
        Authorization::None => {}
        Authorization::Malformed => {
            return Problem::new(
                StatusCode::UNAUTHORIZED,
                "the Authorization header must be `Bearer TOKEN`, a token canary tokens create issued",
            )
            .into_response();
        }
        Authorization::Bearer(t) => match s.caller(t).await {
            Ok(Some(c)) => {
                if let Err(wait) = s.take(&format!("token:{}", c.id), s.config.rate_per_minute) {
                    return too_many(s.config.rate_per_minute, "with this token", wait);
                }
                req.extensions_mut().insert(c);
            }
            Ok(None) => {
                return Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "an unknown or revoked token: send one that canary tokens create issued (or none, for the reports)",
                )
                .into_response();
            }
            Err(p) => return p.into_response(),
        },
    }
    let origin = s.config.cors_origin.clone();
    if req.method() == Method::OPTIONS
        && let Some(o) = &origin
    {
        let mut r = StatusCode::NO_CONTENT.into_response();
        cors(&mut r, o);
        return r;
    }
    let mut r = next.run(req).await;
    if let Some(o) = &origin {
        cors(&mut r, o);
    }
    r
}

/// A request's handler must finish (its body read, its report made) within the report's
/// limit and the body's: a client that sends half a body is answered 408 and let go.
async fn deadline(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let limit = s.config.timeout + s.config.body_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request took longer than {} s (a body sent too slowly?)",
                limit.as_secs()
            ),
        )
        .into_response(),
    }
}

/// A handler that panics answers 500 with an id (the panic's message goes to the log under
/// it), and the server goes on.
async fn catch_panics(req: Request, next: Next) -> Response {
    match tokio::spawn(next.run(req)).await {
        Ok(r) => r,
        Err(e) => Problem::internal(match e.try_into_panic() {
            Ok(p) => p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into()),
            Err(e) => e.to_string(),
        })
        .into_response(),
    }
}

/// What axum answers by itself in plain text (a query or path value that does not parse, a
/// method not allowed, a body too large) as `application/problem+json` like everything else.
async fn problems_only(req: Request, next: Next) -> Response {
    let r = next.run(req).await;
    let status = r.status();
    let plain = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return r;
    }
    let (parts, body) = r.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let detail = if text.trim().is_empty() {
        match status {
            StatusCode::METHOD_NOT_ALLOWED => {
                "this route does not take that method (/api/v1/openapi.json lists them)".to_string()
            }
            _ => status.canonical_reason().unwrap_or("error").to_string(),
        }
    } else {
        text
    };
    let mut p = Problem::new(status, detail).into_response();
    for (k, v) in &parts.headers {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            p.headers_mut().insert(k.clone(), v.clone());
        }
    }
    p
}

/// Report routes (and pages) whose answers for an explicit `asof` are cached.
const CACHED: [&str; 13] = [
    "/dashboard",
    "/api/v1/score/history",
    "/api/v1/candles",
    "/api/v1/indicators",
    "/api/v1/stats",
    "/api/v1/watch",
    "/api/v1/score",
    "/api/v1/network",
    "/api/v1/miners",
    "/api/v1/treasury",
    "/api/v1/news",
    "/api/v1/stories",
    "/api/v1/series",
];

async fn cache(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let uri = req.uri().clone();
    let cacheable = req.method() == Method::GET
        && CACHED.contains(&uri.path())
        && uri
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("asof=")));
    if !cacheable {
        return next.run(req).await;
    }
    let session = s.session.clone();
    let version = tokio::task::spawn_blocking(move || {
        session.open_existing().and_then(|st| st.data_version())
    })
    .await;
    let Ok(Ok(version)) = version else {
        return next.run(req).await;
    };
    let key = format!("{version} {uri}");
    let hit = s.cache.lock().expect("not poisoned").get(&key);
    if let Some((body, ctype)) = hit {
        let mut r = body.into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, ctype);
        r.headers_mut()
            .insert("x-cache", HeaderValue::from_static("hit"));
        return r;
    }
    let r = next.run(req).await;
    if r.status() != StatusCode::OK {
        return r;
    }
    let (mut parts, body) = r.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, CACHE_MAX_BYTES).await else {
        return Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "a report too large to send",
        )
        .into_response();
    };
    if let Some(ctype) = parts.headers.get(header::CONTENT_TYPE).cloned() {
        s.cache
            .lock()
            .expect("not poisoned")
            .put(key, bytes.clone(), ctype);
    }
    parts
        .headers
        .insert("x-cache", HeaderValue::from_static("miss"));
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

fn cors(r: &mut Response, origin: &str) {
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, DELETE"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Authorization, Content-Type"),
    );
}

/// The whole application: the API with its limits.
pub fn router(state: AppState) -> axum::Router {
    let max_body = state.config.max_body;
    api::routes()
        .merge(pages::routes())
        .layer(axum::middleware::from_fn_with_state(state.clone(), cache))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            deadline,
        ))
        .layer(axum::middleware::from_fn(catch_panics))
        .layer(axum::middleware::from_fn(problems_only))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "{0}: not a loopback address; the API would be open to the network (allow it explicitly, and put it behind TLS)"
    )]
    NotLoopback(SocketAddr),
    #[error("{0}: no database there (import data first, or pass --db)")]
    NoDatabase(PathBuf),
    #[error("{addr}: cannot listen: {error}")]
    Bind { addr: SocketAddr, error: String },
    #[error(transparent)]
    Engine(#[from] canary_engine::EngineError),
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// Listen on `config.addr` until `stop` resolves; `ready` gets the address bound (port 0
/// picks a free one). `live` carries what an engine reports (one beside the server, or those
/// on a bus), for `/api/v1/stream`.
///
/// Each connection is served by hyper with a header-read timeout (which also closes a
/// kept-alive connection idle that long), at most `max_connections` at once: past that,
/// new connections wait in the listening queue until one closes. On `stop`, connections
/// finish the request in flight and close.
///
/// # Errors
/// A non-loopback address not allowed, no database, an address in use.
pub async fn serve(
    config: ServerConfig,
    live: Option<Arc<live::LiveFeed>>,
    ready: impl FnOnce(SocketAddr),
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if !config.public && !config.addr.ip().is_loopback() {
        return Err(ServeError::NotLoopback(config.addr));
    }
    if !canary_store::exists(&config.db) {
        return Err(ServeError::NoDatabase(config.db.clone()));
    }
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| ServeError::Bind {
            addr: config.addr,
            error: e.to_string(),
        })?;
    ready(listener.local_addr()?);
    let (header_timeout, max_connections) = (config.header_timeout, config.max_connections);
    let mut state = AppState::new(config)?;
    state.live = live.clone();
    let app = router(state);
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections.max(1)));
    // Dropped on stop: every connection watching it shuts down gracefully.
    let (stopping, _) = tokio::sync::watch::channel(());
    let mut stop = std::pin::pin!(stop);
    loop {
        let slot = tokio::select! {
            () = &mut stop => break,
            s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
        };
        let (tcp, peer) = tokio::select! {
            () = &mut stop => break,
            a = listener.accept() => match a {
                Ok(a) => a,
                // Out of file descriptors and the like: wait, then accept again.
                Err(e) => {
                    eprintln!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let mut stopping = stopping.subscribe();
        tokio::spawn(async move {
            let _slot = slot;
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    tower::ServiceExt::oneshot(app.clone(), req)
                },
            );
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = http
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stopping.changed() => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
    drop(stopping);
    // The live streams end, or their requests would never finish.
    if let Some(l) = &live {
        l.close();
    }
    // Wait for the connections in flight to finish.
    let _ = slots
        .acquire_many(u32::try_from(max_connections.max(1)).unwrap_or(u32::MAX))
        .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(app: axum::Router, uri: &str) -> (StatusCode, String, String) {
        let r = tower::ServiceExt::oneshot(
            app,
            axum::http::Request::get(uri)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
        let status = r.status();
        let ctype = r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        (status, ctype, String::from_utf8_lossy(&body).into_owned())
    }

    /// A panic in a handler (a huge value once made the levels panic) answered 500 with the
    /// panic's text; now the text stays in the log and the answer carries an id.
    #[tokio::test]
    async fn a_panic_answers_500_with_an_id_never_its_message() {
        let app = axum::Router::new()
            .route(
                "/boom",
                axum::routing::get(|| async {
                    assert!(
                        !std::hint::black_box(true),
                        "secret detail at levels/mod.rs:618"
                    );
                    "unreachable"
                }),
            )
            .route("/fine", axum::routing::get(|| async { "fine" }))
            .layer(axum::middleware::from_fn(catch_panics))
            .layer(axum::middleware::from_fn(problems_only));
        let (status, ctype, body) = answer(app.clone(), "/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(ctype, "application/problem+json");
        assert!(body.contains("internal error "), "{body}");
        assert!(
            !body.contains("secret") && !body.contains("levels"),
            "{body}"
        );
        // The router goes on.
        assert_eq!(answer(app, "/fine").await.2, "fine");
        // Every 500 hides its detail, whoever makes it.
        let p = Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "/home/x/canary.db: disk I/O",
        );
        assert!(p.detail.starts_with("internal error "), "{}", p.detail);
        assert!(!p.detail.contains("disk"), "{}", p.detail);
        assert_ne!(Problem::internal("a").detail, Problem::internal("a").detail);
    }

    /// axum's own rejections (a query that does not parse) were text/plain.
    #[tokio::test]
    async fn axum_rejections_become_problem_json() {
        #[derive(serde::Deserialize)]
        struct Q {
            #[allow(dead_code)]
            last: Option<u32>,
        }
        let app = axum::Router::new()
            .route(
                "/q",
                axum::routing::get(|_: axum::extract::Query<Q>| async { "ok" }),
            )
            .layer(axum::middleware::from_fn(problems_only));
        let (status, ctype, body) = answer(app, "/q?last=abc").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(ctype, "application/problem+json");
        let p: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(p["detail"].as_str().unwrap().contains("last"), "{body}");
    }
}
