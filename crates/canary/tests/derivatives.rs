//! `canary derivatives`: every shared derivatives file imported in one command, and the report
//! as of the crash morning (issue 21's first "done when").

mod common;

use common::{canary, import_1d, ok, shared};

const FILES: [&str; 7] = [
    "data/btcusdt_perp_funding_8h_binance_2019-09_2026-04.csv",
    "data/btc_open_interest_daily_coinglass_all_exchanges_2020-02_2025-11.csv",
    "data/btc_open_interest_4h_coinglass_2024-11_2025-11.csv",
    "data/btc_open_interest_by_exchange_4h_coinglass_2025-05_2025-11.csv",
    "data/binance_btcusdt_open_interest_snippets_2025-11_2026-03.csv",
    "data/btc_liquidations_daily_coinglass_binance_okx_bybit_2020-12_2025-09.csv",
    "data/btc_liquidations_daily_coinglass_binance_2020-12_2025-11.csv",
];

fn import_all(db: &std::path::Path) -> String {
    let paths: Vec<String> = FILES
        .iter()
        .map(|f| shared(f).to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["derivatives", "import"];
    args.extend(paths.iter().map(String::as_str));
    ok(&canary(db, &args))
}

#[test]
fn the_crash_morning_has_funding_to_midnight_and_stale_open_interest_and_liquidations() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let out = import_all(&db);
    assert_eq!(out.matches("imported ").count(), 7, "{out}");
    assert!(
        out.contains("funding_rate:BTCUSDT:binance:8h: 7238 values"),
        "{out}"
    );
    // Again: everything already present.
    let again = import_all(&db);
    assert!(!again.contains("imported 1"), "{again}");
    import_1d(&db);

    let out = ok(&canary(
        &db,
        &[
            "derivatives",
            "--asof",
            "2026-02-06T05:00:00Z",
            "--format",
            "json",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let body = &doc;
    let funding = body["funding"].as_array().unwrap();
    assert_eq!(funding.len(), 1);
    assert_eq!(funding[0]["settled_at"], "2026-02-06T00:00:00Z");
    assert_eq!(funding[0]["rate"]["value"], -1.597e-05);
    assert_eq!(funding[0]["stale"], false);
    // Computed apart (Python, statistics.stdev over the 270 settlements of the 90 days
    // before): z = -1.7155534627, annualised = rate × 1095.
    let z = funding[0]["zscore_90d"]["value"].as_f64().unwrap();
    assert!((z + 1.715_553_462_721_12).abs() < 1e-9, "{z}");
    assert_eq!(funding[0]["annualised"]["value"], -0.017_487_15);
    let oi = body["open_interest"].as_array().unwrap();
    assert!(oi.len() > 20, "one row per series and venue");
    assert!(oi.iter().all(|o| o["stale"] == true), "{oi:?}");
    let liq = body["liquidations"].as_array().unwrap();
    assert_eq!(
        liq.len(),
        2,
        "Binance alone, and Binance + OKX + Bybit, apart"
    );
    assert!(liq.iter().all(|l| l["stale"] == true));
    let stale: Vec<&str> = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "stale")
        .map(|w| w["series"].as_str().unwrap())
        .collect();
    assert!(stale.contains(&"oi_usd:BTC:all:1d"), "{stale:?}");
    assert!(stale.contains(&"long_liquidations_usd:BTC:binance:1d"));
    assert!(!stale.iter().any(|s| s.starts_with("funding_rate")));
    let ids: Vec<&str> = funding
        .iter()
        .flat_map(|f| [&f["rate"]["claim"], &f["annualised"]["claim"]])
        .map(|c| c.as_str().unwrap())
        .collect();
    common::assert_claims_resolve(&doc, &ids);

    // The table says the same for people.
    let table = ok(&canary(
        &db,
        &["derivatives", "--asof", "2026-02-06T05:00:00Z"],
    ));
    assert!(table.contains("2026-02-06T00:00:00Z"), "{table}");
    assert!(table.contains("oi_usd:BTC:all:1d (stale)"), "{table}");
}

#[test]
fn a_bad_file_among_several_stores_none_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let bad = dir.path().join("btc_liquidations_binance.csv");
    std::fs::write(
        &bad,
        "date_utc,long_liquidations_usd,short_liquidations_usd\n2025-01-01,1,2\n2025-01-02,x,2\n",
    )
    .unwrap();
    let good = shared(FILES[0]);
    import_1d(&db);
    let out = canary(
        &db,
        &[
            "derivatives",
            "import",
            good.to_str().unwrap(),
            bad.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "btc_liquidations_binance.csv:3: long_liquidations_usd: \"x\" is not a number"
        ),
        "{err}"
    );
    let report = ok(&canary(&db, &["derivatives", "--format", "json"]));
    let doc: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert!(
        doc["funding"].as_array().unwrap().is_empty(),
        "nothing stored"
    );
    assert!(
        doc["missing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m.as_str().unwrap().starts_with("funding rates: none known")),
        "{doc}"
    );
    // A wrong flag names what it accepts.
    let out = canary(
        &db,
        &["derivatives", "import", "--venues", "all+okx", "x.csv"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("`all` cannot be joined"));
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// The figures docs/liquidation-map.md publishes, from the documented commands on the shared
/// data: the protocol's result on both realised series, and the map of the crash morning.
#[test]
fn the_published_liquidation_map_figures_hold() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    import_all(&db);
    import_1d(&db);
    let run = |venues: &str| -> serde_json::Value {
        let out = ok(&canary(
            &db,
            &["backtest", "liqmap", "--venues", venues, "--format", "json"],
        ));
        serde_json::from_str(&out).unwrap()
    };
    // (side, overlap map, cone, uniform, lift over cone and its interval, Spearman map, cone)
    for (venues, expected) in [
        (
            "binance",
            [
                (
                    "long",
                    0.483_071_921_151_017_55,
                    0.621_421_983_513_440_1,
                    0.633_003_816_640_853_6,
                    [
                        0.777_365_355_534_722,
                        0.720_574_405_901_533_3,
                        0.821_304_838_737_475_2,
                    ],
                    0.526_296_195_449_956_4,
                    0.471_193_519_246_755_7,
                ),
                (
                    "short",
                    0.454_723_484_691_997_6,
                    0.637_441_520_922_225_3,
                    0.601_812_303_019_644_2,
                    [
                        0.713_357_178_293_189_2,
                        0.664_266_443_321_152_4,
                        0.763_593_249_040_027_7,
                    ],
                    0.482_916_362_929_755_04,
                    0.524_166_731_257_334_4,
                ),
            ],
        ),
        (
            "binance+okx+bybit",
            [
                (
                    "long",
                    0.451_231_172_356_380_66,
                    0.641_268_944_933_062_9,
                    0.692_856_317_620_955_2,
                    [
                        0.703_653_554_287_555_9,
                        0.647_645_390_813_446_7,
                        0.757_537_737_848_747_3,
                    ],
                    0.583_801_542_403_334_5,
                    0.638_397_225_655_735_9,
                ),
                (
                    "short",
                    0.428_655_308_553_606_5,
                    0.652_871_061_021_350_7,
                    0.669_640_503_512_161_4,
                    [
                        0.656_569_626_294_997_2,
                        0.610_540_477_500_799_9,
                        0.702_187_629_336_356_9,
                    ],
                    0.557_277_034_308_423_2,
                    0.628_869_731_457_821,
                ),
            ],
        ),
    ] {
        let doc = run(venues);
        for (side, map, cone, uniform, lift, rho_map, rho_cone) in expected {
            let r = &doc["result"][side];
            let f = |k: &str| r[k].as_f64().unwrap();
            assert!(close(f("overlap_map"), map), "{venues} {side}: {r}");
            assert!(close(f("overlap_cone"), cone), "{venues} {side}: {r}");
            assert!(close(f("overlap_uniform"), uniform), "{venues} {side}: {r}");
            let l = &r["lift_over_cone"];
            for (k, v) in ["point", "lo", "hi"].iter().zip(lift) {
                assert!(close(l[k].as_f64().unwrap(), v), "{venues} {side} {k}: {r}");
            }
            assert!(close(f("spearman_map"), rho_map), "{venues} {side}: {r}");
            assert!(close(f("spearman_cone"), rho_cone), "{venues} {side}: {r}");
        }
    }

    let out = ok(&canary(
        &db,
        &[
            "derivatives",
            "map",
            "--asof",
            "2026-02-06T05:00:00Z",
            "--format",
            "json",
        ],
    ));
    let m: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(m["stale"], true, "open interest stops in November 2025");
    assert_eq!(m["to"], "2025-11-14T00:00:00Z");
    assert_eq!(m["steps"], 2087);
    assert!(close(
        m["long_total"]["value"].as_f64().unwrap(),
        3_289_714_258.501_89
    ));
    assert!(close(
        m["longs_within_10pct"]["value"].as_f64().unwrap(),
        1_612_021_506.483_751_3
    ));
    // The daily impact fit, shown beside the assumed depths and not used.
    let i = &m["impact"];
    assert_eq!(i["calibrated"], false);
    assert_eq!(i["fit"]["n"], 176);
    assert!(close(
        i["fit"]["b"].as_f64().unwrap(),
        -5.767_246_368_807_691
    ));
    assert!(close(
        i["depth"]["value"].as_f64().unwrap(),
        118_284_196.470_183_28
    ));
    assert_eq!(i["depths"], serde_json::json!([0.4e9, 0.8e9, 2e9]));
    let s = &m["scenarios"][0];
    assert_eq!(s["shock_pct"], 3.0);
    assert!(close(
        s["crossed_by_shock"]["value"].as_f64().unwrap(),
        478_515_368.735_832_1
    ));
    assert!(close(
        s["final_price_low"]["value"].as_f64().unwrap(),
        94_876.237_604_130_69
    ));
    assert!(close(
        s["final_price_high"]["value"].as_f64().unwrap(),
        96_539.303_764_203_46
    ));
}

/// docs/track-record.md's pre-registered run: v1 on market components only, v1 with the
/// derivatives stored and v2 (learned weights) on the same days, to 2025-11-14.
#[test]
fn the_pre_registered_score_record_holds() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, with_derivatives: bool| -> serde_json::Value {
        let db = dir.path().join(name);
        import_1d(&db);
        if with_derivatives {
            let files: Vec<String> = [FILES[0], FILES[1], FILES[6]]
                .iter()
                .map(|f| shared(f).to_str().unwrap().to_string())
                .collect();
            let mut args = vec!["derivatives", "import"];
            args.extend(files.iter().map(String::as_str));
            ok(&canary(&db, &args));
        }
        let out = ok(&canary(
            &db,
            &[
                "backtest",
                "scores",
                "--symbol",
                "BTCUSDT",
                "--to",
                "2025-11-14T00:00:00Z",
                "--format",
                "json",
            ],
        ));
        serde_json::from_str(&out).unwrap()
    };
    let check = |r: &serde_json::Value, auc: f64, gain: [f64; 2], brier: f64, skill: f64| {
        assert!(close(r["auc"].as_f64().unwrap(), auc), "{r}");
        assert!(close(r["brier"].as_f64().unwrap(), brier), "{r}");
        assert!(close(r["brier_skill"].as_f64().unwrap(), skill), "{r}");
        for (k, v) in gain.iter().enumerate() {
            assert!(
                close(r["auc_gain_interval"][k].as_f64().unwrap(), *v),
                "{r}"
            );
        }
    };
    let a = run("a.db", false);
    let b = run("b.db", true);
    for d in [&a, &b] {
        assert_eq!(d["days"], 2297);
        assert_eq!(d["events"], 383);
    }
    check(
        &a["score"],
        0.600_692_710_848_468_4,
        [-0.019_466_307_253_099_18, 0.040_367_969_534_743_63],
        0.139_707_077_854_422_55,
        0.006_040_358_124_907_552,
    );
    check(
        &b["score"],
        0.593_821_532_148_713_2,
        [-0.027_192_519_345_239_25, 0.035_698_567_522_482_22],
        0.138_521_920_720_770_8,
        0.014_472_274_232_677_718,
    );
    let v2 = b["candidates"].as_array().unwrap().last().unwrap();
    assert!(
        v2["name"]
            .as_str()
            .unwrap()
            .starts_with("Risk's components, weights learned")
    );
    check(
        v2,
        0.605_581_792_535_965_6,
        [-0.025_119_394_937_967_377, 0.059_582_248_902_447_18],
        0.139_685_555_785_622_08,
        0.006_193_478_984_107_048,
    );
}

/// `canary scenario --price 52000` on the crash morning: the longs the stale map says a fall
/// there would cross, with the cascade's range, and the miners and treasury companies at it.
#[test]
fn one_price_every_stress_model() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    import_all(&db);
    import_1d(&db);
    let out = ok(&canary(
        &db,
        &[
            "scenario",
            "--price",
            "52000",
            "--asof",
            "2026-02-06T05:00:00Z",
            "--format",
            "json",
        ],
    ));
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    let l = &d["liquidations"];
    assert_eq!(l["side"], "long");
    assert_eq!(l["stale"], true, "the map is built to November 2025");
    assert!(close(
        l["crossed"]["value"].as_f64().unwrap(),
        3_060_220_500.494_045_3
    ));
    assert!(close(
        l["cascade_low"]["value"].as_f64().unwrap(),
        47_723.371_562_305_87
    ));
    assert!(close(
        l["cascade_high"]["value"].as_f64().unwrap(),
        51_435.823_923_701_24
    ));
    let below: Vec<&str> = d["miners"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["below"] == true)
        .map(|c| c["ticker"].as_str().unwrap())
        .collect();
    assert_eq!(below, ["BITF", "CLSK"]);
    assert_eq!(d["treasury_below"], 0);
    let ids = [
        l["crossed"]["claim"].as_str().unwrap(),
        d["price"]["claim"].as_str().unwrap(),
    ];
    common::assert_claims_resolve(&d, &ids);
    // A rise crosses shorts, with no cascade.
    let up: serde_json::Value = serde_json::from_str(&ok(&canary(
        &db,
        &[
            "scenario",
            "--price",
            "110000",
            "--asof",
            "2025-11-13T12:00:00Z",
            "--format",
            "json",
        ],
    )))
    .unwrap();
    assert_eq!(up["liquidations"]["side"], "short");
    assert!(up["liquidations"]["cascade_low"].is_null());
    // A price that is no price.
    let bad = canary(&db, &["scenario", "--price", "-5"]);
    assert!(!bad.status.success());
}
