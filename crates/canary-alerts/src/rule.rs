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

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "rule, column {}: {}", self.column, self.message)?;
        writeln!(f, "  {}", self.rule)?;
        write!(f, "  {}^", " ".repeat(self.column.saturating_sub(1)))
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
                    let digits: String = self.chars[start..self.i].iter().map(|x| x.1).collect();
                    let mut x: f64 = digits
                        .parse()
                        .map_err(|_| self.err(col, format!("{digits:?} is not a number")))?;
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

/// Parse a duration: `90m`, `24h`, `7d`.
fn duration_ms(w: &str) -> Option<i64> {
    let (n, unit) = w.split_at(w.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = n.parse().ok()?;
    let ms = match unit {
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    #[allow(clippy::cast_possible_truncation)]
    Some((n * ms).round() as i64)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    i: usize,
    /// Where the last `next` started, for `back`.
    prev: usize,
    text: String,
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
            self.next();
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Expr, ParseError> {
        let a = self.operand()?;
        if let Tok::Op(op) = self.peek().clone() {
            self.next();
            let b = self.operand()?;
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
            let sign = if self.word("rises_by") { 1.0 } else { -1.0 };
            self.next();
            let Tok::Num(by) = self.next() else {
                self.back();
                return Err(self.err("expected a number after rises_by / falls_by"));
            };
            if !self.word("within") {
                return Err(self.err("expected `within DURATION` (e.g. within 24h)"));
            }
            self.next();
            let within = match self.peek().clone() {
                Tok::Ident(w) => duration_ms(&w),
                _ => None,
            }
            .ok_or_else(|| self.err("expected a duration such as 24h or 7d"))?;
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
                let e = self.or()?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(e)
            }
            Tok::Ident(w) if self.peek() == &Tok::LParen => self.call(&w),
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
            let a = self.operand()?;
            self.expect(&Tok::Comma, "`,` between the two values")?;
            let b = self.operand()?;
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
                    "unknown function {name}: use crosses, crosses_above, crosses_below, risk, threat, pulse or outflow"
                )));
            }
        };
        let symbol = match self.next() {
            Tok::Ident(s) => Symbol::new(&s).map_err(|e| self.err(e.to_string()))?,
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
                "unknown destination {dest}: use exchange, otc, custodian, miner, unlabelled or any"
            )));
        }
        self.expect(&Tok::Comma, "`,` and a window (e.g. 24h)")?;
        let window_ms = match self.next() {
            Tok::Ident(w) => duration_ms(&w).filter(|ms| *ms > 0),
            _ => None,
        }
        .ok_or_else(|| {
            self.back();
            self.err("expected a window such as 24h or 7d")
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
            message: e.to_string(),
            rule: self.text.clone(),
        })?;
        let tf = if self.peek() == &Tok::Dot {
            self.next();
            match self.next() {
                Tok::Ident(t) => Some(t.parse::<Timeframe>().map_err(|e| {
                    self.back();
                    self.err(e.to_string())
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
                                "unknown field {f}: use open, high, low, close, volume, rsiN, emaN, smaN or atrN"
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
                        message: format!("{f}: give the period, 2 to 1000 (e.g. {name}14)"),
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

/// Parse a rule.
///
/// # Errors
/// [`ParseError`] with the column of the first problem.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
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
}
