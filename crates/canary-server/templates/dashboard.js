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
  window.canary = { ready: false, levels: [], bars: 0, live: 0 };

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
