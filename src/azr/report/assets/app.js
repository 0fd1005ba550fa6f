// Draws the views (figures, tables, notes) that azr.report.views builds. The static report
// carries them inline; the live dashboard fetches them again whenever the ledger grows.
// Model-written text is only ever put in the page through textContent, never as markup.
(function () {
  "use strict";
  const PAGE_SIZE = 50;
  const config = JSON.parse(document.getElementById("azr-config").textContent);
  const state = { views: null, haystacks: [], query: "", type: "", valid: "", page: 0, open: new Set() };

  const { el, pre } = window.azrDom;
  const pct = (x) => (x == null ? "–" : (100 * x).toFixed(0) + "%");
  const num = (x, digits) => (x == null ? "–" : Number(x).toFixed(digits == null ? 2 : digits));

  function renderMeta(views) {
    const meta = views.meta;
    const box = document.getElementById("meta");
    box.textContent = "";
    if (config.live) box.appendChild(el("span", { cls: "live", text: "● live  " }));
    const steps = meta.last_step == null ? "no steps yet" : `steps ${meta.first_step}–${meta.last_step}`;
    const counts = Object.entries(meta.counts).map(([k, v]) => `${v} ${k}`).join(", ");
    const parts = [meta.run_dir, meta.model ? `model ${meta.model}` : "", steps, counts, `built ${meta.built_at}`];
    if (meta.rewound_steps.length) parts.push(`steps ${meta.rewound_steps.join(", ")} were rewound (their updates were lost)`);
    box.appendChild(document.createTextNode(parts.filter(Boolean).join(" · ")));
    document.getElementById("embedder").textContent = meta.embedder === "minilm" ? "AST tokens + MiniLM text embeddings" : "AST tokens";
  }

  function renderNotes(views) {
    document.querySelectorAll("[data-note]").forEach((node) => {
      node.textContent = views.notes[node.getAttribute("data-note")] || "";
    });
  }

  function renderFigures(views) {
    const nodes = document.querySelectorAll("div.plot");
    nodes.forEach((node) => {
      const fig = views.figures[node.id.slice(4)];
      if (fig) {
        Plotly.react(node, fig.data, fig.layout, { responsive: true, displaylogo: false });
      } else if (node.children.length) {
        Plotly.purge(node);
        node.textContent = "";
      }
    });
    // The first layout can happen before the page's scrollbar appears; fit the plots again after it.
    window.requestAnimationFrame(() => nodes.forEach((node) => { if (node._fullData) Plotly.Plots.resize(node); }));
  }

  function table(id, headers, rows) {
    return fillTable(document.getElementById(id), headers, rows);
  }

  function fillTable(node, headers, rows) {
    node.textContent = "";
    if (!rows.length) return node;
    node.appendChild(el("thead", {}, [el("tr", {}, headers.map((h) => el("th", { text: h })))]));
    const body = el("tbody");
    rows.forEach((cells) => body.appendChild(el("tr", {}, cells.map((c) => (c instanceof Node ? el("td", {}, [c]) : el("td", { text: c }))))));
    node.appendChild(body);
    return node;
  }

  function renderFamilies(views) {
    table("family-table", ["#", "family", "size", "first step", "share before → latest", "growth", "types", "example (most typical)"],
      views.families.map((f) => [
        String(f.rank), f.label, String(f.size), String(f.first_step),
        `${pct(f.early_share)} → ${pct(f.recent_share)}`,
        (f.growth >= 0 ? "+" : "") + (100 * f.growth).toFixed(1) + " pts",
        Object.entries(f.types).map(([k, v]) => `${k} ${v}`).join(", "),
        el("div", {}, [pre(f.example_program), pre(`f(${f.example_input}) == ${f.example_output}   (step ${f.example_step})`)]),
      ]));
  }

  function renderOversight(views) {
    table("oversight-table", ["step", "event", "verdict", "severity", "kind", "monitor", "reason", "text"],
      views.oversight.slice(0, 200).map((r) => [String(r.step == null ? "–" : r.step), r.event, r.verdict, r.severity, r.kind, r.monitor, r.reason, pre(r.detail)]));
    const box = document.getElementById("scorecard");
    box.textContent = "";
    const card = views.scorecard;
    if (!card) return;
    box.className = "scorecard";
    box.appendChild(el("p", { text: `from RUN_DIR/${card.name}` }));
    if (card.markdown) box.appendChild(pre(card.markdown));
    if (card.json && !card.markdown) box.appendChild(pre(JSON.stringify(card.json, null, 2)));
  }

  function haystack(task) {
    return [task.program, task.inputs.join(" "), task.outputs.join(" "), task.message, task.reasoning, task.reason, task.type, task.key || ""]
      .join("\n").toLowerCase();
  }

  function filteredTasks() {
    const query = state.query.trim().toLowerCase();
    const out = [];
    state.views.tasks.forEach((task, index) => {
      if (state.type && task.type !== state.type) return;
      if (state.valid === "valid" && !task.valid) return;
      if (state.valid === "invalid" && task.valid) return;
      if (query && !state.haystacks[index].includes(query)) return;
      out.push(task);
    });
    return out;
  }

  function taskDetail(task) {
    const box = el("div");
    const section = (title, node) => { box.appendChild(el("h4", { text: title })); box.appendChild(node); };
    section("program", pre(task.program));
    task.inputs.forEach((input, i) => section(`input ${i + 1} → output`, pre(`f(${input})  →  ${task.outputs[i] == null ? "(not run)" : task.outputs[i]}`)));
    if (task.message) section("message", pre(task.message));
    section(`proposer's completion (${task.tokens} tokens)`, pre(task.reasoning));
    const attempts = (task.key && state.views.attempts[task.key]) || [];
    if (!attempts.length) {
      section("solver attempts", el("p", { text: task.valid ? "none recorded" : "none: the proposal was not a valid task" }));
      return box;
    }
    box.appendChild(el("h4", { text: `solver attempts (${attempts.length})` }));
    const rows = attempts.map((a) => [String(a.step), a.purpose, el("span", { cls: a.correct ? "ok" : "bad", text: a.correct ? "correct" : (a.malformed ? "malformed" : "wrong") }),
      pre(a.answer), a.reason, num(a.reward), pre(a.completion)]);
    box.appendChild(fillTable(el("table", { cls: "data" }), ["step", "purpose", "verdict", "answer", "reason", "reward", "completion"], rows));
    return box;
  }

  function renderTasks() {
    const tasks = filteredTasks();
    const pages = Math.max(1, Math.ceil(tasks.length / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    document.getElementById("task-count").textContent = `${tasks.length} of ${state.views.tasks.length} tasks and proposals`;
    document.getElementById("task-page").textContent = `page ${state.page + 1} of ${pages}`;
    const node = document.getElementById("task-table");
    node.textContent = "";
    const headers = ["step", "type", "valid", "solve rate", "reward", "program", "input → output", "reason"];
    node.appendChild(el("thead", {}, [el("tr", {}, headers.map((h) => el("th", { text: h })))]));
    const body = el("tbody");
    tasks.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE).forEach((task) => {
      const io = task.inputs.map((input, i) => `f(${input}) → ${task.outputs[i] == null ? "?" : task.outputs[i]}`).join("\n");
      const row = el("tr", { cls: "task", "data-id": String(task.id) }, [
        el("td", { text: String(task.step) }), el("td", { text: task.type }),
        el("td", {}, [el("span", { cls: task.valid ? "ok" : "bad", text: task.valid ? "valid" : "invalid" })]),
        el("td", { text: pct(task.solve_rate) }), el("td", { text: num(task.reward) }),
        el("td", {}, [pre(task.program)]), el("td", {}, [pre(io)]), el("td", { text: task.reason }),
      ]);
      body.appendChild(row);
      if (state.open.has(task.id)) {
        body.appendChild(el("tr", { cls: "detail" }, [el("td", { colspan: String(headers.length) }, [taskDetail(task)])]));
      }
      row.addEventListener("click", () => {
        if (state.open.has(task.id)) state.open.delete(task.id); else state.open.add(task.id);
        renderTasks();
      });
    });
    node.appendChild(body);
  }

  function renderTypeOptions(views) {
    const select = document.getElementById("task-type");
    const known = new Set(Array.from(select.options).map((o) => o.value));
    Array.from(new Set(views.tasks.map((t) => t.type))).sort().forEach((type) => {
      if (!known.has(type)) select.appendChild(el("option", { value: type, text: type }));
    });
  }

  function render(views) {
    state.views = views;
    state.haystacks = views.tasks.map(haystack);
    renderMeta(views);
    renderNotes(views);
    renderFigures(views);
    renderFamilies(views);
    renderOversight(views);
    renderTypeOptions(views);
    renderTasks();
    document.body.setAttribute("data-last-id", String(views.meta.last_id));
  }

  function bindControls() {
    const rerender = () => { state.page = 0; renderTasks(); };
    document.getElementById("task-search").addEventListener("input", (e) => { state.query = e.target.value; rerender(); });
    document.getElementById("task-type").addEventListener("change", (e) => { state.type = e.target.value; rerender(); });
    document.getElementById("task-valid").addEventListener("change", (e) => { state.valid = e.target.value; rerender(); });
    document.getElementById("task-prev").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); renderTasks(); });
    document.getElementById("task-next").addEventListener("click", () => { state.page += 1; renderTasks(); });
  }

  async function poll() {
    try {
      const version = await (await fetch(config.version_url, { cache: "no-store" })).json();
      if (!state.views || version.last_id !== state.views.meta.last_id) {
        render(await (await fetch(config.views_url, { cache: "no-store" })).json());
      }
    } catch (err) {
      document.getElementById("meta").textContent = `dashboard server unreachable (${err}); retrying…`;
    }
    setTimeout(poll, config.interval_ms);
  }

  bindControls();
  const inline = document.getElementById("azr-views").textContent.trim();
  if (inline) render(JSON.parse(inline));
  if (config.live) poll();
})();
