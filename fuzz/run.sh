#!/usr/bin/env bash
# Run every fuzz target: `fuzz/run.sh [SECONDS] [RUNS]` (default 60 s each, the smoke run of
# `make fuzz`; TARGETS="a b" for some of them). Corpora start from seeds: heads of the shared data files, the repository's
# miners.toml, and the connectors' recorded payloads; they are kept under fuzz/corpus (not
# committed). A crash stops the run and leaves its input under fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
runs="${2:--1}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
data=../../shared/data
seed() { mkdir -p "corpus/$1"; cp "$2" "corpus/$1/$3" 2>/dev/null || true; }
for f in btcusdt_binance_4h btcusdt_binance_1d btcusd_cryptocompare_1h_2025-05_2025-11 btcusd_bitstamp_close_daily_2012-2026; do
    [ -f "$data/$f.csv" ] && head -c 4000 "$data/$f.csv" > "/tmp/canary-seed-$f" && seed candles_csv "/tmp/canary-seed-$f" "$f"
done
for f in network_hashrate_daily network_difficulty_daily_2020-2025 network_blockreward_daily network_fleet_efficiency_cbeci_daily; do
    [ -f "$data/$f.csv" ] && head -c 3000 "$data/$f.csv" > "/tmp/canary-seed-$f" && seed network_csv "/tmp/canary-seed-$f" "$f"
done
for f in btcusdt_perp_funding_8h_binance_2019-09_2026-04 btc_open_interest_daily_coinglass_all_exchanges_2020-02_2025-11 btc_open_interest_4h_coinglass_2024-11_2025-11 btc_open_interest_by_exchange_4h_coinglass_2025-05_2025-11 binance_btcusdt_open_interest_snippets_2025-11_2026-03 btc_liquidations_daily_coinglass_binance_2020-12_2025-11; do
    # The first byte picks the options: 0 reads the file by its header alone.
    [ -f "$data/$f.csv" ] && { printf '\000'; head -c 3000 "$data/$f.csv"; } > "/tmp/canary-seed-$f" && seed derivatives_csv "/tmp/canary-seed-$f" "$f"
done
for f in equities_daily_ohlcv_yahoo_2018-01_2026-05 us_indices_daily_fred_nasdaq100_sp500_2018-01_2026-08 fear_greed_index_daily_alternative_me_2018-02_2026-02; do
    # The first byte picks the options: 0 reads the file by its header alone.
    [ -f "$data/$f.csv" ] && { printf '\000'; head -c 3000 "$data/$f.csv"; } > "/tmp/canary-seed-$f" && seed markets_csv "/tmp/canary-seed-$f" "$f"
done
seed facts_toml ../miners.toml miners.toml
printf '[MARA]\nkind = "miner"\nsource = "s"\naddresses = ["bc1qa"]\n[CB]\nkind = "exchange"\nsource = "s"\naddresses = ["bc1qb"]\n' > /tmp/canary-seed-labels
seed labels_toml /tmp/canary-seed-labels labels
printf 'rsi:14,ema:20,macd:12:26:9,bbands:20:2,atr:14,stoch:14:3:3,mfi:14,retz:30' > /tmp/canary-seed-ind
seed indicator_spec /tmp/canary-seed-ind ind
printf '2026-02-06T05:00:00Z' > /tmp/canary-seed-t1; seed timestamp /tmp/canary-seed-t1 t1
printf '1770354000000' > /tmp/canary-seed-t2; seed timestamp /tmp/canary-seed-t2 t2
for f in ../crates/canary-ingest/tests/data/*.json; do
    [ -f "$f" ] && seed connectors "$f" "$(basename "$f")"
done
for f in ../crates/canary-ingest/tests/data/feeds/*; do
    [ -f "$f" ] && seed news_feed "$f" "$(basename "$f")"
done
[ -f "$data/news_2026-02-05_sources.csv" ] && { printf '\x00'; cat "$data/news_2026-02-05_sources.csv"; } > /tmp/canary-seed-h1 && seed headlines /tmp/canary-seed-h1 sources_csv
printf '\x01[{"id":"1","title":"BTC up","published":"2026-02-05T10:00:00Z","link":"https://a.com/x"}]' > /tmp/canary-seed-h2 && seed headlines /tmp/canary-seed-h2 json
i=0
for r in 'BTCUSDT.close < 58000' 'crosses_below(BTCUSDT.close, watch.support)' 'BTCUSDT.rsi14.1d < 30 and not threat(BTCUSDT) >= 4' \
    'risk(BTCUSDT) rises_by 15 within 24h or BTCUSDT.volume > 1.5M' 'outflow(MARA, exchange, 24h) > 50' 'analysis.tag == "bitcoin-miners"' \
    '(BTCUSDT.close < 58k and (BTCUSDT.ema20.4h > 1e5 or BTCUSDT.atr14 falls_by 2.5 within 90m))' \
    'equity_move(MARA) < -15 and (basket_move() < -10 or correlation(NDX, 30) > 0.5)'; do
    i=$((i + 1)); printf '%s' "$r" > "/tmp/canary-seed-rule$i"; seed alert_rule "/tmp/canary-seed-rule$i" "rule$i"
done
cargo +nightly fuzz build
for t in ${TARGETS:-candles_csv network_csv derivatives_csv markets_csv facts_toml labels_toml indicator_spec timestamp connectors news_feed headlines alert_rule}; do
    echo "== $t"
    cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -runs="$runs" \
        -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 2>&1 |
        grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|Done|SUMMARY|crash-' || true
done
