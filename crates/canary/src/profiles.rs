//! `miners.toml`: the companies' reported figures, parsed and validated into
//! [`canary_analytics::treasury::Company`] values, each figure kept with its period and source
//! so that it can be cited as a data claim.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use canary_analytics::treasury::{Company, Debt};
use canary_model::{Claim, Timestamp};
use serde::Deserialize;

/// The copy in the repository, used when no file is given and `./miners.toml` does not exist.
pub const BUILT_IN: &str = include_str!("../../../miners.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    pub value: f64,
    pub period_end: String,
    pub source: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    pub btc_held: Option<Fact>,
    pub btc_pledged: Option<Fact>,
    pub cash_usd: Option<Fact>,
    pub hashrate_ehs: Option<Fact>,
    pub efficiency_j_per_th: Option<Fact>,
    pub power_usd_per_mwh: Option<Fact>,
    pub uptime: Option<Fact>,
    pub pool_fee: Option<Fact>,
    pub other_direct_usd_per_month: Option<Fact>,
    pub sga_cash_usd_per_month: Option<Fact>,
    pub depreciation_usd_per_month: Option<Fact>,
    pub capex_usd_per_month: Option<Fact>,
    pub btc_mined_per_month: Option<Fact>,
    pub reported_power_cost_per_btc_usd: Option<Fact>,
    pub reported_cash_cost_per_btc_usd: Option<Fact>,
}

impl Facts {
    /// (key, fact) for each fact present, in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Fact)> {
        [
            ("btc_held", &self.btc_held),
            ("btc_pledged", &self.btc_pledged),
            ("cash_usd", &self.cash_usd),
            ("hashrate_ehs", &self.hashrate_ehs),
            ("efficiency_j_per_th", &self.efficiency_j_per_th),
            ("power_usd_per_mwh", &self.power_usd_per_mwh),
            ("uptime", &self.uptime),
            ("pool_fee", &self.pool_fee),
            (
                "other_direct_usd_per_month",
                &self.other_direct_usd_per_month,
            ),
            ("sga_cash_usd_per_month", &self.sga_cash_usd_per_month),
            (
                "depreciation_usd_per_month",
                &self.depreciation_usd_per_month,
            ),
            ("capex_usd_per_month", &self.capex_usd_per_month),
            ("btc_mined_per_month", &self.btc_mined_per_month),
            (
                "reported_power_cost_per_btc_usd",
                &self.reported_power_cost_per_btc_usd,
            ),
            (
                "reported_cash_cost_per_btc_usd",
                &self.reported_cash_cost_per_btc_usd,
            ),
        ]
        .into_iter()
        .filter_map(|(k, f)| f.as_ref().map(|f| (k, f)))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebtEntry {
    pub name: String,
    pub principal_usd: f64,
    pub coupon_pct: Option<f64>,
    pub maturity: Option<String>,
    pub conversion_price_usd: Option<f64>,
    pub period_end: String,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Miner,
    Treasury,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub kind: Kind,
    #[serde(default)]
    pub facts: Facts,
    #[serde(default)]
    pub debt: Vec<DebtEntry>,
}

/// All profiles, by ticker.
pub type Profiles = BTreeMap<String, Profile>;

/// Where each fact's value must lie: (minimum, maximum).
fn bounds(key: &str) -> (f64, f64) {
    match key {
        "uptime" | "pool_fee" => (0.0, 1.0),
        "efficiency_j_per_th" => (1.0, 500.0),
        "hashrate_ehs" => (0.0, 10_000.0),
        "power_usd_per_mwh" => (0.0, 1_000.0),
        "btc_held" | "btc_pledged" | "btc_mined_per_month" => (0.0, 21_000_000.0),
        _ => (0.0, 1e13),
    }
}

/// Parse and validate profiles. `origin` names the file in errors.
pub fn parse(text: &str, origin: &str) -> Result<Profiles> {
    let profiles: Profiles =
        toml::from_str(text).with_context(|| format!("{origin}: not a valid profiles file"))?;
    for (ticker, p) in &profiles {
        if ticker.is_empty()
            || !ticker
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '.')
        {
            bail!("{origin}: {ticker:?}: a ticker is upper-case letters and digits");
        }
        for (key, f) in p.facts.iter() {
            let (lo, hi) = bounds(key);
            if !f.value.is_finite() || f.value < lo || f.value > hi {
                bail!(
                    "{origin}: {ticker}.facts.{key}.value = {} is impossible (expected {lo} to {hi})",
                    f.value
                );
            }
            date(&f.period_end)
                .with_context(|| format!("{origin}: {ticker}.facts.{key}.period_end"))?;
            if f.source.trim().is_empty() {
                bail!(
                    "{origin}: {ticker}.facts.{key}.source is empty: every figure needs its citation"
                );
            }
        }
        if let (Some(h), Some(pl)) = (&p.facts.btc_held, &p.facts.btc_pledged)
            && pl.value > h.value
        {
            bail!(
                "{origin}: {ticker}.facts.btc_pledged ({}) exceeds btc_held ({})",
                pl.value,
                h.value
            );
        }
        for (i, d) in p.debt.iter().enumerate() {
            let at = format!("{origin}: {ticker}.debt[{i}] ({})", d.name);
            if !d.principal_usd.is_finite() || d.principal_usd < 0.0 {
                bail!("{at}.principal_usd = {} is impossible", d.principal_usd);
            }
            if let Some(c) = d.coupon_pct
                && !(0.0..=50.0).contains(&c)
            {
                bail!("{at}.coupon_pct = {c} is impossible (0 to 50)");
            }
            if let Some(m) = &d.maturity {
                date(m).with_context(|| format!("{at}.maturity"))?;
            }
            date(&d.period_end).with_context(|| format!("{at}.period_end"))?;
            if d.source.trim().is_empty() {
                bail!("{at}.source is empty: every figure needs its citation");
            }
        }
    }
    Ok(profiles)
}

fn date(s: &str) -> Result<Timestamp> {
    Ok(Timestamp::parse(s)?)
}

/// Load profiles: the given file, else `./miners.toml`, else the built-in copy. Returns the
/// profiles and where they came from.
pub fn load(path: Option<&Path>) -> Result<(Profiles, String)> {
    let default = Path::new("miners.toml");
    let path = path.or_else(|| default.exists().then_some(default));
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            Ok((
                parse(&text, &p.display().to_string())?,
                p.display().to_string(),
            ))
        }
        None => Ok((
            parse(BUILT_IN, "built-in miners.toml")?,
            "built-in miners.toml".into(),
        )),
    }
}

impl Profile {
    /// The model's view of the company.
    pub fn company(&self, ticker: &str) -> Company {
        let v = |f: &Option<Fact>| f.as_ref().map(|f| f.value);
        let f = &self.facts;
        Company {
            ticker: ticker.to_string(),
            name: self.name.clone(),
            btc_held: v(&f.btc_held),
            btc_pledged: v(&f.btc_pledged),
            cash_usd: v(&f.cash_usd),
            debt: self
                .debt
                .iter()
                .map(|d| Debt {
                    name: d.name.clone(),
                    principal_usd: d.principal_usd,
                    coupon_pct: d.coupon_pct,
                    maturity: d.maturity.clone(),
                    conversion_price_usd: d.conversion_price_usd,
                })
                .collect(),
            hashrate_ehs: v(&f.hashrate_ehs),
            efficiency_j_per_th: v(&f.efficiency_j_per_th),
            power_usd_per_mwh: v(&f.power_usd_per_mwh),
            uptime: v(&f.uptime),
            pool_fee: v(&f.pool_fee),
            other_direct_usd_per_month: v(&f.other_direct_usd_per_month),
            sga_cash_usd_per_month: v(&f.sga_cash_usd_per_month),
            depreciation_usd_per_month: v(&f.depreciation_usd_per_month),
            capex_usd_per_month: v(&f.capex_usd_per_month),
            btc_mined_per_month: v(&f.btc_mined_per_month),
            reported_power_cost_per_btc_usd: v(&f.reported_power_cost_per_btc_usd),
            reported_cash_cost_per_btc_usd: v(&f.reported_cash_cost_per_btc_usd),
        }
    }

    /// Data claims for every fact and debt principal, as of `asof`.
    pub fn claims(&self, ticker: &str, asof: Timestamp) -> Vec<Claim> {
        let mut out = Vec::new();
        for (key, f) in self.facts.iter() {
            let t = Timestamp::parse(&f.period_end).unwrap_or(Timestamp::EPOCH);
            out.push(Claim::data(
                format!("{ticker} {key}"),
                f.value,
                unit_of(key),
                asof,
                format!("{ticker} {key}"),
                f.source.clone(),
                t,
            ));
        }
        for d in &self.debt {
            let t = Timestamp::parse(&d.period_end).unwrap_or(Timestamp::EPOCH);
            out.push(Claim::data(
                format!("{ticker} debt: {}", d.name),
                d.principal_usd,
                "USD",
                asof,
                format!("{ticker} debt principal"),
                d.source.clone(),
                t,
            ));
        }
        out
    }
}

fn unit_of(key: &str) -> &'static str {
    match key {
        "btc_held" | "btc_pledged" => "BTC",
        "btc_mined_per_month" => "BTC/month",
        "hashrate_ehs" => "EH/s",
        "efficiency_j_per_th" => "J/TH",
        "power_usd_per_mwh" => "USD/MWh",
        "uptime" | "pool_fee" => "fraction",
        "cash_usd" => "USD",
        "reported_power_cost_per_btc_usd" | "reported_cash_cost_per_btc_usd" => "USD/BTC",
        _ => "USD/month",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_profiles_load_and_errors_name_the_key() {
        let p = parse(BUILT_IN, "miners.toml").unwrap();
        for t in [
            "MARA", "RIOT", "CLSK", "IREN", "CORZ", "CIFR", "HUT", "BITF", "WULF", "MSTR",
        ] {
            assert!(p.contains_key(t), "{t} missing from miners.toml");
        }
        let bad = "[X]\nname = \"x\"\nkind = \"miner\"\n[X.facts.btc_hold]\nvalue = 1\nperiod_end = \"2025-01-01\"\nsource = \"s\"\n";
        let e = format!("{:#}", parse(bad, "m.toml").unwrap_err());
        assert!(e.contains("btc_hold"), "{e}");
        let bad = "[X]\nname = \"x\"\nkind = \"miner\"\n[X.facts.uptime]\nvalue = 1.5\nperiod_end = \"2025-01-01\"\nsource = \"s\"\n";
        let e = format!("{:#}", parse(bad, "m.toml").unwrap_err());
        assert!(
            e.contains("X.facts.uptime.value = 1.5 is impossible"),
            "{e}"
        );
    }
}
