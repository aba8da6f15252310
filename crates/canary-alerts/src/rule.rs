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
//! number  := 58000 | 58k | 1.5M | 2B | -3.5
//! ```
//!
//! Fields: `open`, `high`, `low`, `close`, `volume`, and indicators `rsiN`, `emaN`, `smaN`,
//! `atrN`. `watch.*` is the Watch of the rule's symbol (the first one the rule names).
//! `outflow(MARA, exchange, 24h)` is the BTC an entity's labelled addresses sent over the
//! trailing window to a kind of destination (exchange, otc, custodian, miner, unlabelled, any),
//! counting only transactions known by the evaluation time.

use std::fmt;

use canary_model::{Symbol, Timeframe};

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

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    /// A double-quoted string.
    Str(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    Dot,
    End,
}

struct Lexer<'a> {
    chars: Vec<(usize, char)>,
    i: usize,
    text: &'a str,
}

impl Lexer<'_> {
    fn err(&self, column: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            column,
            message: message.into(),
            rule: self.text.to_string(),
        }
    }

    /// The tokens with their 1-based columns.
    fn tokens(mut self) -> Result<Vec<(usize, Tok)>, ParseError> {
        let mut out = Vec::new();
        while self.i < self.chars.len() {
            let (at, c) = self.chars[self.i];
            let col = self.text[..at].chars().count() + 1;
            if c.is_whitespace() {
                self.i += 1;
                continue;
            }
            let two: String = self.chars[self.i..].iter().take(2).map(|x| x.1).collect();
            let op = match two.as_str() {
                "<=" => Some("<="),
                ">=" => Some(">="),
                "==" => Some("=="),
                "!=" => Some("!="),
                _ => None,
            };
            if let Some(op) = op {
                out.push((col, Tok::Op(op)));
                self.i += 2;
                continue;
            }
            match c {
                '<' => out.push((col, Tok::Op("<"))),
                '>' => out.push((col, Tok::Op(">"))),
                '(' => out.push((col, Tok::LParen)),
                ')' => out.push((col, Tok::RParen)),
                ',' => out.push((col, Tok::Comma)),
                '.' => out.push((col, Tok::Dot)),
                '"' => {
                    let start = self.i + 1;
                    let Some(len) = self.chars[start..].iter().position(|x| x.1 == '"') else {
                        return Err(self.err(col, "a string that does not end: close it with \""));
                    };
                    let w: String = self.chars[start..start + len].iter().map(|x| x.1).collect();
                    out.push((col, Tok::Str(w)));
                    self.i = start + len + 1;
                    continue;
                }
                _ if c.is_ascii_digit() || (c == '-' && self.peek_digit()) => {
                    let start = self.i;
                    self.i += 1;
                    while self.i < self.chars.len()
                        && (self.chars[self.i].1.is_ascii_digit() || self.chars[self.i].1 == '.')
                    {
                        // A dot followed by a letter ends the number (`1d`, not `1.d`).
                        if self.chars[self.i].1 == '.'
                            && !self
                                .chars
                                .get(self.i + 1)
                                .is_some_and(|x| x.1.is_ascii_digit())
                        {
                            break;
                        }
                        self.i += 1;
                    }
                    // An exponent: 1e5, 2.5E-3 (an `e` not followed by digits is a word).
                    let exp_digits = |k: usize| {
                        self.chars.get(k).is_some_and(|x| x.1.is_ascii_digit())
                            || (self.chars.get(k).is_some_and(|x| x.1 == '-' || x.1 == '+')
                                && self.chars.get(k + 1).is_some_and(|x| x.1.is_ascii_digit()))
                    };
                    if self
                        .chars
                        .get(self.i)
                        .is_some_and(|x| x.1 == 'e' || x.1 == 'E')
                        && exp_digits(self.i + 1)
                    {
                        self.i += 2;
                        while self.chars.get(self.i).is_some_and(|x| x.1.is_ascii_digit()) {
                            self.i += 1;
                        }
                    }
                    let digits: String = self.chars[start..self.i].iter().map(|x| x.1).collect();
                    let mut x: f64 = digits.parse().map_err(|_| {
                        self.err(col, format!("{:?} is not a number", short(&digits)))
                    })?;
                    // A magnitude suffix, or a unit that makes the token a word (`1d`, `24h`).
                    let mut word = String::new();
                    while self.i < self.chars.len() && self.chars[self.i].1.is_ascii_alphanumeric()
                    {
                        word.push(self.chars[self.i].1);
                        self.i += 1;
                    }
                    match word.as_str() {
                        "" => {}
                        "k" | "K" => x *= 1e3,
                        "M" => x *= 1e6,
                        "B" => x *= 1e9,
                        _ => {
                            out.push((col, Tok::Ident(format!("{digits}{word}"))));
                            continue;
                        }
                    }
                    if !x.is_finite() || x.abs() > MAX_NUMBER {
                        return Err(self.err(
                            col,
                            format!(
                                "{} is out of range: numbers are at most 1e15 in size",
                                short(&format!("{digits}{word}"))
                            ),
                        ));
                    }
                    out.push((col, Tok::Num(x)));
                    continue;
                }
                _ if c.is_ascii_alphabetic() || c == '_' => {
                    let start = self.i;
                    while self.i < self.chars.len()
                        && (self.chars[self.i].1.is_ascii_alphanumeric()
                            || self.chars[self.i].1 == '_'
                            || self.chars[self.i].1 == ':')
                    {
                        self.i += 1;
                    }
                    let w: String = self.chars[start..self.i].iter().map(|x| x.1).collect();
                    out.push((col, Tok::Ident(w)));
                    continue;
                }
                _ => return Err(self.err(col, format!("unexpected {c:?}"))),
            }
            self.i += 1;
        }
        let end = self.text.chars().count() + 1;
        out.push((end, Tok::End));
        Ok(out)
    }

    fn peek_digit(&self) -> bool {
        self.chars
            .get(self.i + 1)
            .is_some_and(|x| x.1.is_ascii_digit())
    }
}

/// Parse a window: `90m`, `24h`, `7d`, longer than nothing and at most [`MAX_WINDOW_MS`].
fn duration_ms(w: &str) -> Result<i64, String> {
    let what = || {
        format!(
            "{} is not a window: write a number and m, h or d (e.g. 24h, 7d)",
            short(w)
        )
    };
    let at = w.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(what)?;
    let (n, unit) = w.split_at(at);
    let n: f64 = n.parse().map_err(|_| what())?;
    let ms = match unit {
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return Err(what()),
    };
    let x = n * ms;
    if x < 60_000.0 {
        return Err(format!(
            "{}: a window of less than a minute never holds a change",
            short(w)
        ));
    }
    #[allow(clippy::cast_precision_loss)]
    if x > MAX_WINDOW_MS as f64 {
        return Err(format!("{}: a window is at most 366d", short(w)));
    }
    #[allow(clippy::cast_possible_truncation)]
    Ok(x.round() as i64)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    i: usize,
    /// Where the last `next` started, for `back`.
    prev: usize,
    text: String,
    /// How deep the parser is in parentheses, `not` and calls.
    depth: usize,
    /// Conditions read so far.
    conditions: usize,
}

fn is_value(e: &Expr) -> bool {
    matches!(e, Expr::Num(_) | Expr::Series(_))
}

impl Parser {
    fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            column: self.toks[self.i].0,
            message: message.into(),
            rule: self.text.clone(),
        }
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.i].1
    }

    fn next(&mut self) -> Tok {
        let t = self.toks[self.i].1.clone();
        self.prev = self.i;
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
        t
    }

    /// Undo the last `next` (to point an error at the token it read).
    fn back(&mut self) {
        self.i = self.prev;
    }

    fn word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(x) if x == w)
    }

    fn expect(&mut self, t: &Tok, what: &str) -> Result<(), ParseError> {
        if self.peek() == t {
            self.next();
            Ok(())
        } else {
            Err(self.err(format!("expected {what}")))
        }
    }

    /// One level deeper (a parenthesis, a `not`, a call), refused past [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(format!(
                "the rule nests more than {MAX_DEPTH} levels deep (parentheses, not, function calls): simplify it"
            )));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// One more condition, refused past [`MAX_CONDITIONS`].
    fn condition(&mut self) -> Result<(), ParseError> {
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return Err(self.err(format!(
                "the rule joins more than {MAX_CONDITIONS} conditions: split it into several rules"
            )));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.and()?;
        while self.word("or") {
            self.next();
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.not()?;
        while self.word("and") {
            self.next();
            e = Expr::And(Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.word("not") {
            self.enter()?;
            self.next();
            let e = Expr::Not(Box::new(self.not()?));
            self.leave();
            return Ok(e);
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Expr, ParseError> {
        let start = self.i;
        let a = self.operand()?;
        if let Tok::Op(op) = self.peek().clone() {
            if !is_value(&a) {
                self.i = start;
                return Err(self.err(
                    "a condition is not a value to compare: compare a number, a series or a score",
                ));
            }
            self.condition()?;
            self.next();
            let b_at = self.i;
            let b = self.operand()?;
            if !is_value(&b) {
                self.i = b_at;
                return Err(self.err(
                    "a condition is not a value to compare: compare a number, a series or a score",
                ));
            }
            let cmp = match op {
                "<" => Cmp::Lt,
                "<=" => Cmp::Le,
                ">" => Cmp::Gt,
                ">=" => Cmp::Ge,
                "==" => Cmp::Eq,
                _ => Cmp::Ne,
            };
            return Ok(Expr::Compare(Box::new(a), cmp, Box::new(b)));
        }
        if self.word("rises_by") || self.word("falls_by") {
            if !is_value(&a) {
                return Err(self.err("rises_by / falls_by follow a value, not a condition"));
            }
            self.condition()?;
            let sign = if self.word("rises_by") { 1.0 } else { -1.0 };
            self.next();
            let Tok::Num(by) = self.next() else {
                self.back();
                return Err(self.err("expected a number after rises_by / falls_by"));
            };
            if by <= 0.0 {
                self.back();
                return Err(self.err(
                    "rises_by / falls_by take a positive amount (falls_by 5, not rises_by -5)",
                ));
            }
            if !self.word("within") {
                return Err(self.err("expected `within DURATION` (e.g. within 24h)"));
            }
            self.next();
            let within = match self.peek().clone() {
                Tok::Ident(w) => duration_ms(&w),
                _ => Err("expected a duration such as 24h or 7d".into()),
            }
            .map_err(|m| self.err(m))?;
            self.next();
            return Ok(Expr::Moves {
                value: Box::new(a),
                by: sign * by,
                within_ms: within,
            });
        }
        if matches!(a, Expr::Num(_) | Expr::Series(_)) {
            return Err(self.err("a value alone is no condition: compare it (e.g. `< 58000`)"));
        }
        Ok(a)
    }

    fn operand(&mut self) -> Result<Expr, ParseError> {
        match self.next() {
            Tok::Num(x) => Ok(Expr::Num(x)),
            Tok::LParen => {
                self.back();
                self.enter()?;
                self.next();
                let e = self.or()?;
                self.expect(&Tok::RParen, "`)`")?;
                self.leave();
                Ok(e)
            }
            Tok::Ident(w) if self.peek() == &Tok::LParen => {
                self.enter()?;
                let e = self.call(&w)?;
                self.leave();
                Ok(e)
            }
            Tok::Ident(w) => self.series(&w),
            _ => {
                self.back();
                Err(self.err("expected a number, a series (BTCUSDT.close), or a function"))
            }
        }
    }

    fn call(&mut self, name: &str) -> Result<Expr, ParseError> {
        let name_at = self.i - 1;
        self.next(); // (
        let cross = match name {
            "crosses" => Some(Cross::Any),
            "crosses_above" => Some(Cross::Above),
            "crosses_below" => Some(Cross::Below),
            _ => None,
        };
        if let Some(c) = cross {
            self.condition()?;
            let a_at = self.i;
            let a = self.operand()?;
            self.expect(&Tok::Comma, "`,` between the two values")?;
            let b_at = self.i;
            let b = self.operand()?;
            for (e, at) in [(&a, a_at), (&b, b_at)] {
                if !is_value(e) {
                    self.i = at;
                    return Err(self.err("crossings are between two values, not conditions"));
                }
            }
            self.expect(&Tok::RParen, "`)`")?;
            return Ok(Expr::Crosses(Box::new(a), Box::new(b), c));
        }
        if name == "outflow" {
            return self.outflow();
        }
        let kind = match name {
            "risk" => ScoreKind::Risk,
            "threat" => ScoreKind::Threat,
            "pulse" => ScoreKind::Pulse,
            _ => {
                self.i = name_at;
                return Err(self.err(format!(
                    "unknown function {}: use crosses, crosses_above, crosses_below, risk, threat, pulse or outflow",
                    short(name)
                )));
            }
        };
        let symbol = match self.next() {
            Tok::Ident(s) => Symbol::new(&s).map_err(|e| self.err(about(&e, &s)))?,
            _ => {
                self.back();
                return Err(self.err("expected a symbol, e.g. risk(BTCUSDT)"));
            }
        };
        self.expect(&Tok::RParen, "`)`")?;
        Ok(Expr::Series(Series::Score { symbol, kind }))
    }

    /// `outflow(ENTITY, DESTINATION, WINDOW)`, after its `(`.
    fn outflow(&mut self) -> Result<Expr, ParseError> {
        let Tok::Ident(entity) = self.next() else {
            self.back();
            return Err(self.err("expected an entity, e.g. outflow(MARA, exchange, 24h)"));
        };
        self.expect(&Tok::Comma, "`,` and a destination")?;
        let Tok::Ident(dest) = self.next() else {
            self.back();
            return Err(self.err(
                "expected a destination: exchange, otc, custodian, miner, unlabelled or any",
            ));
        };
        if !DESTINATIONS.contains(&dest.as_str()) {
            self.back();
            return Err(self.err(format!(
                "unknown destination {}: use exchange, otc, custodian, miner, unlabelled or any",
                short(&dest)
            )));
        }
        self.expect(&Tok::Comma, "`,` and a window (e.g. 24h)")?;
        let window_ms = match self.next() {
            Tok::Ident(w) => duration_ms(&w),
            _ => Err("expected a window such as 24h or 7d".into()),
        }
        .map_err(|m| {
            self.back();
            self.err(m)
        })?;
        self.expect(&Tok::RParen, "`)`")?;
        Ok(Expr::Series(Series::Outflow {
            entity,
            destination: (dest != "any").then_some(dest),
            window_ms,
        }))
    }

    fn series(&mut self, head: &str) -> Result<Expr, ParseError> {
        let at = self.i - 1;
        self.expect(&Tok::Dot, "`.` and a field (e.g. BTCUSDT.close)")?;
        let Tok::Ident(field) = self.next() else {
            self.back();
            return Err(self.err("expected a field after `.`"));
        };
        if head == "analysis" {
            if field != "tag" {
                self.back();
                return Err(self.err("analysis has tag: analysis.tag == \"bitcoin-miners\""));
            }
            if !matches!(self.next(), Tok::Op("==")) {
                self.back();
                return Err(self.err("expected == and a tag in quotes"));
            }
            let Tok::Str(tag) = self.next() else {
                self.back();
                return Err(self.err("expected a tag in quotes, e.g. \"bitcoin-miners\""));
            };
            self.condition()?;
            // True when an analysis with the tag was stored since the previous close.
            return Ok(Expr::Compare(
                Box::new(Expr::Series(Series::AnalysisTag { tag })),
                Cmp::Gt,
                Box::new(Expr::Num(0.0)),
            ));
        }
        if head == "watch" {
            let level = match field.as_str() {
                "support" => WatchLevel::Support,
                "resistance" => WatchLevel::Resistance,
                "trapdoor" => WatchLevel::Trapdoor,
                _ => {
                    self.back();
                    return Err(self.err("watch has support, resistance and trapdoor"));
                }
            };
            return Ok(Expr::Series(Series::Watch { level }));
        }
        let symbol = Symbol::new(head).map_err(|e| ParseError {
            column: self.toks[at].0,
            message: about(&e, head),
            rule: self.text.clone(),
        })?;
        let tf = if self.peek() == &Tok::Dot {
            self.next();
            match self.next() {
                Tok::Ident(t) => Some(t.parse::<Timeframe>().map_err(|e| {
                    self.back();
                    self.err(about(&e, &t))
                })?),
                _ => {
                    self.back();
                    return Err(self.err("expected a timeframe after `.` (e.g. 1d, 4h)"));
                }
            }
        } else {
            None
        };
        let bar = |f| {
            Expr::Series(Series::Bar {
                symbol: symbol.clone(),
                field: f,
                tf,
            })
        };
        Ok(match field.as_str() {
            "open" => bar(BarField::Open),
            "high" => bar(BarField::High),
            "low" => bar(BarField::Low),
            "close" => bar(BarField::Close),
            "volume" => bar(BarField::Volume),
            f => {
                let (name, digits) =
                    f.split_at(f.find(|c: char| c.is_ascii_digit()).unwrap_or(f.len()));
                let kind = match name {
                    "rsi" => IndicatorKind::Rsi,
                    "ema" => IndicatorKind::Ema,
                    "sma" => IndicatorKind::Sma,
                    "atr" => IndicatorKind::Atr,
                    _ => {
                        return Err(ParseError {
                            column: self.toks[at].0 + head.chars().count() + 1,
                            message: format!(
                                "unknown field {}: use open, high, low, close, volume, rsiN, emaN, smaN or atrN",
                                short(f)
                            ),
                            rule: self.text.clone(),
                        });
                    }
                };
                let period: usize = digits
                    .parse()
                    .ok()
                    .filter(|p| (2..=1000).contains(p))
                    .ok_or_else(|| ParseError {
                        column: self.toks[at].0 + head.chars().count() + 1,
                        message: format!(
                            "{}: give the period, 2 to 1000 (e.g. {}14)",
                            short(f),
                            short(name)
                        ),
                        rule: self.text.clone(),
                    })?;
                Expr::Series(Series::Indicator {
                    symbol,
                    kind,
                    period,
                    tf,
                })
            }
        })
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
    let lexer = Lexer {
        chars: text.char_indices().collect(),
        i: 0,
        text,
    };
    let toks = lexer.tokens()?;
    let mut p = Parser {
        toks,
        i: 0,
        prev: 0,
        text: text.to_string(),
        depth: 0,
        conditions: 0,
    };
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
            Series::Watch { .. } | Series::Outflow { .. } | Series::AnalysisTag { .. } => None,
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
