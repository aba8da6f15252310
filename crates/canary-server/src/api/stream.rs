//! What the engine running beside the server reports, as it happens: Server-Sent Events
//! (`/api/v1/stream`) or a WebSocket (`/api/v1/ws`), filtered by kind, a client too slow for
//! the stream told how many it missed.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{AppState, Problem};

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct StreamQuery {
    /// Only these kinds, comma-separated: bar, score, notice, system, divergence, job,
    /// rule_error (default all).
    kinds: Option<String>,
}

/// One client's view of the engine's outputs: the kinds it asked for (`None`: all).
struct Subscription {
    rx: tokio::sync::broadcast::Receiver<std::sync::Arc<str>>,
    kinds: Option<Vec<String>>,
}

/// What a client gets next from the engine's stream.
enum Next {
    /// An output of a kind it asked for (the JSON line as the engine wrote it).
    Output {
        kind: String,
        line: std::sync::Arc<str>,
    },
    /// It was too slow: this many outputs were dropped for it.
    Lagged(u64),
}

impl Subscription {
    /// Subscribe to the engine beside the server; 404 when none runs.
    fn new(s: &AppState, kinds: Option<String>) -> Result<Self, Problem> {
        let Some(live) = &s.live else {
            return Err(Problem::new(
                StatusCode::NOT_FOUND,
                "no engine runs beside this server: start it with canary serve --run canary.toml",
            ));
        };
        Ok(Subscription {
            rx: live.subscribe(),
            kinds: kinds.map(|k| k.split(',').map(|x| x.trim().to_string()).collect()),
        })
    }

    /// The next output of a wanted kind, or the lag notice; `None` once the engine stops.
    async fn next(&mut self) -> Option<Next> {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match self.rx.recv().await {
                Ok(line) => {
                    let kind = serde_json::from_str::<serde_json::Value>(&line)
                        .ok()
                        .and_then(|v| v["kind"].as_str().map(str::to_string))
                        .unwrap_or_default();
                    if self.kinds.as_ref().is_some_and(|k| !k.contains(&kind)) {
                        continue;
                    }
                    return Some(Next::Output { kind, line });
                }
                Err(RecvError::Lagged(n)) => return Some(Next::Lagged(n)),
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

/// What the engine running beside the server reports, as it happens (Server-Sent Events:
/// `event: bar|score|notice|…`, `data: JSON`). A client too slow for the stream gets a
/// `lagged` event with the number it missed; nothing queues without bound.
#[utoipa::path(get, path = "/api/v1/stream", params(StreamQuery),
    responses((status = 200, description = "text/event-stream"), (status = 404, body = Problem)))]
pub(super) async fn stream(
    State(s): State<AppState>,
    Query(q): Query<StreamQuery>,
) -> Result<Response, Problem> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let sub = Subscription::new(&s, q.kinds)?;
    let events = futures_util::stream::unfold(sub, |mut sub| async move {
        let e = match sub.next().await? {
            Next::Output { kind, line } => Event::default().event(kind).data(&*line),
            Next::Lagged(n) => Event::default().event("lagged").data(n.to_string()),
        };
        Some((Ok::<_, std::convert::Infallible>(e), sub))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The same stream over a WebSocket: one text message per output (`{"kind": "bar", …}`),
/// filtered by `kinds`; a client too slow for it gets `{"kind": "lagged", "missed": N}`.
#[utoipa::path(get, path = "/api/v1/ws", params(StreamQuery),
    responses((status = 101, description = "Switching to the WebSocket protocol"), (status = 404, body = Problem)))]
pub(super) async fn websocket(
    State(s): State<AppState>,
    Query(q): Query<StreamQuery>,
    ws: axum::extract::ws::WebSocketUpgrade,
) -> Result<Response, Problem> {
    use axum::extract::ws::Message;
    let mut sub = Subscription::new(&s, q.kinds)?;
    Ok(ws.on_upgrade(move |mut socket| async move {
        loop {
            tokio::select! {
                m = sub.next() => {
                    let text = match m {
                        Some(Next::Output { line, .. }) => line.to_string(),
                        Some(Next::Lagged(n)) => format!(r#"{{"kind":"lagged","missed":{n}}}"#),
                        None => break,
                    };
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                    _ => {}
                },
            }
        }
    }))
}
