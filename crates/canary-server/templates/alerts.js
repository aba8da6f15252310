// Canary's alerts page: a rule from a template or typed, its backtest before saving, the
// token's rules (test, silence, remove) and their deliveries, all through /api/v1.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const say = (t) => { $("message").textContent = t; };
  // A token the server's operator issued (canary tokens create): the server refuses others.
  const token = $("token");
  token.value = localStorage.getItem("canaryToken") || "";
  token.addEventListener("change", () => { token.value = token.value.trim(); localStorage.setItem("canaryToken", token.value); refresh(); });
  const needToken = "paste the token the server's operator gave you (canary tokens create issues one) to save and list rules";
  async function api(method, url, body) {
    const r = await fetch(url, {
      method: method,
      headers: { "Authorization": "Bearer " + token.value, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    const data = text ? JSON.parse(text) : null;
    if (!r.ok) throw new Error(data && data.detail ? data.detail : r.statusText);
    return data;
  }
  $("template").addEventListener("change", (e) => {
    const o = e.target.selectedOptions[0];
    if (!o.value) return;
    $("rule").value = o.value;
    $("tf").value = o.dataset.tf;
  });
  const policy = () => ({ cooldown_ms: Math.round(Number($("cooldown").value || 0) * 3600000) });
  $("backtest").addEventListener("click", async () => {
    say("running the rule over history…");
    try {
      const r = await api("POST", "/api/v1/alerts/backtest", { rule: $("rule").value, timeframe: $("tf").value, from: $("from").value, policy: policy() });
      const rows = r.firings.map((f) => `<tr><td>${esc(f.notice.kind)}</td><td>${esc(f.notice.at)}</td><td>${f.forward_return_pct === null ? "not yet known" : f.forward_return_pct.toFixed(1) + "%"}</td><td>${f.forward_drawdown_pct === null ? "not yet known" : f.forward_drawdown_pct.toFixed(1) + "%"}</td></tr>`);
      const months = Object.entries(r.per_month).map(([m, n]) => `${esc(m)}: ${n}`).join(", ");
      $("backtest-result").innerHTML = `<p>${r.evaluations} closes evaluated, ${r.firings.length} notices${months ? " (" + months + ")" : ""}.</p>` +
        (rows.length ? `<table id="firings"><tr><th>notice</th><th>at</th><th>return after 7 days</th><th>drawdown after</th></tr>${rows.join("")}</table>` : "<p>It would not have fired.</p>");
      say("");
    } catch (e) { say(e.message); $("backtest-result").innerHTML = ""; }
  });
  $("save").addEventListener("click", async () => {
    const url = $("webhook").value.trim();
    const channel = url ? { type: "webhook", url: url } : { type: "log" };
    if (!token.value) { say(needToken); return; }
    try {
      const r = await api("POST", "/api/v1/alerts/rules", { rule: $("rule").value, timeframe: $("tf").value, policy: policy(), channel: channel, since: $("since").value.trim() || undefined });
      say("rule " + r.id + " saved");
      refresh();
    } catch (e) { say(e.message); }
  });
  async function refresh() {
    if (!token.value) { say(needToken); return; }
    try {
      const rules = await api("GET", "/api/v1/alerts/rules");
      $("rules").innerHTML = "<tr><th>id</th><th>rule</th><th>tf</th><th>channel</th><th></th></tr>" + rules.map((r) =>
        `<tr data-id="${r.id}"><td>${r.id}</td><td>${esc(r.rule)}</td><td>${esc(r.timeframe)}</td><td>${esc(r.channel.url || r.channel.type)}</td>` +
        `<td><button data-act="test">Test</button> <button data-act="silence">Silence 1 h</button> <button data-act="remove">Remove</button></td></tr>`).join("");
      const log = await api("GET", "/api/v1/alerts/deliveries");
      $("deliveries").innerHTML = "<tr><th>rule</th><th>notice</th><th>status</th><th>attempts</th><th>latency</th></tr>" + log.map((d) =>
        `<tr><td>${d.rule_id}</td><td>${esc((d.notice.test ? "test" : d.notice.notice.kind) + " at " + d.notice.notice.at)}</td><td>${esc(d.status)}</td><td>${d.attempts}</td><td>${d.latency_ms === null ? "" : d.latency_ms + " ms"}</td></tr>`).join("");
    } catch (e) { say(e.message); }
  }
  $("rules").addEventListener("click", async (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    const id = b.closest("tr").dataset.id;
    try {
      if (b.dataset.act === "test") { await api("POST", `/api/v1/alerts/rules/${id}/test`); say("test notice of rule " + id + " sent"); }
      if (b.dataset.act === "silence") { await api("POST", `/api/v1/alerts/rules/${id}/silence`, { seconds: 3600, comment: "from the page" }); say("rule " + id + " silenced for an hour"); }
      if (b.dataset.act === "remove") { await api("DELETE", `/api/v1/alerts/rules/${id}`); say("rule " + id + " removed"); }
      refresh();
    } catch (err) { say(err.message); }
  });
  refresh();
  setInterval(refresh, 5000);
})();
