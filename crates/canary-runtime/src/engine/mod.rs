//! The engine loop: events in order, bars stored at each close, alert rules checked then, the
//! delivery task woken; a graceful end stores what was taken and sends what is pending.
//!
//! Beside the loop: the rules evaluated on every trade (`intrabar.rs`), the venues'
//! cross-check and the notices about the sources (`health.rs`), and the derivatives sources'
//! levels sampled to one a minute and liquidations summed into 1-minute bars
//! (`derivatives.rs`). Each event's occurrence in its source's stream is counted by
//! `canary_model::event::Occurrences`.

mod derivatives;
mod health;
mod intrabar;

use canary_ingest::bus::Subscribe;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use canary_model::{SourceKind, Symbol, Timeframe, Timestamp};
use canary_news::sentiment::Lexicon;
use canary_news::tags::Dictionary;
use canary_store::{CandleQuery, NewCandle, NewEvent, SeriesBars, Source, Stores};
use tokio::sync::{Notify, mpsc};

use super::{Clock, Closed, Event, Processor, Stamped};
use canary_engine::alerting::{self, Checked};
use canary_engine::{EngineError, ScoreParams};
use canary_model::event::Occurrences;
use intrabar::IntrabarRule;

/// A symbol and the timeframes to build for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Market {
    pub symbol: Symbol,
    pub timeframes: Vec<Timeframe>,
}

/// How alert rules are checked and their notices sent.
pub struct AlertSettings {
    pub score: ScoreParams,
    pub dictionary: Dictionary,
    pub lexicon: Lexicon,
    pub attempts: usize,
    pub backoff: Duration,
    pub timeout: Duration,
    /// Deliver to loopback and private addresses (`[alerts] allow_private`; refused
    /// otherwise, see [`canary_delivery::guard`]).
    pub allow_private: bool,
}

impl std::fmt::Debug for AlertSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertSettings")
            .field("attempts", &self.attempts)
            .field("backoff", &self.backoff)
            .field("timeout", &self.timeout)
            .field("allow_private", &self.allow_private)
            .finish_non_exhaustive()
    }
}

/// Two markets of one asset whose closes on a timeframe are compared at each bar both have.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CrossCheck {
    pub a: Symbol,
    pub b: Symbol,
    pub timeframe: Timeframe,
    /// A larger difference between the closes (in % of b's) is reported.
    pub max_diff_pct: f64,
}

/// Where notices about the sources go, and which.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemAlerts {
    pub channel: canary_engine::alerting::Channel,
    /// Event kinds notified: `stale`, `gap`, `reconnected`, `malformed`, `divergence`.
    pub kinds: Vec<String>,
}

/// What the engine runs.
#[derive(Debug)]
pub struct EngineSettings {
    /// The store and the clock (the delivery task opens its own connection to the store).
    pub session: canary_engine::Session,
    pub markets: Vec<Market>,
    /// The kind of each source by name (bars from a simulated source are stored as such);
    /// a source not named is real.
    pub source_kinds: BTreeMap<String, SourceKind>,
    pub crosschecks: Vec<CrossCheck>,
    /// Notices about the sources (silence, gaps, divergence), when configured.
    pub system: Option<SystemAlerts>,
    /// Check the stored alert rules at each close (and deliver), or only build bars.
    pub alerts: Option<AlertSettings>,
    /// Store events at least this often when no bar closes.
    pub flush_every: Duration,
}

/// What the engine reports as it runs (as JSON: `{"kind": "bar", …}`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Output {
    /// A bar closed and was stored.
    Bar(Closed),
    /// The daily scores after a daily close (a change of Risk, Threat, Pulse or label).
    Score {
        symbol: Symbol,
        day: Timestamp,
        risk: Option<f64>,
        threat: Option<u8>,
        pulse: Option<f64>,
        label: Option<String>,
    },
    /// A rule produced a notice (delivered by the delivery task).
    Notice {
        rule_id: i64,
        rule: String,
        notice: canary_alerts::state::Notice,
        late: bool,
        /// Evaluated against the bar still open.
        intrabar: bool,
    },
    /// A rule could not be checked (it keeps its state and is tried at the next close).
    RuleError {
        rule_id: i64,
        rule: String,
        error: String,
    },
    /// A source's own event: a gap, a reconnection, silence.
    System(#[serde(serialize_with = "system_event")] Event),
    /// A minute of liquidations with orders in it was stored (quote value by the side
    /// liquidated).
    Liquidations {
        source: String,
        venue: String,
        market: String,
        open_time: Timestamp,
        long_usd: f64,
        short_usd: f64,
    },
    /// Two venues' closes of one bar differ by more than their cross-check allows.
    Divergence {
        check: CrossCheck,
        open_time: Timestamp,
        close_a: f64,
        close_b: f64,
        diff_pct: f64,
    },
    /// A scheduled job ran (what it did, or why it failed).
    Job {
        name: String,
        result: Result<String, String>,
    },
}

impl Output {
    /// Its kind, as its JSON gives it (`bar`, `score`, `notice`, …).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Output::Bar(_) => "bar",
            Output::Score { .. } => "score",
            Output::Notice { .. } => "notice",
            Output::RuleError { .. } => "rule_error",
            Output::System(_) => "system",
            Output::Liquidations { .. } => "liquidations",
            Output::Divergence { .. } => "divergence",
            Output::Job { .. } => "job",
        }
    }
}

/// A source's event inside an output tagged `system`: under `event`.
fn system_event<S: serde::Serializer>(e: &Event, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(1))?;
    m.serialize_entry("event", e)?;
    m.end()
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub events: u64,
    pub bars: u64,
    pub notices: u64,
    pub delivered: u64,
    pub failed_deliveries: u64,
    /// Input that came after its bar had closed (dropped, counted).
    pub late_input: u64,
    /// Events for a symbol the engine does not run (dropped, counted).
    pub unknown_symbol: u64,
    /// Derivatives values stored (levels sampled, liquidation bars by side).
    pub derivatives: u64,
    /// Derivatives values out of their kind's range (dropped, counted).
    pub refused_derivatives: u64,
}

/// The engine: processors per symbol, the store, and the clock.
#[allow(missing_debug_implementations)] // holds a store connection and a clock object
pub struct Engine {
    settings: EngineSettings,
    store: Box<dyn Stores>,
    clock: Arc<dyn Clock>,
    processors: BTreeMap<Symbol, Processor>,
    /// The source that last fed each symbol (bars the clock closes are stored as its).
    fed_by: BTreeMap<Symbol, String>,
    /// Recent closes of the cross-checked series, by open time.
    recent: BTreeMap<(Symbol, Timeframe), BTreeMap<Timestamp, f64>>,
    /// Wakes the delivery task.
    wake: Arc<Notify>,
    /// Rules evaluated on every trade, by rule id.
    intrabar: BTreeMap<i64, IntrabarRule>,
    /// Divergences found at this close, to notify.
    divergences: Vec<(CrossCheck, Timestamp, f64, f64, f64)>,
    events: Vec<NewEvent>,
    occurrences: Occurrences,
    /// Bars closed and not yet stored: each with its source and availability.
    bars: Vec<(String, Closed, Timestamp)>,
    /// The clock's time at the last tick of every market.
    ticked: Option<Timestamp>,
    derivatives: derivatives::Derivatives,
    last_flush: std::time::Instant,
    /// How many times what was taken has been stored.
    stores: u64,
    /// Whether this engine sends the notices it stores (an evaluator among several leaves
    /// them to a deliverer).
    deliver: bool,
    /// Markets whose state is read from the store again at their first event (an evaluator
    /// taking over a bus partition mid-stream starts where the store is then, not at start).
    cold: std::collections::BTreeSet<Symbol>,
    /// Whether only the rules of the markets this engine has taken events of are checked.
    placed: bool,
    summary: Summary,
}

impl Engine {
    /// An engine over the database of `settings`.
    ///
    /// # Errors
    /// A market without timeframes or whose higher timeframes are not multiples of its
    /// lowest; a database that cannot be opened.
    pub fn new(settings: EngineSettings) -> Result<Self, EngineError> {
        let mut processors = BTreeMap::new();
        for m in &settings.markets {
            let Some(base) = m.timeframes.iter().min_by_key(|t| t.duration_ms()) else {
                return Err(EngineError::param(
                    "timeframes",
                    m.symbol.as_str(),
                    "name at least one timeframe",
                ));
            };
            if let Some(bad) = m
                .timeframes
                .iter()
                .find(|t| *t != base && !t.is_multiple_of(*base))
            {
                return Err(EngineError::param(
                    "timeframes",
                    bad.to_string(),
                    &format!("not a multiple of the lowest, {base}"),
                ));
            }
            processors.insert(
                m.symbol.clone(),
                Processor::new(m.symbol.clone(), m.timeframes.clone()),
            );
        }
        let store = settings.session.open()?;
        let clock = settings.session.clock().clone();
        let now = clock.now();
        for p in processors.values_mut() {
            warm(&*store, p, now)?;
        }
        let mut engine = Self {
            settings,
            store,
            clock,
            processors,
            fed_by: BTreeMap::new(),
            recent: BTreeMap::new(),
            wake: Arc::new(Notify::new()),
            divergences: Vec::new(),
            intrabar: BTreeMap::new(),
            events: Vec::new(),
            occurrences: Occurrences::default(),
            bars: Vec::new(),
            ticked: None,
            derivatives: derivatives::Derivatives::default(),
            last_flush: std::time::Instant::now(),
            stores: 0,
            deliver: true,
            cold: std::collections::BTreeSet::new(),
            placed: false,
            summary: Summary::default(),
        };
        engine.load_intrabar()?;
        Ok(engine)
    }

    /// Store notices without sending them: a deliverer process sends them
    /// ([`deliver_until`]).
    pub fn store_notices_only(&mut self) {
        self.deliver = false;
    }

    /// Read each market's state (its bars so far, its open bars of every timeframe) from the
    /// store again when its first event comes, as of just before that event: for an engine
    /// fed by a bus, which may resume a partition anywhere in its stream (after another
    /// evaluator stopped), not where its clock started.
    pub fn warm_at_first_event(&mut self) {
        self.cold = self.processors.keys().cloned().collect();
    }

    /// Check only the rules whose clock symbol this engine has taken events of: for an
    /// evaluator among several on a bus, so that a rule is placed with its instrument's
    /// partition (a stable hash of venue and symbol) and moves with it to whichever
    /// evaluator holds that partition's lease.
    pub fn place_rules_with_markets(&mut self) {
        self.placed = true;
    }

    /// Say what a source's liquidation stream leaves out (Binance's: one order per symbol per
    /// second): its liquidation bars are stored under a source name that says it.
    pub fn cover(&mut self, source: &str, coverage: &str) {
        self.derivatives.cover(source, coverage);
    }

    /// Run until every source has finished (their senders dropped), then store what was
    /// taken and send what is pending. Outputs go to `out` when given (a slow reader slows
    /// the engine, as a slow engine slows its sources).
    ///
    /// # Errors
    /// A database error; a stored rule that no longer parses.
    pub async fn run(
        mut self,
        mut rx: impl Subscribe,
        out: Option<mpsc::Sender<Output>>,
    ) -> Result<Summary, EngineError> {
        let wake = self.wake.clone();
        let delivered = Arc::new(std::sync::Mutex::new((0_u64, 0_u64)));
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let system_channel = self.settings.system.as_ref().map(|s| s.channel.clone());
        let sends = self.settings.alerts.is_some() || system_channel.is_some();
        let delivery = (self.deliver && sends).then(|| {
            let session = self.settings.session.clone();
            let send = Send::of(self.settings.alerts.as_ref(), system_channel.clone());
            let (wake, clock, delivered, done) = (
                wake.clone(),
                self.clock.clone(),
                delivered.clone(),
                done.clone(),
            );
            tokio::spawn(
                async move { deliveries(session, send, wake, clock, delivered, done).await },
            )
        });
        let mut closed = Vec::new();
        let mut outputs = Vec::new();
        let result = async {
            while let Some(s) = rx.next().await {
                let stores = self.stores;
                let ended = self
                    .batch(s, &mut rx, &mut closed, &mut outputs, &wake)
                    .await?;
                if self.stores != stores {
                    // What was taken is stored: a durable bus may forget it.
                    rx.stored().await;
                }
                if let Some(o) = &out {
                    for x in outputs.drain(..) {
                        if o.send(x).await.is_err() {
                            break;
                        }
                    }
                }
                outputs.clear();
                if ended {
                    break;
                }
            }
            self.derivatives.finish();
            self.flush()?;
            rx.stored().await;
            Ok::<_, EngineError>(())
        }
        .await;
        done.store(true, std::sync::atomic::Ordering::Release);
        wake.notify_one();
        if let Some(d) = delivery {
            d.await
                .map_err(|e| EngineError::param("delivery", "task", &e.to_string()))??;
        }
        result?;
        let (ok, failed) = *delivered.lock().expect("not poisoned");
        self.summary.delivered = ok;
        self.summary.failed_deliveries = failed;
        self.summary.late_input =
            self.processors.values().map(Processor::late).sum::<u64>() + self.derivatives.late;
        self.summary.refused_derivatives = self.derivatives.refused;
        Ok(self.summary)
    }

    /// Take `first` and the events at hand after it (up to [`BATCH_EVENTS`], for at most
    /// [`BATCH_TIME`], waiting [`LINGER`] for one more), then store what they closed in one
    /// write and check the rules at once: a close per write would cap the engine at a few
    /// hundred closes a second on a database server. With rules, a batch ends before an
    /// event whose availability would make a close it holds late to evaluate (later than
    /// one bar after the close; a close already late when it closed does not count), so
    /// that a notice is late exactly when it would be evaluated event by event. Whether the
    /// events ended.
    async fn batch(
        &mut self,
        first: Stamped,
        rx: &mut impl Subscribe,
        closed: &mut Vec<Closed>,
        outputs: &mut Vec<Output>,
        wake: &Notify,
    ) -> Result<bool, EngineError> {
        let started = std::time::Instant::now();
        let mut due = None;
        self.take_one(&first, closed, outputs, &mut due)?;
        let mut taken = 1;
        while taken < BATCH_EVENTS && started.elapsed() < BATCH_TIME {
            // What is at hand, or what comes within a moment: a burst is one write.
            let next = match at_hand(rx) {
                std::task::Poll::Ready(next) => next,
                std::task::Poll::Pending => match tokio::time::timeout(LINGER, rx.next()).await {
                    Ok(next) => next,
                    Err(_) => break,
                },
            };
            let Some(s) = next else {
                self.after_batch(closed, outputs, wake)?;
                return Ok(true);
            };
            if due.is_some_and(|d| s.available_at > d) {
                self.after_batch(closed, outputs, wake)?;
                due = None;
            }
            self.take_one(&s, closed, outputs, &mut due)?;
            taken += 1;
        }
        self.after_batch(closed, outputs, wake)?;
        Ok(false)
    }

    /// Take one event and close the bars its time closes; `due` becomes the earliest time
    /// after which a close now pending would be late to evaluate.
    fn take_one(
        &mut self,
        s: &Stamped,
        closed: &mut Vec<Closed>,
        outputs: &mut Vec<Output>,
        due: &mut Option<Timestamp>,
    ) -> Result<(), EngineError> {
        let before = closed.len();
        self.take(s, closed, outputs)?;
        self.after_event(s.event.symbol(), closed, outputs);
        // Without rules there is no notice to be late. A close already late when it closed
        // (an evaluator catching up) stays late however long the batch: only the others
        // bound it.
        if self.settings.alerts.is_none() {
            return Ok(());
        }
        let now = self.clock.now();
        for c in &closed[before..] {
            let late_after = Timestamp::from_millis(
                c.timeframe.close_of(c.candle.open_time).millis() + c.timeframe.duration_ms(),
            );
            if now <= late_after {
                *due = Some(due.map_or(late_after, |d| d.min(late_after)));
            }
        }
        Ok(())
    }

    fn take(
        &mut self,
        s: &Stamped,
        closed: &mut Vec<Closed>,
        outputs: &mut Vec<Output>,
    ) -> Result<(), EngineError> {
        self.clock.observe(s.available_at);
        self.summary.events += 1;
        // What the clock now allows is decided on what came before this event.
        self.derivatives.tick(self.clock.now());
        let e = &s.event;
        // A derivatives value is recorded only if it is the one its minute keeps.
        if !matches!(e, Event::Derivative { .. }) {
            self.record(e, s.available_at);
        }
        let source = e.source().to_string();
        if let Some(sym) = e.symbol() {
            self.fed_by.insert(sym.clone(), source.clone());
        }
        if let Some(sym) = e.symbol()
            && self.cold.remove(sym)
            && let Some(p) = self.processors.get_mut(sym)
        {
            warm(
                &*self.store,
                p,
                Timestamp::from_millis(s.available_at.millis() - 1),
            )?;
        }
        let before = closed.len();
        match &s.event {
            Event::Trade {
                symbol,
                time,
                price,
                qty,
                ..
            } => match self.processors.get_mut(symbol) {
                Some(p) => {
                    p.trade(*time, *price, *qty, closed);
                    let symbol = symbol.clone();
                    self.evaluate_intrabar(&symbol, *time, outputs)?;
                }
                None => self.summary.unknown_symbol += 1,
            },
            Event::Bar {
                symbol,
                timeframe,
                candle,
                ..
            } => match self.processors.get_mut(symbol) {
                Some(p) if p.base() == *timeframe => p.bar(*candle, closed),
                // A bar of a timeframe the market does not take in: stored as it is.
                Some(_) => closed.push(Closed {
                    symbol: symbol.clone(),
                    timeframe: *timeframe,
                    candle: *candle,
                    source_bars: None,
                    rsi14: None,
                }),
                None => self.summary.unknown_symbol += 1,
            },
            Event::Derivative {
                source,
                series,
                time,
                value,
            } => self
                .derivatives
                .value(source, series, *time, *value, s.available_at),
            Event::Liquidation {
                source,
                order,
                coverage,
            } => self
                .derivatives
                .liquidation(source, order, coverage.as_deref(), s.available_at),
            other => {
                self.derivatives.health(other);
                self.notify_system(other)?;
                outputs.push(Output::System(other.clone()));
            }
        }
        let now = self.clock.now();
        for c in &closed[before..] {
            self.bars
                .push((source.clone(), c.clone(), available(now, c)));
        }
        Ok(())
    }

    /// Queue an event to store, with its occurrence in its source's stream.
    fn record(&mut self, e: &Event, available_at: Timestamp) {
        let payload = serde_json::to_string(e).unwrap_or_default();
        let occurrence = self.occurrences.next(e, &payload);
        self.events.push(NewEvent {
            source: e.source().to_string(),
            kind: e.kind().to_string(),
            symbol: e.symbol().map(|x| x.as_str().to_string()),
            event_time: e.time(),
            available_at,
            payload,
            occurrence,
        });
    }

    /// After each event: the liquidation bars it completed, and the bars its time closes.
    /// Every market is ticked when the clock has moved; otherwise only the one the event
    /// fed, since nothing else can have come due.
    fn after_event(
        &mut self,
        fed: Option<&Symbol>,
        closed: &mut Vec<Closed>,
        outputs: &mut Vec<Output>,
    ) {
        let now = self.clock.now();
        for b in std::mem::take(&mut self.derivatives.bars) {
            outputs.push(Output::Liquidations {
                source: b.source,
                venue: b.venue,
                market: b.market,
                open_time: b.open_time,
                long_usd: b.long_usd,
                short_usd: b.short_usd,
            });
        }
        let before = closed.len();
        if self.ticked == Some(now) {
            if let Some(p) = fed.and_then(|s| self.processors.get_mut(s)) {
                p.tick(now, closed);
            }
        } else {
            for p in self.processors.values_mut() {
                p.tick(now, closed);
            }
            self.ticked = Some(now);
        }
        for c in &closed[before..] {
            let source = self.fed_by.get(&c.symbol).cloned().unwrap_or_default();
            self.bars.push((source, c.clone(), available(now, c)));
        }
    }

    /// After a batch of events: what they closed stored (or what was taken, once the flush
    /// interval has passed), then cross-checked, scored and the rules checked at once.
    fn after_batch(
        &mut self,
        closed: &mut Vec<Closed>,
        outputs: &mut Vec<Output>,
        wake: &Notify,
    ) -> Result<(), EngineError> {
        let now = self.clock.now();
        if closed.is_empty() {
            if self.last_flush.elapsed() >= self.settings.flush_every {
                self.flush()?;
            }
            return Ok(());
        }
        self.flush()?;
        self.summary.bars += closed.len() as u64;
        self.cross_check(closed, outputs);
        // The daily scores after each daily close.
        let mut scores = Vec::new();
        if let Some(a) = &self.settings.alerts {
            let days: Vec<Symbol> = closed
                .iter()
                .filter(|c| c.timeframe == Timeframe::D1)
                .map(|c| c.symbol.clone())
                .collect();
            for symbol in days {
                let p = canary_engine::ScoreParams {
                    asset: canary_engine::ScoreParams::asset_of(&symbol),
                    symbol: symbol.clone(),
                    ..a.score.clone()
                };
                let ctx = canary_engine::Context::new(&*self.store, now)?;
                // A market without enough history has no score yet: nothing to say.
                if let Ok(r) = canary_engine::score(&ctx, &p, &a.dictionary, &a.lexicon) {
                    scores.push(Output::Score {
                        symbol,
                        day: r.body.day,
                        risk: r.body.risk,
                        threat: r.body.threat,
                        pulse: r.body.pulse,
                        label: r.body.label.map(|l| format!("{l:?}")),
                    });
                }
            }
        }
        for (x, open_time, close_a, close_b, diff_pct) in std::mem::take(&mut self.divergences) {
            if self
                .settings
                .system
                .as_ref()
                .is_some_and(|s| s.kinds.iter().any(|k| k == "divergence"))
            {
                let values = BTreeMap::from([
                    (x.a.as_str().to_string(), close_a),
                    (x.b.as_str().to_string(), close_b),
                    ("difference %".to_string(), diff_pct),
                ]);
                canary_engine::alerting::queue_system(
                    &mut *self.store,
                    "divergence",
                    &format!("{}/{}", x.a, x.b),
                    &format!(
                        "{} and {} closes differ by {diff_pct:+.2}% ({} bar of {open_time})",
                        x.a, x.b, x.timeframe
                    ),
                    x.timeframe.close_of(open_time),
                    values,
                    now,
                )?;
                self.wake.notify_one();
            }
        }
        outputs.extend(closed.drain(..).map(Output::Bar));
        outputs.append(&mut scores);
        if self.settings.alerts.is_some() {
            // Rules added while running are taken from the next close on.
            self.load_intrabar()?;
        }
        if let Some(a) = &self.settings.alerts {
            let fed = &self.fed_by;
            let placed = self.placed;
            let checked: Vec<Checked> = alerting::check_where(
                &mut *self.store,
                now,
                &a.dictionary,
                &a.lexicon,
                &a.score,
                &|s| !placed || fed.contains_key(s),
            )?;
            for c in checked {
                if let Some(error) = c.error {
                    outputs.push(Output::RuleError {
                        rule_id: c.rule_id,
                        rule: c.rule.clone(),
                        error,
                    });
                }
                for (n, late) in c.notices {
                    self.summary.notices += 1;
                    outputs.push(Output::Notice {
                        rule_id: c.rule_id,
                        rule: c.rule.clone(),
                        notice: n,
                        late,
                        intrabar: false,
                    });
                }
            }
            wake.notify_one();
        }
        Ok(())
    }

    /// Store the events, bars and derivatives values taken since the last flush.
    fn flush(&mut self) -> Result<(), EngineError> {
        self.last_flush = std::time::Instant::now();
        self.stores += 1;
        let now = self.clock.now();
        for (e, had) in std::mem::take(&mut self.derivatives.sampled) {
            self.record(&e, had);
        }
        self.store_derivatives(now)?;
        // A bar closed twice in one batch (a venue's own bar of a timeframe the engine also
        // builds) is written again after the first, as two writes would: the second is
        // present, or a revision.
        let mut by_series: BTreeMap<(String, Symbol, Timeframe), Vec<Vec<NewCandle>>> =
            BTreeMap::new();
        for (source, c, available_at) in self.bars.drain(..) {
            let writes = by_series
                .entry((source, c.symbol.clone(), c.timeframe))
                .or_default();
            let t = c.candle.open_time;
            if writes
                .last()
                .is_none_or(|w| w.iter().any(|r| r.candle.open_time == t))
            {
                writes.push(Vec::new());
            }
            if let Some(w) = writes.last_mut() {
                w.push(NewCandle {
                    candle: c.candle,
                    available_at,
                    source_bars: c.source_bars,
                });
            }
        }
        let kinds = &self.settings.source_kinds;
        let groups: Vec<SeriesBars<'_>> = by_series
            .iter()
            .flat_map(|((source, symbol, tf), writes)| {
                writes.iter().map(move |rows| SeriesBars {
                    source: Source {
                        name: source,
                        kind: kinds.get(source).copied().unwrap_or(SourceKind::Real),
                    },
                    symbol,
                    tf: *tf,
                    rows,
                })
            })
            .collect();
        self.store.store_taken(&self.events, &groups, now)?;
        self.events.clear();
        Ok(())
    }
}

/// The most events a batch takes before what they closed is stored.
const BATCH_EVENTS: usize = 4096;
/// The longest a batch gathers the events at hand.
const BATCH_TIME: Duration = Duration::from_millis(100);
/// How long a batch waits for one more event when none is at hand: a burst arriving over
/// a few milliseconds is one write, and a close waits no longer than this to be stored.
const LINGER: Duration = Duration::from_millis(2);

/// The subscriber's next event if it is at hand (`Ready(None)` once they have ended), or
/// `Pending` if it would have to wait: its `next` polled once, and dropped if not ready,
/// which gives up nothing (each subscriber's `next` only waits on its channel or stream).
fn at_hand(rx: &mut impl Subscribe) -> std::task::Poll<Option<Stamped>> {
    use std::future::Future;
    use std::task::{Context, Waker};
    let mut next = std::pin::pin!(rx.next());
    next.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

/// When a bar closed at `now` is available: at its close, or later if it closed late.
fn available(now: Timestamp, c: &Closed) -> Timestamp {
    now.max(c.timeframe.close_of(c.candle.open_time))
}

/// Resume a processor from what the store holds at `now`.
fn warm(store: &dyn Stores, p: &mut Processor, now: Timestamp) -> Result<(), EngineError> {
    let q = CandleQuery {
        asof: Some(now),
        to: None,
        from: None,
        last: None,
    };
    let mut closes = Vec::new();
    let mut latest_base = None;
    for tf in p.timeframes().collect::<Vec<_>>() {
        let bars = store.candles(&p.symbol, tf, &q)?;
        let closed: Vec<_> = bars
            .iter()
            .filter(|b| tf.close_of(b.candle.open_time) <= now)
            .collect();
        if tf == p.base() {
            latest_base = closed.last().map(|b| b.candle.open_time);
        }
        closes.push(closed.iter().map(|b| b.candle.close).collect::<Vec<_>>());
    }
    let widest = p.timeframes().last().unwrap_or(p.base());
    let base = store.candles(
        &p.symbol,
        p.base(),
        &CandleQuery {
            from: Some(widest.floor(now)),
            ..q
        },
    )?;
    let base: Vec<_> = base.into_iter().map(|b| b.candle).collect();
    p.warm(&closes, &base, latest_base, now);
    Ok(())
}

/// How the delivery task sends.
struct Send {
    sending: canary_delivery::Sending,
    system: Option<canary_engine::alerting::Channel>,
}

impl Send {
    fn of(a: Option<&AlertSettings>, system: Option<canary_engine::alerting::Channel>) -> Self {
        Send {
            sending: canary_delivery::Sending {
                attempts: a.map_or(4, |a| a.attempts),
                backoff: a.map_or(Duration::from_millis(500), |a| a.backoff),
                timeout: a.map_or(Duration::from_secs(10), |a| a.timeout),
                allow_private: a.is_some_and(|a| a.allow_private),
            },
            system,
        }
    }
}

/// What sends the stored notices: the store, the HTTP client and how to send.
struct Deliverer {
    store: Box<dyn canary_store::Stores>,
    client: canary_delivery::guard::HttpClient,
    send: Send,
}

impl Deliverer {
    fn open(session: &canary_engine::Session, send: Send) -> Result<Self, EngineError> {
        let store = session.open()?;
        let client = canary_delivery::guard::http_client(send.sending.allow_private)
            .map_err(|e| EngineError::param("http client", "", &e.to_string()))?;
        Ok(Deliverer {
            store,
            client,
            send,
        })
    }

    /// Send what is pending at `now`: how many were delivered and how many failed.
    async fn pass(&mut self, now: Timestamp) -> Result<(u64, u64), EngineError> {
        let sent = canary_delivery::deliver(
            &mut *self.store,
            &self.client,
            now,
            &self.send.sending,
            None,
            self.send.system.as_ref(),
        )
        .await?;
        let ok = sent.iter().filter(|s| s.ok).count() as u64;
        Ok((ok, sent.len() as u64 - ok))
    }
}

/// A deliverer on its own: the notices stored (by evaluators in other processes), sent every
/// half second until `stop`, then once more; how many were delivered and how many failed. A
/// pass the store cannot answer (its server restarting) is said once and tried again.
///
/// # Errors
/// The store cannot be opened; the last pass, at the stop, fails.
pub async fn deliver_until(
    session: canary_engine::Session,
    alerts: Option<&AlertSettings>,
    system: Option<canary_engine::alerting::Channel>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(u64, u64), EngineError> {
    let mut deliverer = Deliverer::open(&session, Send::of(alerts, system))?;
    let (mut ok, mut failed) = (0, 0);
    let mut said = None;
    loop {
        let last = *stop.borrow();
        match deliverer.pass(session.now()).await {
            Ok((o, f)) => {
                (ok, failed) = (ok + o, failed + f);
                if said.take().is_some() {
                    eprintln!("delivering again: the store answers");
                }
            }
            // The store away (a restart of its server): what is pending stays stored, and
            // is sent once it answers again.
            Err(e) => {
                let message = e.to_string();
                if said.as_ref() != Some(&message) {
                    eprintln!("cannot deliver now: {message}; trying again every half second");
                    said = Some(message);
                }
                if last {
                    return Err(e);
                }
            }
        }
        if last {
            return Ok((ok, failed));
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.changed() => {}
        }
    }
}

async fn deliveries(
    session: canary_engine::Session,
    send: Send,
    wake: Arc<Notify>,
    clock: Arc<dyn Clock>,
    delivered: Arc<std::sync::Mutex<(u64, u64)>>,
    done: Arc<std::sync::atomic::AtomicBool>,
) -> Result<(), EngineError> {
    let mut deliverer = Deliverer::open(&session, send)?;
    loop {
        wake.notified().await;
        let finished = done.load(std::sync::atomic::Ordering::Acquire);
        let (ok, failed) = deliverer.pass(clock.now()).await?;
        {
            let mut d = delivered.lock().expect("not poisoned");
            d.0 += ok;
            d.1 += failed;
        }
        if finished {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReplayClock;
    use canary_engine::ScoreParams;
    use canary_ingest::bus::Publish;
    use canary_model::Candle;

    /// An output's kind is the one its JSON gives (what the bus's outputs are filed under).
    #[test]
    fn an_outputs_kind_is_its_jsons() {
        let t = Timestamp::from_millis(0);
        let btc = Symbol::new("BTCUSDT").unwrap();
        for o in [
            Output::Score {
                symbol: btc.clone(),
                day: t,
                risk: None,
                threat: None,
                pulse: None,
                label: None,
            },
            Output::RuleError {
                rule_id: 1,
                rule: "r".into(),
                error: "e".into(),
            },
            Output::System(Event::Reconnected {
                source: "s".into(),
                time: t,
            }),
            Output::Liquidations {
                source: "s".into(),
                venue: "v".into(),
                market: "m".into(),
                open_time: t,
                long_usd: 0.0,
                short_usd: 0.0,
            },
            Output::Divergence {
                check: CrossCheck {
                    a: btc.clone(),
                    b: btc,
                    timeframe: "1m".parse().unwrap(),
                    max_diff_pct: 0.5,
                },
                open_time: t,
                close_a: 1.0,
                close_b: 2.0,
                diff_pct: 100.0,
            },
            Output::Job {
                name: "j".into(),
                result: Ok("done".into()),
            },
        ] {
            let json = serde_json::to_value(&o).unwrap();
            assert_eq!(json["kind"], o.kind());
        }
    }

    /// Two venues' 1m closes: within the allowed difference nothing is said; past it, a
    /// divergence naming both closes, once both bars are in (in either order).
    #[test]
    fn cross_checked_venues_report_a_divergence() {
        let dir = tempfile::tempdir().unwrap();
        let m1: Timeframe = "1m".parse().unwrap();
        let (a, b) = (
            Symbol::new("BTCUSDT").unwrap(),
            Symbol::new("BTCUSD").unwrap(),
        );
        let t0 = Timestamp::parse("2026-02-05T20:00:00Z").unwrap();
        let db = dir.path().join("x.db");
        let settings = EngineSettings {
            session: canary_engine::Session::new(&db)
                .with_clock(Arc::new(ReplayClock::starting(t0))),
            markets: vec![
                Market {
                    symbol: a.clone(),
                    timeframes: vec![m1],
                },
                Market {
                    symbol: b.clone(),
                    timeframes: vec![m1],
                },
            ],
            source_kinds: BTreeMap::new(),
            crosschecks: vec![CrossCheck {
                a: a.clone(),
                b: b.clone(),
                timeframe: m1,
                max_diff_pct: 0.5,
            }],
            alerts: None,
            system: Some(SystemAlerts {
                channel: canary_engine::alerting::Channel::Log,
                kinds: vec!["divergence".into()],
            }),
            flush_every: Duration::from_secs(1),
        };
        let engine = Engine::new(settings).unwrap();
        let bar = |sym: &Symbol, minute: i64, close: f64| Stamped {
            event: Event::Bar {
                source: "test".into(),
                symbol: sym.clone(),
                timeframe: m1,
                candle: Candle::new(
                    Timestamp::from_millis(t0.millis() + minute * 60_000),
                    close,
                    close,
                    close,
                    close,
                    1.0,
                    None,
                    None,
                )
                .unwrap(),
            },
            available_at: Timestamp::from_millis(t0.millis() + (minute + 1) * 60_000),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let outputs = rt.block_on(async move {
            let (tx, rx) = canary_ingest::bus::in_process(16);
            let (otx, mut orx) = mpsc::channel(64);
            for s in [
                bar(&a, 0, 62_900.0),
                bar(&b, 0, 62_950.0), // 0.08% apart
                bar(&b, 1, 62_000.0),
                bar(&a, 1, 62_500.0), // 0.81% apart, a after b
            ] {
                tx.publish(s).await.unwrap();
            }
            drop(tx);
            engine.run(rx, Some(otx)).await.unwrap();
            let mut v = Vec::new();
            while let Some(o) = orx.recv().await {
                v.push(o);
            }
            v
        });
        let d: Vec<_> = outputs
            .iter()
            .filter_map(|o| match o {
                Output::Divergence {
                    open_time,
                    close_a,
                    close_b,
                    diff_pct,
                    ..
                } => Some((open_time.to_string(), *close_a, *close_b, *diff_pct)),
                _ => None,
            })
            .collect();
        assert_eq!(d.len(), 1, "{outputs:?}");
        assert_eq!(
            (d[0].0.as_str(), d[0].1, d[0].2),
            ("2026-02-05T20:01:00Z", 62_500.0, 62_000.0)
        );
        assert!((d[0].3 - 0.806_451_6).abs() < 1e-6);
        // Notified once on the system channel, with both closes.
        let log = canary_store::open(&db)
            .unwrap()
            .delivery_log(Some(canary_engine::alerting::SYSTEM_RULE))
            .unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].status, "delivered");
        let p: canary_engine::alerting::Payload = serde_json::from_str(&log[0].notice).unwrap();
        assert!(
            p.system
                && p.rule
                    .contains("BTCUSDT and BTCUSD closes differ by +0.81%"),
            "{}",
            p.rule
        );
        assert_eq!(p.values["BTCUSD"], 62_000.0);
    }

    /// Two equal trades of one millisecond (a venue without trade ids) are two events, stored
    /// both; the same input run again, as after a restart, stores nothing twice (issue 19,
    /// item 7), and a minute built from it is the same.
    /// Hourly bars taken in batches (all at hand at once) close each bar of every
    /// timeframe once, with what one at a time would store.
    #[test]
    fn bars_taken_in_a_batch_close_once() {
        let h1: Timeframe = "1h".parse().unwrap();
        let h4: Timeframe = "4h".parse().unwrap();
        let sym = Symbol::new("SIMUSDT").unwrap();
        let t0 = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let input: Vec<Stamped> = (0..9_i64)
            .map(|i| {
                let t = t0.millis() + i * 3_600_000;
                let p = 100.0 + i as f64;
                Stamped {
                    event: Event::Bar {
                        source: "sim".into(),
                        symbol: sym.clone(),
                        timeframe: h1,
                        candle: canary_model::Candle::new(
                            Timestamp::from_millis(t),
                            p,
                            p + 1.0,
                            p - 1.0,
                            p,
                            1.0,
                            None,
                            None,
                        )
                        .unwrap(),
                    },
                    available_at: Timestamp::from_millis(t + 3_600_000),
                }
            })
            .collect();
        let run = |db: &std::path::Path, input: &[Stamped], capacity: usize, warm_first: bool| {
            let settings = EngineSettings {
                session: canary_engine::Session::new(db)
                    .with_clock(Arc::new(ReplayClock::starting(t0))),
                markets: vec![Market {
                    symbol: sym.clone(),
                    timeframes: vec![h1, h4],
                }],
                source_kinds: BTreeMap::new(),
                crosschecks: Vec::new(),
                alerts: None,
                system: None,
                flush_every: Duration::from_secs(1),
            };
            let mut engine = Engine::new(settings).unwrap();
            if warm_first {
                engine.warm_at_first_event();
            }
            let input = input.to_vec();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let summary = rt.block_on(async move {
                let (tx, rx) = canary_ingest::bus::in_process(capacity);
                let feed = tokio::spawn(async move {
                    for s in input {
                        tx.publish(s).await.unwrap();
                    }
                });
                let summary = engine.run(rx, None).await.unwrap();
                feed.await.unwrap();
                summary
            });
            let store = canary_store::open(db).unwrap();
            let bars = |tf| {
                store
                    .candles(&sym, tf, &CandleQuery::default())
                    .unwrap()
                    .into_iter()
                    .map(|b| (b.candle, b.available_at, b.source_bars))
                    .collect::<Vec<_>>()
            };
            (summary.bars, bars(h1), bars(h4))
        };
        let dir = tempfile::tempdir().unwrap();
        let one = run(&dir.path().join("one.db"), &input, 1, false);
        assert_eq!((one.0, one.1.len(), one.2.len()), (11, 9, 2));
        for warm_first in [false, true] {
            let db = dir.path().join(format!("b{warm_first}.db"));
            let batched = run(&db, &input, 64, warm_first);
            assert_eq!(batched, one, "warm at first event: {warm_first}");
        }
        // The venue's own 4h bar after the one built: the same bar closed twice in a batch,
        // stored as two writes would store it, the later a revision.
        let own = canary_model::Candle::new(t0, 100.0, 110.0, 90.0, 99.0, 4.0, None, None).unwrap();
        let mut venue = input.clone();
        venue.insert(
            4,
            Stamped {
                event: Event::Bar {
                    source: "sim".into(),
                    symbol: sym.clone(),
                    timeframe: h4,
                    candle: own,
                },
                available_at: Timestamp::from_millis(t0.millis() + 4 * 3_600_000),
            },
        );
        let (bars, _, h4s) = run(&dir.path().join("venue.db"), &venue, 64, false);
        assert_eq!(bars, 12);
        assert_eq!(h4s.len(), 2);
        assert_eq!(h4s[0].0, own, "the later version read");
    }

    #[test]
    fn equal_trades_are_stored_each_and_a_rerun_stores_nothing_twice() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let m1: Timeframe = "1m".parse().unwrap();
        let sym = Symbol::new("BTCUSD").unwrap();
        let t0 = Timestamp::parse("2026-02-05T20:00:00Z").unwrap();
        let trade = |ms: i64, price: f64| Stamped {
            event: Event::Trade {
                source: "test".into(),
                symbol: sym.clone(),
                time: Timestamp::from_millis(t0.millis() + ms),
                price,
                qty: 0.5,
            },
            available_at: Timestamp::from_millis(t0.millis() + ms),
        };
        let input = vec![
            trade(10, 62_000.0),
            trade(10, 62_000.0), // the same trade again: another one
            trade(10, 62_001.0),
            trade(10, 62_000.0), // and a third
            trade(20_000, 62_010.0),
            trade(61_000, 62_020.0), // closes the first minute
        ];
        let run = |input: Vec<Stamped>| {
            let settings = EngineSettings {
                session: canary_engine::Session::new(&db)
                    .with_clock(Arc::new(ReplayClock::starting(t0))),
                markets: vec![Market {
                    symbol: sym.clone(),
                    timeframes: vec![m1],
                }],
                source_kinds: BTreeMap::new(),
                crosschecks: Vec::new(),
                alerts: None,
                system: None,
                flush_every: Duration::from_secs(1),
            };
            let engine = Engine::new(settings).unwrap();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let (tx, rx) = canary_ingest::bus::in_process(16);
                for s in input {
                    tx.publish(s).await.unwrap();
                }
                drop(tx);
                engine.run(rx, None).await.unwrap()
            })
        };
        let stored = || {
            canary_store::open(&db)
                .unwrap()
                .events(Timestamp::from_millis(0), Timestamp::from_millis(i64::MAX))
                .unwrap()
                .iter()
                .map(|e| (e.event_time.millis() - t0.millis(), e.occurrence))
                .collect::<Vec<_>>()
        };
        let first = run(input.clone());
        assert_eq!(first.bars, 1);
        let expected = [(10, 0), (10, 1), (10, 0), (10, 2), (20_000, 0), (61_000, 0)];
        assert_eq!(stored(), expected);
        let minute = |db: &std::path::Path| {
            canary_store::open(db)
                .unwrap()
                .candles(&sym, m1, &CandleQuery::default())
                .unwrap()
        };
        let built = minute(&db);
        assert_eq!(
            (built.len(), built[0].candle.volume, built[0].candle.trades),
            (1, 2.5, Some(5))
        );
        run(input);
        assert_eq!(stored(), expected, "run again");
        assert_eq!(minute(&db), built);
    }

    /// An intrabar rule fires on the trade that crosses its line, at most once per bar, and
    /// again in the next bar; it is refused on what only a close knows.
    /// Rules checked with the built-in score, dictionary and lexicon, one quick attempt.
    fn test_alerts(symbol: &Symbol) -> AlertSettings {
        AlertSettings {
            score: ScoreParams {
                symbol: symbol.clone(),
                method: canary_analytics::score::Methodology::built_in(),
                asset: "BTC".into(),
                horizon_days: 7,
                drawdown: 0.10,
            },
            dictionary: Dictionary::built_in(),
            lexicon: Lexicon::built_in().clone(),
            attempts: 1,
            backoff: Duration::from_millis(1),
            timeout: Duration::from_secs(1),
            allow_private: false,
        }
    }

    /// An evaluator placed with its markets checks the rules of the instruments whose
    /// events it takes; another instrument's rule, over bars another evaluator stored, is
    /// left to that one (and is checked when nothing is placed).
    #[test]
    fn a_placed_engine_checks_the_rules_of_its_own_markets() {
        use canary_engine::alerting::{Allow, Channel, Owner, RuleSpec, add_rule};
        let m1: Timeframe = "1m".parse().unwrap();
        let t0 = Timestamp::parse("2026-02-05T20:00:00Z").unwrap();
        let (btc, eth) = (
            Symbol::new("BTCUSD").unwrap(),
            Symbol::new("ETHUSD").unwrap(),
        );
        let minute = |i: i64| Timestamp::from_millis(t0.millis() + i * 60_000);
        let candle = |i: i64| {
            canary_model::Candle::new(minute(i), 10.0, 11.0, 9.0, 10.5, 1.0, None, None).unwrap()
        };
        let run = |placed: bool| {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("p.db");
            {
                let mut store = canary_store::open(&db).unwrap();
                let allow = Allow {
                    before_data: true,
                    ..Allow::default()
                };
                for rule in ["BTCUSD.close > 10", "ETHUSD.close > 10"] {
                    let spec = RuleSpec {
                        rule: rule.into(),
                        timeframe: m1,
                        policy: canary_alerts::state::Policy::default(),
                        channel: Channel::Log,
                    };
                    add_rule(&mut *store, &Owner::Operator, &spec, t0, allow).unwrap();
                }
                // ETH's bars, as the evaluator of its partition stored them.
                let rows: Vec<NewCandle> = (0..3)
                    .map(|i| NewCandle {
                        candle: candle(i),
                        available_at: minute(i + 1),
                        source_bars: None,
                    })
                    .collect();
                store
                    .store_taken(
                        &[],
                        &[SeriesBars {
                            source: Source::real("other"),
                            symbol: &eth,
                            tf: m1,
                            rows: &rows,
                        }],
                        minute(1),
                    )
                    .unwrap();
            }
            let settings = EngineSettings {
                session: canary_engine::Session::new(&db)
                    .with_clock(Arc::new(ReplayClock::starting(t0))),
                markets: [&btc, &eth]
                    .map(|s| Market {
                        symbol: s.clone(),
                        timeframes: vec![m1],
                    })
                    .to_vec(),
                source_kinds: BTreeMap::new(),
                crosschecks: Vec::new(),
                alerts: Some(test_alerts(&btc)),
                system: None,
                flush_every: Duration::from_secs(1),
            };
            let mut engine = Engine::new(settings).unwrap();
            engine.store_notices_only();
            if placed {
                engine.place_rules_with_markets();
            }
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let btc = btc.clone();
            rt.block_on(async move {
                let (tx, rx) = canary_ingest::bus::in_process(16);
                for i in 0..3 {
                    tx.publish(Stamped {
                        event: Event::Bar {
                            source: "test".into(),
                            symbol: btc.clone(),
                            timeframe: m1,
                            candle: candle(i),
                        },
                        available_at: minute(i + 1),
                    })
                    .await
                    .unwrap();
                }
                drop(tx);
                let (otx, mut orx) = mpsc::channel(64);
                engine.run(rx, Some(otx)).await.unwrap();
                let mut fired = Vec::new();
                while let Some(o) = orx.recv().await {
                    if let Output::Notice { rule, .. } = o {
                        fired.push(rule);
                    }
                }
                fired
            })
        };
        assert_eq!(run(true), ["BTCUSD.close > 10"]);
        assert_eq!(run(false), ["BTCUSD.close > 10", "ETHUSD.close > 10"]);
    }

    #[test]
    fn intrabar_rules_fire_on_trades_once_per_bar() {
        use canary_alerts::state::Notice;
        use canary_engine::alerting::{Allow, Channel, Owner, RuleSpec, add_rule};
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("i.db");
        let m1: Timeframe = "1m".parse().unwrap();
        let t0 = Timestamp::parse("2026-02-05T20:00:00Z").unwrap();
        let at = |s: i64| Timestamp::from_millis(t0.millis() + s * 1000);
        {
            let mut store = canary_store::open(&db).unwrap();
            let spec = |rule: &str| RuleSpec {
                rule: rule.into(),
                timeframe: m1,
                policy: canary_alerts::state::Policy {
                    intrabar: true,
                    ..Default::default()
                },
                channel: Channel::Log,
            };
            // Trades will bring the market's first bars.
            let allow = Allow {
                before_data: true,
                ..Allow::default()
            };
            let (o, one) = (&Owner::Operator, &spec("BTCUSD.close < 62000"));
            add_rule(&mut *store, o, one, t0, allow).unwrap();
            let e = add_rule(&mut *store, o, &spec("threat(BTCUSD) >= 4"), t0, allow).unwrap_err();
            assert!(
                e.to_string().contains("intrabar rules read bar fields"),
                "{e}"
            );
        }
        let sym = Symbol::new("BTCUSD").unwrap();
        let settings = EngineSettings {
            session: canary_engine::Session::new(&db)
                .with_clock(Arc::new(ReplayClock::starting(t0))),
            markets: vec![Market {
                symbol: sym.clone(),
                timeframes: vec![m1],
            }],
            source_kinds: BTreeMap::new(),
            crosschecks: Vec::new(),
            alerts: Some(test_alerts(&sym)),
            system: None,
            flush_every: Duration::from_secs(1),
        };
        let engine = Engine::new(settings).unwrap();
        let trade = |s: i64, price: f64| Stamped {
            event: Event::Trade {
                source: "test".into(),
                symbol: sym.clone(),
                time: at(s),
                price,
                qty: 0.1,
            },
            available_at: at(s),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let notices = rt.block_on(async move {
            let (tx, rx) = canary_ingest::bus::in_process(16);
            let (otx, mut orx) = mpsc::channel(64);
            for s in [
                trade(0, 62_500.0),
                trade(10, 61_900.0), // crosses: fires
                trade(20, 61_800.0),
                trade(30, 62_100.0), // back above
                trade(40, 61_950.0), // below again, same bar: quiet
                trade(61, 61_900.0), // the next bar: fires
            ] {
                tx.publish(s).await.unwrap();
            }
            drop(tx);
            engine.run(rx, Some(otx)).await.unwrap();
            let mut v = Vec::new();
            while let Some(o) = orx.recv().await {
                if let Output::Notice {
                    notice, intrabar, ..
                } = o
                {
                    v.push((notice, intrabar));
                }
            }
            v
        });
        assert_eq!(
            notices,
            [
                (Notice::Fired { at: at(10) }, true),
                (Notice::Fired { at: at(61) }, true)
            ]
        );
        let log = canary_store::open(&db)
            .unwrap()
            .delivery_log(Some(1))
            .unwrap();
        assert_eq!(log.len(), 2);
        assert!(log.iter().all(|d| d.status == "delivered"));
        let p: canary_engine::alerting::Payload = serde_json::from_str(&log[0].notice).unwrap();
        assert!(p.intrabar);
    }
}
