//! The long-running commands: `serve` (the HTTP API), `run` (the engine) and `demo`.

use std::path::PathBuf;

use clap::Args;

use super::seconds;

fn limit_seconds(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .parse()
        .map_err(|_| format!("{s} is not a number of seconds"))?;
    if (0.1..=3600.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("{s}: give 0.1 to 3600 seconds"))
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen here (port 0: any free port, printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// Allow an address other than loopback (the API has no TLS: put a proxy in front).
    #[arg(long)]
    pub public: bool,
    /// Answer cross-origin requests from this origin (CORS is off without it).
    #[arg(long)]
    pub cors_origin: Option<String>,
    /// Requests per minute per token (1 to 1000000).
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate: u32,
    /// Seconds a report may take (at most 3600).
    #[arg(long, default_value_t = 10.0, value_parser = seconds)]
    pub timeout: f64,
    /// The largest request body, in bytes (1 to 16777216).
    #[arg(long, default_value_t = 65_536, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    pub max_body: u32,
    /// Also run the engine on this config (as `canary run`), its bars, scores, alerts and
    /// source events streamed at /api/v1/stream.
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Let API rules send notices to loopback and private addresses (refused by default:
    /// anyone with a token would otherwise make the server reach your internal network).
    /// With --run, the config's `[alerts] allow_private` also allows it.
    #[arg(long)]
    pub allow_private: bool,
    /// Requests per minute per client address, whatever its tokens (1 to 1000000).
    #[arg(long, default_value_t = 1200, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate_per_address: u32,
    /// Seconds a client has to send a request's headers; a kept-alive connection idle this
    /// long between requests is closed (0.1 to 3600).
    #[arg(long, default_value_t = 10.0, value_parser = limit_seconds)]
    pub header_timeout: f64,
    /// Seconds a client has to send a request's body (0.1 to 3600).
    #[arg(long, default_value_t = 10.0, value_parser = limit_seconds)]
    pub body_timeout: f64,
    /// Connections open at once, beyond which new ones wait (1 to 100000).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_connections: u32,
    /// Stream what the evaluators of this bus report (bars, scores, notices) at
    /// /api/v1/stream, as every API server following it does, with the same event ids.
    #[command(flatten)]
    pub bus: BusArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The engine's configuration: markets, sources, alerts (see docs/engine.md).
    #[arg(long, default_value = "canary.toml")]
    pub config: PathBuf,
    /// Print only notices, source events and the summary (not every bar close).
    #[arg(long)]
    pub quiet: bool,
    /// What this process does: all (sources, engine and delivery), ingest (the sources,
    /// publishing to --bus), eval (the engine, taking from --bus; notices stored for a
    /// deliverer) or deliver (the stored notices sent). See docs/scale-out.md.
    #[arg(long, default_value = "all")]
    pub role: canary_runtime::runner::Role,
    #[command(flatten)]
    pub bus: BusArgs,
    /// The bus stream's partition count (1 to 1024), the same for every process.
    #[arg(
        long,
        default_value_t = 64,
        value_parser = clap::value_parser!(u16).range(1..=1024),
        requires = "bus"
    )]
    pub bus_partitions: u16,
    /// The partitions this evaluator takes: a list and ranges (0-31, or 0,4,8-11); every one
    /// when not given. Evaluators running at once must take partitions of their own.
    #[arg(long, value_parser = partition_list, requires = "bus")]
    pub partitions: Option<Partitions>,
}

/// The bus processes share (`run --role`, and `serve` following the evaluators).
#[derive(Debug, Args)]
pub struct BusArgs {
    /// The bus the roles share: a NATS JetStream server (nats://HOST:PORT, or several
    /// separated by commas). Without it, everything runs in this process.
    #[arg(long)]
    pub bus: Option<String>,
    /// The bus stream's name (letters, digits, `-` and `_`): runs on one server that must not
    /// mix take a name each.
    #[arg(long, default_value = "CANARY_EVENTS", value_parser = stream_name, requires = "bus")]
    pub bus_stream: String,
    /// Copies of each message the bus keeps (1, or 3 or 5 on a cluster of that many servers);
    /// set when the stream is made.
    #[arg(long, default_value_t = 1, value_parser = replicas, requires = "bus")]
    pub bus_replicas: usize,
}

impl BusArgs {
    /// The bus these options name, with `partitions`; `None` without `--bus`.
    #[must_use]
    pub fn config(&self, partitions: u16) -> Option<canary_ingest::bus::nats::NatsConfig> {
        self.bus.as_deref().map(|url| {
            let mut c = canary_ingest::bus::nats::NatsConfig::new(url);
            c.partitions = partitions;
            c.replicas = self.bus_replicas;
            if c.stream != self.bus_stream {
                // A stream of its own has subjects of its own.
                c.prefix = format!("canary.{}", self.bus_stream.to_lowercase());
                c.stream.clone_from(&self.bus_stream);
            }
            c
        })
    }
}

/// The partitions an evaluator takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partitions(pub Vec<u16>);

fn replicas(s: &str) -> Result<usize, String> {
    match s {
        "1" => Ok(1),
        "3" => Ok(3),
        "5" => Ok(5),
        _ => Err(format!("{s:?}: give 1, 3 or 5 copies")),
    }
}

fn stream_name(s: &str) -> Result<String, String> {
    if !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?}: a stream name is 1 to 64 letters, digits, `-` or `_`"
        ))
    }
}

/// A list of partitions: numbers and ranges separated by commas (`0-31`, `0,4,8-11`).
fn partition_list(s: &str) -> Result<Partitions, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim) {
        let number = |x: &str| {
            x.trim()
                .parse::<u16>()
                .map_err(|_| format!("{x:?} is not a partition number (0 to 1023)"))
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b)?);
                if a > b {
                    return Err(format!("{part}: the range runs backwards"));
                }
                out.extend(a..=b);
            }
            None => out.push(number(part)?),
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(Partitions(out))
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the demo database (replaced on every run).
    #[arg(long, default_value = "demo")]
    pub dir: PathBuf,
    /// Seed of the simulated market.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Play the crash's last days through the live engine instead (bars closing, alert
    /// rules firing), at accelerated time; stored in DIR/live.db.
    #[arg(long)]
    pub live: bool,
    /// With --live: how many times faster than real time (57600: a 4h bar every 0.25 s;
    /// 0: as fast as the engine goes).
    #[arg(long, default_value_t = 57_600.0, value_parser = speed)]
    pub speed: f64,
}

fn speed(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1e9).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is outside 0 to 1e9"))
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use clap::Parser;

    /// 1,000 -> "1,000": how the docs write counts.
    fn thousands(n: u64) -> String {
        let d = n.to_string();
        let mut out = String::new();
        for (i, c) in d.chars().enumerate() {
            if i > 0 && (d.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    }

    fn doc(name: &str) -> String {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// Every limit and default that docs/security.md, docs/api.md, docs/engine.md and
    /// ARCHITECTURE.md publish is the one the code has: a change to either shows here.
    #[test]
    fn the_published_limits_and_defaults_are_the_codes() {
        use canary_alerts::rule::{
            MAX_CONDITIONS, MAX_DEPTH, MAX_NUMBER, MAX_RULE_CHARS, MAX_WINDOW_MS,
        };
        let cli = Cli::try_parse_from(["canary", "serve"]).unwrap();
        let Command::Serve(a) = cli.command else {
            panic!("not the serve command")
        };
        let secs = |x: f64| format!("{x:.0} s");
        let rule = format!(
            "a rule: {} characters, {MAX_DEPTH} levels of parentheses/`not`/calls, {MAX_CONDITIONS} conditions, numbers up to {MAX_NUMBER:e}, windows a minute to {} days",
            thousands(MAX_RULE_CHARS as u64),
            MAX_WINDOW_MS / 86_400_000
        );
        let security = doc("docs/security.md");
        for line in [
            rule,
            format!("| body | {} KiB (`--max-body`)", a.max_body / 1024),
            format!(
                "| requests | {} a minute per address (`--rate-per-address`), {} per token (`--rate`)",
                thousands(u64::from(a.rate_per_address)),
                a.rate
            ),
            format!("| {} (`--header-timeout`)", secs(a.header_timeout)),
            format!("| {} (`--body-timeout`)", secs(a.body_timeout)),
            format!("| {} (`--timeout`)", secs(a.timeout)),
            format!(
                "| {} (`--max-connections`)",
                thousands(u64::from(a.max_connections))
            ),
            format!(
                "`TOKEN_RECHECK`, {} s",
                canary_server::TOKEN_RECHECK.as_secs()
            ),
            format!(
                "`{}` and 43 base64url characters (32 bytes",
                canary_engine::tokens::PREFIX
            ),
        ] {
            let line = line.trim_start_matches("| ");
            assert!(
                security.contains(line),
                "docs/security.md does not say: {line}"
            );
        }
        let api = doc("docs/api.md");
        for line in [
            format!("| `--rate` | {} |", a.rate),
            format!(
                "| `--rate-per-address` | {} |",
                thousands(u64::from(a.rate_per_address))
            ),
            format!("| `--timeout` | {} |", secs(a.timeout)),
            format!("| `--header-timeout` | {} |", secs(a.header_timeout)),
            format!("| `--body-timeout` | {} |", secs(a.body_timeout)),
            format!(
                "| `--max-connections` | {} |",
                thousands(u64::from(a.max_connections))
            ),
            format!(
                "| `--max-body` | {} bytes |",
                thousands(u64::from(a.max_body))
            ),
        ] {
            assert!(api.contains(&line), "docs/api.md does not say: {line}");
        }
        let engine: String = doc("docs/engine.md")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let limits = format!(
            "a rule is at most {} characters, {MAX_DEPTH} levels of parentheses, `not` and calls, and {MAX_CONDITIONS} conditions; numbers are at most {MAX_NUMBER:e}",
            thousands(MAX_RULE_CHARS as u64)
        );
        assert!(
            engine.contains(&limits),
            "docs/engine.md does not say: {limits}"
        );
        let arch: String = doc("ARCHITECTURE.md")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let bounds = format!(
            "prices {:e} to {:e}, volumes to {:e}, trades to {:e}",
            canary_model::MIN_PRICE,
            canary_model::MAX_PRICE,
            canary_model::MAX_VOLUME,
            canary_model::MAX_TRADES as f64
        );
        assert!(
            arch.contains(&bounds),
            "ARCHITECTURE.md does not say: {bounds}"
        );
        let record = format!(
            "a record longer than {} KiB refused",
            canary_ingest::lines::MAX_RECORD_BYTES / 1024
        );
        assert!(
            arch.contains(&record),
            "ARCHITECTURE.md does not say: {record}"
        );
    }
}
