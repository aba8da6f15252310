//! Canary's HTTP API (`canary serve`): the engine's reports, stored analyses and alert rules
//! over HTTP, each report as of the request's time or `?asof=`. The server computes nothing of
//! its own: every route opens the store, builds the engine's `Context` and calls a report.
//!
//! - [`api`]: the `/api/v1` routes and the OpenAPI document generated from them.
//! - [`pages`]: the feed of analyses and each analysis's page, rendered on the server.
//! - [`problem`]: errors as `application/problem+json`, each saying what to change.
//! - A cache of reports asked for an explicit `asof`, keyed by the request and the store's
//!   data version (a write changes it), bounded to [`CACHE_ENTRIES`].
//! - Limits: a body size limit, a time limit per report, a rate limit per token (or per
//!   client address without one), CORS off unless an origin is configured, and a listening
//!   address on loopback unless another is explicitly allowed.

pub mod api;
pub mod pages;
pub mod problem;

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
    /// Requests per minute per token (or per client address without one).
    pub rate_per_minute: u32,
}

impl ServerConfig {
    /// Defaults: loopback port 8080, no CORS, 64 KiB bodies, 10 s per report, 600 requests
    /// per minute.
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
        }
    }
}

/// What every route shares.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ServerConfig>,
    pub profiles: Arc<Profiles>,
    pub dictionary: Arc<Dictionary>,
    pub lexicon: Arc<Lexicon>,
    /// What the engine running beside the server reports, as JSON lines (`/api/v1/stream`).
    pub live: Option<tokio::sync::broadcast::Sender<Arc<str>>>,
    buckets: Arc<Mutex<HashMap<String, (f64, Instant)>>>,
    cache: Arc<Mutex<Cache>>,
}

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
        Ok(Self {
            config: Arc::new(config),
            profiles: Arc::new(Profiles::built_in()?),
            dictionary: Arc::new(Dictionary::built_in()),
            lexicon: Arc::new(Lexicon::built_in().clone()),
            live: None,
            buckets: Arc::new(Mutex::new(HashMap::new())),
            cache: Arc::new(Mutex::new(Cache::default())),
        })
    }

    /// Take one request from `key`'s bucket: `Err(seconds to wait)` when it is empty.
    fn take(&self, key: &str) -> Result<(), u64> {
        let rate = f64::from(self.config.rate_per_minute.max(1));
        let mut b = self.buckets.lock().expect("not poisoned");
        let now = Instant::now();
        let (tokens, last) = b.entry(key.to_string()).or_insert((rate, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate / 60.0).min(rate);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) * 60.0 / rate).ceil().max(1.0) as u64)
        }
    }
}

/// The bearer token of a request, if it has one.
#[must_use]
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

async fn limits(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let key = match bearer(req.headers()) {
        Some(t) => format!("token:{}", canary_engine::alerting::owner_of(&t)),
        None => format!("addr:{}", peer.ip()),
    };
    if let Err(wait) = s.take(&key) {
        let mut p = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "more than {} requests a minute: wait {wait} s",
                s.config.rate_per_minute
            ),
        );
        p.retry_after = Some(wait);
        return p.into_response();
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
    let db = s.config.db.clone();
    let version = tokio::task::spawn_blocking(move || {
        canary_store::Store::open_existing(&db).and_then(|st| st.data_version())
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
/// picks a free one). `live` carries what an engine running beside the server reports, for
/// `/api/v1/stream`.
///
/// # Errors
/// A non-loopback address not allowed, no database, an address in use.
pub async fn serve(
    config: ServerConfig,
    live: Option<tokio::sync::broadcast::Sender<Arc<str>>>,
    ready: impl FnOnce(SocketAddr),
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if !config.public && !config.addr.ip().is_loopback() {
        return Err(ServeError::NotLoopback(config.addr));
    }
    if !config.db.is_file() {
        return Err(ServeError::NoDatabase(config.db.clone()));
    }
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| ServeError::Bind {
            addr: config.addr,
            error: e.to_string(),
        })?;
    ready(listener.local_addr()?);
    let mut state = AppState::new(config)?;
    state.live = live;
    let app = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await?;
    Ok(())
}
