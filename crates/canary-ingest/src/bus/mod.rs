//! The bus: where sources publish stamped events and the engine takes them, in order.
//!
//! Two traits are the seam: a source publishes through a [`Publish`] (an exchange stream, a
//! file replayed, the simulator, recorded events), the engine takes from a [`Subscribe`] and
//! says when the effects of what it took are stored ([`Subscribe::stored`]). In one process
//! they are a bounded channel ([`in_process`]): a slow engine slows its sources, and no queue
//! grows without bound. Across processes they are NATS JetStream ([`nats`]): durable,
//! partitioned by venue and symbol, each message published once by its event's identity and
//! acknowledged only once its effects are stored. No source, processor or engine loop
//! changes between the two.

pub mod nats;

use std::future::Future;

use canary_model::event::Stamped;
use tokio::sync::mpsc;

/// The engine has stopped taking events (every subscriber is gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// Where a source publishes its events. Cloned once per source.
pub trait Publish: Clone + Send + Sync + 'static {
    /// Publish one event, waiting while the bus is full.
    ///
    /// # Errors
    /// [`Closed`] once the engine has stopped taking events.
    fn publish(&self, e: Stamped) -> impl Future<Output = Result<(), Closed>> + Send;
}

/// Where the engine takes events from.
pub trait Subscribe: Send {
    /// The next event in the order published (per venue and symbol); `None` once every
    /// publisher is gone, or the subscriber was told to stop. Dropped before it is ready, it
    /// gives up nothing: the engine polls it once to take what is at hand.
    fn next(&mut self) -> impl Future<Output = Option<Stamped>> + Send;

    /// The effects of every event taken so far are stored: a durable bus may forget them,
    /// and gives them again to the next subscriber only if this is never said.
    fn stored(&mut self) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }
}

/// The in-process bus's publishing side.
#[derive(Debug, Clone)]
pub struct Publisher(mpsc::Sender<Stamped>);

/// The in-process bus's taking side.
#[derive(Debug)]
pub struct Subscriber(mpsc::Receiver<Stamped>);

/// A bus in this process holding at most `capacity` events in flight.
#[must_use]
pub fn in_process(capacity: usize) -> (Publisher, Subscriber) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (Publisher(tx), Subscriber(rx))
}

impl Publish for Publisher {
    async fn publish(&self, e: Stamped) -> Result<(), Closed> {
        self.0.send(e).await.map_err(|_| Closed)
    }
}

impl Subscribe for Subscriber {
    async fn next(&mut self) -> Option<Stamped> {
        self.0.recv().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_model::event::Event;
    use canary_model::{Symbol, Timestamp};

    fn trade(ms: i64) -> Stamped {
        Stamped {
            event: Event::Trade {
                source: "test".into(),
                symbol: Symbol::new("BTCUSDT").unwrap(),
                time: Timestamp::from_millis(ms),
                price: 1.0,
                qty: 1.0,
            },
            available_at: Timestamp::from_millis(ms),
        }
    }

    #[tokio::test]
    async fn events_arrive_in_order_a_full_bus_waits_and_a_closed_one_says_so() {
        let (tx, mut rx) = in_process(1);
        let sender = tx.clone();
        let publisher = tokio::spawn(async move {
            for ms in 0..5 {
                sender.publish(trade(ms)).await.unwrap();
            }
        });
        let mut got = Vec::new();
        while got.len() < 5 {
            got.push(rx.next().await.unwrap().available_at.millis());
        }
        publisher.await.unwrap();
        assert_eq!(got, [0, 1, 2, 3, 4]);
        drop(rx);
        assert_eq!(tx.publish(trade(9)).await, Err(Closed));
        let (tx, mut rx) = in_process(4);
        drop(tx);
        assert!(rx.next().await.is_none(), "no publisher left: the end");
    }
}
