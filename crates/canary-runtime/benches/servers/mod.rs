//! What the benches across processes share (`bus.rs`, `latency.rs`): the servers
//! `bench/bus.sh` started, named by the environment, a database of the bench's own on the
//! PostgreSQL server (dropped at the end), a stream of its own on the NATS cluster, the
//! runtime the bench runs in, and the first line every figure is printed under.

/// The servers and a database of this bench's own.
pub struct Servers {
    /// The NATS servers, comma-separated.
    nats: String,
    /// The database's address.
    pub db: String,
    admin: postgres::Client,
    name: String,
    copies: usize,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        eprintln!("{name} is not set: run it through bench/bus.sh, which starts the servers");
        std::process::exit(2)
    })
}

impl Servers {
    /// From `CANARY_BENCH_NATS` and `CANARY_BENCH_POSTGRES`, with a database named after
    /// `bench`; prints the processor, the servers and `copies` (the stream's).
    pub fn from_env(bench: &str, copies: usize) -> Servers {
        let nats = env("CANARY_BENCH_NATS");
        let server = env("CANARY_BENCH_POSTGRES");
        println!(
            "processor: {} ({} logical cores); NATS {nats} ({copies} copies), PostgreSQL {server}",
            canary_engine::jobs::processor(),
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        );
        let mut admin = postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
            .expect("the PostgreSQL server answers");
        let name = format!("bench_{bench}_{}", std::process::id());
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("a database");
        Servers {
            nats,
            db: format!("{server}/{name}"),
            admin,
            name,
            copies,
        }
    }

    /// The bus on a stream (and subjects) of this bench's own, keeping `copies`.
    pub fn bus_config(&self) -> canary_ingest::bus::nats::NatsConfig {
        let mut config = canary_ingest::bus::nats::NatsConfig::new(&self.nats);
        config.stream = self.name.to_uppercase();
        config.prefix.clone_from(&self.name);
        config.replicas = self.copies;
        config
    }

    /// Two worker threads, as `canary run` has on a bus.
    pub fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime")
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        let name = &self.name;
        let _ = self
            .admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}

/// The benches' first minute: 2026-01-01T00:00Z.
pub const T0: i64 = 1_767_225_600_000;

/// Minute `i`'s bar from `open` to `close`, its high and low a little beyond them.
pub fn minute_bar(i: i64, open: f64, close: f64) -> canary_model::Candle {
    canary_model::Candle::new(
        canary_model::Timestamp::from_millis(T0 + i * 60_000),
        open,
        open.max(close) * 1.0005,
        open.min(close) * 0.9995,
        close,
        10.0,
        None,
        None,
    )
    .expect("a valid bar")
}
