// The explorer's explanation views, beside explorer.js (whose state they read through window.__attendExplorer):
// - the flow diagram: the tokens once per layer (inputs, then each layer's output), lines between consecutive
//   columns weighted by that layer's attention averaged over its heads (or Â = ½·mean + ½·I, the matrix attention
//   rollout multiplies), drawn on a canvas with a threshold and a cap on the line count, so 256 tokens stay quick;
// - the similarity explanation on the compare panel: POST /v1/similarity/explain (what `attend similarity A B
//   --explain --json` prints): the token × token contributions whose cells sum to the cosine, what each token adds,
//   and the input words that made the score (integrated gradients, with the completeness error).
// Test hook: X.flow = { layers, columns, tokens, lines } of the last drawing; X.similarity = the last answer shown.
(function () {
  "use strict";
  const X = window.__attendExplorer, $ = id => document.getElementById(id);
  if (!X || !X.api) return;
  const el = X.el, cell = X.cell;

  // ---- flow diagram ----
  const MAX_LINES = 30000;
  let flowHover = null;   // [column, token] under the mouse
  function chainOf(m, grid, layer) {
    // The layers one sequence flows through: those of the chosen layer's kind over the same tokens (for
    // tiny-translator, the encoder's self-attention or the decoder's causal self-attention; cross-attention is not a step).
    const L = m.attend.layers, kind = L[layer].kind, g = grid[layer][0];
    if (kind === "cross" || g.rows.length !== g.cols.length) return null;
    const out = [];
    for (let l = 0; l <= layer; l++) {
      const h = grid[l][0];
      if (L[l].kind === kind && h.rows.length === g.rows.length && h.rows.every((t, i) => t === g.rows[i])) out.push(l);
    }
    return out;
  }
  function layerMatrix(heads, n, residual) {
    // [n*n] mean over heads of A[i][j] (+ the residual half-identity)
    const out = new Float64Array(n * n), H = heads.length;
    heads.forEach(g => {
      const a = g.a;
      if (a) for (let k = 0; k < n * n; k++) out[k] += a[k];
      else for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] += g.w(i, j) || 0;
    });
    for (let k = 0; k < n * n; k++) out[k] /= H;
    if (residual) { for (let k = 0; k < n * n; k++) out[k] *= 0.5; for (let i = 0; i < n; i++) out[i * n + i] += 0.5; }
    return out;
  }
  function drawFlow() {
    const grid = X.grid && X.grid(), m = X.current && X.current(), c = $("flowview");
    if (!grid || !m) return;
    const layer = X.layer(), chain = chainOf(m, grid, layer), ctx = c.getContext("2d");
    if (!chain) {
      c.width = 10; c.height = 10;
      $("flow-title").textContent = "Flow diagram";
      $("flow-readout").textContent = m.attend.layers[layer].label + " is cross-attention (two sequences): the flow diagram follows one sequence; pick a self-attention layer.";
      X.flow = { layers: [], columns: 0, tokens: 0, lines: 0 };
      return;
    }
    const tokens = grid[chain[0]][0].rows, n = tokens.length, residual = $("flow-mode").value === "residual";
    const threshold = +$("flow-threshold").value, cols = chain.length + 1;
    const rowH = Math.max(3, Math.min(18, Math.floor(1000 / n))), colGap = Math.max(120, Math.min(200, Math.floor(1100 / cols)));
    const labelW = rowH >= 9 ? 80 : 32, top = 24;
    c.width = labelW * 2 + (cols - 1) * colGap; c.height = top + n * rowH + 8;
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
    const x = k => labelW + k * colGap, y = i => top + i * rowH + rowH / 2;
    // Lines: per layer, edge j (column k) → i (column k+1) of weight M[i][j] over the threshold; at most
    // `perRow` strongest per target token, and MAX_LINES in all (the strongest kept).
    const perRow = n > 64 ? 4 : n, edges = [];
    const matrices = chain.map(l => layerMatrix(grid[l], n, residual));
    matrices.forEach((M, k) => {
      for (let i = 0; i < n; i++) {
        const row = [];
        for (let j = 0; j < n; j++) { const w = M[i * n + j]; if (w > threshold) row.push([w, j]); }
        row.sort((a, b) => b[0] - a[0]);
        row.slice(0, perRow).forEach(([w, j]) => edges.push([k, j, i, w]));
      }
    });
    edges.sort((a, b) => b[3] - a[3]);
    const drawn = edges.slice(0, MAX_LINES);
    const touches = e => !flowHover || (flowHover[0] === e[0] && flowHover[1] === e[1]) || (flowHover[0] === e[0] + 1 && flowHover[1] === e[2]);
    ctx.strokeStyle = "#1f5fa8";
    for (let q = drawn.length - 1; q >= 0; q--) {
      const e = drawn[q];
      if (!touches(e)) continue;
      ctx.globalAlpha = Math.min(1, 0.1 + 0.9 * e[3]); ctx.lineWidth = 0.4 + 3 * e[3];
      ctx.beginPath(); ctx.moveTo(x(e[0]), y(e[1])); ctx.lineTo(x(e[0] + 1), y(e[2])); ctx.stroke();
    }
    ctx.globalAlpha = 1;
    ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = "#5b6673"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    for (let k = 0; k < cols; k++) ctx.fillText(k === 0 ? "input" : "layer " + chain[k - 1], x(k), 10);
    ctx.font = Math.min(11, rowH - 1) + "px system-ui, sans-serif";
    for (let k = 0; k < cols; k++) for (let i = 0; i < n; i++) {
      const hot = flowHover && flowHover[0] === k && flowHover[1] === i;
      ctx.fillStyle = hot ? "#d62728" : "#1d2733";
      if (rowH >= 9 && (k === 0 || k === cols - 1)) {
        ctx.textAlign = k === 0 ? "right" : "left";
        ctx.fillText(tokens[i].slice(0, 10), x(k) + (k === 0 ? -5 : 5), y(i));
      }
      ctx.fillRect(x(k) - 1.5, y(i) - Math.min(2, rowH / 3), 3, Math.min(4, rowH * 2 / 3));
    }
    $("flow-title").textContent = "Flow diagram · " + m.id + " · layers " + chain.join(", ") + (residual ? " · Â = ½·mean + ½·I" : " · mean over heads");
    $("flow-readout").textContent = drawn.length + " lines over " + threshold + (edges.length > drawn.length ? " (the strongest " + MAX_LINES + " of " + edges.length + ")" : "")
      + (n > 64 ? "; at most " + perRow + " per token and layer" : "") + ". Hover a token to follow its lines.";
    X.flow = { layers: chain, columns: cols, tokens: n, lines: drawn.length };
    c.onmousemove = ev => {
      const r = c.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
      const k = Math.round((px - labelW) / colGap), i = Math.floor((py - top) / rowH);
      const next = k >= 0 && k < cols && Math.abs(px - x(k)) < Math.min(60, colGap / 2) && i >= 0 && i < n ? [k, i] : null;
      if (String(next) !== String(flowHover)) {
        flowHover = next; drawFlow();
        if (next) $("flow-readout").textContent = "“" + tokens[next[1]] + "” (token " + next[1] + ") " + (next[0] === 0 ? "at the input" : "after layer " + chain[next[0] - 1]);
      }
    };
    c.onmouseleave = () => { if (flowHover) { flowHover = null; drawFlow(); } };
  }
  X.onDraw.push(drawFlow);
  $("flow-mode").addEventListener("change", drawFlow);
  $("flow-threshold").addEventListener("change", drawFlow);

  // ---- similarity explained ----
  const BLUE = [33, 102, 172], RED = [178, 24, 43];
  const diverging = t => {   // t in [−1, 1]: red (apart) … white … blue (together)
    const c = t >= 0 ? BLUE : RED, a = Math.min(1, Math.abs(t));
    return "rgb(" + c.map(v => Math.round(255 + (v - 255) * a)).join(",") + ")";
  };
  const ink = t => Math.abs(t) > 0.55 ? "#fff" : "#1d2733";
  function tokenChips(title, tokens, values, cls) {
    const box = el("div", { className: "simx-words" });
    box.appendChild(el("span", { className: "lab" }, title));
    const vmax = Math.max(1e-12, ...values.map(Math.abs));
    tokens.forEach((t, i) => {
      const c = el("span", { className: "chip word " + cls, title: "token " + i + ": " + values[i].toFixed(5) }, t);
      c.style.background = diverging(values[i] / vmax); c.style.color = ink(values[i] / vmax);
      c.dataset.v = String(values[i]);
      box.appendChild(c);
    });
    return box;
  }
  function drawSimilarity(r) {
    const box = $("simx"), C = r.contributions, n = r.tokens_a.length, m = r.tokens_b.length;
    box.innerHTML = "";
    const out = $("cmp-out");
    out.textContent = "cosine similarity (" + r.model + "): " + r.cosine.toFixed(4);
    out.dataset.v = String(r.cosine);
    let vmax = 1e-12;
    C.forEach(row => row.forEach(v => { vmax = Math.max(vmax, Math.abs(v)); }));
    box.appendChild(el("p", { className: "help" }, "Each cell is (h_i · g_j) / (n · m · ‖ē_a‖ · ‖ē_b‖): the last-layer vectors of token i of a (rows) and token j of b (columns), so the " + n + " × " + m + " cells sum to the cosine exactly. Blue pulls the sentences together, red apart."));
    const t = el("table", { className: "numbers simx-table", id: "simx-table" });
    const hr = el("tr");
    hr.appendChild(el("th", {}, "a \\ b"));
    r.tokens_b.forEach(tok => hr.appendChild(el("th", {}, tok)));
    hr.appendChild(el("th", {}, "Σ row"));
    t.appendChild(hr);
    let total = 0;
    C.forEach((row, i) => {
      const tr = el("tr");
      tr.appendChild(el("td", { className: "tok" }, r.tokens_a[i]));
      row.forEach((v, j) => {
        const td = el("td", { className: "c", title: "“" + r.tokens_a[i] + "” · “" + r.tokens_b[j] + "”: " + v.toFixed(6) }, (1000 * v).toFixed(1));
        td.dataset.v = String(v); td.style.background = diverging(v / vmax); td.style.color = ink(v / vmax);
        total += v;
        tr.appendChild(td);
      });
      tr.appendChild(cell("td", r.row_sums[i], "rowsum"));
      t.appendChild(tr);
    });
    const cr = el("tr");
    cr.appendChild(el("td", { className: "tok" }, "Σ column"));
    r.column_sums.forEach(v => cr.appendChild(cell("td", v, "colsum")));
    cr.appendChild(el("td"));
    t.appendChild(cr);
    const wrap = el("div", { className: "scroll" });
    wrap.appendChild(t);
    box.appendChild(wrap);
    const sum = el("p", { className: "readout", id: "simx-sum" }, "Cells in thousandths. Σ of the " + (n * m) + " cells (added here) = " + total.toFixed(6) + "; the cosine = " + r.cosine.toFixed(6) + ".");
    sum.dataset.v = String(total);
    box.appendChild(sum);
    // The strongest pairs, in words.
    const pairs = [];
    C.forEach((row, i) => row.forEach((v, j) => pairs.push([v, i, j])));
    pairs.sort((a, b) => b[0] - a[0]);
    box.appendChild(el("p", { className: "help" }, "Strongest pairs: " + pairs.slice(0, 5).map(p => "“" + r.tokens_a[p[1]] + "” · “" + r.tokens_b[p[2]] + "” " + p[0].toFixed(4)).join(", ") + "."));
    box.appendChild(tokenChips("a, what each token adds (row sums):", r.tokens_a, r.row_sums, "rowchip"));
    box.appendChild(tokenChips("b, what each token adds (column sums):", r.tokens_b, r.column_sums, "colchip"));
    const ia = r.input_attributions;
    if (ia) {
      box.appendChild(el("h3", {}, "The words that made it match: " + ia.method));
      box.appendChild(el("p", { className: "help" }, "Attributions of the score to the input words, summing to the score minus the baseline's (" + ia.baseline + ")."));
      [["a", ia.a], ["b", ia.b]].forEach(([name, side]) => {
        box.appendChild(tokenChips(name + ":", side.tokens, side.attributions, "ig-" + name));
        const s = side.attributions.reduce((x, y) => x + y, 0);
        box.appendChild(el("p", { className: "help ig-check" }, "cos " + side.score.toFixed(4) + " − baseline " + side.baseline_score.toFixed(4) + " = " + (side.score - side.baseline_score).toFixed(4)
          + "; Σ attributions = " + s.toFixed(4) + " (completeness error " + side.completeness_error.toExponential(2) + ", " + (100 * side.relative_completeness_error).toFixed(3) + "% of the score; " + side.steps + " steps)"));
      });
    } else {
      box.appendChild(el("p", { className: "help" }, "Input-word attributions were skipped: the texts are longer than the server runs integrated gradients on."));
    }
  }
  $("cmp-explain").addEventListener("click", async () => {
    const models = (await X.api("/v1/models").catch(() => ({ data: [] }))).data;
    const m = X.current(), enc = m && m.attend.embeddings ? m : models.find(x => x.attend && x.attend.embeddings);
    const out = $("cmp-out");
    if (!enc) { out.textContent = "No sentence encoder is served here (attend models install all-MiniLM-L6-v2, then restart attend serve)."; return; }
    X.similarityBusy = true;
    out.textContent = "explaining with " + enc.id + " (integrated gradients run the model forward and backward: a few seconds) …";
    const body = { model: enc.id, a: $("cmp-a").value, b: $("cmp-b").value };
    try {
      let r;
      try { r = await X.api("/v1/similarity/explain", body); } catch (e) {
        if (!/token-steps/.test(String(e.message))) throw e;
        r = await X.api("/v1/similarity/explain", Object.assign({ input_attribution: false }, body));
      }
      X.similarity = r;
      drawSimilarity(r);
    } catch (e) { out.textContent = String(e.message || e); X.errors.push("similarity: " + String(e.message || e)); }
    finally { X.similarityBusy = false; }
  });
})();
