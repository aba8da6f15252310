//! The sources' health as the engine sees it: the closes of two venues of one asset compared
//! at each bar both have (a divergence reported), and notices about the sources themselves
//! (silences, gaps, reconnections, unreadable messages) queued for the system channel.

use std::collections::BTreeMap;

use super::{Closed, CrossCheck, Engine, Event, Output};
use canary_engine::EngineError;

impl Engine {
    /// Queue a notice about a source for the system channel, if its kind is notified.
    pub(super) fn notify_system(&mut self, e: &Event) -> Result<(), EngineError> {
        let Some(sys) = &self.settings.system else {
            return Ok(());
        };
        if !sys.kinds.iter().any(|k| k == e.kind()) {
            return Ok(());
        }
        let what = match e {
            Event::Stale {
                source, silent_ms, ..
            } => format!("{source}: silent for {} s", silent_ms / 1000),
            Event::Gap {
                source,
                symbol,
                from,
                to,
            } => format!("{source}: gap in {symbol} from {from} to {to}"),
            Event::Reconnected { source, .. } => format!("{source}: reconnected"),
            Event::Malformed { source, error, .. } => {
                format!("{source}: an unreadable message ({error})")
            }
            Event::Trade { .. }
            | Event::Bar { .. }
            | Event::Derivative { .. }
            | Event::Liquidation { .. } => return Ok(()),
        };
        canary_engine::alerting::queue_system(
            &mut *self.store,
            e.kind(),
            e.source(),
            &what,
            e.time(),
            BTreeMap::new(),
            self.clock.now(),
        )?;
        self.wake.notify_one();
        Ok(())
    }

    /// Compare each closed bar with the other venue's close of the same bar, if it is in.
    pub(super) fn cross_check(&mut self, closed: &[Closed], outputs: &mut Vec<Output>) {
        for c in closed {
            let checks: Vec<CrossCheck> = self
                .settings
                .crosschecks
                .iter()
                .filter(|x| x.timeframe == c.timeframe && (x.a == c.symbol || x.b == c.symbol))
                .cloned()
                .collect();
            if checks.is_empty() {
                continue;
            }
            let mine = self
                .recent
                .entry((c.symbol.clone(), c.timeframe))
                .or_default();
            mine.insert(c.candle.open_time, c.candle.close);
            // A few hours of bars are enough to meet the other venue's.
            while mine.len() > 64 {
                mine.pop_first();
            }
            for x in checks {
                let other = if x.a == c.symbol { &x.b } else { &x.a };
                let Some(theirs) = self
                    .recent
                    .get(&(other.clone(), c.timeframe))
                    .and_then(|m| m.get(&c.candle.open_time))
                    .copied()
                else {
                    continue;
                };
                let (close_a, close_b) = if x.a == c.symbol {
                    (c.candle.close, theirs)
                } else {
                    (theirs, c.candle.close)
                };
                let diff_pct = (close_a / close_b - 1.0) * 100.0;
                if diff_pct.abs() > x.max_diff_pct {
                    self.divergences.push((
                        x.clone(),
                        c.candle.open_time,
                        close_a,
                        close_b,
                        diff_pct,
                    ));
                    outputs.push(Output::Divergence {
                        check: x,
                        open_time: c.candle.open_time,
                        close_a,
                        close_b,
                        diff_pct,
                    });
                }
            }
        }
    }
}
