// The marketer's app: calls the JSON API and renders answers with textContent only, never
// innerHTML with data, so ids and values typed by users can never become markup.
"use strict";

const app = document.getElementById("app");
const BATCH_MAX = Number(app.dataset.batchMax);
const TIER_CLASS = { high: "text-bg-success", medium: "text-bg-warning", low: "text-bg-danger" };
const TIERS = ["high", "medium", "low"];
const SVG = "http://www.w3.org/2000/svg";
let labelWindow = 30; // days; GET /model says

const $ = (id) => document.getElementById(id);
function show(node, visible) { node.classList.toggle("d-none", !visible); }
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
const pct = (p) => (p * 100).toFixed(1) + " %";
const num = (n) => Number(n).toLocaleString("en-IN", { maximumFractionDigits: 1 });
const day = (iso) => new Date(iso.length === 10 ? iso + "T00:00:00Z" : iso)
  .toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

// FastAPI errors: {"detail": "words"} or {"detail": [{"loc": [...], "msg": "..."}]}
function errorText(status, body) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => {
      const where = (d.loc || []).filter((p) => p !== "body" && p !== "query").join(".");
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
  if (!response.ok) {
    const error = new Error(errorText(response.status, body));
    error.status = response.status;
    throw error;
  }
  return body;
}

// One request at a time per page: the button is disabled, the old answer and error are
// cleared before asking, a spinner shows while waiting, and the answer is scrolled to.
async function busy(name, work) {
  const button = $(name + "-submit");
  const loading = $(name + "-loading");
  const errorBox = $(name + "-error");
  const result = $(name + "-result");
  if (button.disabled) return;
  button.disabled = true;
  show(errorBox, false);
  show(result, false);
  show(loading, true);
  try {
    await work(result);
    show(result, true);
    reveal(result);
  } catch (e) {
    errorBox.textContent = e.message;
    show(errorBox, true);
    reveal(errorBox);
  } finally {
    show(loading, false);
    button.disabled = false;
  }
}

// The answer on screen: scrolled to when it starts off screen (below a long form, or above
// after scrolling down), and given the focus so a screen reader reads it next.
function reveal(node) {
  const box = node.getBoundingClientRect();
  if (box.top < 0 || box.top > window.innerHeight - 80) {
    window.scrollTo({ top: window.scrollY + box.top - 12, behavior: "instant" });
  }
  // the focus follows only a request made from the page itself (a button, Enter), never a
  // page loading itself when its tab opens: arrow keys keep moving between tabs
  if (node.closest(".tab-pane").contains(document.activeElement)) {
    node.focus({ preventScroll: true });
  }
}

function tierBoxes(container, tiers, total) {
  container.replaceChildren();
  for (const t of tiers) {
    const col = el("div", "col-4");
    const box = el("div", "tier-box " + t.tier);
    box.appendChild(el("div", "small", t.tier + " tier"));
    box.appendChild(el("div", "n", num(t.customers)));
    box.appendChild(el("div", "small text-body-secondary",
      t.expected_buyers === undefined ? (total ? pct(t.customers / total) + " of them" : "")
        : "≈ " + num(t.expected_buyers) + " expected buyers"));
    col.appendChild(box);
    container.appendChild(col);
  }
}

// ---- the card of one customer (and of a what-if) -----------------------------------------
function ruleText(result) {
  const t = pct(result.threshold), h = pct(result.high_cutoff);
  return result.high_cutoff > result.threshold
    ? "How tiers are set: high from " + h + "; medium from the model\u2019s threshold " + t
      + " to " + h + " (both likely to buy again); low below " + t + " (not likely)."
    : "How tiers are set: high from the model\u2019s threshold " + t
      + " (likely to buy again); low below it.";
}

function renderCard(container, title, result, meta, warning) {
  const card = $("result-template").content.cloneNode(true);
  const field = (name) => card.querySelector('[data-field="' + name + '"]');
  field("title").textContent = title;
  field("tier").textContent = result.tier + " tier";
  field("tier").classList.add(TIER_CLASS[result.tier] || "text-bg-secondary");
  field("probability").textContent = pct(result.probability);
  field("probability-words").textContent = "chance of buying again within " + labelWindow
    + " days";
  field("decision").textContent = result.decision;
  field("action").textContent = result.action;
  field("rule").textContent = ruleText(result);
  field("meta").textContent = meta;
  const warn = field("warning");
  if (warning) { warn.textContent = warning; warn.className = "alert alert-warning py-2 small"; }
  else warn.remove();
  const hasBase = result.base_rate !== null && result.base_rate !== undefined;
  field("base-rate").textContent = (hasBase
    ? "A typical customer: " + pct(result.base_rate) + ". This one: " + pct(result.probability)
      + ". What moves it from the typical customer, strongest first:"
    : "What moves the chance, strongest first:")
    + (result.reasons.length ? "" : " no reasons available for this model.");
  const reasons = field("reasons");
  const largest = Math.max(1e-12, ...result.reasons.map((r) => Math.abs(r.contribution)));
  for (const r of result.reasons) {
    const row = el("div", "reason-row");
    const name = el("span", "reason-name", r.text);
    name.title = r.feature + " = " + (r.value === null ? "unknown" : String(r.value));
    row.appendChild(name);
    const track = el("div", "reason-track");
    track.setAttribute("aria-hidden", "true");
    const bar = el("div", "reason-bar " + r.direction);
    bar.style.width = (50 * Math.abs(r.contribution) / largest).toFixed(1) + "%";
    track.appendChild(bar);
    row.appendChild(track);
    row.appendChild(el("span", "reason-effect text-end " + r.direction,
      (r.direction === "up" ? "▲ " : "▼ ") + r.effect));
    reasons.appendChild(row);
  }
  container.replaceChildren(card);
}

// What the date on a card means, in words (the API's `stale` flag, explained).
function asOfWords(p) {
  if (!p.features_as_of) return "Features as of: unknown.";
  const asOf = new Date(p.features_as_of);
  const end = new Date(asOf.getTime() + labelWindow * 86400000);
  let words = "Features as of " + day(p.features_as_of) + ": the score reads this customer\u2019s"
    + " purchases up to that day and gives the chance of another purchase in the " + labelWindow
    + " days after it (to " + day(end.toISOString()) + ").";
  if (p.stale) {
    const days = Math.floor((Date.now() - asOf.getTime()) / 86400000);
    words += " That day is " + days + " days ago: newer purchases are not in this score yet"
      + " (the features are refreshed by the pipeline run).";
  }
  return words + " Model " + p.model_version + ".";
}

// ---- page: Customer ---------------------------------------------------------------------
$("customer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = $("customer-id").value.trim();
  busy("customer", async (result) => {
    if (!id) throw new Error("Type a customer id.");
    try {
      const p = await callApi("POST", "/predict", { customer_id: id });
      renderCard(result, "Customer " + p.customer_id, p, asOfWords(p));
    } catch (e) { throw new Error("Customer \u201c" + id + "\u201d: " + e.message); }
  });
});

// ---- page: Audience ---------------------------------------------------------------------
let audienceOffset = 0;
const AUDIENCE_PAGE = 50;
let audienceLoaded = false;

function audienceParams() {
  const params = new URLSearchParams();
  for (const box of document.querySelectorAll("#audience-form [name=tier]:checked")) {
    params.append("tier", box.value);
  }
  for (const [name, id] of [["min_probability", "aud-min"], ["max_probability", "aud-max"]]) {
    const raw = $(id).value.trim();
    if (raw === "") continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || n > 100) {
      throw new Error("Chances are percentages from 0 to 100 (\u201c" + raw + "\u201d).");
    }
    params.set(name, String(n / 100));
  }
  for (const select of document.querySelectorAll("#audience-form [data-choice]")) {
    if (select.value) params.append(select.name, select.value);
  }
  params.set("sort", $("aud-sort").value);
  params.set("order", $("aud-sort").value === "customer_id" ? "asc" : "desc");
  return params;
}

function fillChoices(values) {
  for (const select of document.querySelectorAll("#audience-form [data-choice]")) {
    if (select.options.length > 1) continue;
    for (const v of values[select.name] || []) select.appendChild(el("option", "", v));
  }
}

// Customers per 10-point band of chance: ten counts of the same filters.
async function drawDistribution(params) {
  const low = Number(params.get("min_probability") || 0);
  const high = Number(params.get("max_probability") || 1);
  const bands = [];
  for (let i = 0; i < 10; i++) {
    const a = i / 10, b = (i + 1) / 10;
    const from = Math.max(a, low), to = Math.min(i === 9 ? 1 : b - 1e-9, high);
    if (from > to) { bands.push(Promise.resolve(0)); continue; }
    const q = new URLSearchParams(params);
    q.set("min_probability", String(from)); q.set("max_probability", String(to));
    q.set("limit", "1");
    bands.push(callApi("GET", "/audiences?" + q).then((r) => r.total));
  }
  const counts = await Promise.all(bands);
  const box = $("audience-chart");
  const width = Math.max(260, box.clientWidth || 600), height = 170;
  const left = 8, bottom = 34, top = 16, plotW = width - left * 2, plotH = height - bottom - top;
  const svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "customers per band of chance: " + counts.join(", ") });
  const most = Math.max(1, ...counts);
  const w = plotW / 10;
  counts.forEach((n, i) => {
    const h = plotH * n / most;
    const x = left + i * w;
    svg.appendChild(svgEl("rect", { x: x + 2, y: top + plotH - h, width: w - 4,
      height: Math.max(h, n ? 1 : 0), class: "bar" }));
    if (n) {
      svg.appendChild(svgEl("text", { x: x + w / 2, y: top + plotH - h - 3,
        "text-anchor": "middle" }, w < 45 && n >= 1000 ? (n / 1000).toFixed(0) + "k" : num(n)));
    }
    if (i % (w < 40 ? 2 : 1) === 0) {
      svg.appendChild(svgEl("text", { x, y: height - bottom + 16, class: "muted" }, i * 10 + "%"));
    }
  });
  svg.appendChild(svgEl("line", { x1: left, x2: width - left, y1: top + plotH, y2: top + plotH,
    class: "axis" }));
  svg.appendChild(svgEl("text", { x: width - left, y: height - 2, "text-anchor": "end",
    class: "muted" }, "chance of buying again →"));
  box.replaceChildren(svg);
}

async function loadAudience(result) {
  const params = audienceParams();
  const page = new URLSearchParams(params);
  page.set("limit", String(AUDIENCE_PAGE));
  page.set("offset", String(audienceOffset));
  const a = await callApi("GET", "/audiences?" + page);
  fillChoices(a.filter_values);
  audienceLoaded = true;
  $("audience-total").textContent = num(a.total) + " customers · ≈ " + num(a.expected_buyers)
    + " expected to buy within " + labelWindow + " days";
  $("audience-asof").textContent = a.as_of_date
    ? "Scores of customers as of " + day(a.as_of_date) + " (model " + a.model_version + "). "
      + "Expected buyers: the sum of their chances." : "";
  const csv = $("audience-csv");
  csv.href = "/audiences.csv?" + params;
  show(csv, a.total > 0);
  tierBoxes($("audience-tiers"), a.tiers, a.total);
  const tbody = $("audience-table").querySelector("tbody");
  tbody.replaceChildren();
  for (const c of a.customers) {
    const tr = el("tr");
    tr.appendChild(el("td", "id", c.customer_id));
    tr.appendChild(el("td", "num", pct(c.probability)));
    const tier = el("td");
    tier.appendChild(el("span", "badge " + TIER_CLASS[c.tier], c.tier));
    tr.appendChild(tier);
    tr.appendChild(el("td", "d-none d-sm-table-cell", c.action));
    tr.appendChild(el("td", "d-none d-md-table-cell small", c.reasons[0] || ""));
    tr.appendChild(el("td", "d-none d-lg-table-cell", c.favourite_category || ""));
    tr.appendChild(el("td", "d-none d-lg-table-cell", c.location || ""));
    tbody.appendChild(tr);
  }
  if (a.message) {
    const tr = el("tr");
    const td = el("td", "text-body-secondary", a.message);
    td.colSpan = 7;
    tr.appendChild(td);
    tbody.appendChild(tr);
  }
  const last = Math.min(a.total, a.offset + a.customers.length);
  $("audience-page-line").textContent = a.total
    ? "(" + num(a.offset + 1) + "–" + num(last) + " of " + num(a.total) + ")" : "";
  $("audience-prev").disabled = a.offset === 0;
  $("audience-next").disabled = last >= a.total;
  show(result, true); // the chart measures its width
  await drawDistribution(params);
}

$("audience-form").addEventListener("submit", (event) => {
  event.preventDefault();
  audienceOffset = 0;
  busy("audience", loadAudience);
});
for (const [id, step] of [["audience-prev", -1], ["audience-next", 1]]) {
  $(id).addEventListener("click", () => {
    audienceOffset = Math.max(0, audienceOffset + step * AUDIENCE_PAGE);
    busy("audience", loadAudience);
  });
}

// ---- page: Insights ---------------------------------------------------------------------
const DIMENSIONS = {
  avg_order_value: "Average order value", orders_count: "Past orders",
  favourite_category: "Favourite category", weekend_order_share: "Share of orders on weekends",
  holiday_order_share: "Share of orders on holidays", preferred_payment_method: "Payment method",
  location: "Location",
};
const VERDICT_CLASS = { supported: "text-bg-success", "not supported": "text-bg-danger",
  "not enough data": "text-bg-secondary" };
let insightsData = null;

// One dimension: a bar per segment (repeat rate) with its 95 % interval as a whisker, and a
// dashed line at the dimension's overall rate.
function rateChart(box, segments) {
  const width = Math.max(260, box.clientWidth || 500);
  const labelW = Math.min(150, Math.round(width * 0.36));
  const rowH = 26, top = 6, bottom = 22;
  const height = top + bottom + rowH * segments.length;
  const plotW = width - labelW - 58;
  const most = Math.min(1, Math.max(...segments.map((s) => s.ci_high)) * 1.1 || 1);
  const x = (v) => labelW + plotW * v / most;
  const total = segments.reduce((a, s) => a + s.customers, 0);
  const overall = segments.reduce((a, s) => a + s.repeaters, 0) / Math.max(1, total);
  const svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  svg.appendChild(svgEl("title", {}, segments.map((s) => s.segment + ": " + pct(s.repeat_rate)
    + " (" + pct(s.ci_low) + "–" + pct(s.ci_high) + ")").join("; ")));
  segments.forEach((s, i) => {
    const y = top + i * rowH;
    const label = s.segment.length > 22 && labelW < 140 ? s.segment.slice(0, 20) + "…" : s.segment;
    svg.appendChild(svgEl("text", { x: labelW - 6, y: y + rowH / 2 + 4, "text-anchor": "end" },
      label));
    svg.appendChild(svgEl("rect", { x: labelW, y: y + 5, width: Math.max(1, x(s.repeat_rate)
      - labelW), height: rowH - 10, class: "bar", opacity: s.customers < 100 ? 0.35 : 0.8 }));
    const cy = y + rowH / 2;
    svg.appendChild(svgEl("line", { x1: x(s.ci_low), x2: x(s.ci_high), y1: cy, y2: cy,
      class: "ci" }));
    for (const v of [s.ci_low, s.ci_high]) {
      svg.appendChild(svgEl("line", { x1: x(v), x2: x(v), y1: cy - 5, y2: cy + 5, class: "ci" }));
    }
    svg.appendChild(svgEl("text", { x: x(s.ci_high) + 4, y: cy + 4 },
      (s.repeat_rate * 100).toFixed(0) + "%"));
  });
  const bottomY = top + rowH * segments.length;
  svg.appendChild(svgEl("line", { x1: x(overall), x2: x(overall), y1: top, y2: bottomY,
    class: "overall" }));
  svg.appendChild(svgEl("text", { x: Math.min(x(overall), width - 70), y: bottomY + 15,
    class: "muted" }, "all: " + (overall * 100).toFixed(0) + "%"));
  box.replaceChildren(svg);
}

function renderInsights() {
  const d = insightsData;
  $("insights-intro").textContent = "Customers as of " + day(d.as_of_date) + ", and whether "
    + "they bought again in the " + d.label_window_days + " days after.";
  const claims = $("insights-claims");
  claims.replaceChildren();
  for (const c of d.claims) {
    const col = el("div", "col-12 col-lg-6");
    const card = el("div", "card h-100");
    const body = el("div", "card-body py-2");
    const head = el("p", "mb-1 fw-semibold", c.claim + " ");
    head.appendChild(el("span", "badge " + (VERDICT_CLASS[c.verdict] || ""), c.verdict));
    body.appendChild(head);
    body.appendChild(el("p", "small mb-0", c.summary));
    card.appendChild(body);
    col.appendChild(card);
    claims.appendChild(col);
  }
  $("insights-how").textContent = "Bars: the share of each segment\u2019s customers who bought "
    + "again within " + d.label_window_days + " days; whiskers: the 95 % interval (where the "
    + "true rate lies, given how many customers there are); dashed line: all customers. "
    + "Faint bars: fewer than " + d.min_customers + " customers.";
  $("insights-rule").textContent = d.rule;
  const charts = $("insights-charts");
  charts.replaceChildren();
  const boxes = [];
  for (const [dim, words] of Object.entries(DIMENSIONS)) {
    const segments = d.segments.filter((s) => s.dimension === dim)
      .sort((a, b) => a.segment_order - b.segment_order);
    if (!segments.length) continue;
    const col = el("div", "col-12 col-lg-6");
    col.appendChild(el("h3", "h6 mb-1", words));
    const box = el("div", "chart");
    box.dataset.dimension = dim;
    col.appendChild(box);
    charts.appendChild(col);
    boxes.push([box, segments]);
  }
  show($("insights-result"), true);
  for (const [box, segments] of boxes) rateChart(box, segments);
}

$("insights-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const asOf = $("insights-date").value;
  busy("insights", async () => {
    insightsData = await callApi("GET", "/insights" + (asOf ? "?as_of=" + asOf : ""));
    const select = $("insights-date");
    if (select.options.length === 1) {
      for (const dd of insightsData.as_of_dates) select.appendChild(el("option", "", dd));
    }
    renderInsights();
  });
});

// ---- page: Batch ------------------------------------------------------------------------
let lastBatch = [];
let uploaded = { text: null, repeats: 0 }; // the last file's ids and how many repeats it had
let batchSort = { key: null, descending: false };
const ID_HEADER = /^(customer[ _-]?id|customer|cust[ _-]?id|client[ _-]?id|id)$/;

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
    else if (ch === "," || ch === ";" || ch === "\t") { cells.push(cell.trim()); cell = ""; }
    else cell += ch;
  }
  cells.push(cell.trim());
  return cells;
}

// The ids of pasted text or a CSV: a header naming an id column ("Customer ID", "customer_id",
// "id", …) picks that column; without one, a single column is all ids and each cell of a
// comma list is an id. Repeats are dropped (kept once, first place) and counted.
function parseIds(text) {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/).filter((l) => l.trim() !== "");
  if (!lines.length) return { ids: [], repeats: 0, column: null };
  const header = csvCells(lines[0]).map((c) => c.toLowerCase().trim());
  const column = header.findIndex((c) => ID_HEADER.test(c));
  const ids = [];
  if (column >= 0) {
    for (const line of lines.slice(1)) ids.push(csvCells(line)[column] || "");
  } else {
    for (const line of lines) ids.push(...csvCells(line));
  }
  const unique = [...new Set(ids.filter((id) => id !== ""))];
  return { ids: unique, repeats: ids.filter((id) => id !== "").length - unique.length,
    column: column >= 0 ? csvCells(lines[0])[column] : null };
}

const repeatsWords = (n) => n + (n === 1 ? " repeated id" : " repeated ids") + " counted once";

function describeParse(parsed) {
  $("batch-parsed").textContent = parsed.ids.length
    ? num(parsed.ids.length) + " distinct ids"
      + (parsed.column ? " from the column \u201c" + parsed.column + "\u201d" : "")
      + (parsed.repeats ? "; " + repeatsWords(parsed.repeats) : "") + "."
    : "";
}

$("batch-ids").addEventListener("input", () => describeParse(parseIds($("batch-ids").value)));
$("batch-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  const parsed = parseIds(await file.text());
  $("batch-ids").value = parsed.ids.join("\n");
  uploaded = { text: $("batch-ids").value, repeats: parsed.repeats };
  describeParse(parsed);
});

const sortValue = {
  customer_id: (i) => i.customer_id,
  probability: (i) => (i.prediction ? i.prediction.probability : -1),
  tier: (i) => (i.prediction ? 3 - TIERS.indexOf(i.prediction.tier) : 0),
  status: (i) => i.status,
};

function drawBatchTable() {
  const items = [...lastBatch];
  if (batchSort.key) {
    const value = sortValue[batchSort.key];
    items.sort((a, b) => {
      const x = value(a), y = value(b);
      const order = x < y ? -1 : x > y ? 1 : 0;
      return batchSort.descending ? -order : order;
    });
  }
  for (const button of document.querySelectorAll("#batch-table .sort")) {
    const active = button.dataset.sort === batchSort.key;
    if (active) button.setAttribute("aria-sort", batchSort.descending ? "descending" : "ascending");
    else button.removeAttribute("aria-sort");
  }
  const tbody = $("batch-table").querySelector("tbody");
  tbody.replaceChildren();
  for (const item of items) {
    const tr = el("tr");
    const pr = item.prediction;
    tr.appendChild(el("td", "", item.customer_id));
    tr.appendChild(el("td", "num", pr ? pct(pr.probability) : ""));
    const tier = el("td");
    if (pr) tier.appendChild(el("span", "badge " + TIER_CLASS[pr.tier], pr.tier));
    tr.appendChild(tier);
    tr.appendChild(el("td", "d-none d-md-table-cell", pr ? pr.action : ""));
    tr.appendChild(el("td", "d-none d-lg-table-cell small",
      pr && pr.reasons.length ? pr.reasons[0].text : ""));
    tr.appendChild(el("td", item.status === "ok" ? "" : "text-danger small",
      item.status === "ok" ? "ok" : item.error || item.status));
    tbody.appendChild(tr);
  }
}

for (const button of document.querySelectorAll("#batch-table .sort")) {
  button.addEventListener("click", () => {
    const key = button.dataset.sort;
    batchSort = { key, descending: batchSort.key === key ? !batchSort.descending
      : key === "probability" || key === "tier" };
    drawBatchTable();
  });
}

$("batch-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const parsed = parseIds($("batch-ids").value);
  if ($("batch-ids").value === uploaded.text) parsed.repeats += uploaded.repeats;
  show($("batch-download"), false);
  busy("batch", async () => {
    if (!parsed.ids.length) throw new Error("Paste or upload at least one customer id.");
    if (parsed.ids.length > BATCH_MAX) {
      throw new Error(parsed.ids.length + " ids: at most " + BATCH_MAX + " per request.");
    }
    const p = await callApi("POST", "/predict/batch", { customer_ids: parsed.ids });
    lastBatch = p.items;
    batchSort = { key: null, descending: false };
    const counts = TIERS.map((tier) => ({ tier,
      customers: p.items.filter((i) => i.prediction && i.prediction.tier === tier).length }));
    tierBoxes($("batch-tiers"), counts, p.found);
    $("batch-summary").textContent = p.found + " of " + p.count + " customers scored with model "
      + p.model_version + (parsed.repeats ? " (" + repeatsWords(parsed.repeats) + ")" : "")
      + (p.found < p.count ? "; the others are listed with the reason." : ".");
    drawBatchTable();
    show($("batch-download"), true);
  });
});

function csvCell(value) {
  let s = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@]/.test(s)) s = "'" + s; // keep spreadsheets from running formulas
  return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

$("batch-download").addEventListener("click", () => {
  const rows = [["customer_id", "status", "probability", "will_repeat", "tier", "action",
    "reason_1", "reason_2", "reason_3", "features_as_of", "model_version", "error"]];
  for (const item of lastBatch) {
    const p = item.prediction || {};
    const reasons = (p.reasons || []).map((r) => r.text);
    rows.push([item.customer_id, item.status, p.probability, p.will_repeat, p.tier, p.action,
      reasons[0], reasons[1], reasons[2], p.features_as_of, p.model_version, item.error]);
  }
  const blob = new Blob([rows.map((r) => r.map(csvCell).join(",")).join("\n") + "\n"],
    { type: "text/csv" });
  const link = el("a");
  link.href = URL.createObjectURL(blob);
  link.download = "predictions.csv";
  link.click();
  URL.revokeObjectURL(link.href);
});

// ---- page: What-if ----------------------------------------------------------------------
const whatifForm = $("whatif-form");
const whatifInputs = [...whatifForm.querySelectorAll("[data-kind]")];

function countKnown() {
  const known = whatifInputs.filter((i) => i.value.trim() !== "").length;
  $("whatif-count").textContent = known + " of " + whatifInputs.length + " fields filled in";
  return known;
}

// A number field's value or an error in words; "" is unknown (null).
function checkNumber(input) {
  const raw = input.value.trim();
  if (raw === "") return { value: null };
  const n = Number(raw.replace(/,/g, ""));
  if (!Number.isFinite(n)) return { error: "\u201c" + raw + "\u201d is not a number" };
  if (input.dataset.kind === "integer" && !Number.isInteger(n)) {
    return { error: "a whole number, please" };
  }
  if (input.dataset.min !== undefined && n < Number(input.dataset.min)) {
    return { error: "at least " + input.dataset.min };
  }
  if (input.dataset.max !== undefined && n > Number(input.dataset.max)) {
    return { error: "at most " + input.dataset.max };
  }
  return { value: n };
}

function markField(input, error) {
  input.classList.toggle("is-invalid", Boolean(error));
  $("wi-" + input.name).textContent = error || "";
}

for (const input of whatifInputs) {
  input.addEventListener("input", () => {
    if (input.dataset.numeric !== undefined) markField(input, checkNumber(input).error);
    countKnown();
  });
  input.addEventListener("change", countKnown);
}

whatifForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const payload = {};
  const problems = [];
  for (const input of whatifInputs) {
    const raw = input.value.trim();
    let error = null;
    if (input.dataset.numeric !== undefined) {
      const checked = checkNumber(input);
      error = checked.error;
      if (!error && checked.value !== null) payload[input.name] = checked.value;
    } else if (raw !== "") {
      payload[input.name] = input.dataset.kind === "boolean" ? raw === "true" : raw;
    }
    markField(input, error);
    if (error) problems.push(input.name + ": " + error);
  }
  const known = Object.keys(payload).length;
  busy("whatif", async (result) => {
    if (problems.length) {
      whatifForm.querySelector(".is-invalid").focus();
      throw new Error("Fix these fields first: " + problems.join("; ") + ".");
    }
    if (known === 0) throw new Error("Fill in at least one field (or start from a customer).");
    const p = await callApi("POST", "/predict/features", payload);
    const unknown = p.missing_features.length;
    const warning = unknown * 2 > whatifInputs.length
      ? "Most inputs are unknown (" + unknown + " of " + whatifInputs.length + "): this answer "
        + "describes a customer we know almost nothing about, not a real one. Start from a "
        + "customer to get a meaningful what-if." : null;
    renderCard(result, "What-if", p, unknown + " of " + whatifInputs.length
      + " features left unknown · model " + p.model_version, warning);
  });
});

$("whatif-clear").addEventListener("click", () => {
  for (const input of whatifInputs) { input.value = ""; markField(input, null); }
  countKnown();
});

$("whatif-from-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = $("whatif-from").value.trim();
  const status = $("whatif-from-status");
  const button = $("whatif-from-submit");
  if (!id) { status.textContent = "Type a customer id."; status.className = "small mb-2 text-danger"; return; }
  button.disabled = true;
  status.textContent = "Reading customer " + id + "…";
  status.className = "small mb-2 text-body-secondary";
  try {
    const c = await callApi("GET", "/web/customers/" + encodeURIComponent(id) + "/features");
    for (const input of whatifInputs) {
      const v = c.features[input.name];
      input.value = v === null || v === undefined ? "" : String(v);
      if (input.tagName === "SELECT" && v !== null && input.value !== String(v)) {
        input.appendChild(el("option", "", String(v))); // a value the list did not have
        input.value = String(v);
      }
      markField(input, null);
    }
    status.textContent = "Filled in from customer " + c.customer_id + " (features as of "
      + (c.features_as_of ? day(c.features_as_of) : "unknown") + "). Change values and press Score.";
    status.className = "small mb-2 text-success";
    countKnown();
  } catch (e) {
    status.textContent = "Customer \u201c" + id + "\u201d: " + e.message;
    status.className = "small mb-2 text-danger";
  } finally { button.disabled = false; }
});
countKnown();

// ---- page: Monitoring -------------------------------------------------------------------
// GET /monitoring: what `make monitor` found. Words first (did the predictions come true, has
// anything changed), then the charts a data scientist reads.
const SCORERS = { model: "the model", recency: "\u201cmost recent buyers first\u201d",
  bgnbd: "the BG/NBD buy-again formula" };
let monitoringData = null;

const two = (v) => Number(v).toFixed(2);
// "better than" / "worse than" / "about as good as": 0.01 of AUC is within the noise
function versus(mine, theirs) {
  if (mine - theirs >= 0.01) return "better than";
  if (theirs - mine >= 0.01) return "worse than";
  return "about as good as";
}

// The alerts in words, one per feature: a shifted distribution, or more missing values.
function driftWords(report) {
  const drift = report.drift;
  const t = report.thresholds || {};
  if (!drift) return [];
  const words = [];
  const named = new Set();
  for (const f of drift.features || []) {
    if (!f.alert) continue;
    named.add(f.feature);
    const more = (f.missing_latest || 0) - (f.missing_reference || 0);
    if (f.psi !== null && f.psi !== undefined && f.psi > t.psi) {
      words.push(f.feature + " has shifted: PSI " + two(f.psi) + " > " + t.psi);
    }
    if (more > t.missing_increase) {
      words.push(f.feature + " is missing more often: " + pct(f.missing_reference) + " \u2192 "
        + pct(f.missing_latest) + " of customers");
    }
  }
  const score = drift.score || {};
  if (score.alert) {
    named.add("score");
    words.push("the scores have shifted: PSI " + two(score.psi) + " > " + t.psi + " (scores of "
      + day(score.latest) + " vs " + day(score.reference) + ")");
  }
  // anything else the report raised, as it says it
  for (const a of report.alerts || []) {
    if (!named.has(a.split(":")[0])) words.push(a);
  }
  return words;
}

function summaryWords(report) {
  const entries = report.realized.by_as_of_date;
  const window = report.realized.label_window_days || labelWindow;
  const lines = [];
  if (entries.length) {
    const e = entries[entries.length - 1];
    const m = e.scores.model;
    const others = Object.keys(SCORERS).filter((k) => k !== "model" && e.scores[k]
      && e.scores[k].roc_auc !== null && e.scores[k].roc_auc !== undefined);
    const worse = others.some((k) => e.scores[k].roc_auc - m.roc_auc >= 0.01);
    lines.push("The model\u2019s predictions for " + day(e.as_of_date) + (worse ? " were checked: "
      : " came true: ") + Math.round(m.roc_auc * 100) + " % of buyer/non-buyer pairs ranked in "
      + "the right order (ROC-AUC " + two(m.roc_auc) + "), " + others.map((k) =>
      versus(m.roc_auc, e.scores[k].roc_auc) + " " + SCORERS[k] + " (" + two(e.scores[k].roc_auc)
      + ")").join(" and ") + ".");
    if (m.mean_predicted !== null && m.mean_predicted !== undefined) {
      lines.push("It expected " + pct(m.mean_predicted) + " of those " + num(e.rows)
        + " customers to buy again within " + window + " days; " + pct(e.observed_rate)
        + " did.");
    }
  } else {
    lines.push("No prediction can be checked yet: the " + window + " days after every scored "
      + "date are not over.");
  }
  return lines;
}

// A line per scorer across the as-of dates, y from `low` to 1, points labelled on hover.
function metricChart(box, entries, metric, low) {
  const width = Math.max(260, box.clientWidth || 500);
  const height = 200, left = 38, right = 14, top = 10, bottom = 26;
  const n = entries.length;
  const x = (i) => n === 1 ? (left + width - right) / 2 : left + (width - left - right) * i / (n - 1);
  const y = (v) => top + (height - top - bottom) * (1 - (v - low) / (1 - low));
  const svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  svg.appendChild(svgEl("title", {}, entries.map((e) => day(e.as_of_date) + ": " + Object.keys(
    SCORERS).filter((k) => e.scores[k]).map((k) => k + " " + two(e.scores[k][metric]))
    .join(", ")).join("; ")));
  for (let i = 0; i <= 5; i++) {
    const v = low + (1 - low) * i / 5;
    svg.appendChild(svgEl("line", { x1: left, x2: width - right, y1: y(v), y2: y(v),
      class: "grid" }));
    svg.appendChild(svgEl("text", { x: left - 4, y: y(v) + 4, "text-anchor": "end",
      class: "muted" }, two(v)));
  }
  const every = Math.ceil(n / Math.max(1, Math.floor((width - left) / 90)));
  entries.forEach((e, i) => {
    if (i % every === 0) {
      svg.appendChild(svgEl("text", { x: x(i), y: height - 8, "text-anchor": "middle" },
        day(e.as_of_date)));
    }
  });
  const labels = []; // each scorer's last value, beside its last point
  Object.keys(SCORERS).forEach((key, k) => {
    const points = entries.map((e, i) => [i, (e.scores[key] || {})[metric]])
      .filter(([, v]) => v !== null && v !== undefined);
    if (!points.length) return;
    const dx = (k - 1) * 7; // equal values side by side, not on top of each other
    if (points.length > 1) {
      svg.appendChild(svgEl("polyline", { class: "series " + key,
        points: points.map(([i, v]) => x(i) + dx + "," + y(Math.max(low, v))).join(" ") }));
    }
    for (const [i, v] of points) {
      const dot = svgEl("circle", { cx: x(i) + dx, cy: y(Math.max(low, v)),
        r: key === "model" ? 5 : 4, class: "dot " + key });
      dot.appendChild(svgEl("title", {}, SCORERS[key] + ", " + day(entries[i].as_of_date) + ": "
        + two(v)));
      svg.appendChild(dot);
    }
    const [li, lv] = points[points.length - 1];
    labels.push({ key, x: x(li) + 16, y: y(Math.max(low, lv)) + 4, v: lv });
  });
  labels.sort((a, b) => a.y - b.y).forEach((l, i) => {
    if (i > 0) l.y = Math.max(l.y, labels[i - 1].y + 13); // never overprinted
    svg.appendChild(svgEl("text", { x: l.x, y: l.y, class: "value " + l.key }, two(l.v)));
  });
  box.replaceChildren(svg);
}

// Predicted chance (x) against the share who did buy (y), one point per probability bin; on
// the diagonal the chances were right.
function calibrationChart(box, bins) {
  const size = Math.min(360, Math.max(240, box.clientWidth || 360));
  const left = 40, bottom = 34, top = 8, right = 22;
  const plot = size - left - right;
  const height = top + plot + bottom;
  const x = (v) => left + plot * v, y = (v) => top + plot * (1 - v);
  const svg = svgEl("svg", { width: size, height, viewBox: `0 0 ${size} ${height}`, role: "img" });
  svg.appendChild(svgEl("title", {}, bins.map((b) => "predicted " + pct(b.mean_predicted)
    + ", observed " + pct(b.observed_rate) + " (" + num(b.rows) + " customers)").join("; ")));
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    svg.appendChild(svgEl("line", { x1: x(0), x2: x(1), y1: y(v), y2: y(v), class: "grid" }));
    svg.appendChild(svgEl("text", { x: left - 4, y: y(v) + 4, "text-anchor": "end",
      class: "muted" }, (v * 100) + "%"));
    svg.appendChild(svgEl("text", { x: x(v), y: top + plot + 14, "text-anchor": "middle",
      class: "muted" }, (v * 100) + "%"));
  }
  svg.appendChild(svgEl("line", { x1: x(0), y1: y(0), x2: x(1), y2: y(1), class: "overall" }));
  svg.appendChild(svgEl("text", { x: x(0.5), y: height - 4, "text-anchor": "middle" },
    "predicted chance"));
  svg.appendChild(svgEl("text", { x: x(0) + 6, y: top + 12 }, "share who bought"));
  svg.appendChild(svgEl("polyline", { class: "series model", points: bins.map((b) =>
    x(b.mean_predicted) + "," + y(b.observed_rate)).join(" ") }));
  const most = Math.max(...bins.map((b) => b.rows));
  for (const b of bins) {
    svg.appendChild(svgEl("circle", { cx: x(b.mean_predicted), cy: y(b.observed_rate),
      r: 3 + 4 * Math.sqrt(b.rows / most), class: "dot model" }));
  }
  box.replaceChildren(svg);
}

// PSI per feature, most changed first, with the alert threshold as a dashed line.
function psiChart(box, features, threshold) {
  const width = Math.max(260, box.clientWidth || 500);
  const labelW = Math.min(190, Math.round(width * 0.45));
  const rowH = 22, top = 6, bottom = 22;
  const height = top + bottom + rowH * features.length;
  const plotW = width - labelW - 48;
  const most = Math.max(threshold * 1.5, ...features.map((f) => f.psi));
  const x = (v) => labelW + plotW * v / most;
  const svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  svg.appendChild(svgEl("title", {}, features.map((f) => f.feature + ": PSI " + two(f.psi)
    + (f.alert ? " (alert)" : "")).join("; ")));
  features.forEach((f, i) => {
    const y = top + i * rowH;
    const label = f.feature.length > 24 && labelW < 170 ? f.feature.slice(0, 22) + "…" : f.feature;
    svg.appendChild(svgEl("text", { x: labelW - 6, y: y + rowH / 2 + 4, "text-anchor": "end",
      class: f.alert ? "alert-text" : "" }, label));
    svg.appendChild(svgEl("rect", { x: labelW, y: y + 4, width: Math.max(1, x(f.psi) - labelW),
      height: rowH - 8, class: "bar" + (f.alert ? " alert" : "") }));
    svg.appendChild(svgEl("text", { x: x(f.psi) + 4, y: y + rowH / 2 + 4, class: "muted" },
      two(f.psi)));
  });
  const bottomY = top + rowH * features.length;
  svg.appendChild(svgEl("line", { x1: x(threshold), x2: x(threshold), y1: top, y2: bottomY,
    class: "threshold" }));
  svg.appendChild(svgEl("text", { x: Math.min(x(threshold), width - 110), y: bottomY + 15,
    class: "muted" }, "alert above " + threshold));
  box.replaceChildren(svg);
}

const MOST_FEATURES = 12; // bars shown: every alert, then the most changed up to this many

function renderMonitoring() {
  const r = monitoringData;
  const entries = r.realized.by_as_of_date;
  const window = r.realized.label_window_days || labelWindow;
  const t = r.thresholds || {};
  $("monitoring-generated").textContent = "Checked " + day(r.generated_at)
    + (r.current_model ? " · serving " + r.current_model.version : "");
  const summary = $("monitoring-summary");
  summary.replaceChildren(...summaryWords(r).map((s) => el("p", "fs-6 mb-1", s)));
  const alerts = driftWords(r);
  const verdict = el("div", "alert mt-2 mb-0 " + (alerts.length ? "alert-danger" : "alert-success"));
  if (alerts.length) {
    verdict.appendChild(el("p", "fw-semibold mb-1", "The customers have changed since the "
      + "model was trained; its chances may be off. Ask the data team to look (and retrain)."));
    const list = el("ul", "mb-0");
    for (const a of alerts) list.appendChild(el("li", "", a));
    verdict.appendChild(list);
  } else if (r.drift) {
    verdict.textContent = "Nothing has shifted: the customers of " + day(r.drift.latest)
      + " look like those the model learnt from.";
  } else {
    verdict.textContent = "Changes since training were not checked: " + r.drift_not_checked + ".";
    verdict.className = "alert alert-secondary mt-2 mb-0";
  }
  summary.appendChild(verdict);

  const test = (r.current_model || {}).test_metrics || {};
  $("monitoring-quality-how").textContent = "Each point is a day the customers were scored, "
    + "checked once the " + window + " days after it were over. ROC-AUC: 0.5 is a coin toss, 1 "
    + "is perfect. PR-AUC: how many of the customers at the top of the list did buy (a random "
    + "list scores the share of buyers)."
    + (test.roc_auc ? " Training measured ROC-AUC " + two(test.roc_auc) + " and PR-AUC "
      + two(test.pr_auc) + " on its test date." : "");
  const legend = $("monitoring-legend");
  legend.replaceChildren(...Object.entries(SCORERS).map(([key, words]) => {
    const item = el("span", "me-3 text-nowrap d-inline-block");
    item.appendChild(el("span", "swatch " + key));
    item.appendChild(document.createTextNode(words));
    return item;
  }));
  const latest = entries[entries.length - 1];
  show($("monitoring-calibration").closest(".row"), Boolean(latest && latest.scores.model.reliability));
  $("monitoring-calibration-how").textContent = latest && latest.scores.model.reliability
    ? "Customers of " + day(latest.as_of_date) + " grouped by the chance the model gave them: "
      + "on the dashed diagonal, a 40 % chance meant 40 % bought again; above it, more bought "
      + "than predicted. Bigger dots: more customers."
    : "No closed window yet.";

  const features = ((r.drift || {}).features || []).filter((f) => f.psi !== null
    && f.psi !== undefined).sort((a, b) => (b.alert - a.alert) || (b.psi - a.psi));
  const shown = features.slice(0, Math.max(MOST_FEATURES, features.filter((f) => f.alert).length));
  const rest = features.length - shown.length;
  const calendar = ((r.drift || {}).features || []).length - features.length;
  $("monitoring-drift-how").textContent = r.drift
    ? "How much each feature\u2019s spread of values moved between the model\u2019s training "
      + "data (" + day(r.drift.reference[r.drift.reference.length - 1]) + ") and the latest "
      + "customers (" + day(r.drift.latest) + "): the population stability index (PSI); 0 is "
      + "unchanged, above " + t.psi + " an alert (red). The " + shown.length + " most changed of "
      + features.length + " features" + (rest ? "; the other " + rest + " moved even less" : "") + (calendar ? "; " + calendar
      + " calendar features are the same for everyone on a date and only checked for gaps"
      : "") + "."
    : "Not checked: " + r.drift_not_checked + ".";
  show($("monitoring-drift").closest(".row"), shown.length > 0);
  const score = (r.drift || {}).score || {};
  $("monitoring-score-drift").textContent = score.psi === null || score.psi === undefined
    ? (score.reason ? "The scores\u2019 spread was not compared: " + score.reason + "." : "")
    : "The spread of chances on " + day(score.latest) + " against the model\u2019s test date ("
      + day(score.reference) + "): PSI " + two(score.psi) + (score.alert
      ? ", more than " + t.psi + ": the scores have shifted." : ", unchanged.");
  const pending = r.realized.pending || [];
  $("monitoring-pending").textContent = pending.length ? "Not checked yet (the " + window
    + " days after are not over): " + pending.map((p) => day(p.as_of_date)).join(", ") + "." : "";

  show($("monitoring-result"), true);
  show($("monitoring-roc").closest(".row"), entries.length > 0);
  if (entries.length) {
    const low = Math.min(0.5, ...entries.flatMap((e) => Object.values(e.scores)
      .map((s) => s.roc_auc).filter((v) => v !== null && v !== undefined)));
    metricChart($("monitoring-roc"), entries, "roc_auc", Math.floor(low * 10) / 10);
    metricChart($("monitoring-pr"), entries, "pr_auc", 0);
  }
  if (latest && latest.scores.model.reliability) {
    calibrationChart($("monitoring-calibration"),
      latest.scores.model.reliability.filter((b) => b.rows));
  }
  if (shown.length) psiChart($("monitoring-drift"), shown, t.psi);
}

$("monitoring-form").addEventListener("submit", (event) => {
  event.preventDefault();
  busy("monitoring", async () => {
    monitoringData = await callApi("GET", "/monitoring");
    renderMonitoring();
  });
});

// ---- navigation: the page in the address (#audience), shown pages load themselves ---------
function onShown(page) {
  if (page === "audience" && !audienceLoaded && $("audience-result").classList.contains("d-none")) {
    $("audience-form").requestSubmit();
  }
  if (page === "insights" && !insightsData) $("insights-form").requestSubmit();
  if (page === "monitoring" && !monitoringData) $("monitoring-form").requestSubmit();
}
for (const tab of document.querySelectorAll(".app-nav [data-page]")) {
  tab.addEventListener("shown.bs.tab", () => {
    history.replaceState(null, "", "#" + tab.dataset.page);
    onShown(tab.dataset.page);
  });
}
function openFromHash() {
  const tab = $("tab-" + location.hash.slice(1));
  if (tab) bootstrap.Tab.getOrCreateInstance(tab).show();
}
window.addEventListener("hashchange", openFromHash);

// ---- model card line --------------------------------------------------------------------
callApi("GET", "/model").then((m) => {
  if (m.label_window_days) labelWindow = m.label_window_days;
  $("model-line").textContent = "Model " + m.version + ", trained "
    + day(m.trained_at) + ". " + m.decision_rule.sentence
    + (m.base_rate === null ? "" : " A typical customer: " + pct(m.base_rate) + ".");
  const p = m.promotion; // why this model serves (models/promotions.jsonl)
  if (p) {
    $("promotion-line").textContent = "Serving " + m.version + ", "
      + (p.action === "rollback" ? "restored " : "promoted ") + day(p.time) + ": " + p.reason;
    $("promotion-line").hidden = false;
  }
}).catch((e) => {
  $("model-line").textContent = "No model available: " + e.message;
}).finally(openFromHash);
