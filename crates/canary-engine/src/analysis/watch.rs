//! The "Watch" section: support, trapdoor and resistance, each a sentence and a row of the
//! Watch table with its zone, distance and trigger, then the momentum line and the daily RSI.

use super::phrases::Phrases;
use super::text::Writer;
use super::{WatchRow, stat, v};
use crate::{EngineError, StatsBody, WatchBody, WatchLevelRow};

/// The section: its sentences and the table's rows.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct WatchSection {
    pub paragraphs: Vec<String>,
    pub rows: Vec<WatchRow>,
}

/// The levels' sentences and rows, then the momentum sentences.
pub(super) fn watch_section(
    wb: &WatchBody,
    stats: &StatsBody,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<WatchSection, EngineError> {
    let mut section = levels(wb, w, ph)?;
    section.paragraphs.extend(momentum(wb, stats, w, ph)?);
    Ok(section)
}

/// A level's price, zone and distance, written.
fn written(w: &mut Writer, l: &WatchLevelRow) -> (String, String, String) {
    (
        w.usd(l.price, &l.claim),
        format!(
            "{}–{}",
            w.usd(l.zone.0, &l.claim),
            w.usd(l.zone.1, &l.claim)
        ),
        w.pct(l.distance_pct, &l.claim, true),
    )
}

/// Support (broken on a close below its line), trapdoor (the thin gap above it) and
/// resistance (reclaimed on a close above its line), those the Watch has.
fn levels(wb: &WatchBody, w: &mut Writer, ph: &Phrases) -> Result<WatchSection, EngineError> {
    let mut watch_rows = Vec::new();
    let mut watch_text = Vec::new();
    if let Some(sup) = &wb.support {
        let (lv, zone, dist) = written(w, sup);
        let line = w.usd(sup.broken_if.line, &sup.broken_if.claim);
        let trig = ph.say(
            "support_trigger",
            &[v(&sup.broken_if.timeframe.to_string()), v(&line)],
        )?;
        watch_text.push(ph.say("watch_support", &[v(&zone), v(&dist), v(&trig)])?);
        watch_rows.push(WatchRow {
            what: "Support",
            level: lv,
            zone,
            distance: dist,
            trigger: trig,
        });
    }
    if let Some(t) = &wb.trapdoor {
        let (lv, zone, dist) = written(w, &t.level);
        let share = if t.gap_volume_share < 0.05 {
            String::new()
        } else {
            w.share(t.gap_volume_share, &t.trapdoor_claim)
        };
        let trig = ph.say("trapdoor_gap", &[v(&share)])?;
        watch_text.push(ph.say("watch_trapdoor", &[v(&zone), v(&dist), v(&trig)])?);
        watch_rows.push(WatchRow {
            what: "Trapdoor",
            level: lv,
            zone,
            distance: dist,
            trigger: trig,
        });
    }
    if let Some(r) = &wb.resistance {
        let (lv, zone, dist) = written(w, r);
        let line = w.usd(r.broken_if.line, &r.broken_if.claim);
        let trig = ph.say(
            "resistance_trigger",
            &[v(&r.broken_if.timeframe.to_string()), v(&line)],
        )?;
        watch_text.push(ph.say("watch_resistance", &[v(&zone), v(&dist), v(&trig)])?);
        watch_rows.push(WatchRow {
            what: "Resistance",
            level: lv,
            zone,
            distance: dist,
            trigger: trig,
        });
    }
    Ok(WatchSection {
        paragraphs: watch_text,
        rows: watch_rows,
    })
}

/// The momentum line (RSI of the Watch's timeframe, its state and any divergence) and the
/// daily RSI.
fn momentum(
    wb: &WatchBody,
    stats: &StatsBody,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<Vec<String>, EngineError> {
    let mut out = Vec::new();
    if let Some(m) = &wb.momentum {
        let rsi = w.num(m.momentum.rsi, 1, &m.claim);
        out.push(ph.say(
            "momentum",
            &[
                v(&m.momentum.timeframe.to_string()),
                v(&rsi),
                v(m.momentum.state),
                v(m.momentum.divergence.unwrap_or("")),
            ],
        )?);
    }
    if let Some(rd) = stat(stats, "rsi14_daily") {
        let rsi = w.num(rd.value, 1, &rd.claim);
        out.push(ph.say("daily_rsi", &[v(&rsi)])?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::Topic;
    use super::super::fixture::{Crash, phrases};
    use super::*;

    /// The crash's Watch: support, trapdoor and resistance, as sentences and rows.
    #[test]
    fn each_level_a_sentence_and_a_row() {
        let crash = Crash::load();
        let wb = crash.inputs(Topic::Market).watch.body;
        let mut w = Writer::default();
        let s = levels(&wb, &mut w, &phrases()).unwrap();
        let what: Vec<&str> = s.rows.iter().map(|r| r.what).collect();
        assert_eq!(what, ["Support", "Trapdoor", "Resistance"]);
        assert_eq!(s.paragraphs.len(), 3);
        let sup = &s.rows[0];
        assert_eq!(
            (sup.level.as_str(), sup.zone.as_str()),
            ("$60,619", "$59,743–$60,619")
        );
        assert!(sup.trigger.starts_with("broken on a "), "{}", sup.trigger);
        assert_eq!(
            s.paragraphs[0],
            format!("Support: {} ({}), {}.", sup.zone, sup.distance, sup.trigger)
        );
        assert!(
            s.paragraphs[1].starts_with("Trapdoor: "),
            "{}",
            s.paragraphs[1]
        );
        assert!(
            s.rows[2].trigger.starts_with("reclaimed on a "),
            "{}",
            s.rows[2].trigger
        );
        // Every number written is the level's or its trigger's.
        let support = wb.support.as_ref().unwrap();
        assert!(
            w.numbers[..5]
                .iter()
                .all(|n| n.claim == support.claim || n.claim == support.broken_if.claim)
        );
    }

    /// Without levels the table is empty and so are the sentences.
    #[test]
    fn no_levels_no_rows() {
        let crash = Crash::load();
        let mut wb = crash.inputs(Topic::Market).watch.body;
        wb.support = None;
        wb.trapdoor = None;
        wb.resistance = None;
        let mut w = Writer::default();
        let s = levels(&wb, &mut w, &phrases()).unwrap();
        assert!(s.rows.is_empty() && s.paragraphs.is_empty());
        assert!(w.numbers.is_empty());
    }

    /// The momentum line then the daily RSI, one decimal each.
    #[test]
    fn momentum_then_the_daily_rsi() {
        let crash = Crash::load();
        let inputs = crash.inputs(Topic::Market);
        let (wb, stats) = (&inputs.watch.body, &inputs.stats.body);
        let mut w = Writer::default();
        let out = momentum(wb, stats, &mut w, &phrases()).unwrap();
        let m = wb.momentum.as_ref().expect("a momentum line");
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(
            out[0].starts_with(&format!(
                "Momentum: {} RSI 14 at {:.1}, {}",
                m.momentum.timeframe, m.momentum.rsi, m.momentum.state
            )),
            "{}",
            out[0]
        );
        assert_eq!(out[1], "Daily RSI 14: 15.8.");
        assert_eq!(
            w.numbers.last().unwrap().claim,
            stat(stats, "rsi14_daily").unwrap().claim
        );
    }

    /// The section is the levels' sentences followed by the momentum's.
    #[test]
    fn the_section_is_levels_then_momentum() {
        let crash = Crash::load();
        let inputs = crash.inputs(Topic::Market);
        let (wb, stats) = (&inputs.watch.body, &inputs.stats.body);
        let section = watch_section(wb, stats, &mut Writer::default(), &phrases()).unwrap();
        let mut w = Writer::default();
        let mut expected = levels(wb, &mut w, &phrases()).unwrap();
        expected
            .paragraphs
            .extend(momentum(wb, stats, &mut w, &phrases()).unwrap());
        assert_eq!(section, expected);
        assert_eq!(section.paragraphs.len(), 5);
    }
}
