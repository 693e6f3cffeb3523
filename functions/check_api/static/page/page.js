// The reference settings page: autodiscovery, an asynchronous check with live stages, its findings and
// the settings record's history, in the API's own words (en, it, de). No framework, no build step.
//
// For the cloud, the embedding application passes its JWT:
//   import { setTokenProvider } from "./page/page.js";
//   setTokenProvider(async () => myAuth.accessToken());
// Without one (and with the connection field empty) the page calls the API as the local tenant.

const LOCALES = ["en", "it", "de"];
const API = new URL(".", document.baseURI); // the API shares the page's origin (and stage path)
const HISTORY_SIZE = 5;

const form = document.getElementById("settings");
const submit = document.getElementById("check");
const langSelect = document.querySelector("select[name=lang]");
const discovery = document.getElementById("discovery");
const verdict = document.getElementById("verdict");
const stagesList = document.getElementById("stages");
const findingsList = document.getElementById("findings");
const historyList = document.getElementById("history-list");

let texts = {};
let tokenProvider = null;
let running = false;
let pending = null; // {key, body}: a submission that got no answer; resent as is, it keeps its key
let lastCheck = null; // the check shown, re-read when the language changes
let lastSuggestionEmail = null;

/** The embedding application's token (a function returning a JWT or a promise of one). */
export function setTokenProvider(provider) {
  tokenProvider = provider;
}

function t(key, params = {}) {
  const template = texts[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}

async function authorization() {
  const token = tokenProvider ? await tokenProvider() : document.getElementById("token").value.trim();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function call(path, { method = "GET", headers = {}, body } = {}) {
  return fetch(new URL(path, API), {
    method,
    headers: {
      Accept: "application/json",
      "Accept-Language": langSelect.value,
      ...(await authorization()),
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
}

// ----- languages -------------------------------------------------------------------------------------

function browserLocale() {
  for (const tag of navigator.languages ?? [navigator.language]) {
    const primary = String(tag).split("-")[0].toLowerCase();
    if (LOCALES.includes(primary)) return primary;
  }
  return "en";
}

async function useLanguage(locale) {
  const response = await fetch(new URL(`page/texts.${locale}.json`, document.baseURI));
  texts = await response.json();
  document.documentElement.lang = locale;
  langSelect.value = locale;
  for (const element of document.querySelectorAll("[data-text]")) {
    element.textContent = t(element.dataset.text);
  }
}

langSelect.addEventListener("change", async () => {
  await useLanguage(langSelect.value);
  if (lastSuggestionEmail) await suggest(lastSuggestionEmail, { fill: false });
  if (lastCheck) {
    const response = await call(`v1/smtp-checks/${encodeURIComponent(lastCheck)}`);
    if (response.ok) showReport(await response.json(), { announce: false });
  }
  await showHistory();
});

// ----- autodiscovery ---------------------------------------------------------------------------------

function settingsIdFor(email) {
  const id = email.trim().toLowerCase().replace(/[^a-z0-9._:@-]/g, "_").slice(0, 128);
  return id ? `page:${id}`.slice(0, 128) : "";
}

async function suggest(email, { fill = true } = {}) {
  if (!email.includes("@")) return;
  discovery.textContent = t("page.discovering");
  let response;
  try {
    response = await call(`v1/providers/suggest?email=${encodeURIComponent(email)}`);
  } catch {
    discovery.textContent = t("page.discoveryFailed");
    return;
  }
  if (!response.ok) {
    discovery.textContent = t("page.discoveryFailed");
    return;
  }
  const suggestion = await response.json();
  lastSuggestionEmail = email;
  if (fill) {
    const values = {
      host: suggestion.host,
      port: suggestion.port,
      security: suggestion.security,
      authMethod: suggestion.authMethod,
      username: suggestion.username,
    };
    for (const [name, value] of Object.entries(values)) {
      if (value !== null && value !== undefined) setField(name, String(value));
    }
    showAuthFields();
  }
  const hints = suggestion.hints.join(" ");
  discovery.textContent = [suggestion.reason, suggestion.host ? t("page.discovered") : "", hints]
    .filter(Boolean)
    .join(" ");
}

function setField(name, value) {
  const field = form.elements[name];
  field.value = value;
  field.removeAttribute("aria-invalid");
}

async function discoverFromEmail() {
  const email = form.elements.email.value.trim();
  form.elements.settingsId.value = settingsIdFor(email);
  await suggest(email);
  await showHistory();
}

form.elements.email.addEventListener("change", discoverFromEmail);
document.getElementById("discover").addEventListener("click", discoverFromEmail);

function showAuthFields() {
  const method = form.elements.authMethod.value;
  for (const element of form.querySelectorAll("[data-auth]")) {
    element.hidden = element.dataset.auth !== method;
  }
}

form.elements.authMethod.addEventListener("change", showAuthFields);
form.addEventListener("input", (event) => event.target.removeAttribute?.("aria-invalid"));

// ----- the check -------------------------------------------------------------------------------------

function requestBody() {
  const value = (name) => form.elements[name].value.trim();
  const body = { host: value("host"), port: Number(value("port")), security: value("security") };
  body.authMethod = value("authMethod");
  for (const name of ["username", "fromAddress", "testRecipient", "settingsId"]) {
    if (value(name)) body[name] = value(name);
  }
  const secretField = body.authMethod === "xoauth2" ? "oauthToken" : "password";
  if (form.elements[secretField].value) body[secretField] = form.elements[secretField].value;
  return body;
}

function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function keyFor(body) {
  const serialised = JSON.stringify(body);
  if (pending && pending.body === serialised) return pending.key;
  pending = { key: newKey(), body: serialised };
  return pending.key;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (running) return; // a double click sends one check
  running = true;
  submit.disabled = true;
  form.setAttribute("aria-busy", "true");
  submit.textContent = t("page.checking");
  try {
    await runCheck();
  } finally {
    running = false;
    submit.disabled = false;
    form.removeAttribute("aria-busy");
    submit.textContent = t("page.check");
  }
});

async function runCheck() {
  clearMarks();
  const body = requestBody();
  const key = keyFor(body);
  document.getElementById("result-heading").hidden = false;
  findingsList.replaceChildren();
  verdict.className = "verdict";
  verdict.textContent = t("page.checking");
  showStages([], null);
  let response;
  try {
    response = await call("v1/smtp-checks", {
      method: "POST",
      headers: { "Idempotency-Key": key, Prefer: "respond-async" },
      body,
    });
  } catch {
    verdict.textContent = t("page.error.unavailable"); // no answer: the same settings resend this key
    return;
  }
  pending = null;
  if (response.status === 202) {
    const report = await poll(response.headers.get("Location"), await response.json());
    if (report) finish(report);
  } else if (response.status === 201) {
    finish(await response.json());
  } else {
    await showError(response);
  }
}

function wait(seconds) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0.25, seconds) * 1000));
}

async function poll(location, first) {
  let state = first;
  let etag = null;
  for (;;) {
    if (state.status !== "running") return state; // the report
    showStages(state.stages, state.currentStage);
    let response;
    try {
      await wait(1);
      response = await call(location, { headers: etag ? { "If-None-Match": etag } : {} });
    } catch {
      continue; // a dropped poll: ask again
    }
    if (response.status === 304) continue;
    if (!response.ok) {
      await showError(response);
      return null;
    }
    etag = response.headers.get("ETag");
    state = await response.json();
  }
}

function finish(report) {
  form.elements.password.value = "";
  form.elements.oauthToken.value = "";
  showReport(report, { announce: true });
  showHistory();
}

function showStages(stages, current) {
  document.getElementById("progress").hidden = false;
  stagesList.replaceChildren(
    ...stages.map((stage) => stageItem(stage.name, stage.ok ? "ok" : "failed", stage.durationMs)),
    ...(current ? [stageItem(current.name, "running", null)] : []),
  );
}

function stageItem(name, state, durationMs) {
  const item = element("li", { className: state });
  item.dataset.stage = name;
  item.append(
    element("span", { className: "mark", text: { ok: "✓", failed: "✗", running: "…" }[state] }),
    element("span", { className: "name", text: state === "running" ? t(`progress.${name}`) : t(`stage.${name}`) }),
    element("span", { className: "state", text: t(`page.stage.${state}`) }),
  );
  if (durationMs !== null) item.append(element("span", { className: "time", text: `${durationMs} ms` }));
  item.querySelector(".mark").setAttribute("aria-hidden", "true");
  return item;
}

function showReport(report, { announce }) {
  lastCheck = report.checkId;
  showStages(report.handshake?.stages ?? [], null);
  clearMarks();
  document.getElementById("result-heading").hidden = false;
  findingsList.replaceChildren(...report.findings.map(findingItem));
  verdict.className = `verdict ${report.status}`;
  verdict.textContent = t(`page.verdict.${report.status}`);
  if (announce) document.getElementById("result-heading").focus();
}

function findingItem(finding, index) {
  const id = `finding-${index}`;
  const item = element("li", { className: `finding ${finding.severity}` });
  item.dataset.code = finding.code;
  item.append(
    element("p", { className: "message", text: finding.message, id }),
    element("p", { className: "advice", text: finding.advice }),
  );
  if (finding.severity !== "info") {
    item.append(element("p", { className: "actor", text: t(`page.actor.${finding.actor}`) }));
  }
  const field = finding.field && form.elements[finding.field];
  if (field && finding.severity === "error") {
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", `${field.dataset.describedby ?? ""} ${id}`.trim());
    const link = element("a", { text: t("page.goToField", { field: t(`page.${finding.field}`) }) });
    link.href = `#${field.id}`;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      field.focus();
    });
    item.append(element("p", {}, link));
  }
  return item;
}

function clearMarks() {
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  for (const field of form.querySelectorAll("[data-describedby]")) {
    field.setAttribute("aria-describedby", field.dataset.describedby);
  }
}

async function showError(response) {
  const body = await response.json().catch(() => ({}));
  const seconds = response.headers.get("Retry-After") ?? "60";
  const messages = {
    401: t("page.error.auth"),
    403: t("page.error.auth"),
    422: t("page.error.invalid"),
    429: t("page.error.limit", { seconds }),
  };
  const problems = body.error?.fields ?? [];
  for (const problem of problems) {
    const field = problem.location === "body" && problem.field && form.elements[problem.field];
    if (field) field.setAttribute("aria-invalid", "true");
  }
  document.getElementById("result-heading").hidden = false;
  findingsList.replaceChildren(
    ...problems.map((problem) => element("li", { className: "finding error", text: `${problem.field ?? ""}: ${problem.message}` })),
  );
  verdict.className = "verdict failed";
  verdict.textContent = messages[response.status] ?? t("page.error.unavailable");
}

// ----- history ---------------------------------------------------------------------------------------

async function showHistory() {
  const settingsId = form.elements.settingsId.value;
  const section = document.getElementById("history");
  if (!settingsId) return;
  let response;
  try {
    response = await call(`v1/smtp-checks?settingsId=${encodeURIComponent(settingsId)}&view=summary&limit=${HISTORY_SIZE}`);
  } catch {
    return;
  }
  if (!response.ok) return;
  const page = await response.json();
  const when = new Intl.DateTimeFormat(langSelect.value, { dateStyle: "medium", timeStyle: "medium" });
  section.hidden = false;
  document.getElementById("history-empty").hidden = page.items.length > 0;
  historyList.replaceChildren(
    ...page.items.map((check) => {
      const item = element("li", {});
      item.dataset.checkId = check.checkId;
      const time = element("time", { text: when.format(new Date(check.createdAt)) });
      time.dateTime = check.createdAt;
      item.append(
        time,
        element("span", { className: check.status, text: t(`status.${check.status}`) }),
        element("span", { text: t("page.history.findings", { count: check.findings.length }) }),
      );
      return item;
    }),
  );
}

// ----- helpers and start -----------------------------------------------------------------------------

function element(tag, { className, text, id }, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (id) node.id = id;
  if (text !== undefined) node.textContent = text;
  node.append(...children);
  return node;
}

for (const field of form.querySelectorAll("[aria-describedby]")) {
  field.dataset.describedby = field.getAttribute("aria-describedby");
}
showAuthFields();
await useLanguage(browserLocale());
document.documentElement.dataset.ready = "true";
