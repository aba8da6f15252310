//! `canary analyze`: the engine's analysis rendered as Markdown, HTML or JSON.

use canary_engine::Session;
use std::path::Path;

use anyhow::{Context as _, Result};
use canary_analytics::score::Methodology;
use canary_engine::analysis::{AnalyzeParams, Topic, analyze, render};

use crate::cli::{AnalysisTopic, AnalyzeArgs, OutputFormat};

/// The page templates: the shipped ones, with any of `dir`'s (`analysis.md.j2`,
/// `analysis.html.j2`, `phrases.j2`) in their place.
fn templates(dir: Option<&Path>) -> Result<render::Templates> {
    let mut t = render::Templates::default();
    if let Some(d) = dir {
        if !d.is_dir() {
            anyhow::bail!(
                "no folder {} (give a folder holding analysis.md.j2, analysis.html.j2 and/or phrases.j2)",
                d.display()
            );
        }
        for (name, slot) in [
            ("analysis.md.j2", &mut t.markdown),
            ("analysis.html.j2", &mut t.html),
            ("phrases.j2", &mut t.phrases),
        ] {
            let f = d.join(name);
            if f.is_file() {
                *slot = std::fs::read_to_string(&f)
                    .with_context(|| format!("cannot read the template {}", f.display()))?;
            }
        }
    }
    Ok(t)
}

pub fn run(session: &Session, a: &AnalyzeArgs) -> Result<()> {
    let (dict, lex) = super::news::vocabulary(&a.vocabulary)?;
    let method = match &a.method {
        None => Methodology::built_in(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the methodology file {}", p.display()))?;
            Methodology::parse(&text, &p.display().to_string())?
        }
    };
    let templates = templates(a.templates.as_deref())?;
    let p = AnalyzeParams {
        symbol: a.symbol.clone(),
        asset: a.asset.to_uppercase(),
        topic: match a.topic {
            AnalysisTopic::Market => Topic::Market,
            AnalysisTopic::Miners => Topic::Miners,
        },
        method,
        templates: templates.clone(),
    };
    let profiles = super::miners::profiles(a.vocabulary.profiles.as_deref())?;
    super::open_existing(session)?;
    // The news index (a cache beside the database) finds related news.
    let mut index = canary_search::NewsIndex::open(&super::news::index_dir(session))?;
    let r = super::with_facts(session, a.at.asof, &profiles, |ctx| {
        analyze(ctx, &p, &dict, &lex, Some(&mut index))
    })?;
    if r.simulated {
        crate::output::banner();
    }
    let text = match a.format {
        OutputFormat::Md => render::markdown_checked(&r.body, r.as_of, r.simulated, &templates)?,
        OutputFormat::Html => render::html(&r.body, &r.claims, r.as_of, r.simulated, &templates)?,
        OutputFormat::Json => {
            render::markdown_checked(&r.body, r.as_of, r.simulated, &templates)?;
            serde_json::to_string_pretty(&r)? + "\n"
        }
        f @ (OutputFormat::Table | OutputFormat::Csv) => return Err(f.unavailable()),
    };
    if !a.no_store {
        let mut store = super::open(session)?;
        canary_engine::analysis::store(&mut *store, &r, &templates, session.now())
            .map_err(super::hint)?;
    }
    match &a.out {
        Some(f) => {
            std::fs::write(f, &text).with_context(|| format!("cannot write {}", f.display()))?;
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// `canary analyses list|show|history`.
pub fn stored(session: &Session, a: &crate::cli::AnalysesArgs) -> Result<()> {
    use crate::cli::AnalysesCommand;
    let store = super::open_existing(session)?;
    let find = |id: &str| -> Result<canary_store::StoredAnalysis> {
        if let Some(a) = store.analysis(id)? {
            return Ok(a);
        }
        let (n, ids) = store.analysis_ids_with_prefix(id, 5)?;
        let id = canary_model::excerpt::excerpt(id);
        if n > 1 {
            anyhow::bail!(
                "analysis id {id} is ambiguous: {n} analyses start with it ({}{}); give more of the id",
                ids.join(", "),
                if n > ids.len() { ", …" } else { "" }
            );
        }
        anyhow::bail!("no analysis {id} (canary analyses list shows them)")
    };
    match &a.command {
        AnalysesCommand::List(l) => {
            let all = store.analyses(l.tag.as_deref())?;
            if all.is_empty() {
                println!("no analyses stored: write one with canary analyze --symbol S");
                return Ok(());
            }
            let mut t = crate::output::table();
            t.set_header(["id", "as of", "topic", "label", "headline", "tags"]);
            for x in all {
                t.add_row([
                    x.id.clone(),
                    x.as_of.to_string(),
                    x.topic.clone(),
                    x.label.clone().unwrap_or_default(),
                    x.headline.clone(),
                    x.tags.join(" "),
                ]);
            }
            println!("{t}");
        }
        AnalysesCommand::Show(s) => {
            let x = find(&s.id)?;
            match s.format {
                OutputFormat::Json => print!("{}", x.json),
                _ => print!("{}", x.markdown),
            }
        }
        AnalysesCommand::History(s) => {
            let x = find(&s.id)?;
            let versions = store.analysis_versions(&x)?;
            println!(
                "{} versions of the {} analysis of {} as of {}",
                versions.len(),
                x.topic,
                x.symbol,
                x.as_of
            );
            for (i, v) in versions.iter().enumerate() {
                println!("\n{}. {} (written {})", i + 1, v.id, v.created_at);
                if i > 0 {
                    let before: Vec<&str> = versions[i - 1].markdown.lines().collect();
                    let after: Vec<&str> = v.markdown.lines().collect();
                    for l in before
                        .iter()
                        .filter(|l| !after.contains(l) && !l.trim().is_empty())
                    {
                        println!("  - {l}");
                    }
                    for l in after
                        .iter()
                        .filter(|l| !before.contains(l) && !l.trim().is_empty())
                    {
                        println!("  + {l}");
                    }
                }
            }
        }
    }
    Ok(())
}
