//! What engines report (bars closed, scores, notices, the sources' own events), shared over
//! NATS JetStream so that API servers in other processes stream it to their clients.
//!
//! A stream of its own beside the events' (`<stream>_OUT`, subjects `<prefix>_out.<kind>`,
//! a day's messages): an evaluator publishes each output as the JSON line the engine wrote,
//! its message id the kind and a hash of the line, so that a standby re-deriving what a dead
//! evaluator had already published (a bar it closed, a notice it stored) is kept once within
//! the server's duplicate window. The stream's sequence numbers are the outputs' ids: every
//! API server following the stream gives an output the same id, and a client that
//! reconnects to another server resumes where it was. The stream's creation time names the
//! sequence (its *epoch*): an id of a stream since deleted and made again is not taken for one
//! of this stream's.
//!
//! A view, not a record: the store keeps bars, scores and notices; an output the bus did not
//! take is missing from the stream only.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures_util::{Stream, StreamExt};

use super::{BusError, NatsConfig, jetstream as connect, made};

/// One output as the stream holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared {
    /// Its sequence in the stream: its id.
    pub seq: u64,
    /// Its kind (`bar`, `score`, `notice`, …).
    pub kind: String,
    /// The JSON line the engine wrote.
    pub line: String,
}

/// The outputs stream of a bus.
#[derive(Debug, Clone)]
pub struct NatsOutputs {
    js: jetstream::Context,
    url: String,
    stream: String,
    subject: String,
    epoch: String,
}

impl NatsOutputs {
    /// Connect to the outputs stream of the bus `config` names, making it if it is not
    /// there.
    ///
    /// # Errors
    /// [`BusError`], naming the server and what to do.
    pub async fn connect(config: &NatsConfig) -> Result<Self, BusError> {
        let js = connect(&config.url).await?;
        let name = format!("{}_OUT", config.stream);
        let subject = format!("{}_out", config.prefix);
        let stream_err = |reason: String| BusError::Stream {
            url: config.url.clone(),
            stream: name.clone(),
            reason,
        };
        let wanted = stream::Config {
            name: name.clone(),
            subjects: vec![format!("{subject}.>")],
            storage: stream::StorageType::File,
            num_replicas: config.replicas,
            duplicate_window: Duration::from_secs(120),
            max_age: Duration::from_secs(86_400),
            ..stream::Config::default()
        };
        let mut s = made(&js, wanted).await.map_err(stream_err)?;
        let info = s.info().await.map_err(|e| stream_err(e.to_string()))?;
        Ok(NatsOutputs {
            js,
            url: config.url.clone(),
            stream: name,
            subject,
            epoch: info.created.unix_timestamp_nanos().to_string(),
        })
    }

    /// What names the stream's sequence: its creation time (nanoseconds).
    #[must_use]
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The server's address, as configured.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Publish an output of `kind`; what it returns resolves when the server has stored it
    /// (or has it already, by its id).
    ///
    /// # Errors
    /// The message could not be sent (the connection is gone and its buffer full).
    pub async fn publish(
        &self,
        kind: &str,
        line: String,
    ) -> Result<jetstream::context::PublishAckFuture, BusError> {
        let id = format!("{kind}|{:016x}", canary_model::fnv1a(line.as_bytes()));
        self.js
            .send_publish(
                format!("{}.{}", self.subject, super::token(kind)),
                jetstream::message::PublishMessage::build()
                    .payload(line.into())
                    .message_id(id),
            )
            .await
            .map_err(|e| self.err(e.to_string()))
    }

    /// The outputs from sequence `from` on (the first one the stream still holds when it no
    /// longer holds `from`), in order, and as they are published; `from` 0: the latest
    /// `keep` of them, then the new ones. Read by an ordered consumer of the server's, made
    /// again by the client after a gap or a reconnection.
    ///
    /// # Errors
    /// The stream cannot be read.
    pub async fn follow(
        &self,
        from: u64,
        keep: u64,
    ) -> Result<impl Stream<Item = Shared> + Send + use<>, BusError> {
        let mut s = self
            .js
            .get_stream(&self.stream)
            .await
            .map_err(|e| self.err(e.to_string()))?;
        let info = s.info().await.map_err(|e| self.err(e.to_string()))?;
        let (first, last) = (info.state.first_sequence, info.state.last_sequence);
        let start = if from > 0 {
            from.max(first)
        } else {
            last.saturating_sub(keep.saturating_sub(1))
                .max(first)
                .max(1)
        };
        let consumer = s
            .create_consumer(consumer::pull::OrderedConfig {
                deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: start,
                },
                ..consumer::pull::OrderedConfig::default()
            })
            .await
            .map_err(|e| self.err(e.to_string()))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| self.err(e.to_string()))?;
        let prefix = format!("{}.", self.subject);
        Ok(messages.filter_map(move |m| {
            let shared = m.ok().and_then(|m| {
                let seq = m.info().ok()?.stream_sequence;
                let kind = m.subject.as_str().strip_prefix(&prefix)?.to_string();
                let line = String::from_utf8(m.payload.to_vec()).ok()?;
                Some(Shared { seq, kind, line })
            });
            std::future::ready(shared)
        }))
    }

    fn err(&self, reason: String) -> BusError {
        BusError::Stream {
            url: self.url.clone(),
            stream: self.stream.clone(),
            reason,
        }
    }
}
