//! The bus on NATS JetStream, for sources and engines in several processes.
//!
//! One stream (`CANARY_EVENTS` unless configured) holds every event under
//! `canary.ev.<partition>.<venue>.<kind>.<symbol>` (the prefix configurable): the partition is a fixed function of the
//! venue and the symbol (FNV-1a modulo the stream's partition count, 64 by default, recorded in
//! the stream's metadata so that every process agrees), so that one consumer per partition
//! takes each symbol's events in the order they were published. The payload is the event's
//! JSON with the time Canary had it.
//!
//! Publishing: each message's id (`Nats-Msg-Id`) is the event's identity (source, kind, own
//! time, content hash, occurrence: `canary_model::event`), so that a publisher that reconnects
//! and sends again, or a standby publisher sending the same event, is stored once by the
//! server within its duplicate window (2 minutes); a publish is retried, with the same id,
//! until the server acknowledges it.
//!
//! Taking: each partition has a durable pull consumer named after the subscriber's group
//! (`<group>-<partition>`), acknowledging all before the message acknowledged. A subscriber
//! acknowledges the last message it took of each partition only when the engine says their
//! effects are stored ([`super::Subscribe::stored`]); a subscriber that dies before that
//! leaves them to the next, which resumes the partition from its acknowledgement floor, in
//! order. A message given twice to one subscriber (redelivered after its acknowledgement
//! wait) is taken once. One subscriber of a group takes a partition at a time: evaluators
//! hold a [`Lease`] on theirs.
//!
//! The server, not the bus, keeps nothing a user is promised: JetStream acknowledges writes it
//! has not yet synced to disk (by default every 2 minutes), so the store stays the record of
//! bars, notices and deliveries. Features relied on (nats-server 2.10 or later): JetStream
//! file streams with subjects, stream metadata, message-id deduplication, durable pull
//! consumers with `AckPolicy::All`.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use canary_model::Timestamp;
use canary_model::event::{Event, Occurrences, Stamped, content};
use futures_util::stream::{SelectAll, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::{Closed, Publish, Subscribe};

pub mod outputs;

/// The stream metadata key that records the partition count.
const PARTITIONS_KEY: &str = "canary.partitions";

/// Where the bus is and how its stream is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsConfig {
    /// The server (`nats://host:port`, or several separated by commas).
    pub url: String,
    /// The stream's name.
    pub stream: String,
    /// The tokens every subject of the stream starts with (`canary.ev`).
    pub prefix: String,
    /// Partitions (1 to 1024): fixed for the stream's life.
    pub partitions: u16,
    /// Copies of each message in a cluster (1, 3 or 5).
    pub replicas: usize,
    /// How long the stream keeps a message.
    pub max_age: Duration,
    /// How long a message taken and not acknowledged waits before it is given again: to the
    /// next subscriber when the one that took it has died (the failover delay), to the same
    /// one otherwise, which takes it once.
    pub ack_wait: Duration,
}

impl NatsConfig {
    /// The defaults: stream `CANARY_EVENTS` under `canary.ev`, 64 partitions, one replica,
    /// a week's messages, given again after 4 s (the engine stores every second).
    #[must_use]
    pub fn new(url: &str) -> Self {
        NatsConfig {
            url: url.to_string(),
            stream: "CANARY_EVENTS".to_string(),
            prefix: "canary.ev".to_string(),
            partitions: 64,
            replicas: 1,
            max_age: Duration::from_secs(7 * 86_400),
            ack_wait: Duration::from_secs(4),
        }
    }
}

/// Why the bus could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error(
        "cannot connect to the NATS server at {url}: {reason} (is nats-server running, with JetStream on: -js?)"
    )]
    Connect { url: String, reason: String },
    #[error("the JetStream stream {stream} at {url}: {reason}")]
    Stream {
        url: String,
        stream: String,
        reason: String,
    },
    #[error(
        "the JetStream stream {stream} at {url} has {found} partitions and this process was configured with {configured}: give every process the same count (or a new stream name)"
    )]
    Partitions {
        url: String,
        stream: String,
        found: String,
        configured: u16,
    },
    #[error("the consumer {name} of stream {stream}: {reason}")]
    Consumer {
        stream: String,
        name: String,
        reason: String,
    },
    #[error("{0}")]
    Config(String),
}

/// An evaluator's hold on its partitions: every one leased in the bus's key-value bucket
/// (`<stream>_LEASES`, key `<group>.<partition>`), each lease lapsing `ttl` after its last
/// renewal. Renewed every third of `ttl` while held; `lost` turns true if a renewal finds
/// the lease gone or taken (the process was too slow, or cut off), and the evaluator must
/// stop: another may hold its partitions by then. Dropped, it lets the leases go.
#[derive(Debug)]
pub struct Lease {
    /// Turns true when a lease was lost.
    pub lost: watch::Receiver<bool>,
    renew: tokio::task::JoinHandle<()>,
    release: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Lease {
    /// Let the leases go now (a clean stop), so that a standby need not wait for them to
    /// lapse.
    pub async fn release(mut self) {
        if let Some(tx) = self.release.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.renew).await;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.release.is_some() {
            self.renew.abort();
        }
    }
}

/// The partition of a venue's symbol among `n`.
#[must_use]
pub fn partition(venue: &str, symbol: &str, n: u16) -> u16 {
    let mut key = Vec::with_capacity(venue.len() + symbol.len() + 1);
    key.extend_from_slice(venue.as_bytes());
    key.push(0);
    key.extend_from_slice(symbol.as_bytes());
    let p = canary_model::fnv1a(&key) % u64::from(n.max(1));
    u16::try_from(p).unwrap_or(0)
}

/// A name as one subject token: characters other than letters, digits, `-` and `_` become
/// `_` (a subject's tokens may not hold `.`, `*`, `>` or spaces), and an empty name `_`. The
/// token routes; the payload keeps the name as it is.
fn token(name: &str) -> String {
    let t: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if t.is_empty() { "_".to_string() } else { t }
}

/// What an event is routed by: its symbol, or for a derivatives value its series' market.
fn routing_symbol(e: &Event) -> String {
    match e {
        Event::Derivative { series, .. } => series.market().to_string(),
        Event::Liquidation { order, .. } => order.market.clone(),
        other => other
            .symbol()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
    }
}

/// The subject an event is published under, after `prefix`, among `n` partitions.
#[must_use]
pub fn subject(prefix: &str, e: &Event, n: u16) -> String {
    let symbol = routing_symbol(e);
    let p = partition(e.source(), &symbol, n);
    format!(
        "{prefix}.{p}.{}.{}.{}",
        token(e.source()),
        token(e.kind()),
        token(&symbol)
    )
}

/// A JetStream context on the server at `url` (or several, separated by commas: the client
/// picks one and fails over).
pub(super) async fn jetstream(url: &str) -> Result<jetstream::Context, BusError> {
    let servers: Vec<&str> = url.split(',').map(str::trim).collect();
    let client = async_nats::ConnectOptions::new()
        .name("canary")
        .connection_timeout(Duration::from_secs(5))
        .connect(servers);
    let client = tokio::time::timeout(Duration::from_secs(10), client)
        .await
        .map_err(|_| BusError::Connect {
            url: url.to_string(),
            reason: "no answer in 10 s".to_string(),
        })?
        .map_err(|e| BusError::Connect {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
    Ok(jetstream::new(client))
}

/// The stream `wanted` describes, made if it is not there. A cluster just started (or
/// electing a leader) does not answer at once: asked again for half a minute before the
/// error is given.
pub(super) async fn made(
    js: &jetstream::Context,
    wanted: stream::Config,
) -> Result<stream::Stream, String> {
    use async_nats::jetstream::context::CreateStreamErrorKind;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match js.get_or_create_stream(wanted.clone()).await {
            Ok(s) => return Ok(s),
            Err(e)
                if matches!(
                    e.kind(),
                    CreateStreamErrorKind::TimedOut | CreateStreamErrorKind::JetStreamUnavailable
                ) && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// A message as published.
#[derive(Serialize)]
struct WireOut<'a> {
    available_at: i64,
    event: &'a Event,
}

/// A message as taken.
#[derive(Deserialize)]
struct WireIn {
    available_at: i64,
    event: Event,
}

/// A connection to the bus's stream.
#[derive(Debug, Clone)]
pub struct NatsBus {
    js: jetstream::Context,
    config: NatsConfig,
}

impl NatsBus {
    /// Connect and make the stream if it is not there; a stream made with another partition
    /// count is refused.
    ///
    /// # Errors
    /// [`BusError`], naming the server and what to do.
    pub async fn connect(config: NatsConfig) -> Result<Self, BusError> {
        if !(1..=1024).contains(&config.partitions) {
            return Err(BusError::Config(format!(
                "{} partitions: give 1 to 1024",
                config.partitions
            )));
        }
        let js = jetstream(&config.url).await?;
        let stream_err = |reason: String| BusError::Stream {
            url: config.url.clone(),
            stream: config.stream.clone(),
            reason,
        };
        let wanted = stream::Config {
            name: config.stream.clone(),
            subjects: vec![format!("{}.>", config.prefix)],
            storage: stream::StorageType::File,
            num_replicas: config.replicas,
            duplicate_window: Duration::from_secs(120),
            max_age: config.max_age,
            metadata: HashMap::from([(PARTITIONS_KEY.to_string(), config.partitions.to_string())]),
            ..stream::Config::default()
        };
        let mut stream = made(&js, wanted).await.map_err(stream_err)?;
        let info = stream.info().await.map_err(|e| stream_err(e.to_string()))?;
        let found = info
            .config
            .metadata
            .get(PARTITIONS_KEY)
            .cloned()
            .unwrap_or_else(|| "no recorded".to_string());
        if found != config.partitions.to_string() {
            return Err(BusError::Partitions {
                url: config.url.clone(),
                stream: config.stream.clone(),
                found,
                configured: config.partitions,
            });
        }
        Ok(NatsBus { js, config })
    }

    /// The configuration it was connected with.
    #[must_use]
    pub fn config(&self) -> &NatsConfig {
        &self.config
    }

    /// A publisher: clones share the occurrence count of each source's latest time.
    #[must_use]
    pub fn publisher(&self) -> NatsPublisher {
        NatsPublisher {
            js: self.js.clone(),
            partitions: self.config.partitions,
            prefix: self.config.prefix.clone(),
            occurrences: Arc::new(Mutex::new(Occurrences::default())),
        }
    }

    /// Lease `partitions` (every one when empty) for `holder` of `group`: all of them or
    /// none, waiting while another holds any (checking every half second, with `waiting`
    /// called once), until `stop`. `None` when stopped first.
    ///
    /// # Errors
    /// The bucket cannot be made or read.
    pub async fn lease(
        &self,
        group: &str,
        holder: &str,
        partitions: &[u16],
        ttl: Duration,
        mut waiting: impl FnMut(&str),
        mut stop: watch::Receiver<bool>,
    ) -> Result<Option<Lease>, BusError> {
        use async_nats::jetstream::kv;
        let bucket = format!("{}_LEASES", self.config.stream);
        let err = |reason: String| BusError::Stream {
            url: self.config.url.clone(),
            stream: bucket.clone(),
            reason,
        };
        // A bucket just made on a cluster (by another evaluator starting too) may not answer
        // at once: what fails is tried again for half a minute before the error is given.
        let patience = Duration::from_secs(30);
        let mut failing_since: Option<std::time::Instant> = None;
        let mut transient = |reason: String| -> Result<(), BusError> {
            let since = *failing_since.get_or_insert_with(std::time::Instant::now);
            if since.elapsed() >= patience {
                Err(err(reason))
            } else {
                Ok(())
            }
        };
        let store = loop {
            let got = match self.js.get_key_value(&bucket).await {
                Ok(s) => Ok(s),
                Err(_) => self
                    .js
                    .create_key_value(kv::Config {
                        bucket: bucket.clone(),
                        history: 1,
                        max_age: ttl,
                        storage: stream::StorageType::File,
                        num_replicas: self.config.replicas,
                        ..kv::Config::default()
                    })
                    .await
                    .map_err(|e| e.to_string()),
            };
            match got {
                Ok(s) => break s,
                Err(reason) => {
                    transient(reason)?;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        };
        let all: Vec<u16> = (0..self.config.partitions).collect();
        let wanted = if partitions.is_empty() {
            all
        } else {
            partitions.to_vec()
        };
        let keys: Vec<String> = wanted
            .iter()
            .map(|p| format!("{}.{p}", token(group)))
            .collect();
        let value = bytes::Bytes::from(holder.to_string());
        let mut said = false;
        let held = loop {
            // In order, all or none: two evaluators wanting overlapping sets never each hold
            // a part for long.
            let mut held: Vec<(String, u64)> = Vec::new();
            let mut taken_by = None;
            for k in &keys {
                match store.create(k, value.clone()).await {
                    Ok(rev) => held.push((k.clone(), rev)),
                    Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
                        let by = store
                            .entry(k.clone())
                            .await
                            .ok()
                            .flatten()
                            .map(|e| String::from_utf8_lossy(&e.value).into_owned());
                        taken_by = Some(format!(
                            "partition {} is held by {}",
                            k.rsplit('.').next().unwrap_or(k),
                            by.unwrap_or_else(|| "another evaluator".to_string())
                        ));
                        break;
                    }
                    Err(e) => {
                        transient(e.to_string())?;
                        taken_by = Some(String::new());
                        break;
                    }
                }
            }
            let Some(why) = taken_by else {
                break held;
            };
            for (k, rev) in held {
                let _ = store.delete_expect_revision(&k, Some(rev)).await;
            }
            if !said && !why.is_empty() {
                waiting(&why);
                said = true;
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                return Ok(None);
            }
        };
        let (lost_tx, lost) = watch::channel(false);
        let (release, mut released) = tokio::sync::oneshot::channel::<()>();
        let renew = tokio::spawn(async move {
            let mut held = held;
            let mut renewed = std::time::Instant::now();
            loop {
                tokio::select! {
                    () = tokio::time::sleep(ttl / 3) => {}
                    _ = &mut released => {
                        for (k, rev) in &held {
                            let _ = store.delete_expect_revision(k, Some(*rev)).await;
                        }
                        return;
                    }
                }
                let mut all = true;
                for (k, rev) in &mut held {
                    match store.update(k.as_str(), value.clone(), *rev).await {
                        Ok(r) => *rev = r,
                        // Taken, or lapsed and taken: another may be evaluating already.
                        Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                            let _ = lost_tx.send(true);
                            return;
                        }
                        Err(_) => all = false,
                    }
                }
                if all {
                    renewed = std::time::Instant::now();
                } else if renewed.elapsed() >= ttl {
                    // The server has not answered for the whole lease: it has lapsed, and
                    // another may hold the partitions now.
                    let _ = lost_tx.send(true);
                    return;
                }
            }
        });
        Ok(Some(Lease {
            lost,
            renew,
            release: Some(release),
        }))
    }

    /// A subscriber of `group` taking the given partitions (every one when empty), from
    /// where the group last acknowledged; it ends when `stop` turns true.
    ///
    /// # Errors
    /// A partition out of range; a consumer the server would not make.
    pub async fn subscriber(
        &self,
        group: &str,
        partitions: &[u16],
        stop: watch::Receiver<bool>,
    ) -> Result<NatsSubscriber, BusError> {
        let all: Vec<u16> = (0..self.config.partitions).collect();
        let wanted = if partitions.is_empty() {
            &all[..]
        } else {
            partitions
        };
        if let Some(p) = wanted.iter().find(|&&p| p >= self.config.partitions) {
            return Err(BusError::Config(format!(
                "partition {p} is not one of the stream's 0 to {}",
                self.config.partitions - 1
            )));
        }
        let mut messages: SelectAll<Taken> = SelectAll::new();
        for &p in wanted {
            let name = format!("{}-{p}", token(group));
            // A cluster electing a leader (one of its servers gone) does not answer for a
            // few seconds: each step is tried again for half a minute, keeping the floor
            // once read, so that a consumer deleted before the failure resumes from it.
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            let mut floor = None;
            let taken = loop {
                match self.partition(&name, p, &mut floor).await {
                    Ok(t) => break t,
                    Err(_) if std::time::Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    Err(reason) => {
                        return Err(BusError::Consumer {
                            stream: self.config.stream.clone(),
                            name,
                            reason,
                        });
                    }
                }
            };
            messages.push(taken);
        }
        Ok(NatsSubscriber {
            messages,
            taken: HashMap::new(),
            highest: HashMap::new(),
            stop,
            stream: self.config.stream.clone(),
        })
    }

    /// Partition `p`'s messages through the group's consumer `name`, resumed from what the
    /// group acknowledged, in order: the consumer is made again from just after its
    /// acknowledgement floor (read once into `floor`, 0 when there was no consumer), so that
    /// what a previous subscriber took and never acknowledged comes first, now, rather than
    /// after its wait and behind newer messages (which would reach the engine out of order).
    async fn partition(
        &self,
        name: &str,
        p: u16,
        floor: &mut Option<u64>,
    ) -> Result<Taken, String> {
        use async_nats::jetstream::context::ConsumerInfoErrorKind;
        let stream = self
            .js
            .get_stream(&self.config.stream)
            .await
            .map_err(|e| e.to_string())?;
        match stream.consumer_info(name).await {
            Ok(info) => {
                floor.get_or_insert(info.ack_floor.stream_sequence);
                stream
                    .delete_consumer(name)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Err(e) if e.kind() == ConsumerInfoErrorKind::NotFound => {
                floor.get_or_insert(0);
            }
            Err(e) => return Err(e.to_string()),
        }
        let deliver_policy = match *floor {
            None | Some(0) => consumer::DeliverPolicy::All,
            Some(f) => consumer::DeliverPolicy::ByStartSequence {
                start_sequence: f + 1,
            },
        };
        let consumer: consumer::PullConsumer = stream
            .create_consumer(consumer::pull::Config {
                durable_name: Some(name.to_string()),
                filter_subject: format!("{}.{p}.>", self.config.prefix),
                ack_policy: consumer::AckPolicy::All,
                deliver_policy,
                ack_wait: self.config.ack_wait,
                max_ack_pending: -1,
                ..consumer::pull::Config::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        let messages = consumer.messages().await.map_err(|e| e.to_string())?;
        Ok(Box::pin(
            messages.map(move |m| (p, m.map_err(|e| e.to_string()))),
        ))
    }
}

/// The messages of one partition's consumer, each with its partition.
type Taken =
    Pin<Box<dyn Stream<Item = (u16, Result<jetstream::Message, String>)> + Send + 'static>>;

/// Publishes events to the bus's stream.
#[derive(Debug, Clone)]
pub struct NatsPublisher {
    js: jetstream::Context,
    partitions: u16,
    prefix: String,
    occurrences: Arc<Mutex<Occurrences>>,
}

impl NatsPublisher {
    /// The message id of an event: its identity.
    fn id(&self, e: &Event) -> String {
        let json = serde_json::to_string(e).unwrap_or_default();
        let occurrence = self.occurrences.lock().map_or(0, |mut o| o.next(e, &json));
        format!(
            "{}|{}|{}|{:016x}|{occurrence}",
            e.source(),
            e.kind(),
            e.time().millis(),
            content(&json).cast_unsigned()
        )
    }
}

impl Publish for NatsPublisher {
    async fn publish(&self, s: Stamped) -> Result<(), Closed> {
        let id = self.id(&s.event);
        let body = serde_json::to_vec(&WireOut {
            available_at: s.available_at.millis(),
            event: &s.event,
        })
        .map_err(|_| Closed)?;
        let subject = subject(&self.prefix, &s.event, self.partitions);
        let body = bytes::Bytes::from(body);
        let mut wait = Duration::from_millis(50);
        loop {
            let sent = self
                .js
                .send_publish(
                    subject.clone(),
                    jetstream::message::PublishMessage::build()
                        .payload(body.clone())
                        .message_id(id.as_str()),
                )
                .await;
            if let Ok(ack) = sent
                && ack.await.is_ok()
            {
                return Ok(());
            }
            // Not stored (the server is away, or did not answer): sent again with the same
            // id, which the server stores once.
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }
}

/// Takes events from some partitions of the bus's stream.
pub struct NatsSubscriber {
    messages: SelectAll<Taken>,
    /// The last message taken of each partition and not yet acknowledged.
    taken: HashMap<u16, jetstream::Message>,
    /// The highest stream sequence taken of each partition.
    highest: HashMap<u16, u64>,
    stop: watch::Receiver<bool>,
    stream: String,
}

impl std::fmt::Debug for NatsSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsSubscriber")
            .field("stream", &self.stream)
            .field("partitions", &self.messages.len())
            .finish_non_exhaustive()
    }
}

impl NatsSubscriber {
    /// A message as the event it carries; one that does not read as an event is the bus's
    /// own `malformed` event, so that the engine records and counts it.
    fn event_of(&self, m: &jetstream::Message) -> Stamped {
        match serde_json::from_slice::<WireIn>(&m.payload) {
            Ok(w) => Stamped {
                event: w.event,
                available_at: Timestamp::from_millis(w.available_at),
            },
            Err(e) => {
                let at = m.info().map_or(0, |i| {
                    i64::try_from(i.published.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
                });
                let time = Timestamp::from_millis(at);
                Stamped {
                    event: Event::Malformed {
                        source: format!("bus:{}", self.stream),
                        time,
                        payload: canary_model::excerpt::excerpt(&String::from_utf8_lossy(
                            &m.payload,
                        )),
                        error: e.to_string(),
                    },
                    available_at: time,
                }
            }
        }
    }
}

impl Subscribe for NatsSubscriber {
    async fn next(&mut self) -> Option<Stamped> {
        loop {
            if *self.stop.borrow() {
                return None;
            }
            let got = tokio::select! {
                m = self.messages.next() => m,
                _ = self.stop.changed() => continue,
            };
            let (p, m) = got?;
            // An error of the pull (a missed heartbeat, a reconnection) is passed over: the
            // consumer goes on from where it was.
            let Ok(m) = m else { continue };
            let Ok(seq) = m.info().map(|i| i.stream_sequence) else {
                continue;
            };
            if self.highest.get(&p).is_some_and(|&h| seq <= h) {
                continue;
            }
            self.highest.insert(p, seq);
            let s = self.event_of(&m);
            self.taken.insert(p, m);
            return Some(s);
        }
    }

    async fn stored(&mut self) {
        for (_, m) in self.taken.drain() {
            // Not acknowledged (the server is away): given again to the next subscriber,
            // whose engine stores nothing twice.
            let _ = m.ack().await;
        }
    }
}
