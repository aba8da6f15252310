//! Entity outflows fetched and stored: each entity's labelled addresses read from an Esplora
//! API, a transaction seen at several of its addresses taken once, its outputs classified by
//! destination (`canary_analytics::flows::outflows`) and stored, idempotent by transaction.

use std::collections::HashSet;
use std::time::Duration;

use canary_analytics::flows::{EntityKind, outflows};
use canary_ingest::esplora::EsploraClient;
use canary_model::Timestamp;
use canary_store::{InsertReport, Source, StoredOutflow, Stores};

use crate::EngineError;
use crate::labels::LabelSet;

/// Where and how to fetch.
#[derive(Debug, Clone, Copy)]
pub struct EsploraFetch<'a> {
    /// The API's base address (`https://host/api`); the stored rows' source.
    pub url: &'a str,
    /// Pages of transactions per address (the first and up to `pages − 1` older ones).
    pub pages: usize,
    pub timeout: Duration,
}

/// What one entity's fetch stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityFetched {
    pub entity: String,
    /// Distinct transactions seen across its addresses.
    pub transactions: usize,
    /// Outflows found in them.
    pub outflows: usize,
    pub insert: InsertReport,
}

/// A step of the fetch, for the caller's progress.
#[derive(Debug, Clone, Copy)]
pub enum FlowsStep<'a> {
    /// One more address fetched.
    Address,
    /// An entity's outflows stored.
    Entity(&'a EntityFetched),
}

/// The entities fetched when none is named: the miners.
#[must_use]
pub fn miners(set: &LabelSet) -> Vec<&str> {
    set.entities
        .iter()
        .filter(|(_, (k, _))| *k == EntityKind::Miner)
        .map(|(n, _)| n.as_str())
        .collect()
}

/// How many addresses a fetch of `entities` reads (the length of its progress).
#[must_use]
pub fn addresses(set: &LabelSet, entities: &[&str]) -> usize {
    entities
        .iter()
        .filter_map(|e| set.entities.get(*e))
        .map(|(_, e)| e.addresses.len())
        .sum()
}

/// Fetch the transactions of each of `entities`' addresses (entities `set` labels), and store
/// each entity's outflows once all its addresses are read. `step` is called after each
/// address and each entity.
///
/// # Errors
/// [`EngineError::Param`] for an entity `set` does not list; the source's failure (naming the
/// address; the entities stored before it stay stored); a database error.
pub async fn fetch_outflows(
    store: &mut dyn Stores,
    set: &LabelSet,
    entities: &[&str],
    from: &EsploraFetch<'_>,
    now: Timestamp,
    mut step: impl FnMut(FlowsStep<'_>),
) -> Result<Vec<EntityFetched>, EngineError> {
    let client = EsploraClient::new(from.url, from.timeout);
    let mut done = Vec::with_capacity(entities.len());
    for &entity in entities {
        let Some((_, labelled)) = set.entities.get(entity) else {
            return Err(EngineError::param("entity", entity, "not in the label set"));
        };
        let mut rows = Vec::new();
        let mut seen = HashSet::new();
        for addr in &labelled.addresses {
            let txs = client.address_txs(addr, from.pages).await?;
            for tx in txs.iter().filter(|t| seen.insert(t.txid.clone())) {
                rows.extend(
                    outflows(tx, entity, &set.labels)
                        .into_iter()
                        .map(|o| StoredOutflow {
                            entity: entity.to_string(),
                            txid: o.txid,
                            destination: o.destination.name().to_string(),
                            btc: o.btc,
                            time: o.time,
                        }),
                );
            }
            step(FlowsStep::Address);
        }
        let insert = store.insert_outflows(&rows, Source::real(from.url), now)?;
        let fetched = EntityFetched {
            entity: entity.to_string(),
            transactions: seen.len(),
            outflows: rows.len(),
            insert,
        };
        step(FlowsStep::Entity(&fetched));
        done.push(fetched);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::testing::{payload, serve, t};

    /// The recorded page's miner address, a second address of the same miner, and where it
    /// sends coins.
    const LABELS: &str = "[MINER]\nkind = \"miner\"\nsource = \"test\"\naddresses = [\"bc1qminer000000000000000000000000000000001\", \"bc1qminer000000000000000000000000000000002\"]\n\
         [EXCH]\nkind = \"exchange\"\nsource = \"test\"\naddresses = [\"bc1qexchange0000000000000000000000000000001\"]\n\
         [DESK]\nkind = \"otc\"\nsource = \"test\"\naddresses = [\"bc1qotcdesk00000000000000000000000000000001\"]\n";

    /// Fetch `entity` from the API at `url` into `store`, noting each step.
    fn fetch(
        store: &mut dyn Stores,
        url: &str,
        entity: &str,
        steps: &mut Vec<String>,
    ) -> Result<Vec<EntityFetched>, EngineError> {
        let set = crate::labels::parse(LABELS, "labels.toml").unwrap();
        let from = EsploraFetch {
            url,
            pages: 1,
            timeout: Duration::from_secs(10),
        };
        let note = |s: FlowsStep<'_>| {
            steps.push(match s {
                FlowsStep::Address => "address".to_string(),
                FlowsStep::Entity(e) => format!("{} stored", e.entity),
            });
        };
        crate::jobs::block_on(fetch_outflows(
            store,
            &set,
            &[entity],
            &from,
            t("2026-03-01"),
            note,
        ))
        .unwrap()
    }

    #[test]
    fn outflows_are_fetched_taken_once_per_transaction_and_stored_once() {
        let set = crate::labels::parse(LABELS, "labels.toml").unwrap();
        assert_eq!(miners(&set), ["MINER"]);
        assert_eq!(addresses(&set, &miners(&set)), 2);
        // Every address gets the same page: the miner's two addresses show the same
        // transactions, which count once.
        let url = format!(
            "{}/api",
            serve(vec![("", payload("esplora_address_txs.json"))])
        );
        let dir = tempfile::tempdir().unwrap();
        let mut store = canary_store::open(&dir.path().join("f.db")).unwrap();
        let mut steps = Vec::new();
        let done = fetch(&mut *store, &url, "MINER", &mut steps).unwrap();
        assert_eq!(steps, ["address", "address", "MINER stored"]);
        let stored = InsertReport {
            inserted: 2,
            present: 0,
            revised: 0,
        };
        assert_eq!(
            done,
            [EntityFetched {
                entity: "MINER".into(),
                transactions: 2,
                outflows: 2,
                insert: stored
            }]
        );
        let rows = store.outflows("MINER", Some(t("2026-03-01"))).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(
            rows.iter()
                .all(|o| o.destination == "exchange" || o.destination == "otc"),
            "{rows:?}"
        );
        let again = fetch(&mut *store, &url, "MINER", &mut steps).unwrap();
        assert_eq!((again[0].insert.inserted, again[0].insert.present), (0, 2));
    }

    #[test]
    fn a_failing_source_is_named_and_an_unlisted_entity_refused() {
        let url = format!("{}/api", serve(Vec::new()));
        let dir = tempfile::tempdir().unwrap();
        let mut store = canary_store::open(&dir.path().join("f.db")).unwrap();
        let e = fetch(&mut *store, &url, "MINER", &mut Vec::new()).unwrap_err();
        assert!(matches!(e, EngineError::Source(_)), "{e:?}");
        assert!(e.to_string().contains(&url), "{e}");
        let e = fetch(&mut *store, &url, "NOBODY", &mut Vec::new()).unwrap_err();
        assert!(matches!(e, EngineError::Param { .. }), "{e:?}");
    }
}
