// The explorer served by `attend serve` at /: asks POST /v1/embeddings with "return_attention": true and draws
// the chosen layer and head as a heatmap. Plain JavaScript, no libraries, no network beyond this server.
// Test hook: window.__attendExplorer = { errors, ready, result, cell(layer, head, query, key) }; with #selftest in
// the URL the page switches to layer 1 · head 3 through its selects and writes what it shows into
// <pre id="explorer-selftest"> (sentence, tokens, title, the row of query 1, painted cells).
(function () {
  "use strict";
  const X = window.__attendExplorer = { errors: [], ready: false, result: null, runs: 0 };
  window.addEventListener("error", e => X.errors.push(String(e.message || e)));
  const $ = id => document.getElementById(id);
  const RAMP = [[247,251,255],[222,235,247],[198,219,239],[158,202,225],[107,174,214],[66,146,198],[33,113,181],[8,81,156],[8,48,107]];
  const rampColor = t => {
    t = Math.max(0, Math.min(1, t || 0)) * (RAMP.length - 1);
    const i = Math.min(RAMP.length - 2, Math.floor(t)), f = t - i, a = RAMP[i], b = RAMP[i + 1];
    return "rgb(" + [0, 1, 2].map(k => Math.round(a[k] + (b[k] - a[k]) * f)).join(",") + ")";
  };
  const keyInput = $("api-key");
  try { keyInput.value = localStorage.getItem("attend-api-key") || ""; } catch (e) { /* storage may be off */ }

  function headers() {
    const h = { "Content-Type": "application/json" };
    if (keyInput.value) h["Authorization"] = "Bearer " + keyInput.value;
    return h;
  }
  async function api(path, body) {
    const r = await fetch(path, body === undefined ? { headers: headers() } : { method: "POST", headers: headers(), body: JSON.stringify(body) });
    const data = await r.json().catch(() => null);
    if (!r.ok) throw new Error((data && data.error && (data.error.message || data.error)) || ("HTTP " + r.status));
    return data;
  }

  // result: { tokens, shape: [layers, heads, n, n], weights[layer][head][query][key] }
  X.cell = (l, h, i, j) => X.result.weights[l][h][i][j];

  function fillSelect(sel, count, keep) {
    const old = +sel.value || 0;
    sel.innerHTML = "";
    for (let k = 0; k < count; k++) { const o = document.createElement("option"); o.value = k; o.textContent = k; sel.appendChild(o); }
    sel.value = keep && old < count ? old : 0;
  }

  const CELL = 18, LABEL = 90;
  function draw() {
    const A = X.result;
    if (!A) return;
    const l = +$("layer").value, h = +$("head").value, n = A.tokens.length, W = A.weights[l][h];
    let vmax = 0;
    for (const row of W) for (const v of row) vmax = Math.max(vmax, v);
    vmax = vmax || 1;
    const c = $("heatmap"), ctx = c.getContext("2d");
    c.width = LABEL + n * CELL + 4; c.height = LABEL + n * CELL + 4;
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
    ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = "#1d2733"; ctx.textBaseline = "middle";
    for (let i = 0; i < n; i++) {
      ctx.textAlign = "right"; ctx.fillText(A.tokens[i].slice(0, 12), LABEL - 4, LABEL + i * CELL + CELL / 2);
      ctx.save(); ctx.translate(LABEL + i * CELL + CELL / 2, LABEL - 4); ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "left"; ctx.fillText(A.tokens[i].slice(0, 12), 0, 0); ctx.restore();
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      ctx.fillStyle = rampColor(W[i][j] / vmax);
      ctx.fillRect(LABEL + j * CELL, LABEL + i * CELL, CELL - 1, CELL - 1);
    }
    $("legend-max").textContent = vmax.toFixed(3) + " (max)";
    $("detail-title").textContent = "Layer " + l + " · head " + h;
  }

  $("heatmap").addEventListener("mousemove", ev => {
    const A = X.result;
    if (!A) return;
    const r = ev.target.getBoundingClientRect();
    const j = Math.floor((ev.clientX - r.left - LABEL) / CELL), i = Math.floor((ev.clientY - r.top - LABEL) / CELL);
    const n = A.tokens.length;
    $("readout").textContent = i >= 0 && j >= 0 && i < n && j < n
      ? "“" + A.tokens[i] + "” → “" + A.tokens[j] + "”: " + X.cell(+$("layer").value, +$("head").value, i, j).toFixed(4)
      : "\u00a0";
  });
  $("layer").addEventListener("change", draw);
  $("head").addEventListener("change", draw);

  async function run(ev) {
    if (ev) ev.preventDefault();
    try { localStorage.setItem("attend-api-key", keyInput.value); } catch (e) { /* ignore */ }
    const text = $("sentence").value;
    $("status").textContent = "running…";
    try {
      const t0 = performance.now();
      const data = await api("v1/embeddings", { input: text, model: $("model").value || undefined, return_attention: true });
      const A = data.data[0].attention;
      X.result = A;
      const [layers, heads] = A.shape;
      fillSelect($("layer"), layers, true); fillSelect($("head"), heads, true);
      const tokens = $("tokens");
      tokens.innerHTML = "";
      A.tokens.forEach((t, i) => { const s = document.createElement("span"); s.className = "chip on token"; s.textContent = i + " " + t; tokens.appendChild(s); });
      $("status").textContent = A.tokens.length + " tokens · " + layers + " layers × " + heads + " heads · embedding of " +
        data.data[0].embedding.length + " numbers · " + Math.round(performance.now() - t0) + " ms";
      draw();
      X.runs++;
    } catch (e) {
      $("status").textContent = "error: " + e.message;
    }
  }
  $("ask").addEventListener("submit", run);

  function selftest() {
    const A = X.result, n = A ? A.tokens.length : 0;
    $("layer").value = 1; $("layer").dispatchEvent(new Event("change"));
    $("head").value = 3; $("head").dispatchEvent(new Event("change"));
    const c = $("heatmap"), px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let inked = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      const k = 4 * ((LABEL + i * CELL + 8) * c.width + LABEL + j * CELL + 8);   // a pixel inside cell (i, j)
      if (px[k] !== 255 || px[k + 1] !== 255 || px[k + 2] !== 255) inked++;
    }
    const out = document.createElement("pre");
    out.id = "explorer-selftest"; out.hidden = true;
    out.textContent = JSON.stringify({
      sentence: $("sentence").value, tokens: A ? A.tokens : [], layer: +$("layer").value, head: +$("head").value,
      title: $("detail-title").textContent, row: A ? A.weights[1][3][1] : [], canvasWidth: c.width, inkedCells: inked,
      status: $("status").textContent, errors: X.errors,
    });
    document.body.appendChild(out);
  }

  (async function start() {
    try {
      const models = await api("v1/models");
      const sel = $("model");
      models.data.forEach(m => { const o = document.createElement("option"); o.value = m.id; o.textContent = m.id; sel.appendChild(o); });
      $("model-name").textContent = models.data.length ? "· " + models.data[0].id : "";
      await run();
      if (location.hash === "#selftest") selftest();
    } catch (e) {
      $("status").textContent = "error: " + e.message + (/key/.test(e.message) ? " (enter the API key and press Run)" : "");
    }
    X.ready = true;
  })();
})();
