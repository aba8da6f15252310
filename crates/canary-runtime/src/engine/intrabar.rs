//! Intrabar rules: the stored rules whose policy asks for it, evaluated on every trade against
//! the bars still open, firing at most once per bar (TradingView's "once per bar"), their
//! notices queued like the closes' and labelled intrabar.

use canary_model::{Symbol, Timeframe, Timestamp};

use super::{Engine, Output};
use canary_engine::EngineError;

/// A rule evaluated on every trade, with its running state.
#[derive(Debug)]
pub(super) struct IntrabarRule {
    rule: String,
    symbol: Symbol,
    timeframe: Timeframe,
    fingerprint: String,
    policy: canary_alerts::state::Policy,
    evaluator: canary_alerts::eval::Evaluator,
    /// The open time of the bar it last fired in (once per bar), and when.
    fired_bar: Option<Timestamp>,
    last_fired: Option<Timestamp>,
}

impl Engine {
    /// The stored intrabar rules, keeping the state of those already running.
    pub(super) fn load_intrabar(&mut self) -> Result<(), EngineError> {
        if self.settings.alerts.is_none() {
            return Ok(());
        }
        let mut seen = Vec::new();
        for r in self.store.rules(None)? {
            let Ok(policy) = serde_json::from_str::<canary_alerts::state::Policy>(&r.policy) else {
                continue;
            };
            if !policy.intrabar {
                continue;
            }
            seen.push(r.id);
            if self.intrabar.contains_key(&r.id) {
                continue;
            }
            let (Ok(expr), Ok(tf)) = (
                canary_alerts::rule::parse(&r.rule),
                r.timeframe.parse::<Timeframe>(),
            ) else {
                continue;
            };
            let symbol = expr.clock_symbol();
            let fingerprint = canary_alerts::state::fingerprint(&r.rule, symbol.as_str());
            self.intrabar.insert(
                r.id,
                IntrabarRule {
                    rule: r.rule.clone(),
                    symbol,
                    timeframe: tf,
                    evaluator: canary_alerts::eval::Evaluator::new(expr),
                    fingerprint,
                    policy,
                    fired_bar: None,
                    last_fired: None,
                },
            );
        }
        self.intrabar.retain(|id, _| seen.contains(id));
        Ok(())
    }

    /// Evaluate the intrabar rules of `symbol` after a trade at `t`, against the bars still
    /// open; a firing at most once per bar, its notice queued and labelled intrabar.
    pub(super) fn evaluate_intrabar(
        &mut self,
        symbol: &Symbol,
        t: Timestamp,
        outputs: &mut Vec<Output>,
    ) -> Result<(), EngineError> {
        use canary_alerts::rule::{BarField, Series};
        use canary_alerts::state::Notice;
        let Some(p) = self.processors.get(symbol) else {
            return Ok(());
        };
        let now = self.clock.now();
        let mut queued = false;
        for (id, r) in self
            .intrabar
            .iter_mut()
            .filter(|(_, r)| &r.symbol == symbol)
        {
            let Some((bar, _)) = p.intrabar(r.timeframe) else {
                continue;
            };
            let mut values = canary_alerts::eval::Values::new();
            for s in r.evaluator.expr.series() {
                let v = match s {
                    Series::Bar { field, tf, .. } => {
                        p.intrabar(tf.unwrap_or(r.timeframe))
                            .map(|(c, _)| match field {
                                BarField::Open => c.open,
                                BarField::High => c.high,
                                BarField::Low => c.low,
                                BarField::Close => c.close,
                                BarField::Volume => c.volume,
                            })
                    }
                    Series::Indicator { tf, .. } => p
                        .intrabar(tf.unwrap_or(r.timeframe))
                        .and_then(|(_, rsi)| rsi),
                    _ => None,
                };
                if let Some(v) = v {
                    values.insert(s.clone(), v);
                }
            }
            // TradingView's "once per bar": the first trade of a bar that meets the condition
            // fires; the rest of that bar is quiet; cooldown and expiry hold.
            let outcome = r.evaluator.evaluate(t, &values);
            let cooled = r
                .last_fired
                .is_none_or(|l| t.millis() - l.millis() >= r.policy.cooldown_ms);
            let expired = r.policy.expires_at.is_some_and(|e| t >= e);
            if outcome != canary_alerts::eval::Outcome::True
                || r.fired_bar == Some(bar.open_time)
                || !cooled
                || expired
            {
                continue;
            }
            r.fired_bar = Some(bar.open_time);
            r.last_fired = Some(t);
            let n = Notice::Fired { at: t };
            // Once per bar, across restarts too: the key names the bar.
            let key = format!("{}:{id}:intrabar:{}", r.fingerprint, bar.open_time.millis());
            let payload = canary_engine::alerting::Payload {
                idempotency_key: key.clone(),
                fingerprint: r.fingerprint.clone(),
                rule: r.rule.clone(),
                timeframe: Some(r.timeframe),
                notice: n,
                values: values
                    .iter()
                    .map(|(s, x)| (canary_engine::alerting::series_name(s), *x))
                    .collect(),
                late: false,
                test: false,
                system: false,
                intrabar: true,
                time_zone: "UTC".into(),
            };
            if self.store.queue_notice(
                &key,
                *id,
                &serde_json::to_string(&payload).unwrap_or_default(),
                now,
            )? {
                queued = true;
                self.summary.notices += 1;
                outputs.push(Output::Notice {
                    rule_id: *id,
                    rule: r.rule.clone(),
                    notice: n,
                    late: false,
                    intrabar: true,
                });
            }
        }
        if queued {
            self.wake.notify_one();
        }
        Ok(())
    }
}
