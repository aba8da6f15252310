// Canary's dashboard: the candlestick chart with the Watch drawn on it, an RSI pane, live
// bars from the engine's stream, and the miners' table recomputed at the slider's price. The
// page's numbers are rendered on the server; this only draws and updates.
(function () {
  "use strict";
  const el = document.getElementById("chart");
  const note = document.getElementById("chart-note");
  const symbol = el.dataset.symbol, tf = el.dataset.tf, asof = el.dataset.asof;
  const at = asof ? "&asof=" + encodeURIComponent(asof) : "";
  const css = getComputedStyle(document.documentElement);
  const fg = css.getPropertyValue("--fg").trim() || "#1d2330";
  const bg = css.getPropertyValue("--bg").trim() || "#ffffff";
  const say = (t) => { if (note) note.textContent = t; };
  async function get(url) {
    const r = await fetch(url);
    if (!r.ok) { throw new Error((await r.json()).detail || r.statusText); }
    return r.json();
  }
  const t = (iso) => Math.floor(Date.parse(iso) / 1000);
  window.canary = { ready: false, levels: [], bars: 0, live: 0, derivs: {} };

  // The derivatives panes (each series as known at the time asked) and the map's bands.
  async function derivatives(L, opts) {
    const [funding, oi, longs, shorts] = el.dataset.derivs.split(",");
    const series = (key) => get(`/api/v1/derivatives/series?series=${encodeURIComponent(key)}&last=500${at}`);
    const pane = (id) => L.createChart(document.getElementById(id), opts);
    try {
      if (funding) {
        const f = await series(funding);
        const c = pane("funding-chart");
        c.addSeries(L.HistogramSeries, { color: "#3b5bdb", title: "funding %" })
          .setData(f.points.map((p) => ({ time: t(p.time), value: p.value * 100, color: p.value < 0 ? "#9b1c1c" : "#3b5bdb" })));
        c.timeScale().fitContent();
        window.canary.derivs.funding = f.points.length;
      }
      if (oi) {
        const o = await series(oi);
        const c = pane("oi-chart");
        c.addSeries(L.LineSeries, { color: "#b45309", lineWidth: 1, title: "open interest $bn" + (o.stale ? " (stale)" : "") })
          .setData(o.points.map((p) => ({ time: t(p.time), value: p.value / 1e9 })));
        c.timeScale().fitContent();
        window.canary.derivs.oi = o.points.length;
      }
      if (longs && shorts) {
        const [l, s] = await Promise.all([series(longs), series(shorts)]);
        const c = pane("liq-chart");
        c.addSeries(L.HistogramSeries, { color: "#9b1c1c", title: "long liquidations $M" })
          .setData(l.points.map((p) => ({ time: t(p.time), value: -p.value / 1e6 })));
        c.addSeries(L.HistogramSeries, { color: "#166534", title: "short liquidations $M" })
          .setData(s.points.map((p) => ({ time: t(p.time), value: p.value / 1e6 })));
        c.timeScale().fitContent();
        window.canary.derivs.liquidations = l.points.length;
      }
    } catch (e) { say("Derivatives: " + e.message); }
    const box = document.getElementById("liqmap");
    if (!box) return;
    try {
      const m = await get(`/api/v1/derivatives/map?symbol=${symbol}${at}`);
      const bands = [...m.short_bands].reverse().map((b) => ({ side: "short", b }))
        .concat(m.long_bands.map((b) => ({ side: "long", b })));
      const top = Math.max(1, ...bands.map((x) => x.b.usd));
      box.innerHTML = `<div><b>Liquidation map</b> at ${Math.round(m.price.value).toLocaleString("en-US")}` +
        (m.stale ? ` <span class="chip">stale: to ${m.to.slice(0, 10)}</span>` : "") + "</div>" +
        bands.map(({ side, b }) => `<div class="lm-row" style="display:flex;gap:.3rem;align-items:center" title="${side}s ${b.from_pct}..${b.to_pct}%: $${(b.usd / 1e6).toFixed(1)}M">` +
          `<span style="flex:0 0 3.2rem;text-align:right">${b.to_pct > 0 ? "+" : ""}${b.to_pct}%</span>` +
          `<span style="flex:1;background:#eef1f6;height:.6rem"><span class="lm-bar" style="display:block;height:100%;width:${(100 * b.usd / top).toFixed(1)}%;background:${side === "long" ? "#9b1c1c" : "#166534"}"></span></span></div>`).join("");
      window.canary.derivs.mapBands = bands.length;
    } catch (e) { box.textContent = "No liquidation map: " + e.message; }
  }

  if (el.dataset.charts === "true" && window.LightweightCharts) {
    const L = window.LightweightCharts;
    const opts = { layout: { background: { color: bg }, textColor: fg }, timeScale: { timeVisible: true } };
    const chart = L.createChart(el, opts);
    const candles = chart.addSeries(L.CandlestickSeries, {});
    const rsiChart = L.createChart(document.getElementById("rsi"), opts);
    const rsi = rsiChart.addSeries(L.LineSeries, { color: "#3b5bdb", lineWidth: 1 });
    rsi.createPriceLine({ price: 30, color: "#9b1c1c", lineStyle: 2, title: "30" });
    rsi.createPriceLine({ price: 70, color: "#166534", lineStyle: 2, title: "70" });
    (async () => {
      try {
        const c = await get(`/api/v1/candles?symbol=${symbol}&tf=${tf}&last=500${at}`);
        candles.setData(c.candles.map((b) => ({ time: t(b.open_time), open: b.open, high: b.high, low: b.low, close: b.close })));
        window.canary.bars = c.candles.length;
        const ind = await get(`/api/v1/indicators?symbol=${symbol}&tf=${tf}&ind=rsi:14&last=500${at}`);
        rsi.setData(ind.rows.filter((r) => r.rsi_14 !== null).map((r) => ({ time: t(r.time), value: r.rsi_14 })));
        // The server already knows whether there is a Watch to draw.
        if (el.dataset.watch === "true") try {
          const w = await get(`/api/v1/watch?symbol=${symbol}${at}`);
          const colors = { support: "#166534", trapdoor: "#9b1c1c", resistance: "#b45309" };
          for (const name of ["support", "trapdoor", "resistance"]) {
            const l = w[name];
            if (!l) continue;
            candles.createPriceLine({ price: l.price, color: colors[name], lineWidth: 2, title: name });
            candles.createPriceLine({ price: l.zone[0], color: colors[name], lineStyle: 2, lineWidth: 1, title: "" });
            candles.createPriceLine({ price: l.zone[1], color: colors[name], lineStyle: 2, lineWidth: 1, title: "" });
            window.canary.levels.push({ name: name, price: l.price });
          }
        } catch (e) { say("No Watch: " + e.message); }
        chart.timeScale().fitContent();
        rsiChart.timeScale().fitContent();
        // Funding, open interest and liquidations under the price, the map beside it.
        if (el.dataset.derivs) await derivatives(L, opts);
        // Scores over time: Risk and Pulse as known each day.
        try {
          const h = await get(`/api/v1/score/history?symbol=${symbol}&days=365${at}`);
          const sc = L.createChart(document.getElementById("scores-chart"), opts);
          const risk = sc.addSeries(L.LineSeries, { color: "#9b1c1c", lineWidth: 1, title: "Risk" });
          const pulse = sc.addSeries(L.LineSeries, { color: "#3b5bdb", lineWidth: 1, title: "Pulse" });
          risk.setData(h.days.filter((d) => d.risk !== null).map((d) => ({ time: t(d.day), value: d.risk })));
          pulse.setData(h.days.filter((d) => d.pulse !== null).map((d) => ({ time: t(d.day), value: d.pulse })));
          sc.timeScale().fitContent();
          window.canary.scoreDays = h.days.length;
        } catch (e) { say("No scores over time: " + e.message); }
        window.canary.ready = true;
      } catch (e) { say(e.message); window.canary.ready = true; }
    })();
    if (!asof && el.dataset.live === "true") {
      const es = new EventSource("/api/v1/stream?kinds=bar");
      es.addEventListener("bar", (m) => {
        const d = JSON.parse(m.data);
        if (d.symbol !== symbol || d.timeframe !== tf) return;
        const b = d.candle;
        candles.update({ time: t(b.open_time), open: b.open, high: b.high, low: b.low, close: b.close });
        if (d.rsi14 !== null) rsi.update({ time: t(b.open_time), value: d.rsi14 });
        window.canary.live += 1;
      });
    }
  } else {
    window.canary.ready = true;
  }

  // The miners at the slider's price, recomputed by the API.
  const slider = document.getElementById("price");
  const out = document.getElementById("price-out");
  const table = document.getElementById("miners");
  let pending = null;
  if (slider && table) {
    slider.addEventListener("input", () => {
      out.textContent = Number(slider.value).toLocaleString("en-US");
      clearTimeout(pending);
      pending = setTimeout(async () => {
        try {
          const m = await get(`/api/v1/miners?symbol=${symbol}&price=${slider.value}${at}`);
          const rows = m.companies.map((c) => {
            const be = (c.cash_break_even || {}).value ?? null, mg = (c.margin || {}).value ?? null;
            const status = be === null ? "n/a" : (Number(slider.value) < be ? "under water" : "above break-even");
            return `<tr><td>${c.ticker}</td><td>${be === null ? "n/a" : Math.round(be).toLocaleString("en-US")}</td><td>${mg === null ? "n/a" : mg.toFixed(1) + "%"}</td><td>${status}</td></tr>`;
          });
          table.innerHTML = "<tr><th>company</th><th>cash break-even</th><th>margin</th><th>status</th></tr>" + rows.join("");
          table.dataset.price = slider.value;
        } catch (e) { say(e.message); }
      }, 150);
    });
  }
})();
