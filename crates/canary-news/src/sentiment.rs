//! Sentiment of headlines and short texts: VADER's method (Hutto & Gilbert 2014, `MODELS.md`
//! §7.2) with its lexicon, and Canary's crypto-market terms (`lexicon/crypto.tsv`) taking
//! precedence over general-language meanings.
//!
//! For each word or phrase with a valence: an all-caps word in a mixed-case text is pushed
//! further from zero; boosters among the three words before it ("sharply", "slightly") add
//! or remove intensity, less the further away (and one right after it, as headlines write
//! "plunges sharply"); a negator among the three words before it
//! ("not", "never", "fails to", "despite") flips and damps it (× −0.74). Words before "but"
//! count half, words after it one and a half times. Exclamation marks (up to four) add
//! emphasis. The sum `x` is normalised to `x / sqrt(x² + 15)` in [−1, 1]; at or above
//! [`BULLISH_AT`] the label is bullish, at or below −[`BULLISH_AT`] bearish, else neutral.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use canary_model::Method;
use canary_model::news::{Label, Sentiment};

/// The method: VADER's rules over VADER's lexicon and Canary's crypto terms.
pub const SENTIMENT: Method = Method::new("news_sentiment_vader_crypto", 1);

/// The score from which a text is bullish (and from whose negative it is bearish).
pub const BULLISH_AT: f64 = 0.05;

const VADER_LEXICON: &str = include_str!("../lexicon/vader_lexicon.txt");
const CRYPTO_LEXICON: &str = include_str!("../lexicon/crypto.tsv");

const NEGATION_SCALAR: f64 = -0.74;
const BOOST: f64 = 0.293;
const CAPS_BOOST: f64 = 0.733;
const EXCLAMATION: f64 = 0.292;
const ALPHA: f64 = 15.0;

const NEGATORS: &[&str] = &[
    "not", "no", "never", "none", "nobody", "nothing", "nowhere", "neither", "nor", "without",
    "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "wont",
    "wouldnt", "shouldnt", "couldnt", "hasnt", "havent", "hadnt", "aint", "rarely", "seldom",
    "despite", "fail", "fails", "failed", "failing", "unable", "avoids", "avoid", "avoided",
    "averts", "averted", "shrugs", "shrug", "shrugged", "ignores",
];

const BOOSTERS_UP: &[&str] = &[
    "absolutely",
    "completely",
    "considerably",
    "deeply",
    "enormously",
    "entirely",
    "especially",
    "exceptionally",
    "extremely",
    "fully",
    "greatly",
    "highly",
    "hugely",
    "incredibly",
    "intensely",
    "massively",
    "most",
    "more",
    "particularly",
    "really",
    "remarkably",
    "sharply",
    "steeply",
    "so",
    "substantially",
    "totally",
    "tremendously",
    "utterly",
    "very",
    "heavily",
    "dramatically",
    "significantly",
    "wildly",
];

const BOOSTERS_DOWN: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "less",
    "little",
    "marginally",
    "modestly",
    "partly",
    "scarcely",
    "slightly",
    "somewhat",
    "mildly",
    "kinda",
    "sorta",
];

/// The merged lexicon: VADER's, then Canary's terms over it. Phrases are keyed by their
/// words joined with single spaces.
#[derive(Debug, Clone)]
pub struct Lexicon {
    terms: HashMap<String, f64>,
    /// The longest phrase, in words.
    max_words: usize,
}

/// A lexicon line that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}:{line}: {reason}")]
pub struct LexiconError {
    pub origin: String,
    pub line: usize,
    pub reason: String,
}

impl Lexicon {
    /// VADER's lexicon with Canary's crypto terms (shipped with the binary).
    ///
    /// # Panics
    /// Never: the shipped files are checked by a test.
    pub fn built_in() -> &'static Lexicon {
        static L: OnceLock<Lexicon> = OnceLock::new();
        L.get_or_init(|| {
            let mut l = Lexicon::empty();
            l.add_tsv(VADER_LEXICON, "vader_lexicon.txt")
                .expect("the shipped VADER lexicon reads");
            l.add_tsv(CRYPTO_LEXICON, "crypto.tsv")
                .expect("the shipped crypto lexicon reads");
            l
        })
    }

    /// A copy of the built-in lexicon with the user's terms over it.
    ///
    /// # Errors
    /// A line of `text` that is not `term<TAB>valence` with a valence in [−4, 4].
    pub fn with_extra(text: &str, origin: &str) -> Result<Lexicon, LexiconError> {
        let base = Lexicon::built_in();
        let mut l = Lexicon {
            terms: base.terms.clone(),
            max_words: base.max_words,
        };
        l.add_tsv(text, origin)?;
        Ok(l)
    }

    fn empty() -> Lexicon {
        Lexicon {
            terms: HashMap::new(),
            max_words: 1,
        }
    }

    /// Add `term<TAB>valence[<TAB>…]` lines (`#` comments and blank lines skipped).
    fn add_tsv(&mut self, text: &str, origin: &str) -> Result<(), LexiconError> {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |reason: String| LexiconError {
                origin: origin.to_string(),
                line: i + 1,
                reason,
            };
            let mut cols = line.split('\t');
            let term = cols.next().unwrap_or("").trim().to_lowercase();
            let value = cols
                .next()
                .ok_or_else(|| err("no valence: write `term<TAB>valence`".into()))?
                .trim();
            let v: f64 = value
                .parse()
                .map_err(|_| err(format!("valence {value:?} is not a number")))?;
            if term.is_empty() || !(-4.0..=4.0).contains(&v) {
                return Err(err(format!(
                    "term {term:?} with valence {v}: need a term and a valence in [-4, 4]"
                )));
            }
            let n = term.split_whitespace().count();
            self.max_words = self.max_words.max(n);
            self.terms
                .insert(term.split_whitespace().collect::<Vec<_>>().join(" "), v);
        }
        Ok(())
    }

    /// The valence of a word or phrase (lower case, words joined by single spaces).
    #[must_use]
    pub fn get(&self, term: &str) -> Option<f64> {
        self.terms.get(term).copied()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// A word of the text: as written (for caps), in lower case without surrounding punctuation
/// and with apostrophes dropped (for look-ups).
struct Token<'a> {
    raw: &'a str,
    lower: String,
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    text.split_whitespace()
        .filter_map(|w| {
            let raw = w.trim_matches(|c: char| !c.is_alphanumeric());
            if raw.is_empty() {
                return None;
            }
            let lower: String = raw
                .chars()
                .filter(|&c| c != '\'' && c != '’')
                .flat_map(char::to_lowercase)
                .collect();
            Some(Token { raw, lower })
        })
        .collect()
}

fn is_all_caps(w: &str) -> bool {
    w.chars().any(char::is_alphabetic) && !w.chars().any(char::is_lowercase)
}

fn is_negator(w: &str) -> bool {
    NEGATORS.contains(&w)
}

fn booster(w: &str) -> Option<f64> {
    if BOOSTERS_UP.contains(&w) {
        Some(BOOST)
    } else if BOOSTERS_DOWN.contains(&w) {
        Some(-BOOST)
    } else {
        None
    }
}

/// The sentiment of `text` with the built-in lexicon.
#[must_use]
pub fn sentiment(text: &str) -> Sentiment {
    sentiment_with(Lexicon::built_in(), text)
}

/// The sentiment of `text` with a given lexicon.
#[must_use]
pub fn sentiment_with(lex: &Lexicon, text: &str) -> Sentiment {
    let toks = tokens(text);
    let caps_words = toks.iter().filter(|t| is_all_caps(t.raw)).count();
    let alpha_words = toks
        .iter()
        .filter(|t| t.raw.chars().any(char::is_alphabetic))
        .count();
    let mixed_case = caps_words > 0 && caps_words < alpha_words;
    let but_at = toks.iter().position(|t| t.lower == "but");

    let mut drivers: Vec<(String, f64)> = Vec::new();
    let mut i = 0;
    let mut phrase = String::new();
    while i < toks.len() {
        // The longest phrase starting here that the lexicon knows.
        let mut found = None;
        for n in (1..=lex.max_words.min(toks.len() - i)).rev() {
            phrase.clear();
            for (k, t) in toks[i..i + n].iter().enumerate() {
                if k > 0 {
                    phrase.push(' ');
                }
                phrase.push_str(&t.lower);
            }
            if let Some(v) = lex.get(&phrase) {
                found = Some((n, v));
                break;
            }
        }
        let Some((n, mut v)) = found else {
            i += 1;
            continue;
        };
        let word = &toks[i];
        // A booster is a modifier, not a sentiment of its own (a negator keeps its own
        // valence: "fails" is negative, and flips what follows).
        if n == 1 && booster(&word.lower).is_some() {
            i += 1;
            continue;
        }
        if mixed_case && n == 1 && is_all_caps(word.raw) {
            v += CAPS_BOOST.copysign(v);
        }
        for back in 1..=3.min(i) {
            let prev = &toks[i - back];
            if let Some(b) = booster(&prev.lower) {
                let damp = match back {
                    1 => 1.0,
                    2 => 0.95,
                    _ => 0.9,
                };
                let s = if v < 0.0 { -b } else { b } * damp;
                v += s;
            }
        }
        // Headlines put the adverb after the verb too ("plunges sharply").
        if let Some(b) = toks.get(i + n).and_then(|t| booster(&t.lower)) {
            v += if v < 0.0 { -b } else { b };
        }
        let negated = (1..=3.min(i)).any(|back| is_negator(&toks[i - back].lower));
        if negated {
            v *= NEGATION_SCALAR;
        }
        if let Some(b) = but_at {
            if i < b {
                v *= 0.5;
            } else if i > b {
                v *= 1.5;
            }
        }
        let term = toks[i..i + n]
            .iter()
            .map(|t| t.raw)
            .collect::<Vec<_>>()
            .join(" ");
        drivers.push((if negated { format!("not {term}") } else { term }, v));
        i += n;
    }
    let mut x: f64 = drivers.iter().map(|d| d.1).sum();
    let bangs = text.chars().filter(|&c| c == '!').count().min(4);
    if x != 0.0 {
        let emphasis = bangs as f64 * EXCLAMATION;
        x += emphasis.copysign(x);
    }
    let score = (x / (x * x + ALPHA).sqrt()).clamp(-1.0, 1.0);
    let label = if score >= BULLISH_AT {
        Label::Bullish
    } else if score <= -BULLISH_AT {
        Label::Bearish
    } else {
        Label::Neutral
    };
    drivers.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    Sentiment {
        label,
        score,
        drivers,
    }
}

/// The sentiment of several items taken together: the mean of their scores, labelled with
/// the same thresholds.
#[must_use]
pub fn mean_sentiment(scores: &[f64]) -> Option<(Label, f64)> {
    if scores.is_empty() {
        return None;
    }
    let m = scores.iter().sum::<f64>() / scores.len() as f64;
    let label = if m >= BULLISH_AT {
        Label::Bullish
    } else if m <= -BULLISH_AT {
        Label::Bearish
    } else {
        Label::Neutral
    };
    Some((label, m))
}

/// Accuracy of the sentiment against labelled texts, with the confusion matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub n: usize,
    pub correct: usize,
    /// `confusion[truth][predicted]`, in the order bullish, bearish, neutral.
    pub confusion: [[usize; 3]; 3],
    /// The texts labelled wrongly: (text, truth, predicted, score).
    pub misses: Vec<(String, Label, Label, f64)>,
}

impl Evaluation {
    #[must_use]
    pub fn accuracy(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        self.correct as f64 / self.n as f64
    }

    /// The confusion matrix as text, truth in rows.
    #[must_use]
    pub fn matrix(&self) -> String {
        let names = ["bullish", "bearish", "neutral"];
        let mut s = format!(
            "{:<16}{:>9}{:>9}{:>9}\n",
            "truth \\ label", names[0], names[1], names[2]
        );
        for (i, row) in self.confusion.iter().enumerate() {
            let _ = writeln!(s, "{:<16}{:>9}{:>9}{:>9}", names[i], row[0], row[1], row[2]);
        }
        s
    }
}

const fn index(l: Label) -> usize {
    match l {
        Label::Bullish => 0,
        Label::Bearish => 1,
        Label::Neutral => 2,
    }
}

/// Label every text and compare with its truth.
#[must_use]
pub fn evaluate(lex: &Lexicon, labelled: &[(String, Label)]) -> Evaluation {
    let mut e = Evaluation {
        n: 0,
        correct: 0,
        confusion: [[0; 3]; 3],
        misses: Vec::new(),
    };
    for (text, truth) in labelled {
        let s = sentiment_with(lex, text);
        e.n += 1;
        e.confusion[index(*truth)][index(s.label)] += 1;
        if s.label == *truth {
            e.correct += 1;
        } else {
            e.misses.push((text.clone(), *truth, s.label, s.score));
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_lexicons_read() {
        let l = Lexicon::built_in();
        assert!(l.len() > 7_500, "{}", l.len());
        // Canary's terms override VADER's.
        assert_eq!(l.get("liquidation"), Some(-2.0));
        assert_eq!(l.get("short squeeze"), Some(1.6));
    }

    #[test]
    fn normalisation_matches_vader() {
        // MODELS.md §7.2: valences 1.5 + 2.3 = 3.8 give 0.7003.
        let x: f64 = 3.8;
        assert!((x / (x * x + ALPHA).sqrt() - 0.7003).abs() < 1e-4);
    }

    #[test]
    fn crypto_terms_decide() {
        let s = sentiment("Bitcoin crashes to $60K on $1.45B liquidations");
        assert_eq!(s.label, Label::Bearish, "{s:?}");
        assert!(s.drivers.iter().any(|d| d.0 == "liquidations"));
        assert_eq!(
            sentiment("Short squeeze sends bitcoin to a record high").label,
            Label::Bullish
        );
        assert_eq!(
            sentiment("Ether rallies as ETF inflows surge").label,
            Label::Bullish
        );
    }

    #[test]
    fn negation_and_boosters() {
        let plain = sentiment("Bitcoin rallies").score;
        let negated = sentiment("Bitcoin fails to rally").score;
        assert!(plain > 0.0 && negated < 0.0, "{plain} {negated}");
        let boosted = sentiment("Bitcoin plunges sharply").score;
        let damped = sentiment("Bitcoin plunges slightly").score;
        let base = sentiment("Bitcoin plunges").score;
        assert!(boosted < base && base < damped, "{boosted} {base} {damped}");
        let no_hack = sentiment("Exchange says no funds were stolen");
        assert!(no_hack.score > -0.05, "{no_hack:?}");
    }

    #[test]
    fn but_shifts_weight_to_the_second_clause() {
        let s = sentiment("Miners had a strong quarter but shares plunge");
        assert_eq!(s.label, Label::Bearish, "{s:?}");
    }

    #[test]
    fn caps_and_exclamation_emphasise() {
        assert!(sentiment("Bitcoin CRASHES").score < sentiment("Bitcoin crashes").score);
        assert!(sentiment("Bitcoin crashes!!").score < sentiment("Bitcoin crashes").score);
    }

    #[test]
    fn text_without_sentiment_is_neutral() {
        let s = sentiment("Strategy files quarterly report with the SEC");
        assert_eq!(s.label, Label::Neutral, "{s:?}");
        assert_eq!(sentiment("").label, Label::Neutral);
    }

    #[test]
    fn user_terms_extend_and_errors_name_the_line() {
        let l = Lexicon::with_extra("# mine\nmoon\t2.5\n", "extra.tsv").unwrap();
        assert_eq!(sentiment_with(&l, "BTC to the moon").label, Label::Bullish);
        let e = Lexicon::with_extra("ok\t1\nbad\tx\n", "extra.tsv").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().starts_with("extra.tsv:2:"), "{e}");
        assert!(Lexicon::with_extra("far\t9\n", "e").is_err());
    }
}
