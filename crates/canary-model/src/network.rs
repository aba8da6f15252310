//! Bitcoin network observations as sources report them, in model units.

use serde::Serialize;

use crate::time::Timestamp;

/// The state of the current difficulty epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DifficultyEpoch {
    /// Share of the epoch's 2,016 blocks mined so far, in percent.
    pub progress_pct: f64,
    /// Projected change at the retarget, in percent.
    pub projected_change_pct: f64,
    pub remaining_blocks: u64,
    pub next_retarget_height: u64,
    pub estimated_retarget: Timestamp,
    /// The change at the previous retarget, in percent.
    pub previous_change_pct: f64,
}

/// A network hash-rate estimate at a time (H/s).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HashrateSample {
    pub time: Timestamp,
    pub hashrate_hs: f64,
}

/// The difficulty in force from a block on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DifficultySample {
    pub time: Timestamp,
    pub height: u64,
    pub difficulty: f64,
}

/// One block's figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BlockStats {
    pub height: u64,
    pub time: Timestamp,
    pub difficulty: Option<f64>,
    pub subsidy_btc: Option<f64>,
    pub fees_btc: Option<f64>,
    pub tx_count: Option<u64>,
}

/// The chain tip as a node or explorer reports it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChainTip {
    pub height: u64,
    pub difficulty: f64,
    /// The node's own hash-rate estimate, when it gives one.
    pub hashrate_hs: Option<f64>,
    pub median_time: Option<Timestamp>,
}

/// A transaction as an address API shows it: who paid (each input's previous output) and who
/// was paid, in satoshis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainTx {
    pub txid: String,
    /// Block time; `None` while unconfirmed.
    pub time: Option<Timestamp>,
    pub inputs: Vec<TxOut>,
    pub outputs: Vec<TxOut>,
}

/// An output: the address it pays (none for non-standard scripts) and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TxOut {
    pub address: Option<String>,
    pub sats: u64,
}

/// A daily network series as Canary stores it. Fetched series are kept apart per vendor
/// (`mempool:hashrate_hs`): see [`NetworkSeries::stored_name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NetworkSeries {
    /// Network hash rate, H/s.
    HashrateHs,
    /// Difficulty (dimensionless).
    Difficulty,
    /// Block subsidy issued per day, BTC.
    SubsidyBtc,
    /// Block subsidy issued per day, USD at the day's price.
    SubsidyUsd,
    /// Average fees per block, BTC.
    FeesBtc,
    /// Fees paid over the day, all blocks together, BTC.
    FeesTotalBtc,
    /// Fleet efficiency (Cambridge CBECI), estimate, J/TH.
    FleetEfficiencyEstimate,
    /// Fleet efficiency, lower bound (the most efficient fleet consistent with the data), J/TH.
    FleetEfficiencyLower,
    /// Fleet efficiency, upper bound, J/TH.
    FleetEfficiencyUpper,
}

impl NetworkSeries {
    pub const ALL: [NetworkSeries; 9] = [
        NetworkSeries::HashrateHs,
        NetworkSeries::Difficulty,
        NetworkSeries::SubsidyBtc,
        NetworkSeries::SubsidyUsd,
        NetworkSeries::FeesBtc,
        NetworkSeries::FeesTotalBtc,
        NetworkSeries::FleetEfficiencyEstimate,
        NetworkSeries::FleetEfficiencyLower,
        NetworkSeries::FleetEfficiencyUpper,
    ];

    /// The name in the store (`hashrate_hs`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            NetworkSeries::HashrateHs => "hashrate_hs",
            NetworkSeries::Difficulty => "difficulty",
            NetworkSeries::SubsidyBtc => "subsidy_btc",
            NetworkSeries::SubsidyUsd => "subsidy_usd",
            NetworkSeries::FeesBtc => "fees_btc",
            NetworkSeries::FeesTotalBtc => "fees_total_btc",
            NetworkSeries::FleetEfficiencyEstimate => "fleet_efficiency_estimate_j_per_th",
            NetworkSeries::FleetEfficiencyLower => "fleet_efficiency_lower_j_per_th",
            NetworkSeries::FleetEfficiencyUpper => "fleet_efficiency_upper_j_per_th",
        }
    }

    /// The unit of its values.
    #[must_use]
    pub const fn unit(self) -> &'static str {
        match self {
            NetworkSeries::HashrateHs => "H/s",
            NetworkSeries::Difficulty => "",
            NetworkSeries::SubsidyBtc | NetworkSeries::FeesTotalBtc => "BTC/day",
            NetworkSeries::SubsidyUsd => "USD/day",
            NetworkSeries::FeesBtc => "BTC/block",
            NetworkSeries::FleetEfficiencyEstimate
            | NetworkSeries::FleetEfficiencyLower
            | NetworkSeries::FleetEfficiencyUpper => "J/TH",
        }
    }

    /// The largest value accepted, far above anything the network has shown, so that what the
    /// analytics form from these values (hash price, power = hash rate × efficiency, revenue
    /// = subsidy × price, sums over decades of days) stays finite: hash rate 1e27 H/s (a
    /// million times the 2025 rate of 1e21), difficulty 1e20 (a million times 1.5e14), BTC
    /// amounts 2.1e7 (every bitcoin there will ever be), USD 1e15 a day, fleet efficiency 1e9
    /// J/TH (CPU mining in 2010 was near 1.4e7). Their products stay below 1e40.
    #[must_use]
    pub const fn max_value(self) -> f64 {
        match self {
            NetworkSeries::HashrateHs => 1e27,
            NetworkSeries::Difficulty => 1e20,
            NetworkSeries::SubsidyBtc | NetworkSeries::FeesBtc | NetworkSeries::FeesTotalBtc => {
                2.1e7
            }
            NetworkSeries::SubsidyUsd => 1e15,
            NetworkSeries::FleetEfficiencyEstimate
            | NetworkSeries::FleetEfficiencyLower
            | NetworkSeries::FleetEfficiencyUpper => 1e9,
        }
    }

    /// Why `v` is not a value of this series, if it is not: it must be finite, at least 0 and
    /// at most [`NetworkSeries::max_value`].
    #[must_use]
    pub fn refuse(self, v: f64) -> Option<String> {
        let unit = match self.unit() {
            "" => String::new(),
            u => format!(" {u}"),
        };
        let v_ = crate::candle::shown(v);
        if !v.is_finite() || v < 0.0 {
            Some(format!("{v_} is not a finite value ≥ 0{unit}"))
        } else if v > self.max_value() {
            Some(format!(
                "{v_} is above {:e}{unit}, the largest {} accepted (larger values would overflow the analytics: check the file's units)",
                self.max_value(),
                self.name()
            ))
        } else {
            None
        }
    }

    /// The series a stored name (`hashrate_hs`, `mempool:hashrate_hs`) is of, if it is one.
    #[must_use]
    pub fn from_stored_name(name: &str) -> Option<Self> {
        let base = name.rsplit_once(':').map_or(name, |(_, b)| b);
        Self::ALL.into_iter().find(|s| s.name() == base)
    }

    /// The stored name of this series from a vendor (`mempool:hashrate_hs`), or the imported
    /// series when `vendor` is `None`.
    #[must_use]
    pub fn stored_name(self, vendor: Option<&str>) -> String {
        match vendor {
            Some(v) => format!("{v}:{}", self.name()),
            None => self.name().to_string(),
        }
    }
}

impl std::fmt::Display for NetworkSeries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
