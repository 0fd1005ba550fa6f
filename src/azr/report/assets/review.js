// The review queue on the live dashboard: pending items, a reviewer's name and reason, and
// Approve / Veto buttons that POST to the dashboard server. Everything an item shows was
// written by the model or derived from it, so it only ever enters the page as textContent.
// Items are drawn once and updated in place, so a poll never wipes a reason being typed.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("azr-config").textContent);
  if (!config.live || !config.review_url) return;
  const NAME_KEY = "azr-reviewer";
  const section = document.getElementById("review");
  const list = document.getElementById("review-list");
  const nameInput = document.getElementById("review-name");
  const nodes = new Map();
  section.hidden = false;
  document.getElementById("nav-review").hidden = false;

  const { el, pre } = window.azrDom;

  try { nameInput.value = window.localStorage.getItem(NAME_KEY) || ""; } catch (err) { /* storage may be off */ }
  nameInput.addEventListener("change", () => {
    try { window.localStorage.setItem(NAME_KEY, nameInput.value.trim()); } catch (err) { /* storage may be off */ }
  });

  function itemNode(item) {
    const head = [`item ${item.item_id}`, `step ${item.step}`, item.role, item.task_type].join(" · ");
    const box = el("div", { cls: "review-item", "data-item-id": item.item_id }, [el("div", { cls: "review-head", text: head })]);
    item.why.forEach((why) => box.appendChild(el("div", { cls: why === "sample" ? "review-why" : "review-why flagged", text: why === "sample" ? "sampled for a spot check" : why })));
    const add = (title, node) => { box.appendChild(el("h4", { text: title })); box.appendChild(node); };
    add("program", pre(item.program));
    const io = item.inputs.map((input, i) => `f(${input})  →  ${item.outputs[i] == null ? "(not run)" : item.outputs[i]}`).join("\n");
    add("inputs → outputs", pre(io));
    if (item.message) add("message", pre(item.message));
    if (item.role === "solve") {
      add(`solver's answer (${item.correct ? "correct" : "wrong"}: ${item.verdict_reason})`, pre(item.answer == null ? "(no answer)" : item.answer));
    } else if (!item.valid) {
      add("verdict", el("p", { text: item.verdict_reason }));
    }
    const reasoning = el("details", {}, [el("summary", { text: `reasoning (${item.reasoning.length} characters)` }), pre(item.reasoning)]);
    box.appendChild(reasoning);
    const reason = el("textarea", { cls: "review-reason", rows: "2", cols: "70", maxlength: "4000", placeholder: "why: required for approve and veto" });
    const approve = el("button", { cls: "review-approve", type: "button", text: "Approve" });
    const veto = el("button", { cls: "review-veto", type: "button", text: "Veto" });
    const status = el("span", { cls: "review-status" });
    box.appendChild(el("div", { cls: "controls" }, [reason, el("br"), approve, " ", veto, " ", status]));
    approve.addEventListener("click", () => submit(item.item_id, "approve", box));
    veto.addEventListener("click", () => submit(item.item_id, "veto", box));
    return box;
  }

  function markWaiting(box, decision) {
    box.classList.add("awaiting");
    box.querySelectorAll("button, textarea").forEach((control) => { control.disabled = true; });
    box.querySelector(".review-reason").value = decision.reason;
    box.querySelector(".review-status").textContent =
      `${decision.decision} by ${decision.reviewer}: waiting for the training loop to record it in the ledger`;
  }

  async function submit(itemId, decision, box) {
    const status = box.querySelector(".review-status");
    const reviewer = nameInput.value.trim();
    const reason = box.querySelector(".review-reason").value.trim();
    if (!reviewer || !reason) {
      status.textContent = !reviewer ? "enter your name above first" : "give a reason first";
      return;
    }
    box.querySelectorAll("button").forEach((button) => { button.disabled = true; });
    status.textContent = "sending…";
    try {
      const response = await fetch(config.decision_url, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ item_id: itemId, decision, reason, reviewer }),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
      markWaiting(box, body.decision);
    } catch (err) {
      status.textContent = `not saved: ${err.message}`;
      box.querySelectorAll("button").forEach((button) => { button.disabled = false; });
    }
  }

  function render(state) {
    const c = state.counts;
    document.getElementById("review-counts").textContent =
      `${c.pending} pending · ${c.awaiting_ledger} awaiting the ledger · ${c.decided} decided (${c.vetoed} vetoed)`;
    document.getElementById("review-empty").textContent = c.pending ? (c.shown < c.pending ? `showing the oldest ${c.shown}` : "") : "nothing awaits review";
    const present = new Set();
    state.items.forEach((item) => {
      present.add(item.item_id);
      let box = nodes.get(item.item_id);
      if (!box) {
        box = itemNode(item);
        nodes.set(item.item_id, box);
        list.appendChild(box);
      }
      if (item.inbox && !box.classList.contains("awaiting")) markWaiting(box, item.inbox);
    });
    nodes.forEach((box, id) => { if (!present.has(id)) { box.remove(); nodes.delete(id); } });
    section.setAttribute("data-review-ready", "1");
  }

  async function poll() {
    try {
      render(await (await fetch(config.review_url, { cache: "no-store" })).json());
    } catch (err) {
      document.getElementById("review-empty").textContent = `review queue unreachable (${err}); retrying…`;
    }
    setTimeout(poll, config.interval_ms);
  }

  poll();
})();
