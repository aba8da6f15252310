//! The "Analysis" section: the score's waterfall in words — for Risk and for Pulse the three
//! components that pull hardest, each at its percentile or its score, and the components left
//! out for want of data.

use canary_analytics::score::{Methodology, Normalise, ScoreKind};

use super::phrases::Phrases;
use super::text::Writer;
use super::{list, v};
use crate::{ComponentRow, EngineError, ScoreBody};

/// The section's paragraphs: Risk's drivers, Pulse's, then Risk's missing components.
pub(super) fn score_in_words(
    s: &ScoreBody,
    method: &Methodology,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<Vec<String>, EngineError> {
    let mut analysis = Vec::new();
    for (kind, name_k) in [(ScoreKind::Risk, "Risk"), (ScoreKind::Pulse, "Pulse")] {
        let parts = drivers(s, kind, method, w, ph)?;
        if !parts.is_empty() {
            analysis.push(ph.say("drivers", &[v(name_k), list(parts)])?);
        }
    }
    let missing: Vec<String> = s
        .components
        .iter()
        .filter(|c| c.missing.is_some() && c.score == ScoreKind::Risk)
        .map(|c| c.label.clone())
        .collect();
    if !missing.is_empty() {
        analysis.push(ph.say("left_out", &[list(missing)])?);
    }
    Ok(analysis)
}

/// The three components of `kind` that pull hardest (ties by key), each in words: its
/// percentile when the methodology normalises it so, else its score of 100.
fn drivers(
    s: &ScoreBody,
    kind: ScoreKind,
    method: &Methodology,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<Vec<String>, EngineError> {
    let mut rows: Vec<&ComponentRow> = s
        .components
        .iter()
        .filter(|c| c.score == kind && c.pull.is_some())
        .collect();
    rows.sort_by(|a, b| {
        b.pull
            .unwrap_or(0.0)
            .abs()
            .total_cmp(&a.pull.unwrap_or(0.0).abs())
            .then(a.key.cmp(&b.key))
    });
    let mut parts = Vec::new();
    for c in rows.iter().take(3) {
        let (Some(vc), Some(x)) = (c.value_claim.as_ref(), c.value) else {
            continue;
        };
        let x = 100.0 * x;
        let percentile = method
            .components
            .iter()
            .any(|m| m.key == c.key && m.score == c.score && m.normalise == Normalise::Percentile);
        parts.push(if percentile {
            let o = w.ordinal(x, vc);
            ph.say("driver_percentile", &[v(&c.label), v(&o)])?
        } else {
            let n = w.num(x, 0, vc);
            ph.say("driver_score", &[v(&c.label), v(&n)])?
        });
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::super::Topic;
    use super::super::fixture::{Crash, phrases};
    use super::*;

    /// Risk's drivers on the crash are its three hardest pulls, in that order, each written
    /// from its normalised value's claim.
    #[test]
    fn the_hardest_pulls_lead() {
        let crash = Crash::load();
        let s = crash.inputs(Topic::Market).score.body;
        let method = Methodology::built_in();
        let mut w = Writer::default();
        let parts = drivers(&s, ScoreKind::Risk, &method, &mut w, &phrases()).unwrap();
        let mut pulls: Vec<&ComponentRow> = s
            .components
            .iter()
            .filter(|c| c.score == ScoreKind::Risk && c.pull.is_some())
            .collect();
        pulls.sort_by(|a, b| b.pull.unwrap().abs().total_cmp(&a.pull.unwrap().abs()));
        let top: Vec<&ComponentRow> = pulls.into_iter().take(3).collect();
        assert_eq!(parts.len(), top.len().min(3));
        assert!(!parts.is_empty());
        for (part, c) in parts.iter().zip(&top) {
            assert!(
                part.starts_with(&format!("{} (", c.label)),
                "{part} for {}",
                c.key
            );
        }
        let claims: Vec<_> = w.numbers.iter().map(|n| n.claim.clone()).collect();
        let expected: Vec<_> = top.iter().map(|c| c.value_claim.clone().unwrap()).collect();
        assert_eq!(claims, expected);
    }

    /// A component normalised as a percentile reads as one; any other as a score.
    #[test]
    fn percentiles_and_scores_read_apart() {
        let crash = Crash::load();
        let s = crash.inputs(Topic::Market).score.body;
        let mut method = Methodology::built_in();
        let mut w = Writer::default();
        let as_published = drivers(&s, ScoreKind::Risk, &method, &mut w, &phrases()).unwrap();
        assert!(
            as_published
                .iter()
                .any(|p| p.contains("percentile of its history")),
            "{as_published:?}"
        );
        for c in &mut method.components {
            c.normalise = Normalise::Zscore;
        }
        let as_scores = drivers(&s, ScoreKind::Risk, &method, &mut w, &phrases()).unwrap();
        assert!(
            as_scores.iter().all(|p| p.contains(" of 100)")),
            "{as_scores:?}"
        );
    }

    /// The section: Risk's drivers, Pulse's, and the Risk components left out (the crash
    /// store has no network data, so some are).
    #[test]
    fn the_section_names_drivers_and_what_was_left_out() {
        let crash = Crash::load();
        let s = crash.inputs(Topic::Market).score.body;
        let mut w = Writer::default();
        let out = score_in_words(&s, &Methodology::built_in(), &mut w, &phrases()).unwrap();
        assert!(out[0].starts_with("Risk is driven most by "), "{out:?}");
        assert!(out[1].starts_with("Pulse is driven most by "), "{out:?}");
        let left = out.last().unwrap();
        assert!(left.starts_with("Left out for want of data: "), "{left}");
        let risk_missing: Vec<&str> = s
            .components
            .iter()
            .filter(|c| c.missing.is_some() && c.score == ScoreKind::Risk)
            .map(|c| c.label.as_str())
            .collect();
        assert_eq!(
            left,
            &format!(
                "Left out for want of data: {}; the score rests on the components that had data.",
                risk_missing.join("; ")
            )
        );
        // Pulse's missing components are not listed (unless Risk misses one of the name).
        let pulse_only = s.components.iter().find(|c| {
            c.missing.is_some()
                && c.score == ScoreKind::Pulse
                && !risk_missing.contains(&c.label.as_str())
        });
        if let Some(c) = pulse_only {
            assert!(!left.contains(&c.label), "{} in {left}", c.label);
        }
    }
}
