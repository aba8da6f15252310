//! The rule's tokens: numbers (with `k`, `M`, `B` and exponents), words, strings, operators
//! and punctuation, each with its 1-based column for errors.

use super::{MAX_NUMBER, ParseError, short};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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

pub(super) struct Lexer<'a> {
    chars: Vec<(usize, char)>,
    i: usize,
    text: &'a str,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `text`.
    pub(super) fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            chars: text.char_indices().collect(),
            i: 0,
            text,
        }
    }

    fn err(&self, column: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            column,
            message: message.into(),
            rule: self.text.to_string(),
        }
    }

    /// The tokens with their 1-based columns.
    pub(super) fn tokens(mut self) -> Result<Vec<(usize, Tok)>, ParseError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each token with the column it starts at; numbers with their suffixes read as values.
    #[test]
    fn tokens_carry_their_columns() {
        let toks = Lexer::new("BTCUSDT.close < 58k and é >= 1.5M")
            .tokens()
            .unwrap_err();
        assert_eq!(toks.column, 25, "{toks}");
        let toks = Lexer::new("BTCUSDT.close <= 58k, (\"x\")")
            .tokens()
            .unwrap();
        assert_eq!(
            toks,
            [
                (1, Tok::Ident("BTCUSDT".into())),
                (8, Tok::Dot),
                (9, Tok::Ident("close".into())),
                (15, Tok::Op("<=")),
                (18, Tok::Num(58_000.0)),
                (21, Tok::Comma),
                (23, Tok::LParen),
                (24, Tok::Str("x".into())),
                (27, Tok::RParen),
                (28, Tok::End),
            ]
        );
    }
}
