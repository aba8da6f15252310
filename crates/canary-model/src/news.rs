//! News: [`NewsItem`] (one article or headline as first seen), the [`Sentiment`] read from it,
//! its [`Tag`]s, and [`Story`] (items about one event).
//!
//! An item is knowable from `available_at`: the time Canary first saw it, or its publication
//! time when that is earlier and trustworthy (a headline file that dates its rows is taken at
//! its word, to the end of the stated day when only a date is given). Reads as of T never see
//! an item whose `available_at` is later than T.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// One article or headline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewsItem {
    /// Stable id: the source's own id when it has one (a feed's GUID, a file's `id` column),
    /// else derived from the canonical URL or the text.
    pub id: String,
    /// The outlet that published it (`coindesk.com`).
    pub outlet: String,
    /// Where it was read from: a feed's URL or a file's name.
    pub source: String,
    /// The canonical URL (tracking parameters stripped), when there is one.
    pub url: Option<String>,
    pub title: String,
    /// Plain text (HTML removed), possibly empty.
    pub summary: String,
    /// When the outlet says it published it.
    pub published_at: Option<Timestamp>,
    /// When it became knowable (see the module doc).
    pub available_at: Timestamp,
    /// ISO 639-1 language, when the source says.
    pub language: Option<String>,
    /// The id of an earlier item this one copies (syndicated or lightly edited), if any.
    pub duplicate_of: Option<String>,
}

/// A sentiment label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    Bullish,
    Bearish,
    Neutral,
}

impl Label {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Label::Bullish => "bullish",
            Label::Bearish => "bearish",
            Label::Neutral => "neutral",
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A label name that is not bullish, bearish or neutral.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sentiment {}: use bullish, bearish or neutral", crate::excerpt::quoted(.0))]
pub struct LabelError(pub String);

impl FromStr for Label {
    type Err = LabelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bullish" | "positive" | "pos" => Ok(Label::Bullish),
            "bearish" | "negative" | "neg" => Ok(Label::Bearish),
            "neutral" | "neu" => Ok(Label::Neutral),
            _ => Err(LabelError(s.to_string())),
        }
    }
}

/// The sentiment of a text: a label, a score in [-1, 1] and the words that drove it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sentiment {
    pub label: Label,
    pub score: f64,
    /// The terms that counted, each with its signed contribution after negation and boosts.
    pub drivers: Vec<(String, f64)>,
}

/// What a tag names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagKind {
    /// A crypto asset by ticker (`BTC`).
    Asset,
    /// A listed company by ticker (`MARA`).
    Company,
    /// An exchange or trading venue (`binance`).
    Exchange,
    /// A topic slug (`bitcoin-miners`).
    Topic,
}

impl TagKind {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            TagKind::Asset => "asset",
            TagKind::Company => "company",
            TagKind::Exchange => "exchange",
            TagKind::Topic => "topic",
        }
    }
}

/// A tag on an item: its kind and its name (a ticker or a slug).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Tag {
    pub kind: TagKind,
    pub name: String,
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Items about one event, clustered by similarity within a time window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Story {
    /// Derived from its first item's id, so that it is stable as items join.
    pub id: String,
    /// The title of its first item.
    pub title: String,
    /// Its items' ids, in the order they were seen.
    pub items: Vec<String>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Distinct outlets.
    pub outlets: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_in_either_vocabulary() {
        assert_eq!("Bullish".parse::<Label>().unwrap(), Label::Bullish);
        assert_eq!("negative".parse::<Label>().unwrap(), Label::Bearish);
        assert_eq!(" neutral ".parse::<Label>().unwrap(), Label::Neutral);
        assert!("up".parse::<Label>().is_err());
    }
}
