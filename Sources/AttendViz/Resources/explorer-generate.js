// The explorer's generation panel (<section id="generate-panel">): a language model served by `attend serve`
// (smollm2-135m) answers a chat message token by token, streamed from POST /v1/chat/completions with
// "stream": true and Attend's "return_attention": true; for every new token the panel lights up the earlier tokens
// it attended to most (averaged over the layers read and every head) and lists them per head. Plain JavaScript,
// no libraries; it reads only the shared API key field (#api-key) outside its own section.
// Test hook: window.__attendGenerate = { errors, busy, runs, text, tokens, promptTokens, finish } (the last answer).
(function () {
  "use strict";
  const G = window.__attendGenerate = { errors: [], busy: false, runs: 0, text: "", tokens: [], promptTokens: [], finish: null };
  const $ = id => document.getElementById(id);
  const panel = $("generate-panel");
  if (!panel) return;
  // The shared helpers of explorer.js (loaded first): elements, and the JSON and API key headers of every request.
  const X = window.__attendExplorer;
  if (!X || !X.headers) return;
  const el = X.el, headers = X.headers;
  const show = t => (t || "").replace(/\n/g, "\u21b5").replace(/ /g, "\u00b7") || "\u2205";

  const style = el("style");
  style.textContent = [
    "#generate-panel .gen-tokens { display: flex; flex-wrap: wrap; gap: 2px; font: 12px ui-monospace, 'DejaVu Sans Mono', monospace; margin: 8px 0; }",
    "#generate-panel .gen-tok { padding: 1px 3px; border-radius: 3px; border: 1px solid transparent; white-space: pre; }",
    "#generate-panel .gen-tok.prompt { color: #5b6675; }",
    "#generate-panel .gen-tok.out { color: #10243e; border-color: #b8c0ca; cursor: pointer; }",
    "#generate-panel .gen-tok.cur { outline: 2px solid #d9480f; }",
    "#generate-panel .gen-answer { white-space: pre-wrap; font-size: 15px; margin: 6px 0; }",
    "#generate-panel table.gen-heads td { padding: 1px 8px; font: 12px ui-monospace, 'DejaVu Sans Mono', monospace; }",
  ].join("\n");
  document.head.appendChild(style);

  const status = (text, isError) => { const s = $("gen-status"); s.textContent = text || "\u00a0"; s.className = "help" + (isError ? " error" : ""); };

  // ---- the language models this server serves ----
  let models = [];
  async function loadModels() {
    try {
      const r = await fetch("/v1/models", { headers: headers() });
      if (r.status === 401) { status("This server wants an API key: type it in the API key field above.", true); return; }
      const data = await r.json();
      models = ((data && data.data) || []).filter(m => m.attend && m.attend.completions && m.attend.chat);
    } catch (e) { models = []; }
    const sel = $("gen-model");
    sel.innerHTML = "";
    models.forEach(m => sel.appendChild(el("option", { value: m.id }, m.id)));
    $("gen-go").disabled = models.length === 0;
    if (models.length === 0) status("This server serves no language model: start it with `attend serve --model smollm2-135m` (after `attend models install smollm2-135m`).");
    fillLayers();
  }
  function fillLayers() {
    const m = models.find(x => x.id === $("gen-model").value), sel = $("gen-layer");
    sel.innerHTML = "";
    sel.appendChild(el("option", { value: "" }, "every layer (averaged)"));
    ((m && m.attend.layers) || []).forEach((l, i) => sel.appendChild(el("option", { value: i }, String(i))));
  }
  $("gen-model").addEventListener("change", fillLayers);

  // ---- drawing: the whole sequence as tokens, the chosen token's looks ----
  let chosen = -1;           // index into G.tokens; -1 follows the newest
  function drawSequence() {
    const box = $("gen-tokens");
    box.innerHTML = "";
    const all = G.promptTokens.map(t => ({ text: t, out: false })).concat(G.tokens.map(t => ({ text: t.token, out: true })));
    const focus = chosen >= 0 ? G.tokens[chosen] : G.tokens[G.tokens.length - 1];
    const weights = new Map();
    if (focus) {
      const max = Math.max(1e-9, ...focus.top.map(l => l.weight));
      focus.top.forEach(l => weights.set(l.position, l.weight / max));
    }
    all.forEach((t, p) => {
      const span = el("span", { className: "gen-tok " + (t.out ? "out" : "prompt"), title: "position " + p }, show(t.text));
      span.dataset.position = String(p);
      const w = weights.get(p);
      if (w !== undefined) { span.style.background = "rgba(217,72,15," + (0.15 + 0.75 * w).toFixed(3) + ")"; span.dataset.weight = String(w); }
      if (focus && p === focus.position) span.classList.add("cur");
      if (t.out) {
        const index = p - G.promptTokens.length;
        span.addEventListener("click", () => { chosen = chosen === index ? -1 : index; drawSequence(); drawLooks(); });
      }
      box.appendChild(span);
    });
  }
  function tokenAt(p) {
    return p < G.promptTokens.length ? G.promptTokens[p] : (G.tokens[p - G.promptTokens.length] || {}).token;
  }
  function drawLooks() {
    const box = $("gen-looks");
    box.innerHTML = "";
    const focus = chosen >= 0 ? G.tokens[chosen] : G.tokens[G.tokens.length - 1];
    if (!focus) return;
    const list = l => l.map(x => "\u201c" + show(tokenAt(x.position)) + "\u201d@" + x.position + " " + x.weight.toFixed(3)).join(",  ");
    box.appendChild(el("p", { className: "readout" }, "\u201c" + show(focus.token) + "\u201d (position " + focus.position + ") looked at: " + list(focus.top)));
    const table = el("table", { className: "gen-heads" });
    focus.heads.forEach((h, i) => {
      const tr = el("tr");
      tr.appendChild(el("td", {}, "head " + i));
      tr.appendChild(el("td", {}, list(h)));
      table.appendChild(tr);
    });
    box.appendChild(table);
  }

  // ---- the streamed answer ----
  let controller = null;
  async function generate(ev) {
    if (ev) ev.preventDefault();
    if (G.busy) return;
    const model = $("gen-model").value, message = $("gen-message").value;
    if (!model || !message.trim()) return;
    const layer = $("gen-layer").value;
    const body = { model, messages: [{ role: "user", content: message }], stream: true, temperature: 0,
                   max_tokens: Math.max(1, Math.min(512, +$("gen-max").value || 48)), return_attention: true, attention_top: 5 };
    if (layer !== "") body.attention_layer = +layer;
    Object.assign(G, { busy: true, text: "", tokens: [], promptTokens: [], finish: null });
    chosen = -1;
    $("gen-answer").textContent = "";
    drawSequence(); drawLooks();
    $("gen-stop").disabled = false;
    status("writing with " + model + " …");
    controller = new AbortController();
    try {
      const r = await fetch("/v1/chat/completions", { method: "POST", headers: headers(), body: JSON.stringify(body), signal: controller.signal });
      if (!r.ok) {
        const data = await r.json().catch(() => null);
        throw new Error((data && data.error && data.error.message) || ("HTTP " + r.status));
      }
      const reader = r.body.getReader(), decoder = new TextDecoder();
      let buffer = "", done = false;
      while (!done) {
        const part = await reader.read();
        if (part.done) break;
        buffer += decoder.decode(part.value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, cut).trim();
          buffer = buffer.slice(cut + 2);
          if (!event.startsWith("data: ")) continue;
          const payload = event.slice(6);
          if (payload === "[DONE]") { done = true; break; }
          receive(JSON.parse(payload));
        }
      }
      G.runs++;
      status(model + " · " + G.tokens.length + " tokens written" + (G.finish ? " · finish: " + G.finish : "") + " · click a written token to see where it looked");
    } catch (e) {
      if (e.name === "AbortError") status("stopped after " + G.tokens.length + " tokens");
      else { status(String(e.message || e), true); G.errors.push(String(e.message || e)); }
    } finally {
      G.busy = false; controller = null; $("gen-stop").disabled = true;
    }
  }
  function receive(chunk) {
    if (chunk.error) throw new Error(chunk.error.message || "the generation failed");
    const choice = (chunk.choices || [])[0];
    if (!choice) return;
    const delta = choice.delta || {};
    if (delta.content) { G.text += delta.content; $("gen-answer").textContent = G.text; }
    const a = choice.attention;
    if (a) {
      if (a.prompt_tokens) G.promptTokens = a.prompt_tokens;
      G.tokens.push({ position: a.position, id: a.id, token: a.token, top: a.top || [], heads: a.heads || [] });
      drawSequence(); drawLooks();
    }
    if (choice.finish_reason) G.finish = choice.finish_reason;
  }
  $("gen-form").addEventListener("submit", generate);
  $("gen-stop").addEventListener("click", () => { if (controller) controller.abort(); });
  G.generate = generate;
  if ($("api-key")) $("api-key").addEventListener("change", loadModels);   // a key typed later unlocks /v1/models
  loadModels();
})();
