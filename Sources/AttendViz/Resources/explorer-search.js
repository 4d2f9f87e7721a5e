// The explorer's corpus panel: search a small corpus as a soft lookup. One POST /v1/search (the same JSON as
// `attend search --index FILE "query" --json --explain`) gives the hits with their cosine similarities, the soft
// lookup's weights softmax(cosine / temperature) over the retrieved documents (the query is Q, the documents are K and
// V: attention over a corpus), and for each hit the words of the query and of the document that made it match.
// Test hook: window.__attendSearch = { errors, busy, runs, answer, request } (the last answer shown and its request).
(function () {
  "use strict";
  const S = window.__attendSearch = { errors: [], busy: false, runs: 0, answer: null, request: null };
  const $ = id => document.getElementById(id);
  if (!$("search-panel")) return;
  // The shared helpers of explorer.js (loaded first): elements, and the JSON and API key headers of every request.
  const X = window.__attendExplorer;
  if (!X || !X.headers) return;
  const el = X.el, headers = X.headers;
  const svg = (tag, attrs, text) => {
    const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const fmt = (x, d) => Number(x).toFixed(d === undefined ? 4 : d);

  const style = el("style");
  style.textContent = [
    "#search-hits td.doc { text-align: left; font-family: system-ui, sans-serif; white-space: normal; max-width: 560px; }",
    "#search-hits td.wbar { width: 130px; text-align: left; }",
    "#search-hits th:last-child { text-align: left; }",
    "#search-hits .bar { display: inline-block; height: 10px; background: #1f5fa8; vertical-align: middle; }",
    ".words { line-height: 1.8; }",
    ".words .w { padding: 1px 3px; border-radius: 3px; }",
    ".words .w.top { outline: 1.5px solid #d62728; font-weight: 600; }",
    ".words .q { color: #5b6673; font-size: 12px; }",
    "#search-chart text { font: 11px system-ui, sans-serif; fill: #1d2733; }",
  ].join("\n");
  document.head.appendChild(style);

  const status = (text, isError) => { const s = $("search-status"); s.textContent = text || "\u00a0"; s.className = "help" + (isError ? " error" : ""); };

  // The words of a query or document, shaded by what each adds to the cosine; the three largest outlined (as
  // `attend search --explain` brackets them). Special tokens ([CLS], [SEP]) carry part of every score and are left out.
  function words(list) {
    const box = el("span", { className: "words" });
    const shown = list.filter(w => !w.special);
    const max = Math.max(1e-9, ...shown.map(w => w.contribution));
    const top = new Set(shown.filter(w => w.contribution > 0).sort((a, b) => b.contribution - a.contribution).slice(0, 3));
    shown.forEach((w, i) => {
      if (i > 0) box.appendChild(document.createTextNode(" "));
      const s = el("span", { className: "w" + (top.has(w) ? " top" : ""), title: "adds " + fmt(w.contribution) + " to the cosine" }, w.word);
      const a = Math.max(0, w.contribution) / max;
      s.style.background = "rgba(255, 152, 0, " + (0.08 + 0.6 * a).toFixed(3) + ")";
      s.dataset.v = String(w.contribution);
      box.appendChild(s);
    });
    return box;
  }

  // One bar per retrieved document (rank order), its height the soft-lookup weight; the bars sum to 1.
  function chart(hits) {
    const box = $("search-chart");
    box.innerHTML = "";
    const bw = 26, gap = 6, h = 150, top = 18, bottom = 22, left = 34;
    const width = left + hits.length * (bw + gap) + 10;
    const g = svg("svg", { width, height: top + h + bottom, role: "img", "aria-label": "soft lookup weights" });
    const max = Math.max(1e-9, ...hits.map(x => x.weight));
    for (const t of [0, 0.5, 1]) {
      const y = top + h - t * h;
      g.appendChild(svg("line", { x1: left - 4, x2: width, y1: y, y2: y, stroke: "#d9dee5" }));
      g.appendChild(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, fmt(t * max, 2)));
    }
    hits.forEach((x, i) => {
      const bh = x.weight / max * h, bx = left + i * (bw + gap);
      const r = svg("rect", { x: bx, y: top + h - bh, width: bw, height: Math.max(bh, 0.5), fill: "#1f5fa8", class: "wbar", "data-v": String(x.weight), "data-rank": String(x.rank) });
      r.appendChild(svg("title", {}, "#" + x.rank + " · weight " + fmt(x.weight) + " · cosine " + fmt(x.cosine) + " · " + x.text));
      g.appendChild(r);
      g.appendChild(svg("text", { x: bx + bw / 2, y: top + h + 14, "text-anchor": "middle" }, "#" + x.rank));
      if (x.weight / max > 0.12) g.appendChild(svg("text", { x: bx + bw / 2, y: top + h - bh - 4, "text-anchor": "middle" }, fmt(x.weight, 2)));
    });
    box.appendChild(g);
  }

  function table(answer) {
    const t = $("search-hits");
    t.innerHTML = "";
    const head = el("tr");
    ["rank", "id", "cosine", "weight", "", "document"].forEach(h => head.appendChild(el("th", {}, h)));
    t.appendChild(head);
    const max = Math.max(1e-9, ...answer.results.map(x => x.weight));
    for (const x of answer.results) {
      const tr = el("tr", { className: x.rank === 1 ? "top" : "" });
      tr.appendChild(el("td", {}, String(x.rank)));
      tr.appendChild(el("td", { className: "id" }, typeof x.id === "string" ? x.id : JSON.stringify(x.id)));
      const c = el("td", { className: "cosine" }, fmt(x.cosine)); c.dataset.v = String(x.cosine); tr.appendChild(c);
      const w = el("td", { className: "weight" }, fmt(x.weight)); w.dataset.v = String(x.weight); tr.appendChild(w);
      const b = el("td", { className: "wbar" }); b.appendChild(el("span", { className: "bar" })).style.width = Math.round(120 * x.weight / max) + "px"; tr.appendChild(b);
      const d = el("td", { className: "doc" });
      if (x.explanation) {
        d.appendChild(words(x.explanation.document_words));
        d.appendChild(el("br"));
        const q = el("span", { className: "q" }, "query: "); q.appendChild(words(x.explanation.query_words)); d.appendChild(q);
      } else {
        d.textContent = x.text;
      }
      tr.appendChild(d);
      t.appendChild(tr);
    }
  }

  async function search() {
    const top = parseInt($("search-top").value, 10), temperature = parseFloat($("search-temp").value);
    const body = { query: $("search-query").value, top_k: isNaN(top) ? 5 : top, explain: $("search-explain").checked };
    if (!isNaN(temperature)) body.temperature = temperature;
    S.busy = true; status("searching …");
    try {
      const r = await fetch("/v1/search", { method: "POST", headers: headers(), body: JSON.stringify(body) });
      const data = await r.json().catch(() => null);
      if (!r.ok) throw new Error((data && data.error && (data.error.message || data.error)) || ("HTTP " + r.status));
      S.answer = data; S.request = body; S.runs++;
      table(data); chart(data.results);
      const sum = data.results.reduce((s, x) => s + x.weight, 0);
      $("search-sum").textContent = "Σ weights = " + fmt(sum, 6) + " over " + data.results.length + " documents · softmax(cosine / " + data.temperature + ") · spread like " + fmt(data.effective_documents, 2) + " equally weighted documents";
      status(data.results.length + " hits for “" + data.query + "”");
    } catch (e) {
      status(String(e.message || e), true);
    } finally { S.busy = false; }
  }

  $("search-form").addEventListener("submit", e => { e.preventDefault(); search(); });
  window.addEventListener("error", e => S.errors.push(String(e.message || e)));
  search();
})();
