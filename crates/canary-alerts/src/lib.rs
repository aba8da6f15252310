//! Canary's alert rules, as pure functions: the rule language ([`rule`]), its evaluation at
//! each bar close ([`eval`]), and the alert state machine ([`state`]) with Grafana's and
//! Alertmanager's documented semantics. No I/O and no clock: the engine feeds it values and
//! times, the same way live and in a backtest.

pub mod eval;
pub mod rule;
pub mod state;
