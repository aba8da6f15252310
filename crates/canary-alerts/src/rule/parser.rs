//! The rule's grammar (written out in `rule`'s documentation) by recursive descent over the
//! tokens, bounded in depth and in conditions, each error pointing at the token it is about.

use canary_model::{Symbol, Timeframe};

use super::lexer::Tok;
use super::{
    BarField, Cmp, Cross, DESTINATIONS, Expr, IndicatorKind, MAX_CONDITIONS, MAX_DEPTH,
    MAX_WINDOW_MS, ParseError, ScoreKind, Series, WatchLevel, about, short,
};

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
    if x > MAX_WINDOW_MS as f64 {
        return Err(format!("{}: a window is at most 366d", short(w)));
    }
    #[expect(clippy::cast_possible_truncation)]
    Ok(x.round() as i64)
}

pub(super) struct Parser {
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
    /// A parser at the first of `toks`, the tokens of `text`.
    pub(super) fn new(toks: Vec<(usize, Tok)>, text: &str) -> Parser {
        Parser {
            toks,
            i: 0,
            prev: 0,
            text: text.to_string(),
            depth: 0,
            conditions: 0,
        }
    }

    pub(super) fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            column: self.toks[self.i].0,
            message: message.into(),
            rule: self.text.clone(),
        }
    }

    pub(super) fn peek(&self) -> &Tok {
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

    pub(super) fn or(&mut self) -> Result<Expr, ParseError> {
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
        if let Some(metric) = super::DerivMetric::from_name(name) {
            return self.derivative(metric);
        }
        if let Some(metric) = super::MarketMetric::from_name(name) {
            return self.market(metric);
        }
        let kind = match name {
            "risk" => ScoreKind::Risk,
            "threat" => ScoreKind::Threat,
            "pulse" => ScoreKind::Pulse,
            _ => {
                self.i = name_at;
                return Err(self.err(format!(
                    "unknown function {}: use crosses[_above|_below], risk, threat, pulse, outflow, funding[_z], oi_change, [long_|short_]liquidations, equity_move, basket_move, correlation",
                    short(name)
                )));
            }
        };
        let symbol = if let Tok::Ident(s) = self.next() {
            Symbol::new(&s).map_err(|e| self.err(about(&e, &s)))?
        } else {
            self.back();
            return Err(self.err("expected a symbol, e.g. risk(BTCUSDT)"));
        };
        self.expect(&Tok::RParen, "`)`")?;
        Ok(Expr::Series(Series::Score { symbol, kind }))
    }

    /// `funding(MARKET[, VENUE])`, `oi_change(MARKET, WINDOW[, VENUE])` and the like, after
    /// their `(`. Never inlined into `call`, whose frame is on every level of a nested rule.
    #[inline(never)]
    fn derivative(&mut self, metric: super::DerivMetric) -> Result<Expr, ParseError> {
        let example = if metric.windowed() {
            format!("{}(BTC, 24h)", metric.name())
        } else {
            format!("{}(BTCUSDT)", metric.name())
        };
        let market = match self.next() {
            Tok::Ident(m)
                if !m.is_empty()
                    && m.len() <= 32
                    && m.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')) =>
            {
                m.to_ascii_uppercase()
            }
            _ => {
                self.back();
                return Err(self.err(format!("expected a market, e.g. {example}")));
            }
        };
        let mut window_ms = None;
        if metric.windowed() {
            self.expect(&Tok::Comma, "`,` and a window (e.g. 24h)")?;
            window_ms = Some(
                match self.next() {
                    Tok::Ident(w) => duration_ms(&w),
                    _ => Err("expected a window such as 24h or 7d".into()),
                }
                .map_err(|m| {
                    self.back();
                    self.err(m)
                })?,
            );
        }
        let mut venue = None;
        if self.peek() == &Tok::Comma {
            self.next();
            match self.next() {
                Tok::Ident(v)
                    if !v.is_empty()
                        && v.len() <= 32
                        && v.chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) =>
                {
                    venue = Some(v.to_ascii_lowercase());
                }
                _ => {
                    self.back();
                    return Err(self.err("expected a venue (binance, bybit, okx) or all"));
                }
            }
        }
        self.expect(&Tok::RParen, "`)`")?;
        Ok(Expr::Series(Series::Derivative(Box::new(
            super::DerivTerm {
                metric,
                market,
                venue,
                window_ms,
            },
        ))))
    }

    /// `equity_move(TICKER)`, `basket_move()`, `correlation(TICKER, SESSIONS)`, after their
    /// `(`. Never inlined, as [`Parser::derivative`].
    #[inline(never)]
    fn market(&mut self, metric: super::MarketMetric) -> Result<Expr, ParseError> {
        use super::MarketMetric;
        let mut ticker = None;
        let mut sessions = None;
        if metric != MarketMetric::BasketMove {
            match self.next() {
                Tok::Ident(t)
                    if t.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
                        && t.len() <= 16
                        && t.chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) =>
                {
                    ticker = Some(t.to_ascii_uppercase());
                }
                _ => {
                    self.back();
                    return Err(self.err(format!(
                        "expected a ticker, e.g. {}(NDX{})",
                        metric.name(),
                        if metric == MarketMetric::Correlation {
                            ", 30"
                        } else {
                            ""
                        }
                    )));
                }
            }
        }
        if metric == MarketMetric::Correlation {
            self.expect(&Tok::Comma, "`,` and a number of sessions (e.g. 30)")?;
            // Whole numbers within the range only; the range is small, so a search is exact.
            let n = match self.next() {
                Tok::Num(x) => super::CORRELATION_SESSIONS.clone().find(|&n| n as f64 == x),
                _ => None,
            };
            if n.is_none() {
                self.back();
                return Err(self.err("expected a number of sessions from 10 to 250"));
            }
            sessions = n;
        }
        self.expect(&Tok::RParen, "`)`")?;
        Ok(Expr::Series(Series::Market(Box::new(super::MarketTerm {
            metric,
            ticker,
            sessions,
        }))))
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
            if let Tok::Ident(t) = self.next() {
                Some(t.parse::<Timeframe>().map_err(|e| {
                    self.back();
                    self.err(about(&e, &t))
                })?)
            } else {
                self.back();
                return Err(self.err("expected a timeframe after `.` (e.g. 1d, 4h)"));
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
