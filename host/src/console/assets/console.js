// quote-host console: plain JavaScript, no library. Every call goes to the API itself
// under /console/api (the session cookie authenticates it, the CSRF token rides in a
// header), and every error is shown as the API's message next to the field it names.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
const isAdmin = document.body.dataset.admin === "true";

// ----- helpers ---------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(method, path, body, contentType = "application/json") {
  const headers = { "x-csrf-token": csrf };
  let payload;
  if (body !== undefined) {
    headers["content-type"] = contentType;
    payload = contentType === "application/json" ? JSON.stringify(body) : body;
  }
  const response = await fetch("/console" + path, {
    method, headers, body: payload, credentials: "same-origin",
  });
  if (response.status === 401) {
    window.location.assign("/console/login");
    throw new Error("signed out");
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  return { ok: response.ok, status: response.status, data };
}

function errorOf(result) {
  const error = result.data && result.data.error;
  return error || { code: "http_" + result.status, message: "the server answered " + result.status };
}

function showPageError(error) {
  const box = document.getElementById("page-error");
  if (!box) return;
  box.hidden = !error;
  box.textContent = error ? error.message : "";
  if (error) box.dataset.code = error.code;
}

function clearFieldErrors(root) {
  root.querySelectorAll("[aria-invalid]").forEach((input) => {
    input.removeAttribute("aria-invalid");
  });
  root.querySelectorAll(".field-error").forEach((box) => { box.textContent = ""; });
}

// Marks `input` invalid and shows the error in the element its aria-describedby names.
function markInvalid(input, error) {
  input.setAttribute("aria-invalid", "true");
  const box = document.getElementById(input.getAttribute("aria-describedby") || "");
  if (box) { box.textContent = error.message; box.dataset.code = error.code; }
}

// Marks the input whose data-field is the error's field; otherwise shows it in `fallback`.
function showFieldError(root, error, fallback) {
  const field = error.details && error.details.field;
  const input = field ? root.querySelector(`[data-field="${CSS.escape(field)}"]`) : null;
  if (input) {
    markInvalid(input, error);
    input.focus();
    return;
  }
  if (fallback) {
    fallback.hidden = false;
    fallback.textContent = error.message;
    fallback.dataset.code = error.code;
  }
}

function table(headers, rows, caption) {
  return el("table", {},
    caption ? el("caption", { class: "hint", text: caption }) : null,
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", class: h.num ? "num" : null, text: h.label || h })))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((cell, i) =>
      el("td", { class: headers[i] && headers[i].num ? "num" : null }, cell))))));
}

const when = (iso) => iso ? new Date(iso).toLocaleString() : "";
const quoteLink = (q) => el("a", { href: "/console/quotes/" + q.id, text: q.number });

// ----- dashboard -------------------------------------------------------------

async function dashboard() {
  const result = await api("GET", "/api/dashboard/stats");
  if (!result.ok) return showPageError(errorOf(result));
  const stats = result.data;
  document.getElementById("status-counts").replaceChildren(table(
    ["Status", { label: "Quotes", num: true }],
    Object.entries(stats.quotes_by_status).map(([status, n]) => [status, String(n)])));
  const chartBox = document.getElementById("accepted-chart");
  chartBox.replaceChildren(...acceptedCharts(stats.accepted_by_month, chartBox.clientWidth));
  document.getElementById("accepted-table").replaceChildren(table(
    ["Currency", { label: "Last month", num: true }, { label: "This month", num: true }, { label: "Trend %", num: true }],
    stats.accepted.map((a) => [a.currency, a.last_month.total, a.this_month.total, a.trend_percent ?? "–"])));
  document.getElementById("recent").replaceChildren(quoteTable(stats.recent_quotes));
}

// Accepted totals of every month of the series, one bar chart per currency (totals are
// never added across currencies), or a line saying nothing was accepted.
function acceptedCharts(series, boxWidth) {
  const currencies = [...new Set(series.flatMap((m) => m.accepted.map((a) => a.currency)))].sort();
  if (currencies.length === 0) {
    const months = series.length === 1 ? "this month" : `the last ${series.length} months`;
    return [el("p", { id: "chart-empty", class: "hint", text: `No quotes were accepted in ${months}.` })];
  }
  // Drawn at the width of its box, so its text stays at its font size from 390 px up.
  const width = Math.max(280, Math.min(1200, Math.floor(boxWidth || 600)));
  return currencies.map((currency, i) => monthChart(series, currency, width, CHART_COLORS[i % CHART_COLORS.length]));
}

const CHART_COLORS = ["#0b57d0", "#137333", "#a142f4", "#b06000", "#c5221f"];

// "2026-03" as "Mar 2026" in the reader's language (the month is a UTC month).
function monthName(month) {
  const [year, number] = month.split("-").map(Number);
  return new Date(Date.UTC(year, number - 1, 1))
    .toLocaleString(undefined, { month: "short", year: "numeric", timeZone: "UTC" });
}

// One row per month, oldest first: the month, a bar scaled to the currency's largest
// month, and the exact total; with a title and summary for screen readers, and the same
// figures as a table.
function monthChart(series, currency, width, color) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const rows = series.map((m) => {
    const figures = m.accepted.find((a) => a.currency === currency) || { count: 0, total: "0" };
    return { month: m.month, label: monthName(m.month), count: figures.count, total: figures.total };
  });
  const id = "chart-" + currency;
  const rowHeight = 24, labelWidth = 84, valueWidth = Math.min(170, Math.round(width * 0.34));
  const barSpace = width - labelWidth - valueWidth - 8;
  const height = rows.length * rowHeight + 8;
  const max = Math.max(0, ...rows.map((r) => Number(r.total)));
  const largest = rows.reduce((a, b) => (Number(b.total) > Number(a.total) ? b : a));
  const quotes = rows.reduce((n, r) => n + r.count, 0);
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`, width, height, class: "chart-svg", role: "img",
    "aria-labelledby": `${id}-title ${id}-desc`, "data-currency": currency,
  });
  chart.append(svg("title", { id: `${id}-title` }, `Accepted ${currency} totals by month`));
  chart.append(svg("desc", { id: `${id}-desc` },
    `${rows.length} months from ${rows[0].label} to ${rows[rows.length - 1].label}: ${quotes} accepted ` +
    `quotes; the largest month is ${largest.label} with ${largest.total} ${currency}.`));
  rows.forEach((row, i) => {
    const y = 4 + i * rowHeight;
    const length = max > 0 ? Math.round((barSpace * Number(row.total)) / max) : 0;
    chart.append(svg("text", { x: labelWidth - 8, y: y + 16, "text-anchor": "end", class: "month-label", "data-month": row.month }, row.label));
    chart.append(svg("rect", { x: labelWidth, y: y + 3, width: barSpace, height: 18, class: "bar-track" }));
    const bar = svg("rect", {
      x: labelWidth, y: y + 3, width: length, height: 18, fill: color, class: "bar",
      "data-month": row.month, "data-count": row.count, "data-total": row.total,
    });
    bar.append(svg("title", {}, `${row.label}: ${row.count} accepted, ${row.total} ${currency}`));
    chart.append(bar);
    chart.append(svg("text", { x: width - 2, y: y + 16, "text-anchor": "end", class: "bar-value" }, row.total));
  });
  const figures = table(
    ["Month", { label: "Accepted", num: true }, { label: `Total ${currency}`, num: true }],
    rows.map((r) => [r.label, String(r.count), r.total]));
  return el("figure", { class: "chart" },
    el("figcaption", { text: currency }),
    chart,
    el("details", {}, el("summary", { text: `${currency} by month as a table` }), el("div", { class: "table-wrap" }, figures)));
}

function quoteTable(quotes) {
  return table(
    ["Number", "Title", "Status", { label: "Total", num: true }, "Currency", "Created"],
    quotes.map((q) => [quoteLink(q), q.title || "", q.status, q.total, q.currency, when(q.created_at)]));
}

// ----- plugins ---------------------------------------------------------------

async function plugins() {
  if (isAdmin) setUpUpload();
  await listPlugins();
}

function setUpUpload() {
  const form = document.getElementById("upload-form");
  const fileInput = document.getElementById("plugin-file");
  const zone = document.getElementById("drop-zone");
  let chosen = null;
  const choose = (file) => {
    chosen = file;
    document.getElementById("chosen-file").textContent = file ? `${file.name} (${file.size} bytes)` : "";
  };
  fileInput.addEventListener("change", () => choose(fileInput.files[0] || null));
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    choose(event.dataTransfer.files[0] || null);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const nameInput = document.getElementById("plugin-name");
    const status = document.getElementById("upload-result");
    if (!chosen) {
      markInvalid(fileInput, { code: "missing_file", message: "choose a .wasm component first" });
      return;
    }
    const button = document.getElementById("upload-button");
    button.disabled = true;
    status.textContent = "Uploading…";
    const bytes = await chosen.arrayBuffer();
    const result = await api("POST", "/api/plugins?name=" + encodeURIComponent(nameInput.value.trim()), bytes, "application/wasm");
    button.disabled = false;
    if (!result.ok) {
      const error = errorOf(result);
      status.textContent = "";
      markInvalid(error.code === "invalid_plugin_name" ? nameInput : fileInput, error);
      return;
    }
    const v = result.data;
    status.textContent = result.status === 201
      ? `Uploaded ${v.name} version ${v.version}.`
      : `These bytes are already ${v.name} version ${v.version}.`;
    await listPlugins();
  });
}

async function listPlugins() {
  const container = document.getElementById("plugin-list");
  const result = await api("GET", "/api/plugins");
  if (!result.ok) return showPageError(errorOf(result));
  if (result.data.items.length === 0) {
    container.replaceChildren(el("p", { text: "No plugins yet." }));
    return;
  }
  const details = await Promise.all(result.data.items.map((p) => api("GET", "/api/plugins/" + encodeURIComponent(p.name))));
  container.replaceChildren(...details.map((d) => d.ok ? pluginView(d.data) : el("p", { class: "error", text: errorOf(d).message })));
}

// The detail has the plugin's fields at its top level, with its versions.
function pluginView(detail) {
  const plugin = detail;
  const section = el("div", { class: "plugin", id: "plugin-" + plugin.name });
  const pending = plugin.next_version
    ? el("p", { class: "pending-activation" },
        el("span", { class: "badge pending", text: "scheduled" }),
        ` version ${plugin.next_version} becomes active at ${when(plugin.next_activation_at)}`,
        isAdmin ? el("button", { type: "button", class: "secondary", text: "Cancel", onclick: () => cancelSchedule(plugin.name) }) : null)
    : null;
  section.append(
    el("h3", { text: plugin.name }),
    el("p", {}, "Active version: ", el("strong", { class: "active-version", text: plugin.active_version ?? "none" }),
      plugin.activated_at ? ` since ${when(plugin.activated_at)}` : ""),
    pending,
    el("p", { class: "error", role: "alert", id: `plugin-${plugin.name}-error`, hidden: true }),
  );
  const newest = Math.max(...detail.versions.map((v) => v.version));
  for (const version of [...detail.versions].reverse()) {
    // Open: the active version, or the newest while none is active (a fresh upload's
    // Activate button must be reachable without expanding it first).
    const open = plugin.active_version === version.version || (!plugin.active_version && version.version === newest);
    section.append(versionView(plugin, version, open));
  }
  return section;
}

function versionView(plugin, version, open) {
  const active = plugin.active_version === version.version;
  const box = el("details", { class: "version", open: open ? true : null, "data-version": version.version });
  const actions = [];
  if (isAdmin && !active) {
    const rollback = plugin.active_version && version.version < plugin.active_version;
    actions.push(el("button", { type: "button", class: "activate", text: rollback ? "Roll back to this version" : "Activate",
      onclick: () => activate(plugin.name, version.version) }));
  }
  if (isAdmin) {
    const id = `schedule-${plugin.name}-${version.version}`;
    actions.push(el("form", { class: "inline schedule", onsubmit: (event) => { event.preventDefault(); schedule(plugin.name, version.version, id); } },
      el("div", {}, el("label", { for: id, text: "Activate at" }),
        el("input", { id, type: "datetime-local", required: true, "aria-describedby": id + "-error" }),
        el("p", { class: "field-error", id: id + "-error" })),
      el("button", { type: "submit", class: "secondary", text: "Schedule" })));
    actions.push(el("button", { type: "button", class: "secondary replay", text: "Replay the last 20 quotes",
      onclick: (event) => replay(plugin.name, version.version, event.target) }));
  }
  box.append(
    el("summary", {}, `Version ${version.version} `, active ? el("span", { class: "badge active", text: "active" }) : null,
      ` · ${version.describe.version} · uploaded ${when(version.uploaded_at)}`),
    el("p", { class: "hint", text: version.describe.description }),
    el("div", { class: "table-wrap" }, table(["Variable", "Kind", "Scope", "Default", "Description"],
      version.describe.variables.map((v) => [v.name + (v.required ? " *" : ""), v.kind, v.scope, v.default ?? "", v.description]),
      "Variables (* required)")),
    ...actions,
    el("div", { class: "replay-result table-wrap" }),
  );
  return box;
}

async function pluginAction(name, result) {
  if (!result.ok) {
    const box = document.getElementById(`plugin-${name}-error`);
    box.hidden = false;
    box.textContent = errorOf(result).message;
    box.dataset.code = errorOf(result).code;
    return false;
  }
  await listPlugins();
  return true;
}

async function activate(name, version) {
  await pluginAction(name, await api("POST", `/api/plugins/${encodeURIComponent(name)}/activate`, { version }));
}

async function schedule(name, version, inputId) {
  const input = document.getElementById(inputId);
  if (!input.value) return;
  const effective_at = new Date(input.value).toISOString();
  const result = await api("POST", `/api/plugins/${encodeURIComponent(name)}/activate`, { version, effective_at });
  if (!result.ok) {
    markInvalid(input, errorOf(result));
    return;
  }
  await listPlugins();
}

async function cancelSchedule(name) {
  await pluginAction(name, await api("DELETE", `/api/plugins/${encodeURIComponent(name)}/activation`));
}

async function replay(name, version, button) {
  const target = button.parentElement.querySelector(".replay-result");
  button.disabled = true;
  const result = await api("POST", `/api/plugins/${encodeURIComponent(name)}/versions/${version}/replay`, { last: 20 });
  button.disabled = false;
  if (!result.ok) {
    target.replaceChildren(el("p", { class: "error", role: "alert", text: errorOf(result).message }));
    return;
  }
  const r = result.data;
  const counts = el("p", { class: "replay-counts", text: `Replayed ${r.replayed}: ${r.identical} identical, ${r.changed} changed, ${r.failed} failed.` });
  const rows = [
    ...r.changed_quotes.map((c) => [c.number, "changed", `${c.old_total} ${c.currency}`, `${c.new_total} ${c.currency}`, c.delta]),
    ...r.failed_quotes.map((f) => [f.number, `failed: ${f.code}`, "", "", f.message]),
  ];
  target.replaceChildren(counts, rows.length
    ? table(["Quote", "Outcome", { label: "Old total", num: true }, { label: "New total", num: true }, { label: "Delta", num: true }], rows)
    : el("p", { class: "hint", text: "No quote changes its total." }));
}

// ----- price -----------------------------------------------------------------

const BASE_COLUMNS = [
  { key: "sku", label: "SKU" }, { key: "name", label: "Name" }, { key: "quantity", label: "Quantity", mode: "decimal" },
  { key: "unit_price", label: "Unit price", mode: "decimal" }, { key: "currency", label: "Currency" },
];
let priceState = { plugin: null, variables: [], columns: BASE_COLUMNS, lastRequest: null };

async function price() {
  const list = await api("GET", "/api/plugins");
  if (!list.ok) return showPageError(errorOf(list));
  const active = list.data.items.filter((p) => p.active_version)
    .sort((a, b) => String(b.activated_at).localeCompare(String(a.activated_at)))[0];
  if (active) {
    const detail = await api("GET", "/api/plugins/" + encodeURIComponent(active.name));
    if (!detail.ok) return showPageError(errorOf(detail));
    priceState.plugin = active.name;
    priceState.variables = detail.data.variables;
    document.getElementById("plugin-used").textContent = `Priced by ${active.name} version ${active.active_version}.`;
  } else {
    document.getElementById("plugin-used").textContent = "No active plugin: upload and activate one on the Plugins page.";
  }
  const quoteVars = priceState.variables.filter((v) => v.scope !== "item");
  const itemVars = priceState.variables.filter((v) => v.scope !== "quote");
  document.getElementById("variables").replaceChildren(...quoteVars.map(variableInput));
  priceState.columns = [...BASE_COLUMNS, ...itemVars.map((v) => ({ key: "attr:" + v.name, label: v.name, variable: v }))];
  const head = document.querySelector("#lines thead");
  head.replaceChildren(el("tr", {}, priceState.columns.map((c) => el("th", { scope: "col", text: c.label })), el("th", { scope: "col", text: "Remove" })));
  addLine({ sku: "A-1", name: "", quantity: "1", unit_price: "100.00", currency: document.getElementById("q-currency").value });
  document.getElementById("add-line").addEventListener("click", () => addLine({}));
  document.querySelector("#lines tbody").addEventListener("paste", pasteRows);
  document.getElementById("price-form").addEventListener("submit", (event) => { event.preventDefault(); calculate(); });
  document.getElementById("save-draft").addEventListener("click", saveDraft);
}

function typedInput(variable, id, field) {
  const attrs = { id, "data-field": field, "data-kind": variable.kind, "aria-describedby": id + "-error" };
  switch (variable.kind) {
    case "boolean": return el("input", { ...attrs, type: "checkbox", checked: variable.default === "true" });
    case "integer": return el("input", { ...attrs, type: "number", step: "1", value: variable.default ?? "" });
    case "date": return el("input", { ...attrs, type: "date", value: variable.default ?? "" });
    case "decimal": return el("input", { ...attrs, inputmode: "decimal", pattern: "-?[0-9]+(\\.[0-9]+)?", value: variable.default ?? "" });
    default: return el("input", { ...attrs, type: "text", value: variable.default ?? "" });
  }
}

function variableInput(variable) {
  const id = "var-" + variable.name;
  return el("div", {},
    el("label", { for: id, text: variable.name + (variable.required ? " *" : "") }),
    typedInput(variable, id, "variables." + variable.name),
    el("p", { class: "hint", text: `${variable.kind}: ${variable.description}` }),
    el("p", { class: "field-error", id: id + "-error" }));
}

let lineCounter = 0;
function addLine(values) {
  const body = document.querySelector("#lines tbody");
  const row = el("tr");
  const n = ++lineCounter;
  for (const column of priceState.columns) {
    const id = `line-${n}-${column.key.replace(":", "-")}`;
    const input = column.variable
      ? typedInput({ ...column.variable, default: values[column.key] ?? column.variable.default }, id, "")
      : el("input", { id, value: values[column.key] ?? "", inputmode: column.mode || null, "aria-describedby": id + "-error" });
    input.dataset.column = column.key;
    input.setAttribute("aria-label", column.label);
    row.append(el("td", {}, input, el("p", { class: "field-error", id: id + "-error" })));
  }
  row.append(el("td", {}, el("button", { type: "button", class: "secondary remove-line", "aria-label": "Remove this line", text: "×",
    onclick: () => { row.remove(); numberLines(); } })));
  body.append(row);
  numberLines();
  return row;
}

// Keeps each cell's data-field in step with its row's index, so errors land on it.
function numberLines() {
  document.querySelectorAll("#lines tbody tr").forEach((row, index) => {
    row.querySelectorAll("[data-column]").forEach((input) => {
      const key = input.dataset.column;
      input.dataset.field = key.startsWith("attr:") ? `items[${index}].attributes.${key.slice(5)}` : `items[${index}].${key}`;
    });
  });
}

// Tab-separated rows from a spreadsheet, in the table's column order, from the cell pasted into.
function pasteRows(event) {
  const text = event.clipboardData && event.clipboardData.getData("text/plain");
  if (!text || (!text.includes("\t") && !text.includes("\n"))) return;
  event.preventDefault();
  const start = event.target.closest("tr");
  const rows = text.replace(/\r/g, "").split("\n").filter((line) => line.trim() !== "");
  let row = start;
  rows.forEach((line, i) => {
    if (i > 0 || !row) row = row && row.nextElementSibling ? row.nextElementSibling : addLine({});
    const cells = line.split("\t");
    const inputs = [...row.querySelectorAll("[data-column]")];
    cells.forEach((value, c) => {
      const input = inputs[c];
      if (!input) return;
      if (input.type === "checkbox") input.checked = /^(true|yes|1)$/i.test(value.trim());
      else input.value = value.trim();
    });
  });
}

function valueOf(input) {
  if (input.type === "checkbox") return input.checked ? "true" : "false";
  return input.value.trim();
}

function priceRequest() {
  const variables = {};
  document.querySelectorAll("#variables [data-field]").forEach((input) => {
    const value = valueOf(input);
    if (value !== "") variables[input.dataset.field.slice("variables.".length)] = value;
  });
  const items = [...document.querySelectorAll("#lines tbody tr")].map((row) => {
    const item = { attributes: {} };
    row.querySelectorAll("[data-column]").forEach((input) => {
      const key = input.dataset.column;
      const value = valueOf(input);
      if (key.startsWith("attr:")) { if (value !== "") item.attributes[key.slice(5)] = value; } else item[key] = value;
    });
    return item;
  });
  const request = { currency: document.getElementById("q-currency").value.trim(), variables, items };
  const date = document.getElementById("q-date").value;
  if (date) request.date = date;
  if (priceState.plugin) request.plugin = priceState.plugin;
  return request;
}

async function calculate() {
  const form = document.getElementById("price-form");
  const formError = document.getElementById("form-error");
  clearFieldErrors(form);
  formError.hidden = true;
  const request = priceRequest();
  const button = document.getElementById("calculate");
  button.disabled = true;
  const result = await api("POST", "/api/quotes/calculate", request);
  button.disabled = false;
  if (!result.ok) {
    document.getElementById("result").hidden = true;
    return showFieldError(form, errorOf(result), formError);
  }
  priceState.lastRequest = request;
  showResult(result.data.result);
}

function showResult(quote) {
  document.getElementById("result").hidden = false;
  document.getElementById("totals").replaceChildren(
    el("dt", { text: "Subtotal" }), el("dd", { id: "result-subtotal", text: `${quote.subtotal} ${quote.currency}` }),
    el("dt", { text: "Tax" }), el("dd", { id: "result-tax", text: `${quote.tax} ${quote.currency}` }),
    el("dt", { text: "Total" }), el("dd", { id: "result-total", "data-total": quote.total, text: `${quote.total} ${quote.currency}` }));
  document.getElementById("line-results").replaceChildren(breakdownTable(quote.items));
  document.getElementById("warnings").replaceChildren(...quote.warnings.map((w) => el("li", { text: w })));
  document.getElementById("saved").textContent = "";
}

function breakdownTable(items) {
  const fields = [...new Set(items.flatMap((item) => Object.keys(item.breakdown || {})))];
  return table(["Line", { label: "Unit price", num: true }, { label: "Total", num: true }, ...fields],
    items.map((item) => [item.id, item.unit_price, item.total,
      ...fields.map((f) => { const v = (item.breakdown || {})[f]; return v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v); })]));
}

async function saveDraft() {
  if (!priceState.lastRequest) return;
  const title = document.getElementById("q-title").value.trim();
  const body = { ...priceState.lastRequest };
  if (title) body.title = title;
  const result = await api("POST", "/api/quotes", body);
  const saved = document.getElementById("saved");
  if (!result.ok) {
    return showFieldError(document.getElementById("price-form"), errorOf(result), saved);
  }
  saved.replaceChildren("Saved as draft ", quoteLink(result.data), ".");
}

// ----- quotes ----------------------------------------------------------------

async function quotes() {
  const select = document.getElementById("status-filter");
  const next = document.getElementById("next-page");
  let cursor = null;
  const load = async (append) => {
    const params = new URLSearchParams({ limit: "20" });
    if (select.value) params.set("status", select.value);
    if (append && cursor) params.set("cursor", cursor);
    const result = await api("GET", "/api/quotes?" + params);
    if (!result.ok) return showPageError(errorOf(result));
    cursor = result.data.next_cursor;
    next.hidden = !cursor;
    const list = document.getElementById("quote-list");
    if (append && list.querySelector("tbody")) {
      list.querySelector("tbody").append(...quoteTable(result.data.items).querySelectorAll("tbody tr"));
    } else {
      list.replaceChildren(result.data.items.length ? quoteTable(result.data.items) : el("p", { text: "No quotes." }));
    }
    document.getElementById("csv-link").href = "/console/api/quotes/export" + (select.value ? "?status=" + select.value : "");
  };
  select.addEventListener("change", () => load(false));
  next.addEventListener("click", () => load(true));
  await load(false);
}

const NEXT_STATUSES = ["draft", "sent", "accepted", "rejected", "expired", "cancelled"];

async function quote() {
  const container = document.getElementById("quote");
  const id = container.dataset.quoteId;
  const result = await api("GET", "/api/quotes/" + id);
  if (!result.ok) return showPageError(errorOf(result));
  const q = result.data;
  const statusId = "status-change";
  const verifyResult = el("div", { id: "verify-result", role: "status" });
  container.replaceChildren(
    el("dl", {},
      el("dt", { text: "Number" }), el("dd", { id: "quote-number", text: q.number }),
      el("dt", { text: "Title" }), el("dd", { text: q.title || "" }),
      el("dt", { text: "Status" }), el("dd", { id: "quote-status", text: q.status }),
      el("dt", { text: "Subtotal" }), el("dd", { text: `${q.subtotal} ${q.currency}` }),
      el("dt", { text: "Tax" }), el("dd", { text: `${q.tax} ${q.currency}` }),
      el("dt", { text: "Total" }), el("dd", { id: "quote-total", text: `${q.total} ${q.currency}` }),
      el("dt", { text: "Plugin" }), el("dd", { text: `${q.plugin.name} version ${q.plugin.version}` }),
      el("dt", { text: "Created" }), el("dd", { text: when(q.created_at) })),
    el("h2", { text: "Lines" }),
    el("div", { class: "table-wrap" }, breakdownTable((q.result && q.result.items) || [])),
    el("h2", { text: "Actions" }),
    el("form", { class: "inline", id: "status-form", onsubmit: async (event) => {
      event.preventDefault();
      const select = document.getElementById(statusId);
      clearFieldErrors(event.target);
      const change = await api("PATCH", "/api/quotes/" + id, { status: select.value });
      if (!change.ok) {
        markInvalid(select, errorOf(change));
        return;
      }
      document.getElementById("quote-status").textContent = change.data.status;
    } },
      el("div", {}, el("label", { for: statusId, text: "Move to status" }),
        el("select", { id: statusId, "aria-describedby": statusId + "-error" },
          NEXT_STATUSES.filter((s) => s !== q.status).map((s) => el("option", { value: s, text: s }))),
        el("p", { class: "field-error", id: statusId + "-error" })),
      el("button", { type: "submit", id: "change-status", text: "Change status" })),
    el("button", { type: "button", id: "verify", text: "Verify", onclick: async () => {
      const check = await api("POST", `/api/quotes/${id}/verify`);
      if (!check.ok) { verifyResult.textContent = errorOf(check).message; return; }
      const v = check.data;
      verifyResult.replaceChildren(
        el("p", { id: "verify-outcome", "data-identical": String(v.identical),
          text: v.identical ? "Verified: the plugin reproduces this quote exactly." : "The plugin now prices this quote differently:" }),
        v.identical ? "" : table(["Path", "Stored", "Now"], v.differences.map((d) => [d.path, JSON.stringify(d.stored), JSON.stringify(d.recomputed)])));
    } }),
    el("a", { href: `/console/api/quotes/${id}/document?format=pdf`, id: "download-pdf", text: "Download PDF" }), " · ",
    el("a", { href: `/console/api/quotes/${id}/document?format=xlsx`, id: "download-xlsx", text: "Download XLSX" }),
    verifyResult,
  );
}

// ----- exchange rates and health ---------------------------------------------

async function rates() {
  const result = await api("GET", "/api/exchange-rates");
  if (!result.ok) return showPageError(errorOf(result));
  const items = result.data.items;
  document.getElementById("rate-table").replaceChildren(items.length
    ? table(["From", "To", { label: "Rate", num: true }, { label: "Nominal", num: true }, "Date", "Source"],
        items.map((r) => [r.from, r.to, r.rate, String(r.nominal), r.rate_date, r.source]))
    : el("p", { text: "No rates stored yet." }));
  const refresh = document.getElementById("refresh-rates");
  if (refresh) {
    refresh.addEventListener("click", async () => {
      refresh.disabled = true;
      const run = await api("POST", "/api/exchange-rates/refresh");
      refresh.disabled = false;
      document.getElementById("refresh-result").textContent = run.ok
        ? `Fetch ${run.data.outcome || "done"}: ${run.data.detail || ""}` : errorOf(run).message;
    });
  }
}

async function health() {
  const result = await api("GET", "/api/health/detailed");
  if (!result.ok && !(result.data && result.data.status)) return showPageError(errorOf(result));
  const h = result.data;
  const rows = [];
  const walk = (prefix, value) => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix}.${k}` : k, v);
    } else rows.push([prefix, Array.isArray(value) ? JSON.stringify(value) : String(value)]);
  };
  walk("", h);
  document.getElementById("health").replaceChildren(
    el("p", {}, "Status: ", el("strong", { id: "health-status", text: h.status })),
    el("div", { class: "table-wrap" }, table(["Figure", "Value"], rows)));
}

const PAGES = { dashboard, plugins, price, quotes, quote, rates, health };
const run = PAGES[document.body.dataset.page];
if (run) {
  run().catch((error) => showPageError({ code: "script_error", message: String(error.message || error) }));
}
