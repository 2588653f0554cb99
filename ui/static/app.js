"use strict";
// The bgdns status page: services, members and answers per colour, kept
// current from the event stream (fetch streaming, so that the token goes
// in the Authorization header, never in a URL) and from polling.
(() => {
  const TOKEN_KEY = "bgdns.token";
  const POLL_MS = 5000;
  const MAX_EVENTS = 50;
  const $ = (id) => document.getElementById(id);

  let token = sessionStorage.getItem(TOKEN_KEY) || "";
  let lastEventID = "";
  let streamCtl = null;
  let pollTimer = null;
  let refreshTimer = null;
  let prevAnswers = null;
  let prevServiceAnswers = null;
  let serviceRates = {}; // service name -> "blue 1.0/s, green 0.0/s"

  class Unauthorized extends Error {}

  function headers(accept) {
    const h = { "Accept": accept || "application/json" };
    if (token) h["Authorization"] = "Bearer " + token;
    return h;
  }

  async function errorText(res) {
    try {
      const b = await res.json();
      if (b && b.error && b.error.message) return b.error.message;
    } catch (_) { /* not JSON */ }
    return res.status + " " + res.statusText;
  }

  async function get(path, accept) {
    const res = await fetch(path, { headers: headers(accept), cache: "no-store", credentials: "same-origin" });
    if (res.status === 401) throw new Unauthorized(await errorText(res));
    return res;
  }

  async function getJSON(path) {
    const res = await get(path);
    if (!res.ok) throw new Error(path + ": " + (await errorText(res)));
    return res.json();
  }

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function showError(msg) {
    const e = $("error");
    e.textContent = msg || "";
    e.hidden = !msg;
  }

  function showPrompt(why) {
    stopStream();
    $("token-why").textContent = why
      ? "A token is needed (" + why + ")."
      : "This cluster has ACLs on: a token of role read or above is needed.";
    $("token-prompt").hidden = false;
    $("main").hidden = true;
    $("logout").hidden = !token;
    setLive(false, "token needed");
    $("token").focus();
  }

  function failed(e) {
    if (e instanceof Unauthorized) {
      showPrompt(e.message);
      return;
    }
    showError(e && e.message ? e.message : String(e));
  }

  function setLive(on, text) {
    const l = $("live");
    l.className = "pill " + (on ? "on" : "off");
    l.textContent = text || (on ? "live" : "reconnecting");
  }

  // --- services -----------------------------------------------------

  async function loadServices() {
    let all = [];
    let cursor = "";
    for (let page = 0; page < 20; page++) {
      const q = "/v1/services?limit=500" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
      const l = await getJSON(q);
      all = all.concat(l.services || []);
      cursor = l.next_cursor || "";
      if (!cursor) break;
    }
    renderServices(all);
  }

  function activePool(s) {
    return s.active === "green" ? s.green : s.blue;
  }

  function healthText(s) {
    if (!s.health) return "-";
    const parts = [];
    for (const c of ["blue", "green"]) {
      const h = s.health[c];
      if (h) parts.push(c + " " + h.healthy + "/" + h.total + (h.down ? " (" + h.down + " down)" : ""));
    }
    return parts.join(", ") || "-";
  }

  function retireText(s) {
    const r = s.retire;
    if (!r) return "-";
    if (r.waiting_for && r.waiting_for.length) return "waiting for " + r.waiting_for.join(", ");
    if (!r.safe || !s.safe_to_retire_at) return "waiting for every member";
    // every member applied the switch; resolvers may hold the old colour
    // until safe_to_retire_at
    const at = Date.parse(s.safe_to_retire_at);
    return (Number.isFinite(at) && at > Date.now() ? "safe at " : "safe since ") + s.safe_to_retire_at;
  }

  function renderServices(list) {
    const body = $("services").tBodies[0];
    const rows = [];
    for (const s of list) {
      const tr = el("tr");
      tr.dataset.service = s.name;
      tr.appendChild(el("td", s.name, "name"));
      tr.appendChild(el("td", s.active, "colour colour-" + s.active));
      const p = activePool(s);
      tr.appendChild(el("td", p ? p.version : "-", "version"));
      tr.appendChild(el("td", s.state + (s.frozen ? " (frozen)" : ""), "state"));
      tr.appendChild(el("td", healthText(s), "health"));
      tr.appendChild(el("td", retireText(s), "retire"));
      tr.appendChild(el("td", serviceRates[s.name] || "-", "rate"));
      rows.push(tr);
    }
    body.replaceChildren(...rows);
    $("services-empty").hidden = list.length > 0;
  }

  // --- members ------------------------------------------------------

  async function loadCluster() {
    const c = await getJSON("/v1/cluster");
    $("node").textContent = "node " + c.self + " · leader " + (c.leader ? c.leader.id : "none") + " · commit " + c.commit_index;
    const rows = [];
    for (const m of c.members || []) {
      const tr = el("tr");
      tr.dataset.member = m.id;
      tr.appendChild(el("td", m.id + (m.id === c.self ? " (this node)" : ""), "id"));
      tr.appendChild(el("td", m.leader ? "leader" : (m.voter ? "voter" : "non-voter"), "role"));
      tr.appendChild(el("td", m.applied_index, "applied"));
      const contact = m.leader ? "-" : (m.last_contact_ns / 1e6).toFixed(0) + " ms";
      tr.appendChild(el("td", m.reachable ? contact : "unreachable: " + (m.error || ""), "contact"));
      tr.appendChild(el("td", m.serving ? "yes" : "no", "serving"));
      tr.appendChild(el("td", m.stale ? "yes" : "no", "stale" + (m.stale ? " yes" : "")));
      rows.push(tr);
    }
    $("members").tBodies[0].replaceChildren(...rows);
  }

  // --- answers per colour, from /metrics ----------------------------

  // sumBy sums the samples of metric by the value of label key (without
  // a trailing dot) and by colour: {"<key value>": {"<colour>": n}}.
  function sumBy(text, metric, key) {
    const out = {};
    const re = new RegExp("^" + metric + "\\{([^}]*)\\}\\s+(\\S+)");
    for (const line of text.split("\n")) {
      const m = re.exec(line);
      if (!m) continue;
      const labels = {};
      for (const p of m[1].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[p[1]] = p[2];
      const v = Number(m[2]);
      if (!labels.colour || labels[key] === undefined || !Number.isFinite(v)) continue;
      const k = labels[key].replace(/\.$/, "");
      out[k] = out[k] || {};
      out[k][labels.colour] = (out[k][labels.colour] || 0) + v;
    }
    return out;
  }

  // answersByColour sums bgdns_dns_answers_total over zones, by colour.
  function answersByColour(text) {
    const out = {};
    for (const byColour of Object.values(sumBy(text, "bgdns_dns_answers_total", "zone"))) {
      for (const [c, v] of Object.entries(byColour)) out[c] = (out[c] || 0) + v;
    }
    return out;
  }

  function rate(cur, prev, dt) {
    if (prev === undefined || dt <= 0) return "…";
    return (Math.max(0, cur - prev) / dt).toFixed(1);
  }

  // updateServiceRates turns bgdns_service_answers_total into a rate per
  // service and colour, shown in the services table.
  function updateServiceRates(text, now) {
    const cur = sumBy(text, "bgdns_service_answers_total", "service");
    const next = {};
    for (const [svc, byColour] of Object.entries(cur)) {
      const prev = prevServiceAnswers && prevServiceAnswers.v[svc];
      const dt = prevServiceAnswers ? (now - prevServiceAnswers.t) / 1000 : 0;
      next[svc] = Object.keys(byColour).sort()
        .map((c) => c + " " + rate(byColour[c], prev ? prev[c] : undefined, dt) + "/s").join(", ");
    }
    prevServiceAnswers = { t: now, v: cur };
    serviceRates = next;
    for (const tr of $("services").tBodies[0].rows) {
      const cell = tr.querySelector("td.rate");
      if (cell) cell.textContent = serviceRates[tr.dataset.service] || "-";
    }
  }

  async function loadMetrics() {
    const box = $("rates");
    const res = await get("/metrics", "text/plain");
    if (res.status === 404) {
      box.replaceChildren(el("span", "metrics unavailable", "muted"));
      box.dataset.state = "unavailable";
      prevAnswers = null;
      return;
    }
    if (!res.ok) {
      box.replaceChildren(el("span", "metrics unavailable (" + res.status + ")", "muted"));
      box.dataset.state = "unavailable";
      return;
    }
    const now = Date.now();
    const text = await res.text();
    const cur = answersByColour(text);
    updateServiceRates(text, now);
    const dt = prevAnswers ? (now - prevAnswers.t) / 1000 : 0;
    const parts = [];
    for (const c of Object.keys(cur).sort()) {
      const r = rate(cur[c], prevAnswers ? prevAnswers.v[c] : undefined, dt);
      const s = el("span", c + ": " + r + " answers/s", "rate colour-" + c);
      s.dataset.colour = c;
      s.dataset.total = String(cur[c]);
      parts.push(s);
    }
    if (parts.length === 0) parts.push(el("span", "no answers counted yet", "muted"));
    box.replaceChildren(...parts);
    box.dataset.state = "ok";
    prevAnswers = { t: now, v: cur };
  }

  // --- the event stream ---------------------------------------------

  function addEvent(ev) {
    const r = ev.record || {};
    let text = "#" + ev.index + " " + (r.time || "") + " " + ev.kind + " " + ev.name + " " + ev.action;
    if (r.from || r.to) text += " " + (r.from || "-") + " → " + (r.to || "-");
    if (r.version) text += " v" + r.version;
    if (r.actor) text += " by " + r.actor;
    const li = el("li", text);
    li.dataset.index = String(ev.index);
    const list = $("events");
    list.insertBefore(li, list.firstChild);
    while (list.children.length > MAX_EVENTS) list.removeChild(list.lastChild);
  }

  function handleBlock(block) {
    let id = "", data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const k = i < 0 ? line : line.slice(0, i);
      let v = i < 0 ? "" : line.slice(i + 1);
      if (v.startsWith(" ")) v = v.slice(1);
      if (k === "id") id = v;
      else if (k === "data") data += v;
    }
    if (!data) return;
    if (id) lastEventID = id;
    try {
      addEvent(JSON.parse(data));
    } catch (e) {
      showError("unreadable event: " + e.message);
    }
    scheduleRefresh();
  }

  function stopStream() {
    if (streamCtl) streamCtl.abort();
    streamCtl = null;
  }

  async function stream() {
    stopStream();
    const ctl = new AbortController();
    streamCtl = ctl;
    while (!ctl.signal.aborted) {
      try {
        const h = headers("text/event-stream");
        if (lastEventID) h["Last-Event-ID"] = lastEventID;
        const res = await fetch("/v1/events/stream?limit=20", { headers: h, cache: "no-store", signal: ctl.signal });
        if (res.status === 401) throw new Unauthorized(await errorText(res));
        if (!res.ok) throw new Error("event stream: " + (await errorText(res)));
        setLive(true);
        showError("");
        const reader = res.body.getReader();
        const dec = new TextDecoder();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            handleBlock(buf.slice(0, i));
            buf = buf.slice(i + 2);
          }
        }
      } catch (e) {
        if (ctl.signal.aborted) return;
        if (e instanceof Unauthorized) {
          failed(e);
          return;
        }
        showError(e.message || String(e));
      }
      setLive(false);
      // the stream ended (server restart, its life ran out): catch up and
      // reconnect where it stopped
      scheduleRefresh();
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      Promise.all([loadServices(), loadCluster()]).catch(failed);
    }, 100);
  }

  function poll() {
    if (!$("token-prompt").hidden) return;
    Promise.all([loadServices(), loadCluster(), loadMetrics()]).catch(failed);
  }

  async function start() {
    $("token-prompt").hidden = true;
    $("main").hidden = false;
    $("logout").hidden = !token;
    try {
      await Promise.all([loadServices(), loadCluster()]);
    } catch (e) {
      failed(e);
      return;
    }
    loadMetrics().catch(failed);
    stream();
    if (!pollTimer) pollTimer = setInterval(poll, POLL_MS);
  }

  $("token-prompt").addEventListener("submit", (e) => {
    e.preventDefault();
    token = $("token").value.trim();
    $("token").value = "";
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    start();
  });
  $("logout").addEventListener("click", () => {
    token = "";
    sessionStorage.removeItem(TOKEN_KEY);
    showPrompt("");
  });
  start();
})();
