// The web form: calls the JSON API and renders answers with textContent only, never
// innerHTML with data, so ids and values typed by users can never become markup.
"use strict";

const app = document.getElementById("app");
const BATCH_MAX = Number(app.dataset.batchMax);
const TIER_CLASS = { high: "text-bg-success", medium: "text-bg-warning", low: "text-bg-danger" };

function show(el, visible) { el.classList.toggle("d-none", !visible); }

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// FastAPI errors: {"detail": "words"} or {"detail": [{"loc": [...], "msg": "..."}]}
function errorText(status, body) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => {
      const where = (d.loc || []).filter((p) => p !== "body").join(".");
      return (where ? where + ": " : "") + d.msg;
    }).join("; ");
  }
  return "The server answered " + status + ".";
}

async function callApi(method, url, payload) {
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: payload === undefined ? {} : { "Content-Type": "application/json" },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
  } catch (e) {
    throw new Error("The server cannot be reached: " + e.message);
  }
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) throw new Error(errorText(response.status, body));
  return body;
}

function formatValue(v) {
  if (v === null || v === undefined) return "unknown";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(3);
  return String(v);
}

const pct = (p) => (p * 100).toFixed(1) + " %";

// The rule every answer follows (GET /model: decision_rule), said once per card.
function ruleText(result) {
  const t = pct(result.threshold), h = pct(result.high_cutoff);
  return result.high_cutoff > result.threshold
    ? "Tiers: high from " + h + "; medium from the model\u2019s threshold " + t + " to " + h
      + " (both likely to buy again); low below " + t + " (not likely)."
    : "Tiers: high from the model\u2019s threshold " + t + " (likely to buy again); low below it.";
}

function renderResult(container, title, result, meta) {
  const card = document.getElementById("result-template").content.cloneNode(true);
  const field = (name) => card.querySelector('[data-field="' + name + '"]');
  field("title").textContent = title;
  field("tier").textContent = result.tier + " tier";
  field("tier").classList.add(TIER_CLASS[result.tier] || "text-bg-secondary");
  field("probability").textContent = pct(result.probability);
  field("decision").textContent = result.decision; // verdict, why, tier: one sentence
  field("action").textContent = result.action;
  field("rule").textContent = ruleText(result);
  field("meta").textContent = meta;
  field("base-rate").textContent = result.base_rate === null || result.base_rate === undefined
    ? "" : "A typical customer: " + pct(result.base_rate) + ". This customer: "
      + pct(result.probability) + ", because:";
  field("method").textContent = result.reasons.length
    ? "Bars: how strongly each reason moves the chance up or down from the typical customer."
    : "No reasons available for this model (" + result.explanation_method + ").";
  const reasons = field("reasons");
  const largest = Math.max(1e-12, ...result.reasons.map((r) => Math.abs(r.contribution)));
  for (const r of result.reasons) {
    const row = el("div", "reason-row");
    const name = el("span", "reason-name", r.text);
    name.title = r.feature + " = " + formatValue(r.value) + " (" + r.method + ", "
      + r.contribution.toFixed(3) + " " + r.unit + ")";
    row.appendChild(name);
    const track = el("div", "reason-track");
    const bar = el("div", "reason-bar " + r.direction);
    bar.style.width = (50 * Math.abs(r.contribution) / largest).toFixed(1) + "%";
    track.appendChild(bar);
    row.appendChild(track);
    row.appendChild(el("span", "text-end", r.effect));
    reasons.appendChild(row);
  }
  container.replaceChildren(card);
  show(container, true);
}

function fail(errorBox, resultBox, message) {
  errorBox.textContent = message;
  show(errorBox, true);
  if (resultBox) show(resultBox, false);
}

// ---- tab 1: one customer -------------------------------------------------------------
const customerForm = document.getElementById("customer-form");
customerForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const errorBox = document.getElementById("customer-error");
  const resultBox = document.getElementById("customer-result");
  show(errorBox, false);
  const id = document.getElementById("customer-id").value.trim();
  if (!id) { fail(errorBox, resultBox, "Type a customer id."); return; }
  try {
    const p = await callApi("POST", "/predict", { customer_id: id });
    const asOf = p.features_as_of ? new Date(p.features_as_of).toISOString().slice(0, 10) : "unknown";
    renderResult(resultBox, "Customer " + p.customer_id, p,
      "Features as of " + asOf + (p.stale ? " (stale)" : "") + " · model " + p.model_version);
  } catch (e) { fail(errorBox, resultBox, "Customer \u201c" + id + "\u201d: " + e.message); }
});

// ---- tab 2: what-if ------------------------------------------------------------------
const whatifForm = document.getElementById("whatif-form");
whatifForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const errorBox = document.getElementById("whatif-error");
  const resultBox = document.getElementById("whatif-result");
  show(errorBox, false);
  const payload = {};
  for (const input of whatifForm.querySelectorAll("[data-kind]")) {
    const raw = input.value.trim();
    if (raw === "") continue;
    const kind = input.dataset.kind;
    if (kind === "boolean") payload[input.name] = raw === "true";
    else if (kind === "text") payload[input.name] = raw;
    else {
      const n = Number(raw);
      if (!Number.isFinite(n)) { fail(errorBox, resultBox, input.name + ": not a number"); return; }
      payload[input.name] = n;
    }
  }
  try {
    const p = await callApi("POST", "/predict/features", payload);
    renderResult(resultBox, "What-if", p,
      p.missing_features.length + " features left unknown · model " + p.model_version);
  } catch (e) { fail(errorBox, resultBox, e.message); }
});

// ---- tab 3: many customers -----------------------------------------------------------
let lastBatch = [];

// One CSV line's cells, quoted as spreadsheets quote them ("Smith, J" and ""inner"" quotes):
// an id may hold commas and quotes. The server trims and checks each id (one rule, staging's).
function csvCells(line) {
  const cells = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cell += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell.trim() === "") { cell = ""; quoted = true; }
    else if (ch === ",") { cells.push(cell.trim()); cell = ""; }
    else cell += ch;
  }
  cells.push(cell.trim());
  return cells;
}

function parseIds(text) {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (!lines.length) return [];
  const header = csvCells(lines[0]).map((c) => c.toLowerCase());
  const column = Math.max(0, header.indexOf("customer_id"));
  const body = header.includes("customer_id") ? lines.slice(1) : lines;
  const ids = [];
  for (const line of body) {
    const cells = header.length > 1 || header.includes("customer_id")
      ? [csvCells(line)[column]] : csvCells(line);
    for (const cell of cells) {
      const id = cell || "";
      if (id) ids.push(id);
    }
  }
  return ids;
}

document.getElementById("batch-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  const ids = parseIds(await file.text());
  document.getElementById("batch-ids").value = ids.join("\n");
});

document.getElementById("batch-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const errorBox = document.getElementById("batch-error");
  const table = document.getElementById("batch-table");
  const summary = document.getElementById("batch-summary");
  const download = document.getElementById("batch-download");
  show(errorBox, false);
  const ids = parseIds(document.getElementById("batch-ids").value);
  if (!ids.length) { fail(errorBox, table, "Paste or upload at least one customer id."); return; }
  if (ids.length > BATCH_MAX) {
    fail(errorBox, table, ids.length + " ids: at most " + BATCH_MAX + " per request.");
    return;
  }
  try {
    const p = await callApi("POST", "/predict/batch", { customer_ids: ids });
    lastBatch = p.items;
    const tbody = table.querySelector("tbody");
    tbody.replaceChildren();
    for (const item of p.items) {
      const tr = document.createElement("tr");
      const pr = item.prediction;
      const cells = [item.customer_id, item.status,
        pr ? (pr.probability * 100).toFixed(1) + " %" : "", pr ? pr.tier : "",
        pr ? (pr.will_repeat ? "yes" : "no") : "",
        pr && pr.features_as_of ? pr.features_as_of.slice(0, 10) : "", item.error || ""];
      for (const c of cells) tr.appendChild(el("td", "", c));
      tbody.appendChild(tr);
    }
    summary.textContent = p.found + " of " + p.count + " customers scored with model "
      + p.model_version + ".";
    show(summary, true);
    show(table, true);
    show(download, true);
  } catch (e) { fail(errorBox, table, e.message); }
});

function csvCell(value) {
  let s = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@]/.test(s)) s = "'" + s; // keep spreadsheets from running formulas
  return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

document.getElementById("batch-download").addEventListener("click", () => {
  const rows = [["customer_id", "status", "probability", "will_repeat", "tier", "action",
    "features_as_of", "model_version", "error"]];
  for (const item of lastBatch) {
    const p = item.prediction || {};
    rows.push([item.customer_id, item.status, p.probability, p.will_repeat, p.tier, p.action,
      p.features_as_of, p.model_version, item.error]);
  }
  const blob = new Blob([rows.map((r) => r.map(csvCell).join(",")).join("\n") + "\n"],
    { type: "text/csv" });
  const link = el("a");
  link.href = URL.createObjectURL(blob);
  link.download = "predictions.csv";
  link.click();
  URL.revokeObjectURL(link.href);
});

// ---- model card line -----------------------------------------------------------------
callApi("GET", "/model").then((m) => {
  document.getElementById("model-line").textContent = "Model " + m.version + " (" +
    (m.model_name || m.model) + "), trained " + m.trained_at.slice(0, 10) + ", test ROC-AUC " +
    (m.metrics.roc_auc !== undefined ? m.metrics.roc_auc.toFixed(3) : "n/a") + ". "
    + m.decision_rule.sentence
    + (m.base_rate === null ? "" : " A typical customer: " + pct(m.base_rate) + ".");
}).catch((e) => {
  document.getElementById("model-line").textContent = "No model available: " + e.message;
});
