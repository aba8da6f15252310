//! Entity flows (the "MARA moved $87M of BTC to trading desks" signal, `MODELS.md` §2.4 and §3):
//! outflows of labelled entities classified by the kind of their destination, daily series,
//! the latest day's z-score against the previous 90 days, and a Miners' Position Index style
//! ratio once a year of history exists.

use std::collections::{BTreeMap, HashMap};

use canary_model::Timestamp;
use canary_model::network::ChainTx;

/// The latest day's outflow in standard deviations of the previous days (`MODELS.md` §3).
pub const OUTFLOW_ZSCORE: canary_model::Method = canary_model::Method::new("outflow_zscore", 1);
/// Miners' Position Index style ratio: the latest day over the 365-day mean.
pub const POSITION_RATIO: canary_model::Method = canary_model::Method::new("position_ratio", 1);

/// What an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityKind {
    Miner,
    Exchange,
    Otc,
    Custodian,
}

impl EntityKind {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            EntityKind::Miner => "miner",
            EntityKind::Exchange => "exchange",
            EntityKind::Otc => "otc",
            EntityKind::Custodian => "custodian",
        }
    }
}

/// Address → (entity, kind).
#[derive(Debug, Clone, Default)]
pub struct Labels {
    by_address: HashMap<String, (String, EntityKind)>,
}

impl Labels {
    /// Label `address` as belonging to `entity`. A second, different label for the same address
    /// is refused with both names.
    ///
    /// # Errors
    /// The address already belongs to another entity.
    pub fn add(&mut self, address: &str, entity: &str, kind: EntityKind) -> Result<(), String> {
        match self.by_address.get(address) {
            Some((e, _)) if e != entity => Err(format!(
                "address {address} is labelled both {e} and {entity}"
            )),
            _ => {
                self.by_address
                    .insert(address.to_string(), (entity.to_string(), kind));
                Ok(())
            }
        }
    }

    #[must_use]
    pub fn get(&self, address: &str) -> Option<(&str, EntityKind)> {
        self.by_address.get(address).map(|(e, k)| (e.as_str(), *k))
    }
}

/// Where an outflow went: a labelled kind, or unlabelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Destination {
    Labelled(EntityKind),
    Unlabelled,
}

impl Destination {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Destination::Labelled(k) => k.name(),
            Destination::Unlabelled => "unlabelled",
        }
    }
}

/// BTC leaving an entity in one transaction, towards one kind of destination.
#[derive(Debug, Clone, PartialEq)]
pub struct Outflow {
    pub txid: String,
    pub time: Timestamp,
    pub destination: Destination,
    pub btc: f64,
}

/// The outflows of `entity` in a confirmed transaction: when any input spends from one of its
/// addresses, every output to an address that is not its own (change is not an outflow),
/// grouped by the destination's kind.
#[must_use]
pub fn outflows(tx: &ChainTx, entity: &str, labels: &Labels) -> Vec<Outflow> {
    let Some(time) = tx.time else {
        return Vec::new();
    };
    let own = |a: &Option<String>| {
        a.as_deref()
            .and_then(|a| labels.get(a))
            .is_some_and(|(e, _)| e == entity)
    };
    if !tx.inputs.iter().any(|i| own(&i.address)) {
        return Vec::new();
    }
    let mut by_dest: BTreeMap<Destination, u64> = BTreeMap::new();
    for o in tx.outputs.iter().filter(|o| !own(&o.address)) {
        let d = o
            .address
            .as_deref()
            .and_then(|a| labels.get(a))
            .map_or(Destination::Unlabelled, |(_, k)| Destination::Labelled(k));
        *by_dest.entry(d).or_default() += o.sats;
    }
    by_dest
        .into_iter()
        .filter(|(_, s)| *s > 0)
        .map(|(destination, sats)| Outflow {
            txid: tx.txid.clone(),
            time,
            destination,
            btc: sats as f64 / 1e8,
        })
        .collect()
}

/// Daily totals (BTC) from the first to the last day of `flows`, days without flows at zero.
#[must_use]
pub fn daily(flows: &[Outflow]) -> Vec<(Timestamp, f64)> {
    let day = canary_model::Timeframe::D1;
    let mut sums: BTreeMap<Timestamp, f64> = BTreeMap::new();
    for f in flows {
        *sums.entry(day.floor(f.time)).or_default() += f.btc;
    }
    let (Some(&first), Some(&last)) = (sums.keys().next(), sums.keys().next_back()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut t = first;
    while t <= last {
        out.push((t, sums.get(&t).copied().unwrap_or(0.0)));
        t = t.add_millis(day.duration_ms());
    }
    out
}

/// The last day's value in σ of the `n` days before it ((x − mean)/σ, sample σ); `None` with
/// fewer than n+1 days or a flat history.
#[must_use]
pub fn latest_zscore(days: &[(Timestamp, f64)], n: usize) -> Option<f64> {
    if days.len() < n + 1 || n < 2 {
        return None;
    }
    let last = days[days.len() - 1].1;
    let prev = &days[days.len() - 1 - n..days.len() - 1];
    let mean = prev.iter().map(|d| d.1).sum::<f64>() / n as f64;
    let var = prev.iter().map(|d| (d.1 - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
    (var > 0.0).then(|| (last - mean) / var.sqrt())
}

/// Miners' Position Index style ratio: the last day's outflow over its 365-day mean; `None`
/// with less than a year of days.
#[must_use]
pub fn position_ratio(days: &[(Timestamp, f64)]) -> Option<f64> {
    if days.len() < 365 {
        return None;
    }
    let window = &days[days.len() - 365..];
    let mean = window.iter().map(|d| d.1).sum::<f64>() / 365.0;
    (mean > 0.0).then(|| days[days.len() - 1].1 / mean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_model::network::TxOut;

    fn out(a: &str, sats: u64) -> TxOut {
        TxOut {
            address: Some(a.into()),
            sats,
        }
    }

    #[test]
    fn outflows_exclude_change_and_group_by_destination() {
        let mut l = Labels::default();
        l.add("m1", "MARA", EntityKind::Miner).unwrap();
        l.add("m2", "MARA", EntityKind::Miner).unwrap();
        l.add("x1", "Coinbase", EntityKind::Exchange).unwrap();
        l.add("o1", "Desk", EntityKind::Otc).unwrap();
        assert!(l.add("x1", "Kraken", EntityKind::Exchange).is_err());
        let tx = ChainTx {
            txid: "t".into(),
            time: Some(Timestamp::parse("2026-02-05T12:00:00Z").unwrap()),
            inputs: vec![out("m1", 150_000_000_000)],
            outputs: vec![
                out("x1", 100_000_000_000),
                out("o1", 45_000_000_000),
                out("m2", 4_990_000_000),
                out("zz", 10_000_000),
            ],
        };
        let f = outflows(&tx, "MARA", &l);
        let by: Vec<(&str, f64)> = f.iter().map(|o| (o.destination.name(), o.btc)).collect();
        assert_eq!(
            by,
            [("exchange", 1000.0), ("otc", 450.0), ("unlabelled", 0.1)]
        );
        assert!(
            outflows(&tx, "Coinbase", &l).is_empty(),
            "Coinbase paid nothing in"
        );
        assert!(
            outflows(&ChainTx { time: None, ..tx }, "MARA", &l).is_empty(),
            "unconfirmed"
        );
    }

    #[test]
    fn daily_fills_gaps_and_zscore_flags_a_spike() {
        let t0 = Timestamp::parse("2026-01-01").unwrap();
        let mut flows: Vec<Outflow> = (0..91)
            .filter(|d| d % 3 != 0)
            .map(|d| Outflow {
                txid: format!("{d}"),
                time: t0.add_millis(d * 86_400_000 + 3_600_000),
                destination: Destination::Labelled(EntityKind::Exchange),
                btc: 10.0 + f64::from(i32::try_from(d % 5).unwrap()),
            })
            .collect();
        flows.push(Outflow {
            txid: "big".into(),
            time: t0.add_millis(91 * 86_400_000),
            destination: Destination::Labelled(EntityKind::Otc),
            btc: 1450.0,
        });
        let d = daily(&flows);
        assert_eq!(d.len(), 91, "day 1 to day 91");
        assert_eq!(d[2].1, 0.0, "day 3 had no flows: zero, not skipped");
        assert!(latest_zscore(&d, 90).unwrap() > 10.0);
        assert!(position_ratio(&d).is_none(), "needs a year");
    }
}
