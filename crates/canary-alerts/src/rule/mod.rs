//! The rule language: a parser from text to [`Expr`], with errors that point at the column.
//!
//! ```text
//! rule    := or
//! or      := and ("or" and)*
//! and     := not ("and" not)*
//! not     := "not" not | compare
//! compare := operand (("<" | "<=" | ">" | ">=" | "==" | "!=") operand
//!                    | ("rises_by" | "falls_by") number "within" duration)?
//! operand := number | "(" rule ")" | series | call
//! series  := SYMBOL "." field ("." timeframe)?      BTCUSDT.close, BTCUSDT.rsi14.1d
//!          | "watch" "." ("support" | "resistance" | "trapdoor")
//!          | "analysis" "." "tag" "==" STRING                 a new analysis with the tag
//! call    := ("crosses" | "crosses_above" | "crosses_below") "(" operand "," operand ")"
//!          | ("risk" | "threat" | "pulse") "(" SYMBOL ")"
//!          | "outflow" "(" ENTITY "," DESTINATION "," duration ")"   BTC over the window
//!          | ("funding" | "funding_z") "(" MARKET ("," VENUE)? ")"
//!          | ("oi_change" | "liquidations" | "long_liquidations" | "short_liquidations")
//!            "(" MARKET "," duration ("," VENUE)? ")"
//!          | "equity_move" "(" TICKER ")" | "basket_move" "(" ")"
//!          | "correlation" "(" TICKER "," SESSIONS ")"
//! number  := 58000 | 58k | 1.5M | 2B | -3.5
//! ```
//!
//! Fields: `open`, `high`, `low`, `close`, `volume`, and indicators `rsiN`, `emaN`, `smaN`,
//! `atrN`. `watch.*` is the Watch of the rule's symbol (the first one the rule names).
//! `outflow(MARA, exchange, 24h)` is the BTC an entity's labelled addresses sent over the
//! trailing window to a kind of destination (exchange, otc, custodian, miner, unlabelled, any),
//! counting only transactions known by the evaluation time.
//!
//! Derivatives, each as known at the evaluation time (stale after three of the series'
//! intervals: no value then): `funding(BTCUSDT)` is the last settled funding rate in percent
//! per interval (0.01 = 0.01 %), `funding_z(BTCUSDT)` its z-score against the 90 days of
//! settlements before it; `oi_change(BTC, 24h)` the open interest's change over the window,
//! in percent; `liquidations(BTC, 24h)` the USD liquidated in bars that closed within the
//! window (`long_` and `short_` for one side). The venue is optional: without it, funding
//! reads the market's one funding series, open interest the all-venue total and liquidations
//! the series of the most venues; `all` or one venue name chooses.
//!
//! US markets, each as known at the evaluation time (a day's close from 16:00 New York; no
//! value once three more sessions have closed without one): `equity_move(MARA)` is a ticker's
//! last session move in percent (indices too: `equity_move(NDX)`), `basket_move()` the
//! equal-weighted move of the facts file's miners that traded in the last session, and
//! `correlation(NDX, 30)` the correlation of the rule's symbol, priced at the US closes, to
//! the ticker over the last 10 to 250 sessions.
//!
//! `lexer.rs` turns the text into tokens with their columns; `parser.rs` reads the grammar.

mod lexer;
mod parser;

use std::fmt;

use canary_model::{Symbol, Timeframe};
use lexer::{Lexer, Tok};
use parser::Parser;

/// A value a rule reads at each evaluation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Series {
    /// A bar field of a symbol on a timeframe (`None`: the rule's timeframe).
    Bar {
        symbol: Symbol,
        field: BarField,
        tf: Option<Timeframe>,
    },
    /// An indicator of a symbol's closes on a timeframe.
    Indicator {
        symbol: Symbol,
        kind: IndicatorKind,
        period: usize,
        tf: Option<Timeframe>,
    },
    /// A score of a symbol (daily).
    Score { symbol: Symbol, kind: ScoreKind },
    /// A level of the symbol's Watch.
    Watch { level: WatchLevel },
    /// Analyses stored with a tag since the previous close of the rule's timeframe.
    AnalysisTag { tag: String },
    /// BTC an entity sent over a trailing window, to one kind of destination (`None`: any).
    Outflow {
        entity: String,
        destination: Option<String>,
        window_ms: i64,
    },
    /// A derivatives reading of a market (boxed: a rule's every node carries a series, and
    /// the parser's and evaluator's frames grow with its largest variant).
    Derivative(Box<DerivTerm>),
    /// A US market reading (boxed, as a derivative's).
    Market(Box<MarketTerm>),
}

/// A US market reading: what, of which ticker (`None`: the miners' basket), over how many
/// sessions (a correlation).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MarketTerm {
    pub metric: MarketMetric,
    pub ticker: Option<String>,
    pub sessions: Option<usize>,
}

/// The market readings a rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MarketMetric {
    /// A ticker's last session move, percent.
    EquityMove,
    /// The miners' equal-weighted basket's last session move, percent.
    BasketMove,
    /// The rule symbol's correlation to a ticker over sessions.
    Correlation,
}

impl MarketMetric {
    /// Its name in a rule.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            MarketMetric::EquityMove => "equity_move",
            MarketMetric::BasketMove => "basket_move",
            MarketMetric::Correlation => "correlation",
        }
    }

    /// The reading named `name`, if one.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [
            MarketMetric::EquityMove,
            MarketMetric::BasketMove,
            MarketMetric::Correlation,
        ]
        .into_iter()
        .find(|m| m.name() == name)
    }
}

/// The fewest and most sessions a correlation may span.
pub const CORRELATION_SESSIONS: std::ops::RangeInclusive<usize> = 10..=250;

/// A derivatives reading: what, of which market, on which venue (`None`: the default
/// series), over which window (a change or a sum).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DerivTerm {
    pub metric: DerivMetric,
    pub market: String,
    pub venue: Option<String>,
    pub window_ms: Option<i64>,
}

/// The derivatives readings a rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DerivMetric {
    /// The last settled funding rate, percent per interval.
    Funding,
    /// Its z-score against the 90 days before.
    FundingZ,
    /// The open interest's change over the window, percent.
    OiChange,
    /// USD liquidated over the window, both sides.
    Liquidations,
    LongLiquidations,
    ShortLiquidations,
}

impl DerivMetric {
    /// Its name in a rule.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            DerivMetric::Funding => "funding",
            DerivMetric::FundingZ => "funding_z",
            DerivMetric::OiChange => "oi_change",
            DerivMetric::Liquidations => "liquidations",
            DerivMetric::LongLiquidations => "long_liquidations",
            DerivMetric::ShortLiquidations => "short_liquidations",
        }
    }

    /// Whether it takes a window.
    #[must_use]
    pub const fn windowed(self) -> bool {
        !matches!(self, DerivMetric::Funding | DerivMetric::FundingZ)
    }

    const ALL: [DerivMetric; 6] = [
        DerivMetric::Funding,
        DerivMetric::FundingZ,
        DerivMetric::OiChange,
        DerivMetric::Liquidations,
        DerivMetric::LongLiquidations,
        DerivMetric::ShortLiquidations,
    ];

    /// The reading named `name`, if one.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// The destination kinds `outflow` takes (`any` for all).
pub const DESTINATIONS: [&str; 6] = ["exchange", "otc", "custodian", "miner", "unlabelled", "any"];

/// The longest rule, in characters. Real rules are a few dozen to a few hundred; the bound
/// keeps a request from making the parser, the stored row and every error message large.
pub const MAX_RULE_CHARS: usize = 1_000;
/// The deepest nesting of parentheses, `not` and function calls. The parser and every walk
/// over a rule recurse once per level, so this bounds their stack (a rule nested 1,400 deep
/// used to overflow a server thread's stack and abort the process).
pub const MAX_DEPTH: usize = 32;
/// The most conditions (comparisons, crossings, moves) one rule joins with `and` / `or`.
/// A chain of `and`s is a tree as deep as it is long, so this bounds evaluation's recursion
/// too: no rule is deeper than `MAX_DEPTH + MAX_CONDITIONS` nodes.
pub const MAX_CONDITIONS: usize = 64;
/// The longest `within` window or `outflow` window: one year.
pub const MAX_WINDOW_MS: i64 = 366 * 86_400_000;
/// The largest number a rule may write (prices, volumes and outflows are far below it).
pub const MAX_NUMBER: f64 = 1e15;

/// Bar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BarField {
    Open,
    High,
    Low,
    Close,
    Volume,
}

/// Indicators a rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndicatorKind {
    Rsi,
    Ema,
    Sma,
    Atr,
}

/// Scores a rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScoreKind {
    Risk,
    Threat,
    Pulse,
}

/// Watch levels a rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WatchLevel {
    Support,
    Resistance,
    Trapdoor,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// Crossing directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cross {
    Any,
    Above,
    Below,
}

/// A parsed rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Series(Series),
    Compare(Box<Expr>, Cmp, Box<Expr>),
    /// `a crosses b` between the previous evaluation and this one.
    Crosses(Box<Expr>, Box<Expr>, Cross),
    /// The value rose (or, negative, fell) by at least `by` over `within_ms`.
    Moves {
        value: Box<Expr>,
        by: f64,
        within_ms: i64,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

/// A rule that does not parse: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// 1-based column of the offending character.
    pub column: usize,
    pub message: String,
    pub rule: String,
}

/// A word of the rule as an error names it: whole up to 24 characters, else its start.
fn short(w: &str) -> String {
    match w.char_indices().nth(24) {
        None => w.to_string(),
        Some((at, _)) => format!("{}…", &w[..at]),
    }
}

/// Another crate's error about `w`, with `w` shortened in it.
fn about(e: &impl fmt::Display, w: &str) -> String {
    e.to_string().replace(w, &short(w))
}

/// How much of a long rule an error quotes on each side of the column.
const EXCERPT: usize = 30;

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "rule, column {}: {}", self.column, self.message)?;
        // A long rule is quoted around the column only, so an error stays a line long.
        let chars: Vec<char> = self.rule.chars().collect();
        let at = self.column.saturating_sub(1).min(chars.len());
        let (from, to) = if chars.len() <= 2 * EXCERPT + 20 {
            (0, chars.len())
        } else {
            (at.saturating_sub(EXCERPT), (at + EXCERPT).min(chars.len()))
        };
        let head = if from > 0 { "…" } else { "" };
        let tail = if to < chars.len() { "…" } else { "" };
        let text: String = chars[from..to].iter().collect();
        writeln!(f, "  {head}{text}{tail}")?;
        let pad = at - from + head.chars().count();
        write!(f, "  {}^", " ".repeat(pad))
    }
}

/// A rule as quoted in a message: whole up to 80 characters, else its start and its length
/// (a rule stored before today's limits can be far longer than any message should be).
#[must_use]
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(80) {
        None => text.to_string(),
        Some((at, _)) => format!("{}… ({} characters)", &text[..at], text.chars().count()),
    }
}

/// Parse a rule.
///
/// # Errors
/// [`ParseError`] with the column of the first problem.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    // Bounded before anything reads it, so a huge rule costs no more than a short one.
    if let Some((at, _)) = text.char_indices().nth(MAX_RULE_CHARS) {
        let chars = text.chars().count();
        return Err(ParseError {
            column: MAX_RULE_CHARS + 1,
            message: format!(
                "the rule is {chars} characters long; at most {MAX_RULE_CHARS}: split it into several rules"
            ),
            rule: text[..at].to_string(),
        });
    }
    let toks = Lexer::new(text).tokens()?;
    let mut p = Parser::new(toks, text);
    let e = p.or()?;
    if p.peek() != &Tok::End {
        return Err(p.err("unexpected text after the rule (join conditions with `and` or `or`)"));
    }
    Ok(e)
}

impl Expr {
    /// Every series the rule reads.
    #[must_use]
    pub fn series(&self) -> Vec<&Series> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Series(s) = e {
                out.push(s);
            }
        });
        out
    }

    fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Compare(a, _, b) | Expr::Crosses(a, b, _) | Expr::And(a, b) | Expr::Or(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Moves { value, .. } => value.walk(f),
            Expr::Not(a) => a.walk(f),
            Expr::Num(_) | Expr::Series(_) => {}
        }
    }

    /// The symbol whose bar closes evaluate the rule: the first it names, or BTCUSDT for a
    /// rule that names none (one on outflows only).
    #[must_use]
    pub fn clock_symbol(&self) -> Symbol {
        self.symbol()
            .cloned()
            .unwrap_or_else(|| Symbol::new("BTCUSDT").expect("a valid symbol"))
    }

    /// The first symbol the rule names (the Watch's symbol).
    #[must_use]
    pub fn symbol(&self) -> Option<&Symbol> {
        self.series().into_iter().find_map(|s| match s {
            Series::Bar { symbol, .. }
            | Series::Indicator { symbol, .. }
            | Series::Score { symbol, .. } => Some(symbol),
            Series::Watch { .. }
            | Series::Outflow { .. }
            | Series::AnalysisTag { .. }
            | Series::Derivative(_)
            | Series::Market(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym() -> Symbol {
        Symbol::new("BTCUSDT").unwrap()
    }

    #[test]
    fn analysis_tags_parse() {
        assert_eq!(
            parse("analysis.tag == \"bitcoin-miners\"").unwrap(),
            Expr::Compare(
                Box::new(Expr::Series(Series::AnalysisTag {
                    tag: "bitcoin-miners".into()
                })),
                Cmp::Gt,
                Box::new(Expr::Num(0.0))
            )
        );
        assert!(
            parse("analysis.tag == \"open")
                .unwrap_err()
                .message
                .contains("does not end")
        );
        assert!(
            parse("analysis.tag == miners")
                .unwrap_err()
                .message
                .contains("in quotes")
        );
    }

    #[test]
    fn market_terms_parse_and_their_errors_point_at_the_column() {
        let e = parse("equity_move(mara) < -15 and correlation(NDX, 30) > 0.5").unwrap();
        let terms: Vec<&Series> = e.series().into_iter().collect();
        assert_eq!(
            terms,
            [
                &Series::Market(Box::new(MarketTerm {
                    metric: MarketMetric::EquityMove,
                    ticker: Some("MARA".into()),
                    sessions: None,
                })),
                &Series::Market(Box::new(MarketTerm {
                    metric: MarketMetric::Correlation,
                    ticker: Some("NDX".into()),
                    sessions: Some(30),
                })),
            ]
        );
        assert!(parse("basket_move() < -10").is_ok());
        for (rule, col, says) in [
            ("basket_move(MARA) < 1", 13, "`)`"),
            ("equity_move() < 1", 13, "ticker"),
            ("correlation(NDX) > 0.5", 16, "sessions"),
            ("correlation(NDX, 5) > 0.5", 18, "10 to 250"),
            ("correlation(NDX, 3x) > 0.5", 18, "10 to 250"),
        ] {
            let e = parse(rule).unwrap_err();
            assert!(e.message.contains(says), "{rule}: {}", e.message);
            assert_eq!(e.column, col, "{rule}: {}", e.message);
        }
    }

    #[test]
    fn derivatives_terms_parse_and_their_errors_point_at_the_column() {
        assert_eq!(
            parse("funding(btcusdt) > 0.03").unwrap(),
            Expr::Compare(
                Box::new(Expr::Series(Series::Derivative(Box::new(DerivTerm {
                    metric: DerivMetric::Funding,
                    market: "BTCUSDT".into(),
                    venue: None,
                    window_ms: None,
                })))),
                Cmp::Gt,
                Box::new(Expr::Num(0.03))
            )
        );
        let e = parse("liquidations(BTC, 24h, Bybit) > 500M").unwrap();
        assert_eq!(
            e.series(),
            [&Series::Derivative(Box::new(DerivTerm {
                metric: DerivMetric::Liquidations,
                market: "BTC".into(),
                venue: Some("bybit".into()),
                window_ms: Some(86_400_000),
            }))]
        );
        assert!(parse("oi_change(BTC, 7d) < -10 and funding_z(BTCUSDT, binance) > 2").is_ok());
        let e = parse("oi_change(BTC) < -10").unwrap_err();
        assert_eq!(e.column, 14, "{e}");
        assert!(e.message.contains("a window"), "{e}");
        let e = parse("liquidations(BTC, soon) > 1").unwrap_err();
        assert_eq!(e.column, 19, "{e}");
        let e = parse("funding(BTC USDT) > 1").unwrap_err();
        assert!(e.message.contains("`)`"), "{e}");
        let e = parse("funding(, binance) > 1").unwrap_err();
        assert!(
            e.message
                .contains("expected a market, e.g. funding(BTCUSDT)"),
            "{e}"
        );
    }

    #[test]
    fn outflows_parse_and_their_errors_point_at_the_column() {
        assert_eq!(
            parse("outflow(MARA, exchange, 24h) > 50").unwrap(),
            Expr::Compare(
                Box::new(Expr::Series(Series::Outflow {
                    entity: "MARA".into(),
                    destination: Some("exchange".into()),
                    window_ms: 86_400_000
                })),
                Cmp::Gt,
                Box::new(Expr::Num(50.0))
            )
        );
        let e = parse("outflow(MARA, bank, 24h) > 50").unwrap_err();
        assert_eq!(e.column, 15, "{e}");
        assert!(e.message.contains("unknown destination bank"));
        let e = parse("outflow(MARA, any, soon) > 50").unwrap_err();
        assert!(e.message.contains("window"), "{e}");
    }

    #[test]
    fn the_issue_examples_parse() {
        assert_eq!(
            parse("BTCUSDT.close < 58000").unwrap(),
            Expr::Compare(
                Box::new(Expr::Series(Series::Bar {
                    symbol: sym(),
                    field: BarField::Close,
                    tf: None
                })),
                Cmp::Lt,
                Box::new(Expr::Num(58_000.0))
            )
        );
        assert!(matches!(
            parse("crosses(BTCUSDT.close, watch.support)").unwrap(),
            Expr::Crosses(_, _, Cross::Any)
        ));
        let e = parse("BTCUSDT.rsi14.1d < 30").unwrap();
        assert_eq!(
            e.series(),
            [&Series::Indicator {
                symbol: sym(),
                kind: IndicatorKind::Rsi,
                period: 14,
                tf: Some(Timeframe::D1)
            }]
        );
        assert!(matches!(
            parse("threat(BTCUSDT) >= 4").unwrap(),
            Expr::Compare(_, Cmp::Ge, _)
        ));
        assert_eq!(
            parse("risk(BTCUSDT) rises_by 15 within 24h").unwrap(),
            Expr::Moves {
                value: Box::new(Expr::Series(Series::Score {
                    symbol: sym(),
                    kind: ScoreKind::Risk
                })),
                by: 15.0,
                within_ms: 86_400_000
            }
        );
        let both =
            parse("BTCUSDT.close < 58k and (threat(BTCUSDT) >= 4 or not BTCUSDT.rsi14.4h > 30)")
                .unwrap();
        assert!(matches!(both, Expr::And(_, _)));
        assert_eq!(both.symbol(), Some(&sym()));
        assert_eq!(parse("BTCUSDT.volume > 1.5M").unwrap().series().len(), 1);
    }

    #[test]
    fn errors_point_at_the_column() {
        let col = |r: &str| parse(r).unwrap_err().column;
        assert_eq!(col("BTCUSDT.close < "), 17);
        assert_eq!(col("BTCUSDT.clos < 1"), 9);
        assert_eq!(col("BTCUSDT.close < 1 2"), 19);
        assert_eq!(col("crosses(BTCUSDT.close 1)"), 23);
        assert_eq!(col("BTCUSDT.close # 1"), 15);
        assert_eq!(col("BTCUSDT.rsi.1d < 30"), 9);
        assert_eq!(col("BTCUSDT.close.7x < 3"), 15);
        assert_eq!(col("BTCUSDT.close"), 14);
        let e = parse("foo(BTCUSDT) > 1").unwrap_err();
        assert!(e.message.contains("unknown function foo"), "{e}");
        assert!(e.to_string().contains("\n  foo(BTCUSDT) > 1\n  ^"), "{e}");
    }

    /// The issue's payload: a comparison inside `n` parentheses.
    fn nested(n: usize) -> String {
        format!("{}BTCUSDT.close < 5{}", "(".repeat(n), ")".repeat(n))
    }

    #[test]
    fn a_rule_nested_1400_deep_is_refused_naming_the_limit_not_a_stack_overflow() {
        for n in [MAX_DEPTH + 1, 1_400] {
            let r = nested(n);
            if r.chars().count() > MAX_RULE_CHARS {
                // Refused for its length before the parser reads it.
                let e = parse(&r).unwrap_err();
                assert!(e.message.contains("characters long"), "{e}");
                continue;
            }
            let e = parse(&r).unwrap_err();
            assert!(e.message.contains("more than 32 levels"), "{e}");
            assert_eq!(e.column, MAX_DEPTH + 1, "the first parenthesis too many");
        }
        // `not` and calls nest too.
        let nots = format!("{}BTCUSDT.close < 5", "not ".repeat(MAX_DEPTH + 1));
        assert!(parse(&nots).unwrap_err().message.contains("levels"));
        // The deepest rule allowed parses.
        assert!(parse(&nested(MAX_DEPTH)).is_ok());
        assert!(parse(&format!("{}BTCUSDT.close < 5", "not ".repeat(MAX_DEPTH))).is_ok());
    }

    #[test]
    fn a_rule_of_ten_million_characters_is_refused_with_a_short_error() {
        let r = nested(5_000_000);
        let e = parse(&r).unwrap_err();
        assert!(
            e.message.contains("10000017 characters long; at most 1000"),
            "{e}"
        );
        assert!(
            e.to_string().len() < 300,
            "the error quotes an excerpt: {e}"
        );
        assert!(e.rule.len() <= MAX_RULE_CHARS + 1);
        // A long rule with an error far into it is quoted around the column.
        let long = format!("{} BTCUSDT.close # 1", "BTCUSDT.close < 1 and".repeat(40));
        let e = parse(&long).unwrap_err();
        let shown = e.to_string();
        assert!(shown.len() < 300, "{shown}");
        assert!(shown.contains("# 1\n"), "{shown}");
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(
            lines[2].chars().position(|c| c == '^'),
            lines[1].chars().position(|c| c == '#'),
            "the caret is under the column: {shown}"
        );
    }

    #[test]
    fn a_rule_joining_more_than_64_conditions_is_refused() {
        let chain = |n: usize| vec!["1 < 2"; n].join(" and ");
        assert!(parse(&chain(MAX_CONDITIONS)).is_ok());
        let e = parse(&chain(MAX_CONDITIONS + 1)).unwrap_err();
        assert!(e.message.contains("more than 64 conditions"), "{e}");
    }

    #[test]
    fn the_largest_rules_allowed_evaluate_on_a_small_stack() {
        use crate::eval::{Evaluator, Values};
        // As deep as allowed, and as long a chain (a tree as deep as it is long).
        let deep = format!("not {} and BTCUSDT.close > 1", nested(MAX_DEPTH - 1));
        let long = format!(
            "{} or crosses(BTCUSDT.close, 5)",
            vec!["1 < 2"; MAX_CONDITIONS - 1].join(" and ")
        );
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                for r in [deep, long] {
                    let e = parse(&r).unwrap();
                    let mut ev = Evaluator::new(e.clone());
                    for i in 0..3 {
                        let v: Values = e
                            .series()
                            .into_iter()
                            .map(|s| (s.clone(), f64::from(i)))
                            .collect();
                        ev.evaluate(canary_model::Timestamp::from_millis(i64::from(i)), &v);
                    }
                }
            })
            .unwrap();
        handle.join().expect("no stack overflow");
    }

    #[test]
    fn numbers_take_exponents_and_must_be_finite() {
        let rhs = |r: &str| match parse(r).unwrap() {
            Expr::Compare(_, _, b) => *b,
            e => panic!("{e:?}"),
        };
        assert_eq!(rhs("BTCUSDT.close < 1e5"), Expr::Num(1e5));
        assert_eq!(rhs("BTCUSDT.close < 2.5E-3"), Expr::Num(2.5e-3));
        assert_eq!(rhs("BTCUSDT.close < 1.5e3k"), Expr::Num(1.5e6));
        let e = parse("BTCUSDT.close < 1e400").unwrap_err();
        assert!(e.message.contains("out of range"), "{e}");
        assert_eq!(e.column, 17);
        assert!(parse("BTCUSDT.close < 2e15").is_err());
    }

    #[test]
    fn within_0h_and_negative_moves_are_refused() {
        let e = parse("BTCUSDT.close rises_by 5 within 0h").unwrap_err();
        assert!(e.message.contains("less than a minute"), "{e}");
        let e = parse("BTCUSDT.close rises_by 5 within 400d").unwrap_err();
        assert!(e.message.contains("at most 366d"), "{e}");
        let e = parse("BTCUSDT.close rises_by -5 within 1d").unwrap_err();
        assert!(e.message.contains("positive"), "{e}");
        assert!(parse("outflow(MARA, any, 0h) > 1").is_err());
        assert!(parse("BTCUSDT.close falls_by 5 within 90m").is_ok());
    }

    #[test]
    fn conditions_are_not_values_to_compare() {
        for r in [
            "(BTCUSDT.close < 1) < 2",
            "BTCUSDT.close < (BTCUSDT.close > 2)",
            "crosses((BTCUSDT.close < 1), 5)",
            "(BTCUSDT.close < 1) rises_by 5 within 1d",
        ] {
            let e = parse(r).unwrap_err();
            assert!(e.message.contains("condition"), "{r}: {e}");
        }
    }

    /// Found by the fuzz target: an unknown field of 340 characters was quoted whole in the
    /// message (each error stays a few short lines, whatever the rule holds).
    #[test]
    fn errors_name_long_words_by_their_start() {
        let long = "z".repeat(340);
        for r in [
            format!("BTCUSDT.rs{long} < 1"),
            format!("BTCUSDT.close.{long} < 1"),
            format!("{long}x.close < 1"),
            format!("{long}(BTCUSDT) < 1"),
            format!("risk({long}) > 1"),
            format!("outflow(MARA, {long}, 24h) > 1"),
            format!("BTCUSDT.close rises_by 5 within 1{long}"),
            format!("BTCUSDT.close < 1.2.3{long}"),
            format!("BTCUSDT.close < 4{}", "4".repeat(340)),
        ] {
            let e = parse(&r).unwrap_err();
            assert!(e.message.chars().count() < 200, "{e}");
            assert!(e.to_string().chars().count() < 400, "{e}");
        }
    }
}
