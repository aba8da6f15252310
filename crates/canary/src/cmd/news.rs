//! `canary news`: feeds (add, list, remove, poll), headline imports (the engine's
//! `jobs::news`), and the engine's news, stories and search reports rendered; sentiment of a
//! headline file and its evaluation.

use canary_engine::Session;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use canary_engine::jobs::news::{HeadlineFile, add_feed, check_feed_url};
use canary_engine::{NewsParams, NewsRow, SearchParams, StoriesParams};
use canary_ingest::csv::TimeRange;
use canary_ingest::news::{FeedClient, read_headlines_csv, read_labelled};
use canary_model::news::Label;
use canary_news::sentiment::{Lexicon, evaluate, sentiment_with};
use canary_news::stories::StoryParams;
use canary_news::tags::Dictionary;

use crate::cli::{
    FeedsCommand, NewsArgs, NewsCommand, NewsImportArgs, NewsListArgs, OutputFormat, PollArgs,
    SearchArgs, SentimentArgs, SentimentLabel, StoriesArgs, Vocabulary,
};
use crate::output::{preamble, print_json, table};

pub fn run(session: &Session, a: &NewsArgs) -> Result<()> {
    match &a.command {
        NewsCommand::Feeds(f) => match &f.command {
            FeedsCommand::Add(x) => feed_add(session, &x.url, x.interval),
            FeedsCommand::List => feed_list(session),
            FeedsCommand::Rm(x) => feed_rm(session, &x.url),
        },
        NewsCommand::Poll(p) => poll(session, p),
        NewsCommand::Import(i) => import(session, i),
        NewsCommand::List(l) => list(session, l),
        NewsCommand::Stories(s) => stories(session, s),
        NewsCommand::Search(s) => search(session, s),
        NewsCommand::Sentiment(s) => sentiment(s),
        NewsCommand::Eval(e) => eval(&e.file, e.lexicon.as_deref(), e.misses),
    }
}

const fn label(s: SentimentLabel) -> Label {
    match s {
        SentimentLabel::Bullish => Label::Bullish,
        SentimentLabel::Bearish => Label::Bearish,
        SentimentLabel::Neutral => Label::Neutral,
    }
}

fn lexicon(path: Option<&Path>) -> Result<Cow<'static, Lexicon>> {
    Ok(match path {
        None => Cow::Borrowed(Lexicon::built_in()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the lexicon file {}", p.display()))?;
            Cow::Owned(Lexicon::with_extra(&text, &p.display().to_string())?)
        }
    })
}

/// The dictionary (built-in, the facts file's companies, the user's file) and the lexicon.
pub(super) fn vocabulary(v: &Vocabulary) -> Result<(Dictionary, Cow<'static, Lexicon>)> {
    let profiles = super::miners::profiles(v.profiles.as_deref())?;
    let user = match &v.dictionary {
        Some(p) => Some((
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the dictionary file {}", p.display()))?,
            p.display().to_string(),
        )),
        None => None,
    };
    let dict = canary_engine::news_dictionary(
        Some(&profiles),
        user.as_ref().map(|(t, o)| (t.as_str(), o.as_str())),
    )?;
    Ok((dict, lexicon(v.lexicon.as_deref())?))
}

fn feed_add(session: &Session, url: &str, interval_ms: i64) -> Result<()> {
    // Checked before the database is opened (and created).
    check_feed_url(url)?;
    let mut store = super::open(session)?;
    let secs = interval_ms / 1000;
    if add_feed(&mut *store, url, secs, session.now())? {
        println!("added {url}, polled every {}", every(secs));
    } else {
        println!("{url} was there; now polled every {}", every(secs));
    }
    Ok(())
}

fn every(secs: i64) -> String {
    if secs % 86_400 == 0 {
        format!("{} d", secs / 86_400)
    } else if secs % 3_600 == 0 {
        format!("{} h", secs / 3_600)
    } else {
        format!("{} min", secs / 60)
    }
}

fn short(t: canary_model::Timestamp) -> String {
    let s = t.to_string();
    s.get(..16).map_or(s.clone(), |x| x.replace('T', " "))
}

fn feed_list(session: &Session) -> Result<()> {
    let store = super::open_existing(session)?;
    let feeds = store.feeds()?;
    if feeds.is_empty() {
        println!("no feeds: add one with canary news feeds add URL");
        return Ok(());
    }
    let mut t = table();
    t.set_header([
        "feed",
        "every",
        "items",
        "last poll",
        "status",
        "next poll",
        "failures",
    ]);
    for f in &feeds {
        t.add_row([
            f.url.clone(),
            every(f.interval_s),
            f.items.to_string(),
            f.last_polled.map_or_else(|| "never".into(), short),
            match (&f.last_status, &f.last_error) {
                (Some(s), Some(e)) if s == "failed" => format!("failed: {e}"),
                (Some(s), _) => s.clone(),
                (None, _) => String::new(),
            },
            short(f.next_poll),
            f.failures.to_string(),
        ]);
    }
    println!("{t}");
    Ok(())
}

fn feed_rm(session: &Session, url: &str) -> Result<()> {
    let mut store = super::open_existing(session)?;
    if store.remove_feed(url.trim())? {
        println!("removed {url} (its items stay stored)");
        Ok(())
    } else {
        let known: Vec<String> = store.feeds()?.into_iter().map(|f| f.url).collect();
        bail!(
            "no feed {url}; feeds: {}",
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        )
    }
}

fn poll(session: &Session, p: &PollArgs) -> Result<()> {
    let mut store = super::open(session)?;
    if store.feeds()?.is_empty() {
        bail!("no feeds to poll: add one with canary news feeds add URL");
    }
    let client = FeedClient::new(std::time::Duration::from_secs_f64(p.timeout), p.max_bytes);
    let now = session.now();
    let outcomes = canary_engine::jobs::block_on(canary_engine::news_poll::poll_feeds(
        &mut *store,
        &client,
        now,
        p.all,
        |o| match &o.result {
            Ok(r) => println!(
                "{}: {}, {} items, {} new ({} copies of earlier items)",
                o.url, r.status, r.items, r.new_items, r.copies
            ),
            Err(e) => println!("FAILED {e}"),
        },
    ))?
    .map_err(super::hint)?;
    if outcomes.is_empty() {
        println!("no feed is due yet (see canary news feeds list; --all polls them now)");
        return Ok(());
    }
    // Any failure fails the command (a scheduler sees it), with each failed feed and why;
    // what the other feeds brought is stored.
    let failures: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().err().map(String::as_str))
        .collect();
    if !failures.is_empty() {
        let kept = if failures.len() == outcomes.len() {
            "nothing new was stored"
        } else {
            "what the others brought is stored"
        };
        bail!(
            "{} of {} feeds failed ({kept}; each failed feed is retried after a back-off):\n  - {}",
            failures.len(),
            outcomes.len(),
            failures.join("\n  - ")
        );
    }
    Ok(())
}

fn import(session: &Session, a: &NewsImportArgs) -> Result<()> {
    let now = session.now();
    let file = HeadlineFile::read(&a.file, now).map_err(super::ingest_hint)?;
    let mut store = super::open(session)?;
    let r = file.store(&mut *store, now)?;
    println!(
        "{}: {} items read, {} new ({} copies of earlier items), {} already stored",
        a.file.display(),
        r.read,
        r.insert.inserted,
        r.insert.copies,
        r.insert.present
    );
    Ok(())
}

fn tags_text(r: &NewsRow) -> String {
    r.tags
        .iter()
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// Items as a table, CSV or Markdown (`score` names the relevance column, if any).
fn render_items(rows: &[NewsRow], format: OutputFormat, score: Option<&str>) -> Result<()> {
    match format {
        OutputFormat::Csv => {
            let mut w = csv_writer();
            w.write_record([
                "id",
                "available_at",
                "published_at",
                "outlet",
                "title",
                "url",
                "label",
                "score",
                score.unwrap_or("relevance"),
                "tags",
            ])?;
            for r in rows {
                w.write_record([
                    r.item.id.clone(),
                    r.item.available_at.to_string(),
                    r.item
                        .published_at
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                    r.item.outlet.clone(),
                    r.item.title.clone(),
                    r.item.url.clone().unwrap_or_default(),
                    r.sentiment.label.to_string(),
                    format!("{:.4}", r.sentiment.score),
                    r.relevance.map(|v| format!("{v:.4}")).unwrap_or_default(),
                    tags_text(r),
                ])?;
            }
            w.flush()?;
        }
        OutputFormat::Md => {
            for r in rows {
                let title = match &r.item.url {
                    Some(u) => format!("[{}]({u})", r.item.title),
                    None => r.item.title.clone(),
                };
                println!(
                    "- **{title}** — {}, {} · {} ({:+.2}){}{}",
                    r.item.outlet,
                    short(r.item.published_at.unwrap_or(r.item.available_at)),
                    r.sentiment.label,
                    r.sentiment.score,
                    if r.tags.is_empty() {
                        String::new()
                    } else {
                        format!(" · {}", tags_text(r))
                    },
                    if r.also_in.is_empty() {
                        String::new()
                    } else {
                        format!(" · also in {}", r.also_in.join(", "))
                    },
                );
            }
        }
        OutputFormat::Table | OutputFormat::Json => {
            let mut t = table();
            let mut head = vec!["seen", "outlet", "sentiment"];
            if let Some(s) = score {
                head.push(s);
            }
            head.extend(["title", "tags", "also in"]);
            t.set_header(head);
            for r in rows {
                let mut row = vec![
                    short(r.item.available_at),
                    r.item.outlet.clone(),
                    format!("{} {:+.2}", r.sentiment.label, r.sentiment.score),
                ];
                if score.is_some() {
                    row.push(r.relevance.map(|v| format!("{v:.2}")).unwrap_or_default());
                }
                row.extend([cut(&r.item.title, 90), tags_text(r), r.also_in.join(", ")]);
                t.add_row(row);
            }
            println!("{t}");
        }
        f @ OutputFormat::Html => return Err(f.unavailable()),
    }
    Ok(())
}

fn csv_writer() -> ::csv::Writer<std::io::Stdout> {
    ::csv::Writer::from_writer(std::io::stdout())
}

fn list(session: &Session, a: &NewsListArgs) -> Result<()> {
    let (dict, lex) = vocabulary(&a.vocabulary)?;
    let p = NewsParams {
        lookback_ms: a.since,
        tag: a.tag.clone(),
        outlet: a.outlet.clone(),
        sentiment: a.sentiment.map(label),
        asset: a.relevance.asset.clone().map(|s| s.to_uppercase()),
        topic: a.relevance.topic.clone(),
        min_relevance: a.relevance.min_relevance,
        copies: a.copies,
        limit: a.limit,
    };
    let r = super::with_context(session, a.at.asof, |ctx| {
        canary_engine::news(ctx, &dict, &lex, &p)
    })?;
    if a.format == OutputFormat::Json {
        return print_json(&r);
    }
    if a.format != OutputFormat::Csv {
        preamble(&r);
    }
    if r.body.items.is_empty() && a.format == OutputFormat::Table {
        println!(
            "no items as of {} ({} known in the period before filters)",
            r.as_of, r.body.known
        );
        return Ok(());
    }
    render_items(
        &r.body.items,
        a.format,
        p.asset.as_ref().map(|_| "relevance"),
    )
}

fn stories(session: &Session, a: &StoriesArgs) -> Result<()> {
    let (dict, lex) = vocabulary(&a.vocabulary)?;
    let p = StoriesParams {
        lookback_ms: a.since,
        clustering: StoryParams {
            threshold: a.threshold,
            window_ms: a.window,
        },
        asset: a.relevance.asset.clone().map(|s| s.to_uppercase()),
        topic: a.relevance.topic.clone(),
        min_relevance: a.relevance.min_relevance,
        limit: a.limit,
    };
    let r = super::with_context(session, a.at.asof, |ctx| {
        canary_engine::stories(ctx, &dict, &lex, &p)
    })?;
    match a.format {
        OutputFormat::Json => print_json(&r)?,
        OutputFormat::Csv => {
            let mut w = csv_writer();
            w.write_record([
                "story",
                "title",
                "outlets",
                "items",
                "first_seen",
                "last_seen",
                "label",
                "score",
                "relevance",
                "tags",
            ])?;
            for s in &r.body.stories {
                w.write_record([
                    s.story.id.clone(),
                    s.story.title.clone(),
                    s.story.outlets.len().to_string(),
                    s.story.items.len().to_string(),
                    s.story.first_seen.to_string(),
                    s.story.last_seen.to_string(),
                    s.sentiment.to_string(),
                    format!("{:.4}", s.sentiment_score),
                    s.relevance.map(|v| format!("{v:.4}")).unwrap_or_default(),
                    s.tags
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                ])?;
            }
            w.flush()?;
        }
        OutputFormat::Md => {
            preamble(&r);
            for s in &r.body.stories {
                println!(
                    "### {} ({} outlets, {} {:+.2})",
                    s.story.title,
                    s.story.outlets.len(),
                    s.sentiment,
                    s.sentiment_score
                );
                for m in &s.members {
                    println!(
                        "- {} — {}, {}",
                        m.item.title,
                        m.item.outlet,
                        short(m.item.available_at)
                    );
                }
                println!();
            }
        }
        OutputFormat::Table => {
            preamble(&r);
            if r.body.stories.is_empty() {
                println!(
                    "no stories as of {} ({} items in the period)",
                    r.as_of, r.body.items
                );
                return Ok(());
            }
            let mut t = table();
            let mut head = vec!["first seen", "outlets", "items", "sentiment"];
            if p.asset.is_some() {
                head.push("relevance");
            }
            head.extend(["story", "tags"]);
            t.set_header(head);
            for s in &r.body.stories {
                let mut row = vec![
                    short(s.story.first_seen),
                    s.story.outlets.join(", "),
                    s.story.items.len().to_string(),
                    format!("{} {:+.2}", s.sentiment, s.sentiment_score),
                ];
                if p.asset.is_some() {
                    row.push(s.relevance.map(|v| format!("{v:.2}")).unwrap_or_default());
                }
                row.extend([
                    cut(&s.story.title, 80),
                    s.tags
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                ]);
                t.add_row(row);
            }
            println!("{t}");
        }
        f @ OutputFormat::Html => return Err(f.unavailable()),
    }
    Ok(())
}

/// The search index of a database: a folder beside it (`canary.db.search`); for a store on a
/// PostgreSQL server, a folder named after the server's database in the current one
/// (`canary.search` for `postgres://…/canary`).
pub(super) fn index_dir(session: &Session) -> PathBuf {
    if let Some(url) = canary_store::server_address(session.db()) {
        let name = url
            .rsplit('/')
            .next()
            .and_then(|tail| tail.split('?').next())
            .filter(|n| !n.is_empty() && !n.contains(['@', ':']))
            .unwrap_or("canary");
        return PathBuf::from(format!("{name}.search"));
    }
    let mut s = session.db().as_os_str().to_owned();
    s.push(".search");
    PathBuf::from(s)
}

fn search(session: &Session, a: &SearchArgs) -> Result<()> {
    if a.query.trim().is_empty() && a.related.is_none() {
        bail!("give words to search for, or --related ID for the items related to one");
    }
    let (dict, lex) = vocabulary(&a.vocabulary)?;
    let p = SearchParams {
        text: a.query.clone(),
        related: a.related.clone(),
        lookback_ms: a.since,
        tag: a.tag.clone(),
        outlet: a.outlet.clone(),
        sentiment: a.sentiment.map(label),
        limit: a.limit,
    };
    // Check the database before making an index beside it.
    super::open_existing(session)?;
    let mut index = canary_search::NewsIndex::open(&index_dir(session))?;
    let r = super::with_context(session, a.at.asof, |ctx| {
        canary_engine::news_search(ctx, &mut index, &dict, &lex, &p)
    })?;
    if a.format == OutputFormat::Json {
        return print_json(&r);
    }
    if r.body.items.is_empty() && a.format == OutputFormat::Table {
        println!("nothing found as of {}", r.as_of);
        return Ok(());
    }
    render_items(&r.body.items, a.format, Some("score"))
}

fn sentiment(a: &SentimentArgs) -> Result<()> {
    let (dict, lex) = vocabulary(&a.vocabulary)?;
    let f = std::fs::File::open(&a.input)
        .with_context(|| format!("cannot open {}", a.input.display()))?;
    let items = read_headlines_csv(f, &a.input, super::now(), &TimeRange::default())
        .map_err(super::ingest_hint)?;
    let started = std::time::Instant::now();
    let rows: Vec<(String, Label, f64, String)> = items
        .iter()
        .map(|i| {
            let text = canary_news::dedup::item_text(&i.title, &i.summary);
            let s = sentiment_with(&lex, &text);
            let tags = dict
                .tag(&text)
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            (i.id.clone(), s.label, s.score, tags)
        })
        .collect();
    let took = started.elapsed();
    match a.format {
        OutputFormat::Csv => {
            let mut w = csv_writer();
            w.write_record(["id", "label", "score", "tags"])?;
            for (id, l, s, t) in &rows {
                w.write_record([id.as_str(), l.as_str(), &format!("{s:.4}"), t.as_str()])?;
            }
            w.flush()?;
        }
        OutputFormat::Json => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|(id, l, s, t)| {
                    serde_json::json!({"id": id, "label": l, "score": s,
                        "tags": t.split_whitespace().collect::<Vec<_>>()})
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "method": format!("{} v{}", canary_news::sentiment::SENTIMENT.id, canary_news::sentiment::SENTIMENT.version),
                    "dictionary": dict.version,
                    "items": v,
                }))?
            );
        }
        f @ (OutputFormat::Table | OutputFormat::Md | OutputFormat::Html) => {
            return Err(f.unavailable());
        }
    }
    eprintln!("{} headlines in {:.3} s", rows.len(), took.as_secs_f64());
    Ok(())
}

fn eval(file: &Path, lex_file: Option<&Path>, misses: bool) -> Result<()> {
    let set = read_labelled(file).map_err(super::ingest_hint)?;
    let lex = lexicon(lex_file)?;
    let e = evaluate(&lex, &set);
    println!(
        "{}: {} headlines, accuracy {:.1}% ({} right)",
        file.display(),
        e.n,
        e.accuracy() * 100.0,
        e.correct
    );
    print!("{}", e.matrix());
    if misses {
        for (text, truth, got, score) in &e.misses {
            println!("  {truth} labelled {got} ({score:+.3}): {text}");
        }
    }
    Ok(())
}
