//! Entity label sets (TOML): which addresses belong to which miner, exchange, OTC desk or
//! custodian. Users keep their own file; each entity cites where its labels come from.
//!
//! ```toml
//! [MARA]
//! kind = "miner"            # miner | exchange | otc | custodian
//! source = "where these labels come from"
//! addresses = ["bc1q…", "3…"]
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use canary_analytics::flows::{EntityKind, Labels};
use serde::Deserialize;

use crate::EngineError;

fn err(origin: &str, message: String) -> EngineError {
    EngineError::File {
        origin: origin.to_string(),
        message,
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    pub kind: String,
    pub source: String,
    pub addresses: Vec<String>,
}

/// The parsed file: entities by name, and the address index.
#[derive(Debug)]
pub struct LabelSet {
    pub entities: BTreeMap<String, (EntityKind, Entity)>,
    pub labels: Labels,
}

fn kind(s: &str) -> Option<EntityKind> {
    match s {
        "miner" => Some(EntityKind::Miner),
        "exchange" => Some(EntityKind::Exchange),
        "otc" => Some(EntityKind::Otc),
        "custodian" => Some(EntityKind::Custodian),
        _ => None,
    }
}

/// Parse and validate a label file; errors name the entity and key.
///
/// # Errors
/// [`EngineError::File`]: TOML that does not parse, an unknown kind, an entity without
/// addresses or source, an address that is not one, or one labelled twice.
pub fn parse(text: &str, origin: &str) -> Result<LabelSet, EngineError> {
    let raw: BTreeMap<String, Entity> =
        toml::from_str(text).map_err(|e| err(origin, format!("not a valid label file: {e}")))?;
    let mut labels = Labels::default();
    let mut entities = BTreeMap::new();
    for (name, e) in raw {
        let Some(k) = kind(&e.kind) else {
            return Err(err(
                origin,
                format!(
                    "{name}.kind = {:?}: use miner, exchange, otc or custodian",
                    e.kind
                ),
            ));
        };
        if e.addresses.is_empty() {
            return Err(err(origin, format!("{name}.addresses is empty")));
        }
        if e.source.trim().is_empty() {
            return Err(err(
                origin,
                format!("{name}.source is empty: say where the labels come from"),
            ));
        }
        for a in &e.addresses {
            let a = a.trim();
            if a.is_empty() || a.len() > 100 || !a.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(err(
                    origin,
                    format!("{name}.addresses: {a:?} is not a Bitcoin address"),
                ));
            }
            labels.add(a, &name, k).map_err(|e| err(origin, e))?;
        }
        entities.insert(name, (k, e));
    }
    Ok(LabelSet { entities, labels })
}

/// Read a label file.
///
/// # Errors
/// The file cannot be read, or [`parse`] refuses it.
pub fn load(path: &Path) -> Result<LabelSet, EngineError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| err(&origin, format!("cannot read the label file: {e}")))?;
    parse(&text, &origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_validate() {
        let ok = "[MARA]\nkind = \"miner\"\nsource = \"s\"\naddresses = [\"bc1qa\"]\n[CB]\nkind = \"exchange\"\nsource = \"s\"\naddresses = [\"bc1qb\"]\n";
        let l = parse(ok, "l.toml").unwrap();
        assert_eq!(l.labels.get("bc1qb").map(|x| x.0), Some("CB"));
        let e = format!(
            "{:#}",
            parse(
                "[X]\nkind = \"bank\"\nsource = \"s\"\naddresses = [\"a\"]\n",
                "l.toml"
            )
            .unwrap_err()
        );
        assert!(e.contains("X.kind"), "{e}");
        let dup = "[A]\nkind = \"miner\"\nsource = \"s\"\naddresses = [\"bc1qa\"]\n[B]\nkind = \"otc\"\nsource = \"s\"\naddresses = [\"bc1qa\"]\n";
        assert!((parse(dup, "l.toml").unwrap_err().to_string()).contains("labelled both"));
        let e = parse(
            "[A]\nkind = \"miner\"\nsource = \"s\"\naddresses = [\"a\"]\nextra = 1\n",
            "l.toml",
        )
        .unwrap_err();
        assert!(
            matches!(&e, EngineError::File { origin, message } if origin == "l.toml" && message.contains("extra")),
            "{e}"
        );
    }
}
