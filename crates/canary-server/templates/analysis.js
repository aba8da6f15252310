// The charts under an analysis: the price with the Watch drawn on it as of the analysis's
// time, and the Risk score's waterfall (each component's points, in turn, up to the score).
(function () {
  "use strict";
  const sec = document.getElementById("canary-charts");
  const symbol = sec.dataset.symbol, asof = sec.dataset.asof;
  const at = "&asof=" + encodeURIComponent(asof);
  const note = document.getElementById("charts-note");
  const say = (t) => { note.textContent = t; };
  async function get(url) {
    const r = await fetch(url);
    if (!r.ok) { throw new Error((await r.json()).detail || r.statusText); }
    return r.json();
  }
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  window.canary = { ready: false, levels: [], components: 0 };
  const jobs = [];
  if (window.LightweightCharts) {
    const L = window.LightweightCharts;
    const chart = L.createChart(document.getElementById("price-chart"), { height: 360, timeScale: { timeVisible: true } });
    const candles = chart.addSeries(L.CandlestickSeries, {});
    jobs.push((async () => {
      const c = await get(`/api/v1/candles?symbol=${symbol}&tf=4h&last=300${at}`);
      const t = (iso) => Math.floor(Date.parse(iso) / 1000);
      candles.setData(c.candles.map((b) => ({ time: t(b.open_time), open: b.open, high: b.high, low: b.low, close: b.close })));
      const w = await get(`/api/v1/watch?symbol=${symbol}${at}`);
      const colors = { support: "#166534", trapdoor: "#9b1c1c", resistance: "#b45309" };
      for (const name of ["support", "trapdoor", "resistance"]) {
        const l = w[name];
        if (!l) continue;
        candles.createPriceLine({ price: l.price, color: colors[name], lineWidth: 2, title: name });
        candles.createPriceLine({ price: l.zone[0], color: colors[name], lineStyle: 2, lineWidth: 1, title: "" });
        candles.createPriceLine({ price: l.zone[1], color: colors[name], lineStyle: 2, lineWidth: 1, title: "" });
        window.canary.levels.push(name);
      }
      chart.timeScale().fitContent();
    })());
  } else {
    say("Charts are not in this build: it was made without npm (install npm and rebuild).");
  }
  jobs.push((async () => {
    const s = await get(`/api/v1/score?symbol=${symbol}${at}`);
    const parts = s.components.filter((c) => c.score === "risk" && c.points !== null && c.points > 0)
      .sort((a, b) => b.points - a.points);
    let sum = 0;
    const rows = parts.map((c) => {
      const left = sum; sum += c.points;
      return `<div class="wf-row"><span class="wf-label" title="${esc(c.key)}: value ${c.value === null ? "n/a" : c.value.toFixed(2)}, weight ${c.weight}">${esc(c.label)}</span>` +
        `<span class="wf-track"><span class="wf-bar" style="left:${left}%;width:${c.points}%"></span></span><span class="wf-pts">+${c.points.toFixed(1)}</span></div>`;
    });
    const out = s.components.filter((c) => c.score === "risk" && c.points === null).map((c) => esc(c.label));
    document.getElementById("waterfall").innerHTML =
      `<p>Risk ${s.risk === null ? "n/a" : s.risk.toFixed(0)} (${esc(s.band || "")}), in points from each component:</p>` + rows.join("") +
      (out.length ? `<p class="wf-out">Left out (no data at the time): ${out.join("; ")}</p>` : "");
    window.canary.components = parts.length;
  })());
  Promise.allSettled(jobs).then((r) => {
    const failed = r.filter((x) => x.status === "rejected").map((x) => x.reason.message);
    if (failed.length) say(failed.join("; "));
    window.canary.ready = true;
  });
})();
