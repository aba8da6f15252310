//! What engines report, as it happens: Server-Sent Events (`/api/v1/stream`, resumed after a
//! client's `Last-Event-ID`) or a WebSocket (`/api/v1/ws`), filtered by kind, a client too
//! slow for the stream told how many it missed.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::live::{self, LiveFeed};
use crate::{AppState, Problem};

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct StreamQuery {
    /// Only these kinds, comma-separated: bar, score, notice, system, divergence, job,
    /// rule_error (default all).
    kinds: Option<String>,
}

/// One client's view of the outputs: the kinds it asked for (`None`: all).
struct Subscription {
    feed: std::sync::Arc<LiveFeed>,
    /// What it is told before what comes: a reset or a count missed, then what is kept after
    /// the id it gave.
    queued: std::collections::VecDeque<Next>,
    rx: tokio::sync::broadcast::Receiver<live::Output>,
    /// Where it stood when it joined.
    at: u64,
    /// The last sequence it has had.
    after: u64,
    kinds: Option<Vec<String>>,
}

/// What a client gets next.
enum Next {
    /// An output of a kind it asked for.
    Output(live::Output),
    /// It was too slow, or reconnected after outputs no longer kept: this many are missed.
    Lagged(u64),
    /// The id it reconnected with is not of this stream's sequence (the server or the bus's
    /// stream started again): what came between is not known.
    Reset,
}

impl Subscription {
    /// Join the feed after `last_id` (a reconnecting client's `Last-Event-ID`); 404 when no
    /// engine's outputs reach this server.
    fn new(s: &AppState, kinds: Option<String>, last_id: Option<&str>) -> Result<Self, Problem> {
        let Some(feed) = &s.live else {
            return Err(Problem::new(
                StatusCode::NOT_FOUND,
                "no engine reports to this server: run one beside it (canary serve --run canary.toml) or follow the evaluators' bus (canary serve --bus nats://HOST:PORT)",
            ));
        };
        let joined = feed.join(last_id);
        let mut queued = std::collections::VecDeque::new();
        if joined.reset {
            queued.push_back(Next::Reset);
        }
        if joined.missed > 0 {
            queued.push_back(Next::Lagged(joined.missed));
        }
        queued.extend(joined.kept.into_iter().map(Next::Output));
        Ok(Subscription {
            feed: feed.clone(),
            queued,
            rx: joined.rx,
            at: joined.at,
            after: joined.after,
            kinds: kinds.map(|k| k.split(',').map(|x| x.trim().to_string()).collect()),
        })
    }

    fn wanted(&self, o: &live::Output) -> bool {
        self.kinds
            .as_ref()
            .is_none_or(|k| k.iter().any(|x| *x == *o.kind))
    }

    /// The next output of a wanted kind, or what it is told; `None` once the feed stops.
    async fn next(&mut self) -> Option<Next> {
        use tokio::sync::broadcast::error::RecvError;
        while let Some(n) = self.queued.pop_front() {
            match n {
                Next::Output(o) if !self.wanted(&o) => {}
                n => return Some(n),
            }
        }
        loop {
            match self.rx.recv().await {
                Ok(o) if o.seq <= self.after => {}
                Ok(o) => {
                    self.after = o.seq;
                    if self.wanted(&o) {
                        return Some(Next::Output(o));
                    }
                }
                Err(RecvError::Lagged(n)) => return Some(Next::Lagged(n)),
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

/// What the engine reports, as it happens (Server-Sent Events: `event: bar|score|notice|…`,
/// `data: JSON`, `id: EPOCH:SEQ`): from an engine beside the server (`serve --run`) or the
/// evaluators of a bus (`serve --bus`), where every server gives an output the same id. A
/// stream starts with `retry: 1000` and the id the client stands at (the latest output's when
/// it is new). A client that reconnects with `Last-Event-ID` is given what came after it, of the latest
/// 10,000 outputs; a `lagged` event says how many it missed (too slow, or reconnected after
/// they were let go), a `reset` event that its id is of another sequence (the server or the
/// bus's stream started again). Nothing queues without bound.
#[utoipa::path(get, path = "/api/v1/stream",
    params(StreamQuery,
        ("Last-Event-ID" = Option<String>, Header,
            description = "The id of the last event had (EPOCH:SEQ): resume after it")),
    responses((status = 200, description = "text/event-stream"), (status = 404, body = Problem)))]
pub(super) async fn stream(
    State(s): State<AppState>,
    Query(q): Query<StreamQuery>,
    headers: axum::http::HeaderMap,
) -> Result<Response, Problem> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures_util::StreamExt;
    let last = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let sub = Subscription::new(&s, q.kinds, last)?;
    // First, how long a client waits before it reconnects and where it stands (the id it
    // gave, or the latest output's when new: it resumes from there if it goes now). This also
    // sends the response's head at once, before any output comes.
    let hello = Event::default()
        .retry(std::time::Duration::from_secs(1))
        .id(sub.feed.id(sub.at));
    let events = futures_util::stream::unfold(sub, |mut sub| async move {
        let e = match sub.next().await? {
            Next::Output(o) => Event::default()
                .id(sub.feed.id(o.seq))
                .event(&*o.kind)
                .data(&*o.line),
            Next::Lagged(n) => Event::default().event("lagged").data(n.to_string()),
            Next::Reset => Event::default().event("reset").data(
                "the stream started again since the id given: what came between is not replayed (the reports have it)",
            ),
        };
        Some((Ok::<_, std::convert::Infallible>(e), sub))
    });
    let events = futures_util::stream::once(async { Ok(hello) }).chain(events);
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
    let mut sub = Subscription::new(&s, q.kinds, None)?;
    Ok(ws.on_upgrade(move |mut socket| async move {
        loop {
            tokio::select! {
                m = sub.next() => {
                    let text = match m {
                        Some(Next::Output(o)) => o.line.to_string(),
                        Some(Next::Lagged(n)) => format!(r#"{{"kind":"lagged","missed":{n}}}"#),
                        Some(Next::Reset) => continue,
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
