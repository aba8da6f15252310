//! The top of an analysis: the headline (the move in a verb, or the date when there is no
//! move), the scores line and the one-sentence summary.

use canary_model::Timestamp;
use canary_model::news::Label;

use super::phrases::Phrases;
use super::text::Writer;
use super::{Topic, stat, v};
use crate::{EngineError, ScoreBody, StatsBody};

/// The verb for a 24 h change of `pct` per cent.
pub(super) fn word_for_move(pct: f64) -> &'static str {
    match pct {
        p if p <= -10.0 => "plunges",
        p if p <= -4.0 => "slides",
        p if p < -1.0 => "slips",
        p if p < 1.0 => "holds steady",
        p if p < 4.0 => "edges up",
        p if p < 10.0 => "climbs",
        _ => "surges",
    }
}

/// The headline: the last price and its 24 h move, or the asset and the date without them.
pub(super) fn headline(
    stats: &StatsBody,
    topic: Topic,
    name: &str,
    asof: Timestamp,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<String, EngineError> {
    Ok(
        match (stat(stats, "last_price"), stat(stats, "change_24h")) {
            (Some(px), Some(ch)) => {
                let verb = word_for_move(ch.value);
                let (pxs, chs) = (
                    w.usd(px.value, &px.claim),
                    w.pct(ch.value.abs(), &ch.claim, false),
                );
                let topic = match topic {
                    Topic::Miners => "miners",
                    Topic::Market => "market",
                };
                ph.say("headline", &[v(topic), v(name), v(verb), v(&chs), v(&pxs)])?
            }
            _ => ph.say("headline_plain", &[v(name), v(&asof.to_string()[..10])])?,
        },
    )
}

/// The scores line: label, Pulse, Risk with its band, and Threat.
pub(super) fn scores_line(
    s: &ScoreBody,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<String, EngineError> {
    Ok(match (s.risk, &s.risk_claim, s.pulse, &s.pulse_claim) {
        (Some(r), Some(rc), Some(pu), Some(pc)) => {
            let label = s.label.map_or("neutral", Label::as_str);
            let threat = match (s.threat, &s.threat_claim) {
                (Some(t), Some(tc)) => w.num(f64::from(t), 0, tc),
                _ => String::new(),
            };
            let (pulse, risk) = (w.num(pu, 0, pc), w.num(r, 0, rc));
            ph.say(
                "scores_line",
                &[
                    v(&capitalise(label)),
                    v(&pulse),
                    v(&risk),
                    v(&s.band.clone().unwrap_or_default()),
                    v(&threat),
                ],
            )?
        }
        _ => "Scores: not enough data".into(),
    })
}

/// The summary: the label, Risk with its band and the probability of a fall.
pub(super) fn summary(
    s: &ScoreBody,
    name: &str,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<String, EngineError> {
    let label = s.label.map_or("neutral", Label::as_str);
    let risk = match (s.risk, &s.risk_claim) {
        (Some(r), Some(rc)) => w.num(r, 0, rc),
        _ => String::new(),
    };
    let prob = s
        .probability
        .as_ref()
        .map_or_else(String::new, |pr| w.share(pr.value, &pr.claim));
    Ok(ph.say(
        "summary",
        &[
            v(name),
            v(label),
            v(&risk),
            v(&s.band.clone().unwrap_or_default()),
            v(&prob),
        ],
    )?)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{Crash, phrases};
    use super::*;

    #[test]
    fn each_move_has_its_verb() {
        for (pct, verb) in [
            (-12.0, "plunges"),
            (-10.0, "plunges"),
            (-9.9, "slides"),
            (-4.0, "slides"),
            (-1.5, "slips"),
            (-1.0, "holds steady"),
            (0.99, "holds steady"),
            (1.0, "edges up"),
            (4.0, "climbs"),
            (10.0, "surges"),
        ] {
            assert_eq!(word_for_move(pct), verb, "{pct}");
        }
    }

    /// The crash morning's headline: the 4h close and its 24 h fall, each number recorded
    /// with its stat's claim.
    #[test]
    fn the_headline_tells_the_move_with_its_claims() {
        let crash = Crash::load();
        let inputs = crash.inputs(Topic::Miners);
        let stats = &inputs.stats.body;
        let mut w = Writer::default();
        let h = headline(
            stats,
            Topic::Miners,
            "Bitcoin",
            crash.asof,
            &mut w,
            &phrases(),
        )
        .unwrap();
        assert_eq!(
            h,
            "Bitcoin miners under pressure as Bitcoin slides 9.9% to $64,168"
        );
        let claims: Vec<_> = w.numbers.iter().map(|n| n.claim.clone()).collect();
        assert_eq!(
            claims,
            [
                stat(stats, "last_price").unwrap().claim.clone(),
                stat(stats, "change_24h").unwrap().claim.clone(),
            ]
        );
        let mut w = Writer::default();
        let h = headline(
            stats,
            Topic::Market,
            "Bitcoin",
            crash.asof,
            &mut w,
            &phrases(),
        )
        .unwrap();
        assert_eq!(h, "Bitcoin slides 9.9% to $64,168");
    }

    /// Without a 24 h change the headline names the day and writes no number.
    #[test]
    fn without_a_change_the_headline_names_the_day() {
        let crash = Crash::load();
        let mut stats = crash.inputs(Topic::Market).stats.body;
        stats.stats.retain(|s| s.key != "change_24h");
        let mut w = Writer::default();
        let h = headline(
            &stats,
            Topic::Market,
            "Bitcoin",
            crash.asof,
            &mut w,
            &phrases(),
        )
        .unwrap();
        assert_eq!(h, "Bitcoin: the market as of 2026-02-06");
        assert!(w.numbers.is_empty());
    }

    /// The scores line writes Threat, Pulse and Risk from the score's own claims.
    #[test]
    fn the_scores_line_writes_each_score_with_its_claim() {
        let crash = Crash::load();
        let s = crash.inputs(Topic::Market).score.body;
        let mut w = Writer::default();
        let line = scores_line(&s, &mut w, &phrases()).unwrap();
        let (risk, pulse, threat) = (s.risk.unwrap(), s.pulse.unwrap(), s.threat.unwrap());
        assert_eq!(
            line,
            format!(
                "{} · Pulse {pulse:.0} · Risk {risk:.0} ({}), Threat {threat} of 5",
                capitalise(s.label.unwrap().as_str()),
                s.band.clone().unwrap()
            )
        );
        let claims: Vec<_> = w.numbers.iter().map(|n| n.claim.clone()).collect();
        assert_eq!(
            claims,
            [
                s.threat_claim.clone().unwrap(),
                s.pulse_claim.clone().unwrap(),
                s.risk_claim.clone().unwrap(),
            ]
        );
        let mut none = s.clone();
        none.pulse = None;
        let mut w = Writer::default();
        assert_eq!(
            scores_line(&none, &mut w, &phrases()).unwrap(),
            "Scores: not enough data"
        );
        assert!(w.numbers.is_empty());
    }

    /// The summary carries the label, Risk and the probability of a further fall.
    #[test]
    fn the_summary_reads_the_label_risk_and_probability() {
        let crash = Crash::load();
        let s = crash.inputs(Topic::Market).score.body;
        let mut w = Writer::default();
        let text = summary(&s, "Bitcoin", &mut w, &phrases()).unwrap();
        let label = s.label.unwrap().as_str();
        assert!(
            text.starts_with(&format!(
                "Canary reads Bitcoin as {label}, with Risk at {:.0} ({})",
                s.risk.unwrap(),
                s.band.clone().unwrap()
            )),
            "{text}"
        );
        let p = s
            .probability
            .as_ref()
            .expect("a calibrated probability on the crash");
        assert!(
            text.ends_with("chance of a further 10% fall within 7 days."),
            "{text}"
        );
        assert_eq!(w.numbers.last().unwrap().claim, p.claim);
        // Without a probability the sentence ends at the band.
        let mut none = s.clone();
        none.probability = None;
        let text = summary(&none, "Bitcoin", &mut w, &phrases()).unwrap();
        assert!(text.ends_with(").") && !text.contains("chance"), "{text}");
    }

    #[test]
    fn capitalise_upper_cases_the_first_letter_only() {
        assert_eq!(capitalise("bearish"), "Bearish");
        assert_eq!(capitalise(""), "");
    }
}
