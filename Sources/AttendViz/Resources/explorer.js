// The explorer served by `attend serve` at /. Plain JavaScript, no libraries, no network beyond this server.
// Every number shown comes from the API: POST /v1/explain (one head of one layer: Q·K, ÷√d_k, softmax, output),
// POST /v1/embeddings with "return_attention" (every layer and head of a sentence encoder, for the head and model
// views; the demo models, which do not embed, are asked /v1/explain once per layer and head instead),
// POST /similarity (compare two sentences) and POST /v1/attention (the playground). The method picker asks
// POST /v1/explain with "method" (rollout, flow, value-norm, grad-attention) and draws that matrix in the heatmap.
// Test hook: window.__attendExplorer = { errors, busy, runs, explain, method, playground } (the last answers shown).
// explorer-explain.js (the flow diagram, the similarity explanation) reads the shared state through the same object:
// X.api, X.current(), X.grid(), X.focus(), X.layer(), and X.onDraw (functions called after each run and token pick).
(function () {
  "use strict";
  const X = window.__attendExplorer = { errors: [], busy: false, runs: 0, explain: null, method: null, playground: null, onDraw: [] };
  window.addEventListener("error", e => X.errors.push(String(e.message || e)));
  const $ = id => document.getElementById(id);
  const RAMP = [[247,251,255],[222,235,247],[198,219,239],[158,202,225],[107,174,214],[66,146,198],[33,113,181],[8,81,156],[8,48,107]];
  const HEAD_COLORS = ["#1f77b4","#ff7f0e","#2ca02c","#d62728","#9467bd","#8c564b","#e377c2","#7f7f7f","#bcbd22","#17becf","#393b79","#637939","#8c6d31","#843c39","#7b4173","#3182bd"];
  const ramp = t => {
    t = Math.max(0, Math.min(1, t || 0)) * (RAMP.length - 1);
    const i = Math.min(RAMP.length - 2, Math.floor(t)), f = t - i, a = RAMP[i], b = RAMP[i + 1];
    return [0, 1, 2].map(k => Math.round(a[k] + (b[k] - a[k]) * f));
  };
  const rgb = c => "rgb(" + c.join(",") + ")";
  const fmt = x => x === null || x === undefined ? "−∞" : Number(x).toFixed(4);
  const el = (tag, props, text) => { const e = document.createElement(tag); Object.assign(e, props || {}); if (text !== undefined) e.textContent = text; return e; };
  const cell = (tag, value, cls) => { const c = el(tag, { className: cls || "" }, typeof value === "number" || value === null ? fmt(value) : value); if (typeof value === "number" || value === null) c.dataset.v = String(value); return c; };

  const keyInput = $("api-key");
  try { keyInput.value = localStorage.getItem("attend-api-key") || ""; } catch (e) { /* storage may be off */ }
  keyInput.addEventListener("change", () => { try { localStorage.setItem("attend-api-key", keyInput.value); } catch (e) { /* ignore */ } });
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
  const status = (text, isError) => { const s = $("status"); s.textContent = text || "\u00a0"; s.className = "help" + (isError ? " error" : ""); };
  X.api = api; X.headers = headers; X.el = el; X.cell = cell; X.ramp = ramp; X.rgb = rgb; X.fmt = fmt;

  // ---- models, layers, heads ----
  let models = [];
  const current = () => models.find(m => m.id === $("model").value);
  function fillLayers(keepLayer, keepHead) {
    const m = current(), layers = (m && m.attend && m.attend.layers) || [];
    const ls = $("layer");
    ls.innerHTML = "";
    layers.forEach((l, i) => ls.appendChild(el("option", { value: i }, i + " · " + l.label)));
    ls.value = keepLayer !== undefined && keepLayer < layers.length ? keepLayer : Math.max(0, layers.length - 1);
    fillHeads(keepHead);
    $("model-name").textContent = m ? m.id : "";
  }
  function fillHeads(keep) {
    const m = current(), l = m && m.attend.layers[+$("layer").value], n = l ? l.heads : 0, hs = $("head");
    const old = keep !== undefined ? keep : +hs.value || 0;
    hs.innerHTML = "";
    for (let h = 0; h < n; h++) hs.appendChild(el("option", { value: h }, String(h)));
    hs.value = old < n ? old : 0;
  }

  // ---- the run: explain for the chosen head (and the chosen method), and every head for the views ----
  let ex = null, mx = null, focus = 0, grid = null, gridKey = "";
  X.current = () => current(); X.grid = () => grid; X.focus = () => focus; X.layer = () => +$("layer").value;
  X.setFocus = i => { focus = i; drawTokens(); drawSteps(); drawHeatmap(); };
  const redrawn = () => X.onDraw.forEach(f => { try { f(); } catch (e) { X.errors.push(String(e)); } });
  function methodBody(m, text, layer, head) {
    const method = $("method").value;
    if (method === "raw") return null;
    const body = { model: m.id, text, layer, method };
    if (method === "value-norm") body.head = head;
    if (method === "grad-attention") {
      const t = $("target").value;
      if (m.attend.embeddings) body.target = t; else body.target_token = t;
    }
    return body;
  }
  // The newest run wins: a run that a newer one overtook while it waited for the server stops drawing.
  let runId = 0;
  async function run() {
    const m = current();
    if (!m) return;
    const text = $("sentence").value, layer = +$("layer").value, head = +$("head").value, id = ++runId;
    X.busy = true; status("running " + m.id + " …");
    try {
      const answer = await api("/v1/explain", { model: m.id, text, layer, head });
      if (id !== runId) return;
      ex = answer;
      let line = m.id + " · " + ex.tokens.length + " tokens · layer " + layer + " (" + m.attend.layers[layer].label + ") · head " + head + " · d_k " + ex.d_k, failed = false;
      mx = null;
      const mb = methodBody(m, text, layer, head);
      if (mb) {
        status("running " + m.id + " · " + mb.method + " …");
        try { mx = await api("/v1/explain", mb); line += " · " + mb.method; } catch (e) { line = mb.method + ": " + String(e.message || e); failed = true; }
        if (id !== runId) return;
      }
      X.explain = ex; X.method = mx; X.runs++;
      if (focus >= ex.query_tokens.length) focus = 0;
      drawTokens(); drawSteps(); drawHeatmap();
      status(line, failed);
      const key = m.id + "\u0000" + text;
      if (key !== gridKey || !grid) {
        const g = await loadGrid(m, text);
        if (id !== runId) return;
        grid = g; gridKey = key;
      }
      drawHeadView(); drawModelView(); redrawn();
    } catch (e) {
      if (id === runId) status(String(e.message || e), true);
    } finally { if (id === runId) X.busy = false; }
  }

  // grid[l][h] = { rows: [tokens], cols: [tokens], w(i, j) }
  async function loadGrid(m, text) {
    const layers = m.attend.layers;
    if (m.attend.embeddings) {
      const r = await api("/v1/embeddings", { model: m.id, input: text, return_attention: true, encoding_format: "base64" });
      const a = r.data[0].attention, [L, H, n] = a.shape;
      const bytes = Uint8Array.from(atob(a.weights), c => c.charCodeAt(0));
      const f = new Float32Array(bytes.buffer);
      return Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => {
        const base = (l * H + h) * n * n;
        return { rows: a.tokens, cols: a.tokens, w: (i, j) => f[base + i * n + j], a: f.subarray(base, base + n * n) };
      }));
    }
    const out = [];
    for (let l = 0; l < layers.length; l++) {
      const row = [];
      for (let h = 0; h < layers[l].heads; h++) {
        const e = await api("/v1/explain", { model: m.id, text, layer: l, head: h });
        row.push({ rows: e.query_tokens, cols: e.key_tokens, w: (i, j) => e.weights[i][j] });
      }
      out.push(row);
    }
    return out;
  }

  function drawTokens() {
    const box = $("tokens");
    box.innerHTML = "";
    ex.query_tokens.forEach((t, i) => {
      const c = el("span", { className: "chip token on" + (i === focus ? " sel" : ""), title: "token " + i }, t);
      c.dataset.index = i;
      c.addEventListener("click", () => { focus = i; drawTokens(); drawSteps(); drawHeatmap(); redrawn(); });
      box.appendChild(c);
    });
  }

  function drawSteps() {
    const i = focus, q = ex.query_tokens[i], hasBias = !!ex.score_bias;
    $("steps-title").textContent = "The four steps for “" + q + "” (token " + i + "), layer " + ex.layer + " · head " + ex.head;
    const t = $("steps");
    t.innerHTML = "";
    const hr = el("tr");
    ["key", "token", "1 · Q·K", "2 · ÷√d_k (×" + fmt(ex.scale) + ")"].concat(hasBias ? ["+ bias"] : []).concat(["3 · softmax"]).forEach(h => hr.appendChild(el("th", {}, h)));
    t.appendChild(hr);
    const w = ex.weights[i];
    const top = new Set(w.map((v, j) => [v, j]).sort((a, b) => b[0] - a[0]).slice(0, 3).map(p => p[1]));
    let sum = 0;
    ex.key_tokens.forEach((k, j) => {
      const tr = el("tr", { className: top.has(j) ? "top" : "" });
      tr.appendChild(el("td", {}, String(j)));
      tr.appendChild(el("td", { className: "tok" }, k));
      tr.appendChild(cell("td", ex.scores[i][j], "score"));
      tr.appendChild(cell("td", ex.scaled_scores[i][j], "scaled"));
      if (hasBias) tr.appendChild(cell("td", ex.masked_scores ? ex.masked_scores[i][j] : ex.scaled_scores[i][j] + ex.score_bias[i][j], "biased"));
      tr.appendChild(cell("td", w[j], "weight"));
      sum += w[j];
      t.appendChild(tr);
    });
    $("weight-sum").textContent = "The softmax row sums to " + sum.toFixed(6) + ".";
    // Step 4: output = Σ_j w_j · v_j (the three heaviest keys shown; the sum runs over every key).
    const o = $("output"), dims = Math.min(ex.output[i].length, 12), more = ex.output[i].length > dims ? ["…"] : [];
    o.innerHTML = "";
    const h2 = el("tr");
    ["4 · output = Σ weight · value", "weight"].concat(Array.from({ length: dims }, (_, d) => "d" + d)).concat(more).forEach(h => h2.appendChild(el("th", {}, h)));
    o.appendChild(h2);
    [...top].sort((a, b) => w[b] - w[a]).forEach(j => {
      const tr = el("tr");
      tr.appendChild(el("td", { className: "tok" }, "v of “" + ex.key_tokens[j] + "” × " + fmt(w[j])));
      tr.appendChild(cell("td", w[j]));
      for (let d = 0; d < dims; d++) tr.appendChild(cell("td", ex.v[j][d]));
      o.appendChild(tr);
    });
    const mine = Array.from({ length: dims }, (_, d) => ex.v.reduce((s, v, j) => s + w[j] * v[d], 0));
    const tr1 = el("tr"); tr1.appendChild(el("td", { className: "tok" }, "Σ over all " + ex.key_tokens.length + " keys (computed here)")); tr1.appendChild(el("td"));
    mine.forEach(x => tr1.appendChild(cell("td", x, "mine"))); o.appendChild(tr1);
    const tr2 = el("tr", { className: "top" }); tr2.appendChild(el("td", { className: "tok" }, "output (the model's)")); tr2.appendChild(el("td"));
    for (let d = 0; d < dims; d++) tr2.appendChild(cell("td", ex.output[i][d], "out"));
    o.appendChild(tr2);
  }

  // ---- heatmap of the chosen head, or of the chosen method's matrix (canvas; cell size shrinks with the length) ----
  const METHOD_HELP = {
    raw: "Rows (queries) attend to columns (keys); each row sums to 1. Hover a cell for its value; click a row to pick that token.",
    rollout: "Rollout (Abnar & Zuidema 2020): R₀ = I, Â_l = ½·mean over heads of A_l + ½·I, R_{l+1} = Â_l·R_l, read after the chosen layer. Row i: what output token i is made of, input by input; rows sum to 1.",
    flow: "Attention flow (Abnar & Zuidema 2020): the maximum flow from each input token (column) to each output token (row) through the layers' Â = ½·mean + ½·I; limited by the narrowest layer on the way. Rows need not sum to 1; at most 40 tokens.",
    "value-norm": "Value-norm (Kobayashi et al. 2020): ‖α_ij · f(x_j)‖, how far the weighted value vector of key j moves query i in the chosen head (a large weight on a small value moves little).",
    "grad-attention": "Gradient × attention (Chefer et al. 2021): R ← R + mean over heads of (∂y/∂A ⊙ A)⁺ · R from R = I, where y is the cosine to the target sentence (encoders) or the log-probability of the target token (tiny-gpt). Slower: the model runs forward and backward.",
  };
  function drawMethodRow() {
    const t = $("method-row");
    t.innerHTML = "";
    if (!mx) return;
    const row = mx.matrix[focus] || [], hr = el("tr"), tr = el("tr");
    hr.appendChild(el("th", {}, mx.method + " row of “" + mx.query_tokens[focus] + "”"));
    tr.appendChild(el("td", { className: "tok" }, "token " + focus));
    mx.key_tokens.forEach((k, j) => { hr.appendChild(el("th", {}, k)); tr.appendChild(cell("td", row[j], "mval")); });
    t.appendChild(hr); t.appendChild(tr);
  }
  function drawHeatmap() {
    const src = mx || ex, W = mx ? mx.matrix : ex.weights, rows = src.query_tokens, cols = src.key_tokens, R = rows.length, C = cols.length;
    if (focus >= R) focus = 0;
    $("heatmap-help").textContent = METHOD_HELP[mx ? mx.method : "raw"];
    drawMethodRow();
    const size = Math.max(2, Math.min(18, Math.floor(720 / Math.max(R, C)))), label = size >= 8 ? 90 : 0;
    let vmax = 0;
    // grad-attention's R = I + Σ …: the identity would take the whole colour scale, so the scale is the largest
    // off-diagonal entry there (diagonal cells show as the darkest colour).
    const offDiagonal = !!mx && mx.method === "grad-attention" && R === C;
    W.forEach((row, i) => row.forEach((v, j) => { if (!(offDiagonal && i === j)) vmax = Math.max(vmax, v); }));
    vmax = vmax || 1;
    $("legend-max").textContent = fmt(vmax) + (offDiagonal ? " (largest off-diagonal entry)" : "");
    $("heatmap-title").textContent = mx
      ? "Heatmap · " + mx.method + (mx.method === "rollout" || mx.method === "flow" || mx.method === "grad-attention" ? " after layer " + mx.layer : " · layer " + mx.layer + (mx.head !== undefined ? " · head " + mx.head : ""))
      : "Heatmap · layer " + ex.layer + " · head " + ex.head;
    const c = $("heatmap"), ctx = c.getContext("2d");
    c.width = label + C * size + 4; c.height = label + R * size + 4;
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
    const img = ctx.createImageData(C * size, R * size);
    for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) {
      const col = W[i][j] === null ? [200, 200, 200] : ramp(W[i][j] / vmax);
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
        const gap = size > 4 && (x === size - 1 || y === size - 1);
        const p = ((i * size + y) * C * size + j * size + x) * 4;
        img.data[p] = gap ? 255 : col[0]; img.data[p + 1] = gap ? 255 : col[1]; img.data[p + 2] = gap ? 255 : col[2]; img.data[p + 3] = 255;
      }
    }
    ctx.putImageData(img, label, label);
    ctx.strokeStyle = "#d62728"; ctx.lineWidth = 2; ctx.strokeRect(label, label + focus * size, C * size, size);
    if (label) {
      ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = "#1d2733"; ctx.textBaseline = "middle";
      rows.forEach((t, i) => { ctx.textAlign = "right"; ctx.fillText(t.slice(0, 12), label - 4, label + i * size + size / 2); });
      cols.forEach((t, j) => { ctx.save(); ctx.translate(label + j * size + size / 2, label - 4); ctx.rotate(-Math.PI / 2); ctx.textAlign = "left"; ctx.fillText(t.slice(0, 12), 0, 0); ctx.restore(); });
    }
    c.onmousemove = e => {
      const r = c.getBoundingClientRect(), j = Math.floor((e.clientX - r.left - label) / size), i = Math.floor((e.clientY - r.top - label) / size);
      $("readout").textContent = i >= 0 && i < R && j >= 0 && j < C ? "“" + rows[i] + "” → “" + cols[j] + "”: " + fmt(W[i][j]) : "\u00a0";
    };
    c.onclick = e => {
      const r = c.getBoundingClientRect(), i = Math.floor((e.clientY - r.top - label) / size);
      if (i >= 0 && i < R) { focus = i; drawTokens(); drawSteps(); drawHeatmap(); redrawn(); }
    };
  }

  // ---- head view: every head of the layer, one colour each ----
  let shownHeads = null, hoverRow = -1;
  function drawHeadView() {
    if (!grid) return;
    const layer = +$("layer").value, heads = grid[layer], H = heads.length;
    if (!shownHeads || shownHeads.length !== H) shownHeads = Array.from({ length: H }, () => true);
    const chips = $("head-chips");
    chips.innerHTML = "";
    heads.forEach((_, h) => {
      const c = el("span", { className: "chip" + (shownHeads[h] ? " on" : "") + (h === +$("head").value ? " detail" : ""), title: "head " + h }, String(h));
      c.style.background = HEAD_COLORS[h % HEAD_COLORS.length];
      c.addEventListener("click", () => { shownHeads[h] = !shownHeads[h]; drawHeadView(); });
      chips.appendChild(c);
    });
    $("headview-title").textContent = "Head view · layer " + layer;
    const rows = heads[0].rows, cols = heads[0].cols, n = Math.max(rows.length, cols.length);
    const rowH = Math.max(12, Math.min(20, Math.floor(900 / n))), colW = 110, gapW = 220;
    const c = $("headview"), ctx = c.getContext("2d");
    c.width = colW * 2 + gapW; c.height = n * rowH + 10;
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
    ctx.font = Math.min(12, rowH - 2) + "px system-ui, sans-serif"; ctx.textBaseline = "middle";
    const y = i => 5 + i * rowH + rowH / 2;
    heads.forEach((g, h) => {
      if (!shownHeads[h]) return;
      ctx.strokeStyle = HEAD_COLORS[h % HEAD_COLORS.length];
      for (let i = 0; i < g.rows.length; i++) {
        if (hoverRow >= 0 && i !== hoverRow) continue;
        for (let j = 0; j < g.cols.length; j++) {
          const w = g.w(i, j);
          if (!(w > (hoverRow >= 0 ? 0.01 : 0.05))) continue;
          ctx.globalAlpha = Math.min(1, 0.15 + w); ctx.lineWidth = 0.5 + 3 * w;
          ctx.beginPath(); ctx.moveTo(colW, y(i)); ctx.lineTo(colW + gapW, y(j)); ctx.stroke();
        }
      }
    });
    ctx.globalAlpha = 1; ctx.fillStyle = "#1d2733";
    rows.forEach((t, i) => { ctx.textAlign = "right"; ctx.fillStyle = i === hoverRow ? "#d62728" : "#1d2733"; ctx.fillText(t.slice(0, 14), colW - 6, y(i)); });
    ctx.fillStyle = "#1d2733";
    cols.forEach((t, j) => { ctx.textAlign = "left"; ctx.fillText(t.slice(0, 14), colW + gapW + 6, y(j)); });
    c.onmousemove = e => {
      const r = c.getBoundingClientRect(), x = e.clientX - r.left, i = Math.floor((e.clientY - r.top - 5) / rowH);
      const next = x < colW && i >= 0 && i < rows.length ? i : -1;
      if (next !== hoverRow) { hoverRow = next; drawHeadView(); }
    };
    c.onmouseleave = () => { if (hoverRow !== -1) { hoverRow = -1; drawHeadView(); } };
  }

  // ---- model view: layers × heads thumbnails ----
  // The canvases are made at once; their pixels are painted one layer per frame, so 256 tokens × 72 heads never
  // hold the page for long (a newer drawing cancels an older one that is still painting).
  let paintGeneration = 0;
  function paintThumb(c, g, S) {
    const R = g.rows.length, C = g.cols.length, off = document.createElement("canvas");
    off.width = C; off.height = R;
    const octx = off.getContext("2d"), img = octx.createImageData(C, R), a = g.a;
    let vmax = 0;
    if (a) { for (let k = 0; k < a.length; k++) if (a[k] > vmax) vmax = a[k]; }
    else for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) vmax = Math.max(vmax, g.w(i, j) || 0);
    vmax = vmax || 1;
    for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) {
      const col = ramp((a ? a[i * C + j] : g.w(i, j) || 0) / vmax), p = (i * C + j) * 4;
      img.data[p] = col[0]; img.data[p + 1] = col[1]; img.data[p + 2] = col[2]; img.data[p + 3] = 255;
    }
    octx.putImageData(img, 0, 0);
    const ctx = c.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, 0, 0, S, S);
  }
  function drawModelView() {
    if (!grid) return;
    const box = $("modelview"), m = current(), H = Math.max(...grid.map(r => r.length)), S = 56, generation = ++paintGeneration;
    box.innerHTML = "";
    box.style.gridTemplateColumns = "auto repeat(" + H + ", " + (S + 2) + "px)";
    box.appendChild(el("span"));
    for (let h = 0; h < H; h++) box.appendChild(el("span", { className: "lab" }, "head " + h));
    const pending = [];
    grid.forEach((row, l) => {
      box.appendChild(el("span", { className: "lab" }, l + " · " + m.attend.layers[l].label));
      const layerCanvases = [];
      for (let h = 0; h < H; h++) {
        const g = row[h];
        if (!g) { box.appendChild(el("span")); continue; }
        const c = el("canvas", { width: S, height: S, title: "layer " + l + " · head " + h });
        if (l === +$("layer").value && h === +$("head").value) c.className = "sel";
        c.addEventListener("click", () => { $("layer").value = l; fillHeads(h); $("head").value = h; run(); });
        box.appendChild(c);
        layerCanvases.push([c, g]);
      }
      pending.push(layerCanvases);
    });
    const paintNext = () => {
      if (generation !== paintGeneration || !pending.length) return;
      pending.shift().forEach(([c, g]) => paintThumb(c, g, S));
      requestAnimationFrame(paintNext);
    };
    paintNext();
  }

  // ---- compare two sentences ----
  $("cmp-go").addEventListener("click", async () => {
    const m = current(), enc = m && m.attend.embeddings ? m : models.find(x => x.attend && x.attend.embeddings);
    const out = $("cmp-out");
    if (!enc) { out.textContent = "No sentence encoder is served here (attend models install all-MiniLM-L6-v2, then restart attend serve)."; return; }
    try {
      const r = await api("/similarity", { model: enc.id, inputs: { source_sentence: $("cmp-a").value, sentences: [$("cmp-b").value] } });
      out.textContent = "cosine similarity (" + enc.id + "): " + r[0].toFixed(4);
      out.dataset.v = String(r[0]);
    } catch (e) { out.textContent = String(e.message || e); }
  });

  // ---- the playground: your own Q, K, V through POST /v1/attention ----
  let examples = {}, exampleExtra = {};
  const asRows = x => !Array.isArray(x) ? [[x]] : (Array.isArray(x[0]) ? (Array.isArray(x[0][0]) ? null : x) : [x]);
  function table(title, x, withSum) {
    const wrap = el("div"), heads = Array.isArray(x) && Array.isArray(x[0]) && Array.isArray(x[0][0]) ? x : [x];
    heads.forEach((m, h) => {
      wrap.appendChild(el("h3", {}, title + (heads.length > 1 ? " · head " + h : "")));
      const t = el("table", { className: "numbers" });
      t.dataset.step = title;
      asRows(m).forEach(row => {
        const tr = el("tr");
        row.forEach(v => tr.appendChild(cell("td", v)));
        if (withSum) tr.appendChild(el("td", { className: "tok" }, "Σ = " + row.reduce((s, v) => s + (v || 0), 0).toFixed(4)));
        t.appendChild(tr);
      });
      wrap.appendChild(t);
    });
    return wrap;
  }
  function loadExample(name) {
    const e = examples[name];
    if (!e) return;
    $("pg-q").value = JSON.stringify(e.q); $("pg-k").value = JSON.stringify(e.k); $("pg-v").value = JSON.stringify(e.v);
    $("pg-scale").value = e.scale === undefined ? "" : String(e.scale);
    exampleExtra = {};
    ["mask", "heads"].forEach(k => { if (e[k] !== undefined) exampleExtra[k] = e[k]; });
  }
  async function recompute() {
    const st = $("pg-status"), out = $("pg-out");
    let body;
    try {
      body = Object.assign({ q: JSON.parse($("pg-q").value), k: JSON.parse($("pg-k").value), v: JSON.parse($("pg-v").value) }, exampleExtra);
      const s = $("pg-scale").value.trim();
      if (s) body.scale = Number(s);
    } catch (e) { st.textContent = "Q, K and V must be JSON arrays: " + e.message; st.className = "help error"; return; }
    try {
      const r = await api("/v1/attention", body);
      X.playground = r;
      out.innerHTML = "";
      out.appendChild(table("1 · scores Q·Kᵀ", r.scores));
      out.appendChild(table("2 · scaled × " + fmt(r.scale), r.scaled_scores));
      if (r.masked_scores) out.appendChild(table("masked", r.masked_scores));
      out.appendChild(table("3 · softmax weights", r.weights, true));
      out.appendChild(table("4 · output = weights · V", r.output));
      st.textContent = "scale " + r.scale + " · computed by POST /v1/attention"; st.className = "help";
    } catch (e) { st.textContent = String(e.message || e); st.className = "help error"; }
  }
  $("pg-go").addEventListener("click", recompute);
  $("pg-example").addEventListener("change", () => { loadExample($("pg-example").value); recompute(); });
  async function loadExamples() {
    for (const name of ["numpy-example", "hello-world-score-matrix", "hello-world-step2"]) {
      try { examples[name] = await api(name + ".json"); $("pg-example").appendChild(el("option", { value: name }, name)); } catch (e) { X.errors.push(String(e)); }
    }
    loadExample("numpy-example");
    await recompute();
  }

  // ---- the demo models ----
  function demo(model, sentence, pickLayer, head) {
    if (!models.find(m => m.id === model)) { status(model + " is not served here (start attend serve without --model, or add --model " + model + ")", true); return; }
    $("model").value = model; $("sentence").value = sentence;
    fillLayers(pickLayer(current().attend.layers), head); showTarget();
    focus = 0; run();
  }
  $("demo-translator").addEventListener("click", () => demo("tiny-translator", "the small dog sees the red car",
    layers => { let k = layers.length - 1; while (k > 0 && layers[k].kind !== "cross") k--; return k; }, 0));
  $("demo-induction").addEventListener("click", () => demo("tiny-gpt", "na ro zi li bo si va ba na ro zi li bo si va", () => 1, 0));

  $("model").addEventListener("change", () => { fillLayers(); showTarget(); run(); });
  $("layer").addEventListener("change", () => { fillHeads(); run(); });
  $("head").addEventListener("change", run);
  function showTarget() {
    const m = current(), grad = $("method").value === "grad-attention";
    $("target-box").hidden = !grad;
    const wantsToken = m && !m.attend.embeddings;
    $("target-label").textContent = wantsToken ? "Target token" : "Target sentence";
    if (grad && wantsToken && $("target").value.includes(" ")) $("target").value = "bi";
    if (grad && !wantsToken && !$("target").value.includes(" ")) $("target").value = "A cat was sitting on a mat.";
  }
  $("method").addEventListener("change", () => { showTarget(); run(); });
  $("target").addEventListener("change", () => { if ($("method").value === "grad-attention") run(); });
  $("ask").addEventListener("submit", e => { e.preventDefault(); run(); });

  (async () => {
    try {
      models = (await api("/v1/models")).data;
      models.forEach(m => $("model").appendChild(el("option", { value: m.id }, m.id + (m.attend && m.attend.embeddings ? "" : " (demo)"))));
      if (models.length && !models[0].attend.embeddings) $("sentence").value = "the small dog sees the red car";
      // A link may open a view: #model=tiny-gpt&text=na%20ro&layer=1&head=0&token=3
      const want = new URLSearchParams(location.hash.slice(1));
      if (want.get("model") && models.find(m => m.id === want.get("model"))) $("model").value = want.get("model");
      if (want.get("text")) $("sentence").value = want.get("text");
      const wl = want.get("layer"), wh = want.get("head");
      fillLayers(wl !== null ? +wl : undefined, wh !== null ? +wh : undefined);
      if (want.get("token")) focus = +want.get("token") || 0;
      await run();
    } catch (e) { status(String(e.message || e), true); }
    await loadExamples();
  })();
})();
