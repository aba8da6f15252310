//! Evaluating a rule at each bar close from the values of the series it reads. Crossings
//! compare with the previous evaluation; `rises_by` / `falls_by` with the evaluations of the
//! window before. A series without a value makes the outcome [`Outcome::NoData`].

use std::collections::{BTreeMap, VecDeque};

use canary_model::Timestamp;

use crate::rule::{Cmp, Cross, Expr, Series};

/// The values of the series a rule reads, at one evaluation.
pub type Values = BTreeMap<Series, f64>;

/// What one evaluation found.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    True,
    False,
    /// Some series had no value.
    NoData,
}

/// A rule being evaluated over time.
#[derive(Debug, Clone)]
pub struct Evaluator {
    pub expr: Expr,
    history: VecDeque<(Timestamp, Values)>,
    keep_ms: i64,
}

struct Missing;

fn value(e: &Expr, v: &Values) -> Result<f64, Missing> {
    match e {
        Expr::Num(x) => Ok(*x),
        Expr::Series(s) => v.get(s).copied().filter(|x| x.is_finite()).ok_or(Missing),
        _ => Err(Missing),
    }
}

fn compare(a: f64, op: Cmp, b: f64) -> bool {
    match op {
        Cmp::Lt => a < b,
        Cmp::Le => a <= b,
        Cmp::Gt => a > b,
        Cmp::Ge => a >= b,
        Cmp::Eq => (a - b).abs() < 1e-12,
        Cmp::Ne => (a - b).abs() >= 1e-12,
    }
}

fn window_ms(e: &Expr) -> i64 {
    match e {
        Expr::Moves {
            within_ms, value, ..
        } => (*within_ms).max(window_ms(value)),
        Expr::Compare(a, _, b) | Expr::Crosses(a, b, _) | Expr::And(a, b) | Expr::Or(a, b) => {
            window_ms(a).max(window_ms(b))
        }
        Expr::Not(a) => window_ms(a),
        Expr::Num(_) | Expr::Series(_) => 0,
    }
}

impl Evaluator {
    #[must_use]
    pub fn new(expr: Expr) -> Self {
        let keep_ms = window_ms(&expr);
        Evaluator {
            expr,
            history: VecDeque::new(),
            keep_ms,
        }
    }

    /// Evaluate at `t` with these values (and remember them for the next evaluations).
    pub fn evaluate(&mut self, t: Timestamp, v: &Values) -> Outcome {
        let out = match self.truth(&self.expr, t, v) {
            Ok(true) => Outcome::True,
            Ok(false) => Outcome::False,
            Err(Missing) => Outcome::NoData,
        };
        self.history.push_back((t, v.clone()));
        // Keep the previous evaluation (for crossings) and the longest window.
        while self.history.len() > 2 && self.history[1].0.millis() < t.millis() - self.keep_ms {
            self.history.pop_front();
        }
        out
    }

    fn truth(&self, e: &Expr, t: Timestamp, v: &Values) -> Result<bool, Missing> {
        Ok(match e {
            Expr::Compare(a, op, b) => compare(value(a, v)?, *op, value(b, v)?),
            Expr::Crosses(a, b, dir) => {
                let now = value(a, v)? - value(b, v)?;
                let Some((_, prev)) = self.history.back() else {
                    return Ok(false);
                };
                let Ok(before) = value(a, prev).and_then(|x| Ok(x - value(b, prev)?)) else {
                    return Ok(false);
                };
                let up = before <= 0.0 && now > 0.0;
                let down = before >= 0.0 && now < 0.0;
                match dir {
                    Cross::Above => up,
                    Cross::Below => down,
                    Cross::Any => up || down,
                }
            }
            Expr::Moves {
                value: x,
                by,
                within_ms,
            } => {
                let now = value(x, v)?;
                // The lowest (for a rise) or highest (for a fall) of the window before now.
                let ext = self.extreme(x, t, *within_ms, *by >= 0.0);
                ext.is_finite()
                    && if *by >= 0.0 {
                        now - ext >= *by
                    } else {
                        now - ext <= *by
                    }
            }
            Expr::And(a, b) => self.truth(a, t, v)? && self.truth(b, t, v)?,
            Expr::Or(a, b) => self.truth(a, t, v)? || self.truth(b, t, v)?,
            Expr::Not(a) => !self.truth(a, t, v)?,
            Expr::Num(_) | Expr::Series(_) => return Err(Missing),
        })
    }

    fn extreme(&self, x: &Expr, t: Timestamp, within_ms: i64, min: bool) -> f64 {
        let it = self
            .history
            .iter()
            .filter(|(ht, _)| ht.millis() >= t.millis() - within_ms)
            .filter_map(|(_, hv)| value(x, hv).ok());
        if min {
            it.fold(f64::INFINITY, f64::min)
        } else {
            it.fold(f64::NEG_INFINITY, f64::max)
        }
    }

    /// For a rule that is one comparison: how far the value stands on the false side of its
    /// threshold (positive: false by that much). The state machine re-arms a fired rule only
    /// past its band (hysteresis). `None` for other rules.
    #[must_use]
    pub fn margin(&self, v: &Values) -> Option<f64> {
        let Expr::Compare(a, op, b) = &self.expr else {
            return None;
        };
        let (a, b) = (value(a, v).ok()?, value(b, v).ok()?);
        match op {
            Cmp::Lt | Cmp::Le => Some(a - b),
            Cmp::Gt | Cmp::Ge => Some(b - a),
            Cmp::Eq | Cmp::Ne => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::{BarField, parse};
    use canary_model::Symbol;

    fn close(x: f64) -> Values {
        BTreeMap::from([(
            Series::Bar {
                symbol: Symbol::new("BTCUSDT").unwrap(),
                field: BarField::Close,
                tf: None,
            },
            x,
        )])
    }

    fn t(h: i64) -> Timestamp {
        Timestamp::from_millis(h * 3_600_000)
    }

    #[test]
    fn comparisons_crossings_and_moves() {
        let mut e = Evaluator::new(parse("BTCUSDT.close < 100").unwrap());
        assert_eq!(e.evaluate(t(0), &close(99.0)), Outcome::True);
        assert_eq!(e.evaluate(t(1), &close(101.0)), Outcome::False);
        assert_eq!(e.evaluate(t(2), &Values::new()), Outcome::NoData);
        assert_eq!(e.margin(&close(104.0)), Some(4.0));

        let mut c = Evaluator::new(parse("crosses_below(BTCUSDT.close, 100)").unwrap());
        assert_eq!(c.evaluate(t(0), &close(101.0)), Outcome::False); // no previous value
        assert_eq!(c.evaluate(t(1), &close(99.0)), Outcome::True);
        assert_eq!(c.evaluate(t(2), &close(98.0)), Outcome::False);

        let mut m = Evaluator::new(parse("BTCUSDT.close rises_by 10 within 24h").unwrap());
        assert_eq!(m.evaluate(t(0), &close(100.0)), Outcome::False);
        assert_eq!(m.evaluate(t(12), &close(105.0)), Outcome::False);
        assert_eq!(m.evaluate(t(20), &close(111.0)), Outcome::True);
        // 100 is out of the window 30 h later; the low in it is 105.
        assert_eq!(m.evaluate(t(30), &close(112.0)), Outcome::False);
    }
}
