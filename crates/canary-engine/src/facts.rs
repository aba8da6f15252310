//! Company facts (`miners.toml`): each company's reported figures, every figure a history of
//! dated values with the date it became public, so that a report as of T uses what was known
//! at T and cites it.
//!
//! ```toml
//! [MSTR]
//! name = "Strategy Inc"
//! kind = "treasury"                    # miner | treasury
//!
//! [[MSTR.facts.btc_held]]
//! value = 713502
//! period_end = "2026-02-01"            # the date the figure describes
//! published_at = "2026-02-02"          # when it became public (filing or release date)
//! source = "SEC 8-K filed 2026-02-02 acc 0001193125-26-032731"
//!
//! [[MSTR.debt]]
//! name = "2028 Convertible Notes"
//! principal_usd = 1010000000
//! coupon_pct = 0.625
//! maturity = "2028-09-15"
//! conversion_price_usd = 183.19
//! period_end = "2025-03-31"
//! published_at = "2025-05-05"
//! source = "SEC 10-Q Q1 2025 …"
//! ```
//!
//! A figure whose publication date is unknown names its `document` kind instead (`8-K`,
//! `10-Q`, `10-K`, `6-K`, `release`, `monthly-update`, `other`) and is taken as published that
//! kind's filing lag after its period end ([`Document::lag_days`]); reports say so. With
//! neither, the longest lag (`other`, 90 days) applies. A single table (`[T.facts.key]`) is
//! accepted for a figure with one value.

use std::collections::BTreeMap;

use canary_analytics::treasury::{Company, Debt};
use canary_model::{Claim, Timestamp};
use serde::Deserialize;

use crate::EngineError;

const DAY_MS: i64 = 86_400_000;

/// The copy in the repository, compiled in: used when no file is given and there is no
/// `./miners.toml`.
pub const BUILT_IN: &str = include_str!("../../../miners.toml");

/// Every figure a company profile may report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactKey {
    BtcHeld,
    BtcPledged,
    CashUsd,
    HashrateEhs,
    EfficiencyJPerTh,
    PowerUsdPerMwh,
    Uptime,
    PoolFee,
    OtherDirectUsdPerMonth,
    SgaCashUsdPerMonth,
    DepreciationUsdPerMonth,
    CapexUsdPerMonth,
    BtcMinedPerMonth,
    ReportedPowerCostPerBtcUsd,
    ReportedCashCostPerBtcUsd,
}

impl FactKey {
    /// The key as written in the file.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            FactKey::BtcHeld => "btc_held",
            FactKey::BtcPledged => "btc_pledged",
            FactKey::CashUsd => "cash_usd",
            FactKey::HashrateEhs => "hashrate_ehs",
            FactKey::EfficiencyJPerTh => "efficiency_j_per_th",
            FactKey::PowerUsdPerMwh => "power_usd_per_mwh",
            FactKey::Uptime => "uptime",
            FactKey::PoolFee => "pool_fee",
            FactKey::OtherDirectUsdPerMonth => "other_direct_usd_per_month",
            FactKey::SgaCashUsdPerMonth => "sga_cash_usd_per_month",
            FactKey::DepreciationUsdPerMonth => "depreciation_usd_per_month",
            FactKey::CapexUsdPerMonth => "capex_usd_per_month",
            FactKey::BtcMinedPerMonth => "btc_mined_per_month",
            FactKey::ReportedPowerCostPerBtcUsd => "reported_power_cost_per_btc_usd",
            FactKey::ReportedCashCostPerBtcUsd => "reported_cash_cost_per_btc_usd",
        }
    }

    /// The unit of its values.
    #[must_use]
    pub const fn unit(self) -> &'static str {
        match self {
            FactKey::BtcHeld | FactKey::BtcPledged => "BTC",
            FactKey::BtcMinedPerMonth => "BTC/month",
            FactKey::HashrateEhs => "EH/s",
            FactKey::EfficiencyJPerTh => "J/TH",
            FactKey::PowerUsdPerMwh => "USD/MWh",
            FactKey::Uptime | FactKey::PoolFee => "fraction",
            FactKey::CashUsd => "USD",
            FactKey::ReportedPowerCostPerBtcUsd | FactKey::ReportedCashCostPerBtcUsd => "USD/BTC",
            FactKey::OtherDirectUsdPerMonth
            | FactKey::SgaCashUsdPerMonth
            | FactKey::DepreciationUsdPerMonth
            | FactKey::CapexUsdPerMonth => "USD/month",
        }
    }

    /// Where a value must lie: (minimum, maximum).
    fn bounds(self) -> (f64, f64) {
        match self {
            FactKey::Uptime | FactKey::PoolFee => (0.0, 1.0),
            FactKey::EfficiencyJPerTh => (1.0, 500.0),
            FactKey::HashrateEhs => (0.0, 10_000.0),
            FactKey::PowerUsdPerMwh => (0.0, 1_000.0),
            FactKey::BtcHeld | FactKey::BtcPledged | FactKey::BtcMinedPerMonth => {
                (0.0, 21_000_000.0)
            }
            _ => (0.0, 1e13),
        }
    }
}

/// The kind of document a figure comes from, for figures whose publication date is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Document {
    /// Current report: due within four business days of the event (SEC Form 8-K, General
    /// Instruction B.1); six calendar days cover a weekend.
    #[serde(rename = "8-K")]
    Form8K,
    /// Quarterly report: due 40 or 45 days after the quarter (SEC Form 10-Q, General
    /// Instruction A.1); the later deadline is used.
    #[serde(rename = "10-Q")]
    Form10Q,
    /// Annual report: due 60, 75 or 90 days after the year (SEC Form 10-K, General Instruction
    /// A.2); the latest is used.
    #[serde(rename = "10-K")]
    Form10K,
    /// A foreign issuer's interim report: no fixed deadline; taken as a quarterly report.
    #[serde(rename = "6-K")]
    Form6K,
    /// A results press release: taken as a quarterly report.
    #[serde(rename = "release")]
    Release,
    /// A miner's monthly production update: published in the first two weeks of the month.
    #[serde(rename = "monthly-update")]
    MonthlyUpdate,
    /// Anything else (analyst notes, news coverage): the longest lag.
    #[serde(rename = "other")]
    Other,
}

impl Document {
    /// Days after the period end by which a document of this kind is taken to be public.
    #[must_use]
    pub const fn lag_days(self) -> i64 {
        match self {
            Document::Form8K => 6,
            Document::Form10Q | Document::Form6K | Document::Release => 45,
            Document::MonthlyUpdate => 15,
            Document::Form10K | Document::Other => 90,
        }
    }

    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Document::Form8K => "8-K",
            Document::Form10Q => "10-Q",
            Document::Form10K => "10-K",
            Document::Form6K => "6-K",
            Document::Release => "release",
            Document::MonthlyUpdate => "monthly-update",
            Document::Other => "other",
        }
    }
}

/// When a figure became public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// The filing or release date.
    On(Timestamp),
    /// Unknown: taken as the document kind's filing lag after the period end.
    Assumed { at: Timestamp, document: Document },
}

impl Published {
    /// The moment the figure is taken to be knowable.
    #[must_use]
    pub const fn at(self) -> Timestamp {
        match self {
            Published::On(t) | Published::Assumed { at: t, .. } => t,
        }
    }

    /// How the citation says it: `published 2026-02-02`, or the assumption.
    #[must_use]
    pub fn describe(self) -> String {
        match self {
            Published::On(t) => format!("published {}", date(t)),
            Published::Assumed { at, document } => format!(
                "publication date unknown: taken as {}, {} days after the period end ({} filing lag)",
                date(at),
                document.lag_days(),
                document.name()
            ),
        }
    }
}

/// `2026-02-02`.
fn date(t: Timestamp) -> String {
    t.to_string()[..10].to_string()
}

/// One dated value of a figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub value: f64,
    /// The date the figure describes.
    pub period_end: Timestamp,
    pub published: Published,
    pub source: String,
}

/// One debt instrument as reported at a date.
#[derive(Debug, Clone, PartialEq)]
pub struct DebtFact {
    pub name: String,
    pub principal_usd: f64,
    pub coupon_pct: Option<f64>,
    pub maturity: Option<String>,
    pub conversion_price_usd: Option<f64>,
    pub period_end: Timestamp,
    pub published: Published,
    pub source: String,
}

/// Miner or treasury company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Miner,
    Treasury,
}

/// A company's whole history of figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: String,
    pub kind: Kind,
    /// Each figure's values, oldest publication first.
    pub facts: BTreeMap<FactKey, Vec<Fact>>,
    pub debt: Vec<DebtFact>,
}

/// All companies of a facts file, by ticker, and where they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Profiles {
    pub companies: BTreeMap<String, Profile>,
    /// The file (`miners.toml`) or `built-in miners.toml`.
    pub origin: String,
}

// ---- the file's raw form ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFact {
    value: f64,
    period_end: String,
    published_at: Option<String>,
    document: Option<Document>,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(RawFact),
    Many(Vec<RawFact>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDebt {
    name: String,
    principal_usd: f64,
    coupon_pct: Option<f64>,
    maturity: Option<String>,
    conversion_price_usd: Option<f64>,
    period_end: String,
    published_at: Option<String>,
    document: Option<Document>,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    kind: Kind,
    #[serde(default)]
    facts: BTreeMap<FactKey, OneOrMany>,
    #[serde(default)]
    debt: Vec<RawDebt>,
}

fn file_err(origin: &str, message: impl Into<String>) -> EngineError {
    EngineError::File {
        origin: origin.to_string(),
        message: message.into(),
    }
}

fn parse_date(origin: &str, at: &str, s: &str) -> Result<Timestamp, EngineError> {
    Timestamp::parse(s).map_err(|e| file_err(origin, format!("{at}: {e}")))
}

fn publication(
    origin: &str,
    at: &str,
    period_end: Timestamp,
    published_at: Option<&str>,
    document: Option<Document>,
) -> Result<Published, EngineError> {
    if let Some(p) = published_at {
        let t = parse_date(origin, &format!("{at}.published_at"), p)?;
        if t < period_end {
            return Err(file_err(
                origin,
                format!(
                    "{at}.published_at {} is before its period_end {}",
                    date(t),
                    date(period_end)
                ),
            ));
        }
        Ok(Published::On(t))
    } else {
        let document = document.unwrap_or(Document::Other);
        Ok(Published::Assumed {
            at: period_end.add_millis(document.lag_days() * DAY_MS),
            document,
        })
    }
}

fn check_source(origin: &str, at: &str, source: &str) -> Result<(), EngineError> {
    if source.trim().is_empty() {
        return Err(file_err(
            origin,
            format!("{at}.source is empty: every figure needs its citation"),
        ));
    }
    Ok(())
}

fn convert_fact(origin: &str, at: &str, key: FactKey, f: RawFact) -> Result<Fact, EngineError> {
    let (lo, hi) = key.bounds();
    if !f.value.is_finite() || f.value < lo || f.value > hi {
        return Err(file_err(
            origin,
            format!(
                "{at}.value = {} is impossible (expected {lo} to {hi})",
                f.value
            ),
        ));
    }
    let period_end = parse_date(origin, &format!("{at}.period_end"), &f.period_end)?;
    check_source(origin, at, &f.source)?;
    Ok(Fact {
        value: f.value,
        period_end,
        published: publication(
            origin,
            at,
            period_end,
            f.published_at.as_deref(),
            f.document,
        )?,
        source: f.source,
    })
}

fn convert_debt(origin: &str, at: &str, d: RawDebt) -> Result<DebtFact, EngineError> {
    // Bounded like the other USD figures (1e13), so that sums of a company's debts and
    // their products with prices stay finite.
    if !d.principal_usd.is_finite() || !(0.0..=1e13).contains(&d.principal_usd) {
        return Err(file_err(
            origin,
            format!(
                "{at}.principal_usd = {:e} is impossible (0 to 1e13)",
                d.principal_usd
            ),
        ));
    }
    if let Some(p) = d.conversion_price_usd
        && !(p.is_finite() && p > 0.0 && p <= canary_model::MAX_PRICE)
    {
        return Err(file_err(
            origin,
            format!("{at}.conversion_price_usd = {p:e} is impossible (above 0, at most 1e12)"),
        ));
    }
    if let Some(c) = d.coupon_pct
        && !(0.0..=50.0).contains(&c)
    {
        return Err(file_err(
            origin,
            format!("{at}.coupon_pct = {c} is impossible (0 to 50)"),
        ));
    }
    if let Some(m) = &d.maturity {
        parse_date(origin, &format!("{at}.maturity"), m)?;
    }
    let period_end = parse_date(origin, &format!("{at}.period_end"), &d.period_end)?;
    check_source(origin, at, &d.source)?;
    Ok(DebtFact {
        published: publication(
            origin,
            at,
            period_end,
            d.published_at.as_deref(),
            d.document,
        )?,
        name: d.name,
        principal_usd: d.principal_usd,
        coupon_pct: d.coupon_pct,
        maturity: d.maturity,
        conversion_price_usd: d.conversion_price_usd,
        period_end,
        source: d.source,
    })
}

impl Profiles {
    /// Parse and validate a facts file; `origin` names it in errors, which name the company
    /// and key (`m.toml: X.facts.uptime[0].value = 1.5 is impossible`).
    ///
    /// # Errors
    /// [`EngineError::File`] for TOML that does not parse, an unknown key, an impossible
    /// value, a bad date, a publication before the period it describes, or a missing source.
    pub fn parse(text: &str, origin: &str) -> Result<Profiles, EngineError> {
        let raw: BTreeMap<String, RawProfile> = toml::from_str(text)
            .map_err(|e| file_err(origin, format!("not a valid facts file: {e}")))?;
        let mut companies = BTreeMap::new();
        for (ticker, p) in raw {
            if ticker.is_empty()
                || !ticker
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '.')
            {
                return Err(file_err(
                    origin,
                    format!("{ticker:?}: a ticker is upper-case letters and digits"),
                ));
            }
            let mut facts = BTreeMap::new();
            for (key, values) in p.facts {
                let values = match values {
                    OneOrMany::One(f) => vec![f],
                    OneOrMany::Many(v) => v,
                };
                let mut out = Vec::new();
                for (i, f) in values.into_iter().enumerate() {
                    let at = format!("{ticker}.facts.{}[{i}]", key.name());
                    out.push(convert_fact(origin, &at, key, f)?);
                }
                out.sort_by_key(|f| (f.published.at(), f.period_end));
                facts.insert(key, out);
            }
            let mut debt = Vec::new();
            for (i, d) in p.debt.into_iter().enumerate() {
                let at = format!("{ticker}.debt[{i}] ({})", d.name);
                debt.push(convert_debt(origin, &at, d)?);
            }
            let profile = Profile {
                name: p.name,
                kind: p.kind,
                facts,
                debt,
            };
            // Every state the file describes must be possible, not only the latest.
            for f in profile
                .facts
                .get(&FactKey::BtcPledged)
                .into_iter()
                .flatten()
            {
                let held = profile.as_of(&ticker, f.published.at());
                if let Some(h) = held.fact(FactKey::BtcHeld)
                    && f.value > h.value
                {
                    return Err(file_err(
                        origin,
                        format!(
                            "{ticker}.facts.btc_pledged ({}) exceeds btc_held ({})",
                            f.value, h.value
                        ),
                    ));
                }
            }
            companies.insert(ticker, profile);
        }
        Ok(Profiles {
            companies,
            origin: origin.to_string(),
        })
    }

    /// The built-in copy.
    ///
    /// # Errors
    /// Never for the shipped file (a test parses it); the error is kept for symmetry.
    pub fn built_in() -> Result<Profiles, EngineError> {
        Profiles::parse(BUILT_IN, "built-in miners.toml")
    }

    /// Read a facts file.
    ///
    /// # Errors
    /// The file cannot be read, or [`Profiles::parse`] refuses it.
    pub fn read(path: &std::path::Path) -> Result<Profiles, EngineError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| file_err(&origin, format!("cannot read: {e}")))?;
        Profiles::parse(&text, &origin)
    }
}

/// A company as known at a time: each figure's latest value published by then, and the debt
/// instruments as last reported by then.
#[derive(Debug, Clone, PartialEq)]
pub struct CompanyAsOf {
    pub ticker: String,
    pub name: String,
    pub kind: Kind,
    pub facts: BTreeMap<FactKey, Fact>,
    pub debt: Vec<DebtFact>,
}

impl Profile {
    /// What was public at `t`.
    #[must_use]
    pub fn as_of(&self, ticker: &str, t: Timestamp) -> CompanyAsOf {
        let facts = self
            .facts
            .iter()
            .filter_map(|(k, v)| {
                v.iter()
                    .filter(|f| f.published.at() <= t)
                    .max_by_key(|f| (f.published.at(), f.period_end))
                    .map(|f| (*k, f.clone()))
            })
            .collect();
        let mut latest: BTreeMap<&str, &DebtFact> = BTreeMap::new();
        for d in self.debt.iter().filter(|d| d.published.at() <= t) {
            let newer = latest.get(d.name.as_str()).is_none_or(|x| {
                (d.published.at(), d.period_end) >= (x.published.at(), x.period_end)
            });
            if newer {
                latest.insert(&d.name, d);
            }
        }
        // Debt in the file's order.
        let debt = self
            .debt
            .iter()
            .filter(|d| {
                latest
                    .get(d.name.as_str())
                    .is_some_and(|x| std::ptr::eq(*x, *d))
            })
            .cloned()
            .collect();
        CompanyAsOf {
            ticker: ticker.to_string(),
            name: self.name.clone(),
            kind: self.kind,
            facts,
            debt,
        }
    }
}

impl CompanyAsOf {
    #[must_use]
    pub fn fact(&self, key: FactKey) -> Option<&Fact> {
        self.facts.get(&key)
    }

    /// The model's view of the company.
    #[must_use]
    pub fn company(&self) -> Company {
        let v = |k| self.fact(k).map(|f| f.value);
        Company {
            ticker: self.ticker.clone(),
            name: self.name.clone(),
            btc_held: v(FactKey::BtcHeld),
            btc_pledged: v(FactKey::BtcPledged),
            cash_usd: v(FactKey::CashUsd),
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
            hashrate_ehs: v(FactKey::HashrateEhs),
            efficiency_j_per_th: v(FactKey::EfficiencyJPerTh),
            power_usd_per_mwh: v(FactKey::PowerUsdPerMwh),
            uptime: v(FactKey::Uptime),
            pool_fee: v(FactKey::PoolFee),
            other_direct_usd_per_month: v(FactKey::OtherDirectUsdPerMonth),
            sga_cash_usd_per_month: v(FactKey::SgaCashUsdPerMonth),
            depreciation_usd_per_month: v(FactKey::DepreciationUsdPerMonth),
            capex_usd_per_month: v(FactKey::CapexUsdPerMonth),
            btc_mined_per_month: v(FactKey::BtcMinedPerMonth),
            reported_power_cost_per_btc_usd: v(FactKey::ReportedPowerCostPerBtcUsd),
            reported_cash_cost_per_btc_usd: v(FactKey::ReportedCashCostPerBtcUsd),
        }
    }

    /// A data claim for a figure, citing its source and when it became public.
    #[must_use]
    pub fn fact_claim(&self, key: FactKey, f: &Fact, asof: Timestamp) -> Claim {
        Claim::data(
            format!("{} {}", self.ticker, key.name()),
            f.value,
            key.unit(),
            asof,
            format!("{} {}", self.ticker, key.name()),
            format!("{}; {}", f.source, f.published.describe()),
            f.period_end,
        )
    }

    /// A data claim for a debt instrument's principal.
    #[must_use]
    pub fn debt_claim(&self, d: &DebtFact, asof: Timestamp) -> Claim {
        Claim::data(
            format!("{} debt: {}", self.ticker, d.name),
            d.principal_usd,
            "USD",
            asof,
            format!("{} debt principal", self.ticker),
            format!("{}; {}", d.source, d.published.describe()),
            d.period_end,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn the_repository_file_loads_with_every_company() {
        let p = Profiles::built_in().unwrap();
        for tk in [
            "MARA", "RIOT", "CLSK", "IREN", "CORZ", "CIFR", "HUT", "BITF", "WULF", "MSTR",
        ] {
            assert!(
                p.companies.contains_key(tk),
                "{tk} missing from miners.toml"
            );
        }
    }

    #[test]
    fn errors_name_the_company_and_key() {
        let bad = "[X]\nname = \"x\"\nkind = \"miner\"\n[X.facts.btc_hold]\nvalue = 1\nperiod_end = \"2025-01-01\"\nsource = \"s\"\n";
        let e = Profiles::parse(bad, "m.toml").unwrap_err().to_string();
        assert!(e.contains("btc_hold") && e.starts_with("m.toml"), "{e}");
        let bad = "[X]\nname = \"x\"\nkind = \"miner\"\n[X.facts.uptime]\nvalue = 1.5\nperiod_end = \"2025-01-01\"\nsource = \"s\"\n";
        let e = Profiles::parse(bad, "m.toml").unwrap_err().to_string();
        assert!(
            e.contains("X.facts.uptime[0].value = 1.5 is impossible"),
            "{e}"
        );
        let bad = "[X]\nname = \"x\"\nkind = \"miner\"\n[X.facts.uptime]\nvalue = 0.5\nperiod_end = \"2025-01-01\"\npublished_at = \"2024-12-01\"\nsource = \"s\"\n";
        let e = Profiles::parse(bad, "m.toml").unwrap_err().to_string();
        assert!(e.contains("before its period_end"), "{e}");
    }

    const HISTORY: &str = r#"
[M]
name = "M"
kind = "treasury"
[[M.facts.btc_held]]
value = 100
period_end = "2026-02-01"
published_at = "2026-02-02"
source = "8-K filed 2026-02-02"
[[M.facts.btc_held]]
value = 200
period_end = "2026-02-08"
published_at = "2026-02-09"
source = "8-K filed 2026-02-09"
[M.facts.cash_usd]
value = 5
period_end = "2025-12-31"
document = "10-Q"
source = "quarterly report"
[[M.debt]]
name = "Note"
principal_usd = 10
period_end = "2025-03-31"
published_at = "2025-05-05"
source = "10-Q"
[[M.debt]]
name = "Note"
principal_usd = 0
period_end = "2025-12-31"
published_at = "2026-02-05"
source = "10-K: repaid"
"#;

    /// Issue 19, item 8: a debt of 1e307 was taken; its sums overflowed.
    #[test]
    fn debts_beyond_any_balance_sheet_are_refused() {
        for (line, says) in [
            (
                "principal_usd = 1e307",
                "principal_usd = 1e307 is impossible (0 to 1e13)",
            ),
            (
                "principal_usd = 10\nconversion_price_usd = 1e300",
                "conversion_price_usd = 1e300 is impossible",
            ),
        ] {
            let text = HISTORY.replacen("principal_usd = 10", line, 1);
            let e = Profiles::parse(&text, "h.toml").unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn each_figure_is_read_as_published_by_the_time() {
        let p = Profiles::parse(HISTORY, "h.toml").unwrap();
        let m = &p.companies["M"];
        let at = |s| m.as_of("M", t(s));
        assert!(at("2026-02-01").fact(FactKey::BtcHeld).is_none());
        assert_eq!(
            at("2026-02-06").fact(FactKey::BtcHeld).unwrap().value,
            100.0
        );
        assert_eq!(
            at("2026-02-09").fact(FactKey::BtcHeld).unwrap().value,
            200.0
        );
        // Undated: a 10-Q is taken as public 45 days after its period.
        assert!(at("2026-02-13").fact(FactKey::CashUsd).is_none());
        let cash = at("2026-02-14");
        let f = cash.fact(FactKey::CashUsd).unwrap();
        assert_eq!(f.published.at(), t("2026-02-14"));
        let claim = cash.fact_claim(FactKey::CashUsd, f, t("2026-02-14"));
        let canary_model::Provenance::Data { source, .. } = &claim.provenance else {
            panic!("a data claim")
        };
        assert!(source.contains("10-Q filing lag"), "{source}");
        // Debt: the latest report of each instrument by the time.
        assert_eq!(at("2026-01-01").debt[0].principal_usd, 10.0);
        assert_eq!(at("2026-02-06").debt[0].principal_usd, 0.0);
        assert_eq!(at("2026-02-06").debt.len(), 1);
    }
}
