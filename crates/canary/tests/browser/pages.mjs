// Canary's pages in a real browser (chromium through playwright-core): the feed lists the
// analysis, its page shows its sections with each number's claim on hover, the dashboard
// draws the Watch's levels on its chart and updates from the live stream. A screenshot of
// each page goes to OUTDIR.
//
// Usage: node pages.mjs BASE_URL ANALYSIS_ID OUTDIR HOOK_URL TOKEN   (CANARY_CHROMIUM: the browser)
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.CANARY_NODE_MODULES, "x.js"));
const { chromium } = require("playwright-core");
const [base, id, out, hook, token] = process.argv.slice(2);
const fail = (what) => { console.error("FAILED: " + what); process.exit(1); };

const browser = await chromium.launch({
  executablePath: process.env.CANARY_CHROMIUM,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
const errors = [];
page.on("pageerror", (e) => errors.push(e.message));
page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });

// The feed.
await page.goto(base + "/");
const cards = await page.locator("article.card").count();
if (cards < 1) fail("the feed lists no analysis");
const first = await page.locator("article.card h2 a").first().getAttribute("href");
if (first !== "/analyses/" + id) fail("the feed's first analysis is " + first);
await page.screenshot({ path: path.join(out, "feed.png"), fullPage: true });
console.log("feed: " + cards + " analyses");

// The analysis page: its sections, every number with its claim on hover.
await page.goto(base + "/analyses/" + id);
const sections = await page.locator("h2").allTextContents();
for (const s of ["Watch", "Take"]) {
  if (!sections.some((h) => h.includes(s))) fail("no section " + s + " in " + sections.join(" | "));
}
const numbers = page.locator(".n");
const n = await numbers.count();
if (n < 10) fail("only " + n + " numbers carry claims");
await numbers.first().hover();
const title = await numbers.first().getAttribute("title");
if (!title || !/claim|c[0-9a-f]{16}/.test(title)) fail("the first number's hover says " + title);
// Under it, the price with the Watch as of its time and the Risk waterfall.
await page.waitForFunction(() => window.canary && window.canary.ready, null, { timeout: 30000 });
const charts = await page.evaluate(() => window.canary);
if (charts.levels.length !== 3) fail("the analysis's chart has levels " + charts.levels.join(","));
if (charts.components < 3) fail("the waterfall has " + charts.components + " components");
if ((await page.locator("#waterfall .wf-bar").count()) !== charts.components) fail("the waterfall's bars");
await page.screenshot({ path: path.join(out, "analysis.png"), fullPage: true });
console.log("analysis: " + sections.length + " sections, " + n + " numbers with claims; hover: " + title.slice(0, 80) +
  "; chart levels " + charts.levels.join(",") + ", waterfall of " + charts.components);

// The dashboard as of the crash morning: the chart with the Watch's levels.
await page.goto(base + "/dashboard?symbol=BTCUSDT&tf=4h&asof=2026-02-06T05:00:00Z");
await page.waitForFunction(() => window.canary && window.canary.ready, null, { timeout: 30000 });
const state = await page.evaluate(() => window.canary);
if (state.bars < 100) {
  const note = await page.locator("#chart-note").textContent();
  const charts = await page.locator("#chart").getAttribute("data-charts");
  fail("the chart has " + state.bars + " bars (note: " + note + "; data-charts " + charts + "; errors " + errors.join("; ") + ")");
}
if (!(state.scoreDays > 300)) fail("the scores over time have " + state.scoreDays + " days");
const names = state.levels.map((l) => l.name).sort().join(",");
if (names !== "resistance,support,trapdoor") fail("the chart's levels are " + names);
if (!(await page.locator("#chart canvas").count())) fail("no chart drawn");
// Funding, open interest and liquidations under the price, the map beside it: as of the crash
// morning funding runs to the day, open interest and liquidations stop in November 2025.
const d = state.derivs || {};
if (!(d.funding >= 400 && d.oi >= 400 && d.liquidations >= 400)) fail("the derivatives panes: " + JSON.stringify(d));
if (d.mapBands !== 30) fail("the liquidation map has " + d.mapBands + " bands: " + (await page.locator("#liqmap").textContent()));
if (!(await page.locator("#liqmap").textContent()).includes("stale")) fail("the map does not say it is stale");
for (const id of ["funding-chart", "oi-chart", "liq-chart"]) {
  if (!(await page.locator("#" + id + " canvas").count())) fail("no " + id + " drawn");
}
const drows = await page.locator("#derivatives tr").allTextContents();
if (!drows.some((r) => r.includes("2026-02-06T00:00:00Z"))) fail("the derivatives table: " + drows.join(" | "));
// The price slider recomputes the miners through the API.
const slider = page.locator("#price");
if (await slider.count()) {
  await slider.fill("90000");
  try {
    await page.waitForFunction(() => document.getElementById("miners").dataset.price === "90000", null, { timeout: 15000 });
  } catch (e) {
    fail("the miners were not recomputed at 90,000 (slider " + (await slider.inputValue()) + ", note: " +
      (await page.locator("#chart-note").textContent()) + "; errors " + errors.join("; ") + ")");
  }
  const rows = await page.locator("#miners tr").allTextContents();
  if (!rows.some((r) => r.includes("above break-even"))) fail("at 90,000 no miner is above break-even: " + rows.join(" | "));
}
await page.screenshot({ path: path.join(out, "dashboard.png"), fullPage: true });
console.log("dashboard: " + state.bars + " bars, levels " + names + ", derivatives " + JSON.stringify(d));

// An alert from a level on the dashboard: the support's link opens the alerts page with the
// rule written; a rule on the live market is tried on history, saved, and delivered.
await page.locator("a.alert-me").first().click();
await page.waitForURL(/\/alerts\?/);
const written = await page.locator("#rule").inputValue();
if (written !== "crosses_below(BTCUSDT.close, watch.support)") fail("the alert link wrote " + written);
await page.locator("#rule").fill("SIMUSDT.close > 0");
await page.locator("#tf").selectOption("1m");
await page.locator("#token").fill(token);
await page.locator("#token").dispatchEvent("change");
await page.locator("#from").fill("2026-01-01T00:00:00Z");
await page.locator("#backtest").click();
await page.waitForFunction(() => document.getElementById("backtest-result").textContent.includes("closes evaluated"), null, { timeout: 30000 });
const bt = await page.locator("#backtest-result").textContent();
if (!/fired/.test(bt)) fail("the backtest shows no firing: " + bt);
await page.locator("#since").fill("2026-01-01T00:00:00Z");
await page.locator("#webhook").fill(hook + "/browser");
await page.locator("#save").click();
await page.waitForFunction(() => document.querySelectorAll("#rules tr[data-id]").length === 1, null, { timeout: 15000 });
await page.waitForFunction(() => document.getElementById("deliveries").textContent.includes("delivered"), null, { timeout: 45000 });
await page.screenshot({ path: path.join(out, "alerts.png"), fullPage: true });
console.log("alerts: " + bt.split(".")[0] + "; saved and delivered");

// The live dashboard: the simulated market's bars arrive from the stream.
await page.goto(base + "/dashboard?symbol=SIMUSDT&tf=1m");
await page.waitForFunction(() => window.canary && window.canary.live >= 2, null, { timeout: 30000 });
const live = await page.evaluate(() => window.canary.live);
await page.screenshot({ path: path.join(out, "live.png"), fullPage: true });
console.log("live: " + live + " bars from the stream");

if (errors.length) fail("the pages logged errors: " + errors.join("; "));
await browser.close();
console.log("ok");
