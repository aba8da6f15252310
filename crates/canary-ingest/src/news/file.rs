//! Headline files: CSV with a header (`id,published_at,source,title[,summary][,url]`; other
//! names accepted for each, extra columns ignored) or JSON (an array of objects with the same
//! keys, or `{"items": [...]}`).
//!
//! Point in time: a row's publication time is taken at its word, and a date without a time
//! means "by the end of that day": the item is available at the next midnight UTC (or at
//! `now`, when it is first seen, if that is earlier). A row without a publication time is
//! available from `now`.

use std::io::Read;
use std::path::Path;

use canary_model::Timestamp;
use canary_model::news::NewsItem;
use canary_news::text::{canonical_url, collapse_whitespace, fnv1a, html_to_text, outlet_of};
use serde::Deserialize;

use crate::csv::{ImportError, TimeRange};

const DAY_MS: i64 = 86_400_000;

/// The longest record of a headline CSV, in bytes: room for a long summary, and still a
/// bound on what one record holds in memory.
pub const MAX_HEADLINE_RECORD_BYTES: u64 = 1024 * 1024;

/// Column names accepted for each field (lower case).
const ID: &[&str] = &["id", "guid", "item_id"];
const PUBLISHED: &[&str] = &[
    "published_at",
    "published_date",
    "published",
    "date",
    "time",
    "timestamp",
    "datetime",
    "pubdate",
];
const SOURCE: &[&str] = &["source", "outlet", "publisher", "site"];
const TITLE: &[&str] = &["title", "headline", "text"];
const SUMMARY: &[&str] = &["summary", "description", "snippet", "body", "content"];
const URL: &[&str] = &["url", "link", "href"];

/// One headline as read, before it becomes a [`NewsItem`].
#[derive(Debug, Clone, Default, Deserialize)]
struct Raw {
    #[serde(alias = "guid", alias = "item_id")]
    id: Option<String>,
    #[serde(
        alias = "published_date",
        alias = "published",
        alias = "date",
        alias = "time",
        alias = "timestamp",
        alias = "datetime",
        alias = "pubdate"
    )]
    published_at: Option<String>,
    #[serde(alias = "outlet", alias = "publisher", alias = "site")]
    source: Option<String>,
    #[serde(alias = "headline", alias = "text")]
    title: Option<String>,
    #[serde(
        alias = "description",
        alias = "snippet",
        alias = "body",
        alias = "content"
    )]
    summary: Option<String>,
    #[serde(alias = "link", alias = "href")]
    url: Option<String>,
    language: Option<String>,
}

/// When a stated publication time makes an item available: a date alone means the end of
/// that day.
fn availability(text: &str) -> Result<(Timestamp, Timestamp), String> {
    let t = Timestamp::parse(text).map_err(|e| e.to_string())?;
    let trimmed = text.trim();
    let date_only = trimmed.len() == 10 && trimmed.as_bytes().get(4) == Some(&b'-');
    Ok((t, if date_only { t.add_millis(DAY_MS) } else { t }))
}

/// Turn a raw row into an item, or say which field is wrong.
fn item_of(
    raw: Raw,
    origin: &str,
    now: Timestamp,
    range: &TimeRange,
) -> Result<NewsItem, (&'static str, String)> {
    let title = collapse_whitespace(&html_to_text(raw.title.as_deref().unwrap_or("")));
    if title.is_empty() {
        return Err(("title", "empty: every headline needs a title".into()));
    }
    let summary = raw
        .summary
        .as_deref()
        .map(|s| collapse_whitespace(&html_to_text(s)))
        .unwrap_or_default();
    let url = match raw.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => Some(canonical_url(u).ok_or_else(|| {
            (
                "url",
                format!(
                    "{} is not an absolute http(s) URL",
                    canary_model::excerpt::quoted(u)
                ),
            )
        })?),
    };
    let (published_at, available_at) = match raw
        .published_at
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => (None, now),
        Some(p) => {
            let (t, avail) = availability(p).map_err(|e| ("published_at", e))?;
            if let Some(why) = range.refuse(t, DAY_MS) {
                return Err(("published_at", why));
            }
            (Some(t), avail.min(now))
        }
    };
    let outlet = raw
        .source
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| url.as_deref().and_then(outlet_of))
        .unwrap_or_else(|| origin.to_string());
    let id = match raw.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => id.to_string(),
        None => format!(
            "h{:016x}",
            fnv1a(
                url.as_deref()
                    .unwrap_or(&format!("{outlet}\u{1f}{title}"))
                    .as_bytes()
            )
        ),
    };
    Ok(NewsItem {
        id,
        outlet,
        source: origin.to_string(),
        url,
        title,
        summary,
        published_at,
        available_at,
        language: raw.language.filter(|l| !l.trim().is_empty()),
        duplicate_of: None,
    })
}

fn position(header: &[String], names: &[&str]) -> Option<usize> {
    header
        .iter()
        .position(|h| names.contains(&h.trim().to_ascii_lowercase().as_str()))
}

/// Read a headline CSV from any reader. `origin` names it in errors and as the items'
/// source. Every row is checked; the first bad one is the error and nothing is returned.
///
/// # Errors
/// `FILE:LINE: field: reason` for a bad row, a header without a title column, or a read
/// error.
pub fn read_headlines_csv<R: Read>(
    input: R,
    origin: &Path,
    now: Timestamp,
    range: &TimeRange,
) -> Result<Vec<NewsItem>, ImportError> {
    let err = ImportError::about(origin);
    let name = origin.file_name().map_or_else(
        || origin.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(crate::lines::CsvInput::new(
            crate::lines::CrlfAsLf::new(input),
            b',',
            MAX_HEADLINE_RECORD_BYTES,
        ));
    let header: Vec<String> = r
        .headers()
        .map_err(|e| crate::csv::csv_error(origin, &e, Some(1)))?
        .iter()
        .map(str::to_string)
        .collect();
    let col = |names: &[&str]| position(&header, names);
    let title_col = col(TITLE).ok_or_else(|| {
        err(
            Some(1),
            None,
            format!(
                "no title column in the header ({}): name one title or headline",
                canary_model::excerpt::excerpt(&header.join(", "))
            ),
        )
    })?;
    let (id_col, pub_col, src_col, sum_col, url_col) =
        (col(ID), col(PUBLISHED), col(SOURCE), col(SUMMARY), col(URL));
    let lang_col = col(&["language", "lang"]);
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        let more = r
            .read_record(&mut rec)
            .map_err(|e| crate::csv::csv_error(origin, &e, None))?;
        if !more {
            break;
        }
        let line = rec.position().map(csv::Position::line);
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).map(str::to_string);
        let raw = Raw {
            id: get(id_col),
            published_at: get(pub_col),
            source: get(src_col),
            title: get(Some(title_col)),
            summary: get(sum_col),
            url: get(url_col),
            language: get(lang_col),
        };
        let field_name = |f: &str| -> String {
            let c = match f {
                "published_at" => pub_col,
                "url" => url_col,
                _ => Some(title_col),
            };
            c.and_then(|c| header.get(c))
                .cloned()
                .unwrap_or_else(|| f.to_string())
        };
        let item = item_of(raw, &name, now, range)
            .map_err(|(f, why)| err(line, Some(&field_name(f)), why))?;
        out.push(item);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonFile {
    List(Vec<Raw>),
    Wrapped { items: Vec<Raw> },
}

/// Read a headline JSON file: an array of objects, or `{"items": [...]}`.
///
/// # Errors
/// `FILE:LINE: …` for JSON that does not parse (with serde's line), `FILE: item N: field:
/// reason` for a bad item.
pub fn read_headlines_json<R: Read>(
    input: R,
    origin: &Path,
    now: Timestamp,
    range: &TimeRange,
) -> Result<Vec<NewsItem>, ImportError> {
    let err = ImportError::about(origin);
    let name = origin.file_name().map_or_else(
        || origin.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let file: JsonFile = serde_json::from_reader(input).map_err(|e| {
        err(
            u64::try_from(e.line()).ok().filter(|&l| l > 0),
            None,
            format!("not a headline JSON file (an array of objects with title, published_at, …, or {{\"items\": [...]}}): {}", canary_model::excerpt::excerpt(&e.to_string())),
        )
    })?;
    let rows = match file {
        JsonFile::List(v) | JsonFile::Wrapped { items: v } => v,
    };
    rows.into_iter()
        .enumerate()
        .map(|(i, raw)| {
            item_of(raw, &name, now, range)
                .map_err(|(f, why)| err(None, Some(&format!("item {}: {f}", i + 1)), why))
        })
        .collect()
}

/// Read a headline file, CSV or JSON by its extension (`.json`; anything else is CSV).
///
/// # Errors
/// The file cannot be opened, or [`read_headlines_csv`] / [`read_headlines_json`] errors.
pub fn read_headlines(
    path: &Path,
    now: Timestamp,
    range: &TimeRange,
) -> Result<Vec<NewsItem>, ImportError> {
    let f = std::fs::File::open(path)
        .map_err(|e| ImportError::about(path)(None, None, format!("cannot open: {e}")))?;
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if json {
        read_headlines_json(std::io::BufReader::new(f), path, now, range)
    } else {
        read_headlines_csv(f, path, now, range)
    }
}

/// Read a labelled headline CSV (a title column and a `label` column: bullish, bearish or
/// neutral; positive/negative accepted) for evaluating the sentiment.
///
/// # Errors
/// `FILE:LINE: field: reason` for a missing column, an empty title or an unknown label.
pub fn read_labelled(path: &Path) -> Result<Vec<(String, canary_model::news::Label)>, ImportError> {
    let err = ImportError::about(path);
    let f = std::fs::File::open(path).map_err(|e| err(None, None, format!("cannot open: {e}")))?;
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(crate::lines::CsvInput::new(
            crate::lines::CrlfAsLf::new(f),
            b',',
            MAX_HEADLINE_RECORD_BYTES,
        ));
    let header: Vec<String> = r
        .headers()
        .map_err(|e| crate::csv::csv_error(path, &e, Some(1)))?
        .iter()
        .map(str::to_string)
        .collect();
    let title = position(&header, TITLE).ok_or_else(|| {
        err(
            Some(1),
            None,
            format!(
                "no title column in ({})",
                canary_model::excerpt::excerpt(&header.join(", "))
            ),
        )
    })?;
    let label = position(&header, &["label", "sentiment", "truth"]).ok_or_else(|| {
        err(
            Some(1),
            None,
            format!(
                "no label column in ({})",
                canary_model::excerpt::excerpt(&header.join(", "))
            ),
        )
    })?;
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| crate::csv::csv_error(path, &e, None))?;
        let line = rec.position().map(csv::Position::line);
        let t = rec.get(title).unwrap_or("").trim();
        if t.is_empty() {
            return Err(err(line, Some(&header[title]), "empty".into()));
        }
        let l =
            rec.get(label)
                .unwrap_or("")
                .parse()
                .map_err(|e: canary_model::news::LabelError| {
                    err(line, Some(&header[label]), e.to_string())
                })?;
        out.push((t.to_string(), l));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::parse("2026-12-01T00:00:00Z").unwrap()
    }

    fn csv(text: &str) -> Result<Vec<NewsItem>, ImportError> {
        read_headlines_csv(
            text.as_bytes(),
            Path::new("h.csv"),
            now(),
            &TimeRange::until(now()),
        )
    }

    #[test]
    fn dated_rows_are_available_at_the_end_of_their_day() {
        let items = csv("id,published_date,source,title,summary,extra\r\n\
             n1,2026-02-05,crypto.news,\"Strategy says, BTC\",\"<p>Text &amp; more</p>\",x\r\n\
             n2,2026-02-05T09:30:00Z,coinpaper.com,BTC crashes,,\r\n")
        .unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].title, "Strategy says, BTC");
        assert_eq!(items[0].summary, "Text & more");
        assert_eq!(items[0].available_at.to_string(), "2026-02-06T00:00:00Z");
        assert_eq!(
            items[0].published_at.unwrap().to_string(),
            "2026-02-05T00:00:00Z"
        );
        assert_eq!(items[1].available_at.to_string(), "2026-02-05T09:30:00Z");
        assert_eq!(items[1].outlet, "coinpaper.com");
        assert_eq!(items[1].source, "h.csv");
    }

    #[test]
    fn undated_rows_are_available_when_seen_and_ids_are_derived() {
        let items = csv("title,url\nBTC up,https://www.x.com/a?utm_source=y\nETH up,\n").unwrap();
        assert_eq!(items[0].available_at, now());
        assert_eq!(items[0].url.as_deref(), Some("https://x.com/a"));
        assert_eq!(items[0].outlet, "x.com");
        assert_eq!(items[1].outlet, "h.csv");
        assert!(items[0].id.starts_with('h') && items[0].id != items[1].id);
    }

    #[test]
    fn bad_rows_name_the_physical_line_and_field() {
        let e = csv("id,published_at,title\r\na,2026-01-01,ok\r\nb,yesterday,bad date\r\n")
            .unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.to_string().starts_with("h.csv:3: published_at: "), "{e}");
        let e = csv("id,published_at,title\na,2026-01-01,\n").unwrap_err();
        assert!(e.to_string().starts_with("h.csv:2: title: empty"), "{e}");
        let e = csv("id,published_at,title\na,2099-01-01,future\n").unwrap_err();
        assert!(e.to_string().contains("future"), "{e}");
        let e = csv("id,date\na,2026-01-01\n").unwrap_err();
        assert!(e.to_string().contains("no title column"), "{e}");
        let e = csv("id,title,url\na,t,ftp://x\n").unwrap_err();
        assert!(e.to_string().starts_with("h.csv:2: url: "), "{e}");
    }

    #[test]
    fn json_lists_and_wrapped_items_read() {
        let r = |t: &str| {
            read_headlines_json(
                t.as_bytes(),
                Path::new("h.json"),
                now(),
                &TimeRange::until(now()),
            )
        };
        let a = r(r#"[{"id":"1","title":"BTC up","published":"2026-02-05T10:00:00Z","link":"https://a.com/x"}]"#).unwrap();
        assert_eq!(a[0].url.as_deref(), Some("https://a.com/x"));
        let b = r(r#"{"items":[{"headline":"BTC up"}]}"#).unwrap();
        assert_eq!(b[0].title, "BTC up");
        let e = r("[{\"title\": \"x\"},\n{\"title\": \"\"}]").unwrap_err();
        assert!(e.to_string().contains("item 2: title"), "{e}");
        let e = r("[{\"title\": \"x\"},\n oops]").unwrap_err();
        assert_eq!(e.line, Some(2));
    }
}
