// Dashboard of the Planasonix fake. Plain DOM, no dependencies; every value
// from the server is set with textContent, never parsed as markup.
"use strict";

const TOKEN_KEY = "planasonix-mock-admin-token";
const $ = (id) => document.getElementById(id);

function headers() {
  const h = { "Content-Type": "application/json" };
  const token = $("token").value;
  if (token) h["X-Mock-Admin-Token"] = token;
  return h;
}

async function call(method, path, body) {
  const init = { method, headers: headers() };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch("/_mock/" + path, init);
  let payload = null;
  try { payload = await response.json(); } catch (e) { payload = null; }
  if (!response.ok) {
    const err = payload && payload.error ? payload.error : {};
    const detail = (err.details || []).map((d) => d.path + ": " + d.message).join("; ");
    throw new Error(response.status + " " + (err.code || "") + ": " + (err.message || "") +
      (detail ? " (" + detail + ")" : ""));
  }
  return payload ? payload.data : null;
}

function say(text, isError) {
  const el = $("status");
  el.textContent = text;
  el.className = isError ? "error" : "";
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function renderWorkspaces(workspaces) {
  const root = $("workspaces");
  root.replaceChildren();
  if (!workspaces.length) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = "No workspaces.";
    root.appendChild(p);
    return;
  }
  for (const ws of workspaces) {
    const h = document.createElement("h3");
    h.textContent = ws.id + " — " + ws.counts.active + " active, " + ws.counts.deleted +
      " deleted, " + ws.keys + " key(s)" + (ws.truncated ? " (first page only)" : "");
    root.appendChild(h);
    const table = document.createElement("table");
    table.className = "credentials";
    table.dataset.workspace = ws.id;
    const head = table.createTHead().insertRow();
    for (const name of ["name", "type", "status", "id", "created", "updated"]) {
      const th = document.createElement("th");
      th.textContent = name;
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const c of ws.credentials) {
      const row = body.insertRow();
      row.className = "credential status-" + c.status;
      cell(row, c.name, "cred-name");
      cell(row, c.type);
      cell(row, c.status, "cred-status");
      cell(row, c.id);
      cell(row, c.created_at);
      cell(row, c.updated_at);
    }
    root.appendChild(table);
  }
}

function renderFaults(faults) {
  const body = $("faults").tBodies[0];
  body.replaceChildren();
  for (const f of faults) {
    const row = body.insertRow();
    cell(row, f.id);
    cell(row, f.method);
    cell(row, f.path);
    cell(row, f.status === null ? (f.connection ? "" : "(delay only)") : f.status + " " + f.code);
    cell(row, f.remaining === null ? "until cleared" : f.remaining);
    cell(row, f.delay_ms);
    cell(row, f.connection === null ? "" : f.connection === "drip" ?
      "drip (" + f.drip_chunks + " pieces over " + f.drip_ms + " ms)" : f.connection, "connection");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "remove";
    button.addEventListener("click", () => act(() => call("DELETE", "faults/" + f.id)));
    row.insertCell().appendChild(button);
  }
}

function renderSettings(data) {
  $("clock-now").textContent = data.clock.now;
  $("clock-frozen").textContent = data.clock.frozen ? "(frozen)" : "(running)";
  const parts = [];
  parts.push("rate limit: " + (data.rate_limit ? data.rate_limit.limit + " per " +
    data.rate_limit.period_seconds + " s per key" : "off"));
  parts.push("state file: " + (data.state_file ? data.state_file.path +
    (data.state_file.encrypted ? " (secrets encrypted)" : " (secrets not kept)") : "none"));
  parts.push("CORS origins: " + data.cors_origins.join(", "));
  parts.push("admin token: " + (data.admin_token_required ? "required" : "not set"));
  $("settings").textContent = parts.join(" · ");
}

function renderJournal(records) {
  const body = $("journal").tBodies[0];
  body.replaceChildren();
  for (const r of records) {
    const row = body.insertRow();
    row.className = "journal-record";
    cell(row, r.started_at);
    cell(row, r.method);
    cell(row, r.path + (Object.keys(r.query || {}).length ?
      "?" + new URLSearchParams(r.query).toString() : ""), "journal-path");
    cell(row, r.status, r.status >= 500 ? "status-5xx" : r.status >= 400 ? "status-4xx" : "");
    cell(row, r.duration_ms);
    cell(row, r.fault || "", r.fault ? "status-5xx" : "");
    cell(row, r.workspace);
    cell(row, r.body === null ? "" : JSON.stringify(r.body), "body");
  }
}

async function refresh() {
  try {
    const [state, journal] = await Promise.all([call("GET", "state"), call("GET", "journal?limit=50")]);
    renderWorkspaces(state.workspaces);
    renderFaults(state.faults);
    renderSettings(state);
    renderJournal(journal);
    say("Updated " + new Date().toLocaleTimeString() + ".", false);
    document.body.dataset.loaded = "true";
  } catch (e) {
    say("Could not load: " + e.message, true);
  }
}

async function act(action) {
  try {
    await action();
  } catch (e) {
    say(e.message, true);
    return;
  }
  await refresh();
}

function numberOrNull(id) {
  const text = $(id).value.trim();
  return text === "" ? null : Number(text);
}

function setup() {
  $("token").value = sessionStorage.getItem(TOKEN_KEY) || "";
  $("token").addEventListener("change", () => {
    sessionStorage.setItem(TOKEN_KEY, $("token").value);
    refresh();
  });
  $("refresh").addEventListener("click", refresh);
  $("reset-empty").addEventListener("click", () => act(() => call("POST", "reset", { to: "empty" })));
  $("reset-seed").addEventListener("click", () => act(() => call("POST", "reset", { to: "seed" })));
  $("clock-freeze").addEventListener("click", () => act(() => call("POST", "clock", { freeze: true })));
  $("clock-unfreeze").addEventListener("click", () => act(() => call("POST", "clock", { freeze: false })));
  $("clock-advance").addEventListener("click", () => act(() => call("POST", "clock", { advance_seconds: 60 })));
  $("clock-reset").addEventListener("click", () => act(() => call("POST", "clock", { reset: true })));
  $("journal-clear").addEventListener("click", () => act(() => call("DELETE", "journal")));
  $("faults-clear").addEventListener("click", () => act(() => call("DELETE", "faults")));
  $("fault-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const rule = { method: $("fault-method").value, path: $("fault-path").value };
    const status = numberOrNull("fault-status");
    const times = numberOrNull("fault-times");
    const delay = numberOrNull("fault-delay");
    if (status !== null) rule.status = status;
    if (times !== null) rule.times = times;
    if (delay !== null) rule.delay_ms = delay;
    const connection = $("fault-connection").value;
    if (connection) {
      rule.connection = connection;
      // reset, empty and garbage send no answer: a status would be refused.
      if (["reset", "empty", "garbage"].includes(connection)) delete rule.status;
      if (connection === "drip") {
        const drip = numberOrNull("fault-drip");
        if (drip !== null) rule.drip_ms = drip;
      }
    }
    act(() => call("POST", "faults", rule));
  });
  setInterval(() => { if ($("auto").checked) refresh(); }, 2000);
  refresh();
}

document.addEventListener("DOMContentLoaded", setup);
