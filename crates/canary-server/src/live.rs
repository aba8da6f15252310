//! What an engine reports, as the stream's clients get it: each output with an id, the latest
//! of them kept in a window, so that a client that reconnects with the id of the last one it
//! had (`Last-Event-ID`) is given what it missed. The outputs come from an engine in this
//! process (`serve --run`, ids counted from the server's start) or from the bus's outputs
//! stream (`serve --bus`, ids the stream's sequence, the same on every server following it).
//!
//! An id is `EPOCH:SEQ`: the epoch names the sequence (the server's start, or the bus
//! stream's creation), so that an id from another sequence is never read as one of this
//! one's.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;

/// How many of the latest outputs a server keeps for clients that reconnect.
pub const RESUME_WINDOW: usize = 10_000;

/// One output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub seq: u64,
    pub kind: Arc<str>,
    pub line: Arc<str>,
}

/// The outputs of one sequence, as they come, the latest kept.
#[derive(Debug)]
pub struct LiveFeed {
    epoch: String,
    window: usize,
    kept: Mutex<VecDeque<Output>>,
    /// `None` once closed: the clients' streams end.
    tx: Mutex<Option<broadcast::Sender<Output>>>,
}

/// Where a client joins the feed.
#[derive(Debug)]
pub struct Joined {
    /// The id it gave is not of this sequence (the server or the stream started again): what
    /// came before is not known.
    pub reset: bool,
    /// Outputs that came after its id and are no longer kept.
    pub missed: u64,
    /// Outputs after its id that are kept, oldest first.
    pub kept: Vec<Output>,
    /// Where it stands: the sequence of its id, or the latest one when it gave none (or one
    /// of another sequence).
    pub at: u64,
    /// Sequences up to this one it has had (taken from `kept` or before): later ones only.
    pub after: u64,
    /// The outputs to come.
    pub rx: broadcast::Receiver<Output>,
}

impl LiveFeed {
    /// A feed of the sequence `epoch`, keeping the latest `window` outputs.
    #[must_use]
    pub fn new(epoch: impl Into<String>, window: usize) -> Self {
        LiveFeed {
            epoch: epoch.into(),
            window: window.max(1),
            kept: Mutex::new(VecDeque::new()),
            tx: Mutex::new(Some(broadcast::channel(1024).0)),
        }
    }

    /// An output's id.
    #[must_use]
    pub fn id(&self, seq: u64) -> String {
        format!("{}:{seq}", self.epoch)
    }

    /// The next output of the sequence; one not after the latest is passed over (a stream
    /// read again after a reconnection).
    pub fn push(&self, seq: u64, kind: &str, line: Arc<str>) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.back().is_some_and(|o| o.seq >= seq) {
            return;
        }
        let o = Output {
            seq,
            kind: kind.into(),
            line,
        };
        if kept.len() == self.window {
            kept.pop_front();
        }
        kept.push_back(o.clone());
        // Sent under the lock: a client joining sees each output either kept or to come.
        if let Some(tx) = &*self.tx.lock().unwrap_or_else(PoisonError::into_inner) {
            let _ = tx.send(o);
        }
    }

    /// Stop: every client's stream ends after what it has been sent (the server is stopping,
    /// and waits for its requests to finish).
    pub fn close(&self) {
        self.tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    /// A client joining, after the output `last_id` when it gives one.
    #[must_use]
    pub fn join(&self, last_id: Option<&str>) -> Joined {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        // Closed: a receiver whose sender is gone, which ends at once.
        let rx = self
            .tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or_else(|| broadcast::channel(1).1, broadcast::Sender::subscribe);
        let latest = kept.back().map_or(0, |o| o.seq);
        let now = Joined {
            reset: false,
            missed: 0,
            kept: Vec::new(),
            at: latest,
            after: latest,
            rx,
        };
        let Some(id) = last_id.map(str::trim).filter(|s| !s.is_empty()) else {
            return now;
        };
        let seq = id
            .rsplit_once(':')
            .filter(|(epoch, _)| *epoch == self.epoch)
            .and_then(|(_, seq)| seq.parse::<u64>().ok());
        let Some(seq) = seq else {
            return Joined { reset: true, ..now };
        };
        let oldest = kept.front().map_or(latest.saturating_add(1), |o| o.seq);
        Joined {
            missed: oldest.saturating_sub(seq.saturating_add(1)),
            kept: kept.iter().filter(|o| o.seq > seq).cloned().collect(),
            at: seq,
            after: seq.max(latest),
            ..now
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(seqs: std::ops::RangeInclusive<u64>, window: usize) -> LiveFeed {
        let f = LiveFeed::new("7", window);
        for s in seqs {
            f.push(
                s,
                if s % 2 == 0 { "bar" } else { "score" },
                format!("{s}").into(),
            );
        }
        f
    }

    fn seqs(v: &[Output]) -> Vec<u64> {
        v.iter().map(|o| o.seq).collect()
    }

    #[test]
    fn a_client_resumes_after_its_last_id_from_what_is_kept() {
        let f = feed(1..=10, 4);
        let j = f.join(Some("7:8"));
        assert!(!j.reset);
        assert_eq!(
            (j.missed, seqs(&j.kept), j.at, j.after),
            (0, vec![9, 10], 8, 10)
        );
        // Older than the window: told how many are gone, given the rest.
        let j = f.join(Some("7:3"));
        assert_eq!((j.missed, seqs(&j.kept)), (3, vec![7, 8, 9, 10]));
        // Up to date, or ahead (another server further on): only what comes after its id.
        let j = f.join(Some("7:10"));
        assert_eq!((j.missed, j.kept.len(), j.after), (0, 0, 10));
        let j = f.join(Some("7:12"));
        assert_eq!((j.missed, j.kept.len(), j.after), (0, 0, 12));
        let j = f.join(Some("7:18446744073709551615"));
        assert_eq!((j.missed, j.kept.len(), j.after), (0, 0, u64::MAX));
        // No id: what comes from now.
        let j = f.join(None);
        assert_eq!((j.reset, j.kept.len(), j.at, j.after), (false, 0, 10, 10));
    }

    #[test]
    fn an_id_of_another_sequence_is_a_reset_not_a_resume() {
        let f = feed(1..=10, 4);
        for id in ["6:8", "8", "7:x", "abc", ":"] {
            let j = f.join(Some(id));
            assert!(j.reset, "{id}");
            assert!(j.kept.is_empty() && j.missed == 0 && j.at == 10, "{id}");
        }
    }

    #[tokio::test]
    async fn what_comes_after_joining_arrives_once_in_order() {
        let f = feed(1..=3, 10);
        let mut j = f.join(Some("7:2"));
        assert_eq!(seqs(&j.kept), vec![3]);
        // Pushed again after a reconnection of the stream: passed over.
        f.push(3, "bar", "3".into());
        f.push(4, "bar", "4".into());
        assert_eq!(j.rx.recv().await.unwrap().seq, 4);
        assert_eq!(f.id(4), "7:4");
        // Closed: streams end, those joining later too.
        f.close();
        assert!(j.rx.recv().await.is_err());
        assert!(f.join(None).rx.recv().await.is_err());
    }
}
