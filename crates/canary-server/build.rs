//! TradingView's lightweight-charts (Apache-2.0), vendored into the binary at build time from
//! the npm registry through npm (`npm pack`), never fetched at run time. A build without npm
//! or without the registry still succeeds: its pages then say that charts are missing and how
//! to get them (install npm and rebuild), and everything else works.
//! `CANARY_CHARTS_JS=FILE` takes the file from disk instead.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The version the pages are written against.
const VERSION: &str = "5.2.1";
const FILE: &str = "lightweight-charts.standalone.production.js";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CANARY_CHARTS_JS");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = out.join("lightweight-charts.js");
    if let Ok(given) = std::env::var("CANARY_CHARTS_JS") {
        std::fs::copy(&given, &target).unwrap_or_else(|e| panic!("CANARY_CHARTS_JS={given}: {e}"));
        return;
    }
    if target.metadata().is_ok_and(|m| m.len() > 0) {
        return;
    }
    match fetch(&out) {
        Ok(js) => std::fs::copy(js, &target).map_or_else(
            |e| {
                panic!("{}: {e}", target.display());
            },
            |_| (),
        ),
        Err(why) => {
            println!(
                "cargo:warning=lightweight-charts {VERSION} not vendored ({why}): the pages will show no charts; install npm and rebuild"
            );
            std::fs::write(&target, "").expect("OUT_DIR is writable");
        }
    }
}

fn fetch(out: &Path) -> Result<PathBuf, String> {
    let dir = out.join("npm");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let pack = Command::new("npm")
        .args(["pack", &format!("lightweight-charts@{VERSION}"), "--silent"])
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("npm: {e}"))?;
    if !pack.status.success() {
        return Err(format!(
            "npm pack: {}",
            String::from_utf8_lossy(&pack.stderr).trim()
        ));
    }
    let tgz = dir.join(format!("lightweight-charts-{VERSION}.tgz"));
    let tar = Command::new("tar")
        .arg("xzf")
        .arg(&tgz)
        .current_dir(&dir)
        .status()
        .map_err(|e| format!("tar: {e}"))?;
    if !tar.success() {
        return Err(format!("tar could not unpack {}", tgz.display()));
    }
    let js = dir.join("package/dist").join(FILE);
    if js.is_file() {
        Ok(js)
    } else {
        Err(format!("{FILE} is not in the package"))
    }
}
