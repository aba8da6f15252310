//! `canary analyze`: the engine's analysis rendered as Markdown, HTML or JSON.

use std::path::Path;

use anyhow::{Context as _, Result};
use canary_analytics::score::Methodology;
use canary_engine::analysis::{AnalyzeParams, Topic, analyze, render};

use crate::cli::{AnalysisFormat, AnalysisTopic, AnalyzeArgs};

pub fn run(db: &Path, a: &AnalyzeArgs) -> Result<()> {
    let (dict, lex) = super::news::vocabulary(&a.vocabulary)?;
    let method = match &a.method {
        None => Methodology::built_in(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the methodology file {}", p.display()))?;
            Methodology::parse(&text, &p.display().to_string())?
        }
    };
    let p = AnalyzeParams {
        symbol: a.symbol.clone(),
        asset: a.asset.to_uppercase(),
        topic: match a.topic {
            AnalysisTopic::Market => Topic::Market,
            AnalysisTopic::Miners => Topic::Miners,
        },
        method,
    };
    let profiles = super::miners::profiles(a.vocabulary.profiles.as_deref())?;
    super::open_existing(db)?;
    let r = super::with_facts(db, a.at.asof, &profiles, |ctx| {
        analyze(ctx, &p, &dict, &lex)
    })?;
    if r.simulated {
        crate::output::banner();
    }
    let text = match a.format {
        AnalysisFormat::Md => render::markdown_checked(&r.body, r.as_of, r.simulated)?,
        AnalysisFormat::Html => render::html(&r.body, &r.claims, r.as_of, r.simulated)?,
        AnalysisFormat::Json => {
            render::markdown_checked(&r.body, r.as_of, r.simulated)?;
            serde_json::to_string_pretty(&r)? + "\n"
        }
    };
    match &a.out {
        Some(f) => {
            std::fs::write(f, &text).with_context(|| format!("cannot write {}", f.display()))?
        }
        None => print!("{text}"),
    }
    Ok(())
}
