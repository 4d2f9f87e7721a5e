(function () {
  "use strict";
  const T = window.__attendTest = { errors: [], ready: false };
  window.addEventListener("error", e => T.errors.push(String(e.message || e)));
  const origError = console.error.bind(console);
  console.error = function () { T.errors.push(Array.from(arguments).join(" ")); origError.apply(null, arguments); };

  const D = JSON.parse(document.getElementById("attend-data").textContent);
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                   "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#843c39", "#7b4173", "#3182bd"];
  const RAMP = [[247,251,255],[222,235,247],[198,219,239],[158,202,225],[107,174,214],[66,146,198],[33,113,181],[8,81,156],[8,48,107]];
  const MASKED = 65535;
  const headColor = h => h < PALETTE.length ? PALETTE[h] : "hsl(" + ((h * 47) % 360) + ",60%,45%)";
  const rampColor = t => {
    t = Math.max(0, Math.min(1, t || 0)) * (RAMP.length - 1);
    const i = Math.min(RAMP.length - 2, Math.floor(t)), f = t - i, a = RAMP[i], b = RAMP[i + 1];
    return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
  };
  const TAGS = { "self": "self", "previous": "prev", "next": "next", "[CLS]": "[CLS]", "[SEP]": "[SEP]", "punctuation": "punct", "other": "spread" };
  const PHRASES = { "self": "itself", "previous": "the previous token", "next": "the next token", "[CLS]": "[CLS]", "[SEP]": "[SEP]", "punctuation": "punctuation", "other": "no single place" };
  const tagClass = m => "tag-" + m.replace(/[\[\]]/g, "");

  // Weights: UInt16 little-endian, w = v / 65534, 65535 = masked; decoded lazily per layer.
  const cache = [];
  function layerData(l) {
    if (!cache[l]) {
      const bin = atob(D.layers[l].weights), n = bin.length >> 1, a = new Uint16Array(n);
      for (let k = 0; k < n; k++) a[k] = bin.charCodeAt(2 * k) | (bin.charCodeAt(2 * k + 1) << 8);
      cache[l] = a;
    }
    return cache[l];
  }
  function W(l, h, i, j) {  // weight, or -1 when masked
    const L = D.layers[l], v = layerData(l)[(h * L.queryTokens.length + i) * L.keyTokens.length + j];
    return v === MASKED ? -1 : v / 65534;
  }
  function headMax(l, h) {
    const L = D.layers[l], a = layerData(l), n = L.queryTokens.length * L.keyTokens.length;
    let m = 0;
    for (let k = h * n; k < (h + 1) * n; k++) if (a[k] !== MASKED && a[k] > m) m = a[k];
    return m > 0 ? m / 65534 : 1;
  }

  const init = D.initial || {};
  const S = {
    layer: Math.min(init.layer || 0, D.layers.length - 1),
    heads: new Set([init.head || 0]),
    detail: { layer: init.layer || 0, head: init.head || 0 },
    pinned: init.token === undefined ? null : { side: "q", index: init.token },
    hover: null,
  };

  function setupCanvas(c, w, h) {
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.max(1, Math.round(w * dpr)); c.height = Math.max(1, Math.round(h * dpr));
    c.style.width = w + "px"; c.style.height = h + "px";
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return ctx;
  }
  function fmt(x, d) { return x < 0 ? "masked" : x.toFixed(d === undefined ? 4 : d); }
  function clip(s, n) { return s.length > n ? s.slice(0, n - 1) + "…" : s; }

  // ---------- Head view ----------
  const hv = document.getElementById("headview");
  const HV = { rowH: 22, top: 30, xL: 0, xR: 0, width: 0, font: 13 };
  function drawHeadView() {
    const L = D.layers[S.layer], q = L.queryTokens, k = L.keyTokens, n = Math.max(q.length, k.length);
    HV.rowH = n > 60 ? 14 : 22; HV.font = n > 60 ? 11 : 13;
    const ctx0 = hv.getContext("2d");
    ctx0.font = HV.font + "px system-ui, sans-serif";
    const wq = Math.min(150, Math.max(96, ...q.map(t => ctx0.measureText(clip(t, 20)).width)));
    const wk = Math.min(150, Math.max(110, ...k.map(t => ctx0.measureText(clip(t, 20)).width)));
    HV.xL = wq + 16; HV.xR = HV.xL + 220; HV.width = HV.xR + wk + 16;
    const height = HV.top + n * HV.rowH + 10;
    const ctx = setupCanvas(hv, HV.width, height);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, HV.width, height);
    ctx.font = "600 11px system-ui, sans-serif"; ctx.fillStyle = "#5b6673";
    ctx.textAlign = "right"; ctx.fillText(L.kind === "cross" ? "decoder (query)" : "attends (query)", HV.xL, 14);
    ctx.textAlign = "left"; ctx.fillText(L.kind === "cross" ? "encoder (key)" : "attended to (key)", HV.xR, 14);
    const focus = S.hover || S.pinned;
    const heads = Array.from(S.heads).sort((a, b) => a - b);
    const y = i => HV.top + (i + 0.5) * HV.rowH;
    // Key highlight strength (sum over the shown heads) when a token is isolated.
    const keyGlow = new Float32Array(k.length), queryGlow = new Float32Array(q.length);
    // Lines, grouped by head and quantised opacity so each group is one path.
    ctx.lineWidth = n > 60 ? 1.2 : 2;
    for (const h of heads) {
      const buckets = [];
      for (let i = 0; i < q.length; i++) {
        if (focus && focus.side === "q" && focus.index !== i) continue;
        for (let j = 0; j < k.length; j++) {
          if (focus && focus.side === "k" && focus.index !== j) continue;
          const w = W(S.layer, h, i, j);
          if (w < 0.01) continue;
          if (focus) { keyGlow[j] += w; queryGlow[i] += w; }
          const b = Math.min(19, Math.floor(w * 20));
          (buckets[b] = buckets[b] || []).push(i, j);
        }
      }
      ctx.strokeStyle = headColor(h);
      buckets.forEach((pairs, b) => {
        if (!pairs) return;
        ctx.globalAlpha = Math.min(1, (b + 0.5) / 20 * (heads.length > 1 ? 0.85 : 1));
        ctx.beginPath();
        for (let p = 0; p < pairs.length; p += 2) { ctx.moveTo(HV.xL + 6, y(pairs[p])); ctx.lineTo(HV.xR - 6, y(pairs[p + 1])); }
        ctx.stroke();
      });
    }
    ctx.globalAlpha = 1;
    // Tokens; when one is isolated, the other side's tokens are shaded by the weight they receive.
    ctx.font = HV.font + "px system-ui, sans-serif"; ctx.textBaseline = "middle";
    const shade = (glow, i, x, w, alignRight) => {
      const g = Math.min(1, glow[i] / Math.max(1, heads.length));
      if (g <= 0.01) return;
      ctx.fillStyle = "rgba(31,119,180," + (0.12 + 0.6 * g).toFixed(3) + ")";
      ctx.fillRect(alignRight ? x - w - 4 : x - 2, y(i) - HV.rowH / 2 + 1, w + 6, HV.rowH - 2);
    };
    for (let i = 0; i < q.length; i++) {
      const t = clip(q[i], 20), w = ctx.measureText(t).width;
      const active = focus && focus.side === "q" && focus.index === i;
      if (active) { ctx.fillStyle = "#ffe8a8"; ctx.fillRect(HV.xL - w - 4, y(i) - HV.rowH / 2 + 1, w + 6, HV.rowH - 2); }
      if (focus && focus.side === "k") shade(queryGlow, i, HV.xL, w, true);
      ctx.fillStyle = active ? "#b3001b" : "#1d2733"; ctx.textAlign = "right"; ctx.fillText(t, HV.xL, y(i));
    }
    for (let j = 0; j < k.length; j++) {
      const t = clip(k[j], 20), w = ctx.measureText(t).width;
      const active = focus && focus.side === "k" && focus.index === j;
      if (active) { ctx.fillStyle = "#ffe8a8"; ctx.fillRect(HV.xR - 2, y(j) - HV.rowH / 2 + 1, w + 6, HV.rowH - 2); }
      if (focus && focus.side === "q") shade(keyGlow, j, HV.xR, w, false);
      const masked = focus && focus.side === "q" && heads.length > 0 && W(S.layer, heads[0], focus.index, j) < 0;
      ctx.fillStyle = masked ? "#a0a7b0" : (active ? "#b3001b" : "#1d2733"); ctx.textAlign = "left"; ctx.fillText(t, HV.xR, y(j));
      if (masked) { ctx.strokeStyle = "#a0a7b0"; ctx.lineWidth = 1; ctx.beginPath(); ctx.moveTo(HV.xR, y(j)); ctx.lineTo(HV.xR + w, y(j)); ctx.stroke(); }
    }
  }
  function headViewHit(ev) {
    const r = hv.getBoundingClientRect(), x = ev.clientX - r.left, yy = ev.clientY - r.top;
    const L = D.layers[S.layer], i = Math.floor((yy - HV.top) / HV.rowH);
    if (x < HV.xL + 8 && i >= 0 && i < L.queryTokens.length) return { side: "q", index: i };
    if (x > HV.xR - 8 && i >= 0 && i < L.keyTokens.length) return { side: "k", index: i };
    return null;
  }
  const same = (a, b) => (!a && !b) || (a && b && a.side === b.side && a.index === b.index);
  hv.addEventListener("mousemove", ev => { const h = headViewHit(ev); if (!same(h, S.hover)) { S.hover = h; drawHeadView(); } });
  hv.addEventListener("mouseleave", () => { if (S.hover) { S.hover = null; drawHeadView(); } });
  hv.addEventListener("click", ev => { const h = headViewHit(ev); S.pinned = same(h, S.pinned) ? null : h; drawHeadView(); });

  // ---------- Controls ----------
  const sel = document.getElementById("layer-select");
  D.layers.forEach((L, l) => { const o = document.createElement("option"); o.value = l; o.textContent = L.label; sel.appendChild(o); });
  sel.addEventListener("change", () => {
    S.layer = +sel.value; S.pinned = null;
    const H = D.layers[S.layer].heads;
    S.heads = new Set(Array.from(S.heads).filter(h => h < H));
    if (S.heads.size === 0) S.heads.add(0);
    S.detail = { layer: S.layer, head: Math.min(...S.heads) };
    buildChips(); drawAll();
  });
  const chips = document.getElementById("head-chips");
  function buildChips() {
    chips.innerHTML = "";
    for (let h = 0; h < D.layers[S.layer].heads; h++) {
      const c = document.createElement("span");
      c.className = "chip"; c.textContent = h; c.dataset.head = h; c.title = "head " + h;
      c.style.background = headColor(h);
      c.addEventListener("click", () => {
        if (S.heads.has(h)) S.heads.delete(h); else S.heads.add(h);
        if (S.heads.has(h)) S.detail = { layer: S.layer, head: h };
        drawAll();
      });
      c.addEventListener("dblclick", () => { S.heads = new Set([h]); S.detail = { layer: S.layer, head: h }; drawAll(); });
      chips.appendChild(c);
    }
  }
  function syncChips() {
    for (const c of chips.children) {
      const h = +c.dataset.head;
      c.classList.toggle("on", S.heads.has(h));
      c.classList.toggle("detail", S.detail.layer === S.layer && S.detail.head === h);
    }
    sel.value = S.layer;
  }
  document.getElementById("heads-all").addEventListener("click", () => {
    S.heads = new Set(Array.from({ length: D.layers[S.layer].heads }, (_, h) => h)); drawAll();
  });
  document.getElementById("heads-none").addEventListener("click", () => { S.heads = new Set(); drawAll(); });

  // ---------- Heatmap of one head ----------
  const hm = document.getElementById("heatmap");
  const HM = { cell: 20, left: 0, top: 0, lq: 0, lk: 0 };
  let hatch = null;
  function maskPattern(ctx) {
    if (!hatch) {
      const p = document.createElement("canvas"); p.width = p.height = 6;
      const g = p.getContext("2d");
      g.fillStyle = "#e0e0e0"; g.fillRect(0, 0, 6, 6);
      g.strokeStyle = "#8c8c8c"; g.lineWidth = 1.5; g.beginPath(); g.moveTo(0, 6); g.lineTo(6, 0); g.moveTo(-1, 1); g.lineTo(1, -1); g.moveTo(5, 7); g.lineTo(7, 5); g.stroke();
      hatch = p;
    }
    return ctx.createPattern(hatch, "repeat");
  }
  function drawHeatmap() {
    const l = S.detail.layer, h = S.detail.head, L = D.layers[l], q = L.queryTokens, k = L.keyTokens;
    const n = Math.max(q.length, k.length);
    const cell = Math.max(n <= 320 ? 3 : 2, Math.min(28, Math.floor(560 / n)));
    // Every token gets a label when cells are tall enough; otherwise every step-th one (hover shows the rest).
    const step = Math.ceil(9 / cell), labels = true, fs = Math.min(12, Math.max(8, cell - 2));
    const ctx0 = hm.getContext("2d"); ctx0.font = fs + "px system-ui, sans-serif";
    const lw = labels ? Math.min(120, Math.max(...q.map(t => ctx0.measureText(clip(t, 16)).width))) + 10 : 4;
    const lh = labels ? Math.min(110, Math.max(...k.map(t => ctx0.measureText(clip(t, 16)).width)) * 0.87) + 10 : 4;
    Object.assign(HM, { cell: cell, left: lw, top: lh, lq: q.length, lk: k.length });
    const width = lw + cell * k.length + 2, height = lh + cell * q.length + 2;
    const ctx = setupCanvas(hm, width, height);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, width, height);
    const vmax = headMax(l, h);
    let pattern = null;
    for (let i = 0; i < q.length; i++) for (let j = 0; j < k.length; j++) {
      const w = W(l, h, i, j);
      if (w < 0) { ctx.fillStyle = pattern || (pattern = maskPattern(ctx)); }
      else { const c = rampColor(w / vmax); ctx.fillStyle = "rgb(" + (c[0] | 0) + "," + (c[1] | 0) + "," + (c[2] | 0) + ")"; }
      ctx.fillRect(lw + j * cell, lh + i * cell, cell, cell);
    }
    ctx.strokeStyle = "#8a94a0"; ctx.lineWidth = 0.5; ctx.strokeRect(lw, lh, cell * k.length, cell * q.length);
    const focus = S.pinned && S.pinned.side === "q" && S.detail.layer === S.layer ? S.pinned.index : -1;
    if (focus >= 0 && focus < q.length) { ctx.strokeStyle = "#d62728"; ctx.lineWidth = 2; ctx.strokeRect(lw - 1, lh + focus * cell - 1, cell * k.length + 2, cell + 2); }
    if (labels) {
      ctx.font = fs + "px system-ui, sans-serif"; ctx.fillStyle = "#1d2733"; ctx.textBaseline = "middle";
      ctx.textAlign = "right";
      q.forEach((t, i) => { if (i % step === 0) ctx.fillText(clip(t, 16), lw - 4, lh + (i + 0.5) * cell); });
      ctx.textAlign = "left";
      k.forEach((t, j) => {
        if (j % step !== 0) return;
        ctx.save(); ctx.translate(lw + (j + 0.5) * cell, lh - 4); ctx.rotate(-Math.PI / 3); ctx.fillText(clip(t, 16), 0, 0); ctx.restore();
      });
      if (step > 1) { ctx.fillStyle = "#5b6673"; ctx.textAlign = "left"; ctx.fillText("labels: every " + step + " tokens", 2, 8); }
    }
    document.getElementById("detail-title").textContent = L.label + " · head " + h + (L.kind === "cross" && !/cross/.test(L.label) ? " · cross-attention" : "");
    document.getElementById("legend-max").textContent = vmax.toFixed(3) + " (max)";
    document.getElementById("legend-mask").hidden = !L.masked;
    const s = L.summary[h];
    document.getElementById("detail-summary").innerHTML =
      (s.mostly === "other"
        ? "<b class=\"tag-other\">Spread out</b>: no single place takes a third of its attention (largest: " + s.top + ", " + s.topShare.toFixed(2) + ")"
        : "Mostly looks at <b class=\"" + tagClass(s.mostly) + "\">" + PHRASES[s.mostly] + "</b> (" + s.share.toFixed(2) + " of its attention on average)") +
      " · entropy " + s.entropy.toFixed(2) + " of " + s.maxEntropy.toFixed(2) + " bits";
  }
  hm.addEventListener("mousemove", ev => {
    const r = hm.getBoundingClientRect(), x = ev.clientX - r.left - HM.left, y = ev.clientY - r.top - HM.top;
    const i = Math.floor(y / HM.cell), j = Math.floor(x / HM.cell), L = D.layers[S.detail.layer];
    const out = document.getElementById("readout");
    if (i < 0 || j < 0 || i >= HM.lq || j >= HM.lk) { out.innerHTML = "&nbsp;"; return; }
    out.textContent = i + " " + L.queryTokens[i] + " → " + j + " " + L.keyTokens[j] + ": " + fmt(W(S.detail.layer, S.detail.head, i, j));
  });

  // ---------- Model view: every layer and head on one canvas ----------
  const mv = document.getElementById("modelview");
  const MV = { thumb: 80, gap: 14, left: 74, top: 22, cap: 16 };
  function drawModelView() {
    const maxHeads = Math.max(...D.layers.map(L => L.heads));
    const m = mv.getContext("2d"); m.font = "600 11px system-ui, sans-serif";
    MV.left = Math.min(200, Math.max(...D.layers.map(L => m.measureText(clip(L.label, 30)).width))) + 16;
    const t = MV.thumb, cw = t + MV.gap, ch = t + MV.cap + MV.gap;
    const width = MV.left + maxHeads * cw, height = MV.top + D.layers.length * ch;
    const ctx = setupCanvas(mv, width, height);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, width, height);
    ctx.font = "600 11px system-ui, sans-serif"; ctx.fillStyle = "#5b6673"; ctx.textBaseline = "middle";
    ctx.textAlign = "center";
    for (let h = 0; h < maxHeads; h++) ctx.fillText("head " + h, MV.left + h * cw + t / 2, 10);
    D.layers.forEach((L, l) => {
      ctx.textAlign = "right"; ctx.fillStyle = "#5b6673"; ctx.font = "600 11px system-ui, sans-serif";
      ctx.fillText(clip(L.label, 30), MV.left - 8, MV.top + l * ch + t / 2);
      const lq = L.queryTokens.length, lk = L.keyTokens.length;
      for (let h = 0; h < L.heads; h++) {
        const x0 = MV.left + h * cw, y0 = MV.top + l * ch, vmax = headMax(l, h);
        const img = ctx.createImageData(t, t);
        for (let py = 0; py < t; py++) {
          const i0 = Math.floor(py * lq / t), i1 = Math.max(i0 + 1, Math.floor((py + 1) * lq / t));
          for (let px = 0; px < t; px++) {
            const j0 = Math.floor(px * lk / t), j1 = Math.max(j0 + 1, Math.floor((px + 1) * lk / t));
            let m = -1;
            for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) { const w = W(l, h, i, j); if (w > m) m = w; }
            const o = (py * t + px) * 4;
            if (m < 0) { const s = ((px + py) & 3) < 2 ? 200 : 150; img.data[o] = img.data[o + 1] = img.data[o + 2] = s; }
            else { const c = rampColor(m / vmax); img.data[o] = c[0]; img.data[o + 1] = c[1]; img.data[o + 2] = c[2]; }
            img.data[o + 3] = 255;
          }
        }
        const dpr = window.devicePixelRatio || 1;
        if (dpr === 1) ctx.putImageData(img, x0, y0);
        else { const tmp = document.createElement("canvas"); tmp.width = tmp.height = t; tmp.getContext("2d").putImageData(img, 0, 0); ctx.drawImage(tmp, x0, y0); }
        const isSel = S.detail.layer === l && S.detail.head === h;
        ctx.strokeStyle = isSel ? "#d62728" : "#c3cad3"; ctx.lineWidth = isSel ? 3 : 1;
        ctx.strokeRect(x0 - (isSel ? 1.5 : 0.5), y0 - (isSel ? 1.5 : 0.5), t + (isSel ? 3 : 1), t + (isSel ? 3 : 1));
        const s = L.summary[h];
        ctx.font = "10px system-ui, sans-serif"; ctx.textAlign = "center"; ctx.fillStyle = "#4a5561";
        ctx.fillText((TAGS[s.mostly] || s.mostly) + " " + (s.mostly === "other" ? "" : s.share.toFixed(2).replace(/^0/, "") + " ") + "· " + s.entropy.toFixed(1) + " b", x0 + t / 2, y0 + t + 8);
      }
    });
  }
  function openHead(l, h) {
    S.layer = l; S.heads = new Set([h]); S.detail = { layer: l, head: h }; S.pinned = null;
    buildChips(); drawAll();
  }
  mv.addEventListener("click", ev => {
    const r = mv.getBoundingClientRect(), x = ev.clientX - r.left - MV.left, y = ev.clientY - r.top - MV.top;
    const h = Math.floor(x / (MV.thumb + MV.gap)), l = Math.floor(y / (MV.thumb + MV.cap + MV.gap));
    if (l >= 0 && l < D.layers.length && h >= 0 && h < D.layers[l].heads && x - h * (MV.thumb + MV.gap) <= MV.thumb) {
      openHead(l, h);
      document.getElementById("top").scrollIntoView({ block: "start" });
    }
  });

  // ---------- Summary table ----------
  const table = document.getElementById("summary");
  function buildSummary() {
    const maxHeads = Math.max(...D.layers.map(L => L.heads));
    let html = "<tr><th></th>";
    for (let h = 0; h < maxHeads; h++) html += "<th>head " + h + "</th>";
    html += "</tr>";
    D.layers.forEach((L, l) => {
      html += "<tr><th>" + L.label.replace(/&/g, "&amp;").replace(/</g, "&lt;") + "</th>";
      for (let h = 0; h < L.heads; h++) {
        const s = L.summary[h], focus = 1 - s.entropy / Math.max(1e-9, s.maxEntropy);
        const bg = "rgba(31,119,180," + (0.05 + 0.35 * Math.max(0, focus)).toFixed(3) + ")";
        html += "<td data-l=\"" + l + "\" data-h=\"" + h + "\" style=\"background:" + bg + "\" title=\"" +
          Object.keys(s.shares).map(key => key + " " + s.shares[key].toFixed(2)).join(", ") + "\">" +
          "<span class=\"t " + tagClass(s.mostly) + "\">" + (TAGS[s.mostly] || s.mostly) + (s.mostly === "other" ? "" : " " + s.share.toFixed(2)) + "</span>" +
          "<span class=\"e\">" + s.entropy.toFixed(2) + " b</span></td>";
      }
      html += "</tr>";
    });
    table.innerHTML = html;
    table.addEventListener("click", ev => {
      const td = ev.target.closest("td");
      if (td) { openHead(+td.dataset.l, +td.dataset.h); document.getElementById("top").scrollIntoView({ block: "start" }); }
    });
  }
  function syncSummary() {
    for (const td of table.querySelectorAll("td")) td.classList.toggle("sel", +td.dataset.l === S.detail.layer && +td.dataset.h === S.detail.head);
  }

  function drawAll() { syncChips(); drawHeadView(); drawHeatmap(); drawModelView(); syncSummary(); }

  // ---------- Test hook ----------
  T.checksum = function (id) {
    // Read through a fresh copy, so the page's own canvases never get repeated readbacks.
    const c = document.getElementById(id), copy = document.createElement("canvas");
    copy.width = c.width; copy.height = c.height;
    const g = copy.getContext("2d", { willReadFrequently: true });
    g.drawImage(c, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let hash = 2166136261, inked = 0;
    for (let k = 0; k < d.length; k += 4) {
      hash = Math.imul(hash ^ (d[k] + 3 * d[k + 1] + 7 * d[k + 2]), 16777619) >>> 0;
      if (d[k + 3] > 0 && (d[k] < 240 || d[k + 1] < 240 || d[k + 2] < 240)) inked++;
    }
    return { hash: hash, inked: inked, pixels: d.length / 4 };
  };
  T.state = () => ({ layer: S.layer, heads: Array.from(S.heads).sort((a, b) => a - b), detail: S.detail });
  T.selftest = function () {
    const before = { headview: T.checksum("headview"), heatmap: T.checksum("heatmap"), modelview: T.checksum("modelview") };
    const H = D.layers[S.layer].heads, other = (Array.from(S.heads)[0] + 1) % H;
    chips.children[other].dispatchEvent(new MouseEvent("click", { bubbles: true }));
    const afterChip = { headview: T.checksum("headview"), heatmap: T.checksum("heatmap"), state: T.state() };
    // Click a model-view thumbnail of layer 0 other than the open head: the heatmap must change.
    const tl = 0, th = D.layers[0].heads < 2 ? 0 : (S.detail.layer === 0 && S.detail.head === 1 ? 0 : 1), r = mv.getBoundingClientRect();
    const cx = r.left + MV.left + th * (MV.thumb + MV.gap) + MV.thumb / 2, cy = r.top + MV.top + tl * (MV.thumb + MV.cap + MV.gap) + MV.thumb / 2;
    mv.dispatchEvent(new MouseEvent("click", { bubbles: true, clientX: cx, clientY: cy }));
    const afterModel = { heatmap: T.checksum("heatmap"), state: T.state() };
    return { before: before, afterChip: afterChip, afterModel: afterModel, errors: T.errors.slice() };
  };

  buildChips(); buildSummary(); drawAll();
  T.ready = true;
  if (location.hash === "#selftest") {
    const out = document.getElementById("attend-selftest");
    try { out.textContent = JSON.stringify(T.selftest()); }
    catch (e) { out.textContent = JSON.stringify({ exception: String(e), errors: T.errors }); }
  }
})();
